//! Revocation, introspection, userinfo and logout over HTTP, on both backends.

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{fixture, Spawn, TestApp};

const SECRET: &str = "s3cr3t-client-value-0123456789";
const PASSWORD: &str = "correct-horse-battery-staple";

pub(crate) async fn vault(backend: crate::helpers::Backend) -> TestApp {
    Spawn::new(backend).import(fixture("secrets-realm.json")).start().await
}

fn oidc(app: &TestApp, endpoint: &str) -> String {
    app.url(&format!("/realms/vault/protocol/openid-connect/{endpoint}"))
}

/// POSTs a form as client `backend` (client_secret_post) and returns status and JSON body.
async fn post(app: &TestApp, endpoint: &str, client: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let mut form: Vec<(&str, &str)> = vec![("client_id", client)];
    if client == "backend" {
        form.push(("client_secret", SECRET));
    }
    form.extend_from_slice(params);
    let response = app.http.post(oidc(app, endpoint)).form(&form).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn login(app: &TestApp, client: &str, scope: &str) -> Value {
    let (status, body) = post(app, "token", client, &[
        ("grant_type", "password"), ("username", "carol"), ("password", PASSWORD), ("scope", scope),
    ]).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap_or_else(|| panic!("{name} in {body}"))
}

async fn introspect(app: &TestApp, token: &str) -> Value {
    let (status, body) = post(app, "token/introspect", "backend", &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn userinfo(app: &TestApp, token: &str) -> reqwest::Response {
    app.http.get(oidc(app, "userinfo")).bearer_auth(token).send().await.unwrap()
}

async fn refresh(app: &TestApp, client: &str, token: &str) -> (u16, Value) {
    post(app, "token", client, &[("grant_type", "refresh_token"), ("refresh_token", token)]).await
}

backend_tests! {
    async fn introspection_reports_live_tokens_with_keycloaks_fields(backend: Backend) {
        let app = vault(backend).await;
        let tokens = login(&app, "backend", "openid").await;
        let access = introspect(&app, field(&tokens, "access_token")).await;
        assert_eq!(access["active"], true);
        assert_eq!(access["username"], "carol");
        assert_eq!(access["client_id"], "backend");
        assert_eq!(access["token_type"], "Bearer");
        assert_eq!(access["sid"], tokens["session_state"]);
        let refresh_info = introspect(&app, field(&tokens, "refresh_token")).await;
        assert_eq!(refresh_info["active"], true);
        assert_eq!(refresh_info["token_type"], "Refresh");
        for junk in ["", "abc", "a.b.c", &"x".repeat(20_000)] {
            if junk.is_empty() { continue; }
            assert_eq!(introspect(&app, junk).await, serde_json::json!({ "active": false }));
        }
        let (status, body) = post(&app, "token/introspect", "frontend", &[("token", field(&tokens, "access_token"))]).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "public clients may not introspect");
        let (status, _) = post(&app, "token/introspect", "backend", &[]).await;
        assert_eq!(status, 400, "token is required");
        app.stop().await;
    }

    async fn a_refresh_token_rotated_away_introspects_inactive_and_its_successor_active(backend: Backend) {
        let app = vault(backend).await;
        let tokens = login(&app, "backend", "openid").await;
        let first = field(&tokens, "refresh_token");
        let (status, rotated) = refresh(&app, "backend", first).await;
        assert_eq!(status, 200, "{rotated}");
        assert_eq!(introspect(&app, first).await, serde_json::json!({ "active": false }), "its next use would be a reuse");
        assert_eq!(introspect(&app, field(&rotated, "refresh_token")).await["active"], true);
        app.stop().await;
    }

    async fn expired_tokens_are_inactive_and_refused_by_userinfo(backend: Backend) {
        let app = vault(backend).await;
        let tokens = login(&app, "backend", "openid").await;
        let access = field(&tokens, "access_token");
        let response = userinfo(&app, access).await;
        assert_eq!(response.status(), 200);
        let info: Value = response.json().await.unwrap();
        assert_eq!(info["preferred_username"], "carol");
        assert_eq!(info["email"], "carol@example.com");
        assert!(info["sub"].is_string());
        app.clock.advance(301);
        assert_eq!(introspect(&app, access).await["active"], false);
        let response = userinfo(&app, access).await;
        assert_eq!(response.status(), 401);
        let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_string();
        assert!(challenge.starts_with("Bearer") && challenge.contains("invalid_token"), "{challenge}");
        app.stop().await;
    }

    async fn userinfo_takes_the_token_from_header_or_form_and_demands_one(backend: Backend) {
        let app = vault(backend).await;
        let tokens = login(&app, "backend", "openid").await;
        let response = app.http.post(oidc(&app, "userinfo"))
            .form(&[("access_token", field(&tokens, "access_token"))]).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let response = app.http.get(oidc(&app, "userinfo")).send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers().contains_key("www-authenticate"));
        let response = userinfo(&app, field(&tokens, "refresh_token")).await;
        assert_eq!(response.status(), 401, "a refresh token is not an access token");
        app.stop().await;
    }

    async fn revoking_an_access_token_kills_it_until_expiry(backend: Backend) {
        let app = vault(backend).await;
        let tokens = login(&app, "backend", "openid").await;
        let access = field(&tokens, "access_token");
        let (status, _) = post(&app, "revoke", "backend", &[("token", access), ("token_type_hint", "access_token")]).await;
        assert_eq!(status, 200);
        assert_eq!(introspect(&app, access).await["active"], false);
        assert_eq!(userinfo(&app, access).await.status(), 401);
        let (status, _) = refresh(&app, "backend", field(&tokens, "refresh_token")).await;
        assert_eq!(status, 200, "revoking the access token leaves the refresh token alone");
        app.stop().await;
    }

    async fn revoking_a_refresh_token_ends_its_family_only(backend: Backend) {
        let app = vault(backend).await;
        let tab_a = login(&app, "backend", "openid").await;
        let tab_b = login(&app, "backend", "openid").await;
        let (status, _) = post(&app, "revoke", "backend", &[("token", field(&tab_a, "refresh_token"))]).await;
        assert_eq!(status, 200);
        let (status, body) = refresh(&app, "backend", field(&tab_a, "refresh_token")).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
        assert_eq!(introspect(&app, field(&tab_a, "refresh_token")).await["active"], false);
        let (status, _) = refresh(&app, "backend", field(&tab_b, "refresh_token")).await;
        assert_eq!(status, 200, "the other family keeps working");
        app.stop().await;
    }

    async fn revocation_answers_200_for_junk_and_refuses_other_clients_tokens(backend: Backend) {
        let app = vault(backend).await;
        let (status, _) = post(&app, "revoke", "backend", &[("token", "not-a-token")]).await;
        assert_eq!(status, 200);
        let theirs = login(&app, "frontend", "openid").await;
        let (status, body) = post(&app, "revoke", "backend", &[("token", field(&theirs, "refresh_token"))]).await;
        assert_eq!(status, 400, "{body}");
        let (status, _) = refresh(&app, "frontend", field(&theirs, "refresh_token")).await;
        assert_eq!(status, 200, "a refused revocation revoked nothing");
        let response = app.http.post(oidc(&app, "revoke")).form(&[("token", "x")]).send().await.unwrap();
        assert_eq!(response.status(), 401, "client authentication is required");
        app.stop().await;
    }

    async fn revoking_an_offline_token_ends_its_offline_session(backend: Backend) {
        let app = vault(backend).await;
        let offline = login(&app, "backend", "openid offline_access").await;
        let online = login(&app, "backend", "openid").await;
        let (status, _) = post(&app, "revoke", "backend", &[("token", field(&offline, "refresh_token"))]).await;
        assert_eq!(status, 200);
        let (status, _) = refresh(&app, "backend", field(&offline, "refresh_token")).await;
        assert_eq!(status, 400);
        assert_eq!(introspect(&app, field(&offline, "access_token")).await["active"], false);
        assert_eq!(refresh(&app, "backend", field(&online, "refresh_token")).await.0, 200);
        app.stop().await;
    }

    async fn logout_ends_the_session_but_not_offline_sessions(backend: Backend) {
        let app = vault(backend).await;
        let tokens = login(&app, "backend", "openid").await;
        let offline = login(&app, "backend", "openid offline_access").await;
        let response = app.http.post(oidc(&app, "logout"))
            .basic_auth("backend", Some(SECRET))
            .form(&[("refresh_token", field(&tokens, "refresh_token"))]).send().await.unwrap();
        assert_eq!(response.status(), 204);
        assert_eq!(introspect(&app, field(&tokens, "access_token")).await["active"], false);
        assert_eq!(userinfo(&app, field(&tokens, "access_token")).await.status(), 401);
        let (status, body) = refresh(&app, "backend", field(&tokens, "refresh_token")).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
        let (status, _) = refresh(&app, "backend", field(&offline, "refresh_token")).await;
        assert_eq!(status, 200, "the offline session survives logout");
        let response = app.http.post(oidc(&app, "logout"))
            .basic_auth("backend", Some(SECRET))
            .form(&[("refresh_token", field(&tokens, "refresh_token"))]).send().await.unwrap();
        assert_eq!(response.status(), 400, "a second logout finds no session");
        app.stop().await;
    }

    async fn events_are_stored_when_the_realm_enables_them(backend: Backend) {
        let app = vault(backend).await;
        let realm = app.store.realm_by_name("vault").await.unwrap().unwrap();
        let mut bundle = app.store.realm_bundle(&realm.id).await.unwrap();
        bundle.realm.as_mut().unwrap().settings.events_enabled = true;
        app.store.create_realms(&[bundle], true).await.unwrap();
        app.state.realms.invalidate("vault");
        let tokens = login(&app, "backend", "openid").await;
        refresh(&app, "backend", field(&tokens, "refresh_token")).await;
        refresh(&app, "backend", field(&tokens, "refresh_token")).await; // reuse
        post(&app, "token", "backend", &[("grant_type", "password"), ("username", "carol"), ("password", "wrong")]).await;
        let realm = app.store.realm_by_name("vault").await.unwrap().unwrap();
        let mut kinds = Vec::new();
        for _ in 0..100 {
            let events = app.store.list_events(&realm.id, &Default::default()).await.unwrap();
            kinds = events.iter().map(|e| (e.kind.clone(), e.error.clone())).collect();
            if kinds.len() >= 4 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(kinds.contains(&("LOGIN".into(), None)), "{kinds:?}");
        assert!(kinds.contains(&("REFRESH_TOKEN".into(), None)), "{kinds:?}");
        assert!(kinds.contains(&("REFRESH_TOKEN_ERROR".into(), Some("refresh_token_reuse_detected".into()))), "{kinds:?}");
        assert!(kinds.contains(&("LOGIN_ERROR".into(), Some("invalid_user_credentials".into()))), "{kinds:?}");
        let filter = portcullis::store::EventFilter { kinds: vec!["LOGIN".into()], max: 10, ..Default::default() };
        let logins = app.store.list_events(&realm.id, &filter).await.unwrap();
        assert_eq!(logins.len(), 1);
        let dump = crate::secrets_at_rest::database_dump(&app).await;
        let refresh_token = field(&tokens, "refresh_token");
        assert!(!dump.windows(refresh_token.len()).any(|w| w == refresh_token.as_bytes()));
        app.stop().await;
    }
}

backend_tests! {
    async fn a_password_change_ends_every_session_of_the_user(backend: Backend) {
        let app = vault(backend).await;
        let online = login(&app, "backend", "openid").await;
        let offline = login(&app, "backend", "openid offline_access").await;
        let realm = app.store.realm_by_name("vault").await.unwrap().unwrap();
        let carol = app.store.user_by_username(&realm.id, "carol").await.unwrap().unwrap();
        let ended = portcullis::users::set_password(
            app.store.as_ref(), &app.state.hasher, &realm, &carol,
            portcullis::users::NewPassword { value: portcullis::crypto::SecretString::new("a-new-password"), temporary: false },
            0, None,
        ).await.unwrap();
        assert_eq!(ended.len(), 2);
        for tokens in [&online, &offline] {
            assert_eq!(refresh(&app, "backend", field(tokens, "refresh_token")).await.0, 400);
        }
        let (status, _) = post(&app, "token", "backend", &[
            ("grant_type", "password"), ("username", "carol"), ("password", PASSWORD),
        ]).await;
        assert_eq!(status, 401, "the old password is gone");
        let (status, _) = post(&app, "token", "backend", &[
            ("grant_type", "password"), ("username", "carol"), ("password", "a-new-password"),
        ]).await;
        assert_eq!(status, 200);
        app.stop().await;
    }
}
