//! SQL that reads the same in both dialects, written once and stamped onto each backend by
//! `impl_common_store!`. Both backends accept `$N` placeholders, integer-second timestamps,
//! booleans and byte strings, so only statements that truly differ (locking, upserts on the hot
//! path) are written per backend. The row structs that turn columns into domain records are in
//! `common_rows.rs`, re-exported here.

pub(crate) use super::common_rows::*;

/// Implements the storage traits whose SQL is the same in both dialects for a store type with a
/// `pool: sqlx::Pool<$db>` field.
macro_rules! impl_common_store {
    ($store:ty, $db:ty, $role_ids:expr) => {
        use std::collections::HashMap as __HashMap;

        use async_trait::async_trait;

        use crate::clock::UnixTime;
        use crate::domain::{Client, Credential, Realm, Role, User};
        use crate::store::common::{
            map_unique, role_attributes, settings_json, to_json, ClientRow, CredentialRow, KeyRow, RealmRow, RoleRow,
            UserRow, CLIENT_COLUMNS, CREDENTIAL_COLUMNS,
        };

        /// Every user read selects these (attributes included: see `store::users`).
        const USER_COLUMNS: &str = <$db as crate::store::users::UserSql>::USER_COLUMNS;
        use crate::store::{
            ClientStore, KeyStatus, KeyStore, RealmBundle, RealmStore, SigningKeyRecord,
            StoreError, UserStore,
        };

        type Tx<'a> = sqlx::Transaction<'a, $db>;

        impl $store {
            async fn insert_realm_row(tx: &mut Tx<'_>, realm: &Realm) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO realms (id, name, enabled, not_before, settings, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&realm.id)
                .bind(&realm.name)
                .bind(realm.enabled)
                .bind(realm.not_before)
                .bind(settings_json(realm))
                .bind(realm.created_at)
                .execute(&mut **tx)
                .await
                .map_err(map_unique)?;
                Ok(())
            }

            async fn insert_key(tx: &mut Tx<'_>, key: &SigningKeyRecord) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO signing_keys (kid, realm_id, algorithm, status, public_jwk, \
                     private_sealed, created_at, publish_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&key.kid)
                .bind(&key.realm_id)
                .bind(&key.algorithm)
                .bind(key.status.as_str())
                .bind(&key.public_jwk)
                .bind(&key.private_sealed)
                .bind(key.created_at)
                .bind(key.publish_until)
                .execute(&mut **tx)
                .await
                .map_err(map_unique)?;
                Ok(())
            }

            async fn insert_role(tx: &mut Tx<'_>, role: &Role) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO roles (id, realm_id, container_id, client_role, name, description, attributes) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&role.id)
                .bind(&role.realm_id)
                .bind(&role.container_id)
                .bind(role.client_role)
                .bind(&role.name)
                .bind(&role.description)
                .bind(to_json(&role.attributes))
                .execute(&mut **tx)
                .await
                .map_err(map_unique)?;
                Ok(())
            }

            async fn insert_composites(tx: &mut Tx<'_>, role: &Role) -> Result<(), StoreError> {
                for child in &role.composites {
                    sqlx::query("INSERT INTO role_composites (parent_id, child_id) VALUES ($1, $2)")
                        .bind(&role.id)
                        .bind(child)
                        .execute(&mut **tx)
                        .await
                        .map_err(map_unique)?;
                }
                Ok(())
            }

            async fn insert_client(tx: &mut Tx<'_>, client: &Client) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO clients (id, realm_id, client_id, name, enabled, public_client, \
                     bearer_only, secret_sealed, redirect_uris, web_origins, standard_flow_enabled, \
                     direct_access_grants_enabled, service_accounts_enabled, consent_required, \
                     attributes, settings, created_at, full_scope_allowed) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
                )
                .bind(&client.id)
                .bind(&client.realm_id)
                .bind(&client.client_id)
                .bind(&client.name)
                .bind(client.enabled)
                .bind(client.public_client)
                .bind(client.bearer_only)
                .bind(&client.secret_sealed)
                .bind(to_json(&client.redirect_uris))
                .bind(to_json(&client.web_origins))
                .bind(client.standard_flow_enabled)
                .bind(client.direct_access_grants_enabled)
                .bind(client.service_accounts_enabled)
                .bind(client.consent_required)
                .bind(to_json(&client.attributes))
                .bind(to_json(&client.settings))
                .bind(client.created_at)
                .bind(client.full_scope_allowed)
                .execute(&mut **tx)
                .await
                .map_err(map_unique)?;
                Ok(())
            }

            async fn insert_user(tx: &mut Tx<'_>, user: &User) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO users (id, realm_id, username, email, first_name, last_name, \
                     enabled, email_verified, service_account_client_id, created_at, required_actions) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(&user.id)
                .bind(&user.realm_id)
                .bind(&user.username)
                .bind(&user.email)
                .bind(&user.first_name)
                .bind(&user.last_name)
                .bind(user.enabled)
                .bind(user.email_verified)
                .bind(&user.service_account_client_id)
                .bind(user.created_at)
                .bind(to_json(&user.required_actions))
                .execute(&mut **tx)
                .await
                .map_err(map_unique)?;
                Self::write_attributes(tx, user, false).await
            }

            async fn insert_credential(tx: &mut Tx<'_>, c: &Credential) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO credentials (id, user_id, type, secret_data, credential_data, created_at, \
                     user_label, priority) VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 > 0 THEN $8 ELSE \
                     COALESCE((SELECT MAX(o.priority) FROM credentials o WHERE o.user_id = $2), 0) + 10 END)",
                )
                .bind(&c.id)
                .bind(&c.user_id)
                .bind(&c.kind)
                .bind(&c.secret_data)
                .bind(&c.credential_data)
                .bind(c.created_at)
                .bind(&c.user_label)
                .bind(c.priority)
                .execute(&mut **tx)
                .await
                .map_err(map_unique)?;
                Ok(())
            }

            /// The user's password credentials replaced by `credential`, which takes the place
            /// (priority) and label of the password it replaces, as an update in Keycloak does.
            /// Replaces the user's password with `credential`; with `keep_history` > 0 the old one
            /// becomes a `password-history` credential and only the newest `keep_history` of
            /// those stay (Keycloak's passwordHistory).
            async fn swap_password(tx: &mut Tx<'_>, credential: &Credential, keep_history: usize) -> Result<(), StoreError> {
                let old: Option<(i64, Option<String>)> = sqlx::query_as(
                    "SELECT priority, user_label FROM credentials WHERE user_id = $1 AND type = 'password' \
                     ORDER BY priority, created_at DESC LIMIT 1",
                )
                .bind(&credential.user_id)
                .fetch_optional(&mut **tx)
                .await?;
                let retire = if keep_history > 0 {
                    "UPDATE credentials SET type = 'password-history' WHERE user_id = $1 AND type = 'password'"
                } else {
                    "DELETE FROM credentials WHERE user_id = $1 AND type = 'password'"
                };
                sqlx::query(retire).bind(&credential.user_id).execute(&mut **tx).await?;
                sqlx::query(
                    "DELETE FROM credentials WHERE user_id = $1 AND type = 'password-history' AND id NOT IN \
                     (SELECT id FROM credentials WHERE user_id = $1 AND type = 'password-history' \
                      ORDER BY created_at DESC, id LIMIT $2)",
                )
                .bind(&credential.user_id)
                .bind(keep_history as i64)
                .execute(&mut **tx)
                .await?;
                let mut credential = credential.clone();
                if let Some((priority, label)) = old {
                    credential.priority = priority;
                    credential.user_label = credential.user_label.or(label);
                }
                Self::insert_credential(tx, &credential).await
            }

            async fn insert_bundle(tx: &mut Tx<'_>, bundle: &RealmBundle, replace: bool) -> Result<(), StoreError> {
                let realm = bundle
                    .realm
                    .as_ref()
                    .ok_or_else(|| StoreError::NotFound("the bundle has no realm".into()))?;
                let existing: Option<(String,)> = sqlx::query_as("SELECT id FROM realms WHERE name = $1")
                    .bind(&realm.name)
                    .fetch_optional(&mut **tx)
                    .await?;
                if let Some((id,)) = existing {
                    if !replace {
                        return Err(StoreError::Conflict(format!("realm {} already exists", realm.name)));
                    }
                    sqlx::query("DELETE FROM realms WHERE id = $1").bind(id).execute(&mut **tx).await?;
                }
                Self::insert_realm_row(tx, realm).await?;
                for key in &bundle.keys {
                    Self::insert_key(tx, key).await?;
                }
                Self::insert_contents(tx, &realm.id, bundle).await
            }

            /// What a bundle holds besides its realm row and keys, into the realm `realm_id`
            /// (a realm import and a partial import share it).
            async fn insert_contents(tx: &mut Tx<'_>, realm_id: &str, bundle: &RealmBundle) -> Result<(), StoreError> {
                for client in &bundle.clients {
                    Self::insert_client(tx, client).await?;
                }
                for role in &bundle.roles {
                    Self::insert_role(tx, role).await?;
                }
                for role in &bundle.roles {
                    Self::insert_composites(tx, role).await?;
                }
                for user in &bundle.users {
                    Self::insert_user(tx, user).await?;
                }
                for credential in &bundle.credentials {
                    Self::insert_credential(tx, credential).await?;
                }
                for (user_id, role_id) in &bundle.role_mappings {
                    Self::insert_mapping(tx, user_id, role_id).await?;
                }
                for group in &bundle.groups.groups {
                    let default = bundle.groups.default_groups.contains(&group.id);
                    Self::insert_group_rows(tx, group, default).await?;
                }
                Self::insert_group_links(tx, &bundle.groups).await?;
                Self::insert_scopes(tx, realm_id, &bundle.scopes).await?;
                Ok(())
            }

            async fn insert_mapping(tx: &mut Tx<'_>, user_id: &str, role_id: &str) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO user_role_mappings (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(user_id)
                .bind(role_id)
                .execute(&mut **tx)
                .await
                .map_err(map_unique)?;
                Ok(())
            }
        }

        #[async_trait]
        impl RealmStore for $store {
            async fn create_realms(&self, bundles: &[RealmBundle], replace: bool) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                for bundle in bundles {
                    Self::insert_bundle(&mut tx, bundle, replace).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn realm_by_name(&self, name: &str) -> Result<Option<Realm>, StoreError> {
                let row: Option<RealmRow> = sqlx::query_as(
                    "SELECT id, name, enabled, not_before, settings, created_at FROM realms WHERE name = $1",
                )
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                row.map(Realm::try_from).transpose()
            }

            async fn list_realms(&self) -> Result<Vec<Realm>, StoreError> {
                let rows: Vec<RealmRow> = sqlx::query_as(
                    "SELECT id, name, enabled, not_before, settings, created_at FROM realms ORDER BY name",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(Realm::try_from).collect()
            }

            async fn realm_bundle(&self, realm_id: &str) -> Result<RealmBundle, StoreError> {
                let mut tx = self.pool.begin().await?;
                let realm: RealmRow = sqlx::query_as(
                    "SELECT id, name, enabled, not_before, settings, created_at FROM realms WHERE id = $1",
                )
                .bind(realm_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("realm id {realm_id}")))?;
                let keys: Vec<KeyRow> = sqlx::query_as(
                    "SELECT kid, realm_id, algorithm, status, public_jwk, private_sealed, created_at, \
                     publish_until FROM signing_keys WHERE realm_id = $1 ORDER BY created_at, kid",
                )
                .bind(realm_id)
                .fetch_all(&mut *tx)
                .await?;
                let clients: Vec<ClientRow> = sqlx::query_as(&format!(
                    "SELECT {CLIENT_COLUMNS} FROM clients WHERE realm_id = $1 ORDER BY client_id"
                ))
                .bind(realm_id)
                .fetch_all(&mut *tx)
                .await?;
                let users: Vec<UserRow> = sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE realm_id = $1 ORDER BY username"
                ))
                .bind(realm_id)
                .fetch_all(&mut *tx)
                .await?;
                let credentials: Vec<CredentialRow> = sqlx::query_as(&format!(
                    "SELECT {CREDENTIAL_COLUMNS} \
                     FROM credentials c JOIN users u ON u.id = c.user_id WHERE u.realm_id = $1 \
                     ORDER BY c.priority, c.created_at, c.id"
                ))
                .bind(realm_id)
                .fetch_all(&mut *tx)
                .await?;
                let mappings: Vec<(String, String)> = sqlx::query_as(
                    "SELECT m.user_id, m.role_id FROM user_role_mappings m JOIN users u ON u.id = m.user_id \
                     WHERE u.realm_id = $1 ORDER BY m.user_id, m.role_id",
                )
                .bind(realm_id)
                .fetch_all(&mut *tx)
                .await?;
                let roles = Self::roles_in(&mut tx, realm_id).await?;
                let groups = Self::realm_groups_in(&mut tx, realm_id).await?;
                let scopes = Self::scopes_in(&mut tx, realm_id).await?;
                tx.commit().await?;
                Ok(RealmBundle {
                    realm: Some(Realm::try_from(realm)?),
                    keys: keys.into_iter().map(SigningKeyRecord::try_from).collect::<Result<_, _>>()?,
                    roles,
                    clients: clients.into_iter().map(Client::try_from).collect::<Result<_, _>>()?,
                    users: users.into_iter().map(User::from).collect(),
                    credentials: credentials.into_iter().map(Credential::from).collect(),
                    role_mappings: mappings,
                    groups,
                    scopes,
                })
            }

            async fn delete_realm(&self, realm_id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM realms WHERE id = $1")
                    .bind(realm_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }
        }

        impl $store {
            async fn roles_in(tx: &mut Tx<'_>, realm_id: &str) -> Result<Vec<Role>, StoreError> {
                let rows: Vec<RoleRow> = sqlx::query_as(
                    "SELECT id, realm_id, container_id, client_role, name, description, attributes FROM roles \
                     WHERE realm_id = $1 ORDER BY client_role, container_id, name",
                )
                .bind(realm_id)
                .fetch_all(&mut **tx)
                .await?;
                let composites: Vec<(String, String)> = sqlx::query_as(
                    "SELECT rc.parent_id, rc.child_id FROM role_composites rc \
                     JOIN roles r ON r.id = rc.parent_id WHERE r.realm_id = $1 ORDER BY rc.child_id",
                )
                .bind(realm_id)
                .fetch_all(&mut **tx)
                .await?;
                let mut children: __HashMap<String, Vec<String>> = __HashMap::new();
                for (parent, child) in composites {
                    children.entry(parent).or_default().push(child);
                }
                rows.into_iter()
                    .map(|row| {
                        Ok(Role {
                            composites: children.remove(&row.id).unwrap_or_default(),
                            attributes: role_attributes(&row.id, &row.attributes)?,
                            id: row.id,
                            realm_id: row.realm_id,
                            container_id: row.container_id,
                            client_role: row.client_role,
                            name: row.name,
                            description: row.description,
                        })
                    })
                    .collect()
            }
        }

        #[async_trait]
        impl KeyStore for $store {
            async fn signing_keys(&self, realm_id: &str) -> Result<Vec<SigningKeyRecord>, StoreError> {
                let rows: Vec<KeyRow> = sqlx::query_as(
                    "SELECT kid, realm_id, algorithm, status, public_jwk, private_sealed, created_at, \
                     publish_until FROM signing_keys WHERE realm_id = $1 ORDER BY created_at, kid",
                )
                .bind(realm_id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(SigningKeyRecord::try_from).collect()
            }

            async fn rotate_keys(
                &self,
                realm_id: &str,
                new_keys: &[SigningKeyRecord],
                publish_until: UnixTime,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                for key in new_keys {
                    sqlx::query(
                        "UPDATE signing_keys SET status = $1, publish_until = $2 \
                         WHERE realm_id = $3 AND algorithm = $4 AND status = $5",
                    )
                    .bind(KeyStatus::Passive.as_str())
                    .bind(publish_until)
                    .bind(realm_id)
                    .bind(&key.algorithm)
                    .bind(KeyStatus::Active.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                for key in new_keys {
                    Self::insert_key(&mut tx, key).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn delete_expired_keys(&self, now: UnixTime) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "DELETE FROM signing_keys WHERE status = $1 AND publish_until IS NOT NULL AND publish_until <= $2",
                )
                .bind(KeyStatus::Passive.as_str())
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }
        }

        #[async_trait]
        impl ClientStore for $store {
            async fn client_by_client_id(
                &self,
                realm_id: &str,
                client_id: &str,
            ) -> Result<Option<Client>, StoreError> {
                let row: Option<ClientRow> = sqlx::query_as(&format!(
                    "SELECT {CLIENT_COLUMNS} FROM clients WHERE realm_id = $1 AND client_id = $2"
                ))
                .bind(realm_id)
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(Client::try_from).transpose()
            }

            async fn list_clients(&self, realm_id: &str) -> Result<Vec<Client>, StoreError> {
                let rows: Vec<ClientRow> = sqlx::query_as(&format!(
                    "SELECT {CLIENT_COLUMNS} FROM clients WHERE realm_id = $1 ORDER BY client_id"
                ))
                .bind(realm_id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(Client::try_from).collect()
            }
        }

        #[async_trait]
        impl UserStore for $store {
            async fn user_by_username(
                &self,
                realm_id: &str,
                username: &str,
            ) -> Result<Option<User>, StoreError> {
                let row: Option<UserRow> = sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE realm_id = $1 AND username = $2"
                ))
                .bind(realm_id)
                .bind(username.to_lowercase())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(User::from))
            }

            async fn user_by_id(&self, realm_id: &str, user_id: &str) -> Result<Option<User>, StoreError> {
                let row: Option<UserRow> = sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE realm_id = $1 AND id = $2"
                ))
                .bind(realm_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(User::from))
            }

            async fn user_by_email(&self, realm_id: &str, email: &str) -> Result<Option<User>, StoreError> {
                let rows: Vec<UserRow> = sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE realm_id = $1 AND LOWER(email) = LOWER($2) LIMIT 2"
                ))
                .bind(realm_id)
                .bind(email)
                .fetch_all(&self.pool)
                .await?;
                Ok(if rows.len() == 1 { rows.into_iter().next().map(User::from) } else { None })
            }

            async fn service_account_user(&self, client_id: &str) -> Result<Option<User>, StoreError> {
                let row: Option<UserRow> = sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE service_account_client_id = $1"
                ))
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(User::from))
            }

            async fn service_account_with_role_ids(&self, client_id: &str) -> Result<Option<(User, Vec<String>)>, StoreError> {
                #[derive(sqlx::FromRow)]
                struct Row {
                    #[sqlx(flatten)]
                    user: UserRow,
                    role_ids: Option<String>,
                }
                static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                    format!(
                                "SELECT {USER_COLUMNS}, (SELECT {} FROM ({}) m) AS role_ids \
                         FROM users WHERE service_account_client_id = $1",
                        $role_ids,
                        crate::store::groups::mapped_role_ids_with_repeats_sql("users.id")
                    )
                });
                let row: Option<Row> = sqlx::query_as(SQL.as_str()).bind(client_id).fetch_optional(&self.pool).await?;
                let Some(row) = row else { return Ok(None) };
                let role_ids = crate::store::rotation::parse_role_ids(row.role_ids)
                    .map_err(|_| StoreError::Corrupt("role ids of a service account do not read back".into()))?;
                Ok(Some((User::from(row.user), role_ids)))
            }

            async fn password_credential(&self, user_id: &str) -> Result<Option<Credential>, StoreError> {
                Ok(self.credentials_of_user(user_id).await?.into_iter().find(|c| c.kind == "password"))
            }

            async fn credentials_of_user(&self, user_id: &str) -> Result<Vec<Credential>, StoreError> {
                let rows: Vec<CredentialRow> = sqlx::query_as(&format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials c \
                     WHERE c.user_id = $1 ORDER BY c.priority, c.created_at DESC, c.id"
                ))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Credential::from).collect())
            }

            async fn delete_credential(&self, user_id: &str, credential_id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM credentials WHERE id = $1 AND user_id = $2")
                    .bind(credential_id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn create_user(
                &self,
                user: &User,
                credentials: &[Credential],
                role_ids: &[String],
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                Self::insert_user(&mut tx, user).await?;
                for credential in credentials {
                    Self::insert_credential(&mut tx, credential).await?;
                }
                for role_id in role_ids {
                    Self::insert_mapping(&mut tx, &user.id, role_id).await?;
                }
                // Keycloak's defaultGroups: a new user joins them.
                sqlx::query(
                    "INSERT INTO user_group_membership (user_id, group_id) \
                     SELECT $1, id FROM realm_groups WHERE realm_id = $2 AND default_group = TRUE",
                )
                .bind(&user.id)
                .bind(&user.realm_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn replace_password(&self, credential: &Credential) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                Self::swap_password(&mut tx, credential, 0).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_password(&self, credential: &Credential, required_actions: &[String], keep_history: usize) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                Self::swap_password(&mut tx, credential, keep_history).await?;
                sqlx::query("UPDATE users SET required_actions = $1 WHERE id = $2")
                    .bind(to_json(&required_actions))
                    .bind(&credential.user_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn realm_roles(&self, realm_id: &str) -> Result<Vec<Role>, StoreError> {
                let mut tx = self.pool.begin().await?;
                let roles = Self::roles_in(&mut tx, realm_id).await?;
                tx.commit().await?;
                Ok(roles)
            }

            async fn user_role_ids(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
                let rows: Vec<(String,)> =
                    sqlx::query_as("SELECT role_id FROM user_role_mappings WHERE user_id = $1 ORDER BY role_id")
                        .bind(user_id)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(|(id,)| id).collect())
            }
        }
    };
}

pub(crate) use impl_common_store;
