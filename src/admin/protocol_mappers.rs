//! `.../client-scopes/{id}/protocol-mappers/...` and `.../clients/{id}/protocol-mappers/...`:
//! list, create (one, or several with `add-models`), read, update, delete and list by protocol,
//! for either container, with Keycloak's texts ("Model not found", "ProtocolMapper provider not
//! found", "Protocol mapper exists with same name"). Config is checked enough to refuse nonsense
//! (token switches that are not booleans, unknown `jsonType.label`); a type Portcullis does not
//! run is stored and shown but inert (Keycloak would refuse a type it has no provider for).

use super::client_scopes::{find, find_client, model};
use super::context::{Operation, Resource};
use super::representation::to_event_json;
use super::{AdminContext, AdminError, Permission};
use crate::domain::new_id;
use crate::domain::scopes::{MapperContainer, ProtocolMapper, OPENID_CONNECT};
use crate::domain::Realm;
use crate::realm::scope_representation::ProtocolMapperRepresentation;
use crate::store::StoreError;

const MODEL_NOT_FOUND: &str = "Model not found";
const EXISTS: &str = "Protocol mapper exists with same name";
/// Mappers one request may add (`add-models`), and a container may hold: bounded work.
pub const MAX_MAPPERS: usize = 200;

/// Which container a request names: a client scope or a client, by internal id.
#[derive(Debug, Clone, Copy)]
pub enum On<'a> {
    ClientScope(&'a str),
    Client(&'a str),
}

const SWITCHES: &[&str] = &[
    "access.token.claim",
    "id.token.claim",
    "userinfo.token.claim",
    "introspection.token.claim",
    "lightweight.claim",
    "multivalued",
    "aggregate.attrs",
    "full.path",
];
const JSON_TYPES: &[&str] = &["String", "long", "int", "boolean", "JSON"];

/// The mapper a representation describes, checked. `existing` gives the values an update keeps
/// when the body leaves them out.
pub fn checked_mapper(rep: &ProtocolMapperRepresentation, existing: Option<&ProtocolMapper>) -> Result<ProtocolMapper, AdminError> {
    let kind = rep.protocol_mapper.clone().or_else(|| existing.map(|m| m.protocol_mapper.clone()));
    let kind = kind.filter(|k| !k.trim().is_empty()).ok_or_else(|| AdminError::not_found("ProtocolMapper provider not found"))?;
    let name = rep.name.clone().or_else(|| existing.map(|m| m.name.clone()));
    let name = name.filter(|n| !n.trim().is_empty()).ok_or_else(|| AdminError::bad_request("Protocol mapper name is missing"))?;
    if name.len() > 255 || kind.len() > 255 {
        return Err(AdminError::bad_request("Protocol mapper name and type are at most 255 characters"));
    }
    let protocol = rep.protocol.clone().or_else(|| existing.map(|m| m.protocol.clone())).unwrap_or_else(|| OPENID_CONNECT.into());
    if protocol != OPENID_CONNECT && protocol != "saml" {
        return Err(AdminError::bad_request(format!("Unexpected protocol \"{protocol}\" for protocol mapper")));
    }
    let config = match &rep.config {
        Some(config) => config.clone(),
        None => existing.map(|m| m.config.clone()).unwrap_or_default(),
    };
    for key in SWITCHES {
        if let Some(value) = config.get(*key).filter(|v| !v.is_empty()) {
            if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") {
                return Err(AdminError::bad_request(format!("Invalid config {key}: {value:?} is not true or false")));
            }
        }
    }
    if let Some(json_type) = config.get("jsonType.label").filter(|v| !v.is_empty()) {
        if !JSON_TYPES.contains(&json_type.as_str()) {
            return Err(AdminError::bad_request(format!(
                "Invalid config jsonType.label: {json_type:?} is not one of {}",
                JSON_TYPES.join(", ")
            )));
        }
    }
    let id = existing.map(|m| m.id.clone()).or_else(|| rep.id.clone().filter(|i| !i.trim().is_empty())).unwrap_or_else(new_id);
    Ok(ProtocolMapper { id, name, protocol, protocol_mapper: kind, config })
}

/// The realm (after the permission check), the container and its mappers.
async fn container(ctx: &AdminContext<'_>, realm: &str, on: On<'_>, need: Permission) -> Result<(Realm, MapperContainer, Vec<ProtocolMapper>), AdminError> {
    let realm = ctx.realm(realm, need).await?;
    let scopes = model(ctx, &realm).await?;
    let (container, mappers) = match on {
        On::ClientScope(id) => (MapperContainer::ClientScope(id.to_string()), find(&scopes, id)?.mappers.clone()),
        On::Client(id) => {
            let client = find_client(ctx, &realm, id).await?;
            let mappers = scopes.client_mappers.iter().filter(|(c, _)| *c == client.id).map(|(_, m)| m.clone()).collect();
            (MapperContainer::Client(client.id), mappers)
        }
    };
    Ok((realm, container, mappers))
}

fn path(container: &MapperContainer, id: &str) -> String {
    match container {
        MapperContainer::ClientScope(scope) => format!("client-scopes/{scope}/protocol-mappers/models/{id}"),
        MapperContainer::Client(client) => format!("clients/{client}/protocol-mappers/models/{id}"),
    }
}

/// `GET .../protocol-mappers/models`, or with `protocol` only those of that protocol.
pub async fn list(ctx: &AdminContext<'_>, realm: &str, on: On<'_>, protocol: Option<&str>) -> Result<Vec<ProtocolMapperRepresentation>, AdminError> {
    let (_, _, mappers) = container(ctx, realm, on, Permission::ViewClients).await?;
    Ok(mappers
        .iter()
        .filter(|m| protocol.is_none_or(|p| m.protocol == p))
        .map(ProtocolMapperRepresentation::from_mapper)
        .collect())
}

pub async fn get(ctx: &AdminContext<'_>, realm: &str, on: On<'_>, id: &str) -> Result<ProtocolMapperRepresentation, AdminError> {
    let (_, _, mappers) = container(ctx, realm, on, Permission::ViewClients).await?;
    mappers.iter().find(|m| m.id == id).map(ProtocolMapperRepresentation::from_mapper).ok_or_else(|| AdminError::not_found(MODEL_NOT_FOUND))
}

/// `POST .../protocol-mappers/models` (one) or `.../add-models` (several, all or none).
/// Returns the new mappers' ids.
pub async fn create(ctx: &AdminContext<'_>, realm: &str, on: On<'_>, reps: &[ProtocolMapperRepresentation]) -> Result<Vec<String>, AdminError> {
    let (realm, container, existing) = container(ctx, realm, on, Permission::ManageClients).await?;
    if reps.len() + existing.len() > MAX_MAPPERS {
        return Err(AdminError::bad_request(format!("A client or client scope holds at most {MAX_MAPPERS} protocol mappers")));
    }
    let mut mappers: Vec<ProtocolMapper> = Vec::with_capacity(reps.len());
    for rep in reps {
        let mapper = checked_mapper(rep, None)?;
        if existing.iter().chain(&mappers).any(|m| m.name == mapper.name) {
            return Err(AdminError::conflict(EXISTS));
        }
        mappers.push(mapper);
    }
    match ctx.store.add_mappers(&realm.id, &container, &mappers).await {
        Err(StoreError::Conflict(_)) => return Err(AdminError::conflict(EXISTS)),
        other => other?,
    }
    ctx.changed(&realm);
    for mapper in &mappers {
        let event = to_event_json(&ProtocolMapperRepresentation::from_mapper(mapper));
        ctx.record(&realm.id, Operation::Create, Resource::ProtocolMapper, &path(&container, &mapper.id), event).await;
    }
    Ok(mappers.into_iter().map(|m| m.id).collect())
}

/// `PUT .../protocol-mappers/models/{id}`: the fields present in the body replace the stored
/// ones (a `config` replaces the whole config).
pub async fn update(ctx: &AdminContext<'_>, realm: &str, on: On<'_>, id: &str, rep: &ProtocolMapperRepresentation) -> Result<(), AdminError> {
    let (realm, container, existing) = container(ctx, realm, on, Permission::ManageClients).await?;
    let current = existing.iter().find(|m| m.id == id).ok_or_else(|| AdminError::not_found(MODEL_NOT_FOUND))?;
    let mapper = checked_mapper(rep, Some(current))?;
    if existing.iter().any(|m| m.name == mapper.name && m.id != mapper.id) {
        return Err(AdminError::conflict(EXISTS));
    }
    match ctx.store.update_mapper(&realm.id, &container, &mapper).await {
        Err(StoreError::Conflict(_)) => return Err(AdminError::conflict(EXISTS)),
        Ok(false) => return Err(AdminError::not_found(MODEL_NOT_FOUND)),
        other => other.map(|_| ())?,
    }
    ctx.changed(&realm);
    let event = to_event_json(&ProtocolMapperRepresentation::from_mapper(&mapper));
    ctx.record(&realm.id, Operation::Update, Resource::ProtocolMapper, &path(&container, id), event).await;
    Ok(())
}

pub async fn delete(ctx: &AdminContext<'_>, realm: &str, on: On<'_>, id: &str) -> Result<(), AdminError> {
    let (realm, container, _) = container(ctx, realm, on, Permission::ManageClients).await?;
    if !ctx.store.delete_mapper(&realm.id, &container, id).await? {
        return Err(AdminError::not_found(MODEL_NOT_FOUND));
    }
    ctx.changed(&realm);
    ctx.record(&realm.id, Operation::Delete, Resource::ProtocolMapper, &path(&container, id), None).await;
    Ok(())
}
