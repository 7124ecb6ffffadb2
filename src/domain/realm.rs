//! A realm and its token and session settings, named and defaulted exactly as Keycloak's
//! RealmRepresentation, except where DESIGN.md §2 chooses a safer default (rotation on).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;

#[derive(Debug, Clone, PartialEq)]
pub struct Realm {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// Tokens issued before this time are invalid (Keycloak's `notBefore`), 0 for none.
    pub not_before: UnixTime,
    pub settings: RealmSettings,
    pub created_at: UnixTime,
}

/// The JWS algorithms Portcullis signs with: Keycloak's asymmetric ones but ES512 (the JOSE
/// library that verifies our tokens has no P-521).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SignatureAlgorithm {
    #[default]
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

/// The hash an algorithm signs with, which `at_hash` also uses (OIDC Core §3.1.3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashSize {
    Sha256,
    Sha384,
    Sha512,
}

impl SignatureAlgorithm {
    pub const ALL: [SignatureAlgorithm; 9] = [
        Self::RS256, Self::RS384, Self::RS512, Self::PS256, Self::PS384, Self::PS512, Self::ES256, Self::ES384, Self::EdDSA,
    ];
    /// The keys a new realm starts with; a key for any other algorithm is made when a client
    /// or the realm first asks for it (as Keycloak makes its fallback keys).
    pub const INITIAL: [SignatureAlgorithm; 3] = [Self::RS256, Self::ES256, Self::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Whether this algorithm signs with an RSA key (PKCS#1 v1.5 or PSS).
    pub fn is_rsa(self) -> bool {
        matches!(self, Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512)
    }

    pub fn hash(self) -> HashSize {
        match self {
            Self::RS256 | Self::PS256 | Self::ES256 => HashSize::Sha256,
            Self::RS384 | Self::PS384 | Self::ES384 => HashSize::Sha384,
            // Ed25519 hashes with SHA-512 (OIDC Core errata: at_hash for EdDSA)
            Self::RS512 | Self::PS512 | Self::EdDSA => HashSize::Sha512,
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == value)
    }
}

/// Every realm setting of Keycloak's RealmRepresentation that Portcullis stores, in Keycloak's
/// JSON names: those that change token or session behaviour, and (after `revoke_sessions_on_
/// password_change`) those stored and returned with no behaviour yet, so a client that PUTs a
/// realm reads back what it wrote. Stored as one JSON document per realm, so adding a setting
/// needs no migration: a realm stored before a setting existed reads its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RealmSettings {
    pub display_name: Option<String>,
    pub access_token_lifespan: i64,
    pub access_code_lifespan: i64,
    pub access_code_lifespan_user_action: i64,
    pub access_code_lifespan_login: i64,
    pub sso_session_idle_timeout: i64,
    pub sso_session_max_lifespan: i64,
    pub sso_session_idle_timeout_remember_me: i64,
    pub sso_session_max_lifespan_remember_me: i64,
    pub client_session_idle_timeout: i64,
    pub client_session_max_lifespan: i64,
    pub offline_session_idle_timeout: i64,
    pub offline_session_max_lifespan_enabled: bool,
    pub offline_session_max_lifespan: i64,
    pub client_offline_session_idle_timeout: i64,
    pub client_offline_session_max_lifespan: i64,
    /// Our default is `true` where Keycloak's is `false`: refresh tokens rotate (DESIGN.md §2).
    pub revoke_refresh_token: bool,
    pub refresh_token_max_reuse: i64,
    /// Ours, not Keycloak's (issue 7 item 6): for this many seconds after a rotation, the token
    /// just consumed may be presented again and gets the same successor (a client that lost the
    /// response retries); 0, the default, treats any such reuse as theft.
    pub refresh_token_reuse_interval_seconds: i64,
    pub default_signature_algorithm: SignatureAlgorithm,
    pub remember_me: bool,
    pub login_with_email_allowed: bool,
    pub ssl_required: String,
    pub brute_force_protected: bool,
    pub permanent_lockout: bool,
    pub max_failure_wait_seconds: i64,
    pub minimum_quick_login_wait_seconds: i64,
    pub wait_increment_seconds: i64,
    pub quick_login_check_milli_seconds: i64,
    pub max_delta_time_seconds: i64,
    pub failure_factor: i64,
    pub events_enabled: bool,
    /// Seconds events are kept; 0 keeps them until the global retention removes them.
    pub events_expiration: i64,
    /// Ours, not Keycloak's: end a user's sessions when their password changes or is reset.
    pub revoke_sessions_on_password_change: bool,

    // Stored and returned, no behaviour yet (README lists them).
    pub display_name_html: Option<String>,
    pub login_theme: Option<String>,
    pub account_theme: Option<String>,
    pub admin_theme: Option<String>,
    pub email_theme: Option<String>,
    pub default_locale: Option<String>,
    pub password_policy: Option<String>,
    pub access_token_lifespan_for_implicit_flow: i64,
    pub action_token_generated_by_admin_lifespan: i64,
    pub action_token_generated_by_user_lifespan: i64,
    pub oauth2_device_code_lifespan: i64,
    pub oauth2_device_polling_interval: i64,
    pub registration_allowed: bool,
    pub registration_email_as_username: bool,
    pub verify_email: bool,
    pub duplicate_emails_allowed: bool,
    pub reset_password_allowed: bool,
    pub edit_username_allowed: bool,
    pub max_temporary_lockouts: i64,
    /// `LINEAR` or `MULTIPLE`, Keycloak's BruteForceStrategy.
    pub brute_force_strategy: String,
    pub required_credentials: Vec<String>,
    pub otp_policy_type: String,
    pub otp_policy_algorithm: String,
    pub otp_policy_initial_counter: i64,
    pub otp_policy_digits: i64,
    pub otp_policy_look_ahead_window: i64,
    pub otp_policy_period: i64,
    pub otp_policy_code_reusable: bool,
    pub otp_supported_applications: Vec<String>,
    pub localization_texts: BTreeMap<String, BTreeMap<String, String>>,
    pub web_authn_policy_rp_entity_name: String,
    pub web_authn_policy_signature_algorithms: Vec<String>,
    pub web_authn_policy_rp_id: String,
    pub web_authn_policy_attestation_conveyance_preference: String,
    pub web_authn_policy_authenticator_attachment: String,
    pub web_authn_policy_require_resident_key: String,
    pub web_authn_policy_user_verification_requirement: String,
    pub web_authn_policy_create_timeout: i64,
    pub web_authn_policy_avoid_same_authenticator_register: bool,
    pub web_authn_policy_acceptable_aaguids: Vec<String>,
    pub web_authn_policy_extra_origins: Vec<String>,
    pub web_authn_policy_passwordless_rp_entity_name: String,
    pub web_authn_policy_passwordless_signature_algorithms: Vec<String>,
    pub web_authn_policy_passwordless_rp_id: String,
    pub web_authn_policy_passwordless_attestation_conveyance_preference: String,
    pub web_authn_policy_passwordless_authenticator_attachment: String,
    pub web_authn_policy_passwordless_require_resident_key: String,
    pub web_authn_policy_passwordless_user_verification_requirement: String,
    pub web_authn_policy_passwordless_create_timeout: i64,
    pub web_authn_policy_passwordless_avoid_same_authenticator_register: bool,
    pub web_authn_policy_passwordless_acceptable_aaguids: Vec<String>,
    pub web_authn_policy_passwordless_extra_origins: Vec<String>,
    pub browser_security_headers: BTreeMap<String, String>,
    /// Keycloak's SMTP settings without `password`, which is kept sealed apart (below).
    pub smtp_server: BTreeMap<String, String>,
    /// The SMTP password sealed under the master key (base64), never shown: the admin API
    /// answers Keycloak's mask `**********` in its place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_password_sealed: Option<String>,
    pub events_listeners: Vec<String>,
    pub enabled_event_types: Vec<String>,
    pub admin_events_enabled: bool,
    pub admin_events_details_enabled: bool,
    pub internationalization_enabled: bool,
    pub supported_locales: Vec<String>,
    pub browser_flow: String,
    pub registration_flow: String,
    pub direct_grant_flow: String,
    pub reset_credentials_flow: String,
    pub client_authentication_flow: String,
    pub docker_authentication_flow: String,
    pub first_broker_login_flow: String,
    pub attributes: BTreeMap<String, String>,
    pub user_managed_access_allowed: bool,
    pub organizations_enabled: bool,
    pub admin_permissions_enabled: bool,
    pub oid4_vci_enabled: bool,
    /// Keycloak's `requiredActions` (in exports and at `authentication/required-actions`, not in
    /// a realm's GET, as in Keycloak); a realm stored before they existed reads Keycloak's defaults.
    pub required_actions: Vec<super::required_actions::RequiredActionProvider>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

/// Keycloak's `BrowserSecurityHeaders.defaultHeaders`.
pub fn default_browser_security_headers() -> BTreeMap<String, String> {
    [
        ("contentSecurityPolicyReportOnly", ""),
        ("xContentTypeOptions", "nosniff"),
        ("referrerPolicy", "no-referrer"),
        ("xRobotsTag", "none"),
        ("xFrameOptions", "SAMEORIGIN"),
        ("contentSecurityPolicy", "frame-src 'self'; frame-ancestors 'self'; object-src 'none';"),
        ("strictTransportSecurity", "max-age=31536000; includeSubDomains"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl Default for RealmSettings {
    fn default() -> Self {
        Self {
            display_name: None,
            access_token_lifespan: 300,
            access_code_lifespan: 60,
            access_code_lifespan_user_action: 300,
            access_code_lifespan_login: 1800,
            sso_session_idle_timeout: 1800,
            sso_session_max_lifespan: 36000,
            sso_session_idle_timeout_remember_me: 0,
            sso_session_max_lifespan_remember_me: 0,
            client_session_idle_timeout: 0,
            client_session_max_lifespan: 0,
            offline_session_idle_timeout: 2_592_000,
            offline_session_max_lifespan_enabled: false,
            offline_session_max_lifespan: 5_184_000,
            client_offline_session_idle_timeout: 0,
            client_offline_session_max_lifespan: 0,
            revoke_refresh_token: true,
            refresh_token_max_reuse: 0,
            refresh_token_reuse_interval_seconds: 0,
            default_signature_algorithm: SignatureAlgorithm::RS256,
            remember_me: false,
            login_with_email_allowed: true,
            ssl_required: "external".into(),
            brute_force_protected: false,
            permanent_lockout: false,
            max_failure_wait_seconds: 900,
            minimum_quick_login_wait_seconds: 60,
            wait_increment_seconds: 60,
            quick_login_check_milli_seconds: 1000,
            max_delta_time_seconds: 43200,
            failure_factor: 30,
            events_enabled: false,
            events_expiration: 0,
            revoke_sessions_on_password_change: true,
            display_name_html: None,
            login_theme: None,
            account_theme: None,
            admin_theme: None,
            email_theme: None,
            default_locale: None,
            password_policy: None,
            access_token_lifespan_for_implicit_flow: 900,
            action_token_generated_by_admin_lifespan: 43200,
            action_token_generated_by_user_lifespan: 300,
            oauth2_device_code_lifespan: 600,
            oauth2_device_polling_interval: 5,
            registration_allowed: false,
            registration_email_as_username: false,
            verify_email: false,
            duplicate_emails_allowed: false,
            reset_password_allowed: false,
            edit_username_allowed: false,
            max_temporary_lockouts: 0,
            brute_force_strategy: "MULTIPLE".into(),
            required_credentials: strings(&["password"]),
            otp_policy_type: "totp".into(),
            otp_policy_algorithm: "HmacSHA1".into(),
            otp_policy_initial_counter: 0,
            otp_policy_digits: 6,
            otp_policy_look_ahead_window: 1,
            otp_policy_period: 30,
            otp_policy_code_reusable: false,
            otp_supported_applications: strings(&[
                "totpAppFreeOTPName",
                "totpAppGoogleName",
                "totpAppMicrosoftAuthenticatorName",
            ]),
            localization_texts: BTreeMap::new(),
            web_authn_policy_rp_entity_name: "keycloak".into(),
            web_authn_policy_signature_algorithms: strings(&["ES256", "RS256"]),
            web_authn_policy_rp_id: String::new(),
            web_authn_policy_attestation_conveyance_preference: "not specified".into(),
            web_authn_policy_authenticator_attachment: "not specified".into(),
            web_authn_policy_require_resident_key: "not specified".into(),
            web_authn_policy_user_verification_requirement: "not specified".into(),
            web_authn_policy_create_timeout: 0,
            web_authn_policy_avoid_same_authenticator_register: false,
            web_authn_policy_acceptable_aaguids: Vec::new(),
            web_authn_policy_extra_origins: Vec::new(),
            web_authn_policy_passwordless_rp_entity_name: "keycloak".into(),
            web_authn_policy_passwordless_signature_algorithms: strings(&["ES256", "RS256"]),
            web_authn_policy_passwordless_rp_id: String::new(),
            web_authn_policy_passwordless_attestation_conveyance_preference: "not specified".into(),
            web_authn_policy_passwordless_authenticator_attachment: "not specified".into(),
            web_authn_policy_passwordless_require_resident_key: "Yes".into(),
            web_authn_policy_passwordless_user_verification_requirement: "required".into(),
            web_authn_policy_passwordless_create_timeout: 0,
            web_authn_policy_passwordless_avoid_same_authenticator_register: false,
            web_authn_policy_passwordless_acceptable_aaguids: Vec::new(),
            web_authn_policy_passwordless_extra_origins: Vec::new(),
            browser_security_headers: default_browser_security_headers(),
            smtp_server: BTreeMap::new(),
            smtp_password_sealed: None,
            events_listeners: strings(&["jboss-logging"]),
            enabled_event_types: Vec::new(),
            admin_events_enabled: false,
            admin_events_details_enabled: false,
            internationalization_enabled: false,
            supported_locales: Vec::new(),
            browser_flow: "browser".into(),
            registration_flow: "registration".into(),
            direct_grant_flow: "direct grant".into(),
            reset_credentials_flow: "reset credentials".into(),
            client_authentication_flow: "clients".into(),
            docker_authentication_flow: "docker auth".into(),
            first_broker_login_flow: "first broker login".into(),
            attributes: BTreeMap::new(),
            user_managed_access_allowed: false,
            organizations_enabled: false,
            admin_permissions_enabled: false,
            oid4_vci_enabled: false,
            required_actions: super::required_actions::keycloak_defaults(),
        }
    }
}

/// Realm names appear in URLs and file names: keep them to a safe alphabet.
pub fn validate_realm_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name != "."
        && name != "..";
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid realm name {name:?}: use 1-255 letters, digits, '-', '_' or '.'"
        ))
    }
}

/// A realm id given on import or creation (Keycloak keeps it): any text without whitespace,
/// control characters or `/`, at most 255 bytes.
pub fn validate_realm_id(id: &str) -> Result<(), String> {
    if id.len() <= 255 && !id.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/') {
        Ok(())
    } else {
        Err(format!("invalid realm id {id:?}: use at most 255 characters, no spaces or '/'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_keycloak_except_rotation() {
        let json = serde_json::to_value(RealmSettings::default()).unwrap();
        assert_eq!(json["accessTokenLifespan"], 300);
        assert_eq!(json["ssoSessionIdleTimeout"], 1800);
        assert_eq!(json["offlineSessionMaxLifespan"], 5_184_000);
        assert_eq!(json["revokeRefreshToken"], true);
        assert_eq!(json["refreshTokenReuseIntervalSeconds"], 0);
        assert_eq!(json["defaultSignatureAlgorithm"], "RS256");
    }

    #[test]
    fn path_traversal_is_not_a_realm_name() {
        assert!(validate_realm_name("..").is_err());
        assert!(validate_realm_name("a/b").is_err());
        assert!(validate_realm_name("demo-realm").is_ok());
    }
}
