//! The session and token part of the storage interface: user, client and offline sessions, the
//! start of a grant (the rotation of its refresh-token family is `families`), authorization codes,
//! revoked access tokens and events. The contracts here are where DESIGN.md §2's race rules are kept: every operation that
//! can mint or end a token locks the user-session row first, so they serialise per session.

use async_trait::async_trait;

use super::access_tokens::{AccessTokenLookup, AccessTokenState};
use super::StoreError;
use crate::clock::UnixTime;

/// SHA-256 of a token's jti or of a code: the only form a token reaches the database in.
pub type TokenHash = [u8; 32];

#[derive(Debug, Clone, PartialEq)]
pub struct UserSessionRecord {
    pub id: String,
    pub realm_id: String,
    pub user_id: String,
    pub offline: bool,
    pub started_at: UnixTime,
    pub last_access_at: UnixTime,
    pub auth_time: UnixTime,
    pub remember_me: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Upper bound of the session's life, for cleanup only; liveness is computed from the
    /// timestamps at read time.
    pub expires_at: UnixTime,
    /// For an offline session created from a browser login: that browser (SSO) session's id,
    /// which its tokens carry as `sid` (Keycloak keys the offline session by it).
    pub browser_session_id: Option<String>,
}

impl UserSessionRecord {
    /// The id tokens name this session by (`sid`, `session_state`): the browser session's for an
    /// offline session born from one, else its own. Admin and storage calls use `id`.
    pub fn sid(&self) -> &str {
        self.browser_session_id.as_deref().unwrap_or(&self.id)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientSessionRecord {
    pub id: String,
    pub user_session_id: String,
    /// The client's internal id.
    pub client_id: String,
    pub started_at: UnixTime,
    pub last_access_at: UnixTime,
}

/// A new grant: a new token family in a (new or existing) user session, with its first refresh
/// token when one is issued.
#[derive(Debug, Clone)]
pub struct NewGrant {
    /// `Some` creates this session; `None` joins `existing_session_id`.
    pub new_session: Option<UserSessionRecord>,
    /// Joining counts as an access: the session's last access moves to `now` and its cleanup
    /// bound to `joined_expires_at`.
    pub existing_session_id: Option<String>,
    pub joined_expires_at: UnixTime,
    pub client_id: String,
    pub family_id: String,
    pub scope: String,
    pub now: UnixTime,
    /// The jti hash of the family's first refresh shell (generation `FIRST_GENERATION`).
    pub refresh_hash: Option<TokenHash>,
    /// The code this grant was exchanged from: it records the family and access token.
    pub from_code: Option<(TokenHash, TokenHash, UnixTime)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StartedGrant {
    pub session: UserSessionRecord,
    pub client_session: ClientSessionRecord,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuthCodeRecord {
    pub code_hash: TokenHash,
    pub realm_id: String,
    pub client_id: String,
    pub user_session_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    /// The DPoP key thumbprint the authorization request named (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CodeOutcome {
    /// First use: the code is now consumed.
    Fresh(AuthCodeRecord),
    /// Used before: the family and access token issued from it were revoked now.
    Replayed,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventRecord {
    pub id: String,
    pub realm_id: String,
    pub time: UnixTime,
    pub kind: String,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub ip: Option<String>,
    pub error: Option<String>,
    pub details: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub kinds: Vec<String>,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub from: Option<UnixTime>,
    pub to: Option<UnixTime>,
    pub first: i64,
    pub max: i64,
}

/// A user session with the internal ids of the clients that joined it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionWithClients {
    pub session: UserSessionRecord,
    pub client_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsentRecord {
    pub user_id: String,
    pub client_id: String,
    pub scope: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// Brute-force detection state of one user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoginFailureRecord {
    pub failures: i64,
    pub last_failure_at: UnixTime,
    pub locked_until: Option<UnixTime>,
    pub locked_forever: bool,
}

#[async_trait]
pub trait SessionStore {
    /// Creates a user session with no client session yet (a browser login).
    async fn create_user_session(&self, session: &UserSessionRecord) -> Result<(), StoreError>;

    /// Moves the session's last access to `now` and its cleanup bound to `expires_at`.
    async fn touch_user_session(&self, session_id: &str, now: UnixTime, expires_at: UnixTime) -> Result<(), StoreError>;

    /// The user's sessions (online and offline), newest first, with the clients in each.
    async fn sessions_of_user(&self, user_id: &str) -> Result<Vec<SessionWithClients>, StoreError>;

    /// Ends every online session of the user except `keep` (offline ones too when `offline`);
    /// returns those it ended, each with the clients that had joined it.
    async fn delete_other_sessions(&self, user_id: &str, keep: &str, offline: bool) -> Result<Vec<SessionWithClients>, StoreError>;

    /// The consent the user gave the client (internal id), if any.
    async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<ConsentRecord>, StoreError>;

    /// Records or widens a consent.
    async fn upsert_consent(&self, consent: &ConsentRecord) -> Result<(), StoreError>;

    async fn consents_of_user(&self, user_id: &str) -> Result<Vec<ConsentRecord>, StoreError>;

    /// Deletes the consent and ends the client's offline sessions for the user, in one
    /// transaction. `None` when there was neither; else the offline sessions it ended.
    async fn revoke_consent(&self, user_id: &str, client_id: &str) -> Result<Option<Vec<SessionWithClients>>, StoreError>;

    /// Ends the user's offline sessions that the client (internal id) joined, consent kept
    /// (Keycloak's `backchannel.logout.revoke.offline.tokens`); returns them.
    async fn delete_offline_sessions_of_client(&self, user_id: &str, client_id: &str) -> Result<Vec<SessionWithClients>, StoreError>;

    async fn login_failures(&self, user_id: &str) -> Result<LoginFailureRecord, StoreError>;

    async fn set_login_failures(&self, user_id: &str, record: &LoginFailureRecord) -> Result<(), StoreError>;

    /// In one transaction: creates the user session (or locks the existing one; `NotFound` when
    /// it is gone), finds or creates the client session, creates the family at its first
    /// generation (with its first token's hash); with `from_code`, records family and access token on the code row, and
    /// fails with `Conflict` (writing nothing) when the code was replayed meanwhile.
    async fn start_grant(&self, grant: &NewGrant) -> Result<StartedGrant, StoreError>;

    async fn user_session(&self, realm_id: &str, session_id: &str) -> Result<Option<UserSessionRecord>, StoreError>;

    /// Ends a session of the realm and, by cascade, its client sessions, families and tokens;
    /// returns it with the clients that had joined it, `None` when it was gone.
    async fn delete_user_session(&self, realm_id: &str, session_id: &str) -> Result<Option<SessionWithClients>, StoreError>;

    /// Ends every session of the user (offline ones too when `offline`); returns those it ended.
    async fn delete_user_sessions(&self, user_id: &str, offline: bool) -> Result<Vec<SessionWithClients>, StoreError>;

    async fn insert_auth_code(&self, code: &AuthCodeRecord) -> Result<(), StoreError>;

    /// Consumes a code issued in this realm to this client (internal id). A second use revokes
    /// the family and access token issued from the first. A code of another client or realm is
    /// `Unknown` and changes nothing, so no other client can spend or burn it.
    async fn consume_auth_code(
        &self,
        realm_id: &str,
        client_id: &str,
        code_hash: &TokenHash,
        now: UnixTime,
    ) -> Result<CodeOutcome, StoreError>;

    /// Records an access token as revoked until it expires.
    async fn revoke_access_token(&self, realm_id: &str, jti: &TokenHash, expires_at: UnixTime) -> Result<(), StoreError>;

    /// In one round trip, what an access token's liveness depends on (see `AccessTokenLookup`):
    /// by its grant when it names one (that grant's session, whether the grant was revoked), else
    /// by its session, else by its user alone; always whether the user is enabled and whether the
    /// token's jti was revoked. A grant, session or user that is gone or of another realm reads
    /// as `session: None` / `user_enabled: false`.
    async fn access_token_state(&self, lookup: &AccessTokenLookup<'_>) -> Result<AccessTokenState, StoreError>;

    async fn insert_events(&self, events: &[EventRecord]) -> Result<(), StoreError>;

    /// Newest first.
    async fn list_events(&self, realm_id: &str, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError>;

    /// Deletes at most `batch` rows of each kind that expired before `now` (sessions past their
    /// upper bound, used codes, revoked-token records, events and admin events older than
    /// `events_before`).
    async fn delete_expired(&self, now: UnixTime, events_before: UnixTime, batch: i64) -> Result<u64, StoreError>;
}
