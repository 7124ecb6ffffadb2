//! Keycloak's OTP credential as stored: type `otp`, `credentialData`
//! `{"subType","digits","counter","period","algorithm"}` kept verbatim (each credential keeps the
//! parameters it was enrolled with), and `secretData` `{"value": ...}`, which Portcullis never
//! stores as such: the value is sealed under the master key (`{"sealed": ...}`, bound to the
//! credential id) and opened only to compute a code or to write a full export.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{OtpAlgorithm, OtpKind, OtpPolicy, MAX_DIGITS, MAX_PERIOD, MIN_DIGITS};
use crate::crypto::{MasterKey, SecretString};
use crate::domain::Credential;

pub const OTP_CREDENTIAL_TYPE: &str = "otp";

/// Keycloak's OTPCredentialData. Unknown fields are kept, so an export writes back what was imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtpCredentialData {
    pub sub_type: String,
    pub digits: i64,
    /// HOTP: the next counter expected. TOTP: unused (0).
    pub counter: i64,
    pub period: i64,
    pub algorithm: String,
    /// Keycloak 24+: `BASE32` when `secretData.value` is the base32 text rather than raw bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_encoding: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

impl OtpCredentialData {
    /// The parameters a new enrolment under `policy` gets.
    pub fn new(policy: &OtpPolicy) -> Self {
        Self {
            sub_type: policy.kind.as_str().into(),
            digits: i64::from(policy.digits),
            counter: policy.initial_counter,
            period: policy.period,
            algorithm: policy.algorithm.keycloak_name().into(),
            secret_encoding: None,
            other: Default::default(),
        }
    }

    /// `None` when it is not JSON of this shape (Keycloak's defaults fill missing numbers).
    pub fn parse(json: &str) -> Option<Self> {
        let mut value: Value = serde_json::from_str(json).ok()?;
        let object = value.as_object_mut()?;
        for (field, default) in [("digits", 6), ("counter", 0), ("period", 30)] {
            object.entry(field).or_insert(default.into());
        }
        object.entry("algorithm").or_insert("HmacSHA1".into());
        object.entry("subType").or_insert("totp".into());
        serde_json::from_value(value).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("credential data always serialises")
    }

    pub fn kind(&self) -> OtpKind {
        OtpKind::parse(&self.sub_type).unwrap_or(OtpKind::Totp)
    }

    /// Stored digits, brought into bounds (an import may carry anything).
    pub fn digits(&self) -> u32 {
        u32::try_from(self.digits).unwrap_or(6).clamp(MIN_DIGITS, MAX_DIGITS)
    }

    pub fn period(&self) -> i64 {
        self.period.clamp(1, MAX_PERIOD)
    }

    pub fn algorithm(&self) -> OtpAlgorithm {
        OtpAlgorithm::parse(&self.algorithm).unwrap_or(OtpAlgorithm::Sha1)
    }

    /// The data after factor `used` was accepted: HOTP's counter moves past it.
    pub fn after_use(&self, used: i64) -> Self {
        let mut next = self.clone();
        if self.kind() == OtpKind::Hotp {
            next.counter = used + 1;
        }
        next
    }
}

fn aad(credential_id: &str) -> Vec<u8> {
    format!("otp-secret:{credential_id}").into_bytes()
}

/// `secretData` holding `value` sealed under the master key, bound to the credential.
pub fn seal_secret(master: &MasterKey, credential_id: &str, value: &str) -> String {
    let sealed = master.seal(value.as_bytes(), &aad(credential_id));
    serde_json::json!({ "sealed": STANDARD.encode(sealed) }).to_string()
}

/// Whether `secret_data` is in the sealed form.
pub fn is_sealed(secret_data: &str) -> bool {
    serde_json::from_str::<Value>(secret_data).ok().and_then(|v| v.get("sealed").cloned()).is_some()
}

/// The value of Keycloak's plain `{"value": ...}` (an unsealed secretData), if it is one.
pub fn plain_value(secret_data: &str) -> Option<SecretString> {
    let value: Value = serde_json::from_str(secret_data).ok()?;
    if value.get("sealed").is_some() {
        return None;
    }
    value.get("value")?.as_str().map(|s| SecretString::new(s.to_string()))
}

/// The secret's value (what Keycloak's `secretData.value` holds), sealed or, from a store
/// written before sealing, plain. `None` (logged) when it does not open.
pub fn open_secret(master: &MasterKey, credential: &Credential) -> Option<SecretString> {
    let value: Value = serde_json::from_str(&credential.secret_data).ok()?;
    let Some(sealed) = value.get("sealed").and_then(Value::as_str) else {
        return plain_value(&credential.secret_data);
    };
    let opened = STANDARD.decode(sealed).ok().and_then(|bytes| master.open(&bytes, &aad(&credential.id)).ok());
    let text = opened.and_then(|bytes| String::from_utf8(bytes).ok());
    if text.is_none() {
        tracing::error!(credential = %credential.id, "an OTP secret does not open under the master key");
    }
    text.map(SecretString::new)
}

/// `secretData` as Keycloak writes it, `{"value": ...}`, for a full export.
pub fn keycloak_secret_data(master: &MasterKey, credential: &Credential) -> Option<String> {
    let value = open_secret(master, credential)?;
    Some(serde_json::json!({ "value": value.expose() }).to_string())
}

/// The HMAC key: the value's UTF-8 bytes, as Keycloak uses them, or its base32 decoding when
/// `secretEncoding` is `BASE32`.
pub fn key_of(master: &MasterKey, credential: &Credential, data: &OtpCredentialData) -> Option<Vec<u8>> {
    let value = open_secret(master, credential)?;
    match data.secret_encoding.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None => Some(value.expose().as_bytes().to_vec()),
        Some("BASE32") => {
            let text: String = value.expose().chars().filter(|c| !c.is_whitespace() && *c != '=').collect();
            let key = data_encoding::BASE32_NOPAD.decode(text.to_ascii_uppercase().as_bytes()).ok();
            if key.is_none() {
                tracing::error!(credential = %credential.id, "an OTP secret marked BASE32 is not base32");
            }
            key
        }
        Some(other) => {
            tracing::error!(credential = %credential.id, encoding = other, "unsupported OTP secretEncoding");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(secret_data: String) -> Credential {
        Credential {
            id: "c1".into(),
            user_id: "u1".into(),
            kind: OTP_CREDENTIAL_TYPE.into(),
            secret_data,
            credential_data: "{}".into(),
            created_at: 0,
            user_label: None,
            priority: 0,
        }
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_credential_and_never_holds_the_value() {
        let master = MasterKey::generate();
        let sealed = seal_secret(&master, "c1", "JBSWY3DPEHPK3PXP-value");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert!(is_sealed(&sealed));
        assert_eq!(open_secret(&master, &credential(sealed.clone())).unwrap().expose(), "JBSWY3DPEHPK3PXP-value");
        let mut other = credential(sealed);
        other.id = "c2".into();
        assert!(open_secret(&master, &other).is_none(), "bound to its credential id");
        let plain = credential(r#"{"value":"abc"}"#.into());
        assert!(!is_sealed(&plain.secret_data));
        assert_eq!(open_secret(&master, &plain).unwrap().expose(), "abc");
    }

    #[test]
    fn keycloak_credential_data_parses_with_defaults_and_keeps_unknown_fields() {
        let data = OtpCredentialData::parse(r#"{"subType":"hotp","digits":8,"counter":5,"algorithm":"HmacSHA256","x":1}"#).unwrap();
        assert_eq!((data.kind(), data.digits(), data.counter, data.period()), (OtpKind::Hotp, 8, 5, 30));
        assert_eq!(data.algorithm(), OtpAlgorithm::Sha256);
        assert!(data.to_json().contains(r#""x":1"#));
        assert!(OtpCredentialData::parse("not json").is_none());
    }

    #[test]
    fn a_base32_encoded_secret_decodes_to_its_bytes() {
        let master = MasterKey::generate();
        let c = credential(seal_secret(&master, "c1", "GEZDGNBV"));
        let mut data = OtpCredentialData::parse("{}").unwrap();
        assert_eq!(key_of(&master, &c, &data).unwrap(), b"GEZDGNBV");
        data.secret_encoding = Some("BASE32".into());
        assert_eq!(key_of(&master, &c, &data).unwrap(), b"12345");
    }
}
