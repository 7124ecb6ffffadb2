//! Authorization Code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.6). Codes are single use: a
//! replayed code is `invalid_grant` and revokes the refresh family and access token issued from
//! its first use (RFC 6749 §4.1.2). The browser flow issues the codes; this consumes them.

use super::GrantContext;
use crate::crypto::sha256;
use crate::oauth::events::EventKind;
use crate::oauth::issue::{access_token_lifespan, issue, new_access_jti, Issue, PlannedRefresh, TokenResponse};
use crate::oauth::pkce;
use crate::oauth::request::FormParams;
use crate::oauth::scope::Scope;
use crate::oauth::shaping::Shaper;
use crate::oauth::OAuthError;
use crate::realm::defaults::OFFLINE_ACCESS_ROLE;
use crate::session;
use crate::store::{CodeOutcome, NewGrant, StoreError};

pub async fn handle(ctx: &GrantContext<'_>, form: &FormParams) -> Result<TokenResponse, OAuthError> {
    let code = form.require("code")?;
    let fail = |error: &str, description: &str| {
        ctx.event(EventKind::CodeToTokenError, None, None, Some(error));
        OAuthError::invalid_grant(description)
    };
    if code.len() > 512 {
        return Err(fail("invalid_code", "Code not valid"));
    }
    let code_hash = sha256(code.as_bytes());
    let record = match ctx.store.consume_auth_code(&ctx.realm.realm.id, &ctx.client.id, &code_hash, ctx.now).await? {
        CodeOutcome::Fresh(record) => record,
        CodeOutcome::Replayed => {
            tracing::warn!(realm = %ctx.realm.realm.name, client = %ctx.client.client_id,
                "authorization code replayed: tokens issued from it revoked");
            return Err(fail("invalid_code", "Code not valid"));
        }
        CodeOutcome::Unknown => return Err(fail("invalid_code", "Code not valid")),
    };
    if record.client_id != ctx.client.id || record.realm_id != ctx.realm.realm.id {
        return Err(fail("invalid_client_credentials", "Code not valid"));
    }
    if record.expires_at <= ctx.now {
        return Err(fail("expired_code", "Code not valid"));
    }
    if form.get("redirect_uri") != Some(record.redirect_uri.as_str()) {
        return Err(fail("invalid_code", "Incorrect redirect_uri"));
    }
    match (&record.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let method = record.code_challenge_method.as_deref().and_then(pkce::Method::parse).unwrap_or(pkce::Method::Plain);
            if !pkce::valid_verifier(verifier) {
                return Err(fail("invalid_code_verifier", "Invalid code verifier"));
            }
            if !pkce::verify(method, verifier, challenge) {
                return Err(fail("invalid_code_verifier", "PKCE verification failed: Code mismatch"));
            }
        }
        (Some(_), None) => return Err(fail("invalid_code_verifier", "PKCE code verifier not specified")),
        (None, Some(_)) => {
            return Err(fail("invalid_code_verifier", "PKCE code verifier specified but challenge not present in authorization"))
        }
        (None, None) => {}
    }
    let settings = &ctx.realm.realm.settings;
    let online = ctx
        .store
        .user_session(&ctx.realm.realm.id, &record.user_session_id)
        .await?
        .filter(|s| session::is_alive(settings, s, None, ctx.now))
        .ok_or_else(|| fail("session_expired", "Session not active"))?;
    let user = ctx
        .store
        .user_by_id(&ctx.realm.realm.id, &online.user_id)
        .await?
        .ok_or_else(|| fail("user_not_found", "User not found"))?;
    if !user.enabled {
        return Err(fail("user_disabled", "Account disabled"));
    }
    let shaper = Shaper::new(ctx.realm, ctx.client, Scope::regrant(ctx.offered(), &record.scope));
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
    let family_id = crate::domain::new_id();
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
            from_code: Some((code_hash, sha256(access_jti.as_bytes()), access_exp)),
        })
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => fail("session_expired", "Session not active"),
            StoreError::Conflict(_) => fail("invalid_code", "Code not valid"),
            other => other.into(),
        })?;
    ctx.event(EventKind::CodeToToken, Some(&user.id), Some(&started.session.id), None);
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
        nonce: record.nonce.as_deref(),
        ip: ctx.ip.as_deref(),
        access_jti,
        refresh: Some((refresh, deadline)),
    })
    .await
}
