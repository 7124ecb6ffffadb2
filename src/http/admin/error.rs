//! `AdminError` as HTTP, in Keycloak's shapes: `{"errorMessage": ...}` for 400, 404 and 409;
//! `{"error": "HTTP 401 Unauthorized"}` with `WWW-Authenticate: Bearer` for 401;
//! `{"error": "HTTP 403 Forbidden"}` for 403; `{"error": "unknown_error"}` for 500, whose cause
//! goes to the log only. Messages of 400s may quote the request, so they are not logged.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::admin::AdminError;

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            AdminError::Unauthorized => {
                (StatusCode::UNAUTHORIZED, json!({ "error": "HTTP 401 Unauthorized" }))
            }
            AdminError::Forbidden => (StatusCode::FORBIDDEN, json!({ "error": "HTTP 403 Forbidden" })),
            AdminError::BadRequest(message) => (StatusCode::BAD_REQUEST, json!({ "errorMessage": message })),
            AdminError::NotFound(message) => (StatusCode::NOT_FOUND, json!({ "errorMessage": message })),
            AdminError::Conflict(message) => (StatusCode::CONFLICT, json!({ "errorMessage": message })),
            AdminError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": "temporarily_unavailable", "errorMessage": "The service is temporarily unavailable, try again later" }),
            ),
            AdminError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "unknown_error" }))
            }
        };
        match &self {
            AdminError::Internal(cause) | AdminError::Unavailable(cause) => {
                tracing::error!(status = status.as_u16(), cause = %cause, "admin request failed");
            }
            AdminError::NotFound(message) | AdminError::Conflict(message) => {
                tracing::info!(status = status.as_u16(), message = %message, "admin request refused");
            }
            _ => tracing::info!(status = status.as_u16(), "admin request refused"),
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"portcullis\""));
        }
        response
    }
}
