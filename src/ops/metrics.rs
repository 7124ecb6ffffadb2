//! Prometheus metrics: one process-wide recorder (the `metrics` facade is global), rendered at
//! `/metrics`. Labels are route templates, status codes and grant types: never a token, user or
//! client secret (DESIGN.md §5). Every label comes from a closed set, so no request can add a
//! series (a raw method or path as a label would let each request create one, forever).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "portcullis_http_requests_total";
pub const HTTP_DURATION: &str = "portcullis_http_request_duration_seconds";
pub const TOKENS_ISSUED: &str = "portcullis_tokens_issued_total";
pub const REFRESH_REUSE: &str = "portcullis_refresh_token_reuse_detected_total";
pub const DB_POOL_OPEN: &str = "portcullis_db_pool_connections";
pub const DB_POOL_IDLE: &str = "portcullis_db_pool_idle_connections";
pub const HTTP_CONNECTIONS: &str = "portcullis_http_connections";
pub const HTTP_CONNECTIONS_CLOSED: &str = "portcullis_http_connections_closed_total";

/// The process-wide recorder's handle, installed on first use.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(HTTP_DURATION.to_string()),
                    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5],
                )
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            spawn_upkeep(handle.clone());
            // Another recorder may already be installed (e.g. by an embedding program): then our
            // handle still renders, just without the facade's events.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            handle
        })
        .clone()
}

/// How often histogram samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// A recorder built with `build_recorder` keeps every histogram sample until the next render or
/// upkeep: unscraped, that grew ~17 bytes a request (the soak's RSS creep). A thread of its own,
/// so it needs no async runtime.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || loop {
        std::thread::sleep(UPKEEP_EVERY);
        handle.run_upkeep();
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the metrics upkeep thread: histograms grow until /metrics is scraped");
    }
}

fn describe() {
    metrics::describe_counter!(crate::mail::MAIL_SENT, "Mails delivered to the SMTP server, by kind");
    metrics::describe_counter!(crate::mail::MAIL_FAILED, "Mails the SMTP server did not take (down, slow, refused), by kind");
    metrics::describe_counter!(crate::mail::MAIL_REFUSED, "Mails refused because the mail queue was full, by kind");
    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests by method, route template and status");
    metrics::describe_histogram!(HTTP_DURATION, metrics::Unit::Seconds, "HTTP request latency by route template");
    metrics::describe_counter!(TOKENS_ISSUED, "Access tokens issued by grant type");
    metrics::describe_counter!(REFRESH_REUSE, "Refresh token reuse detections (family revoked)");
    metrics::describe_gauge!(DB_POOL_OPEN, "Open database connections");
    metrics::describe_gauge!(DB_POOL_IDLE, "Idle database connections");
    metrics::describe_gauge!(HTTP_CONNECTIONS, "Open client connections (capped by http-max-connections)");
    metrics::describe_counter!(
        HTTP_CONNECTIONS_CLOSED,
        "Client connections closed by the server: header_timeout, idle_timeout, or capacity (idle, closed to make room)"
    );
}

/// The method label: RFC 9110's methods and PATCH by name, any other token `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

/// Axum middleware: counts and times each request under its route template (`unmatched` for a
/// path no route takes; a template is one of the router's, never the request's path).
pub async fn track_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_method_outside_the_standard_ones_is_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(method_label(&Method::from_bytes(b"XYZ123").unwrap()), "OTHER");
        assert_eq!(method_label(&Method::from_bytes(b"get").unwrap()), "OTHER", "methods are case-sensitive");
    }
}
