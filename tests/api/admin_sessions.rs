//! Realm-wide sessions through the admin API: ending one session, logging everyone out,
//! counting sessions per client, and push-revocation.

use serde_json::json;

use crate::admin_support::{
    active, carol, field, password_grant, refresh, refresh_tokens, token_request, vault, Admin,
    CAROL_PASSWORD, VAULT_SECRET,
};
use crate::backend_tests;

backend_tests! {
    async fn deleting_one_session_kills_its_refresh_token_while_another_keeps_working(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let doomed = carol(&app, "openid").await;
        let kept = carol(&app, "openid").await;
        let reply = admin.delete(&format!("/admin/realms/vault/sessions/{}", field(&doomed, "session_state"))).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        assert_eq!(refresh(&app, field(&doomed, "refresh_token")).await, 400, "its refresh token is dead at once");
        assert!(!active(&app, field(&doomed, "access_token")).await, "its access token too");
        let (status, kept) = refresh_tokens(&app, field(&kept, "refresh_token")).await;
        assert_eq!(status, 200, "the other session of carol works");
        assert!(active(&app, field(&kept, "access_token")).await);

        let again = admin.delete(&format!("/admin/realms/vault/sessions/{}", field(&doomed, "session_state"))).await;
        assert_eq!((again.status, again.error_message()), (404, "Session not found"));
        let elsewhere = admin.delete(&format!("/admin/realms/master/sessions/{}", field(&kept, "session_state"))).await;
        assert_eq!(elsewhere.status, 404, "a session is ended through its own realm only");
        assert_eq!(refresh(&app, field(&kept, "refresh_token")).await, 200);

        let offline = carol(&app, "openid offline_access").await;
        let reply = admin.delete(&format!("/admin/realms/vault/sessions/{}", field(&offline, "session_state"))).await;
        assert_eq!(reply.status, 204);
        assert_eq!(refresh(&app, field(&offline, "refresh_token")).await, 400, "offline sessions end the same way");
        app.stop().await;
    }

    async fn logout_all_ends_every_session_and_makes_earlier_tokens_stale(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let online = carol(&app, "openid").await;
        let offline = carol(&app, "openid offline_access").await;
        let public = password_grant(&app, "vault", "frontend", None, "carol", CAROL_PASSWORD, None).await;
        let (status, service) = token_request(&app, "vault", &[
            ("grant_type", "client_credentials"), ("client_id", "backend"), ("client_secret", VAULT_SECRET),
        ]).await;
        assert_eq!(status, 200);
        assert!(active(&app, field(&service, "access_token")).await);
        app.clock.advance(5);

        let reply = admin.post_empty("/admin/realms/vault/logout-all").await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.body, json!({"successRequests": [], "failedRequests": []}));
        for tokens in [&online, &offline] {
            assert_eq!(refresh(&app, field(tokens, "refresh_token")).await, 400);
            assert!(!active(&app, field(tokens, "access_token")).await);
        }
        assert!(!active(&app, field(&public, "access_token")).await);
        assert!(!active(&app, field(&service, "access_token")).await, "a sessionless token is stale by notBefore");
        let realm = admin.ok("/admin/realms/vault").await;
        assert_eq!(realm["notBefore"], portcullis::clock::Clock::now(&app.clock));
        let carol_id = admin.user_id("vault", "carol").await;
        assert_eq!(admin.ok(&format!("/admin/realms/vault/users/{carol_id}/sessions")).await, json!([]));

        let fresh = carol(&app, "openid").await;
        assert!(active(&app, field(&fresh, "access_token")).await, "logging in again works");
        assert_eq!(refresh(&app, field(&fresh, "refresh_token")).await, 200);
        assert_eq!(admin.get("/admin/realms").await.status, 200, "other realms' tokens are untouched");
        assert_eq!(admin.post_empty("/admin/realms/nope/logout-all").await.status, 404);
        app.stop().await;
    }

    async fn client_session_stats_count_live_online_and_offline_sessions(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.ok("/admin/realms/vault/client-session-stats").await, json!([]));
        carol(&app, "openid").await;
        carol(&app, "openid").await;
        carol(&app, "openid offline_access").await;
        password_grant(&app, "vault", "frontend", None, "carol", CAROL_PASSWORD, None).await;
        let backend_uuid = admin.client_uuid("vault", "backend").await;
        let frontend_uuid = admin.client_uuid("vault", "frontend").await;
        let stats = admin.ok("/admin/realms/vault/client-session-stats").await;
        let mut expected = vec![
            json!({"id": backend_uuid, "clientId": "backend", "active": "2", "offline": "1"}),
            json!({"id": frontend_uuid, "clientId": "frontend", "active": "1", "offline": "0"}),
        ];
        expected.sort_by_key(|s| s["id"].as_str().unwrap().to_string());
        assert_eq!(stats, json!(expected), "ordered by the client's internal id");

        app.clock.advance(1801); // past ssoSessionIdleTimeout: online sessions are dead, offline ones live on
        let admin = Admin::login(&app).await;
        let stats = admin.ok("/admin/realms/vault/client-session-stats").await;
        assert_eq!(stats, json!([{"id": backend_uuid, "clientId": "backend", "active": "0", "offline": "1"}]));
        let sessions = admin.ok(&format!("/admin/realms/vault/clients/{backend_uuid}/user-sessions")).await;
        assert_eq!(sessions, json!([]), "dead sessions are not listed");
        app.stop().await;
    }

    async fn push_revocation_is_accepted_and_says_there_is_nothing_to_push(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let reply = admin.post_empty("/admin/realms/vault/push-revocation").await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!((reply.body["successRequests"].clone(), reply.body["failedRequests"].clone()), (json!([]), json!([])));
        assert!(reply.body["message"].as_str().unwrap().contains("No adapters to notify"), "{reply:?}");
        assert_eq!(admin.post_empty("/admin/realms/nope/push-revocation").await.status, 404);
        app.stop().await;
    }
}
