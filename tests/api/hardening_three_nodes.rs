//! Several nodes (issue 7 item 8): three real `portcullis` processes on their own ports over one
//! fresh Postgres database, with one master key and one public hostname, as behind a balancer.
//! A session ended on node A (logout, admin deletion) is refused on B and C at once, since
//! sessions are never cached; a realm or client change through A's admin API and a key rotation
//! by `portcullis keys rotate` reach B's and C's caches within a second (LISTEN/NOTIFY; the cache
//! TTL is 5 s). Postgres only: SQLite serves one node. Every child is killed on every exit path.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::browser_flows::claims;
use crate::helpers::{fixture, fresh_database, Backend};

const SECRET: &str = "s3cr3t-client-value-0123456789";
const PASSWORD: &str = "correct-horse-battery-staple";
const ADMIN_PASSWORD: &str = "a-long-bootstrap-password";
const HOSTNAME: &str = "http://portcullis.test";
const OIDC: &str = "/realms/vault/protocol/openid-connect";

/// The nodes started so far; dropping it (a passing test, a failed assertion, a panic while
/// starting) kills and reaps every one.
struct Cluster {
    children: Vec<Child>,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts `portcullis start` on `db_url` and waits for it to print its address.
    fn start(&mut self, name: &str, db_url: &str, master_key: &str, import: Option<&std::path::Path>) -> String {
        let data_dir = self.dir.path().join(name);
        let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        for (variable, _) in std::env::vars().filter(|(n, _)| n.starts_with("PORTCULLIS_")) {
            command.env_remove(variable);
        }
        command
            .args(["start", "--http-host", "127.0.0.1", "--http-port", "0", "--hostname", HOSTNAME, "--db-url", db_url, "--data-dir"])
            .arg(&data_dir)
            .args(["--rate-limit-token-per-client", "0", "--rate-limit-token-per-ip", "0", "--log-level", "warn,portcullis::app=info"])
            .env("PORTCULLIS_MASTER_KEY", master_key)
            .env("PORTCULLIS_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(realm_file) = import {
            command.arg("--import-realm").arg(realm_file);
        }
        let mut child = command.spawn().expect("portcullis starts");
        let stdout = child.stdout.take().expect("piped stdout");
        self.children.push(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let address = line[at + "listening on ".len()..].split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(address);
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("node {name} never printed its address"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn form(http: &reqwest::Client, url: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let response = http.post(url).form(fields).send().await.expect("the node answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn carol(http: &reqwest::Client, node: &str) -> Value {
    let (status, tokens) = form(http, &format!("{node}{OIDC}/token"), &[("grant_type", "password"), ("client_id", "backend"),
        ("client_secret", SECRET), ("username", "carol"), ("password", PASSWORD), ("scope", "openid")]).await;
    assert_eq!(status, 200, "password grant on {node}: {tokens}");
    tokens
}

async fn userinfo(http: &reqwest::Client, node: &str, tokens: &Value) -> u16 {
    let access = tokens["access_token"].as_str().unwrap_or_default();
    http.get(format!("{node}{OIDC}/userinfo")).bearer_auth(access).send().await.expect("answer").status().as_u16()
}

async fn refresh(http: &reqwest::Client, node: &str, tokens: &Value) -> (u16, Value) {
    let refresh_token = tokens["refresh_token"].as_str().unwrap_or_default();
    form(http, &format!("{node}{OIDC}/token"), &[("grant_type", "refresh_token"), ("client_id", "backend"),
        ("client_secret", SECRET), ("refresh_token", refresh_token)]).await
}

async fn introspect(http: &reqwest::Client, node: &str, tokens: &Value) -> Value {
    let access = tokens["access_token"].as_str().unwrap_or_default();
    form(http, &format!("{node}{OIDC}/token/introspect"), &[("client_id", "backend"), ("client_secret", SECRET), ("token", access)]).await.1
}

async fn expires_in(http: &reqwest::Client, node: &str) -> Value {
    form(http, &format!("{node}{OIDC}/token"), &[("grant_type", "client_credentials"), ("client_id", "backend"), ("client_secret", SECRET)]).await.1
}

async fn frontend_login(http: &reqwest::Client, node: &str) -> (u16, Value) {
    form(http, &format!("{node}{OIDC}/token"), &[("grant_type", "password"), ("client_id", "frontend"),
        ("username", "carol"), ("password", PASSWORD)]).await
}

async fn kids(http: &reqwest::Client, node: &str) -> Vec<String> {
    let jwks: Value = http.get(format!("{node}{OIDC}/certs")).send().await.expect("answer").json().await.expect("JWKS");
    jwks["keys"].as_array().into_iter().flatten().filter_map(|k| k["kid"].as_str().map(str::to_string)).collect()
}

/// Polls `check` on `node` every 20 ms until it holds; the time since `since`. Fails after a second.
async fn seen_within_a_second<F, Fut>(what: &str, node: &str, since: Instant, check: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    while since.elapsed() < Duration::from_secs(1) {
        if check().await {
            return since.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what}: not seen by {node} within a second");
}

/// `kid`s named in the output of `portcullis keys rotate`.
fn rotate_keys(db_url: &str, master_key: &str) -> Vec<String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    for (variable, _) in std::env::vars().filter(|(n, _)| n.starts_with("PORTCULLIS_")) {
        command.env_remove(variable);
    }
    let out = command
        .args(["keys", "rotate", "--realm", "vault", "--db-url", db_url, "--log-level", "warn"])
        .env("PORTCULLIS_MASTER_KEY", master_key)
        .output()
        .expect("portcullis keys rotate runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "keys rotate: {stdout} {}", String::from_utf8_lossy(&out.stderr));
    let listed = stdout.split("new active keys").nth(1).unwrap_or_else(|| panic!("no kids in {stdout:?}"));
    listed.split(',').map(|kid| kid.trim().to_string()).filter(|kid| !kid.is_empty()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_revocations_at_once_and_realm_client_and_key_changes_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(Backend::Postgres, &dir).await;
    let master_key = portcullis::crypto::MasterKey::generate().to_base64();
    let mut cluster = Cluster { children: Vec::new(), dir };
    // A imports the realm and bootstraps realm master; B and C find both in the database
    let a = cluster.start("a", &db_url, &master_key, Some(&fixture("secrets-realm.json")));
    let b = cluster.start("b", &db_url, &master_key, None);
    let c = cluster.start("c", &db_url, &master_key, None);
    let others = [b.as_str(), c.as_str()];
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let (status, admin) = form(&http, &format!("{a}/realms/master/protocol/openid-connect/token"), &[("grant_type", "password"),
        ("client_id", "admin-cli"), ("username", "admin"), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(status, 200, "admin token from A: {admin}");
    let admin = admin["access_token"].as_str().unwrap().to_string();

    // 1. a logout on A: the session's tokens are refused on B and C at once (no waiting)
    let tokens = carol(&http, &b).await;
    for node in others {
        assert_eq!(userinfo(&http, node, &tokens).await, 200, "{node} accepts the live session");
    }
    let (status, _) = form(&http, &format!("{a}{OIDC}/logout"), &[("client_id", "backend"), ("client_secret", SECRET),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap())]).await;
    assert_eq!(status, 204, "logout on A");
    for node in others {
        assert_eq!(userinfo(&http, node, &tokens).await, 401, "{node}: userinfo after the logout on A");
        let (status, body) = refresh(&http, node, &tokens).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{node}: refresh after the logout on A");
        assert_eq!(introspect(&http, node, &tokens).await["active"], false, "{node}: introspection after the logout on A");
    }

    // 2. an admin session deletion on A, of a session started on C
    let tokens = carol(&http, &c).await;
    let sid = claims(tokens["access_token"].as_str().unwrap())["sid"].as_str().unwrap().to_string();
    let deleted = http.delete(format!("{a}/admin/realms/vault/sessions/{sid}")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(deleted.status(), 204, "admin session deletion on A");
    for node in others {
        assert_eq!(userinfo(&http, node, &tokens).await, 401, "{node}: userinfo after the admin deletion on A");
        assert_eq!(refresh(&http, node, &tokens).await.0, 400, "{node}: refresh after the admin deletion on A");
    }

    // 3. a realm setting changed through A's admin API (B and C hold vault in their caches)
    for node in others {
        assert_eq!(expires_in(&http, node).await["expires_in"], 300, "{node} caches vault");
    }
    let put = http.put(format!("{a}/admin/realms/vault")).bearer_auth(&admin).json(&json!({ "accessTokenLifespan": 120 })).send().await.unwrap();
    assert_eq!(put.status(), 204);
    let changed = Instant::now();
    let mut realm_delays = Vec::new();
    for node in others {
        let http = &http;
        realm_delays.push(seen_within_a_second("accessTokenLifespan 120", node, changed, || async move {
            expires_in(http, node).await["expires_in"] == 120
        }).await);
    }

    // 4. a client disabled through A's admin API
    let found: Value = http.get(format!("{a}/admin/realms/vault/clients?clientId=frontend")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    let uuid = found[0]["id"].as_str().expect("frontend's id").to_string();
    for node in others {
        assert_eq!(frontend_login(&http, node).await.0, 200, "{node} caches the enabled client");
    }
    let put = http.put(format!("{a}/admin/realms/vault/clients/{uuid}")).bearer_auth(&admin).json(&json!({ "enabled": false })).send().await.unwrap();
    assert_eq!(put.status(), 204);
    let changed = Instant::now();
    let mut client_delays = Vec::new();
    for node in others {
        let http = &http;
        client_delays.push(seen_within_a_second("client disabled", node, changed, || async move {
            let (status, body) = frontend_login(http, node).await;
            status == 401 && body["error"] == "invalid_client"
        }).await);
    }

    // 5. a key rotation (`portcullis keys rotate` on the database): B and C publish and use it
    let before = kids(&http, &b).await;
    let (url, key) = (db_url.clone(), master_key.clone());
    let rotated = tokio::task::spawn_blocking(move || rotate_keys(&url, &key)).await.unwrap();
    let changed = Instant::now();
    assert!(!rotated.is_empty() && rotated.iter().all(|kid| !before.contains(kid)), "new kids {rotated:?}, before {before:?}");
    let mut key_delays = Vec::new();
    for node in others {
        let (http, rotated) = (&http, &rotated);
        key_delays.push(seen_within_a_second("rotated key in JWKS", node, changed, || async move {
            let served = kids(http, node).await;
            rotated.iter().all(|kid| served.contains(kid))
        }).await);
        let access = expires_in(&http, node).await["access_token"].as_str().unwrap().to_string();
        let header = access.split('.').next().unwrap();
        let header: Value = serde_json::from_slice(&base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap()).unwrap();
        assert!(rotated.iter().any(|kid| header["kid"] == kid.as_str()), "{node} signs with a new key: {header}");
    }
    println!("B, C saw: realm change after {realm_delays:?}, client change after {client_delays:?}, key rotation after {key_delays:?}");
    drop(cluster);
}
