//! The public keys of `client-jwt` clients (RFC 7523 `private_key_jwt`), from Keycloak's client
//! attributes: `jwks.string` (with `use.jwks.string`) parsed as given, or `jwks.url` (with
//! `use.jwks.url`) fetched. Fetching is bounded, since the token endpoint is open to anyone who
//! names the client: only the configured URL, no redirects, 3 s, 64 KiB, a cache of five minutes
//! per URL refreshed early only for an unknown `kid` and then at most once every 10 seconds, and
//! at most `MAX_CACHED` URLs remembered. A PEM certificate (`jwt.credential.certificate`) is not
//! read: such a client is refused with a message saying so.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;

use super::OAuthError;
use crate::domain::Client;

pub const MAX_JWKS_BYTES: usize = 64 * 1024;
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
pub const CACHE_FOR: Duration = Duration::from_secs(300);
pub const MIN_REFETCH: Duration = Duration::from_secs(10);
pub const MAX_CACHED: usize = 1024;

struct Cached {
    set: Arc<JwkSet>,
    fetched_at: Instant,
}

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct ClientKeys {
    http: reqwest::Client,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
    /// When each URL was last fetched (successfully or not), for `MIN_REFETCH`.
    attempts: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Default for ClientKeys {
    fn default() -> Self {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        ClientKeys { http, cache: Default::default(), attempts: Default::default() }
    }
}

fn refused(description: &str) -> OAuthError {
    OAuthError::InvalidClient(description.to_string())
}

fn attribute_on(client: &Client, name: &str) -> bool {
    client.attributes.get(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

impl ClientKeys {
    /// The client's keys, holding `kid` when the assertion names one and the source can be
    /// asked again.
    pub async fn keys(&self, client: &Client, kid: Option<&str>) -> Result<Arc<JwkSet>, OAuthError> {
        if attribute_on(client, "use.jwks.string") {
            let text = client.attributes.get("jwks.string").map(String::as_str).unwrap_or("");
            return serde_json::from_str::<JwkSet>(text)
                .map(Arc::new)
                .map_err(|_| refused("The client's jwks.string is not a JWK set"));
        }
        let url = client.attributes.get("jwks.url").map(|u| u.trim()).filter(|u| !u.is_empty());
        let Some(url) = url.filter(|_| attribute_on(client, "use.jwks.url")) else {
            return Err(refused(
                "Portcullis verifies client-jwt assertions with the client's jwks.url or jwks.string keys only \
                 (set use.jwks.url or use.jwks.string); jwt.credential.certificate is not read",
            ));
        };
        let cached = self.cached(url);
        if let Some((set, true)) = &cached {
            if kid.is_none_or(|kid| set.find(kid).is_some()) {
                return Ok(set.clone());
            }
        }
        // stale, or without the kid: fetch again, unless that was tried within MIN_REFETCH
        if !self.may_fetch(url) {
            return cached.map(|(set, _)| set).ok_or_else(|| refused("The client's keys could not be fetched"));
        }
        match self.fetch(url).await {
            Ok(set) => {
                let set = Arc::new(set);
                let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
                if cache.len() >= MAX_CACHED && !cache.contains_key(url) {
                    cache.clear();
                }
                cache.insert(url.to_string(), Cached { set: set.clone(), fetched_at: Instant::now() });
                Ok(set)
            }
            Err(why) => {
                tracing::warn!(client_id = %client.client_id, url, error = %why, "cannot fetch the client's jwks.url");
                // a stale copy is better than none while the client's server is down
                self.cached(url).map(|(set, _)| set).ok_or_else(|| refused("The client's keys could not be fetched"))
            }
        }
    }

    fn cached(&self, url: &str) -> Option<(Arc<JwkSet>, bool)> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(url).map(|c| (c.set.clone(), c.fetched_at.elapsed() < CACHE_FOR))
    }

    /// Records an attempt now unless one was made within `MIN_REFETCH`.
    fn may_fetch(&self, url: &str) -> bool {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        if attempts.get(url).is_some_and(|at| at.elapsed() < MIN_REFETCH) {
            return false;
        }
        if attempts.len() >= MAX_CACHED {
            attempts.retain(|_, at| at.elapsed() < MIN_REFETCH);
        }
        attempts.insert(url.to_string(), Instant::now());
        true
    }

    async fn fetch(&self, url: &str) -> Result<JwkSet, String> {
        let parsed = url::Url::parse(url).map_err(|_| "not a URL".to_string())?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("not an http(s) URL".into());
        }
        let mut response = self.http.get(parsed).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|_| "not a JWK set".to_string())
    }
}
