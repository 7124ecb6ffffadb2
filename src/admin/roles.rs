//! `/admin/realms/{realm}/roles` (realm roles) and `.../clients/{id}/roles` (client roles):
//! list, read, create, update and delete, through one notion of a role's container. Roles live in the
//! realm cache (effective roles are computed from it), so every role change drops the cache;
//! mappings are read from the store on each request and need no invalidation. Admin roles can
//! only be granted by callers who hold them (see `Caller::may_grant`).

use super::context::{Operation, Resource};
use super::representation::{role_representation, to_event_json};
use super::{AdminContext, AdminError, Page, Permission};
use crate::bootstrap::{ADMIN_ROLE, MASTER_REALM};
use crate::domain::{new_id, Realm, Role};
use crate::realm::defaults::default_roles_name;
use crate::realm::representation::RoleRepresentation;
use crate::store::StoreError;

use super::auth::REALM_MANAGEMENT;

pub const ROLE_NOT_FOUND: &str = "Could not find role";

/// Listing roles is needed to manage users and clients too, so any of these reads allows it.
pub const READ_ROLES: &[Permission] = &[Permission::ViewRealm, Permission::ViewUsers, Permission::ViewClients];


/// Where roles live: the realm, or one client. Realm roles are managed with manage-realm, a
/// client's roles with manage-clients (Keycloak's `RoleContainerResource` checks the same).
#[derive(Debug, Clone)]
pub enum Container {
    Realm,
    Client(crate::domain::Client),
}

impl Container {
    fn id<'a>(&'a self, realm: &'a Realm) -> &'a str {
        match self {
            Self::Realm => &realm.id,
            Self::Client(client) => &client.id,
        }
    }

    fn holds(&self, realm: &Realm, role: &Role) -> bool {
        role.client_role == matches!(self, Self::Client(_)) && role.container_id == self.id(realm)
    }

    pub fn manage(&self) -> Permission {
        match self {
            Self::Realm => Permission::ManageRealm,
            Self::Client(_) => Permission::ManageClients,
        }
    }

    pub fn resource(&self) -> Resource {
        match self {
            Self::Realm => Resource::RealmRole,
            Self::Client(_) => Resource::ClientRole,
        }
    }

    /// The admin-event path of a role of this container.
    pub fn path(&self, name: &str) -> String {
        match self {
            Self::Realm => format!("roles/{name}"),
            Self::Client(client) => format!("clients/{}/roles/{name}", client.id),
        }
    }
}

/// The realm (checked against `need`) and the container: the realm itself, or its client with
/// this internal id (404 "Could not find client").
pub async fn container(
    ctx: &AdminContext<'_>,
    realm: &str,
    client_uuid: Option<&str>,
    needs: &[Permission],
) -> Result<(Realm, Container), AdminError> {
    let realm = ctx.realm_any(realm, needs).await?;
    let container = match client_uuid {
        None => Container::Realm,
        Some(id) => Container::Client(client_of(ctx, &realm, id).await?),
    };
    Ok((realm, container))
}

/// The roles of a container, by name.
fn roles_in<'a>(all: &'a [Role], realm: &Realm, container: &Container) -> Vec<&'a Role> {
    let mut roles: Vec<&Role> = all.iter().filter(|r| container.holds(realm, r)).collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    roles
}

/// A role of the container by name, or 404 "Could not find role".
pub fn named<'a>(all: &'a [Role], realm: &Realm, container: &Container, name: &str) -> Result<&'a Role, AdminError> {
    all.iter()
        .find(|r| container.holds(realm, r) && r.name == name)
        .ok_or_else(|| AdminError::not_found(ROLE_NOT_FOUND))
}

/// Keycloak's `briefRepresentation`: the role without its attributes.
pub fn shown(role: &Role, brief: bool) -> RoleRepresentation {
    let mut rep = role_representation(role);
    if brief {
        rep.attributes = None;
    }
    rep
}

/// `GET .../roles` or `.../clients/{id}/roles`: by name, `search` a case-insensitive substring.
/// Keycloak lists roles in their brief form unless `briefRepresentation=false`.
pub async fn list_in(
    ctx: &AdminContext<'_>,
    realm: &str,
    client_uuid: Option<&str>,
    search: Option<&str>,
    page: Page,
    brief: bool,
) -> Result<Vec<RoleRepresentation>, AdminError> {
    let (realm, container) = container(ctx, realm, client_uuid, READ_ROLES).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    let needle = search.map(|s| s.trim().trim_matches('*').to_lowercase()).filter(|s| !s.is_empty());
    let chosen: Vec<&Role> = roles_in(&all, &realm, &container)
        .into_iter()
        .filter(|r| needle.as_ref().is_none_or(|n| r.name.to_lowercase().contains(n.as_str())))
        .collect();
    Ok(page.apply(chosen).into_iter().map(|r| shown(r, brief)).collect())
}

pub async fn list(
    ctx: &AdminContext<'_>,
    realm: &str,
    search: Option<&str>,
    page: Page,
) -> Result<Vec<RoleRepresentation>, AdminError> {
    list_in(ctx, realm, None, search, page, false).await
}

/// `GET .../roles/{name}` or `.../clients/{id}/roles/{name}`: the full representation.
pub async fn get_in(
    ctx: &AdminContext<'_>,
    realm: &str,
    client_uuid: Option<&str>,
    name: &str,
) -> Result<RoleRepresentation, AdminError> {
    let (realm, container) = container(ctx, realm, client_uuid, READ_ROLES).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    Ok(role_representation(named(&all, &realm, &container, name)?))
}

pub async fn get(ctx: &AdminContext<'_>, realm: &str, name: &str) -> Result<RoleRepresentation, AdminError> {
    get_in(ctx, realm, None, name).await
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
        push(&named(all, realm, &Container::Realm, name)?.id);
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

fn role_conflict(name: &str) -> AdminError {
    AdminError::conflict(format!("Role with name {name} already exists"))
}

/// Creates a role in the container (with composites, when the body names them) and returns
/// its name. 409 "Role with name X already exists" as in Keycloak.
pub async fn create_in(
    ctx: &AdminContext<'_>,
    realm: &str,
    client_uuid: Option<&str>,
    rep: RoleRepresentation,
) -> Result<String, AdminError> {
    let need = if client_uuid.is_some() { Permission::ManageClients } else { Permission::ManageRealm };
    let (realm, container) = container(ctx, realm, client_uuid, &[need]).await?;
    let name = rep
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| AdminError::bad_request("Role name is missing"))?
        .to_string();
    let all = ctx.store.realm_roles(&realm.id).await?;
    if named(&all, &realm, &container, &name).is_ok() {
        return Err(role_conflict(&name));
    }
    let composite_ids = composites(ctx, &realm, &all, &rep).await?;
    let included: Vec<&Role> = all.iter().filter(|r| composite_ids.contains(&r.id)).collect();
    ctx.check_grantable(&realm, &ctx.clients(&realm).await?, &all, &included)?;
    let role = Role {
        id: new_id(),
        realm_id: realm.id.clone(),
        container_id: container.id(&realm).to_string(),
        client_role: matches!(container, Container::Client(_)),
        name: name.clone(),
        description: rep.description.clone(),
        composites: composite_ids,
        attributes: rep.attributes.clone().unwrap_or_default(),
    };
    match ctx.store.create_role(&role).await {
        Err(StoreError::Conflict(_)) => return Err(role_conflict(&name)),
        other => other?,
    }
    ctx.changed(&realm);
    let event = to_event_json(&role_representation(&role));
    ctx.record(&realm.id, Operation::Create, container.resource(), &container.path(&name), event).await;
    Ok(name)
}

pub async fn create(ctx: &AdminContext<'_>, realm: &str, rep: RoleRepresentation) -> Result<String, AdminError> {
    create_in(ctx, realm, None, rep).await
}

/// The roles the server relies on by name: `default-roles-{realm}`, master's `admin`, and the
/// roles of `realm-management` (the admin API's permissions are those names).
pub(crate) fn is_builtin(realm: &Realm, container: &Container, role: &Role) -> bool {
    match container {
        Container::Realm => {
            role.name == default_roles_name(&realm.name) || (realm.name == MASTER_REALM && role.name == ADMIN_ROLE)
        }
        Container::Client(client) => client.client_id == REALM_MANAGEMENT,
    }
}

/// Renames a role or changes its description and attributes (a body's `attributes` replaces
/// them, as Keycloak's `updateRole`). Composites are changed through `.../composites`.
pub async fn update_role(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    container: &Container,
    mut role: Role,
    rep: RoleRepresentation,
) -> Result<(), AdminError> {
    if let Some(new_name) = rep.name.as_deref().map(str::trim).filter(|n| *n != role.name) {
        if new_name.is_empty() {
            return Err(AdminError::bad_request("Role name is missing"));
        }
        if is_builtin(realm, container, &role) {
            return Err(AdminError::bad_request(format!("The built-in role {} cannot be renamed", role.name)));
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
        Err(StoreError::Conflict(_)) => return Err(role_conflict(&role.name)),
        Ok(false) => return Err(AdminError::not_found(ROLE_NOT_FOUND)),
        other => other.map(|_| ())?,
    }
    ctx.changed(realm);
    let event = to_event_json(&role_representation(&role));
    ctx.record(&realm.id, Operation::Update, container.resource(), &container.path(&role.name), event).await;
    Ok(())
}

/// The container a stored role belongs to.
pub async fn container_of(ctx: &AdminContext<'_>, realm: &Realm, role: &Role) -> Result<Container, AdminError> {
    if role.client_role {
        Ok(Container::Client(client_of(ctx, realm, &role.container_id).await?))
    } else {
        Ok(Container::Realm)
    }
}

pub async fn update_in(
    ctx: &AdminContext<'_>,
    realm: &str,
    client_uuid: Option<&str>,
    name: &str,
    rep: RoleRepresentation,
) -> Result<(), AdminError> {
    let need = if client_uuid.is_some() { Permission::ManageClients } else { Permission::ManageRealm };
    let (realm, container) = container(ctx, realm, client_uuid, &[need]).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    let role = named(&all, &realm, &container, name)?.clone();
    update_role(ctx, &realm, &container, role, rep).await
}

pub async fn update(ctx: &AdminContext<'_>, realm: &str, name: &str, rep: RoleRepresentation) -> Result<(), AdminError> {
    update_in(ctx, realm, None, name, rep).await
}

/// Deletes a role with its mappings and its place in composites. Built-in roles stay.
pub async fn delete_role(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    container: &Container,
    role: &Role,
) -> Result<(), AdminError> {
    if is_builtin(realm, container, role) {
        return Err(AdminError::bad_request(format!("The built-in role {} cannot be deleted", role.name)));
    }
    if !ctx.store.delete_role(&realm.id, &role.id).await? {
        return Err(AdminError::not_found(ROLE_NOT_FOUND));
    }
    ctx.changed(realm);
    ctx.record(&realm.id, Operation::Delete, container.resource(), &container.path(&role.name), None).await;
    Ok(())
}

pub async fn delete_in(
    ctx: &AdminContext<'_>,
    realm: &str,
    client_uuid: Option<&str>,
    name: &str,
) -> Result<(), AdminError> {
    let need = if client_uuid.is_some() { Permission::ManageClients } else { Permission::ManageRealm };
    let (realm, container) = container(ctx, realm, client_uuid, &[need]).await?;
    let all = ctx.store.realm_roles(&realm.id).await?;
    let role = named(&all, &realm, &container, name)?;
    delete_role(ctx, &realm, &container, role).await
}

pub async fn delete(ctx: &AdminContext<'_>, realm: &str, name: &str) -> Result<(), AdminError> {
    delete_in(ctx, realm, None, name).await
}

/// The client (internal id) of the realm, or 404.
pub async fn client_of(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    client_uuid: &str,
) -> Result<crate::domain::Client, AdminError> {
    ctx.store
        .client_by_id(&realm.id, client_uuid)
        .await?
        .ok_or_else(|| AdminError::not_found("Could not find client"))
}

// The user role-mapping operations moved to `role_mappings`; these names stay for the handlers
// in `http::admin::users`.
pub use super::role_mappings::{
    change_user_client_roles, change_user_realm_roles, user_client_roles, user_mappings, user_realm_roles,
};
