//! The admin part of the storage interface: what Keycloak's Admin REST API needs beyond the
//! token path (listing, searching, updating and deleting realms, clients, users, roles,
//! sessions and admin events). Consents and a user's own sessions are shared with the account
//! pages and live in `SessionStore`.
//!
//! Deletions that can end sessions (a realm, a client, a user, every session of a realm) lock the
//! affected user-session rows first, in id order, like every other writer of sessions: a refresh
//! in flight either commits before them or finds its session gone, and no lock-order deadlock
//! between a cascade and a rotation is possible.

use async_trait::async_trait;

use super::sessions::UserSessionRecord;
use super::StoreError;
use crate::clock::UnixTime;
use crate::domain::{Client, Realm, Role, User};

/// Which users a search returns: every condition given must hold. Every pattern is a SQL `LIKE`
/// pattern over the lower-cased column, with `\` as the escape character (the caller escapes
/// `%`, `_` and `\` in user input). Service-account users are returned only when
/// `include_service_accounts` (Keycloak includes them in its field searches, not in `search`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserFilter {
    /// Each pattern must match username, email, first name or last name (Keycloak's `search`
    /// terms, AND-ed).
    pub any: Vec<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub enabled: Option<bool>,
    pub email_verified: Option<bool>,
    /// The user's id is exactly this (Keycloak's `search=id:...`).
    pub id: Option<String>,
    /// (name, value): the user has attribute `name` with a value equal to `value` ignoring case.
    pub attributes: Vec<(String, String)>,
    pub include_service_accounts: bool,
    /// Offset and page size (ordered by username); `max <= 0` means no limit.
    pub first: i64,
    pub max: i64,
}

/// The service-account user created with a client, and the roles it starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct NewServiceAccount {
    pub user: User,
    pub role_ids: Vec<String>,
}

/// A session as the admin API lists it: who, and which clients (internal ids) joined it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionListing {
    pub session: UserSessionRecord,
    pub username: String,
    pub client_ids: Vec<String>,
}

/// How many sessions hold a client session of this client (internal id).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClientSessionCount {
    pub client_id: String,
    pub active: i64,
    pub offline: i64,
}

/// One write through the admin API. `representation` never holds a secret (the caller strips
/// client secrets and credentials before recording).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdminEventRecord {
    pub id: String,
    /// The realm the event is listed under.
    pub realm_id: String,
    pub time: UnixTime,
    /// CREATE, UPDATE, DELETE or ACTION.
    pub operation: String,
    /// Keycloak's resource types: REALM, USER, CLIENT, REALM_ROLE, REALM_ROLE_MAPPING, ...
    pub resource_type: String,
    pub resource_path: String,
    pub representation: Option<String>,
    pub auth_realm_id: Option<String>,
    pub auth_user_id: Option<String>,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminEventFilter {
    /// Empty: every operation.
    pub operations: Vec<String>,
    /// Empty: every resource type.
    pub resource_types: Vec<String>,
    /// A `LIKE` pattern over the resource path (`\` escapes).
    pub resource_path: Option<String>,
    pub auth_user_id: Option<String>,
    pub from: Option<UnixTime>,
    pub to: Option<UnixTime>,
    pub first: i64,
    /// `<= 0`: 100.
    pub max: i64,
}

#[async_trait]
pub trait AdminStore {
    /// Writes the realm's `enabled`, `not_before` and settings. The name is never changed here.
    /// False when no realm has this id.
    async fn update_realm(&self, realm: &Realm) -> Result<bool, StoreError>;

    /// Deletes the realm, everything it owns (by cascade) and its admin events, in one
    /// transaction, after locking its sessions. False when there was none.
    async fn purge_realm(&self, realm_id: &str) -> Result<bool, StoreError>;

    /// Users of the realm matching the filter, ordered by username.
    async fn search_users(&self, realm_id: &str, filter: &UserFilter) -> Result<Vec<User>, StoreError>;

    /// How many users `search_users` would return without paging.
    async fn count_users(&self, realm_id: &str, filter: &UserFilter) -> Result<i64, StoreError>;

    /// Other users of the realm with this email, compared case-insensitively.
    async fn users_with_email(
        &self,
        realm_id: &str,
        email: &str,
        except: &str,
    ) -> Result<Vec<User>, StoreError>;

    /// Writes username, email, names, enabled and email_verified. `Conflict` when the username
    /// is taken; false when no such user is in the realm.
    async fn update_user(&self, user: &User) -> Result<bool, StoreError>;

    /// Deletes the user with its credentials, role mappings, consents and sessions (locked
    /// first). False when no such user is in the realm.
    async fn delete_user(&self, realm_id: &str, user_id: &str) -> Result<bool, StoreError>;

    /// Maps the roles to the user; mappings that exist are left alone.
    async fn add_user_roles(&self, user_id: &str, role_ids: &[String]) -> Result<(), StoreError>;

    /// Removes these mappings; absent ones are ignored.
    async fn remove_user_roles(&self, user_id: &str, role_ids: &[String]) -> Result<(), StoreError>;

    /// Creates a role with its composites. `Conflict` when its container has a role of that name.
    async fn create_role(&self, role: &Role) -> Result<(), StoreError>;

    /// Writes name and description. `Conflict` on a name taken in the container; false when
    /// no such role is in the realm.
    async fn update_role(&self, role: &Role) -> Result<bool, StoreError>;

    /// Deletes the role, its mappings and its place in composites. False when absent.
    async fn delete_role(&self, realm_id: &str, role_id: &str) -> Result<bool, StoreError>;

    /// A client of the realm by internal id.
    async fn client_by_id(&self, realm_id: &str, id: &str) -> Result<Option<Client>, StoreError>;

    /// Creates the client, its roles and (when given) its service-account user in one
    /// transaction. `Conflict` when the realm has a client with this `client_id`, or the
    /// service-account username is taken.
    async fn create_client(
        &self,
        client: &Client,
        roles: &[Role],
        service_account: Option<&NewServiceAccount>,
    ) -> Result<(), StoreError>;

    /// Writes every column of the client but its id, realm and creation time (the sealed secret
    /// included), and creates the service-account user when given, in one transaction.
    /// `Conflict` on a taken `client_id`; false when no such client is in the realm.
    async fn update_client(
        &self,
        client: &Client,
        service_account: Option<&NewServiceAccount>,
    ) -> Result<bool, StoreError>;

    /// Deletes the client with its roles, service-account user, consents and client sessions
    /// (their user sessions locked first). False when absent.
    async fn delete_client(&self, realm_id: &str, id: &str) -> Result<bool, StoreError>;

    /// Sessions of the realm holding a client session of this client (internal id), online or
    /// offline, newest first, whose cleanup bound is after `now`.
    async fn sessions_of_client(
        &self,
        realm_id: &str,
        client_id: &str,
        offline: bool,
        now: UnixTime,
        first: i64,
        max: i64,
    ) -> Result<Vec<SessionListing>, StoreError>;

    /// Per client, how many online and offline sessions whose cleanup bound is after `now` hold
    /// a client session of it. Clients without sessions are absent.
    async fn client_session_counts(
        &self,
        realm_id: &str,
        now: UnixTime,
    ) -> Result<Vec<ClientSessionCount>, StoreError>;

    /// Ends every session of the realm, offline ones included (locked first); returns how many.
    async fn delete_realm_sessions(&self, realm_id: &str) -> Result<u64, StoreError>;

    async fn insert_admin_event(&self, event: &AdminEventRecord) -> Result<(), StoreError>;

    /// Newest first.
    async fn list_admin_events(
        &self,
        realm_id: &str,
        filter: &AdminEventFilter,
    ) -> Result<Vec<AdminEventRecord>, StoreError>;
}
