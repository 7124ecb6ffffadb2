//! Issue 17's self-registration over HTTP on both backends: closed unless `registrationAllowed`;
//! the login page's Register link and Keycloak's `/protocol/openid-connect/registrations` entry
//! open the form; the user profile, duplicate checks and password policy refuse with Keycloak's
//! texts; a registered user continues to the client with a code (default roles included), or to
//! VERIFY_EMAIL first when the realm verifies e-mail; `registrationEmailAsUsername` applies; the
//! form keeps the login's CSRF rule.

use serde_json::{json, Value};

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::browser_flows::{browser_client, claims, exchange_in, get, param, post, realm_auth_url, submit_form, Reply};
use crate::helpers::{spawn_app, TestApp};

const REALM: &str = "signup";
const REDIRECT: &str = "http://127.0.0.1:9/cb";

async fn realm(admin: &Admin<'_>, settings: Value) {
    let mut body = json!({
        "realm": REALM,
        "enabled": true,
        "clients": [{ "clientId": "web", "publicClient": true, "redirectUris": [REDIRECT] }],
    });
    body.as_object_mut().unwrap().extend(settings.as_object().unwrap().clone());
    assert_eq!(admin.post("/admin/realms", body).await.status, 201);
}

/// The login page of web, then its Register link.
async fn open_form(app: &TestApp, http: &reqwest::Client) -> Reply {
    let login = get(http, &realm_auth_url(app, REALM, "web", &[])).await;
    let start = login.html.find("id=\"register-link\" href=\"").expect("a Register link") + "id=\"register-link\" href=\"".len();
    let href = login.html[start..].split('"').next().unwrap().replace("&amp;", "&");
    let form = get(http, &app.url(&href)).await;
    assert_eq!(form.status, 200, "{}", form.html);
    assert!(form.html.contains("id=\"kc-register-form\""), "{}", form.html);
    form
}

fn fields<'a>(username: &'a str, email: &'a str, password: &'a str, confirm: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("username", username), ("email", email), ("firstName", "Rita"), ("lastName", "Levi"), ("password", password), ("password-confirm", confirm)]
}

async fn exchange(app: &TestApp, reply: &Reply) -> Value {
    assert_eq!(reply.status, 302, "{}", reply.html);
    let (status, tokens) = exchange_in(app, REALM, "web", REDIRECT, &param(&reply.location(), "code")).await;
    assert_eq!(status, 200, "{tokens}");
    claims(tokens["access_token"].as_str().unwrap())
}

backend_tests! {
    async fn registration_is_closed_unless_the_realm_allows_it(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        realm(&admin, json!({})).await;
        let http = browser_client();
        let login = get(&http, &realm_auth_url(&app, REALM, "web", &[])).await;
        assert!(!login.html.contains("register-link"), "{}", login.html);
        let entry = realm_auth_url(&app, REALM, "web", &[]).replace("/auth?", "/registrations?");
        let closed = get(&http, &entry).await;
        assert_eq!(closed.status, 403, "{}", closed.html);
        assert!(closed.html.contains("Registration not allowed"), "{}", closed.html);
        app.stop().await;
    }

    async fn a_new_user_registers_under_the_profile_and_policy_and_reaches_the_client(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        realm(&admin, json!({ "registrationAllowed": true, "passwordPolicy": "length(10)" })).await;
        let existing = json!({ "username": "taken", "email": "taken@example.com", "enabled": true, "firstName": "T", "lastName": "K" });
        assert_eq!(admin.post(&format!("/admin/realms/{REALM}/users"), existing).await.status, 201);
        let http = browser_client();
        let page = open_form(&app, &http).await;

        let empty = submit_form(&app, &http, &page, &[("username", "rita"), ("password", "rita-password"), ("password-confirm", "rita-password")]).await;
        assert_eq!(empty.status, 400, "{}", empty.html);
        assert!(empty.html.contains("id=\"email-error\"") && empty.html.contains("id=\"firstName-error\""), "{}", empty.html);
        let mismatch = submit_form(&app, &http, &empty, &fields("rita", "rita@example.com", "rita-password", "other-password")).await;
        assert!(mismatch.html.contains("Password confirmation doesn"), "{}", mismatch.html);
        let short = submit_form(&app, &http, &mismatch, &fields("rita", "rita@example.com", "short", "short")).await;
        assert!(short.html.contains("Invalid password: minimum length 10."), "{}", short.html);
        let name_taken = submit_form(&app, &http, &short, &fields("TAKEN", "rita@example.com", "rita-password", "rita-password")).await;
        assert!(name_taken.html.contains("Username already exists."), "{}", name_taken.html);
        let email_taken = submit_form(&app, &http, &name_taken, &fields("rita", "Taken@Example.com", "rita-password", "rita-password")).await;
        assert!(email_taken.html.contains("Email already exists."), "{}", email_taken.html);
        assert!(email_taken.html.contains("value=\"rita\""), "the form keeps what was typed: {}", email_taken.html);

        let done = submit_form(&app, &http, &email_taken, &fields("Rita", "rita@example.com", "rita-password", "rita-password")).await;
        assert!(done.set_cookie("PORTCULLIS_SESSION").is_some());
        let claims = exchange(&app, &done).await;
        assert_eq!(claims["preferred_username"], "rita");
        assert!(claims["realm_access"]["roles"].as_array().unwrap().iter().any(|r| r == "offline_access"), "default roles: {claims}");
        let users = admin.ok(&format!("/admin/realms/{REALM}/users?username=rita&exact=true")).await;
        assert_eq!(users[0]["email"], "rita@example.com");
        assert_eq!(users[0]["emailVerified"], false);
        app.stop().await;
    }

    async fn keycloaks_entry_point_email_as_username_and_verify_email(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        realm(&admin, json!({ "registrationAllowed": true, "registrationEmailAsUsername": true, "verifyEmail": true })).await;
        let http = browser_client();
        let entry = realm_auth_url(&app, REALM, "web", &[]).replace("/auth?", "/registrations?");
        let page = get(&http, &entry).await;
        assert_eq!(page.status, 200, "{}", page.html);
        assert!(!page.html.contains("name=\"username\""), "the e-mail is the username: {}", page.html);
        let next = submit_form(&app, &http, &page, &[("email", "Eve@Example.com"), ("firstName", "Eve"), ("lastName", "Ng"),
            ("password", "eve-password"), ("password-confirm", "eve-password")]).await;
        assert_eq!(next.status, 200, "{}", next.html);
        assert!(next.html.contains("id=\"kc-verify-email-form\""), "VERIFY_EMAIL comes first: {}", next.html);
        let users = admin.ok(&format!("/admin/realms/{REALM}/users?email=eve@example.com")).await;
        assert_eq!(users[0]["username"], "eve@example.com");
        assert_eq!(users[0]["requiredActions"], json!(["VERIFY_EMAIL"]));
        app.stop().await;
    }

    async fn the_form_keeps_the_logins_csrf_rule(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = Admin::login(&app).await;
        realm(&admin, json!({ "registrationAllowed": true })).await;
        let http = browser_client();
        let page = open_form(&app, &http).await;
        let (action, hidden) = page.form();
        let mut form: Vec<(String, String)> = hidden;
        form.extend(fields("mallory", "m@example.com", "mallory-password", "mallory-password").into_iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let forged = post(&browser_client(), &app.url(&action), &form, None).await;
        assert_eq!(forged.status, 400, "{}", forged.html);
        assert!(forged.html.contains("CSRF"), "{}", forged.html);
        assert_eq!(admin.ok(&format!("/admin/realms/{REALM}/users?username=mallory")).await, json!([]));
        app.stop().await;
    }
}
