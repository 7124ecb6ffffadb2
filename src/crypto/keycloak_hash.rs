//! Verification of password hashes imported from Keycloak, so users keep their passwords when a
//! realm moves over: `secretData` `{value, salt}` and `credentialData` `{hashIterations,
//! algorithm, additionalParameters}` for pbkdf2-sha256, pbkdf2-sha512, pbkdf2 (SHA-1) and
//! argon2. Every parameter is bounded (`hash_bounds`) at import and again at verification.
//! After the first successful login the caller re-hashes with our argon2id parameters.

use std::num::NonZeroU32;

use aws_lc_rs::pbkdf2;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

use super::hash_bounds::{self, OutOfBounds};

#[derive(Deserialize)]
struct SecretData {
    value: String,
    #[serde(default)]
    salt: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialData {
    #[serde(default)]
    hash_iterations: i64,
    algorithm: String,
    #[serde(default)]
    additional_parameters: std::collections::HashMap<String, Vec<String>>,
}

/// Why a stored Keycloak credential cannot be verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// An algorithm Portcullis does not implement (a custom Keycloak hash provider, bcrypt...).
    Unsupported(String),
    /// Not the JSON, base64 or numbers Keycloak writes.
    Malformed(&'static str),
    /// A parameter past `hash_bounds`: refused at import, never computed.
    OutOfBounds(OutOfBounds),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unsupported(algorithm) => write!(f, "password hash algorithm {algorithm:?} is not supported"),
            Self::Malformed(what) => write!(f, "malformed password credential ({what})"),
            Self::OutOfBounds(why) => f.write_str(why),
        }
    }
}

/// A Keycloak credential parsed and checked against the bounds, ready to verify.
enum KeycloakHash {
    Pbkdf2 { algorithm: pbkdf2::Algorithm, iterations: NonZeroU32, salt: Vec<u8>, expected: Vec<u8> },
    Argon2 { algorithm: argon2::Algorithm, version: argon2::Version, params: argon2::Params, salt: Vec<u8>, expected: Vec<u8> },
}

fn parse(secret_data: &str, credential_data: &str) -> Result<KeycloakHash, Unusable> {
    let secret = serde_json::from_str::<SecretData>(secret_data).map_err(|_| Unusable::Malformed("secretData"))?;
    let data = serde_json::from_str::<CredentialData>(credential_data).map_err(|_| Unusable::Malformed("credentialData"))?;
    let expected = STANDARD.decode(secret.value.trim()).map_err(|_| Unusable::Malformed("value is not base64"))?;
    let salt = STANDARD.decode(secret.salt.trim()).map_err(|_| Unusable::Malformed("salt is not base64"))?;
    if expected.is_empty() {
        return Err(Unusable::Malformed("empty value"));
    }
    match data.algorithm.as_str() {
        "pbkdf2-sha256" | "pbkdf2-sha512" | "pbkdf2" => {
            let algorithm = match data.algorithm.as_str() {
                "pbkdf2-sha256" => pbkdf2::PBKDF2_HMAC_SHA256,
                "pbkdf2-sha512" => pbkdf2::PBKDF2_HMAC_SHA512,
                _ => pbkdf2::PBKDF2_HMAC_SHA1,
            };
            hash_bounds::check_pbkdf2(data.hash_iterations, expected.len()).map_err(Unusable::OutOfBounds)?;
            let iterations = u32::try_from(data.hash_iterations)
                .ok()
                .and_then(NonZeroU32::new)
                .ok_or(Unusable::Malformed("hashIterations"))?;
            Ok(KeycloakHash::Pbkdf2 { algorithm, iterations, salt, expected })
        }
        "argon2" => argon2_hash(&data, salt, expected),
        other => Err(Unusable::Unsupported(other.to_string())),
    }
}

fn argon2_hash(data: &CredentialData, salt: Vec<u8>, expected: Vec<u8>) -> Result<KeycloakHash, Unusable> {
    let param = |name: &str, default: &str| -> String {
        data.additional_parameters.get(name).and_then(|v| v.first()).cloned().unwrap_or_else(|| default.to_string())
    };
    let algorithm = match param("type", "id").as_str() {
        "id" => argon2::Algorithm::Argon2id,
        "i" => argon2::Algorithm::Argon2i,
        "d" => argon2::Algorithm::Argon2d,
        _ => return Err(Unusable::Malformed("argon2 type")),
    };
    let version = if param("version", "1.3") == "1.0" { argon2::Version::V0x10 } else { argon2::Version::V0x13 };
    let memory = param("memory", "7168").parse::<u32>().map_err(|_| Unusable::Malformed("argon2 memory"))?;
    let parallelism = param("parallelism", "1").parse::<u32>().map_err(|_| Unusable::Malformed("argon2 parallelism"))?;
    let iterations = u32::try_from(data.hash_iterations.max(1)).map_err(|_| {
        Unusable::OutOfBounds(format!(
            "argon2 iterations {} exceed the bound of {}",
            data.hash_iterations,
            hash_bounds::ARGON2_MAX_ITERATIONS
        ))
    })?;
    hash_bounds::check_argon2(memory, iterations, parallelism, expected.len()).map_err(Unusable::OutOfBounds)?;
    let params = argon2::Params::new(memory, iterations, parallelism, Some(expected.len()))
        .map_err(|_| Unusable::Malformed("argon2 parameters"))?;
    Ok(KeycloakHash::Argon2 { algorithm, version, params, salt, expected })
}

/// Whether a Keycloak-format credential can be verified here: `Ok` or why not. Import calls
/// this to refuse out-of-bounds hashes and to warn about unusable ones.
pub fn check(secret_data: &str, credential_data: &str) -> Result<(), Unusable> {
    parse(secret_data, credential_data).map(|_| ())
}

/// Whether `password` matches a Keycloak-format credential. Unknown algorithms, malformed data
/// and parameters past the bounds never match (and are never computed).
pub fn verify(password: &str, secret_data: &str, credential_data: &str) -> bool {
    match parse(secret_data, credential_data) {
        Ok(KeycloakHash::Pbkdf2 { algorithm, iterations, salt, expected }) => {
            pbkdf2::verify(algorithm, iterations, &salt, password.as_bytes(), &expected).is_ok()
        }
        Ok(KeycloakHash::Argon2 { algorithm, version, params, salt, expected }) => {
            hash_bounds::argon2_matches(algorithm, version, &params, password.as_bytes(), &salt, &expected)
        }
        Err(unusable) => {
            tracing::warn!("stored Keycloak password credential not verified: {unusable}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pbkdf2_credential(algorithm: &str, password: &str, iterations: u32, len: usize) -> (String, String) {
        let alg = match algorithm {
            "pbkdf2-sha256" => pbkdf2::PBKDF2_HMAC_SHA256,
            "pbkdf2-sha512" => pbkdf2::PBKDF2_HMAC_SHA512,
            _ => pbkdf2::PBKDF2_HMAC_SHA1,
        };
        let salt = b"0123456789abcdef";
        let mut out = vec![0u8; len];
        pbkdf2::derive(alg, NonZeroU32::new(iterations).unwrap(), salt, password.as_bytes(), &mut out);
        (
            serde_json::json!({ "value": STANDARD.encode(&out), "salt": STANDARD.encode(salt), "additionalParameters": {} }).to_string(),
            serde_json::json!({ "hashIterations": iterations, "algorithm": algorithm, "additionalParameters": {} }).to_string(),
        )
    }

    #[test]
    fn keycloak_pbkdf2_credentials_verify_their_password_only() {
        for (algorithm, len) in [("pbkdf2-sha256", 64), ("pbkdf2-sha512", 64), ("pbkdf2", 20)] {
            let (secret, data) = pbkdf2_credential(algorithm, "s3cret", 1000, len);
            assert!(verify("s3cret", &secret, &data), "{algorithm}");
            assert!(!verify("wrong", &secret, &data), "{algorithm}");
        }
    }

    #[test]
    fn keycloak_argon2_credentials_verify() {
        let salt = b"saltsaltsaltsalt";
        let params = argon2::Params::new(7168, 5, 1, Some(32)).unwrap();
        let mut out = [0u8; 32];
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into(b"pw", salt, &mut out)
            .unwrap();
        let secret = serde_json::json!({ "value": STANDARD.encode(out), "salt": STANDARD.encode(salt) }).to_string();
        let data = serde_json::json!({ "hashIterations": 5, "algorithm": "argon2", "additionalParameters": {
            "hashLength": ["32"], "memory": ["7168"], "type": ["id"], "version": ["1.3"], "parallelism": ["1"] } })
        .to_string();
        assert!(verify("pw", &secret, &data));
        assert!(!verify("px", &secret, &data));
    }

    #[test]
    fn hostile_parameters_are_refused_without_computing() {
        let secret = serde_json::json!({ "value": STANDARD.encode([0u8; 32]), "salt": STANDARD.encode(b"saltsaltsaltsalt") }).to_string();
        let argon2 = |memory: &str, iterations: i64, parallelism: &str| {
            serde_json::json!({ "hashIterations": iterations, "algorithm": "argon2", "additionalParameters": {
                "memory": [memory], "parallelism": [parallelism], "type": ["id"] } }).to_string()
        };
        let started = std::time::Instant::now();
        for (data, says) in [
            (argon2("4294967295", 1, "1"), "argon2 memory 4294967295 KiB"),
            (argon2("7168", 2_147_483_647, "1"), "argon2 iterations 2147483647"),
            (argon2("7168", 1, "255"), "argon2 parallelism 255"),
            (r#"{"hashIterations":2147483647,"algorithm":"pbkdf2-sha256"}"#.to_string(), "PBKDF2 hashIterations 2147483647"),
        ] {
            assert!(matches!(check(&secret, &data), Err(Unusable::OutOfBounds(ref why)) if why.contains(says)), "{data}");
            assert!(!verify("pw", &secret, &data));
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "nothing was computed");
        let long = serde_json::json!({ "value": STANDARD.encode([0u8; 65]), "salt": "" }).to_string();
        let data = r#"{"hashIterations":1000,"algorithm":"pbkdf2-sha256"}"#;
        assert!(matches!(check(&long, data), Err(Unusable::OutOfBounds(_))));
        assert_eq!(check(&secret, r#"{"algorithm":"bcrypt"}"#), Err(Unusable::Unsupported("bcrypt".into())));
    }

    #[test]
    fn garbage_never_verifies() {
        assert!(!verify("pw", "{}", "{}"));
        assert!(!verify("pw", r#"{"value":"","salt":""}"#, r#"{"algorithm":"md5","hashIterations":1}"#));
    }
}
