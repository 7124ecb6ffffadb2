//! User attributes and required actions (issue 14 item 5, issue 15): stored by POST and PUT in
//! both of Keycloak's forms, returned as arrays, bounded, carried through realm import and
//! export, and read with the user on the token paths.

use serde_json::{json, Value};

use crate::admin_support::{carol, refresh_tokens, vault, Admin};
use crate::backend_tests;

/// A realm whose profile lets admins write any attribute (Keycloak's `ADMIN_EDIT`).
async fn unmanaged_attributes_on(admin: &Admin<'_>, realm: &str) {
    let path = format!("/admin/realms/{realm}/users/profile");
    let mut profile = admin.ok(&path).await;
    profile["unmanagedAttributePolicy"] = json!("ADMIN_EDIT");
    let reply = admin.put(&path, profile).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

backend_tests! {
    async fn attributes_are_stored_in_both_forms_and_come_back_as_arrays(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        unmanaged_attributes_on(&admin, "vault").await;
        let id = admin.post("/admin/realms/vault/users", json!({
            "username": "attr", "enabled": true,
            "attributes": {"dept": "eng", "tags": ["a", "b", "a"], "level": 7, "flag": true, "empty": []},
            "requiredActions": ["VERIFY_EMAIL"]
        })).await.created_id();
        let path = format!("/admin/realms/vault/users/{id}");
        let user = admin.ok(&path).await;
        assert_eq!(user["attributes"], json!({"dept": ["eng"], "tags": ["a", "b", "a"], "level": ["7"], "flag": ["true"]}));
        assert_eq!(user["requiredActions"], json!(["VERIFY_EMAIL"]));

        // a PUT without attributes keeps them; with attributes replaces them all
        assert_eq!(admin.put(&path, json!({"firstName": "A"})).await.status, 204);
        assert_eq!(admin.ok(&path).await["attributes"]["tags"], json!(["a", "b", "a"]));
        assert_eq!(admin.put(&path, json!({"attributes": {"dept": ["ops", "eng"]}, "requiredActions": []})).await.status, 204);
        let user = admin.ok(&path).await;
        assert_eq!(user["attributes"], json!({"dept": ["ops", "eng"]}), "order of values kept");
        assert_eq!(user["requiredActions"], json!([]));
        // an empty map removes every attribute; the field is then absent, as in Keycloak
        assert_eq!(admin.put(&path, json!({"attributes": {}})).await.status, 204);
        assert!(admin.ok(&path).await.get("attributes").is_none());

        // the root attributes of Keycloak 24+ count as the fields
        assert_eq!(admin.put(&path, json!({"attributes": {"firstName": ["Ada"], "x": "y"}})).await.status, 204);
        let user = admin.ok(&path).await;
        assert_eq!((user["firstName"].as_str(), &user["attributes"]), (Some("Ada"), &json!({"x": ["y"]})));
    }

    async fn attributes_out_of_bounds_or_of_the_wrong_shape_are_refused(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        unmanaged_attributes_on(&admin, "vault").await;
        let long_name = "n".repeat(256);
        let many: Vec<String> = (0..201).map(|i| i.to_string()).collect();
        for (bad, why) in [
            (json!({"username": "bad1", "attributes": {long_name.clone(): "v"}}), "name too long"),
            (json!({"username": "bad2", "attributes": {"v": "x".repeat(8193)}}), "value too long"),
            (json!({"username": "bad3", "attributes": {"many": many}}), "too many values"),
            (json!({"username": "bad4", "attributes": {" ": "v"}}), "empty name"),
        ] {
            let reply = admin.post("/admin/realms/vault/users", bad).await;
            assert_eq!(reply.status, 400, "{why}: {reply:?}");
            assert!(!reply.error_message().is_empty(), "{why}: {reply:?}");
        }
        let reply = admin.post("/admin/realms/vault/users", json!({"username": "bad5", "attributes": {"o": {"nested": 1}}})).await;
        assert_eq!(reply.status, 400, "{reply:?}");
        let users = admin.ok("/admin/realms/vault/users?search=bad").await;
        assert_eq!(users, json!([]), "nothing was created");
    }

    async fn attributes_survive_realm_import_and_export(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let reply = admin.post("/admin/realms", json!({
            "realm": "attrs", "enabled": true,
            "users": [{"username": "imp", "enabled": true, "attributes": {"dept": ["eng", "ops"], "single": "one"},
                       "requiredActions": ["UPDATE_PROFILE"]}]
        })).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let id = admin.user_id("attrs", "imp").await;
        let user = admin.ok(&format!("/admin/realms/attrs/users/{id}")).await;
        assert_eq!(user["attributes"], json!({"dept": ["eng", "ops"], "single": ["one"]}));
        assert_eq!(user["requiredActions"], json!(["UPDATE_PROFILE"]));

        let realm = app.store.realm_by_name("attrs").await.unwrap().unwrap();
        let bundle = app.store.realm_bundle(&realm.id).await.unwrap();
        let exported = portcullis::realm::export::export_realm(&bundle, &app.master_key).unwrap();
        let exported: Value = serde_json::to_value(exported).unwrap();
        let users = exported["users"].as_array().unwrap();
        let imp = users.iter().find(|u| u["username"] == "imp").unwrap();
        assert_eq!(imp["attributes"], json!({"dept": ["eng", "ops"], "single": ["one"]}));

        let reply = admin.post("/admin/realms", json!({
            "realm": "bad-attrs", "users": [{"username": "x", "attributes": {"v": "x".repeat(8193)}}]
        })).await;
        assert_eq!(reply.status, 400, "an import is bounded too: {reply:?}");
    }

    async fn a_user_with_attributes_logs_in_and_refreshes(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        unmanaged_attributes_on(&admin, "vault").await;
        let id = admin.user_id("vault", "carol").await;
        let path = format!("/admin/realms/vault/users/{id}");
        let reply = admin.put(&path, json!({"attributes": {"dept": ["eng", "ops"], "level": "7"}})).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        let tokens = carol(&app, "openid").await;
        let (status, body) = refresh_tokens(&app, tokens["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 200, "the refresh read carries the attributes aggregate: {body}");
        let realm = app.store.realm_by_name("vault").await.unwrap().unwrap();
        let loaded = app.store.user_by_username(&realm.id, "carol").await.unwrap().unwrap();
        assert_eq!(loaded.attributes.get("dept"), Some(&vec!["eng".to_string(), "ops".to_string()]));
        assert_eq!(loaded.attributes.get("level"), Some(&vec!["7".to_string()]));
    }
}
