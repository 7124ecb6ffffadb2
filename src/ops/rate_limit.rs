//! Request rate limits (issue 7 item 4, issue 16 item 3): token buckets per client and per client
//! IP on the token endpoint, and per IP on the login form, answering 429 with `Retry-After`. On the
//! token endpoint the buckets count only failed requests (a 4xx answer: bad client credentials,
//! invalid grants, wrong passwords), so legitimate traffic with valid credentials is never
//! throttled however fast it comes; an address or client whose failures emptied its bucket is
//! refused until it refills. They sit in front of the realm's brute-force detection (which counts
//! failures per user), not instead of it.
//! Buckets live in this process's memory: with N nodes behind a balancer a client gets up to N
//! times the configured rate. Memory is bounded: full buckets are dropped, and past a cap the
//! least recently used go first. Time comes from the injectable clock in whole seconds.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, RequestExt};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::clock::{Clock, UnixTime};
use crate::config::{ProxyHeaders, Settings};
use crate::domain::realm::validate_realm_name;

/// Requests answered 429, by endpoint (`token`, `login`) and bucket (`client`, `ip`).
pub const RATE_LIMITED: &str = "portcullis_rate_limited_total";

/// Most buckets one limiter keeps (per node); past it, idle buckets are evicted.
pub const MAX_BUCKETS: usize = 100_000;
const SHARDS: usize = 16;
/// Client ids are capped at this length in bucket keys, so a key never grows with the request.
const MAX_KEY_ID: usize = 255;

/// A sustained rate and a burst: `per_second` tokens are added each second, up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

impl Rate {
    /// Parses `"R"` or `"R,B"` (R requests per second, decimals allowed; B the burst, default
    /// the rate rounded up). `"0"` disables the limit: `Ok(None)`.
    pub fn parse(value: &str) -> Result<Option<Rate>, String> {
        let (rate, burst) = match value.split_once(',') {
            Some((r, b)) => (r.trim(), Some(b.trim())),
            None => (value.trim(), None),
        };
        let per_second: f64 = rate
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r >= 0.0)
            .ok_or("expected \"requests per second[,burst]\", e.g. \"20,40\", or 0 to disable")?;
        if per_second == 0.0 {
            return Ok(None);
        }
        let burst = match burst {
            Some(b) => b.parse::<u32>().ok().filter(|b| *b >= 1).ok_or("the burst must be a whole number of at least 1")?,
            None => per_second.ceil().min(f64::from(u32::MAX)) as u32,
        };
        Ok(Some(Rate { per_second, burst }))
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: UnixTime,
    seen: UnixTime,
}

impl Bucket {
    fn refilled(&self, rate: Rate, now: UnixTime) -> f64 {
        let elapsed = (now - self.updated).max(0) as f64;
        (self.tokens + elapsed * rate.per_second).min(f64::from(rate.burst))
    }
}

/// One token-bucket limiter over string keys.
pub struct Limiter {
    rate: Rate,
    per_shard: usize,
    shards: Vec<Mutex<HashMap<String, Bucket>>>,
}

impl Limiter {
    pub fn new(rate: Rate, max_buckets: usize) -> Self {
        Self {
            rate,
            per_shard: (max_buckets / SHARDS).max(1),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// Takes one token for `key`: `Ok(())`, or `Err(seconds)` to wait before one is available.
    pub fn check(&self, key: &str, now: UnixTime) -> Result<(), u64> {
        let shard = &self.shards[shard_of(key)];
        let mut buckets = shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !buckets.contains_key(key) && buckets.len() >= self.per_shard {
            evict(&mut buckets, self.rate, now, self.per_shard);
        }
        let full = f64::from(self.rate.burst);
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket { tokens: full, updated: now, seen: now });
        bucket.tokens = bucket.refilled(self.rate, now);
        bucket.updated = bucket.updated.max(now);
        bucket.seen = now;
        let tokens = bucket.tokens;
        if tokens >= 1.0 {
            bucket.tokens -= 1.0;
        }
        self.wait_for(tokens)
    }

    /// Whether `key` has a token left, without taking it: `Ok(())`, or `Err(seconds)` to wait. A key
    /// never charged has a full bucket and costs no memory.
    pub fn peek(&self, key: &str, now: UnixTime) -> Result<(), u64> {
        let shard = &self.shards[shard_of(key)];
        let buckets = shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match buckets.get(key) {
            Some(bucket) => self.wait_for(bucket.refilled(self.rate, now)),
            None => Ok(()),
        }
    }

    /// Takes one token for `key` after the fact (a failure happened), never below empty.
    pub fn charge(&self, key: &str, now: UnixTime) {
        let _ = self.check(key, now);
    }

    fn wait_for(&self, tokens: f64) -> Result<(), u64> {
        if tokens >= 1.0 {
            return Ok(());
        }
        let wait = ((1.0 - tokens) / self.rate.per_second).ceil();
        Err(if wait.is_finite() { (wait as u64).max(1) } else { u64::MAX })
    }

    /// Gives back the token `check` took for `key` (the attempt turned out not to count).
    pub fn refund(&self, key: &str, now: UnixTime) {
        let shard = &self.shards[shard_of(key)];
        let mut buckets = shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(bucket) = buckets.get_mut(key) {
            bucket.tokens = (bucket.refilled(self.rate, now) + 1.0).min(f64::from(self.rate.burst));
            bucket.updated = bucket.updated.max(now);
        }
    }

    /// Buckets held, for tests and metrics.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn shard_of(key: &str) -> usize {
    // FNV-1a: only spreads keys over shards; each shard's map has its own random hasher.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (hash % SHARDS as u64) as usize
}

/// Makes room in a full shard: a bucket that has refilled to its burst is the same as no bucket,
/// so those go first; if that frees nothing, the least recently seen quarter goes.
fn evict(buckets: &mut HashMap<String, Bucket>, rate: Rate, now: UnixTime, cap: usize) {
    let full = f64::from(rate.burst);
    buckets.retain(|_, b| b.refilled(rate, now) < full);
    if buckets.len() >= cap {
        let mut by_age: Vec<(UnixTime, String)> = buckets.iter().map(|(k, b)| (b.seen, k.clone())).collect();
        let oldest = (by_age.len() / 4).max(1);
        by_age.select_nth_unstable(oldest - 1);
        for (_, key) in &by_age[..oldest] {
            buckets.remove(key);
        }
    }
}

/// The server's limiters, built from the settings; `None` where a limit is disabled (rate 0).
pub struct RateLimits {
    clock: Arc<dyn Clock>,
    proxy_headers: ProxyHeaders,
    pub token_per_client: Option<Limiter>,
    pub token_per_ip: Option<Limiter>,
    pub login_per_ip: Option<Limiter>,
    /// Wrong user codes on the device page, per IP (charged on failure only).
    pub device_code_per_ip: Option<Limiter>,
}

impl RateLimits {
    pub fn new(settings: &Settings, clock: Arc<dyn Clock>) -> Self {
        let limiter = |rate: Option<Rate>| rate.map(|r| Limiter::new(r, MAX_BUCKETS));
        Self {
            clock,
            proxy_headers: settings.proxy_headers,
            token_per_client: limiter(settings.rate_limit_token_per_client),
            token_per_ip: limiter(settings.rate_limit_token_per_ip),
            login_per_ip: limiter(settings.rate_limit_login_per_ip),
            device_code_per_ip: limiter(settings.rate_limit_device_code_per_ip),
        }
    }
}

/// The address a request comes from: the peer, or with `proxy-headers` the address the trusted
/// proxy recorded, i.e. the last `X-Forwarded-For` entry or the last `Forwarded` element's
/// `for` (earlier entries are whatever the client sent and could be forged to dodge the limit).
/// IPv6 addresses count per /64, the block one subscriber usually gets.
pub fn client_ip(headers: &HeaderMap, peer: SocketAddr, proxy: ProxyHeaders) -> String {
    let forwarded = match proxy {
        ProxyHeaders::None => None,
        ProxyHeaders::XForwarded => last_header_value(headers, "x-forwarded-for")
            .and_then(|v| v.rsplit(',').next().map(str::trim).and_then(parse_ip)),
        ProxyHeaders::Forwarded => last_header_value(headers, "forwarded").and_then(|v| {
            v.rsplit(',').next()?.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim().eq_ignore_ascii_case("for").then(|| parse_ip(value.trim().trim_matches('"')))?
            })
        }),
    };
    match forwarded.unwrap_or(peer.ip()) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn last_header_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(name).iter().next_back().and_then(|v| v.to_str().ok())
}

/// An IP from a forwarding header: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80` or `::1`.
fn parse_ip(value: &str) -> Option<IpAddr> {
    value
        .parse::<IpAddr>()
        .ok()
        .or_else(|| value.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| value.trim_start_matches('[').split(']').next()?.parse().ok())
}

/// The `client_id` a token request names: from `Authorization: Basic` (RFC 6749 §2.3.1) or the
/// form body. Unauthenticated: it only chooses a bucket, never grants anything.
fn requested_client_id(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(..6).filter(|s| s.eq_ignore_ascii_case("basic ")).map(|_| &v[6..]))
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| {
            let id = decoded.split(|b| *b == b':').next()?.to_vec();
            form_urlencoded::parse([b"v=".as_slice(), &id].concat().as_slice()).next().map(|(_, v)| v.into_owned())
        });
    basic
        .or_else(|| form_urlencoded::parse(body).find(|(k, _)| k == "client_id").map(|(_, v)| v.into_owned()))
        .filter(|id| !id.is_empty())
        .map(|id| id.chars().take(MAX_KEY_ID).collect())
}

/// Stands for every realm name that cannot exist: no valid name contains `/`.
const JUNK_REALM: &str = "/";

/// The realm part of a client's bucket key: the realm name as the handler will look it up
/// (percent-decoded by the router, so `/realms/%6Daster` is `master`'s bucket), or one shared
/// key for every name that cannot be a realm (a new junk name must not buy a fresh bucket).
fn bucket_realm(decoded: Option<&str>) -> &str {
    decoded.filter(|name| validate_realm_name(name).is_ok()).unwrap_or(JUNK_REALM)
}

fn count(endpoint: &'static str, bucket: &'static str) {
    metrics::counter!(RATE_LIMITED, "endpoint" => endpoint, "bucket" => bucket).increment(1);
}

fn retry_after(mut response: Response, seconds: u64) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The token endpoint's 429: an RFC 6749 §5.2-shaped body with RFC 8628's `slow_down` code.
fn token_refusal(seconds: u64) -> Response {
    let body = serde_json::json!({
        "error": "slow_down",
        "error_description": format!("Too many requests, retry after {seconds} seconds"),
    });
    retry_after((StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response(), seconds)
}

/// Whether a token endpoint answer counts against its buckets: a refusal of the request (4xx),
/// not a success, not a 429 of our own, not a server fault (5xx: the request was not at fault).
fn is_failure(status: StatusCode) -> bool {
    status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS
}

/// Marks a 4xx answer that is the protocol working, not a failed attempt (RFC 8628's
/// `authorization_pending` to a device polling at its interval): no failure limit counts it.
#[derive(Debug, Clone, Copy)]
pub struct NotAFailure;

/// Middleware for `POST .../protocol/openid-connect/token`: a request is refused while the
/// address's or the named client's bucket is empty (the IP first, with no body read); its answer
/// charges both buckets only when it is a failure.
pub async fn token_endpoint(
    State(limits): State<Arc<RateLimits>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let now = limits.clock.now();
    let ip = limits.token_per_ip.as_ref().map(|limiter| (limiter, client_ip(request.headers(), peer, limits.proxy_headers)));
    if let Some((limiter, ip)) = &ip {
        if let Err(wait) = limiter.peek(ip, now) {
            count("token", "ip");
            tracing::info!(ip, "token request refused: too many failed requests from this address");
            return token_refusal(wait);
        }
    }
    let mut client = None;
    if let Some(limiter) = &limits.token_per_client {
        let realm = request
            .extract_parts::<Path<HashMap<String, String>>>()
            .await
            .ok()
            .and_then(|Path(mut params)| params.remove("realm"));
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, crate::app::MAX_BODY_BYTES).await else {
            if let Some((limiter, ip)) = &ip {
                limiter.charge(ip, now);
            }
            let body = serde_json::json!({ "error": "invalid_request", "error_description": "Request body too large" });
            return (StatusCode::PAYLOAD_TOO_LARGE, Json(body)).into_response();
        };
        if let Some(client_id) = requested_client_id(&parts.headers, &bytes) {
            let key = format!("{}\u{0}{client_id}", bucket_realm(realm.as_deref()));
            if let Err(wait) = limiter.peek(&key, now) {
                count("token", "client");
                tracing::info!(client = %client_id, "token request refused: too many failed requests for this client");
                return token_refusal(wait);
            }
            client = Some((limiter, key));
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    let response = next.run(request).await;
    if is_failure(response.status()) && response.extensions().get::<NotAFailure>().is_none() {
        let now = limits.clock.now();
        if let Some((limiter, ip)) = &ip {
            limiter.charge(ip, now);
        }
        if let Some((limiter, key)) = &client {
            limiter.charge(key, now);
        }
    }
    response
}

/// The 429 page of a refused browser request, with `Retry-After`.
fn slow_down_page(why: &str, wait: u64) -> Response {
    let message = format!("{why} Wait {wait} seconds and try again.");
    retry_after(crate::web::message(StatusCode::TOO_MANY_REQUESTS, "Portcullis", "Slow down", &message), wait)
}

/// Middleware for `POST .../login-actions/authenticate`: per IP, a readable page when refused.
pub async fn login_form(
    State(limits): State<Arc<RateLimits>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(limiter) = &limits.login_per_ip {
        let ip = client_ip(request.headers(), peer, limits.proxy_headers);
        if let Err(wait) = limiter.check(&ip, limits.clock.now()) {
            count("login", "ip");
            tracing::info!(ip, "login form rate limited (per IP)");
            return slow_down_page("Too many login attempts from your network.", wait);
        }
    }
    next.run(request).await
}

/// Marks a page answer the device page's limit counts: a user code that is not a live one.
#[derive(Debug, Clone, Copy)]
pub struct WrongUserCode;

/// Middleware for the device page (`/realms/{realm}/device`, RFC 8628 §5.1): while the
/// address's bucket of wrong user codes is empty it answers 429 with a page; an answer marked
/// `WrongUserCode` takes from the bucket. Right codes never count.
pub async fn device_page(
    State(limits): State<Arc<RateLimits>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let Some(limiter) = &limits.device_code_per_ip else {
        return next.run(request).await;
    };
    let ip = client_ip(request.headers(), peer, limits.proxy_headers);
    if let Err(wait) = limiter.peek(&ip, limits.clock.now()) {
        count("device", "ip");
        tracing::info!(ip, "device page refused: too many wrong user codes from this address");
        return slow_down_page("Too many wrong codes from your network.", wait);
    }
    let response = next.run(request).await;
    if response.extensions().get::<WrongUserCode>().is_some() {
        limiter.charge(&ip, limits.clock.now());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_second: f64, burst: u32) -> Rate {
        Rate { per_second, burst }
    }

    #[test]
    fn rates_parse_with_and_without_a_burst_and_zero_disables() {
        assert_eq!(Rate::parse("20,40"), Ok(Some(rate(20.0, 40))));
        assert_eq!(Rate::parse(" 2.5 "), Ok(Some(rate(2.5, 3))));
        assert_eq!(Rate::parse("0"), Ok(None));
        assert_eq!(Rate::parse("0,10"), Ok(None));
        for bad in ["", "x", "-1", "5,0", "5,x", "inf", "NaN"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let limiter = Limiter::new(rate(2.0, 3), 100);
        assert!((0..3).all(|_| limiter.check("k", 1000).is_ok()));
        assert_eq!(limiter.check("k", 1000), Err(1));
        assert!(limiter.check("other", 1000).is_ok(), "buckets are per key");
        assert!(limiter.check("k", 1001).is_ok());
        assert!(limiter.check("k", 1001).is_ok());
        assert_eq!(limiter.check("k", 1001), Err(1));
        assert!((0..3).all(|_| limiter.check("k", 1100).is_ok()), "refill stops at the burst");
        assert!(limiter.check("k", 1100).is_err());
    }

    #[test]
    fn peeking_takes_nothing_and_charging_empties_the_bucket() {
        let limiter = Limiter::new(rate(1.0, 2), 100);
        assert!((0..10).all(|_| limiter.peek("k", 0).is_ok()));
        assert!(limiter.is_empty(), "peeking at an unknown key keeps no bucket");
        limiter.charge("k", 0);
        assert!(limiter.peek("k", 0).is_ok());
        limiter.charge("k", 0);
        limiter.charge("k", 0);
        assert_eq!(limiter.peek("k", 0), Err(1));
        assert!(limiter.peek("k", 1).is_ok());
    }

    #[test]
    fn only_refusals_count_as_failures() {
        assert!(is_failure(StatusCode::BAD_REQUEST) && is_failure(StatusCode::UNAUTHORIZED));
        assert!(!is_failure(StatusCode::OK) && !is_failure(StatusCode::TOO_MANY_REQUESTS));
        assert!(!is_failure(StatusCode::SERVICE_UNAVAILABLE));
    }

    #[test]
    fn a_slow_rate_asks_for_a_longer_wait() {
        let limiter = Limiter::new(rate(0.1, 1), 100);
        assert!(limiter.check("k", 0).is_ok());
        assert_eq!(limiter.check("k", 0), Err(10));
        assert_eq!(limiter.check("k", 4), Err(6));
    }

    #[test]
    fn memory_stays_bounded_under_many_keys() {
        let limiter = Limiter::new(rate(1.0, 5), 1600);
        for i in 0..100_000 {
            let _ = limiter.check(&format!("10.0.{}.{}", i / 256, i % 256), 1000 + i / 1000);
        }
        assert!(limiter.len() <= 1600, "{}", limiter.len());
    }

    #[test]
    fn a_flood_of_new_keys_does_not_reset_a_key_in_use() {
        let limiter = Limiter::new(rate(0.001, 2), SHARDS * 8);
        assert!(limiter.check("busy", 0).is_ok() && limiter.check("busy", 0).is_ok());
        for i in 0..2000 {
            let _ = limiter.check(&format!("idle-{i}"), i / 10);
            assert!(limiter.check("busy", i / 10).is_err(), "the busy key kept its empty bucket at {i}");
        }
        assert!(limiter.len() <= SHARDS * 8);
    }

    #[test]
    fn idle_full_buckets_are_evicted_first() {
        let limiter = Limiter::new(rate(1.0, 2), SHARDS);
        let _ = limiter.check("a", 0);
        let _ = limiter.check("a", 0);
        for i in 0..200 {
            let _ = limiter.check(&format!("k{i}"), 100);
        }
        assert!(limiter.len() <= SHARDS);
    }

    #[test]
    fn proxy_addresses_are_used_only_when_trusted_and_the_last_one_counts() {
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        h.insert("forwarded", "for=6.6.6.6, for=\"[2001:db8:1:2:3:4:5:6]:443\";proto=https".parse().unwrap());
        assert_eq!(client_ip(&h, peer, ProxyHeaders::None), "10.0.0.1");
        assert_eq!(client_ip(&h, peer, ProxyHeaders::XForwarded), "203.0.113.9");
        assert_eq!(client_ip(&h, peer, ProxyHeaders::Forwarded), "2001:db8:1:2::/64");
        let v6: SocketAddr = "[::ffff:192.0.2.1]:1".parse().unwrap();
        assert_eq!(client_ip(&HeaderMap::new(), v6, ProxyHeaders::None), "192.0.2.1");
        let mut garbage = HeaderMap::new();
        garbage.insert("x-forwarded-for", "not-an-ip".parse().unwrap());
        assert_eq!(client_ip(&garbage, peer, ProxyHeaders::XForwarded), "10.0.0.1");
    }

    #[test]
    fn a_bucket_is_keyed_on_a_valid_realm_name_and_junk_names_share_one() {
        assert_eq!(bucket_realm(Some("master")), "master");
        assert_eq!(bucket_realm(Some("a b")), JUNK_REALM);
        assert_eq!(bucket_realm(Some("..")), JUNK_REALM);
        assert_eq!(bucket_realm(Some(&"x".repeat(300))), JUNK_REALM);
        assert_eq!(bucket_realm(None), JUNK_REALM);
    }

    #[test]
    fn the_client_id_comes_from_basic_auth_or_the_form() {
        let mut h = HeaderMap::new();
        assert_eq!(requested_client_id(&h, b"grant_type=x&client_id=app%2B1"), Some("app+1".into()));
        h.insert(header::AUTHORIZATION, format!("Basic {}", STANDARD.encode("my%20app:secret")).parse().unwrap());
        assert_eq!(requested_client_id(&h, b"client_id=other"), Some("my app".into()));
        assert_eq!(requested_client_id(&HeaderMap::new(), b"client_id="), None);
        assert_eq!(requested_client_id(&HeaderMap::new(), &[0xff, 0xfe]), None);
    }
}
