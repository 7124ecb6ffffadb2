//! Realm-wide housekeeping the admin API asks of the store: emptying a realm's event and admin
//! event tables (Keycloak's `DELETE .../events`, `.../admin-events`), and telling every node
//! that cached realm data changed (`clear-realm-cache` and friends). The SQL is the same on both
//! backends, stamped by the few lines of `impl_realm_admin_store!`; only the announcement
//! differs: Postgres notifies the channel migration 0003's triggers use, SQLite (one node, the
//! cache TTL covering other processes) has nobody to tell.

use async_trait::async_trait;

use super::StoreError;

#[async_trait]
pub trait RealmAdminStore {
    /// Deletes every login/token event of the realm; how many there were.
    async fn delete_events(&self, realm_id: &str) -> Result<u64, StoreError>;

    /// Deletes every admin event recorded in the realm; how many there were.
    async fn delete_admin_events(&self, realm_id: &str) -> Result<u64, StoreError>;

    /// Tells every node's realm cache to drop the realm (`Some(id)`) or every realm (`None`),
    /// as the change feed would after a committed write (`RealmChange`).
    async fn announce_realm_change(&self, realm_id: Option<&str>) -> Result<(), StoreError>;
}

pub(crate) const DELETE_EVENTS: &str = "DELETE FROM events WHERE realm_id = $1";
pub(crate) const DELETE_ADMIN_EVENTS: &str = "DELETE FROM admin_events WHERE realm_id = $1";

/// Implements `RealmAdminStore` for a backend store with `begin_write`; `$announce` is the
/// statement that notifies other nodes, binding the realm id or `*` (empty: none).
macro_rules! impl_realm_admin_store {
    ($store:ty, $announce:expr) => {
        #[async_trait::async_trait]
        impl super::realm_admin::RealmAdminStore for $store {
            async fn delete_events(&self, realm_id: &str) -> Result<u64, StoreError> {
                self.delete_realm_rows(super::realm_admin::DELETE_EVENTS, realm_id).await
            }

            async fn delete_admin_events(&self, realm_id: &str) -> Result<u64, StoreError> {
                self.delete_realm_rows(super::realm_admin::DELETE_ADMIN_EVENTS, realm_id).await
            }

            async fn announce_realm_change(&self, realm_id: Option<&str>) -> Result<(), StoreError> {
                const ANNOUNCE: &str = $announce;
                if !ANNOUNCE.is_empty() {
                    sqlx::query(ANNOUNCE).bind(realm_id.unwrap_or("*")).execute(&self.pool).await?;
                }
                Ok(())
            }
        }

        impl $store {
            async fn delete_realm_rows(&self, sql: &str, realm_id: &str) -> Result<u64, StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(sql).bind(realm_id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use impl_realm_admin_store;
