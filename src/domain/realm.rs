//! A realm and its token and session settings, named and defaulted exactly as Keycloak's
//! RealmRepresentation, except where DESIGN.md §2 chooses a safer default (rotation on).

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SignatureAlgorithm {
    #[default]
    RS256,
    ES256,
    EdDSA,
}

impl SignatureAlgorithm {
    pub const ALL: [SignatureAlgorithm; 3] = [Self::RS256, Self::ES256, Self::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == value)
    }
}

/// Every realm setting that changes token or session behaviour, in Keycloak's JSON names.
/// Stored as one JSON document per realm, so adding a setting needs no migration.
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
