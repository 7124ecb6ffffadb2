//! The browser cookies: the SSO cookie naming the user session, and the CSRF cookie of a
//! pending login. Both are sealed under the master key with the realm in the associated data,
//! so they cannot be forged, read, or moved to another realm. They are HttpOnly, SameSite=Lax,
//! scoped to the realm's path, and Secure when the public URL is https.

use axum::http::HeaderMap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};

use crate::crypto::MasterKey;

pub const SSO_COOKIE: &str = "PORTCULLIS_SESSION";
pub const LOGIN_COOKIE: &str = "PORTCULLIS_LOGIN";

/// What the SSO cookie holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsoCookie {
    pub sid: String,
    pub uid: String,
    /// Per-session CSRF token for the account page and consent forms.
    pub csrf: String,
}

pub fn seal<T: Serialize>(master: &MasterKey, purpose: &str, realm: &str, value: &T) -> String {
    let json = serde_json::to_vec(value).expect("cookie payloads are plain data");
    URL_SAFE_NO_PAD.encode(master.seal(&json, format!("{purpose}:{realm}").as_bytes()))
}

pub fn open<T: for<'de> Deserialize<'de>>(master: &MasterKey, purpose: &str, realm: &str, text: &str) -> Option<T> {
    if text.len() > 8192 {
        return None;
    }
    let sealed = URL_SAFE_NO_PAD.decode(text).ok()?;
    let json = master.open(&sealed, format!("{purpose}:{realm}").as_bytes()).ok()?;
    serde_json::from_slice(&json).ok()
}

/// The value of a named cookie in the request.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v).filter_map(Result::ok))
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

pub fn realm_path(realm: &str) -> String {
    format!("/realms/{realm}/")
}

/// A `Set-Cookie` value. `max_age` None makes a browser-session cookie.
pub fn set(name: &str, value: String, realm: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut cookie = Cookie::build((name.to_string(), value))
        .path(realm_path(realm))
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax);
    if let Some(seconds) = max_age {
        cookie = cookie.max_age(cookie::time::Duration::seconds(seconds));
    }
    cookie.build().to_string()
}

pub fn clear(name: &str, realm: &str, secure: bool) -> String {
    set(name, String::new(), realm, secure, Some(0))
}

pub fn read_sso(headers: &HeaderMap, master: &MasterKey, realm: &str) -> Option<SsoCookie> {
    read(headers, SSO_COOKIE).and_then(|text| open(master, "sso", realm, &text))
}
