//! Roles beyond their creation with a realm or client: composites changed one by one, and the
//! users a role is mapped to. Roles themselves (create, rename, delete) and user mappings stay in
//! `AdminStore`; the whole set of a realm's roles is read with `RealmStore::realm_roles`.
//! The SQL is the same in both dialects and is stamped onto each backend by `impl_role_store!`.

use async_trait::async_trait;

use super::StoreError;

#[async_trait]
pub trait RoleStore {
    /// Makes `parent` include each of `children` (roles of the same realm, checked by the
    /// caller); inclusions that exist are left alone. One transaction.
    async fn add_role_composites(&self, parent_id: &str, child_ids: &[String]) -> Result<(), StoreError>;

    /// Removes these inclusions from `parent`; absent ones are ignored. One transaction.
    async fn remove_role_composites(&self, parent_id: &str, child_ids: &[String]) -> Result<(), StoreError>;

    /// Ids of the users of the realm mapped directly to the role, ordered by username, `first`
    /// skipped, at most `max` (`max <= 0`: none). Service-account users are included, as in
    /// Keycloak.
    async fn users_in_role(
        &self,
        realm_id: &str,
        role_id: &str,
        first: i64,
        max: i64,
    ) -> Result<Vec<String>, StoreError>;
}

macro_rules! impl_role_store {
    ($store:ty) => {
        mod role_impl {
            use super::*;

            use async_trait::async_trait;

            use crate::store::roles::RoleStore;
            use crate::store::StoreError;

            #[async_trait]
            impl RoleStore for $store {
                async fn add_role_composites(&self, parent_id: &str, child_ids: &[String]) -> Result<(), StoreError> {
                    let mut tx = self.begin_write().await?;
                    for child in child_ids {
                        sqlx::query(
                            "INSERT INTO role_composites (parent_id, child_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        )
                        .bind(parent_id)
                        .bind(child)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn remove_role_composites(&self, parent_id: &str, child_ids: &[String]) -> Result<(), StoreError> {
                    let mut tx = self.begin_write().await?;
                    for child in child_ids {
                        sqlx::query("DELETE FROM role_composites WHERE parent_id = $1 AND child_id = $2")
                            .bind(parent_id)
                            .bind(child)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn users_in_role(
                    &self,
                    realm_id: &str,
                    role_id: &str,
                    first: i64,
                    max: i64,
                ) -> Result<Vec<String>, StoreError> {
                    if max <= 0 {
                        return Ok(Vec::new());
                    }
                    let rows: Vec<(String,)> = sqlx::query_as(
                        "SELECT u.id FROM users u JOIN user_role_mappings m ON m.user_id = u.id \
                         WHERE u.realm_id = $1 AND m.role_id = $2 ORDER BY u.username LIMIT $3 OFFSET $4",
                    )
                    .bind(realm_id)
                    .bind(role_id)
                    .bind(max)
                    .bind(first.max(0))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(|(id,)| id).collect())
                }
            }
        }
    };
}

pub(crate) use impl_role_store;
