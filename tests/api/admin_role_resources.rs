//! Roles as Keycloak's admin API serves them beyond the realm-role basics of `admin_roles`:
//! attributes and `briefRepresentation`, client roles, composites, `roles-by-id`, the users
//! holding a role and the available and effective (composite) role mappings.

use serde_json::{json, Value};

use crate::admin_support::{carol, field, password_grant, vault, Admin, VAULT_SECRET};
use crate::backend_tests;

pub fn names(roles: &Value) -> Vec<&str> {
    roles.as_array().unwrap_or_else(|| panic!("{roles}")).iter().map(|r| r["name"].as_str().unwrap()).collect()
}

backend_tests! {
    async fn role_attributes_and_descriptions_are_stored_and_come_back(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let attributes = json!({"team": ["billing", "ops"], "level": ["2"]});
        let reply = admin.post("/admin/realms/vault/roles", json!({"name": "clerk", "description": "Files things", "attributes": attributes})).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let clerk = admin.ok("/admin/realms/vault/roles/clerk").await;
        assert_eq!((clerk["description"].clone(), clerk["attributes"].clone()), (json!("Files things"), attributes));
        let changed = json!({"level": ["3"]});
        assert_eq!(admin.put("/admin/realms/vault/roles/clerk", json!({"name": "clerk", "attributes": changed})).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/roles/clerk").await["attributes"], changed, "PUT replaces the attributes");
        assert_eq!(admin.put("/admin/realms/vault/roles/clerk", json!({"description": "Still"})).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/roles/clerk").await["attributes"], changed, "absent attributes are kept");

        let created = admin.post("/admin/realms", json!({
            "realm": "imported", "enabled": true,
            "roles": {"realm": [{"name": "tagged", "attributes": {"k": ["v"]}}]},
            "clients": [{"clientId": "described", "description": "From a file", "rootUrl": "https://d.example", "frontchannelLogout": true}]
        })).await;
        assert_eq!(created.status, 201, "{created:?}");
        assert_eq!(admin.ok("/admin/realms/imported/roles/tagged").await["attributes"], json!({"k": ["v"]}));
        let described = admin.ok("/admin/realms/imported/clients?clientId=described").await;
        assert_eq!(described[0]["description"], "From a file");
        assert_eq!((described[0]["rootUrl"].clone(), described[0]["frontchannelLogout"].clone()), (json!("https://d.example"), json!(true)));
        app.stop().await;
    }

    async fn client_roles_are_created_listed_briefly_renamed_and_deleted(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let client = admin.client_uuid("vault", "backend").await;
        let roles = format!("/admin/realms/vault/clients/{client}/roles");
        let reply = admin.post(&roles, json!({"name": "reader", "description": "Reads", "attributes": {"a": ["1"]}})).await;
        assert_eq!(reply.location.as_deref(), Some(format!("{}/admin/realms/vault/clients/{client}/roles/reader", app.base).as_str()));
        let duplicate = admin.post(&roles, json!({"name": "reader"})).await;
        assert_eq!((duplicate.status, duplicate.error_message()), (409, "Role with name reader already exists"));
        assert_eq!(admin.post(&roles, json!({"name": "writer"})).await.status, 201);

        let listed = admin.ok(&roles).await;
        assert_eq!(names(&listed), ["reader", "writer"]);
        assert!(listed[0].get("attributes").is_none(), "lists are brief by default: {listed}");
        assert_eq!((listed[0]["clientRole"].clone(), listed[0]["containerId"].clone()), (json!(true), json!(client)));
        let full = admin.ok(&format!("{roles}?briefRepresentation=false")).await;
        assert_eq!(full[0]["attributes"], json!({"a": ["1"]}));
        assert_eq!(names(&admin.ok(&format!("{roles}?search=WRI")).await), ["writer"]);
        assert_eq!(admin.ok(&format!("{roles}/reader")).await["attributes"], json!({"a": ["1"]}), "one role comes in full");
        let realm_list = admin.ok("/admin/realms/vault/roles").await;
        assert!(realm_list[0].get("attributes").is_none(), "realm role lists too");
        assert!(admin.ok("/admin/realms/vault/roles?briefRepresentation=false").await[0]["attributes"].is_object());

        assert_eq!(admin.put(&format!("{roles}/reader"), json!({"name": "viewer"})).await.status, 204);
        let gone = admin.get(&format!("{roles}/reader")).await;
        assert_eq!((gone.status, gone.error_message()), (404, "Could not find role"));
        assert_eq!(admin.ok(&format!("{roles}/viewer")).await["description"], "Reads");
        assert_eq!(admin.put(&format!("{roles}/viewer"), json!({"name": "writer"})).await.status, 409);
        assert_eq!(admin.delete(&format!("{roles}/viewer")).await.status, 204);
        assert_eq!(admin.delete(&format!("{roles}/viewer")).await.status, 404);
        let nowhere = admin.get("/admin/realms/vault/clients/nope/roles").await;
        assert_eq!((nowhere.status, nowhere.error_message()), (404, "Could not find client"));
        assert_eq!(admin.get("/admin/realms/vault/roles/writer").await.status, 404, "client roles are not realm roles");
        app.stop().await;
    }

    async fn composites_are_added_listed_and_removed_by_name_or_by_id(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let client = admin.client_uuid("vault", "backend").await;
        for name in ["parent", "child"] {
            assert_eq!(admin.post("/admin/realms/vault/roles", json!({"name": name})).await.status, 201);
        }
        assert_eq!(admin.post(&format!("/admin/realms/vault/clients/{client}/roles"), json!({"name": "c1"})).await.status, 201);
        let parent = admin.ok("/admin/realms/vault/roles/parent").await;
        let child = admin.ok("/admin/realms/vault/roles/child").await;
        let c1 = admin.ok(&format!("/admin/realms/vault/clients/{client}/roles/c1")).await;
        let composites = "/admin/realms/vault/roles/parent/composites";
        let added = admin.post(composites, json!([{"id": child["id"]}, {"id": c1["id"], "name": "c1"}])).await;
        assert_eq!(added.status, 204, "{added:?}");
        assert_eq!(names(&admin.ok(composites).await), ["child", "c1"]);
        assert_eq!(names(&admin.ok(&format!("{composites}/realm")).await), ["child"]);
        assert_eq!(names(&admin.ok(&format!("{composites}/clients/{client}")).await), ["c1"]);
        assert_eq!(admin.ok("/admin/realms/vault/roles/parent").await["composite"], true);
        let missing = admin.post(composites, json!([{"id": "nope"}])).await;
        assert_eq!((missing.status, missing.error_message()), (404, "Could not find composite role"));
        assert_eq!(admin.post(composites, json!([{"id": parent["id"]}])).await.status, 400, "not itself");

        let by_id = format!("/admin/realms/vault/roles-by-id/{}", parent["id"].as_str().unwrap());
        assert_eq!(admin.ok(&by_id).await["name"], "parent");
        assert_eq!(names(&admin.ok(&format!("{by_id}/composites")).await), ["child", "c1"]);
        assert_eq!(admin.delete_with(&format!("{by_id}/composites"), json!([{"id": child["id"]}])).await.status, 204);
        assert_eq!(names(&admin.ok(&format!("{by_id}/composites")).await), ["c1"]);
        assert_eq!(names(&admin.ok(&format!("{by_id}/composites/realm")).await), Vec::<&str>::new());
        assert_eq!(names(&admin.ok(&format!("{by_id}/composites/clients/{client}")).await), ["c1"]);
        assert_eq!(admin.put(&by_id, json!({"description": "By id"})).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/roles/parent").await["description"], "By id");

        let client_composites = format!("/admin/realms/vault/clients/{client}/roles/c1/composites");
        assert_eq!(admin.post(&client_composites, json!([{"id": child["id"]}])).await.status, 204);
        assert_eq!(names(&admin.ok(&client_composites).await), ["child"]);
        assert_eq!(names(&admin.ok(&format!("{client_composites}/realm")).await), ["child"]);
        let c1_by_id = format!("/admin/realms/vault/roles-by-id/{}", c1["id"].as_str().unwrap());
        assert_eq!(admin.ok(&c1_by_id).await["clientRole"], true);

        let child_by_id = format!("/admin/realms/vault/roles-by-id/{}", child["id"].as_str().unwrap());
        assert_eq!(admin.delete(&child_by_id).await.status, 204);
        let gone = admin.get(&child_by_id).await;
        assert_eq!((gone.status, gone.error_message()), (404, "Could not find role with id"), "Keycloak's RoleByIdResource text");
        assert_eq!(names(&admin.ok(&client_composites).await), Vec::<&str>::new(), "a deleted role leaves every composite");
        app.stop().await;
    }

    async fn users_in_a_role_and_available_and_effective_mappings(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let client = admin.client_uuid("vault", "backend").await;
        let carol_id = admin.ok("/admin/realms/vault/users?username=carol&exact=true").await[0]["id"].as_str().unwrap().to_string();
        for name in ["parent", "child", "spare"] {
            assert_eq!(admin.post("/admin/realms/vault/roles", json!({"name": name})).await.status, 201);
        }
        for name in ["c1", "c2"] {
            assert_eq!(admin.post(&format!("/admin/realms/vault/clients/{client}/roles"), json!({"name": name})).await.status, 201);
        }
        let child = admin.ok("/admin/realms/vault/roles/child").await;
        let c1 = admin.ok(&format!("/admin/realms/vault/clients/{client}/roles/c1")).await;
        assert_eq!(admin.post("/admin/realms/vault/roles/parent/composites", json!([{"id": child["id"]}, {"id": c1["id"]}])).await.status, 204);
        let mapping = format!("/admin/realms/vault/users/{carol_id}/role-mappings");
        assert_eq!(admin.post(&format!("{mapping}/realm"), json!([{"name": "parent"}])).await.status, 204);

        let members = admin.ok("/admin/realms/vault/roles/parent/users").await;
        assert_eq!(members.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect::<Vec<_>>(), ["carol"]);
        assert_eq!(admin.ok("/admin/realms/vault/roles/child/users").await, json!([]), "direct mappings only");
        assert_eq!(admin.ok("/admin/realms/vault/roles/parent/users?first=1").await, json!([]));
        assert_eq!(admin.get("/admin/realms/vault/roles/nope/users").await.status, 404);
        assert_eq!(admin.ok(&format!("/admin/realms/vault/clients/{client}/roles/c1/users")).await, json!([]));

        let effective = admin.ok(&format!("{mapping}/realm/composite")).await;
        let held = names(&effective);
        for name in ["child", "parent"] {
            assert!(held.contains(&name), "{name} in {held:?}");
        }
        assert!(!held.contains(&"spare"));
        assert!(effective[0].get("attributes").is_none(), "brief by default");
        let available = admin.ok(&format!("{mapping}/realm/available")).await;
        assert!(names(&available).contains(&"spare"));
        assert!(names(&available).contains(&"child"), "held only through a composite: still available, as in Keycloak");
        assert!(!names(&available).contains(&"parent"), "mapped directly");
        assert_eq!(names(&admin.ok(&format!("{mapping}/clients/{client}/composite")).await), ["c1"]);
        assert_eq!(names(&admin.ok(&format!("{mapping}/clients/{client}/available")).await), ["c1", "c2"]);
        let nope = admin.get(&format!("{mapping}/clients/nope/available")).await;
        assert_eq!((nope.status, nope.error_message()), (404, "Client not found"), "Keycloak's ClientRoleMappingsResource text");
        assert_eq!(admin.get(&format!("{mapping}/clients/nope")).await.error_message(), "Client not found");
        assert_eq!(admin.get("/admin/realms/vault/users/nope/role-mappings/realm/composite").await.status, 404);
        app.stop().await;
    }

    async fn client_session_counts_and_the_keycloak_json_installation(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let backend_id = admin.client_uuid("vault", "backend").await;
        let path = format!("/admin/realms/vault/clients/{backend_id}");
        assert_eq!(admin.ok(&format!("{path}/session-count")).await, json!({"count": 0}));
        carol(&app, "openid").await;
        carol(&app, "openid").await;
        carol(&app, "openid offline_access").await;
        assert_eq!(admin.ok(&format!("{path}/session-count")).await, json!({"count": 2}));
        assert_eq!(admin.ok(&format!("{path}/offline-session-count")).await, json!({"count": 1}));
        assert_eq!(admin.get("/admin/realms/vault/clients/nope/session-count").await.status, 404);

        let reply = admin.get(&format!("{path}/installation/providers/keycloak-oidc-keycloak-json")).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let json = reply.body;
        assert_eq!(json["realm"], "vault");
        assert_eq!(json["auth-server-url"], format!("{}/", app.base));
        assert_eq!((json["resource"].clone(), json["ssl-required"].clone()), (json!("backend"), json!("external")));
        assert_eq!(json["credentials"], json!({"secret": VAULT_SECRET}));
        assert_eq!(json["confidential-port"], 0);
        assert!(json.get("public-client").is_none());
        let frontend = admin.client_uuid("vault", "frontend").await;
        let public = admin.ok(&format!("/admin/realms/vault/clients/{frontend}/installation/providers/keycloak-oidc-keycloak-json")).await;
        assert_eq!((public["public-client"].clone(), public.get("credentials")), (json!(true), None));
        let unknown = admin.get(&format!("{path}/installation/providers/keycloak-saml")).await;
        assert_eq!(unknown.status, 404);
        app.stop().await;
    }

    async fn a_new_realm_gets_keycloaks_clients_admin_roles_and_default_role(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.post("/admin/realms", json!({"realm": "fresh", "enabled": true})).await.status, 201);
        let clients = admin.ok("/admin/realms/fresh/clients").await;
        let ids: Vec<&str> = clients.as_array().unwrap().iter().map(|c| c["clientId"].as_str().unwrap()).collect();
        assert_eq!(ids, ["account", "account-console", "admin-cli", "broker", "realm-management", "security-admin-console"]);
        let by_id = |id: &str| clients.as_array().unwrap().iter().find(|c| c["clientId"] == id).unwrap().clone();
        let account = by_id("account");
        assert_eq!((account["publicClient"].clone(), account["baseUrl"].clone()), (json!(true), json!("/realms/fresh/account/")));
        assert_eq!(account["redirectUris"], json!(["/realms/fresh/account/*"]));
        assert_eq!(by_id("security-admin-console")["redirectUris"], json!(["/admin/fresh/console/*"]));
        assert_eq!(by_id("security-admin-console")["attributes"]["pkce.code.challenge.method"], "S256");
        assert_eq!((by_id("broker")["bearerOnly"].clone(), by_id("realm-management")["bearerOnly"].clone()), (json!(true), json!(true)));
        let cli = by_id("admin-cli");
        assert_eq!((cli["directAccessGrantsEnabled"].clone(), cli["standardFlowEnabled"].clone()), (json!(true), json!(false)));

        let management = by_id("realm-management")["id"].as_str().unwrap().to_string();
        let roles = admin.ok(&format!("/admin/realms/fresh/clients/{management}/roles")).await;
        assert_eq!(names(&roles), [
            "create-client", "impersonation", "manage-authorization", "manage-clients", "manage-events",
            "manage-identity-providers", "manage-realm", "manage-users", "query-clients", "query-groups", "query-realms",
            "query-users", "realm-admin", "view-authorization", "view-clients", "view-events", "view-identity-providers",
            "view-realm", "view-users",
        ]);
        let realm_admin = admin.ok(&format!("/admin/realms/fresh/clients/{management}/roles/realm-admin/composites")).await;
        assert_eq!(realm_admin.as_array().unwrap().len(), 18, "realm-admin includes every other role");
        assert_eq!(names(&admin.ok(&format!("/admin/realms/fresh/clients/{management}/roles/view-users/composites")).await), ["query-groups", "query-users"]);
        let account_id = account["id"].as_str().unwrap();
        let account_roles = admin.ok(&format!("/admin/realms/fresh/clients/{account_id}/roles")).await;
        assert_eq!(names(&account_roles), ["delete-account", "manage-account", "manage-account-links", "manage-consent",
            "view-applications", "view-consent", "view-groups", "view-profile"]);

        let realm = admin.ok("/admin/realms/fresh").await;
        assert_eq!(realm["defaultRole"]["name"], "default-roles-fresh");
        assert_eq!(realm["defaultRole"]["composite"], true);
        let default_composites = admin.ok("/admin/realms/fresh/roles/default-roles-fresh/composites").await;
        assert_eq!(names(&default_composites), ["offline_access", "uma_authorization", "manage-account", "view-profile"]);

        let user = admin.post("/admin/realms/fresh/users", json!({"username": "dora", "enabled": true,
            "credentials": [{"type": "password", "value": "dora-password", "temporary": false}]})).await.created_id();
        let effective = admin.ok(&format!("/admin/realms/fresh/users/{user}/role-mappings/clients/{account_id}/composite")).await;
        assert_eq!(names(&effective), ["manage-account", "manage-account-links", "view-profile"], "through default-roles-fresh");
        let tokens = password_grant(&app, "fresh", "admin-cli", None, "dora", "dora-password", None).await;
        let claims: Value = {
            use base64::Engine;
            let payload = field(&tokens, "access_token").split('.').nth(1).unwrap().to_string();
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
        };
        assert!(claims["realm_access"]["roles"].as_array().unwrap().contains(&json!("default-roles-fresh")), "{claims}");

        // each realm-management role gives in our authorisation what Keycloak's gives
        let grant = |role: &'static str| {
            let path = format!("/admin/realms/fresh/users/{user}/role-mappings/clients/{management}");
            (path, json!([{"name": role}]))
        };
        let (path, body) = grant("query-clients");
        assert_eq!(admin.post(&path, body.clone()).await.status, 204);
        let tokens = password_grant(&app, "fresh", "admin-cli", None, "dora", "dora-password", None).await;
        let dora = Admin::with_token(&app, field(&tokens, "access_token"));
        let listed = dora.get("/admin/realms/fresh/clients").await;
        assert_eq!(listed.status, 200, "query-clients lists clients: {listed:?}");
        assert!(listed.body.as_array().unwrap().iter().all(|c| c.get("secret").is_none() && c.get("redirectUris").is_none()), "briefly");
        assert_eq!(dora.get(&format!("/admin/realms/fresh/clients/{management}")).await.status, 403, "but does not read them");
        assert_eq!(dora.post("/admin/realms/fresh/clients", json!({"clientId": "x"})).await.status, 403);
        assert_eq!(admin.delete_with(&path, body).await.status, 204);
        let (path, body) = grant("create-client");
        assert_eq!(admin.post(&path, body).await.status, 204);
        let created = dora.post("/admin/realms/fresh/clients", json!({"clientId": "made-by-dora"})).await;
        assert_eq!(created.status, 201, "create-client creates clients: {created:?}");
        assert_eq!(dora.put(&format!("/admin/realms/fresh/clients/{management}"), json!({"name": "x"})).await.status, 403, "but manages none");
        app.stop().await;
    }
}
