//! examples/keycloak-js in real headless Chromium: the npm package keycloak-js, unchanged (pinned
//! in the example's package-lock.json; scripts/test.sh installs it) and with its default init
//! options (session iframe on), on a static page served from another origin than Portcullis.
//! check-sso finds no session and the page offers to sign in; the login page sends the browser
//! back with a code; keycloak-js fetches tokens cross-origin (CORS, PKCE S256), forces a refresh
//! through rotation and reads userinfo (a preflighted CORS request). A second tab signs in silently
//! (check-sso in a hidden iframe) and logs out, after which the session is gone and the first
//! tab's session iframe reports the change (onAuthLogout). A second test checks the CORS answers.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use fantoccini::{Client, Locator};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::backend_tests;
use crate::browser_chromium::browser;
use crate::helpers::{Spawn, TestApp};

const EXAMPLE_ORIGIN: &str = "http://127.0.0.1:8000";

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/keycloak-js")
}

/// The example's realm with the page's real origin in place of the documented :8000.
fn realm_file(origin: &str, dir: &tempfile::TempDir) -> PathBuf {
    let text =
        std::fs::read_to_string(example_dir().join("realm.json")).expect("examples/keycloak-js/realm.json");
    assert!(text.contains(EXAMPLE_ORIGIN), "realm.json registers {EXAMPLE_ORIGIN}");
    let path = dir.path().join("spa-realm.json");
    std::fs::write(&path, text.replace(EXAMPLE_ORIGIN, origin)).unwrap();
    path
}

/// Files of examples/keycloak-js (node_modules included), `/` being index.html.
async fn static_file(uri: Uri) -> Response {
    let path = match uri.path().trim_start_matches('/') {
        "" => "index.html",
        path => path,
    };
    if path.split('/').any(|segment| segment.is_empty() || segment.starts_with('.')) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let file = example_dir().join(path);
    let content_type = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves the page on `listener` under a strict CSP (no inline script, connections and frames
/// only to itself and Portcullis: keycloak-js frames our session iframe and 3p-cookies probe, and
/// the example's own silent-check-sso.html, which only the example may frame), with a config.json
/// pointing at the test's server. Aborted on drop.
struct PageServer(tokio::task::JoinHandle<()>);

impl Drop for PageServer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn serve_page(listener: std::net::TcpListener, portcullis: &str) -> PageServer {
    let config = serde_json::json!({ "url": portcullis, "realm": "spa", "clientId": "spa-app" }).to_string();
    let csp = format!(
        "default-src 'none'; script-src 'self'; connect-src 'self' {portcullis}; frame-src 'self' {portcullis}; \
         base-uri 'none'; frame-ancestors 'self'"
    );
    let router = axum::Router::new()
        .route(
            "/config.json",
            axum::routing::get(move || async move { ([(header::CONTENT_TYPE, "application/json")], config) }),
        )
        .fallback(static_file)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp).unwrap(),
        ));
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    PageServer(tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    }))
}

fn keycloak_js_installed() {
    let library = example_dir().join("node_modules/keycloak-js/lib/keycloak.js");
    assert!(
        library.exists(),
        "{} is missing: run ./scripts/test.sh, which installs the pinned keycloak-js \
         (or by hand: cd examples/keycloak-js && npm ci --ignore-scripts)",
        library.display()
    );
}

async fn screenshot(browser: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    if let Ok(png) = browser.screenshot().await {
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// Waits for the page's element `id`, failing early with the page's own error line.
async fn wait_for_step(browser: &Client, id: &str) -> String {
    let started = Instant::now();
    loop {
        if let Ok(element) = browser.find(Locator::Id(id)).await {
            return element.text().await.unwrap();
        }
        if let Ok(error) = browser.find(Locator::Id("error")).await {
            if error.is_displayed().await.unwrap_or(false) {
                screenshot(browser, "keycloak-js-error").await;
                panic!("the page reports: {}", error.text().await.unwrap());
            }
        }
        if started.elapsed() > Duration::from_secs(20) {
            screenshot(browser, "keycloak-js-timeout").await;
            let url = browser.current_url().await.unwrap();
            let source = browser.source().await.unwrap_or_default();
            panic!("#{id} never appeared; at {url}; frames: {}:\n{source}", frames(browser).await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn login_form(browser: &Client, app: &TestApp) {
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("username"))
        .await
        .expect("keycloak-js sent the browser to our login page");
    let url = browser.current_url().await.unwrap();
    assert!(url.as_str().starts_with(&format!("{}/realms/spa/", app.base)), "the login page is ours: {url}");
}

/// The page's own log of uncaught errors and console errors is not reachable over WebDriver, so a
/// failure shows the page's DOM, its iframes and a screenshot; this adds what the browser knows
/// about the frames keycloak-js created.
async fn frames(browser: &Client) -> String {
    let script =
        "return [...document.querySelectorAll('iframe')].map(f => f.title + ' ' + f.src).join('\\n')";
    browser.execute(script, vec![]).await.map(|v| v.to_string()).unwrap_or_default()
}

async fn sign_in(browser: &Client, app: &TestApp) {
    // check-sso without a browser session: no redirect, the page offers to sign in
    let anonymous = wait_for_step(browser, "step-anonymous").await;
    assert!(anonymous.contains("not signed in"), "{anonymous}; frames: {}", frames(browser).await);
    browser.find(Locator::Id("login")).await.unwrap().click().await.unwrap();
    login_form(browser, app).await;
    browser.find(Locator::Id("username")).await.unwrap().send_keys("dora").await.unwrap();
    browser.find(Locator::Id("password")).await.unwrap().send_keys("dora-password-1").await.unwrap();
    browser.find(Locator::Id("kc-login")).await.unwrap().click().await.unwrap();
}

/// Login, rotation, userinfo: the steps every signed-in page goes through. Returns the `sid`.
async fn signed_in(browser: &Client, page: &str) -> String {
    let login = wait_for_step(browser, "step-login").await;
    assert!(login.contains("signed in as dora with client spa-app"), "{login}");
    let refresh = wait_for_step(browser, "step-refresh").await;
    assert!(refresh.contains("rotated refresh token"), "{refresh}");
    let userinfo = wait_for_step(browser, "step-userinfo").await;
    assert!(userinfo.contains("dora <dora@example.com>"), "{userinfo}");
    wait_for_step(browser, "step-ready").await;
    let url = browser.current_url().await.unwrap();
    assert!(
        url.as_str().starts_with(page) && url.fragment().is_none(),
        "keycloak-js cleaned the callback: {url}"
    );
    browser.find(Locator::Id("sid")).await.unwrap().text().await.unwrap()
}

async fn journey(app: &TestApp, page: &str) {
    let (_driver, browser) = browser().await;
    browser.goto(page).await.unwrap();

    // tab A: anonymous, then the login page and back with a code
    sign_in(&browser, app).await;
    let sid = signed_in(&browser, page).await;
    screenshot(&browser, "keycloak-js-ready").await;
    let realm = app.store.realm_by_name("spa").await.unwrap().unwrap();
    assert!(app.store.user_session(&realm.id, &sid).await.unwrap().is_some(), "the SSO session {sid} exists");

    // a second forced refresh presents the rotated token: still the live one
    browser.find(Locator::Id("refresh")).await.unwrap().click().await.unwrap();
    wait_for_step(&browser, "step-refresh-again").await;
    let tab_a = browser.window().await.unwrap();

    // tab B: check-sso finds the browser session and signs in silently, with no login form
    let tab_b = browser.new_window(true).await.unwrap().handle;
    browser.switch_to_window(tab_b).await.unwrap();
    browser.goto(page).await.unwrap();
    let sid_b = signed_in(&browser, page).await;
    assert_eq!(sid_b, sid, "the second tab joined the same SSO session");

    // logout in tab B: through our logout endpoint back to the page, which finds no session
    browser.find(Locator::Id("logout")).await.unwrap().click().await.unwrap();
    let started = Instant::now();
    while browser.find(Locator::Id("step-anonymous")).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "logout never came back to an anonymous page");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(&browser, "keycloak-js-after-logout").await;
    assert!(app.store.user_session(&realm.id, &sid).await.unwrap().is_none(), "logout ended the session");

    // tab A learns it from its session iframe (keycloak-js polls every 5 s)
    browser.switch_to_window(tab_a).await.unwrap();
    let ended = wait_for_step(&browser, "step-auth-logout").await;
    assert!(ended.contains("onAuthLogout"), "{ended}");
    assert!(
        browser.find(Locator::Id("login")).await.unwrap().is_displayed().await.unwrap(),
        "sign in is offered again"
    );
    screenshot(&browser, "keycloak-js-tab-a-after-logout").await;
    browser.close().await.unwrap();
}

async fn spawn_with_page(
    backend: crate::helpers::Backend,
) -> (TestApp, std::net::TcpListener, String, tempfile::TempDir) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let app = Spawn::new(backend).import(realm_file(&origin, &dir)).start().await;
    (app, listener, origin, dir)
}

fn cors_headers(response: &reqwest::Response) -> (Option<String>, Option<String>) {
    let get =
        |name: header::HeaderName| response.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    (get(header::ACCESS_CONTROL_ALLOW_ORIGIN), get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS))
}

backend_tests! {
    async fn keycloak_js_with_default_options_signs_in_refreshes_and_sees_a_logout_in_another_tab_in_chromium(backend: Backend) {
        keycloak_js_installed();
        let (app, listener, origin, _dir) = spawn_with_page(backend).await;
        let _page = serve_page(listener, &app.base);
        journey(&app, &format!("{origin}/")).await;
        app.stop().await;
    }

    async fn oidc_endpoints_answer_cors_for_the_clients_web_origins_only(backend: Backend) {
        let (app, _listener, origin, _dir) = spawn_with_page(backend).await;
        let token_url = app.url("/realms/spa/protocol/openid-connect/token");
        let refresh = |from: &str| {
            app.http
                .post(&token_url)
                .header(header::ORIGIN, from)
                .form(&[("grant_type", "refresh_token"), ("client_id", "spa-app"), ("refresh_token", "not-a-token")])
                .send()
        };

        // the client's web origin ("+": its redirect URIs' origin) may read even an error
        let allowed = refresh(&origin).await.unwrap();
        assert_eq!(allowed.status(), 400);
        assert_eq!(cors_headers(&allowed), (Some(origin.clone()), Some("true".into())));
        assert!(allowed.headers().get_all(header::VARY).iter().any(|v| v == "Origin"));
        // another origin, the opaque origin and a client-less request get no CORS headers
        for foreign in ["http://127.0.0.1:1", "https://evil.example", "null"] {
            let response = refresh(foreign).await.unwrap();
            assert_eq!(response.status(), 400);
            assert_eq!(cors_headers(&response), (None, None), "{foreign}");
        }
        let no_origin = app.http.post(&token_url).form(&[("grant_type", "password")]).send().await.unwrap();
        assert_eq!(cors_headers(&no_origin), (None, None));

        // Basic authentication names the client too
        let basic = app
            .http
            .post(&token_url)
            .header(header::ORIGIN, &origin)
            .basic_auth("spa-app", Some("anything"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(cors_headers(&basic).0, Some(origin.clone()));

        // preflight of userinfo (keycloak-js sends Authorization): allowed origin only
        let preflight = |from: &str| {
            app.http
                .request(reqwest::Method::OPTIONS, app.url("/realms/spa/protocol/openid-connect/userinfo"))
                .header(header::ORIGIN, from)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
                .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
                .send()
        };
        let ok = preflight(&origin).await.unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(cors_headers(&ok).0, Some(origin.clone()));
        let allow_headers = ok.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap().to_string();
        assert!(allow_headers.contains("Authorization"), "{allow_headers}");
        assert!(ok.headers()[header::ACCESS_CONTROL_ALLOW_METHODS].to_str().unwrap().contains("GET"));
        let refused = preflight("https://evil.example").await.unwrap();
        assert_eq!(cors_headers(&refused), (None, None));

        // JWKS and discovery are public documents: every origin may read them
        for path in ["/realms/spa/protocol/openid-connect/certs", "/realms/spa/.well-known/openid-configuration"] {
            let response = app.http.get(app.url(path)).header(header::ORIGIN, "https://evil.example").send().await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(cors_headers(&response).0.as_deref(), Some("https://evil.example"), "{path}");
        }
        // and pages such as the login page get no CORS headers at all
        let auth = app
            .http
            .get(app.url("/realms/spa/protocol/openid-connect/auth?client_id=spa-app"))
            .header(header::ORIGIN, &origin)
            .send()
            .await
            .unwrap();
        assert_eq!(cors_headers(&auth), (None, None));
        app.stop().await;
    }
}
