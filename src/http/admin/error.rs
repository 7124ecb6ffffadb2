//! `AdminError` as HTTP, in Keycloak's shapes: `{"errorMessage": ...}` for validation 400s and
//! 409; `{"error": message, "error_description": "For more on this error consult the server
//! log."}` for 404s and Keycloak's `BadRequestException`s; `{"error":"unknown_error",
//! "error_description":"Cannot parse the JSON"}` for a body Jackson would refuse, with the
//! field named for an unrecognized one; `{"error": "HTTP 401 Unauthorized"}` with
//! `WWW-Authenticate: Bearer` for 401, `{"error": "HTTP 403 Forbidden"}` for 403,
//! `{"error": "HTTP 405 Method Not Allowed"}` for a path without the method, and
//! `{"error": "unknown_error"}` for 500, whose cause goes to the log only. Messages of 400s may
//! quote the request, so they are not logged.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::admin::AdminError;

/// Keycloak's description of a 404, and of a `BadRequestException`.
const SEE_THE_LOG: &str = "For more on this error consult the server log.";
/// Keycloak's description of a body Jackson refused.
const CANNOT_PARSE: &str = "Cannot parse the JSON";

/// What an admin path answers to a method it does not have (RESTEasy's `NotAllowedException`).
pub async fn method_not_allowed() -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, Json(json!({ "error": "HTTP 405 Method Not Allowed" }))).into_response()
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            AdminError::Unauthorized => {
                (StatusCode::UNAUTHORIZED, json!({ "error": "HTTP 401 Unauthorized" }))
            }
            AdminError::Forbidden => (StatusCode::FORBIDDEN, json!({ "error": "HTTP 403 Forbidden" })),
            AdminError::BadRequest(message) => (StatusCode::BAD_REQUEST, json!({ "errorMessage": message })),
            AdminError::BadRequestException(message) => {
                (StatusCode::BAD_REQUEST, json!({ "error": message, "error_description": SEE_THE_LOG }))
            }
            AdminError::NotFound(message) => {
                (StatusCode::NOT_FOUND, json!({ "error": message, "error_description": SEE_THE_LOG }))
            }
            AdminError::Unparsable(_) => {
                (StatusCode::BAD_REQUEST, json!({ "error": "unknown_error", "error_description": CANNOT_PARSE }))
            }
            AdminError::UnrecognizedField { .. } => {
                (StatusCode::BAD_REQUEST, json!({ "error": self.to_string(), "error_description": CANNOT_PARSE }))
            }
            AdminError::Conflict(message) => (StatusCode::CONFLICT, json!({ "errorMessage": message })),
            AdminError::Keycloak { status, body } => {
                (StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST), body.clone())
            }
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
            AdminError::Unparsable(why) => {
                tracing::info!(status = status.as_u16(), why = %why, "admin request refused: unparsable body");
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
