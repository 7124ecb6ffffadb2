//! Server-rendered pages for browser flows: templates compiled into the binary, the security
//! headers every page carries, the SSO and CSRF cookies, and the sealed pending-authorization
//! blob that carries a login across the form. No HTTP routing here (that is `crate::http`).

pub mod cookies;
pub mod messages;
pub mod pending;

use std::sync::OnceLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("login.html", include_str!("../../templates/login.html")),
            ("consent.html", include_str!("../../templates/consent.html")),
            ("message.html", include_str!("../../templates/message.html")),
            ("form_post.html", include_str!("../../templates/form_post.html")),
            ("account.html", include_str!("../../templates/account.html")),
            ("action_token.html", include_str!("../../templates/action_token.html")),
            ("info.html", include_str!("../../templates/info.html")),
            ("reset_credentials.html", include_str!("../../templates/reset_credentials.html")),
            ("update_password.html", include_str!("../../templates/update_password.html")),
            ("update_profile.html", include_str!("../../templates/update_profile.html")),
            ("terms.html", include_str!("../../templates/terms.html")),
            ("verify_email.html", include_str!("../../templates/verify_email.html")),
            ("registration.html", include_str!("../../templates/registration.html")),
            ("login_otp.html", include_str!("../../templates/login_otp.html")),
            ("configure_totp.html", include_str!("../../templates/configure_totp.html")),
            ("frontchannel_logout.html", include_str!("../../templates/frontchannel_logout.html")),
            ("device.html", include_str!("../../templates/device.html")),
        ] {
            env.add_template(name, source).expect("templates compiled into the binary are valid");
        }
        env
    })
}

/// `Content-Security-Policy` for our pages: nothing inline, nothing from elsewhere, no framing.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// Adds the headers every page carries (issue 4 item 8).
pub fn secure_page(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, must-revalidate, max-age=0"));
    response
}

/// The headers of a page meant to be framed by apps (the session iframes of
/// `crate::http::session_iframe`): those of [`secure_page`], except that the caller's CSP (with
/// its own `frame-ancestors`) replaces ours and there is no `X-Frame-Options`, whose `DENY` would
/// win over any `frame-ancestors` in older browsers.
pub fn framable_page(response: Response, csp: HeaderValue) -> Response {
    let mut response = secure_page(response);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.remove(header::X_FRAME_OPTIONS);
    response
}

/// Renders a template as a secured HTML page.
pub fn page(status: StatusCode, template: &str, context: impl Serialize) -> Response {
    let html = environment()
        .get_template(template)
        .and_then(|t| t.render(context))
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, template, "template rendering failed");
            String::from("<!doctype html><title>Error</title><p>Something went wrong.</p>")
        });
    secure_page((status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// A URL for an HTML attribute, escaped as Keycloak's pages escape it: `&`, `<`, `>` and quotes,
/// but not `/`, so clients that scrape a form's `action` (python-keycloak's tests do) read the
/// URL itself, where minijinja's own escaping would turn every `/` into `&#x2f;`.
pub fn attribute_url(url: &str) -> minijinja::Value {
    let mut escaped = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            c => escaped.push(c),
        }
    }
    minijinja::Value::from_safe_string(escaped)
}

/// A page with a heading and one message (errors, "you are signed out", ...).
pub fn message(status: StatusCode, realm_name: &str, heading: &str, message: &str) -> Response {
    let is_error = status.is_client_error() || status.is_server_error();
    page(
        status,
        "message.html",
        minijinja::context! { realm_name, heading, message, is_error },
    )
}

/// Static resources (stylesheet and the form_post script), cacheable.
pub async fn resource(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, mime) = match name.as_str() {
        "portcullis.css" => (include_str!("../../static/portcullis.css"), "text/css; charset=utf-8"),
        "form-post.js" => (include_str!("../../static/form-post.js"), "text/javascript; charset=utf-8"),
        "frontchannel-logout.js" => (include_str!("../../static/frontchannel-logout.js"), "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=3600")],
        body,
    )
        .into_response()
}
