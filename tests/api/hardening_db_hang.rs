//! A database that accepts connections but hangs (issue 7 item 5, the part `db-acquire-timeout`
//! cannot bound). Another session holds locks that make every write wait, as a migration or a
//! `CREATE INDEX` without CONCURRENTLY does: on SQLite a `BEGIN IMMEDIATE`, on Postgres
//! `LOCK ... IN SHARE MODE` on the session tables (reads pass, writes wait, so a refresh hangs
//! half done, after its read took the session's row lock). Requests get 503 in their family's
//! shape within `request-timeout`, readiness turns red, and once the lock goes everything works
//! with no restart: the refresh and the admin deletion cut short were rolled back, not half
//! committed. On Postgres a stalled network (a proxy that stops forwarding) is tested too.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::browser_flows::{browser_client, claims, start_login, submit_login};
use crate::helpers::{broken_families, fixture, fresh_database, Backend, Spawn, TestApp};

const SECRET: &str = "s3cr3t-client-value-0123456789";
const PASSWORD: &str = "correct-horse-battery-staple";
const TOKEN: &str = "/realms/vault/protocol/openid-connect/token";
/// The `request-timeout` these servers run with.
const LIMIT: Duration = Duration::from_secs(2);
/// "Within the timeout" on a 2-core machine shared with other tests.
const MARGIN: Duration = Duration::from_millis(1500);

async fn timed<F: Future>(future: F) -> (F::Output, Duration) {
    let started = Instant::now();
    let output = future.await;
    (output, started.elapsed())
}

async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let response = app.http.post(app.url(TOKEN)).form(form).send().await.expect("an answer, not a hang");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn password_login(app: &TestApp) -> (u16, Value) {
    token_request(app, &[("grant_type", "password"), ("client_id", "backend"), ("client_secret", SECRET), ("username", "carol"), ("password", PASSWORD)]).await
}

async fn refresh(app: &TestApp, token: &str) -> (u16, Value) {
    token_request(app, &[("grant_type", "refresh_token"), ("client_id", "backend"), ("client_secret", SECRET), ("refresh_token", token)]).await
}

async fn ready(app: &TestApp) -> (u16, Value) {
    app.get_json("/health/ready").await
}

/// Polls readiness until it answers 200; how long that took (or `None` after `patience`).
async fn ready_again(app: &TestApp, patience: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < patience {
        if ready(app).await.0 == 200 {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// Another session holding locks that make writes wait until it ends. Dropping it (a panicking
/// test) closes its connection, which ends the lock too.
enum Hang {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Hang {
    async fn start(backend: Backend, db_url: &str) -> Hang {
        use sqlx::Connection;
        match backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(db_url).await.unwrap();
                sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await.unwrap();
                Hang::Sqlite(conn)
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(db_url).await.unwrap();
                sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
                sqlx::query("LOCK TABLE user_sessions, client_sessions IN SHARE MODE").execute(&mut conn).await.unwrap();
                Hang::Postgres(conn)
            }
        }
    }

    /// Statements of other sessions waiting for this one's locks inside a transaction that had
    /// already run an earlier statement: requests caught half done (Postgres; SQLite makes them
    /// wait at `BEGIN`, before anything is done).
    async fn half_done(&mut self) -> i64 {
        match self {
            Hang::Sqlite(_) => 0,
            Hang::Postgres(conn) => sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND xact_start < query_start",
            )
            .fetch_one(conn)
            .await
            .unwrap(),
        }
    }

    async fn release(self) {
        match self {
            Hang::Sqlite(mut conn) => sqlx::query("ROLLBACK").execute(&mut conn).await.map(drop).unwrap(),
            Hang::Postgres(mut conn) => sqlx::query("ROLLBACK").execute(&mut conn).await.map(drop).unwrap(),
        }
    }
}

fn assert_cut_at_the_limit(what: &str, status: u16, took: Duration) {
    assert_eq!(status, 503, "{what}: 503 during the hang");
    assert!(took >= LIMIT - Duration::from_millis(50), "{what}: answered by request-timeout, not by an error: {took:?}");
    assert!(took < LIMIT + MARGIN, "{what}: within request-timeout: {took:?}");
}

backend_tests! {
    async fn a_hung_database_gets_503_within_the_request_timeout_and_heals_without_a_restart(backend: Backend) {
        let app = Spawn::new(backend)
            .setting("request-timeout", &LIMIT.as_secs().to_string())
            .setting("rate-limit-token-per-client", "0")
            .setting("rate-limit-token-per-ip", "0")
            .setting("rate-limit-login-per-ip", "0")
            .import(fixture("secrets-realm.json"))
            .import(fixture("browser-realm.json"))
            .start()
            .await;
        let (status, first) = password_login(&app).await;
        assert_eq!(status, 200, "{first}");
        let held = first["refresh_token"].as_str().unwrap().to_string();
        let (_, second) = password_login(&app).await;
        let doomed = claims(second["access_token"].as_str().unwrap())["sid"].as_str().unwrap().to_string();
        let admin = Admin::login(&app).await;
        let browser = browser_client();
        let login_page = start_login(&app, &browser, "app-a", &[]).await;
        assert_eq!(ready(&app).await.0, 200);

        // Act: writes hang; a refresh, an admin deletion, a login form and a password grant
        let doomed_path = format!("/admin/realms/vault/sessions/{doomed}");
        let mut hang = Hang::start(backend, &app.db_url).await;
        let mut caught_half_done = 0;
        let ((refreshed, refresh_took), (deleted, delete_took), (page, page_took), ((login_status, _), login_took), ()) = tokio::join!(
            timed(refresh(&app, &held)),
            timed(admin.delete(&doomed_path)),
            timed(submit_login(&app, &browser, &login_page, "dora", "dora-password-1", &[])),
            timed(password_login(&app)),
            async {
                tokio::time::sleep(LIMIT / 2).await;
                caught_half_done = hang.half_done().await;
            },
        );
        let ((ready_status, ready_body), ready_took) = timed(ready(&app)).await;
        let (discovery, _) = app.get_json("/realms/vault/.well-known/openid-configuration").await;
        hang.release().await;
        let healed = ready_again(&app, LIMIT + Duration::from_secs(5)).await;

        // Assert: each family's 503, at the limit
        println!("hang: refresh {refresh_took:?}, admin {delete_took:?}, page {page_took:?}, login {login_took:?}; \
                  {caught_half_done} caught half done; ready {ready_status} in {ready_took:?} ({ready_body}); ready again after {healed:?}");
        if backend == Backend::Postgres {
            assert!(caught_half_done >= 1, "the refresh's write waited after its read, inside one transaction");
        }
        assert_cut_at_the_limit("refresh", refreshed.0, refresh_took);
        assert_eq!(refreshed.1["error"], "temporarily_unavailable", "{}", refreshed.1);
        assert!(refreshed.1["error_description"].is_string());
        assert_cut_at_the_limit("admin session deletion", deleted.status, delete_took);
        assert!(deleted.body["errorMessage"].is_string(), "{deleted:?}");
        assert_eq!(deleted.cache_control.as_deref(), Some("no-store"));
        assert_cut_at_the_limit("login form", page.status, page_took);
        let content_type = page.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(content_type.starts_with("text/html"), "a page: {content_type}");
        assert!(page.html.contains("temporarily unavailable"), "{}", page.html);
        assert_cut_at_the_limit("password grant", login_status, login_took);
        assert_eq!(ready_status, 503, "readiness is red while requests time out: {ready_body}");
        assert!(ready_took < Duration::from_millis(2500), "readiness answers quickly: {ready_took:?}");
        assert_eq!(discovery, 200, "what needs no write still works during the hang");

        // Assert: healed, with nothing half done
        assert!(healed.is_some(), "ready again within seconds of the lock going");
        let (status, body) = refresh(&app, &held).await;
        assert_eq!(status, 200, "the refresh cut short was rolled back: the token still works: {body}");
        let (status, body) = refresh(&app, second["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 200, "the admin deletion cut short was rolled back: {body}");
        assert_eq!(admin.delete(&doomed_path).await.status, 204);
        assert_eq!(password_login(&app).await.0, 200);
        assert_eq!(broken_families(backend, &app.db_url).await, 0, "every family has exactly one live token");
        app.stop().await;
    }
}

/// A TCP proxy that can stop forwarding (a network stall: connections stay open, bytes stop).
struct StallingProxy {
    port: u16,
    stalled: tokio::sync::watch::Sender<bool>,
    accept: tokio::task::JoinHandle<()>,
}

impl StallingProxy {
    async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stalled, watch) = tokio::sync::watch::channel(false);
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let Ok(outbound) = tokio::net::TcpStream::connect(&upstream).await else { continue };
                let (from_client, to_client) = inbound.into_split();
                let (from_server, to_server) = outbound.into_split();
                tokio::spawn(pump(from_client, to_server, watch.clone()));
                tokio::spawn(pump(from_server, to_client, watch.clone()));
            }
        });
        Self { port, stalled, accept }
    }

    fn stall(&self, stalled: bool) {
        self.stalled.send_replace(stalled);
    }
}

impl Drop for StallingProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut stalled: tokio::sync::watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if stalled.wait_for(|stalled| !*stalled).await.is_err() || to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// `postgres://user@host:port/db` -> (`host:port`, the same URL through 127.0.0.1:`port`).
fn reroute(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, rest) = rest.rsplit_once('@').map(|(u, r)| (format!("{u}@"), r)).unwrap_or((String::new(), rest));
    let (host, path) = rest.split_once('/').unwrap();
    let host = if host.contains(':') { host.to_string() } else { format!("{host}:5432") };
    (host, format!("{scheme}://{userinfo}127.0.0.1:{port}/{path}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_network_to_postgres_turns_readiness_red_and_requests_get_503_until_it_flows_again() {
    let dir = tempfile::tempdir().unwrap();
    let direct = fresh_database(Backend::Postgres, &dir).await;
    let (upstream, _) = reroute(&direct, 0);
    let proxy = StallingProxy::start(upstream).await;
    let (_, proxied) = reroute(&direct, proxy.port);
    let app = Spawn::new(Backend::Sqlite) // the store is the proxied Postgres: db-url below wins
        .setting("db-url", &proxied)
        .setting("request-timeout", &LIMIT.as_secs().to_string())
        .setting("rate-limit-token-per-client", "0")
        .setting("rate-limit-token-per-ip", "0")
        .import(fixture("secrets-realm.json"))
        .start()
        .await;
    assert_eq!(app.store.backend_name(), "postgres");
    let (status, tokens) = password_login(&app).await;
    assert_eq!(status, 200, "{tokens}");
    let held = tokens["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(ready(&app).await.0, 200);

    // Act: the network stalls; readiness is asked before any request could time out
    proxy.stall(true);
    let ((ready_status, ready_body), ready_took) = timed(ready(&app)).await;
    let ((refresh_status, refresh_body), refresh_took) = timed(refresh(&app, &held)).await;
    proxy.stall(false);
    let healed = ready_again(&app, LIMIT + Duration::from_secs(5)).await;

    // Assert
    println!("stall: ready {ready_status} in {ready_took:?}, refresh {refresh_status} in {refresh_took:?}; ready again after {healed:?}");
    assert_eq!(ready_status, 503, "the ping itself hangs: {ready_body}");
    assert!(ready_took < Duration::from_millis(2500), "readiness keeps its own 2 s bound: {ready_took:?}");
    assert_cut_at_the_limit("refresh", refresh_status, refresh_took);
    assert_eq!(refresh_body["error"], "temporarily_unavailable");
    assert!(healed.is_some(), "ready again once bytes flow");
    let (status, body) = refresh(&app, &held).await;
    assert_eq!(status, 200, "the stalled refresh never committed: the token still works: {body}");
    assert_eq!(broken_families(Backend::Postgres, &direct).await, 0);
    app.stop().await;
}
