//! `/admin/realms/{realm}/client-scopes` (CRUD), the realm's `default-default-client-scopes` and
//! `default-optional-client-scopes`, and a client's `default-client-scopes` and
//! `optional-client-scopes`, with Keycloak's texts and status codes. Every change drops the
//! realm cache, which compiles scopes into each client's token shape. Also the hook client
//! creation calls (`link_new_client`): the realm defaults, or the scopes the body names.

use super::context::{Operation, Resource};
use super::protocol_mappers::{checked_mapper, MAX_MAPPERS};
use super::representation::to_event_json;
use super::{AdminContext, AdminError, Permission};
use crate::domain::scopes::{ClientScope, MapperContainer, RealmScopes, OPENID_CONNECT};
use crate::domain::{new_id, Client, Realm};
use crate::realm::scope_representation::{ClientScopeRepresentation, ProtocolMapperRepresentation};
use crate::store::StoreError;

pub const SCOPE_NOT_FOUND: &str = "Could not find client scope";
/// What Keycloak answers for an unknown scope id on the default-scope endpoints.
const LINKED_SCOPE_NOT_FOUND: &str = "Client scope not found";
const CLIENT_NOT_FOUND: &str = "Could not find client";

/// Keycloak's `ClientScopeResource.validateClientScopeName` character set.
fn valid_scope_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-.^_`|~:/".contains(c))
}

fn check_name(name: Option<&str>) -> Result<String, AdminError> {
    match name {
        Some(name) if valid_scope_name(name) => Ok(name.to_string()),
        other => Err(AdminError::bad_request(format!(
            "Unexpected name \"{}\" for ClientScope",
            other.unwrap_or("null")
        ))),
    }
}

fn check_protocol(protocol: &str) -> Result<(), AdminError> {
    match protocol {
        OPENID_CONNECT | "saml" => Ok(()),
        other => Err(AdminError::bad_request(format!("Unexpected protocol \"{other}\" for ClientScope"))),
    }
}

fn conflict(name: &str) -> AdminError {
    AdminError::conflict(format!("Client Scope {name} already exists"))
}

fn check_mapper_count<T>(mappers: Option<&[T]>) -> Result<(), AdminError> {
    if mappers.map_or(0, <[T]>::len) > MAX_MAPPERS {
        return Err(AdminError::bad_request(format!("A client or client scope holds at most {MAX_MAPPERS} protocol mappers")));
    }
    Ok(())
}

/// The realm's scope model, read for one admin request.
pub async fn model(ctx: &AdminContext<'_>, realm: &Realm) -> Result<RealmScopes, AdminError> {
    Ok(ctx.store.realm_scopes(&realm.id).await?)
}

pub fn find<'a>(scopes: &'a RealmScopes, id: &str) -> Result<&'a ClientScope, AdminError> {
    scopes.client_scopes.iter().find(|s| s.id == id).ok_or_else(|| AdminError::not_found(SCOPE_NOT_FOUND))
}

pub async fn find_client(ctx: &AdminContext<'_>, realm: &Realm, id: &str) -> Result<Client, AdminError> {
    ctx.store.client_by_id(&realm.id, id).await?.ok_or_else(|| AdminError::not_found(CLIENT_NOT_FOUND))
}

/// `GET .../client-scopes`, by name.
pub async fn list(ctx: &AdminContext<'_>, realm: &str) -> Result<Vec<ClientScopeRepresentation>, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewClients).await?;
    Ok(model(ctx, &realm).await?.client_scopes.iter().map(ClientScopeRepresentation::from_scope).collect())
}

pub async fn get(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<ClientScopeRepresentation, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewClients).await?;
    Ok(ClientScopeRepresentation::from_scope(find(&model(ctx, &realm).await?, id)?))
}

/// `POST .../client-scopes`: returns the new scope's id. Mappers in the body are created with it.
pub async fn create(ctx: &AdminContext<'_>, realm: &str, rep: ClientScopeRepresentation) -> Result<String, AdminError> {
    let realm = ctx.realm(realm, Permission::ManageClients).await?;
    let name = check_name(rep.name.as_deref())?;
    let protocol = rep.protocol.clone().unwrap_or_else(|| OPENID_CONNECT.into());
    check_protocol(&protocol)?;
    let scopes = model(ctx, &realm).await?;
    if scopes.client_scopes.iter().any(|s| s.name == name) {
        return Err(conflict(&name));
    }
    let id = rep.id.clone().filter(|id| !id.trim().is_empty()).unwrap_or_else(new_id);
    if scopes.client_scopes.iter().any(|s| s.id == id) {
        return Err(conflict(&name));
    }
    let mut mappers = Vec::new();
    check_mapper_count(rep.protocol_mappers.as_deref())?;
    for m in rep.protocol_mappers.iter().flatten() {
        let mapper = checked_mapper(m, None)?;
        if mappers.iter().any(|x: &crate::domain::scopes::ProtocolMapper| x.name == mapper.name) {
            return Err(AdminError::conflict("Protocol mapper exists with same name"));
        }
        mappers.push(mapper);
    }
    let scope = ClientScope {
        id,
        realm_id: realm.id.clone(),
        name,
        description: rep.description.clone(),
        protocol,
        attributes: rep.attributes.clone().unwrap_or_default(),
        mappers,
    };
    match ctx.store.create_client_scope(&scope).await {
        Err(StoreError::Conflict(_)) => return Err(conflict(&scope.name)),
        other => other?,
    }
    ctx.changed(&realm);
    let event = to_event_json(&ClientScopeRepresentation::from_scope(&scope));
    ctx.record(&realm.id, Operation::Create, Resource::ClientScope, &format!("client-scopes/{}", scope.id), event).await;
    Ok(scope.id)
}

/// `PUT .../client-scopes/{id}`: name, description, protocol and attributes present in the body
/// (attributes merged; an empty value removes one). Mappers have their own endpoints.
pub async fn update(ctx: &AdminContext<'_>, realm: &str, id: &str, rep: ClientScopeRepresentation) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageClients).await?;
    let scopes = model(ctx, &realm).await?;
    let mut scope = find(&scopes, id)?.clone();
    if let Some(name) = rep.name.as_deref() {
        let name = check_name(Some(name))?;
        if scopes.client_scopes.iter().any(|s| s.name == name && s.id != scope.id) {
            return Err(conflict(&name));
        }
        scope.name = name;
    }
    if rep.description.is_some() {
        scope.description = rep.description.clone();
    }
    if let Some(protocol) = &rep.protocol {
        check_protocol(protocol)?;
        scope.protocol = protocol.clone();
    }
    for (key, value) in rep.attributes.iter().flatten() {
        if value.is_empty() {
            scope.attributes.remove(key);
        } else {
            scope.attributes.insert(key.clone(), value.clone());
        }
    }
    match ctx.store.update_client_scope(&scope).await {
        Err(StoreError::Conflict(_)) => return Err(conflict(&scope.name)),
        Ok(false) => return Err(AdminError::not_found(SCOPE_NOT_FOUND)),
        other => other.map(|_| ())?,
    }
    ctx.changed(&realm);
    let event = to_event_json(&ClientScopeRepresentation::from_scope(&scope));
    ctx.record(&realm.id, Operation::Update, Resource::ClientScope, &format!("client-scopes/{}", scope.id), event).await;
    Ok(())
}

/// `DELETE .../client-scopes/{id}`: with its mappers, and out of every default list and client.
pub async fn delete(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageClients).await?;
    if !ctx.store.delete_client_scope(&realm.id, id).await? {
        return Err(AdminError::not_found(SCOPE_NOT_FOUND));
    }
    ctx.changed(&realm);
    ctx.record(&realm.id, Operation::Delete, Resource::ClientScope, &format!("client-scopes/{id}"), None).await;
    Ok(())
}

/// What the default-scope listings show of a scope: its id and name (as Keycloak does).
fn brief(scope: &ClientScope) -> ClientScopeRepresentation {
    ClientScopeRepresentation { id: Some(scope.id.clone()), name: Some(scope.name.clone()), ..Default::default() }
}

/// `GET .../default-default-client-scopes` (`default`) or `.../default-optional-client-scopes`.
pub async fn realm_defaults(ctx: &AdminContext<'_>, realm: &str, default: bool) -> Result<Vec<ClientScopeRepresentation>, AdminError> {
    let realm = ctx.realm_any(realm, &[Permission::ViewRealm, Permission::ViewClients]).await?;
    let scopes = model(ctx, &realm).await?;
    Ok(scopes
        .realm_defaults
        .iter()
        .filter(|(_, d)| *d == default)
        .filter_map(|(id, _)| scopes.client_scopes.iter().find(|s| &s.id == id))
        .map(brief)
        .collect())
}

/// `PUT` (`kind` Some) or `DELETE` (None) `.../default-{default,optional}-client-scopes/{id}`.
pub async fn set_realm_default(ctx: &AdminContext<'_>, realm: &str, id: &str, kind: Option<bool>) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageRealm).await?;
    let scopes = model(ctx, &realm).await?;
    if !scopes.client_scopes.iter().any(|s| s.id == id) {
        return Err(AdminError::not_found(LINKED_SCOPE_NOT_FOUND));
    }
    ctx.store.set_realm_default(&realm.id, id, kind).await?;
    ctx.changed(&realm);
    let list = match kind {
        Some(false) => "default-optional-client-scopes",
        _ => "default-default-client-scopes",
    };
    let operation = if kind.is_some() { Operation::Create } else { Operation::Delete };
    ctx.record(&realm.id, operation, Resource::ClientScope, &format!("{list}/{id}"), None).await;
    Ok(())
}

/// `GET .../clients/{id}/default-client-scopes` (`default`) or `.../optional-client-scopes`.
pub async fn client_links(ctx: &AdminContext<'_>, realm: &str, client: &str, default: bool) -> Result<Vec<ClientScopeRepresentation>, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewClients).await?;
    let client = find_client(ctx, &realm, client).await?;
    let scopes = model(ctx, &realm).await?;
    Ok(scopes
        .client_links
        .iter()
        .filter(|l| l.client_id == client.id && l.default_scope == default)
        .filter_map(|l| scopes.client_scopes.iter().find(|s| s.id == l.scope_id))
        .map(brief)
        .collect())
}

/// `PUT` (`kind` Some) or `DELETE` (None) `.../clients/{id}/{default,optional}-client-scopes/{scope}`.
pub async fn set_client_link(
    ctx: &AdminContext<'_>,
    realm: &str,
    client: &str,
    scope: &str,
    kind: Option<bool>,
) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageClients).await?;
    let client = find_client(ctx, &realm, client).await?;
    let scopes = model(ctx, &realm).await?;
    let found = scopes.client_scopes.iter().find(|s| s.id == scope).ok_or_else(|| AdminError::not_found(LINKED_SCOPE_NOT_FOUND))?;
    if kind.is_some() && found.protocol != OPENID_CONNECT {
        return Err(AdminError::bad_request("Client scope has different protocol than client"));
    }
    ctx.store.set_client_link(&realm.id, &client.id, scope, kind).await?;
    ctx.changed(&realm);
    let list = if kind == Some(false) { "optional-client-scopes" } else { "default-client-scopes" };
    let operation = if kind.is_some() { Operation::Create } else { Operation::Delete };
    let path = format!("clients/{}/{list}/{scope}", client.id);
    ctx.record(&realm.id, operation, Resource::ClientScope, &path, None).await;
    Ok(())
}

/// Fills in what Keycloak's ClientRepresentation shows of a client's scopes: the names of its
/// `defaultClientScopes` and `optionalClientScopes`, and its `protocolMappers` (when it has some).
pub async fn with_scopes(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    mut views: Vec<super::representation::ClientView>,
) -> Result<Vec<super::representation::ClientView>, AdminError> {
    let scopes = model(ctx, realm).await?;
    for view in &mut views {
        let Some(id) = view.client.id.clone() else { continue };
        let names = |default: bool| -> Vec<String> {
            scopes
                .client_links
                .iter()
                .filter(|l| l.client_id == id && l.default_scope == default)
                .filter_map(|l| scopes.client_scopes.iter().find(|s| s.id == l.scope_id))
                .map(|s| s.name.clone())
                .collect()
        };
        view.client.default_client_scopes = Some(names(true));
        view.client.optional_client_scopes = Some(names(false));
        let mappers: Vec<ProtocolMapperRepresentation> = scopes
            .client_mappers
            .iter()
            .filter(|(c, _)| *c == id)
            .map(|(_, m)| ProtocolMapperRepresentation::from_mapper(m))
            .collect();
        view.client.protocol_mappers = (!mappers.is_empty()).then_some(mappers);
    }
    Ok(views)
}

/// Called once a client is updated, as Keycloak's `updateClientScopes` and
/// `updateClientProtocolMappers` do: when the body has `defaultClientScopes` or
/// `optionalClientScopes`, the client's links become exactly those (unknown names skipped); when it
/// has `protocolMappers`, mappers are matched by protocol and name, updated or added, and the
/// client's other mappers deleted. Check the body with `check_new_client` before the update.
pub async fn apply_client_update(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    client: &Client,
    rep: &crate::realm::representation::ClientRepresentation,
) -> Result<(), AdminError> {
    let scopes = model(ctx, realm).await?;
    if rep.default_client_scopes.is_some() || rep.optional_client_scopes.is_some() {
        let mut desired: Vec<(String, bool)> = Vec::new();
        for (names, default) in [(&rep.optional_client_scopes, false), (&rep.default_client_scopes, true)] {
            for name in names.iter().flatten() {
                match scopes.client_scopes.iter().find(|s| &s.name == name && s.protocol == OPENID_CONNECT) {
                    Some(scope) => {
                        desired.retain(|(id, _)| *id != scope.id);
                        desired.push((scope.id.clone(), default));
                    }
                    None => tracing::info!(client = %client.client_id, scope = %name, "unknown client scope named in a client update; skipped"),
                }
            }
        }
        for link in scopes.client_links.iter().filter(|l| l.client_id == client.id) {
            if !desired.contains(&(link.scope_id.clone(), link.default_scope)) {
                ctx.store.set_client_link(&realm.id, &client.id, &link.scope_id, None).await?;
            }
        }
        for (scope_id, default) in desired {
            ctx.store.set_client_link(&realm.id, &client.id, &scope_id, Some(default)).await?;
        }
    }
    if let Some(reps) = &rep.protocol_mappers {
        let container = MapperContainer::Client(client.id.clone());
        let existing: Vec<&crate::domain::scopes::ProtocolMapper> =
            scopes.client_mappers.iter().filter(|(c, _)| *c == client.id).map(|(_, m)| m).collect();
        let mut kept = Vec::new();
        let mut added = Vec::new();
        for m in reps {
            let wanted = checked_mapper(m, None)?;
            match existing.iter().find(|e| e.protocol == wanted.protocol && e.name == wanted.name) {
                Some(current) => {
                    let updated = crate::domain::scopes::ProtocolMapper { id: current.id.clone(), ..wanted };
                    ctx.store.update_mapper(&realm.id, &container, &updated).await?;
                    kept.push(current.id.clone());
                }
                None => added.push(wanted),
            }
        }
        for gone in existing.iter().filter(|e| !kept.contains(&e.id)) {
            ctx.store.delete_mapper(&realm.id, &container, &gone.id).await?;
        }
        match ctx.store.add_mappers(&realm.id, &container, &added).await {
            Err(StoreError::Conflict(_)) => return Err(AdminError::conflict("Protocol mapper exists with same name")),
            other => other?,
        }
    }
    ctx.changed(realm);
    Ok(())
}

/// Refuses, before a client is created or updated, `protocolMappers` in its representation that
/// `link_new_client` or `apply_client_update` would refuse.
pub fn check_new_client(rep: &crate::realm::representation::ClientRepresentation) -> Result<(), AdminError> {
    check_mapper_count(rep.protocol_mappers.as_deref())?;
    let mut names = std::collections::HashSet::new();
    for m in rep.protocol_mappers.iter().flatten() {
        if !names.insert(checked_mapper(m, None)?.name) {
            return Err(AdminError::conflict("Protocol mapper exists with same name"));
        }
    }
    Ok(())
}

/// Called once a client is created: the scopes its representation names (`defaultClientScopes`,
/// `optionalClientScopes`; unknown names are skipped, as Keycloak skips them), or else the
/// realm's default scopes; and the mappers of its `protocolMappers`, refused with a 400 before
/// anything is written when one is nonsense.
pub async fn link_new_client(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    client: &Client,
    rep: &crate::realm::representation::ClientRepresentation,
) -> Result<(), AdminError> {
    let mut mappers = Vec::new();
    for m in rep.protocol_mappers.iter().flatten() {
        mappers.push(checked_mapper(m, None)?);
    }
    if rep.default_client_scopes.is_none() && rep.optional_client_scopes.is_none() {
        ctx.store.link_realm_defaults(&realm.id, &client.id, OPENID_CONNECT).await?;
    } else {
        let scopes = model(ctx, realm).await?;
        for (names, default) in [(&rep.default_client_scopes, true), (&rep.optional_client_scopes, false)] {
            for name in names.iter().flatten() {
                match scopes.client_scopes.iter().find(|s| &s.name == name && s.protocol == OPENID_CONNECT) {
                    Some(scope) => ctx.store.set_client_link(&realm.id, &client.id, &scope.id, Some(default)).await?,
                    None => tracing::info!(client = %client.client_id, scope = %name, "unknown client scope named at client creation; skipped"),
                }
            }
        }
    }
    if !mappers.is_empty() {
        match ctx.store.add_mappers(&realm.id, &MapperContainer::Client(client.id.clone()), &mappers).await {
            Err(StoreError::Conflict(_)) => return Err(AdminError::conflict("Protocol mapper exists with same name")),
            other => other?,
        }
    }
    ctx.changed(realm);
    Ok(())
}
