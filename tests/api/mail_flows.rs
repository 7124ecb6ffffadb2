//! E-mail (issue 17) over HTTP with a real SMTP server on loopback (`mail_sink`), both backends:
//! testSMTPConnection, execute-actions-email and send-verify-email with Keycloak's checks, links
//! that work once and expire with the clock, forgot password, a dead mail server that never
//! delays the admin call, the SMTP password kept out of the database and error bodies; and the
//! used-action-token store contract.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::admin_support::{count, Admin};
use crate::backend_tests;
use crate::browser_flows::{browser_client, get, post, submit_form, submit_login, Reply};
use crate::helpers::spawn_app;
use crate::mail_sink::{closed_port, dead_server, link, part, subject, SmtpSink};
use crate::store_suite::fresh_store;

const WAIT: Duration = Duration::from_secs(10);

/// Everything the process logs from the first call on (a global subscriber writing to memory;
/// nextest runs each test in its own process, so this test sees its own server's lines).
fn captured_logs() -> &'static std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogWriter(sink.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buffer
    })
}

struct LogWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
const SMTP_PASSWORD: &str = "smtp-pass-Zq81xK";
const REDIRECT: &str = "http://localhost:3000/callback";

fn smtp(port: u16) -> Value {
    json!({ "host": "127.0.0.1", "port": port.to_string(), "from": "idp@example.org", "fromDisplayName": "The IdP",
            "auth": "true", "user": "mailer", "password": SMTP_PASSWORD })
}

/// Realm `post` (resets allowed) sending through `port`; users alice (alice@example.org,
/// unverified, VERIFY_EMAIL pending), nomail and sleepy (disabled); public client `app`.
async fn realm(admin: &Admin<'_>, port: u16) {
    realm_with(admin, port, REDIRECT).await
}

/// `realm` with the client `app` redirecting to `redirect`.
pub(crate) async fn realm_with(admin: &Admin<'_>, port: u16, redirect: &str) {
    let reply = admin
        .post(
            "/admin/realms",
            json!({
                "realm": "post", "enabled": true, "resetPasswordAllowed": true, "smtpServer": smtp(port),
                "clients": [{ "clientId": "app", "publicClient": true, "redirectUris": [format!("{redirect}*")] },
                            { "clientId": "off", "publicClient": true, "enabled": false, "redirectUris": ["*"] }],
                "users": [
                    { "username": "alice", "email": "alice@example.org", "enabled": true, "emailVerified": false,
                      "requiredActions": ["VERIFY_EMAIL"],
                      "credentials": [{ "type": "password", "value": "alice-password-1" }] },
                    { "username": "nomail", "enabled": true },
                    { "username": "sleepy", "email": "sleepy@example.org", "enabled": false }
                ]
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
}

/// A counter's value in a Prometheus text page, 0 when absent.
fn counter(metrics: &str, name: &str) -> u64 {
    metrics.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse::<f64>().ok()).map_or(0, |v| v as u64)
}

/// Follows a mailed link as a browser would: the confirmation page, then its button.
async fn follow(http: &reqwest::Client, url: &str) -> Reply {
    let page = get(http, url).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let (action, hidden) = page.form();
    post(http, &action, &hidden, None).await
}

async fn user(admin: &Admin<'_>, name: &str) -> Value {
    let id = admin.user_id("post", name).await;
    admin.ok(&format!("/admin/realms/post/users/{id}")).await
}

async fn give_admin_an_email(admin: &Admin<'_>) {
    let id = admin.user_id("master", "admin").await;
    let reply = admin.put(&format!("/admin/realms/master/users/{id}"), json!({ "email": "root@example.org" })).await;
    assert_eq!(reply.status, 204, "{reply:?}");
}

backend_tests! {
    async fn the_verify_email_login_page_mails_a_link_after_which_the_login_goes_on(backend: Backend) {
        let app = spawn_app(backend).await;
        let sink = SmtpSink::start().await;
        let admin = Admin::login(&app).await;
        realm(&admin, sink.port).await;
        let http = browser_client();
        let auth = app.url(&format!("/realms/post/protocol/openid-connect/auth?client_id=app&response_type=code&scope=openid&redirect_uri={REDIRECT}&state=s1"));
        let login = get(&http, &auth).await;
        let page = submit_login(&app, &http, &login, "alice", "alice-password-1", &[]).await;
        assert_eq!(page.status, 200, "{}", page.html);
        assert!(page.html.contains("id=\"kc-verify-email-form\"") && page.html.contains("has been sent to your address alice@example.org"), "{}", page.html);
        let mail = sink.mail(0, WAIT).await;
        assert_eq!(subject(&mail), "Verify email");
        let early = submit_form(&app, &http, &page, &[]).await;
        assert!(early.html.contains("not verified yet"), "{}", early.html);
        let verified = follow(&browser_client(), &link(&mail)).await;
        assert!(verified.html.contains("Your email address has been verified."), "{}", verified.html);
        let done = submit_form(&app, &http, &early, &[]).await;
        assert_eq!(done.status, 302, "{}", done.html);
        assert!(done.location().starts_with(REDIRECT) && done.location().contains("code="), "{}", done.location());
        assert_eq!(user(&admin, "alice").await["requiredActions"], json!([]));
        app.stop().await;
    }

    async fn the_smtp_password_never_reaches_a_log_line_even_at_trace_level(backend: Backend) {
        let logs = captured_logs();
        let app = spawn_app(backend).await;
        let sink = SmtpSink::start().await;
        let admin = Admin::login(&app).await;
        give_admin_an_email(&admin).await;
        realm(&admin, sink.port).await;
        // one delivery that authenticates, one refused test, one queued mail to a closed port
        assert_eq!(admin.post("/admin/realms/post/testSMTPConnection", smtp(sink.port)).await.status, 204);
        sink.mail(0, WAIT).await;
        assert_eq!(admin.post("/admin/realms/post/testSMTPConnection", smtp(closed_port().await)).await.status, 500);
        let mut dead = smtp(closed_port().await);
        dead["password"] = json!("**********");
        assert_eq!(admin.put("/admin/realms/post", json!({ "smtpServer": dead })).await.status, 204);
        let alice = admin.user_id("post", "alice").await;
        assert_eq!(admin.put(&format!("/admin/realms/post/users/{alice}/send-verify-email"), json!(null)).await.status, 204);
        let started = Instant::now();
        loop {
            let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
            if text.contains("mail not sent") && text.contains("verify_email") {
                assert!(!text.contains(SMTP_PASSWORD), "the SMTP password in the logs");
                assert!(!text.contains(&base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("\0mailer\0{SMTP_PASSWORD}"))));
                break;
            }
            assert!(started.elapsed() < WAIT, "the failed delivery was never logged: {text}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn test_smtp_connection_mails_the_admin_uses_the_stored_password_and_answers_keycloaks_errors(backend: Backend) {
        let app = spawn_app(backend).await;
        let sink = SmtpSink::start().await;
        let admin = Admin::login(&app).await;
        realm(&admin, sink.port).await;
        let path = "/admin/realms/post/testSMTPConnection";
        // the metrics recorder is one per process, shared with whatever runs beside this test
        // (`cargo test` runs the whole binary in one process), so counters are compared as deltas
        let before = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();

        let reply = admin.post(path, smtp(sink.port)).await;
        assert_eq!((reply.status, reply.error_message()), (500, "Logged in user does not have an e-mail."));

        give_admin_an_email(&admin).await;
        let mut masked = smtp(sink.port);
        masked["password"] = json!("**********");
        let reply = admin.post(path, masked).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        let mail = sink.mail(0, WAIT).await;
        assert_eq!((mail.from.as_str(), mail.to.as_slice()), ("idp@example.org", &["root@example.org".to_string()][..]));
        assert_eq!(subject(&mail), "[Portcullis] - SMTP test message");
        assert_eq!(part(&mail.data, "text/plain"), "This is a test message");
        assert_eq!(mail.auth.as_deref(), Some(format!("mailer\0{SMTP_PASSWORD}").as_str()), "the mask means the stored password");

        // nothing listening: Keycloak's 500, at once, and never the password in the answer
        let started = Instant::now();
        let reply = admin.post(path, smtp(closed_port().await)).await;
        assert_eq!((reply.status, reply.error_message()), (500, "Failed to send email"));
        assert!(started.elapsed() < Duration::from_secs(6), "bounded: {:?}", started.elapsed());
        assert!(!reply.body.to_string().contains(SMTP_PASSWORD));
        let reply = admin.post(path, json!({ "host": "127.0.0.1" })).await;
        assert_eq!((reply.status, reply.error_message()), (500, "Failed to send email"));

        // counted: one sent, one failed (a settings error is no delivery), under a closed set of labels
        let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        for name in ["portcullis_mail_sent_total{kind=\"test\"}", "portcullis_mail_failed_total{kind=\"test\"}"] {
            assert!(counter(&metrics, name) > counter(&before, name), "{name} counted: {metrics}");
        }
        assert!(!metrics.contains(SMTP_PASSWORD));

        // at rest the password is sealed: in no column of the realm's row
        let plain = count(&app, "SELECT COUNT(*) FROM realms WHERE settings LIKE '%' || $1 || '%'", SMTP_PASSWORD).await;
        assert_eq!(plain, 0);
    }

    async fn send_verify_email_mails_a_link_that_verifies_once_and_expires(backend: Backend) {
        let app = spawn_app(backend).await;
        let sink = SmtpSink::start().await;
        let admin = Admin::login(&app).await;
        realm(&admin, sink.port).await;
        let alice = admin.user_id("post", "alice").await;
        let at = format!("/admin/realms/post/users/{alice}/send-verify-email?client_id=app&redirect_uri={REDIRECT}");
        let reply = admin.put(&at, json!(null)).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        let mail = sink.mail(0, WAIT).await;
        assert_eq!((mail.to.as_slice(), subject(&mail).as_str()), (&["alice@example.org".to_string()][..], "Verify email"));
        assert!(mail.data.contains("From: \"The IdP\" <idp@example.org>") || mail.data.contains("From: The IdP <idp@example.org>"), "{}", mail.data);
        let text = part(&mail.data, "text/plain");
        assert!(text.contains("Someone has created a post account") && text.contains("This link will expire within 12 hours."), "{text}");
        let url = link(&mail);
        assert!(url.starts_with(&app.url("/realms/post/login-actions/action-token?key=")) && url.ends_with("&client_id=app"), "{url}");

        let http = browser_client();
        let done = follow(&http, &url).await;
        assert_eq!(done.status, 200, "{}", done.html);
        assert!(done.html.contains("Your email address has been verified."), "{}", done.html);
        assert!(done.html.contains(&format!("href=\"{REDIRECT}\"")), "back to the application: {}", done.html);
        let alice_now = user(&admin, "alice").await;
        assert_eq!(alice_now["emailVerified"], true);
        assert_eq!(alice_now["requiredActions"], json!([]));

        // a second use of the same link is refused
        let page = get(&http, &url).await;
        let (action, hidden) = page.form();
        let again = post(&http, &action, &hidden, None).await;
        assert_eq!(again.status, 400);
        assert!(again.html.contains("Action expired."), "{}", again.html);

        // an unused link stops working once its lifespan has passed
        let reply = admin.put(&format!("/admin/realms/post/users/{alice}/send-verify-email?lifespan=120"), json!(null)).await;
        assert_eq!(reply.status, 204);
        let second = link(&sink.mail(1, WAIT).await);
        assert!(!second.contains("client_id=app"), "the account client when none is given: {second}");
        app.clock.advance(121);
        let expired = get(&http, &second).await;
        assert_eq!(expired.status, 400);
        assert!(expired.html.contains("Action expired."), "{}", expired.html);

        // a forged key is no token
        let forged = get(&http, &app.url("/realms/post/login-actions/action-token?key=eyJhbGciOiJIUzI1NiJ9.e30.AAAA")).await;
        assert_eq!(forged.status, 400);
    }

    async fn execute_actions_email_checks_as_keycloak_and_mails_the_actions(backend: Backend) {
        let app = spawn_app(backend).await;
        let sink = SmtpSink::start().await;
        let admin = Admin::login(&app).await;
        realm(&admin, sink.port).await;
        let alice = admin.user_id("post", "alice").await;
        let base = format!("/admin/realms/post/users/{alice}/execute-actions-email");
        for (query, body, message) in [
            ("", json!(["NOT_AN_ACTION"]), "Provided invalid required actions"),
            (format!("?redirect_uri={REDIRECT}").as_str(), json!(["UPDATE_PASSWORD"]), "Client id missing"),
            ("?client_id=nope", json!(["UPDATE_PASSWORD"]), "Client doesn't exist"),
            ("?client_id=off", json!(["UPDATE_PASSWORD"]), "Client is not enabled"),
            ("?client_id=app&redirect_uri=https://evil.example/", json!(["UPDATE_PASSWORD"]), "Invalid redirect uri."),
        ] {
            let reply = admin.put(&format!("{base}{query}"), body).await;
            assert_eq!((reply.status, reply.error_message()), (400, message), "{query}");
        }
        for name in ["nomail", "sleepy"] {
            let id = admin.user_id("post", name).await;
            let reply = admin.put(&format!("/admin/realms/post/users/{id}/execute-actions-email"), json!(["UPDATE_PASSWORD"])).await;
            assert_eq!(reply.status, 400, "{name}");
        }
        assert_eq!(sink.count(), 0);

        let reply = admin.put(&format!("{base}?lifespan=600&client_id=app&redirect_uri={REDIRECT}"), json!(["UPDATE_PASSWORD", "VERIFY_EMAIL"])).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        let mail = sink.mail(0, WAIT).await;
        assert_eq!(subject(&mail), "Update Your Account");
        let text = part(&mail.data, "text/plain");
        assert!(text.contains("following action(s): Update Password, Verify Email.") && text.contains("within 10 minutes."), "{text}");
        let html = part(&mail.data, "text/html");
        assert!(html.contains("Link to account update"), "{html}");
        let http = browser_client();
        let page = get(&http, &link(&mail)).await;
        assert_eq!(page.status, 200);
        assert!(page.html.contains("Update Password"), "{}", page.html);
        let (action, hidden) = page.form();
        let update = post(&http, &action, &hidden, None).await;
        assert!(update.html.contains("kc-passwd-update-form"), "{}", update.html);
        assert_eq!(user(&admin, "alice").await["emailVerified"], true, "VERIFY_EMAIL is done by the link itself");
        let done = submit_form(&app, &http, &update, &[("password-new", "alice-admin-asked"), ("password-confirm", "alice-admin-asked")]).await;
        assert!(done.html.contains("Your account has been updated."), "{}", done.html);
        assert!(done.html.contains(&format!("href=\"{REDIRECT}\"")), "{}", done.html);
    }

    async fn a_dead_mail_server_never_delays_the_admin_call(backend: Backend) {
        let app = spawn_app(backend).await;
        let (port, _server) = dead_server().await;
        let admin = Admin::login(&app).await;
        realm(&admin, port).await;
        let alice = admin.user_id("post", "alice").await;
        for _ in 0..3 {
            let started = Instant::now();
            let reply = admin.put(&format!("/admin/realms/post/users/{alice}/execute-actions-email"), json!(["UPDATE_PASSWORD"])).await;
            assert_eq!(reply.status, 204, "{reply:?}");
            assert!(started.elapsed() < Duration::from_secs(1), "queued, not sent inline: {:?}", started.elapsed());
        }
    }

    async fn forgot_password_answers_the_same_for_everyone_and_mails_a_reset_link(backend: Backend) {
        let app = spawn_app(backend).await;
        let sink = SmtpSink::start().await;
        let admin = Admin::login(&app).await;
        realm(&admin, sink.port).await;
        let http = browser_client();
        let auth = app.url(&format!(
            "/realms/post/protocol/openid-connect/auth?response_type=code&client_id=app&redirect_uri={REDIRECT}&scope=openid&state=s1"
        ));
        let login = get(&http, &auth).await;
        let forgot = crate::browser_flows::between(&login.html, "id=\"forgot-password\" href=\"", "\"")
            .unwrap_or_else(|| panic!("no Forgot Password? link: {}", login.html))
            .replace("&amp;", "&");
        let form = get(&http, &forgot).await;
        assert_eq!(form.status, 200, "{}", form.html);
        assert!(form.html.contains("Back to Login"));

        let (action, hidden) = form.form();
        let submit = |name: &str| {
            let mut fields = hidden.clone();
            fields.push(("username".into(), name.into()));
            fields
        };
        for name in ["nobody-here", "nomail", "sleepy"] {
            let reply = post(&http, &action, &submit(name), None).await;
            assert_eq!(reply.status, 200, "{name}");
            assert!(reply.html.contains("You should receive an email shortly with further instructions."), "{name}");
        }
        let reply = post(&http, &action, &submit("alice@example.org"), None).await;
        assert!(reply.html.contains("You should receive an email shortly with further instructions."));
        let mail = sink.mail(0, WAIT).await;
        assert_eq!((subject(&mail).as_str(), mail.to.as_slice()), ("Reset password", &["alice@example.org".to_string()][..]));
        assert!(part(&mail.data, "text/plain").contains("within 5 minutes."), "the user lifespan");
        assert_eq!(sink.count(), 1, "no mail for unknown, address-less or disabled users");
        let url = link(&mail);
        assert!(url.contains("client_id=app"), "the login's client: {url}");
        let page = get(&http, &url).await;
        assert_eq!(page.status, 200, "{}", page.html);
        assert!(page.html.contains("Choose a new password"), "{}", page.html);
        let (action, hidden) = page.form();
        let update = post(&http, &action, &hidden, None).await;
        assert!(update.html.contains("kc-passwd-update-form"), "UPDATE_PASSWORD runs: {}", update.html);
        let done = submit_form(&app, &http, &update, &[("password-new", "alice-reset-2"), ("password-confirm", "alice-reset-2")]).await;
        assert!(done.html.contains("Your account has been updated."), "{}", done.html);
        assert!(done.html.contains(&format!("href=\"{REDIRECT}\"")), "back to the login's client: {}", done.html);
        assert_eq!(user(&admin, "alice").await["emailVerified"], true, "the mailed link proves the address");
        let again = post(&http, &action, &hidden, None).await;
        assert!(again.html.contains("Action expired."), "{}", again.html);
        // the new password signs in (and nothing else is pending)
        let fresh = browser_client();
        let login = get(&fresh, &auth).await;
        let signed_in = submit_login(&app, &fresh, &login, "alice", "alice-reset-2", &[]).await;
        assert_eq!(signed_in.status, 302, "{}", signed_in.html);
        assert!(signed_in.location().starts_with(REDIRECT));

        // the reset form is not there when the realm does not allow resets
        let reply = admin.put("/admin/realms/post", json!({ "resetPasswordAllowed": false })).await;
        assert_eq!(reply.status, 204);
        let login = get(&browser_client(), &auth).await;
        assert!(!login.html.contains("forgot-password"));
        assert_eq!(get(&http, &app.url("/realms/post/login-actions/reset-credentials")).await.status, 403);
    }

    async fn forgot_password_mails_an_address_a_bounded_number_of_times(backend: Backend) {
        let app = spawn_app(backend).await;
        let sink = SmtpSink::start().await;
        let admin = Admin::login(&app).await;
        realm(&admin, sink.port).await;
        let http = browser_client();
        let url = app.url("/realms/post/login-actions/reset-credentials");
        for _ in 0..6 {
            let reply = post(&http, &url, &[("username".into(), "alice".into())], None).await;
            assert!(reply.html.contains("You should receive an email shortly"), "{}", reply.html);
        }
        sink.mail(2, WAIT).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sink.count(), 3, "a burst of 3 per address");
    }

    async fn used_action_tokens_are_spent_once_and_cleaned_up_after_expiry(backend: Backend) {
        let (store, _dir) = fresh_store(backend).await;
        let b = portcullis::realm::defaults::new_realm_bundle("t", Default::default(), &portcullis::crypto::MasterKey::generate(), 100).unwrap();
        let realm_id = b.realm.as_ref().unwrap().id.clone();
        store.create_realms(&[b], false).await.unwrap();
        assert!(store.use_action_token(&realm_id, "aa", 1_000).await.unwrap());
        assert!(!store.use_action_token(&realm_id, "aa", 1_000).await.unwrap(), "a second use loses");
        assert!(store.use_action_token(&realm_id, "bb", 2_000).await.unwrap());
        assert_eq!(store.delete_expired_action_tokens(999, 100).await.unwrap(), 0);
        assert_eq!(store.delete_expired_action_tokens(1_500, 100).await.unwrap(), 1);
        assert!(!store.use_action_token(&realm_id, "bb", 2_000).await.unwrap(), "still recorded until its expiry");
        assert_eq!(store.delete_expired_action_tokens(2_000, 100).await.unwrap(), 1);
    }
}
