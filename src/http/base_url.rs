//! The public base URL of a request, from which issuers and endpoint URLs are built: the
//! configured `hostname` when set, else the request's authority (the URI's, as HTTP/2's
//! `:authority` and HTTP/1.1's absolute form carry it, then the Host header), corrected by
//! `Forwarded` or `X-Forwarded-*` only when `proxy-headers` says a trusted proxy sets them.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};

use crate::app::AppState;
use crate::config::{ProxyHeaders, Settings};
use crate::oauth::OAuthError;

pub struct BaseUrl(pub String);

impl BaseUrl {
    pub fn issuer(&self, realm: &str) -> String {
        format!("{}/realms/{}", self.0, realm)
    }
}

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = OAuthError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(hostname) = &state.settings.hostname {
            return Ok(BaseUrl(hostname.clone()));
        }
        resolve(&parts.uri, &parts.headers, transport_scheme(&state.settings), state.settings.proxy_headers)
            .map(BaseUrl)
            .ok_or_else(|| OAuthError::InvalidRequest("missing or invalid Host header".into()))
    }
}

/// The scheme of the connection itself: every connection is TLS when we serve HTTPS.
fn transport_scheme(settings: &Settings) -> &'static str {
    if settings.tls.is_some() {
        "https"
    } else {
        "http"
    }
}

/// Whether the client reached us over HTTPS: our own TLS, or an `https` public URL (`hostname`,
/// or without it the scheme a trusted proxy reports).
pub fn served_over_https(uri: &Uri, headers: &HeaderMap, settings: &Settings) -> bool {
    settings.tls.is_some()
        || match &settings.hostname {
            Some(hostname) => hostname.starts_with("https://"),
            None => public(uri, headers, "http", settings.proxy_headers).0 == "https",
        }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// A host (with optional port) made only of characters a hostname or IP literal can hold.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
}

pub fn resolve(uri: &Uri, headers: &HeaderMap, default_scheme: &str, proxy: ProxyHeaders) -> Option<String> {
    let (scheme, host) = public(uri, headers, default_scheme, proxy);
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = host.filter(|h| valid_host(h))?;
    Some(format!("{scheme}://{host}"))
}

/// The scheme and host the client used, unchecked. RFC 9112 §3.2.2 and RFC 9113 §8.3.1: an
/// authority in the request target wins over Host (HTTP/2 requests have no Host header at all).
fn public(uri: &Uri, headers: &HeaderMap, default_scheme: &str, proxy: ProxyHeaders) -> (String, Option<String>) {
    let mut scheme = default_scheme.to_string();
    let mut host = uri.authority().map(|a| a.as_str().to_string()).or_else(|| header(headers, "host").map(str::to_string));
    match proxy {
        ProxyHeaders::None => {}
        ProxyHeaders::Forwarded => {
            // RFC 7239: the first element describes the client-facing proxy
            if let Some(first) = header(headers, "forwarded").and_then(|v| v.split(',').next()) {
                for pair in first.split(';') {
                    let Some((key, value)) = pair.split_once('=') else { continue };
                    let value = value.trim().trim_matches('"');
                    match key.trim().to_ascii_lowercase().as_str() {
                        "proto" => scheme = value.to_ascii_lowercase(),
                        "host" => host = Some(value.to_string()),
                        _ => {}
                    }
                }
            }
        }
        ProxyHeaders::XForwarded => {
            if let Some(proto) = header(headers, "x-forwarded-proto").and_then(|v| v.split(',').next()) {
                scheme = proto.trim().to_ascii_lowercase();
            }
            if let Some(forwarded_host) = header(headers, "x-forwarded-host").and_then(|v| v.split(',').next()) {
                host = Some(forwarded_host.trim().to_string());
            }
            if let (Some(port), Some(h)) = (header(headers, "x-forwarded-port"), host.as_mut()) {
                if !h.contains(':') && port.chars().all(|c| c.is_ascii_digit()) {
                    let default_port = (scheme == "https" && port == "443") || (scheme == "http" && port == "80");
                    if !default_port {
                        h.push(':');
                        h.push_str(port);
                    }
                }
            }
        }
    }
    (scheme, host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    fn path() -> Uri {
        Uri::from_static("/realms/master/.well-known/openid-configuration")
    }

    #[test]
    fn proxy_headers_are_ignored_unless_trusted() {
        let h = headers(&[("host", "internal:8080"), ("x-forwarded-host", "evil.example"), ("x-forwarded-proto", "https")]);
        assert_eq!(resolve(&path(), &h, "http", ProxyHeaders::None).unwrap(), "http://internal:8080");
        assert_eq!(resolve(&path(), &h, "http", ProxyHeaders::XForwarded).unwrap(), "https://evil.example");
    }

    #[test]
    fn forwarded_header_sets_scheme_and_host() {
        let h = headers(&[("host", "internal"), ("forwarded", "for=1.2.3.4;proto=https;host=auth.example.com")]);
        assert_eq!(resolve(&path(), &h, "http", ProxyHeaders::Forwarded).unwrap(), "https://auth.example.com");
    }

    #[test]
    fn a_host_with_a_path_or_spaces_is_refused() {
        assert!(resolve(&path(), &headers(&[("host", "a.com/evil")]), "http", ProxyHeaders::None).is_none());
        assert!(resolve(&path(), &HeaderMap::new(), "http", ProxyHeaders::None).is_none());
    }

    #[test]
    fn the_authority_of_the_request_target_wins_over_host() {
        let h2 = Uri::from_static("https://auth.example.com:8443/realms/master");
        assert_eq!(resolve(&h2, &HeaderMap::new(), "https", ProxyHeaders::None).unwrap(), "https://auth.example.com:8443");
        let both = headers(&[("host", "other.example")]);
        assert_eq!(resolve(&h2, &both, "https", ProxyHeaders::None).unwrap(), "https://auth.example.com:8443");
        let userinfo = Uri::from_static("https://user@auth.example.com/realms/master");
        assert!(resolve(&userinfo, &HeaderMap::new(), "https", ProxyHeaders::None).is_none());
    }
}
