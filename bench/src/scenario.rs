//! The scenarios. Each worker owns its state (a refresh chain keeps its successor token) and
//! records every request's latency; an unexpected status is an error of the run.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use serde_json::Value;

use crate::report::Run;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// refresh_token grants chained through rotation
    Refresh,
    ClientCredentials,
    Password,
    Introspect,
    Userinfo,
    Jwks,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Self::Refresh => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::Introspect => "introspect",
            Self::Userinfo => "userinfo",
            Self::Jwks => "jwks",
        }
    }
}

/// Where and as whom to drive traffic.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    /// The realm's issuer URL, e.g. http://127.0.0.1:8080/realms/bench.
    pub issuer: String,
    pub token_endpoint: String,
    pub introspection_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    /// Empty when the server publishes none.
    pub revocation_endpoint: String,
    pub client_id: String,
    pub client_secret: String,
    /// `(username, password)` pairs to log in with, shared round-robin by workers.
    pub users: Vec<(String, String)>,
    /// Refresh tokens minted by a peer that has no password grant: each worker starts its
    /// session by refreshing one (consumed, since rotation is on).
    pub seed_refresh_tokens: Arc<std::sync::Mutex<Vec<String>>>,
    pub scope: String,
}

impl Target {
    /// Fills the endpoints from the issuer's discovery document.
    pub async fn discover(http: &reqwest::Client, name: &str, issuer: &str) -> anyhow::Result<Self> {
        let doc: Value = http
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await
            .context("discovery")?
            .json()
            .await
            .context("discovery JSON")?;
        let field = |f: &str| doc[f].as_str().map(str::to_string).with_context(|| format!("{f} in discovery"));
        Ok(Target {
            name: name.to_string(),
            issuer: issuer.to_string(),
            token_endpoint: field("token_endpoint")?,
            introspection_endpoint: field("introspection_endpoint")?,
            userinfo_endpoint: field("userinfo_endpoint")?,
            jwks_uri: field("jwks_uri")?,
            revocation_endpoint: doc["revocation_endpoint"].as_str().unwrap_or_default().to_string(),
            client_id: String::new(),
            client_secret: String::new(),
            users: Vec::new(),
            seed_refresh_tokens: Arc::default(),
            scope: "openid".into(),
        })
    }
}

struct Worker {
    http: reqwest::Client,
    target: Arc<Target>,
    user: (String, String),
    refresh_token: Option<String>,
    access_token: Option<String>,
}

fn error_key(status: u16, body: &str) -> String {
    let error = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_default();
    format!("{status} {error}").trim().to_string()
}

impl Worker {
    async fn token(&self, form: &[(&str, &str)]) -> Result<Value, String> {
        let mut all: Vec<(&str, &str)> = vec![("client_id", &self.target.client_id)];
        if !self.target.client_secret.is_empty() {
            all.push(("client_secret", &self.target.client_secret));
        }
        all.extend_from_slice(form);
        let response = self.http.post(&self.target.token_endpoint).form(&all).send().await.map_err(|e| format!("io {e}"))?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| format!("io {e}"))?;
        if status != 200 {
            return Err(error_key(status, &body));
        }
        serde_json::from_str(&body).map_err(|_| format!("{status} bad-json"))
    }

    async fn login(&mut self) -> Result<(), String> {
        let seed = self.target.seed_refresh_tokens.lock().map_err(|_| "seed lock")?.pop();
        let tokens = match seed {
            Some(seed) => self.token(&[("grant_type", "refresh_token"), ("refresh_token", &seed)]).await?,
            None => {
                let (username, password) = self.user.clone();
                self.token(&[("grant_type", "password"), ("username", &username), ("password", &password), ("scope", &self.target.scope)])
                    .await?
            }
        };
        self.refresh_token = tokens["refresh_token"].as_str().map(str::to_string);
        self.access_token = tokens["access_token"].as_str().map(str::to_string);
        Ok(())
    }

    async fn once(&mut self, scenario: Scenario) -> Result<(), String> {
        match scenario {
            Scenario::Refresh => {
                let token = self.refresh_token.clone().ok_or("no refresh token")?;
                let tokens = self.token(&[("grant_type", "refresh_token"), ("refresh_token", &token)]).await?;
                self.refresh_token = Some(tokens["refresh_token"].as_str().ok_or("no successor")?.to_string());
                Ok(())
            }
            Scenario::ClientCredentials => self.token(&[("grant_type", "client_credentials")]).await.map(|_| ()),
            Scenario::Password => {
                let (username, password) = self.user.clone();
                self.token(&[("grant_type", "password"), ("username", &username), ("password", &password)]).await.map(|_| ())
            }
            Scenario::Introspect => {
                let token = self.access_token.clone().ok_or("no access token")?;
                let response = self
                    .http
                    .post(&self.target.introspection_endpoint)
                    .basic_auth(&self.target.client_id, Some(&self.target.client_secret))
                    .form(&[("token", token.as_str())])
                    .send()
                    .await
                    .map_err(|e| format!("io {e}"))?;
                let status = response.status().as_u16();
                let body: Value = response.json().await.map_err(|_| format!("{status} bad-json"))?;
                if status != 200 || body["active"] != true {
                    return Err(format!("{status} inactive"));
                }
                Ok(())
            }
            Scenario::Userinfo => {
                let token = self.access_token.clone().ok_or("no access token")?;
                let response = self.http.get(&self.target.userinfo_endpoint).bearer_auth(token).send().await.map_err(|e| format!("io {e}"))?;
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                if status != 200 {
                    return Err(format!("{status}"));
                }
                Ok(())
            }
            Scenario::Jwks => {
                let response = self.http.get(&self.target.jwks_uri).send().await.map_err(|e| format!("io {e}"))?;
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                if status != 200 {
                    return Err(format!("{status}"));
                }
                Ok(())
            }
        }
    }
}

/// Drives `scenario` with `concurrency` workers for `duration`. `rss` samples the server's
/// memory while it runs, when given.
pub async fn run(
    target: &Target,
    scenario: Scenario,
    concurrency: usize,
    duration: Duration,
    rss: Option<&(dyn Fn() -> Option<u64> + Sync)>,
) -> anyhow::Result<Run> {
    let seeded = target.seed_refresh_tokens.lock().map(|t| !t.is_empty()).unwrap_or(false);
    let needs_users = match scenario {
        Scenario::Password => true,
        Scenario::Refresh | Scenario::Introspect | Scenario::Userinfo => !seeded,
        Scenario::ClientCredentials | Scenario::Jwks => false,
    };
    if target.users.is_empty() && needs_users {
        bail!("scenario {} needs users", scenario.name());
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency.max(1))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?;
    let target = Arc::new(target.clone());
    let mut workers = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        let user = target.users.get(i % target.users.len().max(1)).cloned().unwrap_or_default();
        let mut worker = Worker { http: http.clone(), target: target.clone(), user, refresh_token: None, access_token: None };
        if matches!(scenario, Scenario::Refresh | Scenario::Introspect | Scenario::Userinfo) {
            worker.login().await.map_err(|e| anyhow::anyhow!("seeding a session failed: {e}"))?;
        }
        workers.push(worker);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut handles = Vec::new();
    for mut worker in workers {
        let stop = stop.clone();
        handles.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let result = worker.once(scenario).await;
                let _ = histogram.record(t.elapsed().as_micros().max(1) as u64);
                if let Err(e) = result {
                    *errors.entry(e).or_default() += 1;
                    if scenario == Scenario::Refresh {
                        // a broken chain cannot continue; start a new one
                        let _ = worker.login().await;
                    }
                }
            }
            (histogram, errors)
        }));
    }
    let mut rss_max = None;
    while started.elapsed() < duration {
        tokio::time::sleep(Duration::from_millis(200).min(duration)).await;
        if let Some(sample) = rss.and_then(|f| f()) {
            rss_max = Some(rss_max.unwrap_or(0).max(sample));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut errors = BTreeMap::new();
    for handle in handles {
        let (h, e) = handle.await?;
        histogram.add(h)?;
        for (k, v) in e {
            *errors.entry(k).or_default() += v;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    Ok(Run {
        server: target.name.clone(),
        scenario: scenario.name().to_string(),
        concurrency,
        seconds,
        requests: histogram.len(),
        throughput: histogram.len() as f64 / seconds,
        p50_ms: ms(0.50),
        p90_ms: ms(0.90),
        p99_ms: ms(0.99),
        max_ms: histogram.max() as f64 / 1000.0,
        errors,
        rss_max_kib: rss_max,
    })
}
