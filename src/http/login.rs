//! The browser login flow: the authorization endpoint (OIDC Core §3.1.2), the login form's
//! action and the consent form's action. Pages come from `crate::web`; the request rules from
//! `crate::oauth::authorize`. Errors before the redirect URI is trusted are pages; later ones go
//! back to the client.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::base_url::BaseUrl;
use super::token::header_str;
use crate::app::AppState;
use crate::crypto::random::random_token;
use crate::crypto::{sha256, SecretString};
use crate::domain::scopes::ClientScope;
use crate::domain::{Client, User};
use crate::oauth::authorize::{self, AuthorizationRequest, Prompt, RedirectError, ResponseMode, Validated};
use crate::oauth::events::{Event, EventKind};
use crate::oauth::login::{authenticate, LoginAttempt, LoginFailure};
use crate::oauth::par;
use crate::oauth::request::FormParams;
use crate::realm::RealmContext;
use crate::session;
use crate::store::sessions::SessionWithClients;
use crate::store::{AuthCodeRecord, ConsentRecord, UserSessionRecord};
use crate::web::cookies::{self, SsoCookie, LOGIN_COOKIE, SSO_COOKIE};
use crate::web::pending::{Continuing, Pending, Step, Target, Then};
use super::{login_otp, required_actions};
use crate::web::{self, page};

/// What every page handler knows about the request.
pub struct Browser {
    pub realm: Arc<RealmContext>,
    pub base: String,
    pub issuer: String,
    pub secure: bool,
    pub now: i64,
    pub ip: String,
    /// The address limits count (proxy-aware; see `crate::ops::rate_limit::client_ip`).
    pub address: String,
    pub user_agent: Option<String>,
    /// The CSRF token of the browser's login cookie, reused by every login form it opens so two
    /// tabs do not invalidate each other.
    pub login_csrf: Option<String>,
}

impl Browser {
    /// Tells the clients of `ended` that these sessions ended (back-channel logout).
    pub async fn sessions_ended(&self, state: &AppState, ended: &[SessionWithClients]) {
        state.logout.sessions_ended(state.store.as_ref(), &self.realm, &self.issuer, ended, self.now).await;
    }

    pub async fn new(
        state: &AppState,
        realm: &str,
        base: BaseUrl,
        peer: SocketAddr,
        headers: &HeaderMap,
    ) -> Result<Self, Response> {
        let realm = match state.realms.enabled(realm).await {
            Ok(Some(ctx)) => ctx,
            Ok(None) => return Err(web::message(StatusCode::NOT_FOUND, "Portcullis", "Not found", "Realm does not exist.")),
            Err(e) => {
                tracing::error!(error = %e, "realm cannot be loaded");
                return Err(web::message(StatusCode::SERVICE_UNAVAILABLE, "Portcullis", "Unavailable", "Try again later."));
            }
        };
        Ok(Self {
            issuer: base.issuer(&realm.realm.name),
            secure: base.0.starts_with("https://"),
            base: base.0,
            realm,
            now: state.clock.now(),
            ip: peer.ip().to_string(),
            address: crate::ops::rate_limit::client_ip(headers, peer, state.settings.proxy_headers),
            user_agent: header_str(headers, header::USER_AGENT).map(|ua| ua.chars().take(512).collect()),
            login_csrf: cookies::read(headers, LOGIN_COOKIE).filter(|c| c.len() == 22 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')),
        })
    }

    pub fn name(&self) -> &str {
        &self.realm.realm.name
    }

    pub fn display_name(&self) -> String {
        self.realm.realm.settings.display_name.clone().unwrap_or_else(|| self.realm.realm.name.clone())
    }

    /// The page for a sealed login state that is missing, garbled or expired.
    pub fn timed_out(&self) -> Response {
        self.error_page(StatusCode::BAD_REQUEST, "Your login attempt timed out. Login will start from the beginning.")
    }

    /// The page for a form whose CSRF token does not match the login cookie's.
    pub fn bad_csrf(&self) -> Response {
        self.error_page(StatusCode::BAD_REQUEST, "Invalid or missing CSRF token. Please start the login again.")
    }

    pub fn error_page(&self, status: StatusCode, message: &str) -> Response {
        tracing::info!(realm = self.name(), status = status.as_u16(), message, "browser flow refused");
        web::message(status, &self.display_name(), "We are sorry...", message)
    }

    /// The user session named by the SSO cookie, when it is alive and its user enabled.
    pub async fn sso_session(&self, state: &AppState, headers: &HeaderMap) -> Option<(SsoCookie, UserSessionRecord, User)> {
        let cookie = cookies::read_sso(headers, &state.master_key, self.name())?;
        let session = state.store.user_session(&self.realm.realm.id, &cookie.sid).await.ok()??;
        if session.user_id != cookie.uid || session.offline || !session::is_alive(&self.realm.realm.settings, &session, None, self.now) {
            return None;
        }
        let user = state.store.user_by_id(&self.realm.realm.id, &session.user_id).await.ok()??;
        user.enabled.then_some((cookie, session, user))
    }

    pub fn event(&self, state: &AppState, kind: EventKind, client: Option<&str>, user: Option<&str>, session: Option<&str>, error: Option<&str>) {
        let event = Event {
            client_id: client.map(str::to_string),
            user_id: user.map(str::to_string),
            session_id: session.map(str::to_string),
            ip: Some(self.ip.clone()),
            error: error.map(str::to_string),
            details: None,
        };
        state.events.emit(&self.realm, kind, self.now, event);
    }
}

pub(crate) fn with_cookies(mut response: Response, set_cookies: &[String]) -> Response {
    for value in set_cookies {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Whether a form of a login in progress carries `csrf` both in its `csrf` field and in the
/// login cookie (which a cross-site form cannot read or set).
pub(crate) fn login_csrf_matches(headers: &HeaderMap, form: &FormParams, csrf: &str) -> bool {
    form.get("csrf") == Some(csrf) && cookies::read(headers, LOGIN_COOKIE).as_deref() == Some(csrf)
}

/// A posted form of a login past its password (the code step, the action pages): its fields
/// and its sealed `Continuing` state at `step`, whose CSRF token must match the login cookie's;
/// otherwise the page to answer with.
pub(crate) fn continuing_form(b: &Browser, state: &AppState, headers: &HeaderMap, body: &[u8], step: Step) -> Result<(FormParams, Continuing), Response> {
    let Ok(form) = FormParams::parse(body) else {
        return Err(b.error_page(StatusCode::BAD_REQUEST, "Invalid request."));
    };
    let Some(flow) = form.get("auth").and_then(|blob| Continuing::open(&state.master_key, b.name(), blob, b.now)).filter(|f| f.step == step)
    else {
        return Err(b.timed_out());
    };
    if !login_csrf_matches(headers, &form, &flow.csrf) {
        return Err(b.bad_csrf());
    }
    Ok((form, flow))
}

/// Sends the result to the client's redirect URI in the requested response mode, its
/// parameters in `params`' order.
fn to_client(request: &AuthorizationRequest, params: Vec<(&'static str, String)>) -> Response {
    let encoded = || form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str()))).finish();
    let location = match request.response_mode {
        ResponseMode::Query => {
            let separator = if request.redirect_uri.contains('?') { '&' } else { '?' };
            format!("{}{separator}{}", request.redirect_uri, encoded())
        }
        ResponseMode::Fragment => format!("{}#{}", request.redirect_uri, encoded()),
        ResponseMode::FormPost => {
            let fields: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            return page(StatusCode::OK, "form_post.html", context! { action => request.redirect_uri, fields });
        }
    };
    web::secure_page((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}

pub(crate) fn error_to_client(request: &AuthorizationRequest, error: RedirectError, issuer: &str) -> Response {
    tracing::info!(error = error.error, description = %error.description, "authorization refused");
    if request.device.is_some() {
        // a device has no redirect URI: the user reads the outcome here
        return super::device::failed_page(StatusCode::BAD_REQUEST, "Portcullis", &error.description);
    }
    let mut params = vec![("error", error.error.to_string()), ("error_description", error.description)];
    params.extend(request.state.clone().map(|state| ("state", state)));
    params.push(("iss", issuer.to_string()));
    to_client(request, params)
}

/// Renders the login form for a new pending login and sets its CSRF cookie.
pub fn login_form(b: &Browser, state: &AppState, target: Target, username: &str, error: Option<&str>, status: StatusCode) -> Response {
    let csrf = b.login_csrf.clone().unwrap_or_else(random_token::<16>);
    let pending = Pending { target, csrf, exp: b.now + b.realm.realm.settings.access_code_lifespan_login };
    let auth = pending.seal(&state.master_key, b.name());
    // Keycloak's form action is an absolute URL that carries the login's state in its query;
    // clients that post only username and password to it (python-keycloak does) rely on that
    let action = format!("{}/realms/{}/login-actions/authenticate?auth={auth}", b.base, b.name());
    let response = page(
        status,
        "login.html",
        context! {
            realm_name => b.display_name(),
            action => web::attribute_url(&action),
            auth,
            csrf => pending.csrf,
            username,
            error,
            remember_me => b.realm.realm.settings.remember_me,
            forgot_password => super::reset_credentials::login_link(b, &auth),
            register_url => b.realm.realm.settings.registration_allowed
                .then(|| web::attribute_url(&format!("/realms/{}/login-actions/registration?auth={auth}", b.name()))),
        },
    );
    with_cookies(response, &[cookies::set(LOGIN_COOKIE, pending.csrf.clone(), b.name(), b.secure, None)])
}

fn consent_form(b: &Browser, state: &AppState, client: &Client, request: AuthorizationRequest, to_approve: &[Arc<ClientScope>], csrf: &str) -> Response {
    let pending = Pending { target: Target::Authorize(request.clone()), csrf: csrf.to_string(), exp: b.now + b.realm.realm.settings.access_code_lifespan_user_action };
    let scopes: Vec<String> = to_approve.iter().map(|s| web::messages::resolve(s.consent_text()).to_string()).collect();
    page(
        StatusCode::OK,
        "consent.html",
        context! {
            realm_name => b.display_name(),
            client_name => client.name.clone().filter(|n| !n.starts_with("${")).unwrap_or_else(|| client.client_id.clone()),
            scopes,
            action => format!("/realms/{}/login-actions/consent", b.name()),
            auth => pending.seal(&state.master_key, b.name()),
            csrf => csrf,
        },
    )
}

/// Issues a code for a logged-in user and sends it to the client (or, for a device's login,
/// approves the device).
async fn issue_code(b: &Browser, state: &AppState, client: &Client, request: &AuthorizationRequest, session: &UserSessionRecord) -> Response {
    if let Some(user_code) = &request.device {
        return super::device::approve(b, state, client, user_code, session).await;
    }
    let code = random_token::<32>();
    let record = AuthCodeRecord {
        code_hash: sha256(code.as_bytes()),
        realm_id: b.realm.realm.id.clone(),
        client_id: client.id.clone(),
        user_session_id: session.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scope: request.scope.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        code_challenge_method: request.code_challenge_method.clone(),
        created_at: b.now,
        expires_at: b.now + b.realm.realm.settings.access_code_lifespan,
        dpop_jkt: request.dpop_jkt.clone(),
    };
    let settings = &b.realm.realm.settings;
    let stored = async {
        state.store.insert_auth_code(&record).await?;
        state.store.touch_user_session(&session.id, b.now, session::deadline(settings, session, None, Some(b.now))).await
    };
    if let Err(e) = stored.await {
        tracing::error!(error = %e, "cannot store authorization code");
        return error_to_client(request, RedirectError::new("server_error", "Internal server error"), &b.issuer);
    }
    // Keycloak's order (clients that split the whole redirect URL at `&` and `=`, as
    // python-keycloak's tests do, find `code` only where it is not first)
    let mut params: Vec<(&'static str, String)> = request.state.clone().map(|state| ("state", state)).into_iter().collect();
    params.extend([("session_state", session.id.clone()), ("iss", b.issuer.clone()), ("code", code)]);
    to_client(request, params)
}

/// The user is authenticated: ask for consent when needed (always for a device's login: RFC
/// 8628 §5.4, the user confirms what they approve), else issue the code.
pub(crate) async fn after_login(b: &Browser, state: &AppState, client: &Client, request: AuthorizationRequest, session: &UserSessionRecord, csrf: &str, set_cookies: &[String]) -> Response {
    let granted = match state.store.consent(&session.user_id, &client.id).await {
        Ok(consent) => consent.map(|c| c.scope),
        Err(e) => {
            tracing::error!(error = %e, "cannot read consent");
            return error_to_client(&request, RedirectError::new("server_error", "Internal server error"), &b.issuer);
        }
    };
    let to_approve = authorize::scopes_to_approve(&b.realm, client, &request, granted.as_deref());
    let response = if !to_approve.is_empty() || request.device.is_some() {
        if request.prompt == Some(Prompt::None) {
            error_to_client(&request, RedirectError::new("consent_required", "Consent required"), &b.issuer)
        } else {
            consent_form(b, state, client, request, &to_approve, csrf)
        }
    } else {
        issue_code(b, state, client, &request, session).await
    };
    with_cookies(response, set_cookies)
}

/// `GET|POST .../protocol/openid-connect/auth`.
pub async fn authorize(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let b = match Browser::new(&state, &realm, base, peer, &headers).await {
        Ok(b) => b,
        Err(page) => return page,
    };
    let raw = if method == Method::POST { body.to_vec() } else { query.unwrap_or_default().into_bytes() };
    let params = match FormParams::parse(&raw) {
        Ok(p) => p,
        Err(e) => return b.error_page(StatusCode::BAD_REQUEST, e.description().unwrap_or("Invalid request")),
    };
    // RFC 9126 §4: a pushed request's parameters replace the query's
    let (params, pushed) = match par::resolve(state.store.as_ref(), &b.realm, &state.master_key, &params, b.now).await {
        Ok(Some(pushed)) => (pushed, true),
        Ok(None) => (params, false),
        Err(message) => return b.error_page(StatusCode::BAD_REQUEST, &message),
    };
    let (client, request) = match authorize::validate(&b.realm, &params) {
        Err(authorize::PageError(message)) => return b.error_page(StatusCode::BAD_REQUEST, &message),
        Ok(Validated::Redirect(_, request, error)) => return error_to_client(&request, error, &b.issuer),
        Ok(Validated::Ok(client, request)) => (client, request),
    };
    if !pushed && par::required(&client) {
        return error_to_client(&request, RedirectError::new("invalid_request", par::PAR_ONLY), &b.issuer);
    }
    let sso = b.sso_session(&state, &headers).await;
    if let Some((cookie, session, _user)) = &sso {
        // OIDC Core §3.1.2.1: max_age=0 is prompt=login
        let too_old = request.max_age.is_some_and(|max| max == 0 || b.now - session.auth_time > max);
        if request.prompt != Some(Prompt::Login) && !too_old {
            let refresh = crate::http::session_iframe::resumed_state_cookie(&headers, b.name(), &session.id, b.secure);
            return after_login(&b, &state, &client, request, session, &cookie.csrf, refresh.as_slice()).await;
        }
    }
    if request.prompt == Some(Prompt::None) {
        return error_to_client(&request, RedirectError::new("login_required", "Login required"), &b.issuer);
    }
    let hint = request.login_hint.clone().unwrap_or_default();
    login_form(&b, &state, Target::Authorize(request), &hint, None, StatusCode::OK)
}

/// `POST .../login-actions/authenticate`: the login form. The sealed state comes from the form's
/// `auth` field or, as Keycloak's clients post it, from the action URL's query; `csrf` is checked
/// when the form has it. Either way the state's CSRF token must match the login cookie, which a
/// cross-site form cannot read, and the state is sealed, so it cannot be forged to match.
pub async fn authenticate_form(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
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
    let in_query = query.as_deref().and_then(|q| FormParams::parse(q.as_bytes()).ok());
    let blob = form.get("auth").or_else(|| in_query.as_ref().and_then(|q| q.get("auth")));
    let Some(pending) = blob.and_then(|blob| Pending::open(&state.master_key, b.name(), blob, b.now)) else {
        return b.timed_out();
    };
    let cookie_csrf = cookies::read(&headers, LOGIN_COOKIE);
    let form_csrf_ok = form.get("csrf").is_none_or(|csrf| csrf == pending.csrf);
    let csrf_ok = form_csrf_ok && cookie_csrf.as_deref() == Some(pending.csrf.as_str());
    if !csrf_ok {
        return b.bad_csrf();
    }
    let username = form.get("username").unwrap_or("").chars().take(255).collect::<String>();
    let password = SecretString::new(form.get("password").unwrap_or(""));
    let client_id = match &pending.target {
        Target::Authorize(request) => Some(request.client_id.clone()),
        Target::Account => None,
    };
    let attempt = LoginAttempt { login: &username, password, address: &b.address, otp: None };
    let remember_me = b.realm.realm.settings.remember_me && form.get("rememberMe") == Some("on");
    let user = match authenticate(state.store.as_ref(), &state.hasher, &state.master_key, &b.realm, attempt, b.now).await {
        Ok(user) => user,
        Err(LoginFailure::ActionsRequired { user_id, .. }) => {
            let then = Then::Login { target: pending.target, remember_me };
            return required_actions::resume(&b, &state, &user_id, pending.csrf, Vec::new(), then).await;
        }
        Err(LoginFailure::OtpRequired { user_id }) => {
            let then = Then::Login { target: pending.target, remember_me };
            return login_otp::begin(&b, &state, user_id, pending.csrf, then);
        }
        Err(failure) => {
            b.event(&state, EventKind::LoginError, client_id.as_deref(), failure.user_id(), None, Some(failure.event_error()));
            return login_refused(&b, &state, pending.target, &username, failure);
        }
    };
    start_session(&b, &state, &user, pending.target, remember_me, &[]).await
}

/// The user passed every factor and action: makes the user session, sets the SSO cookie (and
/// clears the login cookie), and goes on to the account page or the client.
pub async fn start_session(b: &Browser, state: &AppState, user: &User, target: Target, remember_me: bool, extra_cookies: &[String]) -> Response {
    let client_id = match &target {
        Target::Authorize(request) => Some(request.client_id.clone()),
        Target::Account => None,
    };
    let mut session = UserSessionRecord {
        id: crate::domain::new_session_id(),
        realm_id: b.realm.realm.id.clone(),
        user_id: user.id.clone(),
        offline: false,
        started_at: b.now,
        last_access_at: b.now,
        auth_time: b.now,
        remember_me,
        ip: Some(b.ip.clone()),
        user_agent: b.user_agent.clone(),
        expires_at: 0,
        browser_session_id: None,
    };
    let settings = &b.realm.realm.settings;
    session.expires_at = session::deadline(settings, &session, None, Some(b.now));
    if let Err(e) = state.store.create_user_session(&session).await {
        tracing::error!(error = %e, "cannot create user session");
        return b.error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again later.");
    }
    b.event(state, EventKind::Login, client_id.as_deref(), Some(&user.id), Some(&session.id), None);
    let sso = SsoCookie { sid: session.id.clone(), uid: user.id.clone(), csrf: random_token::<16>() };
    let max_age = remember_me.then(|| session::sso_timeouts(settings, true).max.unwrap_or(settings.sso_session_max_lifespan));
    let mut set_cookies = extra_cookies.to_vec();
    set_cookies.extend([
        cookies::set(SSO_COOKIE, cookies::seal(&state.master_key, "sso", b.name(), &sso), b.name(), b.secure, max_age),
        cookies::clear(LOGIN_COOKIE, b.name(), b.secure),
        crate::http::session_iframe::state_cookie(b.name(), &session.id, b.secure, max_age),
    ]);
    match target {
        Target::Account => with_cookies(
            web::secure_page((StatusCode::SEE_OTHER, [(header::LOCATION, format!("/realms/{}/account", b.name()))]).into_response()),
            &set_cookies,
        ),
        Target::Authorize(request) => {
            let Some(client) = b.realm.client(&request.client_id).filter(|c| c.enabled) else {
                return with_cookies(b.error_page(StatusCode::BAD_REQUEST, "Client not found."), &set_cookies);
            };
            after_login(b, state, &client, request, &session, &sso.csrf, &set_cookies).await
        }
    }
}

/// The page for a refused login: the form again with a message, or (where trying again cannot
/// help) a page of its own, with `Retry-After` when waiting will.
fn login_refused(b: &Browser, state: &AppState, target: Target, username: &str, failure: LoginFailure) -> Response {
    let wait = |status: StatusCode, seconds: u64, message: String| {
        let mut page = web::message(status, &b.display_name(), "Please wait", &message);
        page.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        page
    };
    let message = match failure {
        LoginFailure::Throttled { retry_after } => {
            let message = format!("Too many failed logins from your network. Wait {retry_after} seconds and try again.");
            return wait(StatusCode::TOO_MANY_REQUESTS, retry_after, message);
        }
        LoginFailure::Busy { retry_after } => {
            let message = format!("Too many people are signing in right now. Try again in {retry_after} seconds.");
            return wait(StatusCode::SERVICE_UNAVAILABLE, retry_after, message);
        }
        LoginFailure::ActionsRequired { .. } => {
            return b.error_page(StatusCode::FORBIDDEN,
                "Your account is not fully set up: an administrator asked you to complete steps (such as choosing a \
                 new password) that this server cannot run yet. Contact your administrator.");
        }
        // the OTP step of the login form is the lead's (issue 17); until then, the page below
        LoginFailure::UncheckedFactor { .. } | LoginFailure::OtpRequired { .. } => {
            return b.error_page(StatusCode::FORBIDDEN,
                "Your account is protected by a second factor (such as a one-time code) that this server cannot \
                 check yet, so your password alone cannot sign you in. Contact your administrator.");
        }
        LoginFailure::Disabled { .. } => "Account is disabled, contact your administrator.",
        LoginFailure::Unavailable => "The service is temporarily unavailable. Try again later.",
        LoginFailure::InvalidCredentials { .. } | LoginFailure::Locked { .. } => "Invalid username or password.",
    };
    login_form(b, state, target, username, Some(message), StatusCode::OK)
}

/// `POST .../login-actions/consent`: the consent form.
pub async fn consent_form_action(
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
    let Some(Pending { target: Target::Authorize(request), csrf, .. }) =
        form.get("auth").and_then(|blob| Pending::open(&state.master_key, b.name(), blob, b.now))
    else {
        return b.timed_out();
    };
    let Some((cookie, session, user)) = b.sso_session(&state, &headers).await else {
        return b.error_page(StatusCode::BAD_REQUEST, "Your session has ended. Please sign in again.");
    };
    if form.get("csrf") != Some(cookie.csrf.as_str()) || csrf != cookie.csrf {
        return b.bad_csrf();
    }
    let Some(client) = b.realm.client(&request.client_id).filter(|c| c.enabled) else {
        return b.error_page(StatusCode::BAD_REQUEST, "Client not found.");
    };
    if form.get("decision") != Some("accept") {
        b.event(&state, EventKind::LoginError, Some(&client.client_id), Some(&user.id), Some(&session.id), Some("rejected_by_user"));
        if let Some(user_code) = &request.device {
            return super::device::deny(&b, &state, user_code).await;
        }
        return error_to_client(&request, RedirectError::new("access_denied", "User denied consent"), &b.issuer);
    }
    let consent = ConsentRecord {
        user_id: user.id.clone(),
        client_id: client.id.clone(),
        scope: request.scope.clone(),
        created_at: b.now,
        updated_at: b.now,
    };
    if let Err(e) = state.store.upsert_consent(&consent).await {
        tracing::error!(error = %e, "cannot store consent");
        return error_to_client(&request, RedirectError::new("server_error", "Internal server error"), &b.issuer);
    }
    issue_code(&b, &state, &client, &request, &session).await
}
