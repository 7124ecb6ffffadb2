//! The rows session SQL reads (user sessions, client sessions, events) and their conversion to
//! the store's records, shared by `common_sessions`, the families and the admin SQL.

use super::sessions::{ClientSessionRecord, EventRecord, UserSessionRecord};

#[derive(sqlx::FromRow, Clone)]
pub(crate) struct SessionRow {
    pub id: String,
    pub realm_id: String,
    pub user_id: String,
    pub offline: bool,
    pub started_at: i64,
    pub last_access_at: i64,
    pub auth_time: i64,
    pub remember_me: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub expires_at: i64,
    pub browser_session_id: Option<String>,
}

impl From<SessionRow> for UserSessionRecord {
    fn from(r: SessionRow) -> Self {
        UserSessionRecord {
            id: r.id,
            realm_id: r.realm_id,
            user_id: r.user_id,
            offline: r.offline,
            started_at: r.started_at,
            last_access_at: r.last_access_at,
            auth_time: r.auth_time,
            remember_me: r.remember_me,
            ip: r.ip,
            user_agent: r.user_agent,
            expires_at: r.expires_at,
            browser_session_id: r.browser_session_id,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClientSessionRow {
    pub id: String,
    pub user_session_id: String,
    pub client_id: String,
    pub started_at: i64,
    pub last_access_at: i64,
}

impl From<ClientSessionRow> for ClientSessionRecord {
    fn from(r: ClientSessionRow) -> Self {
        ClientSessionRecord {
            id: r.id,
            user_session_id: r.user_session_id,
            client_id: r.client_id,
            started_at: r.started_at,
            last_access_at: r.last_access_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub id: String,
    pub realm_id: String,
    pub time: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub ip: Option<String>,
    pub error: Option<String>,
    pub details: Option<String>,
}

impl From<EventRow> for EventRecord {
    fn from(r: EventRow) -> Self {
        EventRecord {
            id: r.id,
            realm_id: r.realm_id,
            time: r.time,
            kind: r.kind,
            client_id: r.client_id,
            user_id: r.user_id,
            session_id: r.session_id,
            ip: r.ip,
            error: r.error,
            details: r.details,
        }
    }
}

