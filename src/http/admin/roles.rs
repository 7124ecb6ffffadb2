//! `/admin/realms/{realm}/roles/...`: realm roles.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{created, no_content, Admin, Body, Params};
use crate::admin::{roles, AdminError};
use crate::app::AppState;
use crate::realm::representation::RoleRepresentation;

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    params: Params,
) -> Result<Response, AdminError> {
    let found =
        roles::list(&admin.ctx(&state), &realm, params.get("search").as_deref(), params.page()?).await?;
    Ok(Json(found).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Body(rep): Body<RoleRepresentation>,
) -> Result<Response, AdminError> {
    let name = roles::create(&admin.ctx(&state), &realm, rep).await?;
    Ok(created(&admin.location(&[&realm, "roles", &name])))
}

pub async fn get(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, name)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(roles::get(&admin.ctx(&state), &realm, &name).await?).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, name)): Path<(String, String)>,
    Body(rep): Body<RoleRepresentation>,
) -> Result<Response, AdminError> {
    roles::update(&admin.ctx(&state), &realm, &name, rep).await?;
    Ok(no_content())
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, name)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    roles::delete(&admin.ctx(&state), &realm, &name).await?;
    Ok(no_content())
}
