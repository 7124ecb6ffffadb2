//! Verification of password hashes imported from Keycloak, so users keep their passwords when a
//! realm moves over: `secretData` `{value, salt}` and `credentialData` `{hashIterations,
//! algorithm, additionalParameters}` for pbkdf2-sha256, pbkdf2-sha512, pbkdf2 (SHA-1) and
//! argon2. After the first successful login the caller re-hashes with our argon2id parameters.

use std::num::NonZeroU32;

use aws_lc_rs::pbkdf2;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

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

/// Whether `password` matches a Keycloak-format credential. Unknown algorithms never match.
pub fn verify(password: &str, secret_data: &str, credential_data: &str) -> bool {
    let (Ok(secret), Ok(data)) =
        (serde_json::from_str::<SecretData>(secret_data), serde_json::from_str::<CredentialData>(credential_data))
    else {
        return false;
    };
    let (Ok(expected), Ok(salt)) = (STANDARD.decode(secret.value.trim()), STANDARD.decode(secret.salt.trim())) else {
        return false;
    };
    if expected.is_empty() {
        return false;
    }
    match data.algorithm.as_str() {
        "pbkdf2-sha256" | "pbkdf2-sha512" | "pbkdf2" => {
            let algorithm = match data.algorithm.as_str() {
                "pbkdf2-sha256" => pbkdf2::PBKDF2_HMAC_SHA256,
                "pbkdf2-sha512" => pbkdf2::PBKDF2_HMAC_SHA512,
                _ => pbkdf2::PBKDF2_HMAC_SHA1,
            };
            let Some(iterations) = u32::try_from(data.hash_iterations).ok().and_then(NonZeroU32::new) else {
                return false;
            };
            pbkdf2::verify(algorithm, iterations, &salt, password.as_bytes(), &expected).is_ok()
        }
        "argon2" => verify_argon2(password, &salt, &expected, &data),
        _ => false,
    }
}

fn verify_argon2(password: &str, salt: &[u8], expected: &[u8], data: &CredentialData) -> bool {
    let param = |name: &str, default: &str| -> String {
        data.additional_parameters.get(name).and_then(|v| v.first()).cloned().unwrap_or_else(|| default.to_string())
    };
    let algorithm = match param("type", "id").as_str() {
        "id" => argon2::Algorithm::Argon2id,
        "i" => argon2::Algorithm::Argon2i,
        "d" => argon2::Algorithm::Argon2d,
        _ => return false,
    };
    let version = if param("version", "1.3") == "1.0" { argon2::Version::V0x10 } else { argon2::Version::V0x13 };
    let (Ok(memory), Ok(parallelism)) = (param("memory", "7168").parse::<u32>(), param("parallelism", "1").parse::<u32>()) else {
        return false;
    };
    let iterations = u32::try_from(data.hash_iterations).unwrap_or(0).max(1);
    let Ok(params) = argon2::Params::new(memory, iterations, parallelism, Some(expected.len())) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    argon2::Argon2::new(algorithm, version, params).hash_password_into(password.as_bytes(), salt, &mut out).is_ok()
        && super::constant_time_eq(&out, expected)
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
    fn garbage_never_verifies() {
        assert!(!verify("pw", "{}", "{}"));
        assert!(!verify("pw", r#"{"value":"","salt":""}"#, r#"{"algorithm":"md5","hashIterations":1}"#));
    }
}
