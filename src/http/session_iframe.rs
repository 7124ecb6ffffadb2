//! The session-status iframe of OpenID Connect Session Management 1.0 (section 3.2, "OP iframe";
//! `check_session_iframe` in discovery) and keycloak-js' third-party-cookie probe, at Keycloak's
//! paths, so keycloak-js runs with its default `checkLoginIframe: true`. The pages are static; the
//! state they compare is the `PORTCULLIS_SESSION_STATE` cookie (the session's `sid`, readable by
//! script), set by `login::start_session` and cleared by RP-initiated logout and the account
//! page's sign-out. Not here: the RP
//! side (keycloak-js), and any server-side session lookup (the iframe reads only its cookie).

use std::collections::BTreeSet;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cookie::{Cookie, SameSite};

use crate::app::AppState;
use crate::realm::RealmContext;
use crate::web;
use crate::web::cookies::realm_path;

/// The cookie the iframe compares with the `sid` keycloak-js posts. Keycloak's is
/// `KEYCLOAK_SESSION` and holds a SHA-256 of the id; ours holds the id itself, so the page needs no
/// Web Crypto (absent outside secure contexts). The `sid` is in every token the app holds and is
/// no credential: the sealed, HttpOnly SSO cookie is.
pub const SESSION_STATE_COOKIE: &str = "PORTCULLIS_SESSION_STATE";

/// A `frame-ancestors` list longer than this is replaced by `*` (see [`frame_ancestors`]).
const MAX_FRAME_ANCESTORS: usize = 4096;

/// The routes, merged into the router by `crate::app::router`.
pub fn router() -> Router<AppState> {
    let oidc = "/realms/{realm}/protocol/openid-connect";
    Router::new()
        .route(&format!("{oidc}/login-status-iframe.html"), get(login_status_iframe))
        .route(&format!("{oidc}/login-status-iframe.html/init"), get(init))
        .route(&format!("{oidc}/3p-cookies/step1.html"), get(step1))
        .route(&format!("{oidc}/3p-cookies/step2.html"), get(step2))
        .route("/resources/session/{name}", get(script))
}

/// `Set-Cookie` for a browser session that starts: script-readable (not HttpOnly: the iframe's
/// script reads it), scoped to the realm's path like the SSO cookie and living as long. Over https
/// it is `SameSite=None; Secure`, so the iframe can read it when framed by an app on another site
/// (where the browser allows third-party cookies); over plain http, where `SameSite=None` cookies
/// are refused, it is `Lax`, and the 3p-cookies probe sets its test cookie the same way.
pub fn state_cookie(realm: &str, sid: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut cookie = Cookie::build((SESSION_STATE_COOKIE, sid.to_string()))
        .path(realm_path(realm))
        .http_only(false)
        .secure(secure)
        .same_site(if secure { SameSite::None } else { SameSite::Lax });
    if let Some(seconds) = max_age {
        cookie = cookie.max_age(cookie::time::Duration::seconds(seconds));
    }
    cookie.build().to_string()
}

/// For an authorization that goes on in an existing browser session (the SSO cookie is valid):
/// the state cookie again, when the request's is missing or names another session. Sessions that
/// began before this cookie existed (an upgrade), or whose cookie the browser dropped, would
/// otherwise look ended to the iframe for as long as the SSO cookie lives. It is a
/// browser-session cookie here, as the session's remember-me lifetime is not at hand.
pub fn resumed_state_cookie(request: &HeaderMap, realm: &str, sid: &str, secure: bool) -> Option<String> {
    let current = crate::web::cookies::read(request, SESSION_STATE_COOKIE);
    (current.as_deref() != Some(sid)).then(|| state_cookie(realm, sid, secure, None))
}

/// Appends the `Set-Cookie` that clears the state cookie, where the SSO cookie is cleared: every
/// iframe of that browser then answers "changed" to apps holding that session's tokens.
pub fn clear_state_cookie(headers: &mut HeaderMap, realm: &str, secure: bool) {
    if let Ok(value) = state_cookie(realm, "", secure, Some(0)).parse() {
        headers.append(header::SET_COOKIE, value);
    }
}

async fn login_status_iframe(State(state): State<AppState>, Path(realm): Path<String>) -> Response {
    framable(&state, &realm, include_str!("../../static/session/login-status-iframe.html")).await
}

async fn step1(State(state): State<AppState>, Path(realm): Path<String>) -> Response {
    framable(&state, &realm, include_str!("../../static/session/3p-cookies-step1.html")).await
}

async fn step2(State(state): State<AppState>, Path(realm): Path<String>) -> Response {
    framable(&state, &realm, include_str!("../../static/session/3p-cookies-step2.html")).await
}

/// One of the pages, for an enabled realm, frameable by the realm's web origins only.
async fn framable(state: &AppState, realm: &str, html: &'static str) -> Response {
    let ctx = match super::enabled_realm(state, realm).await {
        Ok(ctx) => ctx,
        Err(e) => return e.into_response(),
    };
    let csp = format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'; frame-ancestors {}; base-uri 'none'; form-action 'none'",
        frame_ancestors(&ctx)
    );
    let Ok(csp) = HeaderValue::from_str(&csp) else {
        // origins are ASCII serializations of parsed URLs, so this cannot happen; refuse framing
        tracing::error!(realm, "frame-ancestors is not a header value");
        return web::secure_page((StatusCode::INTERNAL_SERVER_ERROR, "").into_response());
    };
    web::framable_page(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(), csp)
}

/// The `frame-ancestors` sources of the pages: every web origin of the realm's enabled clients
/// (`+` standing for the origins of a client's redirect URIs, as in CORS), `*` when a client
/// allows every origin, `'none'` when there is no origin at all. The pages carry no client in
/// their URL, so no narrower list exists; Keycloak frames them from anywhere. What protects the
/// session state is `/init`, which approves one client's origin per iframe, and the iframe's
/// answer going only to that origin. So a list past [`MAX_FRAME_ANCESTORS`] bytes (thousands of
/// clients) becomes `*` rather than a header that browsers or proxies would refuse.
pub fn frame_ancestors(ctx: &RealmContext) -> String {
    let mut origins = BTreeSet::new();
    for client in ctx.clients.values().filter(|c| c.enabled) {
        for allowed in &client.web_origins {
            match allowed.as_str() {
                "*" => return "*".into(),
                "+" => origins.extend(client.redirect_uris.iter().filter_map(|uri| origin_of(uri))),
                other => origins.extend(origin_of(other)),
            }
        }
    }
    if origins.is_empty() {
        return "'none'".into();
    }
    let list = origins.into_iter().collect::<Vec<_>>().join(" ");
    if list.len() > MAX_FRAME_ANCESTORS {
        "*".into()
    } else {
        list
    }
}

/// `scheme://host[:port]` of an absolute http(s) URL; `None` for anything else (opaque origins,
/// relative or wildcard redirect URIs), which no `frame-ancestors` source can name.
fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let origin = parsed.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// `GET .../login-status-iframe.html/init?client_id=..&origin=..`, Keycloak's pre-check: 204 when
/// the client exists, is enabled and allows that origin (`webOrigins`, as for CORS), else 403.
/// The iframe calls it once, for the first message it gets; the opaque origin `null` is refused.
async fn init(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let ctx = match super::enabled_realm(&state, &realm).await {
        Ok(ctx) => ctx,
        Err(e) => return e.into_response(),
    };
    let client = params.get("client_id").and_then(|id| ctx.client(id)).filter(|c| c.enabled);
    let allowed = match (client, params.get("origin")) {
        (Some(client), Some(origin)) => super::cors::origin_allowed(&client, origin),
        _ => false,
    };
    let status = if allowed { StatusCode::NO_CONTENT } else { StatusCode::FORBIDDEN };
    (status, [(header::CACHE_CONTROL, "no-store")]).into_response()
}

/// The pages' scripts (files, so the pages need no inline script), cacheable like our others.
async fn script(Path(name): Path<String>) -> Response {
    let body = match name.as_str() {
        "login-status-iframe.js" => include_str!("../../static/session/login-status-iframe.js"),
        "3p-cookies-step1.js" => include_str!("../../static/session/3p-cookies-step1.js"),
        "3p-cookies-step2.js" => include_str!("../../static/session/3p-cookies-step2.js"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
