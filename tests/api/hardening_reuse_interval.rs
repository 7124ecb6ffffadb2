//! Lost-response recovery over HTTP on both backends (issue 7 item 6): with the realm setting
//! `refreshTokenReuseIntervalSeconds`, a refresh token presented again within that many seconds
//! of its rotation gets the same successor, as long as that successor is unused; past the
//! interval, or once the successor was used, a reuse revokes the family as before. The
//! successor's jti is kept sealed, never in plain text, and cleared after the interval.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::token_grants::{assert_error, login, payload, refresh, spawn_tokens_with, str_of, ALICE};

const REUSE_EXCEEDED: &str = "Maximum allowed refresh token reuse exceeded";
const INTERVAL: i64 = 30;

async fn spawn_with_interval(backend: Backend) -> TestApp {
    spawn_tokens_with(backend, json!({ "refreshTokenReuseIntervalSeconds": INTERVAL })).await
}

fn rt(body: &Value) -> &str {
    str_of(body, "refresh_token")
}

async fn refreshed(app: &TestApp, refresh_token: &str) -> Value {
    let (status, body) = refresh(app, "backend", refresh_token).await;
    assert_eq!(status, 200, "refresh failed: {body}");
    body
}

/// Families still holding a sealed successor, straight from the test's database.
async fn sealed_successors(app: &TestApp) -> i64 {
    let sql = "SELECT COUNT(*) FROM token_families WHERE successor_sealed IS NOT NULL";
    match app.backend {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        }
    }
}

backend_tests! {
    async fn a_token_presented_again_within_the_interval_gets_the_same_successor(backend: Backend) {
        let app = spawn_with_interval(backend).await;
        let first = login(&app, "backend", ALICE, Some("openid")).await;
        let second = refreshed(&app, rt(&first)).await;

        app.clock.advance(INTERVAL - 1);
        let retried = refreshed(&app, rt(&first)).await;
        let retried_again = refreshed(&app, rt(&first)).await;

        assert_eq!(rt(&retried), rt(&second), "the very same successor, byte for byte");
        assert_eq!(rt(&retried_again), rt(&second));
        assert_ne!(retried["access_token"], second["access_token"], "a fresh access token");
        assert_eq!(payload(str_of(&retried, "access_token"))["sid"], payload(str_of(&second, "access_token"))["sid"]);
        assert!(retried["id_token"].is_string(), "{retried}");
        let third = refreshed(&app, rt(&second)).await;
        assert_ne!(rt(&third), rt(&second), "the chain goes on from the successor");
        app.stop().await;
    }

    async fn past_the_interval_a_reuse_revokes_the_family(backend: Backend) {
        let app = spawn_with_interval(backend).await;
        let first = login(&app, "backend", ALICE, None).await;
        let second = refreshed(&app, rt(&first)).await;

        app.clock.advance(INTERVAL);
        let late = refresh(&app, "backend", rt(&first)).await;
        let successor = refresh(&app, "backend", rt(&second)).await;

        assert_error(&late, 400, "invalid_grant", Some(REUSE_EXCEEDED));
        assert_error(&successor, 400, "invalid_grant", Some("Token is not active"));
        app.stop().await;
    }

    async fn once_the_successor_was_used_a_reuse_revokes_the_family(backend: Backend) {
        let app = spawn_with_interval(backend).await;
        let first = login(&app, "backend", ALICE, None).await;
        let second = refreshed(&app, rt(&first)).await;
        let third = refreshed(&app, rt(&second)).await;

        let previous = refreshed(&app, rt(&second)).await;
        let older = refresh(&app, "backend", rt(&first)).await;
        let head = refresh(&app, "backend", rt(&third)).await;

        assert_eq!(rt(&previous), rt(&third), "the immediately previous token still recovers");
        assert_error(&older, 400, "invalid_grant", Some(REUSE_EXCEEDED));
        assert_error(&head, 400, "invalid_grant", Some("Token is not active"));
        app.stop().await;
    }

    async fn concurrent_refreshes_of_one_token_all_get_the_one_successor(backend: Backend) {
        let app = spawn_with_interval(backend).await;
        let first = login(&app, "backend", ALICE, None).await;

        let answers = futures::future::join_all((0..20).map(|_| refresh(&app, "backend", rt(&first)))).await;

        for (status, body) in &answers {
            assert_eq!(*status, 200, "{body}");
        }
        let successor = rt(&answers[0].1);
        assert!(answers.iter().all(|(_, body)| rt(body) == successor), "one successor for all");
        refreshed(&app, successor).await;
        app.stop().await;
    }

    async fn the_successor_is_kept_sealed_and_cleared_after_the_interval(backend: Backend) {
        let app = spawn_with_interval(backend).await;
        let first = login(&app, "backend", ALICE, None).await;
        let second = refreshed(&app, rt(&first)).await;
        let jti = payload(rt(&second))["jti"].as_str().unwrap().to_string();

        let dump = crate::secrets_at_rest::database_dump(&app).await;
        let held = sealed_successors(&app).await;
        app.clock.advance(INTERVAL + 1);
        let now = portcullis::clock::Clock::now(&app.clock);
        app.store.delete_expired(now, 0, 1000).await.unwrap();
        let after_cleanup = sealed_successors(&app).await;

        assert!(!dump.windows(jti.len()).any(|w| w == jti.as_bytes()), "no successor jti in plain text");
        assert_eq!((held, after_cleanup), (1, 0));
        assert_eq!(refresh(&app, "backend", rt(&second)).await.0, 200, "cleanup ends recovery, not the token");
        app.stop().await;
    }

    async fn the_setting_is_imported_and_off_by_default(backend: Backend) {
        let app = spawn_with_interval(backend).await;
        let default = crate::token_grants::spawn_tokens(backend).await;

        let realm = app.store.realm_by_name("tokens").await.unwrap().unwrap();
        let first = login(&default, "backend", ALICE, None).await;
        refreshed(&default, rt(&first)).await;
        let reuse = refresh(&default, "backend", rt(&first)).await;

        assert_eq!(realm.settings.refresh_token_reuse_interval_seconds, INTERVAL);
        assert_error(&reuse, 400, "invalid_grant", Some(REUSE_EXCEEDED));
        assert_eq!(sealed_successors(&default).await, 0, "nothing is recorded when the interval is 0");
        app.stop().await;
        default.stop().await;
    }
}
