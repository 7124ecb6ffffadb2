//! Issue 17's pages in real headless Chromium: a visitor registers through the login page's
//! Register link and lands at the client with a code; then a user with a temporary password
//! signs in, accepts the terms and chooses a new password on the required-action pages, and
//! lands at the client too.

use fantoccini::Locator;
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
    async fn registration_terms_and_a_new_password_in_chromium(backend: Backend) {
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
        browser.close().await.unwrap();
        app.stop().await;
    }
}
