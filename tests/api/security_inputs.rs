//! Issue 13 items 12, 15 and 18 over HTTP, on both backends: redirect URIs with a scheme that
//! runs code or reads files are refused at registration (admin API and realm files) and never
//! match, a wildcard matches only http(s); a loopback redirect URI matches whatever its port
//! (RFC 8252 §7.3) through the whole code flow; a NUL character in an admin JSON body is a 400
//! and stores nothing.

use serde_json::{json, Value};

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::browser_flows::{assert_error_page, browser_client, get, param, submit_login};
use crate::helpers::{spawn_app, TestApp};

const DANGEROUS: &[&str] = &["javascript:alert(document.cookie)", "JAVASCRIPT:alert(1)", "data:text/html,<script>x</script>",
    "vbscript:msgbox(1)", "file:///etc/passwd"];

/// Realm "apps" with a public client `loop` registered at `http://127.0.0.1/cb`, `wild` at `*`
/// and `native` at `myapp:/*` and `myapp:/callback`, and user lena.
async fn apps(app: &TestApp) {
    let admin = Admin::login(app).await;
    let reply = admin.post("/admin/realms", json!({
        "realm": "apps", "enabled": true,
        "clients": [
            { "clientId": "loop", "publicClient": true, "redirectUris": ["http://127.0.0.1/cb"] },
            { "clientId": "wild", "publicClient": true, "redirectUris": ["*"] },
            { "clientId": "native", "publicClient": true, "redirectUris": ["myapp:/*", "myapp:/callback"] },
        ],
        "users": [{ "username": "lena", "enabled": true, "credentials": [{ "type": "password", "value": "lena-password" }] }],
    })).await;
    assert_eq!(reply.status, 201, "{reply:?}");
}

fn auth_url(app: &TestApp, client: &str, redirect_uri: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("response_type", "code"), ("client_id", client), ("redirect_uri", redirect_uri), ("scope", "openid")])
        .finish();
    app.url(&format!("/realms/apps/protocol/openid-connect/auth?{query}"))
}

backend_tests! {
    async fn code_running_redirect_uris_are_refused_at_registration(backend: Backend) {
        let app = spawn_app(backend).await;
        apps(&app).await;
        let admin = Admin::login(&app).await;
        for uri in DANGEROUS {
            let reply = admin.post("/admin/realms/apps/clients", json!({ "clientId": "evil", "redirectUris": [uri] })).await;
            assert_eq!(reply.status, 400, "{uri}: {reply:?}");
            assert!(reply.error_message().contains("must not use the"), "{reply:?}");
            let reply = admin.post("/admin/realms/apps/clients", json!({ "clientId": "evil",
                "redirectUris": ["https://ok.example/cb"], "attributes": { "post.logout.redirect.uris": format!("+##{uri}") } })).await;
            assert_eq!(reply.status, 400, "post-logout {uri}: {reply:?}");
        }
        let wild = admin.client_uuid("apps", "wild").await;
        let reply = admin.put(&format!("/admin/realms/apps/clients/{wild}"), json!({ "clientId": "wild", "redirectUris": ["*", "javascript:x"] })).await;
        assert_eq!(reply.status, 400, "an update too: {reply:?}");
        assert!(admin.ok("/admin/realms/apps/clients?clientId=evil").await.as_array().unwrap().is_empty());
        let reply = admin.post("/admin/realms", json!({ "realm": "evil", "clients": [{ "clientId": "x", "redirectUris": ["javascript:alert(1)"] }] })).await;
        assert_eq!(reply.status, 400, "a realm file: {reply:?}");
        assert!(reply.error_message().contains("clients[0].redirectUris[0]"), "{reply:?}");
        app.stop().await;
    }

    async fn a_wildcard_never_sends_the_browser_to_another_scheme(backend: Backend) {
        let app = spawn_app(backend).await;
        apps(&app).await;
        let http = browser_client();
        for uri in DANGEROUS {
            assert_error_page(&get(&http, &auth_url(&app, "wild", uri)).await, uri);
        }
        assert_error_page(&get(&http, &auth_url(&app, "native", "myapp:/elsewhere")).await, "a custom-scheme wildcard");
        for (client, uri) in [("wild", "https://any.example/cb"), ("native", "myapp:/callback")] {
            let page = get(&http, &auth_url(&app, client, uri)).await;
            assert_eq!(page.status, 200, "{client} {uri}: {}", page.html);
            assert!(page.html.contains("name=\"password\""), "the login form for {uri}");
        }
        app.stop().await;
    }

    async fn a_loopback_redirect_uri_matches_whatever_its_port_through_the_code_flow(backend: Backend) {
        let app = spawn_app(backend).await;
        apps(&app).await;
        let http = browser_client();
        let redirect = "http://127.0.0.1:49152/cb";
        let page = get(&http, &auth_url(&app, "loop", redirect)).await;
        assert_eq!(page.status, 200, "RFC 8252 §7.3: any port: {}", page.html);
        let reply = submit_login(&app, &http, &page, "lena", "lena-password", &[]).await;
        let location = reply.location();
        assert!(location.starts_with(&format!("{redirect}?")), "back to the port asked for: {location}");
        let form = [("grant_type", "authorization_code"), ("client_id", "loop"), ("code", &param(&location, "code")), ("redirect_uri", redirect)];
        let response = app.http.post(app.url("/realms/apps/protocol/openid-connect/token")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        assert_error_page(&get(&http, &auth_url(&app, "loop", "http://127.0.0.1:49152/other")).await, "another path");
        assert_error_page(&get(&http, &auth_url(&app, "loop", "http://127.0.0.1:1@evil.example/cb")).await, "user info");
        app.stop().await;
    }

    async fn a_nul_character_in_an_admin_json_body_is_a_400_and_stores_nothing(backend: Backend) {
        let app = spawn_app(backend).await;
        apps(&app).await;
        let admin = Admin::login(&app).await;
        let bodies: [(&str, &str, Value); 4] = [
            ("POST", "/admin/realms/apps/users", json!({ "username": "a\u{0}b", "enabled": true })),
            ("PUT", "/admin/realms/apps", json!({ "displayName": "Apps\u{0}" })),
            ("POST", "/admin/realms/apps/roles", json!({ "name": "r\u{0}le" })),
            ("POST", "/admin/realms", json!({ "realm": "nul", "users": [{ "username": "x\u{0}" }] })),
        ];
        for (method, path, body) in bodies {
            assert!(body.to_string().contains("\\u0000"), "serde_json escapes the NUL");
            let reply = crate::admin_support::call(&app, Some(&admin.token), method, path, Some(body)).await;
            assert_eq!(reply.status, 400, "{method} {path}: {reply:?}");
            assert!(reply.body.to_string().contains("NUL"), "{reply:?}");
        }
        let users = admin.ok("/admin/realms/apps/users").await;
        assert_eq!(users.as_array().unwrap().len(), 1, "only lena: {users}");
        assert!(admin.ok("/admin/realms/apps").await.get("displayName").is_none_or(|d| !d.to_string().contains('\u{0}')));
        assert_eq!(admin.get("/admin/realms/nul").await.status, 404);
        app.stop().await;
    }
}
