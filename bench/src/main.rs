//! `portcullis-bench`: see README.md and BENCHMARKS.md for the commands; `portcullis-bench soak
//! --help` for the soak (bench/src/soak.rs).

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use portcullis_bench::report::Report;
use portcullis_bench::scenario::{self, Scenario, Target};
use portcullis_bench::server;

#[derive(Debug, Parser)]
#[command(name = "portcullis-bench", about = "Load tool for Portcullis and peer OAuth servers")]
struct Args {
    /// Start this Portcullis binary with a generated realm (SQLite unless --db-url).
    #[arg(long)]
    spawn: Option<String>,
    /// Postgres URL for --spawn (a fresh, empty database).
    #[arg(long)]
    db_url: Option<String>,
    /// Signing algorithm of the generated realm.
    #[arg(long, default_value = "RS256")]
    alg: String,
    /// Drive an already running server: its realm issuer URL (with --client-id, --user, ...).
    #[arg(long)]
    issuer: Option<String>,
    #[arg(long, default_value = server::CLIENT_ID)]
    client_id: String,
    #[arg(long, default_value = server::CLIENT_SECRET)]
    client_secret: String,
    /// JSON file {"issuer", "refresh_tokens": [...]} written by a peer script (bench/peers/).
    #[arg(long)]
    seed: Option<std::path::PathBuf>,
    /// username:password, repeatable (with --issuer).
    #[arg(long = "user")]
    users: Vec<String>,
    /// Users to generate with --spawn.
    #[arg(long, default_value_t = 32)]
    user_count: usize,
    #[arg(long, default_value = "openid")]
    scope: String,
    /// Label in the report.
    #[arg(long, default_value = "portcullis")]
    name: String,
    #[arg(long = "scenario", value_enum, required = true)]
    scenarios: Vec<Scenario>,
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,128")]
    concurrency: Vec<usize>,
    /// Seconds per run.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Exit non-zero when any run had an error.
    #[arg(long)]
    strict: bool,
    /// With --spawn: keep the server's shipped rate limits instead of turning them off.
    #[arg(long)]
    shipped_limits: bool,
    /// With --spawn and --db-url: first insert this many sessions of the realm (scale runs).
    #[arg(long)]
    seed_sessions: Option<u64>,
    /// With --seed-sessions: seed them already expired (the cleanup run).
    #[arg(long)]
    seed_expired: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("soak") {
        return portcullis_bench::soak::cli(std::env::args().skip(1)).await;
    }
    let args = Args::parse();
    let http = reqwest::Client::new();
    let mut report = Report::default();
    let spawned = match &args.spawn {
        Some(binary) => {
            let users = server::users(args.user_count);
            let spawned = server::spawn_with(binary, args.db_url.as_deref(), &users, &args.alg, args.shipped_limits)?;
            report.startup_ms = Some(spawned.startup.as_secs_f64() * 1000.0);
            report.rss_idle_kib = spawned.rss_kib();
            if let Some(n) = args.seed_sessions {
                let url = args.db_url.as_deref().context("--seed-sessions needs --db-url (Postgres)")?;
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
                let seeded = portcullis_bench::seed::seed_sessions(url, n, args.seed_expired, now)?;
                eprintln!(
                    "seeded {} {} sessions in {:.1} s: {:.0} bytes per session (sessions, client sessions, families)",
                    seeded.sessions,
                    if seeded.expired { "expired" } else { "live" },
                    seeded.seconds,
                    seeded.bytes_per_session()
                );
                report.seeded = Some(seeded);
            }
            Some((spawned, users))
        }
        None => None,
    };
    let seed: Option<serde_json::Value> = match &args.seed {
        Some(path) => Some(serde_json::from_str(&std::fs::read_to_string(path)?)?),
        None => None,
    };
    let seed_issuer = seed.as_ref().and_then(|s| s["issuer"].as_str().map(str::to_string));
    let issuer = match (&spawned, &args.issuer, seed_issuer) {
        (Some((s, _)), _, _) => s.issuer(),
        (None, Some(issuer), _) => issuer.trim_end_matches('/').to_string(),
        (None, None, Some(issuer)) => issuer,
        (None, None, None) => anyhow::bail!("give --spawn BINARY, --issuer URL or --seed FILE"),
    };
    let mut target = Target::discover(&http, &args.name, &issuer).await?;
    target.client_id = args.client_id.clone();
    target.client_secret = args.client_secret.clone();
    target.scope = args.scope.clone();
    if let Some(seed) = &seed {
        let tokens: Vec<String> =
            seed["refresh_tokens"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_string)).collect();
        *target.seed_refresh_tokens.lock().map_err(|_| anyhow::anyhow!("seed lock"))? = tokens;
    }
    target.users = match &spawned {
        Some((_, users)) => users.clone(),
        None => args
            .users
            .iter()
            .filter_map(|u| u.split_once(':').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect(),
    };
    let rss = spawned.as_ref().map(|(s, _)| move || s.rss_kib());
    let mut failed = false;
    for scenario in &args.scenarios {
        for &concurrency in &args.concurrency {
            let sampler = rss.as_ref().map(|f| f as &(dyn Fn() -> Option<u64> + Sync));
            let run = scenario::run(&target, *scenario, concurrency, Duration::from_secs_f64(args.duration), sampler).await?;
            eprintln!(
                "{} {} c={}: {:.0} req/s p99 {:.2} ms errors {:?}",
                run.server, run.scenario, run.concurrency, run.throughput, run.p99_ms, run.errors
            );
            failed |= run.failed();
            report.runs.push(run);
        }
    }
    if let (Some(url), true) = (args.db_url.as_deref(), args.seed_expired && args.seed_sessions.is_some()) {
        let left = portcullis_bench::seed::remaining(url)?;
        eprintln!("expired seeded sessions left after the runs: {left}");
        report.seeded_left = Some(left);
    }
    println!("{}", report.markdown());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    if args.strict && failed {
        anyhow::bail!("a run had errors");
    }
    Ok(())
}
