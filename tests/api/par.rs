//! Pushed authorization requests (RFC 9126, issue 19 item 4) over HTTP, on both backends: a
//! confidential and a public client push, the browser logs in with the request_uri alone and the
//! code works; a request_uri is single use, expires after a minute (or the realm's
//! `parRequestUriLifespan`), belongs to its client, and a
//! pushed request is validated as the authorization endpoint would validate it.
//! `require.pushed.authorization.requests` refuses a plain authorization request.

use serde_json::{json, Value};

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::browser_flows::{browser_client, exchange, get, param, submit_login, web, REDIRECT, STATE};
use crate::helpers::TestApp;

const PAR: &str = "/realms/web/protocol/openid-connect/ext/par/request";
const APP_B_SECRET: &str = "app-b-secret-0123456789";
/// RFC 7636 Appendix B's challenge.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

async fn push(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let response = app.http.post(app.url(PAR)).form(form).send().await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap_or(Value::Null))
}

fn app_b_request<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("client_id", "app-b"), ("client_secret", APP_B_SECRET), ("response_type", "code"),
        ("redirect_uri", REDIRECT), ("scope", "openid"), ("state", STATE),
    ];
    form.extend_from_slice(extra);
    form
}

fn auth_with(app: &TestApp, client_id: &str, request_uri: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("client_id", client_id), ("request_uri", request_uri)])
        .finish();
    app.url(&format!("/realms/web/protocol/openid-connect/auth?{query}"))
}

backend_tests! {
    async fn a_pushed_request_logs_in_once_and_its_code_works(backend: Backend) {
        let app = web(backend).await;
        let (status, pushed) = push(&app, &app_b_request(&[])).await;
        assert_eq!(status, 201, "{pushed}");
        let uri = pushed["request_uri"].as_str().unwrap().to_string();
        assert!(uri.starts_with("urn:ietf:params:oauth:request_uri:"), "{uri}");
        assert_eq!(pushed["expires_in"], 60);
        assert!(!uri.contains(APP_B_SECRET));

        let jar = browser_client();
        let page = get(&jar, &auth_with(&app, "app-b", &uri)).await;
        assert_eq!(page.status, 200, "the login form: {}", page.html);
        let reply = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        let location = reply.location();
        assert!(location.starts_with(REDIRECT), "{location}");
        assert_eq!(param(&location, "state"), STATE, "the pushed state comes back");
        let (status, tokens) = exchange(&app, "app-b", &param(&location, "code"), &[]).await;
        assert_eq!(status, 200, "{tokens}");

        // §4: one use only, on every node (the store records it)
        let again = get(&browser_client(), &auth_with(&app, "app-b", &uri)).await;
        assert_eq!(again.status, 400, "{}", again.html);
        assert!(again.html.contains("PAR not found"), "{}", again.html);
        app.stop().await;
    }

    async fn a_public_client_pushes_with_pkce_and_the_request_uri_is_its_own(backend: Backend) {
        let app = web(backend).await;
        let (status, pushed) = push(&app, &[
            ("client_id", "app-a"), ("response_type", "code"), ("redirect_uri", REDIRECT), ("scope", "openid"),
            ("code_challenge", CHALLENGE), ("code_challenge_method", "S256"),
        ]).await;
        assert_eq!(status, 201, "{pushed}");
        let uri = pushed["request_uri"].as_str().unwrap();
        // another client presenting it, or none
        let stolen = get(&browser_client(), &auth_with(&app, "app-b", uri)).await;
        assert_eq!(stolen.status, 400, "{}", stolen.html);
        let page = get(&browser_client(), &auth_with(&app, "app-a", uri)).await;
        assert_eq!(page.status, 200, "{}", page.html);

        // PKCE is still required of app-a (pkce.code.challenge.method S256)
        let (status, body) = push(&app, &[("client_id", "app-a"), ("response_type", "code"), ("redirect_uri", REDIRECT)]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
        app.stop().await;
    }

    async fn a_request_uri_expires_after_a_minute(backend: Backend) {
        let app = web(backend).await;
        let (_, pushed) = push(&app, &app_b_request(&[])).await;
        app.clock.advance(61);
        let page = get(&browser_client(), &auth_with(&app, "app-b", pushed["request_uri"].as_str().unwrap())).await;
        assert_eq!(page.status, 400, "{}", page.html);
        assert!(page.html.contains("PAR not found"), "{}", page.html);
        let forged = get(&browser_client(), &auth_with(&app, "app-b", "urn:ietf:params:oauth:request_uri:forged")).await;
        assert_eq!(forged.status, 400);

        // the realm's parRequestUriLifespan, as Keycloak reads it
        let admin = Admin::login(&app).await;
        let reply = admin.put("/admin/realms/web", json!({"attributes": {"parRequestUriLifespan": "120"}})).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        let (_, pushed) = push(&app, &app_b_request(&[])).await;
        assert_eq!(pushed["expires_in"], 120, "{pushed}");
        app.clock.advance(100);
        let page = get(&browser_client(), &auth_with(&app, "app-b", pushed["request_uri"].as_str().unwrap())).await;
        assert_eq!(page.status, 200, "still valid at 100 s: {}", page.html);
        app.stop().await;
    }

    async fn pushed_requests_are_validated_and_authenticated(backend: Backend) {
        let app = web(backend).await;
        let cases: Vec<(Vec<(&str, &str)>, u16, &str)> = vec![
            (app_b_request(&[("request_uri", "urn:x")]), 400, "invalid_request"),
            (vec![("client_id", "app-b"), ("client_secret", "wrong"), ("response_type", "code"), ("redirect_uri", REDIRECT)], 401, "invalid_client"),
            (app_b_request(&[]).into_iter().map(|(k, v)| if k == "redirect_uri" { (k, "https://evil.example/cb") } else { (k, v) }).collect(), 400, "invalid_request"),
            (app_b_request(&[]).into_iter().map(|(k, v)| if k == "response_type" { (k, "token") } else { (k, v) }).collect(), 400, "invalid_request"),
            (app_b_request(&[]).into_iter().map(|(k, v)| if k == "scope" { (k, "openid no-such-scope") } else { (k, v) }).collect(), 400, "invalid_scope"),
        ];
        for (form, status, error) in cases {
            let (got, body) = push(&app, &form).await;
            assert_eq!((got, body["error"].as_str()), (status, Some(error)), "{form:?}: {body}");
        }
        let big = "x".repeat(5000);
        let (status, body) = push(&app, &app_b_request(&[("login_hint", &big)])).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
        let (_, discovery) = app.get_json("/realms/web/.well-known/openid-configuration").await;
        assert_eq!(discovery["pushed_authorization_request_endpoint"], app.url(PAR));
        app.stop().await;
    }

    async fn a_client_that_requires_par_refuses_a_plain_authorization_request(backend: Backend) {
        let app = web(backend).await;
        let admin = Admin::login(&app).await;
        let id = admin.client_uuid("web", "app-b").await;
        let mut rep = admin.ok(&format!("/admin/realms/web/clients/{id}")).await;
        rep["attributes"]["require.pushed.authorization.requests"] = json!("true");
        assert_eq!(admin.put(&format!("/admin/realms/web/clients/{id}"), rep).await.status, 204);
        let plain = get(&browser_client(), &crate::browser_flows::auth_url(&app, "app-b", &[])).await;
        let location = plain.location();
        assert_eq!(param(&location, "error"), "invalid_request");
        assert_eq!(param(&location, "error_description"), "Pushed Authorization Request is only allowed.");
        let (_, pushed) = push(&app, &app_b_request(&[])).await;
        let page = get(&browser_client(), &auth_with(&app, "app-b", pushed["request_uri"].as_str().unwrap())).await;
        assert_eq!(page.status, 200, "{}", page.html);
        app.stop().await;
    }
}
