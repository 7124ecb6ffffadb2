//! The declarative user profile (issue 14 item 9): `GET/PUT .../users/profile` with Keycloak
//! 26's default, `.../profile/metadata`, and its enforcement on admin user create and update in
//! Keycloak's error shapes (`{"field", "errorMessage", "params"}`, several as `{"errors": [...]}`).

use serde_json::{json, Value};

use crate::admin_support::{vault, Admin};
use crate::backend_tests;

const PROFILE: &str = "/admin/realms/vault/users/profile";

fn names(profile: &Value) -> Vec<&str> {
    profile["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect()
}

backend_tests! {
    async fn the_default_profile_is_keycloak_26s_and_a_put_is_stored_and_answered(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let mut profile = admin.ok(PROFILE).await;
        assert_eq!(names(&profile), ["username", "email", "firstName", "lastName"]);
        assert!(profile.get("unmanagedAttributePolicy").is_none(), "unmanaged attributes are disabled");
        assert_eq!(profile["attributes"][0]["validations"]["length"], json!({"min": 3, "max": 255}));
        assert_eq!(profile["groups"][0]["name"], "user-metadata");
        // python-keycloak's test_realms
        profile["attributes"].as_array_mut().unwrap().push(json!({
            "name": "surname", "displayName": "", "validations": {}, "annotations": {},
            "permissions": {"view": [], "edit": ["admin"]}, "multivalued": false
        }));
        let reply = admin.put(PROFILE, profile).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(names(&reply.body), ["username", "email", "firstName", "lastName", "surname"]);
        assert_eq!(names(&admin.ok(PROFILE).await), ["username", "email", "firstName", "lastName", "surname"]);
        let metadata = admin.ok(&format!("{PROFILE}/metadata")).await;
        let username = &metadata["attributes"][0];
        assert_eq!((username["name"].as_str(), username["required"].as_bool(), username["readOnly"].as_bool()),
            (Some("username"), Some(true), Some(false)));
        assert_eq!(metadata["attributes"][1]["required"], false, "email is required for users, not admins");
        let carol = admin.user_id("vault", "carol").await;
        let with = admin.ok(&format!("/admin/realms/vault/users/{carol}?userProfileMetadata=true")).await;
        assert_eq!(with["username"], "carol");
        assert_eq!(with["userProfileMetadata"], metadata);
        assert!(admin.ok(&format!("/admin/realms/vault/users/{carol}")).await.get("userProfileMetadata").is_none());

        for (bad, why) in [
            (json!({"attributes": [{"name": "username"}, {"name": "email"}, {"name": "email"}]}), "duplicate"),
            (json!({"attributes": [{"name": "username"}]}), "email removed"),
            (json!({"attributes": [{"name": "username"}, {"name": "email", "validations": {"nope": {}}}]}), "unknown validator"),
            (json!({"attributes": [{"name": "username"}, {"name": "email"}], "unmanagedAttributePolicy": "SOMETIMES"}), "policy"),
            (json!({"attributes": [{"name": "username"}, {"name": "email", "validations": {"pattern": {"pattern": "("}}}]}), "regex"),
        ] {
            assert_eq!(admin.put(PROFILE, bad).await.status, 400, "{why}");
        }
        assert_eq!(names(&admin.ok(PROFILE).await).len(), 5, "nothing refused was stored");
        assert_eq!(admin.get("/admin/realms/nope/users/profile").await.status, 404);
    }

    async fn the_profile_is_enforced_on_create_and_update_in_keycloaks_error_shape(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let post = |body: Value| {
            let admin = &admin;
            async move { admin.post("/admin/realms/vault/users", body).await }
        };
        let short = post(json!({"username": "ab"})).await;
        assert_eq!((short.status, &short.body),
            (400, &json!({"field": "username", "errorMessage": "error-invalid-length", "params": ["username", 3, 255]})));
        assert_eq!(post(json!({"username": "abc", "email": "nope"})).await.body["errorMessage"], "invalidEmailMessage");
        assert_eq!(post(json!({"username": "abc", "firstName": "<b>"})).await.body["errorMessage"], "error-person-name-invalid-character");
        assert_eq!(post(json!({"username": "a b"})).await.body["errorMessage"], "error-username-invalid-character");
        let two = post(json!({"username": "abc", "email": "nope", "lastName": "x{y}"})).await;
        assert_eq!(two.status, 400);
        let fields: Vec<&str> = two.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["email", "lastName"]);

        let mut profile = admin.ok(PROFILE).await;
        let attributes = profile["attributes"].as_array_mut().unwrap();
        attributes.push(json!({"name": "badge", "required": {"roles": ["admin"]},
            "validations": {"length": {"max": 5}, "pattern": {"pattern": "^[a-z]+$", "error-message": "lowercase-only"}},
            "permissions": {"view": ["admin"], "edit": ["admin"]}}));
        attributes.push(json!({"name": "tier", "validations": {"options": {"options": ["gold", "silver"]}},
            "permissions": {"view": ["admin"], "edit": ["user"]}}));
        attributes.push(json!({"name": "tags", "multivalued": true, "permissions": {"edit": ["admin"]}}));
        assert_eq!(admin.put(PROFILE, profile).await.status, 200);
        let missing = post(json!({"username": "dora"})).await;
        assert_eq!(missing.body, json!({"field": "badge", "errorMessage": "error-user-attribute-required", "params": ["badge"]}));
        assert_eq!(post(json!({"username": "dora", "attributes": {"badge": "toolong"}})).await.body["errorMessage"], "error-invalid-length");
        assert_eq!(post(json!({"username": "dora", "attributes": {"badge": "AB"}})).await.body["errorMessage"], "lowercase-only");
        assert_eq!(post(json!({"username": "dora", "attributes": {"badge": ["a", "b"]}})).await.body["errorMessage"],
            "error-invalid-multivalued-size");
        let read_only = post(json!({"username": "dora", "attributes": {"badge": "ok", "tier": "gold"}})).await;
        assert_eq!(read_only.body["errorMessage"], "error-user-attribute-read-only", "tier is the user's to edit");
        let id = post(json!({"username": "dora", "attributes": {"badge": "ok", "tags": ["x", "y"]}})).await.created_id();
        let path = format!("/admin/realms/vault/users/{id}");
        assert_eq!(admin.ok(&path).await["attributes"], json!({"badge": ["ok"], "tags": ["x", "y"]}));
        let cleared = admin.put(&path, json!({"attributes": {"tags": ["z"]}})).await;
        assert_eq!(cleared.body["errorMessage"], "error-user-attribute-required", "badge cannot be removed");
        assert_eq!(admin.put(&path, json!({"firstName": "Dora"})).await.status, 204, "a PUT without attributes keeps them");

        // unmanaged attributes: refused by default, read-only with ADMIN_VIEW, writable with ADMIN_EDIT
        let custom = json!({"attributes": {"badge": "ok", "nickname": "d"}});
        assert_eq!(admin.put(&path, custom.clone()).await.body["field"], "nickname");
        let mut profile = admin.ok(PROFILE).await;
        profile["unmanagedAttributePolicy"] = json!("ADMIN_VIEW");
        assert_eq!(admin.put(PROFILE, profile.clone()).await.status, 200);
        assert_eq!(admin.put(&path, custom.clone()).await.status, 400);
        profile["unmanagedAttributePolicy"] = json!("ADMIN_EDIT");
        assert_eq!(admin.put(PROFILE, profile).await.status, 200);
        assert_eq!(admin.put(&path, custom).await.status, 204);
        assert_eq!(admin.ok(&path).await["attributes"]["nickname"], json!(["d"]));
    }
}
