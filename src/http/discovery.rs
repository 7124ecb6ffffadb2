//! Discovery and JWKS: the provider metadata at `/realms/{realm}/.well-known/openid-configuration`
//! and at RFC 8414's two paths for an issuer with a path (§3.1's inserted
//! `/.well-known/oauth-authorization-server/realms/{realm}`, and Keycloak's appended
//! `/realms/{realm}/.well-known/oauth-authorization-server`), and `/protocol/openid-connect/certs`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::base_url::BaseUrl;
use super::enabled_realm;
use crate::app::AppState;
use crate::oauth::discovery::openid_configuration;
use crate::oauth::OAuthError;

/// The realm's metadata; its `issuer` is the realm's issuer whichever path asked (RFC 8414 §3.3).
pub async fn well_known(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(realm): Path<String>,
) -> Result<Response, OAuthError> {
    let ctx = enabled_realm(&state, &realm).await?;
    Ok(Json(openid_configuration(&base.issuer(&ctx.realm.name), ctx.scopes.token_scope_names())).into_response())
}

pub async fn certs(State(state): State<AppState>, Path(realm): Path<String>) -> Result<Response, OAuthError> {
    let ctx = enabled_realm(&state, &realm).await?;
    Ok(([(header::CACHE_CONTROL, "no-cache")], Json(ctx.keys.jwks().clone())).into_response())
}
