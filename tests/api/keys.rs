//! Signing keys: JWKS validated by a standard JOSE library, and rotation that keeps old public
//! keys published until every token they signed has expired.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, DecodingKey, Validation};
use portcullis::clock::Clock;
use portcullis::domain::SignatureAlgorithm;
use portcullis::realm::service::rotate_keys;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, TestApp};

async fn jwks(app: &TestApp) -> JwkSet {
    let response = app.http.get(app.url("/realms/master/protocol/openid-connect/certs")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.expect("JWKS parses as a JOSE JwkSet")
}

fn kids(set: &JwkSet) -> Vec<String> {
    let mut kids: Vec<String> = set.keys.iter().filter_map(|k| k.common.key_id.clone()).collect();
    kids.sort();
    kids
}

/// Signs with the realm's active key and verifies through the published JWKS alone.
async fn assert_signature_verifies_through_jwks(app: &TestApp, alg: SignatureAlgorithm) -> String {
    let ctx = app.state.realms.enabled("master").await.unwrap().unwrap();
    let signer = ctx.keys.signer(alg).unwrap();
    let token = signer.sign(&json!({ "sub": "someone", "exp": app.clock.now() + 60 })).unwrap();
    let set = jwks(app).await;
    let jwk = set.find(&signer.kid).expect("active kid is published");
    let key = DecodingKey::from_jwk(jwk).expect("standard library accepts the JWK");
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let claims = decode::<Value>(&token, &key, &Validation::new(header.alg)).expect("signature verifies");
    assert_eq!(claims.claims["sub"], "someone");
    signer.kid.clone()
}

backend_tests! {
    async fn jwks_publishes_one_verifiable_key_per_algorithm(backend: Backend) {
        let app = spawn_app(backend).await;
        let set = jwks(&app).await;
        assert_eq!(set.keys.len(), 3);
        let raw: Value = app.get_json("/realms/master/protocol/openid-connect/certs").await.1;
        for key in raw["keys"].as_array().unwrap() {
            assert_eq!(key["use"], "sig");
            assert!(key.get("d").is_none(), "no private part is published");
        }
        for alg in SignatureAlgorithm::INITIAL {
            assert_signature_verifies_through_jwks(&app, alg).await;
        }
        app.stop().await;
    }

    async fn rotation_keeps_old_kids_until_their_tokens_expire(backend: Backend) {
        let app = spawn_app(backend).await;
        let before = kids(&jwks(&app).await);
        let old_kid = assert_signature_verifies_through_jwks(&app, SignatureAlgorithm::RS256).await;

        let now = app.clock.now();
        let new_kids = rotate_keys(app.store.as_ref(), &app.master_key, "master", now).await.unwrap();
        app.state.realms.invalidate("master");
        let after = kids(&jwks(&app).await);
        assert_eq!(after.len(), 6);
        for kid in before.iter().chain(&new_kids) {
            assert!(after.contains(kid), "{kid} published after rotation");
        }
        let new_kid = assert_signature_verifies_through_jwks(&app, SignatureAlgorithm::RS256).await;
        assert_ne!(new_kid, old_kid);
        assert!(new_kids.contains(&new_kid));

        // access tokens live 300 s (+60 s skew): just before that the old key is still there
        app.clock.advance(359);
        app.state.realms.invalidate("master");
        assert!(kids(&jwks(&app).await).contains(&old_kid));
        app.clock.advance(2);
        app.state.realms.invalidate("master");
        let later = kids(&jwks(&app).await);
        assert_eq!(later.len(), 3);
        assert!(!later.contains(&old_kid));
        let mut sorted_new = new_kids.clone();
        sorted_new.sort();
        assert_eq!(later, sorted_new);
        app.stop().await;
    }
}
