//! Self-registration pages (`registrationAllowed`): Keycloak's entry point
//! `/protocol/openid-connect/registrations` (an authorization request that opens the form), the
//! login page's "Register" link (`login-actions/registration`, carrying the login's sealed
//! state), and the form's post, which creates the user (`crate::users::registration`) and goes
//! on as a login does: required actions first, then the session and the client.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

use super::base_url::BaseUrl;
use super::login::{login_csrf_matches, error_to_client, with_cookies, Browser};
use crate::app::AppState;
use crate::crypto::random::random_token;
use crate::crypto::SecretString;
use crate::oauth::authorize::{self, Validated};
use crate::oauth::events::EventKind;
use crate::oauth::request::FormParams;
use crate::users::actions::{ActionError, FormError, ProfileForm};
use crate::users::registration::{register, Registration};
use crate::web::cookies::{self, LOGIN_COOKIE};
use crate::web::pending::{Pending, Target, Then};
use crate::web::page;

const NOT_ALLOWED: &str = "Registration not allowed";

/// The values the form shows again after a refusal.
#[derive(Default)]
struct Filled {
    username: String,
    email: String,
    first_name: String,
    last_name: String,
}

/// The registration form for a login in progress (`target`), with its CSRF cookie.
fn form(b: &Browser, state: &AppState, target: Target, filled: &Filled, errors: &[FormError]) -> Response {
    let csrf = b.login_csrf.clone().unwrap_or_else(random_token::<16>);
    let pending = Pending { target, csrf, exp: b.now + b.realm.realm.settings.access_code_lifespan_login };
    let field_error = |name: &str| errors.iter().find(|e| e.field.as_deref() == Some(name)).map(|e| e.message.clone());
    let settings = &b.realm.realm.settings;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let response = page(
        status,
        "registration.html",
        context! {
            realm_name => b.display_name(),
            action => format!("/realms/{}/login-actions/registration", b.name()),
            auth => pending.seal(&state.master_key, b.name()),
            csrf => pending.csrf.clone(),
            email_as_username => settings.registration_email_as_username,
            username => filled.username,
            email => filled.email,
            first_name => filled.first_name,
            last_name => filled.last_name,
            username_error => field_error("username"),
            email_error => field_error("email"),
            first_name_error => field_error("firstName"),
            last_name_error => field_error("lastName"),
            password_error => field_error("password"),
            confirm_error => field_error("password-confirm"),
        },
    );
    with_cookies(response, &[cookies::set(LOGIN_COOKIE, pending.csrf, b.name(), b.secure, None)])
}

/// `GET .../protocol/openid-connect/registrations`: Keycloak's registration entry point, an
/// authorization request (same parameters and checks) that opens the form.
pub async fn registrations(
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
    let params = match FormParams::parse(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return b.error_page(StatusCode::BAD_REQUEST, e.description().unwrap_or("Invalid request")),
    };
    let request = match authorize::validate(&b.realm, &params) {
        Err(authorize::PageError(message)) => return b.error_page(StatusCode::BAD_REQUEST, &message),
        Ok(Validated::Redirect(_, request, error)) => return error_to_client(&request, error, &b.issuer),
        Ok(Validated::Ok(_, request)) => request,
    };
    if !b.realm.realm.settings.registration_allowed {
        return b.error_page(StatusCode::FORBIDDEN, NOT_ALLOWED);
    }
    form(&b, &state, Target::Authorize(request), &Filled::default(), &[])
}

/// `GET .../login-actions/registration?auth=...`: the login page's "Register" link.
pub async fn registration_page(
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
    if !b.realm.realm.settings.registration_allowed {
        return b.error_page(StatusCode::FORBIDDEN, NOT_ALLOWED);
    }
    let params = query.as_deref().and_then(|q| FormParams::parse(q.as_bytes()).ok());
    let Some(pending) = params.as_ref().and_then(|p| p.get("auth")).and_then(|blob| Pending::open(&state.master_key, b.name(), blob, b.now)) else {
        return b.timed_out();
    };
    form(&b, &state, pending.target, &Filled::default(), &[])
}

/// `POST .../login-actions/registration`: creates the user, then continues the login.
pub async fn register_form(
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
    if !b.realm.realm.settings.registration_allowed {
        return b.error_page(StatusCode::FORBIDDEN, NOT_ALLOWED);
    }
    let Ok(fields) = FormParams::parse(&body) else {
        return b.error_page(StatusCode::BAD_REQUEST, "Invalid request.");
    };
    let Some(pending) = fields.get("auth").and_then(|blob| Pending::open(&state.master_key, b.name(), blob, b.now)) else {
        return b.timed_out();
    };
    if !login_csrf_matches(&headers, &fields, &pending.csrf) {
        return b.bad_csrf();
    }
    let text = |name: &str| fields.get(name).map(|v| v.chars().take(1024).collect::<String>());
    let filled = Filled {
        username: text("username").unwrap_or_default(),
        email: text("email").unwrap_or_default(),
        first_name: text("firstName").unwrap_or_default(),
        last_name: text("lastName").unwrap_or_default(),
    };
    let registration = Registration {
        profile: ProfileForm { username: text("username"), email: text("email"), first_name: text("firstName"), last_name: text("lastName") },
        password: SecretString::new(fields.get("password").unwrap_or("")),
        confirm: SecretString::new(fields.get("password-confirm").unwrap_or("")),
    };
    let client_id = match &pending.target {
        Target::Authorize(request) => Some(request.client_id.clone()),
        Target::Account => None,
    };
    match register(state.store.as_ref(), &state.hasher, &b.realm.realm, registration, b.now).await {
        Ok(user) => {
            b.event(&state, EventKind::Register, client_id.as_deref(), Some(&user.id), None, None);
            let then = Then::Login { target: pending.target, remember_me: false };
            super::required_actions::resume(&b, &state, &user.id, pending.csrf, Vec::new(), then).await
        }
        Err(ActionError::Form(errors)) => {
            b.event(&state, EventKind::RegisterError, client_id.as_deref(), None, None, Some("invalid_registration"));
            tracing::info!(realm = b.name(), reason = %errors.first().map(|e| e.message.as_str()).unwrap_or(""), "registration refused");
            form(&b, &state, pending.target, &filled, &errors)
        }
        Err(e) => {
            tracing::error!(error = %e, "registration failed");
            b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later.")
        }
    }
}
