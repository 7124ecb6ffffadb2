//! Compact JWS encoding. Signing goes through key pairs parsed once (see `keys`), because
//! `jsonwebtoken::encode` re-parses an RSA key on every call and costs 2.5x (DESIGN.md §6).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

/// The base64url header for a key, computed once per key.
pub fn encode_header(alg: &str, kid: &str, typ: &str) -> String {
    let header = serde_json::json!({ "alg": alg, "typ": typ, "kid": kid });
    URL_SAFE_NO_PAD.encode(header.to_string())
}

/// `header.payload` ready to be signed.
pub fn signing_input(encoded_header: &str, claims: &impl Serialize) -> String {
    let payload = serde_json::to_vec(claims).expect("claims are plain JSON data");
    let mut out = String::with_capacity(encoded_header.len() + 1 + payload.len() * 4 / 3 + 4);
    out.push_str(encoded_header);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut out);
    out
}

pub fn append_signature(mut signing_input: String, signature: &[u8]) -> String {
    signing_input.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut signing_input);
    signing_input
}
