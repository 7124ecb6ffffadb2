//! Issue 18 items 1 and 2 over HTTP, on both backends: small HTTP receivers stand in for the
//! clients' back-channel logout URLs, and every way of ending a session must deliver each client
//! of that session a logout token whose signature verifies against the realm's JWKS and whose
//! claims are exactly OIDC Back-Channel Logout 1.0 §2.4's. A receiver that never answers must not
//! delay the logout, logout URLs must be http(s), and the RP-initiated logout page of a client
//! with `frontchannelLogout` loads its URL (with iss and sid) before it redirects.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::browser_flows::{self, browser_client, exchange, login, offline_tokens, param, web, REDIRECT};
use crate::helpers::TestApp;

/// What a receiver saw: the path's name, the content type and the form body or query.
#[derive(Debug)]
struct Received {
    name: String,
    content_type: String,
    body: String,
}

/// Receivers on port 0: `POST /bcl/{name}` records and answers 200, `POST /hang/{name}` never
/// answers, `GET /fcl/{name}` records its query (front-channel). Aborted on drop.
struct Receivers {
    base: String,
    seen: mpsc::UnboundedReceiver<Received>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receivers {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(State(tx): State<mpsc::UnboundedSender<Received>>, Path(name): Path<String>, headers: HeaderMap, body: String) -> &'static str {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let _ = tx.send(Received { name, content_type, body });
    ""
}

async fn record_get(State(tx): State<mpsc::UnboundedSender<Received>>, Path(name): Path<String>, RawQuery(query): RawQuery) -> &'static str {
    let _ = tx.send(Received { name, content_type: String::new(), body: query.unwrap_or_default() });
    "signed out"
}

async fn hang() -> &'static str {
    std::future::pending::<()>().await;
    ""
}

async fn receivers() -> Receivers {
    let (tx, seen) = mpsc::unbounded_channel();
    let router = Router::new()
        .route("/bcl/{name}", post(record))
        .route("/hang/{name}", post(hang))
        .route("/fcl/{name}", get(record_get))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Receivers { base, seen, task }
}

impl Receivers {
    /// The next delivery, within five seconds.
    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(5), self.seen.recv())
            .await
            .expect("a delivery within 5 s")
            .expect("receiver open")
    }

    /// The next `n` deliveries, by name.
    async fn next_n(&mut self, n: usize) -> Vec<Received> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.next().await);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Nothing more arrives within half a second.
    async fn quiet(&mut self) {
        if let Ok(Some(extra)) = tokio::time::timeout(Duration::from_millis(500), self.seen.recv()).await {
            panic!("unexpected delivery: {extra:?}");
        }
    }
}

/// Sets client attributes through the admin API (GET, change, PUT), as an admin would.
async fn set_client(admin: &Admin<'_>, client_id: &str, change: impl FnOnce(&mut Value)) {
    let id = admin.client_uuid("web", client_id).await;
    let mut rep = admin.ok(&format!("/admin/realms/web/clients/{id}")).await;
    change(&mut rep);
    let reply = admin.put(&format!("/admin/realms/web/clients/{id}"), rep).await;
    assert_eq!(reply.status, 204, "{reply:?}");
}

async fn set_backchannel(admin: &Admin<'_>, client_id: &str, url: &str) {
    set_client(admin, client_id, |rep| rep["attributes"]["backchannel.logout.url"] = json!(url)).await;
}

/// Verifies a logout token against the realm's JWKS and checks every §2.4 claim; the claims.
async fn verified(app: &TestApp, received: &Received, aud: &str, sub: &str, sid: Option<&str>) -> Value {
    assert_eq!(received.content_type, "application/x-www-form-urlencoded", "§2.5");
    let token = form_urlencoded::parse(received.body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no logout_token in {}", received.body));
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"), "§2.4 explicit typing");
    let jwks: JwkSet = app.http.get(app.url("/realms/web/protocol/openid-connect/certs")).send().await.unwrap().json().await.unwrap();
    let jwk = jwks.find(header.kid.as_deref().expect("kid")).expect("the kid is published");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[aud]);
    validation.set_issuer(&[app.url("/realms/web")]);
    validation.validate_exp = false; // the test clock is the server's; exp is checked below
    validation.set_required_spec_claims(&["iss", "aud", "exp", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("the logout token verifies against the JWKS")
        .claims;
    assert_eq!(claims["sub"], sub);
    assert_eq!(claims["aud"], aud);
    assert_eq!(claims["sid"].as_str(), sid, "{claims}");
    let now = app.clock_now();
    let iat = claims["iat"].as_i64().expect("iat");
    assert!((now - 5..=now).contains(&iat), "iat {iat} is now ({now})");
    assert_eq!(claims["exp"].as_i64(), Some(iat + 120), "two minutes, as Keycloak");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16), "{claims}");
    assert_eq!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"], json!({}), "{claims}");
    assert!(claims.get("nonce").is_none(), "§2.4: a logout token never has a nonce");
    claims
}

/// dora signed in to app-a in a browser; the tokens, the session id and the browser.
async fn signed_in(app: &TestApp) -> (reqwest::Client, Value, String) {
    let jar = browser_client();
    let location = login(app, &jar, "app-a", &[]).await;
    let (status, tokens) = exchange(app, "app-a", &param(&location, "code"), &[]).await;
    assert_eq!(status, 200, "{tokens}");
    let sid = tokens["session_state"].as_str().unwrap().to_string();
    (jar, tokens, sid)
}

/// The same browser signs in to app-b by SSO: one session, two clients.
async fn also_app_b(app: &TestApp, jar: &reqwest::Client) -> Value {
    let location = browser_flows::get(jar, &browser_flows::auth_url(app, "app-b", &[])).await.location();
    let (status, tokens) = exchange(app, "app-b", &param(&location, "code"), &[]).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

fn logout_url(app: &TestApp, pairs: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    app.url(&format!("/realms/web/protocol/openid-connect/logout?{query}"))
}

backend_tests! {
    async fn every_way_of_ending_a_session_sends_each_of_its_clients_a_verified_logout_token(backend: Backend) {
        let app = web(backend).await;
        let mut rx = receivers().await;
        let admin = Admin::login(&app).await;
        set_backchannel(&admin, "app-a", &format!("{}/bcl/a", rx.base)).await;
        set_backchannel(&admin, "app-b", &format!("{}/bcl/b", rx.base)).await;
        let dora = admin.user_id("web", "dora").await;
        let mut jtis = HashSet::new();

        // 1. RP-initiated logout with the id_token_hint of the browser's session: both clients hear
        let (jar, tokens, sid) = signed_in(&app).await;
        also_app_b(&app, &jar).await;
        let reply = browser_flows::get(&jar, &logout_url(&app, &[("id_token_hint", tokens["id_token"].as_str().unwrap())])).await;
        assert_eq!(reply.status, 200, "{}", reply.html);
        let got = rx.next_n(2).await;
        assert_eq!((got[0].name.as_str(), got[1].name.as_str()), ("a", "b"));
        for (received, aud) in got.iter().zip(["app-a", "app-b"]) {
            let claims = verified(&app, received, aud, &dora, Some(&sid)).await;
            assert!(jtis.insert(claims["jti"].as_str().unwrap().to_string()), "jti is unique");
        }
        rx.quiet().await;

        // 2. refresh-token logout by app-b
        let (jar, _, sid) = signed_in(&app).await;
        let tokens_b = also_app_b(&app, &jar).await;
        let response = app.http.post(app.url("/realms/web/protocol/openid-connect/logout"))
            .form(&[("client_id", "app-b"), ("client_secret", "app-b-secret-0123456789"), ("refresh_token", tokens_b["refresh_token"].as_str().unwrap())])
            .send().await.unwrap();
        assert_eq!(response.status(), 204);
        for received in rx.next_n(2).await {
            let aud = if received.name == "a" { "app-a" } else { "app-b" };
            verified(&app, &received, aud, &dora, Some(&sid)).await;
        }

        // 3. an admin deletes the session
        let (_, _, sid) = signed_in(&app).await;
        assert_eq!(admin.delete(&format!("/admin/realms/web/sessions/{sid}")).await.status, 204);
        verified(&app, &rx.next().await, "app-a", &dora, Some(&sid)).await;

        // 4. an admin logs the user out
        let (_, _, sid) = signed_in(&app).await;
        assert_eq!(admin.post_empty(&format!("/admin/realms/web/users/{dora}/logout")).await.status, 204);
        verified(&app, &rx.next().await, "app-a", &dora, Some(&sid)).await;

        // 5. an admin resets the password (revokeSessionsOnPasswordChange is on by default)
        let (_, _, sid) = signed_in(&app).await;
        let reply = admin.put(&format!("/admin/realms/web/users/{dora}/reset-password"),
            json!({"type": "password", "value": "dora-password-1", "temporary": false})).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        verified(&app, &rx.next().await, "app-a", &dora, Some(&sid)).await;

        // 6. the account page signs the session out
        let (jar, _, sid) = signed_in(&app).await;
        let account = browser_flows::get(&jar, &app.url("/realms/web/account")).await;
        assert_eq!(account.status, 200, "{}", account.html);
        let csrf = account.hidden("csrf");
        let reply = browser_flows::post(&jar, &app.url("/realms/web/account/sign-out"), &[("csrf".into(), csrf)], None).await;
        assert_eq!(reply.status, 200, "{}", reply.html);
        assert!(reply.set_cookie("PORTCULLIS_SESSION_STATE").is_some_and(|c| c.contains("Max-Age=0")),
            "the session iframes' cookie goes with the session");
        verified(&app, &rx.next().await, "app-a", &dora, Some(&sid)).await;

        // 7. revoking the consent ends the offline session, whose token names the browser session
        let jar = browser_client();
        let offline = offline_tokens(&app, &jar).await;
        let offline_sid = offline["session_state"].as_str().unwrap().to_string();
        assert_eq!(admin.delete(&format!("/admin/realms/web/users/{dora}/consents/app-a")).await.status, 204);
        verified(&app, &rx.next().await, "app-a", &dora, Some(&offline_sid)).await;

        // 8. disabling the user ends every session, offline ones too
        let (_, _, sid) = signed_in(&app).await;
        let mut user = admin.ok(&format!("/admin/realms/web/users/{dora}")).await;
        user["enabled"] = json!(false);
        assert_eq!(admin.put(&format!("/admin/realms/web/users/{dora}"), user.clone()).await.status, 204);
        verified(&app, &rx.next().await, "app-a", &dora, Some(&sid)).await;
        user["enabled"] = json!(true);
        assert_eq!(admin.put(&format!("/admin/realms/web/users/{dora}"), user).await.status, 204);

        // 9. deleting the user
        let (_, _, sid) = signed_in(&app).await;
        assert_eq!(admin.delete(&format!("/admin/realms/web/users/{dora}")).await.status, 204);
        verified(&app, &rx.next().await, "app-a", &dora, Some(&sid)).await;
        rx.quiet().await;

        let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("portcullis_backchannel_logout_sent_total"), "{metrics}");
        app.stop().await;
    }

    async fn a_receiver_that_never_answers_delays_no_logout_and_no_other_client(backend: Backend) {
        let app = web(backend).await;
        let mut rx = receivers().await;
        let dead = receivers().await; // another host, which never answers
        let admin = Admin::login(&app).await;
        set_backchannel(&admin, "app-a", &format!("{}/hang/a", dead.base)).await;
        set_backchannel(&admin, "app-b", &format!("{}/bcl/b", rx.base)).await;
        let dora = admin.user_id("web", "dora").await;
        // more ended sessions than the dead host may hold deliveries for at once
        for _ in 0..portcullis::ops::logout_delivery::IN_FLIGHT_PER_ORIGIN + 3 {
            let (jar, _, sid) = signed_in(&app).await;
            also_app_b(&app, &jar).await;
            let started = Instant::now();
            assert_eq!(admin.delete(&format!("/admin/realms/web/sessions/{sid}")).await.status, 204);
            assert!(started.elapsed() < Duration::from_secs(1), "the logout waited {:?} for a client", started.elapsed());
            verified(&app, &rx.next().await, "app-b", &dora, Some(&sid)).await;
        }
        app.stop().await;
    }

    async fn logout_urls_must_be_http_urls_and_the_attributes_round_trip(backend: Backend) {
        let app = web(backend).await;
        let admin = Admin::login(&app).await;
        let id = admin.client_uuid("web", "app-b").await;
        let rep = admin.ok(&format!("/admin/realms/web/clients/{id}")).await;
        for (attribute, value) in [
            ("backchannel.logout.url", "javascript:alert(1)"),
            ("backchannel.logout.url", "file:///etc/passwd"),
            ("backchannel.logout.url", "/relative-without-root-url"),
            ("frontchannel.logout.url", "ftp://files.example/"),
        ] {
            let mut bad = rep.clone();
            bad["attributes"][attribute] = json!(value);
            let reply = admin.put(&format!("/admin/realms/web/clients/{id}"), bad).await;
            assert_eq!(reply.status, 400, "{attribute}={value}: {reply:?}");
            assert!(reply.body.to_string().contains(attribute), "{reply:?}");
        }
        let mut good = rep.clone();
        good["attributes"]["backchannel.logout.url"] = json!("https://app.example/bcl");
        good["attributes"]["backchannel.logout.session.required"] = json!("false");
        good["attributes"]["backchannel.logout.revoke.offline.tokens"] = json!("true");
        good["frontchannelLogout"] = json!(true);
        good["attributes"]["frontchannel.logout.url"] = json!("https://app.example/fcl");
        assert_eq!(admin.put(&format!("/admin/realms/web/clients/{id}"), good).await.status, 204);
        let back = admin.ok(&format!("/admin/realms/web/clients/{id}")).await;
        assert_eq!(back["attributes"]["backchannel.logout.url"], "https://app.example/bcl");
        assert_eq!(back["attributes"]["backchannel.logout.session.required"], "false");
        assert_eq!(back["attributes"]["backchannel.logout.revoke.offline.tokens"], "true");
        assert_eq!(back["attributes"]["frontchannel.logout.url"], "https://app.example/fcl");
        assert_eq!(back["frontchannelLogout"], true);
        let export = admin.post_empty("/admin/realms/web/partial-export?exportClients=true").await;
        assert_eq!(export.status, 200, "{export:?}");
        let exported = export.body["clients"].as_array().unwrap().iter().find(|c| c["clientId"] == "app-b").unwrap().clone();
        assert_eq!(exported["attributes"]["backchannel.logout.url"], "https://app.example/bcl");
        let (_, discovery) = app.get_json("/realms/web/.well-known/openid-configuration").await;
        for field in ["backchannel_logout_supported", "backchannel_logout_session_supported", "frontchannel_logout_supported", "frontchannel_logout_session_supported"] {
            assert_eq!(discovery[field], true, "{field}");
        }
        app.stop().await;
    }

    async fn without_session_required_the_token_has_no_sid_and_revoke_offline_ends_offline_sessions(backend: Backend) {
        let app = web(backend).await;
        let mut rx = receivers().await;
        let admin = Admin::login(&app).await;
        let url = format!("{}/bcl/a", rx.base);
        set_client(&admin, "app-a", |rep| {
            rep["attributes"]["backchannel.logout.url"] = json!(url);
            rep["attributes"]["backchannel.logout.session.required"] = json!("false");
            rep["attributes"]["backchannel.logout.revoke.offline.tokens"] = json!("true");
        }).await;
        let dora = admin.user_id("web", "dora").await;
        // an offline session of app-a, then an online one in another browser
        let offline = offline_tokens(&app, &browser_client()).await;
        let (_, _, sid) = signed_in(&app).await;
        assert_eq!(admin.post_empty(&format!("/admin/realms/web/users/{dora}/logout")).await.status, 204);
        // one token for the online session, one for the offline session it took along
        for received in rx.next_n(2).await {
            let claims = verified(&app, &received, "app-a", &dora, None).await;
            assert_eq!(claims["events"]["revoke_offline_access"], true, "{claims}");
        }
        let _ = sid;
        let (status, body) = browser_flows::refresh(&app, "app-a", offline["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 400, "the offline token died with the online logout: {body}");
        rx.quiet().await;
        app.stop().await;
    }

    async fn the_logout_page_of_a_front_channel_client_frames_its_url_with_iss_and_sid(backend: Backend) {
        let app = web(backend).await;
        let rx = receivers().await;
        let admin = Admin::login(&app).await;
        let url = format!("{}/fcl/a?app=1", rx.base);
        set_client(&admin, "app-a", |rep| {
            rep["frontchannelLogout"] = json!(true);
            rep["attributes"]["frontchannel.logout.url"] = json!(url);
        }).await;
        let (jar, tokens, sid) = signed_in(&app).await;
        let reply = browser_flows::get(&jar, &logout_url(&app, &[
            ("id_token_hint", tokens["id_token"].as_str().unwrap()),
            ("post_logout_redirect_uri", REDIRECT),
            ("state", "s-1"),
        ])).await;
        assert_eq!(reply.status, 200, "the page, not a redirect yet: {}", reply.html);
        let issuer = app.url("/realms/web");
        let expected = url::Url::parse_with_params(&format!("{}/fcl/a?app=1", rx.base), &[("iss", issuer.as_str()), ("sid", sid.as_str())]).unwrap();
        let escaped = expected.as_str().replace('&', "&amp;");
        assert!(reply.html.contains(&format!("data-frontchannel-src=\"{escaped}\"")), "{}", reply.html);
        assert!(reply.html.contains(&format!("data-redirect=\"{}?state=s-1\"", REDIRECT)), "{}", reply.html);
        let csp = reply.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains(&format!("frame-src {}", rx.base)) && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
        assert!(reply.set_cookie(browser_flows::SSO).is_some_and(|c| c.contains("Max-Age=0")), "signed out");
        app.stop().await;
    }
}

// Chromium loads the front-channel URL in its iframe, with iss and sid, then lands on the
// post-logout redirect.
backend_tests! {
    async fn chromium_loads_the_front_channel_logout_url_then_follows_the_redirect(backend: Backend) {
        use crate::browser_chromium::{browser, fill_login, wait_for_url};
        let app = web(backend).await;
        let mut rx = receivers().await;
        let admin = Admin::login(&app).await;
        let url = format!("{}/fcl/a", rx.base);
        set_client(&admin, "app-a", |rep| {
            rep["frontchannelLogout"] = json!(true);
            rep["attributes"]["frontchannel.logout.url"] = json!(url);
        })
        .await;
        let (_driver, chromium) = browser().await;
        let callback = format!("{}/fcl/cb", rx.base);
        chromium.goto(&browser_flows::auth_url(&app, "app-a", &[("redirect_uri", &callback)])).await.unwrap();
        fill_login(&chromium, "dora", "dora-password-1").await;
        let landed = wait_for_url(&chromium, &callback).await;
        assert_eq!(rx.next().await.name, "cb");
        let code = crate::browser_chromium::param(&landed, "code");
        let (status, tokens) = exchange(&app, "app-a", &code, &[("redirect_uri", &callback)]).await;
        assert_eq!(status, 200, "{tokens}");
        let sid = tokens["session_state"].as_str().unwrap().to_string();
        let bye = format!("{}/fcl/bye", rx.base);
        set_client(&admin, "app-a", |rep| {
            rep["attributes"]["post.logout.redirect.uris"] = json!(format!("+##{bye}"));
        })
        .await;
        chromium
            .goto(&logout_url(&app, &[("id_token_hint", tokens["id_token"].as_str().unwrap()), ("post_logout_redirect_uri", &bye)]))
            .await
            .unwrap();
        let frame = rx.next().await;
        assert_eq!(frame.name, "a");
        let query: Vec<(String, String)> = form_urlencoded::parse(frame.body.as_bytes()).into_owned().collect();
        assert!(query.contains(&("iss".into(), app.url("/realms/web"))), "{query:?}");
        assert!(query.contains(&("sid".into(), sid)), "{query:?}");
        wait_for_url(&chromium, &bye).await;
        assert_eq!(rx.next().await.name, "bye");
        chromium.close().await.unwrap();
        app.stop().await;
    }
}

trait ClockNow {
    fn clock_now(&self) -> i64;
}

impl ClockNow for TestApp {
    fn clock_now(&self) -> i64 {
        use portcullis::clock::Clock;
        self.clock.now()
    }
}
