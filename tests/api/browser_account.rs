//! Refused logins (bad credentials, disabled account, CSRF, expiry, brute force) and the ends of a
//! browser session (RP-initiated logout, the account page's sessions, offline apps and password
//! change) over plain HTTP on both backends (issue 4 items 2, 6, 7 and 9), with the helpers of
//! `browser_flows.rs`.

use crate::backend_tests;
use crate::browser_flows::{
    assert_error_page, auth_url, between, browser_client, exchange, get, login, merge,
    offline_tokens, param, post, prompt_none, prompt_none_with, query_param, realm_auth_url, refresh, start_login,
    submit_form, submit_login, token, web, Reply, BAD_CREDENTIALS, REDIRECT, SSO,
};
use crate::helpers::{fixture, Spawn, TestApp};

fn account_url(app: &TestApp) -> String {
    app.url("/realms/web/account")
}

/// Logs in through the account page's own form; returns the account page.
async fn account_login(app: &TestApp, http: &reqwest::Client, username: &str, password: &str) -> Reply {
    let page = get(http, &account_url(app)).await;
    assert!(
        page.html.contains("id=\"login-form\""),
        "without a session the account page is the login form: {}",
        page.html
    );
    let reply = submit_login(app, http, &page, username, password, &[]).await;
    assert_eq!((reply.status, reply.location()), (303, "/realms/web/account".to_string()), "{}", reply.html);
    let account = get(http, &account_url(app)).await;
    assert!(account.html.contains(&format!("Signed in as {username}")), "{}", account.html);
    account
}

/// POSTs an account action with the given fields.
async fn act(app: &TestApp, http: &reqwest::Client, action: &str, fields: &[(&str, &str)]) -> Reply {
    let fields: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    post(http, &app.url(&format!("/realms/web/account/{action}")), &fields, None).await
}

fn session_count(account: &Reply) -> usize {
    account.html.matches("<li id=\"session-").count()
}

async fn alive(app: &TestApp, http: &reqwest::Client) -> bool {
    let location = prompt_none(app, http).await;
    match query_param(&location, "error").as_deref() {
        None => true,
        Some("login_required") => false,
        Some(other) => panic!("unexpected {other}: {location}"),
    }
}

/// The password grant of `no-browser`, the realm's only client with direct grants.
async fn password_grant(app: &TestApp, username: &str, password: &str) -> (u16, Option<String>) {
    let (status, body) = token(
        app,
        &[
            ("grant_type", "password"),
            ("client_id", "no-browser"),
            ("username", username),
            ("password", password),
        ],
    )
    .await;
    (status, body["error"].as_str().map(str::to_string))
}

backend_tests! {
    async fn the_account_page_logs_in_through_the_same_form_and_lists_the_sessions_and_their_apps(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let account = account_login(&app, &jar, "dora", "dora-password-1").await;
        assert_eq!(session_count(&account), 1);
        assert!(account.html.contains("(this session)") && account.html.contains("Apps: none"), "{}", account.html);
        let location = get(&jar, &auth_url(&app, "app-b", &[])).await.location();
        let (status, _) = exchange(&app, "app-b", &param(&location, "code"), &[]).await;
        assert_eq!(status, 200);
        let account = get(&jar, &account_url(&app)).await;
        assert!(account.html.contains("Apps: app-b"), "{}", account.html);
        app.stop().await;
    }

    async fn the_account_page_shows_the_attributes_the_user_profile_lets_the_user_view(backend: Backend) {
        let app = web(backend).await;
        let admin = crate::admin_support::Admin::login(&app).await;
        let mut profile = admin.ok("/admin/realms/web/users/profile").await;
        let attributes = profile["attributes"].as_array_mut().unwrap();
        attributes.push(serde_json::json!({"name": "department", "displayName": "Department", "multivalued": true,
            "permissions": {"view": ["admin", "user"], "edit": ["admin"]}}));
        attributes.push(serde_json::json!({"name": "salary", "displayName": "${salary}", "permissions": {"view": ["admin"], "edit": ["admin"]}}));
        assert_eq!(admin.put("/admin/realms/web/users/profile", profile.clone()).await.status, 200);
        let dora = admin.user_id("web", "dora").await;
        let attributes = serde_json::json!({"attributes": {"department": ["Research", "Labs"], "salary": ["123456"]}});
        let reply = admin.put(&format!("/admin/realms/web/users/{dora}"), attributes).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        let jar = browser_client();
        let account = account_login(&app, &jar, "dora", "dora-password-1").await;
        let section = between(&account.html, "<dl id=\"profile\">", "</dl>").expect("the profile section");
        assert!(section.contains("<dt>Department</dt><dd>Research, Labs</dd>"), "{section}");
        assert!(section.contains("<dt>${username}</dt>") || section.contains("<dt>username</dt>"), "{section}");
        assert!(section.contains("<dd>dora</dd>") && section.contains("dora@example.com"), "{section}");
        assert!(!section.contains("123456") && !section.contains("salary"), "an admin-only attribute stays hidden: {section}");

        // with unmanaged attributes ENABLED the user sees those too; ADMIN_EDIT keeps them hidden
        let extra = serde_json::json!({"attributes": {"department": ["Research"], "salary": ["123456"], "nickname": ["D"]}});
        for (policy, shown) in [("ADMIN_EDIT", false), ("ENABLED", true)] {
            profile["unmanagedAttributePolicy"] = serde_json::json!(policy);
            assert_eq!(admin.put("/admin/realms/web/users/profile", profile.clone()).await.status, 200);
            assert_eq!(admin.put(&format!("/admin/realms/web/users/{dora}"), extra.clone()).await.status, 204);
            let account = get(&jar, &account_url(&app)).await;
            assert_eq!(account.html.contains("<dt>nickname</dt><dd>D</dd>"), shown, "{policy}: {}", account.html);
        }
        app.stop().await;
    }

    async fn signing_out_other_sessions_ends_them_but_never_another_users(backend: Backend) {
        let app = web(backend).await;
        let (mine, phone, laptop, eves) = (browser_client(), browser_client(), browser_client(), browser_client());
        account_login(&app, &mine, "dora", "dora-password-1").await;
        let phone_sid = param(&login(&app, &phone, "app-a", &[]).await, "session_state");
        login(&app, &laptop, "app-a", &[]).await;
        let page = start_login(&app, &eves, "app-b", &[]).await;
        let eve_sid = param(&submit_login(&app, &eves, &page, "eve", "eve-password-1", &[]).await.location(), "session_state");
        let account = get(&mine, &account_url(&app)).await;
        assert_eq!(session_count(&account), 3, "{}", account.html);
        let csrf = account.hidden("csrf");
        let reply = act(&app, &mine, "sessions/sign-out", &[("csrf", &csrf), ("session", &eve_sid)]).await;
        assert_eq!(reply.status, 303);
        assert!(alive(&app, &eves).await, "dora cannot end eve's session");
        let reply = act(&app, &mine, "sessions/sign-out", &[("csrf", &csrf), ("session", &phone_sid)]).await;
        assert_eq!(reply.location(), "/realms/web/account?notice=signed-out");
        assert!(!alive(&app, &phone).await && alive(&app, &laptop).await);
        let reply = act(&app, &mine, "sessions/sign-out-others", &[("csrf", &csrf)]).await;
        assert_eq!(reply.location(), "/realms/web/account?notice=signed-out-others");
        assert!(!alive(&app, &laptop).await, "the other session ended");
        assert!(alive(&app, &mine).await && alive(&app, &eves).await);
        let account = get(&mine, &app.url(&reply.location())).await;
        assert_eq!(session_count(&account), 1);
        assert!(account.html.contains("All other sessions were signed out."));
        app.stop().await;
    }

    async fn signing_out_on_the_account_page_ends_the_session_and_clears_the_cookie(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let account = account_login(&app, &jar, "dora", "dora-password-1").await;
        let reply = act(&app, &jar, "sign-out", &[("csrf", &account.hidden("csrf"))]).await;
        assert_eq!(reply.status, 200);
        assert!(reply.html.contains("You are signed out"));
        assert!(reply.set_cookie(SSO).is_some_and(|c| c.contains("Max-Age=0")));
        assert!(!alive(&app, &jar).await);
        app.stop().await;
    }

    async fn revoking_an_app_ends_its_offline_tokens_and_its_consent(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let tokens = offline_tokens(&app, &jar).await;
        let offline = tokens["refresh_token"].as_str().unwrap();
        let account = get(&jar, &account_url(&app)).await;
        assert!(account.html.contains("id=\"app-app-a\""), "{}", account.html);
        let reply = act(&app, &jar, "applications/revoke", &[("csrf", &account.hidden("csrf")), ("client", "app-a")]).await;
        assert_eq!(reply.location(), "/realms/web/account?notice=revoked");
        let (status, body) = refresh(&app, "app-a", offline).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
        let account = get(&jar, &app.url(&reply.location())).await;
        assert!(!account.html.contains("id=\"app-app-a\"") && account.html.contains("Offline access was revoked."), "{}", account.html);
        assert!(alive(&app, &jar).await, "the browser session stays");
        let again = start_login(&app, &jar, "app-a", &[("scope", "openid offline_access")]).await;
        assert!(again.html.contains("id=\"consent-form\""), "the consent went with it: {}", again.html);
        app.stop().await;
    }

    async fn changing_the_password_checks_the_current_one_and_ends_the_other_sessions(backend: Backend) {
        let app = web(backend).await;
        let (mine, other) = (browser_client(), browser_client());
        let account = account_login(&app, &mine, "dora", "dora-password-1").await;
        login(&app, &other, "app-a", &[]).await;
        let csrf = account.hidden("csrf");
        let refusals = [("wrong-password", "new-password-2", "new-password-2", "Invalid existing password."), ("dora-password-1", "new-password-2", "other", "Passwords don&#x27;t match.")];
        for (current, new, confirm, message) in refusals {
            let reply = act(&app, &mine, "password", &[("csrf", &csrf), ("current", current), ("new", new), ("confirm", confirm)]).await;
            assert_eq!(reply.status, 200);
            assert!(reply.html.contains(message), "{message} in {}", reply.html);
        }
        assert!(alive(&app, &other).await, "refused changes end nothing");
        let reply = act(&app, &mine, "password", &[("csrf", &csrf), ("current", "dora-password-1"), ("new", "new-password-2"), ("confirm", "new-password-2")]).await;
        assert_eq!(reply.location(), "/realms/web/account?notice=password");
        assert!(!alive(&app, &other).await, "the other session ended");
        assert!(alive(&app, &mine).await, "this one stays");
        app.clock.advance(2); // two failures within a second would trip the quick-login check
        let jar = browser_client();
        let page = start_login(&app, &jar, "app-a", &[]).await;
        let reply = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        assert!(reply.html.contains(BAD_CREDENTIALS), "the old password is gone");
        let reply = submit_login(&app, &jar, &reply, "dora", "new-password-2", &[]).await;
        assert_eq!(reply.status, 302, "{}", reply.html);
        app.stop().await;
    }

    async fn account_actions_need_the_sessions_csrf_token_and_a_session(backend: Backend) {
        let app = web(backend).await;
        let (mine, other) = (browser_client(), browser_client());
        account_login(&app, &mine, "dora", "dora-password-1").await;
        login(&app, &other, "app-a", &[]).await;
        let password = [("current", "dora-password-1"), ("new", "new-password-2"), ("confirm", "new-password-2")];
        for (action, fields) in [("sessions/sign-out-others", &[][..]), ("password", &password[..]), ("applications/revoke", &[("client", "app-a")][..]), ("sign-out", &[][..])] {
            let mut form = vec![("csrf", "forged-csrf-token")];
            form.extend_from_slice(fields);
            assert_error_page(&act(&app, &mine, action, &form).await, action);
        }
        assert!(alive(&app, &mine).await && alive(&app, &other).await, "nothing happened");
        let reply = act(&app, &app.http, "sessions/sign-out-others", &[("csrf", "forged-csrf-token")]).await;
        assert_eq!(reply.status, 200);
        assert!(reply.html.contains("id=\"login-form\""), "no session: log in first: {}", reply.html);
        let location = login(&app, &browser_client(), "app-a", &[]).await;
        assert!(location.contains("code="), "the password was not changed");
        app.stop().await;
    }

    async fn unknown_users_and_wrong_passwords_get_the_same_message_and_no_session(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let mut messages = Vec::new();
        for (username, password) in [("nobody", "dora-password-1"), ("dora", "wrong-password")] {
            let page = start_login(&app, &jar, "app-a", &[]).await;
            let reply = submit_login(&app, &jar, &page, username, password, &[]).await;
            assert_eq!(reply.status, 200, "{}", reply.html);
            assert!(reply.set_cookie(SSO).is_none(), "no session for {username}");
            assert!(reply.html.contains(&format!("value=\"{username}\"")), "the username is kept");
            messages.push(between(&reply.html, "id=\"login-error\">", "<").expect("an error message").to_string());
            if username == "dora" {
                let retry = submit_login(&app, &jar, &reply, "dora", "dora-password-1", &[]).await;
                assert_eq!(retry.status, 302, "the re-rendered form works: {}", retry.html);
            }
        }
        assert_eq!(messages, [BAD_CREDENTIALS, BAD_CREDENTIALS]);
        app.stop().await;
    }

    async fn a_disabled_account_is_told_so_only_with_the_right_password(backend: Backend) {
        let app = Spawn::new(backend).import(fixture("browser-other-realm.json")).start().await;
        let jar = browser_client();
        for (password, message) in [("wrong-password", BAD_CREDENTIALS), ("mallory-password-1", "Account is disabled, contact your administrator.")] {
            let page = get(&jar, &realm_auth_url(&app, "other", "app-a", &[])).await;
            let reply = submit_login(&app, &jar, &page, "mallory", password, &[]).await;
            assert_eq!(reply.status, 200);
            assert_eq!(between(&reply.html, "id=\"login-error\">", "<"), Some(message));
            assert!(reply.set_cookie(SSO).is_none());
        }
        app.stop().await;
    }

    async fn a_login_post_without_the_matching_csrf_token_and_cookie_is_refused(backend: Backend) {
        let app = Spawn::new(backend).import(fixture("browser-realm.json")).import(fixture("browser-other-realm.json")).start().await;
        let credentials = [("username", "dora"), ("password", "dora-password-1")];
        let jar = browser_client();
        let page = start_login(&app, &jar, "app-a", &[]).await;
        let reply = submit_form(&app, &jar, &page, &[credentials[0], credentials[1], ("csrf", "forged-csrf-token")]).await;
        assert_error_page(&reply, "wrong csrf field");
        assert!(reply.html.contains("CSRF"), "{}", reply.html);
        // (without a csrf field at all the sealed state's own token must match the cookie, as in
        // the next test, which posts to the action URL alone)
        assert_eq!(query_param(&prompt_none(&app, &jar).await, "error").as_deref(), Some("login_required"));
        let page = start_login(&app, &app.http, "app-a", &[]).await;
        assert_error_page(&submit_login(&app, &app.http, &page, "dora", "dora-password-1", &[]).await, "no login cookie");
        // the blob alone is refused: cookie and field carry its own CSRF token
        let other = get(&app.http, &realm_auth_url(&app, "other", "app-a", &[])).await;
        let page = start_login(&app, &app.http, "app-a", &[]).await;
        let mut tampered = page.hidden("auth");
        let middle = tampered.len() / 2;
        let flipped = if &tampered[middle..=middle] == "A" { "B" } else { "A" };
        tampered.replace_range(middle..=middle, flipped);
        for (what, source, blob) in [("blob of another realm", &other, other.hidden("auth")), ("tampered blob", &page, tampered)] {
            let csrf = source.hidden("csrf");
            let fields = merge(vec![], &[("auth", &blob), ("csrf", &csrf), credentials[0], credentials[1]]);
            let reply = post(&app.http, &app.url("/realms/web/login-actions/authenticate"), &fields, Some(&format!("PORTCULLIS_LOGIN={csrf}"))).await;
            assert_error_page(&reply, what);
        }
        let csrf = page.hidden("csrf");
        let fields = merge(vec![], &[("auth", &page.hidden("auth")), ("csrf", &csrf), credentials[0], credentials[1]]);
        let reply = post(&app.http, &app.url("/realms/web/login-actions/authenticate"), &fields, Some(&format!("PORTCULLIS_LOGIN={csrf}"))).await;
        assert_eq!(reply.status, 302, "the same request with the untouched blob succeeds: {}", reply.html);
        app.stop().await;
    }

    async fn a_login_posted_to_the_action_url_alone_works_as_in_keycloak_and_keeps_its_csrf_binding(backend: Backend) {
        // python-keycloak's PKCE test scrapes the form's action and posts only username and
        // password to it, with the page's cookies: the state rides in the action URL's query
        let app = Spawn::new(backend).import(fixture("browser-realm.json")).import(fixture("browser-other-realm.json")).start().await;
        let credentials = [("username".to_string(), "dora".to_string()), ("password".to_string(), "dora-password-1".to_string())];
        let page = start_login(&app, &app.http, "app-a", &[]).await;
        let (action, _) = page.form();
        let cookie = format!("PORTCULLIS_LOGIN={}", page.hidden("csrf"));
        let reply = post(&app.http, &action, &credentials, None).await;
        assert_error_page(&reply, "the action URL without the login cookie");
        let other = get(&app.http, &realm_auth_url(&app, "other", "app-a", &[])).await;
        let (other_action, _) = other.form();
        let foreign = format!("{}?{}", app.url("/realms/web/login-actions/authenticate"), other_action.split_once('?').unwrap().1);
        let other_cookie = format!("PORTCULLIS_LOGIN={}", other.hidden("csrf"));
        assert_error_page(&post(&app.http, &foreign, &credentials, Some(&other_cookie)).await, "another realm's state in the query");
        let mut forged = credentials.to_vec();
        forged.push(("csrf".to_string(), "forged-csrf-token".to_string()));
        assert_error_page(&post(&app.http, &action, &forged, Some(&cookie)).await, "a wrong csrf field beside the query's state");
        let reply = post(&app.http, &action, &credentials, Some(&cookie)).await;
        assert_eq!(reply.status, 302, "username and password posted to the action URL log in: {}", reply.html);
        let location = reply.location();
        let query = location.split_once('?').expect("a query").1;
        let names: Vec<&str> = query.split('&').filter_map(|pair| pair.split('=').next()).collect();
        assert_eq!(names, ["state", "session_state", "iss", "code"], "Keycloak's order, code last: {location}");
        assert_eq!(exchange(&app, "app-a", &param(&location, "code"), &[]).await.0, 200);
        app.stop().await;
    }

    async fn a_login_form_older_than_access_code_lifespan_login_times_out(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let page = start_login(&app, &jar, "app-a", &[]).await;
        app.clock.advance(1799);
        assert_eq!(submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await.status, 302);
        let jar = browser_client();
        let page = start_login(&app, &jar, "app-a", &[]).await;
        app.clock.advance(1801);
        let reply = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        assert_error_page(&reply, "expired login form");
        assert!(reply.html.contains("timed out"), "{}", reply.html);
        app.stop().await;
    }

    async fn brute_force_lockout_refuses_the_right_password_on_the_form_and_the_password_grant(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let mut page = start_login(&app, &jar, "app-a", &[]).await;
        for _ in 0..3 {
            page = submit_login(&app, &jar, &page, "eve", "wrong-password", &[]).await;
            assert!(page.html.contains(BAD_CREDENTIALS));
        }
        let reply = submit_login(&app, &jar, &page, "eve", "eve-password-1", &[]).await;
        assert_eq!(reply.status, 200);
        assert!(reply.html.contains(BAD_CREDENTIALS) && reply.set_cookie(SSO).is_none(), "a locked account looks like bad credentials");
        assert_eq!(password_grant(&app, "eve", "eve-password-1").await, (401, Some("invalid_grant".into())));
        assert!(login(&app, &browser_client(), "app-a", &[]).await.contains("code="), "other users are not locked");
        app.clock.advance(61);
        let reply = submit_login(&app, &jar, &reply, "eve", "eve-password-1", &[]).await;
        assert_eq!(reply.status, 302, "the wait is over: {}", reply.html);
        assert_eq!(password_grant(&app, "eve", "eve-password-1").await.0, 200);
        app.stop().await;
    }

    async fn failed_password_grants_lock_the_login_form_too(backend: Backend) {
        let app = web(backend).await;
        for _ in 0..3 {
            assert_eq!(password_grant(&app, "eve", "wrong-password").await, (401, Some("invalid_grant".into())));
        }
        let jar = browser_client();
        let page = start_login(&app, &jar, "app-a", &[]).await;
        let reply = submit_login(&app, &jar, &page, "eve", "eve-password-1", &[]).await;
        assert!(reply.html.contains(BAD_CREDENTIALS) && reply.set_cookie(SSO).is_none(), "{}", reply.html);
        app.stop().await;
    }

    async fn logout_with_an_id_token_hint_ends_the_session_and_returns_to_a_registered_uri(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let page = start_login(&app, &jar, "app-a", &[]).await;
        let reply = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        let sso_value = reply.cookie_value(SSO).expect("the SSO cookie");
        let (_, tokens) = exchange(&app, "app-a", &param(&reply.location(), "code"), &[]).await;
        let hint = tokens["id_token"].as_str().unwrap();
        let logout = |extra: &[(&str, &str)]| {
            let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(extra).finish();
            app.url(&format!("/realms/web/protocol/openid-connect/logout?{query}"))
        };
        let refused = get(&jar, &logout(&[("id_token_hint", hint), ("post_logout_redirect_uri", "https://evil.example/"), ("state", "lo-1")])).await;
        assert_error_page(&refused, "unregistered post_logout_redirect_uri");
        assert!(query_param(&prompt_none(&app, &jar).await, "code").is_some(), "the session is intact");
        let reply = get(&jar, &logout(&[("id_token_hint", hint), ("post_logout_redirect_uri", REDIRECT), ("state", "lo-1")])).await;
        assert_eq!(reply.status, 302, "{}", reply.html);
        assert_eq!(reply.location(), format!("{REDIRECT}?state=lo-1"));
        assert!(reply.set_cookie(SSO).is_some_and(|c| c.contains("Max-Age=0")), "the cookie is cleared");
        assert_eq!(param(&prompt_none(&app, &jar).await, "error"), "login_required");
        assert_eq!(param(&prompt_none_with(&app, &sso_value).await, "error"), "login_required", "the session ended on the server too");
        let (status, _) = refresh(&app, "app-a", tokens["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 400, "its tokens ended with it");
        let page = get(&jar, &logout(&[("id_token_hint", hint)])).await;
        assert_eq!(page.status, 200, "an old hint without redirect shows the logged-out page");
        assert!(page.html.contains("You are signed out"));
        app.stop().await;
    }

    async fn logout_without_a_hint_asks_for_confirmation_and_refuses_garbage_hints(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let location = login(&app, &jar, "app-a", &[]).await;
        let (_, tokens) = exchange(&app, "app-a", &param(&location, "code"), &[]).await;
        let url = app.url(&format!("/realms/web/protocol/openid-connect/logout?client_id=app-a&post_logout_redirect_uri={}&state=lo-2",
            form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()));
        let confirm = get(&jar, &url).await;
        assert_eq!(confirm.status, 200, "{}", confirm.html);
        assert!(confirm.html.contains("id=\"logout-form\"") && confirm.set_cookie(SSO).is_none(), "{}", confirm.html);
        assert!(query_param(&prompt_none(&app, &jar).await, "code").is_some(), "a GET alone ends nothing");
        let forged = submit_form(&app, &jar, &confirm, &[("csrf", "forged")]).await;
        assert_eq!(forged.status, 200, "a forged confirmation asks again");
        assert!(query_param(&prompt_none(&app, &jar).await, "code").is_some(), "and ends nothing");
        for hint in ["garbage", "a.b.c", tokens["access_token"].as_str().unwrap()] {
            assert_error_page(&get(&jar, &app.url(&format!("/realms/web/protocol/openid-connect/logout?id_token_hint={hint}"))).await, hint);
        }
        let reply = submit_form(&app, &jar, &confirm, &[]).await;
        assert_eq!(reply.status, 302, "{}", reply.html);
        assert_eq!(reply.location(), format!("{REDIRECT}?state=lo-2"));
        assert_eq!(param(&prompt_none(&app, &jar).await, "error"), "login_required");
        app.stop().await;
    }
}

backend_tests! {
    async fn changing_the_password_on_the_account_page_ends_offline_sessions_too(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let tokens = offline_tokens(&app, &jar).await;
        let account = get(&jar, &account_url(&app)).await;
        let reply = act(&app, &jar, "password", &[("csrf", &account.hidden("csrf")), ("current", "dora-password-1"), ("new", "new-password-2"), ("confirm", "new-password-2")]).await;
        assert_eq!(reply.status, 303);
        let (status, body) = refresh(&app, "app-a", tokens["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 400, "revokeSessionsOnPasswordChange ends offline sessions (src/users/mod.rs): {body}");
        app.stop().await;
    }
}

backend_tests! {
    async fn two_login_forms_open_in_one_browser_both_work(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let first = start_login(&app, &jar, "app-a", &[]).await;
        let _second_tab = start_login(&app, &jar, "app-b", &[]).await;
        let reply = submit_login(&app, &jar, &first, "dora", "dora-password-1", &[]).await;
        assert_eq!(reply.status, 302, "the first tab's form still works: {}", reply.html);
        app.stop().await;
    }
}
