//! Issue 17's pages in real headless Chromium: a visitor registers through the login page's
//! Register link and lands at the client with a code; then a user with a temporary password
//! signs in, accepts the terms and chooses a new password on the required-action pages, and
//! lands at the client too; last, a user enrols an authenticator on CONFIGURE_TOTP from the
//! page's key and signs in again with a one-time code.

use fantoccini::Locator;
use portcullis::users::otp::{totp, OtpAlgorithm};
use serde_json::json;

use crate::admin_support::{token_request, Admin};
use crate::backend_tests;
use crate::browser_chromium::{browser, fill_login, param, screenshot, wait_for, wait_for_url};
use crate::helpers::{spawn_app, TestApp};

async fn type_into(browser: &fantoccini::Client, id: &str, text: &str) {
    let field = wait_for(browser, id).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn code_exchanges(app: &TestApp, landed: &url::Url, username: &str) {
    let redirect = format!("{}/cb", app.base);
    let code = param(landed, "code");
    let (status, tokens) = token_request(app, "pages", &[("grant_type", "authorization_code"), ("client_id", "web"),
        ("code", code.as_str()), ("redirect_uri", redirect.as_str())]).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = crate::browser_flows::claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["preferred_username"], username);
}

backend_tests! {
    async fn registration_terms_a_new_password_and_otp_enrolment_in_chromium(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        let realm = json!({
            "realm": "pages", "enabled": true, "registrationAllowed": true,
            "clients": [{ "clientId": "web", "publicClient": true, "redirectUris": [format!("{}/cb", app.base)] }],
        });
        assert_eq!(admin.post("/admin/realms", realm).await.status, 201);
        let path = "/admin/realms/pages/authentication/required-actions/TERMS_AND_CONDITIONS";
        let mut terms = admin.ok(path).await;
        terms["enabled"] = json!(true);
        assert_eq!(admin.put(path, terms).await.status, 204);
        let tina = json!({ "username": "tina", "enabled": true, "email": "tina@example.com", "firstName": "Tina", "lastName": "T",
            "requiredActions": ["TERMS_AND_CONDITIONS"],
            "credentials": [{ "type": "password", "value": "tina-temporary", "temporary": true }] });
        assert_eq!(admin.post("/admin/realms/pages/users", tina).await.status, 201);
        let otis = json!({ "username": "otis", "enabled": true, "email": "otis@example.com", "firstName": "Otis", "lastName": "O",
            "requiredActions": ["CONFIGURE_TOTP"], "credentials": [{ "type": "password", "value": "otis-password" }] });
        assert_eq!(admin.post("/admin/realms/pages/users", otis).await.status, 201);
        let auth = |prompt: &str| format!("{}/realms/pages/protocol/openid-connect/auth?client_id=web&response_type=code&scope=openid\
            &redirect_uri={}/cb&state=s1{prompt}", app.base, app.base);

        let (_driver, browser) = browser().await;
        browser.goto(&auth("")).await.unwrap();
        wait_for(&browser, "register-link").await.click().await.unwrap();
        type_into(&browser, "username", "rosa").await;
        type_into(&browser, "email", "rosa@example.com").await;
        type_into(&browser, "firstName", "Rosa").await;
        type_into(&browser, "lastName", "Parks").await;
        type_into(&browser, "password", "rosa-password").await;
        type_into(&browser, "password-confirm", "rosa-password").await;
        screenshot(&browser, "registration").await;
        browser.find(Locator::Id("kc-register")).await.unwrap().click().await.unwrap();
        let landed = wait_for_url(&browser, &format!("{}/cb", app.base)).await;
        code_exchanges(&app, &landed, "rosa").await;

        browser.goto(&auth("&prompt=login")).await.unwrap();
        fill_login(&browser, "tina", "tina-temporary").await;
        wait_for(&browser, "kc-terms-form").await;
        browser.find(Locator::Id("kc-accept")).await.unwrap().click().await.unwrap();
        type_into(&browser, "password-new", "tina-chosen-1").await;
        type_into(&browser, "password-confirm", "tina-chosen-1").await;
        screenshot(&browser, "update-password").await;
        browser.find(Locator::Id("kc-submit")).await.unwrap().click().await.unwrap();
        let landed = wait_for_url(&browser, &format!("{}/cb", app.base)).await;
        code_exchanges(&app, &landed, "tina").await;

        let now = portcullis::clock::Clock::now(&app.clock);
        app.clock.set(now - now.rem_euclid(30) + 1);
        browser.goto(&auth("&prompt=login")).await.unwrap();
        fill_login(&browser, "otis", "otis-password").await;
        let key = wait_for(&browser, "kc-totp-secret-key").await.text().await.unwrap().replace(' ', "");
        assert!(browser.find(Locator::Css("#kc-totp-secret-qr-code svg")).await.is_ok(), "the QR code is on the page");
        let secret = data_encoding::BASE32_NOPAD.decode(key.as_bytes()).unwrap();
        let code = |app: &TestApp| totp(&secret, portcullis::clock::Clock::now(&app.clock), 30, 6, OtpAlgorithm::Sha1);
        screenshot(&browser, "configure-totp").await;
        type_into(&browser, "totp", &code(&app)).await;
        type_into(&browser, "userLabel", "Otis phone").await;
        browser.find(Locator::Id("saveTOTPBtn")).await.unwrap().click().await.unwrap();
        let landed = wait_for_url(&browser, &format!("{}/cb", app.base)).await;
        code_exchanges(&app, &landed, "otis").await;
        app.clock.advance(30);
        browser.goto(&auth("&prompt=login")).await.unwrap();
        fill_login(&browser, "otis", "otis-password").await;
        type_into(&browser, "otp", &code(&app)).await;
        browser.find(Locator::Id("kc-login")).await.unwrap().click().await.unwrap();
        let landed = wait_for_url(&browser, &format!("{}/cb", app.base)).await;
        code_exchanges(&app, &landed, "otis").await;
        browser.close().await.unwrap();
        app.stop().await;
    }
}
