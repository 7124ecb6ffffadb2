//! `GET /admin/realms/{realm}/keys`: the realm's signing keys as Keycloak's
//! KeysMetadataRepresentation (the active key id per algorithm, and every key with its public
//! part as base64 DER SubjectPublicKeyInfo), and the same public key for `GET /realms/{realm}`.
//! Never a private part. Keycloak also sends a self-signed `certificate` per key; Portcullis
//! has none, so that field is absent.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::Serialize;
use serde_json::Value;

use super::representation::millis;
use super::{AdminContext, AdminError, Permission};
use crate::store::{KeyStatus, SigningKeyRecord};

/// Keycloak's KeysMetadataRepresentation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeysMetadata {
    pub active: BTreeMap<String, String>,
    pub keys: Vec<KeyMetadata>,
}

/// Keycloak's KeysMetadataRepresentation.KeyMetadataRepresentation.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyMetadata {
    pub provider_id: &'static str,
    pub provider_priority: i64,
    pub kid: String,
    pub status: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub algorithm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(rename = "use")]
    pub key_use: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<i64>,
}

pub async fn list(ctx: &AdminContext<'_>, realm: &str) -> Result<KeysMetadata, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewRealm).await?;
    let records = ctx.store.signing_keys(&realm.id).await?;
    Ok(metadata(&records))
}

/// The metadata of every stored key (the newest active key of an algorithm is its active one).
pub fn metadata(records: &[SigningKeyRecord]) -> KeysMetadata {
    let mut active = BTreeMap::new();
    let mut keys = Vec::with_capacity(records.len());
    for record in records {
        let (kind, provider_id) = match crate::domain::SignatureAlgorithm::parse(&record.algorithm) {
            Some(alg) if alg.is_rsa() => ("RSA", "rsa-generated"),
            Some(crate::domain::SignatureAlgorithm::EdDSA) => ("OKP", "eddsa-generated"),
            Some(_) => ("EC", "ecdsa-generated"),
            None => ("OCT", "hmac-generated"),
        };
        let status = match record.status {
            KeyStatus::Active => "ACTIVE",
            _ => "PASSIVE",
        };
        if record.status == KeyStatus::Active {
            active.insert(record.algorithm.clone(), record.kid.clone());
        }
        let public_key = record
            .public_jwk
            .as_deref()
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
            .and_then(|jwk| spki_der(&jwk))
            .map(|der| STANDARD.encode(der));
        keys.push(KeyMetadata {
            provider_id,
            provider_priority: 100,
            kid: record.kid.clone(),
            status,
            kind,
            algorithm: record.algorithm.clone(),
            public_key,
            key_use: "SIG",
            valid_to: record.publish_until.map(millis),
        });
    }
    KeysMetadata { active, keys }
}

/// A public JWK (RSA, EC P-256, Ed25519) as DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7,
/// RFC 8017 A.1.1, RFC 5480 §2, RFC 8410 §4).
pub fn spki_der(jwk: &Value) -> Option<Vec<u8>> {
    let part = |name: &str| jwk.get(name).and_then(Value::as_str).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
    const RSA: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    const EC: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
    const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
    let (algorithm, key) = match jwk.get("kty").and_then(Value::as_str)? {
        "RSA" => {
            let rsa_key = tlv(0x30, &[integer(&part("n")?), integer(&part("e")?)].concat());
            (tlv(0x30, &[RSA, &[0x05, 0x00]].concat()), rsa_key)
        }
        "EC" => {
            let (curve, size) = match jwk.get("crv").and_then(Value::as_str)? {
                "P-256" => (P256, 32),
                "P-384" => (P384, 48),
                _ => return None,
            };
            let (x, y) = (part("x")?, part("y")?);
            if x.len() != size || y.len() != size {
                return None;
            }
            (tlv(0x30, &[EC, curve].concat()), [&[0x04], x.as_slice(), y.as_slice()].concat())
        }
        "OKP" if jwk.get("crv").and_then(Value::as_str) == Some("Ed25519") => (tlv(0x30, ED25519), part("x")?),
        _ => return None,
    };
    let bits = tlv(0x03, &[&[0x00], key.as_slice()].concat());
    Some(tlv(0x30, &[algorithm, bits].concat()))
}

/// A DER INTEGER of an unsigned big-endian number.
fn integer(bytes: &[u8]) -> Vec<u8> {
    let trimmed = match bytes.iter().position(|b| *b != 0) {
        Some(first) => &bytes[first..],
        None => &[0][..],
    };
    let body = if trimmed[0] & 0x80 != 0 { [&[0], trimmed].concat() } else { trimmed.to_vec() };
    tlv(0x02, &body)
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;
    use crate::oauth::tokens::keys::generate_realm_keys;

    #[test]
    fn every_generated_key_is_listed_with_its_public_part_only() {
        let master = MasterKey::generate();
        let records = generate_realm_keys("r", &master, 0).unwrap();
        let meta = metadata(&records);
        assert_eq!(meta.active.len(), 4, "{:?}", meta.active);
        let rsa = meta.keys.iter().find(|k| k.algorithm == "RS256").unwrap();
        let der = STANDARD.decode(rsa.public_key.as_ref().unwrap()).unwrap();
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x22], "a 2048-bit RSA SubjectPublicKeyInfo is 294 bytes");
        assert_eq!(der.len(), 294);
        let ec = meta.keys.iter().find(|k| k.algorithm == "ES256").unwrap();
        assert_eq!(STANDARD.decode(ec.public_key.as_ref().unwrap()).unwrap().len(), 91);
        let ed = meta.keys.iter().find(|k| k.algorithm == "EdDSA").unwrap();
        assert_eq!(STANDARD.decode(ed.public_key.as_ref().unwrap()).unwrap().len(), 44);
        let hmac = meta.keys.iter().find(|k| k.kind == "OCT").unwrap();
        assert!(hmac.public_key.is_none(), "a symmetric key has no public part");

        // keys made on demand: a P-384 SubjectPublicKeyInfo is 120 bytes; PS256 is an RSA key
        use crate::domain::SignatureAlgorithm;
        use crate::oauth::tokens::keys::generate_signing_key;
        let extra: Vec<_> = [SignatureAlgorithm::ES384, SignatureAlgorithm::PS256]
            .iter().map(|alg| generate_signing_key("r", *alg, &master, 0).unwrap()).collect();
        let meta = metadata(&extra);
        let es384 = meta.keys.iter().find(|k| k.algorithm == "ES384").unwrap();
        assert_eq!((es384.kind, es384.provider_id), ("EC", "ecdsa-generated"));
        assert_eq!(STANDARD.decode(es384.public_key.as_ref().unwrap()).unwrap().len(), 120);
        let ps256 = meta.keys.iter().find(|k| k.algorithm == "PS256").unwrap();
        assert_eq!((ps256.kind, STANDARD.decode(ps256.public_key.as_ref().unwrap()).unwrap().len()), ("RSA", 294));
    }

    #[test]
    fn der_lengths_and_integers_are_minimal() {
        assert_eq!(integer(&[0x00, 0x01]), [0x02, 0x01, 0x01]);
        assert_eq!(integer(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
    }
}
