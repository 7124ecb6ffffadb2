//! What an access token's liveness depends on, read in one statement (introspection, userinfo
//! and the admin API check every token): the grant (refresh-token family) it came from, that
//! grant's session, the user, and whether its own `jti` was revoked. A token knows its grant by
//! its `fam` claim; older tokens and tokens of no grant are found by session or by user.

use super::common_sessions::SessionRow;
use super::sessions::{TokenHash, UserSessionRecord};

/// Which token to look up: the ids its claims carry.
#[derive(Debug, Clone, Copy)]
pub struct AccessTokenLookup<'a> {
    pub realm_id: &'a str,
    /// `fam`: the grant; its session is the one that counts.
    pub family_id: Option<&'a str>,
    /// `sid`, for tokens without `fam` (issued before grants were named in tokens).
    pub session_id: Option<&'a str>,
    /// `sub`.
    pub user_id: &'a str,
    pub jti: &'a TokenHash,
}

/// What the store found. A missing grant, session or user reads as ended / disabled.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessTokenState {
    /// The grant's (or `sid`'s) session; `None` when the token names one that is gone.
    pub session: Option<UserSessionRecord>,
    /// The grant was revoked (RFC 7009 revocation, refresh-token reuse, a replayed code).
    pub family_revoked: bool,
    /// This very token was revoked (RFC 7009 on the access token).
    pub jti_revoked: bool,
    /// The user exists in the realm and is enabled.
    pub user_enabled: bool,
}

/// By grant: $1 family id, $2 realm id, $3 jti hash.
pub(crate) fn by_family_sql(session_columns: &str) -> String {
    format!(
        "SELECT {session_columns}, f.revoked_at IS NOT NULL AS family_revoked, u.enabled AS user_enabled, \
         EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti_hash = $3) AS jti_revoked \
         FROM token_families f JOIN client_sessions cs ON cs.id = f.client_session_id \
         JOIN user_sessions s ON s.id = cs.user_session_id JOIN users u ON u.id = s.user_id \
         WHERE f.id = $1 AND s.realm_id = $2"
    )
}

/// By session: $1 session id, $2 realm id, $3 jti hash.
pub(crate) fn by_session_sql(session_columns: &str) -> String {
    format!(
        "SELECT {session_columns}, FALSE AS family_revoked, u.enabled AS user_enabled, \
         EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti_hash = $3) AS jti_revoked \
         FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.realm_id = $2"
    )
}

/// By user alone (a token of no session): $1 user id, $2 realm id, $3 jti hash.
pub(crate) const BY_USER: &str = "SELECT u.enabled AS user_enabled, \
     EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti_hash = $3) AS jti_revoked \
     FROM users u WHERE u.id = $1 AND u.realm_id = $2";

/// A row of `by_family_sql` or `by_session_sql`.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionStateRow {
    #[sqlx(flatten)]
    pub session: SessionRow,
    pub family_revoked: bool,
    pub user_enabled: bool,
    pub jti_revoked: bool,
}

impl From<Option<SessionStateRow>> for AccessTokenState {
    fn from(row: Option<SessionStateRow>) -> Self {
        match row {
            Some(r) => AccessTokenState {
                session: Some(r.session.into()),
                family_revoked: r.family_revoked,
                jti_revoked: r.jti_revoked,
                user_enabled: r.user_enabled,
            },
            None => AccessTokenState { session: None, family_revoked: false, jti_revoked: false, user_enabled: false },
        }
    }
}

/// A row of `BY_USER`.
#[derive(sqlx::FromRow)]
pub(crate) struct UserStateRow {
    pub user_enabled: bool,
    pub jti_revoked: bool,
}

impl From<Option<UserStateRow>> for AccessTokenState {
    fn from(row: Option<UserStateRow>) -> Self {
        let (user_enabled, jti_revoked) = row.map_or((false, false), |r| (r.user_enabled, r.jti_revoked));
        AccessTokenState { session: None, family_revoked: false, jti_revoked, user_enabled }
    }
}
