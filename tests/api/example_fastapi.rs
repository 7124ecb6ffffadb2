//! examples/fastapi-resource-server end to end: the real `portcullis start-dev` with the example's
//! realm, the example's FastAPI app under uvicorn and its client.py, both from the project's
//! `.venv` (scripts/test.sh installs the example's pinned requirements there). Then the realm's
//! keys are rotated under the running API, which must fetch the JWKS again for the new `kid`.
//! Both processes are stopped whatever happens; a missing `.venv` fails the test, never skips it.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures::FutureExt;

use crate::cli::DevServer;
use crate::processes::{python_command, run_to_completion, venv_python};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fastapi-resource-server")
}

/// The project's venv interpreter, with the example's packages importable.
fn example_python() -> PathBuf {
    let python = venv_python();
    let importable = std::process::Command::new(&python)
        .args(["-c", "import fastapi, uvicorn, jwt, httpx"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        importable,
        "{} cannot import fastapi, uvicorn, jwt and httpx: run ./scripts/test.sh, which installs \
         examples/fastapi-resource-server/requirements.txt into .venv",
        python.display()
    );
    python
}

/// The Orders API under uvicorn, killed on drop; its log lines are kept for assertions.
struct OrdersApi {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl OrdersApi {
    fn start(python: &Path, portcullis: &str) -> OrdersApi {
        let mut child = python_command(python, &example_dir())
            .args(["-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", "0"])
            .env("PORTCULLIS_URL", portcullis)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("uvicorn spawns");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()) as Box<dyn Read + Send>,
        ] {
            let (log, tx) = (log.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    println!("[uvicorn] {line}");
                    if let Some(at) = line.find("Uvicorn running on http://") {
                        let url = line[at + "Uvicorn running on ".len()..]
                            .split_whitespace()
                            .next()
                            .unwrap_or_default();
                        let _ = tx.send(url.to_string());
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let mut api = OrdersApi { child, base: String::new(), log };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base) => api.base = base,
            Err(_) => panic!("uvicorn did not start within 30 s:\n{}", api.log.lock().unwrap().join("\n")),
        }
        api
    }

    fn logged(&self, needle: &str) -> bool {
        self.log.lock().unwrap().iter().any(|line| line.contains(needle))
    }

    /// `logged`, allowing the line a few seconds to arrive: the API writes it around its answer,
    /// and a reader thread copies it here, so it may land just after the response (a race that
    /// failed this test once).
    async fn logs_within(&self, needle: &str, limit: Duration) -> bool {
        let started = Instant::now();
        while !self.logged(needle) {
            if started.elapsed() > limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }
}

impl Drop for OrdersApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs client.py to completion (killed after `CLIENT_TIMEOUT`): exit status, stdout, stderr.
fn run_client(python: &Path, portcullis: &str, api: &str) -> (Option<ExitStatus>, String, String) {
    let mut command = python_command(python, &example_dir());
    command.args(["client.py", "--portcullis", portcullis, "--api", api]);
    let finished = run_to_completion(&mut command, CLIENT_TIMEOUT);
    (finished.status, finished.stdout, finished.stderr)
}

async fn alice_token(http: &reqwest::Client, portcullis: &str) -> String {
    let response = http
        .post(format!("{portcullis}/realms/orders/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "orders-cli"),
            ("username", "alice"),
            ("password", "alice-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

fn kid(jwt: &str) -> String {
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_string()
}

async fn journey(python: &Path, portcullis: &str, data_dir: &Path) {
    let api = OrdersApi::start(python, portcullis);

    // client.py: login, API calls, expiry, refresh, the refusals, logout
    let (status, stdout, stderr) = tokio::task::block_in_place(|| run_client(python, portcullis, &api.base));
    println!("--- client.py\n{stdout}--- end of client.py");
    let output = format!("{stdout}\n[stderr]\n{stderr}");
    let status = status.unwrap_or_else(|| panic!("client.py ran longer than {CLIENT_TIMEOUT:?}:\n{output}"));
    assert!(status.success(), "client.py failed ({status}):\n{output}");
    let summary = stdout.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or_default();
    let passed = summary
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("client.py's last line should read `N passed, 0 failed`, got {summary:?}"));
    assert!(passed >= 11, "only {passed} steps ran:\n{output}");
    assert!(api.logs_within("JWKS fetched (initial fetch", Duration::from_secs(5)).await, "the API fetched the JWKS once");

    // a key rotation under the running API: the next token's unknown kid makes it refetch
    let http = reqwest::Client::new();
    let old_kid = kid(&alice_token(&http, portcullis).await);
    let mut rotate = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("PORTCULLIS_")) {
        rotate.env_remove(name);
    }
    let rotated =
        rotate.args(["keys", "rotate", "--realm", "orders", "--data-dir"]).arg(data_dir).output().unwrap();
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    // the running server re-reads its realm cache within 5 s (README, "Keys")
    let started = Instant::now();
    let token = loop {
        let token = alice_token(&http, portcullis).await;
        if kid(&token) != old_kid {
            break token;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the server never signed with the rotated key");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let response = http.get(format!("{}/api/orders", api.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200, "a token signed with the new key is accepted");
    assert!(
        api.logs_within(&format!("JWKS fetched (unknown kid {})", kid(&token)), Duration::from_secs(5)).await,
        "the API refetched the JWKS for the new kid"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fastapi_example_validates_tokens_refreshes_them_and_follows_a_key_rotation() {
    let python = example_python();
    let dir = tempfile::tempdir().unwrap();
    let realm = example_dir().join("realm.json");
    let (server, ready) = tokio::task::block_in_place(|| {
        DevServer::start(dir.path(), &["--import-realm", realm.to_str().unwrap()])
    });
    println!("start-dev ready after {} ms at {}", ready.as_millis(), server.base);
    let outcome =
        std::panic::AssertUnwindSafe(journey(&python, &server.base, dir.path())).catch_unwind().await;
    let exit = tokio::task::block_in_place(|| server.terminate());
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    assert_eq!(exit, Some(0), "start-dev exits 0 on SIGTERM after the run");
}
