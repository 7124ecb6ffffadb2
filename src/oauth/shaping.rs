//! Shaping one grant's tokens as Keycloak does (`TokenManager`, `DefaultClientSessionContext`):
//! the protocol mappers of the client and of its selected client scopes decide the claims, and
//! the roles a token carries are the user's effective roles, limited (when the client's
//! `fullScopeAllowed` is off) to what the client's and its selected scopes' scope mappings allow
//! plus the client's own roles. Everything here reads the realm cache; the user's groups are
//! read from the store only when a group-membership mapper is selected.

use std::collections::{BTreeMap, HashSet};

use super::mappers::{self, Shaped, Shaping, Subject, TokenKind, TokenRoles};
use super::scope::Scope;
use crate::domain::scopes::{ProtocolMapper, ScopeHolder};
use crate::domain::{Client, User};
use crate::realm::RealmContext;
use crate::store::groups::GroupFilter;
use crate::store::{Store, StoreError};

/// At most this many groups of one user go into a token (a bound, not a Keycloak setting).
pub const MAX_TOKEN_GROUPS: i64 = 1_000;

/// The client attribute that asks for lightweight access tokens (Keycloak 24+).
const LIGHTWEIGHT: &str = "client.use.lightweight.access.token.enabled";

/// One client's selected scopes and the mappers they bring, for one grant.
pub struct Shaper<'a> {
    pub realm: &'a RealmContext,
    pub client: &'a Client,
    pub scope: Scope,
    /// A token exchange's `audience` values (RFC 8693 §2.1): the access token's `aud` keeps
    /// only these, as Keycloak's `restrictRequestedAudience` does. `None` for every other grant.
    pub requested_audience: Option<Vec<String>>,
    mappers: Vec<&'a ProtocolMapper>,
}

impl<'a> Shaper<'a> {
    pub fn new(realm: &'a RealmContext, client: &'a Client, scope: Scope) -> Self {
        let offered = realm.scopes.of_client(&client.id);
        // The mappers live in the realm cache; the selection's scopes are the cache's too.
        let mut mappers: Vec<&'a ProtocolMapper> = offered.mappers.iter().collect();
        for selected in scope.selected() {
            if let Some(scope) = offered.find(&selected.name) {
                mappers.extend(scope.mappers.iter());
            }
        }
        Self { realm, client, scope, requested_audience: None, mappers }
    }

    /// Narrows the grant to a token exchange's `audience` values (Keycloak's
    /// `restrictRequestedAudience`): `aud` and `resource_access` keep only those clients.
    pub fn restrict_audience(&mut self, roles: &mut TokenRoles, audiences: Vec<String>) {
        roles.clients.retain(|client_id, _| audiences.contains(client_id));
        self.requested_audience = Some(audiences);
    }

    pub fn mappers(&self) -> &[&'a ProtocolMapper] {
        &self.mappers
    }

    /// Whether a selected mapper reads the user's groups.
    pub fn needs_groups(&self) -> bool {
        self.mappers.iter().any(|m| m.protocol_mapper == "oidc-group-membership-mapper")
    }

    /// The roles the tokens carry, from the user's mapped role ids (direct and through groups).
    pub fn roles(&self, mapped_role_ids: &[String]) -> TokenRoles {
        let realm = self.realm;
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack: Vec<&str> = mapped_role_ids.iter().map(String::as_str).collect();
        let mut roles = TokenRoles::default();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let Some(role) = realm.roles.get(id) else { continue };
            stack.extend(role.composites.iter().map(String::as_str));
            if !self.client.full_scope_allowed && !self.in_scope(role) {
                continue;
            }
            if role.client_role {
                if let Some(client) = realm.client_by_internal_id(&role.container_id) {
                    roles.clients.entry(client.client_id.clone()).or_default().insert(role.name.clone());
                }
            } else {
                roles.realm.insert(role.name.clone());
            }
        }
        mappers::shape_roles(&self.mappers, &mut roles, &|client_id: &str| realm.clients.contains_key(client_id));
        roles
    }

    /// Keycloak's `hasScope`: the client's own roles, and what the scope mappings of the client
    /// and of its selected client scopes allow.
    fn in_scope(&self, role: &crate::domain::Role) -> bool {
        let scopes = &self.realm.scopes;
        (role.client_role && role.container_id == self.client.id)
            || scopes.allows(&ScopeHolder::Client(self.client.id.clone()), &role.id)
            || self.scope.selected().iter().any(|s| scopes.allows(&ScopeHolder::ClientScope(s.id.clone()), &role.id))
    }

    /// The user's groups as full paths, read only when a selected mapper needs them.
    pub async fn groups(&self, store: &dyn Store, user: &User) -> Result<Vec<String>, StoreError> {
        if !self.needs_groups() {
            return Ok(Vec::new());
        }
        let filter = GroupFilter { member: Some(user.id.clone()), max: MAX_TOKEN_GROUPS, ..GroupFilter::default() };
        Ok(store.list_groups(&self.realm.realm.id, &filter).await?.into_iter().map(|g| g.path).collect())
    }

    pub fn lightweight(&self) -> bool {
        self.client.attributes.get(LIGHTWEIGHT).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Whether a selected mapper would put into `kind` what the access token does not carry
    /// (introspection then shapes afresh, as Keycloak 25+ does).
    pub fn differs_from_access(&self, kind: TokenKind) -> bool {
        let probe = |m: &&ProtocolMapper, k: TokenKind, lightweight: bool| mappers::applies(m, k, lightweight);
        let lightweight = self.lightweight();
        self.mappers.iter().any(|m| probe(m, kind, false) && !probe(m, TokenKind::Access, lightweight))
    }

    /// Whether the selected mappers of `kind` read roles (the caller may skip loading them).
    pub fn reads_roles(&self, kind: TokenKind) -> bool {
        self.mappers.iter().any(|m| mappers::applies(m, kind, false) && mappers::reads_roles(&m.protocol_mapper))
    }

    /// The claims of one token of `kind`.
    pub fn shape(&self, kind: TokenKind, subject: Subject<'_>, roles: &TokenRoles, acr: &str) -> Shaped {
        let shaping = Shaping { client: self.client, subject, roles, acr };
        let mut shaped = mappers::shape(&self.mappers, kind, kind == TokenKind::Access && self.lightweight(), &shaping);
        if let (TokenKind::Access, Some(requested)) = (kind, &self.requested_audience) {
            shaped.audience.retain(|a| requested.contains(a));
        }
        shaped
    }
}

/// The user-session notes a mapper may read: Keycloak's `AUTH_TIME`, and for a service account's
/// session the `clientId`, `clientHost` and `clientAddress` notes client_credentials sets.
pub fn session_notes(client: &Client, user: &User, auth_time: Option<i64>, ip: Option<&str>) -> BTreeMap<String, String> {
    let mut notes = BTreeMap::new();
    if let Some(auth_time) = auth_time {
        notes.insert("AUTH_TIME".to_string(), auth_time.to_string());
    }
    if user.service_account_client_id.as_deref() == Some(client.id.as_str()) {
        notes.insert("clientId".to_string(), client.client_id.clone());
        if let Some(ip) = ip {
            notes.insert("clientHost".to_string(), ip.to_string());
            notes.insert("clientAddress".to_string(), ip.to_string());
        }
    }
    notes
}
