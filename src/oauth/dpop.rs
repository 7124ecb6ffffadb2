//! DPoP proofs (RFC 9449 §4): a JWT in the `DPoP` header, signed with a key the client holds
//! and names in the proof's own `jwk` header, for one request (`htm`, `htu`) at one moment
//! (`iat`), once (`jti`, spent in the store so no node accepts it twice), and, at a resource,
//! for one access token (`ath`). A token issued with a valid proof is bound to the key's RFC
//! 7638 thumbprint (`cnf.jkt`, `token_type: DPoP`). The checks and texts are Keycloak's
//! `DPoPUtil`'s: a proof lives `PROOF_LIFETIME` seconds with `CLOCK_SKEW` either way; only
//! asymmetric algorithms. The thumbprint is computed here from the header's JSON so that a key
//! with private members, or of an unknown type, is refused before any crypto.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::dpop_nonce;
use super::tokens::claims::AccessClaims;
use super::OAuthError;
use crate::clock::UnixTime;
use crate::crypto::sha256;
use crate::domain::Client;
use crate::realm::RealmContext;
use crate::store::Store;

/// The request header (RFC 9449 §4.1) and the proof's `typ`.
pub const HEADER: &str = "DPoP";
pub const PROOF_TYPE: &str = "dpop+jwt";
/// The `token_type` and access-token `typ` of a bound token, and the Authorization scheme.
pub const TOKEN_TYPE: &str = "DPoP";
/// Keycloak's client attribute: the client's tokens must be DPoP-bound.
pub const BOUND_ACCESS_TOKENS: &str = "dpop.bound.access.tokens";
/// Keycloak's `DEFAULT_PROOF_LIFETIME` and `DEFAULT_ALLOWED_CLOCK_SKEW` (seconds).
pub const PROOF_LIFETIME: i64 = 10;
pub const CLOCK_SKEW: i64 = 15;
/// Proofs longer than this are refused unparsed (bytes).
pub const MAX_PROOF_LEN: usize = 8192;
/// Longest `jti` accepted.
const MAX_JTI: usize = 256;
/// The algorithms a proof may use (discovery's `dpop_signing_alg_values_supported`).
pub const ALGORITHMS: [&str; 9] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/// A proof that passed every check but the replay check (`spend`).
#[derive(Debug, Clone, PartialEq)]
pub struct Proof {
    /// The key's RFC 7638 SHA-256 thumbprint, base64url.
    pub jkt: String,
    jti: String,
    htu: String,
    iat: UnixTime,
    /// The server nonce the proof carries (RFC 9449 §8), checked only for clients that need one.
    nonce: Option<String>,
}

/// Why a proof was refused, in Keycloak's words (`error_description` of `invalid_dpop_proof`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofError(pub String);

fn refuse(why: &str) -> ProofError {
    ProofError(why.to_string())
}

/// What the proof must be for.
pub struct Expected<'a> {
    pub method: &'a str,
    /// The request's URL, without query or fragment.
    pub url: &'a str,
    /// The access token presented with the proof (at a resource: `ath` must be its hash).
    pub access_token: Option<&'a str>,
    pub now: UnixTime,
}

#[derive(Deserialize)]
struct Claims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<i64>,
    ath: Option<String>,
    nonce: Option<String>,
}

pub fn required(client: &Client) -> bool {
    client.attributes.get(BOUND_ACCESS_TOKENS).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The URL without query and fragment, as `htu` compares (RFC 9449 §4.3 item 9).
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// RFC 7638 §3.2: the thumbprint of a public JWK from its required members; `None` for a key
/// type or curve proofs cannot use.
fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str).filter(|v| !v.is_empty());
    let canonical = match member("kty")? {
        "RSA" => serde_json::json!({ "e": member("e")?, "kty": "RSA", "n": member("n")? }),
        "EC" if matches!(member("crv")?, "P-256" | "P-384") => {
            serde_json::json!({ "crv": member("crv")?, "kty": "EC", "x": member("x")?, "y": member("y")? })
        }
        "OKP" if member("crv")? == "Ed25519" => serde_json::json!({ "crv": "Ed25519", "kty": "OKP", "x": member("x")? }),
        _ => return None,
    };
    // serde_json's maps are ordered by key, which is RFC 7638's lexicographic order
    Some(URL_SAFE_NO_PAD.encode(sha256(canonical.to_string().as_bytes())))
}

/// The base64url SHA-256 of an access token, as `ath` carries it (RFC 9449 §4.2).
pub fn access_token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha256(access_token.as_bytes()))
}

/// Checks the proof's form, signature, request and time (RFC 9449 §4.3); the `jti` is spent
/// separately (`spend`).
pub fn verify(proof: &str, expected: &Expected<'_>) -> Result<Proof, ProofError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(refuse("DPoP proof is too large"));
    }
    let header_part = proof.split('.').next().unwrap_or("");
    let header: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(header_part)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| refuse("DPoP header verification failure"))?;
    let typ = header.get("typ").and_then(Value::as_str);
    if typ != Some(PROOF_TYPE) {
        return Err(ProofError(format!("Invalid or missing type in DPoP header: {}", typ.unwrap_or("null"))));
    }
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("none");
    if !ALGORITHMS.contains(&alg_name) {
        return Err(ProofError(format!("Unsupported DPoP algorithm: {}", alg_name.chars().take(16).collect::<String>())));
    }
    let alg: Algorithm = alg_name.parse().map_err(|_| refuse("Unsupported DPoP algorithm"))?;
    let jwk = header.get("jwk").and_then(Value::as_object).ok_or_else(|| refuse("No JWK in DPoP header"))?;
    if ["d", "p", "q", "dp", "dq", "qi", "oth", "k"].iter().any(|private| jwk.contains_key(*private)) {
        return Err(refuse("Private key is present in DPoP header"));
    }
    let jkt = thumbprint(jwk).ok_or_else(|| refuse("Unsupported key type in DPoP header"))?;
    let key: Jwk = serde_json::from_value(Value::Object(jwk.clone())).map_err(|_| refuse("Unsupported key type in DPoP header"))?;
    let key = DecodingKey::from_jwk(&key).map_err(|_| refuse("No public key in DPoP header"))?;
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(proof, &key, &validation)
        .map_err(|_| refuse("DPoP verification failure: Invalid token signature"))?
        .claims;
    let (Some(jti), Some(htm), Some(htu), Some(iat)) = (claims.jti.filter(|j| !j.is_empty()), claims.htm, claims.htu, claims.iat) else {
        return Err(refuse("DPoP mandatory claims are missing"));
    };
    if jti.len() > MAX_JTI {
        return Err(refuse("DPoP mandatory claims are missing"));
    }
    if without_query(&htu) != without_query(expected.url) {
        return Err(refuse("DPoP HTTP URL mismatch"));
    }
    if htm != expected.method {
        return Err(refuse("DPoP HTTP method mismatch"));
    }
    if !(iat <= expected.now + CLOCK_SKEW && iat >= expected.now - PROOF_LIFETIME - CLOCK_SKEW) {
        return Err(refuse("DPoP proof is not active"));
    }
    if let Some(token) = expected.access_token {
        match claims.ath {
            None => return Err(refuse("No access token hash in DPoP proof")),
            Some(ath) if ath != access_token_hash(token) => return Err(refuse("DPoP proof access token hash mismatch")),
            Some(_) => {}
        }
    }
    Ok(Proof { jkt, jti, htu: without_query(&htu).to_string(), iat, nonce: claims.nonce })
}

/// Records the proof's `jti` (with its `htu`, as Keycloak keys it) as used until it could no
/// longer be active: `Err` when it was used before, on any node.
pub async fn spend(store: &dyn Store, realm_id: &str, proof: &Proof) -> Result<(), SpendError> {
    let hash = crate::crypto::sha256_hex(format!("dpop\u{0}{}\n{}", proof.jti, proof.htu).as_bytes());
    let until = proof.iat + PROOF_LIFETIME + CLOCK_SKEW;
    match store.use_action_token(realm_id, &hash, until).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(SpendError::Replayed),
        Err(e) => Err(SpendError::Store(e)),
    }
}

#[derive(Debug)]
pub enum SpendError {
    Replayed,
    Store(crate::store::StoreError),
}

fn invalid(description: impl Into<String>, at_resource: bool) -> OAuthError {
    let description = description.into();
    tracing::info!(description, "DPoP proof refused");
    OAuthError::InvalidDpopProof { description, at_resource }
}

/// RFC 9449 §10: a code bound to one key (`dpop_jkt`, or a pushed request's proof) and a proof
/// of another, in Keycloak's words.
pub fn jkt_mismatch() -> OAuthError {
    invalid("DPoP Proof public key thumbprint does not match dpop_jkt", false)
}

/// Verifies one proof, checks its server nonce when `nonce_required` (RFC 9449 §8-9: a missing
/// or stale one is answered with a fresh one), and spends it; the key's thumbprint.
async fn checked(
    store: &dyn Store,
    realm: &RealmContext,
    proof: &str,
    expected: &Expected<'_>,
    at_resource: bool,
    nonce_required: bool,
) -> Result<String, OAuthError> {
    let proof = verify(proof, expected).map_err(|e| invalid(e.0, at_resource))?;
    if nonce_required && !proof.nonce.as_deref().is_some_and(|n| dpop_nonce::accepts(realm, n, expected.now)) {
        tracing::info!(stale = proof.nonce.is_some(), "DPoP proof without a current server nonce");
        return Err(OAuthError::UseDpopNonce { nonce: dpop_nonce::current(realm, expected.now), at_resource });
    }
    match spend(store, &realm.realm.id, &proof).await {
        Ok(()) => Ok(proof.jkt),
        Err(SpendError::Replayed) => Err(invalid("DPoP proof has already been used", at_resource)),
        Err(SpendError::Store(e)) => Err(e.into()),
    }
}

/// At the token endpoint (RFC 9449 §5): the thumbprint the issued tokens are bound to when the
/// request carries a proof (`proof`: the one `DPoP` header); a client with
/// `dpop.bound.access.tokens` must send one. Also at the PAR endpoint (§10.1), with a proof.
pub async fn at_token_endpoint(
    store: &dyn Store,
    realm: &RealmContext,
    client: &Client,
    proof: Option<&str>,
    url: &str,
    now: UnixTime,
) -> Result<Option<String>, OAuthError> {
    match proof {
        None if required(client) => Err(invalid("DPoP proof is missing", false)),
        None => Ok(None),
        Some(proof) => {
            let expected = Expected { method: "POST", url, access_token: None, now };
            checked(store, realm, proof, &expected, false, dpop_nonce::required(client)).await.map(Some)
        }
    }
}

/// At a resource of ours (userinfo, RFC 9449 §7): the proof that must come with a DPoP-bound
/// `access_token` under the `DPoP` scheme; the key's thumbprint, to compare with the token's
/// `cnf.jkt`. `nonce_required` when the token's client has `dpop.nonce.required`.
pub async fn at_resource(
    store: &dyn Store,
    realm: &RealmContext,
    proof: Option<&str>,
    expected: &Expected<'_>,
    nonce_required: bool,
) -> Result<String, OAuthError> {
    let proof = proof.ok_or_else(|| invalid("DPoP proof is missing", true))?;
    checked(store, realm, proof, expected, true, nonce_required).await
}

/// RFC 9449 §7.1 at a resource: a DPoP-bound token only under the `DPoP` scheme with a proof of
/// its key (`proof_jkt`: that proof's thumbprint, `None` under `Bearer`), a bearer token only
/// under `Bearer`, and nothing but DPoP for a client with `dpop.bound.access.tokens`. The
/// refusal is Keycloak's text.
pub fn check_binding(claims: &AccessClaims, proof_jkt: Option<&str>, client: Option<&Client>) -> Result<(), &'static str> {
    match (&claims.cnf, proof_jkt) {
        (Some(_), None) => Err("The access token type is DPoP but Authorization Header is not DPoP"),
        (None, Some(_)) => Err("The access token type is not DPoP but Authorization Header is DPoP"),
        (Some(cnf), Some(jkt)) if cnf.jkt != jkt => Err("DPoP confirmation doesn't match DPoP proof"),
        (None, None) if client.is_some_and(required) => Err("This client requires DPoP, but no DPoP Authorization header is present"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        // RFC 7638 §3.1's example key and thumbprint
        let jwk: Map<String, Value> = serde_json::from_str(r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#).unwrap();
        assert_eq!(thumbprint(&jwk).as_deref(), Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"));
    }

    #[test]
    fn keys_proofs_cannot_use_have_no_thumbprint() {
        for jwk in [
            r#"{"kty":"oct","k":"c2VjcmV0"}"#,
            r#"{"kty":"EC","crv":"Ed25519","x":"a","y":"b"}"#,
            r#"{"kty":"OKP","crv":"P-256","x":"a"}"#,
            r#"{"kty":"RSA","n":"abc"}"#,
            r#"{"kty":"EC","crv":"P-256","x":"","y":"b"}"#,
        ] {
            let jwk: Map<String, Value> = serde_json::from_str(jwk).unwrap();
            assert_eq!(thumbprint(&jwk), None, "{jwk:?}");
        }
    }

    #[test]
    fn malformed_proofs_are_refused_with_keycloaks_words() {
        let expected = Expected { method: "POST", url: "https://as/token", access_token: None, now: 1000 };
        let header = |h: &str| format!("{}.e30.sig", URL_SAFE_NO_PAD.encode(h));
        let cases = [
            ("not a jwt".to_string(), "DPoP header verification failure"),
            (header(r#"{"typ":"JWT","alg":"ES256"}"#), "Invalid or missing type in DPoP header: JWT"),
            (header(r#"{"typ":"dpop+jwt","alg":"HS256"}"#), "Unsupported DPoP algorithm: HS256"),
            (header(r#"{"typ":"dpop+jwt","alg":"none"}"#), "Unsupported DPoP algorithm: none"),
            (header(r#"{"typ":"dpop+jwt","alg":"ES256"}"#), "No JWK in DPoP header"),
            (header(r#"{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}}"#), "Private key is present in DPoP header"),
            (header(r#"{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"oct","k":"a"}}"#), "Private key is present in DPoP header"),
            ("x".repeat(MAX_PROOF_LEN + 1), "DPoP proof is too large"),
        ];
        for (proof, why) in cases {
            assert_eq!(verify(&proof, &expected), Err(refuse(why)), "{proof}");
        }
    }
}
