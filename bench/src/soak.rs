//! `portcullis-bench soak`: mixed load for minutes (issue 7 item 9). Each worker cycles through
//! a password login, refreshes chained through rotation interleaved with introspections, a
//! revocation, and a refresh of the revoked token (which must be refused). Every interval prints
//! requests, errors by kind, p99 and the server's RSS; the summary fails the run on any
//! unexpected answer or when RSS grows past a bound after the warm-up. Not a throughput benchmark.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::Value;

use crate::scenario::Target;
use crate::server;

/// Refresh + introspection rounds between a worker's login and its revocation.
const ROUNDS: usize = 20;

#[derive(Debug, Parser)]
#[command(name = "portcullis-bench soak", about = "Mixed load for minutes: errors, RSS over time, p99")]
pub struct SoakArgs {
    /// The Portcullis binary to start with a generated realm (SQLite unless --db-url).
    #[arg(long)]
    spawn: String,
    /// Postgres URL for --spawn (a fresh, empty database).
    #[arg(long)]
    db_url: Option<String>,
    #[arg(long, default_value = "RS256")]
    alg: String,
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Seconds per report line (a minute by default; shorter for a quick check).
    #[arg(long, default_value_t = 60.0)]
    interval: f64,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value_t = 32)]
    user_count: usize,
    /// Fail when the lowest RSS of the last interval exceeds that of the second by more than this
    /// (10 minutes grew 0.4-0.7 MiB; the histogram leak fixed in 76b1092 grew 9.6-11.6 MiB).
    #[arg(long, default_value_t = 8)]
    max_rss_growth_mib: u64,
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// How long and how hard to soak.
#[derive(Debug, Clone)]
pub struct Soak {
    pub duration: Duration,
    pub interval: Duration,
    pub concurrency: usize,
    pub max_rss_growth_kib: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Login,
    Refresh,
    Introspect,
    Revoke,
    RefreshRevoked,
}

impl Op {
    const ALL: [Op; 5] = [Op::Login, Op::Refresh, Op::Introspect, Op::Revoke, Op::RefreshRevoked];

    fn name(self) -> &'static str {
        match self {
            Op::Login => "login",
            Op::Refresh => "refresh",
            Op::Introspect => "introspect",
            Op::Revoke => "revoke",
            Op::RefreshRevoked => "refresh-revoked",
        }
    }

    /// The operation at `step` of a worker's cycle.
    fn at(step: usize) -> Op {
        match step {
            0 => Op::Login,
            s if s <= 2 * ROUNDS && s % 2 == 1 => Op::Refresh,
            s if s <= 2 * ROUNDS => Op::Introspect,
            s if s == 2 * ROUNDS + 1 => Op::Revoke,
            _ => Op::RefreshRevoked,
        }
    }
}

const CYCLE: usize = 2 * ROUNDS + 3;

/// What one interval (or the whole run) saw.
struct Stats {
    all: Histogram<u64>,
    by_op: BTreeMap<Op, Histogram<u64>>,
    errors: BTreeMap<String, u64>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

impl Stats {
    fn new() -> Self {
        Self { all: histogram(), by_op: Op::ALL.iter().map(|op| (*op, histogram())).collect(), errors: BTreeMap::new() }
    }

    fn record(&mut self, op: Op, micros: u64, error: Option<String>) {
        let _ = self.all.record(micros.max(1));
        if let Some(h) = self.by_op.get_mut(&op) {
            let _ = h.record(micros.max(1));
        }
        if let Some(kind) = error {
            *self.errors.entry(format!("{} {kind}", op.name())).or_default() += 1;
        }
    }

    fn merge(&mut self, other: &Stats) {
        let _ = self.all.add(&other.all);
        for (op, h) in &other.by_op {
            if let Some(mine) = self.by_op.get_mut(op) {
                let _ = mine.add(h);
            }
        }
        for (kind, n) in &other.errors {
            *self.errors.entry(kind.clone()).or_default() += n;
        }
    }

    fn p99_ms(h: &Histogram<u64>) -> f64 {
        h.value_at_quantile(0.99) as f64 / 1000.0
    }
}

/// One report line.
#[derive(Debug, Clone, Serialize)]
pub struct Interval {
    pub index: usize,
    pub end_seconds: f64,
    pub requests: u64,
    pub per_second: f64,
    pub errors: BTreeMap<String, u64>,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// VmRSS at the end of the interval, and its lowest and highest of the per-second samples.
    /// The lowest leaves out transient buffers (each login's argon2id hash holds 19 MiB while it
    /// runs), so it is what the growth bound compares.
    pub rss_kib: Option<u64>,
    pub rss_min_kib: Option<u64>,
    pub rss_max_kib: Option<u64>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    pub server: String,
    pub seconds: f64,
    pub concurrency: usize,
    pub requests: u64,
    pub per_second: f64,
    pub errors: BTreeMap<String, u64>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// (requests, p99 ms) per operation.
    pub by_op: BTreeMap<String, (u64, f64)>,
    pub intervals: Vec<Interval>,
    pub rss_start_kib: Option<u64>,
    /// The lowest RSS sample of the second interval (after the warm-up) and of the last one.
    pub rss_baseline_kib: Option<u64>,
    pub rss_end_kib: Option<u64>,
    pub rss_max_kib: Option<u64>,
    pub max_rss_growth_kib: u64,
}

impl SoakReport {
    /// Why the run failed; empty when it passed.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let unexpected: u64 = self.errors.values().sum();
        if unexpected > 0 {
            failures.push(format!("{unexpected} unexpected answers: {:?}", self.errors));
        }
        if let (Some(base), Some(end)) = (self.rss_baseline_kib, self.rss_end_kib) {
            if end > base + self.max_rss_growth_kib {
                failures.push(format!("RSS grew by {} KiB after the warm-up (bound {} KiB)", end - base, self.max_rss_growth_kib));
            }
        }
        if self.requests == 0 {
            failures.push("no request completed".into());
        }
        failures
    }

    pub fn summary(&self) -> String {
        let mib = |k: Option<u64>| k.map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "-".into());
        let by_op: Vec<String> = self.by_op.iter().map(|(op, (n, p99))| format!("{op} {n} (p99 {p99:.1} ms)")).collect();
        let growth = match (self.rss_baseline_kib, self.rss_end_kib) {
            (Some(base), Some(end)) => format!("{:+.1} MiB", (end as f64 - base as f64) / 1024.0),
            _ => "-".into(),
        };
        let failures = self.failures();
        format!(
            "soak {}: {:.0} s at concurrency {}, {} requests ({:.0}/s), unexpected errors {}\n\
             latency p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms\n\
             by operation: {}\n\
             RSS: after start-up {}, lowest in interval 2 {}, lowest in the last interval {}, highest {}; growth after the warm-up {} (bound {:.0} MiB)\n\
             verdict: {}",
            self.server,
            self.seconds,
            self.concurrency,
            self.requests,
            self.per_second,
            self.errors.values().sum::<u64>(),
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            by_op.join(", "),
            mib(self.rss_start_kib),
            mib(self.rss_baseline_kib),
            mib(self.rss_end_kib),
            mib(self.rss_max_kib),
            growth,
            self.max_rss_growth_kib as f64 / 1024.0,
            if failures.is_empty() { "PASS".to_string() } else { format!("FAIL: {}", failures.join("; ")) },
        )
    }
}

struct Worker {
    http: reqwest::Client,
    target: Arc<Target>,
    user: (String, String),
    refresh_token: String,
    access_token: String,
    revoked: String,
    step: usize,
}

/// "status error" of a refused answer.
fn kind(status: u16, body: &str) -> String {
    let error = serde_json::from_str::<Value>(body).ok().and_then(|v| v["error"].as_str().map(str::to_string)).unwrap_or_default();
    format!("{status} {error}").trim().to_string()
}

impl Worker {
    async fn post(&self, url: &str, form: &[(&str, &str)]) -> Result<(u16, String), String> {
        let response = self
            .http
            .post(url)
            .basic_auth(&self.target.client_id, Some(&self.target.client_secret))
            .form(form)
            .send()
            .await
            .map_err(|e| format!("io {}", if e.is_timeout() { "timeout" } else { "error" }))?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|_| "io body".to_string())?;
        Ok((status, body))
    }

    /// Runs the next operation of the cycle; `Err` is an unexpected answer.
    async fn advance(&mut self) -> (Op, Result<(), String>) {
        let op = Op::at(self.step);
        let result = self.run(op).await;
        self.step = if result.is_ok() { (self.step + 1) % CYCLE } else { 0 };
        (op, result)
    }

    async fn run(&mut self, op: Op) -> Result<(), String> {
        let target = self.target.clone();
        match op {
            Op::Login | Op::Refresh => {
                let (user, password) = self.user.clone();
                let refresh_token = self.refresh_token.clone();
                let form: Vec<(&str, &str)> = if op == Op::Login {
                    vec![("grant_type", "password"), ("username", &user), ("password", &password), ("scope", "openid")]
                } else {
                    vec![("grant_type", "refresh_token"), ("refresh_token", &refresh_token)]
                };
                let (status, body) = self.post(&target.token_endpoint, &form).await?;
                if status != 200 {
                    return Err(kind(status, &body));
                }
                let tokens: Value = serde_json::from_str(&body).map_err(|_| "200 bad-json".to_string())?;
                let field = |name: &str| tokens[name].as_str().map(str::to_string).ok_or_else(|| format!("200 no {name}"));
                self.refresh_token = field("refresh_token")?;
                self.access_token = field("access_token")?;
                Ok(())
            }
            Op::Introspect => {
                let access_token = self.access_token.clone();
                let (status, body) = self.post(&target.introspection_endpoint, &[("token", &access_token)]).await?;
                let active = serde_json::from_str::<Value>(&body).map(|v| v["active"] == true).unwrap_or(false);
                if status != 200 || !active {
                    return Err(format!("{status} inactive"));
                }
                Ok(())
            }
            Op::Revoke => {
                let refresh_token = std::mem::take(&mut self.refresh_token);
                let form = [("token", refresh_token.as_str()), ("token_type_hint", "refresh_token")];
                let (status, body) = self.post(&target.revocation_endpoint, &form).await?;
                self.revoked = refresh_token;
                if status != 200 {
                    return Err(kind(status, &body));
                }
                Ok(())
            }
            Op::RefreshRevoked => {
                let revoked = std::mem::take(&mut self.revoked);
                let (status, body) =
                    self.post(&target.token_endpoint, &[("grant_type", "refresh_token"), ("refresh_token", &revoked)]).await?;
                // the one expected refusal: a revoked token must stay revoked
                if status == 400 && kind(status, &body) == "400 invalid_grant" {
                    Ok(())
                } else {
                    Err(format!("accepted-after-revocation {}", kind(status, &body)))
                }
            }
        }
    }
}

/// Drives the mixed load against `target` for `soak.duration`, printing one line per interval.
/// `rss` samples the server's memory (KiB), when known.
pub async fn run(target: &Target, soak: &Soak, rss: Option<&(dyn Fn() -> Option<u64> + Sync)>) -> anyhow::Result<SoakReport> {
    anyhow::ensure!(!target.users.is_empty(), "the soak needs users to log in with");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(soak.concurrency.max(1))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?;
    anyhow::ensure!(!target.revocation_endpoint.is_empty(), "the soak needs a revocation_endpoint in discovery");
    let sample = || rss.and_then(|f| f());
    let rss_start = sample();
    let target = Arc::new(target.clone());
    let current = Arc::new(Mutex::new(Stats::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::with_capacity(soak.concurrency);
    for i in 0..soak.concurrency {
        let mut worker = Worker {
            http: http.clone(),
            target: target.clone(),
            user: target.users[i % target.users.len()].clone(),
            refresh_token: String::new(),
            access_token: String::new(),
            revoked: String::new(),
            // workers start at different points of their first login's rounds, so that logins
            // and revocations do not come in waves
            step: i * (2 * ROUNDS + 1) / soak.concurrency.max(1),
        };
        if worker.step != 0 && worker.run(Op::Login).await.is_err() {
            worker.step = 0;
        }
        workers.push(worker);
    }
    let started = Instant::now();
    let mut handles = Vec::new();
    for mut worker in workers {
        let (current, stop) = (current.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let (op, result) = worker.advance().await;
                let micros = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                if let Ok(mut stats) = current.lock() {
                    stats.record(op, micros, result.err());
                }
            }
        }));
    }
    let mut total = Stats::new();
    let mut intervals = Vec::new();
    let mut rss_max = rss_start;
    let mut next = started + soak.interval;
    let end = started + soak.duration;
    while Instant::now() < end {
        let deadline = next.min(end);
        let interval_started = Instant::now();
        let (mut low, mut high, mut last) = (None::<u64>, None::<u64>, None);
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_secs(1).min(deadline.saturating_duration_since(Instant::now()))).await;
            if let Some(kib) = sample() {
                low = Some(low.map_or(kib, |l| l.min(kib)));
                high = Some(high.map_or(kib, |h| h.max(kib)));
                last = Some(kib);
            }
        }
        rss_max = rss_max.max(high);
        let stats = std::mem::replace(&mut *current.lock().map_err(|_| anyhow::anyhow!("stats lock"))?, Stats::new());
        let seconds = interval_started.elapsed().as_secs_f64().max(0.001);
        let interval = Interval {
            index: intervals.len() + 1,
            end_seconds: started.elapsed().as_secs_f64(),
            requests: stats.all.len(),
            per_second: stats.all.len() as f64 / seconds,
            errors: stats.errors.clone(),
            p99_ms: Stats::p99_ms(&stats.all),
            max_ms: stats.all.max() as f64 / 1000.0,
            rss_kib: last,
            rss_min_kib: low,
            rss_max_kib: high,
        };
        let mib = |k: Option<u64>| k.map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "-".into());
        println!(
            "{:>4.0} s  interval {:>3}: {:>7} requests ({:>5.0}/s), errors {}, p99 {:>7.2} ms, max {:>8.1} ms, RSS {} MiB (lowest {}, highest {})",
            interval.end_seconds,
            interval.index,
            interval.requests,
            interval.per_second,
            if interval.errors.is_empty() { "0".to_string() } else { format!("{:?}", interval.errors) },
            interval.p99_ms,
            interval.max_ms,
            mib(interval.rss_kib),
            mib(interval.rss_min_kib),
            mib(interval.rss_max_kib),
        );
        total.merge(&stats);
        intervals.push(interval);
        next += soak.interval;
    }
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle.await?;
    }
    // requests that finished after the last line still count toward the summary
    if let Ok(stats) = current.lock() {
        total.merge(&stats);
    }
    let seconds = started.elapsed().as_secs_f64();
    let ms = |q: f64| total.all.value_at_quantile(q) as f64 / 1000.0;
    Ok(SoakReport {
        server: target.name.clone(),
        seconds,
        concurrency: soak.concurrency,
        requests: total.all.len(),
        per_second: total.all.len() as f64 / seconds,
        errors: total.errors.clone(),
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
        max_ms: total.all.max() as f64 / 1000.0,
        by_op: total.by_op.iter().map(|(op, h)| (op.name().to_string(), (h.len(), Stats::p99_ms(h)))).collect(),
        rss_start_kib: rss_start,
        rss_baseline_kib: intervals.get(1).and_then(|i| i.rss_min_kib),
        rss_end_kib: intervals.last().and_then(|i| i.rss_min_kib),
        rss_max_kib: rss_max,
        max_rss_growth_kib: soak.max_rss_growth_kib,
        intervals,
    })
}

/// `portcullis-bench soak ...`: starts the server, soaks it, prints the summary, writes the JSON
/// and fails (non-zero exit) when the run did.
pub async fn cli(args: impl IntoIterator<Item = String>) -> anyhow::Result<()> {
    let args = SoakArgs::parse_from(args);
    let users = server::users(args.user_count);
    let spawned = server::spawn(&args.spawn, args.db_url.as_deref(), &users, &args.alg)?;
    let backend = if args.db_url.is_some() { "postgres" } else { "sqlite" };
    let http = reqwest::Client::new();
    let mut target = Target::discover(&http, &format!("portcullis/{backend}"), &spawned.issuer()).await?;
    target.client_id = server::CLIENT_ID.into();
    target.client_secret = server::CLIENT_SECRET.into();
    target.users = users;
    let soak = Soak {
        duration: Duration::from_secs_f64(args.minutes * 60.0),
        interval: Duration::from_secs_f64(args.interval.max(1.0)),
        concurrency: args.concurrency.max(1),
        max_rss_growth_kib: args.max_rss_growth_mib * 1024,
    };
    println!(
        "soak: {backend}, {} {}, {:.1} min, concurrency {}, one line per {:.0} s; each worker: login, {ROUNDS} x (refresh, introspect), revoke, refresh of the revoked token",
        args.spawn, args.alg, args.minutes, soak.concurrency, soak.interval.as_secs_f64()
    );
    let sampler = || spawned.rss_kib();
    let report = run(&target, &soak, Some(&sampler)).await?;
    println!("{}", report.summary());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    let failures = report.failures();
    anyhow::ensure!(failures.is_empty(), "soak failed: {}", failures.join("; "));
    Ok(())
}
