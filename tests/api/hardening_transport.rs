//! Transport and metadata hardening (issue 13, items 2, 3, 13, 14, 16, 17, 19, 20, 22), over
//! real sockets against a real server: slow and idle connections and the connection cap on
//! plain HTTP and TLS (HTTP/1.1 and HTTP/2), metric labels, the issuer over HTTP/2, HSTS, the
//! strict hostname of `start`, RFC 8414 metadata, 401 challenges and the rate-limit key.
//! Timeouts are set to a second or a few; every bound has seconds of margin for a loaded machine.

mod support;

use std::time::Duration;

use portcullis::config::HOSTNAME_NOT_CONFIGURED;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::hardening_requests::raw;
use crate::helpers::{Backend, Spawn};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_label_an_unknown_method_other_and_never_by_its_name() {
    let app = Spawn::new(Backend::Sqlite).start().await;
    let (status, _) = raw(&app, b"XYZ123 /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status, 405);
    let (status, _) = raw(&app, b"XYZ123 /no/such/route HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status, 404);
    let text = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("XYZ123"), "a request's method never becomes a label:\n{text}");
    assert!(text.contains(r#"method="OTHER",route="/health/live",status="405""#), "{text}");
    assert!(text.contains(r#"method="OTHER",route="unmatched",status="404""#), "{text}");
    assert!(!text.contains("/no/such/route"), "nor its path");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_are_closed_after_the_header_timeout_and_the_cap_holds_the_rest_back() {
    let header_timeout = 2 * SECOND;
    let app = Spawn::new(Backend::Sqlite)
        .setting("http-header-read-timeout", "2")
        .setting("http-idle-timeout", "30")
        .setting("http-max-connections", "4")
        .start()
        .await;
    let address = address(&app);
    let held = HeldSampler::start(address.port());
    let mut first = Vec::new();
    for _ in 0..4 {
        first.push(slowloris(address).await);
    }
    wait_until("the first four are taken", 10 * SECOND, || held_by_server(address.port()) == 4).await;
    let mut waiting = Vec::new();
    for _ in 0..6 {
        waiting.push(slowloris(address).await);
    }
    // a client with a real request, queued behind them all, on a connection of its own
    let client = reqwest::Client::new();
    let url = app.url("/health/live");
    let normal = tokio::spawn(async move { client.get(url).send().await.map(|r| r.status().as_u16()) });

    for (i, (stream, opened)) in first.iter_mut().enumerate() {
        let closed = closed_by_server(stream, *opened, header_timeout + 10 * SECOND).await;
        assert_closed_about(&format!("half-sent connection {i}"), closed, header_timeout);
    }
    let status = tokio::time::timeout(Duration::from_secs(40), normal).await.expect("served once slots freed");
    assert_eq!(status.unwrap().expect("answered"), 200);
    for (i, (stream, opened)) in waiting.iter_mut().enumerate() {
        // each waited for a slot first, then got its own header timeout
        let closed = closed_by_server(stream, *opened, 40 * SECOND).await;
        assert!(closed.is_some(), "queued half-sent connection {i} was never closed");
    }
    assert_eq!(held.max(), 4 + 1, "never more than http-max-connections, plus the one the accept loop holds for a slot");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_timeout() {
    let app = Spawn::new(Backend::Sqlite)
        .setting("http-header-read-timeout", "1")
        .setting("http-idle-timeout", "3")
        .start()
        .await;
    let address = address(&app);
    // HTTP/1.1, and HTTP/2 with prior knowledge (plain text): each connection is still open
    // 2 s after its answer (twice the header timeout) and closed within a few seconds of 3 s
    let h1 = idle_close(TcpStream::connect(address).await.unwrap(), false, &app.base, 2 * SECOND);
    let h2 = idle_close(TcpStream::connect(address).await.unwrap(), true, &app.base, 2 * SECOND);
    tokio::join!(h1, h2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_cap_idle_keep_alive_connections_make_room_for_new_clients() {
    let app = Spawn::new(Backend::Sqlite)
        .setting("http-header-read-timeout", "5")
        .setting("http-idle-timeout", "60")
        .setting("http-max-connections", "2")
        .start()
        .await;
    let address = address(&app);
    let mut idle = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut answer = [0u8; 4096];
        let n = stream.read(&mut answer).await.unwrap();
        assert!(answer[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer[..n]));
        idle.push(stream);
    }
    wait_until("both idle connections held", 10 * SECOND, || held_by_server(address.port()) == 2).await;
    let asked = Instant::now();
    let status = tokio::time::timeout(5 * SECOND, reqwest::Client::new().get(app.url("/health/live")).send())
        .await
        .expect("a new client is served within seconds, not after the 60 s idle timeout")
        .expect("answered")
        .status();
    assert_eq!(status, 200);
    for (i, stream) in idle.iter_mut().enumerate() {
        let closed = closed_by_server(stream, asked, 5 * SECOND).await;
        assert!(closed.is_some(), "idle connection {i} was not closed to make room");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_silent_and_half_sent_connections_go_after_the_header_timeout_and_idle_ones_after_the_idle_timeout() {
    let (app, https, _certificate) = https_app(&[("http-header-read-timeout", "1"), ("http-idle-timeout", "3")]).await;
    let address = address(&app);
    let silent = async {
        // no ClientHello at all
        let mut tcp = TcpStream::connect(address).await.unwrap();
        let opened = Instant::now();
        assert_closed_about("silent TCP connection", closed_by_server(&mut tcp, opened, 6 * SECOND).await, SECOND);
    };
    let half_request = async {
        let opened = Instant::now();
        let mut tls = tls_connect(address, &[b"http/1.1"]).await;
        tls.write_all(HALF_REQUEST).await.unwrap();
        assert_closed_about("half-sent request over TLS", closed_by_server(&mut tls, opened, 6 * SECOND).await, SECOND);
    };
    let half_http2 = async {
        let opened = Instant::now();
        let mut tls = tls_connect(address, &[b"h2"]).await;
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        // the connection preface and nothing more: no stream is ever opened
        tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
        assert_closed_about("HTTP/2 connection without a request", closed_by_server(&mut tls, opened, 6 * SECOND).await, SECOND);
    };
    let h1 = async { idle_close(tls_connect(address, &[b"http/1.1"]).await, false, &https, 2 * SECOND).await };
    let h2 = async {
        let tls = tls_connect(address, &[b"h2", b"http/1.1"]).await;
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]), "ALPN picks HTTP/2");
        idle_close(tls, true, &https, 2 * SECOND).await
    };
    tokio::join!(silent, half_request, half_http2, h1, h2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_the_cap_holds_connections_back_until_a_slot_frees() {
    let (app, https, _certificate) = https_app(&[("http-header-read-timeout", "2"), ("http-max-connections", "3")]).await;
    let address = address(&app);
    let held = HeldSampler::start(address.port());
    let mut silent = Vec::new();
    for _ in 0..6 {
        silent.push((TcpStream::connect(address).await.unwrap(), Instant::now()));
    }
    wait_until("three are taken", 10 * SECOND, || held_by_server(address.port()) >= 3).await;
    let asked = https_client().get(format!("{https}/health/live")).send();
    let response = tokio::time::timeout(20 * SECOND, asked).await.expect("served once slots freed").expect("answered");
    assert_eq!((response.status().as_u16(), response.version()), (200, reqwest::Version::HTTP_2));
    for (i, (tcp, opened)) in silent.iter_mut().enumerate() {
        assert!(closed_by_server(tcp, *opened, 20 * SECOND).await.is_some(), "silent connection {i} never closed");
    }
    assert_eq!(held.max(), 3 + 1, "never more than http-max-connections, plus the one the accept loop holds for a slot");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_without_hostname_http2_and_http1_requests_get_the_issuer_and_hsts() {
    let (app, https, _certificate) = https_app(&[]).await;
    let url = format!("{https}/realms/master/.well-known/openid-configuration");
    let http1 = {
        portcullis::app::install_crypto_provider();
        reqwest::Client::builder().danger_accept_invalid_certs(true).http1_only().build().unwrap()
    };
    for (client, version) in [(https_client(), reqwest::Version::HTTP_2), (http1, reqwest::Version::HTTP_11)] {
        let response = client.get(&url).send().await.expect("answered");
        assert_eq!((response.status().as_u16(), response.version()), (200, version));
        let hsts = response.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_string());
        assert_eq!(hsts.as_deref(), Some("max-age=31536000; includeSubDomains"), "{version:?}");
        let doc: Value = response.json().await.unwrap();
        assert_eq!(doc["issuer"], format!("{https}/realms/master").as_str(), "{version:?}: from :authority or Host");
    }
    let health = https_client().get(format!("{https}/health/live")).send().await.unwrap();
    assert!(health.headers().contains_key("strict-transport-security"), "every response over TLS");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_sent_when_the_public_url_is_https_and_never_over_plain_http() {
    let hsts = |response: &reqwest::Response| response.headers().get("strict-transport-security").is_some();
    let plain = Spawn::new(Backend::Sqlite).start().await;
    let response = plain.http.get(plain.url("/realms/master/.well-known/openid-configuration")).send().await.unwrap();
    assert!(!hsts(&response), "plain http, no https public URL");
    plain.stop().await;

    let behind_tls = Spawn::new(Backend::Sqlite).setting("hostname", "https://auth.example.com").start().await;
    let response = behind_tls.http.get(behind_tls.url("/health/live")).send().await.unwrap();
    assert!(hsts(&response), "hostname says clients use https (a proxy terminates TLS)");
    behind_tls.stop().await;

    let proxied = Spawn::new(Backend::Sqlite).setting("proxy-headers", "xforwarded").start().await;
    let get = |proto: &'static str| proxied.http.get(proxied.url("/health/live")).header("x-forwarded-proto", proto).send();
    assert!(hsts(&get("https").await.unwrap()), "the trusted proxy says https");
    assert!(!hsts(&get("http").await.unwrap()), "the trusted proxy says http");
    proxied.stop().await;

    let untrusted = Spawn::new(Backend::Sqlite).start().await;
    let response =
        untrusted.http.get(untrusted.url("/health/live")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert!(!hsts(&response), "forwarding headers count only from a trusted proxy");
    untrusted.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_refuses_to_run_without_a_hostname_unless_hostname_strict_is_false() {
    let dir = tempfile::tempdir().unwrap();
    let refused = start_command(dir.path(), &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("portcullis runs");
    let mut refused = Child(refused);
    let deadline = Instant::now() + 30 * SECOND;
    let status = loop {
        if let Some(status) = refused.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "start without hostname is still running: it did not refuse");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut refused.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(HOSTNAME_NOT_CONFIGURED), "Keycloak's words: {stderr}");
    assert!(!dir.path().join("portcullis.db").exists(), "refused before touching the database");

    let mut child = start_command(dir.path(), &["--hostname-strict", "false"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("portcullis starts");
    let stdout = child.stdout.take().unwrap();
    let child = Child(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                let url = line[at + "listening on ".len()..].split_whitespace().next().unwrap_or("").to_string();
                let _ = tx.send(url);
            }
        }
    });
    let base = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap()
        .expect("start with hostname-strict=false serves");
    let doc: Value = reqwest::get(format!("{base}/realms/master/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], format!("{base}/realms/master").as_str(), "the issuer comes from the request");
    drop(child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_server_metadata_answers_at_both_rfc_8414_paths_with_the_realm_issuer() {
    let app = Spawn::new(Backend::Sqlite).start().await;
    let (status, openid) = app.get_json("/realms/master/.well-known/openid-configuration").await;
    assert_eq!(status, 200);
    for path in ["/.well-known/oauth-authorization-server/realms/master", "/realms/master/.well-known/oauth-authorization-server"] {
        let response = app.http.get(app.url(path)).header("origin", "https://any.example").send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["access-control-allow-origin"], "https://any.example", "{path}: a public document");
        let doc: Value = response.json().await.unwrap();
        assert_eq!(doc["issuer"], format!("{}/realms/master", app.base).as_str(), "{path}: RFC 8414 §3.3");
        assert_eq!(doc, openid, "{path}: the same metadata as OpenID discovery");
    }
    let (status, body) = app.get_json("/.well-known/oauth-authorization-server/realms/nope").await;
    assert_eq!((status, body), (404, serde_json::json!({ "error": "Realm does not exist" })));
    let (status, _) = app.get_json("/.well-known/openid-configuration/realms/master").await;
    assert_eq!(status, 404, "OpenID discovery is appended, never inserted (Keycloak refuses it too)");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_advertises_only_client_authentication_that_works() {
    use crate::client_assertions::{es256, es256_key, hs256, jwt_client_in, SECRET};
    let (app, _dir) = edge(&[]).await;
    let (_, doc) = app.get_json("/realms/edge/.well-known/openid-configuration").await;
    let admin = crate::admin_support::Admin::login(&app).await;
    // a client per JWT method, as an admin would register them
    let (key, jwk) = es256_key("edge-key");
    let jwks = serde_json::json!({"keys": [jwk]}).to_string();
    jwt_client_in(&admin, "edge", "app-pk", "client-jwt", serde_json::json!({"use.jwks.string": "true", "jwks.string": jwks})).await;
    jwt_client_in(&admin, "edge", "app-hs", "client-secret-jwt", serde_json::json!({})).await;
    let basic = reqwest::header::HeaderValue::from_str(&format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("app:{APP_SECRET}"))
    ))
    .unwrap();
    for (methods, algs, endpoint) in [
        ("token_endpoint_auth_methods_supported", "token_endpoint_auth_signing_alg_values_supported", "token_endpoint"),
        ("introspection_endpoint_auth_methods_supported", "introspection_endpoint_auth_signing_alg_values_supported", "introspection_endpoint"),
        ("revocation_endpoint_auth_methods_supported", "revocation_endpoint_auth_signing_alg_values_supported", "revocation_endpoint"),
    ] {
        let url = doc[endpoint].as_str().unwrap();
        let advertised: Vec<&str> = doc[algs].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        assert!(advertised.contains(&"ES256") && advertised.contains(&"HS256"), "{algs}: {advertised:?}");
        for method in doc[methods].as_array().unwrap().iter().map(|m| m.as_str().unwrap()) {
            let claims = |client: &str| serde_json::json!({"iss": client, "sub": client, "aud": url,
                "exp": portcullis::clock::Clock::now(&app.clock) + 60, "jti": format!("{endpoint}-{method}")});
            let mut form: Vec<(&str, String)> = vec![("grant_type", "client_credentials".into()), ("token", "not-a-token".into())];
            let mut request = app.http.post(url);
            match method {
                "client_secret_basic" => request = request.header("authorization", basic.clone()),
                "client_secret_post" => form.extend([("client_id", "app".into()), ("client_secret", APP_SECRET.into())]),
                "private_key_jwt" | "client_secret_jwt" => {
                    let assertion = if method == "private_key_jwt" { es256(&claims("app-pk"), &key, "edge-key") } else { hs256(&claims("app-hs"), SECRET) };
                    form.extend([("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()), ("client_assertion", assertion)]);
                }
                other => panic!("{methods} advertises {other}, which no endpoint implements"),
            }
            let status = request.form(&form).send().await.unwrap().status();
            assert_eq!(status, 200, "{endpoint} with {method}, as advertised");
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_401_carries_a_challenge_and_a_single_page_app_can_read_it() {
    let (app, _dir) = edge(&[]).await;
    let oidc = app.url("/realms/edge/protocol/openid-connect");
    let wrong_basic = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "app:wrong-secret")
    );
    let cases: Vec<(&str, reqwest::RequestBuilder, &str)> = vec![
        (
            "invalid_client, secret in the body",
            app.http.post(format!("{oidc}/token")).form(&[("grant_type", "client_credentials"), ("client_id", "app"), ("client_secret", "wrong")]),
            "Basic",
        ),
        (
            "invalid_client, no credentials at all",
            app.http.post(format!("{oidc}/token")).form(&[("grant_type", "client_credentials"), ("client_id", "app")]),
            "Basic",
        ),
        (
            "invalid_client, Basic",
            app.http.post(format!("{oidc}/token")).header("authorization", &wrong_basic).form(&[("grant_type", "client_credentials")]),
            "Basic",
        ),
        (
            "introspection, wrong secret in the body",
            app.http.post(format!("{oidc}/token/introspect")).form(&[("token", "x"), ("client_id", "app"), ("client_secret", "wrong")]),
            "Basic",
        ),
        (
            "revocation, wrong secret in the body",
            app.http.post(format!("{oidc}/revoke")).form(&[("token", "x"), ("client_id", "app"), ("client_secret", "wrong")]),
            "Basic",
        ),
        ("userinfo without a token", app.http.get(format!("{oidc}/userinfo")), "Bearer"),
        ("userinfo with a garbled token", app.http.get(format!("{oidc}/userinfo")).bearer_auth("garbled"), "Bearer error=\"invalid_token\""),
        ("admin API without a token", app.http.get(app.url("/admin/realms/edge/users")), "Bearer"),
        ("admin API with a garbled token", app.http.get(app.url("/admin/realms/edge/users")).bearer_auth("garbled"), "Bearer"),
    ];
    // Keycloak's 401 invalid_grant for a wrong user password carries no Basic challenge: a browser
    // would answer it with its own password dialog over the app's login form
    let wrong_password = app.http.post(format!("{oidc}/token")).header("origin", SPA).form(&[
        ("grant_type", "password"), ("client_id", "app"), ("client_secret", APP_SECRET),
        ("username", "erin"), ("password", "wrong"),
    ]).send().await.unwrap();
    assert_eq!(wrong_password.status(), 401);
    assert!(wrong_password.headers().get("www-authenticate").is_none_or(|c| !c.to_str().unwrap().starts_with("Basic")));
    for (what, request, scheme) in cases {
        let response = request.header("origin", SPA).send().await.unwrap();
        assert_eq!(response.status(), 401, "{what}");
        let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string());
        assert!(challenge.as_deref().is_some_and(|c| c.starts_with(scheme)), "{what}: challenge {challenge:?}");
        if what.contains("body") || what.contains("credentials at all") {
            // the app's own origin: CORS allows the answer, and the challenge with it
            assert_eq!(response.headers()["access-control-allow-origin"], SPA, "{what}");
            let exposed = response.headers().get("access-control-expose-headers").map(|v| v.to_str().unwrap().to_string());
            assert!(exposed.as_deref().is_some_and(|e| e.to_ascii_lowercase().contains("www-authenticate")), "{what}");
            // and a DPoP server nonce (RFC 9449 §8)
            assert!(exposed.is_some_and(|e| e.to_ascii_lowercase().contains("dpop-nonce")), "{what}");
        }
    }
    // a single-page app may send DPoP proofs: the preflight allows the header
    let preflight = app.http.request(reqwest::Method::OPTIONS, format!("{oidc}/token")).header("origin", SPA)
        .header("access-control-request-method", "POST").header("access-control-request-headers", "dpop").send().await.unwrap();
    let allowed = preflight.headers().get("access-control-allow-headers").map(|v| v.to_str().unwrap().to_ascii_lowercase());
    assert!(allowed.as_deref().is_some_and(|a| a.split(',').any(|h| h.trim() == "dpop")), "{allowed:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_percent_encoded_realm_name_shares_its_realms_rate_limit_bucket_and_junk_names_share_one() {
    let (app, _dir) = edge(&[("rate-limit-token-per-client", "1,2"), ("rate-limit-token-per-ip", "0")]).await;
    // the bucket counts failures: a wrong secret is one
    let post = |realm: &str| {
        let url = app.url(&format!("/realms/{realm}/protocol/openid-connect/token"));
        let form = [("grant_type", "client_credentials"), ("client_id", "app"), ("client_secret", "wrong")];
        let request = app.http.post(url).form(&form);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // the clock stands still: a bucket of burst 2 never refills during the test
    assert_eq!(post("edge").await, 401);
    assert_eq!(post("%65dge").await, 401, "the same realm, spelled with an escape");
    assert_eq!(post("%65%64%67%65").await, 429, "and its bucket is the same bucket");
    assert_eq!(post("edge").await, 429);
    assert_eq!(post("no%20such").await, 404);
    assert_eq!(post("also%2Fnot%2Fa%2Frealm").await, 404);
    assert_eq!(post("yet-another%20junk").await, 429, "every impossible realm name shares one bucket");
    app.stop().await;
}
