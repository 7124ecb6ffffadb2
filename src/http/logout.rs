//! `GET|POST .../protocol/openid-connect/logout`. A POST carrying a `refresh_token` is the
//! client-authenticated token logout (`http::token::logout`); everything else is OIDC
//! RP-Initiated Logout 1.0, which ends the session the browser holds (its SSO cookie): at once
//! with an `id_token_hint` of that session; after a confirmation form (against logout CSRF) with
//! no hint, or a hint of another session (§2, §6: an attacker's own or a stale one). Without a
//! browser session there is nothing to clear: no cookie is touched, and a hint's own online
//! session is ended (a cross-site POST does not carry our SameSite cookie). Offline sessions
//! survive. `post_logout_redirect_uri` must be registered for the client (Keycloak's
//! `post.logout.redirect.uris`, `+` meaning the redirect URIs).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::base_url::BaseUrl;
use super::login::Browser;
use crate::app::AppState;
use crate::domain::Client;
use crate::oauth::authorize::{redirect_uri_allowed, uri_matches_any};
use crate::oauth::events::EventKind;
use crate::oauth::frontchannel_logout;
use crate::oauth::request::FormParams;
use crate::oauth::tokens::access::verify_id_token_hint;
use crate::store::sessions::SessionWithClients;
use crate::web::cookies::{self, SSO_COOKIE};
use crate::web::{self, page};

/// Whether `uri` may receive the browser after logout.
pub fn post_logout_uri_allowed(client: &Client, uri: &str) -> bool {
    let registered = client.attributes.get("post.logout.redirect.uris").map(String::as_str).unwrap_or("");
    let plus = registered.split("##").any(|r| r == "+");
    (plus && redirect_uri_allowed(client, uri)) || uri_matches_any(client.post_logout_redirect_uris(), uri)
}

pub async fn logout_get(
    state: State<AppState>,
    realm: Path<String>,
    base: BaseUrl,
    peer: ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    rp_logout(state, realm, base, peer, Method::GET, query.unwrap_or_default().into_bytes(), headers).await
}

pub async fn logout_post(
    state: State<AppState>,
    realm: Path<String>,
    base: BaseUrl,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let has_refresh_token = FormParams::parse(&body).is_ok_and(|f| f.get("refresh_token").is_some());
    if has_refresh_token {
        return match super::token::logout(state, realm, base, peer, headers, body).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        };
    }
    rp_logout(state, realm, base, peer, Method::POST, body.to_vec(), headers).await
}

async fn rp_logout(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    raw: Vec<u8>,
    headers: HeaderMap,
) -> Response {
    let b = match Browser::new(&state, &realm, base, peer, &headers).await {
        Ok(b) => b,
        Err(page) => return page,
    };
    let Ok(params) = FormParams::parse(&raw) else {
        return b.error_page(StatusCode::BAD_REQUEST, "Invalid request.");
    };
    let hint = match params.get("id_token_hint") {
        Some(token) => match verify_id_token_hint(&b.realm.keys, &b.issuer, token) {
            Some(claims) => Some(claims),
            None => return b.error_page(StatusCode::BAD_REQUEST, "Invalid parameter: id_token_hint"),
        },
        None => None,
    };
    let client_id = params.get("client_id").map(str::to_string).or_else(|| hint.as_ref().map(|h| h.azp.clone()));
    if let (Some(hint), Some(given)) = (&hint, params.get("client_id")) {
        if hint.azp != given {
            return b.error_page(StatusCode::BAD_REQUEST, "Parameter client_id does not match the id_token_hint.");
        }
    }
    let client = client_id.as_deref().and_then(|id| b.realm.client(id));
    let redirect = params.get("post_logout_redirect_uri");
    if let Some(uri) = redirect {
        match &client {
            Some(client) if post_logout_uri_allowed(client, uri) => {}
            Some(_) => return b.error_page(StatusCode::BAD_REQUEST, "Invalid redirect uri"),
            None => return b.error_page(StatusCode::BAD_REQUEST, "Either the parameter client_id or id_token_hint is required with post_logout_redirect_uri."),
        }
    }
    let sso = b.sso_session(&state, &headers).await;
    let confirmed = |csrf: &str| method == Method::POST && params.get("confirm") == Some("yes") && params.get("csrf") == Some(csrf);
    let hint_sid = hint.as_ref().and_then(|h| h.sid.clone());
    let plan = match (&hint_sid, &sso) {
        (Some(sid), Some((_, session, _))) if *sid == session.id => Plan::EndBrowserSession(session.id.clone()),
        (_, Some((cookie, session, _))) if confirmed(&cookie.csrf) => Plan::EndBrowserSession(session.id.clone()),
        (_, Some((cookie, _, _))) => {
            let mut fields: Vec<(&str, String)> = vec![("confirm", "yes".into()), ("csrf", cookie.csrf.clone())];
            for name in ["post_logout_redirect_uri", "state"] {
                if let Some(value) = params.get(name) {
                    fields.push((name, value.to_string()));
                }
            }
            if let Some(client_id) = &client_id {
                fields.push(("client_id", client_id.clone()));
            }
            return page(StatusCode::OK, "message.html", context! {
                realm_name => b.display_name(),
                heading => "Sign out",
                message => "Do you want to sign out?",
                confirm_action => format!("/realms/{}/protocol/openid-connect/logout", b.name()),
                fields,
            });
        }
        (Some(sid), None) => Plan::EndHintedSession(sid.clone()),
        (None, None) => Plan::Nothing,
    };
    let ended = match &plan {
        Plan::EndBrowserSession(sid) => state.store.delete_user_session(&b.realm.realm.id, sid).await,
        Plan::EndHintedSession(sid) => end_online_session(&state, &b, sid).await,
        Plan::Nothing => Ok(None),
    };
    let mut frontchannel = Vec::new();
    match ended {
        Ok(Some(ended)) => {
            let user = sso.as_ref().map(|(_, _, u)| u.id.as_str()).or(hint.as_ref().map(|h| h.sub.as_str()));
            b.event(&state, EventKind::Logout, client_id.as_deref(), user, Some(&ended.session.id), None);
            b.sessions_ended(&state, std::slice::from_ref(&ended)).await;
            // only a browser that comes with its session can load the clients' logout pages
            if matches!(plan, Plan::EndBrowserSession(_)) {
                frontchannel = frontchannel_logout::logout_uris(&b.realm, &b.issuer, &ended);
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "cannot end session");
            return b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later.");
        }
    }
    let location = redirect.map(|uri| {
        let mut location = uri.to_string();
        if let Some(state_param) = params.get("state") {
            let encoded = form_urlencoded::Serializer::new(String::new()).append_pair("state", state_param).finish();
            location.push(if location.contains('?') { '&' } else { '?' });
            location.push_str(&encoded);
        }
        location
    });
    let mut response = match location {
        _ if !frontchannel.is_empty() => frontchannel_page(&b, &frontchannel, location.as_deref()),
        Some(location) => web::secure_page((StatusCode::FOUND, [(header::LOCATION, location)]).into_response()),
        None if matches!(plan, Plan::Nothing) => {
            web::message(StatusCode::OK, &b.display_name(), "You are signed out", "You are already signed out.")
        }
        None => web::message(StatusCode::OK, &b.display_name(), "You are signed out", "You are signed out."),
    };
    // only the browser whose session ended loses its cookie
    if matches!(plan, Plan::EndBrowserSession(_)) {
        if let Ok(value) = cookies::clear(SSO_COOKIE, b.name(), b.secure).parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        crate::http::session_iframe::clear_state_cookie(response.headers_mut(), b.name(), b.secure);
    }
    response
}

/// The signed-out page that loads each client's front-channel logout URL in an iframe, then goes
/// on to `redirect` (`static/frontchannel-logout.js`). Its CSP allows framing those origins only.
fn frontchannel_page(b: &Browser, parsed: &[url::Url], redirect: Option<&str>) -> Response {
    let uris: Vec<minijinja::Value> = parsed.iter().map(|u| web::attribute_url(u.as_str())).collect();
    let mut response = page(StatusCode::OK, "frontchannel_logout.html", context! {
        realm_name => b.display_name(),
        uris,
        redirect => redirect.map(web::attribute_url),
    });
    let origins = frontchannel_logout::frame_origins(parsed);
    let csp = web::CSP.replace("frame-ancestors", &format!("frame-src {}; frame-ancestors", origins.join(" ")));
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// What an RP-initiated logout ends.
enum Plan {
    /// The session of the browser's SSO cookie (its cookie is cleared).
    EndBrowserSession(String),
    /// No browser session came with the request: the online session the ID token hint names.
    EndHintedSession(String),
    /// No session at all: nothing to end, no cookie to clear.
    Nothing,
}

/// Ends the online session `sid` names; an offline session of that id is left alone (a password
/// grant's offline session is its own `sid`), since logout never ends offline sessions.
async fn end_online_session(state: &AppState, b: &Browser, sid: &str) -> Result<Option<SessionWithClients>, crate::store::StoreError> {
    match state.store.user_session(&b.realm.realm.id, sid).await? {
        Some(session) if !session.offline => state.store.delete_user_session(&b.realm.realm.id, sid).await,
        _ => Ok(None),
    }
}
