//! Token revocation (RFC 7009). A refresh token ends its family (an offline token its offline
//! session); an access token is recorded as revoked until it expires. Unknown or invalid tokens
//! still answer 200 (§2.2), but a token of another client is refused.

use super::events::EventKind;
use super::grants::GrantContext;
use super::request::FormParams;
use super::tokens::{access, refresh};
use super::OAuthError;
use crate::crypto::sha256;

pub async fn revoke(ctx: &GrantContext<'_>, form: &FormParams) -> Result<(), OAuthError> {
    let token = form.require("token")?;
    if let Ok(claims) = refresh::verify(&ctx.realm.keys, token) {
        if claims.azp != ctx.client.client_id {
            return Err(OAuthError::InvalidRequest("Unmatching clients".into()));
        }
        let presented = refresh::presented(&claims);
        if ctx.store.revoke_refresh_family(&ctx.realm.realm.id, &ctx.client.id, &presented, ctx.now).await? {
            ctx.event(EventKind::RevokeGrant, Some(&claims.sub), Some(&claims.sid), None);
        }
        return Ok(());
    }
    match access::verify(&ctx.realm.keys, ctx.issuer, token, ctx.now) {
        Ok(claims) => {
            if claims.azp != ctx.client.client_id {
                return Err(OAuthError::InvalidRequest("Unmatching clients".into()));
            }
            ctx.store.revoke_access_token(&ctx.realm.realm.id, &sha256(claims.jti.as_bytes()), claims.exp).await?;
            ctx.event(EventKind::RevokeGrant, Some(&claims.sub), claims.sid.as_deref(), None);
            Ok(())
        }
        // RFC 7009 §2.2: invalid tokens do not cause an error
        Err(_) => Ok(()),
    }
}
