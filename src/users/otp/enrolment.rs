//! What a CONFIGURE_TOTP page shows, as Keycloak shows it: a fresh secret (20 characters of
//! Keycloak's HmacOTP alphabet; the HMAC key is their UTF-8 bytes), the base32 text for manual
//! entry in groups of four, the `otpauth://` Key URI and its QR code, rendered here as inline
//! SVG so the page needs no script and no image request. Pure functions; nothing is stored.

use rand::Rng;

use super::{OtpKind, OtpPolicy};
use crate::crypto::SecretString;

/// Keycloak's `HmacOTP.generateSecret` alphabet (sic: it lacks `X`, `Y`, `Z`), ~5.9 bits a character.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW1234567890";
/// CONFIGURE_TOTP's length: ~117 bits.
pub const SECRET_LEN: usize = 20;

pub fn new_secret() -> SecretString {
    let mut rng = rand::rng();
    let secret: String = (0..SECRET_LEN).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    SecretString::new(secret)
}

fn base32(secret: &SecretString) -> String {
    data_encoding::BASE32_NOPAD.encode(secret.expose().as_bytes())
}

/// The base32 text of the secret's bytes in groups of four, as Keycloak's `TotpUtils.encode`.
pub fn manual_entry(secret: &SecretString) -> String {
    let encoded = base32(secret);
    let groups: Vec<&str> = encoded.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    groups.join(" ")
}

/// Java's `URLEncoder.encode` (form encoding: a space becomes `+`).
fn form_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The Key Uri Format URI as Keycloak's `OTPPolicy.getKeyURI` writes it:
/// `otpauth://{type}/{issuer}:{account}?secret=..&digits=..&algorithm=..&issuer=..&period=..`
/// (`counter` instead of `period` for HOTP). `:` in the issuer becomes a space.
pub fn key_uri(policy: &OtpPolicy, secret: &SecretString, issuer_display: &str, account: &str) -> String {
    let issuer = form_encode(&issuer_display.replace(':', " ")).replace('+', "%20");
    let account = form_encode(account);
    let mut uri = format!(
        "otpauth://{kind}/{issuer}:{account}?secret={secret}&digits={digits}&algorithm={algorithm}&issuer={issuer}",
        kind = policy.kind.as_str(),
        secret = base32(secret),
        digits = policy.digits,
        algorithm = policy.algorithm.key_uri_name(),
    );
    match policy.kind {
        OtpKind::Hotp => uri.push_str(&format!("&counter={}", policy.initial_counter)),
        OtpKind::Totp => uri.push_str(&format!("&period={}", policy.period)),
    }
    uri
}

/// The QR code of `uri` as an inline `<svg>` element (no XML declaration), at least 246 pixels
/// square like Keycloak's image, with an accessible name. Empty (logged) if `uri` is too long
/// for a QR code, which the bounded inputs of `key_uri` never are.
pub fn qr_svg(uri: &str) -> String {
    let code = match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "the otpauth URI does not fit a QR code");
            return String::new();
        }
    };
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(246, 246)
        .quiet_zone(true)
        .build();
    let start = svg.find("<svg").unwrap_or(0);
    svg[start..].replacen("<svg", r#"<svg role="img" aria-label="QR code for your authenticator app""#, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RealmSettings;

    #[test]
    fn a_new_secret_is_twenty_characters_of_keycloaks_alphabet_and_fresh() {
        let a = new_secret();
        assert_eq!(a.expose().len(), SECRET_LEN);
        assert!(a.expose().bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(a, new_secret());
    }

    #[test]
    fn manual_entry_is_the_base32_of_the_bytes_in_groups_of_four() {
        assert_eq!(manual_entry(&SecretString::new("12345678901234567890")), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
    }

    #[test]
    fn the_key_uri_has_keycloaks_shape_for_totp_and_hotp() {
        let secret = SecretString::new("12345678901234567890");
        let mut policy = OtpPolicy::of(&RealmSettings::default());
        assert_eq!(
            key_uri(&policy, &secret, "My Realm: Prod", "alice smith@example.com"),
            "otpauth://totp/My%20Realm%20%20Prod:alice+smith%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &digits=6&algorithm=SHA1&issuer=My%20Realm%20%20Prod&period=30"
        );
        policy.kind = OtpKind::Hotp;
        policy.initial_counter = 7;
        assert!(key_uri(&policy, &secret, "r", "a").ends_with("&issuer=r&counter=7"));
    }

    #[test]
    fn the_qr_code_is_an_inline_svg_with_an_accessible_name() {
        let svg = qr_svg("otpauth://totp/r:a?secret=GEZDGNBV");
        assert!(svg.starts_with("<svg role=\"img\" aria-label="), "{}", &svg[..60]);
        assert!(svg.contains("<path") || svg.contains("<rect"));
        assert!(!svg.contains("<?xml"));
    }
}
