//! The `portcullis` binary as an operator runs it: config errors, start-dev and its restart on
//! the same data dir, graceful shutdown, import/export and key rotation commands.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::fixture;

fn portcullis() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("PORTCULLIS_")) {
        command.env_remove(name);
    }
    command.env("PORTCULLIS_LOG_LEVEL", "info");
    command
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("portcullis runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_config_error(output: Output, key: &str, value: &str) {
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "exit status 2 for a bad setting: {message}");
    assert!(message.contains(&format!("'{key}'")), "names the key {key}: {message}");
    assert!(message.contains(value), "names the value {value}: {message}");
    assert!(!message.contains("panicked"), "{message}");
}

#[test]
fn a_bad_flag_value_names_the_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(portcullis().args(["start-dev", "--http-port", "eighty", "--data-dir"]).arg(dir.path()));
    assert_config_error(output, "http-port", "eighty");
}

#[test]
fn a_bad_environment_value_names_the_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(portcullis().args(["start-dev", "--data-dir"]).arg(dir.path()).env("PORTCULLIS_LOG_FORMAT", "xml"));
    assert_config_error(output, "log-format", "xml");
}

#[test]
fn a_bad_config_file_entry_names_the_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.toml");
    std::fs::write(&file, "proxy-headers = \"sometimes\"\n").unwrap();
    let output = run(portcullis().args(["start-dev", "--config"]).arg(&file).arg("--data-dir").arg(dir.path()));
    assert_config_error(output, "proxy-headers", "sometimes");
    std::fs::write(&file, "http-prot = 8080\n").unwrap();
    let output = run(portcullis().args(["start-dev", "--config"]).arg(&file));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown setting 'http-prot'"), "{}", stderr(&output));
}

#[test]
fn production_start_refuses_missing_master_key_and_default_password() {
    let output = run(portcullis().args(["start", "--db-url", "sqlite:///tmp/never.db"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("'master-key'"), "{}", stderr(&output));
    let key = portcullis::crypto::MasterKey::generate().to_base64();
    let output = run(portcullis()
        .args(["start", "--db-url", "sqlite:///tmp/never.db"])
        .env("PORTCULLIS_MASTER_KEY", key)
        .env("PORTCULLIS_BOOTSTRAP_ADMIN_PASSWORD", "admin"));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("'bootstrap-admin-password'"), "{}", stderr(&output));
}

/// A running `start-dev` and the base URL it printed.
pub(crate) struct DevServer {
    child: Child,
    pub(crate) base: String,
}

impl DevServer {
    pub(crate) fn start(data_dir: &Path, extra: &[&str]) -> (DevServer, Duration) {
        let started = Instant::now();
        let mut child = portcullis()
            .args(["start-dev", "--http-port", "0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start-dev spawns");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("[start-dev] {line}");
                if let Some(at) = line.find("listening on http://") {
                    let url = line[at + "listening on ".len()..].split_whitespace().next().unwrap().to_string();
                    let _ = tx.send(url);
                }
            }
        });
        let base = rx.recv_timeout(Duration::from_secs(30)).expect("start-dev prints its address");
        let server = DevServer { child, base };
        let ready = server.wait_for_discovery("master");
        (server, started.elapsed().max(ready))
    }

    fn wait_for_discovery(&self, realm: &str) -> Duration {
        let started = Instant::now();
        let url = format!("{}/realms/{realm}/.well-known/openid-configuration", self.base);
        loop {
            if let Ok(response) = reqwest::blocking_get(&url) {
                if response == 200 {
                    return started.elapsed();
                }
            }
            assert!(started.elapsed() < Duration::from_secs(30), "discovery never answered");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn get_status(&self, path: &str) -> u16 {
        reqwest::blocking_get(&format!("{}{path}", self.base)).unwrap_or(0)
    }

    /// SIGTERM, then the exit status.
    pub(crate) fn terminate(mut self) -> Option<i32> {
        Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

mod reqwest {
    //! A blocking GET without pulling in reqwest's blocking feature: status code only.
    pub fn blocking_get(url: &str) -> Result<u16, std::io::Error> {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
        let mut stream = std::net::TcpStream::connect(host)?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        response
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other("no status line"))
    }
}

#[test]
fn start_dev_serves_restarts_on_the_same_data_dir_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let realm_file = fixture("secrets-realm.json");
    let import = ["--import-realm", realm_file.to_str().unwrap()];

    let (server, first_ready) = DevServer::start(dir.path(), &import);
    println!("first start: discovery served {} ms after spawn", first_ready.as_millis());
    assert_eq!(server.get_status("/realms/vault/.well-known/openid-configuration"), 200);
    assert!(dir.path().join("master.key").exists(), "master key generated into the data dir");
    assert_eq!(server.terminate(), Some(0), "SIGTERM exits 0");

    let (server, second_ready) = DevServer::start(dir.path(), &import);
    println!("restart: discovery served {} ms after spawn", second_ready.as_millis());
    assert_eq!(server.get_status("/realms/vault/.well-known/openid-configuration"), 200);
    assert_eq!(server.get_status("/realms/master/protocol/openid-connect/certs"), 200);
    assert_eq!(server.terminate(), Some(0));

    let export = run(portcullis().args(["export", "--realm", "vault", "--data-dir"]).arg(dir.path()));
    assert!(export.status.success(), "{}", stderr(&export));
    let json: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(json["realm"], "vault");
    assert_eq!(json["users"].as_array().unwrap().len(), 2, "carol and the service account, once each");
}

#[test]
fn import_refuses_an_existing_realm_unless_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("secrets-realm.json");
    let import = |replace: bool| {
        let mut command = portcullis();
        command.args(["import", "--file"]).arg(&file).arg("--data-dir").arg(dir.path());
        if replace {
            command.arg("--override");
        }
        run(&mut command)
    };
    let first = import(false);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(String::from_utf8_lossy(&first.stdout).contains("imported realm vault"));
    let second = import(false);
    assert!(!second.status.success());
    assert!(stderr(&second).contains("realm vault already exists"), "{}", stderr(&second));
    let third = import(true);
    assert!(third.status.success(), "{}", stderr(&third));

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"realm": "bad", "users": [{"username": ["not", "a", "string"]}]}"#).unwrap();
    let output = run(portcullis().args(["import", "--file"]).arg(&bad).arg("--data-dir").arg(dir.path()));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("users[0].username"), "{}", stderr(&output));
}

#[test]
fn keys_rotate_prints_the_new_key_ids() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("secrets-realm.json");
    let imported = run(portcullis().args(["import", "--file"]).arg(&file).arg("--data-dir").arg(dir.path()));
    assert!(imported.status.success(), "{}", stderr(&imported));
    let output = run(portcullis().args(["keys", "rotate", "--realm", "vault", "--data-dir"]).arg(dir.path()));
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("realm vault: new active keys"), "{stdout}");
    let unknown = run(portcullis().args(["keys", "rotate", "--realm", "nope", "--data-dir"]).arg(dir.path()));
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("realm nope does not exist"));
}

#[tokio::test]
async fn migrate_applies_the_schema_to_a_fresh_postgres_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_database(crate::helpers::Backend::Postgres, &dir).await;
    let output = run(portcullis().args(["migrate", "--db-url", &url]));
    assert!(output.status.success(), "{}", stderr(&output));
    let store = crate::helpers::open_store(&url).await;
    assert!(store.list_realms().await.unwrap().is_empty());
}

#[tokio::test]
async fn admin_helpers_create_a_user_list_and_end_their_sessions_on_the_database() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("secrets-realm.json");
    let imported = run(portcullis().args(["import", "--file"]).arg(&file).arg("--data-dir").arg(dir.path()));
    assert!(imported.status.success(), "{}", stderr(&imported));
    let mut child = portcullis()
        .args(["admin", "create-user", "--realm", "vault", "--username", "Zed", "--password-stdin", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"zeds-password\n").unwrap();
    let created = child.wait_with_output().unwrap();
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(String::from_utf8_lossy(&created.stdout).contains("created user Zed"));
    let again = run(portcullis().args(["admin", "create-user", "--realm", "vault", "--username", "zed", "--data-dir"]).arg(dir.path()));
    assert!(!again.status.success() && stderr(&again).contains("same username"), "{}", stderr(&again));

    let (server, _) = DevServer::start(dir.path(), &[]);
    let token_url = format!("{}/realms/vault/protocol/openid-connect/token", server.base);
    let http = ::reqwest::Client::new();
    let tokens: serde_json::Value = http
        .post(&token_url)
        .form(&[("grant_type", "password"), ("client_id", "frontend"), ("username", "zed"), ("password", "zeds-password")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh_token = tokens["refresh_token"].as_str().expect("the created user logs in").to_string();

    let sessions = run(portcullis().args(["admin", "sessions", "--realm", "vault", "--user", "zed", "--data-dir"]).arg(dir.path()));
    assert!(sessions.status.success(), "{}", stderr(&sessions));
    let listed: serde_json::Value = serde_json::from_slice(&sessions.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], tokens["session_state"]);

    let logout = run(portcullis().args(["admin", "logout", "--realm", "vault", "--user", "zed", "--data-dir"]).arg(dir.path()));
    assert!(String::from_utf8_lossy(&logout.stdout).contains("ended 1 sessions"), "{}", stderr(&logout));
    let refreshed = http
        .post(&token_url)
        .form(&[("grant_type", "refresh_token"), ("client_id", "frontend"), ("refresh_token", refresh_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 400, "the session ended by the CLI is over for the running server too");
    assert_eq!(server.terminate(), Some(0));
}
