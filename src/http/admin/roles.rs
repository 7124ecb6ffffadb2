//! `/admin/realms/{realm}/roles/...`, `.../clients/{id}/roles/...` and `.../roles-by-id/...`:
//! roles, their composites and their users. A role is named by a [`RoleRef`]: each route turns
//! its path into one and calls the same domain function. Role bodies are Keycloak's
//! RoleRepresentation, refused with "Unrecognized field" for a field Keycloak does not have.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use super::extract::{created, no_content, Admin, KnownFields, Params, Strict};
use crate::admin::role_composites::{self as composites, RoleRef, Which};
use crate::admin::{roles, AdminError};
use crate::app::AppState;
use crate::realm::representation::RoleRepresentation;

impl KnownFields for RoleRepresentation {
    const CLASS: &'static str = "org.keycloak.representations.idm.RoleRepresentation";
    /// `scopeParamRequired` is deprecated and without effect in Keycloak; `composite`,
    /// `clientRole` and `containerId` are what a GET shows; `composites` is read on create only
    /// (a PUT changes none, as in Keycloak: `.../composites` does).
    const FIELDS: &'static [&'static str] = &[
        "id", "name", "description", "scopeParamRequired", "composite", "composites", "clientRole", "containerId",
        "attributes",
    ];

    fn unknown_field(object: &Map<String, Value>) -> Option<(String, &'static str)> {
        const COMPOSITES: &str = "org.keycloak.representations.idm.RoleRepresentation$Composites";
        let own = object.keys().find(|k| !Self::FIELDS.contains(&k.as_str())).map(|k| (k.clone(), Self::CLASS));
        own.or_else(|| {
            let composites = object.get("composites").and_then(Value::as_object)?;
            // `application` is Keycloak's deprecated name for `client`, read by neither.
            let known = ["realm", "client", "application"];
            composites.keys().find(|k| !known.contains(&k.as_str())).map(|k| (k.clone(), COMPOSITES))
        })
    }
}

fn brief(params: &Params, default: bool) -> Result<bool, AdminError> {
    Ok(params.bool("briefRepresentation")?.unwrap_or(default))
}

async fn list_in(state: &AppState, admin: &Admin, realm: &str, client: Option<&str>, params: &Params) -> Result<Response, AdminError> {
    let search = params.get("search");
    let found = roles::list_in(&admin.ctx(state), realm, client, search.as_deref(), params.page()?, brief(params, true)?).await?;
    Ok(Json(found).into_response())
}

pub async fn list(State(state): State<AppState>, admin: Admin, Path(realm): Path<String>, params: Params) -> Result<Response, AdminError> {
    list_in(&state, &admin, &realm, None, &params).await
}

pub async fn client_list(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, client)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    list_in(&state, &admin, &realm, Some(&client), &params).await
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Strict(rep): Strict<RoleRepresentation>,
) -> Result<Response, AdminError> {
    let name = roles::create(&admin.ctx(&state), &realm, rep).await?;
    Ok(created(&admin.location(&[&realm, "roles", &name])))
}

pub async fn client_create(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, client)): Path<(String, String)>,
    Strict(rep): Strict<RoleRepresentation>,
) -> Result<Response, AdminError> {
    let name = roles::create_in(&admin.ctx(&state), &realm, Some(&client), rep).await?;
    Ok(created(&admin.location(&[&realm, "clients", &client, "roles", &name])))
}

pub async fn get(State(state): State<AppState>, admin: Admin, Path((realm, name)): Path<(String, String)>) -> Result<Response, AdminError> {
    Ok(Json(roles::get(&admin.ctx(&state), &realm, &name).await?).into_response())
}

pub async fn client_get(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, client, name)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(roles::get_in(&admin.ctx(&state), &realm, Some(&client), &name).await?).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, name)): Path<(String, String)>,
    Strict(rep): Strict<RoleRepresentation>,
) -> Result<Response, AdminError> {
    roles::update(&admin.ctx(&state), &realm, &name, rep).await?;
    Ok(no_content())
}

pub async fn client_update(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, client, name)): Path<(String, String, String)>,
    Strict(rep): Strict<RoleRepresentation>,
) -> Result<Response, AdminError> {
    roles::update_in(&admin.ctx(&state), &realm, Some(&client), &name, rep).await?;
    Ok(no_content())
}

pub async fn delete(State(state): State<AppState>, admin: Admin, Path((realm, name)): Path<(String, String)>) -> Result<Response, AdminError> {
    roles::delete(&admin.ctx(&state), &realm, &name).await?;
    Ok(no_content())
}

pub async fn client_delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, client, name)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    roles::delete_in(&admin.ctx(&state), &realm, Some(&client), &name).await?;
    Ok(no_content())
}

pub async fn by_id_get(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>) -> Result<Response, AdminError> {
    Ok(Json(composites::get_by_id(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn by_id_update(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Strict(rep): Strict<RoleRepresentation>,
) -> Result<Response, AdminError> {
    composites::update_by_id(&admin.ctx(&state), &realm, &id, rep).await?;
    Ok(no_content())
}

pub async fn by_id_delete(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>) -> Result<Response, AdminError> {
    composites::delete_by_id(&admin.ctx(&state), &realm, &id).await?;
    Ok(no_content())
}

async fn list_composites(state: &AppState, admin: &Admin, realm: &str, role: RoleRef<'_>, which: Which<'_>) -> Result<Response, AdminError> {
    Ok(Json(composites::composites(&admin.ctx(state), realm, role, which).await?).into_response())
}

async fn change(state: &AppState, admin: &Admin, realm: &str, role: RoleRef<'_>, reps: Vec<RoleRepresentation>, add: bool) -> Result<Response, AdminError> {
    composites::change_composites(&admin.ctx(state), realm, role, reps, add).await?;
    Ok(no_content())
}

fn realm_role(name: &str) -> RoleRef<'_> {
    RoleRef::Named { client: None, name }
}

fn client_role<'a>(client: &'a str, name: &'a str) -> RoleRef<'a> {
    RoleRef::Named { client: Some(client), name }
}

pub async fn composites_get(State(state): State<AppState>, admin: Admin, Path((realm, name)): Path<(String, String)>) -> Result<Response, AdminError> {
    list_composites(&state, &admin, &realm, realm_role(&name), Which::All).await
}

pub async fn composites_realm(State(state): State<AppState>, admin: Admin, Path((realm, name)): Path<(String, String)>) -> Result<Response, AdminError> {
    list_composites(&state, &admin, &realm, realm_role(&name), Which::Realm).await
}

pub async fn composites_client(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, name, of)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    list_composites(&state, &admin, &realm, realm_role(&name), Which::Client(&of)).await
}

pub async fn composites_add(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, name)): Path<(String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    change(&state, &admin, &realm, realm_role(&name), reps, true).await
}

pub async fn composites_remove(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, name)): Path<(String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    change(&state, &admin, &realm, realm_role(&name), reps, false).await
}

pub async fn client_composites_get(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, client, name)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    list_composites(&state, &admin, &realm, client_role(&client, &name), Which::All).await
}

pub async fn client_composites_realm(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, client, name)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    list_composites(&state, &admin, &realm, client_role(&client, &name), Which::Realm).await
}

pub async fn client_composites_client(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, client, name, of)): Path<(String, String, String, String)>,
) -> Result<Response, AdminError> {
    list_composites(&state, &admin, &realm, client_role(&client, &name), Which::Client(&of)).await
}

pub async fn client_composites_add(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, client, name)): Path<(String, String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    change(&state, &admin, &realm, client_role(&client, &name), reps, true).await
}

pub async fn client_composites_remove(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, client, name)): Path<(String, String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    change(&state, &admin, &realm, client_role(&client, &name), reps, false).await
}

pub async fn by_id_composites_get(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>) -> Result<Response, AdminError> {
    list_composites(&state, &admin, &realm, RoleRef::Id(&id), Which::All).await
}

pub async fn by_id_composites_realm(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>) -> Result<Response, AdminError> {
    list_composites(&state, &admin, &realm, RoleRef::Id(&id), Which::Realm).await
}

pub async fn by_id_composites_client(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, of)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    list_composites(&state, &admin, &realm, RoleRef::Id(&id), Which::Client(&of)).await
}

pub async fn by_id_composites_add(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    change(&state, &admin, &realm, RoleRef::Id(&id), reps, true).await
}

pub async fn by_id_composites_remove(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    change(&state, &admin, &realm, RoleRef::Id(&id), reps, false).await
}

pub async fn users(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, name)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    Ok(Json(composites::users_in_role(&admin.ctx(&state), &realm, realm_role(&name), params.page()?).await?).into_response())
}

pub async fn client_users(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, client, name)): Path<(String, String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    let found = composites::users_in_role(&admin.ctx(&state), &realm, client_role(&client, &name), params.page()?).await?;
    Ok(Json(found).into_response())
}
