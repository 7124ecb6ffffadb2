//! Where device authorizations in progress live (RFC 8628): one row per device code, from the
//! device authorization request until the token request redeems it (or the cleanup task deletes
//! it after its expiry). Both codes are kept only as SHA-256 hashes. The database decides every
//! race: a decision (approve or deny) applies only to a pending row, a poll only when the
//! interval has passed, a redemption only once. One SQL text serves both backends;
//! `impl_device_grant_store!` stamps it with the backend's read and write pools.

use async_trait::async_trait;

use super::sessions::TokenHash;
use super::StoreError;
use crate::clock::UnixTime;

/// A device authorization in progress.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeviceGrantRecord {
    #[sqlx(try_from = "Vec<u8>")]
    pub device_code_hash: HashBytes,
    #[sqlx(try_from = "Vec<u8>")]
    pub user_code_hash: HashBytes,
    pub realm_id: String,
    /// The client's internal id.
    pub client_id: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    /// Seconds the device must wait between two polls.
    pub poll_interval: i64,
    pub last_poll_at: Option<UnixTime>,
    /// The user session that approved the grant; `None` while pending or when denied.
    pub user_session_id: Option<String>,
    pub denied: bool,
}

/// A SHA-256 as the row holds it (sqlx reads the column as bytes; this checks the length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashBytes(pub TokenHash);

impl TryFrom<Vec<u8>> for HashBytes {
    type Error = String;
    fn try_from(bytes: Vec<u8>) -> Result<Self, String> {
        TokenHash::try_from(bytes.as_slice()).map(HashBytes).map_err(|_| "a hash column is not 32 bytes".to_string())
    }
}

/// What a poll of the token endpoint found.
#[derive(Debug, Clone, PartialEq)]
pub enum DevicePoll {
    /// No such device code in the realm (never issued, redeemed, or deleted after its expiry).
    Unknown,
    /// Polled before `poll_interval` had passed since the last poll (not recorded as a poll).
    TooSoon(DeviceGrantRecord),
    /// The poll was recorded; the row as it is now.
    Polled(DeviceGrantRecord),
}

#[async_trait]
pub trait DeviceGrantStore {
    /// Stores a new grant. `Conflict` when the realm already has a live grant with this user
    /// code (the caller draws another).
    async fn insert_device_grant(&self, grant: &DeviceGrantRecord) -> Result<(), StoreError>;

    /// The realm's grant with this user code, whatever its state.
    async fn device_grant_by_user_code(&self, realm_id: &str, user_code_hash: &TokenHash) -> Result<Option<DeviceGrantRecord>, StoreError>;

    /// Approves (`session` is the approving user session) or denies (`None`) the grant with this
    /// user code, if and only if it is still pending and not expired at `now`: true when this
    /// call decided it. Of two concurrent decisions exactly one wins.
    async fn decide_device_grant(&self, realm_id: &str, user_code_hash: &TokenHash, session: Option<&str>, now: UnixTime) -> Result<bool, StoreError>;

    /// Records a poll at `now` of the client's grant with this device code, unless the last one
    /// was less than its `poll_interval` ago (RFC 8628 §3.5); see `DevicePoll`. A grant of
    /// another client is `Unknown`.
    async fn poll_device_grant(&self, realm_id: &str, client_id: &str, device_code_hash: &TokenHash, now: UnixTime) -> Result<DevicePoll, StoreError>;

    /// Deletes the client's approved grant with this device code and returns it: only to the
    /// one caller that deleted it, so a device code is redeemed once.
    async fn redeem_device_grant(&self, realm_id: &str, client_id: &str, device_code_hash: &TokenHash) -> Result<Option<DeviceGrantRecord>, StoreError>;

    /// Deletes at most `limit` grants that expired at or before `expired_before`; how many went.
    async fn delete_expired_device_grants(&self, expired_before: UnixTime, limit: i64) -> Result<u64, StoreError>;
}

pub(crate) const COLUMNS: &str = "device_code_hash, user_code_hash, realm_id, client_id, scope, nonce, created_at, \
     expires_at, poll_interval, last_poll_at, user_session_id, denied";

pub(crate) const INSERT: &str = "INSERT INTO device_grants (device_code_hash, user_code_hash, realm_id, client_id, scope, \
     nonce, created_at, expires_at, poll_interval, last_poll_at, user_session_id, denied) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

pub(crate) const BY_USER_CODE: &str = "WHERE realm_id = $1 AND user_code_hash = $2";

pub(crate) const DECIDE: &str = "UPDATE device_grants SET user_session_id = $3, denied = $4 \
     WHERE realm_id = $1 AND user_code_hash = $2 AND user_session_id IS NULL AND NOT denied AND expires_at > $5";

pub(crate) const BY_DEVICE_CODE: &str = "WHERE realm_id = $1 AND client_id = $2 AND device_code_hash = $3";

pub(crate) const POLL: &str = "UPDATE device_grants SET last_poll_at = $4 \
     WHERE realm_id = $1 AND client_id = $2 AND device_code_hash = $3 \
     AND (last_poll_at IS NULL OR last_poll_at + poll_interval <= $4) RETURNING ";

pub(crate) const REDEEM: &str = "DELETE FROM device_grants \
     WHERE realm_id = $1 AND client_id = $2 AND device_code_hash = $3 AND user_session_id IS NOT NULL RETURNING ";

pub(crate) const DELETE_EXPIRED: &str = "DELETE FROM device_grants WHERE device_code_hash IN \
     (SELECT device_code_hash FROM device_grants WHERE expires_at <= $1 LIMIT $2)";

/// `DeviceGrantStore` for a backend type that reads through the field `$read` and writes through
/// `$write` (SQLite's one writer connection; the one pool on Postgres).
macro_rules! impl_device_grant_store {
    ($backend:ty, $read:ident, $write:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::device_grants::DeviceGrantStore for $backend {
            async fn insert_device_grant(
                &self,
                g: &$crate::store::device_grants::DeviceGrantRecord,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query($crate::store::device_grants::INSERT)
                    .bind(&g.device_code_hash.0[..])
                    .bind(&g.user_code_hash.0[..])
                    .bind(&g.realm_id)
                    .bind(&g.client_id)
                    .bind(&g.scope)
                    .bind(&g.nonce)
                    .bind(g.created_at)
                    .bind(g.expires_at)
                    .bind(g.poll_interval)
                    .bind(g.last_poll_at)
                    .bind(&g.user_session_id)
                    .bind(g.denied)
                    .execute(&self.$write)
                    .await
                    .map_err($crate::store::common::map_unique)?;
                Ok(())
            }

            async fn device_grant_by_user_code(
                &self,
                realm_id: &str,
                user_code_hash: &$crate::store::sessions::TokenHash,
            ) -> Result<Option<$crate::store::device_grants::DeviceGrantRecord>, $crate::store::StoreError> {
                use $crate::store::device_grants::{BY_USER_CODE, COLUMNS};
                Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM device_grants {BY_USER_CODE}"))
                    .bind(realm_id)
                    .bind(&user_code_hash[..])
                    .fetch_optional(&self.$read)
                    .await?)
            }

            async fn decide_device_grant(
                &self,
                realm_id: &str,
                user_code_hash: &$crate::store::sessions::TokenHash,
                session: Option<&str>,
                now: $crate::clock::UnixTime,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = sqlx::query($crate::store::device_grants::DECIDE)
                    .bind(realm_id)
                    .bind(&user_code_hash[..])
                    .bind(session)
                    .bind(session.is_none())
                    .bind(now)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn poll_device_grant(
                &self,
                realm_id: &str,
                client_id: &str,
                device_code_hash: &$crate::store::sessions::TokenHash,
                now: $crate::clock::UnixTime,
            ) -> Result<$crate::store::device_grants::DevicePoll, $crate::store::StoreError> {
                use $crate::store::device_grants::{DeviceGrantRecord, DevicePoll, BY_DEVICE_CODE, COLUMNS, POLL};
                let polled: Option<DeviceGrantRecord> = sqlx::query_as(&format!("{POLL}{COLUMNS}"))
                    .bind(realm_id)
                    .bind(client_id)
                    .bind(&device_code_hash[..])
                    .bind(now)
                    .fetch_optional(&self.$write)
                    .await?;
                if let Some(grant) = polled {
                    return Ok(DevicePoll::Polled(grant));
                }
                let found: Option<DeviceGrantRecord> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM device_grants {BY_DEVICE_CODE}"))
                    .bind(realm_id)
                    .bind(client_id)
                    .bind(&device_code_hash[..])
                    .fetch_optional(&self.$read)
                    .await?;
                Ok(found.map_or(DevicePoll::Unknown, DevicePoll::TooSoon))
            }

            async fn redeem_device_grant(
                &self,
                realm_id: &str,
                client_id: &str,
                device_code_hash: &$crate::store::sessions::TokenHash,
            ) -> Result<Option<$crate::store::device_grants::DeviceGrantRecord>, $crate::store::StoreError> {
                use $crate::store::device_grants::{COLUMNS, REDEEM};
                Ok(sqlx::query_as(&format!("{REDEEM}{COLUMNS}"))
                    .bind(realm_id)
                    .bind(client_id)
                    .bind(&device_code_hash[..])
                    .fetch_optional(&self.$write)
                    .await?)
            }

            async fn delete_expired_device_grants(
                &self,
                expired_before: $crate::clock::UnixTime,
                limit: i64,
            ) -> Result<u64, $crate::store::StoreError> {
                let done = sqlx::query($crate::store::device_grants::DELETE_EXPIRED)
                    .bind(expired_before)
                    .bind(limit)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use impl_device_grant_store;
