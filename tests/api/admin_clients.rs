//! `/admin/realms/{realm}/clients`: create, list, read, update, delete; the client secret and
//! its regeneration; service accounts; a client's online and offline sessions.

use serde_json::{json, Value};

use crate::admin_support::{
    carol, field, password_grant, token_request, vault, Admin, CAROL_PASSWORD, VAULT_SECRET,
};
use crate::backend_tests;
use crate::helpers::TestApp;

async fn client_credentials(app: &TestApp, client: &str, secret: &str) -> (u16, Value) {
    token_request(
        app,
        "vault",
        &[("grant_type", "client_credentials"), ("client_id", client), ("client_secret", secret)],
    )
    .await
}

backend_tests! {
    async fn clients_are_created_listed_read_updated_and_deleted(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let reply = admin.post("/admin/realms/vault/clients", json!({
            "clientId": "billing", "publicClient": false, "redirectUris": ["https://billing.example/cb"], "directAccessGrantsEnabled": true,
            "attributes": {"access.token.lifespan": "120"}, "frontchannelLogout": true
        })).await;
        let uuid = reply.created_id();
        assert_eq!(reply.location.unwrap(), format!("{}/admin/realms/vault/clients/{uuid}", app.base));
        let listed = admin.ok("/admin/realms/vault/clients?clientId=billing").await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        let billing = &listed[0];
        assert_eq!((billing["id"].as_str(), billing["clientId"].as_str()), (Some(uuid.as_str()), Some("billing")));
        assert_eq!((billing["publicClient"].as_bool(), billing["standardFlowEnabled"].as_bool()), (Some(false), Some(true)));
        assert_eq!((billing["protocol"].as_str(), billing["serviceAccountsEnabled"].as_bool()), (Some("openid-connect"), Some(false)));
        let secret = field(billing, "secret").to_string();
        assert_eq!(secret.len(), 43, "256 random bits, generated");
        let tokens = password_grant(&app, "vault", "billing", Some(&secret), "carol", CAROL_PASSWORD, None).await;
        assert_eq!(tokens["expires_in"], 120, "the client's attribute applies");
        assert_eq!(admin.ok(&format!("/admin/realms/vault/clients/{uuid}")).await, *billing);
        assert_eq!(admin.ok("/admin/realms/vault/clients?clientId=nope").await, json!([]));
        let all = admin.ok("/admin/realms/vault/clients").await;
        let ids: Vec<&str> = all.as_array().unwrap().iter().map(|c| c["clientId"].as_str().unwrap()).collect();
        assert_eq!(ids, ["backend", "billing", "frontend"], "vault was imported from a file without realm-management");
        let found = admin.ok("/admin/realms/vault/clients?clientId=END&search=true").await;
        assert_eq!(found.as_array().unwrap().len(), 2, "search: backend and frontend");

        let duplicate = admin.post("/admin/realms/vault/clients", json!({"clientId": "billing"})).await;
        assert_eq!((duplicate.status, duplicate.error_message()), (409, "Client billing already exists"));
        for bad in [
            json!({}), json!({"clientId": ""}), json!({"clientId": "x", "protocol": "saml"}),
            json!({"clientId": "y", "redirectUris": ["https://y.example/cb#fragment"]}),
            json!({"clientId": "z", "id": "not/a safe id"}), json!({"clientId": "w", "publicClient": "yes"}),
        ] {
            let reply = admin.post("/admin/realms/vault/clients", bad.clone()).await;
            assert_eq!(reply.status, 400, "{bad}: {reply:?}");
        }
        let given = admin.post("/admin/realms/vault/clients", json!({
            "clientId": "given", "publicClient": false, "secret": "a-secret-chosen-by-the-admin", "serviceAccountsEnabled": true
        })).await;
        assert_eq!(given.status, 201);
        assert_eq!(client_credentials(&app, "given", "a-secret-chosen-by-the-admin").await.0, 200);
        let spa = admin.post("/admin/realms/vault/clients", json!({"clientId": "spa", "publicClient": true})).await.created_id();
        assert!(admin.ok(&format!("/admin/realms/vault/clients/{spa}")).await.get("secret").is_none());
        assert_eq!(admin.get("/admin/realms/vault/clients/nope").await.status, 404);

        let update = admin.put(&format!("/admin/realms/vault/clients/{uuid}"), json!({
            "name": "Billing", "attributes": {"access.token.lifespan": "", "x": "1"}, "webOrigins": ["+"]
        })).await;
        assert_eq!(update.status, 204, "{update:?}");
        let billing = admin.ok(&format!("/admin/realms/vault/clients/{uuid}")).await;
        assert_eq!((billing["name"].as_str(), billing["attributes"]["x"].as_str()), (Some("Billing"), Some("1")));
        assert!(billing["attributes"].get("access.token.lifespan").is_none(), "an empty value removes an attribute");
        assert_eq!((billing["webOrigins"].clone(), billing["secret"].as_str()), (json!(["+"]), Some(secret.as_str())));
        assert_eq!(billing["redirectUris"], json!(["https://billing.example/cb"]), "absent fields keep their value");
        let renamed = admin.put(&format!("/admin/realms/vault/clients/{uuid}"), json!({"clientId": "backend"})).await;
        assert_eq!(renamed.status, 409);
        assert_eq!(admin.put(&format!("/admin/realms/vault/clients/{uuid}"), json!({"publicClient": true})).await.status, 204);
        assert!(admin.ok(&format!("/admin/realms/vault/clients/{uuid}")).await.get("secret").is_none(), "public: no secret");
        assert_eq!(admin.put(&format!("/admin/realms/vault/clients/{uuid}"), json!({"publicClient": false})).await.status, 204);
        let new_secret = admin.ok(&format!("/admin/realms/vault/clients/{uuid}")).await["secret"].as_str().unwrap().to_string();
        assert_ne!(new_secret, secret, "confidential again: a new secret");
        assert_eq!(admin.put("/admin/realms/vault/clients/nope", json!({})).await.status, 404);

        let session = password_grant(&app, "vault", "billing", Some(&new_secret), "carol", CAROL_PASSWORD, None).await;
        assert_eq!(admin.delete(&format!("/admin/realms/vault/clients/{uuid}")).await.status, 204);
        assert_eq!(admin.get(&format!("/admin/realms/vault/clients/{uuid}")).await.status, 404);
        assert_eq!(admin.delete(&format!("/admin/realms/vault/clients/{uuid}")).await.status, 404);
        let (status, _) = token_request(&app, "vault", &[("grant_type", "refresh_token"), ("client_id", "billing"),
            ("client_secret", &new_secret), ("refresh_token", field(&session, "refresh_token"))]).await;
        assert_eq!(status, 401, "the client is gone");

        assert_eq!(admin.post("/admin/realms", json!({"realm": "fresh"})).await.status, 201);
        let management = admin.client_uuid("fresh", "realm-management").await;
        assert_eq!(admin.delete(&format!("/admin/realms/fresh/clients/{management}")).await.status, 400);
        let admin_cli = admin.client_uuid("master", "admin-cli").await;
        assert_eq!(admin.delete(&format!("/admin/realms/master/clients/{admin_cli}")).await.status, 400);
        app.stop().await;
    }

    async fn a_regenerated_client_secret_makes_the_old_one_fail_at_once(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let uuid = admin.client_uuid("vault", "backend").await;
        let path = format!("/admin/realms/vault/clients/{uuid}/client-secret");
        assert_eq!(admin.ok(&path).await, json!({"type": "secret", "value": VAULT_SECRET}));
        assert_eq!(client_credentials(&app, "backend", VAULT_SECRET).await.0, 200, "the old secret works first");

        let reply = admin.post_empty(&path).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.body["type"], "secret");
        let fresh = field(&reply.body, "value").to_string();
        assert_ne!(fresh, VAULT_SECRET);
        let (status, body) = client_credentials(&app, "backend", VAULT_SECRET).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "the old secret fails at once");
        assert_eq!(client_credentials(&app, "backend", &fresh).await.0, 200);
        assert_eq!(admin.ok(&path).await["value"], fresh);

        let frontend = admin.client_uuid("vault", "frontend").await;
        let public = format!("/admin/realms/vault/clients/{frontend}/client-secret");
        assert_eq!(admin.ok(&public).await, json!({"type": "secret"}), "a public client has none");
        assert_eq!(admin.post_empty(&public).await.status, 400);
        assert_eq!(admin.post_empty("/admin/realms/vault/clients/nope/client-secret").await.status, 404);
        app.stop().await;
    }

    async fn service_accounts_and_client_sessions_are_visible(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let worker = admin.post("/admin/realms/vault/clients", json!({"clientId": "Worker", "publicClient": false, "serviceAccountsEnabled": true}))
            .await.created_id();
        let account = admin.ok(&format!("/admin/realms/vault/clients/{worker}/service-account-user")).await;
        assert_eq!(account["username"], "service-account-worker");
        assert_eq!(account["serviceAccountClientId"], "Worker");
        let secret = admin.ok(&format!("/admin/realms/vault/clients/{worker}/client-secret")).await;
        let (status, tokens) = client_credentials(&app, "Worker", field(&secret, "value")).await;
        assert_eq!(status, 200, "{tokens}");

        let late = admin.post("/admin/realms/vault/clients", json!({"clientId": "late"})).await.created_id();
        assert_eq!(admin.get(&format!("/admin/realms/vault/clients/{late}/service-account-user")).await.status, 400);
        assert_eq!(admin.put(&format!("/admin/realms/vault/clients/{late}"), json!({"serviceAccountsEnabled": true})).await.status, 204);
        let late_account = admin.ok(&format!("/admin/realms/vault/clients/{late}/service-account-user")).await;
        assert_eq!(late_account["username"], "service-account-late");

        assert_eq!(admin.delete(&format!("/admin/realms/vault/clients/{worker}")).await.status, 204);
        let account_id = account["id"].as_str().unwrap();
        assert_eq!(admin.get(&format!("/admin/realms/vault/users/{account_id}")).await.status, 404, "gone with its client");

        let first = carol(&app, "openid").await;
        carol(&app, "openid").await;
        let offline = carol(&app, "openid offline_access").await;
        password_grant(&app, "vault", "frontend", None, "carol", CAROL_PASSWORD, None).await;
        let backend_uuid = admin.client_uuid("vault", "backend").await;
        let sessions = admin.ok(&format!("/admin/realms/vault/clients/{backend_uuid}/user-sessions")).await;
        assert_eq!(sessions.as_array().unwrap().len(), 2);
        assert!(sessions.as_array().unwrap().iter().any(|s| s["id"] == first["session_state"]));
        assert_eq!(sessions[0]["clients"], json!({ backend_uuid.clone(): "backend" }));
        assert_eq!(sessions[0]["username"], "carol");
        let page = admin.ok(&format!("/admin/realms/vault/clients/{backend_uuid}/user-sessions?first=1&max=1")).await;
        assert_eq!(page.as_array().unwrap().len(), 1);
        assert_ne!(page[0]["id"], sessions[0]["id"]);
        let offline_sessions = admin.ok(&format!("/admin/realms/vault/clients/{backend_uuid}/offline-sessions")).await;
        assert_eq!(offline_sessions.as_array().unwrap().len(), 1);
        assert_eq!(offline_sessions[0]["id"], offline["session_state"]);
        assert_eq!(admin.get("/admin/realms/vault/clients/nope/user-sessions").await.status, 404);
        app.stop().await;
    }
}

backend_tests! {
    async fn a_new_client_gets_keycloaks_defaults(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        // with a protocol (as the admin console sends), setupClientDefaults applies
        let id = admin.post("/admin/realms/vault/clients", json!({"clientId": "bare", "protocol": "openid-connect", "secret": "ignored"}))
            .await.created_id();
        let bare = admin.ok(&format!("/admin/realms/vault/clients/{id}")).await;
        for (field, expected) in [
            ("publicClient", json!(true)), ("bearerOnly", json!(false)), ("enabled", json!(true)),
            ("standardFlowEnabled", json!(true)), ("directAccessGrantsEnabled", json!(true)),
            ("implicitFlowEnabled", json!(false)), ("serviceAccountsEnabled", json!(false)),
            ("consentRequired", json!(false)), ("frontchannelLogout", json!(false)),
            ("protocol", json!("openid-connect")), ("clientAuthenticatorType", json!("client-secret")),
            ("nodeReRegistrationTimeout", json!(-1)), ("notBefore", json!(0)),
            ("surrogateAuthRequired", json!(false)), ("alwaysDisplayInConsole", json!(false)),
            ("redirectUris", json!([])), ("webOrigins", json!([])),
        ] {
            assert_eq!(bare[field], expected, "{field}");
        }
        assert!(bare.get("secret").is_none(), "public when neither publicClient nor bearerOnly is given: no secret");
        assert_eq!(bare["attributes"]["backchannel.logout.session.required"], "true");
        assert_eq!(bare["attributes"]["backchannel.logout.revoke.offline.tokens"], "false");
        let (status, tokens) = token_request(&app, "vault", &[("grant_type", "password"), ("client_id", "bare"),
            ("username", "carol"), ("password", CAROL_PASSWORD)]).await;
        assert_eq!(status, 200, "direct access grants are on: {tokens}");

        // without one, Keycloak's model defaults: confidential with a secret, direct grants off
        let plain = admin.post("/admin/realms/vault/clients", json!({"clientId": "plain", "name": "plain"})).await.created_id();
        let plain = admin.ok(&format!("/admin/realms/vault/clients/{plain}")).await;
        assert_eq!((plain["publicClient"].clone(), plain["directAccessGrantsEnabled"].clone()), (json!(false), json!(false)));
        assert_eq!((plain["standardFlowEnabled"].clone(), plain["protocol"].clone()), (json!(true), json!("openid-connect")));
        assert_eq!(field(&plain, "secret").len(), 43, "a generated secret");

        let rooted = admin.post("/admin/realms/vault/clients", json!({"clientId": "rooted", "protocol": "openid-connect",
            "rootUrl": "https://app.example/base"})).await.created_id();
        let rooted = admin.ok(&format!("/admin/realms/vault/clients/{rooted}")).await;
        assert_eq!(rooted["redirectUris"], json!(["https://app.example/base/*"]));
        assert_eq!(rooted["webOrigins"], json!(["https://app.example"]));
        assert_eq!(rooted["adminUrl"], "https://app.example/base");
        let origins = admin.post("/admin/realms/vault/clients", json!({"clientId": "spa2", "redirectUris": ["http://localhost:3000/cb"]}))
            .await.created_id();
        assert_eq!(admin.ok(&format!("/admin/realms/vault/clients/{origins}")).await["webOrigins"], json!(["http://localhost:3000"]));
        app.stop().await;
    }

    async fn every_client_representation_field_is_stored_and_comes_back(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let body = json!({
            "clientId": "full", "name": "Full", "description": "All the fields", "publicClient": false,
            "rootUrl": "https://full.example", "baseUrl": "/home", "adminUrl": "https://full.example/admin",
            "redirectUris": ["https://full.example/cb"], "webOrigins": ["+"], "implicitFlowEnabled": true,
            "frontchannelLogout": true, "surrogateAuthRequired": true, "alwaysDisplayInConsole": true,
            "notBefore": 1700000000, "nodeReRegistrationTimeout": 30, "consentRequired": true,
            "authenticationFlowBindingOverrides": {"browser": "flow-id"},
            "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "https://full.example/bye"}
        });
        let id = admin.post("/admin/realms/vault/clients", body.clone()).await.created_id();
        let path = format!("/admin/realms/vault/clients/{id}");
        let full = admin.ok(&path).await;
        for (key, value) in body.as_object().unwrap() {
            match key.as_str() {
                "attributes" => {
                    for (name, v) in value.as_object().unwrap() {
                        assert_eq!(&full["attributes"][name], v, "attribute {name}");
                    }
                }
                _ => assert_eq!(&full[key], value, "{key}"),
            }
        }
        let update = json!({"description": "Changed", "baseUrl": "/other", "implicitFlowEnabled": false, "notBefore": 0,
            "frontchannelLogout": false, "alwaysDisplayInConsole": false});
        assert_eq!(admin.put(&path, update.clone()).await.status, 204);
        let changed = admin.ok(&path).await;
        for (key, value) in update.as_object().unwrap() {
            assert_eq!(&changed[key], value, "{key} after PUT");
        }
        assert_eq!(changed["rootUrl"], "https://full.example", "absent fields keep their value");

        let jwt = admin.put(&path, json!({"clientAuthenticatorType": "client-jwt"})).await;
        assert_eq!(jwt.status, 204, "private_key_jwt is run: {jwt:?}");
        assert_eq!(admin.ok(&path).await["clientAuthenticatorType"], "client-jwt");
        let x509 = admin.post("/admin/realms/vault/clients", json!({"clientId": "x509", "clientAuthenticatorType": "client-x509"})).await;
        assert_eq!(x509.status, 400, "a client authenticator Portcullis does not run is refused, not stored: {x509:?}");
        app.stop().await;
    }
}
