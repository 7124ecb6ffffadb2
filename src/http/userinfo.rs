//! `GET|POST .../userinfo` (OIDC Core §5.3) with a bearer token in the Authorization header, or
//! for POST in the form body (RFC 6750 §2.2); JSON, or `application/jwt` when the client asks
//! for signed answers.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::Json;

use super::base_url::BaseUrl;
use super::enabled_realm;
use super::token::{header_str, no_store};
use crate::app::AppState;
use crate::oauth::request::FormParams;
use crate::oauth::userinfo::UserInfo;
use crate::oauth::{userinfo, OAuthError};

fn bearer(headers: &HeaderMap, body: &Bytes) -> Result<String, OAuthError> {
    if let Some(value) = header_str(headers, header::AUTHORIZATION) {
        let (scheme, token) = value.split_once(' ').ok_or(OAuthError::MissingToken)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(OAuthError::MissingToken);
        }
        return Ok(token.trim().to_string());
    }
    let is_form = header_str(headers, header::CONTENT_TYPE)
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        if let Some(token) = FormParams::parse(body)?.get("access_token") {
            return Ok(token.to_string());
        }
    }
    Err(OAuthError::MissingToken)
}

pub async fn userinfo(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let ctx = enabled_realm(&state, &realm).await?;
    let token = bearer(&headers, &body)?;
    let issuer = base.issuer(&ctx.realm.name);
    let answer = userinfo::userinfo(state.store.as_ref(), &state.events, &ctx, &issuer, &token, state.clock.now()).await?;
    Ok(match answer {
        UserInfo::Json(claims) => no_store(Json(claims)),
        UserInfo::Signed(jwt) => no_store(([(header::CONTENT_TYPE, "application/jwt")], jwt)),
    })
}
