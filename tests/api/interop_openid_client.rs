//! openid-client 6 (npm; pinned in tests/interop/openid-client/package-lock.json, which
//! scripts/test.sh installs) as the relying party, on both backends: discovery, a pushed
//! authorization request (RFC 9126) with PKCE and state, our login page (driven here), then its
//! code exchange with the checks the library makes (state, RFC 9207 `iss`, PKCE, the ID token's
//! claims). Node or the package missing fails the test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::backend_tests;
use crate::browser_flows::{browser_client, get, submit_login, web, REDIRECT};
use crate::helpers::TestApp;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/openid-client")
}

/// Runs `node par.mjs <args>`; its one line of JSON output.
async fn node(args: &[&str]) -> Value {
    let dir = interop_dir();
    assert!(
        dir.join("node_modules/openid-client").exists(),
        "OPENID-CLIENT IS REQUIRED: run ./scripts/test.sh, which runs npm ci in {}", dir.display()
    );
    let run = tokio::process::Command::new("node").arg("par.mjs").args(args).current_dir(&dir).kill_on_drop(true).output();
    let output = tokio::time::timeout(Duration::from_secs(60), run).await.expect("node finishes within 60 s").expect("node runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "node par.mjs {args:?} failed:\n{stdout}\n{stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

async fn par_login(app: &TestApp) -> Value {
    let issuer = app.url("/realms/web");
    let secret = "app-b-secret-0123456789";
    let started = node(&["start", &issuer, "app-b", secret, REDIRECT]).await;
    let url = started["url"].as_str().unwrap();
    assert!(url.contains("request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A"), "{url}");
    assert!(!url.contains("code_challenge"), "the parameters travel in the push, not the URL: {url}");
    let jar = browser_client();
    let page = get(&jar, url).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let callback = submit_login(app, &jar, &page, "dora", "dora-password-1", &[]).await.location();
    let verifier = started["verifier"].as_str().unwrap();
    let state = started["state"].as_str().unwrap();
    node(&["finish", &issuer, "app-b", secret, &callback, verifier, state]).await
}

backend_tests! {
    async fn openid_client_pushes_an_authorization_request_and_exchanges_its_code(backend: Backend) {
        let app = web(backend).await;
        let finished = par_login(&app).await;
        assert_eq!(finished["token_type"], "bearer", "{finished}");
        let claims = &finished["claims"];
        assert_eq!(claims["iss"], app.url("/realms/web"));
        assert_eq!(claims["aud"], "app-b");
        assert_eq!(claims["preferred_username"], "dora", "{claims}");
        app.stop().await;
    }
}
