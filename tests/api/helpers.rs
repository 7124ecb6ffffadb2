//! Test harness: a real server on port 0 per test, each with a fresh database on the chosen
//! backend (a temp SQLite file, or a new Postgres database), a movable clock and a known master
//! key. Postgres being unreachable fails the test loudly; it is never skipped.

use std::sync::Arc;

use portcullis::app::App;
use portcullis::clock::TestClock;
use portcullis::config::{Layer, Mode, Settings};
use portcullis::crypto::MasterKey;
use portcullis::store::{self, Store};
use tempfile::TempDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend from one async body taking a `Backend`.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($backend:ident : Backend) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($backend: $crate::helpers::Backend) $body
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() { run($crate::helpers::Backend::Sqlite).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() { run($crate::helpers::Backend::Postgres).await }
            }
        )*
    };
}

pub fn postgres_admin_url() -> String {
    std::env::var("PORTCULLIS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A new, empty database for one test. Databases are named `portcullis_test_*`; the test
/// command drops leftovers before each run.
pub async fn fresh_database(backend: Backend, dir: &TempDir) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}/portcullis.db", dir.path().display()),
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = postgres_admin_url();
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                panic!(
                    "POSTGRES IS REQUIRED and could not be reached at {admin}: {e}. \
                     Run the test command (./scripts/test.sh), which starts it."
                )
            });
            let name = format!("portcullis_test_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("CREATE DATABASE");
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
            format!("{base}/{name}")
        }
    }
}

pub fn layer(pairs: &[(&str, &str)]) -> Layer {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: TestClock,
    pub store: Arc<dyn Store>,
    pub master_key: MasterKey,
    pub db_url: String,
    pub backend: Backend,
    pub state: portcullis::app::AppState,
    pub dir: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

pub struct Spawn {
    pub backend: Backend,
    pub extra: Vec<(String, String)>,
    pub import: Vec<std::path::PathBuf>,
}

impl Spawn {
    pub fn new(backend: Backend) -> Self {
        Self { backend, extra: Vec::new(), import: Vec::new() }
    }

    pub fn setting(mut self, key: &str, value: &str) -> Self {
        self.extra.push((key.to_string(), value.to_string()));
        self
    }

    pub fn import(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.import.push(path.into());
        self
    }

    pub async fn start(self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = fresh_database(self.backend, &dir).await;
        let master_key = MasterKey::generate();
        let key_b64 = master_key.to_base64();
        let data_dir = dir.path().display().to_string();
        let mut settings = layer(&[
            ("http-port", "0"),
            ("db-url", &db_url),
            ("db-pool-size", "8"),
            ("data-dir", &data_dir),
            ("master-key", &key_b64),
            ("bootstrap-admin-password", "admin"),
        ]);
        settings.extend(self.extra);
        let settings = Settings::resolve(Mode::Dev, &[settings]).expect("valid test settings");
        let clock = TestClock::starting_now();
        let app = App::build(settings, Arc::new(clock.clone()), &self.import).await.expect("app builds");
        let base = format!("http://{}", app.address());
        let store = app.state().store.clone();
        let state = app.state().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run(async move {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        TestApp {
            base,
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
            clock,
            store,
            master_key,
            db_url,
            backend: self.backend,
            state,
            dir,
            stop: Some(stop),
            server: Some(server),
        }
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    Spawn::new(backend).start().await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.http.get(self.url(path)).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

/// The path of a file under tests/fixtures.
pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Opens a second store handle on the same database (as another node or the CLI would).
pub async fn open_store(db_url: &str) -> Arc<dyn Store> {
    store::connect(db_url, 2).await.expect("store opens")
}

/// Unrevoked families without exactly one current token: a rotation cut short must leave the
/// family at the old generation or at the successor's, never without a current token hash.
pub async fn broken_families(backend: Backend, db_url: &str) -> i64 {
    use sqlx::Connection;
    let sql = "SELECT COUNT(*) FROM token_families f WHERE f.revoked_at IS NULL AND \
               (f.current_hash IS NULL OR f.generation < 0)";
    match backend {
        Backend::Sqlite => sqlx::query_scalar(sql).fetch_one(&mut sqlx::SqliteConnection::connect(db_url).await.unwrap()).await.unwrap(),
        Backend::Postgres => sqlx::query_scalar(sql).fetch_one(&mut sqlx::PgConnection::connect(db_url).await.unwrap()).await.unwrap(),
    }
}
