//! Pushed Authorization Requests (RFC 9126) at Keycloak's
//! `.../protocol/openid-connect/ext/par/request`: an authenticated client POSTs the parameters of
//! an authorization request, which are validated as the authorization endpoint would (§2.1), and
//! gets a `request_uri` to send the browser with (§2.2). The request_uri is self-contained: the
//! parameters sealed under the master key (AES-GCM, bound to the realm), so nothing is stored when
//! it is pushed; its single use at the authorization endpoint is recorded in the store (the
//! action-token table), so every node refuses a second use (§4: "one-time use"). A client with
//! `require.pushed.authorization.requests` may only start a login this way. A DPoP proof sent
//! with the push binds the code to its key (RFC 9449 §10.1).

use serde::{Deserialize, Serialize};

use super::authorize::{self, PageError, RedirectError, Validated};
use super::dpop;
use super::request::FormParams;
use super::OAuthError;
use crate::clock::UnixTime;
use crate::crypto::MasterKey;
use crate::domain::Client;
use crate::realm::RealmContext;
use crate::store::Store;
use crate::web::cookies;

/// RFC 9126 §2.2.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// Seconds a request_uri is valid unless the realm attribute `parRequestUriLifespan` says
/// otherwise: Keycloak's default (one minute).
pub const REQUEST_URI_LIFESPAN: i64 = 60;
/// The longest lifespan honoured (a request_uri is a bearer of the request for its lifetime).
pub const MAX_REQUEST_URI_LIFESPAN: i64 = 3600;
/// Keycloak's client attribute.
pub const REQUIRE_PAR: &str = "require.pushed.authorization.requests";
/// The pushed parameters kept at most (bytes of the form, client credentials removed): the
/// sealed request_uri must stay a URL every browser and proxy carries.
pub const MAX_PUSHED_FORM: usize = 4096;
/// Keycloak's text when a request_uri is unknown, expired or used.
pub const NOT_FOUND: &str = "PAR not found. not issued or used multiple times.";
/// Keycloak's text when a client that requires PAR sends a plain authorization request.
pub const PAR_ONLY: &str = "Pushed Authorization Request is only allowed.";

const SEAL_PURPOSE: &str = "par";
/// Client-authentication parameters, never kept in the request_uri.
const CREDENTIAL_PARAMS: [&str; 4] = ["client_secret", "client_assertion", "client_assertion_type", "request_uri"];

#[derive(Serialize, Deserialize)]
struct Pushed {
    client_id: String,
    /// The authorization request's parameters, form-encoded.
    form: String,
    exp: UnixTime,
    jti: String,
}

pub fn required(client: &Client) -> bool {
    client.attributes.get(REQUIRE_PAR).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// §2.1-2.2: validates the pushed request of `client` (authenticated) and returns the
/// request_uri and its lifetime. Errors are §2.3's JSON answers. `proven`: the thumbprint of the
/// push's DPoP proof (RFC 9449 §10.1), which binds the code as `dpop_jkt` does and must equal a
/// `dpop_jkt` sent with it.
pub fn push(
    realm: &RealmContext,
    client: &Client,
    form: &FormParams,
    proven: Option<&str>,
    master: &MasterKey,
    now: UnixTime,
) -> Result<(String, i64), OAuthError> {
    if form.get("request_uri").is_some() {
        return Err(OAuthError::InvalidRequest("It is not allowed to include request_uri to PAR.".into()));
    }
    if form.get("client_id").is_some_and(|id| id != client.client_id) {
        return Err(OAuthError::InvalidRequest("client_id does not match the authenticated client".into()));
    }
    let mut kept = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form.iter().filter(|(name, _)| !CREDENTIAL_PARAMS.contains(name)) {
        kept.append_pair(name, value);
    }
    if form.get("client_id").is_none() {
        kept.append_pair("client_id", &client.client_id);
    }
    match (proven, form.get("dpop_jkt")) {
        (Some(jkt), None) => {
            kept.append_pair("dpop_jkt", jkt);
        }
        (Some(jkt), Some(asked)) if asked != jkt => return Err(dpop::jkt_mismatch()),
        _ => {}
    }
    let kept = kept.finish();
    if kept.len() > MAX_PUSHED_FORM {
        return Err(OAuthError::InvalidRequest(format!("The pushed request is larger than {MAX_PUSHED_FORM} bytes")));
    }
    let params = FormParams::parse(kept.as_bytes())?;
    match authorize::validate(realm, &params) {
        Err(PageError(message)) => return Err(OAuthError::InvalidRequest(message)),
        Ok(Validated::Redirect(_, _, error)) => return Err(as_oauth(error)),
        Ok(Validated::Ok(..)) => {}
    }
    let lifespan = lifespan(realm);
    let pushed = Pushed { client_id: client.client_id.clone(), form: kept, exp: now + lifespan, jti: crate::domain::new_id() };
    let sealed = cookies::seal(master, SEAL_PURPOSE, &realm.realm.name, &pushed);
    Ok((format!("{REQUEST_URI_PREFIX}{sealed}"), lifespan))
}

/// The realm's `parRequestUriLifespan` (seconds, Keycloak's realm attribute), within bounds.
fn lifespan(realm: &RealmContext) -> i64 {
    realm
        .realm
        .settings
        .attributes
        .get("parRequestUriLifespan")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v > 0)
        .map_or(REQUEST_URI_LIFESPAN, |v| v.min(MAX_REQUEST_URI_LIFESPAN))
}

/// At the authorization endpoint: `Ok(None)` when the request names no request_uri, else the
/// pushed parameters once their single use is recorded. The request's own `client_id` must be
/// the pushing client's (§4); its other parameters are ignored, as Keycloak ignores them.
pub async fn resolve(
    store: &dyn Store,
    realm: &RealmContext,
    master: &MasterKey,
    params: &FormParams,
    now: UnixTime,
) -> Result<Option<FormParams>, String> {
    let Some(uri) = params.get("request_uri") else { return Ok(None) };
    let pushed: Pushed = uri
        .strip_prefix(REQUEST_URI_PREFIX)
        .and_then(|sealed| cookies::open(master, SEAL_PURPOSE, &realm.realm.name, sealed))
        .filter(|p: &Pushed| p.exp > now)
        .ok_or_else(|| NOT_FOUND.to_string())?;
    if params.get("client_id") != Some(pushed.client_id.as_str()) {
        return Err("Invalid parameter: client_id".into());
    }
    let jti_hash = crate::crypto::sha256_hex(pushed.jti.as_bytes());
    match store.use_action_token(&realm.realm.id, &jti_hash, pushed.exp).await {
        Ok(true) => {}
        Ok(false) => return Err(NOT_FOUND.into()),
        Err(e) => {
            tracing::error!(error = %e, "cannot record the use of a request_uri");
            return Err("The service is temporarily unavailable. Try again later.".into());
        }
    }
    FormParams::parse(pushed.form.as_bytes()).map(Some).map_err(|_| NOT_FOUND.to_string())
}

/// §2.3: the authorization endpoint's error, as the JSON answer of the push.
fn as_oauth(error: RedirectError) -> OAuthError {
    match error.error {
        "invalid_scope" => OAuthError::InvalidScope(error.description),
        "unauthorized_client" => OAuthError::UnauthorizedClient(error.description),
        _ => OAuthError::InvalidRequest(error.description),
    }
}
