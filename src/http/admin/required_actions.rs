//! `/admin/realms/{realm}/authentication/required-actions...`: thin handlers over
//! `crate::admin::required_actions`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{no_content, Admin, Body, KnownFields, Strict};
use crate::admin::required_actions::{self as actions, ProviderRef, RequiredActionUpdate};
use crate::admin::AdminError;
use crate::app::AppState;

impl KnownFields for RequiredActionUpdate {
    const CLASS: &'static str = "org.keycloak.representations.idm.RequiredActionProviderRepresentation";
    const FIELDS: &'static [&'static str] = &["alias", "name", "providerId", "enabled", "defaultAction", "priority", "config"];
}

pub async fn list(State(state): State<AppState>, admin: Admin, Path(realm): Path<String>) -> Result<Response, AdminError> {
    Ok(Json(actions::list(&admin.ctx(&state), &realm).await?).into_response())
}

pub async fn get(State(state): State<AppState>, admin: Admin, Path((realm, alias)): Path<(String, String)>) -> Result<Response, AdminError> {
    Ok(Json(actions::get(&admin.ctx(&state), &realm, &alias).await?).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, alias)): Path<(String, String)>,
    Strict(rep): Strict<RequiredActionUpdate>,
) -> Result<Response, AdminError> {
    actions::update(&admin.ctx(&state), &realm, &alias, rep).await?;
    Ok(no_content())
}

pub async fn delete(State(state): State<AppState>, admin: Admin, Path((realm, alias)): Path<(String, String)>) -> Result<Response, AdminError> {
    actions::delete(&admin.ctx(&state), &realm, &alias).await?;
    Ok(no_content())
}

pub async fn raise(State(state): State<AppState>, admin: Admin, Path((realm, alias)): Path<(String, String)>) -> Result<Response, AdminError> {
    actions::move_priority(&admin.ctx(&state), &realm, &alias, true).await?;
    Ok(no_content())
}

pub async fn lower(State(state): State<AppState>, admin: Admin, Path((realm, alias)): Path<(String, String)>) -> Result<Response, AdminError> {
    actions::move_priority(&admin.ctx(&state), &realm, &alias, false).await?;
    Ok(no_content())
}

pub async fn unregistered(State(state): State<AppState>, admin: Admin, Path(realm): Path<String>) -> Result<Response, AdminError> {
    Ok(Json(actions::unregistered(&admin.ctx(&state), &realm).await?).into_response())
}

pub async fn register(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Body(rep): Body<ProviderRef>,
) -> Result<Response, AdminError> {
    actions::register(&admin.ctx(&state), &realm, rep).await?;
    Ok(no_content())
}
