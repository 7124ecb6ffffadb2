// The SQL of `FamilyStore` (see `families.rs`), the same for both dialects. Not a module of its
// own: each backend includes this file in a child module that defines `Db` (its sqlx database),
// `Backend` (its store type), `LOCK` (its row-lock clause for the session select) and
// `ROLE_IDS_JSON` (its JSON-array aggregate), so it can use the backend's private `pool`,
// `begin_write`, `lock_session` and `rotate_in_one_statement` (Postgres' single-statement
// rotation; SQLite answers `Undecided` and every refresh takes the one transaction below).

use std::sync::LazyLock;

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::domain::User;
use crate::store::common_sessions::{SessionRow, SESSION_COLUMNS, TOUCH_SESSION};
use crate::store::families::{
    FamilyGeneration, FamilyStore, GenerationCheck, PresentedToken, RefreshTokenSession, ReplayedGrant,
    ReuseInterval, RotateOutcome, RotateRequest, RotatedGrant,
};
use crate::store::rotation::{self, OneStatement, RotationRead};
use crate::store::sessions::{TokenHash, UserSessionRecord};
use crate::store::users::UserSql;
use crate::store::StoreError;

type FamilyTx<'a> = sqlx::Transaction<'a, Db>;

static READ: LazyLock<String> =
    LazyLock::new(|| rotation::read_sql(SESSION_COLUMNS, LOCK, ROLE_IDS_JSON, <Db as UserSql>::ATTRIBUTES_OF_U));
static FAMILY_WRITE: LazyLock<String> = LazyLock::new(rotation::family_write_sql);

/// A presented shell resolved to its family: the generation it stands for and whether a further
/// use of it is allowed by its own record (always, except for pre-upgrade rows, see below).
struct Resolved {
    family_id: String,
    generation: i64,
    own_reuse_ok: bool,
}

/// A shell minted before families held constant state is found among the rows frozen at the
/// upgrade: unconsumed it is generation 0 of its family, consumed generation -1 (migration
/// 0011 / 0010 set the family to 0 and copied the current row's hash up). A consumed row may be
/// used again only within `refreshTokenMaxReuse` of its own count, as before the upgrade.
async fn resolve<'c, E>(executor: E, token: &PresentedToken, max_reuse: i64) -> Result<Option<Resolved>, StoreError>
where
    E: sqlx::Executor<'c, Database = Db>,
{
    if let Some(FamilyGeneration { family_id, generation }) = &token.generation {
        return Ok(Some(Resolved { family_id: family_id.clone(), generation: *generation, own_reuse_ok: true }));
    }
    let row: Option<(String, Option<i64>, i64)> =
        sqlx::query_as("SELECT family_id, consumed_at, reuse_count FROM legacy_refresh_tokens WHERE token_hash = $1")
            .bind(&token.hash[..])
            .fetch_optional(executor)
            .await?;
    Ok(row.map(|(family_id, consumed_at, reuse_count)| Resolved {
        family_id,
        generation: if consumed_at.is_none() { 0 } else { -1 },
        own_reuse_ok: consumed_at.is_none() || reuse_count <= max_reuse,
    }))
}

/// The grant a rotation read describes, its session touched at `now` with upper bound `expires_at`.
fn grant_of(read: RotationRead, generation: i64, touched: Option<(UnixTime, UnixTime)>) -> Result<RotatedGrant, StoreError> {
    let RotationRead { family, session, user, role_ids } = read;
    let mut session: UserSessionRecord = session.into();
    let mut client_session = family.client_session(session.id.clone());
    if let Some((now, expires_at)) = touched {
        session.last_access_at = now;
        session.expires_at = expires_at;
        client_session.last_access_at = now;
    }
    Ok(RotatedGrant {
        session,
        client_session,
        family_id: family.family_id,
        generation,
        scope: family.scope,
        user: User::from(user),
        role_ids: rotation::parse_role_ids(role_ids)?,
    })
}

impl Backend {
    async fn revoke_family(tx: &mut FamilyTx<'_>, family_id: &str, now: UnixTime) -> Result<(), StoreError> {
        sqlx::query("UPDATE token_families SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(now)
            .bind(family_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The general rotation: one transaction holding the session lock (on SQLite the writer,
    /// with `BEGIN IMMEDIATE`), one read, the decision in Rust, then one conditional write of
    /// the family and the two touches. On Postgres it runs when the single statement did not
    /// rotate (a reuse, a replay, a dead session, a pre-upgrade shell).
    async fn rotate_in_transaction(
        &self,
        request: &RotateRequest,
        interval: Option<&ReuseInterval>,
    ) -> Result<RotateOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(resolved) = resolve(&mut *tx, &request.presented, request.max_reuse).await? else {
            return Ok(RotateOutcome::Unknown);
        };
        let read: Option<RotationRead> = sqlx::query_as(READ.as_str()).bind(&resolved.family_id).fetch_optional(&mut *tx).await?;
        let Some(read) = read else { return Ok(RotateOutcome::Unknown) };
        if read.family.cs_client_id != request.client_id || read.session.realm_id != request.realm_id {
            return Ok(RotateOutcome::Unknown);
        }
        if read.family.revoked_at.is_some() {
            return Ok(RotateOutcome::FamilyRevoked);
        }
        let current = read.family.generation;
        let mut check = GenerationCheck::of(resolved.generation, current, read.family.reuse_count, request.rotate, request.max_reuse);
        if check == GenerationCheck::ExtraUse && !resolved.own_reuse_ok {
            check = GenerationCheck::Previous;
        }
        // Lost-response recovery: the successor recorded for the generation just before may
        // never have reached the client. Still unused (the family has not moved on) and young
        // enough: hand it out again. Anything else is a reuse.
        let mut replay = None;
        match check {
            GenerationCheck::Ahead => return Ok(RotateOutcome::Unknown),
            GenerationCheck::Previous => {
                let f = &read.family;
                if let (Some(interval), Some(hash), Some(sealed), Some(issued_at)) =
                    (interval, &f.current_hash, &f.successor_sealed, f.rotated_at)
                {
                    if let Ok(hash) = TokenHash::try_from(&hash[..]) {
                        if request.now < issued_at.saturating_add(interval.seconds) {
                            replay = Some((hash, sealed.clone(), issued_at));
                        }
                    }
                }
            }
            _ => {}
        }
        if matches!(check, GenerationCheck::Older) || (check == GenerationCheck::Previous && replay.is_none()) {
            let family_id = read.family.family_id;
            Self::revoke_family(&mut tx, &family_id, request.now).await?;
            tx.commit().await?;
            return Ok(RotateOutcome::ReuseDetected { family_id });
        }
        if !read.user.is_enabled() {
            return Ok(RotateOutcome::SessionInactive);
        }
        let session: UserSessionRecord = read.session.clone().into();
        let Some(expires_at) = request.timeouts.refresh(&session, &read.family.client_session(session.id.clone()), request.now) else {
            return Ok(RotateOutcome::SessionInactive);
        };
        let role_ids = rotation::parse_role_ids(read.role_ids.clone())?;
        if !request.permits(&role_ids) {
            return Ok(RotateOutcome::NotPermitted);
        }
        if let Some((successor_hash, successor_sealed, successor_issued_at)) = replay {
            tx.commit().await?;
            return Ok(RotateOutcome::Replayed(Box::new(ReplayedGrant {
                grant: grant_of(read, current, None)?,
                successor_hash,
                successor_sealed,
                successor_issued_at,
            })));
        }
        let write = sqlx::query_scalar(FAMILY_WRITE.as_str());
        let generation: Option<i64> =
            rotation::bind_family_move!(write, &read.family.family_id, resolved.generation, request, interval)
                .fetch_optional(&mut *tx)
                .await?;
        // Under the session lock only a code replay (which revokes without it) can intervene.
        let Some(generation) = generation else { return Ok(RotateOutcome::FamilyRevoked) };
        sqlx::query(TOUCH_SESSION.as_str()).bind(request.now).bind(expires_at).bind(&session.id).execute(&mut *tx).await?;
        sqlx::query("UPDATE client_sessions SET last_access_at = $1 WHERE id = $2")
            .bind(request.now)
            .bind(&read.family.cs_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(RotateOutcome::Rotated(Box::new(grant_of(read, generation, Some((request.now, expires_at)))?)))
    }
}

#[async_trait]
impl FamilyStore for Backend {
    async fn rotate_refresh_token_within(
        &self,
        request: &RotateRequest,
        interval: Option<&ReuseInterval>,
    ) -> Result<RotateOutcome, StoreError> {
        match self.rotate_in_one_statement(request, interval).await? {
            OneStatement::NoFamily => Ok(RotateOutcome::Unknown),
            OneStatement::Rotated { read, new_expires, generation } => {
                self.single_statement_rotations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(RotateOutcome::Rotated(Box::new(grant_of(*read, generation, Some((request.now, new_expires)))?)))
            }
            OneStatement::Undecided => self.rotate_in_transaction(request, interval).await,
        }
    }

    async fn revoke_refresh_family(
        &self,
        realm_id: &str,
        client_id: &str,
        token: &PresentedToken,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(resolved) = resolve(&mut *tx, token, 0).await? else { return Ok(false) };
        let found: Option<(String, String, bool, String)> = sqlx::query_as(
            "SELECT cs.client_id, s.id, s.offline, s.realm_id FROM token_families f \
             JOIN client_sessions cs ON cs.id = f.client_session_id \
             JOIN user_sessions s ON s.id = cs.user_session_id WHERE f.id = $1",
        )
        .bind(&resolved.family_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((owner, session_id, offline, realm)) = found else { return Ok(false) };
        if owner != client_id || realm != realm_id {
            return Ok(false);
        }
        if Self::lock_session(&mut tx, &session_id).await?.is_none() {
            return Ok(false);
        }
        if offline {
            sqlx::query("DELETE FROM user_sessions WHERE id = $1").bind(&session_id).execute(&mut *tx).await?;
        } else {
            Self::revoke_family(&mut tx, &resolved.family_id, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn session_of_refresh_token(
        &self,
        token: &PresentedToken,
        max_reuse: Option<i64>,
    ) -> Result<Option<RefreshTokenSession>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            session: SessionRow,
            user_enabled: bool,
            generation: i64,
            reuse_count: i64,
        }
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {SESSION_COLUMNS}, u.enabled AS user_enabled, f.generation, f.reuse_count FROM token_families f \
                 JOIN client_sessions cs ON cs.id = f.client_session_id \
                 JOIN user_sessions s ON s.id = cs.user_session_id \
                 JOIN users u ON u.id = s.user_id \
                 WHERE f.id = $1 AND f.revoked_at IS NULL"
            )
        });
        let Some(resolved) = resolve(&self.pool, token, max_reuse.unwrap_or(0)).await? else { return Ok(None) };
        let row: Option<Row> = sqlx::query_as(SQL.as_str()).bind(&resolved.family_id).fetch_optional(&self.pool).await?;
        Ok(row
            .filter(|r| {
                let check = GenerationCheck::of(
                    resolved.generation,
                    r.generation,
                    r.reuse_count,
                    max_reuse.is_some(),
                    max_reuse.unwrap_or(0),
                );
                check.is_live() && (check != GenerationCheck::ExtraUse || resolved.own_reuse_ok)
            })
            .map(|r| RefreshTokenSession { session: r.session.into(), user_enabled: r.user_enabled }))
    }
}
