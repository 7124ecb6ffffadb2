//! Keycloak's defaults for a client created through the admin API, as one pure function over the
//! representation, in Keycloak's two steps (`ClientManager.createClient`):
//! `RepresentationToModel.createClient` always (the model's defaults: enabled and standard flow
//! on, every other flag off, confidential; protocol, nodeReRegistrationTimeout,
//! clientAuthenticatorType; web origins from redirect URIs), then
//! `OIDCLoginProtocolFactory.setupClientDefaults` **only when the body names a `protocol`** (as
//! the admin console always does): public unless told otherwise, direct access grants on, root
//! URL filling redirect URIs and admin URL, backchannel-logout attributes. Realm import keeps its
//! own defaults: files say what they mean.

use crate::domain::client::CLIENT_SECRET_AUTHENTICATOR;
use crate::realm::representation::ClientRepresentation;

/// Keycloak's `backchannel.logout.*` attributes a new client gets when it names no back-channel
/// logout URL.
const BACKCHANNEL_URL: &str = "backchannel.logout.url";
const BACKCHANNEL_DEFAULTS: &[(&str, &str)] =
    &[("backchannel.logout.session.required", "true"), ("backchannel.logout.revoke.offline.tokens", "false")];

/// `scheme://host[:port]` of an absolute http(s) URI (Keycloak's `UriUtils.getOrigin`).
fn origin_of(uri: &str) -> Option<String> {
    let parsed = url::Url::parse(uri.trim_end_matches('*')).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.origin().ascii_serialization())
}

/// The representation with every field Keycloak would default filled in. A secret given for a
/// client that ends up public is dropped, as Keycloak drops it.
pub fn with_keycloak_defaults(rep: &ClientRepresentation) -> ClientRepresentation {
    let mut out = rep.clone();
    // RepresentationToModel.createClient over the model's defaults
    out.public_client = Some(rep.public_client.unwrap_or(false));
    out.bearer_only = Some(rep.bearer_only.unwrap_or(false));
    out.protocol = Some(rep.protocol.clone().unwrap_or_else(|| "openid-connect".into()));
    out.standard_flow_enabled = Some(rep.standard_flow_enabled.unwrap_or(true));
    out.direct_access_grants_enabled = Some(rep.direct_access_grants_enabled.unwrap_or(false));
    out.implicit_flow_enabled = Some(rep.implicit_flow_enabled.unwrap_or(false));
    out.service_accounts_enabled = Some(rep.service_accounts_enabled.unwrap_or(false));
    out.frontchannel_logout = Some(rep.frontchannel_logout.unwrap_or(false));
    out.node_re_registration_timeout = Some(rep.node_re_registration_timeout.unwrap_or(-1));
    out.client_authenticator_type =
        Some(rep.client_authenticator_type.clone().unwrap_or_else(|| CLIENT_SECRET_AUTHENTICATOR.into()));
    let redirect_uris = rep.redirect_uris.clone().unwrap_or_default();
    out.web_origins = Some(rep.web_origins.clone().unwrap_or_else(|| {
        let mut origins: Vec<String> = Vec::new();
        for origin in redirect_uris.iter().filter(|u| u.starts_with("http")).filter_map(|u| origin_of(u)) {
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        origins
    }));
    out.redirect_uris = Some(redirect_uris);
    out.attributes = Some(rep.attributes.clone().unwrap_or_default());
    if rep.protocol.is_some() {
        setup_client_defaults(rep, &mut out);
    }
    if out.public_client == Some(true) {
        out.secret = None;
    }
    out
}

/// `OIDCLoginProtocolFactory.setupClientDefaults`: each default applies only where the body is
/// silent.
fn setup_client_defaults(rep: &ClientRepresentation, out: &mut ClientRepresentation) {
    if let Some(root) = rep.root_url.as_deref().filter(|r| !r.is_empty()) {
        if rep.redirect_uris.as_ref().is_none_or(Vec::is_empty) {
            let pattern = if root.ends_with('/') { format!("{root}*") } else { format!("{root}/*") };
            out.web_origins = Some(origin_of(&pattern).into_iter().collect());
            out.redirect_uris = Some(vec![pattern]);
        }
        if rep.admin_url.is_none() {
            out.admin_url = Some(root.to_string());
        }
    }
    // "if no client type provided, default to public client"
    out.public_client = Some(rep.public_client.unwrap_or(true));
    out.direct_access_grants_enabled = Some(rep.direct_access_grants_enabled.unwrap_or(true));
    let attributes = out.attributes.get_or_insert_with(Default::default);
    if !attributes.get(BACKCHANNEL_URL).is_some_and(|u| !u.is_empty()) {
        for (key, value) in BACKCHANNEL_DEFAULTS {
            attributes.entry((*key).to_string()).or_insert_with(|| (*value).to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(json: serde_json::Value) -> ClientRepresentation {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn without_a_protocol_a_client_gets_the_models_defaults_confidential() {
        let out = with_keycloak_defaults(&rep(serde_json::json!({"clientId": "x"})));
        assert_eq!((out.public_client, out.bearer_only), (Some(false), Some(false)));
        assert_eq!((out.standard_flow_enabled, out.direct_access_grants_enabled), (Some(true), Some(false)));
        assert_eq!(out.protocol.as_deref(), Some("openid-connect"));
        assert_eq!(out.node_re_registration_timeout, Some(-1));
        assert_eq!(out.attributes, Some(Default::default()), "no backchannel attributes without setupClientDefaults");
        let rooted = with_keycloak_defaults(&rep(serde_json::json!({"clientId": "x", "rootUrl": "https://a.example"})));
        assert_eq!(rooted.redirect_uris, Some(vec![]), "the root URL fills nothing without a protocol");
    }

    #[test]
    fn with_a_protocol_a_bare_client_is_public_with_standard_flow_and_direct_grants() {
        let out = with_keycloak_defaults(&rep(serde_json::json!({"clientId": "x", "protocol": "openid-connect", "secret": "s"})));
        assert_eq!(out.public_client, Some(true));
        assert!(out.secret.is_none(), "a public client keeps no secret");
        assert_eq!((out.standard_flow_enabled, out.direct_access_grants_enabled), (Some(true), Some(true)));
        assert_eq!((out.implicit_flow_enabled, out.frontchannel_logout), (Some(false), Some(false)));
        assert_eq!(out.client_authenticator_type.as_deref(), Some("client-secret"));
        let attributes = out.attributes.unwrap();
        assert_eq!(attributes["backchannel.logout.session.required"], "true");
        assert_eq!(attributes["backchannel.logout.revoke.offline.tokens"], "false");
    }

    #[test]
    fn the_root_url_fills_redirect_uris_web_origins_and_admin_url() {
        let out = with_keycloak_defaults(&rep(serde_json::json!({
            "clientId": "x", "protocol": "openid-connect", "rootUrl": "https://app.example:8443/base"
        })));
        assert_eq!(out.redirect_uris.unwrap(), ["https://app.example:8443/base/*"]);
        assert_eq!(out.web_origins.unwrap(), ["https://app.example:8443"]);
        assert_eq!(out.admin_url.as_deref(), Some("https://app.example:8443/base"));
        let given = with_keycloak_defaults(&rep(serde_json::json!({
            "clientId": "x", "redirectUris": ["https://a.example/cb", "https://a.example/other", "app:/cb"]
        })));
        assert_eq!(given.web_origins.unwrap(), ["https://a.example"], "origins of the http redirect URIs");
    }

    #[test]
    fn confidential_and_bearer_only_are_kept_when_given() {
        let out = with_keycloak_defaults(&rep(serde_json::json!({
            "clientId": "x", "protocol": "openid-connect", "publicClient": false, "secret": "s"
        })));
        assert_eq!((out.public_client, out.secret.is_some()), (Some(false), true));
        let out = with_keycloak_defaults(&rep(serde_json::json!({"clientId": "x", "publicClient": false, "bearerOnly": true})));
        assert_eq!(out.bearer_only, Some(true));
    }
}
