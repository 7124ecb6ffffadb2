//! Is this token alive right now? The checks shared by introspection, userinfo and revocation:
//! signature and expiry first (no database), then not-before, revocation and session liveness
//! (one or two lookups). Each failure says why, for the log and the event; clients only ever see
//! "inactive" or `invalid_token`.

use super::tokens::claims::{AccessClaims, RefreshClaims};
use super::tokens::{access, refresh};
use super::OAuthError;
use crate::clock::UnixTime;
use crate::crypto::sha256;
use crate::realm::RealmContext;
use crate::session;
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inactive {
    Invalid,
    Expired,
    Stale,
    Revoked,
    SessionEnded,
}

impl Inactive {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Invalid => "invalid_token",
            Self::Expired => "token_expired",
            Self::Stale => "stale_token",
            Self::Revoked => "token_revoked",
            Self::SessionEnded => "session_expired",
        }
    }
}

pub enum LiveToken {
    Access(AccessClaims),
    Refresh(RefreshClaims),
}

/// Checks an access token fully: signature, issuer, expiry, not-before, revocation, session.
pub async fn live_access_token(
    store: &dyn Store,
    realm: &RealmContext,
    issuer: &str,
    token: &str,
    now: UnixTime,
) -> Result<Result<AccessClaims, Inactive>, OAuthError> {
    let claims = match access::verify(&realm.keys, issuer, token, now) {
        Ok(claims) => claims,
        Err(access::AccessTokenError::Expired) => return Ok(Err(Inactive::Expired)),
        Err(access::AccessTokenError::Invalid) => return Ok(Err(Inactive::Invalid)),
    };
    if claims.iat < realm.realm.not_before {
        return Ok(Err(Inactive::Stale));
    }
    let jti = sha256(claims.jti.as_bytes());
    match &claims.sid {
        Some(sid) => match store.access_token_session(&realm.realm.id, sid, &jti).await? {
            Some((_, true)) => return Ok(Err(Inactive::Revoked)),
            Some((session, false)) if session::is_alive(&realm.realm.settings, &session, None, now) => {}
            _ => return Ok(Err(Inactive::SessionEnded)),
        },
        None => {
            if store.is_access_token_revoked(&jti).await? {
                return Ok(Err(Inactive::Revoked));
            }
        }
    }
    Ok(Ok(claims))
}

/// Checks a refresh or offline token: HMAC, issuer, expiry, not-before, family and session.
pub async fn live_refresh_token(
    store: &dyn Store,
    realm: &RealmContext,
    issuer: &str,
    token: &str,
    now: UnixTime,
) -> Result<Result<RefreshClaims, Inactive>, OAuthError> {
    let Ok(claims) = refresh::verify(&realm.keys, token) else { return Ok(Err(Inactive::Invalid)) };
    if claims.iss != issuer {
        return Ok(Err(Inactive::Invalid));
    }
    if claims.exp <= now {
        return Ok(Err(Inactive::Expired));
    }
    if claims.iat < realm.realm.not_before {
        return Ok(Err(Inactive::Stale));
    }
    // Rotating realms: a token already used up is not live, since its next use is a reuse.
    let settings = &realm.realm.settings;
    let max_reuse = settings.revoke_refresh_token.then_some(settings.refresh_token_max_reuse.max(0));
    let alive = store
        .session_of_refresh_token(&refresh::jti_hash(&claims.jti), max_reuse)
        .await?
        .is_some_and(|s| session::is_alive(&realm.realm.settings, &s, None, now));
    Ok(if alive { Ok(claims) } else { Err(Inactive::SessionEnded) })
}

/// Tries the token as an access token, then as a refresh token (RFC 7662 §2.1 lets the server
/// ignore `token_type_hint`).
pub async fn live_token(
    store: &dyn Store,
    realm: &RealmContext,
    issuer: &str,
    token: &str,
    now: UnixTime,
) -> Result<Result<LiveToken, Inactive>, OAuthError> {
    match live_access_token(store, realm, issuer, token, now).await? {
        Ok(claims) => return Ok(Ok(LiveToken::Access(claims))),
        Err(Inactive::Invalid) => {}
        Err(other) => return Ok(Err(other)),
    }
    Ok(live_refresh_token(store, realm, issuer, token, now).await?.map(LiveToken::Refresh))
}
