//! Forgot password end to end in real headless Chromium with a real SMTP server on loopback: the
//! login page's "Forgot Password?" link, the reset form, the mail, its link, the confirm button,
//! the new password (under the realm's policy), the link back to the app, and a login with the
//! new password.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::browser_chromium::browser;
use crate::helpers::spawn_app;
use crate::mail_flows::realm_with;
use crate::mail_sink::{link, SmtpSink};

async fn wait_for(browser: &Client, id: &str) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id} never appeared: {e}"))
}

async fn wait_for_url(browser: &Client, prefix: &str) -> url::Url {
    let started = Instant::now();
    loop {
        let current = browser.current_url().await.unwrap();
        if current.as_str().starts_with(prefix) {
            return current;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "never reached {prefix}, at {current}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn type_into(browser: &Client, id: &str, text: &str) {
    wait_for(browser, id).await.send_keys(text).await.unwrap();
}

async fn click(browser: &Client, id: &str) {
    wait_for(browser, id).await.click().await.unwrap();
}

backend_tests! {
    async fn forgot_password_in_chromium_follows_the_mailed_link_to_a_new_password(backend: Backend) {
        let app = spawn_app(backend).await;
        let sink = SmtpSink::start().await;
        let admin = Admin::login(&app).await;
        let callback = format!("{}/cb", app.base);
        realm_with(&admin, sink.port, &callback).await;
        let auth = format!(
            "{}/realms/post/protocol/openid-connect/auth?client_id=app&response_type=code&scope=openid&state=st-1&redirect_uri={callback}",
            app.base
        );
        let (_driver, browser) = browser().await;

        browser.goto(&auth).await.unwrap();
        click(&browser, "forgot-password").await;
        type_into(&browser, "username", "alice").await;
        click(&browser, "kc-reset").await;
        let notice = wait_for(&browser, "message").await.text().await.unwrap();
        assert_eq!(notice, "You should receive an email shortly with further instructions.");

        let mail = sink.mail(0, Duration::from_secs(10)).await;
        browser.goto(&link(&mail)).await.unwrap();
        click(&browser, "kc-proceed").await;
        type_into(&browser, "password-new", "alice-from-chromium").await;
        type_into(&browser, "password-confirm", "alice-from-chromium").await;
        click(&browser, "kc-submit").await;
        let message = wait_for(&browser, "message").await.text().await.unwrap();
        assert_eq!(message, "Your account has been updated.");
        click(&browser, "back-to-application").await;
        wait_for_url(&browser, &callback).await;

        // the new password signs in
        browser.goto(&auth).await.unwrap();
        type_into(&browser, "username", "alice").await;
        type_into(&browser, "password", "alice-from-chromium").await;
        click(&browser, "kc-login").await;
        let landed = wait_for_url(&browser, &callback).await;
        assert!(landed.query_pairs().any(|(k, _)| k == "code"), "{landed}");
        browser.close().await.unwrap();
    }
}
