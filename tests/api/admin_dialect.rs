//! Issue 14 items 1 and 2 over HTTP, on both backends: the admin API speaks Keycloak's error
//! dialects (404s and JAX-RS exceptions as `{"error", "error_description"}`, validation as
//! `{"errorMessage"}`, a body Jackson would refuse as `unknown_error` "Cannot parse the JSON", a
//! method a path lacks as a JSON 405), and every path answers with and without a trailing slash,
//! as the official admin client sends them.

use serde_json::json;

use crate::admin_support::{call, Admin};
use crate::backend_tests;
use crate::helpers::spawn_app;

const SEE_THE_LOG: &str = "For more on this error consult the server log.";

backend_tests! {
    async fn not_found_answers_keycloaks_error_and_description(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        for (path, error) in [
            ("/admin/realms/nowhere", "Realm not found."),
            ("/admin/realms/master/users/nobody", "User not found"),
            ("/admin/realms/master/clients/nothing", "Could not find client"),
            ("/admin/realms/master/roles/norole", "Could not find role"),
        ] {
            let reply = admin.get(path).await;
            assert_eq!((reply.status, &reply.body), (404, &json!({ "error": error, "error_description": SEE_THE_LOG })), "{path}");
        }
        app.stop().await;
    }

    async fn a_body_jackson_would_refuse_is_unknown_error_cannot_parse_the_json(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        let user = admin.user_id("master", "admin").await;
        let unparsable = json!({ "error": "unknown_error", "error_description": "Cannot parse the JSON" });
        let raw = app.http.post(app.url("/admin/realms/master/users")).bearer_auth(&admin.token)
            .header("content-type", "application/json").body("{\"username\": ").send().await.unwrap();
        assert_eq!(raw.status(), 400);
        assert_eq!(raw.json::<serde_json::Value>().await.unwrap(), unparsable, "malformed JSON");
        // python-keycloak's assign_realm_roles(roles=["bad"]) sends strings where roles belong
        let reply = admin.post(&format!("/admin/realms/master/users/{user}/role-mappings/realm"), json!(["bad"])).await;
        assert_eq!((reply.status, &reply.body), (400, &unparsable));
        let reply = admin.post("/admin/realms/master/users", json!({ "username": ["not", "a", "string"] })).await;
        assert_eq!((reply.status, &reply.body), (400, &unparsable), "a wrong type");
        app.stop().await;
    }

    async fn a_method_a_path_lacks_is_a_json_405(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        for (method, path) in [("DELETE", "/admin/realms"), ("PATCH", "/admin/realms/master"), ("PUT", "/admin/realms/master/users")] {
            let reply = call(&app, Some(&admin.token), method, path, None).await;
            assert_eq!((reply.status, &reply.body), (405, &json!({ "error": "HTTP 405 Method Not Allowed" })), "{method} {path}");
        }
        app.stop().await;
    }

    async fn every_path_answers_with_and_without_a_trailing_slash(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        let created = admin.post("/admin/realms/", json!({ "realm": "slashed", "enabled": true })).await;
        assert_eq!(created.status, 201, "POST /admin/realms/ as @keycloak/keycloak-admin-client sends it: {created:?}");
        let user = admin.post("/admin/realms/slashed/users/", json!({ "username": "ada", "enabled": true })).await;
        assert_eq!(user.status, 201, "{user:?}");
        let client = admin.post("/admin/realms/slashed/clients/", json!({ "clientId": "app" })).await;
        assert_eq!(client.status, 201, "{client:?}");
        assert_eq!(admin.ok("/admin/realms/slashed/users/").await.as_array().map(Vec::len), Some(1));
        assert_eq!(admin.ok(&format!("/admin/realms/slashed/users/{}/", user.created_id())).await["username"], "ada");
        assert_eq!(admin.delete("/admin/realms/slashed/").await.status, 204);
        app.stop().await;
    }
}
