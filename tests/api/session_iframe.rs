//! The session iframes over HTTP, on both backends (OIDC Session Management 1.0 and keycloak-js'
//! third-party-cookie probe): the pages' headers (frameable by the realm's web origins, scripts
//! from files only), `/init` approving a client's web origin and nothing else, 404 for an unknown
//! realm, discovery's `check_session_iframe`, and the script-readable session-state cookie, set at
//! login to the tokens' `sid` and cleared by RP-initiated logout. Chromium runs the pages for real
//! in example_keycloak_js.rs.

use reqwest::header;
use serde_json::json;

use crate::backend_tests;
use crate::browser_flows::{
    assert_security_headers, browser_client, claims, exchange_in, get, param, realm_auth_url, submit_login,
    Reply, SSO,
};
use crate::helpers::{Backend, Spawn, TestApp};

const OIDC: &str = "/realms/iframe/protocol/openid-connect";
const STATE_COOKIE: &str = "PORTCULLIS_SESSION_STATE";
const SPA_REDIRECT: &str = "http://127.0.0.1:9/app/";
const PAGES: [&str; 3] = ["login-status-iframe.html", "3p-cookies/step1.html", "3p-cookies/step2.html"];

/// Realm `iframe`: a public app whose web origin is its redirect URIs' (`+`), a client with an
/// explicit origin, a disabled client; realm `wide`: a client allowing every origin (`*`); realm
/// `crowded`: 200 clients of distinct origins, more than a `frame-ancestors` header should list.
async fn spawn(backend: Backend) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let user = json!({
        "username": "dora", "email": "dora@example.com", "enabled": true, "emailVerified": true,
        "credentials": [{ "type": "password", "value": "dora-password-1" }]
    });
    let iframe = json!({
        "realm": "iframe", "enabled": true,
        "clients": [
            { "clientId": "spa", "publicClient": true, "redirectUris": [format!("{SPA_REDIRECT}*")], "webOrigins": ["+"],
              "attributes": { "post.logout.redirect.uris": "+" } },
            { "clientId": "listed", "publicClient": true, "redirectUris": ["https://app.example/cb"],
              "webOrigins": ["https://app.example"] },
            { "clientId": "off", "enabled": false, "publicClient": true, "redirectUris": ["https://off.example/cb"],
              "webOrigins": ["https://off.example"] }
        ],
        "users": [user]
    });
    let wide = json!({
        "realm": "wide", "enabled": true,
        "clients": [{ "clientId": "any", "publicClient": true, "redirectUris": ["https://any.example/cb"], "webOrigins": ["*"] }]
    });
    let crowd: Vec<_> = (0..200)
        .map(|n| {
            json!({ "clientId": format!("app-{n}"), "publicClient": true,
                    "redirectUris": [format!("https://app-{n}.example.com/cb")], "webOrigins": ["+"] })
        })
        .collect();
    let crowded = json!({ "realm": "crowded", "enabled": true, "clients": crowd });
    let mut spawn = Spawn::new(backend);
    for (name, realm) in [("iframe", iframe), ("wide", wide), ("crowded", crowded)] {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, realm.to_string()).unwrap();
        spawn = spawn.import(path);
    }
    (spawn.start().await, dir)
}

fn header_of(reply: &Reply, name: header::HeaderName) -> Option<String> {
    reply.headers.get(name).map(|v| v.to_str().unwrap().to_string())
}

async fn init(app: &TestApp, realm: &str, query: &[(&str, &str)]) -> u16 {
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
    let url =
        app.url(&format!("/realms/{realm}/protocol/openid-connect/login-status-iframe.html/init?{query}"));
    app.http.get(url).send().await.unwrap().status().as_u16()
}

backend_tests! {
    async fn session_iframe_pages_are_frameable_by_the_realms_web_origins_only(backend: Backend) {
        let (app, _dir) = spawn(backend).await;
        for page in PAGES {
            let reply = get(&app.http, &app.url(&format!("{OIDC}/{page}"))).await;
            assert_eq!(reply.status, 200, "{page}");
            assert_eq!(header_of(&reply, header::CONTENT_TYPE).as_deref(), Some("text/html; charset=utf-8"));
            let csp = header_of(&reply, header::CONTENT_SECURITY_POLICY).unwrap();
            // enabled clients' origins, sorted; the disabled client's is not among them
            assert!(csp.contains("frame-ancestors http://127.0.0.1:9 https://app.example;"), "{page}: {csp}");
            assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), "{page}: {csp}");
            assert!(!csp.contains("unsafe-inline") && !csp.contains("off.example"), "{page}: {csp}");
            assert!(reply.headers.get(header::X_FRAME_OPTIONS).is_none(), "{page}: DENY would forbid every frame");
            assert_eq!(header_of(&reply, header::REFERRER_POLICY).as_deref(), Some("no-referrer"));
            assert_eq!(header_of(&reply, header::X_CONTENT_TYPE_OPTIONS).as_deref(), Some("nosniff"));
            assert!(!reply.html.contains("<script>") && !reply.html.contains("<script type=\"module\">"), "no inline script");

            // the page's script is a file of ours
            let src = crate::browser_flows::between(&reply.html, "src=\"", "\"").expect("a script src").to_string();
            assert!(src.starts_with("/resources/session/"), "{src}");
            let script = app.http.get(app.url(&src)).send().await.unwrap();
            assert_eq!(script.status(), 200, "{src}");
            assert_eq!(script.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
            assert!(script.text().await.unwrap().contains("postMessage"), "{src}");
        }
        // a client that allows every origin makes its realm's pages frameable from anywhere
        let wide = get(&app.http, &app.url("/realms/wide/protocol/openid-connect/login-status-iframe.html")).await;
        assert!(header_of(&wide, header::CONTENT_SECURITY_POLICY).unwrap().contains("frame-ancestors *;"));
        // and so does a list too long for a header (init still checks each client's origins)
        let crowded = get(&app.http, &app.url("/realms/crowded/protocol/openid-connect/3p-cookies/step1.html")).await;
        assert!(header_of(&crowded, header::CONTENT_SECURITY_POLICY).unwrap().contains("frame-ancestors *;"));
        assert_eq!(init(&app, "crowded", &[("client_id", "app-7"), ("origin", "https://app-7.example.com")]).await, 204);
        assert_eq!(init(&app, "crowded", &[("client_id", "app-7"), ("origin", "https://app-8.example.com")]).await, 403);
        // every other page keeps its headers: the login page is still never framed
        let login = get(&app.http, &realm_auth_url(&app, "iframe", "spa", &[("redirect_uri", SPA_REDIRECT)])).await;
        assert_eq!(login.status, 200, "{}", login.html);
        assert_security_headers(&login, "login page");
        // unknown script, unknown realm
        let missing = app.http.get(app.url("/resources/session/other.js")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        for page in PAGES {
            let reply = get(&app.http, &app.url(&format!("/realms/nowhere/protocol/openid-connect/{page}"))).await;
            assert_eq!(reply.status, 404, "{page}");
        }
        app.stop().await;
    }

    async fn session_iframe_init_approves_only_a_web_origin_of_an_enabled_client(backend: Backend) {
        let (app, _dir) = spawn(backend).await;
        // "+": the origin of the redirect URIs; and an origin listed as such
        assert_eq!(init(&app, "iframe", &[("client_id", "spa"), ("origin", "http://127.0.0.1:9")]).await, 204);
        assert_eq!(init(&app, "iframe", &[("client_id", "listed"), ("origin", "https://app.example")]).await, 204);
        assert_eq!(init(&app, "wide", &[("client_id", "any"), ("origin", "https://elsewhere.example")]).await, 204);
        for query in [
            &[("client_id", "spa"), ("origin", "https://evil.example")][..],
            &[("client_id", "spa"), ("origin", "http://127.0.0.1:10")],
            &[("client_id", "listed"), ("origin", "http://127.0.0.1:9")],
            &[("client_id", "spa"), ("origin", "null")],
            &[("client_id", "off"), ("origin", "https://off.example")],
            &[("client_id", "nobody"), ("origin", "http://127.0.0.1:9")],
            &[("client_id", "spa")],
            &[("origin", "http://127.0.0.1:9")],
            &[],
        ] {
            assert_eq!(init(&app, "iframe", query).await, 403, "{query:?}");
        }
        // the opaque origin is refused even where every origin is allowed
        assert_eq!(init(&app, "wide", &[("client_id", "any"), ("origin", "null")]).await, 403);
        assert_eq!(init(&app, "nowhere", &[("client_id", "spa"), ("origin", "http://127.0.0.1:9")]).await, 404);
        app.stop().await;
    }

    async fn session_iframe_state_cookie_is_the_sid_from_login_until_logout(backend: Backend) {
        let (app, _dir) = spawn(backend).await;
        let discovery: serde_json::Value =
            app.http.get(app.url("/realms/iframe/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
        assert_eq!(discovery["check_session_iframe"], app.url(&format!("{OIDC}/login-status-iframe.html")));

        let jar = browser_client();
        let page = get(&jar, &realm_auth_url(&app, "iframe", "spa", &[("redirect_uri", SPA_REDIRECT)])).await;
        assert!(page.set_cookie(STATE_COOKIE).is_none(), "no session yet, no state");
        let reply = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        assert_eq!(reply.status, 302, "{}", reply.html);
        let set = reply.set_cookie(STATE_COOKIE).expect("login sets the session state");
        // the iframe's script reads it, within the realm only; plain http: Lax, not Secure
        assert!(!set.to_ascii_lowercase().contains("httponly"), "{set}");
        assert!(set.contains("Path=/realms/iframe/") && set.contains("SameSite=Lax") && !set.contains("Secure"), "{set}");
        let (status, tokens) =
            exchange_in(&app, "iframe", "spa", SPA_REDIRECT, &param(&reply.location(), "code")).await;
        assert_eq!(status, 200, "{tokens}");
        let sid = claims(tokens["access_token"].as_str().unwrap())["sid"].as_str().unwrap().to_string();
        assert_eq!(reply.cookie_value(STATE_COOKIE).as_deref(), Some(sid.as_str()), "what keycloak-js posts");

        // an authorization in the existing session leaves a matching cookie alone, and gives it
        // back to a browser that lacks it (a session from before the upgrade, a dropped cookie)
        let again = get(&jar, &realm_auth_url(&app, "iframe", "spa", &[("redirect_uri", SPA_REDIRECT), ("prompt", "none")])).await;
        assert_eq!(again.status, 302, "{}", again.html);
        assert!(param(&again.location(), "code").len() > 10, "{}", again.location());
        assert!(again.set_cookie(STATE_COOKIE).is_none(), "the cookie already names the session");
        let sso = reply.cookie_value(SSO).expect("the SSO cookie");
        let without_state = app
            .http
            .get(realm_auth_url(&app, "iframe", "spa", &[("redirect_uri", SPA_REDIRECT), ("prompt", "none")]))
            .header(header::COOKIE, format!("{SSO}={sso}"))
            .send()
            .await
            .unwrap();
        assert_eq!(without_state.status(), 302);
        let restored = without_state
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|v| v.starts_with(&format!("{STATE_COOKIE}=")))
            .expect("the state cookie is set again");
        assert!(restored.starts_with(&format!("{STATE_COOKIE}={sid};")) && !restored.contains("Max-Age"), "{restored}");

        // RP-initiated logout of that browser session clears it with the SSO cookie
        let id_token = tokens["id_token"].as_str().unwrap();
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("id_token_hint", id_token), ("post_logout_redirect_uri", SPA_REDIRECT)])
            .finish();
        let logout = get(&jar, &app.url(&format!("{OIDC}/logout?{query}"))).await;
        assert_eq!(logout.status, 302, "{}", logout.html);
        assert_eq!(logout.cookie_value(STATE_COOKIE).as_deref(), Some(""), "cleared");
        let cleared = logout.set_cookie(STATE_COOKIE).unwrap();
        assert!(cleared.contains("Max-Age=0") && cleared.contains("Path=/realms/iframe/"), "{cleared}");
        app.stop().await;
    }
}
