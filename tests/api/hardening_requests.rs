//! Hostile requests on both backends (issue 7 item 2): wrong content types, duplicated
//! parameters, non-UTF-8 bytes, very long values, SQL metacharacters in every field, path
//! traversal in realm names, oversized bodies and headers. Every answer is a clear 4xx (never a
//! 5xx, never a dropped connection), and afterwards the realm is intact and logins still work.
//! Raw requests go over a plain TCP socket, so paths reach the server exactly as written.

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::backend_tests;
use crate::hardening_tokens::{tokens, two_vaults};
use crate::helpers::TestApp;

const SECRET: &str = "s3cr3t-client-value-0123456789";
const OIDC: &str = "/realms/vault/protocol/openid-connect";

/// What an attacker types into a field.
const SQL: &[&str] = &[
    "' OR '1'='1",
    "' OR 1=1 --",
    "\"; DROP TABLE users; --",
    "'; DELETE FROM realms; --",
    "carol' --",
    "' UNION SELECT id, name FROM realms --",
    "'; SELECT pg_sleep(5); --",
    "%",
    "_",
    "\\",
    "\u{0}",
    "carol\u{0}",
    "$1",
    "?",
    "\u{feff}carol",
    "\u{fffd}",
];

/// Sends raw bytes and reads the whole answer (`Connection: close`): status and full text.
pub(crate) async fn raw(app: &TestApp, request: &[u8]) -> (u16, String) {
    let address = app.base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // the server may answer (413, 431) and close before reading everything: read while writing
    let bytes = request.to_vec();
    let sending = tokio::spawn(async move {
        let _ = writer.write_all(&bytes).await;
        writer
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), reader.read_to_end(&mut answer)).await;
    sending.abort();
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer to {:?}: {text:?}", String::from_utf8_lossy(&request[..request.len().min(200)])));
    (status, text)
}

pub(crate) fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        out.push_str("Host: 127.0.0.1\r\n");
    }
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn form_body(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

async fn post_form(app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> (u16, Value) {
    let response = app.http.post(app.url(path)).form(pairs).send().await.expect("a response");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[track_caller]
fn assert_client_error(status: u16, what: &str) {
    assert!((400..500).contains(&status), "{what}: expected a 4xx, got {status}");
}

/// The realm, its clients and its user are still there and work.
async fn assert_intact(app: &TestApp) {
    let body = tokens(app, "vault").await;
    assert!(body["access_token"].is_string());
    let realms = app.store.list_realms().await.unwrap();
    assert!(realms.iter().any(|r| r.name == "vault") && realms.iter().any(|r| r.name == "master"), "{realms:?}");
}

backend_tests! {
    async fn wrong_content_types_are_invalid_request(backend: Backend) {
        let app = two_vaults(backend).await;
        let form = form_body(&[("grant_type", "client_credentials"), ("client_id", "backend"), ("client_secret", SECRET), ("token", "x")]);
        let json = r#"{"grant_type":"client_credentials","client_id":"backend","client_secret":"s3cr3t-client-value-0123456789"}"#;
        let multipart = "--b\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--b--\r\n";
        let cases: Vec<(Option<&str>, &str)> = vec![
            (Some("application/json"), json),
            (Some("multipart/form-data; boundary=b"), multipart),
            (Some("text/plain"), &form),
            (Some("application/x-www-form-urlencodedx"), &form),
            (Some("application/xml"), "<grant_type>client_credentials</grant_type>"),
            (None, &form),
        ];
        for endpoint in ["token", "token/introspect", "revoke"] {
            for (content_type, body) in &cases {
                let mut headers = Vec::new();
                if let Some(ct) = content_type {
                    headers.push(("Content-Type", *ct));
                }
                let (status, text) = raw(&app, &request("POST", &format!("{OIDC}/{endpoint}"), &headers, body.as_bytes())).await;
                assert_eq!(status, 400, "{endpoint} with {content_type:?}: {text}");
                assert!(text.contains("invalid_request"), "{endpoint} with {content_type:?}: {text}");
            }
        }
        for (path, content_type) in [
            (format!("{OIDC}/logout"), "application/json"),
            (format!("{OIDC}/userinfo"), "application/json"),
            ("/realms/vault/login-actions/authenticate".to_string(), "application/json"),
            (format!("{OIDC}/auth"), "multipart/form-data; boundary=b"),
        ] {
            let (status, text) = raw(&app, &request("POST", &path, &[("Content-Type", content_type)], json.as_bytes())).await;
            assert!(status < 500 && status != 0, "{path}: {text}");
        }
        assert_intact(&app).await;
        app.stop().await;
    }

    async fn duplicated_parameters_are_refused(backend: Backend) {
        let app = two_vaults(backend).await;
        let creds = [("client_id", "backend"), ("client_secret", SECRET)];
        let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("token", vec![("grant_type", "client_credentials"), ("grant_type", "password")]),
            ("token", vec![("grant_type", "client_credentials"), ("client_id", "frontend")]),
            ("token", vec![("grant_type", "refresh_token"), ("refresh_token", "a"), ("refresh_token", "b")]),
            ("token", vec![("grant_type", "password"), ("username", "carol"), ("username", "admin"), ("password", "x")]),
            ("token", vec![("grant_type", "client_credentials"), ("scope", "openid"), ("scope", "offline_access")]),
            ("token/introspect", vec![("token", "a"), ("token", "b")]),
            ("revoke", vec![("token", "a"), ("token", "b")]),
            ("logout", vec![("refresh_token", "a"), ("refresh_token", "b")]),
        ];
        for (endpoint, params) in cases {
            let mut pairs = creds.to_vec();
            pairs.extend(params.iter().copied());
            let (status, body) = post_form(&app, &format!("{OIDC}/{endpoint}"), &pairs).await;
            if endpoint == "logout" {
                // the pair is not a client logout (no single refresh_token): RP-initiated logout's page
                assert_client_error(status, "logout with a duplicated refresh_token");
            } else {
                assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{endpoint} {params:?}: {body}");
            }
        }
        let (status, _) = raw(&app, &request("GET", &format!("{OIDC}/auth?client_id=frontend&client_id=backend&response_type=code"), &[], b"")).await;
        assert_eq!(status, 400, "authorization request with client_id twice");
        let body = form_body(&[("username", "carol"), ("username", "admin"), ("password", "x")]);
        let (status, _) = raw(&app, &request("POST", "/realms/vault/login-actions/authenticate",
            &[("Content-Type", "application/x-www-form-urlencoded")], body.as_bytes())).await;
        assert_eq!(status, 400, "login form with username twice");
        assert_intact(&app).await;
        app.stop().await;
    }

    async fn non_utf8_bytes_get_a_4xx_everywhere(backend: Backend) {
        let app = two_vaults(backend).await;
        let bodies: Vec<Vec<u8>> = vec![
            b"grant_type=password&client_id=frontend&username=%FF%FE&password=%C3%28".to_vec(),
            b"grant_type=password&client_id=frontend&username=\xff\xfe\xfd&password=\xc3\x28".to_vec(),
            b"grant_type=%FF&client_id=%FF&client_secret=%FF".to_vec(),
            b"\xff\xff\xff\xff".to_vec(),
            b"token=%ED%A0%80&client_id=backend&client_secret=s3cr3t-client-value-0123456789".to_vec(),
            b"grant_type=refresh_token&refresh_token=%80%81&client_id=backend&client_secret=s3cr3t-client-value-0123456789".to_vec(),
        ];
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        for path in [
            format!("{OIDC}/token"), format!("{OIDC}/token/introspect"), format!("{OIDC}/revoke"),
            format!("{OIDC}/logout"), format!("{OIDC}/userinfo"), format!("{OIDC}/auth"),
            "/realms/vault/login-actions/authenticate".to_string(), "/realms/vault/login-actions/consent".to_string(),
            "/realms/vault/account/sessions".to_string(),
        ] {
            for body in &bodies {
                let (status, text) = raw(&app, &request("POST", &path, &form, body)).await;
                assert!(status < 500, "{path} {:?}: {text}", String::from_utf8_lossy(body));
            }
        }
        for path in [
            "/realms/%FF%FE/protocol/openid-connect/certs",
            "/realms/vault%C3%28/.well-known/openid-configuration",
            "/realms/vault/protocol/openid-connect/auth?client_id=%FF&redirect_uri=%FE&response_type=code",
            "/realms/vault/protocol/openid-connect/logout?id_token_hint=%FF",
            "/admin/realms/%FF/users",
        ] {
            let (status, text) = raw(&app, &request("GET", path, &[], b"")).await;
            assert_client_error(status, &format!("{path}: {text}"));
        }
        let mut latin1 = request("GET", &format!("{OIDC}/userinfo"), &[], b"");
        let at = latin1.len() - 2;
        latin1.splice(at..at, b"Authorization: Bearer \xe9\xe8\xff\r\n".iter().copied());
        let (status, _) = raw(&app, &latin1).await;
        assert_eq!(status, 401, "a non-UTF-8 bearer token");
        assert_intact(&app).await;
        app.stop().await;
    }

    async fn very_long_values_are_refused_cleanly(backend: Backend) {
        let app = two_vaults(backend).await;
        let long = "u".repeat(60_000);
        let (status, body) = post_form(&app, &format!("{OIDC}/token"), &[("grant_type", "password"), ("client_id", "frontend"),
            ("username", &long), ("password", "x")]).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_grant")), "{body}");
        let (status, body) = post_form(&app, &format!("{OIDC}/token"), &[("grant_type", "password"), ("client_id", "frontend"),
            ("username", "carol"), ("password", &long)]).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_grant")), "a 60 KB password: {body}");
        let (status, body) = post_form(&app, &format!("{OIDC}/token"), &[("grant_type", "client_credentials"), ("client_id", &long)]).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
        let (status, body) = post_form(&app, &format!("{OIDC}/token"), &[("grant_type", "client_credentials"), ("client_id", "backend"),
            ("client_secret", SECRET), ("scope", &long)]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
        let half = &long[..30_000];
        let (status, _) = post_form(&app, "/realms/vault/login-actions/authenticate", &[("username", half), ("password", half)]).await;
        assert_eq!(status, 400, "login form without a pending login");
        let (status, _) = app.get_json(&format!("/realms/{}/protocol/openid-connect/certs", "r".repeat(10_000))).await;
        assert_eq!(status, 404, "a 10 KB realm name");
        let (status, _) = raw(&app, &request("GET", &format!("{OIDC}/auth?client_id=frontend&response_type=code&state={}", "s".repeat(60_000)), &[], b"")).await;
        assert_client_error(status, "a 60 KB query");
        assert_intact(&app).await;
        app.stop().await;
    }

    async fn sql_metacharacters_in_every_field_change_nothing(backend: Backend) {
        let app = two_vaults(backend).await;
        let grants: Vec<Vec<(&str, &str)>> = vec![
            vec![("grant_type", "password"), ("client_id", "frontend"), ("username", "$"), ("password", "$")],
            vec![("grant_type", "password"), ("client_id", "frontend"), ("username", "carol"), ("password", "$")],
            vec![("grant_type", "password"), ("client_id", "$"), ("username", "carol"), ("password", "x")],
            vec![("grant_type", "password"), ("client_id", "backend"), ("client_secret", "$"), ("username", "carol"), ("password", "x")],
            vec![("grant_type", "password"), ("client_id", "frontend"), ("username", "carol"), ("password", "x"), ("scope", "$")],
            vec![("grant_type", "$"), ("client_id", "frontend")],
            vec![("grant_type", "refresh_token"), ("client_id", "frontend"), ("refresh_token", "$")],
            vec![("grant_type", "authorization_code"), ("client_id", "frontend"), ("code", "$"), ("redirect_uri", "https://frontend.example/cb")],
            vec![("grant_type", "authorization_code"), ("client_id", "frontend"), ("code", "abc"), ("redirect_uri", "$"), ("code_verifier", "$")],
        ];
        for payload in SQL {
            for grant in &grants {
                let pairs: Vec<(&str, &str)> = grant.iter().map(|(k, v)| (*k, if *v == "$" { *payload } else { *v })).collect();
                let (status, body) = post_form(&app, &format!("{OIDC}/token"), &pairs).await;
                assert_client_error(status, &format!("token {pairs:?}: {body}"));
            }
            for endpoint in ["token/introspect", "revoke"] {
                for (name, value) in [("token", *payload), ("token_type_hint", *payload)] {
                    let mut pairs = vec![("client_id", "backend"), ("client_secret", SECRET), (name, value)];
                    if name != "token" {
                        pairs.push(("token", "x"));
                    }
                    let (status, body) = post_form(&app, &format!("{OIDC}/{endpoint}"), &pairs).await;
                    assert!(status == 200 || (400..500).contains(&status), "{endpoint} {pairs:?}: {status} {body}");
                }
            }
            let (status, _) = post_form(&app, &format!("{OIDC}/logout"), &[("client_id", "backend"), ("client_secret", SECRET), ("refresh_token", payload)]).await;
            assert_client_error(status, &format!("logout with {payload:?}"));
            if payload.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
                let response = app.http.get(app.url(&format!("{OIDC}/userinfo"))).bearer_auth(payload).send().await.unwrap();
                assert_client_error(response.status().as_u16(), &format!("userinfo with {payload:?}"));
            }
            for param in ["client_id", "redirect_uri", "scope", "state", "login_hint", "response_type", "nonce"] {
                let mut pairs = vec![("client_id", "frontend"), ("response_type", "code"), ("redirect_uri", "https://frontend.example/cb")];
                pairs.retain(|(k, _)| *k != param);
                pairs.push((param, payload));
                let response = app.http.get(app.url(&format!("{OIDC}/auth"))).query(&pairs).send().await.unwrap();
                assert!(response.status().as_u16() < 500, "auth {param}={payload:?}: {}", response.status());
            }
            let (status, _) = post_form(&app, "/realms/vault/login-actions/authenticate",
                &[("username", payload), ("password", payload), ("auth", payload), ("csrf", payload)]).await;
            assert_client_error(status, &format!("login form with {payload:?}"));
            let encoded: String = form_urlencoded::byte_serialize(payload.as_bytes()).collect();
            for path in [format!("/realms/{encoded}/protocol/openid-connect/certs"), format!("/realms/{encoded}/account"),
                format!("/realms/{encoded}/.well-known/openid-configuration")] {
                let (status, text) = raw(&app, &request("GET", &path, &[], b"")).await;
                assert_client_error(status, &format!("{path}: {text}"));
            }
        }
        assert_intact(&app).await;
        app.stop().await;
    }

    async fn path_traversal_in_realm_names_finds_nothing(backend: Backend) {
        let app = two_vaults(backend).await;
        for path in [
            "/realms/..%2f..%2f..%2fetc%2fpasswd/protocol/openid-connect/certs",
            "/realms/..%2F..%2Fadmin/protocol/openid-connect/token",
            "/realms/%2e%2e/protocol/openid-connect/certs",
            "/realms/.%2e/.well-known/openid-configuration",
            "/realms/../admin/realms",
            "/realms/vault/../master/protocol/openid-connect/certs",
            "/realms/vault%2f..%2fmaster/account",
            "/realms/vault%00/protocol/openid-connect/certs",
            "/realms/vault%5c..%5cmaster/protocol/openid-connect/certs",
            "/realms/%252e%252e%252f/protocol/openid-connect/certs",
            "/resources/..%2f..%2fCargo.toml",
            "/resources/../../../../etc/passwd",
            "/realms//protocol/openid-connect/certs",
            "//realms/vault/protocol/openid-connect/certs",
        ] {
            for method in ["GET", "POST"] {
                let (status, text) = raw(&app, &request(method, path, &[("Content-Type", "application/x-www-form-urlencoded")], b"a=b")).await;
                assert_client_error(status, &format!("{method} {path}: {text}"));
                assert!(!text.contains("root:") && !text.contains("[package]"), "{path} leaked a file: {text}");
                assert!(!text.contains("\"keys\""), "{path} reached a realm: {text}");
            }
        }
        assert_intact(&app).await;
        app.stop().await;
    }

    async fn huge_or_many_headers_and_huge_bodies_get_a_4xx(backend: Backend) {
        let app = two_vaults(backend).await;
        let big = "h".repeat(1024 * 1024);
        let (status, _) = raw(&app, &request("GET", "/health/live", &[("X-Big", &big)], b"")).await;
        assert_eq!(status, 431, "a 1 MiB header");
        let bearer = format!("Bearer {big}");
        let (status, _) = raw(&app, &request("GET", &format!("{OIDC}/userinfo"), &[("Authorization", &bearer)], b"")).await;
        assert_eq!(status, 431, "a 1 MiB bearer token");
        let many: Vec<(String, String)> = (0..500).map(|i| (format!("X-H{i}"), "v".into())).collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, _) = raw(&app, &request("GET", "/health/live", &many, b"")).await;
        assert_eq!(status, 431, "500 headers");
        let cookie = format!("PORTCULLIS_SESSION={}", "c".repeat(60_000));
        let (status, _) = raw(&app, &request("GET", &format!("{OIDC}/auth?client_id=frontend&response_type=code&redirect_uri=https%3A%2F%2Ffrontend.example%2Fcb"),
            &[("Cookie", &cookie)], b"")).await;
        assert_eq!(status, 200, "a garbage session cookie just shows the login page");
        let (status, _) = raw(&app, &request("GET", "/realms/vault/.well-known/openid-configuration", &[("Host", "evil.example/<script>")], b"")).await;
        assert_client_error(status, "a bad Host");
        let body = vec![b'a'; 1024 * 1024];
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        for path in [
            format!("{OIDC}/auth"), "/realms/vault/login-actions/authenticate".to_string(),
            "/realms/vault/login-actions/consent".to_string(), "/realms/vault/account/sessions".to_string(),
            format!("{OIDC}/token"), format!("{OIDC}/logout"),
        ] {
            let (status, text) = raw(&app, &request("POST", &path, &form, &body)).await;
            assert_eq!(status, 413, "{path}: {}", &text[..text.len().min(300)]);
        }
        assert_intact(&app).await;
        app.stop().await;
    }
}
