//! Issue 13 items 4, 7, 8, 9, 10, 21 and 23 over HTTP, on both backends: an authorization code
//! is found only by the realm and client it was issued to; revoking a grant or detecting its
//! refresh-token reuse ends its access tokens at once; tokens of a disabled or deleted client or
//! of a disabled service-account user are dead; an offline grant stops when the user loses
//! offline_access (nothing consumed); the password grant refuses consentRequired clients; userinfo
//! wants the openid scope; Basic client credentials work raw and form-encoded.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::helpers::{fixture, Spawn, TestApp};
use crate::token_grants::{exchange, insert_code, login, refresh, secret_of, spawn_tokens, token, ALICE, TOKEN_PATH};

fn oidc(realm: &str, endpoint: &str) -> String {
    format!("/realms/{realm}/protocol/openid-connect/{endpoint}")
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap_or_else(|| panic!("{name} in {body}"))
}

/// Introspection by client `backend` of realm tokens: `active`.
async fn active(app: &TestApp, token: &str) -> bool {
    let response = app.http.post(app.url(&oidc("tokens", "token/introspect")))
        .form(&[("client_id", "backend"), ("client_secret", &secret_of("backend").unwrap()), ("token", token)])
        .send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["active"] == json!(true)
}

/// Userinfo with a bearer token: status, WWW-Authenticate and body.
async fn userinfo(app: &TestApp, token: &str) -> (u16, String, Value) {
    let response = app.http.get(app.url(&oidc("tokens", "userinfo"))).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, challenge, response.json().await.unwrap_or(Value::Null))
}

/// The "tokens" realm and a copy named "elsewhere" (same clients, secrets and users).
async fn tokens_and_a_copy(backend: crate::helpers::Backend) -> TestApp {
    let mut copy: Value = serde_json::from_str(&std::fs::read_to_string(fixture("token-realm.json")).unwrap()).unwrap();
    copy["realm"] = json!("elsewhere");
    copy["users"].as_array_mut().unwrap().retain(|u| u["username"] == "alice");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elsewhere.json");
    std::fs::write(&path, copy.to_string()).unwrap();
    Spawn::new(backend).import(fixture("token-realm.json")).import(&path).start().await
}

backend_tests! {
    async fn a_code_presented_by_another_client_or_realm_is_unknown_and_changes_nothing(backend: Backend) {
        let app = tokens_and_a_copy(backend).await;
        let sso = login(&app, "backend", ALICE, None).await;
        let code = insert_code(&app, "backend", field(&sso, "session_state"), "openid", None).await;
        // a public client of the same realm, with no secret at all, tries it twice
        for _ in 0..2 {
            let (status, body) = exchange(&app, "spa", &code, "https://app.example/cb", None).await;
            assert_eq!((status, body["error"].as_str(), body["error_description"].as_str()),
                (400, Some("invalid_grant"), Some("Code not valid")), "{body}");
        }
        // the same client id and secret in another realm
        let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", "https://app.example/cb"),
            ("client_id", "backend"), ("client_secret", "backend-secret-0123456789abcdef")];
        let response = app.http.post(app.url(&oidc("elsewhere", "token"))).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 400);
        // the victim's exchange still works, and its tokens stay alive
        let (status, tokens) = exchange(&app, "backend", &code, "https://app.example/cb", None).await;
        assert_eq!(status, 200, "the code was neither spent nor burnt: {tokens}");
        assert!(active(&app, field(&tokens, "access_token")).await);
        assert_eq!(refresh(&app, "backend", field(&tokens, "refresh_token")).await.0, 200);
        app.stop().await;
    }

    async fn revoking_a_grant_or_reusing_its_refresh_token_ends_its_access_tokens_at_once(backend: Backend) {
        let app = spawn_tokens(backend).await;
        // RFC 7009 revocation of the refresh token
        let tokens = login(&app, "backend", ALICE, Some("openid")).await;
        let access = field(&tokens, "access_token");
        assert!(active(&app, access).await);
        assert_eq!(userinfo(&app, access).await.0, 200);
        let revoke = app.http.post(app.url(&oidc("tokens", "revoke")))
            .form(&[("client_id", "backend"), ("client_secret", &secret_of("backend").unwrap()),
                    ("token", field(&tokens, "refresh_token")), ("token_type_hint", "refresh_token")])
            .send().await.unwrap();
        assert_eq!(revoke.status(), 200);
        assert!(!active(&app, access).await, "RFC 7009 §2.1: the grant's access token dies with it");
        assert_eq!(userinfo(&app, access).await.0, 401);
        // another grant of the same session is untouched: a family, not the session
        let other = login(&app, "backend", ALICE, Some("openid")).await;
        assert!(active(&app, field(&other, "access_token")).await);

        // reuse detection (RFC 9700 §4.14.2)
        let first = login(&app, "backend", ALICE, Some("openid")).await;
        let (status, second) = refresh(&app, "backend", field(&first, "refresh_token")).await;
        assert_eq!(status, 200);
        assert!(active(&app, field(&second, "access_token")).await);
        let (status, body) = refresh(&app, "backend", field(&first, "refresh_token")).await;
        assert_eq!((status, body["error_description"].as_str()), (400, Some("Maximum allowed refresh token reuse exceeded")));
        for access in [field(&first, "access_token"), field(&second, "access_token")] {
            assert!(!active(&app, access).await, "every access token of the reused family is dead");
            assert_eq!(userinfo(&app, access).await.0, 401);
        }
        assert!(active(&app, field(&other, "access_token")).await, "other families live on");
        app.stop().await;
    }

    async fn tokens_of_a_disabled_or_deleted_client_or_service_account_are_dead(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let admin = Admin::login(&app).await;
        // a disabled client, then a deleted one
        let tokens = login(&app, "other", ALICE, Some("openid")).await;
        let access = field(&tokens, "access_token");
        assert!(active(&app, access).await);
        let other = admin.client_uuid("tokens", "other").await;
        assert_eq!(admin.put(&format!("/admin/realms/tokens/clients/{other}"), json!({ "clientId": "other", "enabled": false })).await.status, 204);
        assert!(!active(&app, access).await, "a disabled client's token");
        assert!(!active(&app, field(&tokens, "refresh_token")).await, "its refresh token too");
        assert_eq!(userinfo(&app, access).await.0, 401);
        assert_eq!(admin.delete(&format!("/admin/realms/tokens/clients/{other}")).await.status, 204);
        assert!(!active(&app, access).await, "a deleted client's token");

        // a disabled service-account user (client_credentials, no session)
        let (status, service) = token(&app, "short", &[("grant_type", "client_credentials"), ("scope", "openid")]).await;
        assert_eq!(status, 200, "{service}");
        let access = field(&service, "access_token");
        assert!(active(&app, access).await);
        assert_eq!(userinfo(&app, access).await.0, 200);
        let short = admin.client_uuid("tokens", "short").await;
        let account = admin.ok(&format!("/admin/realms/tokens/clients/{short}/service-account-user")).await;
        let account_id = field(&account, "id");
        assert_eq!(admin.put(&format!("/admin/realms/tokens/users/{account_id}"), json!({ "enabled": false })).await.status, 204);
        assert!(!active(&app, access).await, "a disabled service account's token");
        assert_eq!(userinfo(&app, access).await.0, 401);
        let (status, _) = token(&app, "short", &[("grant_type", "client_credentials")]).await;
        assert_eq!(status, 400, "and it gets no new one");
        app.stop().await;
    }

    async fn an_offline_grant_stops_when_the_user_loses_offline_access_and_nothing_is_consumed(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let admin = Admin::login(&app).await;
        let offline = login(&app, "backend", ALICE, Some("openid offline_access")).await;
        let alice = admin.user_id("tokens", "alice").await;
        let mappings = format!("/admin/realms/tokens/users/{alice}/role-mappings/realm");
        let held = admin.ok(&mappings).await;
        let granting: Vec<Value> = held.as_array().unwrap().iter()
            .filter(|r| r["name"] == "offline_access" || r["name"] == "default-roles-tokens").cloned().collect();
        assert_eq!(granting.len(), 2, "alice holds offline_access directly and through the default roles: {held}");
        assert_eq!(admin.delete_with(&mappings, json!(granting)).await.status, 204);
        let (status, body) = refresh(&app, "backend", field(&offline, "refresh_token")).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body, json!({ "error": "invalid_grant",
            "error_description": "Offline session invalid because offline access not granted anymore" }));
        // given back the role, the very same token works: the refusal consumed nothing
        let offline_access: Vec<Value> = granting.into_iter().filter(|r| r["name"] == "offline_access").collect();
        assert_eq!(admin.post(&mappings, json!(offline_access)).await.status, 204);
        let (status, body) = refresh(&app, "backend", field(&offline, "refresh_token")).await;
        assert_eq!(status, 200, "{body}");
        app.stop().await;
    }

    async fn the_password_grant_refuses_a_client_that_requires_consent(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let admin = Admin::login(&app).await;
        let backend_uuid = admin.client_uuid("tokens", "backend").await;
        let reply = admin.put(&format!("/admin/realms/tokens/clients/{backend_uuid}"), json!({ "clientId": "backend", "consentRequired": true })).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        for scope in [None, Some("openid offline_access")] {
            let mut form = vec![("grant_type", "password"), ("username", ALICE.0), ("password", ALICE.1)];
            form.extend(scope.map(|s| ("scope", s)));
            let (status, body) = token(&app, "backend", &form).await;
            assert_eq!((status, body), (400, json!({ "error": "invalid_client", "error_description": "Client requires user consent" })));
        }
        app.stop().await;
    }

    async fn userinfo_wants_the_openid_scope(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let plain = login(&app, "backend", ALICE, None).await;
        let (status, challenge, body) = userinfo(&app, field(&plain, "access_token")).await;
        assert_eq!((status, body), (403, json!({ "error": "insufficient_scope", "error_description": "Missing openid scope" })));
        assert!(challenge.starts_with("Bearer ") && challenge.contains("error=\"insufficient_scope\""), "{challenge}");
        let openid = login(&app, "backend", ALICE, Some("openid")).await;
        assert_eq!(userinfo(&app, field(&openid, "access_token")).await.0, 200);
        app.stop().await;
    }

    async fn basic_client_credentials_work_raw_and_form_encoded(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let admin = Admin::login(&app).await;
        let secret = "s3cr+t%41/x:y z";
        let reply = admin.post("/admin/realms/tokens/clients", json!({ "clientId": "raw+client", "secret": secret,
            "publicClient": false, "serviceAccountsEnabled": true })).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = |user: &str, password: &str| format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
        for (what, header, expected) in [
            ("raw, as authlib and requests' HTTPBasicAuth send it", basic("raw+client", secret), 200),
            ("form-encoded, as RFC 6749 §2.3.1 says", basic(&encode("raw+client"), &encode(secret)), 200),
            ("a wrong secret, raw", basic("raw+client", "s3cr+t%41/x:y"), 401),
            ("a wrong secret, encoded", basic(&encode("raw+client"), &encode("s3cr t A/x:y z")), 401),
        ] {
            let response = app.http.post(app.url(TOKEN_PATH)).header("authorization", header)
                .form(&[("grant_type", "client_credentials")]).send().await.unwrap();
            assert_eq!(response.status().as_u16(), expected, "{what}");
        }
        let response = app.http.post(app.url(TOKEN_PATH)).basic_auth("raw+client", Some(secret))
            .form(&[("grant_type", "client_credentials")]).send().await.unwrap();
        assert_eq!(response.status(), 200, "reqwest's basic_auth (raw)");
        app.stop().await;
    }
}
