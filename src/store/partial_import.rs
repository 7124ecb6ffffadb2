//! The store's part of Keycloak's `partialImport`: in one transaction, delete what an
//! OVERWRITE replaces (clients with their roles, roles, groups, users), then insert the new
//! records, built by the realm importer, into the existing realm. Nothing here decides what
//! exists or what to skip (`admin::partial_import` does); the SQL is shared by both backends,
//! stamped by `impl_partial_import_store!` next to the realm import's own insert helpers.

use async_trait::async_trait;

use super::{RealmBundle, StoreError};

/// What one partial import writes into the realm `realm_id`. `bundle.realm` and `bundle.keys`
/// are ignored: the realm exists and keeps its keys.
#[derive(Debug, Clone, Default)]
pub struct PartialImportWrite {
    pub realm_id: String,
    /// Internal ids of the clients to delete first (their client roles go with them).
    pub delete_clients: Vec<String>,
    /// Ids of the roles to delete first.
    pub delete_roles: Vec<String>,
    /// Ids of the groups to delete first (with their subgroups).
    pub delete_groups: Vec<String>,
    /// Ids of the users to delete first (with their sessions and credentials).
    pub delete_users: Vec<String>,
    pub bundle: RealmBundle,
}

#[async_trait]
pub trait PartialImportStore {
    /// Deletes, then inserts, as `write` says, in one transaction: every row or none. The
    /// sessions of deleted users and clients are locked first, in id order, as every deletion
    /// that ends sessions does (see `store::admin`). `Conflict` when an inserted row breaks a
    /// uniqueness rule (the caller checked beforehand; this is the race).
    async fn apply_partial_import(&self, write: &PartialImportWrite) -> Result<(), StoreError>;
}

/// Sessions a deletion of clients or users ends: $1 is the user or client id.
pub(crate) const USER_SESSIONS: &str = "s.user_id = $1";
pub(crate) const CLIENT_SESSIONS: &str = "EXISTS (SELECT 1 FROM client_sessions cs WHERE cs.user_session_id = s.id \
    AND cs.client_id = $1) OR s.user_id IN (SELECT u.id FROM users u WHERE u.service_account_client_id = $1)";

/// Implements `PartialImportStore` for a backend whose module holds `begin_write` and the realm
/// import's `insert_contents` (`impl_common_store!`).
macro_rules! impl_partial_import_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl super::partial_import::PartialImportStore for $store {
            async fn apply_partial_import(
                &self,
                write: &super::partial_import::PartialImportWrite,
            ) -> Result<(), StoreError> {
                use super::partial_import::{CLIENT_SESSIONS, USER_SESSIONS};
                const LOCK: &str = <$db as super::common_admin::Dialect>::LOCK_SESSIONS;
                let realm_id = write.realm_id.as_str();
                let mut tx = self.begin_write().await?;
                let locks = write.delete_clients.iter().map(|id| (CLIENT_SESSIONS, id));
                for (condition, id) in locks.chain(write.delete_users.iter().map(|id| (USER_SESSIONS, id))) {
                    let sql = format!("SELECT s.id FROM user_sessions s WHERE {condition} ORDER BY s.id {LOCK}");
                    let _: Vec<(String,)> = sqlx::query_as(&sql).bind(id).fetch_all(&mut *tx).await?;
                }
                for id in &write.delete_clients {
                    sqlx::query("DELETE FROM roles WHERE realm_id = $1 AND container_id = $2 AND client_role = TRUE")
                        .bind(realm_id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM clients WHERE id = $1 AND realm_id = $2")
                        .bind(id)
                        .bind(realm_id)
                        .execute(&mut *tx)
                        .await?;
                }
                let deletions = [
                    ("DELETE FROM roles WHERE id = $1 AND realm_id = $2", &write.delete_roles),
                    ("DELETE FROM realm_groups WHERE id = $1 AND realm_id = $2", &write.delete_groups),
                    ("DELETE FROM users WHERE id = $1 AND realm_id = $2", &write.delete_users),
                ];
                for (sql, ids) in deletions {
                    for id in ids {
                        sqlx::query(sql).bind(id).bind(realm_id).execute(&mut *tx).await?;
                    }
                }
                Self::insert_contents(&mut tx, realm_id, &write.bundle).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_partial_import_store;
