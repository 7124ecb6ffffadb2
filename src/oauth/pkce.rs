//! Proof Key for Code Exchange (RFC 7636): verifier syntax (§4.1) and the S256 and plain
//! transformations (§4.2), compared in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::crypto::{constant_time_eq, sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    S256,
    Plain,
}

impl Method {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "S256" => Some(Self::S256),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
pub fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The same syntax applies to challenges (S256 output is 43 characters).
pub fn valid_challenge(challenge: &str) -> bool {
    valid_verifier(challenge)
}

pub fn verify(method: Method, verifier: &str, challenge: &str) -> bool {
    match method {
        Method::S256 => {
            let computed = URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()));
            constant_time_eq(computed.as_bytes(), challenge.as_bytes())
        }
        Method::Plain => constant_time_eq(verifier.as_bytes(), challenge.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_appendix_b_example_verifies() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify(Method::S256, verifier, challenge));
        assert!(!verify(Method::S256, "x".repeat(43).as_str(), challenge));
        assert!(verify(Method::Plain, verifier, verifier));
    }

    #[test]
    fn verifier_syntax_is_enforced() {
        assert!(!valid_verifier("short"));
        assert!(!valid_verifier(&"a".repeat(129)));
        assert!(!valid_verifier(&format!("{}+", "a".repeat(43))));
    }
}
