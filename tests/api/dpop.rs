//! DPoP (RFC 9449, issue 19 item 5) over HTTP on both backends: a proof at the token endpoint
//! binds the access token (`cnf.jkt`, `token_type: DPoP`) and a public client's refresh token to
//! the key, which every refresh must then prove; userinfo takes a bound token only under the
//! `DPoP` scheme with a proof for that token; introspection shows the binding; proofs are
//! checked for form, signature, method, URL, time and replay; `dpop.bound.access.tokens`
//! requires them; a code asked for with `dpop_jkt` (§10), or pushed with a proof (§10.1), needs a
//! proof of that key; `dpop.nonce.required` makes proofs carry a server nonce (§8, §9). The
//! thumbprints are checked against jsonwebtoken's own RFC 7638 code.

use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use portcullis::clock::Clock;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::browser_flows::{browser_client, claims, get, param, submit_login, REDIRECT};
use crate::client_assertions::es256_key;
use crate::helpers::{fixture, Spawn, TestApp};

const TOKEN: &str = "/realms/dpop/protocol/openid-connect/token";
const USERINFO: &str = "/realms/dpop/protocol/openid-connect/userinfo";
const PAR: &str = "/realms/dpop/protocol/openid-connect/ext/par/request";
const API_SECRET: &str = "api-secret-0123456789";

fn auth_url(app: &TestApp, dpop_jkt: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("response_type", "code"), ("client_id", "web-spa"), ("redirect_uri", REDIRECT), ("scope", "openid"), ("dpop_jkt", dpop_jkt)])
        .finish();
    app.url(&format!("/realms/dpop/protocol/openid-connect/auth?{query}"))
}

/// dora's code for web-spa, asked for with `dpop_jkt`.
async fn code_for(app: &TestApp, dpop_jkt: &str) -> String {
    let jar = browser_client();
    let page = get(&jar, &auth_url(app, dpop_jkt)).await;
    param(&submit_login(app, &jar, &page, "dora", "dora-password-1", &[]).await.location(), "code")
}

/// dora's code for web-spa through a pushed request.
async fn code_by_request_uri(app: &TestApp, request_uri: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs([("client_id", "web-spa"), ("request_uri", request_uri)]).finish();
    let jar = browser_client();
    let page = get(&jar, &app.url(&format!("/realms/dpop/protocol/openid-connect/auth?{query}"))).await;
    param(&submit_login(app, &jar, &page, "dora", "dora-password-1", &[]).await.location(), "code")
}

async fn redeem(app: &TestApp, code: &str, proofs: &[&str]) -> (u16, Value) {
    let form = [("grant_type", "authorization_code"), ("client_id", "web-spa"), ("redirect_uri", REDIRECT), ("code", code)];
    token_with(app, &form, proofs).await
}

struct Key {
    signing: EncodingKey,
    jwk: Value,
}

impl Key {
    fn new() -> Self {
        let (signing, mut jwk) = es256_key("k");
        for private_or_extra in ["kid", "use", "alg"] {
            jwk.as_object_mut().unwrap().remove(private_or_extra);
        }
        Self { signing, jwk }
    }

    /// RFC 7638, as jsonwebtoken computes it (not the server's code).
    fn thumbprint(&self) -> String {
        serde_json::from_value::<Jwk>(self.jwk.clone()).unwrap().thumbprint(ThumbprintHash::SHA256)
    }

    fn proof_with(&self, claims: Value, jwk: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(jwk.clone()).unwrap());
        encode(&header, &claims, &self.signing).unwrap()
    }

    /// A fresh proof for `method` on `url` at the server's now (with `ath` for `access_token`).
    fn proof(&self, app: &TestApp, method: &str, url: &str, access_token: Option<&str>) -> String {
        self.proof_nonced(app, method, url, access_token, None)
    }

    /// The same, carrying a server nonce.
    fn proof_nonced(&self, app: &TestApp, method: &str, url: &str, access_token: Option<&str>, nonce: Option<&str>) -> String {
        let mut claims = json!({ "jti": portcullis::domain::new_id(), "htm": method, "htu": url, "iat": app.clock.now() });
        if let Some(token) = access_token {
            claims["ath"] = json!(portcullis::oauth::dpop::access_token_hash(token));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        self.proof_with(claims, &self.jwk)
    }
}

async fn dpop_app(backend: crate::helpers::Backend) -> TestApp {
    Spawn::new(backend).import(fixture("dpop-realm.json")).start().await
}

async fn token_with(app: &TestApp, form: &[(&str, &str)], proofs: &[&str]) -> (u16, Value) {
    let (status, body, _) = post_with(app, TOKEN, form, proofs).await;
    (status, body)
}

/// A POST to `path` with these proofs: status, body and the `DPoP-Nonce` header.
async fn post_with(app: &TestApp, path: &str, form: &[(&str, &str)], proofs: &[&str]) -> (u16, Value, Option<String>) {
    let mut request = app.http.post(app.url(path)).form(form);
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let nonce = response.headers().get("dpop-nonce").map(|v| v.to_str().unwrap().to_string());
    (status, response.json().await.unwrap_or(Value::Null), nonce)
}

fn password(client: &str) -> Vec<(&str, &str)> {
    let mut form = vec![("grant_type", "password"), ("client_id", client), ("username", "dora"), ("password", "dora-password-1"), ("scope", "openid")];
    if client == "api" {
        form.push(("client_secret", API_SECRET));
    }
    form
}

async fn userinfo(app: &TestApp, scheme: &str, token: &str, proof: Option<&str>) -> (u16, Value, String) {
    let (status, body, challenge, _) = userinfo_nonce(app, scheme, token, proof).await;
    (status, body, challenge)
}

/// Userinfo: status, body, challenge and the `DPoP-Nonce` header.
async fn userinfo_nonce(app: &TestApp, scheme: &str, token: &str, proof: Option<&str>) -> (u16, Value, String, Option<String>) {
    let mut request = app.http.get(app.url(USERINFO)).header("Authorization", format!("{scheme} {token}"));
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    let (challenge, nonce) = (header("www-authenticate").unwrap_or_default(), header("dpop-nonce"));
    (status, response.json().await.unwrap_or(Value::Null), challenge, nonce)
}

fn refused(got: &(u16, Value), status: u16, error: &str, description: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error"], error, "{}", got.1);
    assert_eq!(got.1["error_description"], description, "{}", got.1);
}

backend_tests! {
    async fn a_public_clients_tokens_are_bound_to_its_key_and_every_use_proves_it(backend: Backend) {
        let app = dpop_app(backend).await;
        let key = Key::new();
        let token_url = app.url(TOKEN);
        let (status, tokens) = token_with(&app, &password("spa"), &[&key.proof(&app, "POST", &token_url, None)]).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["token_type"], "DPoP");
        let access = tokens["access_token"].as_str().unwrap();
        let access_claims = claims(access);
        assert_eq!(access_claims["cnf"]["jkt"], key.thumbprint(), "{access_claims}");
        assert_eq!(access_claims["typ"], "DPoP");
        let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
        assert_eq!(claims(&refresh)["cnf"]["jkt"], key.thumbprint(), "a public client's refresh token is bound too");

        // refresh: only with a proof of the same key
        let form = [("grant_type", "refresh_token"), ("client_id", "spa"), ("refresh_token", refresh.as_str())];
        let unproven = token_with(&app, &form, &[]).await;
        refused(&unproven, 400, "invalid_grant", "DPoP proof and token binding verification failed");
        let other = Key::new();
        let wrong_key = token_with(&app, &form, &[&other.proof(&app, "POST", &token_url, None)]).await;
        refused(&wrong_key, 400, "invalid_grant", "DPoP proof and token binding verification failed");
        let proof = key.proof(&app, "POST", &token_url, None);
        let (status, refreshed) = token_with(&app, &form, &[&proof]).await;
        assert_eq!(status, 200, "{refreshed}");
        assert_eq!(refreshed["token_type"], "DPoP");
        assert_eq!(claims(refreshed["refresh_token"].as_str().unwrap())["cnf"]["jkt"], key.thumbprint());
        // the same proof again, on any grant
        let replay = token_with(&app, &password("spa"), &[&proof]).await;
        refused(&replay, 400, "invalid_dpop_proof", "DPoP proof has already been used");

        // userinfo: the DPoP scheme with a proof for this token, nothing else
        let access = refreshed["access_token"].as_str().unwrap();
        let userinfo_url = app.url(USERINFO);
        let (status, body, _) = userinfo(&app, "DPoP", access, Some(&key.proof(&app, "GET", &userinfo_url, Some(access)))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["preferred_username"], "dora");
        let (status, body, _) = userinfo(&app, "Bearer", access, None).await;
        assert_eq!((status, body["error_description"].as_str()), (401, Some("The access token type is DPoP but Authorization Header is not DPoP")), "{body}");
        let (status, body, challenge) = userinfo(&app, "DPoP", access, Some(&key.proof(&app, "GET", &userinfo_url, None))).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_dpop_proof")), "{body}");
        assert_eq!(body["error_description"], "No access token hash in DPoP proof");
        assert!(challenge.starts_with("DPoP error=\"invalid_dpop_proof\""), "{challenge}");
        let (status, body, _) = userinfo(&app, "DPoP", access, Some(&other.proof(&app, "GET", &userinfo_url, Some(access)))).await;
        assert_eq!((status, body["error_description"].as_str()), (401, Some("DPoP confirmation doesn't match DPoP proof")), "{body}");
        let (status, body, _) = userinfo(&app, "DPoP", access, None).await;
        assert_eq!((status, body["error_description"].as_str()), (401, Some("DPoP proof is missing")), "{body}");

        // introspection shows the binding
        let response = app.http.post(app.url("/realms/dpop/protocol/openid-connect/token/introspect"))
            .form(&[("client_id", "api"), ("client_secret", API_SECRET), ("token", access)]).send().await.unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!((body["active"].as_bool(), body["token_type"].as_str()), (Some(true), Some("DPoP")), "{body}");
        assert_eq!(body["cnf"]["jkt"], key.thumbprint());
        app.stop().await;
    }

    async fn proofs_are_checked_and_bound_clients_must_send_one(backend: Backend) {
        let app = dpop_app(backend).await;
        let key = Key::new();
        let url = app.url(TOKEN);
        let now = app.clock.now();
        let at = |htm: &str, htu: &str, iat: i64| json!({ "jti": portcullis::domain::new_id(), "htm": htm, "htu": htu, "iat": iat });
        let cases = [
            (key.proof_with(at("GET", &url, now), &key.jwk), "DPoP HTTP method mismatch"),
            (key.proof_with(at("POST", &app.url("/realms/dpop/protocol/openid-connect/userinfo"), now), &key.jwk), "DPoP HTTP URL mismatch"),
            (key.proof_with(at("POST", &url, now - 26), &key.jwk), "DPoP proof is not active"),
            (key.proof_with(at("POST", &url, now + 16), &key.jwk), "DPoP proof is not active"),
            (key.proof_with(json!({ "htm": "POST", "htu": url, "iat": now }), &key.jwk), "DPoP mandatory claims are missing"),
            (key.proof_with(at("POST", &url, now), &Key::new().jwk), "DPoP verification failure: Invalid token signature"),
            (encode(&Header::new(Algorithm::ES256), &at("POST", &url, now), &key.signing).unwrap(), "Invalid or missing type in DPoP header: JWT"),
        ];
        for (proof, why) in cases {
            refused(&token_with(&app, &password("spa"), &[&proof]).await, 400, "invalid_dpop_proof", why);
        }
        let two = [key.proof(&app, "POST", &url, None), key.proof(&app, "POST", &url, None)];
        refused(&token_with(&app, &password("spa"), &[&two[0], &two[1]]).await, 400, "invalid_dpop_proof", "Only one DPoP header is allowed");
        // within the window, and htu compared without its query
        let (status, body) = token_with(&app, &password("spa"), &[&key.proof_with(at("POST", &format!("{url}?x=1"), now - 24), &key.jwk)]).await;
        assert_eq!(status, 200, "{body}");

        // dpop.bound.access.tokens: a proof is required
        refused(&token_with(&app, &password("strict"), &[]).await, 400, "invalid_dpop_proof", "DPoP proof is missing");
        let (status, body) = token_with(&app, &password("strict"), &[&key.proof(&app, "POST", &url, None)]).await;
        assert_eq!((status, body["token_type"].as_str()), (200, Some("DPoP")), "{body}");

        // a confidential client: the access token is bound, the refresh token is not (its credentials bind it)
        let (status, tokens) = token_with(&app, &password("api"), &[&key.proof(&app, "POST", &url, None)]).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(claims(tokens["access_token"].as_str().unwrap())["cnf"]["jkt"], key.thumbprint());
        let refresh = tokens["refresh_token"].as_str().unwrap();
        assert!(claims(refresh).get("cnf").is_none(), "{}", claims(refresh));
        let (status, body) = token_with(&app, &[("grant_type", "refresh_token"), ("client_id", "api"), ("client_secret", API_SECRET), ("refresh_token", refresh)], &[]).await;
        assert_eq!((status, body["token_type"].as_str()), (200, Some("Bearer")), "{body}");
        // without a proof nothing changes: bearer tokens as before, refused under the DPoP scheme
        let (status, plain) = token_with(&app, &password("spa"), &[]).await;
        assert_eq!((status, plain["token_type"].as_str()), (200, Some("Bearer")), "{plain}");
        let bearer = plain["access_token"].as_str().unwrap();
        let (status, body, _) = userinfo(&app, "DPoP", bearer, Some(&key.proof(&app, "GET", &app.url(USERINFO), Some(bearer)))).await;
        assert_eq!((status, body["error_description"].as_str()), (401, Some("The access token type is not DPoP but Authorization Header is DPoP")), "{body}");

        let discovery = app.get_json("/realms/dpop/.well-known/openid-configuration").await.1;
        assert!(discovery["dpop_signing_alg_values_supported"].as_array().unwrap().contains(&json!("ES256")), "{discovery}");
        app.stop().await;
    }

    async fn a_proof_pushed_with_an_authorization_request_binds_its_code(backend: Backend) {
        let app = dpop_app(backend).await;
        let key = Key::new();
        let par_url = app.url(PAR);
        let request = [("client_id", "web-spa"), ("response_type", "code"), ("redirect_uri", REDIRECT), ("scope", "openid")];
        let (status, pushed, _) = post_with(&app, PAR, &request, &[&key.proof(&app, "POST", &par_url, None)]).await;
        assert_eq!(status, 201, "{pushed}");
        let uri = pushed["request_uri"].as_str().unwrap().to_string();
        // the code of that request needs a proof of the pushing key (RFC 9449 §10.1)
        let code = code_by_request_uri(&app, &uri).await;
        let url = app.url(TOKEN);
        refused(&redeem(&app, &code, &[&Key::new().proof(&app, "POST", &url, None)]).await, 400, "invalid_dpop_proof",
            "DPoP Proof public key thumbprint does not match dpop_jkt");
        let (status, pushed, _) = post_with(&app, PAR, &request, &[&key.proof(&app, "POST", &par_url, None)]).await;
        assert_eq!(status, 201, "{pushed}");
        let code = code_by_request_uri(&app, pushed["request_uri"].as_str().unwrap()).await;
        let (status, tokens) = redeem(&app, &code, &[&key.proof(&app, "POST", &url, None)]).await;
        assert_eq!((status, tokens["token_type"].as_str()), (200, Some("DPoP")), "{tokens}");

        // a proof and a dpop_jkt of another key in one push; a proof for another URL; a replayed proof
        let other = Key::new().thumbprint();
        let mut with_jkt = request.to_vec();
        with_jkt.push(("dpop_jkt", other.as_str()));
        let mismatch = post_with(&app, PAR, &with_jkt, &[&key.proof(&app, "POST", &par_url, None)]).await;
        refused(&(mismatch.0, mismatch.1), 400, "invalid_dpop_proof", "DPoP Proof public key thumbprint does not match dpop_jkt");
        let elsewhere = post_with(&app, PAR, &request, &[&key.proof(&app, "POST", &url, None)]).await;
        refused(&(elsewhere.0, elsewhere.1), 400, "invalid_dpop_proof", "DPoP HTTP URL mismatch");
        let proof = key.proof(&app, "POST", &par_url, None);
        assert_eq!(post_with(&app, PAR, &request, &[&proof]).await.0, 201);
        let replay = post_with(&app, PAR, &request, &[&proof]).await;
        refused(&(replay.0, replay.1), 400, "invalid_dpop_proof", "DPoP proof has already been used");
        app.stop().await;
    }

    async fn a_client_that_requires_nonces_hands_them_out_and_refuses_proofs_without_a_current_one(backend: Backend) {
        let app = dpop_app(backend).await;
        // at the start of a one-minute nonce window, so the steps below land in known windows
        app.clock.set((app.clock.now() / 60 + 1) * 60 + 1);
        let key = Key::new();
        let url = app.url(TOKEN);
        // no nonce: refused with a fresh one (RFC 9449 §8)
        let (status, body, nonce) = post_with(&app, TOKEN, &password("nonced"), &[&key.proof(&app, "POST", &url, None)]).await;
        refused(&(status, body), 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof");
        let nonce = nonce.expect("a DPoP-Nonce header");
        let (status, body, _) = post_with(&app, TOKEN, &password("nonced"), &[&key.proof_nonced(&app, "POST", &url, None, Some("made-up"))]).await;
        refused(&(status, body), 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof");
        // with it: tokens, and a nonce for the next request
        let (status, tokens, next) = post_with(&app, TOKEN, &password("nonced"), &[&key.proof_nonced(&app, "POST", &url, None, Some(&nonce))]).await;
        assert_eq!((status, tokens["token_type"].as_str()), (200, Some("DPoP")), "{tokens}");
        assert!(next.is_some(), "a successful answer offers the current nonce");
        // still good a minute later; not two minutes later
        app.clock.advance(61);
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let form = [("grant_type", "refresh_token"), ("client_id", "nonced"), ("refresh_token", refresh)];
        let (status, refreshed, _) = post_with(&app, TOKEN, &form, &[&key.proof_nonced(&app, "POST", &url, None, Some(&nonce))]).await;
        assert_eq!(status, 200, "{refreshed}");
        app.clock.advance(61);
        let form = [("grant_type", "refresh_token"), ("client_id", "nonced"), ("refresh_token", refreshed["refresh_token"].as_str().unwrap())];
        let (status, body, fresh) = post_with(&app, TOKEN, &form, &[&key.proof_nonced(&app, "POST", &url, None, Some(&nonce))]).await;
        refused(&(status, body), 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof");
        let fresh = fresh.unwrap();
        assert_ne!(fresh, nonce);
        let (status, refreshed, _) = post_with(&app, TOKEN, &form, &[&key.proof_nonced(&app, "POST", &url, None, Some(&fresh))]).await;
        assert_eq!(status, 200, "the refusal spent nothing: {refreshed}");

        // userinfo (§9): 401 with a challenge and a nonce, then the answer
        let access = refreshed["access_token"].as_str().unwrap();
        let userinfo_url = app.url(USERINFO);
        let (status, body, challenge, nonce) = userinfo_nonce(&app, "DPoP", access, Some(&key.proof(&app, "GET", &userinfo_url, Some(access)))).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("use_dpop_nonce")), "{body}");
        assert!(challenge.starts_with("DPoP error=\"use_dpop_nonce\""), "{challenge}");
        let nonce = nonce.expect("a DPoP-Nonce header");
        let proof = key.proof_nonced(&app, "GET", &userinfo_url, Some(access), Some(&nonce));
        let (status, body, _, offered) = userinfo_nonce(&app, "DPoP", access, Some(&proof)).await;
        assert_eq!((status, body["preferred_username"].as_str()), (200, Some("dora")), "{body}");
        assert!(offered.is_some());

        // a client without the attribute is never asked for one, nor offered one
        let (status, body, nonce) = post_with(&app, TOKEN, &password("spa"), &[&key.proof(&app, "POST", &url, None)]).await;
        assert_eq!((status, nonce), (200, None), "{body}");
        app.stop().await;
    }

    async fn a_code_requested_with_dpop_jkt_is_redeemed_only_with_that_key(backend: Backend) {
        let app = dpop_app(backend).await;
        let key = Key::new();
        let url = app.url(TOKEN);
        let code = code_for(&app, &key.thumbprint()).await;
        let (status, tokens) = redeem(&app, &code, &[&key.proof(&app, "POST", &url, None)]).await;
        assert_eq!((status, tokens["token_type"].as_str()), (200, Some("DPoP")), "{tokens}");

        let code = code_for(&app, &key.thumbprint()).await;
        let wrong = redeem(&app, &code, &[&Key::new().proof(&app, "POST", &url, None)]).await;
        refused(&wrong, 400, "invalid_dpop_proof", "DPoP Proof public key thumbprint does not match dpop_jkt");
        let code = code_for(&app, &key.thumbprint()).await;
        refused(&redeem(&app, &code, &[]).await, 400, "invalid_dpop_proof", "DPoP Proof missing");

        // a malformed dpop_jkt goes back to the client
        let bad = get(&browser_client(), &auth_url(&app, "short")).await;
        assert_eq!(param(&bad.location(), "error"), "invalid_request");
        app.stop().await;
    }
}
