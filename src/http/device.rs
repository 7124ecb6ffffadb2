//! The device authorization grant's HTTP side (RFC 8628): the device authorization endpoint
//! (`POST .../protocol/openid-connect/auth/device`, client-authenticated like the token
//! endpoint) and the user's page at Keycloak's `/realms/{realm}/device`, where a user code
//! (typed, or in `verification_uri_complete`'s `user_code`) starts the browser login of
//! `crate::http::login` for the device's client; that login ends here, approving or denying the
//! grant. A wrong code is marked for the page's per-address limit (`rate_limit::device_page`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use minijinja::context;

use super::base_url::BaseUrl;
use super::login::{after_login, login_form, Browser};
use super::token::{no_store, ClientRequest};
use crate::app::AppState;
use crate::domain::Client;
use crate::oauth::authorize::{AuthorizationRequest, Prompt, ResponseMode};
use crate::oauth::device;
use crate::oauth::events::EventKind;
use crate::oauth::request::FormParams;
use crate::oauth::OAuthError;
use crate::ops::rate_limit::WrongUserCode;
use crate::session;
use crate::store::UserSessionRecord;
use crate::web::pending::Target;
use crate::web;

/// Keycloak's texts (its `messages_en.properties`).
const INVALID_CODE: &str = "Invalid code, please try again.";
const EXPIRED_CODE: &str = "The code has expired. Please go back to your device and try connecting again.";
const DENIED: &str = "Consent denied for connecting the device.";
const FAILED_HEADING: &str = "Device Login Failed";

/// `POST .../auth/device` (§3.1): the codes as JSON (§3.2), or RFC 6749 §5.2's error.
pub async fn device_authorization(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let request = ClientRequest::parse(&state, &realm, &base, peer, &headers, &body).await?;
    let ctx = request.context(&state);
    match device::authorize(state.store.as_ref(), &request.realm, &request.client, &request.form, &request.issuer, ctx.now).await {
        Ok(answer) => {
            ctx.event(EventKind::DeviceAuth, None, None, None);
            Ok(no_store(Json(answer)))
        }
        Err(e) => {
            ctx.event(EventKind::DeviceAuthError, None, None, Some(e.code()));
            Err(e)
        }
    }
}

/// `GET /realms/{realm}/device`: the form, or with `user_code` (from
/// `verification_uri_complete`) straight to that code's login.
pub async fn page(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let b = match Browser::new(&state, &realm, base, peer, &headers).await {
        Ok(b) => b,
        Err(page) => return page,
    };
    let params = FormParams::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    match params.get("user_code") {
        Some(code) => verify(&b, &state, &headers, code).await,
        None => form(&b, "", None),
    }
}

/// `POST /realms/{realm}/device`: the form's `device_user_code` (or `cancel`).
pub async fn submit(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let b = match Browser::new(&state, &realm, base, peer, &headers).await {
        Ok(b) => b,
        Err(page) => return page,
    };
    let Ok(form) = FormParams::parse(&body) else {
        return b.error_page(StatusCode::BAD_REQUEST, "Invalid request.");
    };
    if form.get("cancel").is_some() {
        return failed_page(StatusCode::OK, &b.display_name(), DENIED);
    }
    verify(&b, &state, &headers, form.get(device::USER_CODE_FIELD).unwrap_or("")).await
}

fn form(b: &Browser, typed: &str, error: Option<&str>) -> Response {
    let action = format!("/realms/{}/device", b.name());
    web::page(StatusCode::OK, "device.html", context! { realm_name => b.display_name(), action, user_code => typed, error })
}

/// The form again with Keycloak's message, marked for the wrong-code limit.
fn refused(b: &Browser, state: &AppState, typed: &str, message: &str, reason: &str) -> Response {
    b.event(state, EventKind::DeviceVerifyUserCodeError, None, None, None, Some("invalid_oauth2_user_code"));
    tracing::info!(realm = b.name(), reason, "device user code refused");
    let typed: String = typed.chars().take(16).collect();
    let mut response = form(b, &typed, Some(message));
    response.extensions_mut().insert(WrongUserCode);
    response
}

/// A typed user code: a live grant's starts the login of its client (the user's SSO session
/// when there is one, else the login form); anything else is the form again.
async fn verify(b: &Browser, state: &AppState, headers: &HeaderMap, typed: &str) -> Response {
    let Some(code) = device::normalise(typed) else {
        return refused(b, state, typed, INVALID_CODE, "not a user code");
    };
    let grant = match state.store.device_grant_by_user_code(&b.realm.realm.id, &device::user_code_hash(&code)).await {
        Ok(Some(grant)) => grant,
        Ok(None) => return refused(b, state, typed, INVALID_CODE, "no such user code"),
        Err(e) => {
            tracing::error!(error = %e, "cannot read device authorization");
            return b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later.");
        }
    };
    if grant.user_session_id.is_some() || grant.denied {
        return refused(b, state, typed, INVALID_CODE, "user code already decided");
    }
    if grant.expires_at <= b.now {
        return refused(b, state, typed, EXPIRED_CODE, "user code expired");
    }
    let Some(client) = b.realm.client_by_internal_id(&grant.client_id).filter(|c| c.enabled && device::enabled(c)) else {
        return refused(b, state, typed, INVALID_CODE, "the client may no longer use the device grant");
    };
    b.event(state, EventKind::DeviceVerifyUserCode, Some(&client.client_id), None, None, None);
    let request = AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri: String::new(),
        scope: grant.scope,
        state: None,
        nonce: None,
        code_challenge: None,
        code_challenge_method: None,
        // a stored consent does not approve a device: the user confirms each one
        prompt: Some(Prompt::Consent),
        max_age: None,
        login_hint: None,
        response_mode: ResponseMode::Query,
        device: Some(code),
        dpop_jkt: None,
    };
    if let Some((cookie, session, _user)) = b.sso_session(state, headers).await {
        let refresh = crate::http::session_iframe::resumed_state_cookie(headers, b.name(), &session.id, b.secure);
        return after_login(b, state, &client, request, &session, &cookie.csrf, refresh.as_slice()).await;
    }
    login_form(b, state, Target::Authorize(request), "", None, StatusCode::OK)
}

/// The login of `user_code` ended with the user's approval: the grant is approved for `session`
/// (the device's next poll gets the tokens), unless it expired or was decided meanwhile.
pub(crate) async fn approve(b: &Browser, state: &AppState, client: &Client, user_code: &str, session: &UserSessionRecord) -> Response {
    let settings = &b.realm.realm.settings;
    let decided = async {
        let approved = state.store.decide_device_grant(&b.realm.realm.id, &device::user_code_hash(user_code), Some(&session.id), b.now).await?;
        if approved {
            state.store.touch_user_session(&session.id, b.now, session::deadline(settings, session, None, Some(b.now))).await?;
        }
        Ok::<bool, crate::store::StoreError>(approved)
    };
    match decided.await {
        Ok(true) => {
            tracing::info!(realm = b.name(), client = %client.client_id, "device authorization approved");
            web::message(StatusCode::OK, &b.display_name(), "Device Login Successful", "Please close this browser window and go back to your device.")
        }
        Ok(false) => failed_page(StatusCode::BAD_REQUEST, &b.display_name(), EXPIRED_CODE),
        Err(e) => {
            tracing::error!(error = %e, "cannot approve device authorization");
            b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later.")
        }
    }
}

/// The user refused on the consent page: the device's next poll hears `access_denied`.
pub(crate) async fn deny(b: &Browser, state: &AppState, user_code: &str) -> Response {
    match state.store.decide_device_grant(&b.realm.realm.id, &device::user_code_hash(user_code), None, b.now).await {
        Ok(true) => failed_page(StatusCode::OK, &b.display_name(), DENIED),
        Ok(false) => failed_page(StatusCode::BAD_REQUEST, &b.display_name(), EXPIRED_CODE),
        Err(e) => {
            tracing::error!(error = %e, "cannot deny device authorization");
            b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later.")
        }
    }
}

/// Keycloak's "Device Login Failed" page with `message`.
pub(crate) fn failed_page(status: StatusCode, realm_name: &str, message: &str) -> Response {
    web::message(status, realm_name, FAILED_HEADING, message)
}
