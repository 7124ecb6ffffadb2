//! OAuth errors as HTTP responses: RFC 6749 §5.2 JSON, `no-store`, and `WWW-Authenticate` where
//! RFC 6749 §5.2 (Basic client auth) and RFC 6750 §3 (bearer tokens) ask for it.

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
            OAuthError::InvalidClient { basic_auth: true, .. } => Some(String::from("Basic realm=\"portcullis\"")),
            OAuthError::InvalidToken(description) => Some(format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                description.replace('"', "'")
            )),
            OAuthError::MissingToken => Some(String::from("Bearer realm=\"portcullis\"")),
            OAuthError::InsufficientScope(description) => Some(format!(
                "Bearer error=\"insufficient_scope\", error_description=\"{}\"",
                description.replace('"', "'")
            )),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(seconds) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
