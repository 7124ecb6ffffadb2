//! `GET|POST .../userinfo` (OIDC Core §5.3) with a bearer token in the Authorization header, or
//! for POST in the form body (RFC 6750 §2.2); JSON, or `application/jwt` when the client asks
//! for signed answers. Under the `DPoP` scheme (RFC 9449 §7) the request's proof is checked
//! here, and its key compared with the token's by `crate::oauth::userinfo`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::Response;
use axum::Json;

use super::base_url::BaseUrl;
use super::enabled_realm;
use super::token::{dpop_proof, header_str, no_store, offer_dpop_nonce};
use crate::app::AppState;
use crate::oauth::request::FormParams;
use crate::oauth::userinfo::UserInfo;
use crate::oauth::{dpop, dpop_nonce, userinfo, OAuthError};

/// The access token and whether it came under the `DPoP` scheme (RFC 9449 §7.1).
fn access_token(headers: &HeaderMap, body: &Bytes) -> Result<(String, bool), OAuthError> {
    if let Some(value) = header_str(headers, header::AUTHORIZATION) {
        let (scheme, token) = value.split_once(' ').ok_or(OAuthError::MissingToken)?;
        let dpop = scheme.eq_ignore_ascii_case(dpop::TOKEN_TYPE);
        if !(dpop || scheme.eq_ignore_ascii_case("bearer")) || token.trim().is_empty() {
            return Err(OAuthError::MissingToken);
        }
        return Ok((token.trim().to_string(), dpop));
    }
    let is_form = header_str(headers, header::CONTENT_TYPE)
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        if let Some(token) = FormParams::parse(body)?.get("access_token") {
            return Ok((token.to_string(), false));
        }
    }
    Err(OAuthError::MissingToken)
}

pub async fn userinfo(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let ctx = enabled_realm(&state, &realm).await?;
    let (token, under_dpop) = access_token(&headers, &body)?;
    let issuer = base.issuer(&ctx.realm.name);
    let now = state.clock.now();
    let nonce_required = under_dpop && dpop_nonce::required_for_token(&ctx, &token);
    let proof_jkt = if under_dpop {
        let url = format!("{issuer}/protocol/openid-connect/userinfo");
        let expected = dpop::Expected { method: method.as_str(), url: &url, access_token: Some(&token), now };
        Some(dpop::at_resource(state.store.as_ref(), &ctx, dpop_proof(&headers, true)?, &expected, nonce_required).await?)
    } else {
        None
    };
    let answer = userinfo::userinfo(state.store.as_ref(), &state.events, &ctx, &issuer, &token, proof_jkt.as_deref(), now).await?;
    let response = match answer {
        UserInfo::Json(claims) => no_store(Json(claims)),
        UserInfo::Signed(jwt) => no_store(([(header::CONTENT_TYPE, "application/jwt")], jwt)),
    };
    Ok(offer_dpop_nonce(response, nonce_required, &ctx, now))
}
