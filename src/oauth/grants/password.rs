//! Resource Owner Password Credentials grant (RFC 6749 §4.3), for clients with
//! `directAccessGrantsEnabled`. Starts an SSO session (or an offline session when
//! `offline_access` is asked for and the user holds that role). A user holding an OTP
//! credential also sends the code as `otp` (Keycloak's direct-grant ValidateOTP; `totp` too):
//! missing or wrong, the answer is Keycloak's 401 `invalid_grant` "Invalid user credentials".

use super::GrantContext;
use crate::oauth::events::EventKind;
use crate::oauth::issue::{issue, new_access_jti, Issue, PlannedRefresh, TokenResponse};
use crate::oauth::login::{LoginAttempt, LoginFailure};
use crate::oauth::request::FormParams;
use crate::oauth::scope::Scope;
use crate::oauth::shaping::Shaper;
use crate::oauth::OAuthError;
use crate::crypto::SecretString;
use crate::realm::defaults::OFFLINE_ACCESS_ROLE;
use crate::store::NewGrant;

pub const INVALID_CREDENTIALS: &str = "Invalid user credentials";

pub async fn handle(ctx: &GrantContext<'_>, form: &FormParams) -> Result<TokenResponse, OAuthError> {
    if !ctx.client.direct_access_grants_enabled {
        return Err(OAuthError::UnauthorizedClient("Client not allowed for direct access grants".into()));
    }
    // Keycloak: a client that must ask for consent cannot get it without a browser.
    if ctx.client.consent_required {
        ctx.event(EventKind::LoginError, None, None, Some("consent_denied"));
        return Err(OAuthError::ClientRefused("Client requires user consent".into()));
    }
    let username = form.require("username")?;
    let password = SecretString::new(form.require("password")?);
    let scope = Scope::grant(ctx.offered(), form.get("scope"))?;
    // Keycloak's ValidateOTP reads `otp`, and `totp` for clients written before it was renamed.
    let otp = form.get("otp").or_else(|| form.get("totp"));
    let attempt = LoginAttempt { login: username, password, address: &ctx.address, otp };
    let user =
        crate::oauth::login::authenticate(ctx.store.as_ref(), ctx.hasher, ctx.master_key, ctx.realm, attempt, ctx.now).await;
    let user = match user {
        Ok(user) => user,
        Err(failure) => {
            if let LoginFailure::OtpRequired { user_id } = &failure {
                // a missing code fails the direct-grant flow, which Keycloak counts as a failed login
                if crate::oauth::login::count_failure(ctx.store.as_ref(), ctx.realm, user_id, ctx.now).await.is_err() {
                    return Err(OAuthError::TemporarilyUnavailable);
                }
            }
            ctx.event(EventKind::LoginError, failure.user_id(), None, Some(failure.event_error()));
            return Err(failure.into_oauth());
        }
    };
    let shaper = Shaper::new(ctx.realm, ctx.client, scope);
    let (roles, groups) = ctx.shaped_for(&shaper, &user).await?;
    let scope = &shaper.scope;
    if scope.is_offline() && !roles.realm.contains(OFFLINE_ACCESS_ROLE) {
        ctx.event(EventKind::LoginError, Some(&user.id), None, Some("not_allowed"));
        return Err(OAuthError::InvalidScope("Offline tokens not allowed for the user or client".into()));
    }
    let session = ctx.new_session(&user, scope.is_offline(), ctx.now);
    let refresh = PlannedRefresh::new(scope.is_offline());
    let family_id = crate::domain::new_session_id();
    let started = ctx
        .store
        .start_grant(&NewGrant {
            new_session: Some(session),
            existing_session_id: None,
            joined_expires_at: 0,
            client_id: ctx.client.id.clone(),
            family_id: family_id.clone(),
            scope: scope.as_string(),
            now: ctx.now,
            refresh_hash: Some(refresh.hash()),
            from_code: None,
        })
        .await?;
    ctx.event(EventKind::Login, Some(&user.id), Some(&started.session.id), None);
    let deadline = crate::session::deadline(&ctx.realm.realm.settings, &started.session, Some(&started.client_session), Some(ctx.now));
    issue(Issue {
        shaper: &shaper,
        issuer: ctx.issuer,
        user: &user,
        roles: &roles,
        groups: &groups,
        session: Some(&started.session),
        family_id: Some(&family_id),
        now: ctx.now,
        nonce: None,
        ip: ctx.ip.as_deref(),
        access_jti: new_access_jti(),
        refresh: Some((refresh, deadline)),
        dpop: ctx.dpop.as_deref(),
    })
    .await
}
