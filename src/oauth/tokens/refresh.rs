//! Refresh and offline token shells: compact HS256 JWTs under the realm's HMAC key. A forged or
//! garbled token fails the HMAC check here, before any database work (DESIGN.md §2); only the
//! SHA-256 of the 256-bit `jti` is ever stored.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::claims::{RefreshClaims, TYP_OFFLINE, TYP_REFRESH};
use super::jwt;
use super::keys::{HmacKey, KeyRing};
use crate::crypto::sha256;
use crate::store::{FamilyGeneration, PresentedToken, TokenHash};

/// Longest token accepted: real shells are ~600 bytes; this bounds work on garbage.
const MAX_TOKEN_LEN: usize = 4096;

pub fn sign(key: &HmacKey, claims: &RefreshClaims) -> String {
    let header = jwt::encode_header("HS256", &key.kid, "JWT");
    let input = jwt::signing_input(&header, claims);
    let tag = hmac::sign(&key.key, input.as_bytes());
    jwt::append_signature(input, tag.as_ref())
}

/// The hash under which a shell's jti is stored.
pub fn jti_hash(jti: &str) -> TokenHash {
    sha256(jti.as_bytes())
}

/// How the store knows a verified shell: its family and generation, and its jti's hash (the
/// only key of a shell minted before the shells carried the first two).
pub fn presented(claims: &RefreshClaims) -> PresentedToken {
    let generation = match (&claims.fam, claims.generation) {
        (Some(family_id), Some(generation)) => Some(FamilyGeneration { family_id: family_id.clone(), generation }),
        _ => None,
    };
    PresentedToken { hash: jti_hash(&claims.jti), generation }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellError {
    /// Not a token of ours: bad format, unknown key, bad signature or wrong type.
    Invalid,
}

/// Verifies the HMAC and decodes the claims. Expiry and ownership are the caller's checks.
pub fn verify(keys: &KeyRing, token: &str) -> Result<RefreshClaims, ShellError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(ShellError::Invalid);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(sig_b64), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ShellError::Invalid);
    };
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(ShellError::Invalid)?;
    if header.get("alg").and_then(|v| v.as_str()) != Some("HS256") {
        return Err(ShellError::Invalid);
    }
    let kid = header.get("kid").and_then(|v| v.as_str()).ok_or(ShellError::Invalid)?;
    let key = keys.hmac(kid).ok_or(ShellError::Invalid)?;
    let signature = URL_SAFE_NO_PAD.decode(sig_b64).map_err(|_| ShellError::Invalid)?;
    let signed_len = header_b64.len() + 1 + payload_b64.len();
    hmac::verify(&key.key, token[..signed_len].as_bytes(), &signature).map_err(|_| ShellError::Invalid)?;
    let claims: RefreshClaims = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(ShellError::Invalid)?;
    if claims.typ != TYP_REFRESH && claims.typ != TYP_OFFLINE {
        return Err(ShellError::Invalid);
    }
    // we mint both or neither
    if claims.fam.is_some() != claims.generation.is_some() {
        return Err(ShellError::Invalid);
    }
    Ok(claims)
}
