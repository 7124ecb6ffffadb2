//! Database faults (issue 7 item 5) on a PRIVATE Postgres cluster made by this test (`initdb`
//! into a temp dir, its own port and socket dir), never the shared one other tests use: under a
//! load of refreshes the cluster is stopped; requests fail fast with 503
//! `temporarily_unavailable` (bounded by `db-acquire-timeout`, never a 500, never a hang),
//! `/health/ready` turns 503; the cluster is started again and everything works with no restart
//! of Portcullis. The realm sets `refreshTokenReuseIntervalSeconds`, so a refresh whose commit
//! reached the database but whose answer was lost in the crash is recovered by the client's
//! retry: every refresh chain continues afterwards.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{fixture, Backend, Spawn};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const SECRET: &str = "s3cr3t-client-value-0123456789";
const PASSWORD: &str = "correct-horse-battery-staple";
const ACQUIRE_TIMEOUT_SECS: u64 = 2;

/// A throw-away Postgres cluster: `initdb` into a temp dir, served on a free port with its
/// socket in its own directory. Stopped (immediately) when dropped, even when a test panics.
pub(crate) struct PrivateCluster {
    dir: tempfile::TempDir,
    pub port: u16,
}

fn run_as_postgres(program: &str, args: &[&str]) -> std::process::Output {
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let mut command = if root {
        // initdb and postgres refuse to run as root
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    };
    command.args(args).output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

impl PrivateCluster {
    pub(crate) fn create() -> Self {
        let initdb = format!("{PG_BIN}/initdb");
        assert!(Path::new(&initdb).exists(), "this test needs Postgres 15's server binaries at {PG_BIN} (Debian: postgresql-15)");
        let dir = tempfile::tempdir().expect("temp dir");
        let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status();
        assert!(status.map(|s| s.success()).unwrap_or(false) || !is_root(), "chown of the cluster dir");
        let data = dir.path().join("data");
        let out = run_as_postgres(&initdb, &["-D", data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Self { dir, port };
        cluster.start();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub(crate) fn start(&self) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50", self.port, self.dir.path().display());
        let log = self.dir.path().join("postgres.log");
        let out = run_as_postgres(&format!("{PG_BIN}/pg_ctl"), &["-D", self.data().to_str().unwrap(), "-o", &options, "-l", log.to_str().unwrap(), "-w", "-t", "60", "start"]);
        assert!(out.status.success(), "pg_ctl start: {} {}", String::from_utf8_lossy(&out.stdout), std::fs::read_to_string(&log).unwrap_or_default());
    }

    /// `pg_ctl stop -m fast`: open connections are terminated (SQLSTATE 57P01), new ones refused.
    pub(crate) fn stop(&self, mode: &str) {
        let out = run_as_postgres(&format!("{PG_BIN}/pg_ctl"), &["-D", self.data().to_str().unwrap(), "-m", mode, "-w", "stop"]);
        assert!(out.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub(crate) fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub(crate) async fn create_database(&self, name: &str) -> String {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin_url()).await.expect("private cluster answers");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false)
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = run_as_postgres(&format!("{PG_BIN}/pg_ctl"), &["-D", self.data().to_str().unwrap(), "-m", "immediate", "-w", "stop"]);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Up = 0,
    Down = 1,
    Restarted = 2,
}

#[derive(Debug)]
struct Sample {
    phase: u8,
    status: u16,
    error: Option<String>,
    elapsed: Duration,
    ended: Instant,
}

async fn refresh(http: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let form = [("grant_type", "refresh_token"), ("client_id", "backend"), ("client_secret", SECRET), ("refresh_token", token)];
    match http.post(url).form(&form).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(e) => (0, json!({ "error": format!("no answer: {e}") })),
    }
}

async fn ready(http: &reqwest::Client, base: &str) -> (u16, Duration) {
    let started = Instant::now();
    let status = http.get(format!("{base}/health/ready")).send().await.map(|r| r.status().as_u16()).unwrap_or(0);
    (status, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_fails_fast_with_503_and_heals_without_a_restart() {
    let cluster = PrivateCluster::create();
    let db_url = cluster.create_database("portcullis").await;
    let mut realm: Value = serde_json::from_str(&std::fs::read_to_string(fixture("secrets-realm.json")).unwrap()).unwrap();
    realm["refreshTokenReuseIntervalSeconds"] = json!(600);
    let realm_dir = tempfile::tempdir().unwrap();
    let realm_file = realm_dir.path().join("vault.json");
    std::fs::write(&realm_file, realm.to_string()).unwrap();
    let app = Spawn::new(Backend::Sqlite) // the store is the private cluster: db-url below wins
        .setting("db-url", &db_url)
        .setting("db-acquire-timeout", &ACQUIRE_TIMEOUT_SECS.to_string())
        .setting("rate-limit-token-per-client", "0")
        .setting("rate-limit-token-per-ip", "0")
        .import(&realm_file)
        .start()
        .await;
    assert_eq!(app.store.backend_name(), "postgres");
    let token_url = app.url("/realms/vault/protocol/openid-connect/token");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(15)).build().unwrap();

    // Arrange: eight refresh chains, each refreshed in a loop by its own task
    let mut chains = Vec::new();
    for _ in 0..8 {
        let form = [("grant_type", "password"), ("client_id", "backend"), ("client_secret", SECRET), ("username", "carol"), ("password", PASSWORD)];
        let body: Value = http.post(&token_url).form(&form).send().await.unwrap().json().await.unwrap();
        chains.push(Arc::new(Mutex::new(body["refresh_token"].as_str().expect("login").to_string())));
    }
    let phase = Arc::new(AtomicU8::new(Phase::Up as u8));
    let running = Arc::new(AtomicBool::new(true));
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let workers: Vec<_> = chains
        .iter()
        .map(|chain| {
            let (chain, phase, running, samples) = (chain.clone(), phase.clone(), running.clone(), samples.clone());
            let (http, url) = (http.clone(), token_url.clone());
            tokio::spawn(async move {
                while running.load(Ordering::SeqCst) {
                    let token = chain.lock().unwrap().clone();
                    let at = phase.load(Ordering::SeqCst);
                    let started = Instant::now();
                    let (status, body) = refresh(&http, &url, &token).await;
                    let elapsed = started.elapsed();
                    if status == 200 {
                        *chain.lock().unwrap() = body["refresh_token"].as_str().unwrap().to_string();
                    } else {
                        // a client retries the same token after a failure
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    let error = body["error"].as_str().map(str::to_string);
                    samples.lock().unwrap().push(Sample { phase: at, status, error, elapsed, ended: Instant::now() });
                }
            })
        })
        .collect();

    // Act 1: load on a healthy database
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let healthy = samples.lock().unwrap().len();

    // Act 2: stop the cluster under load
    phase.store(Phase::Down as u8, Ordering::SeqCst);
    let stopping = Instant::now();
    cluster.stop("fast");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (ready_down, ready_took) = ready(&http, &app.base).await;
    tokio::time::sleep(Duration::from_secs(4)).await;

    // Act 3: start it again; Portcullis is not restarted
    cluster.start();
    phase.store(Phase::Restarted as u8, Ordering::SeqCst);
    let restarted = Instant::now();
    let mut ready_up = 0;
    while restarted.elapsed() < Duration::from_secs(20) {
        ready_up = ready(&http, &app.base).await.0;
        if ready_up == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let healed_after = restarted.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    running.store(false, Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }

    // Assert
    let samples: Vec<Sample> = std::mem::take(&mut *samples.lock().unwrap());
    let of = |p: Phase| samples.iter().filter(move |s| s.phase == p as u8);
    for p in [Phase::Up, Phase::Down, Phase::Restarted] {
        let ok = of(p).filter(|s| s.status == 200).count();
        let unavailable = of(p).filter(|s| s.status == 503).count();
        let slowest = of(p).filter(|s| s.status != 200).map(|s| s.elapsed).max().unwrap_or_default();
        println!("{p:?}: {ok} x 200, {unavailable} x 503 (slowest failure {slowest:?}), {} others", of(p).count() - ok - unavailable);
    }
    println!("ready during the outage: {ready_down} in {ready_took:?}; ready again {healed_after:?} after the restart");
    let before_stop = || of(Phase::Up).filter(|s| s.ended < stopping);
    assert!(healthy > 20 && before_stop().all(|s| s.status == 200), "a healthy load first: {:?}", before_stop().filter(|s| s.status != 200).collect::<Vec<_>>());
    let down: Vec<&Sample> = of(Phase::Down).collect();
    assert!(down.iter().filter(|s| s.status == 503).count() >= 8, "requests failed during the outage: {down:?}");
    for sample in samples.iter().filter(|s| s.status != 200) {
        assert_eq!((sample.status, sample.error.as_deref()), (503, Some("temporarily_unavailable")), "only 503s, never a 500 or a hang: {sample:?}");
        let bound = Duration::from_secs(ACQUIRE_TIMEOUT_SECS) + Duration::from_millis(1500);
        assert!(sample.elapsed < bound, "failed fast (within db-acquire-timeout): {sample:?}");
    }
    assert_eq!(ready_down, 503, "readiness follows the database");
    assert!(ready_took < Duration::from_secs(3), "readiness answers within its own timeout: {ready_took:?}");
    assert_eq!(ready_up, 200, "ready again after {healed_after:?}");
    assert!(healed_after < Duration::from_secs(10), "healed within seconds: {healed_after:?}");
    let after: Vec<&Sample> = of(Phase::Restarted).collect();
    assert!(after.iter().rev().take(8).all(|s| s.status == 200), "every chain refreshes again: {:?}", after.iter().rev().take(16).collect::<Vec<_>>());
    for chain in &chains {
        let token = chain.lock().unwrap().clone();
        let (status, body) = refresh(&http, &token_url, &token).await;
        assert_eq!(status, 200, "no chain was broken by the outage: {body}");
    }
    app.stop().await;
    drop(cluster);
}

/// The error a statement gets when its server process is terminated (what `pg_ctl stop -m fast`
/// does to every connection) must read as "unavailable" (503), not as a server error (500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_connection_reads_as_unavailable() {
    use sqlx::Connection;
    let url = crate::helpers::postgres_admin_url();
    let mut victim = sqlx::PgConnection::connect(&url).await.expect("shared Postgres");
    let mut killer = sqlx::PgConnection::connect(&url).await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut victim).await.unwrap();
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&mut killer).await.unwrap();
    assert!(killed);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let error = sqlx::query("SELECT 1").execute(&mut victim).await.expect_err("the connection is gone");
    let raw = format!("{error:?}");
    println!("the terminated connection answered: {raw}");
    let store_error = portcullis::store::StoreError::from(error);

    assert!(store_error.is_unavailable(), "{raw} became {store_error:?}");
    let oauth = portcullis::oauth::OAuthError::from(store_error);
    assert_eq!((oauth.status(), oauth.code()), (503, "temporarily_unavailable"));
}
