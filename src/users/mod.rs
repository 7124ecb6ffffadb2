//! User operations shared by the admin API, the account page and the CLI. Today: setting a
//! password, which (by the realm switch `revokeSessionsOnPasswordChange`, on by default) ends
//! every session of the user, offline ones included: a password change often answers a
//! compromise, and a stolen offline token would otherwise outlive it. A temporary password adds
//! the `UPDATE_PASSWORD` required action and a permanent one removes it, as in Keycloak. The
//! realm's password policy (`password_policy`) is checked first, `passwordHistory` against the
//! user's earlier passwords, kept as `password-history` credentials as Keycloak keeps them.
//! `actions` runs the required actions of the browser login.

use crate::clock::UnixTime;
use crate::crypto::password::{PasswordHasher, StoredPassword};
use crate::crypto::SecretString;
use crate::domain::{new_id, Credential, Realm, User};
use crate::realm::import::ARGON2_PHC_CREDENTIAL_DATA;
use crate::store::sessions::SessionWithClients;
use crate::store::{Store, StoreError};

pub mod actions;
pub mod otp;
pub mod password_policy;
pub mod registration;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must not be empty")]
    Empty,
    #[error("password hashing failed")]
    Hash,
    /// The realm's `passwordPolicy` refuses it.
    #[error("{}", .0.message())]
    Policy(password_policy::Violation),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The most earlier passwords a new one is compared with, whatever `passwordHistory` says:
/// each comparison is a full password hash, so this bounds the work one password change costs.
pub const MAX_HISTORY_CHECKED: usize = 24;

/// The stored form of a password credential, ours or imported from Keycloak.
pub fn stored_password(credential: &Credential) -> StoredPassword {
    if credential.credential_data == ARGON2_PHC_CREDENTIAL_DATA {
        StoredPassword::Phc(credential.secret_data.clone())
    } else {
        StoredPassword::Keycloak { secret_data: credential.secret_data.clone(), credential_data: credential.credential_data.clone() }
    }
}

/// `passwordHistory(n)`: refuses a password equal to the current one or one of the n − 1
/// before it (Keycloak's `invalidPasswordHistoryMessage`).
async fn check_history(
    store: &dyn Store,
    hasher: &PasswordHasher,
    user_id: &str,
    password: &SecretString,
    history: usize,
) -> Result<(), PasswordError> {
    let mut earlier: Vec<Credential> = store
        .credentials_of_user(user_id)
        .await?
        .into_iter()
        .filter(|c| c.kind == "password" || c.kind == "password-history")
        .collect();
    earlier.sort_by(|a, b| (b.kind == "password").cmp(&(a.kind == "password")).then(b.created_at.cmp(&a.created_at)));
    for credential in earlier.iter().take(history.min(MAX_HISTORY_CHECKED)) {
        if hasher.verify(password.clone(), Some(stored_password(credential))).await {
            return Err(PasswordError::Policy(password_policy::Violation::history(history)));
        }
    }
    Ok(())
}

/// The password to set, and whether the user must replace it at the next login.
pub struct NewPassword {
    pub value: SecretString,
    pub temporary: bool,
}

/// Sets the user's password (and its required action) and returns the sessions it ended (with
/// `revokeSessionsOnPasswordChange`), for the caller to tell their clients (back-channel logout).
/// `keep` names the session the change was made from (the account page), which stays.
pub async fn set_password(
    store: &dyn Store,
    hasher: &PasswordHasher,
    realm: &Realm,
    user: &User,
    password: NewPassword,
    now: UnixTime,
    keep: Option<&str>,
) -> Result<Vec<SessionWithClients>, PasswordError> {
    let NewPassword { value: password, temporary } = password;
    let user_id = user.id.as_str();
    if password.expose().is_empty() {
        return Err(PasswordError::Empty);
    }
    let policy = password_policy::PasswordPolicy::of(realm.settings.password_policy.as_deref());
    policy.check(password.expose(), user).map_err(PasswordError::Policy)?;
    let history = policy.history();
    if history > 0 {
        check_history(store, hasher, user_id, &password, history).await?;
    }
    let hash = hasher.hash(password).await.map_err(|_| PasswordError::Hash)?;
    let credential = Credential {
        id: new_id(),
        user_id: user_id.to_string(),
        kind: "password".into(),
        secret_data: hash,
        credential_data: ARGON2_PHC_CREDENTIAL_DATA.into(),
        created_at: now,
        user_label: None,
        priority: 0,
    };
    let mut updated = user.clone();
    updated.set_temporary_password(temporary);
    let kept_history = history.saturating_sub(1).min(MAX_HISTORY_CHECKED);
    store.set_password(&credential, &updated.required_actions, kept_history).await?;
    if !realm.settings.revoke_sessions_on_password_change {
        return Ok(Vec::new());
    }
    Ok(match keep {
        Some(session) => store.delete_other_sessions(user_id, session, true).await?,
        None => store.delete_user_sessions(user_id, true).await?,
    })
}
