//! A realm's required-action providers (Keycloak's RequiredActionProviderRepresentation): which
//! actions are registered, enabled, given to every new user (`defaultAction`) and in what order.
//! They decide which of a user's pending actions count at login, as in Keycloak: one that is
//! not registered or is disabled is skipped; the others stop the login, since Portcullis cannot
//! run any action yet (README).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequiredActionProvider {
    pub alias: String,
    pub name: String,
    pub provider_id: String,
    pub enabled: bool,
    pub default_action: bool,
    pub priority: i64,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

/// Keycloak 26's defaults for a new realm (`DefaultRequiredActions`, with its default features:
/// WebAuthn on, recovery codes and update-email off): alias, name, enabled, priority.
const KEYCLOAK_DEFAULTS: [(&str, &str, bool, i64); 10] = [
    ("CONFIGURE_TOTP", "Configure OTP", true, 10),
    ("TERMS_AND_CONDITIONS", "Terms and Conditions", false, 20),
    ("UPDATE_PASSWORD", "Update Password", true, 30),
    ("UPDATE_PROFILE", "Update Profile", true, 40),
    ("VERIFY_EMAIL", "Verify Email", true, 50),
    ("delete_account", "Delete Account", false, 60),
    ("webauthn-register", "Webauthn Register", true, 70),
    ("webauthn-register-passwordless", "Webauthn Register Passwordless", true, 80),
    ("VERIFY_PROFILE", "Verify Profile", true, 90),
    ("update_user_locale", "Update User Locale", true, 1000),
];

/// The providers a new realm starts with.
pub fn keycloak_defaults() -> Vec<RequiredActionProvider> {
    KEYCLOAK_DEFAULTS.iter().map(|(alias, name, enabled, priority)| provider(alias, name, *enabled, *priority)).collect()
}

/// Keycloak's built-in providers, registered or not: (provider id, name).
pub fn known_providers() -> impl Iterator<Item = (&'static str, &'static str)> {
    KEYCLOAK_DEFAULTS.iter().map(|(alias, name, ..)| (*alias, *name))
}

fn provider(alias: &str, name: &str, enabled: bool, priority: i64) -> RequiredActionProvider {
    RequiredActionProvider {
        alias: alias.to_string(),
        name: name.to_string(),
        provider_id: alias.to_string(),
        enabled,
        default_action: false,
        priority,
        config: BTreeMap::new(),
    }
}

/// A provider for a built-in id registered later (`register-required-action`): enabled, not a
/// default action, after every other, as Keycloak registers one.
pub fn registered(provider_id: &str, name: &str, after: i64) -> RequiredActionProvider {
    provider(provider_id, name, true, after)
}

/// Keycloak's order: by priority, then name.
pub fn sort(providers: &mut [RequiredActionProvider]) {
    providers.sort_by(|a, b| a.priority.cmp(&b.priority).then_with(|| a.name.cmp(&b.name)));
}

/// The user's pending actions that stop a login: those of a registered, enabled provider
/// (Keycloak skips the others, logging that they are not registered).
pub fn blocking<'a>(providers: &[RequiredActionProvider], pending: &'a [String]) -> Vec<&'a String> {
    pending.iter().filter(|action| providers.iter().any(|p| p.enabled && p.alias.eq_ignore_ascii_case(action))).collect()
}

/// The actions every new user gets: enabled providers marked `defaultAction`.
pub fn for_new_users(providers: &[RequiredActionProvider]) -> Vec<String> {
    providers.iter().filter(|p| p.enabled && p.default_action).map(|p| p.alias.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_registered_enabled_actions_block_and_defaults_go_to_new_users() {
        let mut providers = keycloak_defaults();
        let pending = vec!["UPDATE_PASSWORD".to_string(), "TERMS_AND_CONDITIONS".to_string(), "custom".to_string()];
        assert_eq!(blocking(&providers, &pending), [&pending[0]], "disabled and unregistered are skipped");
        providers.iter_mut().find(|p| p.alias == "UPDATE_PASSWORD").unwrap().enabled = false;
        assert!(blocking(&providers, &pending).is_empty());
        assert!(for_new_users(&providers).is_empty());
        providers.iter_mut().find(|p| p.alias == "VERIFY_EMAIL").unwrap().default_action = true;
        assert_eq!(for_new_users(&providers), ["VERIFY_EMAIL"]);
        sort(&mut providers);
        assert_eq!(providers.first().unwrap().alias, "CONFIGURE_TOTP");
        assert_eq!(providers.last().unwrap().alias, "update_user_locale");
    }
}
