//! The account page at `/realms/{realm}/account`: the signed-in user's sessions (sign out one or
//! all others), the apps holding offline access (revoke ends their offline sessions and
//! tokens), the authenticator apps of two-factor authentication (OTP credentials: label,
//! created, remove), and a password change (which ends the user's other sessions). Every action
//! is a POST carrying the session's CSRF token from the SSO cookie.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Serialize;

use super::base_url::BaseUrl;
use super::login::{login_form, Browser};
use crate::app::AppState;
use crate::crypto::SecretString;
use crate::users::NewPassword;
use crate::oauth::login::{authenticate, LoginAttempt, LoginFailure};
use crate::oauth::request::FormParams;
use crate::store::UserSessionRecord;
use crate::web::cookies::{self, SsoCookie, SSO_COOKIE};
use crate::web::pending::Target;
use crate::web::{self, page};

#[derive(Serialize)]
struct SessionView {
    id: String,
    current: bool,
    started: String,
    last_access: String,
    ip: String,
    browser: String,
    apps: String,
}

/// One line of "Your profile": an attribute the user profile lets the user view.
#[derive(Serialize)]
struct ProfileView {
    label: String,
    value: String,
}

/// One OTP credential, as Keycloak's account console lists it under "Two-factor authentication".
#[derive(Serialize)]
struct OtpView {
    id: String,
    label: String,
    created: String,
}

#[derive(Serialize)]
struct AppView {
    client_id: String,
    name: String,
    scope: String,
}

fn when(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc2822).ok())
        .unwrap_or_else(|| t.to_string())
}

/// A short browser name from a User-Agent string, for people to recognise their devices.
fn browser_name(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or("");
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/", "curl/", "python-requests/"]
        .iter()
        .find(|needle| ua.contains(*needle))
        .map(|n| n.trim_end_matches('/').replace("Edg", "Edge"))
        .unwrap_or_else(|| "Unknown browser".into());
    let os = ["Android", "iPhone", "Windows", "Mac OS X", "Linux"].iter().find(|o| ua.contains(*o)).copied();
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser,
    }
}

fn notice_text(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "signed-out" => Some("The session was signed out."),
        "signed-out-others" => Some("All other sessions were signed out."),
        "revoked" => Some("Offline access was revoked."),
        "password" => Some("Your password was changed. Your other sessions were signed out."),
        "otp-removed" => Some("The authenticator app was removed."),
        _ => None,
    }
}

fn see_other(realm: &str, notice: &str) -> Response {
    let location = format!("/realms/{realm}/account?notice={notice}");
    web::secure_page((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

#[derive(serde::Deserialize)]
pub struct AccountQuery {
    notice: Option<String>,
}

async fn render(b: &Browser, state: &AppState, cookie: &SsoCookie, current: &UserSessionRecord, username: &str, notice: Option<&str>, error: Option<&str>) -> Response {
    let sessions = match state.store.sessions_of_user(&current.user_id).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot list sessions");
            return b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later.");
        }
    };
    let settings = &b.realm.realm.settings;
    let client_name = |id: &str| b.realm.client_by_internal_id(id).map(|c| c.client_id.clone()).unwrap_or_else(|| "(removed)".into());
    let session_views: Vec<SessionView> = sessions
        .iter()
        .filter(|s| !s.session.offline && crate::session::is_alive(settings, &s.session, None, b.now))
        .map(|s| SessionView {
            id: s.session.id.clone(),
            current: s.session.id == current.id,
            started: when(s.session.started_at),
            last_access: when(s.session.last_access_at),
            ip: s.session.ip.clone().unwrap_or_default(),
            browser: browser_name(s.session.user_agent.as_deref()),
            apps: if s.client_ids.is_empty() { "none".into() } else { s.client_ids.iter().map(|c| client_name(c)).collect::<Vec<_>>().join(", ") },
        })
        .collect();
    let mut apps: Vec<AppView> = Vec::new();
    let consents = state.store.consents_of_user(&current.user_id).await.unwrap_or_default();
    let offline_clients = sessions.iter().filter(|s| s.session.offline).flat_map(|s| s.client_ids.iter().cloned());
    let mut client_ids: Vec<String> = consents.iter().filter(|c| c.scope.split_whitespace().any(|s| s == "offline_access")).map(|c| c.client_id.clone()).chain(offline_clients).collect();
    client_ids.sort();
    client_ids.dedup();
    for id in client_ids {
        if let Some(client) = b.realm.client_by_internal_id(&id) {
            let scope = consents.iter().find(|c| c.client_id == id).map(|c| c.scope.clone()).unwrap_or_else(|| "offline_access".into());
            apps.push(AppView {
                client_id: client.client_id.clone(),
                name: client.name.clone().filter(|n| !n.starts_with("${")).unwrap_or_else(|| client.client_id.clone()),
                scope,
            });
        }
    }
    let stored = state.store.user_profile_config(&b.realm.realm.id).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot read the user profile");
        None
    });
    let profile = match state.store.user_by_id(&b.realm.realm.id, &current.user_id).await {
        Ok(Some(user)) => crate::admin::user_profile::visible_to_user(&crate::admin::user_profile::parse_stored(stored.as_deref()), &user),
        _ => Vec::new(),
    };
    let profile: Vec<ProfileView> = profile.into_iter().map(|(label, values)| ProfileView { label, value: values.join(", ") }).collect();
    let otp = match state.store.otp_credentials(&current.user_id).await {
        Ok(held) => held,
        Err(e) => {
            tracing::error!(error = %e, "cannot list OTP credentials");
            return b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later.");
        }
    };
    let otp: Vec<OtpView> = otp
        .into_iter()
        .map(|s| OtpView {
            label: s.credential.user_label.clone().unwrap_or_else(|| "Authenticator application".into()),
            created: when(s.credential.created_at),
            id: s.credential.id,
        })
        .collect();
    page(StatusCode::OK, "account.html", context! {
        realm_name => b.display_name(),
        username,
        profile,
        sessions => session_views,
        apps,
        otp,
        csrf => cookie.csrf,
        base => format!("/realms/{}/account", b.name()),
        logout => format!("/realms/{}/account/sign-out", b.name()),
        notice => notice_text(notice),
        error,
    })
}

pub async fn account(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<AccountQuery>,
    headers: HeaderMap,
) -> Response {
    let b = match Browser::new(&state, &realm, base, peer, &headers).await {
        Ok(b) => b,
        Err(page) => return page,
    };
    match b.sso_session(&state, &headers).await {
        Some((cookie, session, user)) => render(&b, &state, &cookie, &session, &user.username, query.notice.as_deref(), None).await,
        None => login_form(&b, &state, Target::Account, "", None, StatusCode::OK),
    }
}

/// `POST /realms/{realm}/account/{action}`.
pub async fn account_action(
    State(state): State<AppState>,
    Path((realm, action)): Path<(String, String)>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let b = match Browser::new(&state, &realm, base, peer, &headers).await {
        Ok(b) => b,
        Err(page) => return page,
    };
    let Some((cookie, session, user)) = b.sso_session(&state, &headers).await else {
        return login_form(&b, &state, Target::Account, "", Some("Your session has ended. Please sign in again."), StatusCode::OK);
    };
    let Ok(form) = FormParams::parse(&body) else {
        return b.error_page(StatusCode::BAD_REQUEST, "Invalid request.");
    };
    if form.get("csrf") != Some(cookie.csrf.as_str()) {
        return b.error_page(StatusCode::BAD_REQUEST, "Invalid or missing CSRF token.");
    }
    let realm_id = b.realm.realm.id.clone();
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, action, "account action failed");
        b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later.")
    };
    match action.as_str() {
        "sessions/sign-out" => {
            let target = form.get("session").unwrap_or("");
            let owned = matches!(state.store.user_session(&realm_id, target).await, Ok(Some(s)) if s.user_id == user.id);
            if owned {
                match state.store.delete_user_session(&realm_id, target).await {
                    Ok(ended) => b.sessions_ended(&state, ended.as_slice()).await,
                    Err(e) => return failed(&e),
                }
            }
            see_other(b.name(), "signed-out")
        }
        "sessions/sign-out-others" => match state.store.delete_other_sessions(&user.id, &session.id, false).await {
            Ok(ended) => {
                b.sessions_ended(&state, &ended).await;
                see_other(b.name(), "signed-out-others")
            }
            Err(e) => failed(&e),
        },
        "applications/revoke" => {
            let Some(client) = form.get("client").and_then(|c| b.realm.client(c)) else {
                return b.error_page(StatusCode::BAD_REQUEST, "Unknown application.");
            };
            match state.store.revoke_consent(&user.id, &client.id).await {
                Ok(ended) => {
                    b.sessions_ended(&state, &ended.unwrap_or_default()).await;
                    see_other(b.name(), "revoked")
                }
                Err(e) => failed(&e),
            }
        }
        "totp/remove" => {
            let target = form.get("credential").unwrap_or("");
            // only an OTP credential of this user: this form never removes a password
            let owned = match state.store.otp_credentials(&user.id).await {
                Ok(held) => held.iter().any(|s| s.credential.id == target),
                Err(e) => return failed(&e),
            };
            if !owned {
                return b.error_page(StatusCode::BAD_REQUEST, "Unknown authenticator app.");
            }
            match state.store.delete_credential(&user.id, target).await {
                Ok(_) => see_other(b.name(), "otp-removed"),
                Err(e) => failed(&e),
            }
        }
        "password" => {
            let (current, new, confirm) = (form.get("current").unwrap_or(""), form.get("new").unwrap_or(""), form.get("confirm").unwrap_or(""));
            let problem = if new.is_empty() {
                Some("Please specify a new password.")
            } else if new != confirm {
                Some("Passwords don't match.")
            } else if !current_password_right(&state, &b, &user.username, current).await {
                Some("Invalid existing password.")
            } else {
                None
            };
            if let Some(problem) = problem {
                return render(&b, &state, &cookie, &session, &user.username, None, Some(problem)).await;
            }
            match crate::users::set_password(state.store.as_ref(), &state.hasher, &b.realm.realm, &user, NewPassword { value: SecretString::new(new), temporary: false }, b.now, Some(&session.id)).await {
                Ok(ended) => {
                    b.sessions_ended(&state, &ended).await;
                    see_other(b.name(), "password")
                }
                Err(crate::users::PasswordError::Policy(violation)) => {
                    render(&b, &state, &cookie, &session, &user.username, None, Some(&violation.message())).await
                }
                Err(e) => failed(&e),
            }
        }
        "sign-out" => {
            match state.store.delete_user_session(&realm_id, &session.id).await {
                Ok(ended) => b.sessions_ended(&state, ended.as_slice()).await,
                Err(e) => return failed(&e),
            }
            let mut response = web::message(StatusCode::OK, &b.display_name(), "You are signed out", "You are signed out.");
            if let Ok(value) = cookies::clear(SSO_COOKIE, b.name(), b.secure).parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            // other tabs' session iframes see the session end at their next check
            crate::http::session_iframe::clear_state_cookie(response.headers_mut(), b.name(), b.secure);
            response
        }
        _ => b.error_page(StatusCode::NOT_FOUND, "Unknown action."),
    }
}

/// Whether the current password typed on the account page is right. A user the login would
/// refuse for what comes after the password (required actions, a second factor) still typed it
/// right.
async fn current_password_right(state: &AppState, b: &Browser, username: &str, current: &str) -> bool {
    let attempt = LoginAttempt { login: username, password: SecretString::new(current), address: &b.address, otp: None };
    matches!(
        authenticate(state.store.as_ref(), &state.hasher, &state.master_key, &b.realm, attempt, b.now).await,
        Ok(_) | Err(LoginFailure::ActionsRequired { .. } | LoginFailure::UncheckedFactor { .. } | LoginFailure::OtpRequired { .. })
    )
}
