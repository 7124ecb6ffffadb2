//! Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3):
//! `client_secret_basic`, `client_secret_post`, or a public client naming itself. Secrets are
//! opened from their sealed form and compared in constant time.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::request::FormParams;
use super::OAuthError;
use crate::crypto::{constant_time_eq, MasterKey};
use crate::domain::Client;
use crate::realm::RealmContext;

const INVALID_CLIENT: &str = "Invalid client or Invalid client credentials";

/// Credentials from an `Authorization: Basic` header, each part in the two forms clients send:
/// RFC 6749 §2.3.1 form-encodes id and secret, but authlib, requests' `HTTPBasicAuth` and most
/// HTTP libraries send them raw, and Keycloak accepts the raw form (issue 13 item 23).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    pub id: String,
    pub secret: String,
    /// The parts as sent, when form-decoding changed them.
    pub raw_id: Option<String>,
    pub raw_secret: Option<String>,
}

/// Public for the fuzz target `fuzz/fuzz_targets/form_basic.rs`.
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    basic(header).map(|c| (c.id, c.secret))
}

fn basic(header: &str) -> Option<BasicCredentials> {
    // RFC 7235 §2.1: the scheme name is case-insensitive
    let encoded = header.get(..6).filter(|scheme| scheme.eq_ignore_ascii_case("basic ")).map(|_| &header[6..])?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (raw_id, raw_secret) = decoded.split_once(':')?;
    // A raw `&` is a character of the credential, not a separator: unescaped, `secret&junk`
    // decoded as `secret` and passed (found by fuzz/fuzz_targets/form_basic.rs).
    let unescape = |s: &str| {
        let s = s.replace('&', "%26");
        form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned())
    };
    let (id, secret) = (unescape(raw_id)?, unescape(raw_secret)?);
    Some(BasicCredentials {
        raw_id: (id != raw_id).then(|| raw_id.to_string()),
        raw_secret: (secret != raw_secret).then(|| raw_secret.to_string()),
        id,
        secret,
    })
}

/// Identifies and authenticates the calling client.
pub fn authenticate(
    realm: &RealmContext,
    authorization: Option<&str>,
    form: &FormParams,
    master: &MasterKey,
) -> Result<Arc<Client>, OAuthError> {
    let basic = match authorization {
        Some(header) if header.to_ascii_lowercase().starts_with("basic ") => {
            Some(basic(header).ok_or_else(|| invalid_client("Invalid Authorization header"))?)
        }
        _ => None,
    };
    let (client, presented) = match basic {
        Some(credentials) => {
            let named = |id: &str| form.get("client_id").is_none_or(|body_id| body_id == id);
            if !named(&credentials.id) && !credentials.raw_id.as_deref().is_some_and(named) {
                return Err(OAuthError::InvalidRequest("client_id in the body differs from the Authorization header".into()));
            }
            if form.get("client_secret").is_some() {
                return Err(OAuthError::InvalidRequest("more than one client authentication method used".into()));
            }
            let client = realm
                .client(&credentials.id)
                .or_else(|| credentials.raw_id.as_deref().and_then(|raw| realm.client(raw)))
                .ok_or_else(|| invalid_client(INVALID_CLIENT))?;
            let mut presented = vec![credentials.secret];
            presented.extend(credentials.raw_secret);
            (client, presented)
        }
        None => {
            let id = form
                .get("client_id")
                .ok_or_else(|| invalid_client("Missing parameter: client_id"))?;
            let client = realm.client(id).ok_or_else(|| invalid_client(INVALID_CLIENT))?;
            (client, form.get("client_secret").map(str::to_string).into_iter().collect())
        }
    };
    if !client.enabled {
        return Err(invalid_client(INVALID_CLIENT));
    }
    if client.public_client {
        return Ok(client);
    }
    if presented.is_empty() {
        return Err(invalid_client(INVALID_CLIENT));
    }
    let expected = client
        .secret_sealed
        .as_ref()
        .and_then(|sealed| master.open(sealed, &client.secret_aad()).ok())
        .ok_or_else(|| invalid_client(INVALID_CLIENT))?;
    // every candidate is compared, so the time does not tell which form matched
    let matched = presented.iter().fold(false, |any, candidate| any | constant_time_eq(candidate.as_bytes(), &expected));
    if matched {
        Ok(client)
    } else {
        Err(invalid_client(INVALID_CLIENT))
    }
}

fn invalid_client(description: &str) -> OAuthError {
    OAuthError::InvalidClient(description.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret"));
        assert_eq!(basic_credentials(&header), Some(("my app".into(), "s:cret".into())));
        assert_eq!(basic_credentials("Basic !!!"), None);
    }

    #[test]
    fn the_raw_form_is_kept_beside_the_decoded_one_when_they_differ() {
        let header = format!("Basic {}", STANDARD.encode("app:a+b%2Fc"));
        let credentials = basic(&header).unwrap();
        assert_eq!((credentials.id.as_str(), credentials.raw_id), ("app", None));
        assert_eq!((credentials.secret.as_str(), credentials.raw_secret.as_deref()), ("a b/c", Some("a+b%2Fc")));
    }

    #[test]
    fn an_ampersand_belongs_to_the_credential() {
        // found by the fuzz target (fuzz/corpus/form_basic/regression-basic-ampersand): "a&r:b" gave client "a"
        assert_eq!(basic_credentials("BASIC YSZyOmI="), Some(("a&r".into(), "b".into())));
        let header = format!("Basic {}", STANDARD.encode("app:s3cret&anything"));
        assert_eq!(basic_credentials(&header), Some(("app".into(), "s3cret&anything".into())));
    }
}
