//! Starting a Portcullis binary for a benchmark: a fresh data dir, a generated realm with a
//! confidential client and N users, the chosen backend and signing algorithm; start-up time to
//! the first served discovery request, and resident memory read from /proc.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

pub const CLIENT_ID: &str = "bench-client";
pub const CLIENT_SECRET: &str = "bench-secret-0123456789abcdef";
pub const REALM: &str = "bench";

pub struct Spawned {
    pub child: Child,
    pub base: String,
    pub startup: Duration,
    _dir: tempfile::TempDir,
}

impl Spawned {
    pub fn issuer(&self) -> String {
        format!("{}/realms/{REALM}", self.base)
    }

    /// VmRSS of the server process in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn users(count: usize) -> Vec<(String, String)> {
    (0..count).map(|i| (format!("user{i}"), format!("password-{i}"))).collect()
}

/// The realm JSON the benchmark imports.
pub fn realm_json(users: &[(String, String)], algorithm: &str) -> serde_json::Value {
    json!({
        "realm": REALM,
        "defaultSignatureAlgorithm": algorithm,
        "clients": [{
            "clientId": CLIENT_ID,
            "secret": CLIENT_SECRET,
            "publicClient": false,
            "directAccessGrantsEnabled": true,
            "serviceAccountsEnabled": true,
            "redirectUris": ["http://127.0.0.1/cb"]
        }],
        "users": users.iter().map(|(u, p)| json!({
            "username": u, "enabled": true, "email": format!("{u}@bench.example"),
            "credentials": [{ "type": "password", "value": p }]
        })).collect::<Vec<_>>(),
    })
}

/// Starts `binary start-dev` (SQLite) or `binary start` on `db_url` with a generated realm: a
/// first start imports it (hashing N passwords, generating keys), then the server is stopped and
/// started again on the same data, and that second start is the one measured.
/// `shipped_limits`: keep the server's default rate limits (Portcullis counts only failures, so
/// valid load is never throttled); otherwise they are turned off, as the matrix has always run.
pub fn spawn(binary: &str, db_url: Option<&str>, users: &[(String, String)], algorithm: &str) -> anyhow::Result<Spawned> {
    spawn_with(binary, db_url, users, algorithm, false)
}

pub fn spawn_with(
    binary: &str,
    db_url: Option<&str>,
    users: &[(String, String)],
    algorithm: &str,
    shipped_limits: bool,
) -> anyhow::Result<Spawned> {
    let dir = tempfile::tempdir()?;
    let realm_file = dir.path().join("bench-realm.json");
    std::fs::write(&realm_file, realm_json(users, algorithm).to_string())?;
    let (mut first, _, _) = start(binary, db_url, dir.path(), &realm_file, shipped_limits)?;
    let _ = Command::new("kill").arg("-TERM").arg(first.id().to_string()).status();
    let _ = first.wait();
    let (child, base, startup) = start(binary, db_url, dir.path(), &realm_file, shipped_limits)?;
    Ok(Spawned { child, base, startup, _dir: dir })
}

fn start(
    binary: &str,
    db_url: Option<&str>,
    dir: &std::path::Path,
    realm_file: &std::path::Path,
    shipped_limits: bool,
) -> anyhow::Result<(Child, String, Duration)> {
    let mut command = Command::new(binary);
    match db_url {
        None => {
            command.args(["start-dev", "--data-dir"]).arg(dir);
        }
        Some(url) => {
            command
                // the base URL is whatever address the bench connects to
                .args(["start", "--db-url", url, "--http-host", "127.0.0.1", "--hostname-strict", "false", "--data-dir"])
                .arg(dir)
                .env("PORTCULLIS_MASTER_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
                .env("PORTCULLIS_BOOTSTRAP_ADMIN_PASSWORD", "bench-admin-password");
        }
    }
    command
        .args(["--http-port", "0", "--log-level", "warn,portcullis::app=info", "--import-realm"])
        .arg(realm_file)
        .env_remove("PORTCULLIS_CONFIG")
        // the password scenario measures throughput at up to 128 concurrent logins: let them queue
        .env("PORTCULLIS_PASSWORD_HASH_QUEUE", "100000");
    if !shipped_limits {
        // a load generator on one address is what the per-IP and per-client limits exist to stop
        command
            .env("PORTCULLIS_RATE_LIMIT_TOKEN_PER_CLIENT", "0")
            .env("PORTCULLIS_RATE_LIMIT_TOKEN_PER_IP", "0")
            .env("PORTCULLIS_RATE_LIMIT_LOGIN_PER_IP", "0")
            .env("PORTCULLIS_RATE_LIMIT_PASSWORD_FAILURES_PER_IP", "0");
    }
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let started = Instant::now();
    let mut child = command.spawn().with_context(|| format!("starting {binary}"))?;
    let stdout = child.stdout.take().context("server stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                let url = line[at + "listening on ".len()..].split_whitespace().next().unwrap_or("").to_string();
                let _ = tx.send(url);
            }
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(120)).context("the server never printed its address")?;
    let discovery = format!("{base}/realms/{REALM}/.well-known/openid-configuration");
    loop {
        if status_of(&discovery) == Some(200) {
            break;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(120), "discovery never answered");
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok((child, base, started.elapsed()))
}

/// A blocking GET returning the status code, without an HTTP client (used before the runtime).
pub fn status_of(url: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}")))?;
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}
