//! Issue 17's required actions in the browser login, over HTTP on both backends: a temporary
//! password leads to UPDATE_PASSWORD (the policy and Keycloak's texts apply), then to the client
//! with a code; TERMS_AND_CONDITIONS and UPDATE_PROFILE run in the realm's order and write what
//! Keycloak writes; declining the terms sends `access_denied` to the client; VERIFY_EMAIL waits
//! for a verified address; `forceExpiredPasswordChange` and `passwordHistory` apply; an action
//! Portcullis cannot run still stops the login with a page; the pages keep the login's CSRF rule.

use serde_json::{json, Value};

use crate::admin_support::{token_request, Admin};
use crate::backend_tests;
use crate::browser_flows::{browser_client, exchange_in, get, param, post, realm_auth_url, submit_form, submit_login, Reply};
use crate::helpers::{spawn_app, TestApp};

const REALM: &str = "acts";

/// Realm "acts": client web (browser, public, PKCE-less) and cli (direct grants), and the user
/// profile's default (email, first and last name required of users).
async fn realm(app: &TestApp, admin: &Admin<'_>, extra: Value) {
    let mut body = json!({
        "realm": REALM,
        "enabled": true,
        "clients": [
            { "clientId": "web", "publicClient": true, "redirectUris": ["http://127.0.0.1:9/cb"] },
            { "clientId": "cli", "publicClient": true, "directAccessGrantsEnabled": true },
        ],
    });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let reply = admin.post("/admin/realms", body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let _ = app;
}

/// Creates a user with a password (temporary or not) and the given required actions.
async fn user(admin: &Admin<'_>, username: &str, password: &str, temporary: bool, actions: Value, email: Option<&str>) -> String {
    let mut body = json!({
        "username": username, "enabled": true, "firstName": "Ada", "lastName": "Byron",
        "requiredActions": actions,
        "credentials": [{ "type": "password", "value": password, "temporary": temporary }],
    });
    if let Some(email) = email {
        body["email"] = json!(email);
    }
    let reply = admin.post(&format!("/admin/realms/{REALM}/users"), body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.created_id()
}

async fn grant(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    token_request(app, REALM, &[("grant_type", "password"), ("client_id", "cli"), ("username", username), ("password", password)]).await
}

/// Opens the login page of web in `acts` and posts the credentials.
async fn sign_in(app: &TestApp, http: &reqwest::Client, username: &str, password: &str) -> Reply {
    let page = get(http, &realm_auth_url(app, REALM, "web", &[])).await;
    submit_login(app, http, &page, username, password, &[]).await
}

fn assert_page(reply: &Reply, form_id: &str) {
    assert_eq!(reply.status, 200, "{}", reply.html);
    assert!(reply.html.contains(&format!("id=\"{form_id}\"")), "expected {form_id}: {}", reply.html);
}

/// The redirect carries a code that exchanges for tokens of `username`.
async fn assert_code(app: &TestApp, reply: &Reply, username: &str) {
    assert_eq!(reply.status, 302, "{}", reply.html);
    let code = param(&reply.location(), "code");
    let (status, tokens) = exchange_in(app, REALM, "web", "http://127.0.0.1:9/cb", &code).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = crate::browser_flows::claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["preferred_username"], username);
}

backend_tests! {
    async fn a_temporary_password_is_replaced_under_the_policy_then_the_login_goes_on(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        realm(&app, &admin, json!({ "passwordPolicy": "length(12) and passwordHistory(2)" })).await;
        let id = user(&admin, "tina", "temporary-pass-1", true, json!([]), Some("tina@example.com")).await;
        assert_eq!(grant(&app, "tina", "temporary-pass-1").await.1["error_description"], "Account is not fully set up");

        let http = browser_client();
        let page = sign_in(&app, &http, "tina", "temporary-pass-1").await;
        assert_page(&page, "kc-passwd-update-form");
        assert!(page.set_cookie("PORTCULLIS_SESSION").is_none(), "no session before the action is done");
        let mismatch = submit_form(&app, &http, &page, &[("password-new", "a-long-new-pass"), ("password-confirm", "another-one")]).await;
        assert!(mismatch.html.contains("Passwords don&#x27;t match.") || mismatch.html.contains("Passwords don't match."), "{}", mismatch.html);
        let short = submit_form(&app, &http, &mismatch, &[("password-new", "short"), ("password-confirm", "short")]).await;
        assert!(short.html.contains("Invalid password: minimum length 12."), "{}", short.html);
        let same = submit_form(&app, &http, &short, &[("password-new", "temporary-pass-1"), ("password-confirm", "temporary-pass-1")]).await;
        assert!(same.html.contains("must not be equal to any of last 2 passwords"), "passwordHistory: {}", same.html);
        let done = submit_form(&app, &http, &same, &[("password-new", "chosen-by-tina"), ("password-confirm", "chosen-by-tina")]).await;
        assert!(done.set_cookie("PORTCULLIS_SESSION").is_some(), "the session starts once every action is done");
        assert_code(&app, &done, "tina").await;

        assert_eq!(admin.ok(&format!("/admin/realms/{REALM}/users/{id}")).await["requiredActions"], json!([]));
        assert_eq!(grant(&app, "tina", "temporary-pass-1").await.0, 401, "the old password is gone");
        assert_eq!(grant(&app, "tina", "chosen-by-tina").await.0, 200);
        // the password history holds the replaced password: an admin reset to it is refused too
        let reset = admin.put(&format!("/admin/realms/{REALM}/users/{id}/reset-password"),
            json!({ "type": "password", "value": "temporary-pass-1", "temporary": false })).await;
        assert_eq!(reset.status, 400, "{}", reset.body);
        assert_eq!(reset.body["error"], "invalidPasswordHistoryMessage", "{}", reset.body);
        app.stop().await;
    }

    async fn terms_then_profile_run_in_the_realms_order_and_write_what_keycloak_writes(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        realm(&app, &admin, json!({})).await;
        let terms = admin.ok(&format!("/admin/realms/{REALM}/authentication/required-actions/TERMS_AND_CONDITIONS")).await;
        let mut enabled = terms.clone();
        enabled["enabled"] = json!(true);
        assert_eq!(admin.put(&format!("/admin/realms/{REALM}/authentication/required-actions/TERMS_AND_CONDITIONS"), enabled).await.status, 204);
        user(&admin, "other", "other-password", false, json!([]), Some("taken@example.com")).await;
        let id = user(&admin, "paul", "paul-password", false, json!(["UPDATE_PROFILE", "TERMS_AND_CONDITIONS"]), None).await;

        let http = browser_client();
        let page = sign_in(&app, &http, "paul", "paul-password").await;
        assert_page(&page, "kc-terms-form");
        let profile = submit_form(&app, &http, &page, &[("accept", "Accept")]).await;
        assert_page(&profile, "kc-update-profile-form");
        let stored = admin.ok(&format!("/admin/realms/{REALM}/users/{id}")).await;
        let accepted: i64 = stored["attributes"]["terms_and_conditions"][0].as_str().unwrap().parse().unwrap();
        assert!((accepted - portcullis::clock::Clock::now(&app.clock)).abs() < 5, "{stored}");
        assert_eq!(stored["requiredActions"], json!(["UPDATE_PROFILE"]));

        let missing = submit_form(&app, &http, &profile, &[("email", ""), ("firstName", "Paul"), ("lastName", "Erdos")]).await;
        assert!(missing.html.contains("id=\"email-error\"") && missing.html.contains("Please specify this field."), "{}", missing.html);
        let taken = submit_form(&app, &http, &missing, &[("email", "TAKEN@example.com"), ("firstName", "Paul"), ("lastName", "Erdos")]).await;
        assert!(taken.html.contains("Email already exists."), "{}", taken.html);
        let bad = submit_form(&app, &http, &taken, &[("email", "not-an-address"), ("firstName", "Paul"), ("lastName", "Erdos")]).await;
        assert!(bad.html.contains("Invalid email address."), "{}", bad.html);
        let done = submit_form(&app, &http, &bad, &[("email", "paul@example.com"), ("firstName", "Paul"), ("lastName", "Erdos")]).await;
        assert_code(&app, &done, "paul").await;
        let stored = admin.ok(&format!("/admin/realms/{REALM}/users/{id}")).await;
        assert_eq!((stored["email"].as_str(), stored["firstName"].as_str(), stored["emailVerified"].as_bool()), (Some("paul@example.com"), Some("Paul"), Some(false)));
        assert_eq!(stored["requiredActions"], json!([]));
        app.stop().await;
    }

    async fn declining_the_terms_sends_access_denied_to_the_client(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        realm(&app, &admin, json!({})).await;
        let path = format!("/admin/realms/{REALM}/authentication/required-actions/TERMS_AND_CONDITIONS");
        let mut terms = admin.ok(&path).await;
        terms["enabled"] = json!(true);
        assert_eq!(admin.put(&path, terms).await.status, 204);
        let id = user(&admin, "dana", "dana-password", false, json!(["TERMS_AND_CONDITIONS"]), Some("dana@example.com")).await;
        let http = browser_client();
        let page = sign_in(&app, &http, "dana", "dana-password").await;
        let declined = submit_form(&app, &http, &page, &[("cancel", "Decline")]).await;
        assert_eq!(declined.status, 302, "{}", declined.html);
        assert_eq!(param(&declined.location(), "error"), "access_denied");
        assert!(declined.set_cookie("PORTCULLIS_SESSION").is_none());
        assert_eq!(admin.ok(&format!("/admin/realms/{REALM}/users/{id}")).await["requiredActions"], json!(["TERMS_AND_CONDITIONS"]));
        app.stop().await;
    }

    async fn verify_email_waits_for_a_verified_address(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        realm(&app, &admin, json!({ "verifyEmail": true })).await;
        let id = user(&admin, "vic", "vic-password", false, json!([]), Some("vic@example.com")).await;
        let http = browser_client();
        let page = sign_in(&app, &http, "vic", "vic-password").await;
        assert_page(&page, "kc-verify-email-form");
        assert!(page.html.contains("vic@example.com"), "{}", page.html);
        assert_eq!(admin.ok(&format!("/admin/realms/{REALM}/users/{id}")).await["requiredActions"], json!(["VERIFY_EMAIL"]),
            "the realm's verifyEmail adds the action to the user, as Keycloak's trigger does");
        assert_eq!(grant(&app, "vic", "vic-password").await.1["error_description"], "Account is not fully set up");
        let early = submit_form(&app, &http, &page, &[]).await;
        assert!(early.html.contains("not verified yet"), "{}", early.html);
        assert_eq!(admin.put(&format!("/admin/realms/{REALM}/users/{id}"), json!({ "emailVerified": true })).await.status, 204);
        let done = submit_form(&app, &http, &early, &[]).await;
        assert_code(&app, &done, "vic").await;
        assert_eq!(grant(&app, "vic", "vic-password").await.0, 200);
        app.stop().await;
    }

    async fn an_expired_password_must_be_changed(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        realm(&app, &admin, json!({ "passwordPolicy": "forceExpiredPasswordChange(2)" })).await;
        user(&admin, "olga", "olga-password", false, json!([]), Some("olga@example.com")).await;
        assert_eq!(grant(&app, "olga", "olga-password").await.0, 200, "a fresh password");
        app.clock.advance(2 * 86_400 + 1);
        assert_eq!(grant(&app, "olga", "olga-password").await.1["error_description"], "Account is not fully set up");
        let http = browser_client();
        let page = sign_in(&app, &http, "olga", "olga-password").await;
        assert_page(&page, "kc-passwd-update-form");
        let done = submit_form(&app, &http, &page, &[("password-new", "olga-renewed"), ("password-confirm", "olga-renewed")]).await;
        assert_code(&app, &done, "olga").await;
        assert_eq!(grant(&app, "olga", "olga-renewed").await.0, 200);
        app.stop().await;
    }

    async fn the_action_pages_keep_the_csrf_rule_and_unrunnable_actions_still_stop(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        realm(&app, &admin, json!({})).await;
        user(&admin, "carl", "carl-password", true, json!([]), Some("carl@example.com")).await;
        user(&admin, "walt", "walt-password", false, json!(["webauthn-register"]), Some("walt@example.com")).await;
        let http = browser_client();
        let page = sign_in(&app, &http, "carl", "carl-password").await;
        assert_page(&page, "kc-passwd-update-form");
        let (action, hidden) = page.form();
        let mut fields = hidden.clone();
        fields.extend([("password-new".to_string(), "carl-chosen-1".to_string()), ("password-confirm".to_string(), "carl-chosen-1".to_string())]);
        // another browser (no login cookie) cannot post this page's state
        let stranger = post(&browser_client(), &app.url(&action), &fields, None).await;
        assert_eq!(stranger.status, 400, "{}", stranger.html);
        assert!(stranger.html.contains("CSRF"), "{}", stranger.html);
        // a garbled state is a readable page too
        let garbled = post(&http, &app.url(&action), &[("auth".into(), "x".into()), ("csrf".into(), "y".into())], None).await;
        assert_eq!(garbled.status, 400, "{}", garbled.html);
        assert_eq!(grant(&app, "carl", "carl-chosen-1").await.0, 401, "nothing was changed");

        let http = browser_client();
        let stopped = sign_in(&app, &http, "walt", "walt-password").await;
        assert_eq!(stopped.status, 403, "{}", stopped.html);
        assert!(stopped.html.contains("cannot run"), "{}", stopped.html);
        assert!(stopped.set_cookie("PORTCULLIS_SESSION").is_none());
        app.stop().await;
    }
}
