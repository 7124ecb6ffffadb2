//! CORS for the OIDC endpoints that browser apps call from their own origin (keycloak-js and other
//! single-page apps), with Keycloak's rules: a response carries `Access-Control-Allow-Origin` (the
//! request's origin, echoed, with credentials allowed) only when that origin is one of the calling
//! client's `webOrigins`, where `+` means the origins of its redirect URIs and `*` any origin.
//! Discovery (both OpenID and RFC 8414 paths) and JWKS are public documents and answer every
//! origin. Allowed responses expose `WWW-Authenticate`, so a single-page app can read why a
//! 401 refused it. Other routes are untouched: this is not a general CORS layer, and it never
//! decides whether a request succeeds.

use std::collections::HashMap;

use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, RequestExt};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use crate::app::{AppState, MAX_BODY_BYTES};
use crate::domain::Client;

/// Keycloak's default `Access-Control-Allow-Headers` for authenticated endpoints, and `DPoP`
/// (RFC 9449 §4.1) so a single-page app can send proofs.
const ALLOW_HEADERS: &str = "Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, \
                             Access-Control-Request-Headers, Authorization, DPoP";
/// Seconds a browser may cache a preflight answer (Keycloak's value).
const MAX_AGE: &str = "3600";
/// Response headers a script may read beyond the CORS-safelisted ones: the 401 challenge and a
/// server's DPoP nonce (RFC 9449 §8).
const EXPOSE_HEADERS: &str = "WWW-Authenticate, DPoP-Nonce";

/// How an endpoint decides which origins may read its responses.
#[derive(Clone, Copy)]
enum Policy {
    /// Discovery, authorization server metadata and JWKS: every origin.
    Public,
    /// Token, introspection, revocation, logout: the web origins of the client named by the
    /// request (`Authorization: Basic`, or `client_id` in the form or query).
    Client,
    /// Userinfo: the web origins of the client the bearer token was issued to (`azp`).
    Bearer,
}

fn policy(route: &str) -> Option<(Policy, &'static str)> {
    let oidc = route.strip_prefix("/realms/{realm}/protocol/openid-connect/");
    match (route, oidc) {
        (
            "/realms/{realm}/.well-known/openid-configuration"
            | "/realms/{realm}/.well-known/oauth-authorization-server"
            | "/.well-known/oauth-authorization-server/realms/{realm}",
            _,
        )
        | (_, Some("certs")) => Some((Policy::Public, "GET, OPTIONS")),
        (_, Some("token" | "token/introspect" | "revoke" | "auth/device")) => Some((Policy::Client, "POST, OPTIONS")),
        (_, Some("logout")) => Some((Policy::Client, "GET, POST, OPTIONS")),
        (_, Some("userinfo")) => Some((Policy::Bearer, "GET, POST, OPTIONS")),
        _ => None,
    }
}

/// The middleware. Requests without an `Origin` header (servers, curl) pass through untouched.
pub async fn cors(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let Some((policy, methods)) = route.as_deref().and_then(policy) else {
        return next.run(request).await;
    };
    let Some(origin) =
        request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_string)
    else {
        return next.run(request).await;
    };
    let realm = request
        .extract_parts::<Path<HashMap<String, String>>>()
        .await
        .ok()
        .and_then(|Path(mut params)| params.remove("realm"))
        .unwrap_or_default();

    if request.method() == Method::OPTIONS
        && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        // A preflight names no client, so it is allowed for an origin some client of the realm
        // accepts (Keycloak allows any origin here); the real request is then checked again.
        let allowed = match policy {
            Policy::Public => true,
            Policy::Client | Policy::Bearer => realm_allows(&state, &realm, &origin).await,
        };
        let mut response = StatusCode::OK.into_response();
        if allowed {
            let headers = response.headers_mut();
            allow(headers, &origin);
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
        }
        response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
        return response;
    }

    let (request, client_id) = match policy {
        Policy::Public => (request, None),
        Policy::Client => match client_id_of(request).await {
            Ok(found) => found,
            Err(response) => return response,
        },
        Policy::Bearer => match azp_of(request).await {
            Ok(found) => found,
            Err(response) => return response,
        },
    };
    let allowed = match (policy, client_id) {
        (Policy::Public, _) => true,
        (_, Some(client_id)) => client_allows(&state, &realm, &client_id, &origin).await,
        (_, None) => false,
    };
    let mut response = next.run(request).await;
    if allowed {
        allow(response.headers_mut(), &origin);
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
    }
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

fn allow(headers: &mut HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    }
}

async fn realm_allows(state: &AppState, realm: &str, origin: &str) -> bool {
    match state.realms.enabled(realm).await {
        Ok(Some(ctx)) => ctx.clients.values().any(|client| client.enabled && origin_allowed(client, origin)),
        _ => false,
    }
}

async fn client_allows(state: &AppState, realm: &str, client_id: &str, origin: &str) -> bool {
    match state.realms.enabled(realm).await {
        Ok(Some(ctx)) => {
            ctx.client(client_id).is_some_and(|client| client.enabled && origin_allowed(&client, origin))
        }
        _ => false,
    }
}

/// Keycloak's `WebOriginsUtils.resolveValidWebOrigins` plus the match: `*` allows every origin,
/// `+` the origins of the absolute redirect URIs, anything else is an origin. The opaque origin
/// `null` (sandboxed frames, `file:`) is never allowed, not even by `*`: echoing it with
/// credentials would open the endpoint to any sandboxed page.
pub fn origin_allowed(client: &Client, origin: &str) -> bool {
    let Some(origin) = normalize(origin) else {
        return false;
    };
    client.web_origins.iter().any(|allowed| match allowed.as_str() {
        "*" => true,
        "+" => client.redirect_uris.iter().any(|uri| normalize(uri).as_deref() == Some(origin.as_str())),
        other => normalize(other).as_deref() == Some(origin.as_str()),
    })
}

/// The ASCII serialization of a URL's origin (`scheme://host[:port]`, default port omitted), or
/// `None` for opaque origins and strings that are not absolute URLs.
fn normalize(url: &str) -> Option<String> {
    let origin = url::Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Reads the body (bounded like every other request body) and hands back an identical request.
async fn buffered(request: Request) -> Result<(Request, axum::body::Bytes), Response> {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        let body =
            serde_json::json!({ "error": "invalid_request", "error_description": "request body too large" });
        (StatusCode::PAYLOAD_TOO_LARGE, Json(body)).into_response()
    })?;
    Ok((Request::from_parts(parts, Body::from(bytes.clone())), bytes))
}

fn is_form(request: &Request) -> bool {
    request.method() == Method::POST
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

fn form_value(bytes: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(bytes)
        .find(|(key, value)| key == name && !value.is_empty())
        .map(|(_, v)| v.into_owned())
}

/// The client named by `Authorization: Basic` (form-encoded id, RFC 6749 §2.3.1), else by
/// `client_id` in the form body or, for GET, the query.
async fn client_id_of(request: Request) -> Result<(Request, Option<String>), Response> {
    let basic = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.get(..6).filter(|s| s.eq_ignore_ascii_case("basic ")).map(|_| v[6..].trim().to_string())
        })
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|decoded| decoded.split_once(':').map(|(id, _)| format!("v={id}")))
        .and_then(|id| form_value(id.as_bytes(), "v"));
    if basic.is_some() {
        return Ok((request, basic));
    }
    if is_form(&request) {
        let (request, bytes) = buffered(request).await?;
        let client_id = form_value(&bytes, "client_id");
        return Ok((request, client_id));
    }
    let client_id = request.uri().query().and_then(|q| form_value(q.as_bytes(), "client_id"));
    Ok((request, client_id))
}

/// The `azp` claim of the bearer token (header, or `access_token` in a form body). The token is
/// not verified here: the handler does that, and `azp` only selects whose web origins apply.
async fn azp_of(request: Request) -> Result<(Request, Option<String>), Response> {
    let from_header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    let (request, token) = match from_header {
        Some(token) => (request, Some(token)),
        None if is_form(&request) => {
            let (request, bytes) = buffered(request).await?;
            let token = form_value(&bytes, "access_token");
            (request, token)
        }
        None => (request, None),
    };
    let azp = token.as_deref().and_then(|jwt| jwt.split('.').nth(1)).and_then(|payload| {
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        claims.get("azp")?.as_str().map(str::to_string)
    });
    Ok((request, azp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(web_origins: &[&str], redirect_uris: &[&str]) -> Client {
        Client {
            realm_id: "realm".into(),
            redirect_uris: redirect_uris.iter().map(|s| s.to_string()).collect(),
            web_origins: web_origins.iter().map(|s| s.to_string()).collect(),
            ..Client::for_tests("spa")
        }
    }

    #[test]
    fn plus_means_the_origins_of_the_redirect_uris() {
        let spa = client(&["+"], &["http://127.0.0.1:8000/*", "https://app.example.com/callback"]);
        assert!(origin_allowed(&spa, "http://127.0.0.1:8000"));
        assert!(origin_allowed(&spa, "https://app.example.com"));
        assert!(!origin_allowed(&spa, "http://127.0.0.1:8001"));
        assert!(!origin_allowed(&spa, "https://evil.example.com"));
    }

    #[test]
    fn listed_origins_match_as_origins_and_star_allows_all_but_null() {
        let spa = client(&["https://App.Example.com:443/"], &[]);
        assert!(origin_allowed(&spa, "https://app.example.com"));
        assert!(!origin_allowed(&spa, "http://app.example.com"));
        let open = client(&["*"], &[]);
        assert!(origin_allowed(&open, "https://anyone.example"));
        assert!(!origin_allowed(&open, "null"));
        assert!(!origin_allowed(&client(&[], &["http://127.0.0.1:8000/*"]), "http://127.0.0.1:8000"));
    }

    #[test]
    fn only_the_oidc_endpoints_have_a_policy() {
        assert!(matches!(policy("/realms/{realm}/protocol/openid-connect/token"), Some((Policy::Client, _))));
        assert!(matches!(
            policy("/realms/{realm}/protocol/openid-connect/userinfo"),
            Some((Policy::Bearer, _))
        ));
        assert!(matches!(policy("/realms/{realm}/protocol/openid-connect/certs"), Some((Policy::Public, _))));
        assert!(matches!(policy("/.well-known/oauth-authorization-server/realms/{realm}"), Some((Policy::Public, _))));
        assert!(matches!(policy("/realms/{realm}/.well-known/oauth-authorization-server"), Some((Policy::Public, _))));
        assert!(policy("/realms/{realm}/protocol/openid-connect/auth").is_none());
        assert!(policy("/admin/realms/{realm}").is_none());
    }
}
