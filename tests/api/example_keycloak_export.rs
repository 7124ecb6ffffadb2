//! Bringing a realm from Keycloak with the CLI, as the README's "Migrating from Keycloak" says:
//! `portcullis import` reads a real admin-console export (tests/fixtures holds a copy of
//! shared/testdata/keycloak-exports) in both layouts Keycloak writes, one realm object and the
//! array of realms of `kc.sh export`, and prints a summary line per realm with what it ignored.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::helpers::fixture;

fn import(file: &Path, data_dir: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("PORTCULLIS_")) {
        command.env_remove(name);
    }
    command.args(["import", "--file"]).arg(file).arg("--data-dir").arg(data_dir);
    command.stdin(Stdio::null()).output().expect("portcullis runs")
}

fn stdout_of(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "import failed: {text}\n{}", String::from_utf8_lossy(&output.stderr));
    text
}

#[test]
fn a_keycloak_export_imports_with_the_cli_in_both_layouts_and_prints_a_summary() {
    let export = fixture("demo-realm-partial-export.json");
    let realm: serde_json::Value = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();

    // one realm object, as the admin console's "Partial export" writes
    let dir = tempfile::tempdir().unwrap();
    let single = stdout_of(&import(&export, dir.path()));
    let summary = single.lines().next().unwrap_or_default();
    assert!(
        summary.starts_with("imported realm demo-realm (") && summary.ends_with(" warnings)"),
        "{single}"
    );
    assert!(single.contains("ignored unknown field authenticationFlows"), "{single}");
    assert!(
        single.contains("revokeRefreshToken is false"),
        "the rotation difference is called out: {single}"
    );

    // the array of realms `kc.sh export` writes; the second realm has a confidential client
    // whose secret the console masked: it gets a fresh secret and a warning
    let masked = serde_json::json!({
        "realm": "demo-realm-b",
        "enabled": true,
        "clients": [{
            "clientId": "backend", "publicClient": false, "secret": "**********",
            "redirectUris": ["https://backend.example/*"]
        }]
    });
    let dir = tempfile::tempdir().unwrap();
    let array = dir.path().join("realms.json");
    std::fs::write(&array, serde_json::to_vec(&serde_json::json!([realm, masked])).unwrap()).unwrap();
    let both = stdout_of(&import(&array, dir.path()));
    let summaries: Vec<&str> = both.lines().filter(|l| l.starts_with("imported realm ")).collect();
    assert_eq!(summaries.len(), 2, "{both}");
    assert!(summaries.iter().any(|l| l.starts_with("imported realm demo-realm-b (")), "{both}");
    assert!(
        both.contains("client \"backend\": the secret is masked in the file; a new one was generated"),
        "{both}"
    );
}
