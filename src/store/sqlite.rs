//! The embedded SQLite backend: the `start-dev` default and for small single-node installs.
//! WAL mode lets readers run beside the one writer; writers wait on a busy timeout rather than
//! failing, so concurrent refreshes serialise in the database, as on Postgres.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::common::impl_common_store;
use super::common_admin::impl_admin_store;
use super::common_sessions::impl_session_store;
use super::StoreOps;

pub struct SqliteStore {
    pool: SqlitePool,
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
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Database(e.into()))?;
        Ok(Self { pool })
    }
}

impl_common_store!(SqliteStore, sqlx::Sqlite);
impl_session_store!(SqliteStore, sqlx::Sqlite, "");
impl_admin_store!(SqliteStore, sqlx::Sqlite);

impl SqliteStore {
    /// A transaction for work that writes, taking SQLite's write lock at once so a read-then-write never fails with SQLITE_BUSY mid-way.
    async fn begin_write(&self) -> Result<Tx<'_>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
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

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
