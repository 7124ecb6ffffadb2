//! `/admin/realms`: list, create (with clients and users in the body), read, update every
//! setting, and delete with everything the realm owned.

use serde_json::{json, Value};

use crate::admin_support::{
    active, call, carol, count, field, password_grant, refresh, token_request, vault, Admin,
};
use crate::backend_tests;

fn names(realms: &Value) -> Vec<String> {
    realms.as_array().unwrap().iter().map(|r| r["realm"].as_str().unwrap().to_string()).collect()
}

backend_tests! {
    async fn realms_are_listed_created_and_read(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let all = admin.ok("/admin/realms").await;
        assert_eq!(names(&all), ["master", "vault"]);
        assert_eq!(all[1]["accessTokenLifespan"], 300);
        assert_eq!(all[1]["revokeRefreshToken"], true);

        let reply = admin.post("/admin/realms", json!({
            "realm": "demo", "enabled": true, "accessTokenLifespan": 120, "displayName": "Demo",
            "smtpServer": {"host": "mail.example"}
        })).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        assert_eq!(reply.location.as_deref(), Some(format!("{}/admin/realms/demo", app.base).as_str()));
        assert!(reply.body.is_null(), "201 carries no body");
        let demo = admin.ok("/admin/realms/demo").await;
        assert_eq!((demo["realm"].as_str(), demo["enabled"].as_bool()), (Some("demo"), Some(true)));
        assert_eq!((demo["accessTokenLifespan"].as_i64(), demo["displayName"].as_str()), (Some(120), Some("Demo")));
        assert_eq!(demo["ssoSessionIdleTimeout"], 1800, "defaults for what the body left out");
        assert!(demo["id"].is_string());

        // a new realm is usable at once: keys, default roles and the realm-management client
        let discovery = app.get_json("/realms/demo/.well-known/openid-configuration").await;
        assert_eq!(discovery.0, 200);
        let roles = admin.ok("/admin/realms/demo/roles").await;
        let role_names: Vec<&str> = roles.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(role_names, ["default-roles-demo", "offline_access", "uma_authorization"]);
        let clients = admin.ok("/admin/realms/demo/clients").await;
        assert!(clients.as_array().unwrap().iter().any(|c| c["clientId"] == "realm-management"), "{clients}");

        let again = admin.post("/admin/realms", json!({"realm": "demo"})).await;
        assert_eq!((again.status, again.error_message()), (409, "Conflict detected. See logs for details"));
        assert_eq!(names(&admin.ok("/admin/realms").await), ["demo", "master", "vault"]);

        let missing = admin.get("/admin/realms/nope").await;
        assert_eq!((missing.status, missing.error_message()), (404, "Realm not found."));
        app.stop().await;
    }

    async fn invalid_realm_bodies_are_400_with_an_error_message(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let raw = |body: &'static str| {
            let app = &app;
            let token = admin.token.clone();
            async move {
                let response = app.http.post(app.url("/admin/realms")).bearer_auth(token)
                    .header("content-type", "application/json").body(body).send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        // Keycloak's dialects: unparsable JSON answers {"error": "unknown_error"}, a reserved
        // character in the name a JAX-RS BadRequestException {"error": ...}, the rest errorMessage
        for body in ["{", "", r#"{"realm": "../etc"}"#] {
            let (status, reply) = raw(body).await;
            assert_eq!(status, 400, "{body}: {reply}");
            assert!(reply["error"].is_string(), "{body}: {reply}");
        }
        for body in [
            "[]", r#"[{"realm": "a"}]"#, r#"{"enabled": true}"#, r#"{"realm": "a b"}"#,
            r#"{"realm": "t", "accessTokenLifespan": "soon"}"#, r#"{"realm": "t", "accessTokenLifespan": 0}"#,
            r#"{"realm": "t", "defaultSignatureAlgorithm": "HS256"}"#,
            r#"{"realm": "t", "users": [{"credentials": []}]}"#,
        ] {
            let (status, reply) = raw(body).await;
            assert_eq!(status, 400, "{body}: {reply}");
            assert!(reply["errorMessage"].is_string(), "{body}: {reply}");
        }
        assert_eq!(names(&admin.ok("/admin/realms").await), ["master", "vault"], "nothing was created");

        // Keycloak creates a realm without "enabled" disabled
        assert_eq!(admin.post("/admin/realms", json!({"realm": "off"})).await.status, 201);
        assert_eq!(admin.ok("/admin/realms/off").await["enabled"], false);
        let (status, _) = token_request(&app, "off", &[("grant_type", "client_credentials")]).await;
        assert_eq!(status, 404, "a disabled realm does not exist for clients");
        app.stop().await;
    }

    async fn a_realm_created_with_clients_and_users_serves_logins(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let reply = admin.post("/admin/realms", json!({
            "realm": "shop", "enabled": true,
            "clients": [{"clientId": "web", "secret": "web-secret-0123456789", "directAccessGrantsEnabled": true}],
            "roles": {"realm": [{"name": "buyer"}]},
            "users": [{"username": "Dana", "enabled": true, "realmRoles": ["buyer"],
                       "credentials": [{"type": "password", "value": "dana-password"}]}]
        })).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let tokens = password_grant(&app, "shop", "web", Some("web-secret-0123456789"), "dana", "dana-password", None).await;
        let claims = decode(field(&tokens, "access_token"));
        assert!(claims["realm_access"]["roles"].as_array().unwrap().contains(&json!("buyer")), "{claims}");
        let users = admin.ok("/admin/realms/shop/users").await;
        assert_eq!(users[0]["username"], "dana");
        assert!(users[0].get("credentials").is_none(), "credentials are never shown");
        app.stop().await;
    }

    async fn put_updates_every_token_and_session_setting(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let before = admin.ok("/admin/realms/vault").await;
        let mut wanted = before.clone();
        for (key, value) in wanted.as_object_mut().unwrap() {
            match (key.as_str(), value.clone()) {
                ("id" | "realm" | "notBefore" | "enabled" | "defaultRole", _) => {}
                // on, it gives carol (an unverified e-mail) VERIFY_EMAIL, which stops her password
                // grant below as in Keycloak (browser_required_actions.rs tests that)
                ("verifyEmail", _) => {}
                ("sslRequired", _) => *value = json!("all"),
                ("defaultSignatureAlgorithm", _) => *value = json!("ES256"),
                ("displayName", _) => *value = json!("The Vault"),
                ("accessTokenLifespan", _) => *value = json!(307),
                ("bruteForceStrategy", _) => *value = json!("LINEAR"),
                (_, Value::Bool(b)) => *value = json!(!b),
                (_, Value::String(text)) => *value = json!(format!("{text}-changed")),
                (_, Value::Array(mut items)) => {
                    items.push(json!("added"));
                    *value = Value::Array(items);
                }
                ("localizationTexts", _) => *value = json!({"de": {"hello": "Hallo"}}),
                (_, Value::Object(mut map)) => {
                    map.insert("added".into(), json!("value"));
                    *value = Value::Object(map);
                }
                // far enough that no session or client-session timeout caps the access token
                (_, Value::Number(n)) => *value = json!(n.as_i64().unwrap() + 86_400),
                (other, v) => panic!("a setting of unexpected type: {other} = {v}"),
            }
        }
        assert!(wanted.as_object().unwrap().len() > 90, "every setting is readable: {before}");
        let reply = admin.put("/admin/realms/vault", wanted.clone()).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        let after = admin.ok("/admin/realms/vault").await;
        assert_eq!(after, wanted, "every setting written and read back");

        // the change is in force at once: lifespan and algorithm of new tokens
        let tokens = carol(&app, "openid").await;
        assert_eq!(tokens["expires_in"], 307);
        let header = field(&tokens, "access_token").split('.').next().unwrap().to_string();
        assert!(String::from_utf8(b64(&header)).unwrap().contains("ES256"));

        for (body, why) in [
            (json!({"accessTokenLifespan": 0}), "a zero lifespan"),
            (json!({"sslRequired": "sometimes"}), "an unknown sslRequired"),
            (json!({"realm": "renamed"}), "a rename"),
            (json!({"defaultSignatureAlgorithm": "none"}), "an unsupported algorithm"),
            (json!({"refreshTokenMaxReuse": "many"}), "a wrong type"),
            (json!({"notBefore": -1}), "a negative notBefore"),
            (json!({"refreshTokenReuseIntervalSeconds": -5}), "a negative reuse interval"),
        ] {
            let reply = admin.put("/admin/realms/vault", body).await;
            assert_eq!(reply.status, 400, "{why}: {reply:?}");
            assert!(reply.body["errorMessage"].is_string() || reply.body["error"].is_string(), "{reply:?}");
        }
        assert_eq!(admin.ok("/admin/realms/vault").await, wanted, "a refused update changes nothing");
        let unknown = admin.put("/admin/realms/vault", json!({"unknownThing": 1})).await;
        assert_eq!((unknown.status, unknown.error_message()), (400,
            "Unrecognized field \"unknownThing\" (class org.keycloak.representations.idm.RealmRepresentation), not marked as ignorable"));
        assert_eq!(admin.put("/admin/realms/nope", json!({})).await.status, 404);
        assert_eq!(admin.put("/admin/realms/master", json!({"enabled": false})).await.status, 400);
        app.stop().await;
    }

    async fn disabling_a_realm_and_moving_not_before_take_effect_at_once(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let tokens = carol(&app, "openid").await;
        assert!(active(&app, field(&tokens, "access_token")).await);
        let not_before = portcullis::clock::Clock::now(&app.clock) + 1;
        assert_eq!(admin.put("/admin/realms/vault", json!({"notBefore": not_before})).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault").await["notBefore"], not_before);
        assert!(!active(&app, field(&tokens, "access_token")).await, "issued before notBefore: stale");
        assert_eq!(refresh(&app, field(&tokens, "refresh_token")).await, 400);

        assert_eq!(admin.put("/admin/realms/vault", json!({"enabled": false})).await.status, 204);
        let (status, _) = token_request(&app, "vault", &[("grant_type", "password")]).await;
        assert_eq!(status, 404, "a disabled realm answers like a missing one");
        assert_eq!(admin.ok("/admin/realms/vault").await["enabled"], false, "admins still see it");
        assert_eq!(admin.put("/admin/realms/vault", json!({"enabled": true})).await.status, 204);
        app.stop().await;
    }

    async fn deleting_a_realm_removes_everything_it_owned(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let on = json!({"eventsEnabled": true, "adminEventsEnabled": true});
        assert_eq!(admin.put("/admin/realms/vault/events/config", on).await.status, 204);
        assert_eq!(admin.put("/admin/realms/master", json!({"adminEventsEnabled": true})).await.status, 204);
        let online = carol(&app, "openid").await;
        let offline = carol(&app, "openid offline_access").await;
        let created = admin.post("/admin/realms/vault/users", json!({
            "username": "temp", "enabled": true, "credentials": [{"value": "temp-password"}]
        })).await;
        assert_eq!(created.status, 201);
        let carol_id = admin.user_id("vault", "carol").await;
        let backend_uuid = admin.client_uuid("vault", "backend").await;
        app.store.upsert_consent(&portcullis::store::ConsentRecord {
            user_id: carol_id.clone(), client_id: backend_uuid.clone(), scope: "openid".into(), created_at: 1, updated_at: 1,
        }).await.unwrap();
        let realm_id = admin.ok("/admin/realms/vault").await["id"].as_str().unwrap().to_string();
        for _ in 0..100 {
            if count(&app, "SELECT COUNT(*) FROM events WHERE realm_id = $1", &realm_id).await >= 2 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let owned = [
            "signing_keys", "clients", "users", "roles", "user_sessions", "events", "admin_events",
        ];
        for table in owned {
            let n = count(&app, &format!("SELECT COUNT(*) FROM {table} WHERE realm_id = $1"), &realm_id).await;
            assert!(n > 0, "the scenario put rows in {table}");
        }
        assert!(count(&app, "SELECT COUNT(*) FROM consents WHERE user_id = $1", &carol_id).await > 0);

        let reply = admin.delete("/admin/realms/vault").await;
        assert_eq!(reply.status, 204, "{reply:?}");
        assert_eq!(admin.get("/admin/realms/vault").await.status, 404);
        assert_eq!(admin.delete("/admin/realms/vault").await.status, 404);
        for table in owned.iter().chain(&["auth_codes", "revoked_access_tokens"]) {
            let n = count(&app, &format!("SELECT COUNT(*) FROM {table} WHERE realm_id = $1"), &realm_id).await;
            assert_eq!(n, 0, "{table} keeps rows of the deleted realm");
        }
        for (table, column, id) in [
            ("credentials", "user_id", &carol_id), ("user_role_mappings", "user_id", &carol_id),
            ("consents", "user_id", &carol_id), ("client_sessions", "client_id", &backend_uuid),
        ] {
            let n = count(&app, &format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"), id).await;
            assert_eq!(n, 0, "{table} keeps rows of the deleted realm");
        }
        for orphans in [
            "SELECT COUNT(*) FROM token_families f WHERE $1 = $1 AND NOT EXISTS (SELECT 1 FROM client_sessions c WHERE c.id = f.client_session_id)",
            "SELECT COUNT(*) FROM legacy_refresh_tokens t WHERE $1 = $1 AND NOT EXISTS (SELECT 1 FROM token_families f WHERE f.id = t.family_id)",
            "SELECT COUNT(*) FROM role_composites rc WHERE $1 = $1 AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.id = rc.parent_id)",
        ] {
            assert_eq!(count(&app, orphans, "x").await, 0, "{orphans}");
        }
        let (status, _) = token_request(&app, "vault", &[("grant_type", "refresh_token"), ("client_id", "backend"),
            ("refresh_token", field(&offline, "refresh_token"))]).await;
        assert_eq!(status, 404);
        assert_eq!(call(&app, None, "GET", "/realms/vault/.well-known/openid-configuration", None).await.status, 404);
        let _ = online;

        // the deletion is recorded in the caller's realm, and the name can be used again
        let trail = admin.ok("/admin/realms/master/admin-events?resourceTypes=REALM&operationTypes=DELETE").await;
        assert_eq!(trail[0]["resourcePath"], "realms/vault", "{trail}");
        assert_eq!(admin.post("/admin/realms", json!({"realm": "vault", "enabled": true})).await.status, 201);
        let users = admin.ok("/admin/realms/vault/users").await;
        assert_eq!(users, json!([]), "nothing of the old realm came back");
        assert_eq!(admin.delete("/admin/realms/master").await.status, 400, "master cannot be deleted");
        app.stop().await;
    }
}

fn b64(segment: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(segment).unwrap()
}

fn decode(jwt: &str) -> Value {
    serde_json::from_slice(&b64(jwt.split('.').nth(1).unwrap())).unwrap()
}
