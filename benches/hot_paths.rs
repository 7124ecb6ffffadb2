//! Criterion micro-benchmarks of the hot functions: signing access tokens (RS256, ES256, EdDSA)
//! through parsed key pairs, verifying one, signing and verifying a refresh-token shell, parsing
//! a token request, and one refresh rotation against each backend's store.
//! Run: `cargo bench --bench hot_paths` (Postgres from PORTCULLIS_TEST_POSTGRES_URL).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use portcullis::crypto::MasterKey;
use portcullis::domain::{new_id, Client, Credential, RealmSettings, SignatureAlgorithm, User};
use portcullis::oauth::request::FormParams;
use portcullis::oauth::tokens::claims::RefreshClaims;
use portcullis::oauth::tokens::keys::generate_realm_keys;
use portcullis::oauth::tokens::{access, refresh, KeyRing};
use portcullis::realm::defaults::new_realm_bundle;
use portcullis::store::{self, FamilyGeneration, NewGrant, PresentedToken, RotateOutcome, RotateRequest, Store, UserSessionRecord};
use serde_json::json;

fn claims(now: i64) -> serde_json::Value {
    json!({
        "exp": now + 300, "iat": now, "jti": "abcdefghijklmnop", "iss": "http://127.0.0.1:8080/realms/bench",
        "sub": "4d6e0f1e-1111-2222-3333-444455556666", "typ": "Bearer", "azp": "bench-client",
        "sid": "5d6e0f1e-1111-2222-3333-444455556666", "scope": "openid profile email",
        "realm_access": { "roles": ["offline_access", "default-roles-bench"] },
        "preferred_username": "user1", "email": "user1@bench.example", "email_verified": true,
    })
}

fn signing(c: &mut Criterion) {
    let master = MasterKey::generate();
    // a new realm's keys and a key of every other algorithm, as a realm gets them on demand
    let mut records = generate_realm_keys("r", &master, 0).unwrap();
    for alg in SignatureAlgorithm::ALL.into_iter().filter(|a| !SignatureAlgorithm::INITIAL.contains(a)) {
        records.push(portcullis::oauth::tokens::keys::generate_signing_key("r", alg, &master, 0).unwrap());
    }
    let ring = KeyRing::load(&records, &master, 0).unwrap();
    let now = 1_800_000_000;
    for alg in SignatureAlgorithm::ALL {
        let signer = ring.signer(alg).unwrap();
        c.bench_function(&format!("sign access token {}", alg.as_str()), |b| b.iter(|| signer.sign(&claims(now)).unwrap()));
    }
    let token = ring.signer(SignatureAlgorithm::RS256).unwrap().sign(&claims(now)).unwrap();
    c.bench_function("verify access token RS256", |b| {
        b.iter(|| access::verify(&ring, "http://127.0.0.1:8080/realms/bench", &token, now).unwrap())
    });
    let key = ring.hmac_active().unwrap();
    let shell = RefreshClaims {
        exp: now + 1800, iat: now, jti: "x".repeat(43), iss: "i".into(), aud: "i".into(), sub: "s".into(),
        typ: "Refresh".into(), azp: "bench-client".into(), sid: "sid".into(), session_state: "sid".into(), scope: "openid".into(),
        fam: Some(new_id()), generation: Some(1), cnf: None, requested_audience: None,
    };
    c.bench_function("sign refresh shell HS256", |b| b.iter(|| refresh::sign(&key, &shell)));
    let signed = refresh::sign(&key, &shell);
    c.bench_function("verify refresh shell and hash jti", |b| {
        b.iter(|| refresh::jti_hash(&refresh::verify(&ring, &signed).unwrap().jti))
    });
    let body = format!("grant_type=refresh_token&client_id=bench-client&client_secret=s3cret&refresh_token={signed}");
    c.bench_function("parse token request", |b| b.iter(|| FormParams::parse(body.as_bytes()).unwrap()));
}

/// A store with one realm, client, user and session, and the refresh chain's next hash.
async fn store_with_session(url: &str) -> (Arc<dyn Store>, String, String, String, Arc<AtomicU64>) {
    let store = store::connect(url, 4).await.expect("store opens");
    let mut bundle = new_realm_bundle(&format!("bench-{}", new_id()), RealmSettings::default(), &MasterKey::generate(), 0).unwrap();
    let realm_id = bundle.realm.as_ref().unwrap().id.clone();
    let client = Client {
        id: new_id(), realm_id: realm_id.clone(), client_id: "bench-client".into(), name: None, enabled: true,
        public_client: true, bearer_only: false, secret_sealed: None, redirect_uris: vec![], web_origins: vec![],
        standard_flow_enabled: false, direct_access_grants_enabled: true, service_accounts_enabled: false,
        consent_required: false, full_scope_allowed: true, attributes: Default::default(), settings: Default::default(),
        created_at: 0,
    };
    let user = User {
        id: new_id(), realm_id: realm_id.clone(), username: "user".into(), email: None, first_name: None, last_name: None,
        enabled: true, email_verified: false, service_account_client_id: None, created_at: 0, required_actions: Vec::new(),
        attributes: Default::default(),
    };
    bundle.credentials.push(Credential { id: new_id(), user_id: user.id.clone(), kind: "password".into(), secret_data: "x".into(), credential_data: "{}".into(), created_at: 0,
        user_label: None, priority: 0 });
    let client_id = client.id.clone();
    bundle.clients.push(client);
    bundle.users.push(user.clone());
    store.create_realms(&[bundle], false).await.unwrap();
    let session = UserSessionRecord {
        id: new_id(), realm_id: realm_id.clone(), user_id: user.id, offline: false, started_at: 0, last_access_at: 0,
        auth_time: 0, remember_me: false, ip: None, user_agent: None, expires_at: i64::MAX, browser_session_id: None,
    };
    let counter = Arc::new(AtomicU64::new(0));
    let family_id = new_id();
    store
        .start_grant(&NewGrant {
            new_session: Some(session), existing_session_id: None, joined_expires_at: 0, client_id: client_id.clone(),
            family_id: family_id.clone(), scope: "openid".into(), now: 0, refresh_hash: Some(hash(0)), from_code: None,
        })
        .await
        .unwrap();
    (store, realm_id, client_id, family_id, counter)
}

fn hash(n: u64) -> [u8; 32] {
    portcullis::crypto::sha256(&n.to_le_bytes())
}

fn rotation(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pg_admin = std::env::var("PORTCULLIS_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let pg_url = runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&pg_admin).await.expect("Postgres is required for the store benchmark");
        let name = format!("portcullis_test_bench_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        format!("{}/{name}", pg_admin.rsplit_once('/').unwrap().0)
    });
    for (backend, url) in [("sqlite", format!("sqlite://{}/bench.db", dir.path().display())), ("postgres", pg_url)] {
        let (store, realm_id, client_id, family_id, counter) = runtime.block_on(store_with_session(&url));
        // a session that never expires (the bench measures the store, not the timeouts)
        let forever = (1 << 40, None);
        let timeouts = portcullis::session::TimeoutTable {
            sso: forever, sso_remember_me: forever, offline: forever, client: (None, None), client_offline: (None, None),
        };
        c.bench_function(&format!("one refresh rotation ({backend} store)"), |b| {
            b.to_async(&runtime).iter(|| {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let request = RotateRequest {
                    realm_id: realm_id.clone(), client_id: client_id.clone(),
                    presented: PresentedToken {
                        hash: hash(n),
                        generation: Some(FamilyGeneration { family_id: family_id.clone(), generation: n as i64 + 1 }),
                    },
                    successor: hash(n + 1),
                    now: 1, rotate: true, max_reuse: 0, requires_any_role: None, timeouts,
                };
                let store = store.clone();
                async move {
                    let outcome = store.rotate_refresh_token(&request).await.unwrap();
                    assert!(matches!(outcome, RotateOutcome::Rotated(_)), "{outcome:?}");
                }
            })
        });
    }
}

criterion_group!(benches, signing, rotation);
criterion_main!(benches);
