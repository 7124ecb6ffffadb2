//! Several nodes and crashes (issue 7 items 7 and 8, partly). Two in-process nodes over one
//! Postgres database: a realm, client or key change committed through either node, a tool or
//! plain SQL reaches the other node's cache at once (LISTEN/NOTIFY; each check runs on a cache
//! entry younger than a second, well inside the 5 s TTL, so only the notification explains it).
//! Then the real binary is killed with SIGKILL under a load of refreshes and started again on
//! the same database: every refresh chain continues and every family still has exactly one
//! live token.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{broken_families, fixture, fresh_database, Backend, Spawn, TestApp};

const SECRET: &str = "s3cr3t-client-value-0123456789";
const PASSWORD: &str = "correct-horse-battery-staple";
const TOKEN: &str = "/realms/vault/protocol/openid-connect/token";
const HOSTNAME: &str = "http://portcullis.test";

async fn token_request(http: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    match http.post(format!("{base}{TOKEN}")).form(form).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(e) => (0, json!({ "error": e.to_string() })),
    }
}

async fn client_credentials(app: &TestApp) -> (u16, Value) {
    token_request(&app.http, &app.base, &[("grant_type", "client_credentials"), ("client_id", "backend"), ("client_secret", SECRET)]).await
}

/// Polls `check` every 20 ms for up to a second; returns how long it took to hold.
pub async fn within_a_second<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        if check().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what}: not seen within a second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_committed_anywhere_reaches_the_other_nodes_cache_at_once() {
    // behind one balancer every node has the same public hostname, hence the same issuer
    let a = Spawn::new(Backend::Postgres).setting("hostname", HOSTNAME).import(fixture("secrets-realm.json")).start().await;
    // node B: the same database and master key, its own process state and cache
    let b = Spawn::new(Backend::Sqlite)
        .setting("hostname", HOSTNAME)
        .setting("db-url", &a.db_url)
        .setting("master-key", &a.master_key.to_base64())
        .start()
        .await;
    assert_eq!(b.store.backend_name(), "postgres");
    let mut realm = a.store.realm_by_name("vault").await.unwrap().unwrap();

    // a realm setting changed through node A's store
    assert_eq!(client_credentials(&b).await.1["expires_in"], 300, "B caches vault now");
    realm.settings.access_token_lifespan = 120;
    assert!(a.store.update_realm(&realm).await.unwrap());
    let took = within_a_second("accessTokenLifespan", || async { client_credentials(&b).await.1["expires_in"] == 120 }).await;
    println!("realm setting seen by B after {took:?}");

    // a client disabled with plain SQL, as a tool or an operator would
    let (status, _) = token_request(&b.http, &b.base, &[("grant_type", "password"), ("client_id", "frontend"),
        ("username", "carol"), ("password", PASSWORD)]).await;
    assert_eq!(status, 200, "B caches the enabled client");
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&a.db_url).await.unwrap();
        sqlx::query("UPDATE clients SET enabled = FALSE WHERE client_id = 'frontend'").execute(&mut conn).await.unwrap();
    }
    let took = within_a_second("client disabled", || async {
        let (status, body) = token_request(&b.http, &b.base, &[("grant_type", "password"), ("client_id", "frontend"),
            ("username", "carol"), ("password", PASSWORD)]).await;
        status == 401 && body["error"] == "invalid_client"
    }).await;
    println!("client change seen by B after {took:?}");

    // a key rotation (as `portcullis keys rotate` on A does): B publishes and signs with it
    let (_, before) = b.get_json("/realms/vault/protocol/openid-connect/certs").await;
    let now = portcullis::clock::Clock::now(&a.clock);
    let key = portcullis::oauth::tokens::keys::generate_signing_key(&realm.id, portcullis::domain::SignatureAlgorithm::RS256, &a.master_key, now).unwrap();
    a.store.rotate_keys(&realm.id, std::slice::from_ref(&key), now + 3600).await.unwrap();
    let took = within_a_second("rotated key", || async {
        let (_, jwks) = b.get_json("/realms/vault/protocol/openid-connect/certs").await;
        jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == key.kid.as_str())
    }).await;
    println!("key rotation seen by B after {took:?}");
    let (_, body) = client_credentials(&b).await;
    let header = body["access_token"].as_str().unwrap().split('.').next().unwrap().to_string();
    let header: Value = serde_json::from_slice(&base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap()).unwrap();
    assert_eq!(header["kid"], key.kid.as_str(), "B signs with the new key");
    assert!(before["keys"].as_array().unwrap().iter().all(|k| k["kid"] != key.kid.as_str()));

    // sessions are never cached: a logout on A is refused on B at once
    let (status, tokens) = token_request(&b.http, &b.base, &[("grant_type", "password"), ("client_id", "backend"),
        ("client_secret", SECRET), ("username", "carol"), ("password", PASSWORD)]).await;
    assert_eq!(status, 200, "{tokens}");
    let logout = a.http.post(a.url("/realms/vault/protocol/openid-connect/logout"))
        .form(&[("client_id", "backend"), ("client_secret", SECRET), ("refresh_token", tokens["refresh_token"].as_str().unwrap())])
        .send().await.unwrap();
    assert_eq!(logout.status(), 204);
    let userinfo = b.http.get(b.url("/realms/vault/protocol/openid-connect/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(userinfo.status(), 401, "the session ended on A is ended on B");
    b.stop().await;
    a.stop().await;
}

/// The real binary, started with `start` on a given database.
struct Node {
    child: Child,
    base: String,
}

impl Node {
    fn start(db_url: &str, data_dir: &std::path::Path, master_key: &str, realm_file: &std::path::Path) -> Node {
        let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("PORTCULLIS_")) {
            command.env_remove(name);
        }
        let mut child = command
            .args(["start", "--http-host", "127.0.0.1", "--http-port", "0", "--hostname", HOSTNAME, "--db-url", db_url, "--data-dir"])
            .arg(data_dir)
            .arg("--import-realm")
            .arg(realm_file)
            .args(["--rate-limit-token-per-client", "0", "--rate-limit-token-per-ip", "0", "--log-level", "warn,portcullis::app=info"])
            .env("PORTCULLIS_MASTER_KEY", master_key)
            .env("PORTCULLIS_BOOTSTRAP_ADMIN_PASSWORD", "a-long-bootstrap-password")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("portcullis starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let _ = tx.send(line[at + "listening on ".len()..].split_whitespace().next().unwrap().to_string());
                }
            }
        });
        let base = rx.recv_timeout(Duration::from_secs(60)).expect("the server prints its address");
        Node { child, base }
    }

    fn kill_9(mut self) {
        Command::new("kill").arg("-KILL").arg(self.child.id().to_string()).status().unwrap();
        let _ = self.child.wait();
    }

    fn terminate(mut self) {
        Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        let _ = self.child.wait();
    }
}

backend_tests! {
    async fn kill_9_under_load_loses_no_committed_refresh(backend: Backend) {
        let dir = tempfile::tempdir().unwrap();
        let db_url = fresh_database(backend, &dir).await;
        let master_key = portcullis::crypto::MasterKey::generate().to_base64();
        let mut realm: Value = serde_json::from_str(&std::fs::read_to_string(fixture("secrets-realm.json")).unwrap()).unwrap();
        realm["refreshTokenReuseIntervalSeconds"] = json!(600);
        let realm_file = dir.path().join("vault.json");
        std::fs::write(&realm_file, realm.to_string()).unwrap();
        let first = Node::start(&db_url, dir.path(), &master_key, &realm_file);
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        let login = [("grant_type", "password"), ("client_id", "backend"), ("client_secret", SECRET), ("username", "carol"), ("password", PASSWORD)];
        let mut chains = Vec::new();
        for _ in 0..8 {
            let (status, body) = token_request(&http, &first.base, &login).await;
            assert_eq!(status, 200, "{body}");
            chains.push(Arc::new(Mutex::new(body["refresh_token"].as_str().unwrap().to_string())));
        }
        let running = Arc::new(AtomicBool::new(true));
        let refreshed = Arc::new(Mutex::new(0usize));
        let base = first.base.clone();
        let workers: Vec<_> = chains.iter().map(|chain| {
            let (chain, running, refreshed, http, base) = (chain.clone(), running.clone(), refreshed.clone(), http.clone(), base.clone());
            tokio::spawn(async move {
                while running.load(Ordering::SeqCst) {
                    let token = chain.lock().unwrap().clone();
                    let (status, body) = token_request(&http, &base, &[("grant_type", "refresh_token"), ("client_id", "backend"),
                        ("client_secret", SECRET), ("refresh_token", &token)]).await;
                    if status == 200 {
                        *chain.lock().unwrap() = body["refresh_token"].as_str().unwrap().to_string();
                        *refreshed.lock().unwrap() += 1;
                    } else {
                        assert_eq!(status, 0, "only a dead server fails a refresh here: {body}");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            })
        }).collect();

        tokio::time::sleep(Duration::from_millis(1500)).await;
        first.kill_9();
        let done_before_the_crash = *refreshed.lock().unwrap();
        running.store(false, Ordering::SeqCst);
        for worker in workers {
            worker.await.unwrap();
        }
        let second = Node::start(&db_url, dir.path(), &master_key, &realm_file);
        let mut continued = 0;
        for chain in &chains {
            let token = chain.lock().unwrap().clone();
            let (status, body) = token_request(&http, &second.base, &[("grant_type", "refresh_token"), ("client_id", "backend"),
                ("client_secret", SECRET), ("refresh_token", &token)]).await;
            assert_eq!(status, 200, "the chain survives the crash: {body}");
            let (status, _) = token_request(&http, &second.base, &[("grant_type", "refresh_token"), ("client_id", "backend"),
                ("client_secret", SECRET), ("refresh_token", body["refresh_token"].as_str().unwrap())]).await;
            assert_eq!(status, 200);
            continued += 1;
        }
        let (status, _) = token_request(&http, &second.base, &login).await;
        second.terminate();

        assert!(done_before_the_crash > 20, "a real load was running: {done_before_the_crash}");
        assert_eq!(continued, 8);
        assert_eq!(status, 200, "logins work after the restart");
        assert_eq!(broken_families(backend, &db_url).await, 0, "every family has exactly one live token");
    }
}
