//! Operations endpoints: liveness, readiness (the database answers) and Prometheus metrics,
//! in the shapes Keycloak's Quarkus health endpoints use.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::app::AppState;
use crate::ops::metrics::{DB_POOL_IDLE, DB_POOL_OPEN};

pub async fn live() -> Response {
    Json(json!({ "status": "UP", "checks": [] })).into_response()
}

pub async fn ready(State(state): State<AppState>) -> Response {
    let timeout = std::time::Duration::from_secs(2);
    let up = matches!(tokio::time::timeout(timeout, state.store.ping()).await, Ok(Ok(())));
    let status = if up { "UP" } else { "DOWN" };
    let body = json!({ "status": status, "checks": [{ "name": "database", "status": status }] });
    let code = if up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(body)).into_response()
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let (open, idle) = state.store.pool_usage();
    metrics::gauge!(DB_POOL_OPEN).set(f64::from(open));
    metrics::gauge!(DB_POOL_IDLE).set(f64::from(idle));
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
        .into_response()
}
