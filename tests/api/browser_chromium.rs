//! The browser flow end to end in real headless Chromium (Debian's chromium + chromium-driver,
//! driven over WebDriver by fantoccini): log in to app A with PKCE, SSO into app B without a
//! form, log out and see the form again, grant offline access through the consent page, then
//! revoke it on the account page and watch the offline token stop refreshing.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{fixture, Spawn, TestApp};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A chromedriver process, killed on drop.
pub(crate) struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) async fn browser() -> (Driver, Client) {
    let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("CHROMIUM IS REQUIRED: chromedriver not found; run ./scripts/test.sh, which installs chromium and chromium-driver");
    let port = free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver { child, port, _profile: profile };
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=420,900",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ]
        }
    });
    portcullis::app::install_crypto_provider();
    let started = Instant::now();
    let client = loop {
        let attempt = ClientBuilder::rustls()
            .expect("rustls connector")
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await;
        match attempt {
            Ok(client) => break client,
            Err(e) if started.elapsed() < Duration::from_secs(20) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot start a Chromium session: {e}"),
        }
    };
    (driver, client)
}

pub(crate) async fn wait_for_url(browser: &Client, prefix: &str) -> url::Url {
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

pub(crate) fn param(url: &url::Url, name: &str) -> String {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_else(|| panic!("{name} in {url}"))
}

fn auth_url(app: &TestApp, client: &str, callback: &str, scope: &str) -> String {
    format!(
        "{}/realms/web/protocol/openid-connect/auth?client_id={client}&response_type=code&scope={scope}&state=st-{client}\
         &redirect_uri={}/{callback}&code_challenge={CHALLENGE}&code_challenge_method=S256&nonce=n-{client}",
        app.base, app.base
    )
}

async fn exchange(app: &TestApp, client: &str, secret: Option<&str>, callback: &str, code: &str) -> Value {
    let redirect = format!("{}/{callback}", app.base);
    let mut form = vec![
        ("grant_type", "authorization_code"), ("client_id", client), ("code", code),
        ("redirect_uri", redirect.as_str()), ("code_verifier", VERIFIER),
    ];
    if let Some(secret) = secret {
        form.push(("client_secret", secret));
    }
    let response = app.http.post(app.url("/realms/web/protocol/openid-connect/token")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The element once the page that has it has loaded (a click's navigation is not awaited).
pub(crate) async fn wait_for(browser: &Client, id: &str) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id} never appeared: {e}"))
}

pub(crate) async fn fill_login(browser: &Client, username: &str, password: &str) {
    wait_for(browser, "username").await.send_keys(username).await.unwrap();
    browser.find(Locator::Id("password")).await.unwrap().send_keys(password).await.unwrap();
    browser.find(Locator::Id("kc-login")).await.unwrap().click().await.unwrap();
}

pub(crate) async fn screenshot(browser: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    if let Ok(png) = browser.screenshot().await {
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

async fn journey(app: &TestApp) {
    let (_driver, browser) = browser().await;

    // 1. app A: the login form, then a code
    browser.goto(&auth_url(app, "app-a", "cb-a", "openid")).await.unwrap();
    let title = browser.title().await.unwrap();
    assert!(title.contains("Web Test Realm"), "{title}");
    screenshot(&browser, "login").await;
    fill_login(&browser, "dora", "dora-password-1").await;
    let landed = wait_for_url(&browser, &format!("{}/cb-a", app.base)).await;
    assert_eq!(param(&landed, "state"), "st-app-a");
    assert_eq!(param(&landed, "iss"), format!("{}/realms/web", app.base));
    let tokens_a = exchange(app, "app-a", None, "cb-a", &param(&landed, "code")).await;
    let id_token = tokens_a["id_token"].as_str().unwrap().to_string();
    assert_eq!(payload(&id_token)["nonce"], "n-app-a");

    // 2. app B: single sign-on, no form
    browser.goto(&auth_url(app, "app-b", "cb-b", "openid")).await.unwrap();
    let landed = wait_for_url(&browser, &format!("{}/cb-b", app.base)).await;
    let tokens_b = exchange(app, "app-b", Some("app-b-secret-0123456789"), "cb-b", &param(&landed, "code")).await;
    assert_eq!(tokens_b["session_state"], tokens_a["session_state"], "one SSO session for both apps");

    // 3. logout, then the form again
    let logout = format!(
        "{}/realms/web/protocol/openid-connect/logout?id_token_hint={id_token}&post_logout_redirect_uri={}/bye&state=s-out",
        app.base, app.base
    );
    browser.goto(&logout).await.unwrap();
    let landed = wait_for_url(&browser, &format!("{}/bye", app.base)).await;
    assert_eq!(param(&landed, "state"), "s-out");
    browser.goto(&auth_url(app, "app-a", "cb-a", "openid")).await.unwrap();
    browser.find(Locator::Id("username")).await.expect("the form is back after logout");

    // 4. offline access through the consent page
    browser.goto(&auth_url(app, "app-a", "cb-a", "openid%20offline_access")).await.unwrap();
    fill_login(&browser, "dora", "dora-password-1").await;
    wait_for(&browser, "consent-form").await;
    screenshot(&browser, "consent").await;
    browser.find(Locator::Id("kc-login")).await.unwrap().click().await.unwrap();
    let landed = wait_for_url(&browser, &format!("{}/cb-a", app.base)).await;
    let offline = exchange(app, "app-a", None, "cb-a", &param(&landed, "code")).await;
    let offline_token = offline["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(payload(&offline_token)["typ"], "Offline");

    // 5. the account page revokes it
    browser.goto(&format!("{}/realms/web/account", app.base)).await.unwrap();
    let sessions = browser.find(Locator::Id("sessions")).await.expect("account page").text().await.unwrap();
    assert!(sessions.contains("this session"), "{sessions}");
    browser.find(Locator::Id("revoke-app-a")).await.expect("app A holds offline access").click().await.unwrap();
    let notice = wait_for(&browser, "notice").await.text().await.unwrap();
    assert!(notice.contains("revoked"), "{notice}");
    screenshot(&browser, "account").await;
    let refreshed = app
        .http
        .post(app.url("/realms/web/protocol/openid-connect/token"))
        .form(&[("grant_type", "refresh_token"), ("client_id", "app-a"), ("refresh_token", offline_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 400, "the revoked offline token no longer refreshes");
    browser.close().await.unwrap();
}

backend_tests! {
    async fn a_user_logs_in_signs_on_logs_out_and_revokes_offline_access_in_chromium(backend: Backend) {
        let app = Spawn::new(backend).import(fixture("browser-realm.json")).start().await;
        journey(&app).await;
        app.stop().await;
    }
}
