//! An OAuth client as Keycloak models it. The secret is held sealed under the master key
//! everywhere but at the moment of comparison (DESIGN.md §5).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SignatureAlgorithm;

/// Keycloak's client attribute asking for signed userinfo answers (OIDC Core §5.3.2).
pub const USERINFO_SIGNATURE_ALG: &str = "user.info.response.signature.alg";

/// Keycloak's client attributes naming the algorithm a token or answer is signed with.
pub const SIGNATURE_ATTRIBUTES: [&str; 3] =
    ["access.token.signed.response.alg", "id.token.signed.response.alg", USERINFO_SIGNATURE_ALG];

/// The refusal, in the admin API and the import, of an algorithm Portcullis cannot sign with.
pub fn unsupported_signature_message(attribute: &str, value: &str) -> String {
    let supported: Vec<&str> = SignatureAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    format!("{attribute} {value:?} is not supported by Portcullis, which signs with {}", supported.join(", "))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    /// Internal id (Keycloak's `id`), a UUID.
    pub id: String,
    pub realm_id: String,
    /// The OAuth `client_id`.
    pub client_id: String,
    pub name: Option<String>,
    pub enabled: bool,
    pub public_client: bool,
    pub bearer_only: bool,
    /// AES-GCM sealed secret (see `crypto::envelope`), `None` for public clients.
    pub secret_sealed: Option<Vec<u8>>,
    pub redirect_uris: Vec<String>,
    pub web_origins: Vec<String>,
    pub standard_flow_enabled: bool,
    pub direct_access_grants_enabled: bool,
    pub service_accounts_enabled: bool,
    pub consent_required: bool,
    /// Keycloak's `fullScopeAllowed`: with it off, tokens carry only the roles the client's and its
    /// client scopes' scope mappings allow (and the client's own roles).
    pub full_scope_allowed: bool,
    pub attributes: BTreeMap<String, String>,
    /// Keycloak's other ClientRepresentation fields, stored and returned.
    pub settings: ClientSettings,
    pub created_at: i64,
}

/// The ClientRepresentation fields Portcullis keeps as Keycloak does, in Keycloak's JSON names
/// (stored as one JSON object). None of them changes how a token is issued yet, except
/// `clientAuthenticatorType` (`client-secret`, `client-jwt` or `client-secret-jwt`: how the
/// client authenticates) and `frontchannelLogout` (README lists them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientSettings {
    pub description: Option<String>,
    pub root_url: Option<String>,
    pub base_url: Option<String>,
    pub admin_url: Option<String>,
    pub surrogate_auth_required: bool,
    pub always_display_in_console: bool,
    pub client_authenticator_type: String,
    /// Seconds since the epoch; 0 is none.
    pub not_before: i64,
    pub node_re_registration_timeout: i64,
    pub implicit_flow_enabled: bool,
    pub frontchannel_logout: bool,
    pub authentication_flow_binding_overrides: BTreeMap<String, String>,
}

/// Keycloak's only client authenticator Portcullis runs: a secret, by HTTP Basic or form post.
pub const CLIENT_SECRET_AUTHENTICATOR: &str = "client-secret";

impl Default for ClientSettings {
    /// Keycloak's model defaults (RepresentationToModel.createClient).
    fn default() -> Self {
        Self {
            description: None,
            root_url: None,
            base_url: None,
            admin_url: None,
            surrogate_auth_required: false,
            always_display_in_console: false,
            client_authenticator_type: CLIENT_SECRET_AUTHENTICATOR.into(),
            not_before: 0,
            node_re_registration_timeout: -1,
            implicit_flow_enabled: false,
            frontchannel_logout: false,
            authentication_flow_binding_overrides: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
impl Client {
    /// A public, enabled client of realm `r` with the standard flow and Keycloak's other
    /// defaults, for unit tests to adjust with struct update syntax.
    pub fn for_tests(client_id: &str) -> Client {
        Client {
            id: "id".into(),
            realm_id: "r".into(),
            client_id: client_id.into(),
            name: None,
            enabled: true,
            public_client: true,
            bearer_only: false,
            secret_sealed: None,
            redirect_uris: vec![],
            web_origins: vec![],
            standard_flow_enabled: true,
            direct_access_grants_enabled: false,
            service_accounts_enabled: false,
            consent_required: false,
            full_scope_allowed: true,
            attributes: Default::default(),
            settings: ClientSettings::default(),
            created_at: 0,
        }
    }
}

impl Client {
    /// Associated data that binds a sealed secret to this client's row.
    pub fn secret_aad(&self) -> Vec<u8> {
        format!("client-secret:{}", self.id).into_bytes()
    }

    /// The `post.logout.redirect.uris` attribute's URIs (`##`-separated; `+` means the redirect URIs).
    pub fn post_logout_redirect_uris(&self) -> impl Iterator<Item = &str> + Clone {
        let registered = self.attributes.get("post.logout.redirect.uris").map(String::as_str).unwrap_or("");
        registered.split("##").filter(|r| !r.is_empty() && *r != "+")
    }

    /// The algorithm a signature attribute (`SIGNATURE_ATTRIBUTES`) asks for: `Ok(None)` when it
    /// is absent or empty (the realm's default; for userinfo, or `"unsigned"`, a plain JSON
    /// answer), `Err(value)` when Portcullis cannot sign with it.
    pub fn signature_algorithm(&self, attribute: &str) -> Result<Option<SignatureAlgorithm>, &str> {
        match self.attributes.get(attribute).map(|v| v.trim()) {
            None | Some("") => Ok(None),
            Some("unsigned") if attribute == USERINFO_SIGNATURE_ALG => Ok(None),
            Some(value) => SignatureAlgorithm::parse(value).map(Some).ok_or(value),
        }
    }

    /// The first signature attribute naming an algorithm Portcullis cannot sign with, and its value.
    pub fn unsupported_signature_algorithm(&self) -> Option<(&'static str, &str)> {
        SIGNATURE_ATTRIBUTES.iter().find_map(|attribute| self.signature_algorithm(attribute).err().map(|value| (*attribute, value)))
    }

    /// Per-client `access.token.lifespan` attribute, overriding the realm's when set.
    pub fn access_token_lifespan(&self) -> Option<i64> {
        self.attributes
            .get("access.token.lifespan")
            .and_then(|v| v.trim().parse().ok())
            .filter(|v: &i64| *v > 0)
    }
}
