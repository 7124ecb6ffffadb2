//! Refresh Token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2,
//! DESIGN.md §2). The shell's HMAC is checked before any database work; the shell names its
//! family and generation, and the store moves the family to the successor's generation in one
//! conditional write under the session lock. A generation presented more often than
//! `refreshTokenMaxReuse` allows revokes its family only, unless it comes back within
//! `refreshTokenReuseIntervalSeconds` of its rotation while its successor is still unused: then
//! the client most likely lost the response, and gets the same successor.

use super::GrantContext;
use crate::oauth::events::EventKind;
use crate::oauth::issue::{issue, new_access_jti, Issue, PlannedRefresh, TokenResponse};
use crate::oauth::request::FormParams;
use crate::oauth::scope::Scope;
use crate::oauth::shaping::Shaper;
use crate::oauth::tokens::claims::TYP_OFFLINE;
use crate::oauth::tokens::refresh;
use crate::oauth::OAuthError;
use crate::session;
use crate::store::{ReuseInterval, RotateOutcome, RotateRequest, TokenHash};

/// Binds a sealed successor jti to the row of the token it succeeds, so a sealed value copied to
/// another row does not open.
fn successor_aad(presented: &TokenHash) -> Vec<u8> {
    let mut aad = b"refresh-successor:".to_vec();
    aad.extend_from_slice(presented);
    aad
}

pub async fn handle(ctx: &GrantContext<'_>, form: &FormParams) -> Result<TokenResponse, OAuthError> {
    let presented = form.require("refresh_token")?;
    let fail = |error: &str, description: &str| {
        ctx.event(EventKind::RefreshTokenError, None, None, Some(error));
        OAuthError::invalid_grant(description)
    };
    let claims = refresh::verify(&ctx.realm.keys, presented).map_err(|_| fail("invalid_token", "Invalid refresh token"))?;
    if claims.iss != ctx.issuer {
        return Err(fail("invalid_token", "Invalid refresh token. Token issuer does not match"));
    }
    if claims.azp != ctx.client.client_id {
        return Err(fail("invalid_token", "Invalid refresh token. Token client and authorized client don't match"));
    }
    if claims.exp <= ctx.now {
        return Err(fail("invalid_token", "Token is not active"));
    }
    if claims.iat < ctx.realm.realm.not_before {
        return Err(fail("invalid_token", "Stale token"));
    }
    // RFC 9449 §5: a bound refresh token comes with a proof of its key
    if claims.cnf.as_ref().is_some_and(|cnf| ctx.dpop.as_deref() != Some(cnf.jkt.as_str())) {
        return Err(fail("invalid_token", "DPoP proof and token binding verification failed"));
    }
    let offline = claims.typ == TYP_OFFLINE;
    let granted = Scope::regrant(ctx.offered(), &claims.scope);
    let scope = granted.narrow(ctx.offered(), form.get("scope"))?;
    let settings = &ctx.realm.realm.settings;
    let mut successor = PlannedRefresh::new(offline);
    let request = RotateRequest {
        realm_id: ctx.realm.realm.id.clone(),
        client_id: ctx.client.id.clone(),
        presented: refresh::presented(&claims),
        successor: successor.hash(),
        now: ctx.now,
        rotate: settings.revoke_refresh_token,
        max_reuse: settings.refresh_token_max_reuse.max(0),
        // an offline grant lives only while the user may hold offline tokens (issue 13 item 9)
        requires_any_role: offline.then(|| ctx.realm.offline_access_roles.clone()),
        timeouts: session::timeout_table(settings),
    };
    let interval = (settings.revoke_refresh_token && settings.refresh_token_reuse_interval_seconds > 0).then(|| ReuseInterval {
        seconds: settings.refresh_token_reuse_interval_seconds,
        successor_sealed: ctx.master_key.seal(successor.jti.as_bytes(), &successor_aad(&request.presented.hash)),
    });
    let outcome = ctx.store.rotate_refresh_token_within(&request, interval.as_ref()).await?;
    let mut issued_at = ctx.now;
    let rotated = match outcome {
        RotateOutcome::Rotated(rotated) => {
            successor.generation = Some(rotated.generation);
            rotated
        }
        RotateOutcome::Replayed(replayed) => {
            let jti = ctx
                .master_key
                .open(&replayed.successor_sealed, &successor_aad(&request.presented.hash))
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .filter(|jti| refresh::jti_hash(jti) == replayed.successor_hash);
            let Some(jti) = jti else {
                tracing::error!(realm = %ctx.realm.realm.name, "a sealed refresh successor does not open (master key changed?)");
                return Err(OAuthError::ServerError);
            };
            tracing::info!(realm = %ctx.realm.realm.name, client = %ctx.client.client_id, family = %replayed.grant.family_id,
                "consumed refresh token presented again within the reuse interval: same successor re-issued");
            // generation 0: a successor minted before the upgrade, re-issued in its own form
            let generation = Some(replayed.grant.generation).filter(|g| *g > 0);
            successor = PlannedRefresh { jti, offline, issued_at: Some(replayed.successor_issued_at), generation };
            issued_at = replayed.successor_issued_at;
            Box::new(replayed.grant)
        }
        RotateOutcome::Unknown | RotateOutcome::SessionInactive => {
            return Err(fail("invalid_token", "Session not active"));
        }
        RotateOutcome::FamilyRevoked => return Err(fail("invalid_token", "Token is not active")),
        RotateOutcome::NotPermitted => {
            tracing::info!(realm = %ctx.realm.realm.name, client = %ctx.client.client_id,
                "offline token refused: the user no longer holds offline_access");
            return Err(fail("not_allowed", "Offline session invalid because offline access not granted anymore"));
        }
        RotateOutcome::ReuseDetected { family_id } => {
            metrics::counter!(crate::ops::metrics::REFRESH_REUSE).increment(1);
            tracing::warn!(realm = %ctx.realm.realm.name, client = %ctx.client.client_id, family = %family_id,
                "refresh token reuse detected: family revoked");
            ctx.event(EventKind::RefreshTokenError, Some(&claims.sub), Some(&claims.sid), Some("refresh_token_reuse_detected"));
            return Err(OAuthError::invalid_grant("Maximum allowed refresh token reuse exceeded"));
        }
    };
    let mut shaper = Shaper::new(ctx.realm, ctx.client, scope);
    let mut roles = shaper.roles(&rotated.role_ids);
    if let Some(audiences) = &claims.requested_audience {
        // a grant a token exchange narrowed keeps its audiences (token_exchange.rs)
        shaper.restrict_audience(&mut roles, audiences.clone());
    }
    let groups = shaper.groups(ctx.store.as_ref(), &rotated.user).await?;
    // A re-issued successor gets the deadline it was first issued with (same `exp`, same token).
    let deadline = session::deadline(settings, &rotated.session, Some(&rotated.client_session), Some(issued_at));
    ctx.event(EventKind::RefreshToken, Some(&rotated.user.id), Some(&rotated.session.id), None);
    issue(Issue {
        shaper: &shaper,
        issuer: ctx.issuer,
        user: &rotated.user,
        roles: &roles,
        groups: &groups,
        session: Some(&rotated.session),
        family_id: Some(&rotated.family_id),
        now: ctx.now,
        nonce: None,
        ip: ctx.ip.as_deref(),
        access_jti: new_access_jti(),
        refresh: Some((successor, deadline)),
        dpop: ctx.dpop.as_deref(),
    })
    .await
}
