//! The OpenID Provider metadata document (OpenID Connect Discovery 1.0 §3, RFC 8414 §2) for a
//! realm, listing every endpoint at Keycloak's paths (DESIGN.md §1). Like Keycloak, the same
//! document answers at the OpenID and the RFC 8414 well-known paths. It advertises only what
//! works: no request objects, no mTLS.

use serde_json::{json, Value};

use crate::domain::SignatureAlgorithm;

/// `issuer` is `{base}/realms/{realm}`; `scopes` the realm's OpenID Connect client scopes that
/// go into a token's `scope` (Keycloak lists these, and `openid`).
pub fn openid_configuration(issuer: &str, scopes: &[String]) -> Value {
    let scopes_supported: Vec<&str> = std::iter::once("openid").chain(scopes.iter().map(String::as_str)).collect();
    let oidc = format!("{issuer}/protocol/openid-connect");
    let signing: Vec<&str> = SignatureAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    // "none": an unsigned JSON answer, the default (Keycloak lists it too)
    let userinfo_signing: Vec<&str> = signing.iter().copied().chain(["none"]).collect();
    let auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"];
    let assertion_algs: Vec<&str> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "HS256", "HS384", "HS512"].to_vec();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{oidc}/auth"),
        "token_endpoint": format!("{oidc}/token"),
        "introspection_endpoint": format!("{oidc}/token/introspect"),
        "userinfo_endpoint": format!("{oidc}/userinfo"),
        "end_session_endpoint": format!("{oidc}/logout"),
        "check_session_iframe": format!("{oidc}/login-status-iframe.html"),
        "revocation_endpoint": format!("{oidc}/revoke"),
        "pushed_authorization_request_endpoint": format!("{oidc}/ext/par/request"),
        "device_authorization_endpoint": format!("{oidc}/auth/device"),
        "require_pushed_authorization_requests": false,
        "jwks_uri": format!("{oidc}/certs"),
        "account_service": format!("{issuer}/account"),
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "grant_types_supported": ["authorization_code", "refresh_token", "password", "client_credentials",
            crate::oauth::device::GRANT_TYPE, crate::oauth::grants::token_exchange::GRANT_TYPE],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": signing,
        "userinfo_signing_alg_values_supported": userinfo_signing,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "code_challenge_methods_supported": ["plain", "S256"],
        "dpop_signing_alg_values_supported": crate::oauth::dpop::ALGORITHMS,
        "scopes_supported": scopes_supported,
        "acr_values_supported": ["0", "1"],
        "claims_supported": [
            "aud", "sub", "iss", "auth_time", "name", "given_name", "family_name",
            "preferred_username", "email", "email_verified", "acr", "azp", "sid", "nonce"
        ],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "tls_client_certificate_bound_access_tokens": false,
        "authorization_response_iss_parameter_supported": true,
    })
}
