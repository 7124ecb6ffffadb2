//! The admin API's one error type, in Keycloak's dialects (see `http::admin::error`): a
//! validation refusal (`BadRequest`, Keycloak's `ErrorResponse.error`) and `Conflict` answer
//! `{"errorMessage": ...}`; what Keycloak throws as a JAX-RS exception (`NotFound`,
//! `BadRequestException`) and what Jackson refuses (`Unparsable`, `UnrecognizedField`) answer
//! `{"error": ..., "error_description": ...}`. Messages never hold a secret; `Internal` and
//! `Unavailable` carry the cause for the log only.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No bearer token, or not a live access token of an enabled realm's enabled user: 401.
    #[error("unauthorized")]
    Unauthorized,
    /// A live token whose user may not do this: 403.
    #[error("forbidden")]
    Forbidden,
    /// Keycloak's `ErrorResponse.error(message, 400)`: `{"errorMessage": message}`.
    #[error("{0}")]
    BadRequest(String),
    /// Keycloak's `BadRequestException(message)`: `{"error": message, "error_description": ...}`.
    #[error("{0}")]
    BadRequestException(String),
    /// Keycloak's `NotFoundException(message)`: 404 `{"error": message, "error_description": ...}`.
    #[error("{0}")]
    NotFound(String),
    /// A body that is not JSON, or not of the representation's shape (Jackson's refusal).
    #[error("unparsable JSON body: {0}")]
    Unparsable(String),
    /// A JSON field the Keycloak representation does not have.
    #[error("Unrecognized field \"{field}\" (class {class}), not marked as ignorable")]
    UnrecognizedField { field: String, class: &'static str },
    #[error("{0}")]
    Conflict(String),
    /// Keycloak's `ErrorResponse` with a body of its own: user-profile violations (400,
    /// `{"field", "errorMessage", "params"}` or `{"errors": [...]}`) and the 500 of an email that
    /// could not be sent (`{"errorMessage"}`).
    #[error("{status}: {body}")]
    Keycloak { status: u16, body: serde_json::Value },
    /// The database cannot be reached: 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: 500, cause logged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AdminError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed,
            ) => Self::Unavailable(e.to_string()),
            // Callers that expect a conflict map it to Keycloak's message first; one that
            // reaches here is a race the caller did not foresee.
            StoreError::Conflict(_) => Self::Conflict("Conflict detected. See logs for details".into()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<crate::oauth::OAuthError> for AdminError {
    fn from(e: crate::oauth::OAuthError) -> Self {
        match e {
            crate::oauth::OAuthError::TemporarilyUnavailable => Self::Unavailable("token check".into()),
            other => Self::Internal(format!("token check failed: {}", other.code())),
        }
    }
}
