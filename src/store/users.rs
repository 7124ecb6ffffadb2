//! The user aggregate's own storage beyond the token path: attributes (one row per value, read
//! with the user in one statement through a JSON aggregate), the realm's declarative user
//! profile, credential labels and order, and clearing brute-force state. The per-dialect part is
//! the JSON aggregate in [`UserSql`]; everything else is written once in `impl_user_store!`.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::StoreError;

/// The user columns every user read selects, as both dialects spell them. `users` must be the
/// unaliased table of the statement: the attribute aggregate is correlated on `users.id`.
macro_rules! user_base_columns {
    () => {
        "id, realm_id, username, email, first_name, last_name, enabled, email_verified, \
         service_account_client_id, created_at, required_actions"
    };
}

/// What differs between the dialects for users: the aggregate of a user's attributes into a
/// JSON array of `[name, value]` pairs (text), in name and position order; NULL or `[]` when none.
pub(crate) trait UserSql {
    /// The aggregate for the fast refresh read, whose user is aliased `u`.
    const ATTRIBUTES_OF_U: &'static str;
    /// `SELECT {USER_COLUMNS} FROM users ...`: the base columns and `attributes`.
    const USER_COLUMNS: &'static str;
}

macro_rules! attributes_json {
    (postgres, $owner:literal) => {
        concat!(
            "(SELECT json_agg(json_build_array(a.name, a.value) ORDER BY a.name, a.position)::text \
             FROM user_attributes a WHERE a.user_id = ",
            $owner,
            ".id)"
        )
    };
    (sqlite, $owner:literal) => {
        concat!(
            "(SELECT json_group_array(json_array(a.name, a.value) ORDER BY a.name, a.position) \
             FROM user_attributes a WHERE a.user_id = ",
            $owner,
            ".id)"
        )
    };
}

impl UserSql for sqlx::Postgres {
    const ATTRIBUTES_OF_U: &'static str = attributes_json!(postgres, "u");
    const USER_COLUMNS: &'static str =
        concat!(user_base_columns!(), ", ", attributes_json!(postgres, "users"), " AS attributes");
}

impl UserSql for sqlx::Sqlite {
    const ATTRIBUTES_OF_U: &'static str = attributes_json!(sqlite, "u");
    const USER_COLUMNS: &'static str =
        concat!(user_base_columns!(), ", ", attributes_json!(sqlite, "users"), " AS attributes");
}

/// The attributes of the aggregate. A column this code wrote always parses; anything else is
/// logged and read as no attributes rather than failing the user's login.
pub(crate) fn parse_attributes(json: Option<&str>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some(json) = json else { return out };
    match serde_json::from_str::<Vec<(String, String)>>(json) {
        Ok(pairs) => {
            for (name, value) in pairs {
                out.entry(name).or_default().push(value);
            }
        }
        Err(e) => tracing::error!(error = %e, "stored user attributes do not read back"),
    }
    out
}

/// A value bound to a placeholder of [`user_filter_sql`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Text(String),
    Bool(bool),
}

/// The `WHERE` clause of a user search over the unaliased `users` table, with its parameters
/// in placeholder order ($1 is the realm id). Only conditions the filter holds are written, so
/// an absent one costs nothing. Attribute conditions are Keycloak's: exact name, value equal
/// ignoring case; the first 255 characters go through the index, the whole value after.
pub(crate) fn user_filter_sql(realm_id: &str, f: &super::admin::UserFilter) -> (String, Vec<Param>) {
    let mut sql = String::from("users.realm_id = $1");
    let mut params = vec![Param::Text(realm_id.to_string())];
    let next = |params: &mut Vec<Param>, p: Param| {
        params.push(p);
        params.len()
    };
    if !f.include_service_accounts {
        sql.push_str(" AND users.service_account_client_id IS NULL");
    }
    for pattern in &f.any {
        let n = next(&mut params, Param::Text(pattern.clone()));
        sql.push_str(&format!(
            " AND (LOWER(users.username) LIKE ${n} ESCAPE '\\' OR LOWER(COALESCE(users.email, '')) LIKE ${n} ESCAPE '\\' \
             OR LOWER(COALESCE(users.first_name, '')) LIKE ${n} ESCAPE '\\' \
             OR LOWER(COALESCE(users.last_name, '')) LIKE ${n} ESCAPE '\\')"
        ));
    }
    for (column, pattern) in [
        ("users.username", &f.username),
        ("COALESCE(users.email, '')", &f.email),
        ("COALESCE(users.first_name, '')", &f.first_name),
        ("COALESCE(users.last_name, '')", &f.last_name),
    ] {
        if let Some(pattern) = pattern {
            let n = next(&mut params, Param::Text(pattern.clone()));
            sql.push_str(&format!(" AND LOWER({column}) LIKE ${n} ESCAPE '\\'"));
        }
    }
    for (column, flag) in [("users.enabled", f.enabled), ("users.email_verified", f.email_verified)] {
        if let Some(flag) = flag {
            let n = next(&mut params, Param::Bool(flag));
            sql.push_str(&format!(" AND {column} = ${n}"));
        }
    }
    if let Some(id) = &f.id {
        let n = next(&mut params, Param::Text(id.clone()));
        sql.push_str(&format!(" AND users.id = ${n}"));
    }
    for (name, value) in &f.attributes {
        let k = next(&mut params, Param::Text(name.clone()));
        let v = next(&mut params, Param::Text(value.to_lowercase()));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM user_attributes a WHERE a.user_id = users.id AND a.name = ${k} \
             AND LOWER(SUBSTR(a.value, 1, 255)) = SUBSTR(${v}, 1, 255) AND LOWER(a.value) = ${v})"
        ));
    }
    (sql, params)
}

/// Storage the user admin API needs beyond `UserStore` and `AdminStore`.
#[async_trait]
pub trait UserAdminStore {
    /// The realm's user profile configuration (JSON) as last written; `None` when never set.
    async fn user_profile_config(&self, realm_id: &str) -> Result<Option<String>, StoreError>;

    /// Stores the realm's user profile configuration, replacing any.
    async fn set_user_profile_config(&self, realm_id: &str, config: &str) -> Result<(), StoreError>;

    /// Sets (or with `None` clears) a credential's label. False when the user has no such credential.
    async fn set_credential_label(
        &self,
        user_id: &str,
        credential_id: &str,
        label: Option<&str>,
    ) -> Result<bool, StoreError>;

    /// Rewrites the priorities of all the user's credentials to `ordered` (ids, first first),
    /// in one transaction, as 10, 20, 30... False (nothing written) unless `ordered` holds
    /// exactly the user's credential ids.
    async fn reorder_credentials(&self, user_id: &str, ordered: &[String]) -> Result<bool, StoreError>;

    /// Forgets the brute-force state of every user of the realm; returns how many were held.
    async fn clear_realm_login_failures(&self, realm_id: &str) -> Result<u64, StoreError>;
}

/// Implements `UserAdminStore` and the attribute writes for a store type with `pool` and
/// `begin_write`, in a module where `Tx` is the backend's transaction.
macro_rules! impl_user_store {
    ($store:ty, $db:ty) => {
        mod user_impl {
            use super::*;

            use async_trait::async_trait;

            use crate::domain::User;
            use crate::store::users::UserAdminStore;
            use crate::store::StoreError;

            impl $store {
                /// Replaces the user's attributes with `user.attributes` (inside the caller's transaction).
                pub(super) async fn write_attributes(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    user: &User,
                    replace: bool,
                ) -> Result<(), StoreError> {
                    if replace {
                        sqlx::query("DELETE FROM user_attributes WHERE user_id = $1")
                            .bind(&user.id)
                            .execute(&mut **tx)
                            .await?;
                    }
                    for (name, values) in &user.attributes {
                        for (position, value) in values.iter().enumerate() {
                            sqlx::query(
                                "INSERT INTO user_attributes (user_id, name, position, value) VALUES ($1, $2, $3, $4)",
                            )
                            .bind(&user.id)
                            .bind(name)
                            .bind(i32::try_from(position).unwrap_or(i32::MAX))
                            .bind(value)
                            .execute(&mut **tx)
                            .await?;
                        }
                    }
                    Ok(())
                }
            }

            #[async_trait]
            impl UserAdminStore for $store {
                async fn user_profile_config(&self, realm_id: &str) -> Result<Option<String>, StoreError> {
                    let row: Option<(String,)> = sqlx::query_as("SELECT config FROM user_profiles WHERE realm_id = $1")
                        .bind(realm_id)
                        .fetch_optional(&self.pool)
                        .await?;
                    Ok(row.map(|(c,)| c))
                }

                async fn set_user_profile_config(&self, realm_id: &str, config: &str) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO user_profiles (realm_id, config) VALUES ($1, $2) \
                         ON CONFLICT (realm_id) DO UPDATE SET config = excluded.config",
                    )
                    .bind(realm_id)
                    .bind(config)
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn set_credential_label(
                    &self,
                    user_id: &str,
                    credential_id: &str,
                    label: Option<&str>,
                ) -> Result<bool, StoreError> {
                    let done = sqlx::query("UPDATE credentials SET user_label = $1 WHERE id = $2 AND user_id = $3")
                        .bind(label)
                        .bind(credential_id)
                        .bind(user_id)
                        .execute(&self.pool)
                        .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn reorder_credentials(&self, user_id: &str, ordered: &[String]) -> Result<bool, StoreError> {
                    let mut tx = self.begin_write().await?;
                    let mut held: Vec<(String,)> = sqlx::query_as("SELECT id FROM credentials WHERE user_id = $1")
                        .bind(user_id)
                        .fetch_all(&mut *tx)
                        .await?;
                    held.sort();
                    let mut wanted: Vec<&String> = ordered.iter().collect();
                    wanted.sort();
                    if held.len() != wanted.len() || held.iter().zip(&wanted).any(|((h,), w)| h != *w) {
                        return Ok(false);
                    }
                    for (i, id) in ordered.iter().enumerate() {
                        let priority = (i as i64 + 1) * 10;
                        sqlx::query("UPDATE credentials SET priority = $1 WHERE id = $2 AND user_id = $3")
                            .bind(priority)
                            .bind(id)
                            .bind(user_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(true)
                }

                async fn clear_realm_login_failures(&self, realm_id: &str) -> Result<u64, StoreError> {
                    let done = sqlx::query(
                        "DELETE FROM login_failures WHERE user_id IN (SELECT id FROM users WHERE realm_id = $1)",
                    )
                    .bind(realm_id)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected())
                }
            }
        }
    };
}

pub(crate) use impl_user_store;
