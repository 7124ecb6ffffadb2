//! Authorization Code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.6). Codes are single use: a
//! replayed code is `invalid_grant` and revokes the refresh family and access token issued from
//! its first use (RFC 6749 §4.1.2). The browser flow issues the codes; this consumes them.

use super::approved_session::{issue_tokens, Approved};
use super::GrantContext;
use crate::crypto::sha256;
use crate::oauth::events::EventKind;
use crate::oauth::issue::TokenResponse;
use crate::oauth::{dpop, pkce};
use crate::oauth::request::FormParams;
use crate::oauth::OAuthError;
use crate::store::CodeOutcome;

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
    // RFC 9449 §10: a code bound to a key at the authorization request needs a proof of it
    match (&record.dpop_jkt, &ctx.dpop) {
        (Some(_), None) => return Err(OAuthError::InvalidDpopProof { description: "DPoP Proof missing".into(), at_resource: false }),
        (Some(bound), Some(proven)) if bound != proven => return Err(dpop::jkt_mismatch()),
        _ => {}
    }
    issue_tokens(
        ctx,
        Approved {
            session_id: &record.user_session_id,
            scope: &record.scope,
            nonce: record.nonce.as_deref(),
            code_hash: Some(code_hash),
            success: EventKind::CodeToToken,
            failure: EventKind::CodeToTokenError,
            disabled: "Account disabled",
        },
    )
    .await
}
