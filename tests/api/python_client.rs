//! End to end with a real Keycloak client library: tests/python/e2e_python_keycloak.py drives
//! python-keycloak's `KeycloakOpenID` (pinned in tests/python/requirements.txt) against the real
//! `portcullis start-dev` binary: discovery, password grant, userinfo, introspection, JWKS
//! verification, refresh rotation and reuse, offline tokens, logout, client credentials and a
//! public client. The interpreter is the project's `.venv`, which scripts/test.sh creates; a
//! missing `.venv` fails this test, it never skips it.

use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use crate::cli::DevServer;
use crate::helpers::fixture;
use crate::processes::{python_command, repo, run_to_completion, venv_python};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

/// Runs the script to completion (stopped after `SCRIPT_TIMEOUT`).
fn run_script(python: &Path, base: &str) -> (Option<ExitStatus>, String, String) {
    let mut command = python_command(python, repo());
    command.arg(repo().join("tests/python/e2e_python_keycloak.py")).arg(base);
    let finished = run_to_completion(&mut command, SCRIPT_TIMEOUT);
    (finished.status, finished.stdout, finished.stderr)
}

#[test]
fn python_keycloak_drives_login_refresh_introspect_userinfo_and_logout() {
    let python = venv_python();
    let dir = tempfile::tempdir().unwrap();
    let realm_file = fixture("secrets-realm.json");
    let (server, ready) = DevServer::start(dir.path(), &["--import-realm", realm_file.to_str().unwrap()]);
    println!("start-dev ready after {} ms at {}", ready.as_millis(), server.base);

    let base = server.base.clone();
    let (status, stdout, stderr) = run_script(&python, &base);
    let server_exit = server.terminate();
    println!("--- e2e_python_keycloak.py {base}\n{stdout}--- end of e2e_python_keycloak.py");
    if !stderr.trim().is_empty() {
        println!("--- its stderr\n{stderr}--- end of stderr");
    }
    let output = format!("{stdout}\n[stderr]\n{stderr}");

    let status = status.unwrap_or_else(|| {
        panic!("the python-keycloak script ran longer than {SCRIPT_TIMEOUT:?}:\n{output}")
    });
    assert!(status.success(), "the python-keycloak end-to-end script failed ({status}):\n{output}");
    let summary = stdout.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or_default();
    let passed =
        summary.strip_suffix(" passed, 0 failed").and_then(|n| n.parse::<u32>().ok()).unwrap_or_else(|| {
            panic!("the script's last line should read `N passed, 0 failed`, got {summary:?}")
        });
    assert!(passed >= 20, "only {passed} steps ran; the script lost steps:\n{output}");
    assert_eq!(server_exit, Some(0), "start-dev exits 0 on SIGTERM after the run");
}
