//! Issue 17's one-time codes in the browser login, over HTTP on both backends: a user imported
//! from a Keycloak export with a TOTP credential gives the code after the password (missing and
//! wrong codes get Keycloak's texts, a used code cannot sign in again, wrong codes lock the
//! account under brute-force detection), and CONFIGURE_TOTP enrols an authenticator from the
//! page's QR code or key, after which the new code is asked at the next login.

use portcullis::clock::Clock;
use portcullis::users::otp::{totp, OtpAlgorithm};
use serde_json::json;

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::browser_flows::{browser_client, claims, exchange_in, get, param, realm_auth_url, submit_form, submit_login, Reply};
use crate::helpers::{fixture, Backend, Spawn, TestApp};

/// tom's secret in tests/fixtures/keycloak-otp-realm.json (TOTP, SHA-1, 6 digits, 30 s).
const TOM_SECRET: &str = "hT4kN0vQzW2pLx8Rab3c";
const REDIRECT: &str = "http://127.0.0.1:9/cb";

/// The Keycloak export with OTP users, a browser client `web`, the clock at the start of a step.
async fn migrated(backend: Backend) -> TestApp {
    let app = Spawn::new(backend).import(fixture("keycloak-otp-realm.json")).start().await;
    let now = app.clock.now();
    app.clock.set(now - now.rem_euclid(30) + 31);
    let admin = Admin::login(&app).await;
    let client = json!({ "clientId": "web", "publicClient": true, "redirectUris": [REDIRECT] });
    assert_eq!(admin.post("/admin/realms/migrated/clients", client).await.status, 201);
    app
}

fn code(secret: &[u8], app: &TestApp) -> String {
    totp(secret, app.clock.now(), 30, 6, OtpAlgorithm::Sha1)
}

fn wrong(right: &str) -> String {
    let first = if right.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &right[1..])
}

async fn password_step(app: &TestApp, http: &reqwest::Client, username: &str, password: &str) -> Reply {
    let page = get(http, &realm_auth_url(app, "migrated", "web", &[])).await;
    let reply = submit_login(app, http, &page, username, password, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.html);
    assert!(reply.html.contains("id=\"kc-otp-login-form\""), "the code comes next: {}", reply.html);
    assert!(reply.set_cookie("PORTCULLIS_SESSION").is_none(), "no session before the code");
    reply
}

async fn assert_signed_in(app: &TestApp, reply: &Reply, username: &str) {
    assert_eq!(reply.status, 302, "{}", reply.html);
    let (status, tokens) = exchange_in(app, "migrated", "web", REDIRECT, &param(&reply.location(), "code")).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(claims(tokens["access_token"].as_str().unwrap())["preferred_username"], username);
}

backend_tests! {
    async fn an_imported_totp_user_signs_in_with_the_code_once(backend: Backend) {
        let app = migrated(backend).await;
        let http = browser_client();
        let step = password_step(&app, &http, "tom", "tom-password-2026").await;
        let missing = submit_form(&app, &http, &step, &[("otp", "")]).await;
        assert!(missing.html.contains("Please specify authenticator code."), "{}", missing.html);
        let right = code(TOM_SECRET.as_bytes(), &app);
        let bad = submit_form(&app, &http, &missing, &[("otp", &wrong(&right))]).await;
        assert!(bad.html.contains("Invalid authenticator code."), "{}", bad.html);
        let done = submit_form(&app, &http, &bad, &[("otp", &right)]).await;
        assert_signed_in(&app, &done, "tom").await;

        // the same code again, in another browser within its window: refused
        let other = browser_client();
        let step = password_step(&app, &other, "tom", "tom-password-2026").await;
        let replay = submit_form(&app, &other, &step, &[("otp", &right)]).await;
        assert!(replay.html.contains("Invalid authenticator code."), "a used code: {}", replay.html);
        app.clock.advance(30);
        let next = submit_form(&app, &other, &replay, &[("otp", &code(TOM_SECRET.as_bytes(), &app))]).await;
        assert_signed_in(&app, &next, "tom").await;
        app.stop().await;
    }

    async fn wrong_codes_lock_the_account_like_wrong_passwords(backend: Backend) {
        let app = migrated(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.put("/admin/realms/migrated", json!({ "bruteForceProtected": true, "failureFactor": 2, "permanentLockout": false,
            "waitIncrementSeconds": 600, "maxFailureWaitSeconds": 900 })).await.status, 204);
        let http = browser_client();
        let step = password_step(&app, &http, "tom", "tom-password-2026").await;
        let right = code(TOM_SECRET.as_bytes(), &app);
        let first = submit_form(&app, &http, &step, &[("otp", &wrong(&right))]).await;
        let second = submit_form(&app, &http, &first, &[("otp", &wrong(&right))]).await;
        assert!(second.html.contains("Invalid authenticator code."), "{}", second.html);
        let locked = submit_form(&app, &http, &second, &[("otp", &right)]).await;
        assert!(locked.html.contains("Invalid authenticator code."), "locked: even the right code is refused: {}", locked.html);
        let tom = admin.user_id("migrated", "tom").await;
        let status = admin.ok(&format!("/admin/realms/migrated/attack-detection/brute-force/users/{tom}")).await;
        assert_eq!(status["disabled"], true, "{status}");
        app.stop().await;
    }

    async fn configure_totp_enrols_an_authenticator_that_the_next_login_asks_for(backend: Backend) {
        let app = migrated(backend).await;
        let admin = Admin::login(&app).await;
        let body = json!({ "username": "nia", "enabled": true, "email": "nia@example.com", "firstName": "Nia", "lastName": "K",
            "requiredActions": ["CONFIGURE_TOTP"], "credentials": [{ "type": "password", "value": "nia-password" }] });
        assert_eq!(admin.post("/admin/realms/migrated/users", body).await.status, 201);
        let http = browser_client();
        let page = get(&http, &realm_auth_url(&app, "migrated", "web", &[])).await;
        let setup = submit_login(&app, &http, &page, "nia", "nia-password", &[]).await;
        assert_eq!(setup.status, 200, "{}", setup.html);
        assert!(setup.html.contains("id=\"kc-totp-settings-form\"") && setup.html.contains("<svg"), "a QR code: {}", setup.html);
        let key = crate::browser_flows::between(&setup.html, "id=\"kc-totp-secret-key\">", "<").unwrap().replace(' ', "");
        let secret = data_encoding::BASE32_NOPAD.decode(key.as_bytes()).expect("the manual key is base32");
        assert_eq!(secret.len(), 20, "Keycloak's 20-character secret");
        let missing = submit_form(&app, &http, &setup, &[("totp", "")]).await;
        assert!(missing.html.contains("Please specify authenticator code."), "{}", missing.html);
        let right = code(&secret, &app);
        let bad = submit_form(&app, &http, &missing, &[("totp", &wrong(&right))]).await;
        assert!(bad.html.contains("Invalid authenticator code."), "{}", bad.html);
        let key_again = crate::browser_flows::between(&bad.html, "id=\"kc-totp-secret-key\">", "<").unwrap().replace(' ', "");
        assert_eq!(key_again, key, "the secret stays the same across attempts");
        let done = submit_form(&app, &http, &bad, &[("totp", &right), ("userLabel", "Nia's phone")]).await;
        assert_signed_in(&app, &done, "nia").await;

        let nia = admin.user_id("migrated", "nia").await;
        let user = admin.ok(&format!("/admin/realms/migrated/users/{nia}")).await;
        assert_eq!(user["requiredActions"], json!([]));
        let credentials = admin.ok(&format!("/admin/realms/migrated/users/{nia}/credentials")).await;
        let otp = credentials.as_array().unwrap().iter().find(|c| c["type"] == "otp").expect("an OTP credential");
        assert_eq!(otp["userLabel"], "Nia's phone");
        assert!(otp.get("secretData").is_none());

        app.clock.advance(30);
        let http = browser_client();
        let step = password_step(&app, &http, "nia", "nia-password").await;
        let next = submit_form(&app, &http, &step, &[("otp", &code(&secret, &app))]).await;
        assert_signed_in(&app, &next, "nia").await;
        app.stop().await;
    }
}
