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
    (
        values { $($setting:ident: $ty:ty),* $(,)? }
        optional { $($opt:ident: $oty:ty),* $(,)? }
    ) => {
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", default)]
        pub struct RealmRepresentation {
            /// Keycloak's internal id. Written on export; kept on import and creation when given
            /// (Keycloak's `RealmManager.importRealm`), else a fresh one is made.
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
            /// with (ES512, HS256...) becomes an import warning instead of a type error.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub default_signature_algorithm: Option<String>,
            $(
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $setting: Option<$ty>,
            )*
            $(
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $opt: Option<$oty>,
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
            /// The group tree (issue 15), nested by `subGroups`.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub groups: Option<Vec<super::groups::GroupRepresentation>>,
            /// Paths of the groups new users join.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub default_groups: Option<Vec<String>>,
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
            /// Required-action providers: read on import, written on export (`RealmSettings`).
            #[serde(skip_serializing_if = "Option::is_none")]
            pub required_actions: Option<Vec<crate::domain::required_actions::RequiredActionProvider>>,
            /// The Keycloak version that wrote the export: an export from before 18 (25) gets
            /// the `acr` (`basic`) scope on import, as Keycloak's migrations add them.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub keycloak_version: Option<String>,
        }

        impl RealmRepresentation {
            /// Copies every setting present in this representation over `base`; absent ones keep
            /// `base`'s value. `defaultSignatureAlgorithm` is left to the caller (it may not parse).
            /// An SMTP `password` is never copied into the settings (they are stored as plain
            /// JSON): callers seal it with `realm::smtp::apply_password`.
            pub fn settings_over(&self, mut base: RealmSettings) -> RealmSettings {
                if let Some(name) = &self.display_name {
                    base.display_name = Some(name.clone());
                }
                $(
                    if let Some(value) = &self.$setting {
                        base.$setting = value.clone();
                    }
                )*
                $(
                    if let Some(value) = &self.$opt {
                        base.$opt = Some(value.clone());
                    }
                )*
                base.smtp_server.remove(crate::realm::smtp::PASSWORD);
                base
            }

            /// Sets every settings field from `settings`; a stored SMTP password shows as
            /// Keycloak's mask `**********`.
            pub fn set_settings(&mut self, settings: &RealmSettings) {
                self.display_name = settings.display_name.clone();
                self.default_signature_algorithm =
                    Some(settings.default_signature_algorithm.as_str().to_string());
                $( self.$setting = Some(settings.$setting.clone()); )*
                $( self.$opt = settings.$opt.clone(); )*
                if settings.smtp_password_sealed.is_some() {
                    if let Some(smtp) = self.smtp_server.as_mut() {
                        smtp.insert(crate::realm::smtp::PASSWORD.into(), crate::realm::import::MASKED_SECRET.into());
                    }
                }
            }
        }
    };
}

realm_representation! {
    values {
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
    access_token_lifespan_for_implicit_flow: i64,
    action_token_generated_by_admin_lifespan: i64,
    action_token_generated_by_user_lifespan: i64,
    oauth2_device_code_lifespan: i64,
    oauth2_device_polling_interval: i64,
    registration_allowed: bool,
    registration_email_as_username: bool,
    verify_email: bool,
    duplicate_emails_allowed: bool,
    reset_password_allowed: bool,
    edit_username_allowed: bool,
    max_temporary_lockouts: i64,
    brute_force_strategy: String,
    required_credentials: Vec<String>,
    otp_policy_type: String,
    otp_policy_algorithm: String,
    otp_policy_initial_counter: i64,
    otp_policy_digits: i64,
    otp_policy_look_ahead_window: i64,
    otp_policy_period: i64,
    otp_policy_code_reusable: bool,
    otp_supported_applications: Vec<String>,
    localization_texts: BTreeMap<String, BTreeMap<String, String>>,
    web_authn_policy_rp_entity_name: String,
    web_authn_policy_signature_algorithms: Vec<String>,
    web_authn_policy_rp_id: String,
    web_authn_policy_attestation_conveyance_preference: String,
    web_authn_policy_authenticator_attachment: String,
    web_authn_policy_require_resident_key: String,
    web_authn_policy_user_verification_requirement: String,
    web_authn_policy_create_timeout: i64,
    web_authn_policy_avoid_same_authenticator_register: bool,
    web_authn_policy_acceptable_aaguids: Vec<String>,
    web_authn_policy_extra_origins: Vec<String>,
    web_authn_policy_passwordless_rp_entity_name: String,
    web_authn_policy_passwordless_signature_algorithms: Vec<String>,
    web_authn_policy_passwordless_rp_id: String,
    web_authn_policy_passwordless_attestation_conveyance_preference: String,
    web_authn_policy_passwordless_authenticator_attachment: String,
    web_authn_policy_passwordless_require_resident_key: String,
    web_authn_policy_passwordless_user_verification_requirement: String,
    web_authn_policy_passwordless_create_timeout: i64,
    web_authn_policy_passwordless_avoid_same_authenticator_register: bool,
    web_authn_policy_passwordless_acceptable_aaguids: Vec<String>,
    web_authn_policy_passwordless_extra_origins: Vec<String>,
    browser_security_headers: BTreeMap<String, String>,
    smtp_server: BTreeMap<String, String>,
    events_listeners: Vec<String>,
    enabled_event_types: Vec<String>,
    admin_events_enabled: bool,
    admin_events_details_enabled: bool,
    internationalization_enabled: bool,
    supported_locales: Vec<String>,
    browser_flow: String,
    registration_flow: String,
    direct_grant_flow: String,
    reset_credentials_flow: String,
    client_authentication_flow: String,
    docker_authentication_flow: String,
    first_broker_login_flow: String,
    attributes: BTreeMap<String, String>,
    user_managed_access_allowed: bool,
    organizations_enabled: bool,
    admin_permissions_enabled: bool,
    oid4_vci_enabled: bool,
    }
    optional {
        display_name_html: String,
        login_theme: String,
        account_theme: String,
        admin_theme: String,
        email_theme: String,
        default_locale: String,
        password_policy: String,
    }
}

/// Every JSON field of Keycloak 26's RealmRepresentation (its Java class's properties), so a
/// body naming another is refused as Keycloak's Jackson refuses it. Those Portcullis does not
/// store are the nested resources it imports through its own paths (clients, roles, users),
/// the ones it has no feature for (groups, identity providers, flows, components...: realm
/// import warns about them) and Keycloak's deprecated fields.
pub const REALM_REPRESENTATION_FIELDS: &[&str] = &[
    "id", "realm", "displayName", "displayNameHtml", "notBefore", "defaultSignatureAlgorithm",
    "revokeRefreshToken", "refreshTokenMaxReuse", "accessTokenLifespan",
    "accessTokenLifespanForImplicitFlow", "ssoSessionIdleTimeout", "ssoSessionMaxLifespan",
    "ssoSessionIdleTimeoutRememberMe", "ssoSessionMaxLifespanRememberMe",
    "offlineSessionIdleTimeout", "offlineSessionMaxLifespanEnabled", "offlineSessionMaxLifespan",
    "clientSessionIdleTimeout", "clientSessionMaxLifespan", "clientOfflineSessionIdleTimeout",
    "clientOfflineSessionMaxLifespan", "accessCodeLifespan", "accessCodeLifespanUserAction",
    "accessCodeLifespanLogin", "actionTokenGeneratedByAdminLifespan",
    "actionTokenGeneratedByUserLifespan", "oauth2DeviceCodeLifespan", "oauth2DevicePollingInterval",
    "enabled", "sslRequired", "passwordCredentialGrantAllowed", "registrationAllowed",
    "registrationEmailAsUsername", "rememberMe", "verifyEmail", "loginWithEmailAllowed",
    "duplicateEmailsAllowed", "resetPasswordAllowed", "editUsernameAllowed", "userCacheEnabled",
    "realmCacheEnabled", "bruteForceProtected", "permanentLockout", "maxTemporaryLockouts",
    "bruteForceStrategy", "maxFailureWaitSeconds", "minimumQuickLoginWaitSeconds",
    "waitIncrementSeconds", "quickLoginCheckMilliSeconds", "maxDeltaTimeSeconds", "failureFactor",
    "privateKey", "publicKey", "certificate", "codeSecret", "roles", "groups", "defaultRoles",
    "defaultRole", "defaultGroups", "requiredCredentials", "passwordPolicy", "otpPolicyType",
    "otpPolicyAlgorithm", "otpPolicyInitialCounter", "otpPolicyDigits", "otpPolicyLookAheadWindow",
    "otpPolicyPeriod", "otpPolicyCodeReusable", "otpSupportedApplications", "localizationTexts",
    "webAuthnPolicyRpEntityName", "webAuthnPolicySignatureAlgorithms", "webAuthnPolicyRpId",
    "webAuthnPolicyAttestationConveyancePreference", "webAuthnPolicyAuthenticatorAttachment",
    "webAuthnPolicyRequireResidentKey", "webAuthnPolicyUserVerificationRequirement",
    "webAuthnPolicyCreateTimeout", "webAuthnPolicyAvoidSameAuthenticatorRegister",
    "webAuthnPolicyAcceptableAaguids", "webAuthnPolicyExtraOrigins",
    "webAuthnPolicyPasswordlessRpEntityName", "webAuthnPolicyPasswordlessSignatureAlgorithms",
    "webAuthnPolicyPasswordlessRpId", "webAuthnPolicyPasswordlessAttestationConveyancePreference",
    "webAuthnPolicyPasswordlessAuthenticatorAttachment", "webAuthnPolicyPasswordlessRequireResidentKey",
    "webAuthnPolicyPasswordlessUserVerificationRequirement", "webAuthnPolicyPasswordlessCreateTimeout",
    "webAuthnPolicyPasswordlessAvoidSameAuthenticatorRegister",
    "webAuthnPolicyPasswordlessAcceptableAaguids", "webAuthnPolicyPasswordlessExtraOrigins",
    "clientProfiles", "clientPolicies", "users", "federatedUsers", "scopeMappings",
    "clientScopeMappings", "clients", "clientScopes", "defaultDefaultClientScopes",
    "defaultOptionalClientScopes", "browserSecurityHeaders", "smtpServer", "userFederationProviders",
    "userFederationMappers", "loginTheme", "accountTheme", "adminTheme", "emailTheme",
    "eventsEnabled", "eventsExpiration", "eventsListeners", "enabledEventTypes",
    "adminEventsEnabled", "adminEventsDetailsEnabled", "identityProviders",
    "identityProviderMappers", "protocolMappers", "components", "internationalizationEnabled",
    "supportedLocales", "defaultLocale", "authenticationFlows", "authenticatorConfig",
    "requiredActions", "browserFlow", "registrationFlow", "directGrantFlow", "resetCredentialsFlow",
    "clientAuthenticationFlow", "dockerAuthenticationFlow", "firstBrokerLoginFlow", "attributes",
    "keycloakVersion", "userManagedAccessAllowed", "organizationsEnabled", "organizations",
    "oid4VciEnabled", "adminPermissionsEnabled", "social", "updateProfileOnInitialSocialLogin",
    "socialProviders", "applicationScopeMappings", "applications", "oauthClients", "clientTemplates",
    // Portcullis' own settings (domain::RealmSettings documents them)
    "refreshTokenReuseIntervalSeconds", "revokeSessionsOnPasswordChange",
];

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
    /// Keycloak's role attributes: each name holds a list of values.
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surrogate_auth_required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_display_in_console: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_authenticator_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_re_registration_timeout: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implicit_flow_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_flow_binding_overrides: Option<BTreeMap<String, String>>,
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
        let s = &client.settings;
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
            description: s.description.clone(),
            root_url: s.root_url.clone(),
            base_url: s.base_url.clone(),
            admin_url: s.admin_url.clone(),
            surrogate_auth_required: Some(s.surrogate_auth_required),
            always_display_in_console: Some(s.always_display_in_console),
            client_authenticator_type: Some(s.client_authenticator_type.clone()),
            not_before: Some(s.not_before),
            node_re_registration_timeout: Some(s.node_re_registration_timeout),
            implicit_flow_enabled: Some(s.implicit_flow_enabled),
            frontchannel_logout: Some(s.frontchannel_logout),
            authentication_flow_binding_overrides: Some(s.authentication_flow_binding_overrides.clone()),
            full_scope_allowed: Some(client.full_scope_allowed),
            ..Default::default()
        }
    }

    /// The stored settings this representation gives, over `base` (fields absent keep `base`'s).
    pub fn settings_over(&self, base: crate::domain::ClientSettings) -> crate::domain::ClientSettings {
        crate::domain::ClientSettings {
            description: self.description.clone().or(base.description),
            root_url: self.root_url.clone().or(base.root_url),
            base_url: self.base_url.clone().or(base.base_url),
            admin_url: self.admin_url.clone().or(base.admin_url),
            surrogate_auth_required: self.surrogate_auth_required.unwrap_or(base.surrogate_auth_required),
            always_display_in_console: self.always_display_in_console.unwrap_or(base.always_display_in_console),
            client_authenticator_type: self.client_authenticator_type.clone().unwrap_or(base.client_authenticator_type),
            not_before: self.not_before.unwrap_or(base.not_before),
            node_re_registration_timeout: self.node_re_registration_timeout.unwrap_or(base.node_re_registration_timeout),
            implicit_flow_enabled: self.implicit_flow_enabled.unwrap_or(base.implicit_flow_enabled),
            frontchannel_logout: self.frontchannel_logout.unwrap_or(base.frontchannel_logout),
            authentication_flow_binding_overrides: self
                .authentication_flow_binding_overrides
                .clone()
                .unwrap_or(base.authentication_flow_binding_overrides),
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
    /// User attributes. Each value may come as one string or an array (numbers and booleans
    /// read as their text, as Keycloak's Jackson does); they always go out as arrays.
    #[serde(deserialize_with = "attribute_map", skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
    /// Paths of the groups the user is a direct member of (realm files; issue 15).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
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

/// Keycloak's `Map<String, List<String>>` with single values accepted as one-element lists:
/// `"a"`, `7`, `true` and `["a", "b"]`; `null` is an empty list. Objects are refused.
fn attribute_map<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, Vec<String>>>, D::Error> {
    use serde::de::Error;
    use serde_json::Value;
    fn scalar<E: Error>(value: Value) -> Result<String, E> {
        match value {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(E::custom("an attribute value must be a string or a list of strings")),
        }
    }
    let Some(raw) = Option::<BTreeMap<String, Value>>::deserialize(d)? else { return Ok(None) };
    let mut out = BTreeMap::new();
    for (name, value) in raw {
        let values = match value {
            Value::Null => Vec::new(),
            Value::Array(items) => {
                items.into_iter().filter(|v| !v.is_null()).map(scalar).collect::<Result<Vec<_>, D::Error>>()?
            }
            other => vec![scalar(other)?],
        };
        out.insert(name, values);
    }
    Ok(Some(out))
}

#[cfg(test)]
#[path = "representation_tests.rs"]
mod tests;
