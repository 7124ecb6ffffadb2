//! A user's credentials (labels and order), brute-force state and the email actions, as
//! Keycloak's admin API serves them (issue 14: credentials, attack detection, item 6).

use serde_json::{json, Value};

use crate::admin_support::{token_request, vault, Admin};
use crate::backend_tests;

/// `PUT` with a text/plain body, as Keycloak's `userLabel` endpoint takes it.
async fn put_text(app: &crate::helpers::TestApp, admin: &Admin<'_>, path: &str, text: &str) -> (u16, Value) {
    let response = app.http.put(app.url(path)).bearer_auth(&admin.token).header("content-type", "text/plain")
        .body(text.to_string()).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn kinds(credentials: &Value) -> Vec<&str> {
    credentials.as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect()
}

async fn wrong_password(app: &crate::helpers::TestApp) {
    let form = [("grant_type", "password"), ("client_id", "frontend"), ("username", "carol"), ("password", "wrong")];
    assert_eq!(token_request(app, "vault", &form).await.0, 401);
}

backend_tests! {
    async fn credentials_are_listed_labelled_and_reordered(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let reply = admin.post("/admin/realms", json!({"realm": "creds", "enabled": true, "users": [{
            "username": "otto", "enabled": true, "credentials": [
                {"type": "password", "value": "otto-password-1", "userLabel": "main"},
                {"type": "otp", "userLabel": "phone", "secretData": "{\"value\":\"JBSWY3DPEHPK3PXP\"}",
                 "credentialData": "{\"subType\":\"totp\",\"digits\":6,\"period\":30,\"algorithm\":\"HmacSHA1\",\"counter\":0}"}
            ]}]})).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let id = admin.user_id("creds", "otto").await;
        let path = format!("/admin/realms/creds/users/{id}/credentials");
        let listed = admin.ok(&path).await;
        assert_eq!(kinds(&listed), ["password", "otp"]);
        assert_eq!((listed[0]["userLabel"].as_str(), listed[1]["userLabel"].as_str()), (Some("main"), Some("phone")));
        assert!(listed[0]["priority"].as_i64() < listed[1]["priority"].as_i64());
        assert!(listed.as_array().unwrap().iter().all(|c| c.get("secretData").is_none()), "never secretData");
        let (password, otp) = (listed[0]["id"].as_str().unwrap().to_string(), listed[1]["id"].as_str().unwrap().to_string());

        assert_eq!(put_text(&app, &admin, &format!("{path}/{password}/userLabel"), "laptop").await.0, 204);
        assert_eq!(admin.ok(&path).await[0]["userLabel"], "laptop");
        assert_eq!(put_text(&app, &admin, &format!("{path}/{password}/userLabel"), "").await.0, 204);
        assert!(admin.ok(&path).await[0].get("userLabel").is_none(), "an empty label clears it");
        assert_eq!(put_text(&app, &admin, &format!("{path}/{password}/userLabel"), &"x".repeat(256)).await.0, 400);
        let (status, body) = put_text(&app, &admin, &format!("{path}/nope/userLabel"), "x").await;
        assert_eq!((status, body["error"].as_str()), (404, Some("Credential not found")));

        assert_eq!(admin.post_empty(&format!("{path}/{otp}/moveToFirst")).await.status, 204);
        assert_eq!(kinds(&admin.ok(&path).await), ["otp", "password"]);
        assert_eq!(admin.post_empty(&format!("{path}/{otp}/moveAfter/{password}")).await.status, 204);
        assert_eq!(kinds(&admin.ok(&path).await), ["password", "otp"]);
        let missing = admin.post_empty(&format!("{path}/{otp}/moveAfter/nope")).await;
        assert_eq!((missing.status, missing.error_message()), (404, "Credential not found"));
        assert_eq!(admin.post_empty(&format!("{path}/nope/moveToFirst")).await.status, 404);
        assert_eq!(admin.post_empty(&format!("/admin/realms/creds/users/nope/credentials/{otp}/moveToFirst")).await.error_message(), "User not found");

        // reset-password keeps the password's place
        let reset = json!({"type": "password", "value": "otto-password-2", "temporary": false});
        admin.post_empty(&format!("{path}/{otp}/moveToFirst")).await;
        assert_eq!(admin.put(&format!("/admin/realms/creds/users/{id}/reset-password"), reset).await.status, 204);
        assert_eq!(kinds(&admin.ok(&path).await), ["otp", "password"]);

        let types = admin.ok(&format!("/admin/realms/creds/users/{id}/configured-user-storage-credential-types")).await;
        assert_eq!(types, json!([]));
        assert_eq!(admin.delete(&format!("{path}/{otp}")).await.status, 204);
        assert_eq!(kinds(&admin.ok(&path).await), ["password"]);
    }

    async fn brute_force_state_is_shown_and_cleared_per_user_and_for_all(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let carol = admin.user_id("vault", "carol").await;
        let status_path = format!("/admin/realms/vault/attack-detection/brute-force/users/{carol}");
        let zero = json!({"numFailures": 0, "disabled": false, "lastIPFailure": "n/a", "lastFailure": 0});
        wrong_password(&app).await;
        assert_eq!(admin.ok(&status_path).await, zero, "not protected: Keycloak answers zeros");

        assert_eq!(admin.put("/admin/realms/vault", json!({"bruteForceProtected": true})).await.status, 204);
        wrong_password(&app).await;
        let status = admin.ok(&status_path).await;
        assert_eq!((status["numFailures"].as_i64(), status["disabled"].as_bool()), (Some(1), Some(false)));
        assert!(status["lastFailure"].as_i64().unwrap() > 1_000_000_000_000, "milliseconds: {status}");
        assert_eq!(admin.delete(&status_path).await.status, 204);
        assert_eq!(admin.ok(&status_path).await["numFailures"], 0);

        wrong_password(&app).await;
        wrong_password(&app).await;
        assert_eq!(admin.ok(&status_path).await["numFailures"], 2);
        assert_eq!(admin.delete("/admin/realms/vault/attack-detection/brute-force/users").await.status, 204);
        assert_eq!(admin.ok(&status_path).await, zero);
        assert_eq!(admin.ok("/admin/realms/vault/attack-detection/brute-force/users/nobody").await, zero, "as in Keycloak");
        assert_eq!(admin.get("/admin/realms/nope/attack-detection/brute-force/users/x").await.status, 404);
    }

    async fn email_actions_answer_keycloaks_errors_and_never_a_silent_204(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let no_email = admin.post("/admin/realms/vault/users", json!({"username": "mailless", "enabled": true})).await.created_id();
        let disabled = admin.post("/admin/realms/vault/users", json!({"username": "sleeper", "email": "s@example.org"})).await.created_id();
        let ready = admin.post("/admin/realms/vault/users", json!({"username": "ready", "email": "r@example.org", "enabled": true}))
            .await.created_id();
        for (verb, failure) in [("execute-actions-email", "Failed to send execute actions email"), ("send-verify-email", "Failed to send verify email")] {
            let body = if verb == "execute-actions-email" { json!(["UPDATE_PASSWORD"]) } else { json!({}) };
            let at = |id: &str| format!("/admin/realms/vault/users/{id}/{verb}");
            let reply = admin.put(&at(&no_email), body.clone()).await;
            assert_eq!((reply.status, reply.error_message()), (400, "User email missing"), "{verb}");
            let reply = admin.put(&at(&disabled), body.clone()).await;
            assert_eq!((reply.status, reply.error_message()), (400, "User is disabled"), "{verb}");
            let reply = admin.put(&at(&ready), body.clone()).await;
            assert_eq!(reply.status, 500, "{verb}: {reply:?}");
            assert!(reply.error_message().starts_with(failure), "{verb}: {reply:?}");
            assert_eq!(admin.put(&at("nope"), body).await.status, 404);
        }
    }

    async fn user_federation_actions_answer_keycloaks_unknown_component(backend: Backend) {
        // no user federation, so no component: python-keycloak's sync_users expects exactly this
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        for path in ["user-storage/does-not-exist/sync?action=triggerFullSync", "user-storage/ldap/remove-imported-users",
                     "user-storage/ldap/unlink-users", "user-storage/ldap/mappers/m/sync?direction=fedToKeycloak"] {
            let reply = admin.post_empty(&format!("/admin/realms/vault/{path}")).await;
            assert_eq!((reply.status, reply.body["error"].as_str()), (404, Some("Could not find component")), "{path}: {reply:?}");
        }
        let unknown_realm = admin.post_empty("/admin/realms/nope/user-storage/x/sync?action=triggerFullSync").await;
        assert_eq!((unknown_realm.status, unknown_realm.body["error"].as_str()), (404, Some("Realm not found.")));
    }
}
