//! The one-time-code step of the browser login (Keycloak's OTP form): shown after a right
//! password when the user holds an OTP credential, posting the code (`otp`) back with the sealed
//! `Continuing` state and the login cookie's CSRF token. `crate::oauth::login::check_otp` checks
//! it (replay, brute-force detection); then the required actions, the session and the client.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

use super::base_url::BaseUrl;
use super::login::{continuing_form, start_session, Browser};
use crate::app::AppState;
use crate::oauth::events::EventKind;
use crate::oauth::login::{check_otp, LoginFailure};
use crate::web::pending::{Continuing, Step, Target, Then};
use crate::web::page;

/// Keycloak's texts (`invalidTotpMessage`, `missingTotpMessage`).
const INVALID_CODE: &str = "Invalid authenticator code.";
const MISSING_CODE: &str = "Please specify authenticator code.";

/// Shows the code form for a login whose password was right.
pub fn begin(b: &Browser, state: &AppState, user_id: String, csrf: String, then: Then) -> Response {
    let flow = Continuing { user_id, step: Step::Otp, extra: Vec::new(), then, csrf, exp: 0, totp_secret: None };
    form(b, state, flow, None)
}

fn form(b: &Browser, state: &AppState, mut flow: Continuing, error: Option<&str>) -> Response {
    flow.exp = b.now + b.realm.realm.settings.access_code_lifespan_login;
    page(
        StatusCode::OK,
        "login_otp.html",
        context! {
            realm_name => b.display_name(),
            action => format!("/realms/{}/login-actions/otp", b.name()),
            auth => flow.seal(&state.master_key, b.name()),
            csrf => flow.csrf.clone(),
            error,
        },
    )
}

/// `POST .../login-actions/otp`: the code form.
pub async fn otp_form(
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
    let (fields, flow) = match continuing_form(&b, &state, &headers, &body, Step::Otp) {
        Ok(parsed) => parsed,
        Err(page) => return page,
    };
    let code: String = fields.get("otp").unwrap_or("").trim().chars().take(16).collect();
    if code.is_empty() {
        return form(&b, &state, flow, Some(MISSING_CODE));
    }
    let client_id = match &flow.then {
        Then::Login { target: Target::Authorize(request), .. } => Some(request.client_id.clone()),
        _ => None,
    };
    match check_otp(state.store.as_ref(), &state.hasher, &state.master_key, &b.realm, &flow.user_id, &code, &b.address, b.now).await {
        Ok(user) => match flow.then {
            Then::Login { target, remember_me } => start_session(&b, &state, &user, target, remember_me, &[]).await,
            Then::Done { .. } => b.error_page(StatusCode::BAD_REQUEST, "Invalid request."),
        },
        Err(LoginFailure::ActionsRequired { user_id, .. }) => {
            super::required_actions::resume(&b, &state, &user_id, flow.csrf, Vec::new(), flow.then).await
        }
        Err(failure) => {
            b.event(&state, EventKind::LoginError, client_id.as_deref(), failure.user_id(), None, Some(failure.event_error()));
            match failure {
                LoginFailure::InvalidCredentials { .. } | LoginFailure::Locked { .. } => form(&b, &state, flow, Some(INVALID_CODE)),
                LoginFailure::Throttled { retry_after } => {
                    let message = format!("Too many failed logins from your network. Wait {retry_after} seconds and try again.");
                    let mut page = crate::web::message(StatusCode::TOO_MANY_REQUESTS, &b.display_name(), "Please wait", &message);
                    page.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(retry_after));
                    page
                }
                LoginFailure::Disabled { .. } => b.error_page(StatusCode::BAD_REQUEST, "Account is disabled, contact your administrator."),
                LoginFailure::UncheckedFactor { .. } => b.error_page(
                    StatusCode::FORBIDDEN,
                    "Your account is protected by a second factor (such as a security key) that this server cannot check \
                     yet, so it cannot sign you in. Contact your administrator.",
                ),
                _ => b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later."),
            }
        }
    }
}
