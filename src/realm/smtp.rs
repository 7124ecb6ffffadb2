//! The realm's SMTP password. Keycloak keeps it in `smtpServer.password` and answers its mask
//! `**********` in its place; Portcullis seals it under the master key (like client secrets)
//! apart from the settings JSON, which is stored in plain text. Nothing here sends mail.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::crypto::{MasterKey, SecretString};
use crate::domain::RealmSettings;
use crate::realm::import::MASKED_SECRET;
use crate::realm::representation::RealmRepresentation;

/// The key of the password in `smtpServer`.
pub const PASSWORD: &str = "password";

/// What a representation asks of the stored password, as Keycloak's `updateRealm` reads it:
/// no `smtpServer` keeps everything; a `smtpServer` without `password` (or with an empty one)
/// removes it; the mask keeps the stored one; any other value replaces it.
#[derive(Debug, PartialEq)]
pub enum PasswordChange {
    Keep,
    Clear,
    Set(SecretString),
}

pub fn password_change(rep: &RealmRepresentation) -> PasswordChange {
    let Some(smtp) = &rep.smtp_server else { return PasswordChange::Keep };
    match smtp.get(PASSWORD).map(String::as_str) {
        None | Some("") => PasswordChange::Clear,
        Some(MASKED_SECRET) => PasswordChange::Keep,
        Some(value) => PasswordChange::Set(SecretString::new(value)),
    }
}

fn aad(realm_id: &str) -> Vec<u8> {
    format!("smtp-password:{realm_id}").into_bytes()
}

/// Applies `rep`'s SMTP password to `settings` of realm `realm_id`, sealed.
pub fn apply_password(rep: &RealmRepresentation, settings: &mut RealmSettings, realm_id: &str, master: &MasterKey) {
    match password_change(rep) {
        PasswordChange::Keep => {}
        PasswordChange::Clear => settings.smtp_password_sealed = None,
        PasswordChange::Set(password) => {
            let sealed = master.seal(password.expose().as_bytes(), &aad(realm_id));
            settings.smtp_password_sealed = Some(STANDARD.encode(sealed));
        }
    }
}

/// The stored password in clear (for a full export), when there is one that opens.
pub fn open_password(settings: &RealmSettings, realm_id: &str, master: &MasterKey) -> Option<SecretString> {
    let sealed = STANDARD.decode(settings.smtp_password_sealed.as_ref()?).ok()?;
    match master.open(&sealed, &aad(realm_id)) {
        Ok(bytes) => String::from_utf8(bytes).ok().map(SecretString::new),
        Err(_) => {
            tracing::error!(realm_id, "the realm's SMTP password does not open under the master key");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn rep(smtp: Option<&[(&str, &str)]>) -> RealmRepresentation {
        RealmRepresentation {
            smtp_server: smtp.map(|pairs| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>()),
            ..RealmRepresentation::default()
        }
    }

    #[test]
    fn the_password_is_sealed_masked_on_output_and_kept_by_the_mask() {
        let master = MasterKey::generate();
        let body = rep(Some(&[("host", "mail"), ("password", "s3cret-smtp")]));
        let mut settings = body.settings_over(RealmSettings::default());
        assert!(!settings.smtp_server.contains_key(PASSWORD), "never in the plain settings");
        apply_password(&body, &mut settings, "r1", &master);
        let stored = serde_json::to_string(&settings).unwrap();
        assert!(!stored.contains("s3cret-smtp"), "{stored}");
        let mut shown = RealmRepresentation::default();
        shown.set_settings(&settings);
        assert_eq!(shown.smtp_server.as_ref().unwrap()[PASSWORD], MASKED_SECRET);
        assert_eq!(open_password(&settings, "r1", &master).unwrap().expose(), "s3cret-smtp");
        assert!(open_password(&settings, "r2", &master).is_none(), "bound to its realm");

        apply_password(&rep(Some(&[("password", MASKED_SECRET)])), &mut settings, "r1", &master);
        assert!(settings.smtp_password_sealed.is_some(), "the mask keeps it");
        apply_password(&rep(None), &mut settings, "r1", &master);
        assert!(settings.smtp_password_sealed.is_some(), "no smtpServer keeps it");
        apply_password(&rep(Some(&[("host", "mail")])), &mut settings, "r1", &master);
        assert!(settings.smtp_password_sealed.is_none(), "smtpServer without a password clears it");
    }
}
