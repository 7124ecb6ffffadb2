//! Discovery and JWKS: `/.well-known/openid-configuration` and `/protocol/openid-connect/certs`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::base_url::BaseUrl;
use super::enabled_realm;
use crate::app::AppState;
use crate::oauth::discovery::openid_configuration;
use crate::oauth::OAuthError;

pub async fn well_known(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(realm): Path<String>,
) -> Result<Response, OAuthError> {
    let ctx = enabled_realm(&state, &realm).await?;
    Ok(Json(openid_configuration(&base.issuer(&ctx.realm.name))).into_response())
}

pub async fn certs(State(state): State<AppState>, Path(realm): Path<String>) -> Result<Response, OAuthError> {
    let ctx = enabled_realm(&state, &realm).await?;
    Ok(([(header::CACHE_CONTROL, "no-cache")], Json(ctx.keys.jwks().clone())).into_response())
}
