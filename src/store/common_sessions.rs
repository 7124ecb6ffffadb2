//! Session, code and event SQL shared by both backends, stamped onto each by
//! `impl_session_store!` (refresh-token families are `families_sql.rs`). The backend supplies
//! `begin_write()` (Postgres: a plain transaction; SQLite: `BEGIN IMMEDIATE`, taking the write
//! lock up front) and the row-lock clause appended to the session select (`FOR UPDATE OF s` on
//! Postgres; SQLite's write lock already serialises).

pub(crate) use super::session_rows::{ClientSessionRow, EventRow, SessionRow};

/// `rotation::touch_session_sql`: $1 now, $2 the session's new upper bound, $3 its id.
pub(crate) static TOUCH_SESSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(super::rotation::touch_session_sql);

pub(crate) const SESSION_COLUMNS: &str = "s.id, s.realm_id, s.user_id, s.offline, s.started_at, s.last_access_at, s.auth_time, s.remember_me, s.ip, s.user_agent, s.expires_at, s.browser_session_id";

macro_rules! impl_session_store {
    ($store:ty, $lock:literal) => {
        use crate::store::common_sessions::{ClientSessionRow, EventRow, SessionRow, SESSION_COLUMNS, TOUCH_SESSION};
        use crate::store::sessions::{
            AuthCodeRecord, ClientSessionRecord, CodeOutcome, ConsentRecord, EventFilter, EventRecord,
            LoginFailureRecord, NewGrant, SessionStore, SessionWithClients, StartedGrant, TokenHash, UserSessionRecord,
        };

        impl $store {
            async fn insert_session(tx: &mut Tx<'_>, s: &UserSessionRecord) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO user_sessions (id, realm_id, user_id, offline, started_at, last_access_at, \
                     auth_time, remember_me, ip, user_agent, expires_at, browser_session_id, cleanup_after) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11)",
                )
                .bind(&s.id).bind(&s.realm_id).bind(&s.user_id).bind(s.offline).bind(s.started_at)
                .bind(s.last_access_at).bind(s.auth_time).bind(s.remember_me).bind(&s.ip)
                .bind(&s.user_agent).bind(s.expires_at).bind(&s.browser_session_id)
                .execute(&mut **tx)
                .await
                .map_err(map_unique)?;
                Ok(())
            }

            async fn lock_session(tx: &mut Tx<'_>, session_id: &str) -> Result<Option<UserSessionRecord>, StoreError> {
                let row: Option<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM user_sessions s WHERE s.id = $1 {}", $lock
                ))
                .bind(session_id)
                .fetch_optional(&mut **tx)
                .await?;
                Ok(row.map(Into::into))
            }

            /// Locks and ends the user's offline sessions that the client (internal id) joined.
            async fn end_offline_sessions_of_client(tx: &mut Tx<'_>, user_id: &str, client_id: &str) -> Result<Vec<SessionWithClients>, StoreError> {
                let rows: Vec<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM user_sessions s WHERE s.user_id = $1 AND s.offline = TRUE AND EXISTS \
                     (SELECT 1 FROM client_sessions cs WHERE cs.user_session_id = s.id AND cs.client_id = $2) \
                     ORDER BY s.id {}", $lock
                ))
                .bind(user_id)
                .bind(client_id)
                .fetch_all(&mut **tx)
                .await?;
                Self::end_locked(tx, rows).await
            }

            /// Deletes these locked sessions (by cascade their client sessions and families) and
            /// returns each with the clients that had joined it, for the logout notifications.
            async fn end_locked(tx: &mut Tx<'_>, rows: Vec<SessionRow>) -> Result<Vec<SessionWithClients>, StoreError> {
                let mut ended = Vec::with_capacity(rows.len());
                for row in rows {
                    let client_ids: Vec<(String,)> = sqlx::query_as(
                        "SELECT client_id FROM client_sessions WHERE user_session_id = $1 ORDER BY started_at, client_id",
                    )
                    .bind(&row.id)
                    .fetch_all(&mut **tx)
                    .await?;
                    let done = sqlx::query("DELETE FROM user_sessions WHERE id = $1").bind(&row.id).execute(&mut **tx).await?;
                    if done.rows_affected() > 0 {
                        let client_ids = client_ids.into_iter().map(|(id,)| id).collect();
                        ended.push(SessionWithClients { session: row.into(), client_ids });
                    }
                }
                Ok(ended)
            }
        }

        #[async_trait]
        impl SessionStore for $store {
            async fn create_user_session(&self, session: &UserSessionRecord) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                Self::insert_session(&mut tx, session).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn touch_user_session(&self, session_id: &str, now: UnixTime, expires_at: UnixTime) -> Result<(), StoreError> {
                sqlx::query(TOUCH_SESSION.as_str())
                    .bind(now)
                    .bind(expires_at)
                    .bind(session_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn sessions_of_user(&self, user_id: &str) -> Result<Vec<SessionWithClients>, StoreError> {
                let rows: Vec<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM user_sessions s WHERE s.user_id = $1 ORDER BY s.started_at DESC, s.id"
                ))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                let joined: Vec<(String, String)> = sqlx::query_as(
                    "SELECT cs.user_session_id, cs.client_id FROM client_sessions cs \
                     JOIN user_sessions s ON s.id = cs.user_session_id WHERE s.user_id = $1 ORDER BY cs.started_at",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|row| {
                        let session: UserSessionRecord = row.into();
                        let client_ids = joined.iter().filter(|(s, _)| *s == session.id).map(|(_, c)| c.clone()).collect();
                        SessionWithClients { session, client_ids }
                    })
                    .collect())
            }

            async fn delete_other_sessions(&self, user_id: &str, keep: &str, offline: bool) -> Result<Vec<SessionWithClients>, StoreError> {
                let mut tx = self.begin_write().await?;
                let rows: Vec<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM user_sessions s WHERE s.user_id = $1 AND s.id <> $2 AND (s.offline = FALSE OR $3) \
                     ORDER BY s.id {}", $lock
                ))
                .bind(user_id)
                .bind(keep)
                .bind(offline)
                .fetch_all(&mut *tx)
                .await?;
                let ended = Self::end_locked(&mut tx, rows).await?;
                tx.commit().await?;
                Ok(ended)
            }

            async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<ConsentRecord>, StoreError> {
                let row: Option<(String, i64, i64)> = sqlx::query_as(
                    "SELECT scope, created_at, updated_at FROM consents WHERE user_id = $1 AND client_id = $2",
                )
                .bind(user_id)
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(scope, created_at, updated_at)| ConsentRecord {
                    user_id: user_id.to_string(),
                    client_id: client_id.to_string(),
                    scope,
                    created_at,
                    updated_at,
                }))
            }

            async fn upsert_consent(&self, c: &ConsentRecord) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO consents (user_id, client_id, scope, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at",
                )
                .bind(&c.user_id).bind(&c.client_id).bind(&c.scope).bind(c.created_at).bind(c.updated_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn consents_of_user(&self, user_id: &str) -> Result<Vec<ConsentRecord>, StoreError> {
                let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                    "SELECT client_id, scope, created_at, updated_at FROM consents WHERE user_id = $1 ORDER BY created_at, client_id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(client_id, scope, created_at, updated_at)| ConsentRecord {
                        user_id: user_id.to_string(),
                        client_id,
                        scope,
                        created_at,
                        updated_at,
                    })
                    .collect())
            }

            async fn revoke_consent(&self, user_id: &str, client_id: &str) -> Result<Option<Vec<SessionWithClients>>, StoreError> {
                let mut tx = self.begin_write().await?;
                let ended = Self::end_offline_sessions_of_client(&mut tx, user_id, client_id).await?;
                let consent_gone = sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
                    .bind(user_id)
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    > 0;
                tx.commit().await?;
                Ok((consent_gone || !ended.is_empty()).then_some(ended))
            }

            async fn delete_offline_sessions_of_client(&self, user_id: &str, client_id: &str) -> Result<Vec<SessionWithClients>, StoreError> {
                let mut tx = self.begin_write().await?;
                let ended = Self::end_offline_sessions_of_client(&mut tx, user_id, client_id).await?;
                tx.commit().await?;
                Ok(ended)
            }

            async fn login_failures(&self, user_id: &str) -> Result<LoginFailureRecord, StoreError> {
                let row: Option<(i64, i64, Option<i64>, bool)> = sqlx::query_as(
                    "SELECT failures, last_failure_at, locked_until, locked_forever FROM login_failures WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row
                    .map(|(failures, last_failure_at, locked_until, locked_forever)| LoginFailureRecord {
                        failures,
                        last_failure_at,
                        locked_until,
                        locked_forever,
                    })
                    .unwrap_or_default())
            }

            async fn set_login_failures(&self, user_id: &str, r: &LoginFailureRecord) -> Result<(), StoreError> {
                if r.failures == 0 && !r.locked_forever {
                    sqlx::query("DELETE FROM login_failures WHERE user_id = $1").bind(user_id).execute(&self.pool).await?;
                    return Ok(());
                }
                sqlx::query(
                    "INSERT INTO login_failures (user_id, failures, last_failure_at, locked_until, locked_forever) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET failures = excluded.failures, \
                     last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until, \
                     locked_forever = excluded.locked_forever",
                )
                .bind(user_id).bind(r.failures).bind(r.last_failure_at).bind(r.locked_until).bind(r.locked_forever)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn start_grant(&self, grant: &NewGrant) -> Result<StartedGrant, StoreError> {
                let mut tx = self.begin_write().await?;
                let session = match (&grant.new_session, &grant.existing_session_id) {
                    (Some(s), _) => {
                        Self::insert_session(&mut tx, s).await?;
                        s.clone()
                    }
                    (None, Some(id)) => {
                        let mut joined = Self::lock_session(&mut tx, id)
                            .await?
                            .ok_or_else(|| StoreError::NotFound(format!("user session {id}")))?;
                        sqlx::query(TOUCH_SESSION.as_str())
                            .bind(grant.now)
                            .bind(grant.joined_expires_at)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        joined.last_access_at = grant.now;
                        joined.expires_at = grant.joined_expires_at;
                        joined
                    }
                    (None, None) => return Err(StoreError::NotFound("grant names no session".into())),
                };
                let existing: Option<ClientSessionRow> = sqlx::query_as(
                    "SELECT id, user_session_id, client_id, started_at, last_access_at FROM client_sessions \
                     WHERE user_session_id = $1 AND client_id = $2",
                )
                .bind(&session.id)
                .bind(&grant.client_id)
                .fetch_optional(&mut *tx)
                .await?;
                let client_session = match existing {
                    Some(row) => {
                        sqlx::query("UPDATE client_sessions SET last_access_at = $1 WHERE id = $2")
                            .bind(grant.now)
                            .bind(&row.id)
                            .execute(&mut *tx)
                            .await?;
                        ClientSessionRecord { last_access_at: grant.now, ..row.into() }
                    }
                    None => {
                        let record = ClientSessionRecord {
                            id: crate::domain::new_session_id(),
                            user_session_id: session.id.clone(),
                            client_id: grant.client_id.clone(),
                            started_at: grant.now,
                            last_access_at: grant.now,
                        };
                        sqlx::query(
                            "INSERT INTO client_sessions (id, user_session_id, client_id, started_at, last_access_at) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(&record.id).bind(&record.user_session_id).bind(&record.client_id)
                        .bind(record.started_at).bind(record.last_access_at)
                        .execute(&mut *tx)
                        .await?;
                        record
                    }
                };
                // the family's whole state from its first token on (DESIGN.md §2): no row per token
                sqlx::query(
                    "INSERT INTO token_families (id, client_session_id, scope, created_at, generation, current_hash, rotated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $4)",
                )
                .bind(&grant.family_id)
                .bind(&client_session.id)
                .bind(&grant.scope)
                .bind(grant.now)
                .bind(crate::store::FIRST_GENERATION)
                .bind(grant.refresh_hash.as_ref().map(|h| &h[..]))
                .execute(&mut *tx)
                .await?;
                if let Some((code, access_jti, access_exp)) = &grant.from_code {
                    // a replay that came first marked the code: then this grant must not exist
                    let recorded = sqlx::query(
                        "UPDATE auth_codes SET family_id = $1, access_jti_hash = $2, access_expires_at = $3 \
                         WHERE code_hash = $4 AND replayed_at IS NULL",
                    )
                    .bind(&grant.family_id)
                    .bind(&access_jti[..])
                    .bind(*access_exp)
                    .bind(&code[..])
                    .execute(&mut *tx)
                    .await?;
                    if recorded.rows_affected() == 0 {
                        return Err(StoreError::Conflict("authorization code replayed".into()));
                    }
                }
                tx.commit().await?;
                Ok(StartedGrant { session, client_session })
            }

            async fn user_session(&self, realm_id: &str, session_id: &str) -> Result<Option<UserSessionRecord>, StoreError> {
                let row: Option<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM user_sessions s WHERE s.id = $1 AND s.realm_id = $2"
                ))
                .bind(session_id)
                .bind(realm_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn delete_user_session(&self, realm_id: &str, session_id: &str) -> Result<Option<SessionWithClients>, StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM user_sessions s WHERE s.id = $1 AND s.realm_id = $2 {}", $lock
                ))
                .bind(session_id)
                .bind(realm_id)
                .fetch_optional(&mut *tx)
                .await?;
                let ended = Self::end_locked(&mut tx, row.into_iter().collect()).await?;
                tx.commit().await?;
                Ok(ended.into_iter().next())
            }

            async fn delete_user_sessions(&self, user_id: &str, offline: bool) -> Result<Vec<SessionWithClients>, StoreError> {
                let mut tx = self.begin_write().await?;
                let rows: Vec<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM user_sessions s WHERE s.user_id = $1 AND (s.offline = FALSE OR $2) \
                     ORDER BY s.id {}", $lock
                ))
                .bind(user_id)
                .bind(offline)
                .fetch_all(&mut *tx)
                .await?;
                let ended = Self::end_locked(&mut tx, rows).await?;
                tx.commit().await?;
                Ok(ended)
            }

            async fn insert_auth_code(&self, code: &AuthCodeRecord) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO auth_codes (code_hash, realm_id, client_id, user_session_id, redirect_uri, scope, \
                     nonce, code_challenge, code_challenge_method, created_at, expires_at, dpop_jkt) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&code.code_hash[..]).bind(&code.realm_id).bind(&code.client_id).bind(&code.user_session_id)
                .bind(&code.redirect_uri).bind(&code.scope).bind(&code.nonce).bind(&code.code_challenge)
                .bind(&code.code_challenge_method).bind(code.created_at).bind(code.expires_at).bind(&code.dpop_jkt)
                .execute(&self.pool)
                .await
                .map_err(map_unique)?;
                Ok(())
            }

            async fn consume_auth_code(
                &self,
                realm_id: &str,
                client_id: &str,
                code_hash: &TokenHash,
                now: UnixTime,
            ) -> Result<CodeOutcome, StoreError> {
                let mut tx = self.begin_write().await?;
                // The database decides the one winner: a conditional update, never a read-then-write.
                // Only the realm and client the code was issued to can find it (RFC 6749 §4.1.3).
                #[allow(clippy::type_complexity)]
                let fresh: Option<(String, String, String, String, String, Option<String>, Option<String>, Option<String>, i64, i64, Option<String>)> =
                    sqlx::query_as(
                        "UPDATE auth_codes SET consumed_at = $1 WHERE code_hash = $2 AND realm_id = $3 AND client_id = $4 \
                         AND consumed_at IS NULL \
                         RETURNING realm_id, client_id, user_session_id, redirect_uri, scope, nonce, code_challenge, \
                         code_challenge_method, created_at, expires_at, dpop_jkt",
                    )
                    .bind(now)
                    .bind(&code_hash[..])
                    .bind(realm_id)
                    .bind(client_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(r) = fresh {
                    tx.commit().await?;
                    return Ok(CodeOutcome::Fresh(AuthCodeRecord {
                        code_hash: *code_hash,
                        realm_id: r.0,
                        client_id: r.1,
                        user_session_id: r.2,
                        redirect_uri: r.3,
                        scope: r.4,
                        nonce: r.5,
                        code_challenge: r.6,
                        code_challenge_method: r.7,
                        created_at: r.8,
                        expires_at: r.9,
                        dpop_jkt: r.10,
                    }));
                }
                // Used before: mark the replay (so a first exchange still in flight fails) and
                // revoke whatever the first exchange already issued.
                let replayed: Option<(String, Option<String>, Option<Vec<u8>>, Option<i64>)> = sqlx::query_as(
                    "UPDATE auth_codes SET replayed_at = COALESCE(replayed_at, $1) WHERE code_hash = $2 \
                     AND realm_id = $3 AND client_id = $4 \
                     RETURNING realm_id, family_id, access_jti_hash, access_expires_at",
                )
                .bind(now)
                .bind(&code_hash[..])
                .bind(realm_id)
                .bind(client_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((realm_id, family, jti, exp)) = replayed else { return Ok(CodeOutcome::Unknown) };
                if let Some(family) = family {
                    sqlx::query("UPDATE token_families SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
                        .bind(now)
                        .bind(family)
                        .execute(&mut *tx)
                        .await?;
                }
                if let (Some(jti), Some(exp)) = (jti, exp) {
                    sqlx::query(
                        "INSERT INTO revoked_access_tokens (jti_hash, realm_id, expires_at) VALUES ($1, $2, $3) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(jti)
                    .bind(realm_id)
                    .bind(exp)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(CodeOutcome::Replayed)
            }

            async fn revoke_access_token(&self, realm_id: &str, jti: &TokenHash, expires_at: UnixTime) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO revoked_access_tokens (jti_hash, realm_id, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(&jti[..])
                .bind(realm_id)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn access_token_state(
                &self,
                lookup: &crate::store::AccessTokenLookup<'_>,
            ) -> Result<crate::store::AccessTokenState, StoreError> {
                use crate::store::access_tokens::{by_family_sql, by_session_sql, SessionStateRow, UserStateRow, BY_USER};
                static BY_FAMILY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| by_family_sql(SESSION_COLUMNS));
                static BY_SESSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| by_session_sql(SESSION_COLUMNS));
                let (sql, key) = match (lookup.family_id, lookup.session_id) {
                    (Some(family), _) => (BY_FAMILY.as_str(), family),
                    (None, Some(session)) => (BY_SESSION.as_str(), session),
                    (None, None) => {
                        let row: Option<UserStateRow> = sqlx::query_as(BY_USER)
                            .bind(lookup.user_id).bind(lookup.realm_id).bind(&lookup.jti[..])
                            .fetch_optional(&self.pool)
                            .await?;
                        return Ok(row.into());
                    }
                };
                let row: Option<SessionStateRow> =
                    sqlx::query_as(sql).bind(key).bind(lookup.realm_id).bind(&lookup.jti[..]).fetch_optional(&self.pool).await?;
                Ok(row.into())
            }

            async fn insert_events(&self, events: &[EventRecord]) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                for e in events {
                    sqlx::query(
                        "INSERT INTO events (id, realm_id, time, type, client_id, user_id, session_id, ip, error, details) \
                         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE EXISTS (SELECT 1 FROM realms WHERE id = $2)",
                    )
                    .bind(&e.id).bind(&e.realm_id).bind(e.time).bind(&e.kind).bind(&e.client_id)
                    .bind(&e.user_id).bind(&e.session_id).bind(&e.ip).bind(&e.error).bind(&e.details)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn list_events(&self, realm_id: &str, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
                // kinds travel as one JSON array string so both dialects filter with LIKE
                let kinds = if filter.kinds.is_empty() { String::new() } else { crate::store::common::to_json(&filter.kinds) };
                let rows: Vec<EventRow> = sqlx::query_as(
                    "SELECT id, realm_id, time, type, client_id, user_id, session_id, ip, error, details FROM events \
                     WHERE realm_id = $1 AND ($2 = '' OR $2 LIKE '%\"' || type || '\"%') \
                     AND (CAST($3 AS TEXT) IS NULL OR client_id = $3) AND (CAST($4 AS TEXT) IS NULL OR user_id = $4) \
                     AND time >= $5 AND time <= $6 ORDER BY time DESC, id LIMIT $7 OFFSET $8",
                )
                .bind(realm_id)
                .bind(kinds)
                .bind(&filter.client_id)
                .bind(&filter.user_id)
                .bind(filter.from.unwrap_or(0))
                .bind(filter.to.unwrap_or(i64::MAX))
                .bind(if filter.max > 0 { filter.max } else { 100 })
                .bind(filter.first.max(0))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(EventRecord::from).collect())
            }

            async fn delete_expired(&self, now: UnixTime, events_before: UnixTime, batch: i64) -> Result<u64, StoreError> {
                let mut deleted = 0;
                for statement in [
                    // the coarse bucket finds candidates by index; expires_at decides
                    "DELETE FROM user_sessions WHERE id IN (SELECT id FROM user_sessions WHERE cleanup_after < $1 AND expires_at < $1 LIMIT $2)",
                    "DELETE FROM auth_codes WHERE code_hash IN (SELECT code_hash FROM auth_codes WHERE expires_at < $1 LIMIT $2)",
                    "DELETE FROM revoked_access_tokens WHERE jti_hash IN (SELECT jti_hash FROM revoked_access_tokens WHERE expires_at < $1 LIMIT $2)",
                ] {
                    deleted += sqlx::query(statement).bind(now).bind(batch).execute(&self.pool).await?.rows_affected();
                }
                // sealed successors past their reuse interval: cleared, not counted (no row goes)
                sqlx::query(
                    "UPDATE token_families SET successor_sealed = NULL, reuse_until = NULL \
                     WHERE id IN (SELECT id FROM token_families WHERE successor_sealed IS NOT NULL AND reuse_until < $1 LIMIT $2)",
                )
                .bind(now)
                .bind(batch)
                .execute(&self.pool)
                .await?;
                deleted += sqlx::query("DELETE FROM admin_events WHERE id IN (SELECT id FROM admin_events WHERE time < $1 LIMIT $2)")
                    .bind(events_before)
                    .bind(batch)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                deleted += sqlx::query("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < $1 LIMIT $2)")
                    .bind(events_before)
                    .bind(batch)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(deleted)
            }
        }
    };
}

pub(crate) use impl_session_store;
