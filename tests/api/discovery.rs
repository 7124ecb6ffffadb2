//! Discovery and JWKS over HTTP.

use crate::backend_tests;
use crate::helpers::spawn_app;

backend_tests! {
    async fn discovery_of_master_lists_every_endpoint(backend: Backend) {
        let app = spawn_app(backend).await;
        let (status, doc) = app.get_json("/realms/master/.well-known/openid-configuration").await;
        assert_eq!(status, 200);
        let issuer = format!("{}/realms/master", app.base);
        assert_eq!(doc["issuer"], issuer.as_str());
        let oidc = format!("{issuer}/protocol/openid-connect");
        for (field, suffix) in [
            ("authorization_endpoint", "/auth"),
            ("token_endpoint", "/token"),
            ("jwks_uri", "/certs"),
            ("userinfo_endpoint", "/userinfo"),
            ("end_session_endpoint", "/logout"),
            ("revocation_endpoint", "/revoke"),
            ("introspection_endpoint", "/token/introspect"),
        ] {
            assert_eq!(doc[field], format!("{oidc}{suffix}").as_str(), "{field}");
        }
        assert!(doc["grant_types_supported"].as_array().unwrap().iter().any(|g| g == "refresh_token"));
        assert!(doc["code_challenge_methods_supported"].as_array().unwrap().iter().any(|m| m == "S256"));
        assert!(doc["id_token_signing_alg_values_supported"].as_array().unwrap().iter().any(|a| a == "ES256"));
        app.stop().await;
    }

    async fn an_unknown_realm_is_404_with_keycloaks_body(backend: Backend) {
        let app = spawn_app(backend).await;
        for path in [
            "/realms/nope/.well-known/openid-configuration",
            "/realms/nope/protocol/openid-connect/certs",
        ] {
            let (status, body) = app.get_json(path).await;
            assert_eq!(status, 404, "{path}");
            assert_eq!(body, serde_json::json!({ "error": "Realm does not exist" }), "{path}");
        }
        app.stop().await;
    }

    async fn a_configured_hostname_fixes_the_issuer(backend: Backend) {
        let app = crate::helpers::Spawn::new(backend)
            .setting("hostname", "https://auth.example.com/")
            .start()
            .await;
        let (_, doc) = app.get_json("/realms/master/.well-known/openid-configuration").await;
        assert_eq!(doc["issuer"], "https://auth.example.com/realms/master");
        app.stop().await;
    }
}

#[tokio::test]
async fn forwarded_headers_count_only_when_trusted() {
    let app = crate::helpers::Spawn::new(crate::helpers::Backend::Sqlite)
        .setting("proxy-headers", "xforwarded")
        .start()
        .await;
    let doc: serde_json::Value = app
        .http
        .get(app.url("/realms/master/.well-known/openid-configuration"))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "login.example.org")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], "https://login.example.org/realms/master");
    app.stop().await;

    let untrusted = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let doc: serde_json::Value = untrusted
        .http
        .get(untrusted.url("/realms/master/.well-known/openid-configuration"))
        .header("x-forwarded-host", "login.example.org")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], format!("{}/realms/master", untrusted.base).as_str());
    untrusted.stop().await;
}
