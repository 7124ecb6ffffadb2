//! Operations endpoints: liveness, readiness against the database, Prometheus metrics and the
//! request id on every response.

use crate::backend_tests;
use crate::helpers::spawn_app;

backend_tests! {
    async fn readiness_follows_the_database(backend: Backend) {
        let app = spawn_app(backend).await;
        let (status, body) = app.get_json("/health/live").await;
        assert_eq!((status, body["status"].as_str()), (200, Some("UP")));
        let (status, body) = app.get_json("/health/ready").await;
        assert_eq!((status, body["checks"][0]["status"].as_str()), (200, Some("UP")));
        app.store.close().await; // the database is gone as far as this node can tell
        let (status, body) = app.get_json("/health/ready").await;
        assert_eq!((status, body["status"].as_str()), (503, Some("DOWN")));
        let (status, _) = app.get_json("/health/live").await;
        assert_eq!(status, 200, "liveness does not depend on the database");
        app.stop().await;
    }

    async fn metrics_count_requests_by_route_template(backend: Backend) {
        let app = spawn_app(backend).await;
        app.get_json("/realms/master/protocol/openid-connect/certs").await;
        app.get_json("/realms/no-such-realm/protocol/openid-connect/certs").await;
        let response = app.http.get(app.url("/metrics")).send().await.unwrap();
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = response.text().await.unwrap();
        assert!(text.contains(r#"route="/realms/{realm}/protocol/openid-connect/certs",status="200""#), "{text}");
        assert!(text.contains(r#"route="/realms/{realm}/protocol/openid-connect/certs",status="404""#));
        assert!(!text.contains("no-such-realm"), "labels are templates, never raw paths");
        assert!(text.contains("portcullis_http_request_duration_seconds_bucket"));
        assert!(text.contains("portcullis_db_pool_connections"));
        app.stop().await;
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let response = app.http.get(app.url("/health/live")).send().await.unwrap();
    let id = response.headers().get("x-request-id").expect("request id").to_str().unwrap().to_string();
    assert_eq!(id.len(), 36);
    let echoed = app.http.get(app.url("/health/live")).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let missing = app.http.get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn the_server_speaks_https_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let app = crate::helpers::Spawn::new(crate::helpers::Backend::Sqlite)
        .setting("https-certificate-file", cert.to_str().unwrap())
        .setting("https-certificate-key-file", key.to_str().unwrap())
        .start()
        .await;
    portcullis::app::install_crypto_provider();
    let client = reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap();
    let https = app.base.replace("http://", "https://");
    let doc: serde_json::Value = client
        .get(format!("{https}/realms/master/.well-known/openid-configuration"))
        .send()
        .await
        .expect("TLS handshake and response")
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], format!("{https}/realms/master").as_str(), "the issuer says https");
    app.stop().await;
}

crate::backend_tests! {
    async fn a_nul_character_in_the_uri_is_refused_before_any_handler(backend: Backend) {
        let app = crate::helpers::spawn_app(backend).await;
        for path in [
            "/admin/realms/a%00b",
            "/admin/realms/master/users/a%00b",
            "/admin/realms/master/users?search=a%00b",
            "/realms/a%00b/.well-known/openid-configuration",
        ] {
            let (status, body) = app.get_json(path).await;
            assert_eq!(status, 400, "{path}: {body}");
            assert_eq!(body["error"], "invalid_request", "{path}");
        }
        app.stop().await;
    }
}
