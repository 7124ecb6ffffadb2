//! Constant state per token family (issue 16 items 1-2, DESIGN.md §2) over HTTP, on both
//! backends: refreshes add no rows, each shell carries its family and generation, an older
//! generation presented later revokes its family with no row of its own, and tokens minted under
//! the previous schema (one `refresh_tokens` row per token, no family claims) keep working across
//! the migration.

use portcullis::clock::Clock;
use portcullis::oauth::tokens::claims::RefreshClaims;
use portcullis::oauth::tokens::keys::KeyRing;
use portcullis::oauth::tokens::refresh;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{fixture, Backend, Spawn, TestApp};
use crate::token_grants::{assert_error, login, payload, refresh, spawn_tokens, str_of, ALICE};

const HOSTNAME: &str = "http://portcullis.test";
const REUSE_EXCEEDED: &str = "Maximum allowed refresh token reuse exceeded";

fn rt(body: &Value) -> &str {
    str_of(body, "refresh_token")
}

async fn refreshed(app: &TestApp, refresh_token: &str) -> Value {
    let (status, body) = refresh(app, "backend", refresh_token).await;
    assert_eq!(status, 200, "refresh failed: {body}");
    body
}

/// One statement (or several) straight on the test's database.
async fn execute(app: &TestApp, statements: &[&str]) {
    use sqlx::Connection;
    match app.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
            for sql in statements {
                sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
            for sql in statements {
                sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
    }
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Connection;
    match app.backend {
        Backend::Sqlite => sqlx::query_scalar(sql).fetch_one(&mut sqlx::SqliteConnection::connect(&app.db_url).await.unwrap()).await.unwrap(),
        Backend::Postgres => sqlx::query_scalar(sql).fetch_one(&mut sqlx::PgConnection::connect(&app.db_url).await.unwrap()).await.unwrap(),
    }
}

/// Rows of every table a grant's tokens and sessions live in.
async fn token_state_rows(app: &TestApp) -> (i64, i64, i64, i64) {
    (
        scalar(app, "SELECT COUNT(*) FROM user_sessions").await,
        scalar(app, "SELECT COUNT(*) FROM client_sessions").await,
        scalar(app, "SELECT COUNT(*) FROM token_families").await,
        scalar(app, "SELECT COUNT(*) FROM legacy_refresh_tokens").await,
    )
}

backend_tests! {
    async fn fifty_refreshes_leave_the_number_of_rows_unchanged(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let first = login(&app, "backend", ALICE, None).await;
        let before = token_state_rows(&app).await;

        let mut current = rt(&first).to_string();
        for _ in 0..50 {
            current = rt(&refreshed(&app, &current).await).to_string();
        }
        let after = token_state_rows(&app).await;

        assert_eq!(before, (1, 1, 1, 0));
        assert_eq!(after, before, "(user sessions, client sessions, families, pre-upgrade token rows)");
        let claims = payload(&current);
        assert_eq!((claims["fam"].clone(), claims["gen"].as_i64()), (payload(rt(&first))["fam"].clone(), Some(51)));
        app.stop().await;
    }

    async fn each_refresh_moves_the_family_to_the_next_generation(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let first = login(&app, "backend", ALICE, Some("openid")).await;
        let second = refreshed(&app, rt(&first)).await;

        let (one, two) = (payload(rt(&first)), payload(rt(&second)));
        assert_eq!(one["gen"], 1);
        assert_eq!(two["gen"], 2);
        assert_eq!(one["fam"], two["fam"], "one grant, one family");
        assert_eq!(payload(str_of(&second, "access_token"))["fam"], two["fam"], "the access token names the same family");
        for claim in ["typ", "exp", "iat", "sid", "jti", "azp", "scope"] {
            assert!(two.get(claim).is_some(), "clients read {claim}: {two}");
        }
        app.stop().await;
    }

    async fn an_older_generation_presented_later_revokes_the_family(backend: Backend) {
        let app = spawn_tokens(backend).await;
        let other_tab = login(&app, "backend", ALICE, None).await;
        let g1 = login(&app, "backend", ALICE, None).await;
        let g2 = refreshed(&app, rt(&g1)).await;
        let g3 = refreshed(&app, rt(&g2)).await;
        let g4 = refreshed(&app, rt(&g3)).await;

        let stale = refresh(&app, "backend", rt(&g2)).await;
        let newest = refresh(&app, "backend", rt(&g4)).await;
        let stale_introspected = introspect_active(&app, rt(&g3)).await;

        assert_error(&stale, 400, "invalid_grant", Some(REUSE_EXCEEDED));
        assert_error(&newest, 400, "invalid_grant", Some("Token is not active"));
        assert!(!stale_introspected);
        assert_eq!(refresh(&app, "backend", rt(&other_tab)).await.0, 200, "another family is untouched");
        app.stop().await;
    }

    async fn tokens_minted_under_the_previous_schema_work_after_the_upgrade(backend: Backend) {
        // one issuer for both nodes, so the tokens of one are the other's
        let old = Spawn::new(backend).setting("hostname", HOSTNAME).import(fixture("token-realm.json")).start().await;
        // three grants, each to become a family of the previous schema
        let logins = [
            login(&old, "backend", ALICE, None).await,
            login(&old, "backend", ALICE, None).await,
            login(&old, "backend", ALICE, None).await,
        ];
        let families: Vec<String> = logins.iter().map(|l| payload(rt(l))["fam"].as_str().unwrap().to_string()).collect();
        downgrade(&old).await;
        let now = old.clock.now();
        // as the previous code left them: a fresh grant (a), a grant refreshed once whose consumed
        // token (b0) and current one (b1) both exist, and one for revocation (c)
        let a = PreviousShell::mint(&old, &logins[0], "a").await;
        let b0 = PreviousShell::mint(&old, &logins[1], "b0").await;
        let b1 = PreviousShell::mint(&old, &logins[1], "b1").await;
        let c = PreviousShell::mint(&old, &logins[2], "c").await;
        for (shell, family, consumed) in [(&a, &families[0], None), (&b0, &families[1], Some(now - 10)), (&b1, &families[1], None), (&c, &families[2], None)] {
            insert_previous_row(&old, shell, family, now - 20, consumed, None).await;
        }

        let app = Spawn::new(backend)
            .setting("hostname", HOSTNAME)
            .setting("db-url", &old.db_url)
            .setting("master-key", &old.master_key.to_base64())
            .start()
            .await;
        let a_live = introspect_active(&app, &a.token).await;
        let a2 = refreshed(&app, &a.token).await;
        let a3 = refreshed(&app, rt(&a2)).await;
        let a_again = refresh(&app, "backend", &a.token).await;
        let a3_after = refresh(&app, "backend", rt(&a3)).await;
        let b_consumed = refresh(&app, "backend", &b0.token).await;
        let b_current = refresh(&app, "backend", &b1.token).await;
        let revoked = post(&app, "revoke", &[("token", &c.token)]).await;
        let c_after = refresh(&app, "backend", &c.token).await;

        assert!(a_live, "a live token of the previous schema introspects as active");
        assert_eq!(payload(rt(&a2))["fam"].as_str(), Some(families[0].as_str()), "its successor names the family");
        assert_eq!(payload(rt(&a2))["gen"], 1);
        assert_eq!(payload(rt(&a3))["gen"], 2);
        assert_error(&a_again, 400, "invalid_grant", Some(REUSE_EXCEEDED));
        assert_error(&a3_after, 400, "invalid_grant", Some("Token is not active"));
        assert_error(&b_consumed, 400, "invalid_grant", Some(REUSE_EXCEEDED));
        assert_error(&b_current, 400, "invalid_grant", Some("Token is not active"));
        assert_eq!(revoked.0, 200, "{}", revoked.1);
        assert_error(&c_after, 400, "invalid_grant", Some("Token is not active"));
        // (`old.db_url` is the database both nodes share)
        assert_eq!(scalar(&old, "SELECT COUNT(*) FROM legacy_refresh_tokens").await, 4, "the old rows are frozen, none added");
        app.stop().await;
        old.stop().await;
    }

    async fn a_successor_recorded_before_the_upgrade_is_handed_out_again_within_the_interval(backend: Backend) {
        let realm = realm_file(&[("refreshTokenReuseIntervalSeconds", serde_json::json!(60))]);
        let old = Spawn::new(backend).setting("hostname", HOSTNAME).import(realm.path().join("tokens.json")).start().await;
        let grant = login(&old, "backend", ALICE, None).await;
        let family = payload(rt(&grant))["fam"].as_str().unwrap().to_string();
        downgrade(&old).await;
        let now = old.clock.now();
        // the previous code rotated d0 into d1 five seconds ago; the response may have been lost
        let d0 = PreviousShell::mint_at(&old, &grant, "d0", Some(now - 20)).await;
        let d1 = PreviousShell::mint_at(&old, &grant, "d1", Some(now - 5)).await;
        insert_previous_row(&old, &d0, &family, now - 20, Some(now - 5), Some((&d1, now + 55))).await;
        insert_previous_row(&old, &d1, &family, now - 5, None, None).await;

        let app = Spawn::new(backend)
            .setting("hostname", HOSTNAME)
            .setting("db-url", &old.db_url)
            .setting("master-key", &old.master_key.to_base64())
            .start()
            .await;
        let retried = refreshed(&app, &d0.token).await;
        let next = refreshed(&app, rt(&retried)).await;
        let late = refresh(&app, "backend", &d0.token).await;

        let again = payload(rt(&retried));
        assert_eq!(again["jti"].as_str(), Some(d1.jti.as_str()), "the very successor the previous code recorded");
        assert_eq!(again["iat"], now - 5);
        assert!(again.get("fam").is_none() && again.get("gen").is_none(), "re-issued in its own form: {again}");
        assert_eq!((payload(rt(&next))["fam"].as_str(), payload(rt(&next))["gen"].as_i64()), (Some(family.as_str()), Some(1)));
        assert_error(&late, 400, "invalid_grant", Some(REUSE_EXCEEDED));
        app.stop().await;
        old.stop().await;
    }
}

/// The "tokens" realm of the fixture with some settings replaced, in a temporary directory.
fn realm_file(settings: &[(&str, Value)]) -> tempfile::TempDir {
    let mut realm: Value = serde_json::from_str(&std::fs::read_to_string(fixture("token-realm.json")).unwrap()).unwrap();
    for (key, value) in settings {
        realm[*key] = value.clone();
    }
    realm["users"].as_array_mut().unwrap().retain(|u| u["username"] == "alice");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokens.json"), realm.to_string()).unwrap();
    dir
}

/// Whether the "tokens" realm's introspection reports the token active (client "backend").
pub(crate) async fn introspect_active(app: &TestApp, token: &str) -> bool {
    let (status, body) = post(app, "token/introspect", &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body["active"] == Value::Bool(true)
}

async fn post(app: &TestApp, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let url = app.url(&format!("/realms/tokens/protocol/openid-connect/{endpoint}"));
    let secret = crate::token_grants::secret_of("backend");
    let response = app.http.post(url).basic_auth("backend", secret).form(form).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A refresh shell as the previous code minted it: the claims of today's shell for the same
/// grant without `fam` and `gen`, a jti of its own, signed with the realm's HMAC key.
struct PreviousShell {
    token: String,
    jti: String,
    hash: [u8; 32],
}

impl PreviousShell {
    async fn mint(app: &TestApp, login: &Value, jti: &str) -> Self {
        Self::mint_at(app, login, jti, None).await
    }

    async fn mint_at(app: &TestApp, login: &Value, jti: &str, issued_at: Option<i64>) -> Self {
        let mut claims: RefreshClaims = serde_json::from_value(payload(rt(login))).unwrap();
        claims.fam = None;
        claims.generation = None;
        claims.jti = format!("previous-schema-jti-{jti}-{}", uuid::Uuid::new_v4().simple());
        if let Some(iat) = issued_at {
            claims.iat = iat;
        }
        let realm = app.store.realm_by_name("tokens").await.unwrap().unwrap();
        let records = app.store.signing_keys(&realm.id).await.unwrap();
        let ring = KeyRing::load(&records, &app.master_key, app.clock.now()).unwrap();
        let token = refresh::sign(&ring.hmac_active().unwrap(), &claims);
        assert!(payload(&token).get("fam").is_none() && payload(&token).get("gen").is_none());
        Self { token, hash: refresh::jti_hash(&claims.jti), jti: claims.jti }
    }
}

/// The row the previous code stored for a shell; a consumed one may record its successor (its
/// hash, and its jti sealed for the reuse interval, as the previous rotation did).
async fn insert_previous_row(
    app: &TestApp,
    shell: &PreviousShell,
    family: &str,
    issued_at: i64,
    consumed_at: Option<i64>,
    successor: Option<(&PreviousShell, i64)>,
) {
    use sqlx::Connection;
    let sql = "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, consumed_at, reuse_count, successor_hash, \
               successor_sealed, reuse_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let reuse_count = i64::from(consumed_at.is_some());
    let mut aad = b"refresh-successor:".to_vec();
    aad.extend_from_slice(&shell.hash);
    let successor_hash = successor.map(|(s, _)| s.hash.to_vec());
    let sealed = successor.map(|(s, _)| app.master_key.seal(s.jti.as_bytes(), &aad));
    let reuse_until = successor.map(|(_, until)| until);
    match app.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
            sqlx::query(sql).bind(&shell.hash[..]).bind(family).bind(issued_at).bind(consumed_at).bind(reuse_count)
                .bind(successor_hash).bind(sealed).bind(reuse_until)
                .execute(&mut conn).await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
            sqlx::query(sql).bind(&shell.hash[..]).bind(family).bind(issued_at).bind(consumed_at).bind(reuse_count)
                .bind(successor_hash).bind(sealed).bind(reuse_until)
                .execute(&mut conn).await.unwrap();
        }
    }
}

/// Turns the database back into the schema before families held constant state (exactly what
/// Postgres migration 0011 / SQLite 0010 changed, reversed) and forgets that migration, so the
/// next start applies it to this data. Families keep their rows; their tokens are then whatever
/// the test inserts into `refresh_tokens`, as the previous code did.
async fn downgrade(app: &TestApp) {
    let version = match app.backend {
        Backend::Sqlite => "DELETE FROM _sqlx_migrations WHERE version = 10",
        Backend::Postgres => "DELETE FROM _sqlx_migrations WHERE version = 11",
    };
    execute(app, &[
        "DROP INDEX token_families_reuse_until",
        "ALTER TABLE token_families DROP COLUMN generation",
        "ALTER TABLE token_families DROP COLUMN current_hash",
        "ALTER TABLE token_families DROP COLUMN reuse_count",
        "ALTER TABLE token_families DROP COLUMN rotated_at",
        "ALTER TABLE token_families DROP COLUMN successor_sealed",
        "ALTER TABLE token_families DROP COLUMN reuse_until",
        "ALTER TABLE legacy_refresh_tokens RENAME TO refresh_tokens",
        "CREATE INDEX refresh_tokens_reuse_until ON refresh_tokens (reuse_until) WHERE successor_sealed IS NOT NULL",
        "DROP INDEX user_sessions_cleanup",
        "ALTER TABLE user_sessions DROP COLUMN cleanup_after",
        "CREATE INDEX user_sessions_expiry ON user_sessions (expires_at)",
        version,
    ]).await;
}
