//! The request parsers in front of every token, revocation and introspection call: the strict
//! form parser (`oauth::request::FormParams`), the Content-Type check and the `Authorization:
//! Basic` parser (`oauth::client_auth::basic_credentials`). None may panic; each must agree with
//! a plain reference written here (RFC 6749 §2.3.1 and Appendix B), and credentials encoded the
//! RFC way must come back unchanged.

#![no_main]

use std::collections::HashSet;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use portcullis::oauth::client_auth::basic_credentials;
use portcullis::oauth::request::{require_form_content_type, FormParams};

/// `application/x-www-form-urlencoded` decoding of one component: `+` is a space, `%XX` a byte,
/// anything else (a lone `%`, `&`, `=`) itself; then UTF-8 with replacement, as `form_urlencoded`.
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'+', _, _) => out.push(b' '),
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 2;
            }
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What an `Authorization` header should yield: scheme `Basic` (any case), base64 of UTF-8
/// `id:secret`, each part form-encoded.
fn reference_basic(header: &str) -> Option<(String, String)> {
    let scheme = header.as_bytes().get(..6)?;
    if !scheme.eq_ignore_ascii_case(b"basic ") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(header[6..].trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id), form_decode(secret)))
}

fn check_form(data: &[u8]) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    let has_nul = pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0'));
    let mut seen = HashSet::new();
    let repeated = !pairs.iter().all(|(k, _)| seen.insert(k.as_str()));
    match FormParams::parse(data) {
        Ok(form) => {
            assert!(!has_nul, "a NUL character was accepted");
            assert!(!repeated, "a repeated parameter was accepted");
            for (key, value) in &pairs {
                assert_eq!(
                    form.get(key),
                    Some(value.as_str()).filter(|v| !v.is_empty()),
                    "parameter {key:?}"
                );
            }
        }
        Err(error) => {
            assert!(has_nul || repeated, "a clean form was refused: {error:?}");
            assert_eq!(error.code(), "invalid_request");
        }
    }
}

fn check_basic(data: &[u8]) {
    let header = String::from_utf8_lossy(data);
    assert_eq!(basic_credentials(&header), reference_basic(&header), "header {header:?}");

    // Any id and secret, encoded as RFC 6749 §2.3.1 says, decode back to themselves.
    let text = String::from_utf8_lossy(data);
    let (id, secret) = text.split_once('\n').unwrap_or((&text, ""));
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(id), encode(secret))));
    assert_eq!(
        basic_credentials(&header),
        Some((id.to_string(), secret.to_string())),
        "round trip of {id:?} / {secret:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    check_form(data);
    check_basic(data);
    let _ = require_form_content_type(Some(&String::from_utf8_lossy(data)));
});
