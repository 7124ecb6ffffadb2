//! JWT client authentication (RFC 7523 §2.2 and §3, OIDC Core §9): `private_key_jwt`
//! (Keycloak's `client-jwt` authenticator, keys from `jwks.url` or `jwks.string`) and
//! `client_secret_jwt` (`client-secret-jwt`, HMAC with the client secret). The checks are
//! Keycloak's `JWTClientValidator`'s: iss = sub = the client, `aud` naming the issuer or the
//! endpoint, `exp` in the future (and at most `MAX_ASSERTION_LIFETIME` ahead, so the replay record
//! stays small), `nbf` passed (both with `CLOCK_SKEW`), and a `jti` the store has not seen, so no node accepts a replay.
//! Asymmetric assertions only verify with asymmetric keys and HMAC ones only with the secret:
//! the algorithm family is fixed by the authenticator, never by the token (no alg confusion).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::OAuthError;
use crate::clock::UnixTime;

/// RFC 7523 §2.2.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Keycloak's `clientAuthenticatorType` values.
pub const CLIENT_JWT: &str = "client-jwt";
pub const CLIENT_SECRET_JWT: &str = "client-secret-jwt";
/// An assertion may live at most this long from now (seconds); its jti is remembered until
/// its `exp`, so a far `exp` would keep rows for ever.
pub const MAX_ASSERTION_LIFETIME: i64 = 3600;
/// Clock skew allowed between the client and this server for `exp` and `nbf` (seconds).
pub const CLOCK_SKEW: i64 = 15;
/// Assertions longer than this are refused before any parsing (bytes).
pub const MAX_ASSERTION_LEN: usize = 8192;

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
}

/// A verified assertion: what the replay record needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// Hex SHA-256 of the client and jti: one record per client's jti.
    pub jti_hash: String,
    pub exp: UnixTime,
}

/// The keys an assertion may be verified with.
pub enum Keys<'a> {
    /// `client-secret-jwt`: the client's secret (HS256, HS384, HS512).
    Secret(&'a [u8]),
    /// `client-jwt`: the client's public keys (RSA, RSA-PSS, EC, EdDSA).
    Public(&'a JwkSet),
}

fn invalid(description: &str) -> OAuthError {
    OAuthError::InvalidClient(description.to_string())
}

/// The client an assertion names (its `sub`, else `iss`), unverified: only to find whose keys
/// verify it.
pub fn named_client(assertion: &str) -> Option<String> {
    if assertion.len() > MAX_ASSERTION_LEN {
        return None;
    }
    let payload = assertion.split('.').nth(1)?;
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).ok()?;
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    claims.sub.or(claims.iss)
}

/// The `kid` of the assertion's header, when it names one.
pub fn key_id(assertion: &str) -> Option<String> {
    jsonwebtoken::decode_header(assertion).ok()?.kid
}

/// Verifies `assertion` as `client_id`'s, for one of `audiences`, at `now`.
pub fn verify(assertion: &str, client_id: &str, keys: &Keys<'_>, audiences: &[String], now: UnixTime) -> Result<Verified, OAuthError> {
    if assertion.len() > MAX_ASSERTION_LEN {
        return Err(invalid("Client assertion is too large"));
    }
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| invalid("Invalid client assertion"))?;
    let symmetric = matches!(header.alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512);
    let key = match keys {
        Keys::Secret(secret) if symmetric => DecodingKey::from_secret(secret),
        Keys::Public(set) if !symmetric => {
            let jwk = match header.kid.as_deref() {
                Some(kid) => set.find(kid),
                // one key and no kid: that key (Keycloak accepts it)
                None if set.keys.len() == 1 => set.keys.first(),
                None => None,
            };
            let jwk = jwk.ok_or_else(|| invalid("No key of the client matches the assertion's kid"))?;
            DecodingKey::from_jwk(jwk).map_err(|_| invalid("The client's key cannot verify assertions"))?
        }
        _ => return Err(invalid("The assertion's algorithm is not the client authenticator's")),
    };
    let mut validation = Validation::new(header.alg);
    // times are checked below against the injected clock
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims.clear();
    validation.set_audience(audiences);
    let claims = jsonwebtoken::decode::<Claims>(assertion, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidAudience => invalid("Invalid token audience"),
            jsonwebtoken::errors::ErrorKind::InvalidSignature => invalid("Invalid client assertion signature"),
            _ => invalid("Invalid client assertion"),
        })?
        .claims;
    if claims.sub.as_deref() != Some(client_id) {
        return Err(invalid("Subject mismatch"));
    }
    if claims.iss.as_deref() != Some(client_id) {
        return Err(invalid("Issuer mismatch"));
    }
    let exp = claims.exp.ok_or_else(|| invalid("Token exp claim is required"))?;
    if exp + CLOCK_SKEW <= now {
        return Err(invalid("Token is not active"));
    }
    if exp > now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW {
        return Err(invalid("Token exp claim is too far in the future"));
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + CLOCK_SKEW) {
        return Err(invalid("Token is not active"));
    }
    let jti = claims.jti.filter(|j| !j.is_empty()).ok_or_else(|| invalid("Missing ID on the token"))?;
    Ok(Verified { jti_hash: crate::crypto::sha256_hex(format!("{client_id}\u{0}{jti}").as_bytes()), exp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const SECRET: &[u8] = b"a-client-secret-of-enough-length-0123";

    fn token(alg: Algorithm, claims: serde_json::Value) -> String {
        encode(&Header::new(alg), &claims, &EncodingKey::from_secret(SECRET)).unwrap()
    }

    fn claims(now: i64) -> serde_json::Value {
        json!({"iss": "app", "sub": "app", "aud": "https://as/realms/r", "exp": now + 60, "jti": "j-1"})
    }

    fn aud() -> Vec<String> {
        vec!["https://as/realms/r".into()]
    }

    #[test]
    fn a_secret_signed_assertion_verifies_and_names_its_jti() {
        let t = token(Algorithm::HS256, claims(1000));
        assert_eq!(named_client(&t).as_deref(), Some("app"));
        let v = verify(&t, "app", &Keys::Secret(SECRET), &aud(), 1000).unwrap();
        assert_eq!(v.exp, 1060);
        let other = verify(&token(Algorithm::HS256, json!({"iss": "app", "sub": "app", "aud": "https://as/realms/r", "exp": 1060, "jti": "j-2"})), "app", &Keys::Secret(SECRET), &aud(), 1000).unwrap();
        assert_ne!(v.jti_hash, other.jti_hash);
    }

    #[test]
    fn every_claim_is_checked() {
        let cases = [
            (json!({"iss": "app", "sub": "other", "aud": "https://as/realms/r", "exp": 1060, "jti": "j"}), "Subject mismatch"),
            (json!({"iss": "other", "sub": "app", "aud": "https://as/realms/r", "exp": 1060, "jti": "j"}), "Issuer mismatch"),
            (json!({"iss": "app", "sub": "app", "aud": "https://elsewhere", "exp": 1060, "jti": "j"}), "Invalid token audience"),
            (json!({"iss": "app", "sub": "app", "aud": "https://as/realms/r", "exp": 985, "jti": "j"}), "Token is not active"),
            (json!({"iss": "app", "sub": "app", "aud": "https://as/realms/r", "exp": 9999, "jti": "j"}), "Token exp claim is too far in the future"),
            (json!({"iss": "app", "sub": "app", "aud": "https://as/realms/r", "exp": 1060, "nbf": 1016, "jti": "j"}), "Token is not active"),
            (json!({"iss": "app", "sub": "app", "aud": "https://as/realms/r", "exp": 1060}), "Missing ID on the token"),
            (json!({"iss": "app", "sub": "app", "aud": "https://as/realms/r", "jti": "j"}), "Token exp claim is required"),
        ];
        for (claims, why) in cases {
            let err = verify(&token(Algorithm::HS256, claims.clone()), "app", &Keys::Secret(SECRET), &aud(), 1000).unwrap_err();
            assert_eq!(err, OAuthError::InvalidClient(why.into()), "{claims}");
        }
    }

    #[test]
    fn a_wrong_secret_or_an_hmac_token_against_public_keys_is_refused() {
        let t = token(Algorithm::HS256, claims(1000));
        assert!(verify(&t, "app", &Keys::Secret(b"another-secret-of-enough-length-000"), &aud(), 1000).is_err());
        let empty = JwkSet { keys: vec![] };
        assert_eq!(
            verify(&t, "app", &Keys::Public(&empty), &aud(), 1000).unwrap_err(),
            OAuthError::InvalidClient("The assertion's algorithm is not the client authenticator's".into())
        );
        assert!(verify("not.a.jwt", "app", &Keys::Secret(SECRET), &aud(), 1000).is_err());
        assert_eq!(named_client(&"x".repeat(MAX_ASSERTION_LEN + 1)), None);
    }
}
