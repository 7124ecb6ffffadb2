//! Token exchange (RFC 8693, Keycloak 26's standard token exchange) over HTTP, on both backends:
//! a client in the subject token's audience gets a token for a requested audience or narrower
//! scope, or a refresh token in the subject token's session; the exchanged token ends with the
//! subject's session; hostile requests get Keycloak's errors and TOKEN_EXCHANGE_ERROR events;
//! the client attributes round-trip through the admin API, export and a realm file; an exchanged
//! grant keeps its audience when refreshed and its tokens end by the session's deadline; openid-client's
//! `genericGrantRequest` drives an exchange as a relying party would.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::admin_support::{carol, token_request, vault, Admin, VAULT_SECRET};
use crate::backend_tests;
use crate::browser_flows::claims;
use crate::helpers::{fixture, Spawn, TestApp};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const REFRESH: &str = "urn:ietf:params:oauth:token-type:refresh_token";
const EX_SECRET: &str = "exchanger-secret-0123456789abcdef";
const CLIENTS: &str = "/admin/realms/vault/clients";

fn audience_mapper(client_id: &str) -> Value {
    json!({"name": format!("aud-{client_id}"), "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
        "config": {"included.client.audience": client_id, "access.token.claim": "true"}})
}

async fn internal_id(admin: &Admin<'_>, client_id: &str) -> String {
    let found = admin.ok(&format!("{CLIENTS}?clientId={client_id}")).await;
    found[0]["id"].as_str().unwrap_or_else(|| panic!("{client_id}: {found}")).to_string()
}

/// Realm `vault` with events on and: `exchanger` (confidential, standard token exchange with
/// refresh tokens, audience mappers for `target` and `plain`, a service account), `target`, `plain`
/// (confidential, no exchange) and `public-ex` (public, the attribute set); `backend`'s tokens
/// name `exchanger`, `plain` and `public-ex` in their audience.
async fn exchange_app(backend: crate::helpers::Backend) -> TestApp {
    let app = vault(backend).await;
    let admin = Admin::login(&app).await;
    assert_eq!(admin.put("/admin/realms/vault", json!({"eventsEnabled": true})).await.status, 204);
    let clients = [
        json!({"clientId": "exchanger", "secret": EX_SECRET, "publicClient": false, "directAccessGrantsEnabled": true,
            "serviceAccountsEnabled": true,
            "attributes": {"standard.token.exchange.enabled": "true",
                "standard.token.exchange.enableRefreshRequestedTokenType": "SAME_SESSION"},
            "protocolMappers": [audience_mapper("target"), audience_mapper("plain")]}),
        json!({"clientId": "target", "secret": "target-secret-0123456789", "publicClient": false}),
        json!({"clientId": "plain", "secret": EX_SECRET, "publicClient": false}),
        json!({"clientId": "public-ex", "publicClient": true, "attributes": {"standard.token.exchange.enabled": "true"}}),
    ];
    for rep in clients {
        let reply = admin.post(CLIENTS, rep).await;
        assert_eq!(reply.status, 201, "{reply:?}");
    }
    let backend_id = internal_id(&admin, "backend").await;
    let mappers = json!({"protocolMappers": [audience_mapper("exchanger"), audience_mapper("plain"), audience_mapper("public-ex")]});
    assert_eq!(admin.put(&format!("{CLIENTS}/{backend_id}"), mappers).await.status, 204);
    app
}

/// A token exchange by `client_id` (with `secret` when confidential) of `subject`.
async fn exchange(app: &TestApp, client_id: &str, secret: Option<&str>, subject: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![("grant_type", GRANT), ("client_id", client_id), ("subject_token", subject), ("subject_token_type", ACCESS)];
    if let Some(secret) = secret {
        form.push(("client_secret", secret));
    }
    form.extend_from_slice(extra);
    token_request(app, "vault", &form).await
}

async fn by_exchanger(app: &TestApp, subject: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    exchange(app, "exchanger", Some(EX_SECRET), subject, extra).await
}

fn refused(got: &(u16, Value), status: u16, error: &str, description: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!((got.1["error"].as_str(), got.1["error_description"].as_str()), (Some(error), Some(description)), "{}", got.1);
}

fn audiences(token: &Value) -> Vec<String> {
    match &token["aud"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
        _ => Vec::new(),
    }
}

async fn introspect(app: &TestApp, token: &str) -> Value {
    let form = [("client_id", "backend"), ("client_secret", VAULT_SECRET), ("token", token)];
    let response = app.http.post(app.url("/realms/vault/protocol/openid-connect/token/introspect")).form(&form).send().await.unwrap();
    response.json().await.unwrap()
}

/// The realm's events of these types, newest first (stored off the request path: polled).
async fn events(app: &TestApp, kind: &str, at_least: usize) -> Vec<Value> {
    let admin = Admin::login(app).await;
    for _ in 0..50 {
        let found = admin.ok(&format!("/admin/realms/vault/events?type={kind}")).await;
        let found = found.as_array().cloned().unwrap_or_default();
        if found.len() >= at_least {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {at_least} {kind} events");
}

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/openid-client")
}

/// `node exchange.mjs ...`: its one line of JSON.
async fn openid_client_exchange(app: &TestApp, subject: &str, extra: Value) -> Value {
    let dir = interop_dir();
    assert!(dir.join("node_modules/openid-client").exists(),
        "OPENID-CLIENT IS REQUIRED: run npm ci --ignore-scripts in {}", dir.display());
    let issuer = app.url("/realms/vault");
    let args = [issuer.as_str(), "exchanger", EX_SECRET, subject, &extra.to_string()];
    let run = tokio::process::Command::new("node").arg("exchange.mjs").args(args).current_dir(&dir).kill_on_drop(true).output();
    let output = tokio::time::timeout(Duration::from_secs(60), run).await.expect("node finishes within 60 s").expect("node runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "node exchange.mjs failed:\n{stdout}\n{stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

backend_tests! {
    async fn a_token_naming_the_client_is_exchanged_for_one_for_the_requested_audience(backend: Backend) {
        let app = exchange_app(backend).await;
        let subject = carol(&app, "openid").await;
        let subject_token = subject["access_token"].as_str().unwrap();
        let subject_claims = claims(subject_token);
        assert!(audiences(&subject_claims).contains(&"exchanger".to_string()), "{subject_claims}");

        let (status, body) = by_exchanger(&app, subject_token, &[("audience", "target")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["issued_token_type"], ACCESS);
        assert_eq!(body["token_type"], "Bearer");
        assert!(body.get("refresh_token").is_none(), "an access token only: {body}");
        assert!(body.get("id_token").is_none(), "no openid asked for: {body}");
        let exchanged = claims(body["access_token"].as_str().unwrap());
        assert_eq!(audiences(&exchanged), ["target"], "aud is the requested audience only: {exchanged}");
        assert_eq!((exchanged["azp"].as_str(), exchanged["sub"].as_str()), (Some("exchanger"), subject_claims["sub"].as_str()));
        assert_eq!(exchanged["sid"], subject_claims["sid"], "the subject token's session");
        assert_eq!(exchanged["scope"], "email profile", "the requester's default scopes, not the subject token's");
        assert_eq!(introspect(&app, body["access_token"].as_str().unwrap()).await["active"], true);

        // no audience: the requester's own token shape (its audience mappers name target and plain)
        let (status, body) = by_exchanger(&app, subject_token, &[("scope", "openid phone")]).await;
        assert_eq!(status, 200, "{body}");
        let own = claims(body["access_token"].as_str().unwrap());
        let mut own_audiences = audiences(&own);
        own_audiences.sort();
        assert_eq!(own_audiences, ["plain", "target"], "{own}");
        assert_eq!(own["scope"], "openid email phone profile", "an optional scope of the requester, asked for");
        assert!(body["id_token"].is_string(), "openid asked for: an id token too");

        // the subject's session ends (RP logout with its refresh token): the exchanged token ends too
        let form = [("client_id", "backend"), ("client_secret", VAULT_SECRET), ("refresh_token", subject["refresh_token"].as_str().unwrap())];
        let logout = app.http.post(app.url("/realms/vault/protocol/openid-connect/logout")).form(&form).send().await.unwrap();
        assert_eq!(logout.status(), 204);
        assert_eq!(introspect(&app, body["access_token"].as_str().unwrap()).await["active"], false);
        refused(&by_exchanger(&app, subject_token, &[]).await, 400, "invalid_request", "Invalid token");

        let done = events(&app, "TOKEN_EXCHANGE", 2).await;
        // both in the same second: found by their audience, not their order
        assert!(done.iter().any(|e| e["details"]["audience"] == "plain target"), "{done:?}");
        let first = done.iter().find(|e| e["details"]["audience"] == "target").expect("the audience-restricted exchange");
        assert_eq!((first["clientId"].as_str(), first["userId"].as_str()), (Some("exchanger"), subject_claims["sub"].as_str()), "{first}");
        assert_eq!(first["sessionId"], subject_claims["sid"], "{first}");
        let details = &first["details"];
        assert_eq!((details["audience"].as_str(), details["requested_token_type"].as_str()), (Some("target"), Some(ACCESS)), "{first}");
        assert_eq!(details["subject_token_client_id"], "backend", "{first}");
        assert_eq!(details["username"], "carol", "{first}");
        app.stop().await;
    }

    async fn hostile_exchanges_get_keycloaks_errors(backend: Backend) {
        let app = exchange_app(backend).await;
        let subject = carol(&app, "openid").await;
        let token = subject["access_token"].as_str().unwrap();

        // the attribute off: refused before the subject token is read
        refused(&exchange(&app, "plain", Some(EX_SECRET), token, &[]).await, 400, "invalid_request",
            "Standard token exchange is not enabled for the requested client");
        refused(&exchange(&app, "public-ex", None, token, &[]).await, 400, "invalid_client",
            "Public client is not allowed to exchange token");
        // a token of frontend names neither exchanger nor was it issued to it
        let frontend = crate::admin_support::password_grant(&app, "vault", "frontend", None, "carol",
            crate::admin_support::CAROL_PASSWORD, None).await;
        refused(&by_exchanger(&app, frontend["access_token"].as_str().unwrap(), &[]).await, 403, "access_denied",
            "Client is not within the token audience");
        refused(&by_exchanger(&app, token, &[("audience", "nope")]).await, 400, "invalid_client", "Audience not found");
        refused(&by_exchanger(&app, token, &[("audience", "target"), ("audience", "nope")]).await, 400, "invalid_client",
            "Audience not found");
        refused(&by_exchanger(&app, token, &[("audience", "frontend")]).await, 400, "invalid_request",
            "Requested audience not available: frontend");
        refused(&by_exchanger(&app, token, &[("audience", "target"), ("audience", "backend")]).await, 400, "invalid_request",
            "Requested audience not available: backend");
        refused(&by_exchanger(&app, token, &[("scope", "openid admin:all")]).await, 400, "invalid_scope", "Invalid scopes: admin:all");
        // token types
        for kind in ["urn:ietf:params:oauth:token-type:id_token", "urn:ietf:params:oauth:token-type:saml2", "bogus"] {
            refused(&by_exchanger(&app, token, &[("requested_token_type", kind)]).await, 400, "invalid_request",
                "requested_token_type unsupported");
        }
        let mut form = vec![("grant_type", GRANT), ("client_id", "exchanger"), ("client_secret", EX_SECRET), ("subject_token", token),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:id_token")];
        refused(&token_request(&app, "vault", &form).await, 400, "invalid_request", "Parameter 'subject_token' supports access tokens only");
        form.pop();
        refused(&token_request(&app, "vault", &form).await, 400, "invalid_request",
            "Parameter 'subject_token_type' required for standard token exchange");
        refused(&token_request(&app, "vault", &[("grant_type", GRANT), ("client_id", "exchanger"), ("client_secret", EX_SECRET),
            ("subject_token_type", ACCESS)]).await, 400, "invalid_request", "Parameter 'subject_token' required for standard token exchange");
        for (name, value) in [("requested_subject", "carol"), ("requested_issuer", "google"), ("subject_issuer", "google")] {
            refused(&by_exchanger(&app, token, &[(name, value)]).await, 400, "invalid_request",
                &format!("Parameter '{name}' is not supported for standard token exchange"));
        }
        refused(&by_exchanger(&app, token, &[("actor_token", token), ("actor_token_type", ACCESS)]).await, 400, "invalid_request",
            "Parameter 'actor_token' is not supported for standard token exchange");
        // not an access token, a forged one, another realm's shape
        for bad in [subject["refresh_token"].as_str().unwrap(), subject["id_token"].as_str().unwrap(), "e30.e30.e30", &"x".repeat(20_000)] {
            refused(&by_exchanger(&app, bad, &[]).await, 400, "invalid_request", "Invalid token");
        }
        let too_many: Vec<(&str, &str)> = (0..33).map(|_| ("audience", "target")).collect();
        refused(&by_exchanger(&app, token, &too_many).await, 400, "invalid_request", "Too many audience parameters");

        // a revoked subject token (RFC 7009), then an expired one
        let revoke = [("client_id", "backend"), ("client_secret", VAULT_SECRET), ("token", token)];
        let reply = app.http.post(app.url("/realms/vault/protocol/openid-connect/revoke")).form(&revoke).send().await.unwrap();
        assert_eq!(reply.status(), 200);
        refused(&by_exchanger(&app, token, &[]).await, 400, "invalid_request", "Invalid token");
        let fresh = carol(&app, "openid").await;
        let fresh = fresh["access_token"].as_str().unwrap();
        assert_eq!(by_exchanger(&app, fresh, &[]).await.0, 200);
        app.clock.advance(301);
        refused(&by_exchanger(&app, fresh, &[]).await, 400, "invalid_request", "Invalid token");

        let failed = events(&app, "TOKEN_EXCHANGE_ERROR", 20).await;
        let denied = failed.iter().find(|e| e["error"] == "not_allowed").expect("the audience refusal is an event");
        assert_eq!(denied["details"]["reason"], "client is not within the token audience", "{denied}");
        let invalid = failed.iter().find(|e| e["error"] == "invalid_token").expect("an invalid subject token is an event");
        assert_eq!(invalid["details"]["reason"], "subject_token validation failure", "{invalid}");
        assert!(failed.iter().any(|e| e["error"] == "client_not_found" && e["details"]["audience"] == "nope"), "{failed:?}");
        for event in &failed {
            assert!(!event.to_string().contains(token), "no token in an event");
        }
        app.stop().await;
    }

    async fn a_requested_refresh_token_joins_the_subject_tokens_session(backend: Backend) {
        let app = exchange_app(backend).await;
        let subject = carol(&app, "openid").await;
        let token = subject["access_token"].as_str().unwrap();
        let sid = claims(token)["sid"].clone();

        let (status, body) = by_exchanger(&app, token, &[("requested_token_type", REFRESH), ("audience", "target")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["issued_token_type"], REFRESH);
        let refresh_token = body["refresh_token"].as_str().expect("a refresh token");
        assert_eq!(claims(refresh_token)["sid"], sid, "the same user session");
        assert_eq!(claims(body["access_token"].as_str().unwrap())["sid"], sid);
        assert_eq!(body["session_state"], sid);

        let admin = Admin::login(&app).await;
        let user = claims(token)["sub"].as_str().unwrap().to_string();
        let sessions = admin.ok(&format!("/admin/realms/vault/users/{user}/sessions")).await;
        assert_eq!(sessions.as_array().unwrap().len(), 1, "{sessions}");
        let joined: Vec<&str> = sessions[0]["clients"].as_object().unwrap().values().map(|c| c.as_str().unwrap()).collect();
        assert!(joined.contains(&"exchanger") && joined.contains(&"backend"), "{sessions}");

        // the refresh token works for its client, and ends with the session
        let refreshed = token_request(&app, "vault", &[("grant_type", "refresh_token"), ("client_id", "exchanger"),
            ("client_secret", EX_SECRET), ("refresh_token", refresh_token)]).await;
        assert_eq!(refreshed.0, 200, "{}", refreshed.1);

        refused(&by_exchanger(&app, token, &[("requested_token_type", REFRESH), ("scope", "offline_access")]).await, 400,
            "invalid_request", "Scope offline_access not allowed for token exchange");
        // a subject token of no session (client_credentials): an access token, never a refresh token
        let service = token_request(&app, "vault", &[("grant_type", "client_credentials"), ("client_id", "exchanger"),
            ("client_secret", EX_SECRET)]).await;
        assert_eq!(service.0, 200, "{}", service.1);
        let service = service.1["access_token"].as_str().unwrap().to_string();
        refused(&by_exchanger(&app, &service, &[("requested_token_type", REFRESH)]).await, 400, "invalid_request",
            "Refresh token not valid as requested_token_type because creating a new session is needed");
        let (status, body) = by_exchanger(&app, &service, &[]).await;
        assert_eq!(status, 200, "the token holder may exchange its own token: {body}");
        assert!(claims(body["access_token"].as_str().unwrap()).get("sid").is_none());

        // a client that allows no refresh tokens for exchange
        let id = internal_id(&admin, "exchanger").await;
        let attributes = json!({"attributes": {"standard.token.exchange.enabled": "true",
            "standard.token.exchange.enableRefreshRequestedTokenType": "NO"}});
        assert_eq!(admin.put(&format!("{CLIENTS}/{id}"), attributes).await.status, 204);
        refused(&by_exchanger(&app, token, &[("requested_token_type", REFRESH)]).await, 400, "invalid_request",
            "requested_token_type unsupported");
        app.stop().await;
    }

    async fn an_exchanged_token_ends_with_the_subject_grant_and_disabled_or_unconsented_parties_are_refused(backend: Backend) {
        let app = exchange_app(backend).await;
        let admin = Admin::login(&app).await;
        let subject = carol(&app, "openid").await;
        let token = subject["access_token"].as_str().unwrap();
        let (status, body) = by_exchanger(&app, token, &[("audience", "target")]).await;
        assert_eq!(status, 200, "{body}");
        let exchanged = body["access_token"].as_str().unwrap().to_string();
        assert_eq!(claims(&exchanged)["fam"], claims(token)["fam"], "the subject token's grant");

        // revoking the subject's grant (RFC 7009 on its refresh token) ends the exchanged token
        let revoke = [("client_id", "backend"), ("client_secret", VAULT_SECRET), ("token", subject["refresh_token"].as_str().unwrap())];
        let reply = app.http.post(app.url("/realms/vault/protocol/openid-connect/revoke")).form(&revoke).send().await.unwrap();
        assert_eq!(reply.status(), 200);
        assert_eq!(introspect(&app, &exchanged).await["active"], false);
        refused(&by_exchanger(&app, token, &[]).await, 400, "invalid_request", "Invalid token");

        // a disabled audience client
        let token = carol(&app, "openid").await["access_token"].as_str().unwrap().to_string();
        let target = internal_id(&admin, "target").await;
        assert_eq!(admin.put(&format!("{CLIENTS}/{target}"), json!({"enabled": false})).await.status, 204);
        refused(&by_exchanger(&app, &token, &[("audience", "target")]).await, 400, "invalid_client", "Client disabled");
        assert_eq!(admin.put(&format!("{CLIENTS}/{target}"), json!({"enabled": true})).await.status, 204);

        // a requester that needs consent the user never gave
        let id = internal_id(&admin, "exchanger").await;
        assert_eq!(admin.put(&format!("{CLIENTS}/{id}"), json!({"consentRequired": true})).await.status, 204);
        refused(&by_exchanger(&app, &token, &[]).await, 400, "invalid_scope", "Missing consents for Token Exchange in client exchanger");
        assert_eq!(admin.put(&format!("{CLIENTS}/{id}"), json!({"consentRequired": false})).await.status, 204);
        assert_eq!(by_exchanger(&app, &token, &[]).await.0, 200);

        // the subject's user disabled
        let user = claims(&token)["sub"].as_str().unwrap().to_string();
        assert_eq!(admin.put(&format!("/admin/realms/vault/users/{user}"), json!({"enabled": false})).await.status, 204);
        refused(&by_exchanger(&app, &token, &[]).await, 400, "invalid_request", "Invalid token");
        app.stop().await;
    }

    async fn the_exchange_attributes_round_trip_and_switch_the_grant(backend: Backend) {
        let app = exchange_app(backend).await;
        let admin = Admin::login(&app).await;
        let id = internal_id(&admin, "exchanger").await;
        let shown = admin.ok(&format!("{CLIENTS}/{id}")).await;
        assert_eq!(shown["attributes"]["standard.token.exchange.enabled"], "true", "{shown}");
        assert_eq!(shown["attributes"]["standard.token.exchange.enableRefreshRequestedTokenType"], "SAME_SESSION", "{shown}");
        let export = admin.post_empty("/admin/realms/vault/partial-export?exportClients=true&exportGroupsAndRoles=false").await;
        assert_eq!(export.status, 200, "{export:?}");
        let exported = export.body["clients"].as_array().unwrap().iter().find(|c| c["clientId"] == "exchanger").cloned().unwrap();
        assert_eq!(exported["attributes"]["standard.token.exchange.enabled"], "true", "{exported}");

        let token = carol(&app, "openid").await["access_token"].as_str().unwrap().to_string();
        assert_eq!(by_exchanger(&app, &token, &[]).await.0, 200);
        let off = json!({"attributes": {"standard.token.exchange.enabled": "false"}});
        assert_eq!(admin.put(&format!("{CLIENTS}/{id}"), off).await.status, 204);
        refused(&by_exchanger(&app, &token, &[]).await, 400, "invalid_request",
            "Standard token exchange is not enabled for the requested client");

        let (_, discovery) = app.get_json("/realms/vault/.well-known/openid-configuration").await;
        assert!(discovery["grant_types_supported"].as_array().unwrap().iter().any(|g| g == GRANT), "{discovery}");
        app.stop().await;
    }

    async fn a_realm_file_carries_the_exchange_attributes_and_exchanged_grants_keep_their_audience_and_deadline(backend: Backend) {
        // the realm file: `exchanger` as the admin API would set it up, sessions idle out after 120 s
        let mut realm: Value = serde_json::from_str(&std::fs::read_to_string(fixture("secrets-realm.json")).unwrap()).unwrap();
        realm["ssoSessionIdleTimeout"] = json!(120);
        let clients = realm["clients"].as_array_mut().unwrap();
        for client in clients.iter_mut().filter(|c| c["clientId"] == "backend") {
            client["protocolMappers"] = json!([audience_mapper("exchanger")]);
        }
        clients.push(json!({"clientId": "exchanger", "secret": EX_SECRET, "publicClient": false,
            "attributes": {"standard.token.exchange.enabled": "true",
                "standard.token.exchange.enableRefreshRequestedTokenType": "SAME_SESSION"},
            "protocolMappers": [audience_mapper("target"), audience_mapper("plain")]}));
        clients.push(json!({"clientId": "target", "secret": "target-secret-0123456789", "publicClient": false}));
        clients.push(json!({"clientId": "plain", "secret": EX_SECRET, "publicClient": false}));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.json");
        std::fs::write(&path, realm.to_string()).unwrap();
        let app = Spawn::new(backend).import(&path).start().await;
        let admin = Admin::login(&app).await;
        let id = internal_id(&admin, "exchanger").await;
        let shown = admin.ok(&format!("{CLIENTS}/{id}")).await;
        assert_eq!(shown["attributes"]["standard.token.exchange.enableRefreshRequestedTokenType"], "SAME_SESSION", "{shown}");

        let subject = carol(&app, "openid").await;
        let token = subject["access_token"].as_str().unwrap();
        let (status, body) = by_exchanger(&app, token, &[("audience", "target")]).await;
        assert_eq!(status, 200, "{body}");
        // 300 s of access-token lifespan, but the session idles out 120 s after its last use
        let exchanged = claims(body["access_token"].as_str().unwrap());
        assert!(exchanged["exp"].as_i64().unwrap() <= claims(token)["iat"].as_i64().unwrap() + 121, "{exchanged}");
        assert!(body["expires_in"].as_i64().unwrap() <= 121, "{body}");

        // a refresh token for `target` stays a grant for `target` when refreshed
        let (status, body) = by_exchanger(&app, token, &[("requested_token_type", REFRESH), ("audience", "target")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(audiences(&claims(body["access_token"].as_str().unwrap())), ["target"]);
        let refreshed = token_request(&app, "vault", &[("grant_type", "refresh_token"), ("client_id", "exchanger"),
            ("client_secret", EX_SECRET), ("refresh_token", body["refresh_token"].as_str().unwrap())]).await;
        assert_eq!(refreshed.0, 200, "{}", refreshed.1);
        let access = claims(refreshed.1["access_token"].as_str().unwrap());
        assert_eq!(audiences(&access), ["target"], "not `plain` too: {access}");
        assert!(access.get("resource_access").and_then(|r| r.get("plain")).is_none(), "{access}");
        // and its next shell still carries the restriction
        let again = token_request(&app, "vault", &[("grant_type", "refresh_token"), ("client_id", "exchanger"),
            ("client_secret", EX_SECRET), ("refresh_token", refreshed.1["refresh_token"].as_str().unwrap())]).await;
        assert_eq!(audiences(&claims(again.1["access_token"].as_str().unwrap())), ["target"], "{}", again.1);
        // an exchange without `audience` gets the requester's usual audiences on refresh too
        let (_, wide) = by_exchanger(&app, token, &[("requested_token_type", REFRESH)]).await;
        let wide = token_request(&app, "vault", &[("grant_type", "refresh_token"), ("client_id", "exchanger"),
            ("client_secret", EX_SECRET), ("refresh_token", wide["refresh_token"].as_str().unwrap())]).await;
        let mut got = audiences(&claims(wide.1["access_token"].as_str().unwrap()));
        got.sort();
        assert_eq!(got, ["plain", "target"], "{}", wide.1);
        app.stop().await;
    }

    async fn openid_client_exchanges_a_token_with_generic_grant_request(backend: Backend) {
        let app = exchange_app(backend).await;
        let subject = carol(&app, "openid").await;
        let token = subject["access_token"].as_str().unwrap();
        let got = openid_client_exchange(&app, token, json!({"audience": "target", "scope": "openid phone"})).await;
        let ok = &got["ok"];
        assert_eq!(ok["issued_token_type"], ACCESS, "{got}");
        assert_eq!(ok["token_type"], "bearer", "openid-client lower-cases it: {got}");
        assert_eq!(ok["claims"]["aud"], "target", "{got}");
        assert_eq!(ok["claims"]["azp"], "exchanger", "{got}");
        assert_eq!(ok["claims"]["scope"], "openid email phone profile", "{got}");
        assert_eq!(ok["has_id_token"], true, "openid-client checked its claims: {got}");
        assert_eq!(ok["has_refresh_token"], false, "{got}");
        assert_eq!(introspect(&app, ok["access_token"].as_str().unwrap()).await["active"], true);

        let got = openid_client_exchange(&app, token, json!({"requested_token_type": REFRESH})).await;
        assert_eq!((got["ok"]["issued_token_type"].as_str(), got["ok"]["has_refresh_token"].as_bool()), (Some(REFRESH), Some(true)), "{got}");

        let got = openid_client_exchange(&app, token, json!({"audience": ["target", "nope"]})).await;
        assert_eq!((got["error"].as_str(), got["status"].as_u64()), (Some("invalid_client"), Some(400)), "{got}");
        let frontend = crate::admin_support::password_grant(&app, "vault", "frontend", None, "carol",
            crate::admin_support::CAROL_PASSWORD, None).await;
        let got = openid_client_exchange(&app, frontend["access_token"].as_str().unwrap(), json!({})).await;
        assert_eq!((got["error"].as_str(), got["status"].as_u64()), (Some("access_denied"), Some(403)), "{got}");
        assert_eq!(got["error_description"], "Client is not within the token audience", "{got}");
        app.stop().await;
    }
}
