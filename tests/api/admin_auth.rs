//! Who may call the admin API: 401 without a live token, 403 for a live token without rights,
//! realm master's admin everywhere, a realm's realm-management roles in that realm only.

use serde_json::json;

use crate::admin_support::{call, carol, field, password_grant, vault, Admin};
use crate::backend_tests;

backend_tests! {
    async fn requests_without_a_live_token_are_401_with_a_bearer_challenge(backend: Backend) {
        let app = vault(backend).await;
        let no_token = call(&app, None, "GET", "/admin/realms", None).await;
        assert_eq!(no_token.status, 401, "{no_token:?}");
        assert!(no_token.www_authenticate.as_deref().is_some_and(|c| c.starts_with("Bearer")), "{no_token:?}");
        assert_eq!(no_token.body["error"], "HTTP 401 Unauthorized");
        for junk in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."] {
            assert_eq!(call(&app, Some(junk), "GET", "/admin/realms", None).await.status, 401, "{junk}");
        }
        let tokens = carol(&app, "openid").await;
        let refresh_as_bearer = call(&app, Some(field(&tokens, "refresh_token")), "GET", "/admin/realms", None).await;
        assert_eq!(refresh_as_bearer.status, 401, "a refresh token is not an access token");

        let admin = Admin::login(&app).await;
        assert_eq!(admin.get("/admin/realms").await.status, 200);
        app.clock.advance(301);
        assert_eq!(admin.get("/admin/realms").await.status, 401, "an expired admin token");
        app.stop().await;
    }

    async fn a_live_token_without_admin_rights_is_403(backend: Backend) {
        let app = vault(backend).await;
        let tokens = carol(&app, "openid").await;
        let carol_token = field(&tokens, "access_token");
        for path in ["/admin/realms", "/admin/realms/vault", "/admin/realms/vault/users", "/admin/realms/nope/users"] {
            let reply = call(&app, Some(carol_token), "GET", path, None).await;
            assert_eq!((reply.status, reply.body["error"].as_str()), (403, Some("HTTP 403 Forbidden")), "{path}");
        }
        let created = call(&app, Some(carol_token), "POST", "/admin/realms", Some(json!({"realm": "x"}))).await;
        assert_eq!(created.status, 403);

        // a user of master without the admin role is no admin either
        let admin = Admin::login(&app).await;
        let bob = admin.post("/admin/realms/master/users", json!({
            "username": "bob", "enabled": true, "credentials": [{"type": "password", "value": "bob-password"}]
        })).await;
        assert_eq!(bob.status, 201, "{bob:?}");
        let tokens = password_grant(&app, "master", "admin-cli", None, "bob", "bob-password", None).await;
        let reply = call(&app, Some(field(&tokens, "access_token")), "GET", "/admin/realms/vault/users", None).await;
        assert_eq!(reply.status, 403);
        app.stop().await;
    }

    async fn realm_admins_act_on_their_own_realm_within_their_roles(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let user = |name: &str, role: &str| json!({
            "username": name, "enabled": true,
            "credentials": [{"type": "password", "value": format!("{name}-password")}],
            "clientRoles": {"realm-management": [role]}
        });
        let created = admin.post("/admin/realms", json!({
            "realm": "acme", "enabled": true,
            "clients": [{"clientId": "console", "publicClient": true, "directAccessGrantsEnabled": true}],
            "users": [user("viewer", "view-users"), user("manager", "manage-users"), user("boss", "realm-admin")]
        })).await;
        assert_eq!(created.status, 201, "{created:?}");
        let token = |name: &'static str| {
            let app = &app;
            async move {
                let password = format!("{name}-password");
                let tokens = password_grant(app, "acme", "console", None, name, &password, None).await;
                field(&tokens, "access_token").to_string()
            }
        };
        let viewer = Admin::with_token(&app, &token("viewer").await);
        assert_eq!(viewer.get("/admin/realms/acme/users").await.status, 200);
        assert_eq!(viewer.post("/admin/realms/acme/users", json!({"username": "x"})).await.status, 403, "view is not manage");
        assert_eq!(viewer.get("/admin/realms/acme/clients").await.status, 403, "users are not clients");
        assert_eq!(viewer.get("/admin/realms/vault/users").await.status, 403, "another realm");
        assert_eq!(viewer.get("/admin/realms/master/users").await.status, 403, "not master either");
        let visible = viewer.ok("/admin/realms").await;
        let names: Vec<&str> = visible.as_array().unwrap().iter().map(|r| r["realm"].as_str().unwrap()).collect();
        assert_eq!(names, ["acme"]);

        let manager = Admin::with_token(&app, &token("manager").await);
        let reply = manager.post("/admin/realms/acme/users", json!({"username": "newcomer", "enabled": true})).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        assert_eq!(manager.get("/admin/realms/acme").await.status, 403, "manage-users does not read the realm");
        // a role that includes admin roles the manager lacks cannot be mapped by the manager
        let sneaky = admin.post("/admin/realms/acme/roles", json!({
            "name": "sneaky", "composites": {"client": {"realm-management": ["manage-clients"]}}
        })).await;
        assert_eq!(sneaky.status, 201, "{sneaky:?}");
        let manager_id = admin.user_id("acme", "manager").await;
        let mappings = format!("/admin/realms/acme/users/{manager_id}/role-mappings/realm");
        assert_eq!(manager.post(&mappings, json!([{"name": "sneaky"}])).await.status, 403);
        assert_eq!(manager.post(&mappings, json!([{"name": "offline_access"}])).await.status, 204);
        assert_eq!(manager.get("/admin/realms/acme/clients").await.status, 403, "still no client rights");

        let boss = Admin::with_token(&app, &token("boss").await);
        assert_eq!(boss.get("/admin/realms/acme/clients").await.status, 200, "realm-admin includes every role");
        assert_eq!(boss.put("/admin/realms/acme", json!({"accessTokenLifespan": 120})).await.status, 204);
        assert_eq!(boss.post("/admin/realms", json!({"realm": "other"})).await.status, 403, "no create-realm");
        assert_eq!(boss.get("/admin/realms/vault").await.status, 403);

        // disabling a realm admin takes their rights away at once
        let viewer_id = admin.user_id("acme", "viewer").await;
        let reply = admin.put(&format!("/admin/realms/acme/users/{viewer_id}"), json!({"enabled": false})).await;
        assert_eq!(reply.status, 204);
        assert_eq!(viewer.get("/admin/realms/acme/users").await.status, 401);
        app.stop().await;
    }

    async fn a_master_user_with_create_realm_only_creates_realms(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        // a master user who may only create realms
        let creator = admin.post("/admin/realms/master/users", json!({
            "username": "creator", "enabled": true, "credentials": [{"value": "creator-password"}]
        })).await.created_id();
        let grant = admin.post(&format!("/admin/realms/master/users/{creator}/role-mappings/realm"),
            json!([{"name": "create-realm"}])).await;
        assert_eq!(grant.status, 204, "{grant:?}");
        let tokens = password_grant(&app, "master", "admin-cli", None, "creator", "creator-password", None).await;
        let creator_admin = Admin::with_token(&app, field(&tokens, "access_token"));
        assert_eq!(creator_admin.post("/admin/realms", json!({"realm": "made", "enabled": true})).await.status, 201);
        assert_eq!(creator_admin.get("/admin/realms/vault").await.status, 403, "create-realm is not admin");
        assert_eq!(creator_admin.ok("/admin/realms").await, json!([]));

        app.stop().await;
    }
}
