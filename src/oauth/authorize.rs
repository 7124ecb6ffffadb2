//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2, RFC 7636 §4.3) validated
//! before anything is shown: an unknown client or an unregistered redirect_uri is an error page
//! and never a redirect (no open redirect); every later error goes back to the client with
//! `error`, `error_description`, `state` and `iss` (RFC 9207).

use std::sync::Arc;

use super::pkce;
use super::request::FormParams;
use super::scope::{Scope, OFFLINE_ACCESS};
use crate::domain::Client;
use crate::realm::RealmContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Prompt {
    None,
    Login,
    Consent,
}

/// A validated authorization request.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<Prompt>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub response_mode: ResponseMode,
    /// The user code of the device authorization (RFC 8628) this login approves, typed on the
    /// device page; such a request has no redirect URI, and its outcome is a page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// RFC 9449 §10: the thumbprint of the DPoP key the code must be redeemed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

/// An error shown as a page: the request cannot be trusted to redirect anywhere.
#[derive(Debug, Clone, PartialEq)]
pub struct PageError(pub String);

/// An error returned to the client's redirect URI.
#[derive(Debug, Clone, PartialEq)]
pub struct RedirectError {
    pub error: &'static str,
    pub description: String,
}

impl RedirectError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self { error, description: description.into() }
    }
}

/// What validation concluded before the user is involved.
#[derive(Debug)]
pub enum Validated {
    Ok(Arc<Client>, AuthorizationRequest),
    /// Redirect to the client with this error; the request is kept for `state` and the mode.
    Redirect(Arc<Client>, AuthorizationRequest, RedirectError),
}

/// Keycloak's rule: an exact match, or a registered URI ending in `*` matching as a prefix.
pub fn redirect_uri_allowed(client: &Client, uri: &str) -> bool {
    uri_matches_any(client.redirect_uris.iter().map(String::as_str), uri)
}

/// Schemes a redirect URI may never have: a browser sent there runs or reads something instead
/// of reaching an application (issue 13 item 12).
const FORBIDDEN_SCHEMES: &[&str] = &["javascript", "data", "vbscript", "file"];

/// The scheme of a URI, lower-cased, when it has one.
fn scheme_of(uri: &str) -> Option<String> {
    let (scheme, _) = uri.split_once(':')?;
    let valid = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

/// Why a URI may not be registered as a redirect URI (or a post-logout one), or `None` when it
/// may: not empty, no fragment (RFC 6749 §3.1.2), no scheme that runs code or reads files.
/// Browsers ignore leading blanks and control characters, so they count as part of the scheme.
pub fn unregistrable_redirect_uri(uri: &str) -> Option<String> {
    if uri.trim().is_empty() {
        return Some("A redirect URI must not be empty".into());
    }
    if uri.contains('#') {
        return Some("A redirect URI must not contain a fragment".into());
    }
    let cleaned: String = uri.chars().filter(|c| !c.is_control() && !c.is_whitespace()).collect();
    match scheme_of(&cleaned) {
        Some(scheme) if FORBIDDEN_SCHEMES.contains(&scheme.as_str()) => {
            Some(format!("A redirect URI must not use the {scheme}: scheme"))
        }
        _ => None,
    }
}

/// Matches `uri` against registered URIs (exact, or a prefix ending in `*`). A wildcard match
/// also requires a URI that parses, is http(s) (a custom scheme must be registered exactly, as
/// in Keycloak 23+), and has no user info, fragment, backslash or control character, so
/// `http://127.0.0.1:*` cannot be escaped with `http://127.0.0.1:@evil.example/` (Keycloak's
/// CVE-2023-6291). A loopback URI matches whatever its port (RFC 8252 §7.3): Keycloak drops the
/// port of 127.0.0.1, [::1] and localhost and matches again. No match is ever a forbidden scheme.
pub fn uri_matches_any<'a>(registered: impl IntoIterator<Item = &'a str> + Clone, uri: &str) -> bool {
    if unregistrable_redirect_uri(uri).is_some() {
        return false;
    }
    let matches = |candidate: &str| {
        registered.clone().into_iter().any(|r| match r.strip_suffix('*') {
            Some(prefix) => candidate.starts_with(prefix) && safe_for_prefix_match(candidate),
            None => r == candidate,
        })
    };
    matches(uri) || without_loopback_port(uri).is_some_and(|portless| matches(&portless))
}

/// `http://127.0.0.1:49152/cb` as `http://127.0.0.1/cb` (also `[::1]` and `localhost`), or
/// `None` when the URI is no loopback URI with a port.
fn without_loopback_port(uri: &str) -> Option<String> {
    ["http://127.0.0.1:", "http://[::1]:", "http://localhost:"].iter().find_map(|prefix| {
        let rest = uri.strip_prefix(prefix)?;
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let after = &rest[digits..];
        let ends_authority = after.is_empty() || after.starts_with(['/', '?']);
        (digits > 0 && ends_authority).then(|| format!("{}{after}", &prefix[..prefix.len() - 1]))
    })
}

fn safe_for_prefix_match(uri: &str) -> bool {
    if uri.contains(['\\', '#']) || uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    match url::Url::parse(uri) {
        Ok(parsed) => {
            matches!(parsed.scheme(), "http" | "https")
                && parsed.username().is_empty()
                && parsed.password().is_none()
                && parsed.fragment().is_none()
        }
        Err(_) => false,
    }
}

fn pkce_required(client: &Client) -> Option<&str> {
    client.attributes.get("pkce.code.challenge.method").map(String::as_str).filter(|m| !m.is_empty())
}

pub fn validate(realm: &RealmContext, params: &FormParams) -> Result<Validated, PageError> {
    let client_id = params.get("client_id").ok_or_else(|| PageError("Missing parameter: client_id".into()))?;
    let client = realm
        .client(client_id)
        .filter(|c| c.enabled)
        .ok_or_else(|| PageError("Client not found.".into()))?;
    if client.bearer_only {
        return Err(PageError("Bearer-only clients cannot log users in.".into()));
    }
    let redirect_uri = match params.get("redirect_uri") {
        Some(uri) => uri.to_string(),
        // Keycloak: without redirect_uri, a single exact registered URI is used
        None => match client.redirect_uris.as_slice() {
            [only] if !only.ends_with('*') => only.clone(),
            _ => return Err(PageError("Invalid parameter: redirect_uri".into())),
        },
    };
    if !redirect_uri_allowed(&client, &redirect_uri) {
        return Err(PageError("Invalid parameter: redirect_uri".into()));
    }
    let response_mode = match params.get("response_mode") {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("fragment") => Ok(ResponseMode::Fragment),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some(_) => Err(RedirectError::new("invalid_request", "Invalid parameter: response_mode")),
    };
    let mut request = AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        scope: String::new(),
        state: params.get("state").map(str::to_string),
        nonce: params.get("nonce").map(str::to_string),
        code_challenge: params.get("code_challenge").map(str::to_string),
        code_challenge_method: params.get("code_challenge_method").map(str::to_string),
        prompt: None,
        max_age: None,
        login_hint: params.get("login_hint").map(|h| h.chars().take(255).collect()),
        response_mode: *response_mode.as_ref().unwrap_or(&ResponseMode::Query),
        device: None,
        dpop_jkt: params.get("dpop_jkt").map(str::to_string),
    };
    if let Err(error) = response_mode {
        return Ok(Validated::Redirect(client, request, error));
    }
    match check(realm, &client, params, &mut request) {
        Ok(()) => Ok(Validated::Ok(client, request)),
        Err(error) => Ok(Validated::Redirect(client, request, error)),
    }
}

fn check(realm: &RealmContext, client: &Client, params: &FormParams, request: &mut AuthorizationRequest) -> Result<(), RedirectError> {
    match params.get("response_type") {
        Some("code") => {}
        None => return Err(RedirectError::new("invalid_request", "Missing parameter: response_type")),
        Some(_) => {
            return Err(RedirectError::new("unsupported_response_type", "Client is not allowed to initiate browser login with given response_type."))
        }
    }
    if !client.standard_flow_enabled {
        return Err(RedirectError::new(
            "unauthorized_client",
            "Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client.",
        ));
    }
    let scope = Scope::grant(realm.scopes.of_client(&client.id), params.get("scope")).map_err(|e| {
        RedirectError::new("invalid_scope", e.description().unwrap_or("Invalid scopes").to_string())
    })?;
    // every selected scope, so an optional one left out of the token string survives the code
    request.scope = scope.granted_string();
    if request.dpop_jkt.as_deref().is_some_and(|jkt| jkt.len() != 43 || !jkt.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')) {
        return Err(RedirectError::new("invalid_request", "Invalid parameter: dpop_jkt"));
    }
    request.prompt = match params.get("prompt") {
        None => None,
        Some("none") => Some(Prompt::None),
        Some("login") => Some(Prompt::Login),
        Some("consent") => Some(Prompt::Consent),
        Some(_) => return Err(RedirectError::new("invalid_request", "Invalid parameter: prompt")),
    };
    request.max_age = match params.get("max_age") {
        None => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            RedirectError::new("invalid_request", "Invalid parameter: max_age")
        })?),
    };
    let method = match (&request.code_challenge, request.code_challenge_method.as_deref()) {
        (None, Some(_)) => return Err(RedirectError::new("invalid_request", "Missing parameter: code_challenge")),
        (None, None) => None,
        (Some(challenge), method) => {
            let method = pkce::Method::parse(method.unwrap_or("plain"))
                .ok_or_else(|| RedirectError::new("invalid_request", "Invalid parameter: code_challenge_method"))?;
            if !pkce::valid_challenge(challenge) {
                return Err(RedirectError::new("invalid_request", "Invalid parameter: code_challenge"));
            }
            request.code_challenge_method = Some(if method == pkce::Method::S256 { "S256" } else { "plain" }.into());
            Some(method)
        }
    };
    match (pkce_required(client), method) {
        (Some(_), None) => Err(RedirectError::new("invalid_request", "Missing parameter: code_challenge_method")),
        (Some("S256"), Some(pkce::Method::Plain)) => {
            Err(RedirectError::new("invalid_request", "Invalid parameter: code challenge method is not configured one"))
        }
        _ => Ok(()),
    }
}

/// The client scopes the consent page asks for (Keycloak's `getClientScopesToApproveOnConsentScreen`):
/// the selected scopes shown on the consent screen that the user has not granted the client yet
/// (`granted`: the stored consent's scope names), all of them under `prompt=consent`. Empty when
/// no consent is needed: the client does not require it, no offline token is asked for (OIDC
/// Core §11: offline access always asks) and it is no device's login (Keycloak asks for consent
/// on every device authorization).
pub fn scopes_to_approve(
    realm: &RealmContext,
    client: &Client,
    request: &AuthorizationRequest,
    granted: Option<&str>,
) -> Vec<Arc<crate::domain::scopes::ClientScope>> {
    let scope = Scope::regrant(realm.scopes.of_client(&client.id), &request.scope);
    let consent_required = client.consent_required || request.device.is_some();
    if !consent_required && !scope.is_offline() {
        return Vec::new();
    }
    let granted: Vec<&str> = match granted {
        Some(granted) if request.prompt != Some(Prompt::Consent) => granted.split_whitespace().collect(),
        _ => Vec::new(),
    };
    scope
        .selected()
        .iter()
        // without consentRequired, only offline access is asked for
        .filter(|s| if consent_required { s.display_on_consent_screen() } else { s.name == OFFLINE_ACCESS })
        .filter(|s| !granted.contains(&s.name.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(uris: &[&str]) -> Client {
        Client { redirect_uris: uris.iter().map(|u| u.to_string()).collect(), ..Client::for_tests("app") }
    }

    #[test]
    fn redirect_uris_match_exactly_or_by_a_registered_wildcard() {
        let c = client(&["https://app.example/cb", "https://spa.example/*"]);
        assert!(redirect_uri_allowed(&c, "https://app.example/cb"));
        assert!(!redirect_uri_allowed(&c, "https://app.example/cb/../evil"));
        assert!(!redirect_uri_allowed(&c, "https://app.example/cbx"));
        assert!(redirect_uri_allowed(&c, "https://spa.example/any/path?x=1"));
        assert!(!redirect_uri_allowed(&c, "https://spa.example.evil.com/"));
    }

    #[test]
    fn code_running_schemes_never_match_and_a_wildcard_matches_only_http() {
        let c = client(&["*", "myapp:/*", "myapp:/callback", "javascript:alert(1)"]);
        for uri in ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:x", "data:text/html,x",
                    "vbscript:x", "file:///etc/passwd"] {
            assert!(!redirect_uri_allowed(&c, uri), "{uri}");
        }
        assert!(redirect_uri_allowed(&c, "https://any.example/cb"), "a lone * still matches http(s)");
        assert!(!redirect_uri_allowed(&c, "myapp:/other"), "no wildcard for a custom scheme");
        assert!(redirect_uri_allowed(&c, "myapp:/callback"), "registered exactly, it matches");
        assert_eq!(unregistrable_redirect_uri("javascript:alert(1)").as_deref(), Some("A redirect URI must not use the javascript: scheme"));
        assert!(unregistrable_redirect_uri(" DATA:text/html,x").is_some());
        assert!(unregistrable_redirect_uri("com.example.app:/oauth2redirect").is_none());
    }

    #[test]
    fn a_loopback_uri_matches_whatever_its_port() {
        let c = client(&["http://127.0.0.1/cb", "http://[::1]/cb", "http://localhost/cb"]);
        assert!(redirect_uri_allowed(&c, "http://127.0.0.1:49152/cb"));
        assert!(redirect_uri_allowed(&c, "http://[::1]:8080/cb"));
        assert!(redirect_uri_allowed(&c, "http://localhost:3000/cb"));
        assert!(!redirect_uri_allowed(&c, "http://127.0.0.1:49152/other"));
        assert!(!redirect_uri_allowed(&c, "http://127.0.0.1:80@evil.example/cb"));
        assert!(!redirect_uri_allowed(&c, "https://127.0.0.1:443/cb"), "only plain http loopback (RFC 8252 §7.3)");
        assert!(!redirect_uri_allowed(&client(&["https://app.example/cb"]), "https://app.example:8443/cb"), "other hosts keep their port");
    }

    #[test]
    fn a_wildcard_cannot_be_escaped_through_user_info_or_backslashes() {
        let c = client(&["http://127.0.0.1:*"]);
        assert!(redirect_uri_allowed(&c, "http://127.0.0.1:8080/cb"));
        assert!(!redirect_uri_allowed(&c, "http://127.0.0.1:@evil.example/cb"));
        assert!(!redirect_uri_allowed(&c, "http://127.0.0.1:80@evil.example/cb"));
        assert!(!redirect_uri_allowed(&c, "http://127.0.0.1:8080\\@evil.example/cb"));
        assert!(!redirect_uri_allowed(&c, "http://127.0.0.1:8080.evil.example/cb"));
    }
}
