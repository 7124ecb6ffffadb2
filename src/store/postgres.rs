//! The Postgres backend, for production and for several nodes over one database.

use std::sync::LazyLock;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use super::common::impl_common_store;
use super::common_admin::impl_admin_store;
use super::common_sessions::impl_session_store;
use super::users::impl_user_store;
use super::roles::impl_role_store;
use super::realm_admin::impl_realm_admin_store;
use super::groups_sql::impl_group_store;
use super::partial_import::impl_partial_import_store;
use super::action_tokens::impl_action_token_store;
use super::device_grants::impl_device_grant_store;
use super::rotation::{OneStatement, PostgresRotation};
use super::families::{ReuseInterval, RotateRequest};
use super::{RealmChange, StoreOps};

pub struct PostgresStore {
    pool: PgPool,
    /// `StoreOps::single_statement_rotations`.
    single_statement_rotations: std::sync::atomic::AtomicU64,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Server-side bound on one statement (lock waits included): far above any request's needs,
/// it only ends the pathological ones, which then fail instead of holding a connection.
const STATEMENT_TIMEOUT: &str = "30s";

impl PostgresStore {
    /// Connects and applies pending migrations. While the database is down, a caller waits at
    /// most `acquire_timeout` (the pool retries refused connections until then) and then gets
    /// `PoolTimedOut`; a statement stuck on a lock gives up after `STATEMENT_TIMEOUT`.
    pub async fn connect(url: &str, pool_size: u32, acquire_timeout: Duration) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse::<PgConnectOptions>()?
            .options([("statement_timeout", STATEMENT_TIMEOUT)])
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
        let pool = PgPoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(acquire_timeout)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Database(e.into()))?;
        Ok(Self { pool, single_statement_rotations: Default::default() })
    }
}

/// The backend's aggregate of `m.role_id` into a JSON array of distinct strings (text), so its
/// source may name a role twice (`groups::mapped_role_ids_with_repeats_sql`).
const ROLE_IDS_JSON: &str = "json_agg(DISTINCT m.role_id ORDER BY m.role_id)::text";

impl_common_store!(PostgresStore, sqlx::Postgres, ROLE_IDS_JSON);
impl_session_store!(PostgresStore, "FOR UPDATE OF s");
impl_admin_store!(PostgresStore, sqlx::Postgres);
impl_user_store!(PostgresStore, sqlx::Postgres);
impl_group_store!(PostgresStore, sqlx::Postgres);
impl_role_store!(PostgresStore);
impl_realm_admin_store!(PostgresStore, "SELECT pg_notify('portcullis_realm_changed', $1)");
impl_partial_import_store!(PostgresStore, sqlx::Postgres);
impl_action_token_store!(PostgresStore, pool);
impl_device_grant_store!(PostgresStore, pool, pool);

/// `FamilyStore` (issue 16): the shared SQL of `families_sql.rs` over this backend.
mod families_impl {
    type Db = sqlx::Postgres;
    use super::PostgresStore as Backend;
    const LOCK: &str = "FOR UPDATE OF s";
    const ROLE_IDS_JSON: &str = super::ROLE_IDS_JSON;
    include!("families_sql.rs");
}

/// `OtpStore` (issue 17): the shared SQL of `otp_sql.rs` over this backend.
mod otp_impl {
    use super::PostgresStore as Backend;
    include!("otp_sql.rs");
}

/// `ScopeStore` (issue 15): the shared SQL of `scopes_sql.rs` over this backend.
mod scopes_impl {
    type Db = sqlx::Postgres;
    use super::PostgresStore as Backend;
    include!("scopes_sql.rs");
}

impl PostgresStore {
    /// A transaction for work that writes.
    async fn begin_write(&self) -> Result<Tx<'_>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// The common refresh in one statement, so one round trip (`rotation::postgres_rotation_sql`):
    /// only for shells that name their family; the rest, and anything the statement did not
    /// rotate, is for the general path.
    async fn rotate_in_one_statement(
        &self,
        request: &RotateRequest,
        interval: Option<&ReuseInterval>,
    ) -> Result<OneStatement, StoreError> {
        fn statement(offline: bool) -> String {
            super::rotation::postgres_rotation_sql(
                super::common_sessions::SESSION_COLUMNS,
                ROLE_IDS_JSON,
                <sqlx::Postgres as super::users::UserSql>::ATTRIBUTES_OF_U,
                offline,
            )
        }
        static ROTATE_ONLINE: LazyLock<String> = LazyLock::new(|| statement(false));
        static ROTATE_OFFLINE: LazyLock<String> = LazyLock::new(|| statement(true));
        let Some(presented) = &request.presented.generation else { return Ok(OneStatement::Undecided) };
        let rotate = if request.requires_any_role.is_some() { &ROTATE_OFFLINE } else { &ROTATE_ONLINE };
        let found: Option<PostgresRotation> =
            super::rotation::bind_rotation!(sqlx::query_as(rotate.as_str()), request, presented, interval, &request.requires_any_role)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match found {
            None => OneStatement::NoFamily,
            Some(PostgresRotation { read, new_expires, rotated_generation: Some(generation) }) => {
                OneStatement::Rotated { read: Box::new(read), new_expires, generation }
            }
            Some(_) => OneStatement::Undecided,
        })
    }
}

/// The channel migration 0003's triggers notify with a realm id (or `*`), and migration 0016's
/// with `SERVICE_ACCOUNTS_PREFIX` and a realm id.
const REALM_CHANNEL: &str = "portcullis_realm_changed";

/// Marks a change to a realm's service-account users, their role mappings or groups.
const SERVICE_ACCOUNTS_PREFIX: &str = "sa:";

/// What a notification's payload names.
fn realm_change(payload: &str) -> RealmChange {
    if payload == "*" {
        RealmChange::All
    } else if let Some(realm_id) = payload.strip_prefix(SERVICE_ACCOUNTS_PREFIX) {
        RealmChange::ServiceAccounts(realm_id.to_string())
    } else {
        RealmChange::Realm(payload.to_string())
    }
}

/// Listens on `REALM_CHANNEL` over its own connection (not one of the request pool's) and
/// forwards what it hears until `changes` is dropped. After a lost connection it reconnects,
/// listens again, and only then reports `All`, so no change can fall in the gap unnoticed.
async fn forward_realm_changes(options: PgConnectOptions, changes: tokio::sync::mpsc::Sender<RealmChange>) {
    let pool = PgPoolOptions::new().max_connections(1).max_lifetime(None).idle_timeout(None).connect_lazy_with(options);
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for realm changes; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    () = changes.closed() => return,
                }
            }
        };
        if let Err(e) = listener.listen(REALM_CHANNEL).await {
            tracing::warn!(error = %e, "cannot listen for realm changes; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if changes.send(RealmChange::All).await.is_err() {
            return;
        }
        loop {
            let heard = tokio::select! {
                heard = listener.try_recv() => heard,
                () = changes.closed() => return,
            };
            let change = match heard {
                Ok(Some(notification)) => realm_change(notification.payload()),
                Ok(None) => {
                    tracing::warn!("lost the realm change feed; reconnecting");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "realm change feed failed; reconnecting");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    break;
                }
            };
            if changes.send(change).await.is_err() {
                return;
            }
        }
    }
}

#[async_trait]
impl StoreOps for PostgresStore {
    fn realm_changes(&self) -> Option<tokio::sync::mpsc::Receiver<RealmChange>> {
        let (sender, receiver) = tokio::sync::mpsc::channel(1024);
        let options = (*self.pool.connect_options()).clone();
        tokio::spawn(forward_realm_changes(options, sender));
        Some(receiver)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_usage(&self) -> (u32, u32) {
        (self.pool.size(), self.pool.num_idle() as u32)
    }

    fn single_statement_rotations(&self) -> u64 {
        self.single_statement_rotations.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
