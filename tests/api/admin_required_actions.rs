//! The realm's required-action providers at Keycloak's `authentication/required-actions` paths
//! (issue 17's configuration part, and python-keycloak's required-action tests): Keycloak 26's
//! defaults, read, update, delete, priorities, registration, and what they change: a pending
//! action of a disabled or unregistered provider no longer stops a login, and `defaultAction`
//! gives the action to every user the admin API creates. Imported files keep theirs.

use serde_json::{json, Value};

use crate::admin_support::{token_request, vault, Admin, CAROL_PASSWORD, VAULT_SECRET};
use crate::backend_tests;
use crate::helpers::TestApp;

const ACTIONS: &str = "/admin/realms/vault/authentication/required-actions";

fn aliases(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|a| a["alias"].as_str().unwrap()).collect()
}

async fn carol_grant(app: &TestApp) -> (u16, Value) {
    let form = [("grant_type", "password"), ("client_id", "backend"), ("client_secret", VAULT_SECRET),
                ("username", "carol"), ("password", CAROL_PASSWORD)];
    token_request(app, "vault", &form).await
}

backend_tests! {
    async fn required_actions_are_keycloaks_and_can_be_read_updated_and_reordered(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let list = admin.ok(ACTIONS).await;
        assert_eq!(aliases(&list), ["CONFIGURE_TOTP", "TERMS_AND_CONDITIONS", "UPDATE_PASSWORD", "UPDATE_PROFILE", "VERIFY_EMAIL",
            "delete_account", "webauthn-register", "webauthn-register-passwordless", "VERIFY_PROFILE", "update_user_locale"]);
        let update_password = admin.ok(&format!("{ACTIONS}/UPDATE_PASSWORD")).await;
        assert_eq!(update_password, json!({"alias": "UPDATE_PASSWORD", "name": "Update Password", "providerId": "UPDATE_PASSWORD",
            "enabled": true, "defaultAction": false, "priority": 30, "config": {}}));
        let missing = admin.get(&format!("{ACTIONS}/does-not-exist")).await;
        assert_eq!((missing.status, missing.body["error"].as_str()), (404, Some("Failed to find required action")));

        let mut changed = update_password.clone();
        changed["enabled"] = json!(false);
        changed["config"] = json!({"max_auth_age": "300"});
        assert_eq!(admin.put(&format!("{ACTIONS}/UPDATE_PASSWORD"), changed.clone()).await.status, 204);
        assert_eq!(admin.ok(&format!("{ACTIONS}/UPDATE_PASSWORD")).await, changed);
        let unknown = admin.put(&format!("{ACTIONS}/UPDATE_PASSWORD"), json!({"enabled": true, "colour": "red"})).await;
        assert_eq!(unknown.status, 400, "{unknown:?}");
        assert!(unknown.error_message().starts_with("Unrecognized field \"colour\""), "{unknown:?}");
        let renamed = admin.put(&format!("{ACTIONS}/UPDATE_PASSWORD"), json!({"alias": "OTHER"})).await;
        assert_eq!(renamed.status, 400);
        assert_eq!(admin.put(&format!("{ACTIONS}/nope"), json!({"enabled": true})).await.status, 404);

        assert_eq!(admin.post_empty(&format!("{ACTIONS}/CONFIGURE_TOTP/lower-priority")).await.status, 204);
        assert_eq!(&aliases(&admin.ok(ACTIONS).await)[..3], ["TERMS_AND_CONDITIONS", "CONFIGURE_TOTP", "UPDATE_PASSWORD"]);
        assert_eq!(admin.post_empty(&format!("{ACTIONS}/CONFIGURE_TOTP/raise-priority")).await.status, 204);
        assert_eq!(admin.post_empty(&format!("{ACTIONS}/CONFIGURE_TOTP/raise-priority")).await.status, 204, "already first");
        assert_eq!(&aliases(&admin.ok(ACTIONS).await)[..2], ["CONFIGURE_TOTP", "TERMS_AND_CONDITIONS"]);

        assert_eq!(admin.ok("/admin/realms/vault/authentication/unregistered-required-actions").await, json!([]));
        assert_eq!(admin.delete(&format!("{ACTIONS}/delete_account")).await.status, 204);
        assert_eq!(admin.ok("/admin/realms/vault/authentication/unregistered-required-actions").await,
            json!([{"providerId": "delete_account", "name": "Delete Account"}]));
        let register = "/admin/realms/vault/authentication/register-required-action";
        assert_eq!(admin.post(register, json!({"providerId": "delete_account", "name": "Delete Account"})).await.status, 204);
        assert_eq!(aliases(&admin.ok(ACTIONS).await).last(), Some(&"delete_account"), "registered last");
        assert_eq!(admin.post(register, json!({"providerId": "delete_account"})).await.status, 409);
        assert_eq!(admin.post(register, json!({"providerId": "sms-otp"})).await.status, 400);
        assert_eq!(admin.get("/admin/realms/nope/authentication/required-actions").await.status, 404);
        let realm = admin.ok("/admin/realms/vault").await;
        assert!(realm.get("requiredActions").is_none(), "as in Keycloak, a realm's GET does not list them");
    }

    async fn disabled_or_unregistered_actions_stop_no_login_and_default_actions_go_to_new_users(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let carol = admin.user_id("vault", "carol").await;
        assert_eq!(admin.put(&format!("/admin/realms/vault/users/{carol}"), json!({"requiredActions": ["UPDATE_PASSWORD"]})).await.status, 204);
        let (status, body) = carol_grant(&app).await;
        assert_eq!((status, body["error_description"].as_str()), (400, Some("Account is not fully set up")));
        assert_eq!(admin.put(&format!("{ACTIONS}/UPDATE_PASSWORD"), json!({"enabled": false})).await.status, 204);
        assert_eq!(carol_grant(&app).await.0, 200, "a disabled provider's action is skipped, as in Keycloak");
        assert_eq!(admin.put(&format!("{ACTIONS}/UPDATE_PASSWORD"), json!({"enabled": true})).await.status, 204);
        assert_eq!(carol_grant(&app).await.0, 400, "enabled again, it counts again");
        assert_eq!(admin.delete(&format!("{ACTIONS}/UPDATE_PASSWORD")).await.status, 204);
        assert_eq!(carol_grant(&app).await.0, 200, "an unregistered provider's action is skipped");

        assert_eq!(admin.put(&format!("{ACTIONS}/VERIFY_EMAIL"), json!({"defaultAction": true})).await.status, 204);
        let id = admin.post("/admin/realms/vault/users", json!({"username": "newcomer", "requiredActions": ["CONFIGURE_TOTP"]})).await.created_id();
        let user = admin.ok(&format!("/admin/realms/vault/users/{id}")).await;
        assert_eq!(user["requiredActions"], json!(["CONFIGURE_TOTP", "VERIFY_EMAIL"]));
    }

    async fn a_realm_file_keeps_its_required_actions_and_gains_keycloaks_newer_ones(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let file = json!({"realm": "older", "enabled": true, "requiredActions": [
            {"alias": "terms_and_conditions", "name": "Terms and Conditions", "providerId": "terms_and_conditions",
             "enabled": true, "defaultAction": true, "priority": 20, "config": {}},
            {"alias": "UPDATE_PASSWORD", "name": "Update Password", "providerId": "UPDATE_PASSWORD",
             "enabled": false, "defaultAction": false, "priority": 30, "config": {}}]});
        assert_eq!(admin.post("/admin/realms", file).await.status, 201);
        let list = admin.ok("/admin/realms/older/authentication/required-actions").await;
        assert_eq!(list.as_array().unwrap().len(), 10, "the file's two and Keycloak's other eight: {list}");
        let terms = &list[1];
        assert_eq!((terms["alias"].as_str(), terms["enabled"].as_bool(), terms["defaultAction"].as_bool()),
            (Some("terms_and_conditions"), Some(true), Some(true)));
        assert!(!aliases(&list).contains(&"TERMS_AND_CONDITIONS"), "the older alias stands for it");
        assert_eq!(admin.ok("/admin/realms/older/authentication/required-actions/UPDATE_PASSWORD").await["enabled"], false);
        let export = admin.post_empty("/admin/realms/older/partial-export").await;
        assert_eq!(export.body["requiredActions"], list, "exported as stored");
    }
}
