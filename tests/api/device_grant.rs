//! The device authorization grant (RFC 8628, issue 19 item 2) over HTTP on both backends: the
//! device authorization endpoint, the device page at `/realms/{realm}/device` (typed code,
//! `verification_uri_complete`, login, the confirmation every device gets, approve and deny),
//! polling with `authorization_pending`, `slow_down`, `expired_token` and `access_denied`, a
//! device code redeemed once, Keycloak's client attributes and errors, and the per-address limit
//! on wrong user codes.

use serde_json::{json, Value};

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::browser_flows::{browser_client, get, post, submit_form, submit_login, web, Reply};
use crate::helpers::TestApp;

const DEVICE: &str = "/realms/web/protocol/openid-connect/auth/device";
const TOKEN: &str = "/realms/web/protocol/openid-connect/token";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const APP_B_SECRET: &str = "app-b-secret-0123456789";

/// Sets Keycloak's device attributes on a client through the admin API.
pub(crate) async fn enable_device(app: &TestApp, client_id: &str, attributes: Value) {
    let admin = Admin::login(app).await;
    let id = admin.client_uuid("web", client_id).await;
    let path = format!("/admin/realms/web/clients/{id}");
    let mut rep = admin.ok(&path).await;
    let mut merged = json!({ "oauth2.device.authorization.grant.enabled": "true" });
    for (k, v) in attributes.as_object().unwrap() {
        merged[k] = v.clone();
    }
    for (k, v) in merged.as_object().unwrap() {
        rep["attributes"][k] = v.clone();
    }
    let reply = admin.put(&path, rep).await;
    assert_eq!(reply.status, 204, "{reply:?}");
}

async fn form_post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = app.http.post(app.url(path)).form(form).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn start(app: &TestApp, form: &[(&str, &str)]) -> Value {
    let (status, body) = form_post(app, DEVICE, form).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn poll(app: &TestApp, client: &[(&str, &str)], device_code: &str) -> (u16, Value) {
    let mut form = vec![("grant_type", GRANT), ("device_code", device_code)];
    form.extend_from_slice(client);
    form_post(app, TOKEN, &form).await
}

fn error(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_else(|| panic!("an error in {body}"))
}

/// Submits the device page's form with `code`.
async fn type_code(app: &TestApp, jar: &reqwest::Client, code: &str) -> Reply {
    let fields = vec![("device_user_code".to_string(), code.to_string())];
    post(jar, &app.url("/realms/web/device"), &fields, None).await
}

const APP_A: [(&str, &str); 1] = [("client_id", "app-a")];

backend_tests! {
    async fn a_device_is_approved_in_the_browser_and_redeems_its_code_once(backend: Backend) {
        let app = web(backend).await;
        enable_device(&app, "app-a", json!({})).await;
        let started = start(&app, &[("client_id", "app-a"), ("scope", "openid profile"), ("nonce", "n-dev")]).await;
        let issuer = app.url("/realms/web");
        assert_eq!(started["verification_uri"], format!("{issuer}/device"));
        assert_eq!(started["expires_in"], 600, "the realm's oauth2DeviceCodeLifespan default");
        assert_eq!(started["interval"], 5, "the realm's oauth2DevicePollingInterval default");
        let user_code = started["user_code"].as_str().unwrap();
        assert_eq!(user_code.len(), 9, "{user_code}");
        assert!(user_code.chars().all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c)), "{user_code}");
        assert_eq!(started["verification_uri_complete"], format!("{issuer}/device?user_code={user_code}"));
        let device_code = started["device_code"].as_str().unwrap();

        let (status, body) = poll(&app, &APP_A, device_code).await;
        assert_eq!((status, error(&body)), (400, "authorization_pending"), "{body}");
        let (status, body) = poll(&app, &APP_A, device_code).await;
        assert_eq!((status, error(&body)), (400, "slow_down"), "polled within the interval: {body}");
        app.clock.advance(5);
        let (_, body) = poll(&app, &APP_A, device_code).await;
        assert_eq!(error(&body), "authorization_pending", "{body}");

        // the user opens verification_uri_complete, signs in and confirms
        let jar = browser_client();
        let login = get(&jar, started["verification_uri_complete"].as_str().unwrap()).await;
        assert_eq!(login.status, 200, "{}", login.html);
        let confirm = submit_login(&app, &jar, &login, "dora", "dora-password-1", &[]).await;
        assert_eq!(confirm.status, 200, "every device is confirmed: {}", confirm.html);
        assert!(confirm.html.contains("Grant access to"), "{}", confirm.html);
        let done = submit_form(&app, &jar, &confirm, &[("decision", "accept")]).await;
        assert_eq!(done.status, 200, "{}", done.html);
        assert!(done.html.contains("Device Login Successful"), "{}", done.html);

        app.clock.advance(5);
        let (status, tokens) = poll(&app, &APP_A, device_code).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["token_type"], "Bearer");
        assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string(), "{tokens}");
        let claims = crate::browser_flows::claims(tokens["id_token"].as_str().unwrap());
        assert_eq!(claims["nonce"], "n-dev");
        assert_eq!(claims["azp"], "app-a");
        let (status, refreshed) = crate::browser_flows::refresh(&app, "app-a", tokens["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 200, "the refresh token works: {refreshed}");

        // redeemed once: the row is gone
        app.clock.advance(5);
        let (status, body) = poll(&app, &APP_A, device_code).await;
        assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
        assert_eq!(body["error_description"], "Device code not valid");
        // and its user code no longer starts a login
        let again = get(&browser_client(), started["verification_uri_complete"].as_str().unwrap()).await;
        assert!(again.html.contains("Invalid code, please try again."), "{}", again.html);
        app.stop().await;
    }

    async fn a_signed_in_user_confirms_or_denies_and_an_expired_code_is_told_so(backend: Backend) {
        let app = web(backend).await;
        enable_device(&app, "app-b", json!({ "oauth2.device.polling.interval": "2", "oauth2.device.code.lifespan": "120" })).await;
        let app_b = [("client_id", "app-b"), ("client_secret", APP_B_SECRET)];
        let started = start(&app, &app_b).await;
        assert_eq!((started["interval"].as_i64(), started["expires_in"].as_i64()), (Some(2), Some(120)), "the client's attributes");

        // dora is already signed in: typing the code (any case, no dash) goes straight to the question
        let jar = browser_client();
        let page = crate::browser_flows::start_login(&app, &jar, "app-b", &[]).await;
        let signed_in = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        assert_eq!(signed_in.status, 302, "{}", signed_in.html);
        let form = get(&jar, &app.url("/realms/web/device")).await;
        assert!(form.html.contains("name=\"device_user_code\""), "{}", form.html);
        let typed = started["user_code"].as_str().unwrap().replace('-', " ").to_lowercase();
        let confirm = type_code(&app, &jar, &typed).await;
        assert_eq!(confirm.status, 200, "{}", confirm.html);
        assert!(confirm.html.contains("Grant access to"), "no login form, the question: {}", confirm.html);
        let denied = submit_form(&app, &jar, &confirm, &[("decision", "deny")]).await;
        assert!(denied.html.contains("Consent denied for connecting the device."), "{}", denied.html);
        let (status, body) = poll(&app, &app_b, started["device_code"].as_str().unwrap()).await;
        assert_eq!((status, error(&body)), (400, "access_denied"), "{body}");

        // a second device waits past its lifespan
        let late = start(&app, &app_b).await;
        app.clock.advance(121);
        let (_, body) = poll(&app, &app_b, late["device_code"].as_str().unwrap()).await;
        assert_eq!(error(&body), "expired_token", "{body}");
        let page = get(&jar, late["verification_uri_complete"].as_str().unwrap()).await;
        assert!(page.html.contains("The code has expired."), "{}", page.html);
        app.stop().await;
    }

    async fn clients_need_the_attribute_and_a_device_code_is_its_clients_alone(backend: Backend) {
        let app = web(backend).await;
        let app_b = [("client_id", "app-b"), ("client_secret", APP_B_SECRET)];
        let (status, body) = form_post(&app, DEVICE, &app_b).await;
        assert_eq!((status, error(&body)), (400, "unauthorized_client"), "{body}");
        assert_eq!(body["error_description"], "Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client.");
        let (status, body) = form_post(&app, DEVICE, &[("client_id", "app-b"), ("client_secret", "wrong")]).await;
        assert_eq!((status, error(&body)), (401, "invalid_client"), "{body}");
        let (status, body) = poll(&app, &app_b, "anything").await;
        assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
        assert_eq!(body["error_description"], "Client not allowed OAuth 2.0 Device Authorization Grant");

        enable_device(&app, "app-a", json!({})).await;
        enable_device(&app, "app-b", json!({})).await;
        let (status, body) = form_post(&app, DEVICE, &[("client_id", "app-a"), ("scope", "openid no-such-scope")]).await;
        assert_eq!((status, error(&body)), (400, "invalid_scope"), "{body}");
        let (status, body) = form_post(&app, DEVICE, &[("client_id", "app-a"), ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")]).await;
        assert_eq!((status, error(&body)), (400, "invalid_request"), "PKCE is refused loudly, not ignored: {body}");
        let (status, body) = form_post(&app, "/realms/nope/protocol/openid-connect/auth/device", &APP_A).await;
        assert_eq!(status, 404, "{body}");

        let started = start(&app, &APP_A).await;
        let (status, body) = poll(&app, &app_b, started["device_code"].as_str().unwrap()).await;
        assert_eq!((status, error(&body)), (400, "invalid_grant"), "another client's device code: {body}");
        let (status, body) = poll(&app, &APP_A, &"x".repeat(600)).await;
        assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
        let (status, body) = form_post(&app, TOKEN, &[("grant_type", GRANT), ("client_id", "app-a")]).await;
        assert_eq!((status, body["error_description"].as_str()), (400, Some("Missing parameter: device_code")), "{body}");

        let discovery = app.get_json("/realms/web/.well-known/openid-configuration").await.1;
        assert_eq!(discovery["device_authorization_endpoint"], app.url(DEVICE));
        assert!(discovery["grant_types_supported"].as_array().unwrap().contains(&json!(GRANT)), "{discovery}");
        let info = Admin::login(&app).await.ok("/admin/serverinfo").await;
        for name in ["DEVICE_FLOW", "DPOP", "TOKEN_EXCHANGE_STANDARD_V2"] {
            let feature = info["features"].as_array().unwrap().iter().find(|f| f["name"] == name).cloned();
            assert_eq!(feature.map(|f| f["enabled"].clone()), Some(json!(true)), "serverinfo names {name} enabled");
        }
        app.stop().await;
    }

    async fn wrong_user_codes_are_limited_per_address_and_leave_live_grants_alone(backend: Backend) {
        let app = web(backend).await;
        enable_device(&app, "app-a", json!({})).await;
        let started = start(&app, &APP_A).await;
        let jar = browser_client();
        for (i, typed) in ["BCDF-GHJK", "bcdfghjk", "not a code", "AEIO-UAEI", "", "ZZZZ-ZZZZ", "XXXX-XXXX", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD"].iter().enumerate() {
            let page = type_code(&app, &jar, typed).await;
            assert_eq!(page.status, 200, "wrong code {i}: {}", page.html);
            assert!(page.html.contains("Invalid code, please try again."), "{}", page.html);
        }
        // the default rate-limit-device-code-per-ip is 0.1,10: the eleventh wrong code waits
        let refused = type_code(&app, &jar, started["user_code"].as_str().unwrap()).await;
        assert_eq!(refused.status, 429, "{}", refused.html);
        assert!(refused.headers.get("retry-after").is_some());
        app.clock.advance(10);
        let page = type_code(&app, &jar, started["user_code"].as_str().unwrap()).await;
        assert_eq!(page.status, 200, "{}", page.html);
        assert!(page.html.contains("name=\"password\""), "the right code leads to the login form: {}", page.html);
        let (_, body) = poll(&app, &APP_A, started["device_code"].as_str().unwrap()).await;
        assert_eq!(error(&body), "authorization_pending", "{body}");
        app.stop().await;
    }

    async fn polling_at_the_interval_never_trips_the_failure_limits(backend: Backend) {
        let app = crate::helpers::Spawn::new(backend)
            .import(crate::helpers::fixture("browser-realm.json"))
            .setting("rate-limit-token-per-ip", "0.001,3")
            .setting("rate-limit-token-per-client", "0.001,3")
            .start()
            .await;
        enable_device(&app, "app-a", json!({})).await;
        let started = start(&app, &APP_A).await;
        for i in 0..6 {
            let (status, body) = poll(&app, &APP_A, started["device_code"].as_str().unwrap()).await;
            assert_eq!((status, error(&body)), (400, "authorization_pending"), "poll {i}: {body}");
            app.clock.advance(5);
        }
        // failures do count: three unknown device codes empty the buckets
        for _ in 0..3 {
            let (status, _) = poll(&app, &APP_A, "no-such-device-code").await;
            assert_eq!(status, 400);
        }
        let (status, body) = poll(&app, &APP_A, started["device_code"].as_str().unwrap()).await;
        assert_eq!(status, 429, "{body}");
        app.stop().await;
    }
}
