//! Effective roles: a user's role mappings expanded through composites, split into realm roles
//! and per-client roles as Keycloak's `realm_access` and `resource_access` claims show them.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::tokens::claims::RoleList;
use crate::realm::RealmContext;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct EffectiveRoles {
    pub realm: Vec<String>,
    /// By OAuth client id.
    pub clients: BTreeMap<String, RoleList>,
}

impl EffectiveRoles {
    pub fn has_realm_role(&self, name: &str) -> bool {
        self.realm.iter().any(|r| r == name)
    }
}

pub fn effective_roles(realm: &RealmContext, mapped_role_ids: &[String]) -> EffectiveRoles {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&str> = mapped_role_ids.iter().map(String::as_str).collect();
    let mut realm_roles = BTreeSet::new();
    let mut client_roles: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Some(role) = realm.roles.get(id) else { continue };
        if role.client_role {
            if let Some(client) = realm.client_by_internal_id(&role.container_id) {
                client_roles.entry(client.client_id.clone()).or_default().insert(role.name.clone());
            }
        } else {
            realm_roles.insert(role.name.clone());
        }
        stack.extend(role.composites.iter().map(String::as_str));
    }
    EffectiveRoles {
        realm: realm_roles.into_iter().collect(),
        clients: client_roles
            .into_iter()
            .map(|(client, roles)| (client, RoleList { roles: roles.into_iter().collect() }))
            .collect(),
    }
}
