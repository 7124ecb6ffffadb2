//! OAuth 2.0 / OpenID Connect protocol logic with no axum types: parsed input and `now` in,
//! domain results out. The HTTP edge lives in `crate::http`.

pub mod discovery;
pub mod error;
pub mod tokens;

pub use error::OAuthError;
