//! Rate limits over HTTP (issue 7 item 4, issue 16 item 3): token buckets per client and per IP
//! on the token endpoint that count only failed requests, per IP on the login form, 429 with
//! `Retry-After`, refill driven by the test clock, `0` to disable, and trusted proxy addresses. The limiter keeps no state in the
//! database, so these run on SQLite only.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use crate::helpers::{fixture, Backend, Spawn, TestApp};

const SECRET: &str = "s3cr3t-client-value-0123456789";
const TOKEN: &str = "/realms/vault/protocol/openid-connect/token";
const LOGIN_FORM: &str = "/realms/vault/login-actions/authenticate";

/// The vault realm with every limit off except the ones given.
async fn vault_with(limits: &[(&str, &str)]) -> TestApp {
    let mut spawn = Spawn::new(Backend::Sqlite)
        .import(fixture("secrets-realm.json"))
        .setting("rate-limit-token-per-client", "0")
        .setting("rate-limit-token-per-ip", "0")
        .setting("rate-limit-login-per-ip", "0");
    for (key, value) in limits {
        spawn = spawn.setting(key, value);
    }
    spawn.start().await
}

struct Answer {
    status: u16,
    retry_after: Option<String>,
    content_type: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("request");
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    let retry_after = header("retry-after");
    let content_type = header("content-type").unwrap_or_default();
    Answer { status: response.status().as_u16(), retry_after, content_type, body: response.text().await.unwrap() }
}

/// A client_credentials grant as `backend` (client_secret_post).
async fn client_credentials(app: &TestApp) -> Answer {
    let form = [("grant_type", "client_credentials"), ("client_id", "backend"), ("client_secret", SECRET)];
    send(app.http.post(app.url(TOKEN)).form(&form)).await
}

fn assert_slow_down(answer: &Answer, wait: &str) {
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert_eq!(answer.retry_after.as_deref(), Some(wait));
    assert!(answer.content_type.starts_with("application/json"), "{}", answer.content_type);
    let body = answer.json();
    assert_eq!(body["error"], "slow_down", "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("retry after"), "{body}");
}

/// A client_credentials grant as `backend` with a wrong secret.
async fn bad_secret(app: &TestApp) -> Answer {
    let form = [("grant_type", "client_credentials"), ("client_id", "backend"), ("client_secret", "guess")];
    send(app.http.post(app.url(TOKEN)).form(&form)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_counts_each_clients_failures_and_refills_with_time() {
    let app = vault_with(&[("rate-limit-token-per-client", "1,3")]).await;

    let successes: Vec<u16> = futures::future::join_all((0..20).map(|_| client_credentials(&app))).await.iter().map(|a| a.status).collect();
    let failures: Vec<u16> = futures::future::join_all((0..3).map(|_| bad_secret(&app))).await.iter().map(|a| a.status).collect();
    let refused = client_credentials(&app).await;
    let basic = send(
        app.http
            .post(app.url(TOKEN))
            .header("authorization", format!("Basic {}", STANDARD.encode(format!("backend:{SECRET}"))))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    let other_client = send(app.http.post(app.url(TOKEN)).form(&[("grant_type", "password"), ("client_id", "frontend"),
        ("username", "carol"), ("password", "wrong")])).await;
    app.clock.advance(1);
    let after_a_second: Vec<u16> = futures::future::join_all((0..5).map(|_| client_credentials(&app))).await.iter().map(|a| a.status).collect();
    let one_more_failure = bad_secret(&app).await;
    let again = client_credentials(&app).await;

    assert_eq!(successes, [200; 20], "successes never use the bucket up");
    assert_eq!(failures, [401, 401, 401]);
    assert_slow_down(&refused, "1");
    assert_slow_down(&basic, "1");
    assert_eq!(other_client.status, 401, "another client has its own bucket: {}", other_client.body);
    assert_eq!(after_a_second, [200; 5], "one token refilled, and successes do not take it");
    assert_eq!(one_more_failure.status, 401);
    assert_slow_down(&again, "1");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_limits_each_ip_whatever_the_client_claims() {
    let app = vault_with(&[("rate-limit-token-per-ip", "0.5,2")]).await;
    let junk = |client: &str| {
        let form = [("grant_type", "client_credentials"), ("client_id", client)];
        send(app.http.post(app.url(TOKEN)).form(&form))
    };

    let first = junk("a").await;
    let second = junk("b").await;
    let third = junk("c").await;
    let unparsable = send(app.http.post(app.url(TOKEN)).header("content-type", "text/plain").body("\u{0}")).await;
    app.clock.advance(1);
    let half_refilled = junk("d").await;
    app.clock.advance(1);
    let refilled = client_credentials(&app).await;

    assert_eq!((first.status, second.status), (401, 401), "unknown clients are failures, whatever their name");
    assert_slow_down(&third, "2");
    assert_slow_down(&unparsable, "2");
    assert_slow_down(&half_refilled, "1");
    assert_eq!(refilled.status, 200, "{}", refilled.body);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_address_the_proxy_appended_counts() {
    let app = Spawn::new(Backend::Sqlite)
        .import(fixture("secrets-realm.json"))
        .setting("proxy-headers", "xforwarded")
        .setting("rate-limit-token-per-ip", "1,1")
        .start()
        .await;
    let from = |chain: &str| {
        let form = [("grant_type", "client_credentials"), ("client_id", "nobody")];
        send(app.http.post(app.url(TOKEN)).header("x-forwarded-for", chain).form(&form))
    };

    let alice = from("198.51.100.1").await;
    let bob = from("198.51.100.2").await;
    let alice_again = from("198.51.100.1").await;
    let alice_forging = from("10.9.9.9, 198.51.100.1").await;

    assert_eq!((alice.status, bob.status), (401, 401), "one bucket per client address");
    assert_slow_down(&alice_again, "1");
    assert_slow_down(&alice_forging, "1");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_limits_each_ip_with_a_readable_page() {
    let app = vault_with(&[("rate-limit-login-per-ip", "0.2,2")]).await;
    let post = || send(app.http.post(app.url(LOGIN_FORM)).form(&[("username", "carol"), ("password", "guess")]));

    let first = post().await;
    let second = post().await;
    let refused = post().await;
    let token_endpoint = client_credentials(&app).await;

    assert_eq!((first.status, second.status), (400, 400), "no pending login: the form's own answer");
    assert_eq!(refused.status, 429);
    assert_eq!(refused.retry_after.as_deref(), Some("5"));
    assert!(refused.content_type.starts_with("text/html"), "{}", refused.content_type);
    assert!(refused.body.contains("Too many login attempts"), "{}", refused.body);
    assert!(refused.body.contains("Wait 5 seconds"), "{}", refused.body);
    assert_eq!(token_endpoint.status, 200, "the token endpoint has its own limits");
    app.stop().await;
}

/// Fresh refresh tokens of `frontend` for carol, from `n` password grants.
async fn refresh_tokens(app: &TestApp, n: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for _ in 0..n {
        let form = [("grant_type", "password"), ("client_id", "frontend"), ("username", "carol"),
            ("password", crate::admin_support::CAROL_PASSWORD)];
        let answer = send(app.http.post(app.url(TOKEN)).form(&form)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        tokens.push(answer.json()["refresh_token"].as_str().unwrap().to_string());
    }
    tokens
}

/// Refreshes `token` `times` times in a row, each with the previous answer's refresh token;
/// returns every status.
async fn refresh_chain(app: &TestApp, mut token: String, times: usize) -> Vec<u16> {
    let mut statuses = Vec::with_capacity(times);
    for _ in 0..times {
        let form = [("grant_type", "refresh_token"), ("client_id", "frontend"), ("refresh_token", token.as_str())];
        let answer = send(app.http.post(app.url(TOKEN)).form(&form)).await;
        statuses.push(answer.status);
        if answer.status != 200 {
            break;
        }
        token = answer.json()["refresh_token"].as_str().unwrap().to_string();
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_defaults_valid_refreshes_from_one_address_are_never_throttled_and_a_flood_of_bad_secrets_is() {
    // The test clock stands still, so no bucket refills during the run: 2,000 refreshes are ten
    // times the default per-address burst (200), and every one must pass.
    let app = Spawn::new(Backend::Sqlite).import(fixture("secrets-realm.json")).start().await;
    let chains = refresh_tokens(&app, 8).await;
    let runs = futures::future::join_all(chains.into_iter().map(|token| refresh_chain(&app, token, 250))).await;
    let mut flood = Vec::new();
    for _ in 0..260 {
        flood.push(bad_secret(&app).await.status);
    }
    let valid_after_flood = client_credentials(&app).await;

    for run in &runs {
        assert_eq!(run.len(), 250, "a chain stopped: {:?}", run.last());
        assert!(run.iter().all(|s| *s == 200), "{run:?}");
    }
    assert!(flood[..200].iter().all(|s| *s == 401), "the default burst per address is 200 failures: {flood:?}");
    assert!(flood[200..].iter().all(|s| *s == 429), "then the flood is refused: {flood:?}");
    assert_eq!(valid_after_flood.status, 429, "the address is refused until its bucket refills");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_on_by_default_and_zero_turns_them_off() {
    let defaults = Spawn::new(Backend::Sqlite).import(fixture("secrets-realm.json")).start().await;
    let off = vault_with(&[]).await;
    let junk = |app: &TestApp| send(app.http.post(app.url(TOKEN)).form(&[("grant_type", "password"), ("client_id", "nobody")]));

    let mut default_statuses = Vec::new();
    for _ in 0..201 {
        default_statuses.push(junk(&defaults).await.status);
    }
    let mut off_statuses = Vec::new();
    for _ in 0..450 {
        off_statuses.push(junk(&off).await.status);
    }

    assert!(default_statuses[..200].iter().all(|s| *s == 401), "the default burst per IP is 200 failures");
    assert_eq!(default_statuses[200], 429);
    assert!(off_statuses.iter().all(|s| *s == 401), "rate 0 disables");
    defaults.stop().await;
    off.stop().await;
}
