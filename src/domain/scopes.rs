//! Client scopes and protocol mappers as Keycloak models them: a client scope is a named set of
//! protocol mappers (and scope-mapped roles) a client gets by default or on request; a protocol
//! mapper turns user, session or role data into a claim. Both are plain records here; what they
//! do to a token is `oauth::mappers`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Keycloak's protocol for OpenID Connect clients, scopes and mappers.
pub const OPENID_CONNECT: &str = "openid-connect";

/// One protocol mapper, on a client scope or on a client (Keycloak's ProtocolMapperRepresentation
/// without the deprecated `consentRequired`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolMapper {
    pub id: String,
    pub name: String,
    pub protocol: String,
    /// The mapper type, e.g. `oidc-usermodel-attribute-mapper`.
    pub protocol_mapper: String,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

impl ProtocolMapper {
    /// A config switch: `"true"` (any case) is on.
    pub fn flag(&self, key: &str) -> bool {
        self.config.get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    pub fn setting(&self, key: &str) -> Option<&str> {
        self.config.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// A client scope (Keycloak's ClientScopeRepresentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientScope {
    pub id: String,
    pub realm_id: String,
    pub name: String,
    pub description: Option<String>,
    pub protocol: String,
    /// `include.in.token.scope`, `display.on.consent.screen`, `consent.screen.text`, `gui.order`...
    pub attributes: BTreeMap<String, String>,
    pub mappers: Vec<ProtocolMapper>,
}

impl ClientScope {
    fn attribute_flag(&self, key: &str, default: bool) -> bool {
        self.attributes.get(key).map_or(default, |v| v.eq_ignore_ascii_case("true"))
    }

    /// Whether the scope's name goes into the token's `scope` claim (Keycloak's default: yes).
    pub fn include_in_token_scope(&self) -> bool {
        self.attribute_flag("include.in.token.scope", true)
    }

    /// Whether the consent page lists this scope (Keycloak's default: yes).
    pub fn display_on_consent_screen(&self) -> bool {
        self.attribute_flag("display.on.consent.screen", true)
    }

    /// The consent page's text for this scope: `consent.screen.text`, else the name.
    pub fn consent_text(&self) -> &str {
        self.attributes.get("consent.screen.text").map(String::as_str).filter(|t| !t.is_empty()).unwrap_or(&self.name)
    }
}

/// Where a protocol mapper lives: on a client scope or directly on a client (internal ids).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MapperContainer {
    ClientScope(String),
    Client(String),
}

/// What holds a scope mapping (Keycloak's `ScopeContainerModel`): a client or a client scope
/// (internal ids). With `fullScopeAllowed` off, a client's tokens carry only the roles its
/// own scope mappings and those of its client scopes allow (and the client's own roles).
pub type ScopeHolder = MapperContainer;

/// A client's link to a client scope: a default scope (always applied) or an optional one
/// (applied when the `scope` parameter names it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientScopeLink {
    /// The client's internal id.
    pub client_id: String,
    pub scope_id: String,
    pub default_scope: bool,
}

/// The realm's whole scope model, as the store reads it in one call (`ScopeStore::realm_scopes`)
/// for the realm cache and export, and as realm creation and import write it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RealmScopes {
    /// Each with its protocol mappers (mappers ordered by name).
    pub client_scopes: Vec<ClientScope>,
    /// Mappers defined on clients: (client internal id, mapper).
    pub client_mappers: Vec<(String, ProtocolMapper)>,
    /// The realm's default client scopes (`defaultDefaultClientScopes` when true,
    /// `defaultOptionalClientScopes` when false) that new clients get: (scope id, default).
    pub realm_defaults: Vec<(String, bool)>,
    pub client_links: Vec<ClientScopeLink>,
    /// (holder, role id).
    pub scope_mappings: Vec<(ScopeHolder, String)>,
}
