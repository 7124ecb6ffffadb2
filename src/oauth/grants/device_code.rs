//! Device Access Token grant (RFC 8628 §3.4-3.5): the device polls with its device code and
//! hears `authorization_pending` until the user decides on the device page, `slow_down` when it
//! polls faster than its interval, `access_denied` or `expired_token`; once approved, the code is
//! redeemed once (the store deletes the row in one statement) for tokens of the approving user
//! session, as an authorization code is. Keycloak's texts throughout (`DeviceGrantType`).

use super::approved_session::{issue_tokens, Approved};
use super::GrantContext;
use crate::crypto::sha256;
use crate::oauth::device;
use crate::oauth::events::EventKind;
use crate::oauth::issue::TokenResponse;
use crate::oauth::request::FormParams;
use crate::oauth::OAuthError;
use crate::store::{DeviceGrantRecord, DevicePoll};

fn device_error(code: &'static str, description: &'static str) -> OAuthError {
    OAuthError::DeviceFlow { code, description }
}

/// The approved grant for this poll, or the answer that tells the device what to do.
async fn approved(ctx: &GrantContext<'_>, device_code: &str) -> Result<DeviceGrantRecord, OAuthError> {
    let fail = |error: &str, e: OAuthError| {
        ctx.event(EventKind::DeviceCodeToTokenError, None, None, Some(error));
        e
    };
    if device_code.len() > 512 {
        return Err(fail("invalid_oauth2_device_code", OAuthError::invalid_grant("Device code not valid")));
    }
    let hash = sha256(device_code.as_bytes());
    let (grant, on_time) = match ctx.store.poll_device_grant(&ctx.realm.realm.id, &ctx.client.id, &hash, ctx.now).await? {
        DevicePoll::Unknown => return Err(fail("invalid_oauth2_device_code", OAuthError::invalid_grant("Device code not valid"))),
        DevicePoll::TooSoon(grant) => (grant, false),
        DevicePoll::Polled(grant) => (grant, true),
    };
    if grant.expires_at <= ctx.now {
        return Err(fail("expired_oauth2_device_code", device_error("expired_token", "Device code is expired")));
    }
    if !on_time {
        return Err(fail("slow_down", device_error("slow_down", "Slow down")));
    }
    if grant.denied {
        return Err(fail("access_denied", device_error("access_denied", "The end user denied the authorization request")));
    }
    if grant.user_session_id.is_none() {
        return Err(device_error("authorization_pending", "The authorization request is still pending"));
    }
    ctx.store
        .redeem_device_grant(&ctx.realm.realm.id, &ctx.client.id, &hash)
        .await?
        .ok_or_else(|| fail("invalid_oauth2_device_code", OAuthError::invalid_grant("Device code not valid")))
}

pub async fn handle(ctx: &GrantContext<'_>, form: &FormParams) -> Result<TokenResponse, OAuthError> {
    if !device::enabled(ctx.client) {
        ctx.event(EventKind::DeviceCodeToTokenError, None, None, Some("not_allowed"));
        return Err(OAuthError::invalid_grant("Client not allowed OAuth 2.0 Device Authorization Grant"));
    }
    let grant = approved(ctx, form.require("device_code")?).await?;
    issue_tokens(
        ctx,
        Approved {
            session_id: grant.user_session_id.as_deref().unwrap_or_default(),
            scope: &grant.scope,
            nonce: grant.nonce.as_deref(),
            code_hash: None,
            success: EventKind::DeviceCodeToToken,
            failure: EventKind::DeviceCodeToTokenError,
            disabled: "User disabled",
        },
    )
    .await
}
