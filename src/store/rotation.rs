//! The refresh hot path's SQL (DESIGN.md §4): one statement reads everything a rotation needs
//! while taking the session lock, and one write (a single CTE statement on Postgres, a few
//! in-process statements on SQLite) consumes the token, stores the successor and touches both
//! sessions. The slower, general rotation code in `common_sessions` handles what is left: reuse,
//! lost-response replay, and a read made stale by a concurrent commit.

use crate::domain::User;

use super::common_sessions::RotationRow;

/// The fast read: the rotation row, the user and the user's role ids (direct and through
/// groups, `groups::mapped_role_ids_sql`), in one statement.
/// `{lock}` is the backend's row-lock clause; `{role_ids}` its JSON-array aggregate of
/// `m.role_id` (role ids are free text on import, so no separator is safe); `{attributes}` its
/// aggregate of the user's attributes (`store::users::UserSql`), so token mappers need no second read.
pub(crate) fn read_sql(session_columns: &str, lock: &str, role_ids: &str, attributes: &str) -> String {
    let mapped = super::groups::mapped_role_ids_sql("u.id");
    format!(
        "SELECT t.reuse_count, t.successor_hash, t.successor_sealed, f.id AS family_id, f.revoked_at, \
         f.scope, cs.id AS cs_id, cs.client_id AS cs_client_id, cs.started_at AS cs_started_at, \
         cs.last_access_at AS cs_last_access_at, {session_columns}, \
         u.id AS u_id, u.realm_id AS u_realm_id, u.username AS u_username, u.email AS u_email, \
         u.first_name AS u_first_name, u.last_name AS u_last_name, u.enabled AS u_enabled, \
         u.email_verified AS u_email_verified, u.service_account_client_id AS u_service_account_client_id, \
         u.created_at AS u_created_at, u.required_actions AS u_required_actions, {attributes} AS u_attributes, \
         (SELECT {role_ids} FROM ({mapped}) m) AS role_ids \
         FROM refresh_tokens t \
         JOIN token_families f ON f.id = t.family_id \
         JOIN client_sessions cs ON cs.id = f.client_session_id \
         JOIN user_sessions s ON s.id = cs.user_session_id \
         JOIN users u ON u.id = s.user_id \
         WHERE t.token_hash = $1 {lock}"
    )
}

/// Consumes the presented token when it may still be used and its family is not revoked;
/// yields its family. $1 now, $2 presented hash, $3 max reuse, $4 successor hash to record with
/// $5 its sealed jti and $6 the end of its reuse interval (all three NULL: record nothing).
pub(crate) const CONSUME: &str = "UPDATE refresh_tokens SET reuse_count = reuse_count + 1, \
     consumed_at = COALESCE(consumed_at, $1), successor_hash = COALESCE($4, successor_hash), \
     successor_sealed = COALESCE($5, successor_sealed), reuse_until = COALESCE($6, reuse_until) \
     WHERE token_hash = $2 AND reuse_count <= $3 \
     AND NOT EXISTS (SELECT 1 FROM token_families f WHERE f.id = refresh_tokens.family_id AND f.revoked_at IS NOT NULL) \
     RETURNING family_id";

/// For realms that do not rotate (`revokeRefreshToken` off) the token stays valid: this only
/// finds its family, when that is not revoked. $1 presented hash.
pub(crate) const FIND_UNREVOKED: &str = "SELECT t.family_id FROM refresh_tokens t WHERE t.token_hash = $1 \
     AND NOT EXISTS (SELECT 1 FROM token_families f WHERE f.id = t.family_id AND f.revoked_at IS NOT NULL)";

/// What the fast read returns.
#[derive(sqlx::FromRow)]
pub(crate) struct RotationRead {
    #[sqlx(flatten)]
    pub row: RotationRow,
    #[sqlx(flatten)]
    pub user: RotationUserRow,
    /// JSON array of role ids (NULL on Postgres when the user has none).
    pub role_ids: Option<String>,
}

/// The role ids of the fast read's aggregate; `None` (take the general path) when it is not a
/// JSON array of strings.
pub(crate) fn parse_role_ids(json: Option<String>) -> Option<Vec<String>> {
    match json {
        None => Some(Vec::new()),
        Some(json) => serde_json::from_str(&json).ok(),
    }
}

/// The user's columns under the `u_` aliases of the fast read.
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

/// The write of a rotation decided on the fast read. Every statement is conditional on the
/// token still being consumable (or, without rotation, its family unrevoked), so a read made
/// stale by a commit that landed while this transaction waited for the session lock writes
/// nothing and reports `false`.
pub(crate) struct RotationWrite<'a> {
    pub now: i64,
    pub presented: &'a [u8],
    pub max_reuse: i64,
    pub rotate: bool,
    /// With a reuse interval: the successor's sealed jti and how long it may be replayed.
    pub recorded: Option<(&'a [u8], i64)>,
    pub successor: &'a [u8],
    pub session_expires_at: i64,
    pub session_id: &'a str,
    pub client_session_id: &'a str,
}

impl RotationWrite<'_> {
    /// `recorded` spread into `CONSUME`'s $4, $5 and $6.
    pub fn recorded_columns(&self) -> (Option<&[u8]>, Option<&[u8]>, Option<i64>) {
        match self.recorded {
            Some((sealed, until)) => (Some(self.successor), Some(sealed), Some(until)),
            None => (None, None, None),
        }
    }
}
