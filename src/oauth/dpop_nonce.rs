//! Server-provided DPoP nonces (RFC 9449 §8 at the token endpoint, §9 at userinfo), for clients
//! with the client attribute `dpop.nonce.required`: their proofs must carry a `nonce` this
//! server handed out, so a proof made in advance (by malware that got the key's use for a while)
//! stops working within two minutes. Keycloak has no DPoP nonces; the attribute is Portcullis's.
//!
//! A nonce is stateless: a one-minute window number and the realm HMAC key's tag over it, so
//! every node issues and accepts the same nonces without storage; the current and the previous
//! window are accepted. Replay protection stays the proof's `jti` record (`dpop::spend`).

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::clock::UnixTime;
use crate::domain::Client;
use crate::realm::RealmContext;

/// The response header that carries a fresh nonce (RFC 9449 §8.1).
pub const HEADER: &str = "DPoP-Nonce";
/// Portcullis's client attribute (`"true"`): the client's proofs must carry a server nonce.
pub const REQUIRED_ATTRIBUTE: &str = "dpop.nonce.required";
/// Seconds one nonce window lasts; a nonce is accepted in its window and the next.
pub const WINDOW: i64 = 60;
/// Bytes of the HMAC tag kept in a nonce.
const TAG_LEN: usize = 16;

pub fn required(client: &Client) -> bool {
    client.attributes.get(REQUIRED_ATTRIBUTE).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Whether the client an access token names (`azp`) needs nonces at a resource. Read before the
/// token is verified, from its unverified payload: a forged `azp` can only skip the nonce for a
/// token that fails verification next.
pub fn required_for_token(realm: &RealmContext, access_token: &str) -> bool {
    let Some(payload) = access_token.split('.').nth(1).filter(|p| p.len() <= 16 * 1024) else { return false };
    let azp = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|claims| claims.get("azp").and_then(|a| a.as_str()).map(str::to_string));
    azp.and_then(|azp| realm.client(&azp)).is_some_and(|client| required(&client))
}

fn tag(key: &hmac::Key, realm_id: &str, window: i64) -> hmac::Tag {
    hmac::sign(key, format!("dpop-nonce\u{0}{realm_id}\u{0}{window}").as_bytes())
}

fn nonce_for(key: &hmac::Key, realm_id: &str, window: i64) -> String {
    let mut bytes = window.to_be_bytes().to_vec();
    bytes.extend_from_slice(&tag(key, realm_id, window).as_ref()[..TAG_LEN]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The nonce to hand out at `now`; `None` when the realm has no HMAC key (then no nonce can be
/// required either, and `accepts` refuses every one).
pub fn current(realm: &RealmContext, now: UnixTime) -> Option<String> {
    let key = realm.keys.hmac_active().ok()?;
    Some(nonce_for(&key.key, &realm.realm.id, now.div_euclid(WINDOW)))
}

/// Whether `nonce` is one this realm issued in the current or the previous window.
pub fn accepts(realm: &RealmContext, nonce: &str, now: UnixTime) -> bool {
    let Ok(key) = realm.keys.hmac_active() else { return false };
    let Some(bytes) = URL_SAFE_NO_PAD.decode(nonce).ok().filter(|b| b.len() == 8 + TAG_LEN) else { return false };
    let (window, mac) = bytes.split_at(8);
    let window = i64::from_be_bytes(window.try_into().unwrap_or([0; 8]));
    let current = now.div_euclid(WINDOW);
    if window != current && window != current - 1 {
        return false;
    }
    use subtle::ConstantTimeEq;
    bool::from(tag(&key.key, &realm.realm.id, window).as_ref()[..TAG_LEN].ct_eq(mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn a_nonce_names_its_window_and_realm() {
        let key = key();
        let a = nonce_for(&key, "realm-a", 100);
        assert_eq!(a, nonce_for(&key, "realm-a", 100), "stateless: every node computes the same");
        assert_ne!(a, nonce_for(&key, "realm-a", 101));
        assert_ne!(a, nonce_for(&key, "realm-b", 100));
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 24);
    }
}
