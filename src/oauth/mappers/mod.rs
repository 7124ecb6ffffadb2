//! Protocol mappers applied to a token, as Keycloak applies them: the mappers of the client and
//! of its selected client scopes run in Keycloak's priority order (role-name, hardcoded-role,
//! audience-resolve, role mappers last), each only for the tokens its switches name
//! (`access.token.claim`, `id.token.claim`, `userinfo.token.claim`, `introspection.token.claim`,
//! `lightweight.claim`). Pure functions of their inputs: no store, no clock, no HTTP. The types
//! Keycloak has and Portcullis does not run are listed by `is_supported` and stay inert.

pub mod claims;
mod kinds;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::domain::scopes::ProtocolMapper;
use crate::domain::{Client, User};

/// The mapper types Portcullis runs (Keycloak's provider ids). Any other type is kept, exported
/// and listed once as inert at import, never silently dropped.
pub const SUPPORTED: &[&str] = &[
    "oidc-usermodel-attribute-mapper",
    "oidc-usermodel-property-mapper",
    "oidc-full-name-mapper",
    "oidc-hardcoded-claim-mapper",
    "oidc-hardcoded-role-mapper",
    "oidc-audience-mapper",
    "oidc-audience-resolve-mapper",
    "oidc-group-membership-mapper",
    "oidc-usermodel-realm-role-mapper",
    "oidc-usermodel-client-role-mapper",
    "oidc-role-name-mapper",
    "oidc-allowed-origins-mapper",
    "oidc-address-mapper",
    "oidc-sub-mapper",
    "oidc-acr-mapper",
    "oidc-usersessionmodel-note-mapper",
];

pub fn is_supported(kind: &str) -> bool {
    SUPPORTED.contains(&kind)
}

/// Whether a mapper type reads (or changes) the token's roles.
pub fn reads_roles(kind: &str) -> bool {
    matches!(
        kind,
        "oidc-audience-resolve-mapper"
            | "oidc-usermodel-realm-role-mapper"
            | "oidc-usermodel-client-role-mapper"
            | "oidc-hardcoded-role-mapper"
            | "oidc-role-name-mapper"
    )
}

/// Which token (or answer) a claim is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Id,
    UserInfo,
    Introspection,
}

/// The roles a token carries: realm role names, and role names by client (`clientId`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRoles {
    pub realm: BTreeSet<String>,
    pub clients: BTreeMap<String, BTreeSet<String>>,
}

/// Who the token is about and how they signed in.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub user: &'a User,
    /// The user's attributes (Keycloak keeps lists of strings).
    pub attributes: &'a BTreeMap<String, Vec<String>>,
    /// The user's groups as full paths (`/parent/child`).
    pub group_paths: &'a [String],
    /// User-session notes a mapper may read (`AUTH_TIME`, `clientId`, `clientHost`, `clientAddress`).
    pub notes: &'a BTreeMap<String, String>,
}

/// Everything the claim mappers read.
pub struct Shaping<'a> {
    pub client: &'a Client,
    pub subject: Subject<'a>,
    /// After `shape_roles`.
    pub roles: &'a TokenRoles,
    /// `acr`: "1" after a login form, "0" for a session reused through the SSO cookie.
    pub acr: &'a str,
}

/// What the mappers put into one token: the free claims, and the structural claims mappers may
/// set (`aud`, `acr`, `auth_time`; `sub` and `azp` are always the server's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shaped {
    pub claims: Map<String, Value>,
    pub audience: Vec<String>,
    pub acr: Option<String>,
    pub auth_time: Option<i64>,
}

/// Keycloak's priorities (`ProtocolMapperUtils`): lower runs first.
fn priority(kind: &str) -> i32 {
    match kind {
        "oidc-sub-mapper" => -10,
        "oidc-role-name-mapper" => 10,
        "oidc-hardcoded-role-mapper" => 20,
        "oidc-audience-resolve-mapper" => 30,
        "oidc-usermodel-realm-role-mapper" | "oidc-usermodel-client-role-mapper" => 40,
        _ => 0,
    }
}

/// Whether a mapper contributes to this kind of token, with Keycloak's backwards-compatible
/// defaults for a switch that is absent: a mapper written before Keycloak 25 has no
/// `introspection.token.claim` and counts like the access token (as Keycloak's migration does);
/// no `userinfo.token.claim` follows `id.token.claim` (`OIDCAttributeMapperHelper.includeInUserInfo`);
/// the allowed-origins and audience-resolve mappers of older exports carry no switch at all and
/// apply to the access token and introspection.
pub fn applies(mapper: &ProtocolMapper, kind: TokenKind, lightweight: bool) -> bool {
    let switch = |key: &str| mapper.config.get(key).map(|v| v.eq_ignore_ascii_case("true"));
    let switchless = matches!(mapper.protocol_mapper.as_str(), "oidc-allowed-origins-mapper" | "oidc-audience-resolve-mapper");
    let access = switch("access.token.claim").unwrap_or(switchless);
    match kind {
        TokenKind::Access if lightweight => mapper.flag("lightweight.claim"),
        TokenKind::Access => access,
        TokenKind::Id => mapper.flag("id.token.claim"),
        TokenKind::UserInfo => switch("userinfo.token.claim").unwrap_or_else(|| mapper.flag("id.token.claim")),
        TokenKind::Introspection => switch("introspection.token.claim").unwrap_or(access),
    }
}

fn sorted<'m>(mappers: &[&'m ProtocolMapper]) -> Vec<&'m ProtocolMapper> {
    let mut sorted = mappers.to_vec();
    sorted.sort_by_key(|m| priority(&m.protocol_mapper));
    sorted
}

/// Applies the role-changing mappers (role-name, hardcoded-role) to the token's roles, once for
/// every token of the grant, as Keycloak 26 caches the resolved roles per session.
/// `client_ids` are the realm's OAuth client ids (a `client.role` name needs a client).
pub fn shape_roles(mappers: &[&ProtocolMapper], roles: &mut TokenRoles, client_ids: &dyn Fn(&str) -> bool) {
    for mapper in sorted(mappers) {
        kinds::change_roles(mapper, roles, client_ids);
    }
}

/// The claims `mappers` put into one token of `kind`. `lightweight`: the client asked for
/// lightweight access tokens (`client.use.lightweight.access.token.enabled`).
pub fn shape(mappers: &[&ProtocolMapper], kind: TokenKind, lightweight: bool, shaping: &Shaping<'_>) -> Shaped {
    let mut shaped = Shaped::default();
    for mapper in sorted(mappers) {
        if is_supported(&mapper.protocol_mapper) && applies(mapper, kind, lightweight) {
            kinds::apply(mapper, kind, shaping, &mut shaped);
        }
    }
    let mut seen = BTreeSet::new();
    shaped.audience.retain(|a| seen.insert(a.clone()));
    shaped
}

#[cfg(test)]
mod tests;
