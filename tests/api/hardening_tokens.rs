//! Hostile tokens on every endpoint that takes one, on both backends (issue 7 item 1): forged
//! algorithms (`none`, HS256 keyed with the RSA public key), unknown, injected and colliding
//! `kid`s, `jku`/`x5u`/`jwk` headers, another realm's tokens, tokens of the wrong type,
//! truncated, tampered, garbled and oversized ones (a 1 MiB bearer header is in
//! `hardening_requests`); then expiry, revocation and `notBefore`.
//! Each must get that endpoint's refusal (never a 5xx) and leave the real tokens alive.
//!
//! Not-yet-valid tokens: Portcullis issues no `nbf`; an `iat` in the future is accepted, as
//! Keycloak, Spring Security and Nimbus do (RFC 7519 makes only `exp` and `nbf` validity
//! conditions, and nodes a few seconds apart must accept each other's tokens); `exp` still
//! bounds the token's life. Only our own keys can produce such a token.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::hardening_requests::{raw, request};
use crate::helpers::{fixture, Backend, Spawn, TestApp};

const SECRET: &str = "s3cr3t-client-value-0123456789";
const PASSWORD: &str = "correct-horse-battery-staple";

/// The vault realm, and realm "elsewhere": the same file under another name (same client ids,
/// secrets and user), so only the realm tells their tokens apart.
pub(crate) async fn two_vaults(backend: Backend) -> TestApp {
    let mut other: Value = serde_json::from_str(&std::fs::read_to_string(fixture("secrets-realm.json")).unwrap()).unwrap();
    other["realm"] = json!("elsewhere");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elsewhere.json");
    std::fs::write(&path, other.to_string()).unwrap();
    let app = Spawn::new(backend).import(fixture("secrets-realm.json")).import(&path).start().await;
    drop(dir);
    app
}

fn oidc(realm: &str, endpoint: &str) -> String {
    format!("/realms/{realm}/protocol/openid-connect/{endpoint}")
}

async fn form(app: &TestApp, path: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let mut pairs = vec![("client_id", "backend"), ("client_secret", SECRET)];
    pairs.extend_from_slice(params);
    let response = app.http.post(app.url(path)).form(&pairs).send().await.expect("a response, not a dropped connection");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn tokens(app: &TestApp, realm: &str) -> Value {
    let (status, body) = form(app, &oidc(realm, "token"), &[
        ("grant_type", "password"), ("username", "carol"), ("password", PASSWORD), ("scope", "openid"),
    ]).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn part(token: &str, index: usize) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(index).unwrap()).unwrap()).unwrap()
}

fn hmac(key: &[u8], input: &str) -> Vec<u8> {
    aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key), input.as_bytes()).as_ref().to_vec()
}

/// An attacker's own RSA key: tokens it signs are well-formed RS256 JWTs.
struct Attacker {
    pair: KeyPair,
}

impl Attacker {
    fn new() -> Self {
        Self { pair: KeyPair::generate(KeySize::Rsa2048).unwrap() }
    }

    fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({ "kty": "RSA", "kid": "attacker", "alg": "RS256", "use": "sig",
                "n": b64(public.modulus().big_endian_without_leading_zero()),
                "e": b64(public.exponent().big_endian_without_leading_zero()) })
    }

    fn sign(&self, header: Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature).unwrap();
        format!("{input}.{}", b64(signature))
    }
}

fn unsigned(header: Value, claims: &Value) -> String {
    format!("{}.{}.", b64(header.to_string()), b64(claims.to_string()))
}

/// Every hostile variant of an access token, named.
fn hostile_access_tokens(real: &Value, foreign: &Value, jwks: &Value) -> Vec<(String, String)> {
    let access = real["access_token"].as_str().unwrap();
    let header = part(access, 0);
    let claims = part(access, 1);
    let kid = header["kid"].as_str().unwrap();
    let key = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).expect("the signing key in JWKS").clone();
    let modulus = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    let attacker = Attacker::new();
    let rs256 = |extra: Value| {
        let mut h = json!({ "alg": "RS256", "typ": "JWT", "kid": "attacker" });
        h.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        attacker.sign(h, &claims)
    };
    let hs256 = |secret: &[u8]| {
        let input = format!("{}.{}", b64(json!({ "alg": "HS256", "typ": "JWT", "kid": kid }).to_string()), b64(claims.to_string()));
        format!("{input}.{}", b64(hmac(secret, &input)))
    };
    let mut tampered = claims.clone();
    tampered["sub"] = json!("someone-else");
    tampered["realm_access"] = json!({ "roles": ["admin"] });
    let signature = access.rsplit('.').next().unwrap();
    let id_token = real["id_token"].as_str().unwrap();
    let list: Vec<(&str, String)> = vec![
        ("alg none", unsigned(json!({ "alg": "none", "typ": "JWT", "kid": kid }), &claims)),
        ("alg None", unsigned(json!({ "alg": "None", "typ": "JWT", "kid": kid }), &claims)),
        ("alg nOnE with a signature", format!("{}{}", unsigned(json!({ "alg": "nOnE", "kid": kid }), &claims), signature)),
        ("alg missing", unsigned(json!({ "typ": "JWT", "kid": kid }), &claims)),
        ("HS256 keyed with the RSA modulus", hs256(&modulus)),
        ("HS256 keyed with the public JWK", hs256(key.to_string().as_bytes())),
        ("HS256 keyed with the JWKS document", hs256(jwks.to_string().as_bytes())),
        ("unknown kid, attacker's key", rs256(json!({}))),
        ("the realm's kid, attacker's key", rs256(json!({ "kid": kid }))),
        ("no kid, attacker's key", attacker.sign(json!({ "alg": "RS256", "typ": "JWT" }), &claims)),
        ("kid path traversal", rs256(json!({ "kid": "../../../../../../dev/null" }))),
        ("kid SQL injection", rs256(json!({ "kid": "' OR '1'='1' --" }))),
        ("kid with a NUL byte", rs256(json!({ "kid": "a\u{0}b" }))),
        ("kid of 10 KB", rs256(json!({ "kid": "k".repeat(10_000) }))),
        ("kid as a number", rs256(json!({ "kid": 7 }))),
        ("jku to the attacker's JWKS", rs256(json!({ "jku": "http://127.0.0.1:9/jwks.json" }))),
        ("x5u to the attacker's certificate", rs256(json!({ "x5u": "http://127.0.0.1:9/cert.pem" }))),
        ("embedded jwk (CVE-2018-0114)", rs256(json!({ "jwk": attacker.jwk(), "kid": kid }))),
        ("embedded x5c", rs256(json!({ "x5c": [STANDARD.encode(b"not a certificate")] }))),
        ("crit extension", rs256(json!({ "crit": ["exp"], "kid": kid }))),
        ("another realm's access token", foreign["access_token"].as_str().unwrap().to_string()),
        ("tampered claims, real signature", format!("{}.{}.{signature}", b64(header.to_string()), b64(tampered.to_string()))),
        ("signature of another token", format!("{}.{}", id_token.rsplit_once('.').unwrap().0, signature)),
        ("truncated by 10 characters", access[..access.len() - 10].to_string()),
        ("signature removed", format!("{}.", access.rsplit_once('.').unwrap().0)),
        ("header and payload only", access.rsplit_once('.').unwrap().0.to_string()),
        ("four parts", format!("{access}.{signature}")),
        ("invalid base64", "!!!.@@@.###".to_string()),
        ("padded base64", format!("{}==.{}", header_b64(access), access.split_once('.').unwrap().1)),
        ("header not JSON", format!("{}.{}.{signature}", b64("not json"), b64(claims.to_string()))),
        ("header a JSON array", format!("{}.{}.{signature}", b64("[]"), b64(claims.to_string()))),
        ("payload not JSON", format!("{}.{}.{signature}", header_b64(access), b64("{"))),
        ("exp as a string", rs256_with(&attacker, kid, json!({ "exp": "tomorrow" }), &claims)),
        ("exp of 1e400", format!("{}.{}.{signature}", header_b64(access), b64(r#"{"exp":1e400,"typ":"Bearer"}"#))),
        ("payload nested 10000 deep", format!("{}.{}.{signature}", header_b64(access), b64("[".repeat(10_000)))),
        ("empty parts", "..".to_string()),
        ("a single dot", ".".to_string()),
        ("control characters", "a\u{1}b.c\u{7f}d.e".to_string()),
        ("non-ASCII", "ключ.ключ.ключ".to_string()),
        ("15 KB of junk", "x".repeat(15 * 1024)),
        ("60 KB of dots", ".".repeat(60 * 1024)),
    ];
    list.into_iter().map(|(name, token)| (name.to_string(), token)).collect()
}

fn header_b64(token: &str) -> &str {
    token.split('.').next().unwrap()
}

/// A token signed by the attacker with some claims replaced.
fn rs256_with(attacker: &Attacker, kid: &str, replace: Value, claims: &Value) -> String {
    let mut claims = claims.clone();
    claims.as_object_mut().unwrap().extend(replace.as_object().unwrap().clone());
    attacker.sign(json!({ "alg": "RS256", "typ": "JWT", "kid": kid }), &claims)
}

/// Every hostile variant of a refresh token (HS256 shells under the realm's HMAC key).
fn hostile_refresh_tokens(real: &Value, foreign: &Value) -> Vec<(String, String)> {
    let refresh = real["refresh_token"].as_str().unwrap();
    let header = part(refresh, 0);
    let claims = part(refresh, 1);
    let kid = header["kid"].as_str().unwrap();
    let attacker = Attacker::new();
    let hs256 = |header: Value, claims: &Value, secret: &[u8]| {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        format!("{input}.{}", b64(hmac(secret, &input)))
    };
    let mut longer = claims.clone();
    longer["exp"] = json!(claims["exp"].as_i64().unwrap() + 10_000_000);
    let mut offline = claims.clone();
    offline["typ"] = json!("Offline");
    let signature = refresh.rsplit('.').next().unwrap();
    vec![
        ("alg none".into(), unsigned(json!({ "alg": "none", "typ": "JWT", "kid": kid }), &claims)),
        ("HS256 under a guessed key".into(), hs256(json!({ "alg": "HS256", "typ": "JWT", "kid": kid }), &claims, b"secret")),
        ("HS256 under an empty key".into(), hs256(json!({ "alg": "HS256", "typ": "JWT", "kid": kid }), &claims, b"")),
        ("RS256 by the attacker".into(), attacker.sign(json!({ "alg": "RS256", "typ": "JWT", "kid": kid }), &claims)),
        ("unknown kid".into(), hs256(json!({ "alg": "HS256", "typ": "JWT", "kid": "nope" }), &claims, b"secret")),
        ("jku header".into(), hs256(json!({ "alg": "HS256", "kid": kid, "jku": "http://127.0.0.1:9/k" }), &claims, b"secret")),
        ("exp pushed, real signature".into(), format!("{}.{}.{signature}", b64(header.to_string()), b64(longer.to_string()))),
        ("Refresh turned Offline".into(), format!("{}.{}.{signature}", b64(header.to_string()), b64(offline.to_string()))),
        ("another realm's refresh token".into(), foreign["refresh_token"].as_str().unwrap().to_string()),
        ("truncated".into(), refresh[..refresh.len() - 5].to_string()),
        ("signature removed".into(), format!("{}.", refresh.rsplit_once('.').unwrap().0)),
        ("invalid base64".into(), "%%%.***.^^^".into()),
        ("payload not JSON".into(), hs256(json!({ "alg": "HS256", "kid": kid }), &json!("x"), b"secret")),
        ("5 KB of junk".into(), "y".repeat(5 * 1024)),
    ]
}

/// The endpoints that take a token, each with the answer a refused token must get; `skip`
/// names endpoints where this token is not hostile.
async fn assert_refused_everywhere(app: &TestApp, name: &str, token: &str, skip: &[&str]) {
    let vault = |e| oidc("vault", e);
    if !skip.contains(&"token") {
        let (status, body) = form(app, &vault("token"), &[("grant_type", "refresh_token"), ("refresh_token", token)]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "refresh grant, {name}: {body}");
    }

    if !skip.contains(&"userinfo") {
        // a token that cannot be a header value goes in the form (RFC 6750 §2.2)
        let response = if reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).is_ok() {
            app.http.get(app.url(&vault("userinfo"))).header("authorization", format!("Bearer {token}")).send().await
        } else {
            app.http.post(app.url(&vault("userinfo"))).form(&[("access_token", token)]).send().await
        };
        let response = response.unwrap_or_else(|e| panic!("userinfo, {name}: {e}"));
        assert_eq!(response.status(), 401, "userinfo, {name}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_string();
        assert!(challenge.starts_with("Bearer"), "userinfo, {name}: {challenge}");
    }

    if !skip.contains(&"introspect") {
        let (status, body) = form(app, &vault("token/introspect"), &[("token", token)]).await;
        assert_eq!((status, body.clone()), (200, json!({ "active": false })), "introspect, {name}");
    }

    if !skip.contains(&"revoke") {
        let (status, body) = form(app, &vault("revoke"), &[("token", token)]).await;
        assert_eq!(status, 200, "revoke answers 200 for invalid tokens (RFC 7009 §2.2), {name}: {body}");
    }

    if !skip.contains(&"logout") {
        let (status, body) = form(app, &vault("logout"), &[("refresh_token", token)]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "logout, {name}: {body}");
    }

    if !skip.contains(&"id_token_hint") {
        let hint = app.http.get(app.url(&vault("logout"))).query(&[("id_token_hint", token)]).send().await.unwrap();
        assert_eq!(hint.status(), 400, "RP-initiated logout with this id_token_hint, {name}");
    }

    if !skip.contains(&"admin") && reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).is_ok() {
        let admin = app.http.get(app.url("/admin/realms/vault/users")).header("authorization", format!("Bearer {token}")).send().await.unwrap();
        // a valid token of realm "elsewhere" authenticates there and is refused here: 403
        let expected = if name.starts_with("another realm's access") { 403 } else { 401 };
        assert_eq!(admin.status(), expected, "admin API, {name}");
    }
}

/// The real tokens survived: nothing above revoked or ended anything.
async fn assert_still_alive(app: &TestApp, real: &Value) {
    let access = real["access_token"].as_str().unwrap();
    let response = app.http.get(app.url(&oidc("vault", "userinfo"))).bearer_auth(access).send().await.unwrap();
    assert_eq!(response.status(), 200, "the real access token still works");
    let (_, body) = form(app, &oidc("vault", "token/introspect"), &[("token", real["refresh_token"].as_str().unwrap())]).await;
    assert_eq!(body["active"], true, "the real refresh token still works");
}

backend_tests! {
    async fn hostile_access_tokens_are_refused_by_every_endpoint(backend: Backend) {
        let app = two_vaults(backend).await;
        let real = tokens(&app, "vault").await;
        let foreign = tokens(&app, "elsewhere").await;
        let (_, jwks) = app.get_json(&oidc("vault", "certs")).await;

        let hostile = hostile_access_tokens(&real, &foreign, &jwks);

        assert!(hostile.len() > 40);
        for (name, token) in &hostile {
            assert_refused_everywhere(&app, name, token, &[]).await;
        }
        assert_still_alive(&app, &real).await;
        app.stop().await;
    }

    async fn hostile_refresh_tokens_are_refused_by_every_endpoint(backend: Backend) {
        let app = two_vaults(backend).await;
        let real = tokens(&app, "vault").await;
        let foreign = tokens(&app, "elsewhere").await;

        let hostile = hostile_refresh_tokens(&real, &foreign);

        for (name, token) in &hostile {
            assert_refused_everywhere(&app, name, token, &[]).await;
        }
        assert_still_alive(&app, &real).await;
        let (status, _) = form(&app, &oidc("vault", "token"), &[("grant_type", "refresh_token"),
            ("refresh_token", real["refresh_token"].as_str().unwrap())]).await;
        assert_eq!(status, 200, "the real refresh token rotates");
        app.stop().await;
    }

    async fn a_token_of_the_wrong_type_is_refused_where_that_type_is_not_taken(backend: Backend) {
        let app = two_vaults(backend).await;
        let real = tokens(&app, "vault").await;
        let token = |kind: &str| real[kind].as_str().unwrap().to_string();

        // introspection and revocation take every type (RFC 7662, RFC 7009); RP-initiated
        // logout takes the id token as its hint: those are not hostile uses
        assert_refused_everywhere(&app, "the refresh token as an access token", &token("refresh_token"),
            &["token", "introspect", "revoke", "logout"]).await;
        assert_refused_everywhere(&app, "the id token as an access or refresh token", &token("id_token"),
            &["introspect", "revoke", "id_token_hint"]).await;
        assert_refused_everywhere(&app, "the access token as a refresh token", &token("access_token"),
            &["userinfo", "introspect", "revoke", "admin"]).await;

        assert_still_alive(&app, &real).await;
        app.stop().await;
    }

    async fn a_megabyte_token_in_a_form_is_refused_with_413(backend: Backend) {
        let app = two_vaults(backend).await;
        let huge = "A".repeat(1024 * 1024);
        let body = format!("client_id=backend&client_secret={SECRET}&grant_type=refresh_token&refresh_token={huge}&token={huge}&access_token={huge}");
        // over a raw socket that reads while it writes: the server answers 413 and closes
        // before taking the rest, which an ordinary client may report as a broken pipe
        for endpoint in ["token", "token/introspect", "revoke", "logout", "userinfo"] {
            let (status, _) = raw(&app, &request("POST", &oidc("vault", endpoint),
                &[("Content-Type", "application/x-www-form-urlencoded")], body.as_bytes())).await;
            assert_eq!(status, 413, "{endpoint}");
        }
        let (status, _) = raw(&app, &request("GET", "/health/live", &[], b"")).await;
        assert_eq!(status, 200, "still serving");
        app.stop().await;
    }

    async fn expired_revoked_and_stale_tokens_are_refused_and_a_future_iat_is_accepted(backend: Backend) {
        let app = two_vaults(backend).await;
        // minted an hour "ahead" (a node whose clock runs fast), checked now
        app.clock.advance(3600);
        let ahead = tokens(&app, "vault").await;
        app.clock.advance(-3600);
        let response = app.http.get(app.url(&oidc("vault", "userinfo"))).bearer_auth(ahead["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(response.status(), 200, "iat in the future is not a validity condition");

        let expiring = tokens(&app, "vault").await;
        app.clock.advance(301);
        assert_refused_everywhere(&app, "expired access token", expiring["access_token"].as_str().unwrap(), &[]).await;
        app.clock.advance(-301);

        let revoked = tokens(&app, "vault").await;
        let (status, _) = form(&app, &oidc("vault", "revoke"), &[("token", revoked["refresh_token"].as_str().unwrap())]).await;
        assert_eq!(status, 200);
        assert_refused_everywhere(&app, "revoked refresh token", revoked["refresh_token"].as_str().unwrap(), &[]).await;

        let stale = tokens(&app, "vault").await;
        let mut realm = app.store.realm_by_name("vault").await.unwrap().unwrap();
        realm.not_before = portcullis::clock::Clock::now(&app.clock) + 1;
        assert!(app.store.update_realm(&realm).await.unwrap());
        app.state.realms.invalidate("vault");
        // like Keycloak, logout takes a stale refresh token of a live session: it only ends it
        assert_refused_everywhere(&app, "access token issued before notBefore", stale["access_token"].as_str().unwrap(), &[]).await;
        assert_refused_everywhere(&app, "refresh token issued before notBefore", stale["refresh_token"].as_str().unwrap(), &["logout"]).await;
        app.stop().await;
    }
}
