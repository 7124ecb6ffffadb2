//! Admin SQL shared by both backends, stamped onto each by `impl_admin_store!`. The one
//! statement that differs, the row lock taken on user sessions before deleting them, comes from
//! the backend's [`Dialect`] (keyed on the sqlx database type the macro is given), so no method
//! asks which backend it runs on. The implementation sits in a child module of the backend's
//! module: it sees the backend's private helpers (`begin_write`, `insert_client`, ...) without
//! clashing with the imports the other `impl_*!` macros make there.

use super::admin::AdminEventRecord;
use super::common_sessions::SessionRow;

/// What differs between the SQL dialects for admin statements.
pub(crate) trait Dialect {
    /// Appended to `SELECT ... FROM user_sessions s ... ORDER BY s.id` to lock the rows until
    /// the transaction ends. SQLite's `BEGIN IMMEDIATE` already holds the database write lock.
    const LOCK_SESSIONS: &'static str;
}

impl Dialect for sqlx::Postgres {
    const LOCK_SESSIONS: &'static str = "FOR UPDATE OF s";
}

impl Dialect for sqlx::Sqlite {
    const LOCK_SESSIONS: &'static str = "";
}

/// The sessions `sessions_of_client` pages through: $1 realm, $2 offline, $3 now, $4 client.
pub(crate) const CLIENT_SESSIONS_FILTER: &str = "s.realm_id = $1 AND s.offline = $2 AND s.expires_at > $3 \
    AND EXISTS (SELECT 1 FROM client_sessions cs WHERE cs.user_session_id = s.id AND cs.client_id = $4)";

#[derive(sqlx::FromRow)]
pub(crate) struct ListingRow {
    #[sqlx(flatten)]
    pub session: SessionRow,
    pub username: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AdminEventRow {
    pub id: String,
    pub realm_id: String,
    pub time: i64,
    pub operation: String,
    pub resource_type: String,
    pub resource_path: String,
    pub representation: Option<String>,
    pub auth_realm_id: Option<String>,
    pub auth_user_id: Option<String>,
    pub ip: Option<String>,
}

impl From<AdminEventRow> for AdminEventRecord {
    fn from(r: AdminEventRow) -> Self {
        AdminEventRecord {
            id: r.id,
            realm_id: r.realm_id,
            time: r.time,
            operation: r.operation,
            resource_type: r.resource_type,
            resource_path: r.resource_path,
            representation: r.representation,
            auth_realm_id: r.auth_realm_id,
            auth_user_id: r.auth_user_id,
            ip: r.ip,
        }
    }
}

/// `max <= 0` means no limit.
pub(crate) fn limit(max: i64) -> i64 {
    if max > 0 {
        max
    } else {
        i64::MAX
    }
}

macro_rules! impl_admin_store {
    ($store:ty, $db:ty) => {
        mod admin_impl {
            use super::*;

            use async_trait::async_trait;

            use crate::clock::UnixTime;
            use crate::domain::{Client, Realm, Role, User};
            use crate::store::admin::{
                AdminEventFilter, AdminEventRecord, AdminStore, ClientSessionCount, NewServiceAccount, SessionListing,
                UserFilter,
            };
            use crate::store::common::{map_unique, settings_json, to_json, ClientRow, UserRow, CLIENT_COLUMNS};
            use crate::store::common_sessions::SESSION_COLUMNS;
            use crate::store::common_admin::{
                limit, AdminEventRow, Dialect, ListingRow, CLIENT_SESSIONS_FILTER,
            };
            use crate::store::StoreError;

            const LOCK: &str = <$db as Dialect>::LOCK_SESSIONS;

            type AdminTx<'a> = sqlx::Transaction<'a, $db>;

            impl $store {
                /// Locks the user sessions a statement is about to delete, in id order.
                async fn lock_sessions_where(
                    tx: &mut AdminTx<'_>,
                    condition: &str,
                    key: &str,
                ) -> Result<(), StoreError> {
                    let sql = format!("SELECT s.id FROM user_sessions s WHERE {condition} ORDER BY s.id {LOCK}");
                    let _: Vec<(String,)> = sqlx::query_as(&sql).bind(key).fetch_all(&mut **tx).await?;
                    Ok(())
                }

                /// A user search's statement with its parameters bound.
                fn bind_user_filter<'q, O>(
                    sql: &'q str,
                    params: Vec<crate::store::users::Param>,
                ) -> sqlx::query::QueryAs<'q, $db, O, <$db as sqlx::Database>::Arguments<'q>>
                where
                    O: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row>,
                {
                    use crate::store::users::Param;
                    let mut query = sqlx::query_as(sql);
                    for param in params {
                        query = match param {
                            Param::Text(text) => query.bind(text),
                            Param::Bool(flag) => query.bind(flag),
                        };
                    }
                    query
                }
            }

            #[async_trait]
            impl AdminStore for $store {
                async fn update_realm(&self, realm: &Realm) -> Result<bool, StoreError> {
                    let done = sqlx::query("UPDATE realms SET enabled = $1, not_before = $2, settings = $3 WHERE id = $4")
                        .bind(realm.enabled)
                        .bind(realm.not_before)
                        .bind(settings_json(realm))
                        .bind(&realm.id)
                        .execute(&self.pool)
                        .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn purge_realm(&self, realm_id: &str) -> Result<bool, StoreError> {
                    let mut tx = self.begin_write().await?;
                    Self::lock_sessions_where(&mut tx, "s.realm_id = $1", realm_id).await?;
                    sqlx::query("DELETE FROM admin_events WHERE realm_id = $1").bind(realm_id).execute(&mut *tx).await?;
                    let done = sqlx::query("DELETE FROM realms WHERE id = $1").bind(realm_id).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn search_users(&self, realm_id: &str, filter: &UserFilter) -> Result<Vec<User>, StoreError> {
                    let (condition, params) = crate::store::users::user_filter_sql(realm_id, filter);
                    let n = params.len();
                    let sql = format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE {condition} ORDER BY users.username LIMIT ${} OFFSET ${}",
                        n + 1,
                        n + 2
                    );
                    let rows: Vec<UserRow> = Self::bind_user_filter(&sql, params)
                        .bind(limit(filter.max))
                        .bind(filter.first.max(0))
                        .fetch_all(&self.pool)
                        .await?;
                    Ok(rows.into_iter().map(User::from).collect())
                }

                async fn count_users(&self, realm_id: &str, f: &UserFilter) -> Result<i64, StoreError> {
                    let (condition, params) = crate::store::users::user_filter_sql(realm_id, f);
                    let sql = format!("SELECT COUNT(*) FROM users WHERE {condition}");
                    let (count,): (i64,) = Self::bind_user_filter(&sql, params).fetch_one(&self.pool).await?;
                    Ok(count)
                }

                async fn users_with_email(&self, realm_id: &str, email: &str, except: &str) -> Result<Vec<User>, StoreError> {
                    let rows: Vec<UserRow> = sqlx::query_as(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE realm_id = $1 AND LOWER(email) = LOWER($2) AND id <> $3 \
                         ORDER BY username"
                    ))
                    .bind(realm_id)
                    .bind(email)
                    .bind(except)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(User::from).collect())
                }

                async fn update_user(&self, user: &User) -> Result<bool, StoreError> {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query(
                        "UPDATE users SET username = $1, email = $2, first_name = $3, last_name = $4, enabled = $5, \
                         email_verified = $6, required_actions = $7 WHERE id = $8 AND realm_id = $9",
                    )
                    .bind(&user.username)
                    .bind(&user.email)
                    .bind(&user.first_name)
                    .bind(&user.last_name)
                    .bind(user.enabled)
                    .bind(user.email_verified)
                    .bind(crate::store::common::to_json(&user.required_actions))
                    .bind(&user.id)
                    .bind(&user.realm_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_unique)?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    Self::write_attributes(&mut tx, user, true).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn delete_user(&self, realm_id: &str, user_id: &str) -> Result<bool, StoreError> {
                    let mut tx = self.begin_write().await?;
                    Self::lock_sessions_where(&mut tx, "s.user_id = $1", user_id).await?;
                    let done = sqlx::query("DELETE FROM users WHERE id = $1 AND realm_id = $2")
                        .bind(user_id)
                        .bind(realm_id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn add_user_roles(&self, user_id: &str, role_ids: &[String]) -> Result<(), StoreError> {
                    let mut tx = self.begin_write().await?;
                    for role_id in role_ids {
                        Self::insert_mapping(&mut tx, user_id, role_id).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn remove_user_roles(&self, user_id: &str, role_ids: &[String]) -> Result<(), StoreError> {
                    let mut tx = self.begin_write().await?;
                    for role_id in role_ids {
                        sqlx::query("DELETE FROM user_role_mappings WHERE user_id = $1 AND role_id = $2")
                            .bind(user_id)
                            .bind(role_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn create_role(&self, role: &Role) -> Result<(), StoreError> {
                    let mut tx = self.begin_write().await?;
                    Self::insert_role(&mut tx, role).await?;
                    Self::insert_composites(&mut tx, role).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn update_role(&self, role: &Role) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "UPDATE roles SET name = $1, description = $2, attributes = $3 WHERE id = $4 AND realm_id = $5",
                    )
                        .bind(&role.name)
                        .bind(&role.description)
                        .bind(to_json(&role.attributes))
                        .bind(&role.id)
                        .bind(&role.realm_id)
                        .execute(&self.pool)
                        .await
                        .map_err(map_unique)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn delete_role(&self, realm_id: &str, role_id: &str) -> Result<bool, StoreError> {
                    let done = sqlx::query("DELETE FROM roles WHERE id = $1 AND realm_id = $2")
                        .bind(role_id)
                        .bind(realm_id)
                        .execute(&self.pool)
                        .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn client_by_id(&self, realm_id: &str, id: &str) -> Result<Option<Client>, StoreError> {
                    let row: Option<ClientRow> = sqlx::query_as(&format!(
                        "SELECT {CLIENT_COLUMNS} FROM clients WHERE realm_id = $1 AND id = $2"
                    ))
                    .bind(realm_id)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(Client::try_from).transpose()
                }

                async fn create_client(
                    &self,
                    client: &Client,
                    roles: &[Role],
                    service_account: Option<&NewServiceAccount>,
                ) -> Result<(), StoreError> {
                    let mut tx = self.begin_write().await?;
                    Self::insert_client(&mut tx, client).await?;
                    for role in roles {
                        Self::insert_role(&mut tx, role).await?;
                    }
                    for role in roles {
                        Self::insert_composites(&mut tx, role).await?;
                    }
                    if let Some(account) = service_account {
                        Self::insert_user(&mut tx, &account.user).await?;
                        for role_id in &account.role_ids {
                            Self::insert_mapping(&mut tx, &account.user.id, role_id).await?;
                        }
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn update_client(
                    &self,
                    c: &Client,
                    service_account: Option<&NewServiceAccount>,
                ) -> Result<bool, StoreError> {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query(
                        "UPDATE clients SET client_id = $1, name = $2, enabled = $3, public_client = $4, \
                         bearer_only = $5, secret_sealed = $6, redirect_uris = $7, web_origins = $8, \
                         standard_flow_enabled = $9, direct_access_grants_enabled = $10, \
                         service_accounts_enabled = $11, consent_required = $12, attributes = $13, \
                         settings = $14, full_scope_allowed = $17 WHERE id = $15 AND realm_id = $16",
                    )
                    .bind(&c.client_id)
                    .bind(&c.name)
                    .bind(c.enabled)
                    .bind(c.public_client)
                    .bind(c.bearer_only)
                    .bind(&c.secret_sealed)
                    .bind(to_json(&c.redirect_uris))
                    .bind(to_json(&c.web_origins))
                    .bind(c.standard_flow_enabled)
                    .bind(c.direct_access_grants_enabled)
                    .bind(c.service_accounts_enabled)
                    .bind(c.consent_required)
                    .bind(to_json(&c.attributes))
                    .bind(to_json(&c.settings))
                    .bind(&c.id)
                    .bind(&c.realm_id)
                    .bind(c.full_scope_allowed)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_unique)?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    if let Some(account) = service_account {
                        Self::insert_user(&mut tx, &account.user).await?;
                        for role_id in &account.role_ids {
                            Self::insert_mapping(&mut tx, &account.user.id, role_id).await?;
                        }
                    }
                    tx.commit().await?;
                    Ok(true)
                }

                async fn delete_client(&self, realm_id: &str, id: &str) -> Result<bool, StoreError> {
                    let mut tx = self.begin_write().await?;
                    Self::lock_sessions_where(
                        &mut tx,
                        "EXISTS (SELECT 1 FROM client_sessions cs WHERE cs.user_session_id = s.id AND cs.client_id = $1) \
                         OR s.user_id IN (SELECT u.id FROM users u WHERE u.service_account_client_id = $1)",
                        id,
                    )
                    .await?;
                    // client roles name their client in container_id, which has no foreign key
                    sqlx::query("DELETE FROM roles WHERE realm_id = $1 AND container_id = $2 AND client_role = TRUE")
                        .bind(realm_id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    let done = sqlx::query("DELETE FROM clients WHERE id = $1 AND realm_id = $2")
                        .bind(id)
                        .bind(realm_id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn sessions_of_client(
                    &self,
                    realm_id: &str,
                    client_id: &str,
                    offline: bool,
                    now: UnixTime,
                    first: i64,
                    max: i64,
                ) -> Result<Vec<SessionListing>, StoreError> {
                    let page = format!(
                        "SELECT s.id FROM user_sessions s WHERE {CLIENT_SESSIONS_FILTER} \
                         ORDER BY s.started_at DESC, s.id LIMIT $5 OFFSET $6"
                    );
                    let rows: Vec<ListingRow> = sqlx::query_as(&format!(
                        "SELECT {SESSION_COLUMNS}, u.username FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE {CLIENT_SESSIONS_FILTER} \
                         ORDER BY s.started_at DESC, s.id LIMIT $5 OFFSET $6"
                    ))
                    .bind(realm_id)
                    .bind(offline)
                    .bind(now)
                    .bind(client_id)
                    .bind(limit(max))
                    .bind(first.max(0))
                    .fetch_all(&self.pool)
                    .await?;
                    let joined: Vec<(String, String)> = sqlx::query_as(&format!(
                        "SELECT cs.user_session_id, cs.client_id FROM client_sessions cs \
                         WHERE cs.user_session_id IN ({page}) ORDER BY cs.started_at, cs.client_id"
                    ))
                    .bind(realm_id)
                    .bind(offline)
                    .bind(now)
                    .bind(client_id)
                    .bind(limit(max))
                    .bind(first.max(0))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows
                        .into_iter()
                        .map(|row| {
                            let session: crate::store::UserSessionRecord = row.session.into();
                            let client_ids =
                                joined.iter().filter(|(s, _)| *s == session.id).map(|(_, c)| c.clone()).collect();
                            SessionListing { session, username: row.username, client_ids }
                        })
                        .collect())
                }

                async fn client_session_counts(
                    &self,
                    realm_id: &str,
                    now: UnixTime,
                ) -> Result<Vec<ClientSessionCount>, StoreError> {
                    let rows: Vec<(String, bool, i64)> = sqlx::query_as(
                        "SELECT cs.client_id, s.offline, COUNT(*) FROM client_sessions cs \
                         JOIN user_sessions s ON s.id = cs.user_session_id \
                         WHERE s.realm_id = $1 AND s.expires_at > $2 GROUP BY cs.client_id, s.offline \
                         ORDER BY cs.client_id",
                    )
                    .bind(realm_id)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?;
                    let mut counts: Vec<ClientSessionCount> = Vec::new();
                    for (client_id, offline, n) in rows {
                        let at = match counts.iter().position(|c| c.client_id == client_id) {
                            Some(at) => at,
                            None => {
                                counts.push(ClientSessionCount { client_id, ..ClientSessionCount::default() });
                                counts.len() - 1
                            }
                        };
                        if offline {
                            counts[at].offline += n;
                        } else {
                            counts[at].active += n;
                        }
                    }
                    Ok(counts)
                }

                async fn delete_realm_sessions(&self, realm_id: &str) -> Result<u64, StoreError> {
                    let mut tx = self.begin_write().await?;
                    Self::lock_sessions_where(&mut tx, "s.realm_id = $1", realm_id).await?;
                    let done = sqlx::query("DELETE FROM user_sessions WHERE realm_id = $1")
                        .bind(realm_id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(done.rows_affected())
                }

                async fn insert_admin_event(&self, e: &AdminEventRecord) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO admin_events (id, realm_id, time, operation, resource_type, resource_path, \
                         representation, auth_realm_id, auth_user_id, ip) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(&e.id)
                    .bind(&e.realm_id)
                    .bind(e.time)
                    .bind(&e.operation)
                    .bind(&e.resource_type)
                    .bind(&e.resource_path)
                    .bind(&e.representation)
                    .bind(&e.auth_realm_id)
                    .bind(&e.auth_user_id)
                    .bind(&e.ip)
                    .execute(&self.pool)
                    .await
                    .map_err(map_unique)?;
                    Ok(())
                }

                async fn list_admin_events(
                    &self,
                    realm_id: &str,
                    f: &AdminEventFilter,
                ) -> Result<Vec<AdminEventRecord>, StoreError> {
                    // lists travel as one JSON array string so both dialects filter with LIKE
                    let list = |items: &[String]| if items.is_empty() { String::new() } else { to_json(&items) };
                    let rows: Vec<AdminEventRow> = sqlx::query_as(
                        "SELECT id, realm_id, time, operation, resource_type, resource_path, representation, \
                         auth_realm_id, auth_user_id, ip FROM admin_events WHERE realm_id = $1 \
                         AND ($2 = '' OR $2 LIKE '%\"' || operation || '\"%') \
                         AND ($3 = '' OR $3 LIKE '%\"' || resource_type || '\"%') \
                         AND (CAST($4 AS TEXT) IS NULL OR resource_path LIKE $4 ESCAPE '\\') \
                         AND (CAST($5 AS TEXT) IS NULL OR auth_user_id = $5) \
                         AND time >= $6 AND time <= $7 ORDER BY time DESC, id DESC LIMIT $8 OFFSET $9",
                    )
                    .bind(realm_id)
                    .bind(list(&f.operations))
                    .bind(list(&f.resource_types))
                    .bind(f.resource_path.as_deref())
                    .bind(f.auth_user_id.as_deref())
                    .bind(f.from.unwrap_or(0))
                    .bind(f.to.unwrap_or(i64::MAX))
                    .bind(if f.max > 0 { f.max } else { 100 })
                    .bind(f.first.max(0))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(AdminEventRecord::from).collect())
                }
            }
        }
    };
}

pub(crate) use impl_admin_store;
