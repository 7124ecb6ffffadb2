//! Random interleavings of refresh, reuse, revocation, logout, admin session deletion and code
//! exchanges (fresh, late and replayed) on a few token families of a few sessions, over HTTP on
//! both backends (issue 7 item 3). A model says after every step which refresh token of each
//! family is live; the server must answer each step as the model predicts, the database must
//! never hold two live tokens in one family, and no token of a revoked family or an ended session
//! may work. proptest generates the sequences from a fixed seed (PROPTEST_RNG_SEED and
//! PROPTEST_CASES override it), keeps no regression file, and shrinks a failure to a short list.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};
use serde_json::Value;

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::helpers::{fixture, Backend, Spawn, TestApp};
use crate::token_grants::{exchange, insert_code, login, payload, secret_of, str_of, token, ALICE};

const REALM: &str = "tokens";
const CLIENT: &str = "backend";
const REDIRECT_URI: &str = "https://app.example/cb";
const SEED: u64 = 0x7007_0003;
const CASES: u32 = 32;
const SESSIONS: usize = 3;
const REUSE_EXCEEDED: &str = "Maximum allowed refresh token reuse exceeded";

/// One step. The numbers pick a session, family, token or code modulo how many exist when the
/// step runs, so every sequence is valid and shrinks towards index 0.
#[derive(Debug, Clone)]
enum Op {
    /// Refresh with the family's newest token.
    Refresh { family: u8 },
    /// Present an older, consumed token of a family that has rotated (theft, RFC 9700 §4.14.2).
    Reuse { family: u8, token: u8 },
    /// RFC 7009 revocation with any token of the family.
    Revoke { family: u8, token: u8 },
    /// Keycloak's logout endpoint with any token of the family: ends its session.
    Logout { family: u8, token: u8 },
    /// `DELETE /admin/realms/tokens/sessions/{id}`.
    AdminDelete { session: u8 },
    /// The browser flow joins a live session: a new code, exchanged at once (a new family).
    NewFamily { session: u8 },
    /// Exchange the code issued for the session when the case began (the session may be gone).
    LateCode { session: u8 },
    /// Exchange a used code again: RFC 6749 §4.1.2 revokes what its first exchange issued.
    ReplayCode { code: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => any::<u8>().prop_map(|family| Op::Refresh { family }),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(family, token)| Op::Reuse { family, token }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(family, token)| Op::Revoke { family, token }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(family, token)| Op::Logout { family, token }),
        1 => any::<u8>().prop_map(|session| Op::AdminDelete { session }),
        2 => any::<u8>().prop_map(|session| Op::NewFamily { session }),
        1 => any::<u8>().prop_map(|session| Op::LateCode { session }),
        1 => any::<u8>().prop_map(|code| Op::ReplayCode { code }),
    ]
}

struct Session {
    id: String,
    alive: bool,
}

struct Family {
    session: usize,
    /// Every refresh token of the chain, oldest first; the last one is the head.
    refresh: Vec<String>,
    access: Vec<String>,
    revoked: bool,
}

enum CodeState {
    Unused,
    /// Its first exchange started this family.
    Used(Option<usize>),
}

struct Code {
    session: usize,
    code: String,
    state: CodeState,
}

/// What the server should hold: a family is live while it is not revoked and its session is
/// alive, and then exactly its head is a usable refresh token.
#[derive(Default)]
struct Model {
    sessions: Vec<Session>,
    families: Vec<Family>,
    codes: Vec<Code>,
}

impl Model {
    fn live(&self, family: usize) -> bool {
        let f = &self.families[family];
        !f.revoked && self.sessions[f.session].alive
    }

    /// Hashes of the refresh tokens that must be live, as the store keys them.
    fn expected_live(&self) -> BTreeSet<Vec<u8>> {
        (0..self.families.len())
            .filter(|&f| self.live(f))
            .filter_map(|f| self.families[f].refresh.last())
            .map(|token| token_hash(token))
            .collect()
    }
}

fn token_hash(refresh_token: &str) -> Vec<u8> {
    let claims = payload(refresh_token);
    portcullis::oauth::tokens::refresh::jti_hash(str_of(&claims, "jti")).to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn pick(n: u8, len: usize) -> Option<usize> {
    (len > 0).then(|| usize::from(n) % len)
}

async fn post(app: &TestApp, endpoint: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let url = app.url(&format!("/realms/{REALM}/protocol/openid-connect/{endpoint}"));
    let secret = secret_of(CLIENT).expect("a confidential client");
    let response =
        app.http.post(url).basic_auth(CLIENT, Some(secret)).form(params).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn introspect_active(app: &TestApp, token: &str) -> bool {
    let (status, body) = post(app, "token/introspect", &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body["active"] == Value::Bool(true)
}

/// The current token of each family of the realm that can still be used: family not revoked,
/// session present. (session id, family id, token hash), straight from the test's database.
async fn live_rows(app: &TestApp, realm_id: &str) -> Vec<(String, String, Vec<u8>)> {
    use sqlx::Connection;
    let sql = "SELECT s.id, f.id, f.current_hash FROM token_families f \
               JOIN client_sessions cs ON cs.id = f.client_session_id \
               JOIN user_sessions s ON s.id = cs.user_session_id \
               WHERE f.current_hash IS NOT NULL AND f.revoked_at IS NULL AND s.realm_id = $1";
    match app.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.db_url).await.expect("sqlite");
            sqlx::query_as(sql).bind(realm_id).fetch_all(&mut conn).await.expect("live rows")
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&app.db_url).await.expect("postgres");
            sqlx::query_as(sql).bind(realm_id).fetch_all(&mut conn).await.expect("live rows")
        }
    }
}

/// The invariant, then the model, for the sessions of this case (a failed case may leave live
/// tokens behind while proptest shrinks): at most one live token per family, and exactly the
/// heads of the families the model holds live.
async fn check_store(app: &TestApp, realm_id: &str, model: &Model, at: &str) {
    let ours: BTreeSet<&str> = model.sessions.iter().map(|s| s.id.as_str()).collect();
    let rows: Vec<_> =
        live_rows(app, realm_id).await.into_iter().filter(|(s, _, _)| ours.contains(s.as_str())).collect();
    let mut per_family: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, family, _) in &rows {
        *per_family.entry(family.as_str()).or_default() += 1;
    }
    let crowded: Vec<_> = per_family.iter().filter(|(_, n)| **n > 1).collect();
    assert!(crowded.is_empty(), "{at}: families with two live tokens: {crowded:?}");
    let short = |hashes: &BTreeSet<Vec<u8>>| hashes.iter().map(|h| hex(&h[..4])).collect::<Vec<_>>();
    let live: BTreeSet<Vec<u8>> = rows.iter().map(|(_, _, hash)| hash.clone()).collect();
    let expected = model.expected_live();
    assert_eq!(short(&live), short(&expected), "{at}: live tokens (jti hash prefixes) differ from the model");
    assert_eq!(live, expected, "{at}");
}

/// A password grant: a new session with its first family.
async fn start_session(app: &TestApp, model: &mut Model) {
    let tokens = login(app, CLIENT, ALICE, None).await;
    model.sessions.push(Session { id: str_of(&tokens, "session_state").to_string(), alive: true });
    model.families.push(Family {
        session: model.sessions.len() - 1,
        refresh: vec![str_of(&tokens, "refresh_token").to_string()],
        access: vec![str_of(&tokens, "access_token").to_string()],
        revoked: false,
    });
}

async fn issue_code(app: &TestApp, model: &mut Model, session: usize) -> usize {
    let code = insert_code(app, CLIENT, &model.sessions[session].id, "openid", None).await;
    model.codes.push(Code { session, code, state: CodeState::Unused });
    model.codes.len() - 1
}

/// Exchanges an unused code and checks the answer against the model.
async fn exchange_code(app: &TestApp, model: &mut Model, code: usize, at: &str) {
    let session = model.codes[code].session;
    let (status, body) = exchange(app, CLIENT, &model.codes[code].code, REDIRECT_URI, None).await;
    let family = if model.sessions[session].alive {
        assert_eq!(status, 200, "{at}: a code of a live session: {body}");
        model.families.push(Family {
            session,
            refresh: vec![str_of(&body, "refresh_token").to_string()],
            access: vec![str_of(&body, "access_token").to_string()],
            revoked: false,
        });
        Some(model.families.len() - 1)
    } else {
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{at}: a code of an ended session"
        );
        None
    };
    model.codes[code].state = CodeState::Used(family);
}

async fn step(app: &TestApp, admin: &Admin<'_>, model: &mut Model, op: &Op, at: &str) {
    match *op {
        Op::Refresh { family } => {
            let Some(f) = pick(family, model.families.len()) else { return };
            let head = model.families[f].refresh.last().expect("a family has a token").clone();
            let (status, body) =
                token(app, CLIENT, &[("grant_type", "refresh_token"), ("refresh_token", &head)]).await;
            if model.live(f) {
                assert_eq!(status, 200, "{at}: the head of a live family: {body}");
                model.families[f].refresh.push(str_of(&body, "refresh_token").to_string());
                model.families[f].access.push(str_of(&body, "access_token").to_string());
            } else {
                assert_eq!(
                    (status, body["error"].as_str()),
                    (400, Some("invalid_grant")),
                    "{at}: a dead family"
                );
            }
        }
        Op::Reuse { family, token: n } => {
            let rotated: Vec<usize> =
                (0..model.families.len()).filter(|&f| model.families[f].refresh.len() > 1).collect();
            let Some(f) = pick(family, rotated.len()).map(|i| rotated[i]) else { return };
            let Some(t) = pick(n, model.families[f].refresh.len() - 1) else { return };
            let old = model.families[f].refresh[t].clone();
            let (status, body) =
                token(app, CLIENT, &[("grant_type", "refresh_token"), ("refresh_token", &old)]).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_grant")),
                "{at}: a consumed token"
            );
            if model.live(f) {
                assert_eq!(body["error_description"], REUSE_EXCEEDED, "{at}");
                model.families[f].revoked = true;
            }
        }
        Op::Revoke { family, token: n } => {
            let Some(f) = pick(family, model.families.len()) else { return };
            let Some(t) = pick(n, model.families[f].refresh.len()) else { return };
            let (status, body) = post(app, "revoke", &[("token", &model.families[f].refresh[t])]).await;
            assert_eq!(status, 200, "{at}: RFC 7009 answers 200: {body}");
            model.families[f].revoked = true;
        }
        Op::Logout { family, token: n } => {
            let Some(f) = pick(family, model.families.len()) else { return };
            let Some(t) = pick(n, model.families[f].refresh.len()) else { return };
            let (status, body) =
                post(app, "logout", &[("refresh_token", &model.families[f].refresh[t])]).await;
            if model.live(f) {
                assert_eq!(status, 204, "{at}: logout with a token of a live family: {body}");
                let session = model.families[f].session;
                model.sessions[session].alive = false;
            } else {
                assert_eq!(
                    (status, body["error"].as_str()),
                    (400, Some("invalid_grant")),
                    "{at}: logout, dead family"
                );
            }
        }
        Op::AdminDelete { session } => {
            let Some(s) = pick(session, model.sessions.len()) else { return };
            let reply =
                admin.delete(&format!("/admin/realms/{REALM}/sessions/{}", model.sessions[s].id)).await;
            let expected = if model.sessions[s].alive { 204 } else { 404 };
            assert_eq!(reply.status, expected, "{at}: {reply:?}");
            model.sessions[s].alive = false;
        }
        Op::NewFamily { session } => {
            let Some(s) = pick(session, model.sessions.len()) else { return };
            if !model.sessions[s].alive {
                return; // no browser flow hands out a code for an ended session
            }
            let code = issue_code(app, model, s).await;
            exchange_code(app, model, code, at).await;
        }
        Op::LateCode { session } => {
            let Some(s) = pick(session, model.sessions.len()) else { return };
            let early =
                model.codes.iter().position(|c| c.session == s && matches!(c.state, CodeState::Unused));
            if let Some(code) = early {
                exchange_code(app, model, code, at).await;
            }
        }
        Op::ReplayCode { code } => {
            let used: Vec<usize> = (0..model.codes.len())
                .filter(|&c| matches!(model.codes[c].state, CodeState::Used(_)))
                .collect();
            let Some(c) = pick(code, used.len()).map(|i| used[i]) else { return };
            let (status, body) = exchange(app, CLIENT, &model.codes[c].code, REDIRECT_URI, None).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_grant")),
                "{at}: a replayed code"
            );
            if let CodeState::Used(Some(f)) = model.codes[c].state {
                model.families[f].revoked = true;
            }
        }
    }
}

/// After the sequence: introspection agrees with the model, no token of a dead family or ended
/// session works, each live head refreshes once more; then the case's sessions are ended.
async fn finish(app: &TestApp, admin: &Admin<'_>, model: &mut Model) {
    for (f, family) in model.families.iter().enumerate() {
        let head = family.refresh.last().expect("a head");
        let at = format!("after the sequence, family {f}");
        assert_eq!(introspect_active(app, head).await, model.live(f), "{at}: introspection of the head");
        if !model.sessions[family.session].alive {
            for access in &family.access {
                assert!(!introspect_active(app, access).await, "{at}: an access token of an ended session");
            }
        } else if model.live(f) {
            let newest = family.access.last().expect("an access token");
            assert!(introspect_active(app, newest).await, "{at}: the newest access token of a live family");
        }
        let tokens: &[String] = if model.live(f) { std::slice::from_ref(head) } else { &family.refresh };
        for refresh_token in tokens {
            if !model.live(f) {
                assert!(!introspect_active(app, refresh_token).await, "{at}: a token of a dead family");
            }
            let (status, body) =
                token(app, CLIENT, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)])
                    .await;
            let expected = if model.live(f) { 200 } else { 400 };
            assert_eq!(status, expected, "{at}: refresh: {body}");
        }
    }
    for session in model.sessions.iter_mut().filter(|s| s.alive) {
        let reply = admin.delete(&format!("/admin/realms/{REALM}/sessions/{}", session.id)).await;
        assert_eq!(reply.status, 204, "{reply:?}");
        session.alive = false;
    }
}

async fn run_case(app: &TestApp, admin: &Admin<'_>, realm_id: &str, ops: &[Op]) {
    let mut model = Model::default();
    for s in 0..SESSIONS {
        start_session(app, &mut model).await;
        issue_code(app, &mut model, s).await;
    }
    check_store(app, realm_id, &model, "at the start").await;
    for (i, op) in ops.iter().enumerate() {
        let at = format!("step {i} ({op:?})");
        step(app, admin, &mut model, op, &at).await;
        check_store(app, realm_id, &model, &at).await;
    }
    finish(app, admin, &mut model).await;
    check_store(app, realm_id, &model, "after ending every session").await;
}

/// The "tokens" realm with alice only (one argon2 hash at import) and no rate limits: a run
/// sends a few thousand token requests from one address.
async fn spawn(backend: Backend) -> TestApp {
    let mut realm: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("token-realm.json")).unwrap()).unwrap();
    realm["users"].as_array_mut().unwrap().retain(|u| u["username"] == "alice");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(&path, realm.to_string()).unwrap();
    Spawn::new(backend)
        .setting("rate-limit-token-per-ip", "0")
        .setting("rate-limit-token-per-client", "0")
        .import(path)
        .start()
        .await
}

/// A fixed seed and case count unless PROPTEST_RNG_SEED / PROPTEST_CASES say otherwise; no
/// failure persistence (a failure prints its shrunk sequence instead of writing a file).
fn config() -> Config {
    let default = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() { default.cases } else { CASES },
        rng_seed: match default.rng_seed {
            RngSeed::Random => RngSeed::Fixed(SEED),
            fixed => fixed,
        },
        failure_persistence: None,
        max_shrink_iters: 200,
        ..default
    }
}

backend_tests! {
    async fn random_interleavings_never_leave_two_live_tokens_in_a_family(backend: Backend) {
        let app = spawn(backend).await;
        let admin = Admin::login(&app).await;
        let realm_id = app.store.realm_by_name(REALM).await.unwrap().unwrap().id;
        let runtime = tokio::runtime::Handle::current();
        let mut runner = TestRunner::new(config());
        let result = tokio::task::block_in_place(|| {
            runner.run(&proptest::collection::vec(op(), 1..=12), |ops| {
                runtime.block_on(run_case(&app, &admin, &realm_id, &ops));
                Ok::<(), TestCaseError>(())
            })
        });
        match result {
            Ok(()) => {}
            Err(TestError::Fail(reason, ops)) => panic!("{reason}\nshrunk to: {ops:#?}"),
            Err(TestError::Abort(reason)) => panic!("aborted: {reason}"),
        }
        app.stop().await;
    }
}
