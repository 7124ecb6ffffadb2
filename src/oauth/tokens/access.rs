//! Verification of our own access tokens for userinfo, introspection and revocation: signature
//! against the realm's published keys (only the algorithms we sign with; never `none`, never
//! HMAC), issuer, type and expiry. Whether the token was revoked or its session ended is the
//! caller's database check.

use jsonwebtoken::dangerous::insecure_decode;
use jsonwebtoken::{decode, decode_header, Validation};

use super::claims::{AccessClaims, TYP_BEARER, TYP_DPOP};
use super::keys::KeyRing;
use super::verified::VerifiedSignatures;
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
    // The same bytes under the same key were verified before: only the signature work is
    // skipped, every claim check below runs as for a first sight (`verified.rs`).
    let digest = VerifiedSignatures::digest(&key.fingerprint, token);
    let claims = if keys.verified().holds(&digest, now) {
        let claims = insecure_decode::<AccessClaims>(token).map_err(|_| AccessTokenError::Invalid)?.claims;
        if claims.iss != issuer {
            return Err(AccessTokenError::Invalid);
        }
        claims
    } else {
        let mut validation = Validation::new(key.algorithm);
        validation.validate_exp = false; // checked below against the injectable clock
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[issuer]);
        let claims = decode::<AccessClaims>(token, &key.decoding, &validation).map_err(|_| AccessTokenError::Invalid)?.claims;
        keys.verified().record(digest, claims.exp, now);
        claims
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;
    use crate::domain::SignatureAlgorithm;
    use crate::oauth::tokens::keys::generate_signing_key;
    use serde_json::json;

    const ISS: &str = "http://localhost/realms/r1";

    fn ring_and_token(master: &MasterKey) -> (Vec<crate::store::SigningKeyRecord>, KeyRing, String) {
        let records = vec![generate_signing_key("r1", SignatureAlgorithm::ES256, master, 0).unwrap()];
        let ring = KeyRing::load(&records, master, 0).unwrap();
        let claims = json!({ "exp": 1_000, "iat": 0, "jti": "j1", "iss": ISS, "sub": "u1", "typ": TYP_BEARER,
                             "azp": "app", "scope": "openid" });
        let token = ring.signer(SignatureAlgorithm::ES256).unwrap().sign(&claims).unwrap();
        (records, ring, token)
    }

    #[test]
    fn a_remembered_signature_still_has_its_issuer_type_and_expiry_checked() {
        let master = MasterKey::generate();
        let (_, ring, token) = ring_and_token(&master);
        assert_eq!(verify(&ring, ISS, &token, 100).unwrap().sub, "u1");
        assert_eq!(verify(&ring, ISS, &token, 200).unwrap().sub, "u1", "the memo's path");
        assert_eq!(verify(&ring, "http://elsewhere/realms/r1", &token, 200), Err(AccessTokenError::Invalid));
        assert_eq!(verify(&ring, ISS, &token, 1_000), Err(AccessTokenError::Expired));
        let mut tampered = token.clone();
        tampered.pop();
        assert_eq!(verify(&ring, ISS, &tampered, 200), Err(AccessTokenError::Invalid));
    }

    #[test]
    fn a_signature_remembered_under_one_key_is_checked_again_under_another_key_of_the_same_kid() {
        let master = MasterKey::generate();
        let (records, ring, token) = ring_and_token(&master);
        let memo = std::sync::Arc::new(VerifiedSignatures::default());
        let ring = ring.with_verified(memo.clone());
        assert!(verify(&ring, ISS, &token, 100).is_ok());
        // the same kid now names another public key (a re-imported realm, say)
        let other = generate_signing_key("r1", SignatureAlgorithm::ES256, &master, 0).unwrap();
        let mut swapped = records.clone();
        let jwk = other.public_jwk.unwrap().replace(&other.kid, &records[0].kid);
        swapped[0].public_jwk = Some(jwk);
        let reloaded = KeyRing::load(&swapped, &master, 0).unwrap().with_verified(memo);
        assert_eq!(verify(&reloaded, ISS, &token, 100), Err(AccessTokenError::Invalid));
    }
}
