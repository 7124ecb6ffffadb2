//! Token introspection (RFC 7662) for confidential clients: `{"active": false}` for anything
//! expired, revoked, session-ended, not-before-invalidated, foreign or malformed; otherwise the
//! token's claims plus Keycloak's `active`, `client_id`, `username` and `token_type`.

use serde_json::{json, Value};

use super::events::EventKind;
use super::grants::GrantContext;
use super::request::FormParams;
use super::token_check::{live_token, LiveToken};
use super::OAuthError;

pub async fn introspect(ctx: &GrantContext<'_>, form: &FormParams) -> Result<Value, OAuthError> {
    if ctx.client.public_client {
        return Err(OAuthError::InvalidClient("Public client not allowed to introspect token".into()));
    }
    let token = form.require("token")?;
    let answer = match live_token(ctx.store.as_ref(), ctx.realm, ctx.issuer, token, ctx.now).await? {
        Ok(LiveToken::Access(claims)) => {
            let mut body = serde_json::to_value(&claims).unwrap_or_default();
            body["active"] = json!(true);
            body["client_id"] = json!(claims.azp);
            body["username"] = json!(claims.profile.preferred_username);
            body["token_type"] = json!("Bearer");
            ctx.event(EventKind::IntrospectToken, Some(&claims.sub), claims.sid.as_deref(), None);
            body
        }
        Ok(LiveToken::Refresh(claims)) => {
            let mut body = serde_json::to_value(&claims).unwrap_or_default();
            body["active"] = json!(true);
            body["client_id"] = json!(claims.azp);
            body["token_type"] = json!(claims.typ);
            ctx.event(EventKind::IntrospectToken, Some(&claims.sub), Some(&claims.sid), None);
            body
        }
        Err(inactive) => {
            ctx.event(EventKind::IntrospectTokenError, None, None, Some(inactive.reason()));
            json!({ "active": false })
        }
    };
    Ok(answer)
}
