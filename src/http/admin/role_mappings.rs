//! `/admin/realms/{realm}/users/{id}/role-mappings/.../available` and `.../composite`: the roles
//! a user could still be given, and every role they hold with composites expanded. (The direct
//! mappings' routes are in `users`.)

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{Admin, Params};
use crate::admin::role_mappings::{derived, Scope};
use crate::admin::AdminError;
use crate::app::AppState;

async fn answer(state: &AppState, admin: &Admin, realm: &str, user: &str, scope: Scope<'_>, effective: bool, params: &Params) -> Result<Response, AdminError> {
    let brief = params.bool("briefRepresentation")?.unwrap_or(true);
    Ok(Json(derived(&admin.ctx(state), realm, user, scope, effective, brief).await?).into_response())
}

pub async fn realm_available(State(state): State<AppState>, admin: Admin, Path((realm, user)): Path<(String, String)>, params: Params) -> Result<Response, AdminError> {
    answer(&state, &admin, &realm, &user, Scope::Realm, false, &params).await
}

pub async fn realm_composite(State(state): State<AppState>, admin: Admin, Path((realm, user)): Path<(String, String)>, params: Params) -> Result<Response, AdminError> {
    answer(&state, &admin, &realm, &user, Scope::Realm, true, &params).await
}

pub async fn client_available(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, user, client)): Path<(String, String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    answer(&state, &admin, &realm, &user, Scope::Client(&client), false, &params).await
}

pub async fn client_composite(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, user, client)): Path<(String, String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    answer(&state, &admin, &realm, &user, Scope::Client(&client), true, &params).await
}
