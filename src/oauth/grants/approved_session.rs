//! The tokens of a grant a user approved in the browser: an authorization code's
//! (`authorization_code`) or a device code's (`device_code`). Both end the same way: the
//! approving user session must still be alive and its user enabled, the granted scope is shaped
//! again, and the client joins that session (or, with `offline_access`, gets an offline session
//! keyed to it); only the event names and the code's replay record differ.

use super::GrantContext;
use crate::oauth::events::EventKind;
use crate::oauth::issue::{access_token_lifespan, issue, new_access_jti, Issue, PlannedRefresh, TokenResponse};
use crate::oauth::scope::Scope;
use crate::oauth::shaping::Shaper;
use crate::oauth::OAuthError;
use crate::realm::defaults::OFFLINE_ACCESS_ROLE;
use crate::session;
use crate::store::{NewGrant, StoreError, TokenHash};

/// What the browser approved.
pub struct Approved<'a> {
    pub session_id: &'a str,
    /// The granted scope as stored with the code (`Scope::granted_string`).
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    /// An authorization code's hash: the store records the tokens issued from it, so a replay
    /// of the code revokes them.
    pub code_hash: Option<TokenHash>,
    pub success: EventKind,
    pub failure: EventKind,
    /// Keycloak's text for a disabled user, which differs between the two grants.
    pub disabled: &'static str,
}

pub async fn issue_tokens(ctx: &GrantContext<'_>, approved: Approved<'_>) -> Result<TokenResponse, OAuthError> {
    let fail = |error: &str, description: &str| {
        ctx.event(approved.failure, None, Some(approved.session_id), Some(error));
        OAuthError::invalid_grant(description)
    };
    let settings = &ctx.realm.realm.settings;
    let online = ctx
        .store
        .user_session(&ctx.realm.realm.id, approved.session_id)
        .await?
        .filter(|s| session::is_alive(settings, s, None, ctx.now))
        .ok_or_else(|| fail("session_expired", "Session not active"))?;
    let user = ctx
        .store
        .user_by_id(&ctx.realm.realm.id, &online.user_id)
        .await?
        .ok_or_else(|| fail("user_not_found", "User not found"))?;
    if !user.enabled {
        return Err(fail("user_disabled", approved.disabled));
    }
    let shaper = Shaper::new(ctx.realm, ctx.client, Scope::regrant(ctx.offered(), approved.scope));
    let (roles, groups) = ctx.shaped_for(&shaper, &user).await?;
    let scope = &shaper.scope;
    if scope.is_offline() && !roles.realm.contains(OFFLINE_ACCESS_ROLE) {
        return Err(OAuthError::InvalidScope("Offline tokens not allowed for the user or client".into()));
    }
    let refresh = PlannedRefresh::new(scope.is_offline());
    let access_jti = new_access_jti();
    let access_exp = ctx.now + access_token_lifespan(ctx.realm, ctx.client);
    let (new_session, existing_session_id) = if scope.is_offline() {
        // Keycloak keys the offline session by the browser session's id: its tokens name that
        // session, so the app's RP-initiated logout ends the browser's session (issue 13 item 6).
        let mut offline = ctx.new_session(&user, true, online.auth_time);
        offline.browser_session_id = Some(online.id.clone());
        (Some(offline), None)
    } else {
        (None, Some(online.id.clone()))
    };
    let family_id = crate::domain::new_session_id();
    let started = ctx
        .store
        .start_grant(&NewGrant {
            new_session,
            existing_session_id,
            joined_expires_at: session::deadline(settings, &online, None, Some(ctx.now)),
            client_id: ctx.client.id.clone(),
            family_id: family_id.clone(),
            scope: scope.as_string(),
            now: ctx.now,
            refresh_hash: Some(refresh.hash()),
            from_code: approved.code_hash.map(|code| (code, crate::crypto::sha256(access_jti.as_bytes()), access_exp)),
        })
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => fail("session_expired", "Session not active"),
            StoreError::Conflict(_) => fail("invalid_code", "Code not valid"),
            other => other.into(),
        })?;
    ctx.event(approved.success, Some(&user.id), Some(&started.session.id), None);
    let deadline = session::deadline(settings, &started.session, Some(&started.client_session), Some(ctx.now));
    issue(Issue {
        shaper: &shaper,
        issuer: ctx.issuer,
        user: &user,
        roles: &roles,
        groups: &groups,
        session: Some(&started.session),
        family_id: Some(&family_id),
        now: ctx.now,
        nonce: approved.nonce,
        ip: ctx.ip.as_deref(),
        access_jti,
        refresh: Some((refresh, deadline)),
        dpop: ctx.dpop.as_deref(),
    })
    .await
}
