//! The browser flows over plain HTTP on both backends (issue 4 items 1-5 and 8): authorization
//! request errors, the login and consent pages, security headers, the SSO cookie, response modes
//! and codes. Pages are read with plain string search. The shared helpers are at the top; refused
//! logins, RP-initiated logout, the account page and brute force are in `browser_account.rs`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{fixture, Backend, Spawn, TestApp};

pub(crate) const REDIRECT: &str = "http://127.0.0.1:9/cb";
pub(crate) const STATE: &str = "st-8Zq";
const NONCE: &str = "n-4Rk";
/// RFC 7636 Appendix B.
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub(crate) const SSO: &str = "PORTCULLIS_SESSION";
pub(crate) const BAD_CREDENTIALS: &str = "Invalid username or password.";

pub(crate) async fn web(backend: Backend) -> TestApp {
    Spawn::new(backend).import(fixture("browser-realm.json")).start().await
}

/// A browser: keeps cookies and never follows redirects, so that every hop is asserted.
pub(crate) fn browser_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A response read whole.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub html: String,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Self { status, headers, html: response.text().await.expect("body") }
    }

    pub(crate) fn location(&self) -> String {
        match self.headers.get(LOCATION) {
            Some(value) => value.to_str().expect("ascii Location").to_string(),
            None => panic!("expected a redirect, got {}: {}", self.status, self.html),
        }
    }

    /// The whole `Set-Cookie` value for this cookie, when the response sets it.
    pub(crate) fn set_cookie(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}=");
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&prefix))
            .map(str::to_string)
    }

    /// The value a `Set-Cookie` gives this cookie (empty when it clears it).
    pub(crate) fn cookie_value(&self, name: &str) -> Option<String> {
        let set = self.set_cookie(name)?;
        Some(set[name.len() + 1..].split(';').next().unwrap_or("").to_string())
    }

    /// The value of the first hidden input with this name.
    pub(crate) fn hidden(&self, name: &str) -> String {
        hidden_inputs(&self.html)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no hidden {name} in {}", self.html))
    }

    /// The first form of the page: its action and hidden inputs.
    pub(crate) fn form(&self) -> (String, Vec<(String, String)>) {
        let start =
            self.html.find("<form").unwrap_or_else(|| panic!("no form in {} {}", self.status, self.html));
        let form = &self.html[start..start + self.html[start..].find("</form>").expect("form closes")];
        (unescape(between(form, "action=\"", "\"").expect("form action")), hidden_inputs(form))
    }
}

pub(crate) fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    Some(&text[start..start + text[start..].find(close)?])
}

/// Undoes minijinja's HTML escaping.
fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|input| {
            Some((unescape(between(input, "name=\"", "\"")?), unescape(between(input, "value=\"", "\"")?)))
        })
        .collect()
}

/// `base` with `extra` applied: a name in `extra` replaces the same name, an empty value drops it.
pub(crate) fn merge(mut base: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    for (name, value) in extra {
        base.retain(|(n, _)| n != name);
        if !value.is_empty() {
            base.push((name.to_string(), value.to_string()));
        }
    }
    base
}

fn redirect_for(client: &str) -> &'static str {
    match client {
        "consenting" => "https://consent.example/cb",
        "no-browser" => "https://nb.example/cb",
        _ => REDIRECT,
    }
}

/// An authorization request of `client` in `realm` (code flow, scope openid, state, nonce, and
/// S256 PKCE for app-a), changed by `extra` as `merge` does.
pub(crate) fn realm_auth_url(app: &TestApp, realm: &str, client: &str, extra: &[(&str, &str)]) -> String {
    let mut params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", redirect_for(client)),
        ("scope", "openid"),
        ("state", STATE),
        ("nonce", NONCE),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if client == "app-a" {
        params.extend([
            ("code_challenge".into(), CHALLENGE.into()),
            ("code_challenge_method".into(), "S256".into()),
        ]);
    }
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(merge(params, extra)).finish();
    app.url(&format!("/realms/{realm}/protocol/openid-connect/auth?{query}"))
}

pub(crate) fn auth_url(app: &TestApp, client: &str, extra: &[(&str, &str)]) -> String {
    realm_auth_url(app, "web", client, extra)
}

pub(crate) async fn get(http: &reqwest::Client, url: &str) -> Reply {
    Reply::read(http.get(url).send().await.expect("request")).await
}

/// POSTs a form, with an explicit `Cookie` header when given.
pub(crate) async fn post(
    http: &reqwest::Client,
    url: &str,
    fields: &[(String, String)],
    cookie: Option<&str>,
) -> Reply {
    let mut request = http.post(url).form(fields);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    Reply::read(request.send().await.expect("request")).await
}

pub(crate) async fn start_login(
    app: &TestApp,
    http: &reqwest::Client,
    client: &str,
    extra: &[(&str, &str)],
) -> Reply {
    get(http, &auth_url(app, client, extra)).await
}

/// Submits the page's first form with its hidden inputs, changed by `extra` as `merge` does.
pub(crate) async fn submit_form(
    app: &TestApp,
    http: &reqwest::Client,
    page: &Reply,
    extra: &[(&str, &str)],
) -> Reply {
    let (action, hidden) = page.form();
    let url = if action.starts_with("http") { action } else { app.url(&action) };
    post(http, &url, &merge(hidden, extra), None).await
}

pub(crate) async fn submit_login(
    app: &TestApp,
    http: &reqwest::Client,
    page: &Reply,
    username: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> Reply {
    assert_eq!(page.status, 200, "a login form: {}", page.html);
    let mut fields = vec![("username", username), ("password", password)];
    fields.extend_from_slice(extra);
    submit_form(app, http, page, &fields).await
}

/// Logs dora in to `client` through the form (no consent expected); returns the redirect.
pub(crate) async fn login(
    app: &TestApp,
    http: &reqwest::Client,
    client: &str,
    extra: &[(&str, &str)],
) -> String {
    let page = start_login(app, http, client, extra).await;
    let reply = submit_login(app, http, &page, "dora", "dora-password-1", &[]).await;
    assert_eq!(reply.status, 302, "{}", reply.html);
    reply.location()
}

/// A parameter of the query or fragment of a redirect.
pub(crate) fn query_param(location: &str, name: &str) -> Option<String> {
    let params = location.split_once(['?', '#']).map(|(_, p)| p).unwrap_or("");
    form_urlencoded::parse(params.as_bytes()).find(|(n, _)| n == name).map(|(_, v)| v.into_owned())
}

pub(crate) fn param(location: &str, name: &str) -> String {
    query_param(location, name).unwrap_or_else(|| panic!("no {name} in {location}"))
}

pub(crate) async fn token(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/realms/web/protocol/openid-connect/token"))
        .form(form)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Exchanges a code as `client` (app-a with the PKCE verifier, app-b with its secret).
pub(crate) async fn exchange(
    app: &TestApp,
    client: &str,
    code: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_for(client)),
        ("client_id", client),
    ];
    match client {
        "app-a" => form.push(("code_verifier", VERIFIER)),
        "app-b" => form.push(("client_secret", "app-b-secret-0123456789")),
        _ => {}
    }
    let form = merge(form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), extra);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    token(app, &form).await
}

pub(crate) async fn refresh(app: &TestApp, client: &str, refresh_token: &str) -> (u16, Value) {
    token(app, &[("grant_type", "refresh_token"), ("client_id", client), ("refresh_token", refresh_token)])
        .await
}

/// The payload of a JWT, unverified (the token endpoint tests verify signatures).
pub(crate) fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

pub(crate) fn assert_security_headers(reply: &Reply, what: &str) {
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_string()
    };
    let csp = header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
}

/// A 400 page that does not send the browser anywhere.
pub(crate) fn assert_error_page(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 400, "{what}: {}", reply.html);
    assert!(reply.headers.get(LOCATION).is_none(), "{what}: must not redirect");
    assert!(reply.headers[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{what}");
    assert!(reply.set_cookie(SSO).is_none_or(|c| c.starts_with(&format!("{SSO}=;"))), "{what}: no session");
    assert_security_headers(reply, what);
}

/// Where a prompt=none request of app-b lands, with the cookies of `http`.
pub(crate) async fn prompt_none(app: &TestApp, http: &reqwest::Client) -> String {
    get(http, &auth_url(app, "app-b", &[("prompt", "none")])).await.location()
}

/// Same, with only the given SSO cookie value (to see a session outlive a cleared cookie).
pub(crate) async fn prompt_none_with(app: &TestApp, sso_value: &str) -> String {
    let request = app
        .http
        .get(auth_url(app, "app-b", &[("prompt", "none")]))
        .header(COOKIE, format!("{SSO}={sso_value}"));
    Reply::read(request.send().await.expect("request")).await.location()
}

/// Logs dora in to app-a asking for offline_access, accepts the consent page, and returns the
/// tokens of the exchanged code.
pub(crate) async fn offline_tokens(app: &TestApp, http: &reqwest::Client) -> Value {
    let page = start_login(app, http, "app-a", &[("scope", "openid offline_access")]).await;
    let consent = submit_login(app, http, &page, "dora", "dora-password-1", &[]).await;
    assert_eq!(consent.status, 200, "OIDC Core §11: offline_access asks for consent: {}", consent.html);
    assert!(consent.html.contains("Offline Access"), "{}", consent.html);
    let reply = submit_form(app, http, &consent, &[("decision", "accept")]).await;
    let (status, tokens) = exchange(app, "app-a", &param(&reply.location(), "code"), &[]).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

fn issuer(app: &TestApp) -> String {
    app.url("/realms/web")
}


backend_tests! {
    async fn authorization_errors_before_the_redirect_uri_is_trusted_are_pages_that_never_redirect(backend: Backend) {
        let app = web(backend).await;
        let cases = [
            ("unknown client", auth_url(&app, "nobody", &[])),
            ("no client_id", auth_url(&app, "app-b", &[("client_id", "")])),
            ("unregistered redirect_uri", auth_url(&app, "app-b", &[("redirect_uri", "https://evil.example/cb")])),
            ("other host, wildcard prefix not matched", auth_url(&app, "app-b", &[("redirect_uri", "http://localhost:9/cb")])),
            ("other scheme, wildcard prefix not matched", auth_url(&app, "app-b", &[("redirect_uri", "https://127.0.0.1:9/cb")])),
            ("longer host, wildcard prefix not matched", auth_url(&app, "app-b", &[("redirect_uri", "http://127.0.0.10/cb")])),
            ("fragment", auth_url(&app, "app-b", &[("redirect_uri", "http://127.0.0.1:9/cb#x")])),
            ("no redirect_uri and only a wildcard registered", auth_url(&app, "app-b", &[("redirect_uri", "")])),
            ("duplicate parameter", format!("{}&state=again", auth_url(&app, "app-b", &[]))),
        ];
        for (what, url) in cases {
            let reply = get(&app.http, &url).await;
            assert_error_page(&reply, what);
            assert!(reply.html.contains("Web Test Realm"), "{what}: {}", reply.html);
        }
        let reply = get(&app.http, &app.url("/realms/nope/protocol/openid-connect/auth?client_id=app-a")).await;
        assert_eq!(reply.status, 404);
        assert!(reply.headers.get(LOCATION).is_none());
        app.stop().await;
    }

    async fn authorization_errors_after_the_redirect_uri_is_trusted_go_back_to_the_client(backend: Backend) {
        let app = web(backend).await;
        let cases: [(&str, &[(&str, &str)], &str); 11] = [
            ("app-b", &[("response_type", "")], "invalid_request"),
            ("app-b", &[("response_type", "token")], "unsupported_response_type"),
            ("app-b", &[("scope", "openid no-such-scope")], "invalid_scope"),
            ("app-a", &[("code_challenge", ""), ("code_challenge_method", "")], "invalid_request"),
            ("app-a", &[("code_challenge", VERIFIER), ("code_challenge_method", "plain")], "invalid_request"),
            ("app-b", &[("prompt", "sometimes")], "invalid_request"),
            ("app-b", &[("max_age", "-1")], "invalid_request"),
            ("app-b", &[("max_age", "soon")], "invalid_request"),
            ("no-browser", &[], "unauthorized_client"),
            ("app-b", &[("response_mode", "jwt")], "invalid_request"),
            ("app-b", &[("response_mode", "jwt"), ("prompt", "none")], "invalid_request"),
        ];
        for (client, extra, error) in cases {
            let what = format!("{client} {extra:?}");
            let reply = get(&app.http, &auth_url(&app, client, extra)).await;
            assert_eq!(reply.status, 302, "{what}: {}", reply.html);
            let location = reply.location();
            assert!(location.starts_with(&format!("{}?", redirect_for(client))), "{what}: {location}");
            assert_eq!(query_param(&location, "error").as_deref(), Some(error), "{what}: {location}");
            assert!(query_param(&location, "error_description").is_some_and(|d| !d.is_empty()), "{what}");
            assert_eq!(query_param(&location, "state").as_deref(), Some(STATE), "{what}");
            assert_eq!(query_param(&location, "iss"), Some(issuer(&app)), "{what}: RFC 9207");
            assert_eq!(query_param(&location, "code"), None, "{what}");
        }
        app.stop().await;
    }

    async fn the_login_page_is_labelled_names_the_realm_offers_remember_me_and_has_no_inline_code(backend: Backend) {
        let app = web(backend).await;
        let page = start_login(&app, &app.http, "app-a", &[("login_hint", "dora@example.com")]).await;
        assert_eq!(page.status, 200);
        assert!(page.headers[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        for needle in ["<label for=\"username\">", "<label for=\"password\">", "id=\"username\"", "id=\"password\"", "type=\"checkbox\"", "name=\"rememberMe\"",
                       "Web Test Realm", "name=\"viewport\"", "value=\"dora@example.com\""] {
            assert!(page.html.contains(needle), "{needle} in {}", page.html);
        }
        assert!(!page.html.contains("<script") && !page.html.contains("style="), "{}", page.html);
        let hostile = start_login(&app, &app.http, "app-a", &[("login_hint", "\"><script>alert(1)</script>")]).await;
        assert!(!hostile.html.contains("<script") && hostile.html.contains("&quot;&gt;&lt;script&gt;"), "the hint is escaped: {}", hostile.html);
        let (action, hidden) = page.form();
        assert_eq!(hidden.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["auth", "csrf"]);
        // as in Keycloak: an absolute action carrying the login's state, its slashes unescaped
        // for clients that scrape it (python-keycloak's `action="(.*)" method`)
        assert_eq!(action, format!("{}/realms/web/login-actions/authenticate?auth={}", app.base, hidden[0].1));
        assert!(page.html.contains(&format!("action=\"{action}\" method=\"post\"")), "{}", page.html);
        let login_cookie = page.set_cookie("PORTCULLIS_LOGIN").expect("the CSRF cookie");
        assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("Path=/realms/web/"), "{login_cookie}");
        app.stop().await;
    }

    async fn every_page_carries_the_security_headers(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        assert_security_headers(&start_login(&app, &jar, "app-a", &[]).await, "login page");
        assert_security_headers(&get(&jar, &auth_url(&app, "nobody", &[])).await, "error page");
        let page = start_login(&app, &jar, "consenting", &[]).await;
        let consent = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        assert_eq!(consent.status, 200);
        assert_security_headers(&consent, "consent page");
        let account = get(&jar, &app.url("/realms/web/account")).await;
        assert!(account.html.contains("Signed in as dora"), "{}", account.html);
        assert_security_headers(&account, "account page");
        let confirm = get(&jar, &app.url("/realms/web/protocol/openid-connect/logout")).await;
        assert_security_headers(&confirm, "logout confirmation page");
        let signed_out = submit_form(&app, &jar, &confirm, &[]).await;
        assert!(signed_out.html.contains("You are signed out"), "{}", signed_out.html);
        assert_security_headers(&signed_out, "logged-out page");
        for page in [&consent, &account, &confirm, &signed_out] {
            assert!(!page.html.contains("<script") && !page.html.contains("style="), "{}", page.html);
        }
        app.stop().await;
    }

    async fn a_login_redirects_with_a_code_that_exchanges_with_pkce_for_tokens_carrying_the_nonce(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let page = start_login(&app, &jar, "app-a", &[]).await;
        let reply = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        assert_eq!(reply.status, 302, "{}", reply.html);
        let location = reply.location();
        assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
        assert_eq!(param(&location, "state"), STATE);
        assert_eq!(param(&location, "iss"), issuer(&app));
        let session_state = param(&location, "session_state");
        let (status, tokens) = exchange(&app, "app-a", &param(&location, "code"), &[]).await;
        assert_eq!(status, 200, "{tokens}");
        let id = claims(tokens["id_token"].as_str().expect("an id token for scope openid"));
        assert_eq!(id["nonce"], NONCE);
        assert_eq!(id["sid"], session_state.as_str());
        assert_eq!(id["preferred_username"], "dora");
        assert_eq!(id["aud"], "app-a");
        assert_eq!(claims(tokens["refresh_token"].as_str().unwrap())["typ"], "Refresh");
        assert!(reply.set_cookie("PORTCULLIS_LOGIN").is_some_and(|c| c.contains("Max-Age=0")), "the CSRF cookie is cleared");
        app.stop().await;
    }

    async fn the_sso_cookie_is_httponly_lax_realm_scoped_and_lasts_only_with_remember_me(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let page = start_login(&app, &jar, "app-a", &[]).await;
        let reply = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        let cookie = reply.set_cookie(SSO).expect("the SSO cookie");
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/realms/web/"] {
            assert!(cookie.contains(flag), "{flag} in {cookie}");
        }
        assert!(!cookie.contains("Secure") && !cookie.contains("Max-Age") && !cookie.contains("Expires"), "a browser-session cookie over http: {cookie}");
        let jar = browser_client();
        let page = start_login(&app, &jar, "app-a", &[]).await;
        let reply = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[("rememberMe", "on")]).await;
        let cookie = reply.set_cookie(SSO).expect("the SSO cookie");
        let max_age: i64 = between(&format!("{cookie};"), "Max-Age=", ";").expect("remember-me keeps the cookie").parse().unwrap();
        assert!(max_age > 0, "{cookie}");
        app.stop().await;
    }

    async fn the_sso_cookie_is_secure_behind_an_https_proxy(backend: Backend) {
        let app = Spawn::new(backend).import(fixture("browser-realm.json")).setting("proxy-headers", "xforwarded").start().await;
        let https = |request: reqwest::RequestBuilder| request.header("x-forwarded-proto", "https");
        let page = Reply::read(https(app.http.get(auth_url(&app, "app-a", &[]))).send().await.unwrap()).await;
        let login_cookie = page.set_cookie("PORTCULLIS_LOGIN").expect("CSRF cookie");
        assert!(login_cookie.contains("Secure"), "{login_cookie}");
        let (action, hidden) = page.form();
        let fields = merge(hidden, &[("username", "dora"), ("password", "dora-password-1")]);
        let path = &action[action.find("/realms/").expect("the action's path")..];
        assert!(action.starts_with("https://"), "behind a TLS proxy the action is https: {action}");
        let request = app.http.post(app.url(path)).form(&fields).header(COOKIE, format!("PORTCULLIS_LOGIN={}", page.cookie_value("PORTCULLIS_LOGIN").unwrap()));
        let reply = Reply::read(https(request).send().await.unwrap()).await;
        assert_eq!(reply.status, 302, "{}", reply.html);
        assert!(param(&reply.location(), "iss").starts_with("https://"));
        let cookie = reply.set_cookie(SSO).expect("the SSO cookie");
        assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        app.stop().await;
    }

    async fn a_live_sso_session_gets_a_code_for_another_client_without_the_form(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let first = login(&app, &jar, "app-a", &[]).await;
        let reply = start_login(&app, &jar, "app-b", &[]).await;
        assert_eq!(reply.status, 302, "no form: {}", reply.html);
        let location = reply.location();
        assert_eq!(param(&location, "session_state"), param(&first, "session_state"));
        assert_eq!(param(&location, "state"), STATE);
        let (status, tokens) = exchange(&app, "app-b", &param(&location, "code"), &[]).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(claims(tokens["id_token"].as_str().unwrap())["aud"], "app-b");
        let query = auth_url(&app, "app-b", &[]).split_once('?').unwrap().1.to_string();
        let fields: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let posted = post(&jar, &app.url("/realms/web/protocol/openid-connect/auth"), &fields, None).await;
        assert!(query_param(&posted.location(), "code").is_some(), "a POSTed authorization request works alike");
        app.stop().await;
    }

    async fn prompt_none_without_a_session_redirects_with_login_required(backend: Backend) {
        let app = web(backend).await;
        let location = prompt_none(&app, &browser_client()).await;
        assert!(location.starts_with(REDIRECT), "{location}");
        assert_eq!(param(&location, "error"), "login_required");
        assert_eq!(param(&location, "state"), STATE);
        assert_eq!(param(&location, "iss"), issuer(&app));
        assert_eq!(query_param(&prompt_none_with(&app, "forged-cookie-value").await, "error").as_deref(), Some("login_required"));
        app.stop().await;
    }

    async fn prompt_login_and_an_exceeded_max_age_show_the_form_despite_the_session(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        login(&app, &jar, "app-a", &[]).await;
        let reply = start_login(&app, &jar, "app-b", &[("prompt", "login")]).await;
        assert_eq!(reply.status, 200);
        assert!(reply.html.contains("id=\"login-form\""), "{}", reply.html);
        app.clock.advance(5);
        let reply = start_login(&app, &jar, "app-b", &[("max_age", "0")]).await;
        assert_eq!(reply.status, 200);
        assert!(reply.html.contains("id=\"login-form\""));
        let reply = start_login(&app, &jar, "app-b", &[("max_age", "3600")]).await;
        assert_eq!(reply.status, 302, "{}", reply.html);
        assert!(query_param(&reply.location(), "code").is_some());
        app.stop().await;
    }

    async fn the_consent_page_lists_the_scopes_and_a_refusal_is_access_denied(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let page = start_login(&app, &jar, "consenting", &[("scope", "openid email")]).await;
        let consent = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        assert_eq!(consent.status, 200);
        assert!(consent.set_cookie(SSO).is_some(), "the user is logged in before consenting");
        for needle in ["Grant access to consenting", "User profile", "Email address"] {
            assert!(consent.html.contains(needle), "{needle} in {}", consent.html);
        }
        let reply = submit_form(&app, &jar, &consent, &[("decision", "accept"), ("csrf", "forged")]).await;
        assert_error_page(&reply, "consent with a wrong csrf");
        let reply = submit_form(&app, &jar, &consent, &[("decision", "deny")]).await;
        let location = reply.location();
        assert!(location.starts_with("https://consent.example/cb?"), "{location}");
        assert_eq!((param(&location, "error"), param(&location, "state")), ("access_denied".into(), STATE.into()));
        assert_eq!(query_param(&location, "code"), None);
        let location = get(&jar, &auth_url(&app, "consenting", &[("prompt", "none")])).await.location();
        assert_eq!(param(&location, "error"), "consent_required", "consent was never given");
        app.stop().await;
    }

    async fn an_accepted_consent_is_remembered_until_prompt_consent(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let page = start_login(&app, &jar, "consenting", &[]).await;
        let consent = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        let reply = submit_form(&app, &jar, &consent, &[("decision", "accept")]).await;
        let location = reply.location();
        let (status, body) = exchange(&app, "consenting", &param(&location, "code"), &[]).await;
        assert_eq!(status, 200, "{body}");
        let again = start_login(&app, &jar, "consenting", &[]).await;
        assert_eq!(again.status, 302, "consent is remembered: {}", again.html);
        assert!(query_param(&again.location(), "code").is_some());
        let none = get(&jar, &auth_url(&app, "consenting", &[("prompt", "none")])).await.location();
        assert!(query_param(&none, "code").is_some(), "{none}");
        let asked = start_login(&app, &jar, "consenting", &[("prompt", "consent")]).await;
        assert_eq!(asked.status, 200);
        assert!(asked.html.contains("id=\"consent-form\""), "{}", asked.html);
        app.stop().await;
    }

    async fn offline_access_asks_for_consent_even_without_consent_required_and_yields_an_offline_token(backend: Backend) {
        let app = web(backend).await;
        let tokens = offline_tokens(&app, &browser_client()).await;
        assert_eq!(claims(tokens["refresh_token"].as_str().unwrap())["typ"], "Offline");
        let (status, body) = refresh(&app, "app-a", tokens["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{body}");
        app.stop().await;
    }

    async fn response_mode_fragment_puts_the_code_after_the_hash(backend: Backend) {
        let app = web(backend).await;
        let location = login(&app, &browser_client(), "app-a", &[("response_mode", "fragment")]).await;
        assert!(location.starts_with(&format!("{REDIRECT}#")) && !location.contains('?'), "{location}");
        assert_eq!(param(&location, "state"), STATE);
        assert_eq!(exchange(&app, "app-a", &param(&location, "code"), &[]).await.0, 200);
        app.stop().await;
    }

    async fn response_mode_form_post_renders_a_self_posting_form_without_inline_script(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let page = start_login(&app, &jar, "app-a", &[("response_mode", "form_post")]).await;
        let reply = submit_login(&app, &jar, &page, "dora", "dora-password-1", &[]).await;
        assert_eq!(reply.status, 200, "{}", reply.html);
        assert_security_headers(&reply, "form_post page");
        let (action, fields) = reply.form();
        assert_eq!(action, REDIRECT);
        let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("{name}"));
        assert_eq!((field("state"), field("iss")), (STATE.to_string(), issuer(&app)));
        assert_eq!(exchange(&app, "app-a", &field("code"), &[]).await.0, 200);
        assert_eq!(reply.html.matches("<script").count(), 1, "{}", reply.html);
        assert!(reply.html.contains("<script src=\"/resources/form-post.js\""), "{}", reply.html);
        let error = get(&browser_client(), &auth_url(&app, "app-a", &[("response_mode", "form_post"), ("prompt", "none")])).await;
        assert_eq!((error.status, error.hidden("error")), (200, "login_required".to_string()));
        for (path, mime) in [("/resources/form-post.js", "javascript"), ("/resources/portcullis.css", "text/css")] {
            let resource = get(&app.http, &app.url(path)).await;
            assert_eq!(resource.status, 200, "{path}");
            assert!(resource.headers[CONTENT_TYPE].to_str().unwrap().contains(mime) && !resource.html.is_empty(), "{path}");
        }
        assert_eq!(get(&app.http, &app.url("/resources/nothing.js")).await.status, 404);
        app.stop().await;
    }

    async fn a_code_is_single_use_and_a_replay_revokes_what_it_gave(backend: Backend) {
        let app = web(backend).await;
        let location = login(&app, &browser_client(), "app-a", &[]).await;
        let code = param(&location, "code");
        let (status, tokens) = exchange(&app, "app-a", &code, &[]).await;
        assert_eq!(status, 200);
        let (status, body) = exchange(&app, "app-a", &code, &[]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
        let (status, _) = refresh(&app, "app-a", tokens["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 400, "RFC 6749 §4.1.2: tokens from a replayed code are revoked");
        app.stop().await;
    }

    async fn a_code_expires_after_access_code_lifespan(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let early = param(&login(&app, &jar, "app-a", &[]).await, "code");
        let late = param(&start_login(&app, &jar, "app-a", &[]).await.location(), "code");
        app.clock.advance(59);
        assert_eq!(exchange(&app, "app-a", &early, &[]).await.0, 200);
        app.clock.advance(2);
        let (status, body) = exchange(&app, "app-a", &late, &[]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
        app.stop().await;
    }

    async fn a_code_is_bound_to_its_client_redirect_uri_and_pkce_challenge(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        login(&app, &jar, "app-a", &[]).await;
        let code = |client: &'static str| {
            let (app, jar) = (&app, &jar);
            async move { param(&start_login(app, jar, client, &[]).await.location(), "code") }
        };
        let cases: [(&str, &str, &[(&str, &str)]); 5] = [
            ("app-a", "app-b", &[]),
            ("app-b", "app-a", &[]),
            ("app-a", "app-a", &[("redirect_uri", "http://127.0.0.1:10/cb")]),
            ("app-a", "app-a", &[("code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier-0")]),
            ("app-a", "app-a", &[("code_verifier", "")]),
        ];
        for (issued_to, exchanged_by, extra) in cases {
            let (status, body) = exchange(&app, exchanged_by, &code(issued_to).await, extra).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{issued_to} -> {exchanged_by} {extra:?}: {body}");
        }
        assert_eq!(exchange(&app, "app-a", &code("app-a").await, &[]).await.0, 200, "the unchanged exchange works");
        app.stop().await;
    }
}

backend_tests! {
    async fn a_wildcard_redirect_uri_cannot_be_escaped_through_userinfo(backend: Backend) {
        // `http://127.0.0.1:*` is a string prefix of `http://127.0.0.1:@evil.example/cb`, whose
        // host is evil.example: a victim with a session would carry a fresh code there.
        let app = web(backend).await;
        let jar = browser_client();
        let location = login(&app, &jar, "app-a", &[]).await;
        let (_, tokens) = exchange(&app, "app-a", &param(&location, "code"), &[]).await;
        for uri in ["http://127.0.0.1:@evil.example/cb", "http://127.0.0.1:9@evil.example/cb"] {
            let reply = get(&jar, &auth_url(&app, "app-b", &[("redirect_uri", uri)])).await;
            if reply.status == 302 {
                let host = url::Url::parse(&reply.location()).unwrap().host_str().map(str::to_string);
                panic!("a code went to host {host:?}: {}", reply.location());
            }
            assert_error_page(&reply, uri);
            let hint = tokens["id_token"].as_str().unwrap();
            let logout = format!("/realms/web/protocol/openid-connect/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
                form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>());
            assert_error_page(&get(&jar, &app.url(&logout)).await, "post_logout_redirect_uri via \"+\"");
        }
        app.stop().await;
    }
}

backend_tests! {
    async fn max_age_zero_forces_the_form_like_prompt_login(backend: Backend) {
        // OIDC Core 1.0 §3.1.2.1 (errata set 2): "max_age=0 is equivalent to prompt=login"
        let app = web(backend).await;
        let jar = browser_client();
        login(&app, &jar, "app-a", &[]).await;
        let reply = start_login(&app, &jar, "app-b", &[("max_age", "0")]).await;
        assert_eq!(reply.status, 200, "the form, not a code: {:?}", reply.headers.get(LOCATION));
        app.stop().await;
    }
}

/// Exchanges a code of a public client of `realm` without PKCE.
pub(crate) async fn exchange_in(app: &TestApp, realm: &str, client: &str, redirect_uri: &str, code: &str) -> (u16, Value) {
    crate::admin_support::token_request(
        app,
        realm,
        &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri), ("client_id", client)],
    )
    .await
}
