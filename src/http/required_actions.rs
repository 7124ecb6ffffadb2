//! The required-action pages of the browser login, between the last factor and the redirect
//! (Keycloak's `login-actions/required-action`): one page per pending action, in the realm's
//! order, each posting back here with the sealed `Continuing` state and the login cookie's CSRF
//! token. What each action writes is `crate::users::actions`; this module only parses forms,
//! renders pages and decides what comes next. E-mail links (execute-actions, forgot password)
//! start here too, through `begin`, and end on a confirmation page without a session.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

use super::base_url::BaseUrl;
use super::login::{continuing_form, error_to_client, start_session, with_cookies, Browser};
use crate::app::AppState;
use crate::crypto::random::random_token;
use crate::crypto::SecretString;
use crate::domain::User;
use crate::oauth::authorize::RedirectError;
use crate::oauth::events::EventKind;
use crate::users::actions::{self, ActionError, FormError, ProfileForm};
use crate::users::otp::{self, OtpError, OtpKind, OtpPolicy};
use crate::web::cookies::{self, LOGIN_COOKIE};
use crate::web::pending::{Continuing, Step, Target, Then};
use crate::web::{self, page};

/// Starts the required actions of `user`, plus `extra` ones (an e-mail link's), in a new flow:
/// sets the login cookie whose CSRF token the pages carry. With nothing to do it goes straight
/// to `then`.
pub async fn begin(b: &Browser, state: &AppState, user: User, extra: Vec<String>, then: Then) -> Response {
    let csrf = b.login_csrf.clone().unwrap_or_else(random_token::<16>);
    let cookie = cookies::set(LOGIN_COOKIE, csrf.clone(), b.name(), b.secure, None);
    let flow = Continuing { user_id: user.id.clone(), step: Step::Actions, extra, then, csrf, exp: 0, totp_secret: None };
    with_cookies(proceed(b, state, user, flow).await, &[cookie])
}

/// Goes on with a login whose password was right but whose user has actions pending: loads the
/// user and shows the first action (the login cookie stays as the form set it).
pub async fn resume(b: &Browser, state: &AppState, user_id: &str, csrf: String, extra: Vec<String>, then: Then) -> Response {
    let user = match enabled_user(b, state, user_id).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    let flow = Continuing { user_id: user.id.clone(), step: Step::Actions, extra, then, csrf, exp: 0, totp_secret: None };
    proceed(b, state, user, flow).await
}

/// The user of the flow, still there and enabled, or the page saying why not.
async fn enabled_user(b: &Browser, state: &AppState, user_id: &str) -> Result<User, Response> {
    match state.store.user_by_id(&b.realm.realm.id, user_id).await {
        Ok(Some(user)) if user.enabled => Ok(user),
        Ok(_) => Err(b.error_page(StatusCode::BAD_REQUEST, "Account is disabled, contact your administrator.")),
        Err(e) => {
            tracing::error!(error = %e, "cannot load the user for required actions");
            Err(b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later."))
        }
    }
}

/// The next action's page, or the end of the flow when none is left.
async fn proceed(b: &Browser, state: &AppState, user: User, flow: Continuing) -> Response {
    let providers = &b.realm.realm.settings.required_actions;
    match actions::next(providers, &user.required_actions, &flow.extra) {
        None => finish(b, state, &user, flow.then).await,
        Some(alias) if alias == actions::VERIFY_EMAIL => {
            let sent = send_verification(b, state, &user, &flow);
            render(b, state, &user, flow, &alias, &[], sent).await
        }
        Some(alias) if actions::RUNNABLE.contains(&alias.as_str()) => render(b, state, &user, flow, &alias, &[], false).await,
        Some(alias) => {
            tracing::warn!(realm = b.name(), user = %user.id, action = %alias, "login stopped: a required action Portcullis cannot run");
            b.error_page(
                StatusCode::FORBIDDEN,
                "Your account is not fully set up: an administrator asked you to complete a step that this server \
                 cannot run. Contact your administrator.",
            )
        }
    }
}

async fn finish(b: &Browser, state: &AppState, user: &User, then: Then) -> Response {
    match then {
        Then::Login { target, remember_me } => start_session(b, state, user, target, remember_me, &[]).await,
        Then::Done { redirect_uri, client_id } => {
            let back = redirect_uri.filter(|uri| client_id.as_deref().and_then(|id| b.realm.client(id)).is_some_and(|c| crate::oauth::authorize::redirect_uri_allowed(&c, uri)));
            let response = page(
                StatusCode::OK,
                "message.html",
                context! {
                    realm_name => b.display_name(),
                    heading => "Account updated",
                    message => "Your account has been updated.",
                    back => back.map(|uri| web::attribute_url(&uri)),
                },
            );
            with_cookies(response, &[cookies::clear(LOGIN_COOKIE, b.name(), b.secure)])
        }
    }
}

/// Renders the page of `alias` with the flow sealed for the next post (a fresh expiry of
/// `accessCodeLifespanUserAction`, as Keycloak gives each action). CONFIGURE_TOTP's secret is
/// made on its first showing and kept in the sealed state until a code proves the app has it.
async fn render(b: &Browser, state: &AppState, user: &User, mut flow: Continuing, alias: &str, errors: &[FormError], sent: bool) -> Response {
    flow.exp = b.now + b.realm.realm.settings.access_code_lifespan_user_action;
    if alias == actions::CONFIGURE_TOTP && flow.totp_secret.is_none() {
        flow.totp_secret = Some(otp::new_secret().expose().to_string());
    }
    let auth = flow.seal(&state.master_key, b.name());
    let action = format!("/realms/{}/login-actions/required-action?execution={alias}", b.name());
    let error = errors.first().map(|e| e.message.clone());
    let field_error = |name: &str| errors.iter().find(|e| e.field.as_deref() == Some(name)).map(|e| e.message.clone());
    let base = context! { realm_name => b.display_name(), action, auth, csrf => flow.csrf.clone(), execution => alias, error };
    match alias {
        actions::UPDATE_PASSWORD => page(StatusCode::OK, "update_password.html", base),
        actions::UPDATE_PROFILE => page(
            StatusCode::OK,
            "update_profile.html",
            context! {
                ..base,
                ..context! {
                    edit_username => b.realm.realm.settings.edit_username_allowed,
                    username => user.username.clone(),
                    email => user.email.clone().unwrap_or_default(),
                    first_name => user.first_name.clone().unwrap_or_default(),
                    last_name => user.last_name.clone().unwrap_or_default(),
                    username_error => field_error("username"),
                    email_error => field_error("email"),
                    first_name_error => field_error("firstName"),
                    last_name_error => field_error("lastName"),
                }
            },
        ),
        actions::TERMS_AND_CONDITIONS => page(StatusCode::OK, "terms.html", base),
        actions::CONFIGURE_TOTP => {
            let policy = OtpPolicy::of(&b.realm.realm.settings);
            let secret = SecretString::new(flow.totp_secret.clone().unwrap_or_default());
            let uri = otp::key_uri(&policy, &secret, &b.display_name(), &user.username);
            page(
                StatusCode::OK,
                "configure_totp.html",
                context! {
                    ..base,
                    ..context! {
                        qr => minijinja::Value::from_safe_string(otp::qr_svg(&uri)),
                        manual => otp::manual_entry(&secret),
                        kind => if policy.kind == OtpKind::Hotp { "Counter-based" } else { "Time-based" },
                        algorithm => policy.algorithm.key_uri_name(),
                        digits => policy.digits,
                        period => policy.period,
                        hotp => policy.kind == OtpKind::Hotp,
                        apps => b.realm.realm.settings.otp_supported_applications.clone(),
                        code_error => field_error("totp"),
                        label_error => field_error("userLabel"),
                    }
                },
            )
        }
        actions::VERIFY_EMAIL => page(
            StatusCode::OK,
            "verify_email.html",
            context! { ..base, ..context! { email => user.email.clone().unwrap_or_default(), sent } },
        ),
        _ => b.error_page(StatusCode::FORBIDDEN, "This step cannot be run here."),
    }
}

/// `POST .../login-actions/required-action?execution=ALIAS`: one action's form.
pub async fn action_form(
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
    let (form, flow) = match continuing_form(&b, &state, &headers, &body, Step::Actions) {
        Ok(parsed) => parsed,
        Err(page) => return page,
    };
    let mut user = match enabled_user(&b, &state, &flow.user_id).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    let providers = &b.realm.realm.settings.required_actions;
    let Some(alias) = actions::next(providers, &user.required_actions, &flow.extra) else {
        return finish(&b, &state, &user, flow.then).await;
    };
    // only the action the page showed may be answered; a stale page shows the current one
    if form.get("execution") != Some(alias.as_str()) {
        return proceed(&b, &state, user, flow).await;
    }
    let client_id = match &flow.then {
        Then::Login { target: Target::Authorize(request), .. } => Some(request.client_id.clone()),
        Then::Done { client_id, .. } => client_id.clone(),
        Then::Login { .. } => None,
    };
    let store = state.store.as_ref();
    let realm_model = &b.realm.realm;
    let result = match alias.as_str() {
        actions::UPDATE_PASSWORD => {
            let new = SecretString::new(form.get("password-new").unwrap_or(""));
            let confirm = SecretString::new(form.get("password-confirm").unwrap_or(""));
            match actions::update_password(store, &state.hasher, realm_model, &mut user, new, confirm, b.now).await {
                Ok(ended) => {
                    b.sessions_ended(&state, &ended).await;
                    Ok(EventKind::UpdatePassword)
                }
                Err(e) => Err(e),
            }
        }
        actions::UPDATE_PROFILE => {
            let field = |name: &str| form.get(name).map(str::to_string);
            let profile = ProfileForm { username: field("username"), email: field("email"), first_name: field("firstName"), last_name: field("lastName") };
            match actions::profile_config(store, realm_model).await {
                Ok(config) => actions::update_profile(store, realm_model, &config, &mut user, &profile).await.map(|()| EventKind::UpdateProfile),
                Err(e) => Err(ActionError::Store(e)),
            }
        }
        actions::CONFIGURE_TOTP => {
            let code = form.get("totp").unwrap_or("").trim();
            let label = form.get("userLabel");
            let secret = SecretString::new(flow.totp_secret.clone().unwrap_or_default());
            if code.is_empty() {
                let error = FormError { field: Some("totp".into()), message: "Please specify authenticator code.".into() };
                return render(&b, &state, &user, flow, &alias, &[error], false).await;
            }
            match otp::enrol(store, &state.master_key, &realm_model.settings, &user.id, &secret, code, label, b.now).await {
                Ok(_) => actions::complete(store, &mut user, actions::CONFIGURE_TOTP).await.map(|()| EventKind::UpdateTotp).map_err(ActionError::from),
                Err(OtpError::Unavailable) => Err(ActionError::Unavailable),
                Err(_) => Err(ActionError::Form(vec![FormError { field: Some("totp".into()), message: "Invalid authenticator code.".into() }])),
            }
        }
        actions::TERMS_AND_CONDITIONS if form.get("cancel").is_some() => {
            b.event(&state, EventKind::CustomRequiredActionError, client_id.as_deref(), Some(&user.id), None, Some("rejected_by_user"));
            return refused(&b, flow.then);
        }
        actions::TERMS_AND_CONDITIONS => actions::accept_terms(store, &mut user, b.now).await.map(|()| EventKind::CustomRequiredAction).map_err(ActionError::from),
        actions::VERIFY_EMAIL => {
            // the mailed link marks the address verified; this page only checks whether it was
            if user.email_verified || user.email.is_none() {
                actions::complete(store, &mut user, actions::VERIFY_EMAIL).await.map(|()| EventKind::VerifyEmail).map_err(ActionError::from)
            } else if form.get("resend").is_some() {
                let sent = send_verification(&b, &state, &user, &flow);
                return render(&b, &state, &user, flow, &alias, &[], sent).await;
            } else {
                let error = FormError { field: None, message: "Your email address is not verified yet. Follow the link in the email we sent you.".into() };
                return render(&b, &state, &user, flow, &alias, &[error], true).await;
            }
        }
        _ => return proceed(&b, &state, user, flow).await,
    };
    match result {
        Ok(kind) => {
            b.event(&state, kind, client_id.as_deref(), Some(&user.id), None, None);
            let mut flow = flow;
            flow.extra.retain(|a| !a.eq_ignore_ascii_case(&alias));
            proceed(&b, &state, user, flow).await
        }
        Err(ActionError::Form(errors)) => {
            tracing::info!(realm = b.name(), action = %alias, reason = %errors.first().map(|e| e.message.as_str()).unwrap_or(""), "required action refused the form");
            render(&b, &state, &user, flow, &alias, &errors, false).await
        }
        Err(e) => {
            tracing::error!(error = %e, action = %alias, "required action failed");
            b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later.")
        }
    }
}

/// Queues the verification mail of VERIFY_EMAIL (a link valid for
/// `actionTokenGeneratedByUserLifespan`); false when it could not be queued.
fn send_verification(b: &Browser, state: &AppState, user: &User, flow: &Continuing) -> bool {
    let (client_id, redirect_uri) = match &flow.then {
        Then::Login { target: Target::Authorize(request), .. } => (Some(request.client_id.as_str()), Some(request.redirect_uri.as_str()).filter(|uri| !uri.is_empty())),
        Then::Done { client_id, redirect_uri } => (client_id.as_deref(), redirect_uri.as_deref()),
        Then::Login { .. } => (None, None),
    };
    // a reloaded or re-submitted page must not flood the mailbox: the per-address mail budget
    if let Some(email) = &user.email {
        if !state.mailer.allow_recipient(email, b.now) {
            tracing::info!(realm = b.name(), user = %user.id, "verification e-mail not sent again yet: per-address limit");
            return true;
        }
    }
    match crate::mail::send_verify_email(state, &b.base, &b.realm, user, client_id, redirect_uri, b.now) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(realm = b.name(), user = %user.id, error = %e, "verification e-mail not queued");
            false
        }
    }
}

/// The user declined (terms and conditions): the client hears `access_denied`, as from
/// Keycloak; a flow without a client ends on a page.
fn refused(b: &Browser, then: Then) -> Response {
    let clear = [cookies::clear(LOGIN_COOKIE, b.name(), b.secure)];
    match then {
        Then::Login { target: Target::Authorize(request), .. } => {
            with_cookies(error_to_client(&request, RedirectError::new("access_denied", "Terms and conditions were not accepted"), &b.issuer), &clear)
        }
        _ => with_cookies(b.error_page(StatusCode::FORBIDDEN, "You need to accept the terms and conditions to continue."), &clear),
    }
}
