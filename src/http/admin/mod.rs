//! Keycloak's Admin REST API under `/admin`: thin handlers over `crate::admin`.

use axum::Router;

use crate::app::AppState;

/// Every `/admin/...` route.
pub fn router() -> Router<AppState> {
    Router::new()
}
