//! Keycloak's `/realms/{realm}/login-actions/action-token`: where the links of execute-actions,
//! verify-email and forgot-password mails lead. A GET only shows what the link will do and a
//! "Click here to proceed" button (mail scanners that fetch links must not use them up); the
//! POST checks the token (signature, realm, expiry, the user and the address it was sent to),
//! spends it once for all nodes (`use_action_token`), then verifies the e-mail address or hands
//! the actions to the required-action pages.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

use super::base_url::BaseUrl;
use super::login::Browser;
use crate::app::AppState;
use crate::domain::User;
use crate::mail::action_token::{self, ActionToken, TokenError};
use crate::mail::texts::action_name;
use crate::web::pending::Then;
use crate::web::{self, page};

/// Keycloak's login-theme texts.
pub const EMAIL_VERIFIED: &str = "Your email address has been verified.";
pub const ACCOUNT_UPDATED: &str = "Your account has been updated.";
pub const ACTION_EXPIRED: &str = "Action expired.";
pub const INVALID_CODE: &str = "An error occurred, please login again through your application.";
pub const ACCOUNT_DISABLED: &str = "Account is disabled, contact your administrator.";
pub const BACK_TO_APPLICATION: &str = "« Back to Application";
const VERIFY_EMAIL_ACTION: &str = "VERIFY_EMAIL";

fn param(raw: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(raw).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn refused(b: &Browser, error: TokenError) -> Response {
    match error {
        TokenError::Expired => b.error_page(StatusCode::BAD_REQUEST, ACTION_EXPIRED),
        TokenError::Invalid => b.error_page(StatusCode::BAD_REQUEST, INVALID_CODE),
    }
}

/// The token and its user, when both still hold: the user exists, is enabled and still has the
/// address the mail went to (a link mailed before an address change verifies nothing).
async fn checked(b: &Browser, state: &AppState, key: Option<&str>) -> Result<(ActionToken, User), Response> {
    let Some(key) = key else { return Err(refused(b, TokenError::Invalid)) };
    let token = ActionToken::verify(&b.realm.keys, &b.realm.realm.id, key, b.now).map_err(|e| refused(b, e))?;
    let user = match state.store.user_by_id(&b.realm.realm.id, &token.sub).await {
        Ok(Some(user)) => user,
        Ok(None) => return Err(refused(b, TokenError::Invalid)),
        Err(e) => {
            tracing::error!(error = %e, "action token: the user cannot be read");
            return Err(b.error_page(StatusCode::SERVICE_UNAVAILABLE, "Try again later."));
        }
    };
    if !user.enabled {
        return Err(b.error_page(StatusCode::BAD_REQUEST, ACCOUNT_DISABLED));
    }
    if token.eml.is_some() && token.eml.as_deref().map(str::to_lowercase) != user.email.as_deref().map(str::to_lowercase) {
        return Err(refused(b, TokenError::Invalid));
    }
    Ok((token, user))
}

/// The token's redirect, if its client still exists, is enabled and still allows it.
pub fn back_link(b: &Browser, client_id: Option<&str>, redirect_uri: Option<&str>) -> Option<String> {
    let client = b.realm.client(client_id?)?;
    let uri = redirect_uri?;
    (client.enabled && crate::oauth::authorize::redirect_uri_allowed(&client, uri)).then(|| uri.to_string())
}

/// A page with a message and, when there is somewhere to go back to, Keycloak's back link.
pub fn info_page(b: &Browser, status: StatusCode, message: &str, back_url: Option<String>) -> Response {
    let is_error = status.is_client_error() || status.is_server_error();
    page(
        status,
        "info.html",
        context! {
            realm_name => b.display_name(),
            heading => if is_error { "We are sorry..." } else { message },
            message,
            is_error,
            back_url => back_url.map(|u| web::attribute_url(&u)),
            back_label => BACK_TO_APPLICATION,
        },
    )
}

/// `GET .../login-actions/action-token?key=...&client_id=...`: what the link will do.
pub async fn show(
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
    let key = param(&raw, "key");
    let (token, user) = match checked(&b, &state, key.as_deref()).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let (heading, message, actions): (&str, String, Vec<&str>) = match token.typ.as_str() {
        action_token::VERIFY_EMAIL => (
            "Email verification",
            format!("Confirm validity of e-mail address {}.", user.email.as_deref().unwrap_or_default()),
            Vec::new(),
        ),
        action_token::RESET_CREDENTIALS => ("Reset password", "Choose a new password for your account.".into(), Vec::new()),
        _ => ("Update Your Account", "Perform the following action(s)".into(), token.rqac.iter().map(|a| action_name(a)).collect()),
    };
    let action = format!("{}/realms/{}/login-actions/action-token", b.base, b.name());
    page(
        StatusCode::OK,
        "action_token.html",
        context! {
            realm_name => b.display_name(),
            heading,
            message,
            actions,
            action => web::attribute_url(&action),
            key,
            client_id => param(&raw, "client_id"),
        },
    )
}

/// `POST .../login-actions/action-token`: spends the token and does what it says.
pub async fn proceed(
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
    let key = param(&body, "key");
    let (token, mut user) = match checked(&b, &state, key.as_deref()).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    match state.store.use_action_token(&b.realm.realm.id, &token.jti_hash(), token.exp).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(realm = b.name(), user = %user.id, typ = %token.typ, "action token used again: refused");
            return b.error_page(StatusCode::BAD_REQUEST, ACTION_EXPIRED);
        }
        Err(e) => {
            tracing::error!(error = %e, "action token: its use cannot be recorded");
            return b.error_page(StatusCode::SERVICE_UNAVAILABLE, "Try again later.");
        }
    }
    let back = back_link(&b, token.azp.as_deref(), token.reduri.as_deref());
    // the link came through the mail to the user's current address (checked above), which it
    // proves: a verify-email link, an execute-actions link asking for VERIFY_EMAIL, and a
    // forgot-password link (as Keycloak's reset-credentials flow does) all verify it
    let mut actions = token.rqac.clone();
    let verifies = token.typ != action_token::EXECUTE_ACTIONS || actions.iter().any(|a| a == VERIFY_EMAIL_ACTION);
    actions.retain(|a| a != VERIFY_EMAIL_ACTION);
    if verifies {
        user.email_verified = true;
        user.required_actions.retain(|a| a != VERIFY_EMAIL_ACTION);
        if let Err(e) = state.store.update_user(&user).await {
            tracing::error!(error = %e, "verify email: the user cannot be updated");
            return b.error_page(StatusCode::SERVICE_UNAVAILABLE, "Try again later.");
        }
        tracing::info!(realm = b.name(), user = %user.id, "email verified through a mailed link");
    }
    if actions.is_empty() {
        let message = if token.typ == action_token::VERIFY_EMAIL { EMAIL_VERIFIED } else { ACCOUNT_UPDATED };
        return info_page(&b, StatusCode::OK, message, back);
    }
    let client_id = back.as_ref().and(token.azp);
    run_actions(&b, &state, user, actions, back, client_id).await
}

/// The one call into the required-action pages (`crate::http::required_actions::begin`), which
/// run the user's pending actions and `actions` one after another and end on "Your account has
/// been updated." with the back link.
pub async fn run_actions(
    b: &Browser,
    state: &AppState,
    user: User,
    actions: Vec<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
) -> Response {
    let then = Then::Done { redirect_uri, client_id };
    super::required_actions::begin(b, state, user, actions, then).await
}
