//! The embedded SQLite backend: the `start-dev` default and for small single-node installs.
//! WAL mode lets readers run beside the one writer; write transactions queue for one writer
//! connection (another process writing the same file is waited for by a busy timeout), so
//! concurrent refreshes serialise in the database, as on Postgres. Refresh rotations reach that
//! connection through a thread of their own (`sqlite_rotations`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

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
use super::rotation::{OneStatement, SqliteRotation};
use super::families::{ReuseInterval, RotateRequest};
use super::StoreOps;

pub struct SqliteStore {
    pool: SqlitePool,
    /// One connection for write transactions. SQLite admits one writer at a time anyway;
    /// queueing for this connection in the pool is fair and wakes at once, where contending
    /// connections would each sleep in SQLite's busy handler (1, 2, 5, 10... ms), which under
    /// load turned refresh latencies into tens of milliseconds.
    writer: SqlitePool,
    /// `StoreOps::single_statement_rotations`.
    single_statement_rotations: std::sync::atomic::AtomicU64,
    /// The thread that runs refresh rotations on `writer` (`sqlite_rotations`).
    rotations: super::sqlite_rotations::RotationThread,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl SqliteStore {
    /// Opens (creating when missing) the database file and applies pending migrations.
    pub async fn connect(url: &str, pool_size: u32, acquire_timeout: Duration) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(acquire_timeout)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Database(e.into()))?;
        let writer = SqlitePoolOptions::new().max_connections(1).acquire_timeout(acquire_timeout).connect_with(options).await?;
        let script = super::rotation::sqlite_rotation_sql(
            super::common_sessions::SESSION_COLUMNS,
            ROLE_IDS_JSON,
            <sqlx::Sqlite as super::users::UserSql>::ATTRIBUTES_OF_U,
        );
        let rotations = super::sqlite_rotations::RotationThread::start(writer.clone(), script)
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        Ok(Self { pool, writer, single_statement_rotations: Default::default(), rotations })
    }
}

/// The backend's aggregate of `m.role_id` into a JSON array of distinct strings (text), so its
/// source may name a role twice (`groups::mapped_role_ids_with_repeats_sql`).
const ROLE_IDS_JSON: &str = "json_group_array(DISTINCT m.role_id ORDER BY m.role_id)";

impl_common_store!(SqliteStore, sqlx::Sqlite, ROLE_IDS_JSON);
impl_session_store!(SqliteStore, "");
impl_admin_store!(SqliteStore, sqlx::Sqlite);
impl_user_store!(SqliteStore, sqlx::Sqlite);
impl_group_store!(SqliteStore, sqlx::Sqlite);
impl_role_store!(SqliteStore);
impl_realm_admin_store!(SqliteStore, "");
impl_partial_import_store!(SqliteStore, sqlx::Sqlite);
// writes go through the one writer connection
impl_action_token_store!(SqliteStore, writer);
impl_device_grant_store!(SqliteStore, pool, writer);

/// `FamilyStore` (issue 16): the shared SQL of `families_sql.rs` over this backend.
mod families_impl {
    type Db = sqlx::Sqlite;
    use super::SqliteStore as Backend;
    const LOCK: &str = "";
    const ROLE_IDS_JSON: &str = super::ROLE_IDS_JSON;
    include!("families_sql.rs");
}

/// `OtpStore` (issue 17): the shared SQL of `otp_sql.rs` over this backend.
mod otp_impl {
    use super::SqliteStore as Backend;
    include!("otp_sql.rs");
}

/// `ScopeStore` (issue 15): the shared SQL of `scopes_sql.rs` over this backend.
mod scopes_impl {
    type Db = sqlx::Sqlite;
    use super::SqliteStore as Backend;
    include!("scopes_sql.rs");
}

impl SqliteStore {
    /// A transaction for work that writes, taking SQLite's write lock at once so a read-then-write never fails with SQLITE_BUSY mid-way.
    async fn begin_write(&self) -> Result<Tx<'_>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// The rotation of a shell that names its family, on the rotation thread
    /// (`sqlite_rotations`): one script (`sqlite_rotation_sql`: `BEGIN IMMEDIATE`, the writes,
    /// the read) in one call to the writer connection's thread, then `COMMIT` only if the
    /// request still waits. What the script did not rotate (a reuse, a replay, a dead session, a
    /// pre-upgrade shell) wrote nothing and is left to the general path, as is a rotation the
    /// thread's queue had no room for.
    async fn rotate_in_one_statement(
        &self,
        request: &RotateRequest,
        interval: Option<&ReuseInterval>,
    ) -> Result<OneStatement, StoreError> {
        let Some(presented) = &request.presented.generation else { return Ok(OneStatement::Undecided) };
        let roles = match &request.requires_any_role {
            Some(roles) => Some(serde_json::to_string(roles).map_err(|e| StoreError::Corrupt(format!("role ids: {e}")))?),
            None => None,
        };
        let Some(found) = self.rotations.rotate(request, presented, interval, roles).await else { return Ok(OneStatement::Undecided) };
        let found: Option<SqliteRotation> = found?;
        Ok(match found {
            Some(SqliteRotation { read, moved: 1 }) => {
                let (new_expires, generation) = (read.session.expires_at, read.family.generation);
                OneStatement::Rotated { read: Box::new(read), new_expires, generation }
            }
            Some(_) => OneStatement::Undecided,
            None => OneStatement::NoFamily,
        })
    }
}

#[async_trait]
impl StoreOps for SqliteStore {
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
        "sqlite"
    }

    async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}
