//! `/admin/realms/{realm}/roles` and a user's realm role mappings.

use serde_json::{json, Value};

use crate::admin_support::{carol, field, password_grant, vault, Admin};
use crate::backend_tests;

fn names(roles: &Value) -> Vec<&str> {
    roles
        .as_array()
        .unwrap_or_else(|| panic!("{roles}"))
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect()
}

fn realm_roles_in(tokens: &Value) -> Vec<String> {
    use base64::Engine;
    let payload = field(tokens, "access_token").split('.').nth(1).unwrap().to_string();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
            .unwrap();
    claims["realm_access"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

backend_tests! {
    async fn realm_roles_are_created_read_renamed_and_deleted(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let roles = admin.ok("/admin/realms/vault/roles").await;
        assert_eq!(names(&roles), ["default-roles-vault", "offline_access", "uma_authorization"]);
        let realm_id = admin.ok("/admin/realms/vault").await["id"].clone();
        assert_eq!((roles[0]["composite"].as_bool(), roles[0]["clientRole"].as_bool()), (Some(true), Some(false)));
        assert_eq!(roles[0]["containerId"], realm_id);

        let reply = admin.post("/admin/realms/vault/roles", json!({"name": "auditor", "description": "Reads things"})).await;
        assert_eq!(reply.created_id(), "auditor");
        assert_eq!(reply.location.as_deref(), Some(format!("{}/admin/realms/vault/roles/auditor", app.base).as_str()));
        let duplicate = admin.post("/admin/realms/vault/roles", json!({"name": "auditor"})).await;
        assert_eq!((duplicate.status, duplicate.error_message()), (409, "Role with name auditor already exists"));
        assert_eq!(admin.post("/admin/realms/vault/roles", json!({})).await.status, 400);
        assert_eq!(admin.post("/admin/realms/vault/roles", json!({"name": "c", "composites": {"realm": ["nope"]}})).await.status, 404);
        let spaced = admin.post("/admin/realms/vault/roles", json!({"name": "needs review"})).await;
        assert!(spaced.location.unwrap().ends_with("/roles/needs%20review"));
        assert_eq!(admin.ok("/admin/realms/vault/roles/needs%20review").await["name"], "needs review");
        let bundle = admin.post("/admin/realms/vault/roles", json!({
            "name": "bundle", "composites": {"realm": ["auditor", "offline_access"]}
        })).await;
        assert_eq!(bundle.status, 201);
        assert_eq!(admin.ok("/admin/realms/vault/roles/bundle").await["composite"], true);

        let auditor = admin.ok("/admin/realms/vault/roles/auditor").await;
        assert_eq!((auditor["description"].as_str(), auditor["composite"].as_bool()), (Some("Reads things"), Some(false)));
        let missing = admin.get("/admin/realms/vault/roles/nope").await;
        assert_eq!((missing.status, missing.error_message()), (404, "Could not find role"));
        assert_eq!(names(&admin.ok("/admin/realms/vault/roles?search=AUD").await), ["auditor"]);
        assert_eq!(names(&admin.ok("/admin/realms/vault/roles?first=1&max=2").await), ["bundle", "default-roles-vault"]);

        // roles reach tokens through composites, and a rename shows at once
        let carol_id = admin.user_id("vault", "carol").await;
        let mappings = format!("/admin/realms/vault/users/{carol_id}/role-mappings/realm");
        assert_eq!(admin.post(&mappings, json!([{"name": "bundle"}])).await.status, 204);
        assert!(realm_roles_in(&carol(&app, "openid").await).contains(&"auditor".to_string()));
        let rename = admin.put("/admin/realms/vault/roles/auditor", json!({"name": "inspector", "description": "Looks"})).await;
        assert_eq!(rename.status, 204, "{rename:?}");
        assert_eq!(admin.get("/admin/realms/vault/roles/auditor").await.status, 404);
        assert_eq!(admin.ok("/admin/realms/vault/roles/inspector").await["description"], "Looks");
        assert!(realm_roles_in(&carol(&app, "openid").await).contains(&"inspector".to_string()));
        assert_eq!(admin.put("/admin/realms/vault/roles/inspector", json!({"name": "offline_access"})).await.status, 409);
        assert_eq!(admin.put("/admin/realms/vault/roles/default-roles-vault", json!({"name": "x"})).await.status, 400);
        assert_eq!(admin.put("/admin/realms/vault/roles/nope", json!({})).await.status, 404);

        assert_eq!(admin.delete("/admin/realms/vault/roles/inspector").await.status, 204);
        assert_eq!(admin.get("/admin/realms/vault/roles/inspector").await.status, 404);
        assert_eq!(admin.delete("/admin/realms/vault/roles/inspector").await.status, 404);
        assert!(!realm_roles_in(&carol(&app, "openid").await).contains(&"inspector".to_string()));
        assert_eq!(admin.delete("/admin/realms/vault/roles/default-roles-vault").await.status, 400);
        assert_eq!(admin.delete("/admin/realms/master/roles/admin").await.status, 400);
        app.stop().await;
    }

    async fn user_realm_role_mappings_are_added_listed_and_removed(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        admin.post("/admin/realms/vault/roles", json!({"name": "auditor"})).await.created_id();
        let auditor_id = admin.ok("/admin/realms/vault/roles/auditor").await["id"].as_str().unwrap().to_string();
        let carol_id = admin.user_id("vault", "carol").await;
        let path = format!("/admin/realms/vault/users/{carol_id}/role-mappings/realm");
        assert_eq!(names(&admin.ok(&path).await), ["offline_access"]);

        assert_eq!(admin.post(&path, json!([{"id": auditor_id}, {"name": "uma_authorization"}])).await.status, 204);
        assert_eq!(names(&admin.ok(&path).await), ["auditor", "offline_access", "uma_authorization"]);
        assert_eq!(admin.post(&path, json!([{"id": auditor_id}])).await.status, 204, "mapping twice is harmless");
        let all = admin.ok(&format!("/admin/realms/vault/users/{carol_id}/role-mappings")).await;
        assert_eq!(names(&all["realmMappings"]), ["auditor", "offline_access", "uma_authorization"]);
        assert!(realm_roles_in(&carol(&app, "openid").await).contains(&"auditor".to_string()));

        let unknown = admin.post(&path, json!([{"name": "nope"}])).await;
        assert_eq!((unknown.status, unknown.error_message()), (404, "Role not found"));
        assert_eq!(admin.post(&path, json!({"name": "auditor"})).await.status, 400, "a list is expected");
        assert_eq!(admin.post("/admin/realms/vault/users/nope/role-mappings/realm", json!([])).await.status, 404);

        let reply = admin.delete_with(&path, json!([{"name": "auditor"}])).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        assert_eq!(names(&admin.ok(&path).await), ["offline_access", "uma_authorization"]);
        assert!(!realm_roles_in(&carol(&app, "openid").await).contains(&"auditor".to_string()));

        // granting master's admin role makes an existing token an admin token at once
        let bob = admin.post("/admin/realms/master/users", json!({
            "username": "bob", "enabled": true, "credentials": [{"value": "bob-password"}]
        })).await.created_id();
        let tokens = password_grant(&app, "master", "admin-cli", None, "bob", "bob-password", None).await;
        let bob_admin = Admin::with_token(&app, field(&tokens, "access_token"));
        assert_eq!(bob_admin.get("/admin/realms/vault").await.status, 403);
        let grant = format!("/admin/realms/master/users/{bob}/role-mappings/realm");
        assert_eq!(admin.post(&grant, json!([{"name": "admin"}])).await.status, 204);
        assert_eq!(bob_admin.get("/admin/realms/vault").await.status, 200);
        assert_eq!(admin.delete_with(&grant, json!([{"name": "admin"}])).await.status, 204);
        assert_eq!(bob_admin.get("/admin/realms/vault").await.status, 403, "and taking it away, too");
        app.stop().await;
    }

    async fn client_role_mappings_make_realm_admins_and_only_holders_grant_admin_roles(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.post("/admin/realms", json!({"realm": "acme", "enabled": true})).await.status, 201);
        let mut ids = Vec::new();
        for name in ["helper", "lead"] {
            let user = json!({"username": name, "enabled": true, "credentials": [{"value": format!("{name}-password")}]});
            ids.push(admin.post("/admin/realms/acme/users", user).await.created_id());
        }
        let (helper, lead) = (ids[0].clone(), ids[1].clone());
        let management = admin.client_uuid("acme", "realm-management").await;
        let roles = admin.ok(&format!("/admin/realms/acme/clients/{management}/roles")).await;
        for role in ["manage-users", "realm-admin", "view-clients", "view-realm", "view-users"] {
            assert!(names(&roles).contains(&role), "{role} in {roles}");
        }
        let view_users = admin.ok(&format!("/admin/realms/acme/clients/{management}/roles/view-users")).await;
        assert_eq!((view_users["clientRole"].as_bool(), view_users["containerId"].as_str()), (Some(true), Some(management.as_str())));
        assert_eq!(admin.get(&format!("/admin/realms/acme/clients/{management}/roles/nope")).await.status, 404);

        let helper_path = format!("/admin/realms/acme/users/{helper}/role-mappings/clients/{management}");
        assert_eq!(admin.post(&helper_path, json!([{"name": "manage-users"}])).await.status, 204);
        assert_eq!(names(&admin.ok(&helper_path).await), ["manage-users"]);
        let all = admin.ok(&format!("/admin/realms/acme/users/{helper}/role-mappings")).await;
        assert_eq!(all["clientMappings"]["realm-management"]["id"], management.as_str());
        assert_eq!(names(&all["clientMappings"]["realm-management"]["mappings"]), ["manage-users"]);

        let tokens = password_grant(&app, "acme", "admin-cli", None, "helper", "helper-password", None).await;
        let helper_admin = Admin::with_token(&app, field(&tokens, "access_token"));
        assert_eq!(helper_admin.get("/admin/realms/acme/users").await.status, 200, "a realm admin now");
        assert_eq!(helper_admin.get("/admin/realms/acme/clients").await.status, 403);
        let lead_path = format!("/admin/realms/acme/users/{lead}/role-mappings/clients/{management}");
        assert_eq!(helper_admin.post(&lead_path, json!([{"name": "view-clients"}])).await.status, 403, "not theirs to give");
        assert_eq!(helper_admin.post(&lead_path, json!([{"name": "realm-admin"}])).await.status, 403);
        assert_eq!(helper_admin.post(&lead_path, json!([{"name": "manage-users"}])).await.status, 204, "theirs to give");
        assert_eq!(names(&admin.ok(&lead_path).await), ["manage-users"]);

        assert_eq!(admin.post(&helper_path, json!([{"name": "nope"}])).await.status, 404);
        assert_eq!(admin.post(&format!("/admin/realms/acme/users/{helper}/role-mappings/clients/nope"), json!([])).await.status, 404);
        assert_eq!(admin.delete_with(&helper_path, json!([{"name": "manage-users"}])).await.status, 204);
        assert_eq!(helper_admin.get("/admin/realms/acme/users").await.status, 403, "rights end at once");
        app.stop().await;
    }
}
