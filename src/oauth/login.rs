//! Checking a username and password, shared by the password grant and the login form: the
//! lookup (by username, or email when the realm allows), the argon2id check on the bounded pool
//! (a dummy hash for unknown users, so timing reveals nothing) and the disabled-account rule.

use super::OAuthError;
use crate::crypto::password::{PasswordHasher, StoredPassword};
use crate::crypto::SecretString;
use crate::domain::User;
use crate::realm::import::ARGON2_PHC_CREDENTIAL_DATA;
use crate::realm::RealmContext;
use crate::clock::UnixTime;
use crate::store::{LoginFailureRecord, Store};

use super::brute_force;

#[derive(Debug, Clone, PartialEq)]
pub enum LoginFailure {
    /// Unknown user or wrong password: the same answer for both.
    InvalidCredentials { user_id: Option<String> },
    Disabled { user_id: String },
    /// Brute-force detection locked the account; answered like bad credentials.
    Locked { user_id: String },
    Unavailable,
}

impl LoginFailure {
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::InvalidCredentials { user_id } => user_id.as_deref(),
            Self::Disabled { user_id } | Self::Locked { user_id } => Some(user_id),
            Self::Unavailable => None,
        }
    }

    /// Keycloak's event error names.
    pub fn event_error(&self) -> &'static str {
        match self {
            Self::InvalidCredentials { user_id: None } => "user_not_found",
            Self::InvalidCredentials { .. } => "invalid_user_credentials",
            Self::Disabled { .. } => "user_disabled",
            Self::Locked { .. } => "user_temporarily_disabled",
            Self::Unavailable => "unavailable",
        }
    }

    /// Keycloak answers bad credentials with 401 invalid_grant.
    pub fn into_oauth(self) -> OAuthError {
        match self {
            Self::InvalidCredentials { .. } | Self::Locked { .. } => {
                OAuthError::InvalidGrant { description: super::grants::password::INVALID_CREDENTIALS.into(), status: 401 }
            }
            Self::Disabled { .. } => OAuthError::invalid_grant("Account disabled"),
            Self::Unavailable => OAuthError::TemporarilyUnavailable,
        }
    }
}

async fn find_user(store: &dyn Store, realm: &RealmContext, login: &str) -> Result<Option<User>, LoginFailure> {
    let realm_id = &realm.realm.id;
    let by_name = store.user_by_username(realm_id, login).await.map_err(|_| LoginFailure::Unavailable)?;
    if by_name.is_some() || !realm.realm.settings.login_with_email_allowed || !login.contains('@') {
        return Ok(by_name);
    }
    store.user_by_email(realm_id, login).await.map_err(|_| LoginFailure::Unavailable)
}

/// Checks the credentials, applying the realm's brute-force detection when it is on.
pub async fn authenticate(
    store: &dyn Store,
    hasher: &PasswordHasher,
    realm: &RealmContext,
    login: &str,
    password: SecretString,
    now: UnixTime,
) -> Result<User, LoginFailure> {
    let result = check_password(store, hasher, realm, login, password, now).await;
    let settings = &realm.realm.settings;
    if !settings.brute_force_protected {
        return result;
    }
    let user_id = match &result {
        Ok(user) => user.id.clone(),
        Err(LoginFailure::InvalidCredentials { user_id: Some(id) }) => id.clone(),
        Err(_) => return result,
    };
    let state = store.login_failures(&user_id).await.map_err(|_| LoginFailure::Unavailable)?;
    if state.locked_forever || state.locked_until.is_some_and(|until| until > now) {
        return Err(LoginFailure::Locked { user_id });
    }
    match result {
        Ok(user) => {
            if state.failures > 0 {
                store.set_login_failures(&user_id, &LoginFailureRecord::default()).await.map_err(|_| LoginFailure::Unavailable)?;
            }
            Ok(user)
        }
        Err(failure) => {
            let next = brute_force::record_failure(settings, &state, now);
            store.set_login_failures(&user_id, &next).await.map_err(|_| LoginFailure::Unavailable)?;
            Err(failure)
        }
    }
}

async fn check_password(
    store: &dyn Store,
    hasher: &PasswordHasher,
    realm: &RealmContext,
    login: &str,
    password: SecretString,
    now: UnixTime,
) -> Result<User, LoginFailure> {
    let user = find_user(store, realm, login).await?.filter(|u| u.service_account_client_id.is_none());
    let credential = match &user {
        Some(user) => store.password_credential(&user.id).await.map_err(|_| LoginFailure::Unavailable)?,
        None => None,
    };
    let imported = credential.as_ref().is_some_and(|c| c.credential_data != ARGON2_PHC_CREDENTIAL_DATA);
    let stored = credential.map(|c| {
        if c.credential_data == ARGON2_PHC_CREDENTIAL_DATA {
            StoredPassword::Phc(c.secret_data)
        } else {
            StoredPassword::Keycloak { secret_data: c.secret_data, credential_data: c.credential_data }
        }
    });
    let matches = hasher.verify(password.clone(), stored).await;
    if let (true, true, Some(user)) = (matches, imported, &user) {
        rehash(store, hasher, &user.id, password, now).await;
    }
    match user {
        Some(user) if matches && user.enabled => Ok(user),
        Some(user) if matches => Err(LoginFailure::Disabled { user_id: user.id }),
        Some(user) => Err(LoginFailure::InvalidCredentials { user_id: Some(user.id) }),
        None => Err(LoginFailure::InvalidCredentials { user_id: None }),
    }
}

/// Replaces a password imported from Keycloak with our argon2id hash after it verified once. A
/// failure only logs: the imported hash still works next time.
async fn rehash(store: &dyn Store, hasher: &PasswordHasher, user_id: &str, password: SecretString, now: UnixTime) {
    let Ok(hash) = hasher.hash(password).await else { return };
    let credential = crate::domain::Credential {
        id: crate::domain::new_id(),
        user_id: user_id.to_string(),
        kind: "password".into(),
        secret_data: hash,
        credential_data: ARGON2_PHC_CREDENTIAL_DATA.into(),
        created_at: now,
    };
    match store.replace_password(&credential).await {
        Ok(()) => tracing::info!(user = user_id, "imported password re-hashed with argon2id"),
        Err(e) => tracing::warn!(user = user_id, error = %e, "imported password could not be re-hashed"),
    }
}
