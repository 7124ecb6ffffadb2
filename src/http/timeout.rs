//! The per-request time limit (`request-timeout`): a request still unanswered after it is dropped
//! and answered 503 in its endpoint family's shape, so a database that accepts connections but
//! hangs (a locked table, a network stall) cannot hold clients for the 30 s statement timeout.
//! Dropping a handler is what a client hanging up already does: an unfinished sqlx transaction
//! rolls back on drop. Health and metrics routes are outside this limit (see `crate::app`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::admin::AdminError;
use crate::oauth::OAuthError;

/// Prometheus counter of requests answered 503 by this limit.
pub const REQUEST_TIMEOUTS: &str = "portcullis_http_request_timeouts_total";

/// The configured limit and when it last fired, shared by every request of one node and read by
/// `/health/ready`.
#[derive(Debug)]
pub struct RequestTimeouts {
    limit: Option<Duration>,
    epoch: Instant,
    /// Milliseconds from `epoch` to the latest time-out, plus one; 0 while none has happened.
    last: AtomicU64,
}

impl RequestTimeouts {
    /// `None` disables the limit.
    pub fn new(limit: Option<Duration>) -> Self {
        Self { limit, epoch: Instant::now(), last: AtomicU64::new(0) }
    }

    pub fn limit(&self) -> Option<Duration> {
        self.limit
    }

    fn record(&self, now: Instant) {
        let millis = u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX - 1);
        self.last.store(millis.saturating_add(1), Ordering::Relaxed);
    }

    /// Whether a request timed out less than one limit ago. A database that hangs only on some
    /// tables still answers the readiness ping; requests timing out are how a node sees it.
    pub fn recently_timed_out(&self, now: Instant) -> bool {
        let (Some(limit), last) = (self.limit, self.last.load(Ordering::Relaxed)) else { return false };
        if last == 0 {
            return false;
        }
        let since = now.saturating_duration_since(self.epoch).saturating_sub(Duration::from_millis(last - 1));
        since < limit
    }
}

/// Middleware: runs the rest of the stack under the limit; past it, drops the request and
/// answers 503.
pub async fn enforce(State(timeouts): State<Arc<RequestTimeouts>>, request: Request, next: Next) -> Response {
    let Some(limit) = timeouts.limit else {
        return next.run(request).await;
    };
    let family = Family::of(request.method(), request.uri().path(), request.headers());
    let method = request.method().clone();
    // the path only: query strings can carry tokens (id_token_hint) and codes
    let path = request.uri().path().to_string();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            timeouts.record(Instant::now());
            metrics::counter!(REQUEST_TIMEOUTS).increment(1);
            tracing::warn!(%method, path, limit_secs = limit.as_secs(), "request timed out and was dropped; answered 503");
            family.unavailable()
        }
    }
}

/// Which error shape a request's client understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// RFC 6749 §5.2 JSON: `{"error":"temporarily_unavailable",...}`.
    OAuth,
    /// A browser: a readable page.
    Page,
    /// Keycloak's admin API: `{"errorMessage":...}`.
    Admin,
}

impl Family {
    fn of(method: &Method, path: &str, headers: &HeaderMap) -> Self {
        if path.starts_with("/admin/") {
            return Self::Admin;
        }
        let browser_route = ["/protocol/openid-connect/auth", "/protocol/openid-connect/registrations", "/login-actions/", "/account"]
            .iter()
            .any(|route| path.contains(route));
        // logout is both: RP-initiated (a browser) and refresh-token based (a client's POST)
        let browser_logout = path.ends_with("/protocol/openid-connect/logout")
            && (method == Method::GET || accepts_html(headers));
        if path.starts_with("/realms/") && (browser_route || browser_logout) {
            Self::Page
        } else {
            Self::OAuth
        }
    }

    fn unavailable(self) -> Response {
        match self {
            Self::OAuth => OAuthError::TemporarilyUnavailable.into_response(),
            Self::Page => crate::web::message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Portcullis",
                "Unavailable",
                "The service is temporarily unavailable. Try again later.",
            ),
            Self::Admin => {
                let mut response = AdminError::Unavailable("request timed out".into()).into_response();
                response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
        }
    }
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_endpoint_family_gets_its_own_error_shape() {
        let none = HeaderMap::new();
        let mut browser = HeaderMap::new();
        browser.insert(header::ACCEPT, HeaderValue::from_static("text/html,application/xhtml+xml"));
        let cases = [
            (Method::POST, "/realms/r/protocol/openid-connect/token", &none, Family::OAuth),
            (Method::POST, "/realms/r/protocol/openid-connect/token/introspect", &none, Family::OAuth),
            (Method::GET, "/realms/r/protocol/openid-connect/certs", &none, Family::OAuth),
            (Method::POST, "/realms/r/protocol/openid-connect/logout", &none, Family::OAuth),
            (Method::POST, "/realms/r/protocol/openid-connect/logout", &browser, Family::Page),
            (Method::GET, "/realms/r/protocol/openid-connect/logout", &none, Family::Page),
            (Method::GET, "/realms/r/protocol/openid-connect/auth", &none, Family::Page),
            (Method::POST, "/realms/r/login-actions/authenticate", &none, Family::Page),
            (Method::GET, "/realms/r/account", &none, Family::Page),
            (Method::GET, "/admin/realms/r/users", &none, Family::Admin),
        ];
        for (method, path, headers, family) in cases {
            assert_eq!(Family::of(&method, path, headers), family, "{method} {path}");
        }
    }

    #[test]
    fn a_time_out_counts_as_recent_for_one_limit() {
        let timeouts = RequestTimeouts::new(Some(Duration::from_secs(10)));
        let at = Instant::now() + Duration::from_secs(100);
        assert!(!timeouts.recently_timed_out(at));
        timeouts.record(at);
        assert!(timeouts.recently_timed_out(at));
        assert!(timeouts.recently_timed_out(at + Duration::from_millis(9_999)));
        assert!(!timeouts.recently_timed_out(at + Duration::from_secs(10)));
        assert!(!RequestTimeouts::new(None).recently_timed_out(at));
    }
}
