//! The SQL of a refresh (DESIGN.md §4, issue 16): what a rotation reads of a family, the one
//! conditional write that moves a family on (no row is ever inserted per refresh), and, for
//! Postgres, the whole rotation as a single statement, so the common refresh costs one round
//! trip. `families_sql.rs` runs these; the decisions they encode are `GenerationCheck`'s.

use crate::domain::User;

use super::common_sessions::SessionRow;
use super::sessions::ClientSessionRecord;

/// The family, client session, session, user and role columns a rotation reads, for the family
/// `$1`. `{role_ids}` is the backend's JSON-array aggregate of `m.role_id` (role ids are free
/// text on import, so no separator is safe); `{attributes}` its aggregate of the user's
/// attributes (`store::users::UserSql`), so token mappers need no second read.
fn read_columns(session_columns: &str, role_ids: &str, attributes: &str) -> String {
    let mapped = super::groups::mapped_role_ids_with_repeats_sql("u.id");
    format!(
        "f.id AS family_id, f.generation, f.reuse_count, f.current_hash, f.successor_sealed, f.rotated_at, \
         f.revoked_at, f.scope, cs.id AS cs_id, cs.client_id AS cs_client_id, cs.started_at AS cs_started_at, \
         cs.last_access_at AS cs_last_access_at, {session_columns}, \
         u.id AS u_id, u.realm_id AS u_realm_id, u.username AS u_username, u.email AS u_email, \
         u.first_name AS u_first_name, u.last_name AS u_last_name, u.enabled AS u_enabled, \
         u.email_verified AS u_email_verified, u.service_account_client_id AS u_service_account_client_id, \
         u.created_at AS u_created_at, u.required_actions AS u_required_actions, {attributes} AS u_attributes, \
         (SELECT {role_ids} FROM ({mapped}) m) AS role_ids"
    )
}

const FAMILY_JOINS: &str = "FROM token_families f \
     JOIN client_sessions cs ON cs.id = f.client_session_id \
     JOIN user_sessions s ON s.id = cs.user_session_id \
     JOIN users u ON u.id = s.user_id";

/// The general path's read of family `$1`, taking the session lock (`{lock}`: the backend's
/// row-lock clause; lock order everywhere: user session first).
pub(crate) fn read_sql(session_columns: &str, lock: &str, role_ids: &str, attributes: &str) -> String {
    format!("SELECT {} {FAMILY_JOINS} WHERE f.id = $1 {lock}", read_columns(session_columns, role_ids, attributes))
}

/// How the family row moves, given $2 the presented generation, $3 whether the realm rotates,
/// $5 the successor's hash, $6 now, $7 its sealed jti and $8 the end of its reuse interval
/// (both NULL: record none). Rotating, the first use of the current generation advances it
/// (records the successor, resets the reuse count); a further use of the generation before
/// counts one reuse. Not rotating, the newest hash is recorded and the generation stays.
const FAMILY_SET: &str = "generation = CASE WHEN $3 AND f.generation = $2 THEN f.generation + 1 ELSE f.generation END, \
     reuse_count = CASE WHEN $3 AND f.generation = $2 THEN 0 WHEN $3 THEN f.reuse_count + 1 ELSE f.reuse_count END, \
     current_hash = CASE WHEN $3 AND f.generation <> $2 THEN f.current_hash ELSE $5 END, \
     rotated_at = CASE WHEN $3 AND f.generation <> $2 THEN f.rotated_at ELSE $6 END, \
     successor_sealed = CASE WHEN $3 AND f.generation = $2 THEN $7 ELSE f.successor_sealed END, \
     reuse_until = CASE WHEN $3 AND f.generation = $2 THEN $8 ELSE f.reuse_until END";

/// When the family may move (`GenerationCheck`'s Advance, ExtraUse and Keep; $4 max reuse). It
/// is the condition of the write itself, so of concurrent refreshes of one generation the
/// database lets exactly `max_reuse + 1` through, and none once the family is revoked.
const FAMILY_MAY_MOVE: &str = "f.revoked_at IS NULL AND (CASE WHEN $3 THEN \
     (f.generation = $2 OR (f.generation = $2 + 1 AND f.reuse_count < $4)) ELSE f.generation >= $2 END)";

/// The general path's family write: $1 the family, then as `FAMILY_SET` and `FAMILY_MAY_MOVE`.
/// Yields the generation the successor carries; no row when the family may not move.
pub(crate) fn family_write_sql() -> String {
    format!("UPDATE token_families AS f SET {FAMILY_SET} WHERE f.id = $1 AND {FAMILY_MAY_MOVE} RETURNING generation")
}

/// A session's cleanup bound when a touch makes `{expires}` its upper bound: kept while the new
/// bound stays below it, else an hour past the new bound, so it moves at most once an hour and
/// most touches leave the indexed column (and on Postgres the heap-only update) alone. Never
/// below `expires_at`, so cleanup never deletes a live session.
pub(crate) fn cleanup_bucket(expires: &str) -> String {
    format!("CASE WHEN {expires} > cleanup_after THEN {expires} + {CLEANUP_SLACK} ELSE cleanup_after END")
}

/// How far past its upper bound a touched session's cleanup bound is set (seconds).
const CLEANUP_SLACK: i64 = 3600;

/// A refresh's touch of the user session: $1 now, $2 its new upper bound, $3 its id.
pub(crate) fn touch_session_sql() -> String {
    format!("UPDATE user_sessions SET last_access_at = $1, expires_at = $2, cleanup_after = {} WHERE id = $3", cleanup_bucket("$2"))
}

/// The session checks of a single-statement rotation, over `s` (the user session) and `cs` (the
/// client session): whether the session is alive at $6, decided from `TimeoutTable` ($12-$21)
/// exactly as `session::deadline` does, and the session's new upper bound after a touch at $6.
/// A timeout that is not set is NULL and bounds nothing: Postgres' `LEAST` skips NULLs, SQLite's
/// `MIN` does not, so there each bound is read as "never" when NULL.
struct SessionChecks {
    alive: String,
    new_expires: String,
}

impl SessionChecks {
    fn postgres() -> Self {
        Self::new(|bounds| format!("LEAST({})", bounds.join(", ")))
    }

    fn sqlite() -> Self {
        Self::new(|bounds| {
            let never: Vec<String> = bounds.iter().map(|b| format!("COALESCE({b}, {})", i64::MAX)).collect();
            format!("MIN({})", never.join(", "))
        })
    }

    fn new(least: impl Fn(&[&str]) -> String) -> Self {
        let idle = "CASE WHEN s.offline THEN $16 WHEN s.remember_me THEN $14 ELSE $12 END";
        let max = "CASE WHEN s.offline THEN $17 WHEN s.remember_me THEN $15 ELSE $13 END";
        let client_idle = "CASE WHEN s.offline THEN $20 ELSE $18 END";
        let client_max = "CASE WHEN s.offline THEN $21 ELSE $19 END";
        let (session_idle, session_max) = (format!("s.last_access_at + {idle}"), format!("s.started_at + {max}"));
        let (client_idle, client_max) = (format!("cs.last_access_at + {client_idle}"), format!("cs.started_at + {client_max}"));
        Self {
            alive: format!("$6 < {}", least(&[&session_idle, &session_max, &client_idle, &client_max])),
            new_expires: least(&[&format!("$6 + {idle}"), &session_max]),
        }
    }
}

/// Postgres: the whole rotation of a shell that names its family, in one statement. The `r`
/// read locks the user session first (lock order as everywhere) and decides liveness in SQL
/// (`SessionChecks`); `fam` moves the family only when every check passes, and both touches
/// follow it. Its snapshot may be older than the lock:
/// the family's conditions are re-checked on the newest row version by the update itself, and
/// a family revoked or deleted meanwhile is not moved. The statement returns the read and the
/// successor's generation, NULL when nothing was written (the caller then decides on the general
/// path). $9 realm id, $10 client id, $11 the role ids an offline grant requires (NULL: none).
///
/// `offline`: whether the statement checks $11 against the user's roles. Postgres sets up every
/// node of a plan on each execution, even a subquery it then skips, and that check is 12 of the
/// generic plan's 53 nodes, so online refreshes run a statement without it; there a non-NULL
/// $11 moves nothing (the general path decides).
pub(crate) fn postgres_rotation_sql(session_columns: &str, role_ids: &str, attributes: &str, offline: bool) -> String {
    let permitted = if offline {
        let mapped = super::groups::mapped_role_ids_with_repeats_sql("u.id");
        format!("($11::text[] IS NULL OR EXISTS (SELECT 1 FROM ({mapped}) m WHERE m.role_id = ANY($11::text[])))")
    } else {
        "$11::text[] IS NULL".to_string()
    };
    let SessionChecks { alive, new_expires } = SessionChecks::postgres();
    format!(
        "WITH r AS (SELECT {columns}, {alive} AS alive, {new_expires} AS new_expires, {permitted} AS permitted \
           {FAMILY_JOINS} WHERE f.id = $1 FOR UPDATE OF s), \
         fam AS (UPDATE token_families f SET {FAMILY_SET} FROM r WHERE f.id = r.family_id \
           AND r.cs_client_id = $10 AND r.realm_id = $9 AND r.u_enabled AND r.alive AND r.permitted AND {FAMILY_MAY_MOVE} \
           RETURNING f.generation), \
         session_touch AS (UPDATE user_sessions s SET last_access_at = $6, expires_at = r.new_expires, \
           cleanup_after = {bucket} FROM r WHERE s.id = r.id AND EXISTS (SELECT 1 FROM fam)), \
         client_touch AS (UPDATE client_sessions c SET last_access_at = $6 FROM r WHERE c.id = r.cs_id AND EXISTS (SELECT 1 FROM fam)) \
         SELECT r.*, (SELECT generation FROM fam) AS rotated_generation FROM r",
        columns = read_columns(session_columns, role_ids, attributes),
        bucket = cleanup_bucket("r.new_expires"),
    )
}

/// SQLite: the same rotation as `postgres_rotation_sql`, with the same parameters ($11 a JSON
/// array), as a script (SQLite has no data-modifying CTEs) that the writer connection's thread
/// runs in one call: `BEGIN IMMEDIATE`, three writes, then the read; the caller commits
/// (`sqlite_rotations`: only when the request still waits) or rolls back.
/// The family moves only when every check passes; each touch runs only when the statement
/// before it changed its row (`changes()` is the count of the last completed write), so the
/// read's `moved` is 1 exactly when all three wrote. The read follows the writes (it shows the
/// family's new generation) and comes last, since sqlx stops running a script once it has the
/// one row it was asked for.
pub(crate) fn sqlite_rotation_sql(session_columns: &str, role_ids: &str, attributes: &str) -> String {
    let mapped = super::groups::mapped_role_ids_with_repeats_sql("u.id");
    let SessionChecks { alive, new_expires } = SessionChecks::sqlite();
    let session_of_family = "SELECT cs.user_session_id FROM token_families tf JOIN client_sessions cs ON cs.id = tf.client_session_id WHERE tf.id = $1";
    format!(
        "BEGIN IMMEDIATE; \
         UPDATE token_families AS f SET {FAMILY_SET} WHERE f.id = $1 AND {FAMILY_MAY_MOVE} AND EXISTS (SELECT 1 \
           FROM client_sessions cs JOIN user_sessions s ON s.id = cs.user_session_id JOIN users u ON u.id = s.user_id \
           WHERE cs.id = f.client_session_id AND cs.client_id = $10 AND s.realm_id = $9 AND u.enabled AND {alive} \
           AND ($11 IS NULL OR EXISTS (SELECT 1 FROM ({mapped}) m WHERE m.role_id IN (SELECT value FROM json_each($11))))); \
         UPDATE user_sessions AS s SET last_access_at = $6, expires_at = {new_expires}, cleanup_after = {bucket} \
           WHERE changes() = 1 AND s.id = ({session_of_family}); \
         UPDATE client_sessions SET last_access_at = $6 \
           WHERE changes() = 1 AND id = (SELECT client_session_id FROM token_families WHERE id = $1); \
         SELECT {columns}, changes() AS moved {FAMILY_JOINS} WHERE f.id = $1",
        columns = read_columns(session_columns, role_ids, attributes),
        bucket = cleanup_bucket(&new_expires),
    )
}

/// Binds $1-$8 of a family move (`family_write_sql`, and the single-statement rotations):
/// the family, the presented generation, then as `FAMILY_SET` and `FAMILY_MAY_MOVE`.
macro_rules! bind_family_move {
    ($query:expr, $family_id:expr, $generation:expr, $request:expr, $interval:expr) => {{
        let request: &crate::store::families::RotateRequest = $request;
        let recorded = $interval.filter(|_| request.rotate);
        $query
            .bind($family_id)
            .bind($generation)
            .bind(request.rotate)
            .bind(request.max_reuse)
            .bind(&request.successor[..])
            .bind(request.now)
            .bind(recorded.map(|i| &i.successor_sealed[..]))
            .bind(recorded.map(|i| request.now.saturating_add(i.seconds)))
    }};
}
pub(crate) use bind_family_move;

/// Binds the parameters of a single-statement rotation (`postgres_rotation_sql`,
/// `sqlite_rotation_sql`) to `$query`: $1-$10 and $12-$21 from the request, `$roles` as $11
/// in the backend's form (a text array on Postgres, a JSON array on SQLite).
macro_rules! bind_rotation {
    ($query:expr, $request:expr, $presented:expr, $interval:expr, $roles:expr) => {{
        let request: &crate::store::families::RotateRequest = $request;
        let t = &request.timeouts;
        crate::store::rotation::bind_family_move!($query, &$presented.family_id, $presented.generation, request, $interval)
            .bind(&request.realm_id)
            .bind(&request.client_id)
            .bind($roles)
            .bind(t.sso.0)
            .bind(t.sso.1)
            .bind(t.sso_remember_me.0)
            .bind(t.sso_remember_me.1)
            .bind(t.offline.0)
            .bind(t.offline.1)
            .bind(t.client.0)
            .bind(t.client.1)
            .bind(t.client_offline.0)
            .bind(t.client_offline.1)
    }};
}
pub(crate) use bind_rotation;

/// What a rotation reads of its family and client session.
#[derive(sqlx::FromRow)]
pub(crate) struct FamilyRow {
    pub family_id: String,
    pub generation: i64,
    pub reuse_count: i64,
    pub current_hash: Option<Vec<u8>>,
    pub successor_sealed: Option<Vec<u8>>,
    pub rotated_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub scope: String,
    pub cs_id: String,
    pub cs_client_id: String,
    pub cs_started_at: i64,
    pub cs_last_access_at: i64,
}

impl FamilyRow {
    pub fn client_session(&self, user_session_id: String) -> ClientSessionRecord {
        ClientSessionRecord {
            id: self.cs_id.clone(),
            user_session_id,
            client_id: self.cs_client_id.clone(),
            started_at: self.cs_started_at,
            last_access_at: self.cs_last_access_at,
        }
    }
}

/// What `read_sql` returns.
#[derive(sqlx::FromRow)]
pub(crate) struct RotationRead {
    #[sqlx(flatten)]
    pub family: FamilyRow,
    #[sqlx(flatten)]
    pub session: SessionRow,
    #[sqlx(flatten)]
    pub user: RotationUserRow,
    /// JSON array of role ids (NULL on Postgres when the user has none).
    pub role_ids: Option<String>,
}

/// What `postgres_rotation_sql` returns.
#[derive(sqlx::FromRow)]
pub(crate) struct PostgresRotation {
    #[sqlx(flatten)]
    pub read: RotationRead,
    pub new_expires: i64,
    pub rotated_generation: Option<i64>,
}

/// What `sqlite_rotation_sql` returns: the read after the writes, and whether they all ran.
#[derive(sqlx::FromRow)]
pub(crate) struct SqliteRotation {
    #[sqlx(flatten)]
    pub read: RotationRead,
    pub moved: i64,
}

/// What a backend's single-statement rotation found (`rotate_in_one_statement`).
pub(crate) enum OneStatement {
    /// The family the shell names is gone (its session ended), or never existed.
    NoFamily,
    /// Rotated: the read, the session's new upper bound and the successor's generation.
    Rotated { read: Box<RotationRead>, new_expires: i64, generation: i64 },
    /// Nothing written: the general path decides.
    Undecided,
}

/// The role ids of the aggregate.
pub(crate) fn parse_role_ids(json: Option<String>) -> Result<Vec<String>, super::StoreError> {
    match json {
        None => Ok(Vec::new()),
        Some(json) => serde_json::from_str(&json).map_err(|e| super::StoreError::Corrupt(format!("role ids: {e}"))),
    }
}

/// The user's columns under the `u_` aliases of the read.
#[derive(sqlx::FromRow)]
pub(crate) struct RotationUserRow {
    u_id: String,
    u_realm_id: String,
    u_username: String,
    u_email: Option<String>,
    u_first_name: Option<String>,
    u_last_name: Option<String>,
    u_enabled: bool,
    u_email_verified: bool,
    u_service_account_client_id: Option<String>,
    u_created_at: i64,
    u_required_actions: String,
    u_attributes: Option<String>,
}

impl RotationUserRow {
    pub fn is_enabled(&self) -> bool {
        self.u_enabled
    }
}

impl From<RotationUserRow> for User {
    fn from(r: RotationUserRow) -> Self {
        User {
            id: r.u_id,
            realm_id: r.u_realm_id,
            username: r.u_username,
            email: r.u_email,
            first_name: r.u_first_name,
            last_name: r.u_last_name,
            enabled: r.u_enabled,
            email_verified: r.u_email_verified,
            service_account_client_id: r.u_service_account_client_id,
            created_at: r.u_created_at,
            required_actions: super::common::string_list(&r.u_required_actions),
            attributes: super::users::parse_attributes(r.u_attributes.as_deref()),
        }
    }
}
