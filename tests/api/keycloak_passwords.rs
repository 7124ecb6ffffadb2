//! Users imported from Keycloak keep their passwords: pbkdf2 and argon2 credentials in Keycloak's
//! format verify at login and are re-hashed with our argon2id parameters on first success.

use std::num::NonZeroU32;

use aws_lc_rs::pbkdf2;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{spawn_app, TestApp};

fn pbkdf2_credential(algorithm: &str, password: &str) -> serde_json::Value {
    let alg = match algorithm {
        "pbkdf2-sha256" => pbkdf2::PBKDF2_HMAC_SHA256,
        "pbkdf2-sha512" => pbkdf2::PBKDF2_HMAC_SHA512,
        _ => pbkdf2::PBKDF2_HMAC_SHA1,
    };
    let salt = b"keycloak-salt-16";
    let mut out = vec![0u8; 64];
    pbkdf2::derive(alg, NonZeroU32::new(27500).unwrap(), salt, password.as_bytes(), &mut out);
    json!({
        "type": "password",
        "secretData": json!({ "value": STANDARD.encode(&out), "salt": STANDARD.encode(salt), "additionalParameters": {} }).to_string(),
        "credentialData": json!({ "hashIterations": 27500, "algorithm": algorithm, "additionalParameters": {} }).to_string(),
    })
}

/// Keycloak 24+'s default: argon2id with its own parameters, raw hash and salt in base64.
fn argon2_credential(password: &str) -> serde_json::Value {
    let salt = b"keycloak-salt-16";
    let params = argon2::Params::new(7168, 5, 1, Some(32)).unwrap();
    let mut out = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, &mut out)
        .unwrap();
    json!({
        "type": "password",
        "secretData": json!({ "value": STANDARD.encode(out), "salt": STANDARD.encode(salt), "additionalParameters": {} }).to_string(),
        "credentialData": json!({ "hashIterations": 5, "algorithm": "argon2", "additionalParameters": {
            "hashLength": ["32"], "memory": ["7168"], "type": ["id"], "version": ["1.3"], "parallelism": ["1"] } }).to_string(),
    })
}

async fn password_login(app: &TestApp, username: &str, password: &str) -> u16 {
    app.http
        .post(app.url("/realms/migrated/protocol/openid-connect/token"))
        .form(&[("grant_type", "password"), ("client_id", "cli"), ("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

backend_tests! {
    async fn keycloak_hashed_passwords_log_in_and_are_rehashed(backend: Backend) {
        let app = spawn_app(backend).await;
        let users: Vec<serde_json::Value> = ["pbkdf2-sha256", "pbkdf2-sha512", "pbkdf2", "argon2"]
            .iter()
            .enumerate()
            .map(|(i, alg)| {
                let credential = if *alg == "argon2" { argon2_credential("their-old-password") } else { pbkdf2_credential(alg, "their-old-password") };
                json!({ "username": format!("user{i}"), "enabled": true, "credentials": [credential] })
            })
            .collect();
        let realm = json!({
            "realm": "migrated",
            "clients": [{ "clientId": "cli", "publicClient": true, "directAccessGrantsEnabled": true }],
            "users": users,
        });
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("migrated.json");
        std::fs::write(&file, realm.to_string()).unwrap();
        portcullis::realm::service::import_paths(
            app.store.as_ref(), &app.master_key, &app.state.hasher, 0, &[file],
            portcullis::realm::service::OnExisting::Fail,
        ).await.unwrap();
        let realm_id = app.store.realm_by_name("migrated").await.unwrap().unwrap().id;
        for i in 0..4 {
            let username = format!("user{i}");
            assert_eq!(password_login(&app, &username, "wrong").await, 401);
            assert_eq!(password_login(&app, &username, "their-old-password").await, 200, "{username}");
            let user = app.store.user_by_username(&realm_id, &username).await.unwrap().unwrap();
            let credential = app.store.password_credential(&user.id).await.unwrap().unwrap();
            assert!(credential.secret_data.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "re-hashed: {}", credential.secret_data);
            assert_eq!(password_login(&app, &username, "their-old-password").await, 200, "still works after re-hash");
        }
        app.stop().await;
    }
}
