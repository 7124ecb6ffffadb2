//! Issue 15 over HTTP: `client-scopes` CRUD, protocol mappers of client scopes and clients, the
//! realm's and a client's default and optional scopes, and scope mappings, with Keycloak's paths,
//! shapes, texts and status codes.

use serde_json::{json, Value};

use crate::admin_support::{vault, Admin};
use crate::backend_tests;

const SCOPES: &str = "/admin/realms/vault/client-scopes";

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

backend_tests! {
    async fn client_scopes_are_created_listed_read_updated_and_deleted(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let enabled = admin.put("/admin/realms/vault/events/config", json!({"adminEventsEnabled": true, "adminEventsDetailsEnabled": true})).await;
        assert_eq!(enabled.status, 204, "admin events are recorded only when enabled: {enabled:?}");
        let all = admin.ok(SCOPES).await;
        assert_eq!(names(&all), ["acr", "address", "basic", "email", "microprofile-jwt", "offline_access", "phone", "profile", "roles", "web-origins"],
            "a realm imported from a file without clientScopes has Keycloak 26's built-in scopes");
        let email = all.as_array().unwrap().iter().find(|s| s["name"] == "email").unwrap();
        assert_eq!(email["attributes"]["consent.screen.text"], "${emailScopeConsentText}");
        assert_eq!(email["protocolMappers"].as_array().unwrap().len(), 2);
        assert_eq!(admin.ok(&format!("{SCOPES}/{}", email["id"].as_str().unwrap())).await, *email);

        let reply = admin.post(SCOPES, json!({"name": "billing", "description": "Billing API", "protocol": "openid-connect",
            "attributes": {"include.in.token.scope": "true", "display.on.consent.screen": "false"}})).await;
        let id = reply.created_id();
        assert_eq!(reply.location.unwrap(), format!("{}/admin/realms/vault/client-scopes/{id}", app.base));
        let billing = admin.ok(&format!("{SCOPES}/{id}")).await;
        assert_eq!(billing, json!({"id": id, "name": "billing", "description": "Billing API", "protocol": "openid-connect",
            "attributes": {"include.in.token.scope": "true", "display.on.consent.screen": "false"}}));

        let duplicate = admin.post(SCOPES, json!({"name": "billing", "protocol": "openid-connect"})).await;
        assert_eq!((duplicate.status, duplicate.body.clone()), (409, json!({"errorMessage": "Client Scope billing already exists"})));
        let spaced = admin.post(SCOPES, json!({"name": "has space"})).await;
        assert_eq!((spaced.status, spaced.error_message()), (400, "Unexpected name \"has space\" for ClientScope"));
        let unknown = admin.post(SCOPES, json!({"name": "x", "colour": "red"})).await;
        assert_eq!(unknown.status, 400);
        assert!(unknown.error_message().starts_with("Unrecognized field \"colour\""), "{unknown:?}");
        let missing = admin.get(&format!("{SCOPES}/does-not-exist")).await;
        assert_eq!((missing.status, missing.error_message()), (404, "Could not find client scope"));
        let missing = admin.put(&format!("{SCOPES}/does-not-exist"), json!({})).await;
        assert_eq!((missing.status, missing.error_message()), (404, "Could not find client scope"));

        let renamed = admin.put(&format!("{SCOPES}/{id}"), json!({"name": "billing-v2", "attributes": {"display.on.consent.screen": ""}})).await;
        assert_eq!(renamed.status, 204, "{renamed:?}");
        let billing = admin.ok(&format!("{SCOPES}/{id}")).await;
        assert_eq!((billing["name"].as_str(), billing["description"].as_str()), (Some("billing-v2"), Some("Billing API")));
        assert_eq!(billing["attributes"], json!({"include.in.token.scope": "true"}), "an empty value removes an attribute");
        let taken = admin.put(&format!("{SCOPES}/{id}"), json!({"name": "email"})).await;
        assert_eq!((taken.status, taken.error_message()), (409, "Client Scope email already exists"));

        assert_eq!(admin.delete(&format!("{SCOPES}/{id}")).await.status, 204);
        let again = admin.delete(&format!("{SCOPES}/{id}")).await;
        assert_eq!((again.status, again.error_message()), (404, "Could not find client scope"));
        let events = admin.ok("/admin/realms/vault/admin-events?resourceTypes=CLIENT_SCOPE").await;
        assert_eq!(events.as_array().unwrap().len(), 3, "create, update, delete");
    }

    async fn protocol_mappers_of_client_scopes_and_clients_follow_keycloak(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let scope = admin.post(SCOPES, json!({"name": "test-scope", "protocol": "openid-connect"})).await.created_id();
        let client = admin.client_uuid("vault", "backend").await;
        for base in [format!("{SCOPES}/{scope}/protocol-mappers"), format!("/admin/realms/vault/clients/{client}/protocol-mappers")] {
            let models = format!("{base}/models");
            assert_eq!(admin.ok(&models).await, json!([]));
            let empty = admin.post(&models, json!({})).await;
            assert_eq!((empty.status, empty.error_message()), (404, "ProtocolMapper provider not found"));
            let reply = admin.post(&models, json!({"name": "dept", "protocol": "openid-connect",
                "protocolMapper": "oidc-usermodel-attribute-mapper",
                "config": {"user.attribute": "dept", "claim.name": "org.dept", "jsonType.label": "String", "access.token.claim": "true"}})).await;
            let id = reply.created_id();
            assert!(reply.location.unwrap().ends_with(&format!("/protocol-mappers/models/{id}")));
            let dept = admin.ok(&format!("{models}/{id}")).await;
            assert_eq!(dept["config"]["claim.name"], "org.dept");
            let twin = admin.post(&models, json!({"name": "dept", "protocolMapper": "oidc-usermodel-attribute-mapper"})).await;
            assert_eq!((twin.status, twin.error_message()), (409, "Protocol mapper exists with same name"));
            for (config, why) in [
                (json!({"jsonType.label": "Number"}), "jsonType.label"),
                (json!({"access.token.claim": "yes"}), "access.token.claim"),
            ] {
                let bad = admin.post(&models, json!({"name": "bad", "protocolMapper": "oidc-hardcoded-claim-mapper", "config": config})).await;
                assert_eq!(bad.status, 400, "{why}: {bad:?}");
                assert!(bad.error_message().contains(why), "{bad:?}");
            }
            let mut changed = dept.clone();
            changed["config"]["user.attribute"] = json!("department");
            assert_eq!(admin.put(&format!("{models}/{id}"), changed).await.status, 204);
            assert_eq!(admin.ok(&format!("{models}/{id}")).await["config"]["user.attribute"], "department");

            let added = admin.post(&format!("{base}/add-models"), json!([
                {"name": "tier", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
                 "config": {"claim.name": "tier", "claim.value": "gold"}},
                {"name": "script", "protocol": "openid-connect", "protocolMapper": "oidc-script-based-protocol-mapper", "config": {}}
            ])).await;
            assert_eq!(added.status, 204, "{added:?}");
            let listed = admin.ok(&models).await;
            assert_eq!(names(&listed), ["dept", "script", "tier"], "an unsupported type is stored (it stays inert)");
            assert_eq!(admin.ok(&format!("{base}/protocol/openid-connect")).await.as_array().unwrap().len(), 3);
            assert_eq!(admin.ok(&format!("{base}/protocol/saml")).await, json!([]));
            let again = admin.post(&format!("{base}/add-models"), json!([{"name": "new", "protocolMapper": "oidc-sub-mapper"},
                {"name": "tier", "protocolMapper": "oidc-sub-mapper"}])).await;
            assert_eq!(again.status, 409);
            assert_eq!(admin.ok(&models).await.as_array().unwrap().len(), 3, "all or none");

            assert_eq!(admin.delete(&format!("{models}/{id}")).await.status, 204);
            let gone = admin.delete(&format!("{models}/{id}")).await;
            assert_eq!((gone.status, gone.error_message()), (404, "Model not found"));
        }
        let missing = admin.get(&format!("{SCOPES}/nope/protocol-mappers/models")).await;
        assert_eq!((missing.status, missing.error_message()), (404, "Could not find client scope"));
        let missing = admin.get("/admin/realms/vault/clients/nope/protocol-mappers/models").await;
        assert_eq!((missing.status, missing.error_message()), (404, "Could not find client"));
    }

    async fn realm_and_client_default_scopes_are_listed_added_and_removed(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let defaults = admin.ok("/admin/realms/vault/default-default-client-scopes").await;
        assert_eq!(names(&defaults), ["acr", "basic", "email", "profile", "roles", "web-origins"]);
        assert_eq!(defaults[0].as_object().unwrap().len(), 2, "id and name only, as Keycloak lists them");
        let optional = admin.ok("/admin/realms/vault/default-optional-client-scopes").await;
        assert_eq!(names(&optional), ["address", "microprofile-jwt", "offline_access", "phone"]);

        let custom = admin.post(SCOPES, json!({"name": "custom"})).await.created_id();
        for list in ["default-default-client-scopes", "default-optional-client-scopes"] {
            let missing = admin.put(&format!("/admin/realms/vault/{list}/does-not-exist"), json!({})).await;
            assert_eq!((missing.status, missing.error_message()), (404, "Client scope not found"));
            let missing = admin.delete(&format!("/admin/realms/vault/{list}/does-not-exist")).await;
            assert_eq!((missing.status, missing.error_message()), (404, "Client scope not found"));
        }
        assert_eq!(admin.put(&format!("/admin/realms/vault/default-optional-client-scopes/{custom}"), json!({})).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/default-optional-client-scopes").await.as_array().unwrap().len(), 5);

        let created = admin.post("/admin/realms/vault/clients", json!({"clientId": "role-testing-client"})).await.created_id();
        let client_scopes = format!("/admin/realms/vault/clients/{created}");
        let linked = admin.ok(&format!("{client_scopes}/default-client-scopes")).await;
        assert_eq!(names(&linked), ["acr", "basic", "email", "profile", "roles", "web-origins"], "a new client gets the realm defaults");
        let linked = admin.ok(&format!("{client_scopes}/optional-client-scopes")).await;
        assert_eq!(names(&linked), ["address", "custom", "microprofile-jwt", "offline_access", "phone"]);

        assert_eq!(admin.delete(&format!("/admin/realms/vault/default-optional-client-scopes/{custom}")).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/default-optional-client-scopes").await.as_array().unwrap().len(), 4);

        assert_eq!(admin.put(&format!("{client_scopes}/default-client-scopes/{custom}"), json!({})).await.status, 204);
        assert_eq!(admin.ok(&format!("{client_scopes}/default-client-scopes")).await.as_array().unwrap().len(), 7);
        assert_eq!(admin.ok(&format!("{client_scopes}/optional-client-scopes")).await.as_array().unwrap().len(), 4,
            "moved from optional to default");
        assert_eq!(admin.delete(&format!("{client_scopes}/default-client-scopes/{custom}")).await.status, 204);
        assert_eq!(admin.ok(&format!("{client_scopes}/default-client-scopes")).await.as_array().unwrap().len(), 6);
        let missing = admin.put(&format!("{client_scopes}/default-client-scopes/nope"), json!({})).await;
        assert_eq!((missing.status, missing.error_message()), (404, "Client scope not found"));
        let missing = admin.get("/admin/realms/vault/clients/nope/default-client-scopes").await;
        assert_eq!((missing.status, missing.error_message()), (404, "Could not find client"));

        let named = admin.post("/admin/realms/vault/clients", json!({"clientId": "named", "defaultClientScopes": ["email", "custom"],
            "optionalClientScopes": ["phone"], "fullScopeAllowed": false,
            "protocolMappers": [{"name": "aud", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
                "config": {"included.client.audience": "backend", "access.token.claim": "true"}}]})).await.created_id();
        let base = format!("/admin/realms/vault/clients/{named}");
        assert_eq!(names(&admin.ok(&format!("{base}/default-client-scopes")).await), ["custom", "email"]);
        assert_eq!(names(&admin.ok(&format!("{base}/optional-client-scopes")).await), ["phone"]);
        assert_eq!(names(&admin.ok(&format!("{base}/protocol-mappers/models")).await), ["aud"]);
        let shown = admin.ok(&base).await;
        assert_eq!(shown["fullScopeAllowed"], false);
        assert_eq!((shown["defaultClientScopes"].clone(), shown["optionalClientScopes"].clone()), (json!(["custom", "email"]), json!(["phone"])),
            "GET client names its scopes, as Keycloak's ClientRepresentation does");
        assert_eq!(shown["protocolMappers"][0]["name"], "aud");
        let mut changed = shown.clone();
        changed["defaultClientScopes"] = json!(["profile"]);
        changed["optionalClientScopes"] = json!(["email", "phone"]);
        changed["protocolMappers"][0]["config"]["included.client.audience"] = json!("frontend");
        changed["protocolMappers"].as_array_mut().unwrap().push(json!({"name": "tier", "protocol": "openid-connect",
            "protocolMapper": "oidc-hardcoded-claim-mapper", "config": {"claim.name": "tier", "claim.value": "gold"}}));
        assert_eq!(admin.put(&base, changed).await.status, 204);
        let shown = admin.ok(&base).await;
        assert_eq!((shown["defaultClientScopes"].clone(), shown["optionalClientScopes"].clone()), (json!(["profile"]), json!(["email", "phone"])),
            "a PUT with scope lists sets the links, as Keycloak's updateClientScopes");
        assert_eq!(names(&shown["protocolMappers"]), ["aud", "tier"]);
        let aud = shown["protocolMappers"].as_array().unwrap().iter().find(|m| m["name"] == "aud").unwrap();
        assert_eq!(aud["config"]["included.client.audience"], "frontend");
        let only_tier = json!({"protocolMappers": [{"name": "tier", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
            "config": {"claim.name": "tier", "claim.value": "silver"}}]});
        assert_eq!(admin.put(&base, only_tier).await.status, 204);
        let shown = admin.ok(&base).await;
        assert_eq!(names(&shown["protocolMappers"]), ["tier"], "mappers the body leaves out are deleted");
        assert_eq!(shown["defaultClientScopes"], json!(["profile"]), "no lists in the body: links unchanged");
        let bad = admin.put(&base, json!({"protocolMappers": [{"name": "x", "protocolMapper": "oidc-sub-mapper", "config": {"access.token.claim": "1"}}],
            "name": "renamed"})).await;
        assert_eq!(bad.status, 400);
        assert!(admin.ok(&base).await.get("name").is_none(), "refused before anything is written");
        let bad = admin.post("/admin/realms/vault/clients", json!({"clientId": "bad-mapper",
            "protocolMappers": [{"name": "x", "protocolMapper": "oidc-hardcoded-claim-mapper", "config": {"id.token.claim": "maybe"}}]})).await;
        assert_eq!(bad.status, 400);
        assert_eq!(admin.ok("/admin/realms/vault/clients?clientId=bad-mapper").await, json!([]), "refused before anything is written");
    }

    async fn scope_mappings_of_clients_and_client_scopes_follow_keycloak(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let realm_rep = json!({"realm": "sm", "enabled": true,
            "roles": {"realm": [{"name": "test-realm-role"}], "client": {"owner": [{"name": "client-role-test"}]}},
            "clients": [{"clientId": "owner", "publicClient": true}]});
        assert_eq!(admin.post("/admin/realms", realm_rep).await.status, 201);
        let enabled = admin.put("/admin/realms/sm/events/config", json!({"adminEventsEnabled": true, "adminEventsDetailsEnabled": true})).await;
        assert_eq!(enabled.status, 204, "admin events are recorded only when enabled: {enabled:?}");
        let offline = admin.ok("/admin/realms/sm/roles/offline_access").await;
        let test_role = admin.ok("/admin/realms/sm/roles/test-realm-role").await;
        let owner = admin.client_uuid("sm", "owner").await;
        let client = admin.post("/admin/realms/sm/clients", json!({"clientId": "role-testing-client"})).await.created_id();
        let scope = admin.post("/admin/realms/sm/client-scopes", json!({"name": "test_client_scope", "protocol": "openid-connect", "attributes": {}})).await.created_id();
        for base in [format!("/admin/realms/sm/clients/{client}/scope-mappings"), format!("/admin/realms/sm/client-scopes/{scope}/scope-mappings")] {
            let realm = format!("{base}/realm");
            assert_eq!(admin.ok(&base).await, json!({}), "nothing mapped yet");
            let bad = admin.post(&realm, json!(["bad"])).await;
            assert_eq!((bad.status, bad.error_message()), (400, "unknown_error"));
            assert_eq!(admin.post(&realm, json!([offline, test_role])).await.status, 204);
            let mapped = admin.ok(&realm).await;
            assert_eq!(names(&mapped), ["offline_access", "test-realm-role"]);
            let available = admin.ok(&format!("{realm}/available")).await;
            assert!(!names(&available).contains(&"offline_access".to_string()));
            assert!(names(&available).contains(&"uma_authorization".to_string()));
            let unknown = admin.post(&realm, json!([{"id": "no-such-role"}])).await;
            assert_eq!((unknown.status, unknown.error_message()), (404, "Role not found"));
            assert_eq!(admin.delete_with(&realm, json!([offline])).await.status, 204);
            assert_eq!(names(&admin.ok(&realm).await), ["test-realm-role"]);
            assert_eq!(names(&admin.ok(&base).await["realmMappings"]), ["test-realm-role"]);
            assert_eq!(admin.delete_with(&realm, json!([test_role])).await.status, 204);
            assert_eq!(admin.ok(&realm).await, json!([]));

            {
                let of_owner = format!("{base}/clients/{owner}");
                assert_eq!(admin.ok(&of_owner).await, json!([]));
                let bad = admin.post(&of_owner, json!(["bad"])).await;
                assert_eq!(bad.status, 400);
                assert_eq!(admin.post(&of_owner, json!([{"name": "client-role-test"}])).await.status, 204);
                assert_eq!(names(&admin.ok(&of_owner).await), ["client-role-test"]);
                let all = admin.ok(&base).await;
                assert_eq!(names(&all["clientMappings"]["owner"]["mappings"]), ["client-role-test"], "keyed by clientId");
                assert_eq!(all["clientMappings"]["owner"]["id"], owner.as_str());
                assert!(!names(&admin.ok(&format!("{of_owner}/available")).await).contains(&"client-role-test".to_string()));
                assert_eq!(admin.delete_with(&of_owner, json!([{"name": "client-role-test"}])).await.status, 204);
                assert_eq!(admin.ok(&base).await, json!({}));
            }
        }

        // composite: everything while fullScopeAllowed is on; only the mapped roles and what they
        // include once it is off
        let realm = format!("/admin/realms/sm/clients/{client}/scope-mappings/realm");
        let every = admin.ok("/admin/realms/sm/roles").await;
        assert_eq!(names(&admin.ok(&format!("{realm}/composite")).await), names(&every));
        assert_eq!(admin.put(&format!("/admin/realms/sm/clients/{client}"), json!({"fullScopeAllowed": false})).await.status, 204);
        assert_eq!(admin.ok(&format!("/admin/realms/sm/clients/{client}")).await["fullScopeAllowed"], false);
        assert_eq!(admin.ok(&format!("{realm}/composite")).await, json!([]));
        let default_roles = admin.ok("/admin/realms/sm/roles/default-roles-sm").await;
        assert_eq!(admin.post(&realm, json!([default_roles])).await.status, 204);
        assert_eq!(names(&admin.ok(&format!("{realm}/composite")).await), ["default-roles-sm", "offline_access", "uma_authorization"],
            "a composite's roles are in scope");
        let events = admin.ok("/admin/realms/sm/admin-events?resourceTypes=REALM_SCOPE_MAPPING").await;
        assert!(events.as_array().unwrap().len() >= 5);
    }

    async fn one_request_adds_a_bounded_number_of_mappers_and_roles(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let scope = admin.post(SCOPES, json!({"name": "big"})).await.created_id();
        let many: Vec<Value> = (0..201).map(|i| json!({"name": format!("m{i}"), "protocolMapper": "oidc-sub-mapper"})).collect();
        let reply = admin.post(&format!("{SCOPES}/{scope}/protocol-mappers/add-models"), json!(many)).await;
        assert_eq!(reply.status, 400, "{reply:?}");
        let reply = admin.post(SCOPES, json!({"name": "big2", "protocolMappers": many})).await;
        assert_eq!(reply.status, 400, "{reply:?}");
        let roles: Vec<Value> = (0..501).map(|i| json!({"id": format!("r{i}")})).collect();
        let reply = admin.post(&format!("{SCOPES}/{scope}/scope-mappings/realm"), json!(roles)).await;
        assert_eq!((reply.status, reply.error_message()), (400, "At most 500 roles per request"));
        assert_eq!(admin.ok(&format!("{SCOPES}/{scope}/protocol-mappers/models")).await, json!([]));
    }
}
