//! The token endpoint's grants over HTTP (RFC 6749 §4.1, §4.3, §4.4, §5): Keycloak's response
//! fields and claims, client authentication, every error answer, and the single-use
//! authorization code with PKCE. The helpers here are shared with `token_refresh`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use portcullis::clock::Clock;
use portcullis::store::{AuthCodeRecord, CodeOutcome, NewGrant};
use serde_json::{json, Value};
use sha2::Digest;

use crate::backend_tests;
use crate::helpers::{fixture, Backend, Spawn, TestApp};

pub(crate) const TOKEN_PATH: &str = "/realms/tokens/protocol/openid-connect/token";
pub(crate) const ALICE: (&str, &str) = ("alice", "alice-password");
/// RFC 7636 Appendix B's verifier.
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub(crate) fn secret_of(client: &str) -> Option<String> {
    match client {
        "spa" => None,
        "api" => Some("api-secret-0123456789abcdef".into()),
        other => Some(format!("{other}-secret-0123456789abcdef")),
    }
}

/// The "tokens" realm of the fixture.
pub(crate) async fn spawn_tokens(backend: Backend) -> TestApp {
    Spawn::new(backend).import(fixture("token-realm.json")).start().await
}

/// The "tokens" realm with some realm settings replaced and only alice kept (each password costs
/// an argon2 hash at import).
pub(crate) async fn spawn_tokens_with(backend: Backend, settings: Value) -> TestApp {
    let mut realm: Value = serde_json::from_str(&std::fs::read_to_string(fixture("token-realm.json")).unwrap()).unwrap();
    for (key, value) in settings.as_object().expect("settings object") {
        realm[key] = value.clone();
    }
    realm["users"].as_array_mut().unwrap().retain(|u| u["username"] == "alice");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(&path, realm.to_string()).unwrap();
    Spawn::new(backend).import(path).start().await
}

/// POSTs a form to the "tokens" token endpoint, adding `client_id` (and `client_secret`, as
/// client_secret_post) for `client` unless it is empty.
pub(crate) async fn token(app: &TestApp, client: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let mut pairs: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    if !client.is_empty() {
        pairs.push(("client_id".into(), client.into()));
        if let Some(secret) = secret_of(client) {
            pairs.push(("client_secret".into(), secret));
        }
    }
    let response = app.http.post(app.url(TOKEN_PATH)).form(&pairs).send().await.expect("token request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A successful password grant.
pub(crate) async fn login(app: &TestApp, client: &str, user: (&str, &str), scope: Option<&str>) -> Value {
    let mut form = vec![("grant_type", "password"), ("username", user.0), ("password", user.1)];
    form.extend(scope.map(|s| ("scope", s)));
    let (status, body) = token(app, client, &form).await;
    assert_eq!(status, 200, "login of {} with {client}: {body}", user.0);
    body
}

pub(crate) async fn refresh(app: &TestApp, client: &str, refresh_token: &str) -> (u16, Value) {
    token(app, client, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
}

pub(crate) fn str_of<'a>(body: &'a Value, field: &str) -> &'a str {
    body[field].as_str().unwrap_or_else(|| panic!("{field} missing in {body}"))
}

/// The claims of a JWT, read without verification (what keycloak-js does with refresh tokens).
pub(crate) fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("a compact JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url payload")).expect("JSON payload")
}

/// Asserts an RFC 6749 §5.2 error answer.
#[track_caller]
pub(crate) fn assert_error(answer: &(u16, Value), status: u16, error: &str, description: Option<&str>) {
    let (got_status, body) = answer;
    assert_eq!((*got_status, body["error"].as_str()), (status, Some(error)), "{body}");
    if let Some(description) = description {
        assert_eq!(body["error_description"], description, "{body}");
    }
}

pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(portcullis::crypto::sha256(verifier.as_bytes()))
}

/// Stores an authorization code as the browser flow would, for `client` in `session`, with the
/// client's registered redirect URI, nonce "n-1", and the given PKCE challenge and method.
pub(crate) async fn insert_code(app: &TestApp, client: &str, session: &str, scope: &str, pkce: Option<(String, &str)>) -> String {
    let realm = app.store.realm_by_name("tokens").await.unwrap().unwrap();
    let client = app.store.client_by_client_id(&realm.id, client).await.unwrap().unwrap();
    let code = uuid::Uuid::new_v4().to_string();
    let now = app.clock.now();
    let (code_challenge, code_challenge_method) = match pkce {
        Some((challenge, method)) => (Some(challenge), Some(method.to_string())),
        None => (None, None),
    };
    app.store
        .insert_auth_code(&AuthCodeRecord {
            code_hash: portcullis::crypto::sha256(code.as_bytes()),
            realm_id: realm.id.clone(),
            client_id: client.id.clone(),
            user_session_id: session.to_string(),
            redirect_uri: client.redirect_uris[0].clone(),
            scope: scope.to_string(),
            nonce: Some("n-1".into()),
            code_challenge,
            code_challenge_method,
            created_at: now,
            expires_at: now + 60,
            dpop_jkt: None,
        })
        .await
        .unwrap();
    code
}

pub(crate) async fn exchange(app: &TestApp, client: &str, code: &str, redirect_uri: &str, verifier: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)];
    form.extend(verifier.map(|v| ("code_verifier", v)));
    token(app, client, &form).await
}

/// Verifies a signed JWT through the realm's published JWKS with a standard JOSE library.
async fn verify(app: &TestApp, jwt: &str, audience: Option<&str>) -> Value {
    let set: JwkSet = app.http.get(app.url("/realms/tokens/protocol/openid-connect/certs")).send().await.unwrap().json().await.unwrap();
    let header = decode_header(jwt).unwrap();
    let jwk = set.find(header.kid.as_deref().expect("kid in header")).expect("the kid is published");
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[format!("{}/realms/tokens", app.base)]);
    match audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    decode::<Value>(jwt, &DecodingKey::from_jwk(jwk).unwrap(), &validation).expect("signature and claims verify").claims
}

fn has(list: &Value, item: &str) -> bool {
    list.as_array().is_some_and(|a| a.iter().any(|v| v == item))
}

backend_tests! {
    async fn a_password_grant_answers_with_keycloaks_fields_and_no_store(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let form = [("grant_type", "password"), ("username", "alice"), ("password", "alice-password")];

        let response = app.http.post(app.url(TOKEN_PATH)).basic_auth("backend", secret_of("backend")).form(&form).send().await.unwrap();
        let openid = login(&app, "backend", ALICE, Some("openid")).await;

        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["pragma"], "no-cache");
        let plain: Value = response.json().await.unwrap();
        for body in [&plain, &openid] {
            assert_eq!(body["token_type"], "Bearer");
            assert_eq!(body["expires_in"], 300);
            assert_eq!(body["refresh_expires_in"], 1800);
            assert_eq!(body["not-before-policy"], 0);
            assert!(body["access_token"].as_str().is_some_and(|t| t.split('.').count() == 3), "{body}");
            assert!(body["refresh_token"].as_str().is_some_and(|t| t.split('.').count() == 3), "{body}");
            assert!(!str_of(body, "session_state").is_empty());
        }
        assert_eq!(plain["scope"], "email profile");
        assert!(plain.get("id_token").is_none(), "no id token without openid: {plain}");
        assert_eq!(openid["scope"], "openid email profile");
        assert!(openid["id_token"].is_string());
        assert_ne!(plain["session_state"], openid["session_state"], "each password grant is a new SSO session");
        app.stop().await;
    }

    async fn the_access_and_id_tokens_verify_through_jwks_with_keycloaks_claims(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let realm = app.store.realm_by_name("tokens").await.unwrap().unwrap();
        let alice = app.store.user_by_username(&realm.id, "alice").await.unwrap().unwrap();

        let body = login(&app, "backend", ALICE, Some("openid")).await;
        let access = verify(&app, str_of(&body, "access_token"), None).await;
        let id = verify(&app, str_of(&body, "id_token"), Some("backend")).await;

        assert_eq!(access["iss"], format!("{}/realms/tokens", app.base));
        assert_eq!(access["sub"], alice.id.as_str());
        assert_eq!(access["typ"], "Bearer");
        assert_eq!(access["azp"], "backend");
        assert_eq!(access["sid"], body["session_state"]);
        assert_eq!(access["session_state"], body["session_state"]);
        assert_eq!(access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(), 300);
        assert!(access["jti"].is_string() && access["auth_time"].is_i64(), "{access}");
        assert_eq!(access["scope"], "openid email profile");
        assert!(has(&access["realm_access"]["roles"], "offline_access"), "{access}");
        assert_eq!(access["resource_access"]["backend"]["roles"], json!(["reader"]));
        assert_eq!(access["preferred_username"], "alice");
        assert_eq!(access["email"], "alice@example.com");
        assert_eq!(access["email_verified"], true);
        assert_eq!(access["given_name"], "Alice");
        assert_eq!(access["family_name"], "Liddell");
        assert_eq!(access["name"], "Alice Liddell");

        assert_eq!(id["aud"], "backend");
        assert_eq!(id["typ"], "ID");
        assert_eq!(id["sub"], alice.id.as_str());
        assert_eq!(id["sid"], body["session_state"]);
        assert!(id.get("nonce").is_none(), "no nonce in a password grant: {id}");
        let digest = sha2::Sha256::digest(str_of(&body, "access_token").as_bytes());
        assert_eq!(id["at_hash"], URL_SAFE_NO_PAD.encode(&digest[..16]));
        assert_eq!(id["preferred_username"], "alice");
        app.stop().await;
    }

    async fn clients_authenticate_by_basic_or_post_and_bad_credentials_are_invalid_client(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let form = [("grant_type", "client_credentials")];
        let basic = |id: &str, secret: &str| {
            app.http.post(app.url(TOKEN_PATH)).basic_auth(id, Some(secret)).form(&form).send()
        };

        let good_basic = basic("backend", &secret_of("backend").unwrap()).await.unwrap();
        let good_post = token(&app, "backend", &form).await;
        let bad_basic = basic("backend", "wrong").await.unwrap();
        let bad_post = token(&app, "", &[("grant_type", "client_credentials"), ("client_id", "backend"), ("client_secret", "wrong")]).await;
        let unknown = token(&app, "", &[("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", "x")]).await;
        let no_secret = token(&app, "", &[("grant_type", "client_credentials"), ("client_id", "backend")]).await;
        let no_client = token(&app, "", &[("grant_type", "password"), ("username", "alice"), ("password", "alice-password")]).await;

        assert_eq!(good_basic.status(), 200);
        assert_eq!(good_post.0, 200, "{}", good_post.1);
        let service = payload(str_of(&good_post.1, "access_token"));
        assert!(has(&service["realm_access"]["roles"], "offline_access"), "the service account's roles: {service}");
        assert_eq!(service["preferred_username"], "service-account-backend");
        assert_eq!(bad_basic.status(), 401);
        assert!(bad_basic.headers().get("www-authenticate").is_some_and(|v| v.to_str().unwrap().starts_with("Basic")));
        let bad_basic: Value = bad_basic.json().await.unwrap();
        assert_eq!(bad_basic["error"], "invalid_client");
        for answer in [&bad_post, &unknown, &no_secret, &no_client] {
            assert_error(answer, 401, "invalid_client", None);
        }
        assert_eq!(bad_post.1, unknown.1, "an unknown client and a wrong secret answer alike");
        app.stop().await;
    }

    async fn the_basic_scheme_name_is_case_insensitive(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!("backend:{}", secret_of("backend").unwrap()));

        let mut statuses = Vec::new();
        for scheme in ["Basic", "basic", "BASIC"] {
            let response = app.http.post(app.url(TOKEN_PATH))
                .header("authorization", format!("{scheme} {credentials}"))
                .form(&[("grant_type", "client_credentials")])
                .send().await.unwrap();
            statuses.push((scheme, response.status().as_u16()));
        }

        assert_eq!(statuses, [("Basic", 200), ("basic", 200), ("BASIC", 200)], "RFC 7617 §2 / RFC 7235 §2.1");
        app.stop().await;
    }

    async fn bad_user_credentials_get_one_answer_and_a_disabled_account_is_named(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let password = |user: &'static str, pass: &'static str| {
            [("grant_type", "password"), ("username", user), ("password", pass)]
        };

        let wrong_password = token(&app, "backend", &password("alice", "nope")).await;
        let unknown_user = token(&app, "backend", &password("mallory", "nope")).await;
        let disabled = token(&app, "backend", &password("disabled", "disabled-password")).await;

        assert_error(&wrong_password, 401, "invalid_grant", Some("Invalid user credentials"));
        assert_eq!(wrong_password, unknown_user, "unknown users are indistinguishable");
        assert_error(&disabled, 400, "invalid_grant", Some("Account disabled"));
        app.stop().await;
    }

    async fn clients_may_use_only_the_grants_they_are_enabled_for(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let password = [("grant_type", "password"), ("username", "alice"), ("password", "alice-password")];

        let no_direct = token(&app, "no-direct", &password).await;
        let bearer_only = token(&app, "api", &password).await;
        let public_service_account = token(&app, "spa", &[("grant_type", "client_credentials")]).await;
        let no_service_account = token(&app, "other", &[("grant_type", "client_credentials")]).await;
        let unsupported = token(&app, "backend", &[("grant_type", "urn:ietf:params:oauth:grant-type:saml2-bearer")]).await;
        let public_password = token(&app, "spa", &password).await;

        assert_error(&no_direct, 400, "unauthorized_client", None);
        assert_error(&bearer_only, 400, "unauthorized_client", None);
        assert_error(&public_service_account, 400, "unauthorized_client", None);
        assert_error(&no_service_account, 400, "unauthorized_client", None);
        assert_error(&unsupported, 400, "unsupported_grant_type", None);
        assert_eq!(public_password.0, 200, "a public client names itself: {}", public_password.1);
        assert_eq!(payload(str_of(&public_password.1, "access_token"))["azp"], "spa");
        app.stop().await;
    }

    async fn malformed_requests_are_invalid_request_and_empty_parameters_are_ignored(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let secret = secret_of("backend").unwrap();
        let raw = |content_type: &'static str, body: String| {
            app.http.post(app.url(TOKEN_PATH)).header("content-type", content_type).body(body).send()
        };

        let no_grant_type = token(&app, "backend", &[("username", "alice")]).await;
        let no_username = token(&app, "backend", &[("grant_type", "password"), ("password", "x")]).await;
        let twice = raw("application/x-www-form-urlencoded", format!(
            "grant_type=password&username=alice&username=bob&password=alice-password&client_id=backend&client_secret={secret}"
        )).await.unwrap();
        let as_json = raw("application/json", json!({
            "grant_type": "password", "username": "alice", "password": "alice-password",
            "client_id": "backend", "client_secret": secret,
        }).to_string()).await.unwrap();
        let python_keycloak = raw("application/x-www-form-urlencoded", format!(
            "grant_type=password&code=&redirect_uri=&username=alice&password=alice-password&scope=openid&client_id=backend&client_secret={secret}"
        )).await.unwrap();
        let (no_realm_status, no_realm) = {
            let response = app.http.post(app.url("/realms/nowhere/protocol/openid-connect/token"))
                .form(&[("grant_type", "client_credentials"), ("client_id", "backend"), ("client_secret", &secret)])
                .send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        };

        assert_error(&no_grant_type, 400, "invalid_request", Some("Missing parameter: grant_type"));
        assert_error(&no_username, 400, "invalid_request", Some("Missing parameter: username"));
        assert_eq!(twice.status(), 400);
        assert_eq!(twice.json::<Value>().await.unwrap()["error"], "invalid_request");
        assert_eq!(as_json.status(), 400);
        assert_eq!(as_json.json::<Value>().await.unwrap()["error"], "invalid_request");
        assert_eq!(python_keycloak.status(), 200);
        assert!(python_keycloak.json::<Value>().await.unwrap()["id_token"].is_string());
        assert_eq!((no_realm_status, no_realm), (404, json!({"error": "Realm does not exist"})));
        app.stop().await;
    }

    async fn unknown_scopes_and_offline_access_without_the_role_are_invalid_scope(backend: Backend) {
        let app = spawn_tokens(backend).await;

        let unknown = token(&app, "backend", &[("grant_type", "password"), ("username", "alice"),
            ("password", "alice-password"), ("scope", "openid admin:all")]).await;
        let bob_offline = token(&app, "backend", &[("grant_type", "password"), ("username", "bob"),
            ("password", "bob-password"), ("scope", "openid offline_access")]).await;
        let bob_online = login(&app, "backend", ("bob", "bob-password"), Some("openid")).await;

        assert_error(&unknown, 400, "invalid_scope", None);
        assert_error(&bob_offline, 400, "invalid_scope", None);
        assert_eq!(payload(str_of(&bob_online, "refresh_token"))["typ"], "Refresh");
        app.stop().await;
    }

    async fn client_credentials_give_a_service_account_token_without_refresh_or_session(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let realm = app.store.realm_by_name("tokens").await.unwrap().unwrap();
        let account = app.store.user_by_username(&realm.id, "service-account-backend").await.unwrap().unwrap();

        let (status, body) = token(&app, "backend", &[("grant_type", "client_credentials")]).await;

        assert_eq!(status, 200, "{body}");
        assert!(body.get("refresh_token").is_none(), "{body}");
        assert!(body.get("session_state").is_none(), "{body}");
        assert_eq!(body["refresh_expires_in"], 0);
        assert_eq!(body["expires_in"], 300);
        let claims = verify(&app, str_of(&body, "access_token"), None).await;
        assert_eq!(claims["sub"], account.id.as_str());
        assert_eq!(claims["preferred_username"], "service-account-backend");
        assert_eq!(claims["azp"], "backend");
        assert!(claims.get("sid").is_none(), "{claims}");
        app.stop().await;
    }

    async fn a_client_that_enables_it_gets_a_client_credentials_refresh_token(backend: Backend) {
        let app = spawn_tokens(backend).await;

        let (status, body) = token(&app, "cc-refresh", &[("grant_type", "client_credentials")]).await;
        assert_eq!(status, 200, "{body}");
        let refreshed = refresh(&app, "cc-refresh", str_of(&body, "refresh_token")).await;

        assert!(body["session_state"].is_string(), "{body}");
        assert_eq!(refreshed.0, 200, "{}", refreshed.1);
        assert_eq!(refreshed.1["session_state"], body["session_state"]);
        assert_eq!(payload(str_of(&refreshed.1, "access_token"))["preferred_username"], "service-account-cc-refresh");
        app.stop().await;
    }

    async fn a_clients_access_token_lifespan_overrides_the_realms(backend: Backend) {
        let app = spawn_tokens(backend).await;

        let password = login(&app, "short", ALICE, None).await;
        let (status, service) = token(&app, "short", &[("grant_type", "client_credentials")]).await;

        assert_eq!(status, 200, "{service}");
        for body in [&password, &service] {
            assert_eq!(body["expires_in"], 60, "{body}");
            let claims = payload(str_of(body, "access_token"));
            assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 60);
        }
        assert_eq!(password["refresh_expires_in"], 1800, "the refresh token keeps the session's deadline");
        app.stop().await;
    }

    async fn a_code_exchanges_with_its_pkce_verifier_into_the_sso_session(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let sso = login(&app, "backend", ALICE, None).await;
        let session = str_of(&sso, "session_state");
        let code = insert_code(&app, "backend", session, "openid profile email", Some((s256(VERIFIER), "S256"))).await;

        let (status, body) = exchange(&app, "backend", &code, "https://app.example/cb", Some(VERIFIER)).await;

        assert_eq!(status, 200, "{body}");
        assert_eq!(body["session_state"], session);
        assert_eq!(body["scope"], "openid email profile");
        let id = verify(&app, str_of(&body, "id_token"), Some("backend")).await;
        assert_eq!(id["nonce"], "n-1");
        assert_eq!(id["sid"], session);
        assert_eq!(payload(str_of(&body, "refresh_token"))["sid"], session);
        assert_eq!(refresh(&app, "backend", str_of(&body, "refresh_token")).await.0, 200);
        app.stop().await;
    }

    async fn a_replayed_code_fails_and_revokes_the_tokens_of_its_first_exchange(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let sso = login(&app, "backend", ALICE, Some("openid")).await;
        let code = insert_code(&app, "backend", str_of(&sso, "session_state"), "openid profile email", Some((s256(VERIFIER), "S256"))).await;
        let (status, first) = exchange(&app, "backend", &code, "https://app.example/cb", Some(VERIFIER)).await;
        assert_eq!(status, 200, "{first}");

        let replay = exchange(&app, "backend", &code, "https://app.example/cb", Some(VERIFIER)).await;
        let first_refresh = refresh(&app, "backend", str_of(&first, "refresh_token")).await;
        let password_family = refresh(&app, "backend", str_of(&sso, "refresh_token")).await;

        assert_error(&replay, 400, "invalid_grant", Some("Code not valid"));
        assert_error(&first_refresh, 400, "invalid_grant", None);
        assert_eq!(password_family.0, 200, "only what the code issued is revoked: {}", password_family.1);
        let userinfo = |bearer: String| {
            app.http.get(app.url("/realms/tokens/protocol/openid-connect/userinfo")).bearer_auth(bearer).send()
        };
        let fresh = userinfo(str_of(&password_family.1, "access_token").to_string()).await.unwrap().status();
        let revoked = userinfo(str_of(&first, "access_token").to_string()).await.unwrap().status();
        assert_eq!(fresh, 200, "userinfo accepts a live token");
        assert_eq!(revoked, 401, "userinfo refuses the access token issued from the replayed code");
        app.stop().await;
    }

    async fn a_code_is_refused_on_each_mismatch_with_keycloaks_texts(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let sso = login(&app, "backend", ALICE, None).await;
        let session = str_of(&sso, "session_state");
        let s256_code = || insert_code(&app, "backend", session, "openid profile email", Some((s256(VERIFIER), "S256")));
        let cb = "https://app.example/cb";
        let other_verifier = "x".repeat(43);

        let wrong_verifier = exchange(&app, "backend", &s256_code().await, cb, Some(&other_verifier)).await;
        let challenge_as_verifier = exchange(&app, "backend", &s256_code().await, cb, Some(&s256(VERIFIER))).await;
        let bad_syntax = exchange(&app, "backend", &s256_code().await, cb, Some("short")).await;
        let no_verifier = exchange(&app, "backend", &s256_code().await, cb, None).await;
        let wrong_redirect = exchange(&app, "backend", &s256_code().await, "https://app.example/other", Some(VERIFIER)).await;
        let other_client = exchange(&app, "other", &s256_code().await, cb, Some(VERIFIER)).await;
        let unknown = exchange(&app, "backend", "no-such-code", cb, Some(VERIFIER)).await;
        let unasked = insert_code(&app, "backend", session, "openid", None).await;
        let verifier_without_challenge = exchange(&app, "backend", &unasked, cb, Some(VERIFIER)).await;
        let plain = insert_code(&app, "backend", session, "openid", Some((VERIFIER.to_string(), "plain"))).await;
        let plain_mismatch = exchange(&app, "backend", &plain, cb, Some(&other_verifier)).await;
        let late = s256_code().await;
        app.clock.advance(61);
        let expired = exchange(&app, "backend", &late, cb, Some(VERIFIER)).await;

        assert_error(&wrong_verifier, 400, "invalid_grant", Some("PKCE verification failed: Code mismatch"));
        assert_error(&challenge_as_verifier, 400, "invalid_grant", Some("PKCE verification failed: Code mismatch"));
        assert_error(&bad_syntax, 400, "invalid_grant", Some("Invalid code verifier"));
        assert_error(&no_verifier, 400, "invalid_grant", Some("PKCE code verifier not specified"));
        assert_error(&wrong_redirect, 400, "invalid_grant", Some("Incorrect redirect_uri"));
        assert_error(&other_client, 400, "invalid_grant", Some("Code not valid"));
        assert_error(&unknown, 400, "invalid_grant", Some("Code not valid"));
        assert_error(&verifier_without_challenge, 400, "invalid_grant",
            Some("PKCE code verifier specified but challenge not present in authorization"));
        assert_error(&plain_mismatch, 400, "invalid_grant", Some("PKCE verification failed: Code mismatch"));
        assert_error(&expired, 400, "invalid_grant", Some("Code not valid"));
        app.stop().await;
    }

    async fn concurrent_exchanges_of_one_code_leave_at_most_one_token_set_and_it_is_revoked(backend: Backend) {
        // A code used twice is a leaked code (RFC 6749 §4.1.2): at most one exchange may answer
        // with tokens, and the replays revoke whatever it issued, even while it is in flight.
        let app = spawn_tokens(backend).await;
        let sso = login(&app, "backend", ALICE, None).await;
        let mut rounds = Vec::new();

        // five codes, each sent 20 times at once: a race lost once in a round is seen
        for _ in 0..5 {
            let code = insert_code(&app, "backend", str_of(&sso, "session_state"), "openid", Some((s256(VERIFIER), "S256"))).await;
            let answers = futures::future::join_all(
                (0..20).map(|_| exchange(&app, "backend", &code, "https://app.example/cb", Some(VERIFIER))),
            ).await;
            rounds.push(answers);
        }

        for answers in &rounds {
            let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
            let winners: Vec<&Value> = answers.iter().filter(|(status, _)| *status == 200).map(|(_, body)| body).collect();
            assert!(winners.len() <= 1, "a code is single use, even under concurrency: {statuses:?}");
            for answer in answers.iter().filter(|(status, _)| *status != 200) {
                assert_error(answer, 400, "invalid_grant", Some("Code not valid"));
            }
            for tokens in winners {
                let (status, _) = refresh(&app, "backend", str_of(tokens, "refresh_token")).await;
                assert_eq!(status, 400, "the replays revoked the one grant that got through");
            }
        }
        app.stop().await;
    }

    async fn a_code_replayed_while_its_first_exchange_is_in_flight_still_revokes_that_grant(backend: Backend) {
        // The interleaving an HTTP race can only hit by luck, replayed step by step through the
        // store calls the grant makes: consume (first use), consume (replay), then the first
        // use's start_grant.
        let app = spawn_tokens(backend).await;
        let sso = login(&app, "backend", ALICE, None).await;
        let session = str_of(&sso, "session_state");
        let code = insert_code(&app, "backend", session, "openid", None).await;
        let realm = app.store.realm_by_name("tokens").await.unwrap().unwrap();
        let client = app.store.client_by_client_id(&realm.id, "backend").await.unwrap().unwrap();
        let code_hash = portcullis::crypto::sha256(code.as_bytes());
        let refresh_hash = portcullis::crypto::sha256(b"jti of the in-flight grant");
        let now = app.clock.now();

        let first = app.store.consume_auth_code(&realm.id, &client.id, &code_hash, now).await.unwrap();
        let replay = app.store.consume_auth_code(&realm.id, &client.id, &code_hash, now).await.unwrap();
        let family_id = uuid::Uuid::new_v4().to_string();
        let grant = app.store.start_grant(&NewGrant {
            new_session: None,
            existing_session_id: Some(session.to_string()),
            joined_expires_at: 0,
            client_id: client.id.clone(),
            family_id: family_id.clone(),
            scope: "openid".into(),
            now,
            refresh_hash: Some(refresh_hash),
            from_code: Some((code_hash, portcullis::crypto::sha256(b"access jti"), now + 300)),
        }).await;
        let shell = portcullis::store::PresentedToken {
            hash: refresh_hash,
            generation: Some(portcullis::store::FamilyGeneration { family_id, generation: portcullis::store::FIRST_GENERATION }),
        };
        let live = app.store.session_of_refresh_token(&shell, None).await.unwrap();

        assert!(matches!(first, CodeOutcome::Fresh(_)), "{first:?}");
        assert_eq!(replay, CodeOutcome::Replayed);
        assert!(grant.is_err() || live.is_none(),
            "a grant recorded after its code was replayed must be refused or born revoked; its family is live");
        app.stop().await;
    }

    async fn a_plain_pkce_challenge_is_verified_as_given(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let sso = login(&app, "backend", ALICE, None).await;
        let code = insert_code(&app, "backend", str_of(&sso, "session_state"), "openid", Some((VERIFIER.to_string(), "plain"))).await;

        let (status, body) = exchange(&app, "backend", &code, "https://app.example/cb", Some(VERIFIER)).await;

        assert_eq!(status, 200, "{body}");
        assert_eq!(body["session_state"], sso["session_state"]);
        app.stop().await;
    }
}
