//! Action tokens: the `key` of Keycloak's `/login-actions/action-token` links in execute-actions,
//! verify-email and forgot-password mails. A compact HS256 JWT under the realm's HMAC key (the
//! key of refresh shells) carrying Keycloak's claims: `typ`, `sub` (user id), `exp`, `jti`,
//! `azp` (client id), `rqac` (required actions), `reduri` (redirect URI), `eml` (the address the
//! mail went to). Verifying it needs no database; single use is the store's (`use_action_token`).

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::crypto::random::random_token;
use crate::oauth::tokens::jwt;
use crate::oauth::tokens::keys::KeyRing;

/// Keycloak's token types.
pub const EXECUTE_ACTIONS: &str = "execute-actions";
pub const VERIFY_EMAIL: &str = "verify-email";
pub const RESET_CREDENTIALS: &str = "reset-credentials";

/// Longest key accepted: real ones are well under 1 KiB; this bounds work on garbage.
const MAX_TOKEN_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionToken {
    pub typ: String,
    pub jti: String,
    /// The user's id.
    pub sub: String,
    /// The realm's id: a token of one realm is refused by every other.
    pub rlm: String,
    pub iat: UnixTime,
    pub exp: UnixTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rqac: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eml: Option<String>,
}

/// Why a key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of this realm: bad format, unknown key, bad signature, unknown type.
    Invalid,
    /// Past its `exp`.
    Expired,
}

impl ActionToken {
    /// A new token of type `typ` for `user_id`, alive `lifespan` seconds from `now`.
    pub fn new(typ: &str, realm_id: &str, user_id: &str, now: UnixTime, lifespan: i64) -> Self {
        Self {
            typ: typ.into(),
            jti: random_token::<32>(),
            sub: user_id.into(),
            rlm: realm_id.into(),
            iat: now,
            exp: now.saturating_add(lifespan.max(0)),
            azp: None,
            rqac: Vec::new(),
            reduri: None,
            eml: None,
        }
    }

    /// The hex SHA-256 of the jti, under which its use is recorded.
    pub fn jti_hash(&self) -> String {
        crate::crypto::sha256_hex(self.jti.as_bytes())
    }

    /// Signs under the realm's active HMAC key; `None` when the realm has none.
    pub fn sign(&self, keys: &KeyRing) -> Option<String> {
        let key = keys.hmac_active().ok()?;
        let header = jwt::encode_header("HS256", &key.kid, "JWT");
        let input = jwt::signing_input(&header, self);
        let tag = hmac::sign(&key.key, input.as_bytes());
        Some(jwt::append_signature(input, tag.as_ref()))
    }

    /// Checks the signature (any of the realm's HMAC keys), the realm, the type and the expiry.
    pub fn verify(keys: &KeyRing, realm_id: &str, token: &str, now: UnixTime) -> Result<ActionToken, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(sig_b64), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let header: serde_json::Value = URL_SAFE_NO_PAD
            .decode(header_b64)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenError::Invalid)?;
        if header.get("alg").and_then(|v| v.as_str()) != Some("HS256") {
            return Err(TokenError::Invalid);
        }
        let kid = header.get("kid").and_then(|v| v.as_str()).ok_or(TokenError::Invalid)?;
        let key = keys.hmac(kid).ok_or(TokenError::Invalid)?;
        let signature = URL_SAFE_NO_PAD.decode(sig_b64).map_err(|_| TokenError::Invalid)?;
        let signed_len = header_b64.len() + 1 + payload_b64.len();
        hmac::verify(&key.key, &token.as_bytes()[..signed_len], &signature).map_err(|_| TokenError::Invalid)?;
        let claims: ActionToken = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenError::Invalid)?;
        if claims.rlm != realm_id || ![EXECUTE_ACTIONS, VERIFY_EMAIL, RESET_CREDENTIALS].contains(&claims.typ.as_str()) {
            return Err(TokenError::Invalid);
        }
        if now >= claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}
