//! `/admin/realms/{realm}/users`: create, search, count, read, update, delete; password reset;
//! a user's sessions, logout, consents and consent revocation.

use serde_json::{json, Value};

use crate::admin_support::{
    active, carol, field, password_grant, refresh, token_request, vault, Admin, CAROL_PASSWORD, VAULT_SECRET,
};
use crate::backend_tests;

fn usernames(users: &Value) -> Vec<&str> {
    users
        .as_array()
        .unwrap_or_else(|| panic!("{users}"))
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect()
}

async fn login_status(app: &crate::helpers::TestApp, username: &str, password: &str) -> u16 {
    token_request(
        app,
        "vault",
        &[
            ("grant_type", "password"),
            ("client_id", "frontend"),
            ("username", username),
            ("password", password),
        ],
    )
    .await
    .0
}

backend_tests! {
    async fn users_are_created_read_updated_and_deleted(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let reply = admin.post("/admin/realms/vault/users", json!({
            "username": "Erin", "email": "erin@example.com", "firstName": "Erin", "lastName": "Example",
            "enabled": true, "emailVerified": true, "realmRoles": ["offline_access"],
            "credentials": [{"type": "password", "value": "erin-password", "temporary": false}]
        })).await;
        let id = reply.created_id();
        assert_eq!(reply.location.unwrap(), format!("{}/admin/realms/vault/users/{id}", app.base));
        let erin = admin.ok(&format!("/admin/realms/vault/users/{id}")).await;
        assert_eq!((erin["username"].as_str(), erin["email"].as_str()), (Some("erin"), Some("erin@example.com")));
        assert_eq!((erin["enabled"].as_bool(), erin["emailVerified"].as_bool()), (Some(true), Some(true)));
        assert!(erin["createdTimestamp"].as_i64().unwrap() > 1_000_000_000_000, "milliseconds");
        assert!(erin.get("credentials").is_none());
        assert_eq!(erin["requiredActions"], json!([]));
        let roles = admin.ok(&format!("/admin/realms/vault/users/{id}/role-mappings/realm")).await;
        let names: Vec<&str> = roles.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["default-roles-vault"], "default roles granted, realmRoles in the body ignored");
        assert_eq!(login_status(&app, "erin", "erin-password").await, 200, "the password was hashed and works");

        let duplicate = admin.post("/admin/realms/vault/users", json!({"username": "ERIN"})).await;
        assert_eq!((duplicate.status, duplicate.error_message()), (409, "User exists with same username"));
        let same_email = admin.post("/admin/realms/vault/users", json!({"username": "other", "email": "Erin@Example.com"})).await;
        assert_eq!((same_email.status, same_email.error_message()), (409, "User exists with same email"));
        for bad in [
            json!({}), json!({"username": "  "}), json!({"username": "x", "email": "not-an-email"}),
            json!({"username": "y", "credentials": [{"type": "otp", "value": "123456"}]}),
            json!({"username": "z", "credentials": [{"type": "password"}]}),
            json!({"username": ["not", "a", "string"]}), json!([1, 2]),
        ] {
            let reply = admin.post("/admin/realms/vault/users", bad.clone()).await;
            assert_eq!(reply.status, 400, "{bad}: {reply:?}");
            assert!(
                reply.body["errorMessage"].is_string() || reply.body["error"].is_string() || reply.body["errors"].is_array(),
                "{reply:?}"
            );
        }

        // as in Keycloak, a user created without "enabled" is disabled
        admin.post("/admin/realms/vault/users", json!({"username": "dormant", "credentials": [{"value": "dormant-pw"}]}))
            .await.created_id();
        assert_eq!(login_status(&app, "dormant", "dormant-pw").await, 400, "disabled account");

        let unknown = admin.post("/admin/realms/vault/users", json!({"username": "unknown", "notAField": true})).await;
        assert_eq!(unknown.status, 400, "{unknown:?}");
        assert!(unknown.error_message().starts_with("Unrecognized field \"notAField\""), "{unknown:?}");
        let wrong = admin.put(&format!("/admin/realms/vault/users/{id}"), json!({"wrong": "payload"})).await;
        assert!(wrong.status == 400 && wrong.error_message().contains("Unrecognized field"), "python-keycloak's test_users: {wrong:?}");
        let groups = admin.post("/admin/realms/vault/users", json!({"username": "grouped", "groups": ["/staff"]})).await;
        assert_eq!(groups.status, 400, "groups are not served here, so not accepted and dropped: {groups:?}");
        // the default profile (Keycloak 26's) has no unmanaged attributes
        let unmanaged = admin.put(&format!("/admin/realms/vault/users/{id}"), json!({"attributes": {"kept": ["yes"]}})).await;
        assert_eq!(
            (unmanaged.status, &unmanaged.body),
            (400, &json!({"field": "kept", "errorMessage": "error-user-attribute-read-only", "params": ["kept"]}))
        );
        let update = admin.put(&format!("/admin/realms/vault/users/{id}"), json!({
            "firstName": "E.", "email": "erin@new.example", "totp": false, "access": {"manage": true}
        })).await;
        assert_eq!(update.status, 204, "{update:?}");
        let erin = admin.ok(&format!("/admin/realms/vault/users/{id}")).await;
        assert_eq!((erin["firstName"].as_str(), erin["lastName"].as_str()), (Some("E."), Some("Example")));
        assert_eq!(erin["email"], "erin@new.example");
        let taken = admin.put(&format!("/admin/realms/vault/users/{id}"), json!({"username": "carol"})).await;
        assert_eq!((taken.status, taken.error_message()), (409, "User exists with same username"));
        let taken = admin.put(&format!("/admin/realms/vault/users/{id}"), json!({"email": "carol@example.com"})).await;
        assert_eq!(taken.status, 409);
        assert_eq!(admin.put("/admin/realms/vault/users/nope", json!({})).await.status, 404);
        let missing = admin.get("/admin/realms/vault/users/nope").await;
        assert_eq!((missing.status, missing.error_message()), (404, "User not found"));

        assert_eq!(admin.delete(&format!("/admin/realms/vault/users/{id}")).await.status, 204);
        assert_eq!(admin.get(&format!("/admin/realms/vault/users/{id}")).await.status, 404);
        assert_eq!(admin.delete(&format!("/admin/realms/vault/users/{id}")).await.status, 404);
        assert_eq!(login_status(&app, "erin", "erin-password").await, 401);
        let service_account = admin.ok("/admin/realms/vault/users?username=service-account-backend&exact=true").await;
        assert_eq!(usernames(&service_account), ["service-account-backend"], "as in Keycloak, a field search finds service accounts");
        let listed = admin.ok("/admin/realms/vault/users").await;
        assert!(!usernames(&listed).contains(&"service-account-backend"), "the plain list leaves them out");
        app.stop().await;
    }

    async fn users_are_searched_paged_and_counted_with_keycloaks_parameters(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        // "50%_off" breaks the default profile's username-prohibited-characters: drop that rule
        let mut profile = admin.ok("/admin/realms/vault/users/profile").await;
        profile["attributes"][0]["validations"] = json!({"length": {"min": 1, "max": 255}});
        assert_eq!(admin.put("/admin/realms/vault/users/profile", profile).await.status, 200);
        for (username, email, first, enabled) in [
            ("frank", "frank@example.org", "Frank", true),
            ("francine", "fran@example.org", "Francine", true),
            ("greg", "greg@example.com", "Gregory", false),
            ("50%_off", "sale@example.com", "Sale", true),
        ] {
            admin.post("/admin/realms/vault/users", json!({
                "username": username, "email": email, "firstName": first, "enabled": enabled
            })).await.created_id();
        }
        let search = |query: &'static str| {
            let admin = &admin;
            async move { admin.ok(&format!("/admin/realms/vault/users?{query}")).await }
        };
        assert_eq!(usernames(&search("search=fran").await), ["francine", "frank"], "a prefix");
        assert_eq!(usernames(&search("search=*ory*").await), ["greg"], "infix on the first name");
        assert_eq!(usernames(&search("search=%22frank%22").await), ["frank"], "exact");
        assert_eq!(usernames(&search("search=FRAN").await), ["francine", "frank"], "case-insensitive");
        assert_eq!(usernames(&search("search=50%25_").await), ["50%_off"], "% and _ are literal");
        assert_eq!(usernames(&search("search=example.org").await), Vec::<&str>::new(), "a prefix, not infix");
        assert_eq!(usernames(&search("username=ran").await), ["francine", "frank"], "attributes match infix");
        assert_eq!(usernames(&search("username=frank&exact=true").await), ["frank"]);
        assert_eq!(usernames(&search("email=example.org").await), ["francine", "frank"]);
        assert_eq!(usernames(&search("firstName=greg&lastName=").await), ["greg"]);
        assert_eq!(usernames(&search("enabled=false").await), ["greg"]);
        assert_eq!(usernames(&search("first=1&max=2").await), ["carol", "francine"]);
        assert_eq!(usernames(&search("max=0").await), Vec::<&str>::new());
        assert_eq!(usernames(&search("").await), ["50%_off", "carol", "francine", "frank", "greg"]);
        assert_eq!(admin.ok("/admin/realms/vault/users/count").await, 5, "service accounts are not counted");
        assert_eq!(admin.ok("/admin/realms/vault/users/count?search=fran").await, 2);
        assert_eq!(admin.ok("/admin/realms/vault/users/count?enabled=true&email=example.org").await, 2);
        for bad in ["max=many", "first=-x", "enabled=perhaps", "exact=1"] {
            assert_eq!(admin.get(&format!("/admin/realms/vault/users?{bad}")).await.status, 400, "{bad}");
        }
        app.stop().await;
    }

    async fn reset_password_sets_it_and_ends_the_users_sessions(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let online = carol(&app, "openid").await;
        let offline = carol(&app, "openid offline_access").await;
        let carol_id = admin.user_id("vault", "carol").await;
        let path = format!("/admin/realms/vault/users/{carol_id}/reset-password");
        let reply = admin.put(&path, json!({"type": "password", "value": "brand-new-password", "temporary": false})).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        assert_eq!(refresh(&app, field(&online, "refresh_token")).await, 400);
        assert_eq!(refresh(&app, field(&offline, "refresh_token")).await, 400, "offline sessions end too");
        assert!(!active(&app, field(&online, "access_token")).await);
        assert_eq!(login_status(&app, "carol", CAROL_PASSWORD).await, 401);
        assert_eq!(login_status(&app, "carol", "brand-new-password").await, 200);

        for bad in [json!({"type": "password", "value": ""}), json!({"type": "otp", "value": "1"}), json!({}), json!("x")] {
            assert_eq!(admin.put(&path, bad.clone()).await.status, 400, "{bad}");
        }
        assert_eq!(admin.put("/admin/realms/vault/users/nope/reset-password", json!({"value": "x"})).await.status, 404);
        // python-keycloak sends temporary=true by default: as in Keycloak, the user must then choose
        // a new password (UPDATE_PASSWORD), which Portcullis cannot ask for yet: the password grant
        // answers Keycloak's 400 "Account is not fully set up" (issue 13 item 24), never tokens
        assert_eq!(admin.put(&path, json!({"type": "password", "value": "temporary-one", "temporary": true})).await.status, 204);
        assert_eq!(admin.ok(&format!("/admin/realms/vault/users/{carol_id}")).await["requiredActions"], json!(["UPDATE_PASSWORD"]));
        assert_eq!(login_status(&app, "carol", "temporary-one").await, 400);
        assert_eq!(admin.put(&path, json!({"type": "password", "value": "permanent-one", "temporary": false})).await.status, 204);
        assert_eq!(admin.ok(&format!("/admin/realms/vault/users/{carol_id}")).await["requiredActions"], json!([]));
        assert_eq!(login_status(&app, "carol", "permanent-one").await, 200);
        app.stop().await;
    }

    async fn a_users_sessions_are_listed_and_logout_ends_the_online_ones(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let first = carol(&app, "openid").await;
        let second = password_grant(&app, "vault", "frontend", None, "carol", CAROL_PASSWORD, None).await;
        let offline = carol(&app, "openid offline_access").await;
        let carol_id = admin.user_id("vault", "carol").await;
        let backend_uuid = admin.client_uuid("vault", "backend").await;
        let frontend_uuid = admin.client_uuid("vault", "frontend").await;

        let sessions = admin.ok(&format!("/admin/realms/vault/users/{carol_id}/sessions")).await;
        let sessions = sessions.as_array().unwrap();
        assert_eq!(sessions.len(), 2, "online sessions only: {sessions:?}");
        let ids: Vec<&str> = sessions.iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert!(ids.contains(&field(&first, "session_state")) && ids.contains(&field(&second, "session_state")));
        let one = sessions.iter().find(|s| s["id"] == first["session_state"]).unwrap();
        assert_eq!((one["username"].as_str(), one["userId"].as_str()), (Some("carol"), Some(carol_id.as_str())));
        assert_eq!(one["clients"], json!({ backend_uuid.clone(): "backend" }));
        assert_eq!(one["ipAddress"], "127.0.0.1");
        assert!(one["start"].as_i64().unwrap() > 1_000_000_000_000 && one["lastAccess"].as_i64().is_some());
        assert_eq!(one["rememberMe"], false);

        let path = format!("/admin/realms/vault/users/{carol_id}/offline-sessions/{backend_uuid}");
        let offline_sessions = admin.ok(&path).await;
        assert_eq!(offline_sessions.as_array().unwrap().len(), 1);
        assert_eq!(offline_sessions[0]["id"], offline["session_state"]);
        let none = admin.ok(&format!("/admin/realms/vault/users/{carol_id}/offline-sessions/{frontend_uuid}")).await;
        assert_eq!(none, json!([]));
        assert_eq!(admin.get(&format!("/admin/realms/vault/users/{carol_id}/offline-sessions/nope")).await.status, 404);
        assert_eq!(admin.get("/admin/realms/vault/users/nope/sessions").await.status, 404);

        let reply = admin.post_empty(&format!("/admin/realms/vault/users/{carol_id}/logout")).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        assert_eq!(admin.ok(&format!("/admin/realms/vault/users/{carol_id}/sessions")).await, json!([]));
        assert_eq!(refresh(&app, field(&first, "refresh_token")).await, 400);
        assert!(!active(&app, field(&second, "access_token")).await);
        assert_eq!(refresh(&app, field(&offline, "refresh_token")).await, 200, "offline sessions survive, as in Keycloak");
        app.stop().await;
    }

    async fn revoking_a_consent_kills_the_clients_offline_tokens(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let offline = carol(&app, "openid offline_access").await;
        let online = carol(&app, "openid").await;
        let other = password_grant(&app, "vault", "frontend", None, "carol", CAROL_PASSWORD, Some("openid offline_access")).await;
        let carol_id = admin.user_id("vault", "carol").await;
        let backend_uuid = admin.client_uuid("vault", "backend").await;
        app.store.upsert_consent(&portcullis::store::ConsentRecord {
            user_id: carol_id.clone(), client_id: backend_uuid, scope: "openid offline_access".into(),
            created_at: 1_700_000_000, updated_at: 1_700_000_100,
        }).await.unwrap();

        let consents = admin.ok(&format!("/admin/realms/vault/users/{carol_id}/consents")).await;
        let by_client = |client: &str| consents.as_array().unwrap().iter().find(|c| c["clientId"] == client).cloned();
        let backend_consent = by_client("backend").unwrap_or_else(|| panic!("{consents}"));
        assert_eq!(backend_consent["grantedClientScopes"], json!(["openid", "offline_access"]));
        assert_eq!(backend_consent["createdDate"], 1_700_000_000_000i64);
        assert_eq!(backend_consent["lastUpdatedDate"], 1_700_000_100_000i64);
        assert_eq!(backend_consent["additionalGrants"], json!([{"client": "backend", "key": "Offline Token"}]));
        let frontend = by_client("frontend").unwrap_or_else(|| panic!("{consents}"));
        assert_eq!((frontend["grantedClientScopes"].clone(), frontend["additionalGrants"][0]["key"].clone()),
            (json!([]), json!("Offline Token")), "offline tokens without a consent row show too");

        let path = format!("/admin/realms/vault/users/{carol_id}/consents/backend");
        let reply = admin.delete(&path).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        assert_eq!(refresh(&app, field(&offline, "refresh_token")).await, 400, "the offline token is dead");
        assert!(!active(&app, field(&offline, "access_token")).await, "and so are access tokens minted from it");
        assert_eq!(refresh(&app, field(&online, "refresh_token")).await, 200, "online sessions are not consents");
        let url = app.url("/realms/vault/protocol/openid-connect/token");
        let response = app.http.post(url).form(&[("grant_type", "refresh_token"), ("client_id", "frontend"),
            ("refresh_token", field(&other, "refresh_token"))]).send().await.unwrap();
        assert_eq!(response.status(), 200, "another client's offline token is untouched");
        let left: Vec<Value> = admin.ok(&format!("/admin/realms/vault/users/{carol_id}/consents")).await
            .as_array().unwrap().clone();
        assert!(left.iter().all(|c| c["clientId"] != "backend"), "{left:?}");

        let again = admin.delete(&path).await;
        assert_eq!((again.status, again.error_message()), (404, "Consent nor offline token not found"));
        assert_eq!(admin.delete(&format!("/admin/realms/vault/users/{carol_id}/consents/nope")).await.status, 404);
        let _ = VAULT_SECRET;
        app.stop().await;
    }
}
