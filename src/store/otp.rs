//! The OTP credential's own storage: its replay state and the writes enrolment and verification
//! make. An OTP credential is a row of `credentials` like any other (listed, labelled, ordered
//! and deleted through `UserStore` and `UserAdminStore`); this adds one column, `otp_next`, the
//! lowest moving factor (TOTP time step, HOTP counter) still acceptable: constant state per
//! credential, whatever the number of logins. The SQL, the same for both dialects, is in
//! `otp_sql.rs`, included by each backend.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::Credential;

/// An OTP credential with its replay state.
#[derive(Debug, Clone, PartialEq)]
pub struct OtpState {
    pub credential: Credential,
    /// The lowest moving factor still acceptable; `None` before the first use.
    pub next: Option<i64>,
}

#[async_trait]
pub trait OtpStore {
    /// The user's credentials of type `otp`, in Keycloak's order (priority, then newest first).
    async fn otp_credentials(&self, user_id: &str) -> Result<Vec<OtpState>, StoreError>;

    /// Inserts an OTP credential after the user's others (unless it has a priority), with replay
    /// state `next`. `Conflict` when the id exists; `NotFound` when the user does not.
    async fn add_otp_credential(&self, credential: &Credential, next: Option<i64>) -> Result<(), StoreError>;

    /// Records the use of moving factor `used` of the credential, if and only if no use of
    /// `used` or a later factor was recorded before: then `next` becomes `used + 1` (and
    /// `credential_data`, when given, is stored: HOTP's counter) and the answer is true. Of
    /// concurrent calls with one factor exactly one gets true; false too when the credential is gone.
    async fn consume_otp(&self, credential_id: &str, used: i64, credential_data: Option<&str>) -> Result<bool, StoreError>;

    /// Up to `limit` OTP credentials (of any realm) whose `secret_data` is not in the sealed form
    /// `{"sealed": ...}`, for the start-up pass that seals them.
    async fn unsealed_otp_credentials(&self, limit: i64) -> Result<Vec<Credential>, StoreError>;

    /// Replaces the credential's `secret_data` with `new` if it is still `old` (so a credential
    /// changed meanwhile is left alone); true when replaced.
    async fn replace_otp_secret(&self, credential_id: &str, old: &str, new: &str) -> Result<bool, StoreError>;
}
