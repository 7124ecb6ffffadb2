//! `POST /realms/{realm}/protocol/openid-connect/token`: parse the form, authenticate the
//! client, run the grant, answer with `no-store` (RFC 6749 §5.1).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::base_url::BaseUrl;
use super::enabled_realm;
use crate::app::AppState;
use crate::oauth::client_auth::authenticate;
use crate::oauth::grants::{self, GrantContext};
use crate::oauth::request::{require_form_content_type, FormParams};
use crate::oauth::OAuthError;

pub fn header_str<'a>(headers: &'a HeaderMap, name: header::HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The parsed, client-authenticated form of an OAuth endpoint.
pub fn parse_form(headers: &HeaderMap, body: &Bytes) -> Result<FormParams, OAuthError> {
    require_form_content_type(header_str(headers, header::CONTENT_TYPE))?;
    FormParams::parse(body)
}

/// Adds RFC 6749 §5.1's cache headers to a JSON success body.
pub fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

pub async fn token(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let ctx = enabled_realm(&state, &realm).await?;
    let form = parse_form(&headers, &body)?;
    let client = authenticate(&ctx, header_str(&headers, header::AUTHORIZATION), &form, &state.master_key)?;
    let issuer = base.issuer(&ctx.realm.name);
    let grant = GrantContext {
        store: &state.store,
        hasher: &state.hasher,
        events: &state.events,
        realm: &ctx,
        client: &client,
        issuer: &issuer,
        now: state.clock.now(),
        ip: Some(peer.ip().to_string()),
        user_agent: header_str(&headers, header::USER_AGENT).map(|ua| ua.chars().take(512).collect()),
    };
    let response = grants::handle(&grant, &form).await?;
    Ok(no_store(Json(response)))
}
