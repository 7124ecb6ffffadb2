//! `/admin/realms/{realm}/roles` (realm roles) and a user's role mappings. Roles live in the
//! realm cache (effective roles are computed from it), so every role change drops the cache;
//! mappings are read from the store on each request and need no invalidation. Admin roles can
//! only be granted by callers who hold them (see `Caller::may_grant`).

use std::collections::BTreeMap;

use super::context::{Operation, Resource};
use super::representation::{role_representation, to_event_json, ClientMappings, MappingsRepresentation};
use super::users::realm_and_user;
use super::{AdminContext, AdminError, Page, Permission};
use crate::bootstrap::{ADMIN_ROLE, MASTER_REALM};
use crate::domain::{new_id, Realm, Role};
use crate::realm::defaults::default_roles_name;
use crate::realm::representation::RoleRepresentation;
use crate::store::StoreError;

const ROLE_NOT_FOUND: &str = "Could not find role";

/// Listing roles is needed to manage users and clients too, so any of these reads allows it.
const READ_ROLES: &[Permission] = &[Permission::ViewRealm, Permission::ViewUsers, Permission::ViewClients];

fn realm_roles(all: &[Role]) -> Vec<&Role> {
    let mut roles: Vec<&Role> = all.iter().filter(|r| !r.client_role).collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    roles
}

fn by_name<'a>(all: &'a [Role], name: &str) -> Result<&'a Role, AdminError> {
    all.iter().find(|r| !r.client_role && r.name == name).ok_or_else(|| AdminError::not_found(ROLE_NOT_FOUND))
}

/// A role of the request body, found by id (as Keycloak does) or else by name.
fn resolve<'a>(all: &'a [Role], rep: &RoleRepresentation, client_role: bool) -> Result<&'a Role, AdminError> {
    let found = match (&rep.id, &rep.name) {
        (Some(id), _) => all.iter().find(|r| &r.id == id),
        (None, Some(name)) => all.iter().find(|r| r.name == *name && !r.client_role),
        (None, None) => None,
    };
    found.filter(|r| r.client_role == client_role).ok_or_else(|| AdminError::not_found("Role not found"))
}

pub async fn list(
    ctx: &AdminContext<'_>,
    realm: &str,
    search: Option<&str>,
    page: Page,
) -> Result<Vec<RoleRepresentation>, AdminError> {
    let realm = ctx.realm_any(realm, READ_ROLES).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    let needle = search.map(|s| s.trim().trim_matches('*').to_lowercase()).filter(|s| !s.is_empty());
    let chosen: Vec<&Role> = realm_roles(&all)
        .into_iter()
        .filter(|r| needle.as_ref().is_none_or(|n| r.name.to_lowercase().contains(n.as_str())))
        .collect();
    Ok(page.apply(chosen).into_iter().map(role_representation).collect())
}

pub async fn get(ctx: &AdminContext<'_>, realm: &str, name: &str) -> Result<RoleRepresentation, AdminError> {
    let realm = ctx.realm_any(realm, READ_ROLES).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    Ok(role_representation(by_name(&all, name)?))
}

/// The composites a body names: realm roles by name, client roles by clientId and name.
async fn composites(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    all: &[Role],
    rep: &RoleRepresentation,
) -> Result<Vec<String>, AdminError> {
    let Some(composites) = &rep.composites else { return Ok(Vec::new()) };
    let mut ids = Vec::new();
    let mut push = |id: &String| {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    };
    for name in composites.realm.iter().flatten() {
        push(&by_name(all, name)?.id);
    }
    if let Some(by_client) = &composites.client {
        let clients = ctx.clients(realm).await?;
        for (client_id, names) in by_client {
            let client = clients
                .iter()
                .find(|c| &c.client_id == client_id)
                .ok_or_else(|| AdminError::not_found(format!("Client {client_id} not found")))?;
            for name in names {
                let role = all
                    .iter()
                    .find(|r| r.client_role && r.container_id == client.id && &r.name == name)
                    .ok_or_else(|| AdminError::not_found(ROLE_NOT_FOUND))?;
                push(&role.id);
            }
        }
    }
    Ok(ids)
}

/// Creates a realm role (with composites, when the body names them) and returns its name.
pub async fn create(
    ctx: &AdminContext<'_>,
    realm: &str,
    rep: RoleRepresentation,
) -> Result<String, AdminError> {
    let realm = ctx.realm(realm, Permission::ManageRealm).await?;
    let name = rep
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| AdminError::bad_request("Role name is missing"))?
        .to_string();
    let all = ctx.store.realm_roles(&realm.id).await?;
    if all.iter().any(|r| !r.client_role && r.name == name) {
        return Err(AdminError::conflict(format!("Role with name {name} already exists")));
    }
    let composite_ids = composites(ctx, &realm, &all, &rep).await?;
    let included: Vec<&Role> = all.iter().filter(|r| composite_ids.contains(&r.id)).collect();
    ctx.check_grantable(&realm, &ctx.clients(&realm).await?, &all, &included)?;
    let role = Role {
        id: new_id(),
        realm_id: realm.id.clone(),
        container_id: realm.id.clone(),
        client_role: false,
        name: name.clone(),
        description: rep.description.clone(),
        composites: composite_ids,
        attributes: rep.attributes.clone().unwrap_or_default(),
    };
    match ctx.store.create_role(&role).await {
        Err(StoreError::Conflict(_)) => {
            return Err(AdminError::conflict(format!("Role with name {name} already exists")))
        }
        other => other?,
    }
    ctx.changed(&realm);
    let event = to_event_json(&role_representation(&role));
    ctx.record(&realm.id, Operation::Create, Resource::RealmRole, &format!("roles/{name}"), event).await;
    Ok(name)
}

/// The roles the server relies on by name: `default-roles-{realm}`, and master's `admin`.
fn is_builtin(realm: &Realm, role: &Role) -> bool {
    role.name == default_roles_name(&realm.name) || (realm.name == MASTER_REALM && role.name == ADMIN_ROLE)
}

/// Renames a role or changes its description. Composites are not changed here.
pub async fn update(
    ctx: &AdminContext<'_>,
    realm: &str,
    name: &str,
    rep: RoleRepresentation,
) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageRealm).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    let mut role = by_name(&all, name)?.clone();
    if let Some(new_name) = rep.name.as_deref().map(str::trim).filter(|n| *n != role.name) {
        if new_name.is_empty() {
            return Err(AdminError::bad_request("Role name is missing"));
        }
        if is_builtin(&realm, &role) {
            return Err(AdminError::bad_request(format!(
                "The built-in role {} cannot be renamed",
                role.name
            )));
        }
        role.name = new_name.to_string();
    }
    if rep.description.is_some() {
        role.description = rep.description.clone();
    }
    if let Some(attributes) = &rep.attributes {
        role.attributes = attributes.clone();
    }
    match ctx.store.update_role(&role).await {
        Err(StoreError::Conflict(_)) => {
            return Err(AdminError::conflict(format!("Role with name {} already exists", role.name)))
        }
        Ok(false) => return Err(AdminError::not_found(ROLE_NOT_FOUND)),
        other => other.map(|_| ())?,
    }
    ctx.changed(&realm);
    let event = to_event_json(&role_representation(&role));
    ctx.record(&realm.id, Operation::Update, Resource::RealmRole, &format!("roles/{}", role.name), event)
        .await;
    Ok(())
}

pub async fn delete(ctx: &AdminContext<'_>, realm: &str, name: &str) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageRealm).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    let role = by_name(&all, name)?;
    if is_builtin(&realm, role) {
        return Err(AdminError::bad_request(format!("The built-in role {} cannot be deleted", role.name)));
    }
    if !ctx.store.delete_role(&realm.id, &role.id).await? {
        return Err(AdminError::not_found(ROLE_NOT_FOUND));
    }
    ctx.changed(&realm);
    ctx.record(&realm.id, Operation::Delete, Resource::RealmRole, &format!("roles/{name}"), None).await;
    Ok(())
}

/// `GET .../users/{id}/role-mappings`: the roles mapped directly, realm and per client.
pub async fn user_mappings(
    ctx: &AdminContext<'_>,
    realm: &str,
    user: &str,
) -> Result<MappingsRepresentation, AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, user, Permission::ViewUsers).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    let clients = ctx.clients(&realm).await?;
    let mapped = ctx.store.user_role_ids(&user.id).await?;
    let mut out = MappingsRepresentation::default();
    let mut client_mappings: BTreeMap<String, ClientMappings> = BTreeMap::new();
    for role in all.iter().filter(|r| mapped.contains(&r.id)) {
        if !role.client_role {
            out.realm_mappings.push(role_representation(role));
        } else if let Some(client) = clients.iter().find(|c| c.id == role.container_id) {
            client_mappings
                .entry(client.client_id.clone())
                .or_insert_with(|| ClientMappings {
                    id: client.id.clone(),
                    client: client.client_id.clone(),
                    mappings: Vec::new(),
                })
                .mappings
                .push(role_representation(role));
        }
    }
    out.realm_mappings.sort_by(|a, b| a.name.cmp(&b.name));
    out.client_mappings = client_mappings;
    Ok(out)
}

/// `GET .../users/{id}/role-mappings/realm`: the realm roles mapped directly.
pub async fn user_realm_roles(
    ctx: &AdminContext<'_>,
    realm: &str,
    user: &str,
) -> Result<Vec<RoleRepresentation>, AdminError> {
    Ok(user_mappings(ctx, realm, user).await?.realm_mappings)
}

/// `POST` (add) or `DELETE` (remove) `.../users/{id}/role-mappings/realm` with a list of roles.
pub async fn change_user_realm_roles(
    ctx: &AdminContext<'_>,
    realm: &str,
    user: &str,
    reps: Vec<RoleRepresentation>,
    add: bool,
) -> Result<(), AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, user, Permission::ManageUsers).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    let roles: Vec<&Role> = reps.iter().map(|rep| resolve(&all, rep, false)).collect::<Result<_, _>>()?;
    ctx.check_grantable(&realm, &ctx.clients(&realm).await?, &all, &roles)?;
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    if add {
        ctx.store.add_user_roles(&user.id, &ids).await?;
    } else {
        ctx.store.remove_user_roles(&user.id, &ids).await?;
    }
    let operation = if add { Operation::Create } else { Operation::Delete };
    let event = to_event_json(&roles.iter().map(|r| role_representation(r)).collect::<Vec<_>>());
    let path = format!("users/{}/role-mappings/realm", user.id);
    ctx.record(&realm.id, operation, Resource::RealmRoleMapping, &path, event).await;
    Ok(())
}

/// The client (internal id) of the realm, or 404.
async fn client_of(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    client_uuid: &str,
) -> Result<crate::domain::Client, AdminError> {
    ctx.store
        .client_by_id(&realm.id, client_uuid)
        .await?
        .ok_or_else(|| AdminError::not_found("Could not find client"))
}

fn roles_of_client<'a>(all: &'a [Role], client_uuid: &str) -> Vec<&'a Role> {
    let mut roles: Vec<&Role> =
        all.iter().filter(|r| r.client_role && r.container_id == client_uuid).collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    roles
}

/// `GET .../clients/{id}/roles`.
pub async fn client_roles(
    ctx: &AdminContext<'_>,
    realm: &str,
    client_uuid: &str,
) -> Result<Vec<RoleRepresentation>, AdminError> {
    let realm = ctx.realm_any(realm, READ_ROLES).await?;
    let client = client_of(ctx, &realm, client_uuid).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    Ok(roles_of_client(&all, &client.id).into_iter().map(role_representation).collect())
}

/// `GET .../clients/{id}/roles/{role}`.
pub async fn client_role(
    ctx: &AdminContext<'_>,
    realm: &str,
    client_uuid: &str,
    name: &str,
) -> Result<RoleRepresentation, AdminError> {
    let realm = ctx.realm_any(realm, READ_ROLES).await?;
    let client = client_of(ctx, &realm, client_uuid).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    let role = roles_of_client(&all, &client.id).into_iter().find(|r| r.name == name);
    role.map(role_representation).ok_or_else(|| AdminError::not_found(ROLE_NOT_FOUND))
}

/// `GET .../users/{id}/role-mappings/clients/{client}`: the client's roles mapped directly.
pub async fn user_client_roles(
    ctx: &AdminContext<'_>,
    realm: &str,
    user: &str,
    client_uuid: &str,
) -> Result<Vec<RoleRepresentation>, AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, user, Permission::ViewUsers).await?;
    let client = client_of(ctx, &realm, client_uuid).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    let mapped = ctx.store.user_role_ids(&user.id).await?;
    Ok(roles_of_client(&all, &client.id)
        .into_iter()
        .filter(|r| mapped.contains(&r.id))
        .map(role_representation)
        .collect())
}

/// `POST` (add) or `DELETE` (remove) `.../users/{id}/role-mappings/clients/{client}`. Roles are
/// found by name within the client (as Keycloak does), else by id. Granting `realm-management`
/// roles is how realm-scoped admins are made; a caller may grant only those they hold.
pub async fn change_user_client_roles(
    ctx: &AdminContext<'_>,
    realm: &str,
    user: &str,
    client_uuid: &str,
    reps: Vec<RoleRepresentation>,
    add: bool,
) -> Result<(), AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, user, Permission::ManageUsers).await?;
    let client = client_of(ctx, &realm, client_uuid).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    let of_client = roles_of_client(&all, &client.id);
    let mut roles: Vec<&Role> = Vec::new();
    for rep in &reps {
        let by_name = rep.name.as_ref().and_then(|n| of_client.iter().find(|r| &r.name == n));
        let by_id = rep.id.as_ref().and_then(|id| of_client.iter().find(|r| &r.id == id));
        roles.push(by_name.or(by_id).copied().ok_or_else(|| AdminError::not_found("Role not found"))?);
    }
    ctx.check_grantable(&realm, &ctx.clients(&realm).await?, &all, &roles)?;
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    if add {
        ctx.store.add_user_roles(&user.id, &ids).await?;
    } else {
        ctx.store.remove_user_roles(&user.id, &ids).await?;
    }
    let operation = if add { Operation::Create } else { Operation::Delete };
    let event = to_event_json(&roles.iter().map(|r| role_representation(r)).collect::<Vec<_>>());
    let path = format!("users/{}/role-mappings/clients/{}", user.id, client.id);
    ctx.record(&realm.id, operation, Resource::ClientRoleMapping, &path, event).await;
    Ok(())
}
