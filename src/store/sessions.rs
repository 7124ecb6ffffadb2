//! The session and token part of the storage interface: user, client and offline sessions,
//! refresh-token families and their rotation, authorization codes, revoked access tokens and
//! events. The contracts here are where DESIGN.md §2's race rules are kept: every operation that
//! can mint or end a token locks the user-session row first, so they serialise per session.

use async_trait::async_trait;

use super::access_tokens::{AccessTokenLookup, AccessTokenState};
use super::StoreError;
use crate::clock::UnixTime;
use crate::domain::User;

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
    pub refresh_hash: Option<TokenHash>,
    /// The code this grant was exchanged from: it records the family and access token.
    pub from_code: Option<(TokenHash, TokenHash, UnixTime)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StartedGrant {
    pub session: UserSessionRecord,
    pub client_session: ClientSessionRecord,
}

/// A refresh request as the store sees it.
#[derive(Debug, Clone)]
pub struct RotateRequest {
    pub realm_id: String,
    /// The authenticated client's internal id: a token of another client is `Unknown`.
    pub client_id: String,
    pub presented: TokenHash,
    pub successor: TokenHash,
    pub now: UnixTime,
    /// `revokeRefreshToken`: consume the presented token. When false it stays valid.
    pub rotate: bool,
    /// `refreshTokenMaxReuse`: a token may be presented this many times beyond its first use.
    pub max_reuse: i64,
    /// With `Some`, the user must be mapped directly to one of these role ids (an offline
    /// grant: the roles that grant `offline_access`); otherwise `NotPermitted`, nothing written.
    pub requires_any_role: Option<Vec<String>>,
}

impl RotateRequest {
    /// Whether a user mapped to `role_ids` may have this rotation.
    pub fn permits(&self, role_ids: &[String]) -> bool {
        match &self.requires_any_role {
            None => true,
            Some(required) => role_ids.iter().any(|r| required.contains(r)),
        }
    }
}

/// Lost-response recovery for one rotation (realm setting `refreshTokenReuseIntervalSeconds`).
#[derive(Debug, Clone)]
pub struct ReuseInterval {
    /// How long after its rotation a consumed token may come back for the same successor.
    pub seconds: i64,
    /// The successor's jti sealed under the master key (bound to the presented token's hash):
    /// kept on the consumed row until `now + seconds`, as the only way to hand the same
    /// successor out again, since the store otherwise knows it by hash alone.
    pub successor_sealed: Vec<u8>,
}

/// A consumed token came back within the reuse interval, and the successor its rotation
/// recorded is still unused: the grant re-issues that successor. Nothing was written.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayedGrant {
    pub grant: RotatedGrant,
    pub successor_hash: TokenHash,
    /// As `ReuseInterval::successor_sealed` stored it.
    pub successor_sealed: Vec<u8>,
    /// When the successor was issued: its `iat`, and the time its `exp` was computed at.
    pub successor_issued_at: UnixTime,
}

/// What a rotation found, decided and did.
#[derive(Debug, Clone, PartialEq)]
pub enum RotateOutcome {
    /// The presented token was consumed (when rotating) and its successor stored, the session's
    /// last access moved to `now`.
    Rotated(Box<RotatedGrant>),
    /// No such token for this client in this realm (never issued, or its session is gone).
    Unknown,
    /// The family was revoked before this request.
    FamilyRevoked,
    /// The token was presented more often than allowed: its family is now revoked.
    ReuseDetected { family_id: String },
    /// The session is past its idle or max deadline, or the user is disabled.
    SessionInactive,
    /// Lost-response recovery: see `ReplayedGrant`.
    Replayed(Box<ReplayedGrant>),
    /// The user no longer holds a role the grant needs (`requires_any_role`): nothing was written.
    NotPermitted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RotatedGrant {
    pub session: UserSessionRecord,
    pub client_session: ClientSessionRecord,
    pub family_id: String,
    pub scope: String,
    pub user: User,
    pub role_ids: Vec<String>,
}

/// Decides whether a session (and its client session) is alive at `now`, and if so the new
/// `expires_at` upper bound once its last access moves to `now`. Evaluated inside the store's
/// transaction, so the decision and the write cannot be separated by a concurrent change.
pub type LivenessCheck<'a> = &'a (dyn Fn(&UserSessionRecord, &ClientSessionRecord) -> Option<UnixTime> + Send + Sync);

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

/// The session a refresh token belongs to, and whether its user is enabled.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTokenSession {
    pub session: UserSessionRecord,
    pub user_enabled: bool,
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
    /// returns how many.
    async fn delete_other_sessions(&self, user_id: &str, keep: &str, offline: bool) -> Result<u64, StoreError>;

    /// The consent the user gave the client (internal id), if any.
    async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<ConsentRecord>, StoreError>;

    /// Records or widens a consent.
    async fn upsert_consent(&self, consent: &ConsentRecord) -> Result<(), StoreError>;

    async fn consents_of_user(&self, user_id: &str) -> Result<Vec<ConsentRecord>, StoreError>;

    /// Deletes the consent and ends the client's offline sessions for the user, in one
    /// transaction. Returns whether anything was there.
    async fn revoke_consent(&self, user_id: &str, client_id: &str) -> Result<bool, StoreError>;

    async fn login_failures(&self, user_id: &str) -> Result<LoginFailureRecord, StoreError>;

    async fn set_login_failures(&self, user_id: &str, record: &LoginFailureRecord) -> Result<(), StoreError>;

    /// In one transaction: creates the user session (or locks the existing one; `NotFound` when
    /// it is gone), finds or creates the client session, creates the family and stores its first
    /// refresh token; with `from_code`, records family and access token on the code row, and
    /// fails with `Conflict` (writing nothing) when the code was replayed meanwhile.
    async fn start_grant(&self, grant: &NewGrant) -> Result<StartedGrant, StoreError>;

    /// Rotates a refresh token (see `RotateRequest` and `RotateOutcome`). Locks the user session
    /// first, so it serialises with revocation, logout and session deletion of the same session:
    /// once those commit, no successor can be stored. Of concurrent rotations of one token,
    /// exactly `max_reuse + 1` succeed (when rotating).
    async fn rotate_refresh_token(
        &self,
        request: &RotateRequest,
        alive: LivenessCheck<'_>,
    ) -> Result<RotateOutcome, StoreError> {
        self.rotate_refresh_token_within(request, None, alive).await
    }

    /// `rotate_refresh_token` with lost-response recovery. With `interval`, a rotation also
    /// records the successor (hash and sealed jti) on the consumed row. A token that would be a
    /// reuse is instead `Replayed` when, under the same session lock: its row recorded a
    /// successor, that successor was issued less than `interval.seconds` ago, is still unused
    /// and its family is not revoked, and the session is alive. Otherwise the rules of
    /// `rotate_refresh_token` apply unchanged (a reuse revokes the family). Without `interval`
    /// nothing is recorded or replayed.
    async fn rotate_refresh_token_within(
        &self,
        request: &RotateRequest,
        interval: Option<&ReuseInterval>,
        alive: LivenessCheck<'_>,
    ) -> Result<RotateOutcome, StoreError>;

    /// Revokes the family holding this token (RFC 7009). Offline families end their offline
    /// session. Returns false when the token is unknown or belongs to another client.
    async fn revoke_refresh_family(
        &self,
        realm_id: &str,
        client_id: &str,
        token: &TokenHash,
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    /// The session a refresh token belongs to, when the token's family is not revoked. With
    /// `max_reuse` (a realm that rotates), only while the token has been used at most that many
    /// times: a token rotated away is no longer live (its next use would revoke the family).
    async fn session_of_refresh_token(
        &self,
        token: &TokenHash,
        max_reuse: Option<i64>,
    ) -> Result<Option<RefreshTokenSession>, StoreError>;

    async fn user_session(&self, realm_id: &str, session_id: &str) -> Result<Option<UserSessionRecord>, StoreError>;

    /// Ends a session and, by cascade, its client sessions, families and tokens. False when gone.
    async fn delete_user_session(&self, realm_id: &str, session_id: &str) -> Result<bool, StoreError>;

    /// Ends every session of the user (offline ones too when `offline`); returns how many.
    async fn delete_user_sessions(&self, user_id: &str, offline: bool) -> Result<u64, StoreError>;

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
