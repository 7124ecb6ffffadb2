//! A role's composites and members, whichever way the role is addressed: by name in the realm
//! (`roles/{name}/...`), by name in a client (`clients/{id}/roles/{name}/...`) or by id
//! (`roles-by-id/{id}/...`, which also reads, updates and deletes the role itself). Keycloak's
//! texts: 404 "Could not find role", and "Could not find composite role" for a body naming none.

use super::context::Operation;
use super::representation::{role_representation, to_event_json, user_representation, UserView};
use super::roles::{container, container_of, delete_role, named, update_role, Container, READ_ROLES};
use super::{AdminContext, AdminError, Page, Permission};
use crate::domain::{Realm, Role};
use crate::realm::representation::RoleRepresentation;

/// How a request names a role.
#[derive(Debug, Clone, Copy)]
pub enum RoleRef<'a> {
    /// A realm role (`client` none) or a client's role (by the client's internal id), by name.
    Named { client: Option<&'a str>, name: &'a str },
    Id(&'a str),
}

/// Which of a role's composites to list.
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    All,
    Realm,
    /// The roles of this client (internal id).
    Client(&'a str),
}

/// Everything a role operation needs: the realm, the role's container, the role, and every role
/// of the realm (composites and grant checks look across them).
struct Located {
    realm: Realm,
    container: Container,
    role: Role,
    all: Vec<Role>,
}

async fn locate(
    ctx: &AdminContext<'_>,
    realm: &str,
    role: RoleRef<'_>,
    write: bool,
) -> Result<Located, AdminError> {
    match role {
        RoleRef::Named { client, name } => {
            let need = match (write, client) {
                (false, _) => READ_ROLES,
                (true, None) => &[Permission::ManageRealm],
                (true, Some(_)) => &[Permission::ManageClients],
            };
            let (realm, container) = container(ctx, realm, client, need).await?;
            let all = ctx.store.realm_roles(&realm.id).await?;
            let role = named(&all, &realm, &container, name)?.clone();
            Ok(Located { realm, container, role, all })
        }
        RoleRef::Id(id) => {
            let realm = ctx.realm_any(realm, READ_ROLES).await?;
            let all = ctx.store.realm_roles(&realm.id).await?;
            // Keycloak's RoleByIdResource text
            let role = all.iter().find(|r| r.id == id).cloned().ok_or_else(|| AdminError::not_found("Could not find role with id"))?;
            let container = container_of(ctx, &realm, &role).await?;
            if write {
                ctx.caller.require(&realm.name, container.manage())?;
            }
            Ok(Located { realm, container, role, all })
        }
    }
}

/// `GET roles-by-id/{id}`.
pub async fn get_by_id(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<RoleRepresentation, AdminError> {
    Ok(role_representation(&locate(ctx, realm, RoleRef::Id(id), false).await?.role))
}

/// `PUT roles-by-id/{id}`.
pub async fn update_by_id(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    rep: RoleRepresentation,
) -> Result<(), AdminError> {
    let found = locate(ctx, realm, RoleRef::Id(id), true).await?;
    update_role(ctx, &found.realm, &found.container, found.role, rep).await
}

/// `DELETE roles-by-id/{id}`.
pub async fn delete_by_id(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<(), AdminError> {
    let found = locate(ctx, realm, RoleRef::Id(id), true).await?;
    delete_role(ctx, &found.realm, &found.container, &found.role).await
}

/// `GET .../composites`, `.../composites/realm`, `.../composites/clients/{client}`: the roles the
/// role includes directly, by name.
pub async fn composites(
    ctx: &AdminContext<'_>,
    realm: &str,
    role: RoleRef<'_>,
    which: Which<'_>,
) -> Result<Vec<RoleRepresentation>, AdminError> {
    let found = locate(ctx, realm, role, false).await?;
    if let Which::Client(client) = which {
        super::roles::client_of(ctx, &found.realm, client).await?;
    }
    let mut included: Vec<&Role> = found
        .all
        .iter()
        .filter(|r| found.role.composites.contains(&r.id))
        .filter(|r| match which {
            Which::All => true,
            Which::Realm => !r.client_role,
            Which::Client(client) => r.client_role && r.container_id == client,
        })
        .collect();
    included.sort_by(|a, b| (a.client_role, &a.container_id, &a.name).cmp(&(b.client_role, &b.container_id, &b.name)));
    Ok(included.into_iter().map(role_representation).collect())
}

/// `POST` (add) or `DELETE` (remove) `.../composites` with a list of roles, each found by id (as
/// Keycloak) or, for a realm role, by name. Admin roles only by callers who hold them.
pub async fn change_composites(
    ctx: &AdminContext<'_>,
    realm: &str,
    role: RoleRef<'_>,
    reps: Vec<RoleRepresentation>,
    add: bool,
) -> Result<(), AdminError> {
    let found = locate(ctx, realm, role, true).await?;
    let mut chosen: Vec<&Role> = Vec::with_capacity(reps.len());
    for rep in &reps {
        let by_id = rep.id.as_ref().and_then(|id| found.all.iter().find(|r| &r.id == id));
        let by_name = || rep.name.as_ref().and_then(|n| found.all.iter().find(|r| !r.client_role && &r.name == n));
        let role = by_id.or_else(by_name).ok_or_else(|| AdminError::not_found("Could not find composite role"))?;
        if add && role.id == found.role.id {
            return Err(AdminError::bad_request("A role cannot include itself"));
        }
        chosen.push(role);
    }
    if add {
        ctx.check_grantable(&found.realm, &ctx.clients(&found.realm).await?, &found.all, &chosen)?;
    }
    let ids: Vec<String> = chosen.iter().map(|r| r.id.clone()).collect();
    if add {
        ctx.store.add_role_composites(&found.role.id, &ids).await?;
    } else {
        ctx.store.remove_role_composites(&found.role.id, &ids).await?;
    }
    ctx.changed(&found.realm);
    let path = format!("{}/composites", found.container.path(&found.role.name));
    let operation = if add { Operation::Create } else { Operation::Delete };
    let event = to_event_json(&chosen.iter().map(|r| role_representation(r)).collect::<Vec<_>>());
    ctx.record(&found.realm.id, operation, found.container.resource(), &path, event).await;
    Ok(())
}

/// `GET roles/{name}/users` and `clients/{id}/roles/{name}/users`: users mapped directly to the
/// role, by username, paged (Keycloak's default `max` is 100).
pub async fn users_in_role(
    ctx: &AdminContext<'_>,
    realm: &str,
    role: RoleRef<'_>,
    page: Page,
) -> Result<Vec<UserView>, AdminError> {
    let found = locate(ctx, realm, role, false).await?;
    ctx.caller.require_any(&found.realm.name, &[Permission::ViewUsers])?;
    let max = if page.max < 0 { super::DEFAULT_MAX_RESULTS } else { page.max.min(1000) };
    let ids = ctx.store.users_in_role(&found.realm.id, &found.role.id, page.first, max).await?;
    let clients = ctx.clients(&found.realm).await?;
    let mut users = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(user) = ctx.store.user_by_id(&found.realm.id, &id).await? {
            users.push(user_representation(&user, &clients));
        }
    }
    Ok(users)
}
