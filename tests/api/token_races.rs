//! The two races behind Keycloak CVE-2026-1035 and issue 51312: a refresh racing a revocation,
//! a logout or an admin session deletion of the same family must never leave a live token.

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::TestApp;
use crate::token_endpoints::vault;

const SECRET: &str = "s3cr3t-client-value-0123456789";

async fn post(app: &TestApp, endpoint: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let url = app.url(&format!("/realms/vault/protocol/openid-connect/{endpoint}"));
    let response = app.http.post(url).basic_auth("backend", Some(SECRET)).form(params).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn login(app: &TestApp) -> Value {
    let (status, body) = post(app, "token", &[
        ("grant_type", "password"), ("username", "carol"), ("password", "correct-horse-battery-staple"),
    ]).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[derive(Clone, Copy, Debug)]
enum Ender {
    Revoke,
    Logout,
    AdminDelete,
}

/// Starts a refresh and an ending operation at once, many times; afterwards every refresh token
/// and access token any of them produced must be dead.
async fn race(app: &TestApp, ender: Ender) {
    for round in 0..15 {
        let tokens = login(app).await;
        let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
        let session = tokens["session_state"].as_str().unwrap().to_string();
        let realm_id = app.store.realm_by_name("vault").await.unwrap().unwrap().id;
        let refresher = async {
            post(app, "token", &[("grant_type", "refresh_token"), ("refresh_token", &refresh_token)]).await
        };
        let ending = async {
            match ender {
                Ender::Revoke => {
                    assert_eq!(post(app, "revoke", &[("token", &refresh_token)]).await.0, 200);
                }
                Ender::Logout => {
                    let (status, _) = post(app, "logout", &[("refresh_token", &refresh_token)]).await;
                    assert!(status == 204 || status == 400, "{status}");
                }
                Ender::AdminDelete => {
                    app.store.delete_user_session(&realm_id, &session).await.unwrap();
                }
            }
        };
        let ((status, refreshed), ()) = tokio::join!(refresher, ending);
        let mut survivors = vec![tokens.clone()];
        if status == 200 {
            survivors.push(refreshed);
        }
        for tokens in survivors {
            let successor = tokens["refresh_token"].as_str().unwrap();
            let (status, body) = post(app, "token", &[("grant_type", "refresh_token"), ("refresh_token", successor)]).await;
            assert_eq!(status, 400, "round {round} {ender:?}: a refresh token survived: {body}");
            let (_, info) = post(app, "token/introspect", &[("token", successor)]).await;
            assert_eq!(info["active"], false, "round {round} {ender:?}");
            if !matches!(ender, Ender::Revoke) {
                let access = tokens["access_token"].as_str().unwrap();
                let (_, info) = post(app, "token/introspect", &[("token", access)]).await;
                assert_eq!(info["active"], false, "round {round} {ender:?}: access token of an ended session");
            }
        }
    }
}

backend_tests! {
    async fn a_refresh_racing_revocation_leaves_no_live_token(backend: Backend) {
        let app = vault(backend).await;
        race(&app, Ender::Revoke).await;
        app.stop().await;
    }

    async fn a_refresh_racing_logout_leaves_no_live_token(backend: Backend) {
        let app = vault(backend).await;
        race(&app, Ender::Logout).await;
        app.stop().await;
    }

    async fn a_refresh_racing_session_deletion_leaves_no_live_token(backend: Backend) {
        let app = vault(backend).await;
        race(&app, Ender::AdminDelete).await;
        app.stop().await;
    }
}
