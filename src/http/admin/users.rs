//! `/admin/realms/{realm}/users/...`: users, their password, sessions, consents and realm role
//! mappings.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{created, no_content, Admin, Body, Params};
use crate::admin::user_search::UserSearch;
use crate::admin::{roles, users, AdminError};
use crate::app::AppState;
use crate::realm::representation::{CredentialRepresentation, RoleRepresentation, UserRepresentation};

fn search(params: &Params) -> Result<UserSearch, AdminError> {
    Ok(UserSearch {
        search: params.get("search"),
        username: params.get("username"),
        email: params.get("email"),
        first_name: params.get("firstName"),
        last_name: params.get("lastName"),
        enabled: params.bool("enabled")?,
        email_verified: params.bool("emailVerified")?,
        exact: params.bool("exact")?,
        q: params.get("q"),
        idp_alias: params.get("idpAlias"),
        idp_user_id: params.get("idpUserId"),
    })
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    params: Params,
) -> Result<Response, AdminError> {
    let brief = params.bool("briefRepresentation")?.unwrap_or(false);
    let found = users::search(&admin.ctx(&state), &realm, &search(&params)?, params.page()?, brief).await?;
    Ok(Json(found).into_response())
}

pub async fn count(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    params: Params,
) -> Result<Response, AdminError> {
    Ok(Json(users::count(&admin.ctx(&state), &realm, &search(&params)?).await?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Body(rep): Body<UserRepresentation>,
) -> Result<Response, AdminError> {
    let id = users::create(&admin.ctx(&state), &realm, rep).await?;
    Ok(created(&admin.location(&[&realm, "users", &id])))
}

pub async fn get(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(users::get(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Body(rep): Body<UserRepresentation>,
) -> Result<Response, AdminError> {
    users::update(&admin.ctx(&state), &realm, &id, rep).await?;
    Ok(no_content())
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    users::delete(&admin.ctx(&state), &realm, &id).await?;
    Ok(no_content())
}

pub async fn reset_password(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Body(credential): Body<CredentialRepresentation>,
) -> Result<Response, AdminError> {
    users::reset_password(&admin.ctx(&state), &realm, &id, credential).await?;
    Ok(no_content())
}

pub async fn credentials(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(users::credentials(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn delete_credential(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, credential)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    users::delete_credential(&admin.ctx(&state), &realm, &id, &credential).await?;
    Ok(no_content())
}

pub async fn sessions(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(users::sessions(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn offline_sessions(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(users::offline_sessions(&admin.ctx(&state), &realm, &id, &client).await?).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    users::logout(&admin.ctx(&state), &realm, &id).await?;
    Ok(no_content())
}

pub async fn consents(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(users::consents(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn revoke_consent(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    users::revoke_consent(&admin.ctx(&state), &realm, &id, &client).await?;
    Ok(no_content())
}

pub async fn role_mappings(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(roles::user_mappings(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn realm_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(roles::user_realm_roles(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn add_realm_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Body(reps): Body<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    roles::change_user_realm_roles(&admin.ctx(&state), &realm, &id, reps, true).await?;
    Ok(no_content())
}

pub async fn remove_realm_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Body(reps): Body<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    roles::change_user_realm_roles(&admin.ctx(&state), &realm, &id, reps, false).await?;
    Ok(no_content())
}

pub async fn client_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(roles::user_client_roles(&admin.ctx(&state), &realm, &id, &client).await?).into_response())
}

pub async fn add_client_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
    Body(reps): Body<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    roles::change_user_client_roles(&admin.ctx(&state), &realm, &id, &client, reps, true).await?;
    Ok(no_content())
}

pub async fn remove_client_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
    Body(reps): Body<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    roles::change_user_client_roles(&admin.ctx(&state), &realm, &id, &client, reps, false).await?;
    Ok(no_content())
}
