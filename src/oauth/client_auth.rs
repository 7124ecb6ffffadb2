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

/// Credentials from an `Authorization: Basic` header: both parts are form-encoded (§2.3.1).
/// Public for the fuzz target `fuzz/fuzz_targets/form_basic.rs`.
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    // RFC 7235 §2.1: the scheme name is case-insensitive
    let encoded = header.get(..6).filter(|scheme| scheme.eq_ignore_ascii_case("basic ")).map(|_| &header[6..])?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    // A raw `&` is a character of the credential, not a separator: unescaped, `secret&junk`
    // decoded as `secret` and passed (found by fuzz/fuzz_targets/form_basic.rs).
    let unescape = |s: &str| {
        let s = s.replace('&', "%26");
        form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// Identifies and authenticates the calling client.
pub fn authenticate(
    realm: &RealmContext,
    authorization: Option<&str>,
    form: &FormParams,
    master: &MasterKey,
) -> Result<Arc<Client>, OAuthError> {
    let basic = match authorization {
        Some(header) if header.to_ascii_lowercase().starts_with("basic ") => Some(
            basic_credentials(header)
                .ok_or_else(|| invalid_client(true, "Invalid Authorization header"))?,
        ),
        _ => None,
    };
    let uses_basic = basic.is_some();
    let (client_id, secret) = match basic {
        Some((id, secret)) => {
            if form.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::InvalidRequest("client_id in the body differs from the Authorization header".into()));
            }
            if form.get("client_secret").is_some() {
                return Err(OAuthError::InvalidRequest("more than one client authentication method used".into()));
            }
            (id, Some(secret))
        }
        None => {
            let id = form
                .get("client_id")
                .ok_or_else(|| invalid_client(false, "Missing parameter: client_id"))?;
            (id.to_string(), form.get("client_secret").map(str::to_string))
        }
    };
    let client = realm.client(&client_id).ok_or_else(|| invalid_client(uses_basic, INVALID_CLIENT))?;
    if !client.enabled {
        return Err(invalid_client(uses_basic, INVALID_CLIENT));
    }
    if client.public_client {
        return Ok(client);
    }
    let presented = secret.ok_or_else(|| invalid_client(uses_basic, INVALID_CLIENT))?;
    let expected = client
        .secret_sealed
        .as_ref()
        .and_then(|sealed| master.open(sealed, &client.secret_aad()).ok())
        .ok_or_else(|| invalid_client(uses_basic, INVALID_CLIENT))?;
    if constant_time_eq(presented.as_bytes(), &expected) {
        Ok(client)
    } else {
        Err(invalid_client(uses_basic, INVALID_CLIENT))
    }
}

fn invalid_client(basic_auth: bool, description: &str) -> OAuthError {
    OAuthError::InvalidClient { description: description.to_string(), basic_auth }
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
    fn an_ampersand_belongs_to_the_credential() {
        // found by the fuzz target (fuzz/corpus/form_basic/regression-basic-ampersand): "a&r:b" gave client "a"
        assert_eq!(basic_credentials("BASIC YSZyOmI="), Some(("a&r".into(), "b".into())));
        let header = format!("Basic {}", STANDARD.encode("app:s3cret&anything"));
        assert_eq!(basic_credentials(&header), Some(("app".into(), "s3cret&anything".into())));
    }
}
