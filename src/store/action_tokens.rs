//! Where used action tokens are remembered: the single-use record behind the links of
//! execute-actions, verify-email and forgot-password mails. The token is self-contained (an HMAC
//! JWT, `crate::mail::action_token`); only the SHA-256 of the jti of a token already used is
//! kept, until the token's own expiry. One SQL text serves both backends (both speak
//! `ON CONFLICT DO NOTHING` and `LIMIT` in a subquery); `impl_action_token_store!` stamps it.

use async_trait::async_trait;

use super::StoreError;
use crate::clock::UnixTime;

#[async_trait]
pub trait ActionTokenStore {
    /// Records the token (by the hex SHA-256 of its jti) as used. True for the first use on any
    /// node; false when it was used before: the database decides, in one INSERT, so two nodes
    /// racing on one link cannot both win. `expires_at` is the token's `exp`.
    async fn use_action_token(&self, realm_id: &str, jti_hash: &str, expires_at: UnixTime) -> Result<bool, StoreError>;

    /// Deletes at most `limit` records of tokens expired at `now`; how many went.
    async fn delete_expired_action_tokens(&self, now: UnixTime, limit: i64) -> Result<u64, StoreError>;
}

pub(crate) const USE_ACTION_TOKEN: &str =
    "INSERT INTO used_action_tokens (jti_hash, realm_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti_hash) DO NOTHING";

pub(crate) const DELETE_EXPIRED_ACTION_TOKENS: &str = "DELETE FROM used_action_tokens WHERE jti_hash IN \
     (SELECT jti_hash FROM used_action_tokens WHERE expires_at <= $1 LIMIT $2)";

/// `ActionTokenStore` for a backend type whose write pool is the field `$pool`.
macro_rules! impl_action_token_store {
    ($backend:ty, $pool:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::action_tokens::ActionTokenStore for $backend {
            async fn use_action_token(
                &self,
                realm_id: &str,
                jti_hash: &str,
                expires_at: $crate::clock::UnixTime,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = sqlx::query($crate::store::action_tokens::USE_ACTION_TOKEN)
                    .bind(jti_hash)
                    .bind(realm_id)
                    .bind(expires_at)
                    .execute(&self.$pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_expired_action_tokens(
                &self,
                now: $crate::clock::UnixTime,
                limit: i64,
            ) -> Result<u64, $crate::store::StoreError> {
                let done = sqlx::query($crate::store::action_tokens::DELETE_EXPIRED_ACTION_TOKENS)
                    .bind(now)
                    .bind(limit)
                    .execute(&self.$pool)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use impl_action_token_store;
