//! `GET .../events` with Keycloak's filters, and `GET .../admin-events`: every write through the
//! admin API is recorded when the realm's `adminEventsEnabled` is on, with who did it, and never
//! with a secret; the events configuration and emptying both tables.

use serde_json::{json, Value};

use crate::admin_support::{
    carol, field, password_grant, refresh, token_request, vault, Admin, CAROL_PASSWORD,
};
use crate::backend_tests;

fn kinds(events: &Value) -> Vec<&str> {
    events
        .as_array()
        .unwrap_or_else(|| panic!("{events}"))
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

backend_tests! {
    async fn events_are_listed_newest_first_with_keycloaks_filters(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.ok("/admin/realms/vault/events").await, json!([]), "events are off by default");
        assert_eq!(admin.put("/admin/realms/vault", json!({"eventsEnabled": true})).await.status, 204);
        let tokens = carol(&app, "openid").await;
        app.clock.advance(1);
        token_request(&app, "vault", &[("grant_type", "password"), ("client_id", "frontend"),
            ("username", "carol"), ("password", "wrong")]).await;
        app.clock.advance(1);
        assert_eq!(refresh(&app, field(&tokens, "refresh_token")).await, 200);
        app.clock.advance(1);
        password_grant(&app, "vault", "frontend", None, "carol", CAROL_PASSWORD, None).await;
        let mut events = Value::Null;
        for _ in 0..100 {
            events = admin.ok("/admin/realms/vault/events").await;
            if events.as_array().unwrap().len() >= 4 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(kinds(&events), ["LOGIN", "REFRESH_TOKEN", "LOGIN_ERROR", "LOGIN"], "newest first");
        let carol_id = admin.user_id("vault", "carol").await;
        let login = &events[3];
        assert_eq!((login["clientId"].as_str(), login["userId"].as_str()), (Some("backend"), Some(carol_id.as_str())));
        assert_eq!((login["sessionId"].clone(), login["ipAddress"].as_str()), (tokens["session_state"].clone(), Some("127.0.0.1")));
        let now = portcullis::clock::Clock::now(&app.clock);
        assert_eq!(events[0]["time"].as_i64(), Some(now * 1000), "milliseconds");
        assert_eq!(events[2]["error"], "invalid_user_credentials");

        let query = |q: &'static str| {
            let admin = &admin;
            async move { admin.ok(&format!("/admin/realms/vault/events?{q}")).await }
        };
        assert_eq!(kinds(&query("type=LOGIN").await), ["LOGIN", "LOGIN"]);
        assert_eq!(kinds(&query("type=LOGIN_ERROR&type=REFRESH_TOKEN").await), ["REFRESH_TOKEN", "LOGIN_ERROR"]);
        assert_eq!(kinds(&query("client=frontend").await), ["LOGIN", "LOGIN_ERROR"]);
        assert_eq!(admin.ok(&format!("/admin/realms/vault/events?user={carol_id}&type=LOGIN")).await.as_array().unwrap().len(), 2);
        assert_eq!(kinds(&query("first=1&max=2").await), ["REFRESH_TOKEN", "LOGIN_ERROR"]);
        let today = time::OffsetDateTime::from_unix_timestamp(now).unwrap().date().to_string();
        assert_eq!(admin.ok(&format!("/admin/realms/vault/events?dateFrom={today}&dateTo={today}")).await.as_array().unwrap().len(), 4);
        assert_eq!(query("dateTo=1970-01-01").await, json!([]));
        let from_ms = (now - 1) * 1000;
        assert_eq!(kinds(&admin.ok(&format!("/admin/realms/vault/events?dateFrom={from_ms}")).await), ["LOGIN", "REFRESH_TOKEN"]);
        for bad in ["dateFrom=yesterday", "max=x"] {
            assert_eq!(admin.get(&format!("/admin/realms/vault/events?{bad}")).await.status, 400, "{bad}");
        }
        assert_eq!(admin.get("/admin/realms/nope/events").await.status, 404);
        app.stop().await;
    }

    async fn every_admin_write_is_an_admin_event_without_secrets(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        // admin events are stored when the realm enables them, as in Keycloak
        let on = json!({"adminEventsEnabled": true, "adminEventsDetailsEnabled": true});
        assert_eq!(admin.put("/admin/realms/vault/events/config", on).await.status, 204);
        const PASSWORD: &str = "an-initial-password-1234";
        const NEW_PASSWORD: &str = "a-reset-password-5678";
        const SECRET: &str = "a-client-secret-given-by-the-admin";
        let user = admin.post("/admin/realms/vault/users", json!({
            "username": "hana", "enabled": true, "credentials": [{"type": "password", "value": PASSWORD}]
        })).await.created_id();
        assert_eq!(admin.put(&format!("/admin/realms/vault/users/{user}"), json!({"firstName": "Hana"})).await.status, 204);
        let reset = json!({"type": "password", "value": NEW_PASSWORD});
        assert_eq!(admin.put(&format!("/admin/realms/vault/users/{user}/reset-password"), reset).await.status, 204);
        let client = admin.post("/admin/realms/vault/clients", json!({"clientId": "ledger", "publicClient": false, "secret": SECRET})).await.created_id();
        let regenerated = admin.post_empty(&format!("/admin/realms/vault/clients/{client}/client-secret")).await;
        let new_secret = field(&regenerated.body, "value").to_string();
        admin.post("/admin/realms/vault/roles", json!({"name": "clerk"})).await.created_id();
        let mapping = format!("/admin/realms/vault/users/{user}/role-mappings/realm");
        assert_eq!(admin.post(&mapping, json!([{"name": "clerk"}])).await.status, 204);
        let session = carol(&app, "openid").await;
        assert_eq!(admin.delete(&format!("/admin/realms/vault/sessions/{}", field(&session, "session_state"))).await.status, 204);
        assert_eq!(admin.post_empty(&format!("/admin/realms/vault/users/{user}/logout")).await.status, 204);
        assert_eq!(admin.put("/admin/realms/vault", json!({"accessTokenLifespan": 600})).await.status, 204);
        assert_eq!(admin.post_empty("/admin/realms/vault/logout-all").await.status, 200);
        assert_eq!(admin.delete(&format!("/admin/realms/vault/users/{user}")).await.status, 204);
        // a refused write records nothing
        assert_eq!(admin.post("/admin/realms/vault/users", json!({"username": "carol"})).await.status, 409);

        let events = admin.ok("/admin/realms/vault/admin-events?max=100").await;
        let mut trail: Vec<(String, String, String)> = events.as_array().unwrap().iter().map(|e| (
            e["operationType"].as_str().unwrap().to_string(),
            e["resourceType"].as_str().unwrap().to_string(),
            e["resourcePath"].as_str().unwrap().to_string(),
        )).collect();
        trail.sort();
        let session_id = field(&session, "session_state");
        let mut expected: Vec<(String, String, String)> = [
            ("CREATE", "USER", format!("users/{user}")),
            ("UPDATE", "USER", format!("users/{user}")),
            ("ACTION", "USER", format!("users/{user}/reset-password")),
            ("CREATE", "CLIENT", format!("clients/{client}")),
            ("ACTION", "CLIENT", format!("clients/{client}/client-secret")),
            ("CREATE", "REALM_ROLE", "roles/clerk".to_string()),
            ("CREATE", "REALM_ROLE_MAPPING", format!("users/{user}/role-mappings/realm")),
            ("DELETE", "USER_SESSION", format!("sessions/{session_id}")),
            ("ACTION", "USER", format!("users/{user}/logout")),
            ("UPDATE", "REALM", "realms/vault".to_string()),
            ("ACTION", "REALM", "logout-all".to_string()),
            ("DELETE", "USER", format!("users/{user}")),
            ("UPDATE", "REALM", "events/config".to_string()),
        ].into_iter().map(|(o, t, p)| (o.to_string(), t.to_string(), p)).collect();
        expected.sort();
        assert_eq!(trail, expected);

        let admin_id = admin.user_id("master", "admin").await;
        let master_id = admin.ok("/admin/realms/master").await["id"].clone();
        let first = &events[0];
        assert_eq!(first["authDetails"]["userId"], admin_id.as_str());
        assert_eq!(first["authDetails"]["realmId"], master_id);
        assert_eq!(first["authDetails"]["ipAddress"], "127.0.0.1");
        assert!(first["time"].as_i64().unwrap() > 1_000_000_000_000);
        let created = events.as_array().unwrap().iter()
            .find(|e| e["operationType"] == "CREATE" && e["resourceType"] == "USER").unwrap();
        let representation: Value = serde_json::from_str(created["representation"].as_str().unwrap()).unwrap();
        assert_eq!(representation["username"], "hana");
        assert!(representation.get("credentials").is_none());

        let text = events.to_string();
        for secret in [PASSWORD, NEW_PASSWORD, SECRET, new_secret.as_str()] {
            assert!(!text.contains(secret), "a secret in the admin events");
        }
        let dump = crate::secrets_at_rest::database_dump(&app).await;
        for secret in [PASSWORD, NEW_PASSWORD, SECRET, new_secret.as_str()] {
            assert!(!contains(&dump, secret), "a secret stored in plain text");
        }

        let query = |q: String| {
            let admin = &admin;
            async move { admin.ok(&format!("/admin/realms/vault/admin-events?{q}")).await.as_array().unwrap().len() }
        };
        assert_eq!(query("operationTypes=CREATE".into()).await, 4);
        assert_eq!(query("operationTypes=CREATE&operationTypes=DELETE".into()).await, 6);
        assert_eq!(query("resourceTypes=CLIENT".into()).await, 2);
        assert_eq!(query(format!("resourcePath=users/{user}")).await, 3);
        assert_eq!(query(format!("resourcePath=users/{user}*")).await, 6);
        assert_eq!(query(format!("authUser={admin_id}")).await, 13);
        assert_eq!(query("authUser=someone-else".into()).await, 0);
        assert_eq!(query("max=2".into()).await, 2);
        assert_eq!(query("dateTo=1970-01-01".into()).await, 0);
        app.stop().await;
    }
}

backend_tests! {
    async fn events_config_is_read_and_written_as_keycloak_shapes_it(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let config = admin.ok("/admin/realms/vault/events/config").await;
        assert_eq!(config["eventsEnabled"], false);
        assert!(config.get("eventsExpiration").is_none(), "absent while unset: {config}");
        assert_eq!(config["eventsListeners"], json!(["jboss-logging"]));
        assert!(config["enabledEventTypes"].as_array().unwrap().contains(&json!("LOGIN")), "the recorded types when none are named");
        assert_eq!((config["adminEventsEnabled"].clone(), config["adminEventsDetailsEnabled"].clone()), (json!(false), json!(false)));

        let put = admin.put("/admin/realms/vault/events/config", json!({
            "eventsEnabled": true, "eventsExpiration": 3600, "eventsListeners": ["jboss-logging", "email"],
            "enabledEventTypes": ["LOGIN", "LOGOUT"], "adminEventsEnabled": true, "adminEventsDetailsEnabled": true
        })).await;
        assert_eq!(put.status, 204, "{put:?}");
        let config = admin.ok("/admin/realms/vault/events/config").await;
        assert_eq!(config, json!({
            "eventsEnabled": true, "eventsExpiration": 3600, "eventsListeners": ["jboss-logging", "email"],
            "enabledEventTypes": ["LOGIN", "LOGOUT"], "adminEventsEnabled": true, "adminEventsDetailsEnabled": true
        }));
        let realm = admin.ok("/admin/realms/vault").await;
        assert_eq!((realm["eventsEnabled"].clone(), realm["eventsExpiration"].clone()), (json!(true), json!(3600)));
        assert_eq!(realm["adminEventsEnabled"], true);
        // turning admin events on through events/config is itself recorded, as in Keycloak
        let trail = admin.ok("/admin/realms/vault/admin-events").await;
        assert_eq!(trail[0]["resourcePath"], "events/config", "{trail}");

        // eventsEnabled and eventsExpiration are primitives in Keycloak: absent means false and 0
        assert_eq!(admin.put("/admin/realms/vault/events/config", json!({"eventsListeners": ["jboss-logging"]})).await.status, 204);
        let config = admin.ok("/admin/realms/vault/events/config").await;
        assert_eq!((config["eventsEnabled"].clone(), config.get("eventsExpiration")), (json!(false), None));
        assert_eq!(config["adminEventsEnabled"], true, "admin switches change only when given");

        let unknown = admin.put("/admin/realms/vault/events/config", json!({"eventsEnabled": true, "bogus": 1})).await;
        assert_eq!(unknown.status, 400);
        assert!(unknown.error_message().starts_with("Unrecognized field \"bogus\" (class org.keycloak.representations.idm.RealmEventsConfigRepresentation)"));
        assert_eq!(admin.put("/admin/realms/vault/events/config", json!({"eventsExpiration": -1})).await.status, 400);
        assert_eq!(admin.get("/admin/realms/nope/events/config").await.status, 404);
        app.stop().await;
    }

    async fn admin_events_are_stored_only_when_the_realm_enables_them(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.post("/admin/realms/vault/roles", json!({"name": "unrecorded"})).await.status, 201);
        assert_eq!(admin.ok("/admin/realms/vault/admin-events").await, json!([]), "off by default, as in Keycloak");

        // a realm PUT that turns them on is decided with the settings from before: not recorded
        assert_eq!(admin.put("/admin/realms/vault", json!({"adminEventsEnabled": true})).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/admin-events").await, json!([]));
        assert_eq!(admin.post("/admin/realms/vault/roles", json!({"name": "recorded"})).await.status, 201);
        let trail = admin.ok("/admin/realms/vault/admin-events").await;
        assert_eq!(trail.as_array().unwrap().len(), 1, "{trail}");
        assert_eq!(trail[0]["resourcePath"], "roles/recorded");
        assert!(trail[0].get("representation").is_none(), "no details unless adminEventsDetailsEnabled: {trail}");

        app.clock.advance(1);
        assert_eq!(admin.put("/admin/realms/vault", json!({"adminEventsDetailsEnabled": true})).await.status, 204);
        app.clock.advance(1);
        assert_eq!(admin.post("/admin/realms/vault/roles", json!({"name": "detailed"})).await.status, 201);
        let trail = admin.ok("/admin/realms/vault/admin-events").await;
        assert_eq!(trail[0]["resourcePath"], "roles/detailed");
        assert!(trail[0]["representation"].as_str().unwrap().contains("detailed"), "{trail}");

        // the PUT that turns them off is recorded (they were on before it)
        app.clock.advance(1);
        assert_eq!(admin.put("/admin/realms/vault", json!({"adminEventsEnabled": false})).await.status, 204);
        app.clock.advance(1);
        assert_eq!(admin.post("/admin/realms/vault/roles", json!({"name": "after"})).await.status, 201);
        let trail = admin.ok("/admin/realms/vault/admin-events").await;
        assert_eq!(trail[0]["resourcePath"], "realms/vault", "{trail}");
        assert_eq!(trail.as_array().unwrap().len(), 4);
        app.stop().await;
    }

    async fn delete_events_and_admin_events_empty_the_realms_tables(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let on = json!({"eventsEnabled": true, "adminEventsEnabled": true});
        assert_eq!(admin.put("/admin/realms/vault/events/config", on).await.status, 204);
        carol(&app, "openid").await;
        assert_eq!(admin.post("/admin/realms/vault/roles", json!({"name": "r"})).await.status, 201);
        for _ in 0..100 {
            if !admin.ok("/admin/realms/vault/events").await.as_array().unwrap().is_empty() { break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(!admin.ok("/admin/realms/vault/events").await.as_array().unwrap().is_empty());
        assert!(!admin.ok("/admin/realms/vault/admin-events").await.as_array().unwrap().is_empty());

        assert_eq!(admin.delete("/admin/realms/vault/events").await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/events").await, json!([]));
        assert!(!admin.ok("/admin/realms/vault/admin-events").await.as_array().unwrap().is_empty(), "admin events stay");
        assert_eq!(admin.delete("/admin/realms/vault/admin-events").await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/admin-events").await, json!([]));
        assert_eq!(admin.delete("/admin/realms/nope/events").await.status, 404);
        app.stop().await;
    }
}
