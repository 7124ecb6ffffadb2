//! `/admin/realms/{realm}/groups/{id}/role-mappings/...`: the realm and client roles mapped to a
//! group, those still available to map, and the effective (composite) ones, which include what
//! the group inherits from its ancestors and what composites contain, as Keycloak's
//! `RoleMapperResource` answers for a group. Members receive all of these in their tokens.

use std::collections::BTreeMap;

use super::context::{Operation, Resource};
use super::groups::find;
use super::role_mappings::expand;
use super::representation::{role_representation, to_event_json, ClientMappings, MappingsRepresentation};
use super::{AdminContext, AdminError, Permission};
use crate::domain::{Client, Realm, Role};
use crate::realm::representation::RoleRepresentation;
use crate::store::groups::GroupView;

/// Which roles a request is about: the realm's, or one client's (internal id).
#[derive(Debug, Clone, Copy)]
pub enum Container<'a> {
    Realm,
    Client(&'a str),
}

/// Which of them: mapped directly, not mapped directly, or effective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Mapped,
    Available,
    Composite,
}

struct Loaded {
    realm: Realm,
    group: GroupView,
    roles: Vec<Role>,
    clients: Vec<Client>,
}

async fn load(ctx: &AdminContext<'_>, realm: &str, group: &str, need: Permission) -> Result<Loaded, AdminError> {
    let realm = ctx.realm(realm, need).await?;
    let group = find(ctx, &realm, group).await?;
    let roles = ctx.store.realm_roles(&realm.id).await?;
    let clients = ctx.clients(&realm).await?;
    Ok(Loaded { realm, group, roles, clients })
}

/// The client `id`; a missing one is 404 with Keycloak's text for the path: "Client not found"
/// under `role-mappings/clients/{client}` (`RoleMapperResource`), "Could not find client" under
/// `clients/{id}` (`ClientsResource`).
fn client<'a>(clients: &'a [Client], id: &str, missing: &'static str) -> Result<&'a Client, AdminError> {
    clients.iter().find(|c| c.id == id).ok_or_else(|| AdminError::not_found(missing))
}

fn in_container(role: &Role, container: Container<'_>) -> bool {
    match container {
        Container::Realm => !role.client_role,
        Container::Client(id) => role.client_role && role.container_id == id,
    }
}

fn sorted(mut roles: Vec<&Role>) -> Vec<RoleRepresentation> {
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    roles.into_iter().map(role_representation).collect()
}

/// `GET .../role-mappings`: the roles mapped directly, realm and per client.
pub async fn mappings(ctx: &AdminContext<'_>, realm: &str, group: &str) -> Result<MappingsRepresentation, AdminError> {
    let loaded = load(ctx, realm, group, Permission::ViewUsers).await?;
    let mapped = ctx.store.group_role_ids(&loaded.group.group.id).await?;
    let mut out = MappingsRepresentation::default();
    let mut clients: BTreeMap<String, ClientMappings> = BTreeMap::new();
    let mut chosen: Vec<&Role> = loaded.roles.iter().filter(|r| mapped.contains(&r.id)).collect();
    chosen.sort_by(|a, b| a.name.cmp(&b.name));
    for role in chosen {
        if !role.client_role {
            out.realm_mappings.push(role_representation(role));
        } else if let Some(c) = loaded.clients.iter().find(|c| c.id == role.container_id) {
            clients
                .entry(c.client_id.clone())
                .or_insert_with(|| ClientMappings { id: c.id.clone(), client: c.client_id.clone(), mappings: Vec::new() })
                .mappings
                .push(role_representation(role));
        }
    }
    out.client_mappings = clients;
    Ok(out)
}

/// `GET .../role-mappings/realm[/available|/composite]` and the same under `clients/{client}`.
pub async fn roles(
    ctx: &AdminContext<'_>,
    realm: &str,
    group: &str,
    container: Container<'_>,
    which: Which,
    brief: bool,
) -> Result<Vec<RoleRepresentation>, AdminError> {
    let loaded = load(ctx, realm, group, Permission::ViewUsers).await?;
    if let Container::Client(id) = container {
        client(&loaded.clients, id, "Client not found")?;
    }
    let of_container = loaded.roles.iter().filter(|r| in_container(r, container));
    let chosen: Vec<&Role> = match which {
        Which::Mapped | Which::Available => {
            let mapped = ctx.store.group_role_ids(&loaded.group.group.id).await?;
            let want = which == Which::Mapped;
            of_container.filter(|r| mapped.contains(&r.id) == want).collect()
        }
        Which::Composite => {
            let inherited = ctx.store.inherited_group_role_ids(&loaded.group.group.id).await?;
            let effective = expand(&loaded.roles, &inherited);
            of_container.filter(|r| effective.contains(&r.id)).collect()
        }
    };
    let mut reps = sorted(chosen);
    if brief && which == Which::Composite {
        reps.iter_mut().for_each(|r| r.attributes = None);
    }
    Ok(reps)
}

/// `POST` (add) or `DELETE` (remove) `.../role-mappings/realm` or `.../clients/{client}` with a
/// list of roles, found by id or else by name within the container. Admin roles can be mapped
/// only by callers who hold them, as for users: a group is another way to hand them out.
pub async fn change(
    ctx: &AdminContext<'_>,
    realm: &str,
    group: &str,
    container: Container<'_>,
    reps: Vec<RoleRepresentation>,
    add: bool,
) -> Result<(), AdminError> {
    let loaded = load(ctx, realm, group, Permission::ManageUsers).await?;
    let (path, resource) = match container {
        Container::Realm => (format!("groups/{}/role-mappings/realm", loaded.group.group.id), Resource::RealmRoleMapping),
        Container::Client(id) => {
            let c = client(&loaded.clients, id, "Client not found")?;
            (format!("groups/{}/role-mappings/clients/{}", loaded.group.group.id, c.id), Resource::ClientRoleMapping)
        }
    };
    let of_container: Vec<&Role> = loaded.roles.iter().filter(|r| in_container(r, container)).collect();
    let mut chosen: Vec<&Role> = Vec::new();
    for rep in &reps {
        let by_id = rep.id.as_ref().and_then(|id| of_container.iter().find(|r| &r.id == id));
        let by_name = rep.name.as_ref().and_then(|n| of_container.iter().find(|r| &r.name == n));
        chosen.push(by_id.or(by_name).copied().ok_or_else(|| AdminError::not_found("Role not found"))?);
    }
    ctx.check_grantable(&loaded.realm, &loaded.clients, &loaded.roles, &chosen)?;
    let ids: Vec<String> = chosen.iter().map(|r| r.id.clone()).collect();
    if add {
        ctx.store.add_group_roles(&loaded.group.group.id, &ids).await?;
    } else {
        ctx.store.remove_group_roles(&loaded.group.group.id, &ids).await?;
    }
    let operation = if add { Operation::Create } else { Operation::Delete };
    let event = to_event_json(&chosen.iter().map(|r| role_representation(r)).collect::<Vec<_>>());
    ctx.record(&loaded.realm.id, operation, resource, &path, event).await;
    Ok(())
}

/// `GET .../roles/{role}/groups` (client `None`) and `.../clients/{client}/roles/{role}/groups`:
/// a page (default 100) of the groups the role is mapped to directly, brief unless asked.
pub async fn groups_with_role(
    ctx: &AdminContext<'_>,
    realm: &str,
    client_id: Option<&str>,
    role: &str,
    page: super::Page,
    brief: bool,
) -> Result<Vec<crate::realm::groups::GroupRepresentation>, AdminError> {
    let realm = ctx.realm_any(realm, &[Permission::ViewUsers, Permission::ViewRealm, Permission::ViewClients]).await?;
    let roles = ctx.store.realm_roles(&realm.id).await?;
    let container = match client_id {
        Some(id) => {
            let clients = ctx.clients(&realm).await?;
            Container::Client(&client(&clients, id, "Could not find client")?.id.clone()).owned()
        }
        None => OwnedContainer::Realm,
    };
    let role = roles
        .iter()
        .find(|r| r.name == role && container.holds(r))
        .ok_or_else(|| AdminError::not_found("Could not find role"))?;
    let max = if page.max < 0 { super::groups::MAX_PAGE } else { page.max.min(super::groups::MAX_PAGE) };
    if max == 0 {
        return Ok(Vec::new());
    }
    let filter = crate::store::groups::GroupFilter { role: Some(role.id.clone()), first: page.first, max, ..Default::default() };
    let views = ctx.store.list_groups(&realm.id, &filter).await?;
    super::groups::shown(ctx, &realm, &views, brief).await
}

enum OwnedContainer {
    Realm,
    Client(String),
}

impl Container<'_> {
    fn owned(self) -> OwnedContainer {
        match self {
            Container::Realm => OwnedContainer::Realm,
            Container::Client(id) => OwnedContainer::Client(id.to_string()),
        }
    }
}

impl OwnedContainer {
    fn holds(&self, role: &Role) -> bool {
        match self {
            OwnedContainer::Realm => in_container(role, Container::Realm),
            OwnedContainer::Client(id) => in_container(role, Container::Client(id)),
        }
    }
}
