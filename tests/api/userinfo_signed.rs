//! Signed userinfo (OIDC Core §5.3.2, Keycloak's client attribute
//! `user.info.response.signature.alg`): the answer is an `application/jwt` signed with the
//! realm's key of that algorithm, verifiable through the JWKS alone, carrying the JSON answer's
//! claims plus `iss` and `aud`; an algorithm Portcullis cannot sign with is refused when it is
//! set, never silently replaced.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use crate::admin_support::{carol, vault, Admin};
use crate::backend_tests;
use crate::helpers::TestApp;

const USERINFO: &str = "/realms/vault/protocol/openid-connect/userinfo";

async fn userinfo(app: &TestApp, access_token: &str) -> (u16, String, String) {
    let response = app.http.get(app.url(USERINFO)).bearer_auth(access_token).send().await.unwrap();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (response.status().as_u16(), content_type, response.text().await.unwrap())
}

async fn set_alg(admin: &Admin<'_>, id: &str, alg: &str) -> u16 {
    let mut client = admin.ok(&format!("/admin/realms/vault/clients/{id}")).await;
    client["attributes"]["user.info.response.signature.alg"] = json!(alg);
    admin.put(&format!("/admin/realms/vault/clients/{id}"), client).await.status
}

/// The JWT's claims, its signature checked against the realm's published JWKS.
async fn verified(app: &TestApp, jwt: &str, alg: Algorithm) -> Value {
    let set: JwkSet = app.http.get(app.url("/realms/vault/protocol/openid-connect/certs")).send().await.unwrap().json().await.unwrap();
    let header = decode_header(jwt).unwrap();
    assert_eq!(header.alg, alg);
    let jwk = set.find(header.kid.as_deref().expect("a kid")).expect("the kid is published");
    let mut validation = Validation::new(alg);
    validation.set_audience(&["backend"]);
    validation.set_issuer(&[app.url("/realms/vault")]);
    validation.set_required_spec_claims(&["iss", "aud", "sub"]);
    decode::<Value>(jwt, &DecodingKey::from_jwk(jwk).unwrap(), &validation).expect("signature and claims verify").claims
}

backend_tests! {
    async fn userinfo_is_a_signed_jwt_when_the_client_asks_and_json_otherwise(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let id = admin.client_uuid("vault", "backend").await;
        let tokens = carol(&app, "openid").await;
        let access = tokens["access_token"].as_str().unwrap();
        let (status, content_type, plain) = userinfo(&app, access).await;
        assert_eq!((status, content_type.as_str()), (200, "application/json"));
        let plain: Value = serde_json::from_str(&plain).unwrap();

        for (name, alg) in [("ES256", Algorithm::ES256), ("RS256", Algorithm::RS256), ("EdDSA", Algorithm::EdDSA)] {
            assert_eq!(set_alg(&admin, &id, name).await, 204, "{name}");
            let (status, content_type, body) = userinfo(&app, access).await;
            assert_eq!((status, content_type.as_str()), (200, "application/jwt"), "{name}: {body}");
            let claims = verified(&app, &body, alg).await;
            for (claim, value) in plain.as_object().unwrap() {
                assert_eq!(&claims[claim], value, "{name}: the JSON answer's {claim}");
            }
            assert_eq!(claims.as_object().unwrap().len(), plain.as_object().unwrap().len() + 2, "{name}: plus iss and aud only");
        }

        // "unsigned" (Keycloak's console value) and empty mean JSON again
        for unsigned in ["unsigned", ""] {
            assert_eq!(set_alg(&admin, &id, unsigned).await, 204);
            assert_eq!(userinfo(&app, access).await.1, "application/json", "{unsigned:?}");
        }
        // an algorithm Portcullis has no key for is refused, for every signature attribute
        for attribute in ["user.info.response.signature.alg", "id.token.signed.response.alg", "access.token.signed.response.alg"] {
            let mut client = admin.ok(&format!("/admin/realms/vault/clients/{id}")).await;
            client["attributes"][attribute] = json!("ES512");
            let refused = admin.put(&format!("/admin/realms/vault/clients/{id}"), client).await;
            assert_eq!(refused.status, 400, "{attribute}: {refused:?}");
            assert!(refused.error_message().starts_with(&format!("{attribute} \"ES512\" is not supported by Portcullis")), "{refused:?}");
        }
        assert_eq!(userinfo(&app, access).await.1, "application/json", "the refused PUTs changed nothing");

        let discovery = app.get_json("/realms/vault/.well-known/openid-configuration").await.1;
        assert_eq!(discovery["userinfo_signing_alg_values_supported"],
            json!(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "none"]));
        app.stop().await;
    }

    async fn a_client_asking_for_another_algorithm_gets_a_key_made_for_it_and_tokens_signed_with_it(backend: Backend) {
        // python-keycloak's test_other_signing_methods asks for RS512; Keycloak makes a fallback key
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let id = admin.client_uuid("vault", "backend").await;
        let jwks_size = |app: &TestApp| {
            let url = app.url("/realms/vault/protocol/openid-connect/certs");
            let http = app.http.clone();
            async move { http.get(url).send().await.unwrap().json::<Value>().await.unwrap()["keys"].as_array().unwrap().len() }
        };
        assert_eq!(jwks_size(&app).await, 3, "RS256, ES256 and EdDSA to start with");
        for (access, id_alg, userinfo_alg) in [("RS512", Algorithm::PS256, Algorithm::ES384), ("PS384", Algorithm::RS384, Algorithm::PS512)] {
            let mut client = admin.ok(&format!("/admin/realms/vault/clients/{id}")).await;
            client["attributes"]["access.token.signed.response.alg"] = json!(access);
            client["attributes"]["id.token.signed.response.alg"] = json!(format!("{id_alg:?}"));
            client["attributes"]["user.info.response.signature.alg"] = json!(format!("{userinfo_alg:?}"));
            assert_eq!(admin.put(&format!("/admin/realms/vault/clients/{id}"), client).await.status, 204);
            let tokens = carol(&app, "openid").await;
            let access_token = tokens["access_token"].as_str().unwrap();
            assert_eq!(format!("{:?}", decode_header(access_token).unwrap().alg), access);
            let id_token = tokens["id_token"].as_str().unwrap();
            let set: JwkSet = app.http.get(app.url("/realms/vault/protocol/openid-connect/certs")).send().await.unwrap().json().await.unwrap();
            let header = decode_header(id_token).unwrap();
            assert_eq!(header.alg, id_alg);
            let mut validation = Validation::new(id_alg);
            validation.set_audience(&["backend"]);
            let jwk = set.find(header.kid.as_deref().unwrap()).expect("the id token's kid is published");
            assert_eq!(jwk.common.key_algorithm.map(|a| format!("{a:?}")), Some(format!("{id_alg:?}")), "the JWK names its algorithm");
            decode::<Value>(id_token, &DecodingKey::from_jwk(jwk).unwrap(), &validation).expect("the id token verifies");
            let (status, content_type, body) = userinfo(&app, access_token).await;
            assert_eq!((status, content_type.as_str()), (200, "application/jwt"), "our own {access} access token is accepted: {body}");
            assert_eq!(verified(&app, &body, userinfo_alg).await["sub"].as_str().map(str::len), Some(36));
        }
        assert_eq!(jwks_size(&app).await, 3 + 6, "one key made per new algorithm, once");
        let keys = admin.ok("/admin/realms/vault/keys").await;
        assert_eq!(keys["active"]["RS512"].as_str().map(str::len), Some(32), "{keys}");

        // the realm's default may name any of them
        assert_eq!(admin.put("/admin/realms/vault", json!({"defaultSignatureAlgorithm": "ES384"})).await.status, 204);
        assert_eq!(jwks_size(&app).await, 9, "ES384 was made already");
        let refused = admin.put("/admin/realms/vault", json!({"defaultSignatureAlgorithm": "ES512"})).await;
        assert_eq!(refused.status, 400);
        // rotation renews every algorithm the realm signs with, not only the initial three
        let now = portcullis::clock::Clock::now(&app.clock);
        let renewed = portcullis::realm::service::rotate_keys(app.store.as_ref(), &app.master_key, "vault", now).await.unwrap();
        assert_eq!(renewed.len(), 9);
        app.state.realms.invalidate("vault");
        assert_eq!(jwks_size(&app).await, 18, "the old keys stay published beside the new");
        app.stop().await;
    }
}
