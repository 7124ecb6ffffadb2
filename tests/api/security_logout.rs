//! Issue 13 items 5 and 6 over HTTP, on both backends: RP-initiated logout ends the session the
//! browser holds and nothing else. A cross-site, cookieless POST clears no cookie; an attacker's
//! own `id_token_hint` (or a stale one) meets the confirmation page instead of signing the
//! victim's browser out; an `offline_access` login's ID token names the browser session, so
//! logging out with it ends that session while the offline token lives on.

use crate::backend_tests;
use crate::browser_flows::{
    browser_client, exchange, get, login, offline_tokens, param, post, prompt_none, query_param, refresh, submit_form,
    web, Reply, REDIRECT, SSO,
};
use crate::helpers::TestApp;

fn logout_url(app: &TestApp, extra: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(extra).finish();
    app.url(&format!("/realms/web/protocol/openid-connect/logout?{query}"))
}

/// A browser logged in to app-a, and the tokens of its code.
async fn logged_in(app: &TestApp) -> (reqwest::Client, serde_json::Value) {
    let jar = browser_client();
    let location = login(app, &jar, "app-a", &[]).await;
    let (status, tokens) = exchange(app, "app-a", &param(&location, "code"), &[]).await;
    assert_eq!(status, 200, "{tokens}");
    (jar, tokens)
}

fn id_token(tokens: &serde_json::Value) -> &str {
    tokens["id_token"].as_str().expect("an id token")
}

fn signed_in(location: &str) -> bool {
    query_param(location, "code").is_some()
}

backend_tests! {
    async fn a_cookieless_cross_site_post_clears_nothing(backend: Backend) {
        let app = web(backend).await;
        let (victim, _) = logged_in(&app).await;
        // what a hostile page's auto-submitted form sends: no cookie (SameSite), no hint
        let stranger = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let reply = post(&stranger, &logout_url(&app, &[]), &[], None).await;
        assert_eq!(reply.status, 200, "{}", reply.html);
        assert!(reply.set_cookie(SSO).is_none(), "no session: no cookie-deleting Set-Cookie");
        assert!(reply.html.contains("already signed out"), "{}", reply.html);
        assert!(signed_in(&prompt_none(&app, &victim).await), "the victim's session is untouched");
        app.stop().await;
    }

    async fn an_attackers_own_id_token_hint_meets_the_confirmation_page(backend: Backend) {
        let app = web(backend).await;
        let (victim, _) = logged_in(&app).await;
        let (_, attacker_tokens) = logged_in(&app).await;
        let hint = id_token(&attacker_tokens);
        // the victim's browser is made to load the logout URL with the attacker's hint
        let page = get(&victim, &logout_url(&app, &[("id_token_hint", hint)])).await;
        assert_eq!(page.status, 200, "{}", page.html);
        assert!(page.html.contains("id=\"logout-form\""), "RP-Initiated Logout §6: ask the user: {}", page.html);
        assert!(page.set_cookie(SSO).is_none(), "the victim's cookie is kept");
        assert!(signed_in(&prompt_none(&app, &victim).await), "and the victim's session lives");
        // only the victim's own confirmation signs the victim out
        let reply: Reply = submit_form(&app, &victim, &page, &[]).await;
        assert_eq!(reply.status, 200, "{}", reply.html);
        assert!(reply.set_cookie(SSO).is_some_and(|c| c.contains("Max-Age=0")));
        assert_eq!(param(&prompt_none(&app, &victim).await, "error"), "login_required");
        app.stop().await;
    }

    async fn without_a_browser_session_a_hint_ends_only_its_own_session_and_clears_no_cookie(backend: Backend) {
        let app = web(backend).await;
        let (victim, _) = logged_in(&app).await;
        let (attacker, attacker_tokens) = logged_in(&app).await;
        let stranger = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let reply = get(&stranger, &logout_url(&app, &[("id_token_hint", id_token(&attacker_tokens))])).await;
        assert_eq!(reply.status, 200, "{}", reply.html);
        assert!(reply.set_cookie(SSO).is_none());
        assert!(signed_in(&prompt_none(&app, &victim).await), "the victim's session lives");
        assert_eq!(param(&prompt_none(&app, &attacker).await, "error"), "login_required", "the hint's own session ended");
        app.stop().await;
    }

    async fn a_stale_hint_asks_and_then_ends_the_session_the_browser_holds(backend: Backend) {
        let app = web(backend).await;
        let (jar, old) = logged_in(&app).await;
        let first = get(&jar, &logout_url(&app, &[("id_token_hint", id_token(&old))])).await;
        assert!(first.set_cookie(SSO).is_some_and(|c| c.contains("Max-Age=0")), "its own hint: ended at once");
        let location = login(&app, &jar, "app-a", &[]).await;
        assert!(signed_in(&location));
        let page = get(&jar, &logout_url(&app, &[("id_token_hint", id_token(&old)), ("post_logout_redirect_uri", REDIRECT), ("state", "s-1")])).await;
        assert!(page.html.contains("id=\"logout-form\""), "a stale hint names no live session of this browser: {}", page.html);
        assert!(signed_in(&prompt_none(&app, &jar).await), "nothing ended yet");
        let reply = submit_form(&app, &jar, &page, &[]).await;
        assert_eq!(reply.status, 302, "{}", reply.html);
        assert_eq!(reply.location(), format!("{REDIRECT}?state=s-1"));
        assert_eq!(param(&prompt_none(&app, &jar).await, "error"), "login_required", "the current session ended, not the stale one");
        app.stop().await;
    }

    async fn an_offline_logins_id_token_names_the_browser_session_and_logout_keeps_the_offline_one(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let tokens = offline_tokens(&app, &jar).await;
        let claims = crate::browser_flows::claims(id_token(&tokens));
        assert_eq!(claims["sid"], tokens["session_state"], "sid and session_state agree");
        let browser_sid = crate::browser_flows::claims(tokens["access_token"].as_str().unwrap())["sid"].clone();
        assert_eq!(claims["sid"], browser_sid);
        let reply = get(&jar, &logout_url(&app, &[("id_token_hint", id_token(&tokens))])).await;
        assert_eq!(reply.status, 200, "{}", reply.html);
        assert!(reply.html.contains("You are signed out") && !reply.html.contains("logout-form"),
            "the hint names the browser's session: no confirmation: {}", reply.html);
        assert_eq!(param(&prompt_none(&app, &jar).await, "error"), "login_required", "the browser session ended");
        let (status, body) = refresh(&app, "app-a", tokens["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 200, "the offline session survives a logout: {body}");
        app.stop().await;
    }
}
