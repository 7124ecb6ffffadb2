//! `/admin/realms/{realm}/clients/{id}/evaluate-scopes/...`: thin handlers over `admin::evaluate`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{Admin, Params};
use crate::admin::evaluate::{self, Example};
use crate::admin::AdminError;
use crate::app::AppState;

type R = Result<Response, AdminError>;

pub async fn protocol_mappers(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>, params: Params) -> R {
    let scope = params.get("scope");
    Ok(Json(evaluate::protocol_mappers(&admin.ctx(&state), &realm, &id, scope.as_deref()).await?).into_response())
}

async fn example(state: &AppState, admin: &Admin, realm: &str, id: &str, params: &Params, example: Example) -> R {
    let issuer = format!("{}/realms/{realm}", admin.base);
    let (scope, user) = (params.get("scope"), params.get("userId"));
    let value = evaluate::example(&admin.ctx(state), &issuer, realm, id, scope.as_deref(), user.as_deref(), example).await?;
    Ok(Json(value).into_response())
}

pub async fn access_token(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>, params: Params) -> R {
    example(&state, &admin, &realm, &id, &params, Example::AccessToken).await
}

pub async fn id_token(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>, params: Params) -> R {
    example(&state, &admin, &realm, &id, &params, Example::IdToken).await
}

pub async fn userinfo(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>, params: Params) -> R {
    example(&state, &admin, &realm, &id, &params, Example::UserInfo).await
}
