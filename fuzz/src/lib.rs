//! Shared fixtures of the fuzz targets: a realm key ring built from fixed key material (so the
//! seed tokens under `corpus/token_verify` verify on every run), a second realm's ring that reuses
//! the HMAC kid with another secret, and independent signature checks that do not go through the
//! code under test. Fuzzing only: every key here is public and never used by a server.

use std::collections::HashMap;
use std::sync::OnceLock;

use aws_lc_rs::signature::{self, Ed25519KeyPair, KeyPair as _, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;
use portcullis::crypto::MasterKey;
use portcullis::domain::SignatureAlgorithm;
use portcullis::oauth::tokens::keys::generate_signing_key;
use portcullis::oauth::tokens::KeyRing;
use portcullis::store::{KeyStatus, SigningKeyRecord};
use serde_json::{json, Value};

/// The issuer the access tokens of the seeds carry.
pub const ISSUER: &str = "http://localhost:8080/realms/fuzz";
/// "Now" for expiry checks (2023-11-14); seed tokens expire in 2096.
pub const NOW: i64 = 1_700_000_000;
pub const HMAC_KID: &str = "fuzz-hmac";
pub const EDDSA_KID: &str = "fuzz-eddsa";
/// The realm's refresh-token key; `fuzz/make_seeds.py` signs the seeds with it.
pub const HMAC_SECRET: &[u8; 32] = b"portcullis-fuzz-hmac-secret-0001";
/// Another realm's key under the same kid: its tokens must never verify here.
pub const OTHER_HMAC_SECRET: &[u8; 32] = b"portcullis-fuzz-hmac-secret-0002";
/// Seed of the fixed Ed25519 access-token key.
pub const ED25519_SEED: &[u8; 32] = b"portcullis-fuzz-ed25519-seed-001";

/// A public key, as the independent checks use it.
pub enum PublicKey {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec(Vec<u8>),
    Ed(Vec<u8>),
}

pub struct Fixture {
    /// The realm under test: RS256 and ES256 keys (random each run), the fixed EdDSA key and the
    /// fixed HMAC key.
    pub ring: KeyRing,
    /// Another realm with only an HMAC key, same kid, other secret.
    pub other: KeyRing,
    /// Public keys of `ring` by kid.
    pub publics: HashMap<String, (SignatureAlgorithm, PublicKey)>,
}

/// Must match `sealing_aad` in `src/oauth/tokens/keys.rs`; a mismatch fails at start-up.
fn sealing_aad(kid: &str) -> Vec<u8> {
    format!("signing-key:{kid}").into_bytes()
}

fn hmac_record(kid: &str, secret: &[u8], master: &MasterKey) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.to_string(),
        realm_id: "fuzz".into(),
        algorithm: "HS256".into(),
        status: KeyStatus::Active,
        public_jwk: None,
        private_sealed: master.seal(secret, &sealing_aad(kid)),
        created_at: NOW,
        publish_until: None,
    }
}

fn b64(text: Option<&str>) -> Vec<u8> {
    text.and_then(|t| URL_SAFE_NO_PAD.decode(t).ok()).expect("a base64url JWK member")
}

fn public_key(record: &SigningKeyRecord) -> (SignatureAlgorithm, PublicKey) {
    let jwk: Value =
        serde_json::from_str(record.public_jwk.as_deref().expect("a public JWK")).expect("JWK JSON");
    let field = |name: &str| b64(jwk[name].as_str());
    let alg = SignatureAlgorithm::parse(&record.algorithm).expect("a known algorithm");
    let key = match alg {
        SignatureAlgorithm::RS256 => PublicKey::Rsa { n: field("n"), e: field("e") },
        SignatureAlgorithm::ES256 => PublicKey::Ec([vec![4u8], field("x"), field("y")].concat()),
        SignatureAlgorithm::EdDSA => PublicKey::Ed(field("x")),
    };
    (alg, key)
}

fn build() -> Fixture {
    let master = MasterKey::generate();
    let mut records = vec![hmac_record(HMAC_KID, HMAC_SECRET, &master)];
    for alg in [SignatureAlgorithm::RS256, SignatureAlgorithm::ES256] {
        records.push(generate_signing_key("fuzz", alg, &master, NOW).expect("key generation"));
    }
    let ed = Ed25519KeyPair::from_seed_unchecked(ED25519_SEED).expect("a 32-byte seed");
    let jwk = json!({
        "kid": EDDSA_KID, "kty": "OKP", "alg": "EdDSA", "use": "sig", "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(ed.public_key().as_ref()),
    });
    records.push(SigningKeyRecord {
        kid: EDDSA_KID.into(),
        realm_id: "fuzz".into(),
        algorithm: "EdDSA".into(),
        status: KeyStatus::Active,
        public_jwk: Some(jwk.to_string()),
        private_sealed: master.seal(ed.to_pkcs8v1().expect("PKCS#8").as_ref(), &sealing_aad(EDDSA_KID)),
        created_at: NOW,
        publish_until: None,
    });
    let ring = KeyRing::load(&records, &master, NOW).expect("the fixture ring loads");
    let other = KeyRing::load(&[hmac_record(HMAC_KID, OTHER_HMAC_SECRET, &master)], &master, NOW)
        .expect("other ring");
    let publics =
        records.iter().filter(|r| r.public_jwk.is_some()).map(|r| (r.kid.clone(), public_key(r))).collect();
    Fixture { ring, other, publics }
}

/// Built once per fuzzing process (RSA key generation is slow).
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build)
}

/// The three parts of a compact JWS and the bytes they sign, or `None`.
pub fn split_jws(token: &str) -> Option<(Value, Value, Vec<u8>, &str)> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let json = |part: &str| URL_SAFE_NO_PAD.decode(part).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let signed = &token[..header.len() + 1 + payload.len()];
    Some((json(header)?, json(payload)?, URL_SAFE_NO_PAD.decode(signature).ok()?, signed))
}

/// HMAC-SHA256 through RustCrypto, not aws-lc (the code under test uses aws-lc).
pub fn hmac_matches(secret: &[u8], signed: &str, signature: &[u8]) -> bool {
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else { return false };
    mac.update(signed.as_bytes());
    mac.verify_slice(signature).is_ok()
}

/// Verifies a JWS signature with the raw public key, bypassing jsonwebtoken.
pub fn signature_matches(key: &PublicKey, signed: &str, signature: &[u8]) -> bool {
    let message = signed.as_bytes();
    match key {
        PublicKey::Rsa { n, e } => RsaPublicKeyComponents { n, e }
            .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
            .is_ok(),
        PublicKey::Ec(point) => UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
            .verify(message, signature)
            .is_ok(),
        PublicKey::Ed(x) => UnparsedPublicKey::new(&signature::ED25519, x).verify(message, signature).is_ok(),
    }
}
