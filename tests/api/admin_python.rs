//! End to end with a real Keycloak admin client: tests/python/e2e_keycloak_admin.py drives
//! python-keycloak's `KeycloakAdmin` (pinned in tests/python/requirements.txt) against the real
//! `portcullis start-dev` binary, logged in as the bootstrap admin through master's admin-cli:
//! realms, users and passwords, clients and secrets, sessions, roles, consents, events, 403 for
//! a non-admin. The interpreter is the project's `.venv`, which scripts/test.sh creates; a
//! missing `.venv` fails this test, it never skips it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::cli::DevServer;
use crate::helpers::fixture;

const SCRIPT: &str = "tests/python/e2e_keycloak_admin.py";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv_python() -> PathBuf {
    let python = repo().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: the KeycloakAdmin end-to-end test needs the project's virtualenv. Run \
         ./scripts/test.sh, which creates .venv and installs tests/python/requirements.txt (or by hand: \
         python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt)",
        python.display()
    );
    python
}

/// Runs the script to completion (killed after `SCRIPT_TIMEOUT`): exit status, stdout, stderr.
fn run_script(python: &Path, base: &str) -> (Option<ExitStatus>, String, String) {
    let mut command = Command::new(python);
    command
        .arg(repo().join(SCRIPT))
        .arg(base)
        .current_dir(repo())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in [
        "PYTHONPATH",
        "PYTHONHOME",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        command.env_remove(name);
    }
    let mut child = command.spawn().unwrap_or_else(|e| panic!("{} does not run: {e}", python.display()));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, out.join().unwrap(), err.join().unwrap())
}

#[test]
fn python_keycloak_admin_drives_the_admin_api() {
    let python = venv_python();
    let dir = tempfile::tempdir().unwrap();
    let realm_file = fixture("secrets-realm.json");
    let (server, ready) = DevServer::start(dir.path(), &["--import-realm", realm_file.to_str().unwrap()]);
    println!("start-dev ready after {} ms at {}", ready.as_millis(), server.base);

    let base = server.base.clone();
    let (status, stdout, stderr) = run_script(&python, &base);
    let server_exit = server.terminate();
    println!("--- {SCRIPT} {base}\n{stdout}--- end of {SCRIPT}");
    if !stderr.trim().is_empty() {
        println!("--- its stderr\n{stderr}--- end of stderr");
    }
    let output = format!("{stdout}\n[stderr]\n{stderr}");
    let status = status
        .unwrap_or_else(|| panic!("the KeycloakAdmin script ran longer than {SCRIPT_TIMEOUT:?}:\n{output}"));
    assert!(status.success(), "the KeycloakAdmin end-to-end script failed ({status}):\n{output}");
    let summary = stdout.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or_default();
    let passed =
        summary.strip_suffix(" passed, 0 failed").and_then(|n| n.parse::<u32>().ok()).unwrap_or_else(|| {
            panic!("the script's last line should read `N passed, 0 failed`, got {summary:?}")
        });
    assert!(passed >= 20, "only {passed} steps ran; the script lost steps:\n{output}");
    assert_eq!(server_exit, Some(0), "start-dev exits 0 on SIGTERM after the run");
}
