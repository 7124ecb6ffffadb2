//! OAuth errors as HTTP responses: RFC 6749 §5.2 JSON, `no-store`, `Retry-After` where waiting
//! helps, and a `WWW-Authenticate` challenge (RFC 9110 §15.5.2): `Bearer` (RFC 6750 §3) where a
//! bearer token was wanted, `Basic` on every `invalid_client` (RFC 6749 §5.2), whether the client
//! sent its credentials in a header, in the body or not at all. The one 401 without a challenge is
//! Keycloak's `invalid_grant` for a wrong user password: `Basic` there would make a browser show
//! its own password dialog to a single-page app that posted a login form.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::oauth::OAuthError;

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_REQUEST);
        if status.is_server_error() {
            tracing::warn!(error = self.code(), status = status.as_u16(), "request failed");
        } else {
            tracing::info!(error = self.code(), description = self.description(), "request refused");
        }
        let mut response = (status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        let challenge = match &self {
            OAuthError::InvalidToken(description) => Some(
                HeaderValue::from_str(&format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    description.replace('"', "'")
                ))
                .unwrap_or(HeaderValue::from_static("Bearer error=\"invalid_token\"")),
            ),
            OAuthError::MissingToken => Some(HeaderValue::from_static("Bearer realm=\"portcullis\"")),
            OAuthError::InsufficientScope(description) => Some(
                HeaderValue::from_str(&format!(
                    "Bearer error=\"insufficient_scope\", error_description=\"{}\"",
                    description.replace('"', "'")
                ))
                .unwrap_or(HeaderValue::from_static("Bearer error=\"insufficient_scope\"")),
            ),
            OAuthError::InvalidDpopProof { description, at_resource: true } => Some(
                HeaderValue::from_str(&format!(
                    "DPoP error=\"invalid_dpop_proof\", error_description=\"{}\", algs=\"{}\"",
                    description.replace('"', "'"),
                    crate::oauth::dpop::ALGORITHMS.join(" ")
                ))
                .unwrap_or(HeaderValue::from_static("DPoP error=\"invalid_dpop_proof\"")),
            ),
            OAuthError::UseDpopNonce { at_resource: true, .. } => Some(HeaderValue::from_static(
                "DPoP error=\"use_dpop_nonce\", error_description=\"Resource server requires nonce in DPoP proof\"",
            )),
            // invalid_client however the client authenticated (or did not)
            OAuthError::InvalidClient(_) => Some(HeaderValue::from_static("Basic realm=\"portcullis\"")),
            _ => None,
        };
        if let Some(value) = challenge {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let OAuthError::UseDpopNonce { nonce: Some(nonce), .. } = &self {
            if let Ok(value) = HeaderValue::from_str(nonce) {
                headers.insert(crate::oauth::dpop_nonce::HEADER, value);
            }
        }
        if let Some(seconds) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.is_expected() {
            response.extensions_mut().insert(crate::ops::rate_limit::NotAFailure);
        }
        response
    }
}
