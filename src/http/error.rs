//! OAuth errors as HTTP responses: RFC 6749 §5.2 JSON, `no-store`, and a `WWW-Authenticate`
//! challenge on every 401, as RFC 9110 §15.5.2 requires: `Bearer` (RFC 6750 §3) where a bearer
//! token was wanted, else `Basic`, the client authentication a refused client can retry with
//! (RFC 6749 §5.2), whether it sent its credentials in a header, in the body or not at all.

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
            _ => None,
        };
        if let Some(value) = challenge {
            headers.insert(header::WWW_AUTHENTICATE, value);
        } else if status == StatusCode::UNAUTHORIZED {
            // invalid_client however the client authenticated, and Keycloak's 401 invalid_grant
            // for wrong user credentials
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"portcullis\""));
        }
        response
    }
}
