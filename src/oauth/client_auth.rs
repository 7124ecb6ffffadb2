//! Client authentication at the token, revocation, introspection and PAR endpoints (RFC 6749
//! §2.3): `client_secret_basic`, `client_secret_post`, a public client naming itself, or a JWT
//! assertion (RFC 7523: `private_key_jwt`, `client_secret_jwt`; see `client_assertion`). A
//! confidential client authenticates only by its `clientAuthenticatorType`'s method, as in
//! Keycloak. Secrets are opened from their sealed form and compared in constant time.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::client_assertion::{self, Keys, ASSERTION_TYPE, CLIENT_JWT, CLIENT_SECRET_JWT};
use super::client_keys::ClientKeys;
use super::request::FormParams;
use super::OAuthError;
use crate::clock::UnixTime;
use crate::crypto::{constant_time_eq, MasterKey};
use crate::domain::Client;
use crate::realm::RealmContext;
use crate::store::Store;

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
    if presented.is_empty() || uses_assertions(&client) {
        return Err(invalid_client(INVALID_CLIENT));
    }
    let expected = secret_of(&client, master)?;
    // every candidate is compared, so the time does not tell which form matched
    let matched = presented.iter().fold(false, |any, candidate| any | constant_time_eq(candidate.as_bytes(), &expected));
    if matched {
        Ok(client)
    } else {
        Err(invalid_client(INVALID_CLIENT))
    }
}

fn secret_of(client: &Client, master: &MasterKey) -> Result<Vec<u8>, OAuthError> {
    client
        .secret_sealed
        .as_ref()
        .and_then(|sealed| master.open(sealed, &client.secret_aad()).ok())
        .ok_or_else(|| invalid_client(INVALID_CLIENT))
}

/// Whether the client authenticates with a JWT assertion only (Keycloak's `client-jwt` and
/// `client-secret-jwt` authenticators).
pub fn uses_assertions(client: &Client) -> bool {
    matches!(client.settings.client_authenticator_type.as_str(), CLIENT_JWT | CLIENT_SECRET_JWT)
}

/// Whether the request authenticates with `client_assertion` (RFC 7523 §2.2).
pub fn has_assertion(form: &FormParams) -> bool {
    form.get("client_assertion").is_some() || form.get("client_assertion_type").is_some()
}

/// RFC 7523 §3 client authentication: the assertion names its client, whose authenticator
/// decides the keys; `audiences` are the URLs the assertion may be meant for (the issuer and
/// the endpoints); its jti is spent in the store, so a replay fails on every node.
pub async fn authenticate_assertion(
    realm: &RealmContext,
    form: &FormParams,
    master: &MasterKey,
    keys: &ClientKeys,
    store: &dyn Store,
    audiences: &[String],
    now: UnixTime,
) -> Result<Arc<Client>, OAuthError> {
    if form.get("client_assertion_type") != Some(ASSERTION_TYPE) {
        return Err(invalid_client("Parameter client_assertion_type is missing or has wrong value"));
    }
    if form.get("client_secret").is_some() {
        return Err(OAuthError::InvalidRequest("more than one client authentication method used".into()));
    }
    let assertion = form.get("client_assertion").ok_or_else(|| invalid_client("client_assertion parameter missing"))?;
    let named = client_assertion::named_client(assertion).ok_or_else(|| invalid_client("Invalid client assertion"))?;
    if form.get("client_id").is_some_and(|id| id != named) {
        return Err(invalid_client("client_id does not match the client assertion"));
    }
    let client = realm.client(&named).filter(|c| c.enabled).ok_or_else(|| invalid_client(INVALID_CLIENT))?;
    let verified = match client.settings.client_authenticator_type.as_str() {
        CLIENT_SECRET_JWT => {
            let secret = secret_of(&client, master)?;
            client_assertion::verify(assertion, &client.client_id, &Keys::Secret(&secret), audiences, now)?
        }
        CLIENT_JWT => {
            let set = keys.keys(&client, client_assertion::key_id(assertion).as_deref()).await?;
            client_assertion::verify(assertion, &client.client_id, &Keys::Public(&set), audiences, now)?
        }
        _ => return Err(invalid_client("The client does not authenticate with signed JWTs")),
    };
    match store.use_action_token(&realm.realm.id, &verified.jti_hash, verified.exp).await {
        Ok(true) => Ok(client),
        Ok(false) => Err(invalid_client("Token reuse detected")),
        Err(e) => Err(e.into()),
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
