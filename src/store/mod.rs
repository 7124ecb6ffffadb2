//! The storage interface and its two backends (DESIGN.md §4). Everything that touches SQL lives
//! below this module; callers see records and contracts, never sqlx. Each method's doc states the
//! contract both backends must meet; `tests/api/store_suite.rs` checks it against both.

pub mod access_tokens;
pub mod action_tokens;
pub mod admin;
pub mod device_grants;
mod common;
mod common_rows;
mod common_admin;
mod common_sessions;
mod session_rows;
pub mod families;
pub mod groups;
pub mod otp;
pub mod partial_import;
pub mod roles;
pub mod realm_admin;
mod groups_sql;
mod rotation;
pub mod scopes;
pub mod sessions;
pub mod postgres;
pub mod sqlite;
mod sqlite_rotations;
pub mod users;

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::domain::{Client, Credential, Realm, Role, User};

pub use access_tokens::{AccessTokenLookup, AccessTokenState};
pub use action_tokens::ActionTokenStore;
pub use device_grants::{DeviceGrantRecord, DeviceGrantStore, DevicePoll};
pub use postgres::PostgresStore;
pub use sessions::*;
pub use families::*;
pub use admin::AdminStore;
pub use groups::{GroupStore, RealmGroups};
pub use otp::{OtpState, OtpStore};
pub use partial_import::PartialImportStore;
pub use roles::RoleStore;
pub use realm_admin::RealmAdminStore;
pub use scopes::ScopeStore;
pub use sqlite::SqliteStore;
pub use users::UserAdminStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; the string names what already exists.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// The database could not be reached or answered with an error. A lost, refused or
    /// shut-down connection arrives here as `sqlx::Error::Io` whichever layer noticed it (see
    /// `From<sqlx::Error>`), so every caller can map "unavailable" to 503 the same way.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The database is unreachable, shutting down or out of connections: the request may
    /// succeed later (503 `temporarily_unavailable`), as opposed to a fault of the request or data.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed
            )
        )
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if connection_lost(db.as_ref()) => StoreError::Database(sqlx::Error::Io(
                std::io::Error::new(std::io::ErrorKind::ConnectionAborted, db.message().to_string()),
            )),
            _ => StoreError::Database(e),
        }
    }
}

/// Errors the database reports when it, not the statement, is the problem: Postgres's SQLSTATE
/// classes 08 (connection exception), 53 (insufficient resources) and 57P (shutdown, crash,
/// cannot connect now); SQLite's BUSY, LOCKED (after the busy timeout), IOERR, FULL, CANTOPEN.
fn connection_lost(db: &dyn sqlx::error::DatabaseError) -> bool {
    let code = db.code().unwrap_or_default();
    if db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
        code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
    } else if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        matches!(code.parse::<i32>().map(|c| c & 0xff), Ok(5 | 6 | 10 | 13 | 14))
    } else {
        false
    }
}

/// A realm's signing or HMAC key as stored: the private part is sealed under the master key.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub realm_id: String,
    pub algorithm: String,
    pub status: KeyStatus,
    /// The public JWK as JSON, `None` for HMAC keys.
    pub public_jwk: Option<String>,
    pub private_sealed: Vec<u8>,
    pub created_at: UnixTime,
    /// For passive keys: publish in JWKS until this time.
    pub publish_until: Option<UnixTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Passive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
        }
    }
}

/// Everything a realm is made of, as created or imported in one transaction and as exported.
#[derive(Debug, Clone, Default)]
pub struct RealmBundle {
    pub realm: Option<Realm>,
    pub keys: Vec<SigningKeyRecord>,
    pub roles: Vec<Role>,
    pub clients: Vec<Client>,
    pub users: Vec<User>,
    pub credentials: Vec<Credential>,
    /// (user id, role id)
    pub role_mappings: Vec<(String, String)>,
    /// The group tree, its role mappings, memberships and default groups.
    pub groups: RealmGroups,
    /// Client scopes, mappers, default scopes, links and scope mappings (issue 15).
    pub scopes: crate::domain::scopes::RealmScopes,
}

#[async_trait]
pub trait RealmStore {
    /// Creates the realms and everything in their bundles in one transaction: all rows or none.
    /// When a realm of the same name exists: `Conflict`, unless `replace`, in which case the old
    /// realm and all it owns are deleted in the same transaction first.
    async fn create_realms(&self, bundles: &[RealmBundle], replace: bool) -> Result<(), StoreError>;

    async fn realm_by_name(&self, name: &str) -> Result<Option<Realm>, StoreError>;

    async fn list_realms(&self) -> Result<Vec<Realm>, StoreError>;

    /// Everything the realm owns, for export. `NotFound` for an unknown realm id.
    async fn realm_bundle(&self, realm_id: &str) -> Result<RealmBundle, StoreError>;

    /// Deletes the realm and, by cascade, everything it owns. False when there was none.
    async fn delete_realm(&self, realm_id: &str) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait KeyStore {
    /// All keys of the realm, active and passive.
    async fn signing_keys(&self, realm_id: &str) -> Result<Vec<SigningKeyRecord>, StoreError>;

    /// In one transaction: every active key of the realm with the algorithm of one of `new_keys`
    /// becomes passive and is published until `publish_until`; then `new_keys` are inserted.
    async fn rotate_keys(
        &self,
        realm_id: &str,
        new_keys: &[SigningKeyRecord],
        publish_until: UnixTime,
    ) -> Result<(), StoreError>;

    /// Deletes passive keys whose `publish_until` has passed; returns how many.
    async fn delete_expired_keys(&self, now: UnixTime) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait ClientStore {
    async fn client_by_client_id(
        &self,
        realm_id: &str,
        client_id: &str,
    ) -> Result<Option<Client>, StoreError>;

    async fn list_clients(&self, realm_id: &str) -> Result<Vec<Client>, StoreError>;
}

#[async_trait]
pub trait UserStore {
    /// Looks up by lower-cased username.
    async fn user_by_username(
        &self,
        realm_id: &str,
        username: &str,
    ) -> Result<Option<User>, StoreError>;

    async fn user_by_id(&self, realm_id: &str, user_id: &str) -> Result<Option<User>, StoreError>;

    /// Looks up by email, case-insensitively; `None` when no user or more than one has it.
    async fn user_by_email(&self, realm_id: &str, email: &str) -> Result<Option<User>, StoreError>;

    /// The service-account user of a client (internal client id).
    async fn service_account_user(&self, client_id: &str) -> Result<Option<User>, StoreError>;

    /// The client's service-account user with the ids of its directly mapped roles, in one
    /// round trip (the client_credentials grant's only database work).
    async fn service_account_with_role_ids(&self, client_id: &str) -> Result<Option<(User, Vec<String>)>, StoreError>;

    /// The user's newest password credential.
    async fn password_credential(&self, user_id: &str) -> Result<Option<Credential>, StoreError>;

    /// Every credential of the user (passwords, OTP and any other type) in Keycloak's order
    /// (priority, then newest first): in one
    /// round trip what a login checks.
    async fn credentials_of_user(&self, user_id: &str) -> Result<Vec<Credential>, StoreError>;

    /// Deletes one credential of the user; false when the user has no such credential.
    async fn delete_credential(&self, user_id: &str, credential_id: &str) -> Result<bool, StoreError>;

    /// Creates a user with credentials and role mappings in one transaction.
    /// `Conflict` when the username is taken in the realm.
    async fn create_user(
        &self,
        user: &User,
        credentials: &[Credential],
        role_ids: &[String],
    ) -> Result<(), StoreError>;

    /// Replaces the user's password credentials with `credential` in one transaction.
    async fn replace_password(&self, credential: &Credential) -> Result<(), StoreError>;

    /// `replace_password`, and in the same transaction the user's required actions become
    /// `required_actions` (a temporary password adds `UPDATE_PASSWORD`, a permanent one removes it).
    /// With `keep_history` > 0 the replaced password is kept as a `password-history` credential
    /// and the newest `keep_history` of those stay; the older ones are deleted.
    async fn set_password(&self, credential: &Credential, required_actions: &[String], keep_history: usize) -> Result<(), StoreError>;

    /// Roles of the realm (realm and client roles) with their composites.
    async fn realm_roles(&self, realm_id: &str) -> Result<Vec<Role>, StoreError>;

    /// Ids of the roles mapped directly to the user.
    async fn user_role_ids(&self, user_id: &str) -> Result<Vec<String>, StoreError>;
}

/// A committed change to data the realm cache holds (realm, clients, roles, keys, service
/// accounts), as reported by the database to every node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RealmChange {
    /// The realm with this id (not name) changed or was deleted.
    Realm(String),
    /// A service-account user of the realm with this id, its role mappings or its groups may
    /// have changed (migration 0016): drop the realm's cached service accounts only.
    ServiceAccounts(String),
    /// Anything may have changed (e.g. the feed was interrupted): drop every cached realm.
    All,
}

/// Operations the server needs of any backend: readiness, pool figures, shutdown.
#[async_trait]
pub trait StoreOps {
    /// Committed changes to cached realm data made by any process on this database, as they
    /// happen; starts the feed (call once, inside the runtime). `All` comes first and after every
    /// reconnection, since changes may have been missed meanwhile. `None` where the backend has
    /// no such feed (SQLite: one node; the cache TTL covers other processes). Dropping the
    /// receiver stops the feed.
    fn realm_changes(&self) -> Option<tokio::sync::mpsc::Receiver<RealmChange>> {
        None
    }

    /// One cheap round trip: Ok when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// (connections open, connections idle)
    fn pool_usage(&self) -> (u32, u32);

    fn backend_name(&self) -> &'static str;

    /// How many refreshes this store rotated in its single statement (Postgres) or script
    /// (SQLite) rather than on the general path, since it opened: what shows the fast path is
    /// taken (`tests/api/store_suite_families.rs`).
    fn single_statement_rotations(&self) -> u64;

    async fn close(&self);
}

pub trait Store:
    RealmStore + KeyStore + ClientStore + UserStore + SessionStore + FamilyStore + AdminStore + UserAdminStore + GroupStore + RoleStore + RealmAdminStore + ScopeStore + PartialImportStore + OtpStore + ActionTokenStore + DeviceGrantStore + StoreOps + Send + Sync
{
}

impl<T> Store for T where
    T: RealmStore + KeyStore + ClientStore + UserStore + SessionStore + FamilyStore + AdminStore + UserAdminStore + GroupStore + RoleStore + RealmAdminStore + ScopeStore + PartialImportStore + OtpStore + ActionTokenStore + DeviceGrantStore + StoreOps + Send + Sync
{
}

/// How long a caller waits for a connection unless configured (`db-acquire-timeout`).
pub const DEFAULT_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Opens the backend named by the URL's scheme, runs its migrations and returns it.
pub async fn connect(url: &str, pool_size: u32) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    connect_with(url, pool_size, DEFAULT_ACQUIRE_TIMEOUT).await
}

/// `connect` with the time a caller may wait for a connection: while the database is down the
/// pool retries connecting until then, and the caller gets `PoolTimedOut` (503), never a hang.
pub async fn connect_with(
    url: &str,
    pool_size: u32,
    acquire_timeout: std::time::Duration,
) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(PostgresStore::connect(url, pool_size, acquire_timeout).await?))
    } else if url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(SqliteStore::connect(url, pool_size, acquire_timeout).await?))
    } else {
        Err(StoreError::Corrupt(format!("unsupported database URL scheme in {}", redact_url(url))))
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}
