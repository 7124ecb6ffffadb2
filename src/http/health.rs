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

/// Ready when the database answers a ping within 2 s (or `request-timeout`, when shorter) and
/// no request timed out within the last `request-timeout`: a database that hangs on a locked
/// table still answers the ping, and time-outs are how the node notices.
pub async fn ready(State(state): State<AppState>) -> Response {
    let bound = state.timeouts.limit().map_or(PING_BOUND, |limit| limit.min(PING_BOUND));
    let database = matches!(tokio::time::timeout(bound, state.store.ping()).await, Ok(Ok(())));
    let requests = !state.timeouts.recently_timed_out(std::time::Instant::now());
    let word = |up: bool| if up { "UP" } else { "DOWN" };
    let body = json!({
        "status": word(database && requests),
        "checks": [
            { "name": "database", "status": word(database) },
            { "name": "requests", "status": word(requests) },
        ],
    });
    let code = if database && requests { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(body)).into_response()
}

/// How long readiness waits for the database's answer to its ping.
const PING_BOUND: std::time::Duration = std::time::Duration::from_secs(2);

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
