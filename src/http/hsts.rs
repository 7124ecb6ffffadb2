//! `Strict-Transport-Security` (RFC 6797) on every response a client received over HTTPS, with
//! Keycloak's default value, so a browser that once reached us over TLS never again sends a
//! password or a code over plain http (a downgrade by an active attacker). Never over plain http,
//! where browsers ignore it (RFC 6797 §8.1) and it would only mislead.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use super::base_url::served_over_https;
use crate::app::AppState;

/// Keycloak's default (`browserSecurityHeaders.strictTransportSecurity`): a year, subdomains too.
pub const VALUE: &str = "max-age=31536000; includeSubDomains";

pub async fn strict_transport_security(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let https = served_over_https(request.uri(), request.headers(), &state.settings);
    let mut response = next.run(request).await;
    if https {
        response
            .headers_mut()
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static(VALUE));
    }
    response
}
