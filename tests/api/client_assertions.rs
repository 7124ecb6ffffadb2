//! JWT client authentication's refusals over HTTP (RFC 7523 §3, issue 19 item 1), on both
//! backends: a replayed assertion, a wrong audience, an expired one, an HMAC assertion for a
//! `client-jwt` client (no algorithm confusion), a secret for a JWT client, an assertion for a
//! secret client; and the bounds of a `jwks.url` fetch (cached, 64 KiB, no refetch for an
//! unknown kid within 10 s of the last fetch). openid-client's success paths are in interop_openid_client.rs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::browser_flows::web;
use crate::helpers::TestApp;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const SECRET: &str = "a-client-secret-for-hs256-0123456789";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn claims(app: &TestApp, client_id: &str, jti: &str) -> Value {
    json!({"iss": client_id, "sub": client_id, "aud": app.url("/realms/web"), "exp": now() + 60, "iat": now(), "jti": jti})
}

fn hs256(claims: &Value, secret: &str) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn token_with(app: &TestApp, assertion: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials"), ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", assertion)];
    form.extend_from_slice(extra);
    let response = app.http.post(app.url("/realms/web/protocol/openid-connect/token")).form(&form).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn jwt_client(admin: &Admin<'_>, client_id: &str, authenticator: &str, attributes: Value) {
    let rep = json!({
        "clientId": client_id, "protocol": "openid-connect", "publicClient": false, "serviceAccountsEnabled": true,
        "clientAuthenticatorType": authenticator, "attributes": attributes, "secret": SECRET,
    });
    let reply = admin.post("/admin/realms/web/clients", rep).await;
    assert_eq!(reply.status, 201, "{reply:?}");
}

fn refused(got: (u16, Value), description: &str) {
    assert_eq!(got.0, 401, "{}", got.1);
    assert_eq!(got.1["error"], "invalid_client", "{}", got.1);
    assert_eq!(got.1["error_description"], description, "{}", got.1);
}

/// An ES256 key: the jsonwebtoken signing key and its public JWK.
fn es256_key(kid: &str) -> (EncodingKey, Value) {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref();
    let jwk = json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65])});
    (EncodingKey::from_ec_der(pkcs8.as_ref()), jwk)
}

fn es256(claims: &Value, key: &EncodingKey, kid: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    encode(&header, claims, key).unwrap()
}

backend_tests! {
    async fn client_secret_jwt_refuses_replays_wrong_audiences_expiry_and_other_methods(backend: Backend) {
        let app = web(backend).await;
        let admin = Admin::login(&app).await;
        jwt_client(&admin, "hs-client", "client-secret-jwt", json!({})).await;

        let assertion = hs256(&claims(&app, "hs-client", "jti-1"), SECRET);
        let (status, body) = token_with(&app, &assertion, &[]).await;
        assert_eq!(status, 200, "{body}");
        refused(token_with(&app, &assertion, &[]).await, "Token reuse detected");

        let mut wrong_aud = claims(&app, "hs-client", "jti-2");
        wrong_aud["aud"] = json!("https://elsewhere.example/realms/web");
        refused(token_with(&app, &hs256(&wrong_aud, SECRET), &[]).await, "Invalid token audience");
        let mut expired = claims(&app, "hs-client", "jti-3");
        expired["exp"] = json!(now() - 60);
        refused(token_with(&app, &hs256(&expired, SECRET), &[]).await, "Token is not active");
        refused(token_with(&app, &hs256(&claims(&app, "hs-client", "jti-4"), "not-the-secret-0123456789abcdef"), &[]).await,
            "Invalid client assertion signature");
        // the token endpoint's URL is an audience too
        let mut to_endpoint = claims(&app, "hs-client", "jti-5");
        to_endpoint["aud"] = json!(app.url("/realms/web/protocol/openid-connect/token"));
        assert_eq!(token_with(&app, &hs256(&to_endpoint, SECRET), &[]).await.0, 200);

        // a JWT client cannot fall back to its secret; a secret client cannot use an assertion
        let response = app.http.post(app.url("/realms/web/protocol/openid-connect/token"))
            .form(&[("grant_type", "client_credentials"), ("client_id", "hs-client"), ("client_secret", SECRET)])
            .send().await.unwrap();
        assert_eq!(response.status(), 401);
        refused(token_with(&app, &hs256(&claims(&app, "app-b", "jti-6"), "app-b-secret-0123456789"), &[]).await,
            "The client does not authenticate with signed JWTs");
        let (status, body) = token_with(&app, &hs256(&claims(&app, "hs-client", "jti-7"), SECRET), &[("client_assertion_type", "")]).await;
        assert_eq!(status, 400, "a duplicated parameter: {body}");
        app.stop().await;
    }

    async fn a_client_jwt_client_verifies_only_with_its_public_keys_fetched_within_bounds(backend: Backend) {
        let app = web(backend).await;
        let admin = Admin::login(&app).await;
        let (key, jwk) = es256_key("k1");
        let hits = Arc::new(AtomicUsize::new(0));
        let served = json!({"keys": [jwk]}).to_string();
        let counter = hits.clone();
        let router = axum::Router::new()
            .route("/jwks", axum::routing::get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let body = served.clone();
                async move { body }
            }))
            .route("/huge", axum::routing::get(|| async { format!("{{\"keys\": [], \"pad\": \"{}\"}}", "x".repeat(100_000)) }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        jwt_client(&admin, "pk-client", "client-jwt", json!({"use.jwks.url": "true", "jwks.url": format!("{base}/jwks")})).await;

        let ok = es256(&claims(&app, "pk-client", "p-1"), &key, "k1");
        assert_eq!(token_with(&app, &ok, &[]).await.0, 200);
        assert_eq!(token_with(&app, &es256(&claims(&app, "pk-client", "p-2"), &key, "k1"), &[]).await.0, 200);
        assert_eq!(hits.load(Ordering::SeqCst), 1, "the keys are cached");
        // an HMAC assertion made with the client's secret: never accepted for client-jwt
        refused(token_with(&app, &hs256(&claims(&app, "pk-client", "p-3"), SECRET), &[]).await,
            "The assertion's algorithm is not the client authenticator's");
        // an unknown kid would refetch, but not within 10 s of the last fetch: a flood of made-up
        // kids never turns into a flood of requests to the client's server
        let (other, _) = es256_key("k2");
        refused(token_with(&app, &es256(&claims(&app, "pk-client", "p-4"), &other, "k2"), &[]).await,
            "No key of the client matches the assertion's kid");
        refused(token_with(&app, &es256(&claims(&app, "pk-client", "p-5"), &other, "k2"), &[]).await,
            "No key of the client matches the assertion's kid");
        assert_eq!(hits.load(Ordering::SeqCst), 1, "no refetch within 10 s of the last");

        // a JWKS larger than 64 KiB is not read
        jwt_client(&admin, "huge-client", "client-jwt", json!({"use.jwks.url": "true", "jwks.url": format!("{base}/huge")})).await;
        refused(token_with(&app, &es256(&claims(&app, "huge-client", "h-1"), &key, "k1"), &[]).await,
            "The client's keys could not be fetched");
        // no key source: refused loudly
        jwt_client(&admin, "cert-client", "client-jwt", json!({"jwt.credential.certificate": "MIIB..."})).await;
        let (status, body) = token_with(&app, &es256(&claims(&app, "cert-client", "c-1"), &key, "k1"), &[]).await;
        assert_eq!(status, 401);
        assert!(body["error_description"].as_str().unwrap().contains("jwt.credential.certificate is not read"), "{body}");
        server.abort();
        app.stop().await;
    }
}
