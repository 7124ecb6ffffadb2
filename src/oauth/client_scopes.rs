//! A realm's client scopes compiled for the token path: for each client, its default and
//! optional client scopes (with their protocol mappers) and its own mappers, and for each scope
//! holder the role ids its scope mappings allow, expanded through composites. Built once per
//! realm-cache load (`RealmContext::scopes`) so shaping a token reads memory only.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::domain::scopes::{ClientScope, ProtocolMapper, RealmScopes, ScopeHolder, OPENID_CONNECT};
use crate::domain::Role;

/// What one client is offered: the scopes it always gets, the ones it may ask for, its own mappers.
#[derive(Debug, Default)]
pub struct ClientScopeSet {
    /// Ordered by name.
    pub defaults: Vec<Arc<ClientScope>>,
    /// Ordered by name.
    pub optional: Vec<Arc<ClientScope>>,
    pub mappers: Vec<ProtocolMapper>,
}

impl ClientScopeSet {
    /// A default or optional scope of the client by name.
    pub fn find(&self, name: &str) -> Option<&Arc<ClientScope>> {
        self.defaults.iter().chain(&self.optional).find(|s| s.name == name)
    }

    pub fn is_optional(&self, name: &str) -> bool {
        self.optional.iter().any(|s| s.name == name)
    }
}

#[derive(Debug, Default)]
pub struct CompiledScopes {
    /// By the client's internal id.
    by_client: HashMap<String, ClientScopeSet>,
    /// Role ids each holder's scope mappings allow (the mapped roles and every role they include).
    allowed: HashMap<ScopeHolder, HashSet<String>>,
    /// Names of the realm's OpenID Connect scopes that go into a token's `scope` (discovery).
    token_scope_names: Vec<String>,
}

static NO_SCOPES: std::sync::LazyLock<ClientScopeSet> = std::sync::LazyLock::new(ClientScopeSet::default);

impl CompiledScopes {
    pub fn build(scopes: RealmScopes, roles: &HashMap<String, Role>) -> Self {
        let by_id: HashMap<String, Arc<ClientScope>> = scopes
            .client_scopes
            .into_iter()
            .filter(|s| s.protocol == OPENID_CONNECT)
            .map(|s| (s.id.clone(), Arc::new(s)))
            .collect();
        let mut by_client: HashMap<String, ClientScopeSet> = HashMap::new();
        for link in &scopes.client_links {
            let Some(scope) = by_id.get(&link.scope_id) else { continue };
            let set = by_client.entry(link.client_id.clone()).or_default();
            let list = if link.default_scope { &mut set.defaults } else { &mut set.optional };
            if !list.iter().any(|s| s.id == scope.id) {
                list.push(scope.clone());
            }
        }
        for (client_id, mapper) in scopes.client_mappers {
            if mapper.protocol == OPENID_CONNECT {
                by_client.entry(client_id).or_default().mappers.push(mapper);
            }
        }
        for set in by_client.values_mut() {
            set.defaults.sort_by(|a, b| a.name.cmp(&b.name));
            set.optional.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let mut allowed: HashMap<ScopeHolder, HashSet<String>> = HashMap::new();
        for (holder, role_id) in scopes.scope_mappings {
            expand_into(roles, &role_id, allowed.entry(holder).or_default());
        }
        let mut token_scope_names: Vec<String> =
            by_id.values().filter(|s| s.include_in_token_scope()).map(|s| s.name.clone()).collect();
        token_scope_names.sort();
        Self { by_client, allowed, token_scope_names }
    }

    /// What the client (internal id) is offered; nothing for a client with no scope links.
    pub fn of_client(&self, client_id: &str) -> &ClientScopeSet {
        self.by_client.get(client_id).unwrap_or(&NO_SCOPES)
    }

    /// Whether the holder's scope mappings allow the role (directly or through a composite).
    pub fn allows(&self, holder: &ScopeHolder, role_id: &str) -> bool {
        self.allowed.get(holder).is_some_and(|ids| ids.contains(role_id))
    }

    pub fn token_scope_names(&self) -> &[String] {
        &self.token_scope_names
    }
}

/// Adds the role and every role it includes at any depth (composite graphs may have cycles).
fn expand_into(roles: &HashMap<String, Role>, role_id: &str, into: &mut HashSet<String>) {
    let mut stack = vec![role_id.to_string()];
    while let Some(id) = stack.pop() {
        if into.insert(id.clone()) {
            if let Some(role) = roles.get(&id) {
                stack.extend(role.composites.iter().cloned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scopes::ClientScopeLink;

    fn scope(id: &str, name: &str) -> ClientScope {
        ClientScope {
            id: id.into(),
            realm_id: "r".into(),
            name: name.into(),
            description: None,
            protocol: OPENID_CONNECT.into(),
            attributes: Default::default(),
            mappers: vec![],
        }
    }

    fn role(id: &str, composites: &[&str]) -> (String, Role) {
        let role = Role {
            id: id.into(),
            realm_id: "r".into(),
            container_id: "r".into(),
            client_role: false,
            name: id.into(),
            description: None,
            composites: composites.iter().map(|c| c.to_string()).collect(),
            attributes: Default::default(),
        };
        (id.to_string(), role)
    }

    #[test]
    fn links_split_into_sorted_defaults_and_optional_scopes() {
        let link = |scope: &str, default_scope| ClientScopeLink { client_id: "c".into(), scope_id: scope.into(), default_scope };
        let scopes = RealmScopes {
            client_scopes: vec![scope("1", "profile"), scope("2", "email"), scope("3", "offline_access")],
            client_links: vec![link("1", true), link("2", true), link("3", false), link("missing", true)],
            ..Default::default()
        };
        let compiled = CompiledScopes::build(scopes, &HashMap::new());
        let set = compiled.of_client("c");
        assert_eq!(set.defaults.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["email", "profile"]);
        assert!(set.is_optional("offline_access") && !set.is_optional("email"));
        assert!(compiled.of_client("other").find("email").is_none());
        assert_eq!(compiled.token_scope_names(), ["email", "offline_access", "profile"]);
    }

    #[test]
    fn a_scope_mapping_allows_the_roles_its_composite_includes() {
        let roles: HashMap<String, Role> = [role("a", &["b"]), role("b", &["a", "c"]), role("c", &[]), role("d", &[])].into();
        let holder = ScopeHolder::ClientScope("s".into());
        let scopes = RealmScopes { scope_mappings: vec![(holder.clone(), "a".into())], ..Default::default() };
        let compiled = CompiledScopes::build(scopes, &roles);
        assert!(["a", "b", "c"].iter().all(|r| compiled.allows(&holder, r)));
        assert!(!compiled.allows(&holder, "d"));
        assert!(!compiled.allows(&ScopeHolder::Client("s".into()), "a"));
    }
}
