//! Issue 14: `POST /admin/realms/{realm}/partialImport` as Keycloak's PartialImportManager
//! answers it: ADDED, SKIPPED and OVERWRITTEN results, FAIL's 409 with nothing written, client
//! roles of a missing client, identity providers refused, and a partial export imported back.

use serde_json::{json, Value};

use crate::admin_support::{password_grant, vault, Admin, CAROL_PASSWORD};
use crate::backend_tests;

const IMPORT: &str = "/admin/realms/vault/partialImport";

fn body(policy: Option<&str>) -> Value {
    let mut body = json!({
        "realm": "vault",
        "accessTokenLifespan": 60,
        "clients": [{"clientId": "imported-app", "publicClient": false, "secret": "imported-secret-0123456789",
                     "directAccessGrantsEnabled": true, "redirectUris": ["https://app.example/cb"]}],
        "roles": {
            "realm": [{"name": "importer", "description": "from the import", "composites": {"realm": ["offline_access"]}}],
            "client": {"imported-app": [{"name": "reader"}], "backend": [{"name": "writer"}]}
        },
        "groups": [{"name": "imported-group", "realmRoles": ["importer"], "subGroups": [{"name": "child"}]}],
        "users": [{"username": "Dave", "email": "dave@example.test", "enabled": true,
                   "credentials": [{"type": "password", "value": "dave-password-123"}],
                   "realmRoles": ["importer"], "clientRoles": {"imported-app": ["reader"]},
                   "groups": ["/imported-group"]}]
    });
    if let Some(policy) = policy {
        body["ifResourceExists"] = json!(policy);
    }
    body
}

fn actions(reply: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["action"].as_str().unwrap().into(), r["resourceType"].as_str().unwrap().into(), r["resourceName"].as_str().unwrap().into())
        })
        .collect();
    out.sort();
    out
}

backend_tests! {
    async fn a_partial_import_adds_clients_roles_groups_and_users_that_then_work(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let reply = admin.post(IMPORT, body(None)).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!((reply.body["added"].clone(), reply.body["skipped"].clone(), reply.body["overwritten"].clone()), (json!(6), json!(0), json!(0)));
        let added = |kind: &str, name: &str| ("ADDED".to_string(), kind.to_string(), name.to_string());
        assert_eq!(actions(&reply.body), vec![
            added("CLIENT", "imported-app"),
            added("CLIENT_ROLE", "backend-->writer"),
            added("CLIENT_ROLE", "imported-app-->reader"),
            added("GROUP", "imported-group"),
            added("REALM_ROLE", "importer"),
            added("USER", "Dave"),
        ]);
        let app_uuid = admin.client_uuid("vault", "imported-app").await;
        let results = reply.body["results"].as_array().unwrap();
        let id_of = |name: &str| results.iter().find(|r| r["resourceName"] == name).unwrap()["id"].as_str().unwrap().to_string();
        assert_eq!(id_of("imported-app"), app_uuid);
        assert_eq!(id_of("imported-app-->reader"), app_uuid, "Keycloak gives a client role the client's id");
        assert_eq!(id_of("Dave"), admin.user_id("vault", "dave").await);

        let role = admin.ok("/admin/realms/vault/roles/importer").await;
        assert_eq!((role["description"].as_str(), role["composite"].as_bool()), (Some("from the import"), Some(true)));
        assert_eq!(admin.ok(&format!("/admin/realms/vault/clients/{app_uuid}/roles/reader")).await["name"], "reader");
        let backend_uuid = admin.client_uuid("vault", "backend").await;
        assert_eq!(admin.ok(&format!("/admin/realms/vault/clients/{backend_uuid}/roles/writer")).await["name"], "writer");
        let group = admin.ok("/admin/realms/vault/group-by-path/imported-group").await;
        assert_eq!(group["subGroupCount"].as_i64().or(group["subGroups"].as_array().map(|s| s.len() as i64)), Some(1));
        let dave = admin.user_id("vault", "dave").await;
        let groups = admin.ok(&format!("/admin/realms/vault/users/{dave}/groups")).await;
        assert_eq!(groups[0]["name"], "imported-group");
        let tokens = password_grant(&app, "vault", "imported-app", Some("imported-secret-0123456789"), "dave", "dave-password-123", None).await;
        assert!(tokens["access_token"].is_string(), "the imported user logs in with the imported client");
        let realm = admin.ok("/admin/realms/vault").await;
        assert_ne!(realm["accessTokenLifespan"], 60, "realm settings in the body are ignored, as in Keycloak");
        app.stop().await;
    }

    async fn fail_answers_409_with_keycloaks_message_and_writes_nothing(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let mut with_carol = body(Some("FAIL"));
        with_carol["users"].as_array_mut().unwrap().push(json!({"username": "carol"}));
        let reply = admin.post(IMPORT, with_carol).await;
        assert_eq!(reply.status, 409, "{reply:?}");
        assert_eq!(reply.body["errorMessage"], "User with user name carol already exists.");
        assert_eq!(admin.get("/admin/realms/vault/roles/importer").await.status, 404, "nothing was written");
        assert_eq!(admin.ok("/admin/realms/vault/clients?clientId=imported-app").await, json!([]));

        let clash = json!({"clients": [{"clientId": "backend"}]});
        let reply = admin.post(IMPORT, clash).await;
        assert_eq!((reply.status, reply.error_message()), (409, "Client id 'backend' already exists"));
        let clash = json!({"roles": {"realm": [{"name": "offline_access"}]}});
        assert_eq!(admin.post(IMPORT, clash).await.error_message(), "Realm role 'offline_access' already exists.");
        let clash = json!({"roles": {"client": {"backend": [{"name": "w"}]}}});
        assert_eq!(admin.post(IMPORT, clash.clone()).await.status, 200);
        assert_eq!(admin.post(IMPORT, clash).await.error_message(), "Client role 'w' for client 'backend' already exists.");
        let missing = admin.post(IMPORT, json!({"roles": {"client": {"nope": [{"name": "x"}]}}})).await;
        assert_eq!((missing.status, missing.error_message()), (412, "Can not import client roles for nonexistent client named nope"));
        app.stop().await;
    }

    async fn skip_keeps_what_exists_and_overwrite_replaces_it(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.post(IMPORT, body(None)).await.status, 200);
        let old_app = admin.client_uuid("vault", "imported-app").await;
        let skipped = admin.post(IMPORT, body(Some("SKIP"))).await;
        assert_eq!((skipped.body["skipped"].clone(), skipped.body["added"].clone()), (json!(6), json!(0)), "{skipped:?}");
        assert!(skipped.body["results"].as_array().unwrap().iter().all(|r| r["action"] == "SKIPPED"));
        assert_eq!(admin.client_uuid("vault", "imported-app").await, old_app);

        let mut changed = body(Some("OVERWRITE"));
        changed["roles"]["realm"][0]["description"] = json!("second version");
        changed["users"][0]["firstName"] = json!("David");
        let overwritten = admin.post(IMPORT, changed).await;
        assert_eq!(overwritten.status, 200, "{overwritten:?}");
        assert_eq!(overwritten.body["overwritten"], 6, "{overwritten:?}");
        let new_app = admin.client_uuid("vault", "imported-app").await;
        assert_ne!(new_app, old_app, "an overwritten client is created anew, as in Keycloak");
        assert_eq!(admin.ok("/admin/realms/vault/roles/importer").await["description"], "second version");
        let dave = admin.user_id("vault", "dave").await;
        assert_eq!(admin.ok(&format!("/admin/realms/vault/users/{dave}")).await["firstName"], "David");
        assert_eq!(admin.ok("/admin/realms/vault/users?username=dave&exact=true").await.as_array().unwrap().len(), 1);
        assert_eq!(admin.ok(&format!("/admin/realms/vault/clients/{new_app}/roles/reader")).await["name"], "reader");
        password_grant(&app, "vault", "imported-app", Some("imported-secret-0123456789"), "dave", "dave-password-123", None).await;
        // the realm's own clients and users are untouched
        password_grant(&app, "vault", "backend", Some(crate::admin_support::VAULT_SECRET), "carol", CAROL_PASSWORD, None).await;

        let builtin = json!({"ifResourceExists": "OVERWRITE", "roles": {"realm": [{"name": "default-roles-vault"}]}});
        let builtin = admin.post(IMPORT, builtin).await;
        assert_eq!((builtin.status, builtin.error_message()), (400, "The built-in role default-roles-vault cannot be overwritten"));
        app.stop().await;
    }

    async fn a_partial_export_imports_back_as_python_keycloak_does(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let created = admin.post("/admin/realms/vault/clients", json!({"name": "py-client", "clientId": "py-client"})).await;
        let id = created.created_id();
        let export = admin.post_empty("/admin/realms/vault/partial-export?exportClients=true&exportGroupsAndRoles=false").await;
        let client = export.body["clients"].as_array().unwrap().iter().find(|c| c["id"] == id.as_str()).unwrap().clone();
        assert_eq!(admin.delete(&format!("/admin/realms/vault/clients/{id}")).await.status, 204);
        let mut payload = json!({
            "ifResourceExists": "SKIP", "id": export.body["id"], "realm": "vault", "clients": [client],
            "roles": {"realm": [{"name": "py-role"}]}, "users": [{"username": "py-user", "email": "py-user@test.test"}]
        });
        let reply = admin.post(IMPORT, payload.clone()).await;
        assert_eq!(reply.body["added"], 3, "{reply:?}");
        assert_eq!(admin.post(IMPORT, payload.clone()).await.body["skipped"], 3);
        payload["ifResourceExists"] = json!("OVERWRITE");
        assert_eq!(admin.post(IMPORT, payload).await.body["overwritten"], 3);
        app.stop().await;
    }

    async fn unsupported_parts_bad_policies_and_oversized_imports_are_refused(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let idp = admin.post(IMPORT, json!({"identityProviders": [{"alias": "github", "providerId": "github"}]})).await;
        assert_eq!(idp.status, 400);
        assert!(idp.error_message().contains("identityProviders"), "{idp:?}");
        let empty = admin.post(IMPORT, json!({"identityProviders": [], "identityProviderMappers": []})).await;
        assert_eq!((empty.status, empty.body.clone()), (200, json!({"overwritten": 0, "added": 0, "skipped": 0, "results": []})));
        assert_eq!(admin.post(IMPORT, json!({"ifResourceExists": "MERGE"})).await.status, 400);
        let many: Vec<Value> = (0..501).map(|i| json!({"name": format!("r{i}")})).collect();
        let big = admin.post(IMPORT, json!({"roles": {"realm": many}})).await;
        assert_eq!(big.status, 400, "{big:?}");
        assert_eq!(admin.get("/admin/realms/vault/roles/r0").await.status, 404);
        app.stop().await;
    }

    async fn a_partial_import_is_recorded_as_admin_events(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let on = json!({"adminEventsEnabled": true, "adminEventsDetailsEnabled": true});
        assert_eq!(admin.put("/admin/realms/vault", on).await.status, 204);
        let reply = admin.post(IMPORT, json!({"clients": [{"clientId": "evented"}], "roles": {"realm": [{"name": "ev-role"}]}})).await;
        assert_eq!(reply.status, 200);
        let uuid = admin.client_uuid("vault", "evented").await;
        let events = admin.ok("/admin/realms/vault/admin-events?max=100").await;
        let events = events.as_array().unwrap();
        let client_event = events.iter().find(|e| e["resourcePath"] == format!("clients/{uuid}")).unwrap();
        assert_eq!((client_event["operationType"].as_str(), client_event["resourceType"].as_str()), (Some("CREATE"), Some("CLIENT")));
        assert!(events.iter().any(|e| e["resourceType"] == "REALM_ROLE" && e["operationType"] == "CREATE"));
        app.stop().await;
    }
}
