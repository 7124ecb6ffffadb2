//! The refresh-token grant over HTTP (RFC 6749 §6, RFC 9700 §4.14.2, DESIGN.md §2-§3): rotation,
//! reuse detection revoking one family, `refreshTokenMaxReuse` and `revokeRefreshToken`, the
//! concurrency rule, SSO and offline timeouts driven by the test clock, not-before, and a scan
//! of the database for tokens in plain text.

use portcullis::clock::Clock;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::TestApp;
use crate::token_grants::{
    assert_error, exchange, insert_code, login, payload, refresh, spawn_tokens, spawn_tokens_with, str_of, token, ALICE,
};

const REUSE_EXCEEDED: &str = "Maximum allowed refresh token reuse exceeded";

fn rt(body: &Value) -> &str {
    str_of(body, "refresh_token")
}

/// Refreshes and asserts success.
async fn refreshed(app: &TestApp, refresh_token: &str) -> Value {
    let (status, body) = refresh(app, "backend", refresh_token).await;
    assert_eq!(status, 200, "refresh failed: {body}");
    body
}

/// `n` refreshes of one token sent at once.
async fn race(app: &TestApp, refresh_token: &str, n: usize) -> Vec<(u16, Value)> {
    futures::future::join_all((0..n).map(|_| refresh(app, "backend", refresh_token))).await
}

fn assert_exactly_winners(answers: &[(u16, Value)], winners: usize) {
    let won = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(won, winners, "{answers:?}");
    for answer in answers.iter().filter(|(status, _)| *status != 200) {
        assert_error(answer, 400, "invalid_grant", None);
    }
    assert!(answers.iter().any(|(_, body)| body["error_description"] == REUSE_EXCEEDED), "a reuse was detected");
}

async fn realm_id_of(app: &TestApp) -> String {
    app.store.realm_by_name("tokens").await.unwrap().unwrap().id
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

backend_tests! {
    async fn a_refresh_rotates_and_a_reused_token_revokes_its_family(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let first = login(&app, "backend", ALICE, Some("openid")).await;

        let second = refreshed(&app, rt(&first)).await;
        let reuse = refresh(&app, "backend", rt(&first)).await;
        let successor = refresh(&app, "backend", rt(&second)).await;

        assert_ne!(rt(&first), rt(&second));
        assert_ne!(payload(rt(&first))["jti"], payload(rt(&second))["jti"]);
        assert_eq!(second["session_state"], first["session_state"]);
        assert!(second["id_token"].is_string(), "the granted scope is kept: {second}");
        assert_error(&reuse, 400, "invalid_grant", Some(REUSE_EXCEEDED));
        assert_error(&successor, 400, "invalid_grant", Some("Token is not active"));
        app.stop().await;
    }

    async fn a_reuse_revokes_its_own_family_only(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let tab_a = login(&app, "backend", ALICE, None).await;
        let tab_c = login(&app, "backend", ALICE, None).await;
        // a second grant in tab A's SSO and client session: a family of its own
        let code = insert_code(&app, "backend", str_of(&tab_a, "session_state"), "openid profile email", None).await;
        let (status, tab_b) = exchange(&app, "backend", &code, "https://app.example/cb", None).await;
        assert_eq!(status, 200, "{tab_b}");
        assert_eq!(tab_b["session_state"], tab_a["session_state"]);

        let a2 = refreshed(&app, rt(&tab_a)).await;
        let reuse = refresh(&app, "backend", rt(&tab_a)).await;
        let a3 = refresh(&app, "backend", rt(&a2)).await;
        let b2 = refresh(&app, "backend", rt(&tab_b)).await;
        let c2 = refresh(&app, "backend", rt(&tab_c)).await;

        assert_error(&reuse, 400, "invalid_grant", Some(REUSE_EXCEEDED));
        assert_error(&a3, 400, "invalid_grant", None);
        assert_eq!(b2.0, 200, "same client session, other family: {}", b2.1);
        assert_eq!(refresh(&app, "backend", rt(&b2.1)).await.0, 200);
        assert_eq!(c2.0, 200, "other tab: {}", c2.1);
        app.stop().await;
    }

    async fn refresh_token_max_reuse_allows_that_many_extra_uses(backend: Backend) {
        let app = spawn_tokens_with(backend, json!({"refreshTokenMaxReuse": 1})).await;
        let first = login(&app, "backend", ALICE, None).await;

        let once = refresh(&app, "backend", rt(&first)).await;
        let twice = refresh(&app, "backend", rt(&first)).await;
        let thrice = refresh(&app, "backend", rt(&first)).await;

        assert_eq!((once.0, twice.0), (200, 200), "{} {}", once.1, twice.1);
        assert_error(&thrice, 400, "invalid_grant", Some(REUSE_EXCEEDED));
        assert_error(&refresh(&app, "backend", rt(&once.1)).await, 400, "invalid_grant", None);
        assert_error(&refresh(&app, "backend", rt(&twice.1)).await, 400, "invalid_grant", None);
        app.stop().await;
    }

    async fn without_revoke_refresh_token_a_token_is_not_consumed(backend: Backend) {
        let app = spawn_tokens_with(backend, json!({"revokeRefreshToken": false})).await;
        let first = login(&app, "backend", ALICE, None).await;

        let answers = [
            refresh(&app, "backend", rt(&first)).await,
            refresh(&app, "backend", rt(&first)).await,
            refresh(&app, "backend", rt(&first)).await,
        ];

        for (status, body) in &answers {
            assert_eq!(*status, 200, "{body}");
        }
        assert_eq!(refresh(&app, "backend", rt(&answers[0].1)).await.0, 200);
        app.stop().await;
    }

    async fn fifty_concurrent_refreshes_of_one_token_have_one_winner(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let first = login(&app, "backend", ALICE, None).await;

        let answers = race(&app, rt(&first), 50).await;

        assert_exactly_winners(&answers, 1);
        let winner = answers.iter().find(|(status, _)| *status == 200).unwrap();
        let after = refresh(&app, "backend", rt(&winner.1)).await;
        assert_error(&after, 400, "invalid_grant", None);
        app.stop().await;
    }

    async fn fifty_concurrent_refreshes_honour_refresh_token_max_reuse(backend: Backend) {
        let app = spawn_tokens_with(backend, json!({"refreshTokenMaxReuse": 2})).await;
        let first = login(&app, "backend", ALICE, None).await;

        let answers = race(&app, rt(&first), 50).await;

        assert_exactly_winners(&answers, 3);
        app.stop().await;
    }

    async fn a_refresh_token_is_bound_to_its_client_and_its_signature(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let body = login(&app, "backend", ALICE, Some("openid")).await;
        let token_ = rt(&body);
        let (head, rest) = token_.split_once('.').unwrap();
        let (claims, signature) = rest.split_once('.').unwrap();
        let middle = signature.len() / 2;
        let flipped = if &signature[middle..=middle] == "A" { "B" } else { "A" };
        let tampered = format!("{head}.{claims}.{}{flipped}{}", &signature[..middle], &signature[middle + 1..]);
        let mut forged_claims = payload(token_);
        forged_claims["azp"] = json!("other");
        use base64::Engine;
        let forged_b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged_claims.to_string());
        let forged = format!("{head}.{forged_b64}.{signature}");

        let by_other = refresh(&app, "other", token_).await;
        let garbled = refresh(&app, "backend", "not-a-token").await;
        let bad_signature = refresh(&app, "backend", &tampered).await;
        let forged_for_other = refresh(&app, "other", &forged).await;
        let access = refresh(&app, "backend", str_of(&body, "access_token")).await;
        let id = refresh(&app, "backend", str_of(&body, "id_token")).await;
        let missing = token(&app, "backend", &[("grant_type", "refresh_token")]).await;
        let public = login(&app, "spa", ALICE, None).await;
        let public_by_backend = refresh(&app, "backend", rt(&public)).await;
        let public_by_itself = refresh(&app, "spa", rt(&public)).await;

        assert_error(&by_other, 400, "invalid_grant", None);
        for answer in [&garbled, &bad_signature, &forged_for_other, &access, &id] {
            assert_error(answer, 400, "invalid_grant", Some("Invalid refresh token"));
        }
        assert_error(&missing, 400, "invalid_request", Some("Missing parameter: refresh_token"));
        assert_error(&public_by_backend, 400, "invalid_grant", None);
        assert_eq!(public_by_itself.0, 200, "a public client refreshes with its client_id alone: {}", public_by_itself.1);
        assert_eq!(refresh(&app, "backend", token_).await.0, 200, "refused attempts did not consume the token");
        app.stop().await;
    }

    async fn an_idle_session_expires_and_each_refresh_moves_its_last_access(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let t0 = app.clock.now();
        let first = login(&app, "backend", ALICE, None).await;
        assert_eq!(payload(rt(&first))["exp"], t0 + 1800);

        app.clock.advance(1799);
        let second = refreshed(&app, rt(&first)).await;
        app.clock.advance(1799);
        let third = refreshed(&app, rt(&second)).await;
        app.clock.advance(1801);
        let idle = refresh(&app, "backend", rt(&third)).await;

        assert_eq!(payload(rt(&second))["exp"], t0 + 1799 + 1800);
        let access = payload(str_of(&third, "access_token"));
        assert_eq!((access["iat"].as_i64(), access["auth_time"].as_i64()), (Some(t0 + 2 * 1799), Some(t0)), "auth_time stays the login's");
        assert_eq!(second["refresh_expires_in"], 1800);
        assert_eq!(payload(rt(&third))["exp"], t0 + 2 * 1799 + 1800, "last access moved by the first refresh");
        // the shell's exp is the session's idle deadline, so it is what fails first
        assert_error(&idle, 400, "invalid_grant", Some("Token is not active"));
        app.stop().await;
    }

    async fn a_code_exchange_is_a_session_access_so_its_refresh_token_exp_holds(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let t0 = app.clock.now();
        let sso = login(&app, "backend", ALICE, None).await;
        app.clock.advance(1000);
        let code = insert_code(&app, "backend", str_of(&sso, "session_state"), "openid", None).await;
        let (status, exchanged) = exchange(&app, "backend", &code, "https://app.example/cb", None).await;
        assert_eq!(status, 200, "{exchanged}");

        app.clock.advance(900);
        let (status, body) = refresh(&app, "backend", rt(&exchanged)).await;

        assert_eq!(payload(rt(&exchanged))["exp"], t0 + 1000 + 1800, "the shell promises the idle deadline from the exchange");
        assert_eq!(status, 200, "at t0+1900 the shell's exp (t0+2800) has not passed, yet: {body}");
        app.stop().await;
    }

    async fn a_refresh_of_an_ended_session_is_session_not_active(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let realm_id = realm_id_of(&app).await;
        let body = login(&app, "backend", ALICE, None).await;

        assert!(app.store.delete_user_session(&realm_id, str_of(&body, "session_state")).await.unwrap().is_some());
        let gone = refresh(&app, "backend", rt(&body)).await;

        assert_error(&gone, 400, "invalid_grant", Some("Session not active"));
        app.stop().await;
    }

    async fn a_busy_session_ends_at_its_max_lifespan(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let t0 = app.clock.now();
        let mut current = login(&app, "backend", ALICE, None).await;
        let mut successes = 0;

        let refused = loop {
            app.clock.advance(1700);
            let now = app.clock.now();
            let (status, body) = refresh(&app, "backend", rt(&current)).await;
            if status != 200 {
                break (status, body);
            }
            successes += 1;
            let deadline = (now + 1800).min(t0 + 36_000);
            assert_eq!(payload(rt(&body))["exp"], deadline, "exp = min(last access + idle, start + max)");
            assert_eq!(body["refresh_expires_in"], deadline - now);
            assert!(successes < 30, "the session never ended");
            current = body;
        };

        // 21 × 1700 = 35,700 < 36,000 ≤ 22 × 1700, though the idle deadline (37,500) is still ahead
        assert_eq!(successes, 21);
        assert_eq!(current["refresh_expires_in"], 300);
        assert_error(&refused, 400, "invalid_grant", None);
        app.stop().await;
    }

    async fn an_offline_token_outlives_the_sso_session_until_its_own_idle_timeout(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let realm_id = realm_id_of(&app).await;
        let direct = login(&app, "backend", ALICE, Some("openid offline_access")).await;
        let sso = login(&app, "backend", ALICE, None).await;
        let code = insert_code(&app, "backend", str_of(&sso, "session_state"), "openid offline_access", None).await;
        let (status, from_code) = exchange(&app, "backend", &code, "https://app.example/cb", None).await;
        assert_eq!(status, 200, "{from_code}");

        assert!(app.store.delete_user_session(&realm_id, str_of(&sso, "session_state")).await.unwrap().is_some());
        app.clock.advance(2 * 86_400);
        let direct_2 = refreshed(&app, rt(&direct)).await;
        let from_code_2 = refreshed(&app, rt(&from_code)).await;
        let sso_2 = refresh(&app, "backend", rt(&sso)).await;
        app.clock.advance(2_592_001);
        let idle = refresh(&app, "backend", rt(&direct_2)).await;

        for body in [&direct, &from_code, &direct_2, &from_code_2] {
            assert_eq!(payload(rt(body))["typ"], "Offline");
            assert_eq!(body["refresh_expires_in"], 0);
            assert_eq!(body["expires_in"], 300);
        }
        // as in Keycloak, the offline session is named by the browser session it came from
        // (issue 13 item 6), though it lives on after that session ended
        assert_eq!(from_code["session_state"], sso["session_state"]);
        assert_error(&sso_2, 400, "invalid_grant", None);
        assert_error(&idle, 400, "invalid_grant", None);
        app.stop().await;
    }

    async fn a_token_issued_before_the_realms_not_before_is_stale(backend: Backend) {
        let not_before = portcullis::clock::SystemClock.now() + 100;
        let app = spawn_tokens_with(backend, json!({"notBefore": not_before})).await;
        let early = login(&app, "backend", ALICE, None).await;
        let stale = refresh(&app, "backend", rt(&early)).await;

        app.clock.set(not_before);
        let later = login(&app, "backend", ALICE, None).await;
        let fresh = refresh(&app, "backend", rt(&later)).await;

        assert_eq!(early["not-before-policy"], not_before);
        assert_error(&stale, 400, "invalid_grant", Some("Stale token"));
        assert_eq!(fresh.0, 200, "{}", fresh.1);
        app.stop().await;
    }

    async fn the_database_holds_no_token_or_jti_in_plain_text(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let online = login(&app, "backend", ALICE, Some("openid")).await;
        let offline = login(&app, "backend", ALICE, Some("offline_access")).await;
        let (_, service) = token(&app, "cc-refresh", &[("grant_type", "client_credentials")]).await;
        let mut bodies = vec![online.clone(), offline.clone(), service.clone()];
        for body in [&online, &offline, &service] {
            let (status, next) = refresh(&app, if body == &service { "cc-refresh" } else { "backend" }, rt(body)).await;
            assert_eq!(status, 200, "{next}");
            bodies.push(next);
        }

        let dump = crate::secrets_at_rest::database_dump(&app).await;

        assert!(contains(&dump, str_of(&online, "session_state").as_bytes()), "the scan sees the sessions");
        let last_jti = payload(rt(&bodies[3]))["jti"].as_str().unwrap().to_string();
        let stored = portcullis::crypto::sha256(last_jti.as_bytes());
        let hex: String = stored.iter().map(|b| format!("{b:02x}")).collect();
        assert!(contains(&dump, &stored) || contains(&dump, hex.as_bytes()), "the scan sees the jti hashes");
        for body in &bodies {
            let refresh_token = rt(body);
            assert!(!contains(&dump, refresh_token.as_bytes()), "refresh token in plain text");
            let signature = refresh_token.rsplit('.').next().unwrap();
            assert!(!contains(&dump, signature.as_bytes()), "refresh token signature in plain text");
            let jti = payload(refresh_token)["jti"].as_str().unwrap().to_string();
            assert!(!contains(&dump, jti.as_bytes()), "refresh token jti in plain text");
            let access = str_of(body, "access_token");
            assert!(!contains(&dump, access.as_bytes()), "access token in plain text");
            assert!(!contains(&dump, access.rsplit('.').next().unwrap().as_bytes()), "access token signature");
        }
        app.stop().await;
    }
}
