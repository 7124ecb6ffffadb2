//! openid-client 6 (npm; pinned in tests/interop/openid-client/package-lock.json, which
//! scripts/test.sh installs) as the relying party, on both backends. JWT client authentication
//! (RFC 7523): `private_key_jwt` with keys from `jwks.string` and from a served `jwks.url`, and
//! `client_secret_jwt`, each through a client_credentials grant. Then discovery, a pushed
//! authorization request (RFC 9126) with PKCE and state, our login page (driven here), then its
//! code exchange with the checks the library makes (state, RFC 9207 `iss`, PKCE, the ID token's
//! claims). The device authorization grant (RFC 8628) as a public client: its request, our device
//! page (driven here), its polling. DPoP (RFC 9449): its proofs at the token endpoint and at
//! userinfo, and its retries with a server nonce. A signed userinfo answer, which the library
//! verifies. Node or the package missing fails the test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use axum::routing::get as route_get;
use serde_json::json;

use crate::admin_support::Admin;
use crate::client_assertions::{jwt_client_in, SECRET};
use crate::backend_tests;
use crate::browser_flows::{browser_client, get, submit_login, web, REDIRECT};
use crate::helpers::TestApp;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/openid-client")
}

/// Runs `node <script> <args>`; its one line of JSON output.
async fn node(script: &str, args: &[&str]) -> Value {
    let dir = interop_dir();
    assert!(
        dir.join("node_modules/openid-client").exists(),
        "OPENID-CLIENT IS REQUIRED: run ./scripts/test.sh, which runs npm ci in {}", dir.display()
    );
    let run = tokio::process::Command::new("node").arg(script).args(args).current_dir(&dir).kill_on_drop(true).output();
    let output = tokio::time::timeout(Duration::from_secs(60), run).await.expect("node finishes within 60 s").expect("node runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "node {script} {args:?} failed:\n{stdout}\n{stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

async fn par_login(app: &TestApp) -> Value {
    let issuer = app.url("/realms/web");
    let secret = "app-b-secret-0123456789";
    let started = node("par.mjs", &["start", &issuer, "app-b", secret, REDIRECT]).await;
    let url = started["url"].as_str().unwrap();
    assert!(url.contains("request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A"), "{url}");
    assert!(!url.contains("code_challenge"), "the parameters travel in the push, not the URL: {url}");
    let jar = browser_client();
    let page = get(&jar, url).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let callback = submit_login(app, &jar, &page, "dora", "dora-password-1", &[]).await.location();
    let verifier = started["verifier"].as_str().unwrap();
    let state = started["state"].as_str().unwrap();
    node("par.mjs", &["finish", &issuer, "app-b", secret, &callback, verifier, state]).await
}

backend_tests! {
    async fn openid_client_authenticates_with_private_key_jwt_and_client_secret_jwt(backend: Backend) {
        let app = web(backend).await;
        let admin = Admin::login(&app).await;
        let issuer = app.url("/realms/web");
        let keys = node("jwt.mjs", &["keygen"]).await;
        let jwks = json!({"keys": [keys["public"]]}).to_string();
        jwt_client_in(&admin, "web", "jwt-string", "client-jwt", json!({"use.jwks.string": "true", "jwks.string": jwks})).await;
        let private = keys["private"].to_string();
        let got = node("jwt.mjs", &["private-key", &issuer, "jwt-string", &private]).await;
        assert_eq!((got["azp"].as_str(), got["iss"].as_str()), (Some("jwt-string"), Some(issuer.as_str())), "{got}");

        // the same key published at a jwks.url the test serves
        let served = jwks.clone();
        let router = axum::Router::new().route("/jwks", route_get(move || async move { served }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let jwks_url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        jwt_client_in(&admin, "web", "jwt-url", "client-jwt", json!({"use.jwks.url": "true", "jwks.url": jwks_url})).await;
        let got = node("jwt.mjs", &["private-key", &issuer, "jwt-url", &private]).await;
        assert_eq!(got["azp"], "jwt-url", "{got}");
        server.abort();

        jwt_client_in(&admin, "web", "jwt-secret", "client-secret-jwt", json!({})).await;
        let got = node("jwt.mjs", &["secret", &issuer, "jwt-secret", SECRET]).await;
        assert_eq!(got["azp"], "jwt-secret", "{got}");
        app.stop().await;
    }

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

    async fn openid_client_runs_the_device_grant_as_a_public_client(backend: Backend) {
        let app = web(backend).await;
        crate::device_grant::enable_device(&app, "app-a", json!({ "oauth2.device.polling.interval": "1" })).await;
        let issuer = app.url("/realms/web");
        let started = node("device.mjs", &["start", &issuer, "app-a"]).await;
        let complete = started["verification_uri_complete"].as_str().unwrap_or_else(|| panic!("{started}"));
        let jar = browser_client();
        let login = get(&jar, complete).await;
        let confirm = submit_login(&app, &jar, &login, "dora", "dora-password-1", &[]).await;
        let done = crate::browser_flows::submit_form(&app, &jar, &confirm, &[("decision", "accept")]).await;
        assert!(done.html.contains("Device Login Successful"), "{}", done.html);
        let polled = node("device.mjs", &["poll", &issuer, "app-a", &started.to_string()]).await;
        assert_eq!(polled["token_type"], "bearer", "{polled}");
        assert_eq!(polled["refresh"], true, "{polled}");
        let claims = &polled["claims"];
        assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some(issuer.as_str()), Some("app-a")), "{claims}");
        assert_eq!(claims["preferred_username"], "dora", "{claims}");
        app.stop().await;
    }

    async fn openid_client_binds_tokens_with_dpop_and_calls_userinfo_with_proofs(backend: Backend) {
        let app = crate::helpers::Spawn::new(backend).import(crate::helpers::fixture("dpop-realm.json")).start().await;
        let got = node("dpop.mjs", &[&app.url("/realms/dpop"), "spa", "dora", "dora-password-1"]).await;
        assert_eq!((got["first_type"].as_str(), got["refreshed_type"].as_str()), (Some("dpop"), Some("dpop")), "{got}");
        assert_eq!(got["jkt"], got["thumbprint"], "the access token is bound to the library's key: {got}");
        assert_eq!(got["userinfo"]["preferred_username"], "dora", "{got}");
        // a client that requires server nonces: the library retries with the nonce it is handed
        let got = node("dpop.mjs", &[&app.url("/realms/dpop"), "nonced", "dora", "dora-password-1"]).await;
        assert_eq!((got["first_type"].as_str(), got["refreshed_type"].as_str()), (Some("dpop"), Some("dpop")), "{got}");
        assert_eq!(got["userinfo"]["preferred_username"], "dora", "{got}");
        app.stop().await;
    }

    async fn openid_client_verifies_a_signed_userinfo_answer(backend: Backend) {
        let app = crate::helpers::Spawn::new(backend).import(crate::helpers::fixture("dpop-realm.json")).start().await;
        let got = node("signed-userinfo.mjs", &[&app.url("/realms/dpop"), "signed-userinfo", "dora", "dora-password-1"]).await;
        assert_eq!(got["userinfo"]["preferred_username"], "dora", "{got}");
        assert_eq!(got["userinfo"]["aud"], "signed-userinfo", "the signed answer names the client: {got}");
        app.stop().await;
    }
}
