//! Verification of our own access tokens for userinfo, introspection and revocation: signature
//! against the realm's published keys (only the algorithms we sign with; never `none`, never
//! HMAC), issuer, type and expiry. Whether the token was revoked or its session ended is the
//! caller's database check.

use jsonwebtoken::{decode, decode_header, Validation};

use super::claims::{AccessClaims, TYP_BEARER, TYP_DPOP};
use super::keys::KeyRing;
use crate::clock::UnixTime;

const MAX_TOKEN_LEN: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessTokenError {
    /// Malformed, unknown key, bad signature, wrong issuer or type.
    Invalid,
    Expired,
}

pub fn verify(keys: &KeyRing, issuer: &str, token: &str, now: UnixTime) -> Result<AccessClaims, AccessTokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(AccessTokenError::Invalid);
    }
    let header = decode_header(token).map_err(|_| AccessTokenError::Invalid)?;
    let kid = header.kid.as_deref().ok_or(AccessTokenError::Invalid)?;
    let key = keys.verifier(kid).ok_or(AccessTokenError::Invalid)?;
    if header.alg != key.algorithm {
        return Err(AccessTokenError::Invalid);
    }
    let mut validation = Validation::new(key.algorithm);
    validation.validate_exp = false; // checked below against the injectable clock
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[issuer]);
    let claims = decode::<AccessClaims>(token, &key.decoding, &validation)
        .map_err(|_| AccessTokenError::Invalid)?
        .claims;
    if claims.typ != TYP_BEARER && claims.typ != TYP_DPOP {
        return Err(AccessTokenError::Invalid);
    }
    if claims.exp <= now {
        return Err(AccessTokenError::Expired);
    }
    Ok(claims)
}

/// An `id_token_hint` (OIDC RP-Initiated Logout §2): our signature and issuer, any age.
pub fn verify_id_token_hint(keys: &KeyRing, issuer: &str, token: &str) -> Option<super::claims::IdClaims> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let header = decode_header(token).ok()?;
    let key = keys.verifier(header.kid.as_deref()?)?;
    if header.alg != key.algorithm {
        return None;
    }
    let mut validation = Validation::new(key.algorithm);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[issuer]);
    let claims = decode::<super::claims::IdClaims>(token, &key.decoding, &validation).ok()?.claims;
    (claims.typ == super::claims::TYP_ID).then_some(claims)
}
