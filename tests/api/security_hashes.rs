//! Issue 13 items 1 and 11 over HTTP, on both backends: stored password-hash parameters are
//! bounded (a realm created through `POST /admin/realms` or a realm file carrying an argon2
//! `memory` of 4294967295 KiB or 2^31-1 PBKDF2 rounds is refused, naming the user and the bound;
//! such a hash already in the database is refused at login without computing it, and the server
//! keeps serving), and password verifications are budgeted per client address with a bounded
//! queue, so anonymous password grants cannot slow every realm's logins.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use crate::admin_support::{token_request, Admin};
use crate::backend_tests;
use crate::browser_flows::{browser_client, Reply};
use crate::helpers::{fixture, spawn_app, Spawn, TestApp};
use crate::token_grants::{secret_of, ALICE, TOKEN_PATH};

fn keycloak_credential(credential_data: Value) -> Value {
    let secret = json!({ "value": STANDARD.encode([7u8; 32]), "salt": STANDARD.encode(b"keycloak-salt-16"), "additionalParameters": {} });
    json!({ "type": "password", "secretData": secret.to_string(), "credentialData": credential_data.to_string() })
}

fn argon2_memory(kib: &str) -> Value {
    keycloak_credential(json!({ "hashIterations": 5, "algorithm": "argon2", "additionalParameters": {
        "hashLength": ["32"], "memory": [kib], "type": ["id"], "version": ["1.3"], "parallelism": ["1"] } }))
}

fn pbkdf2_rounds(rounds: i64) -> Value {
    keycloak_credential(json!({ "hashIterations": rounds, "algorithm": "pbkdf2-sha256", "additionalParameters": {} }))
}

/// Our own argon2id PHC form, as a realm file may carry it, with a hostile memory cost.
fn phc_memory() -> Value {
    json!({ "type": "password",
            "secretData": "$argon2id$v=19$m=4294967295,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "credentialData": r#"{"algorithm":"argon2-phc"}"# })
}

fn realm_with(user: &str, credential: Value) -> Value {
    json!({
        "realm": "tenant",
        "enabled": true,
        "clients": [{ "clientId": "cli", "publicClient": true, "directAccessGrantsEnabled": true }],
        "users": [{ "username": user, "enabled": true, "credentials": [credential] }],
    })
}

async fn grant(app: &TestApp, realm: &str, username: &str, password: &str) -> (u16, Value) {
    token_request(app, realm, &[
        ("grant_type", "password"), ("client_id", "cli"), ("username", username), ("password", password),
    ]).await
}

backend_tests! {
    async fn a_realm_with_hostile_hash_parameters_is_refused_by_the_admin_api_naming_user_and_bound(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        for (user, credential, bound) in [
            ("mallory", argon2_memory("4294967295"), "1048576 KiB"),
            ("mallet", pbkdf2_rounds(2_147_483_647), "1000000"),
            ("trudy", phc_memory(), "1048576 KiB"),
            ("eve", keycloak_credential(json!({ "hashIterations": 2_147_483_647, "algorithm": "argon2",
                "additionalParameters": { "memory": ["7168"] } })), "bound of 10"),
        ] {
            let reply = admin.post("/admin/realms", realm_with(user, credential)).await;
            assert_eq!(reply.status, 400, "{user}: {reply:?}");
            let message = reply.error_message();
            assert!(message.contains(&format!("\"{user}\"")) && message.contains(bound), "{message}");
            assert_eq!(admin.get("/admin/realms/tenant").await.status, 404, "nothing of the realm was created");
        }
        app.stop().await;
    }

    async fn a_realm_file_with_hostile_hash_parameters_does_not_import(backend: Backend) {
        let app = spawn_app(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tenant.json");
        std::fs::write(&file, realm_with("mallory", argon2_memory("4294967295")).to_string()).unwrap();
        let result = portcullis::realm::service::import_paths(
            app.store.as_ref(), &app.master_key, &app.state.hasher, 0, &[file],
            portcullis::realm::service::OnExisting::Fail,
        ).await;
        let error = result.err().expect("the import is refused").to_string();
        assert!(error.contains("users[0].credentials[0]") && error.contains("\"mallory\"") && error.contains("1048576 KiB"), "{error}");
        assert!(app.store.realm_by_name("tenant").await.unwrap().is_none());
        app.stop().await;
    }

    async fn a_hostile_hash_already_stored_is_refused_at_login_without_computing_it(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        let sane = keycloak_credential(json!({ "hashIterations": 1000, "algorithm": "pbkdf2-sha256" }));
        assert_eq!(admin.post("/admin/realms", realm_with("mallory", sane)).await.status, 201);
        let realm = app.store.realm_by_name("tenant").await.unwrap().unwrap();
        let user = app.store.user_by_username(&realm.id, "mallory").await.unwrap().unwrap();
        // as a database written before the bounds existed would hold them
        for hostile in [argon2_memory("4294967295"), pbkdf2_rounds(2_147_483_647), phc_memory()] {
            let credential = portcullis::domain::Credential {
                id: portcullis::domain::new_id(),
                user_id: user.id.clone(),
                kind: "password".into(),
                secret_data: hostile["secretData"].as_str().unwrap().into(),
                credential_data: hostile["credentialData"].as_str().unwrap().into(),
                created_at: 0,
                user_label: None,
                priority: 0,
            };
            app.store.replace_password(&credential).await.unwrap();
            let started = std::time::Instant::now();
            let (status, body) = grant(&app, "tenant", "mallory", "anything").await;
            assert_eq!((status, body["error"].as_str()), (401, Some("invalid_grant")), "{body}");
            assert!(started.elapsed() < std::time::Duration::from_secs(3), "refused without computing: {:?}", started.elapsed());
            assert_eq!(app.get_json("/health/live").await.0, 200, "the process is still serving");
        }
        app.stop().await;
    }
}

/// The "tokens" realm with only alice, behind a trusted proxy (so tests choose the client
/// address with `X-Forwarded-For`), with these settings.
async fn tokens_behind_proxy(backend: crate::helpers::Backend, settings: &[(&str, &str)]) -> TestApp {
    let mut realm: Value = serde_json::from_str(&std::fs::read_to_string(fixture("token-realm.json")).unwrap()).unwrap();
    realm["users"].as_array_mut().unwrap().retain(|u| u["username"] == "alice");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(&path, realm.to_string()).unwrap();
    let mut spawn = Spawn::new(backend).setting("proxy-headers", "xforwarded").setting("rate-limit-token-per-ip", "0");
    for (key, value) in settings {
        spawn = spawn.setting(key, value);
    }
    spawn.import(path).start().await
}

/// A password grant of client `backend` from `address`: status, Retry-After and body.
async fn grant_from(app: &TestApp, address: &str, password: &str) -> (u16, Option<String>, Value) {
    let response = app.http.post(app.url(TOKEN_PATH))
        .header("x-forwarded-for", address)
        .form(&[("grant_type", "password"), ("client_id", "backend"), ("client_secret", &secret_of("backend").unwrap()),
                ("username", ALICE.0), ("password", password)])
        .send().await.unwrap();
    let status = response.status().as_u16();
    let retry = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
    (status, retry, response.json().await.unwrap_or(Value::Null))
}

backend_tests! {
    async fn failed_password_checks_are_budgeted_per_address_and_valid_logins_are_not(backend: Backend) {
        let app = tokens_behind_proxy(backend, &[("rate-limit-password-failures-per-ip", "0.01,5")]).await;
        let (a, b) = ("203.0.113.1", "198.51.100.7");
        for _ in 0..12 {
            assert_eq!(grant_from(&app, a, ALICE.1).await.0, 200, "valid credentials use no budget");
        }
        for _ in 0..5 {
            assert_eq!(grant_from(&app, a, "wrong").await.0, 401);
        }
        let started = std::time::Instant::now();
        let (status, retry, body) = grant_from(&app, a, "wrong").await;
        assert_eq!((status, body["error"].as_str()), (429, Some("slow_down")), "{body}");
        assert!(retry.as_deref().and_then(|r| r.parse::<u64>().ok()).is_some_and(|r| r >= 1), "{retry:?}");
        assert!(started.elapsed() < std::time::Duration::from_millis(500), "refused without hashing");
        assert_eq!(grant_from(&app, b, "wrong").await.0, 401, "another address has its own budget");
        assert_eq!(grant_from(&app, b, ALICE.1).await.0, 200);
        app.stop().await;
    }

    async fn the_login_form_and_the_password_grant_share_one_budget(backend: Backend) {
        let app = Spawn::new(backend).import(fixture("browser-realm.json"))
            .setting("rate-limit-password-failures-per-ip", "0.01,3").setting("rate-limit-token-per-ip", "0")
            .start().await;
        for _ in 0..3 {
            let (status, _) = token_request(&app, "web", &[("grant_type", "password"), ("client_id", "no-browser"),
                ("username", "dora"), ("password", "wrong")]).await;
            assert_eq!(status, 401);
        }
        let http = browser_client();
        let page = crate::browser_flows::start_login(&app, &http, "app-a", &[]).await;
        let reply: Reply = crate::browser_flows::submit_login(&app, &http, &page, "dora", "dora-password-1", &[]).await;
        assert_eq!(reply.status, 429, "{}", reply.html);
        assert!(reply.headers.get("retry-after").is_some());
        assert!(reply.html.contains("Too many failed logins"), "{}", reply.html);
        app.stop().await;
    }

    async fn a_full_password_queue_refuses_at_once_with_retry_after(backend: Backend) {
        let app = tokens_behind_proxy(backend, &[("password-hash-queue", "0"), ("rate-limit-password-failures-per-ip", "0")]).await;
        let answers = futures::future::join_all((0..40).map(|i| {
            let app = &app;
            async move { grant_from(app, &format!("192.0.2.{i}"), "wrong").await }
        })).await;
        let busy: Vec<&(u16, Option<String>, Value)> = answers.iter().filter(|(status, _, _)| *status == 503).collect();
        assert!(!busy.is_empty(), "40 checks at once on a queue of 0 refuse some: {:?}", answers.iter().map(|a| a.0).collect::<Vec<_>>());
        for (status, retry, body) in &answers {
            match status {
                401 => {}
                503 => {
                    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
                    assert_eq!(retry.as_deref(), Some("1"));
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!(grant_from(&app, "192.0.2.200", ALICE.1).await.0, 200, "the queue drains");
        app.stop().await;
    }
}
