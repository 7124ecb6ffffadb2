//! Is this token alive right now? The checks shared by introspection, userinfo and revocation:
//! signature and expiry first (no database), then not-before and the token's client (the realm
//! cache), then in one lookup the grant it came from (revoked?), its session (alive?), its user
//! (enabled?) and its own revocation. Each failure says why, for the log and the event; clients
//! only ever see "inactive" or `invalid_token`.

use super::tokens::claims::{AccessClaims, RefreshClaims};
use super::tokens::{access, refresh};
use super::OAuthError;
use crate::clock::UnixTime;
use crate::crypto::sha256;
use crate::realm::RealmContext;
use crate::session;
use crate::store::{AccessTokenLookup, Store, UserSessionRecord};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inactive {
    Invalid,
    Expired,
    Stale,
    Revoked,
    SessionEnded,
    /// The user was deleted or disabled (a service-account user too).
    UserDisabled,
    /// The client the token was issued to was deleted or disabled.
    ClientDisabled,
}

impl Inactive {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Invalid => "invalid_token",
            Self::Expired => "token_expired",
            Self::Stale => "stale_token",
            Self::Revoked => "token_revoked",
            Self::SessionEnded => "session_expired",
            Self::UserDisabled => "user_disabled",
            Self::ClientDisabled => "client_disabled",
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
    Ok(live_access_token_in_session(store, realm, issuer, token, now).await?.map(|(claims, _)| claims))
}

/// `live_access_token`, with the session the token lives in (its grant's, or its `sid`'s);
/// `None` for a token of no session (client_credentials without a refresh token).
pub async fn live_access_token_in_session(
    store: &dyn Store,
    realm: &RealmContext,
    issuer: &str,
    token: &str,
    now: UnixTime,
) -> Result<Result<(AccessClaims, Option<UserSessionRecord>), Inactive>, OAuthError> {
    let claims = match access::verify(&realm.keys, issuer, token, now) {
        Ok(claims) => claims,
        Err(access::AccessTokenError::Expired) => return Ok(Err(Inactive::Expired)),
        Err(access::AccessTokenError::Invalid) => return Ok(Err(Inactive::Invalid)),
    };
    if claims.iat < realm.realm.not_before {
        return Ok(Err(Inactive::Stale));
    }
    if !client_enabled(realm, &claims.azp) {
        return Ok(Err(Inactive::ClientDisabled));
    }
    let jti = sha256(claims.jti.as_bytes());
    let lookup = AccessTokenLookup {
        realm_id: &realm.realm.id,
        family_id: claims.fam.as_deref(),
        session_id: claims.sid.as_deref(),
        user_id: &claims.sub,
        jti: &jti,
    };
    let state = store.access_token_state(&lookup).await?;
    if state.jti_revoked || state.family_revoked {
        return Ok(Err(Inactive::Revoked));
    }
    let session_bound = claims.fam.is_some() || claims.sid.is_some();
    match &state.session {
        Some(session) if !session::is_alive(&realm.realm.settings, session, None, now) => return Ok(Err(Inactive::SessionEnded)),
        None if session_bound => return Ok(Err(Inactive::SessionEnded)),
        _ => {}
    }
    if !state.user_enabled {
        return Ok(Err(Inactive::UserDisabled));
    }
    Ok(Ok((claims, state.session)))
}

/// Keycloak refuses the tokens of a client that was deleted or disabled.
fn client_enabled(realm: &RealmContext, client_id: &str) -> bool {
    realm.client(client_id).is_some_and(|c| c.enabled)
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
    if !client_enabled(realm, &claims.azp) {
        return Ok(Err(Inactive::ClientDisabled));
    }
    // Rotating realms: a token already used up is not live, since its next use is a reuse.
    let settings = &realm.realm.settings;
    let max_reuse = settings.revoke_refresh_token.then_some(settings.refresh_token_max_reuse.max(0));
    let found = store.session_of_refresh_token(&refresh::presented(&claims), max_reuse).await?;
    Ok(match found {
        Some(live) if !live.user_enabled => Err(Inactive::UserDisabled),
        Some(live) if session::is_alive(&realm.realm.settings, &live.session, None, now) => Ok(claims),
        _ => Err(Inactive::SessionEnded),
    })
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
