//! A user's role mappings: the roles mapped directly (realm, and per client), changing them, and
//! Keycloak's derived views: `available` (roles of the realm or client not mapped to the user
//! directly) and `composite` (every role the user holds, composites
//! expanded). Effective roles start from the user's direct mappings and her groups' roles
//! (`held_role_ids`), as her tokens do.

use std::collections::{BTreeMap, BTreeSet};

use super::context::{Operation, Resource};
use super::representation::{role_representation, to_event_json, ClientMappings, MappingsRepresentation};
use super::roles::shown;
use super::users::realm_and_user;
use super::{AdminContext, AdminError, Permission};
use crate::domain::{Role, User};
use crate::realm::representation::RoleRepresentation;

/// The client of a `role-mappings/clients/{client}` path: Keycloak's `ClientRoleMappingsResource`
/// answers an unknown one with 404 "Client not found" (not "Could not find client").
async fn mapped_client(ctx: &AdminContext<'_>, realm: &crate::domain::Realm, id: &str) -> Result<crate::domain::Client, AdminError> {
    ctx.store.client_by_id(&realm.id, id).await?.ok_or_else(|| AdminError::not_found("Client not found"))
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

fn roles_of_client<'a>(all: &'a [Role], client_uuid: &str) -> Vec<&'a Role> {
    let mut roles: Vec<&Role> =
        all.iter().filter(|r| r.client_role && r.container_id == client_uuid).collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    roles
}

/// `GET .../users/{id}/role-mappings/clients/{client}`: the client's roles mapped directly.
pub async fn user_client_roles(
    ctx: &AdminContext<'_>,
    realm: &str,
    user: &str,
    client_uuid: &str,
) -> Result<Vec<RoleRepresentation>, AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, user, Permission::ViewUsers).await?;
    let client = mapped_client(ctx, &realm, client_uuid).await?;
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
    let client = mapped_client(ctx, &realm, client_uuid).await?;
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

/// The roles a user holds before composites: direct mappings and those of her groups and their
/// ancestors (`GroupStore::mapped_role_ids`, the set tokens start from), so every effective view
/// below matches what her tokens carry.
async fn held_role_ids(ctx: &AdminContext<'_>, user: &User) -> Result<Vec<String>, AdminError> {
    Ok(ctx.store.mapped_role_ids(&user.id).await?)
}

/// `ids` with every role they include, transitively (cycles are harmless).
pub fn expand(all: &[Role], ids: &[String]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = ids.iter().map(String::as_str).collect();
    while let Some(id) = stack.pop() {
        if !seen.insert(id.to_string()) {
            continue;
        }
        if let Some(role) = all.iter().find(|r| r.id == id) {
            stack.extend(role.composites.iter().map(String::as_str));
        }
    }
    seen
}

/// Which roles a derived mapping view looks at: the realm's, or one client's (internal id).
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Realm,
    Client(&'a str),
}

/// `GET .../role-mappings/realm/composite` (or `.../clients/{client}/composite`) when
/// `effective`, every role of the scope the user holds, composites expanded; otherwise
/// `.../available`, every role of the scope not mapped to the user directly (one held only through
/// a composite is still available, as in Keycloak). Available roles always come
/// brief, composite ones unless `briefRepresentation=false` (Keycloak's defaults).
pub async fn derived(
    ctx: &AdminContext<'_>,
    realm: &str,
    user: &str,
    scope: Scope<'_>,
    effective: bool,
    brief: bool,
) -> Result<Vec<RoleRepresentation>, AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, user, Permission::ViewUsers).await?;
    let container_id = match scope {
        Scope::Realm => realm.id.clone(),
        Scope::Client(id) => mapped_client(ctx, &realm, id).await?.id,
    };
    let client_role = matches!(scope, Scope::Client(_));
    let all = ctx.store.realm_roles(&realm.id).await?;
    // Keycloak's `available` leaves out only the roles mapped directly (RoleMapperResource
    // filters on hasDirectRole); `composite` expands everything held, group roles included.
    let held: BTreeSet<String> = if effective {
        expand(&all, &held_role_ids(ctx, &user).await?)
    } else {
        ctx.store.user_role_ids(&user.id).await?.into_iter().collect()
    };
    let mut roles: Vec<&Role> = all
        .iter()
        .filter(|r| r.client_role == client_role && r.container_id == container_id)
        .filter(|r| held.contains(&r.id) == effective)
        .collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(roles.into_iter().map(|r| shown(r, brief || !effective)).collect())
}
