//! Keycloak's JSON representations (RealmRepresentation, ClientRepresentation, ...) for the
//! subset Portcullis understands, used by realm import/export and the admin REST API. Every field
//! is optional so partial files and partial updates parse; `None` means "absent", never a value.
//! These are wire shapes only: defaults and validation live in `realm::import`, not here.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::crypto::SecretString;
use crate::domain::RealmSettings;

/// Declares `RealmRepresentation` with one `Option` field per `RealmSettings` field of the same
/// type, plus the conversions both ways, so the two lists cannot drift apart. The fields are
/// listed rather than `#[serde(flatten)]`ed: flattening hides unknown fields from `serde_ignored`
/// and type errors from `serde_path_to_error`.
macro_rules! realm_representation {
    ($($setting:ident: $ty:ty),* $(,)?) => {
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", default)]
        pub struct RealmRepresentation {
            /// Keycloak's internal id. Written on export; ignored on import (a fresh id is made).
            #[serde(skip_serializing_if = "Option::is_none")]
            pub id: Option<String>,
            /// The realm's name, as it appears in URLs.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub realm: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub display_name: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub enabled: Option<bool>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub not_before: Option<i64>,
            /// A string here, not `SignatureAlgorithm`, so a Keycloak algorithm we do not sign
            /// with (PS256, HS256...) becomes an import warning instead of a type error.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub default_signature_algorithm: Option<String>,
            $(
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $setting: Option<$ty>,
            )*
            #[serde(skip_serializing_if = "Option::is_none")]
            pub roles: Option<RolesRepresentation>,
            /// The realm's default role (Keycloak 13+); Portcullis finds it by its name,
            /// `default-roles-{realm}`, so only the name is read.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub default_role: Option<RoleRepresentation>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub clients: Option<Vec<ClientRepresentation>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub users: Option<Vec<UserRepresentation>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub client_scopes: Option<Vec<crate::realm::scope_representation::ClientScopeRepresentation>>,
            /// Names of the realm's default client scopes, which new clients get.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub default_default_client_scopes: Option<Vec<String>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub default_optional_client_scopes: Option<Vec<String>>,
            /// Realm roles allowed to clients and client scopes.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub scope_mappings: Option<Vec<crate::realm::scope_representation::ScopeMappingRepresentation>>,
            /// Client roles allowed to clients and client scopes, by the roles' client (`clientId`).
            #[serde(skip_serializing_if = "Option::is_none")]
            pub client_scope_mappings:
                Option<BTreeMap<String, Vec<crate::realm::scope_representation::ScopeMappingRepresentation>>>,
            /// The Keycloak version that wrote the export: an export from before 18 (25) gets
            /// the `acr` (`basic`) scope on import, as Keycloak's migrations add them.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub keycloak_version: Option<String>,
        }

        impl RealmRepresentation {
            /// Copies every setting present in this representation over `base`; absent ones keep
            /// `base`'s value. `defaultSignatureAlgorithm` is left to the caller (it may not parse).
            pub fn settings_over(&self, mut base: RealmSettings) -> RealmSettings {
                if let Some(name) = &self.display_name {
                    base.display_name = Some(name.clone());
                }
                $(
                    if let Some(value) = &self.$setting {
                        base.$setting = value.clone();
                    }
                )*
                base
            }

            /// Sets every settings field from `settings`.
            pub fn set_settings(&mut self, settings: &RealmSettings) {
                self.display_name = settings.display_name.clone();
                self.default_signature_algorithm =
                    Some(settings.default_signature_algorithm.as_str().to_string());
                $( self.$setting = Some(settings.$setting.clone()); )*
            }
        }
    };
}

realm_representation! {
    access_token_lifespan: i64,
    access_code_lifespan: i64,
    access_code_lifespan_user_action: i64,
    access_code_lifespan_login: i64,
    sso_session_idle_timeout: i64,
    sso_session_max_lifespan: i64,
    sso_session_idle_timeout_remember_me: i64,
    sso_session_max_lifespan_remember_me: i64,
    client_session_idle_timeout: i64,
    client_session_max_lifespan: i64,
    offline_session_idle_timeout: i64,
    offline_session_max_lifespan_enabled: bool,
    offline_session_max_lifespan: i64,
    client_offline_session_idle_timeout: i64,
    client_offline_session_max_lifespan: i64,
    revoke_refresh_token: bool,
    refresh_token_max_reuse: i64,
    refresh_token_reuse_interval_seconds: i64,
    remember_me: bool,
    login_with_email_allowed: bool,
    ssl_required: String,
    brute_force_protected: bool,
    permanent_lockout: bool,
    max_failure_wait_seconds: i64,
    minimum_quick_login_wait_seconds: i64,
    wait_increment_seconds: i64,
    quick_login_check_milli_seconds: i64,
    max_delta_time_seconds: i64,
    failure_factor: i64,
    events_enabled: bool,
    events_expiration: i64,
    revoke_sessions_on_password_change: bool,
}

/// `roles`: realm roles, and client roles keyed by the client's `clientId`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RolesRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<Vec<RoleRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<BTreeMap<String, Vec<RoleRepresentation>>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RoleRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composite: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composites: Option<CompositesRepresentation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_role: Option<bool>,
    /// The realm name or id for realm roles, the client's internal id for client roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// Keycloak's role attributes; read so they do not warn as unknown, but not stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
}

/// The roles a composite role includes, by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CompositesRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<Vec<String>>,
    /// Client role names keyed by the client's `clientId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<BTreeMap<String, Vec<String>>>,
}

/// Keycloak's defaults when absent: `enabled` and `standardFlowEnabled` true, the other flags
/// false (applied by the importer, not here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientRepresentation {
    /// The internal id (a UUID in Keycloak).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The OAuth `client_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The plain-text secret, as Keycloak's export writes it; the admin console masks it as
    /// `**********`.
    #[serde(with = "optional_secret", skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_client: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_origins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_flow_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_access_grants_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_accounts_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_required: Option<bool>,
    /// String values in Keycloak's model, but some exports hold numbers or booleans: those are
    /// accepted and kept as their JSON text (`300`, `true`).
    #[serde(deserialize_with = "stringified_map", skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Keycloak's `fullScopeAllowed` (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_scope_allowed: Option<bool>,
    /// Names of the client's default client scopes (import/export; the admin API has its own
    /// endpoints for them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_client_scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional_client_scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_mappers: Option<Vec<crate::realm::scope_representation::ProtocolMapperRepresentation>>,
}

impl ClientRepresentation {
    /// The representation of a stored client; `secret` is the opened secret when it is shown.
    pub fn from_client(client: &crate::domain::Client, secret: Option<crate::crypto::SecretString>) -> Self {
        ClientRepresentation {
            id: Some(client.id.clone()),
            client_id: Some(client.client_id.clone()),
            name: client.name.clone(),
            enabled: Some(client.enabled),
            secret,
            public_client: Some(client.public_client),
            bearer_only: Some(client.bearer_only),
            redirect_uris: Some(client.redirect_uris.clone()),
            web_origins: Some(client.web_origins.clone()),
            standard_flow_enabled: Some(client.standard_flow_enabled),
            direct_access_grants_enabled: Some(client.direct_access_grants_enabled),
            service_accounts_enabled: Some(client.service_accounts_enabled),
            consent_required: Some(client.consent_required),
            attributes: Some(client.attributes.clone()),
            protocol: Some("openid-connect".into()),
            full_scope_allowed: Some(client.full_scope_allowed),
            ..Default::default()
        }
    }
}

/// A user. Keycloak's `enabled` defaults to false when absent; the importer treats an absent
/// `enabled` as true, since a hand-written file that lists a user means that user to log in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Milliseconds since the epoch, as Keycloak writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_timestamp: Option<i64>,
    /// The `clientId` of the client this user is the service account of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<CredentialRepresentation>>,
    /// Realm role names mapped to the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm_roles: Option<Vec<String>>,
    /// Client role names mapped to the user, keyed by `clientId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
    /// Keycloak's required actions (`UPDATE_PASSWORD`, ...); a user with any is refused at login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_actions: Option<Vec<String>>,
}

/// A credential in any of the three forms Keycloak accepts: a plain `value` (hashed on import),
/// the stored form (`secretData` + `credentialData` JSON strings), or the pre-Keycloak-12 form
/// (`hashedSaltedValue`, `salt`, `hashIterations`, `algorithm`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CredentialRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_label: Option<String>,
    /// A plain-text password; never written by export.
    #[serde(with = "optional_secret", skip_serializing_if = "Option::is_none")]
    pub value: Option<SecretString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashed_salted_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_iterations: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary: Option<bool>,
    /// Milliseconds since the epoch, as Keycloak writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date: Option<i64>,
}

/// `Option<SecretString>` as a plain JSON string, so secrets parse and print from these types
/// while their `Debug` output stays masked.
mod optional_secret {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
        value.as_ref().map(SecretString::expose).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(SecretString::new))
    }
}

/// A map whose values may be any JSON: strings stay as they are, `null` entries are dropped,
/// anything else becomes its JSON text.
pub(crate) fn stringified_map<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let raw = Option::<BTreeMap<String, serde_json::Value>>::deserialize(d)?;
    Ok(raw.map(|map| {
        map.into_iter()
            .filter_map(|(key, value)| match value {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some((key, s)),
                other => Some((key, other.to_string())),
            })
            .collect()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_realm_setting_has_a_representation_field() {
        let settings = RealmSettings {
            display_name: Some("Demo".into()),
            revoke_refresh_token: false,
            ..RealmSettings::default()
        };
        let json = serde_json::to_value(&settings).unwrap();
        let mut ignored = Vec::new();
        let rep: RealmRepresentation =
            serde_ignored::deserialize(json, |path| ignored.push(path.to_string())).unwrap();
        assert!(ignored.is_empty(), "settings without a field: {ignored:?}");
        let mut back = rep.settings_over(RealmSettings::default());
        back.default_signature_algorithm = settings.default_signature_algorithm;
        assert_eq!(back, settings);
    }

    #[test]
    fn set_settings_then_settings_over_is_the_identity() {
        let settings = RealmSettings {
            access_token_lifespan: 42,
            ssl_required: "all".into(),
            ..RealmSettings::default()
        };
        let mut rep = RealmRepresentation::default();
        rep.set_settings(&settings);
        assert_eq!(rep.settings_over(RealmSettings::default()), settings);
        assert_eq!(rep.default_signature_algorithm.as_deref(), Some("RS256"));
    }

    #[test]
    fn client_attributes_accept_numbers_and_booleans_as_text() {
        let client: ClientRepresentation = serde_json::from_str(
            r#"{"attributes": {"a": "x", "access.token.lifespan": 300, "flag": true, "gone": null}}"#,
        )
        .unwrap();
        let attributes = client.attributes.unwrap();
        assert_eq!(attributes["a"], "x");
        assert_eq!(attributes["access.token.lifespan"], "300");
        assert_eq!(attributes["flag"], "true");
        assert!(!attributes.contains_key("gone"));
    }

    #[test]
    fn secrets_round_trip_as_strings_but_never_print() {
        let json = r#"{"clientId":"app","secret":"s3cr3t-value"}"#;
        let client: ClientRepresentation = serde_json::from_str(json).unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t-value"));
        assert_eq!(serde_json::to_string(&client).unwrap(), json);
        let credential: CredentialRepresentation =
            serde_json::from_str(r#"{"type":"password","value":"hunter2"}"#).unwrap();
        assert!(!format!("{credential:?}").contains("hunter2"));
    }

    #[test]
    fn absent_fields_are_not_serialized() {
        let user = UserRepresentation { username: Some("alice".into()), ..Default::default() };
        assert_eq!(serde_json::to_string(&user).unwrap(), r#"{"username":"alice"}"#);
    }
}
