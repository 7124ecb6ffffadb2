//! The device authorization grant (RFC 8628) at Keycloak's paths: the device authorization
//! endpoint `.../protocol/openid-connect/auth/device` (§3.1-3.2) starts a grant, the user
//! approves it on the page at `/realms/{realm}/device` (§3.3, `crate::http::device`), and the
//! device polls the token endpoint (§3.4-3.5, `grants::device_code`). Both codes are stored only
//! as hashes. User codes are eight letters of Keycloak's 20-consonant alphabet (§6.1: about
//! 34.6 bits, no vowels so no words), shown as `XXXX-XXXX`; guessing is bounded by the device
//! page's per-address failure limit (`crate::ops::rate_limit`).

use serde::Serialize;

use super::request::FormParams;
use super::scope::Scope;
use super::OAuthError;
use crate::clock::UnixTime;
use crate::crypto::random::{random_bytes, random_token};
use crate::crypto::sha256;
use crate::domain::Client;
use crate::realm::RealmContext;
use crate::store::device_grants::HashBytes;
use crate::store::{DeviceGrantRecord, Store, StoreError, TokenHash};

/// RFC 8628 §3.4.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Keycloak's client attribute that allows a client to start the grant (off by default).
pub const ENABLED: &str = "oauth2.device.authorization.grant.enabled";
/// Keycloak's client attributes overriding the realm's `oauth2DeviceCodeLifespan` and
/// `oauth2DevicePollingInterval`.
pub const CLIENT_LIFESPAN: &str = "oauth2.device.code.lifespan";
pub const CLIENT_INTERVAL: &str = "oauth2.device.polling.interval";
/// The form field of the device page (Keycloak's `device_user_code`).
pub const USER_CODE_FIELD: &str = "device_user_code";

/// Keycloak's alphabet for user codes: consonants only, none easily confused.
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LENGTH: usize = 8;
/// Bounds on the lifespan and the interval, whatever the settings say: a device code is a bearer
/// of the user's approval for its lifetime.
const MAX_LIFESPAN: i64 = 86_400;
const MAX_INTERVAL: i64 = 600;
/// Longest `nonce` kept (it goes into the ID token).
const MAX_NONCE: usize = 512;

/// The device authorization response (§3.2).
#[derive(Debug, Serialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

pub fn enabled(client: &Client) -> bool {
    client.attributes.get(ENABLED).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The client's attribute when set to a positive number, else the realm's setting, within bounds.
fn setting(client: &Client, attribute: &str, realm_value: i64, max: i64) -> i64 {
    let value = client.attributes.get(attribute).and_then(|v| v.trim().parse::<i64>().ok()).filter(|v| *v > 0).unwrap_or(realm_value);
    value.clamp(1, max)
}

/// A fresh user code, uniform over the alphabet (bytes past the largest multiple of 20 are
/// drawn again, so no letter is likelier than another).
pub fn new_user_code() -> String {
    let mut code = String::with_capacity(USER_CODE_LENGTH);
    while code.len() < USER_CODE_LENGTH {
        for byte in random_bytes::<16>() {
            if byte < 240 && code.len() < USER_CODE_LENGTH {
                code.push(ALPHABET[usize::from(byte % 20)] as char);
            }
        }
    }
    code
}

/// How a user code is shown and put in `verification_uri_complete`: `XXXX-XXXX`.
pub fn display(code: &str) -> String {
    let (head, tail) = code.split_at(code.len().min(USER_CODE_LENGTH / 2));
    format!("{head}-{tail}")
}

/// What the user typed, as stored: case, spaces and dashes do not matter. `None` when it cannot
/// be a user code at all (so it is not even looked up).
pub fn normalise(typed: &str) -> Option<String> {
    let code: String =
        typed.chars().take(64).filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (code.len() == USER_CODE_LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

pub fn user_code_hash(normalised: &str) -> TokenHash {
    sha256(normalised.as_bytes())
}

/// §3.1-3.2: starts a grant for `client` (authenticated as the token endpoint authenticates)
/// and answers the codes. `issuer` is the realm's issuer URL.
pub async fn authorize(
    store: &dyn Store,
    realm: &RealmContext,
    client: &Client,
    form: &FormParams,
    issuer: &str,
    now: UnixTime,
) -> Result<DeviceAuthorization, OAuthError> {
    if !enabled(client) {
        return Err(OAuthError::UnauthorizedClient(
            "Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client.".into(),
        ));
    }
    if client.bearer_only {
        return Err(OAuthError::UnauthorizedClient("Bearer-only applications are not allowed to initiate browser login.".into()));
    }
    if form.get("code_challenge").is_some() || form.get("code_challenge_method").is_some() {
        // Keycloak accepts PKCE here; Portcullis refuses it loudly rather than ignore it
        return Err(OAuthError::InvalidRequest("PKCE is not supported with the device authorization grant by this server".into()));
    }
    let scope = Scope::grant(realm.scopes.of_client(&client.id), form.get("scope"))?;
    let nonce = form.get("nonce").map(|n| n.chars().take(MAX_NONCE).collect::<String>());
    let settings = &realm.realm.settings;
    let lifespan = setting(client, CLIENT_LIFESPAN, settings.oauth2_device_code_lifespan, MAX_LIFESPAN);
    let interval = setting(client, CLIENT_INTERVAL, settings.oauth2_device_polling_interval, MAX_INTERVAL);
    let device_code = random_token::<32>();
    let mut grant = DeviceGrantRecord {
        device_code_hash: HashBytes(sha256(device_code.as_bytes())),
        user_code_hash: HashBytes([0; 32]),
        realm_id: realm.realm.id.clone(),
        client_id: client.id.clone(),
        scope: scope.granted_string(),
        nonce,
        created_at: now,
        expires_at: now + lifespan,
        poll_interval: interval,
        last_poll_at: None,
        user_session_id: None,
        denied: false,
    };
    // a clash with a live grant's user code is as rare as a guess; draw again a few times
    for _ in 0..4 {
        let user_code = new_user_code();
        grant.user_code_hash = HashBytes(user_code_hash(&user_code));
        match store.insert_device_grant(&grant).await {
            Ok(()) => {
                let verification_uri = format!("{issuer}/device");
                let user_code = display(&user_code);
                return Ok(DeviceAuthorization {
                    device_code,
                    verification_uri_complete: format!("{verification_uri}?user_code={user_code}"),
                    user_code,
                    verification_uri,
                    expires_in: lifespan,
                    interval,
                });
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    tracing::error!(realm = %realm.realm.name, "no free device user code after 4 draws");
    Err(OAuthError::ServerError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_use_the_alphabet_and_show_as_two_groups_of_four() {
        for _ in 0..200 {
            let code = new_user_code();
            assert_eq!(code.len(), 8);
            assert!(code.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
            let shown = display(&code);
            assert_eq!(shown.len(), 9);
            assert_eq!(&shown[4..5], "-");
            assert_eq!(normalise(&shown).as_deref(), Some(code.as_str()));
        }
    }

    #[test]
    fn typed_codes_ignore_case_spaces_and_dashes_and_refuse_what_cannot_be_one() {
        assert_eq!(normalise(" bcdf-ghjk ").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalise("b c d f g h j k").as_deref(), Some("BCDFGHJK"));
        for bad in ["", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ1", "BCDF\u{0}GHJK"] {
            assert_eq!(normalise(bad), None, "{bad:?}");
        }
        assert_eq!(normalise(&"B".repeat(10_000)), None);
    }

    #[test]
    fn every_letter_of_the_alphabet_is_drawn() {
        let drawn: std::collections::BTreeSet<char> = (0..100).flat_map(|_| new_user_code().chars().collect::<Vec<_>>()).collect();
        assert_eq!(drawn.len(), 20);
    }
}
