//! Scope mappings of a client or a client scope (`.../scope-mappings`, `/realm`, `/clients/{c}`,
//! each with `/available` and `/composite`): the roles a client's tokens may carry when its
//! `fullScopeAllowed` is off. As in Keycloak, realm roles in a body are found by id, a client's
//! roles by name; `composite` expands composites and, for a client with `fullScopeAllowed`,
//! is every role.

use std::collections::{BTreeMap, HashSet};

use super::client_scopes::{find, find_client, model};
use super::context::{Operation, Resource};
use super::representation::{role_representation, to_event_json, ClientMappings, MappingsRepresentation};
use super::{AdminContext, AdminError, Permission};
use crate::domain::scopes::{RealmScopes, ScopeHolder};
use crate::domain::{Client, Realm, Role};
use crate::realm::representation::RoleRepresentation;

/// Roles one request may add or remove: bounded work.
const MAX_ROLES: usize = 500;

/// Whose scope mappings a request names, by internal id.
#[derive(Debug, Clone, Copy)]
pub enum Of<'a> {
    Client(&'a str),
    ClientScope(&'a str),
}

/// Which roles a request is about: realm roles, or the roles of one client (internal id).
#[derive(Debug, Clone, Copy)]
pub enum Roles<'a> {
    Realm,
    OfClient(&'a str),
}

struct Loaded {
    realm: Realm,
    holder: ScopeHolder,
    /// The holder when it is a client: its `fullScopeAllowed` widens `composite`.
    full_scope: bool,
    clients: Vec<Client>,
    roles: Vec<Role>,
    mapped: HashSet<String>,
}

async fn load(ctx: &AdminContext<'_>, realm: &str, of: Of<'_>, need: Permission) -> Result<Loaded, AdminError> {
    let realm = ctx.realm(realm, need).await?;
    let scopes: RealmScopes = model(ctx, &realm).await?;
    let (holder, full_scope) = match of {
        Of::Client(id) => {
            let client = find_client(ctx, &realm, id).await?;
            (ScopeHolder::Client(client.id.clone()), client.full_scope_allowed)
        }
        Of::ClientScope(id) => (ScopeHolder::ClientScope(find(&scopes, id)?.id.clone()), false),
    };
    let mapped = scopes.scope_mappings.iter().filter(|(h, _)| *h == holder).map(|(_, r)| r.clone()).collect();
    let clients = ctx.clients(&realm).await?;
    let roles = ctx.store.realm_roles(&realm.id).await?;
    Ok(Loaded { realm, holder, full_scope, clients, roles, mapped })
}

impl Loaded {
    fn of<'a>(&'a self, which: Roles<'_>) -> impl Iterator<Item = &'a Role> + 'a {
        let container = match which {
            Roles::Realm => None,
            Roles::OfClient(id) => Some(id.to_string()),
        };
        let mut roles: Vec<&Role> = self
            .roles
            .iter()
            .filter(move |r| match &container {
                None => !r.client_role,
                Some(c) => r.client_role && &r.container_id == c,
            })
            .collect();
        roles.sort_by(|a, b| a.name.cmp(&b.name));
        roles.into_iter()
    }

    /// Mapped roles and every role they include, at any depth.
    fn effective(&self) -> HashSet<&str> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack: Vec<&str> = self.mapped.iter().map(String::as_str).collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(role) = self.roles.iter().find(|r| r.id == id) {
                stack.extend(role.composites.iter().map(String::as_str));
            }
        }
        seen
    }

    fn path(&self, which: Roles<'_>) -> String {
        let base = match &self.holder {
            ScopeHolder::Client(id) => format!("clients/{id}/scope-mappings"),
            ScopeHolder::ClientScope(id) => format!("client-scopes/{id}/scope-mappings"),
        };
        match which {
            Roles::Realm => format!("{base}/realm"),
            Roles::OfClient(client) => format!("{base}/clients/{client}"),
        }
    }
}

/// The client whose roles a `/clients/{client}` request names (404 as Keycloak words it).
async fn role_owner(ctx: &AdminContext<'_>, realm: &Realm, id: &str) -> Result<String, AdminError> {
    Ok(find_client(ctx, realm, id).await?.id)
}

/// `GET .../scope-mappings`: realm and client roles mapped, client roles by `clientId`.
pub async fn all(ctx: &AdminContext<'_>, realm: &str, of: Of<'_>) -> Result<MappingsRepresentation, AdminError> {
    let loaded = load(ctx, realm, of, Permission::ViewClients).await?;
    let mut out = MappingsRepresentation::default();
    let mut by_client: BTreeMap<String, ClientMappings> = BTreeMap::new();
    let mut roles: Vec<&Role> = loaded.roles.iter().filter(|r| loaded.mapped.contains(&r.id)).collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    for role in roles {
        if !role.client_role {
            out.realm_mappings.push(role_representation(role));
        } else if let Some(client) = loaded.clients.iter().find(|c| c.id == role.container_id) {
            by_client
                .entry(client.client_id.clone())
                .or_insert_with(|| ClientMappings { id: client.id.clone(), client: client.client_id.clone(), mappings: Vec::new() })
                .mappings
                .push(role_representation(role));
        }
    }
    out.client_mappings = by_client;
    Ok(out)
}

/// What `GET .../realm` (or `/clients/{c}`) lists: `Mapped`, `Available` (not mapped) or
/// `Composite` (effective).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Mapped,
    Available,
    Composite,
}

pub async fn roles(ctx: &AdminContext<'_>, realm: &str, of: Of<'_>, which: Roles<'_>, view: View) -> Result<Vec<RoleRepresentation>, AdminError> {
    let loaded = load(ctx, realm, of, Permission::ViewClients).await?;
    let which = match which {
        Roles::Realm => OwnedRoles::Realm,
        Roles::OfClient(id) => OwnedRoles::OfClient(role_owner(ctx, &loaded.realm, id).await?),
    };
    let effective = loaded.effective();
    let own_client = match &loaded.holder {
        ScopeHolder::Client(id) => Some(id.as_str()),
        ScopeHolder::ClientScope(_) => None,
    };
    Ok(loaded
        .of(which.as_ref())
        .filter(|r| match view {
            View::Mapped => loaded.mapped.contains(&r.id),
            View::Available => !loaded.mapped.contains(&r.id),
            View::Composite => loaded.full_scope || effective.contains(r.id.as_str()) || Some(r.container_id.as_str()) == own_client,
        })
        .map(role_representation)
        .collect())
}

/// `Roles` with an owned client id, for the borrow across the owner lookup.
enum OwnedRoles {
    Realm,
    OfClient(String),
}

impl OwnedRoles {
    fn as_ref(&self) -> Roles<'_> {
        match self {
            OwnedRoles::Realm => Roles::Realm,
            OwnedRoles::OfClient(id) => Roles::OfClient(id),
        }
    }
}

/// `POST` (`add`) or `DELETE` `.../realm` or `.../clients/{c}` with a list of roles.
pub async fn change(
    ctx: &AdminContext<'_>,
    realm: &str,
    of: Of<'_>,
    which: Roles<'_>,
    reps: &[RoleRepresentation],
    add: bool,
) -> Result<(), AdminError> {
    if reps.len() > MAX_ROLES {
        return Err(AdminError::bad_request(format!("At most {MAX_ROLES} roles per request")));
    }
    let loaded = load(ctx, realm, of, Permission::ManageClients).await?;
    let which = match which {
        Roles::Realm => OwnedRoles::Realm,
        Roles::OfClient(id) => OwnedRoles::OfClient(role_owner(ctx, &loaded.realm, id).await?),
    };
    let candidates: Vec<&Role> = loaded.of(which.as_ref()).collect();
    let mut ids = Vec::with_capacity(reps.len());
    for rep in reps {
        let found = match which {
            OwnedRoles::Realm => rep.id.as_ref().and_then(|id| candidates.iter().find(|r| &r.id == id)).or_else(|| {
                rep.name.as_ref().and_then(|n| candidates.iter().find(|r| &r.name == n))
            }),
            OwnedRoles::OfClient(_) => rep.name.as_ref().and_then(|n| candidates.iter().find(|r| &r.name == n)).or_else(|| {
                rep.id.as_ref().and_then(|id| candidates.iter().find(|r| &r.id == id))
            }),
        };
        ids.push(found.ok_or_else(|| AdminError::not_found("Role not found"))?.id.clone());
    }
    ctx.store.change_scope_mappings(&loaded.realm.id, &loaded.holder, &ids, add).await?;
    ctx.changed(&loaded.realm);
    let operation = if add { Operation::Create } else { Operation::Delete };
    let resource = match which {
        OwnedRoles::Realm => Resource::RealmScopeMapping,
        OwnedRoles::OfClient(_) => Resource::ClientScopeMapping,
    };
    let event = to_event_json(&reps.to_vec());
    ctx.record(&loaded.realm.id, operation, resource, &loaded.path(which.as_ref()), event).await;
    Ok(())
}
