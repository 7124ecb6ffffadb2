//! One-time passwords: RFC 4226 HOTP and RFC 6238 TOTP under the realm's `otpPolicy*`, and the
//! two operations the login needs of them, enrolment (`enrol`: the first code proves the app holds
//! the secret) and verification with replay protection (`verify`). The code arithmetic here is
//! pure; the stored form (Keycloak's `secretData`/`credentialData`, sealed) is in `credential`,
//! and what an enrolment page shows (secret, manual entry, otpauth:// URI, QR code) in `enrolment`.
//! Not here: the pages and the login flow (`crate::oauth::login`).

pub mod credential;
pub mod enrolment;

use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

use crate::clock::UnixTime;
use crate::crypto::{MasterKey, SecretString};
use crate::domain::{new_id, Credential, RealmSettings};
use crate::store::{Store, StoreError};

pub use credential::{OtpCredentialData, OTP_CREDENTIAL_TYPE};
pub use enrolment::{key_uri, manual_entry, new_secret, qr_svg};

/// Keycloak's OTP types (`otpPolicyType`, `credentialData.subType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpKind {
    /// RFC 6238: the moving factor is the time step.
    Totp,
    /// RFC 4226: the moving factor is a counter stored with the credential.
    Hotp,
}

impl OtpKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "totp" => Some(Self::Totp),
            "hotp" => Some(Self::Hotp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Hotp => "hotp",
        }
    }
}

/// The HMAC of the code, by Keycloak's names (`HmacSHA1`, `HmacSHA256`, `HmacSHA512`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl OtpAlgorithm {
    pub fn parse(keycloak_name: &str) -> Option<Self> {
        match keycloak_name {
            "HmacSHA1" => Some(Self::Sha1),
            "HmacSHA256" => Some(Self::Sha256),
            "HmacSHA512" => Some(Self::Sha512),
            _ => None,
        }
    }

    pub fn keycloak_name(self) -> &'static str {
        match self {
            Self::Sha1 => "HmacSHA1",
            Self::Sha256 => "HmacSHA256",
            Self::Sha512 => "HmacSHA512",
        }
    }

    /// The name the Key Uri Format (and so every authenticator app) uses.
    pub fn key_uri_name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }
}

/// Bounds on parameters that come from stored data or realm settings, so that one code check
/// costs at most a few dozen HMACs whatever was imported (DESIGN.md §2, "Limits").
pub const MAX_LOOK_AHEAD: i64 = 10;
pub const MIN_DIGITS: u32 = 6;
/// RFC 4226's truncation yields 31 bits: at most 10 decimal digits carry information.
pub const MAX_DIGITS: u32 = 10;
pub const MAX_PERIOD: i64 = 3600;

/// The realm's OTP policy: what a new enrolment gets, and the look-ahead and reuse rules every
/// verification applies (a stored credential keeps its own digits, period, algorithm, counter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpPolicy {
    pub kind: OtpKind,
    pub algorithm: OtpAlgorithm,
    pub digits: u32,
    pub period: i64,
    /// Steps (TOTP: either side of now) or counters (HOTP: ahead) also accepted.
    pub look_ahead_window: i64,
    pub initial_counter: i64,
    /// Keycloak's `otpPolicyCodeReusable`: a TOTP code may be used again inside its window.
    pub code_reusable: bool,
}

impl OtpPolicy {
    /// The policy of the realm; values out of bounds are brought into them (an unknown type or
    /// algorithm falls back to Keycloak's defaults, TOTP and HmacSHA1).
    pub fn of(settings: &RealmSettings) -> Self {
        Self {
            kind: OtpKind::parse(&settings.otp_policy_type).unwrap_or(OtpKind::Totp),
            algorithm: OtpAlgorithm::parse(&settings.otp_policy_algorithm).unwrap_or(OtpAlgorithm::Sha1),
            digits: u32::try_from(settings.otp_policy_digits).unwrap_or(6).clamp(MIN_DIGITS, MAX_DIGITS),
            period: settings.otp_policy_period.clamp(1, MAX_PERIOD),
            look_ahead_window: settings.otp_policy_look_ahead_window.clamp(0, MAX_LOOK_AHEAD),
            initial_counter: settings.otp_policy_initial_counter.max(0),
            code_reusable: settings.otp_policy_code_reusable,
        }
    }
}

/// RFC 4226 §5.3: HMAC over the big-endian counter, dynamic truncation, `digits` decimal digits.
pub fn hotp(key: &[u8], counter: u64, digits: u32, algorithm: OtpAlgorithm) -> String {
    let message = counter.to_be_bytes();
    let mac = match algorithm {
        OtpAlgorithm::Sha1 => hmac_of::<Hmac<sha1::Sha1>>(key, &message),
        OtpAlgorithm::Sha256 => hmac_of::<Hmac<sha2::Sha256>>(key, &message),
        OtpAlgorithm::Sha512 => hmac_of::<Hmac<sha2::Sha512>>(key, &message),
    };
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([mac[offset] & 0x7f, mac[offset + 1], mac[offset + 2], mac[offset + 3]]);
    let digits = digits.clamp(1, MAX_DIGITS);
    let code = u64::from(binary) % 10u64.pow(digits);
    format!("{code:0width$}", width = digits as usize)
}

fn hmac_of<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// RFC 6238 §4.2: the time step of `now` (T0 = 0).
pub fn time_step(now: UnixTime, period: i64) -> i64 {
    now.div_euclid(period.max(1))
}

/// RFC 6238 TOTP at `now`.
pub fn totp(key: &[u8], now: UnixTime, period: i64, digits: u32, algorithm: OtpAlgorithm) -> String {
    hotp(key, time_step(now, period).max(0) as u64, digits, algorithm)
}

/// Which moving factors a credential accepts now: TOTP the time steps within the look-ahead
/// window either side of now (as Keycloak's TimeBasedOTP), HOTP the counters from the stored
/// one to `look_ahead` past it (as Keycloak's HmacOTP). `floor` is the replay guard: no factor
/// below it (the last one used, plus one) is accepted.
pub fn candidates(data: &OtpCredentialData, now: UnixTime, look_ahead: i64, floor: Option<i64>) -> std::ops::RangeInclusive<i64> {
    let look_ahead = look_ahead.clamp(0, MAX_LOOK_AHEAD);
    let (low, high) = match data.kind() {
        OtpKind::Totp => {
            let step = time_step(now, data.period());
            (step - look_ahead, step + look_ahead)
        }
        OtpKind::Hotp => (data.counter.max(0), data.counter.max(0) + look_ahead),
    };
    low.max(floor.unwrap_or(i64::MIN)).max(0)..=high
}

/// The moving factor among `candidates` whose code is `code`, compared in constant time. A code
/// of the wrong length or with a non-digit costs no HMAC.
pub fn matching_factor(
    key: &[u8],
    data: &OtpCredentialData,
    code: &str,
    now: UnixTime,
    look_ahead: i64,
    floor: Option<i64>,
) -> Option<i64> {
    let digits = data.digits();
    if code.len() != digits as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let algorithm = data.algorithm();
    let mut found = None;
    for factor in candidates(data, now, look_ahead, floor) {
        let expected = hotp(key, factor as u64, digits, algorithm);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
            found = Some(factor);
        }
    }
    found
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtpError {
    /// Wrong, expired or already used code (or no OTP credential checked it).
    #[error("invalid one-time code")]
    InvalidCode,
    /// The user holds no OTP credential.
    #[error("the user has no one-time password credential")]
    NotConfigured,
    /// The secret is unusable (too long, empty, or the stored one does not open).
    #[error("the one-time password secret is unusable")]
    InvalidSecret,
    #[error("the store is unavailable")]
    Unavailable,
}

impl From<StoreError> for OtpError {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "OTP store operation failed");
        OtpError::Unavailable
    }
}

/// A login checks at most this many of a user's OTP credentials (in Keycloak's order), so one
/// code check stays within a few hundred HMACs whatever an import or admin created.
pub const MAX_CREDENTIALS_CHECKED: usize = 10;

/// The longest secret accepted at enrolment (Keycloak makes 20 characters).
pub const MAX_SECRET_LEN: usize = 128;

/// CONFIGURE_TOTP's last step: checks the first `code` against `secret` under the realm's policy
/// and stores the credential (sealed), the code's factor already used so it cannot log in again.
/// The credential's parameters are the policy's now; later policy changes do not touch it.
#[allow(clippy::too_many_arguments)]
pub async fn enrol(
    store: &dyn Store,
    master: &MasterKey,
    settings: &RealmSettings,
    user_id: &str,
    secret: &SecretString,
    code: &str,
    label: Option<&str>,
    now: UnixTime,
) -> Result<Credential, OtpError> {
    let value = secret.expose();
    if value.is_empty() || value.len() > MAX_SECRET_LEN {
        return Err(OtpError::InvalidSecret);
    }
    let policy = OtpPolicy::of(settings);
    let data = OtpCredentialData::new(&policy);
    let used = matching_factor(value.as_bytes(), &data, code.trim(), now, policy.look_ahead_window, None)
        .ok_or(OtpError::InvalidCode)?;
    let data = data.after_use(used);
    let id = new_id();
    let label = label.map(str::trim).filter(|l| !l.is_empty()).map(|l| l.chars().take(255).collect());
    let credential = Credential {
        secret_data: credential::seal_secret(master, &id, value),
        id,
        user_id: user_id.to_string(),
        kind: OTP_CREDENTIAL_TYPE.into(),
        credential_data: data.to_json(),
        created_at: now,
        user_label: label,
        priority: 0,
    };
    store.add_otp_credential(&credential, Some(used + 1)).await?;
    Ok(credential)
}

/// Checks `code` against each of the user's OTP credentials (Keycloak's order) and records its
/// use: the factor and all before it cannot be used again (HOTP: the counter moves past it), unless
/// the realm makes TOTP codes reusable. Of concurrent uses of one code, the store lets one win.
pub async fn verify(
    store: &dyn Store,
    master: &MasterKey,
    settings: &RealmSettings,
    user_id: &str,
    code: &str,
    now: UnixTime,
) -> Result<(), OtpError> {
    let policy = OtpPolicy::of(settings);
    let held = store.otp_credentials(user_id).await?;
    if held.is_empty() {
        return Err(OtpError::NotConfigured);
    }
    let code = code.trim();
    if held.len() > MAX_CREDENTIALS_CHECKED {
        tracing::warn!(user = user_id, held = held.len(), "the user holds more OTP credentials than a login checks; the first {MAX_CREDENTIALS_CHECKED} are");
    }
    for state in held.into_iter().take(MAX_CREDENTIALS_CHECKED) {
        let Some(data) = OtpCredentialData::parse(&state.credential.credential_data) else {
            tracing::error!(credential = %state.credential.id, "stored OTP credentialData does not parse; skipped");
            continue;
        };
        let Some(key) = credential::key_of(master, &state.credential, &data) else { continue };
        let reusable = policy.code_reusable && data.kind() == OtpKind::Totp;
        let floor = if reusable { None } else { state.next };
        let Some(used) = matching_factor(&key, &data, code, now, policy.look_ahead_window, floor) else { continue };
        if reusable {
            return Ok(());
        }
        let new_data = (data.kind() == OtpKind::Hotp).then(|| data.after_use(used).to_json());
        if store.consume_otp(&state.credential.id, used, new_data.as_deref()).await? {
            return Ok(());
        }
        tracing::info!(credential = %state.credential.id, "OTP code refused: already used (replay or a concurrent login)");
        return Err(OtpError::InvalidCode);
    }
    Err(OtpError::InvalidCode)
}

/// Seals OTP secrets stored in plain text by earlier versions (and by a partial import of a
/// store written before this one), in bounded batches; returns how many were sealed. Runs at
/// start-up: AES-GCM under the master key cannot be done by a SQL migration.
pub async fn seal_plaintext_secrets(store: &dyn Store, master: &MasterKey) -> Result<u64, StoreError> {
    const BATCH: i64 = 500;
    let mut sealed = 0;
    loop {
        let batch = store.unsealed_otp_credentials(BATCH).await?;
        let full = batch.len() as i64 == BATCH;
        let mut progressed = false;
        for c in batch {
            let Some(value) = credential::plain_value(&c.secret_data) else {
                tracing::error!(credential = %c.id, "a stored OTP secretData is neither sealed nor Keycloak's {{\"value\"}}; left as is");
                continue;
            };
            let new = credential::seal_secret(master, &c.id, value.expose());
            if store.replace_otp_secret(&c.id, &c.secret_data, &new).await? {
                sealed += 1;
                progressed = true;
            }
        }
        if !full || !progressed {
            break;
        }
    }
    if sealed > 0 {
        tracing::info!(sealed, "OTP secrets stored in plain text were sealed under the master key");
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 Appendix B: the seeds for SHA1, SHA256 and SHA512, and the 8-digit codes.
    const SEED1: &[u8] = b"12345678901234567890";
    const SEED256: &[u8] = b"12345678901234567890123456789012";
    const SEED512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    #[test]
    fn rfc4226_appendix_d_hotp_values() {
        let expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp(SEED1, counter as u64, 6, OtpAlgorithm::Sha1), *code, "counter {counter}");
        }
    }

    #[test]
    fn rfc6238_appendix_b_totp_values_for_all_three_algorithms() {
        let table: &[(i64, &str, &str, &str)] = &[
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in table {
            assert_eq!(totp(SEED1, *time, 30, 8, OtpAlgorithm::Sha1), *sha1, "SHA1 at {time}");
            assert_eq!(totp(SEED256, *time, 30, 8, OtpAlgorithm::Sha256), *sha256, "SHA256 at {time}");
            assert_eq!(totp(SEED512, *time, 30, 8, OtpAlgorithm::Sha512), *sha512, "SHA512 at {time}");
        }
    }

    fn totp_data() -> OtpCredentialData {
        OtpCredentialData::new(&OtpPolicy::of(&RealmSettings::default()))
    }

    #[test]
    fn a_totp_code_matches_within_the_window_and_not_below_the_floor() {
        let data = totp_data();
        let now = 1_700_000_000;
        let step = time_step(now, 30);
        let previous = hotp(SEED1, (step - 1) as u64, 6, OtpAlgorithm::Sha1);
        assert_eq!(matching_factor(SEED1, &data, &previous, now, 1, None), Some(step - 1));
        assert_eq!(matching_factor(SEED1, &data, &previous, now, 0, None), None, "outside a zero window");
        assert_eq!(matching_factor(SEED1, &data, &previous, now, 1, Some(step)), None, "below the replay floor");
        let two_ago = hotp(SEED1, (step - 2) as u64, 6, OtpAlgorithm::Sha1);
        assert_eq!(matching_factor(SEED1, &data, &two_ago, now, 1, None), None);
        assert_eq!(matching_factor(SEED1, &data, "12345", now, 1, None), None, "wrong length");
        assert_eq!(matching_factor(SEED1, &data, "12a456", now, 1, None), None, "not digits");
    }

    #[test]
    fn a_hotp_code_matches_from_the_stored_counter_to_the_look_ahead() {
        let mut data = OtpCredentialData::new(&OtpPolicy { kind: OtpKind::Hotp, ..OtpPolicy::of(&RealmSettings::default()) });
        data.counter = 3;
        let at = |c: u64| hotp(SEED1, c, 6, OtpAlgorithm::Sha1);
        assert_eq!(matching_factor(SEED1, &data, &at(3), 0, 1, None), Some(3));
        assert_eq!(matching_factor(SEED1, &data, &at(4), 0, 1, None), Some(4));
        assert_eq!(matching_factor(SEED1, &data, &at(5), 0, 1, None), None, "past the look-ahead");
        assert_eq!(matching_factor(SEED1, &data, &at(2), 0, 1, None), None, "behind the counter");
        assert_eq!(data.after_use(4).counter, 5);
    }

    #[test]
    fn the_policy_is_kept_within_bounds() {
        let settings = RealmSettings {
            otp_policy_look_ahead_window: 1_000_000,
            otp_policy_digits: 99,
            otp_policy_period: 0,
            otp_policy_algorithm: "HmacMD5".into(),
            ..RealmSettings::default()
        };
        let policy = OtpPolicy::of(&settings);
        assert_eq!(policy.look_ahead_window, MAX_LOOK_AHEAD);
        assert_eq!(policy.digits, MAX_DIGITS);
        assert_eq!(policy.period, 1);
        assert_eq!(policy.algorithm, OtpAlgorithm::Sha1);
    }
}
