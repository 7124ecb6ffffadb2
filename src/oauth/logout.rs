//! Logout with a refresh token (Keycloak's `POST .../logout` with client authentication): ends
//! the session the token belongs to and, by cascade, all its client sessions and token
//! families. Logging out with a refresh token leaves the user's offline sessions alone; an
//! offline token ends its own offline session.

use super::events::EventKind;
use super::grants::GrantContext;
use super::request::FormParams;
use super::tokens::refresh;
use super::OAuthError;

pub async fn logout(ctx: &GrantContext<'_>, form: &FormParams) -> Result<(), OAuthError> {
    let token = form.require("refresh_token")?;
    let invalid = || {
        ctx.event(EventKind::LogoutError, None, None, Some("invalid_token"));
        OAuthError::invalid_grant("Invalid refresh token")
    };
    let claims = refresh::verify(&ctx.realm.keys, token).map_err(|_| invalid())?;
    if claims.azp != ctx.client.client_id || claims.iss != ctx.issuer {
        return Err(invalid());
    }
    let session = ctx
        .store
        // A rotated-away token of a live family still names its own session, which it may end.
        .session_of_refresh_token(&refresh::presented(&claims), None)
        .await?
        .map(|found| found.session)
        .filter(|s| s.realm_id == ctx.realm.realm.id)
        .ok_or_else(|| {
            ctx.event(EventKind::LogoutError, Some(&claims.sub), Some(&claims.sid), Some("session_expired"));
            OAuthError::invalid_grant("Session not active")
        })?;
    if let Some(ended) = ctx.store.delete_user_session(&ctx.realm.realm.id, &session.id).await? {
        ctx.logout.sessions_ended(ctx.store.as_ref(), ctx.realm, ctx.issuer, std::slice::from_ref(&ended), ctx.now).await;
    }
    ctx.event(EventKind::Logout, Some(&session.user_id), Some(&session.id), None);
    Ok(())
}
