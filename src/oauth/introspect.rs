//! Token introspection (RFC 7662) for confidential clients: `{"active": false}` for anything
//! expired, revoked, session-ended, not-before-invalidated, foreign or malformed; otherwise the
//! token's claims plus Keycloak's `active`, `client_id`, `username` and `token_type`.

use serde_json::{json, Value};

use super::events::EventKind;
use super::grants::GrantContext;
use super::issue::ACR_LOGIN;
use super::mappers::{Subject, TokenKind};
use super::scope::Scope;
use super::shaping::{session_notes, Shaper};
use super::tokens::claims::AccessClaims;
use super::request::FormParams;
use super::token_check::{live_token, LiveToken};
use super::OAuthError;

/// Keycloak 25+ shapes an introspection answer with the mappers whose
/// `introspection.token.claim` is on: when one of the token's mappers would add what the access
/// token does not carry (or the access token is lightweight), the user's claims are shaped
/// afresh for introspection over the token's own.
async fn reshape(ctx: &GrantContext<'_>, claims: &AccessClaims, body: &mut Value) -> Result<(), OAuthError> {
    let Some(client) = ctx.realm.client(&claims.azp) else { return Ok(()) };
    let scope = Scope::regrant(ctx.realm.scopes.of_client(&client.id), &claims.scope);
    let shaper = Shaper::new(ctx.realm, &client, scope);
    if !shaper.differs_from_access(TokenKind::Introspection) {
        return Ok(());
    }
    let Some(user) = ctx.store.user_by_id(&ctx.realm.realm.id, &claims.sub).await? else { return Ok(()) };
    let roles = shaper.roles(&ctx.store.mapped_role_ids(&user.id).await?);
    let groups = shaper.groups(ctx.store.as_ref(), &user).await?;
    let notes = session_notes(&client, &user, claims.auth_time, None);
    let subject = Subject { user: &user, attributes: &user.attributes, group_paths: &groups, notes: &notes };
    let shaped = shaper.shape(TokenKind::Introspection, subject, &roles, claims.acr.as_deref().unwrap_or(ACR_LOGIN));
    if let Value::Object(body) = body {
        body.extend(shaped.claims);
    }
    Ok(())
}

pub async fn introspect(ctx: &GrantContext<'_>, form: &FormParams) -> Result<Value, OAuthError> {
    if ctx.client.public_client {
        return Err(OAuthError::InvalidClient("Public client not allowed to introspect token".into()));
    }
    let token = form.require("token")?;
    let answer = match live_token(ctx.store.as_ref(), ctx.realm, ctx.issuer, token, ctx.now).await? {
        Ok(LiveToken::Access(claims)) => {
            let mut body = serde_json::to_value(&claims).unwrap_or_default();
            reshape(ctx, &claims, &mut body).await?;
            body["active"] = json!(true);
            body["client_id"] = json!(claims.azp);
            if body.get("username").is_none() {
                let username = match claims.mapped.get("preferred_username") {
                    Some(name) => Some(name.clone()),
                    None => ctx.store.user_by_id(&ctx.realm.realm.id, &claims.sub).await?.map(|u| json!(u.username)),
                };
                body["username"] = username.unwrap_or(Value::Null);
            }
            // "Bearer", or "DPoP" for a token bound to a key (its `cnf` is among the claims)
            body["token_type"] = json!(claims.typ);
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
