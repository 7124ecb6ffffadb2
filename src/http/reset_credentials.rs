//! Forgot password (`resetPasswordAllowed`): Keycloak's `/realms/{realm}/login-actions/reset-credentials`
//! asks for a username or e-mail address and answers the same whether or not such a user exists
//! ("You should receive an email shortly with further instructions."); when one does, is enabled
//! and has an address, a mail with a user-lifespan action link is queued (at most a burst of 3 and
//! then one a minute per address; the form is also under the login form's per-IP limit). The
//! link leads to `action_token`, which runs UPDATE_PASSWORD, so the password policy applies.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

use super::action_token::info_page;
use super::base_url::BaseUrl;
use super::login::Browser;
use crate::app::AppState;
use crate::domain::User;
use crate::mail::flows::{LinkTarget, Outbox};
use crate::web::pending::{Pending, Target};
use crate::web::{self, page};

pub const EMAIL_SENT: &str = "You should receive an email shortly with further instructions.";
pub const MISSING_USERNAME: &str = "Please specify username.";
pub const NOT_ALLOWED: &str = "Reset Credential not allowed";
/// Longest username or address looked up.
const MAX_LOGIN_LEN: usize = 255;

fn param(raw: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(raw).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The "Forgot Password?" link of the login page, when the realm allows resets. `auth` is the
/// login's sealed state: the reset keeps its client and redirect for the back link.
pub fn login_link(b: &Browser, auth: &str) -> Option<minijinja::Value> {
    b.realm.realm.settings.reset_password_allowed.then(|| {
        web::attribute_url(&format!("{}/realms/{}/login-actions/reset-credentials?auth={auth}", b.base, b.name()))
    })
}

/// The login this reset started from, when its sealed state still opens.
fn pending(b: &Browser, state: &AppState, auth: Option<&str>) -> Option<Pending> {
    Pending::open(&state.master_key, b.name(), auth?, b.now)
}

fn form(b: &Browser, auth: Option<&str>, error: Option<&str>, status: StatusCode) -> Response {
    let action = format!("{}/realms/{}/login-actions/reset-credentials", b.base, b.name());
    let login_url = match auth {
        Some(auth) => format!("{}/realms/{}/login-actions/restart?auth={auth}", b.base, b.name()),
        None => format!("{}/realms/{}/account", b.base, b.name()),
    };
    page(
        status,
        "reset_credentials.html",
        context! {
            realm_name => b.display_name(),
            action => web::attribute_url(&action),
            auth,
            error,
            login_url => web::attribute_url(&login_url),
        },
    )
}

async fn browser(state: &AppState, realm: &str, base: BaseUrl, peer: SocketAddr, headers: &HeaderMap) -> Result<Browser, Response> {
    let b = Browser::new(state, realm, base, peer, headers).await?;
    if !b.realm.realm.settings.reset_password_allowed {
        return Err(b.error_page(StatusCode::FORBIDDEN, NOT_ALLOWED));
    }
    Ok(b)
}

/// `GET .../login-actions/reset-credentials`: the form.
pub async fn show(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let b = match browser(&state, &realm, base, peer, &headers).await {
        Ok(b) => b,
        Err(page) => return page,
    };
    let raw = query.unwrap_or_default().into_bytes();
    let auth = param(&raw, "auth").filter(|a| pending(&b, &state, Some(a)).is_some());
    form(&b, auth.as_deref(), None, StatusCode::OK)
}

async fn find_user(b: &Browser, state: &AppState, login: &str) -> Option<User> {
    let realm_id = &b.realm.realm.id;
    let by_name = state.store.user_by_username(realm_id, login).await.ok().flatten();
    if by_name.is_some() || !login.contains('@') {
        return by_name;
    }
    state.store.user_by_email(realm_id, login).await.ok().flatten()
}

/// `POST .../login-actions/reset-credentials`: queue the mail when there is someone to send it to.
pub async fn submit(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let b = match browser(&state, &realm, base, peer, &headers).await {
        Ok(b) => b,
        Err(page) => return page,
    };
    let auth = param(&body, "auth");
    let pending = pending(&b, &state, auth.as_deref());
    let auth = pending.as_ref().and(auth);
    let login = param(&body, "username").map(|u| u.trim().to_string()).unwrap_or_default();
    if login.is_empty() || login.chars().count() > MAX_LOGIN_LEN {
        return form(&b, auth.as_deref(), Some(MISSING_USERNAME), StatusCode::BAD_REQUEST);
    }
    if let Some(user) = find_user(&b, &state, &login).await {
        queue_reset_mail(&b, &state, &user, pending.as_ref());
    }
    info_page(&b, StatusCode::OK, EMAIL_SENT, None)
}

/// Queues the reset mail for an enabled user with an address, within the per-address limit.
/// Nothing here changes the answer the form gives.
fn queue_reset_mail(b: &Browser, state: &AppState, user: &User, pending: Option<&Pending>) {
    let Some(email) = user.email.as_deref().filter(|_| user.enabled && user.service_account_client_id.is_none()) else {
        tracing::info!(realm = b.name(), user = %user.id, "reset credentials: no mail (disabled, or no address)");
        return;
    };
    if !state.mailer.allow_recipient(email, b.now) {
        metrics::counter!(crate::ops::rate_limit::RATE_LIMITED, "endpoint" => "reset_credentials", "bucket" => "recipient").increment(1);
        tracing::info!(realm = b.name(), user = %user.id, "reset credentials: mail not sent, the address had its share");
        return;
    }
    let (client_id, redirect_uri) = match pending.map(|p| &p.target) {
        Some(Target::Authorize(request)) => (Some(request.client_id.as_str()), Some(request.redirect_uri.as_str()).filter(|uri| !uri.is_empty())),
        _ => (None, None),
    };
    let outbox = Outbox { mailer: &state.mailer, master: &state.master_key, base: &b.base, realm: &b.realm, now: b.now };
    let lifespan = b.realm.realm.settings.action_token_generated_by_user_lifespan;
    if let Err(e) = outbox.password_reset(user, &LinkTarget { client_id, redirect_uri, lifespan }) {
        tracing::warn!(realm = b.name(), user = %user.id, error = %e, "reset credentials: mail not queued");
    }
}

/// `GET .../login-actions/restart?auth=...`: back to the login form of the login the reset
/// started from (the reset page's "Back to Login").
pub async fn restart(
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
    let raw = query.unwrap_or_default().into_bytes();
    let auth = param(&raw, "auth");
    match pending(&b, &state, auth.as_deref()) {
        Some(pending) => super::login::login_form(&b, &state, pending.target, "", None, StatusCode::OK),
        None => super::login::login_form(&b, &state, Target::Account, "", None, StatusCode::OK),
    }
}
