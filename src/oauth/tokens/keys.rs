//! Realm key material: generation of RSA (RS* and PS*), EC (ES256, ES384) and EdDSA signing keys
//! and the HS256 refresh-token key, sealing of private parts under the master key, and the [`KeyRing`] that holds them parsed
//! in memory. Keys are parsed once per cache load, never per request.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair as _, RsaEncoding, ECDSA_P256_SHA256_FIXED_SIGNING,
    ECDSA_P384_SHA384_FIXED_SIGNING, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256,
    RSA_PSS_SHA384, RSA_PSS_SHA512,
};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Serialize;
use serde_json::{json, Value};

use super::jwt;
use super::verified::VerifiedSignatures;
use crate::clock::UnixTime;
use crate::crypto::random::{random_bytes, random_token};
use crate::crypto::MasterKey;
use crate::domain::SignatureAlgorithm;
use crate::store::{KeyStatus, SigningKeyRecord};

pub const HMAC_ALGORITHM: &str = "HS256";

#[derive(Debug, thiserror::Error)]
pub enum KeyMaterialError {
    #[error("key generation failed")]
    Generation,
    #[error("key {kid} cannot be opened or parsed: {reason}")]
    Unreadable { kid: String, reason: String },
    #[error("the realm has no active {0} key")]
    Missing(String),
}

fn sealing_aad(kid: &str) -> Vec<u8> {
    format!("signing-key:{kid}").into_bytes()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Generates one new active key for `alg`, sealed under `master`.
pub fn generate_signing_key(
    realm_id: &str,
    alg: SignatureAlgorithm,
    master: &MasterKey,
    now: UnixTime,
) -> Result<SigningKeyRecord, KeyMaterialError> {
    let kid = random_token::<24>();
    let name = alg.as_str();
    let (pkcs8, jwk) = match alg {
        _ if alg.is_rsa() => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyMaterialError::Generation)?;
            let der = pair.as_der().map_err(|_| KeyMaterialError::Generation)?;
            let public = pair.public_key();
            let jwk = json!({
                "kid": kid, "kty": "RSA", "alg": name, "use": "sig",
                "n": b64(public.modulus().big_endian_without_leading_zero()),
                "e": b64(public.exponent().big_endian_without_leading_zero()),
            });
            (der.as_ref().to_vec(), jwk)
        }
        SignatureAlgorithm::ES256 | SignatureAlgorithm::ES384 => {
            let (curve, crv, size) = ec_curve(alg);
            let pair = EcdsaKeyPair::generate(curve).map_err(|_| KeyMaterialError::Generation)?;
            let der = pair.to_pkcs8v1().map_err(|_| KeyMaterialError::Generation)?;
            let point = pair.public_key().as_ref();
            // uncompressed SEC1 point: 0x04 || x || y, each `size` bytes
            let jwk = json!({
                "kid": kid, "kty": "EC", "alg": name, "use": "sig", "crv": crv,
                "x": b64(&point[1..1 + size]), "y": b64(&point[1 + size..1 + 2 * size]),
            });
            (der.as_ref().to_vec(), jwk)
        }
        _ => {
            let pair = Ed25519KeyPair::generate().map_err(|_| KeyMaterialError::Generation)?;
            let der = pair.to_pkcs8v1().map_err(|_| KeyMaterialError::Generation)?;
            let jwk = json!({
                "kid": kid, "kty": "OKP", "alg": "EdDSA", "use": "sig", "crv": "Ed25519",
                "x": b64(pair.public_key().as_ref()),
            });
            (der.as_ref().to_vec(), jwk)
        }
    };
    Ok(SigningKeyRecord {
        private_sealed: master.seal(&pkcs8, &sealing_aad(&kid)),
        kid,
        realm_id: realm_id.to_string(),
        algorithm: alg.as_str().to_string(),
        status: KeyStatus::Active,
        public_jwk: Some(jwk.to_string()),
        created_at: now,
        publish_until: None,
    })
}

/// Generates the realm's HS256 key for refresh and offline token shells.
pub fn generate_hmac_key(realm_id: &str, master: &MasterKey, now: UnixTime) -> SigningKeyRecord {
    let kid = random_token::<24>();
    SigningKeyRecord {
        private_sealed: master.seal(&random_bytes::<32>(), &sealing_aad(&kid)),
        kid,
        realm_id: realm_id.to_string(),
        algorithm: HMAC_ALGORITHM.to_string(),
        status: KeyStatus::Active,
        public_jwk: None,
        created_at: now,
        publish_until: None,
    }
}

/// The curve of an EC algorithm: aws-lc-rs' signing algorithm, the JWK `crv` and the size of a
/// coordinate in bytes.
fn ec_curve(alg: SignatureAlgorithm) -> (&'static EcdsaSigningAlgorithm, &'static str, usize) {
    match alg {
        SignatureAlgorithm::ES384 => (&ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48),
        _ => (&ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32),
    }
}

/// The padding and hash of an RSA algorithm.
fn rsa_encoding(alg: SignatureAlgorithm) -> &'static dyn RsaEncoding {
    match alg {
        SignatureAlgorithm::RS384 => &RSA_PKCS1_SHA384,
        SignatureAlgorithm::RS512 => &RSA_PKCS1_SHA512,
        SignatureAlgorithm::PS256 => &RSA_PSS_SHA256,
        SignatureAlgorithm::PS384 => &RSA_PSS_SHA384,
        SignatureAlgorithm::PS512 => &RSA_PSS_SHA512,
        _ => &RSA_PKCS1_SHA256,
    }
}

/// Every key a new realm starts with: one per initial signature algorithm plus the HMAC key.
pub fn generate_realm_keys(
    realm_id: &str,
    master: &MasterKey,
    now: UnixTime,
) -> Result<Vec<SigningKeyRecord>, KeyMaterialError> {
    let mut keys = SignatureAlgorithm::INITIAL
        .into_iter()
        .map(|alg| generate_signing_key(realm_id, alg, master, now))
        .collect::<Result<Vec<_>, _>>()?;
    keys.push(generate_hmac_key(realm_id, master, now));
    Ok(keys)
}

enum PairKind {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// An active asymmetric key, parsed once, with its encoded JWT header.
pub struct SigningKey {
    pub kid: String,
    pub alg: SignatureAlgorithm,
    header: String,
    pair: PairKind,
}

impl SigningKey {
    /// Signs `claims` as a compact JWS with `typ` "JWT".
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, KeyMaterialError> {
        let input = jwt::signing_input(&self.header, claims);
        let signature = self.signature(input.as_bytes())?;
        Ok(jwt::append_signature(input, &signature))
    }

    /// Signs `claims` as a compact JWS whose header names `typ` (e.g. `logout+jwt`).
    pub fn sign_typed(&self, typ: &str, claims: &impl Serialize) -> Result<String, KeyMaterialError> {
        let header = jwt::encode_header(self.alg.as_str(), &self.kid, typ);
        let input = jwt::signing_input(&header, claims);
        let signature = self.signature(input.as_bytes())?;
        Ok(jwt::append_signature(input, &signature))
    }

    /// `sign` for the request path: an RSA signature (~0.4 ms of CPU) runs on the low-priority
    /// pool (`crypto::low_priority`) so it never delays a transaction holding a lock; the other
    /// algorithms take microseconds and sign inline.
    pub async fn sign_in_request(self: Arc<Self>, claims: &impl Serialize) -> Result<String, KeyMaterialError> {
        if !matches!(self.pair, PairKind::Rsa(_)) {
            return self.sign(claims);
        }
        let input = jwt::signing_input(&self.header, claims);
        let key = self.clone();
        crate::crypto::low_priority::run(move || {
            let signature = key.signature(input.as_bytes())?;
            Ok(jwt::append_signature(input, &signature))
        })
        .await
        .unwrap_or_else(|| Err(self.signing_failed()))
    }

    fn signing_failed(&self) -> KeyMaterialError {
        KeyMaterialError::Unreadable { kid: self.kid.clone(), reason: "signing failed".into() }
    }

    fn signature(&self, input: &[u8]) -> Result<Vec<u8>, KeyMaterialError> {
        let failed = |_| self.signing_failed();
        Ok(match &self.pair {
            PairKind::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(rsa_encoding(self.alg), &SystemRandom::new(), input, &mut sig).map_err(failed)?;
                sig
            }
            PairKind::Ec(pair) => pair.sign(&SystemRandom::new(), input).map_err(failed)?.as_ref().to_vec(),
            PairKind::Ed(pair) => pair.sign(input).as_ref().to_vec(),
        })
    }
}

/// A key able to verify tokens (active or still-published passive).
pub struct VerifyingKey {
    pub algorithm: Algorithm,
    pub decoding: DecodingKey,
    /// SHA-256 of the algorithm and the public JWK: what `VerifiedSignatures` entries name.
    pub fingerprint: [u8; 32],
}

/// The realm's HMAC key for refresh-token shells.
pub struct HmacKey {
    pub kid: String,
    pub key: hmac::Key,
}

/// All key material of one realm, parsed and ready: the active signer per algorithm, every key
/// still able to verify a live token, the HMAC keys and the pre-rendered JWKS document.
pub struct KeyRing {
    signers: HashMap<SignatureAlgorithm, Arc<SigningKey>>,
    verifiers: HashMap<String, Arc<VerifyingKey>>,
    hmac_active: Option<Arc<HmacKey>>,
    hmac_all: HashMap<String, Arc<HmacKey>>,
    jwks: Value,
    verified: Arc<VerifiedSignatures>,
}

impl KeyRing {
    /// Opens and parses every usable key. Passive keys past `publish_until` are left out.
    pub fn load(
        records: &[SigningKeyRecord],
        master: &MasterKey,
        now: UnixTime,
    ) -> Result<Self, KeyMaterialError> {
        let mut ring = KeyRing {
            signers: HashMap::new(),
            verifiers: HashMap::new(),
            hmac_active: None,
            hmac_all: HashMap::new(),
            jwks: json!({ "keys": [] }),
            verified: Arc::default(),
        };
        let mut published = Vec::new();
        for record in records {
            let live = record.status == KeyStatus::Active
                || record.publish_until.is_some_and(|until| until > now);
            if !live && record.algorithm != HMAC_ALGORITHM {
                continue;
            }
            let unreadable = |reason: &str| KeyMaterialError::Unreadable {
                kid: record.kid.clone(),
                reason: reason.to_string(),
            };
            let secret = master
                .open(&record.private_sealed, &sealing_aad(&record.kid))
                .map_err(|_| unreadable("cannot decrypt under the master key"))?;
            if record.algorithm == HMAC_ALGORITHM {
                let key = Arc::new(HmacKey {
                    kid: record.kid.clone(),
                    key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
                });
                if record.status == KeyStatus::Active {
                    ring.hmac_active = Some(key.clone());
                }
                ring.hmac_all.insert(record.kid.clone(), key);
                continue;
            }
            let alg = SignatureAlgorithm::parse(&record.algorithm)
                .ok_or_else(|| unreadable("unknown algorithm"))?;
            let jwk: Value = record
                .public_jwk
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .ok_or_else(|| unreadable("missing public JWK"))?;
            let verifying = verifying_key(alg, &jwk).ok_or_else(|| unreadable("bad public JWK"))?;
            ring.verifiers.insert(record.kid.clone(), Arc::new(verifying));
            published.push(jwk);
            if record.status == KeyStatus::Active {
                let pair = match alg {
                    _ if alg.is_rsa() => RsaKeyPair::from_pkcs8(&secret).map(PairKind::Rsa).ok(),
                    SignatureAlgorithm::ES256 | SignatureAlgorithm::ES384 => {
                        EcdsaKeyPair::from_pkcs8(ec_curve(alg).0, &secret).map(PairKind::Ec).ok()
                    }
                    _ => Ed25519KeyPair::from_pkcs8(&secret).map(PairKind::Ed).ok(),
                }
                .ok_or_else(|| unreadable("private key does not parse"))?;
                let header = jwt::encode_header(alg.as_str(), &record.kid, "JWT");
                ring.signers.insert(alg, Arc::new(SigningKey { kid: record.kid.clone(), alg, header, pair }));
            }
        }
        ring.jwks = json!({ "keys": published });
        Ok(ring)
    }

    pub fn signer(&self, alg: SignatureAlgorithm) -> Result<Arc<SigningKey>, KeyMaterialError> {
        self.signers.get(&alg).cloned().ok_or_else(|| KeyMaterialError::Missing(alg.as_str().into()))
    }

    pub fn verifier(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        self.verifiers.get(kid).cloned()
    }

    pub fn hmac_active(&self) -> Result<Arc<HmacKey>, KeyMaterialError> {
        self.hmac_active.clone().ok_or_else(|| KeyMaterialError::Missing(HMAC_ALGORITHM.into()))
    }

    pub fn hmac(&self, kid: &str) -> Option<Arc<HmacKey>> {
        self.hmac_all.get(kid).cloned()
    }

    /// The JWKS document: every public key still able to verify a live token.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// This ring's memo of verified access-token signatures, shared with the rings loaded
    /// before it by the same realm cache (`with_verified`).
    pub fn verified(&self) -> &VerifiedSignatures {
        &self.verified
    }

    /// Keeps the signatures `memo` holds across reloads of the ring.
    pub fn with_verified(mut self, memo: Arc<VerifiedSignatures>) -> Self {
        self.verified = memo;
        self
    }
}

fn verifying_key(alg: SignatureAlgorithm, jwk: &Value) -> Option<VerifyingKey> {
    let field = |name: &str| jwk.get(name).and_then(Value::as_str);
    let algorithm = Algorithm::from_str(alg.as_str()).ok()?;
    let decoding = match alg {
        _ if alg.is_rsa() => DecodingKey::from_rsa_components(field("n")?, field("e")?).ok()?,
        SignatureAlgorithm::ES256 | SignatureAlgorithm::ES384 => DecodingKey::from_ec_components(field("x")?, field("y")?).ok()?,
        _ => DecodingKey::from_ed_components(field("x")?).ok()?,
    };
    let fingerprint = crate::crypto::sha256(format!("{}\n{jwk}", alg.as_str()).as_bytes());
    Some(VerifyingKey { algorithm, decoding, fingerprint })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, Validation};

    #[test]
    fn tokens_signed_by_the_ring_verify_with_its_published_keys() {
        let master = MasterKey::generate();
        let records = generate_realm_keys("r1", &master, 1000).unwrap();
        let ring = KeyRing::load(&records, &master, 1000).unwrap();
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 3);
        for alg in SignatureAlgorithm::INITIAL {
            let signer = ring.signer(alg).unwrap();
            let token = signer.sign(&json!({ "sub": "u1", "exp": 4_000_000_000i64 })).unwrap();
            let verifier = ring.verifier(&signer.kid).unwrap();
            let mut validation = Validation::new(verifier.algorithm);
            validation.validate_aud = false;
            let data = decode::<Value>(&token, &verifier.decoding, &validation).unwrap();
            assert_eq!(data.claims["sub"], "u1");
            assert_eq!(data.header.kid.as_deref(), Some(signer.kid.as_str()));
        }
    }

    #[test]
    fn every_algorithm_signs_and_verifies_through_its_jwk() {
        let master = MasterKey::generate();
        let records: Vec<_> = SignatureAlgorithm::ALL.iter().map(|alg| generate_signing_key("r1", *alg, &master, 0).unwrap()).collect();
        let ring = KeyRing::load(&records, &master, 0).unwrap();
        for alg in SignatureAlgorithm::ALL {
            let signer = ring.signer(alg).unwrap();
            let token = signer.sign(&json!({ "sub": "u1", "exp": 4_000_000_000i64 })).unwrap();
            let jwk: jsonwebtoken::jwk::Jwk =
                serde_json::from_value(ring.jwks()["keys"].as_array().unwrap().iter().find(|k| k["kid"] == signer.kid.as_str()).unwrap().clone()).unwrap();
            let mut validation = Validation::new(Algorithm::from_str(alg.as_str()).unwrap());
            validation.validate_aud = false;
            let data = decode::<Value>(&token, &DecodingKey::from_jwk(&jwk).unwrap(), &validation).unwrap();
            assert_eq!((data.header.alg, data.claims["sub"].as_str()), (validation.algorithms[0], Some("u1")), "{alg:?}");
        }
    }

    #[test]
    fn private_keys_are_sealed() {
        let master = MasterKey::generate();
        let records = generate_realm_keys("r1", &master, 1000).unwrap();
        let other = MasterKey::generate();
        assert!(KeyRing::load(&records, &other, 1000).is_err());
    }

    #[test]
    fn passive_keys_leave_jwks_when_their_publication_ends() {
        let master = MasterKey::generate();
        let mut records = vec![generate_signing_key("r1", SignatureAlgorithm::ES256, &master, 0).unwrap()];
        records[0].status = KeyStatus::Passive;
        records[0].publish_until = Some(500);
        assert_eq!(KeyRing::load(&records, &master, 499).unwrap().jwks()["keys"].as_array().unwrap().len(), 1);
        assert_eq!(KeyRing::load(&records, &master, 500).unwrap().jwks()["keys"].as_array().unwrap().len(), 0);
    }
}
