//! The realm's `passwordPolicy` (issue 17's password-policy part) over HTTP on both backends:
//! validated when set, enforced by the admin API's reset-password (Keycloak's message key and
//! text) and user creation (Keycloak's "Password policy not met"), and by the account page.

use serde_json::json;

use crate::admin_support::{vault, Admin};
use crate::backend_tests;
use crate::browser_flows::{browser_client, get, post, web};

backend_tests! {
    async fn the_password_policy_is_validated_and_enforced_by_the_admin_api(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let unknown = admin.put("/admin/realms/vault", json!({"passwordPolicy": "length(8) and sparkles(2)"})).await;
        assert_eq!((unknown.status, unknown.error_message()), (400, "Password policy not found: sparkles"));
        let policy = "length(10) and digits(2) and notUsername(undefined) and hashIterations(27500)";
        assert_eq!(admin.put("/admin/realms/vault", json!({"passwordPolicy": policy})).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault").await["passwordPolicy"], policy);

        let carol = admin.user_id("vault", "carol").await;
        let reset = |value: &str| json!({"type": "password", "value": value, "temporary": false});
        let path = format!("/admin/realms/vault/users/{carol}/reset-password");
        for (value, key, text) in [
            ("short1", "invalidPasswordMinLengthMessage", "Invalid password: minimum length 10."),
            ("longenough1", "invalidPasswordMinDigitsMessage", "Invalid password: must contain at least 2 numerical digits."),
        ] {
            let refused = admin.put(&path, reset(value)).await;
            assert_eq!(refused.status, 400, "{value}: {refused:?}");
            assert_eq!((refused.body["error"].as_str(), refused.body["error_description"].as_str()), (Some(key), Some(text)));
        }
        assert_eq!(admin.put(&path, reset("long-enough-12")).await.status, 204);

        let created = admin.post("/admin/realms/vault/users", json!({"username": "weakling", "enabled": true,
            "credentials": [{"type": "password", "value": "weak"}]})).await;
        assert_eq!((created.status, created.body["errorMessage"].as_str()), (400, Some("Password policy not met")));
        assert_eq!(admin.ok("/admin/realms/vault/users?username=weakling&exact=true").await, json!([]), "nothing was created");
        let same_as_name = admin.post("/admin/realms/vault/users", json!({"username": "strongname12", "enabled": true,
            "credentials": [{"type": "password", "value": "strongname12"}]})).await;
        assert_eq!(same_as_name.status, 400, "notUsername");
        assert_eq!(admin.post("/admin/realms/vault/users", json!({"username": "strong", "enabled": true,
            "credentials": [{"type": "password", "value": "a-strong-password-42"}]})).await.status, 201);
    }

    async fn the_account_page_refuses_a_password_the_policy_refuses(backend: Backend) {
        let app = web(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.put("/admin/realms/web", json!({"passwordPolicy": "length(12) and upperCase(1)"})).await.status, 204);
        let jar = browser_client();
        let page = get(&jar, &app.url("/realms/web/account")).await;
        let reply = crate::browser_flows::submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        assert_eq!(reply.status, 303, "{}", reply.html);
        let account = get(&jar, &app.url("/realms/web/account")).await;
        let csrf = account.hidden("csrf");
        let change = |new: &str| {
            vec![("csrf".to_string(), csrf.clone()), ("current".into(), "dora-password-1".into()), ("new".into(), new.to_string()),
                 ("confirm".into(), new.to_string())]
        };
        let reply = post(&jar, &app.url("/realms/web/account/password"), &change("no-capitals-here"), None).await;
        assert_eq!(reply.status, 200);
        assert!(reply.html.contains("Invalid password: must contain at least 1 upper case characters."), "{}", reply.html);
        let reply = post(&jar, &app.url("/realms/web/account/password"), &change("With-Capitals-42"), None).await;
        assert_eq!(reply.location(), "/realms/web/account?notice=password");
    }
}
