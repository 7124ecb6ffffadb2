//! Checking a username and password, shared by the password grant and the login form: the
//! lookup (by username, or email when the realm allows), the argon2id check on the bounded pool
//! (a dummy hash for unknown users, so timing reveals nothing; budgeted per client address), the
//! disabled-account rule, and, once the password is right, what Portcullis cannot do yet: a user
//! with required actions or a second factor it cannot check is refused, never let through.

use super::OAuthError;
use crate::crypto::password::{PasswordHasher, Refused, StoredPassword};
use crate::crypto::SecretString;
use crate::domain::{User, CHECKED_CREDENTIAL_TYPES};
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
    /// The client address used up its budget of failed password checks; nothing was hashed.
    Throttled { retry_after: u64 },
    /// The password-check queue is full; nothing was hashed.
    Busy { retry_after: u64 },
    /// The password is right, but the user has required actions pending (a temporary password,
    /// an admin's request), which Portcullis cannot run yet (Keycloak: "Account is not fully set up").
    ActionsRequired { user_id: String, actions: Vec<String> },
    /// The password is right, but the user also holds a second factor (`otp`, `webauthn`, ...)
    /// that Portcullis cannot check yet: the password alone is not enough.
    UncheckedFactor { user_id: String, kinds: Vec<String> },
}

/// What the password grant answers a user who is not fully set up (Keycloak's text).
pub const NOT_FULLY_SET_UP: &str = "Account is not fully set up";

impl LoginFailure {
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::InvalidCredentials { user_id } => user_id.as_deref(),
            Self::Disabled { user_id }
            | Self::Locked { user_id }
            | Self::ActionsRequired { user_id, .. }
            | Self::UncheckedFactor { user_id, .. } => Some(user_id),
            Self::Unavailable | Self::Throttled { .. } | Self::Busy { .. } => None,
        }
    }

    /// Keycloak's event error names.
    pub fn event_error(&self) -> &'static str {
        match self {
            Self::InvalidCredentials { user_id: None } => "user_not_found",
            Self::InvalidCredentials { .. } => "invalid_user_credentials",
            Self::Disabled { .. } => "user_disabled",
            Self::Locked { .. } => "user_temporarily_disabled",
            Self::Unavailable | Self::Busy { .. } => "unavailable",
            Self::Throttled { .. } => "too_many_attempts",
            Self::ActionsRequired { .. } => "resolve_required_actions",
            Self::UncheckedFactor { .. } => "invalid_user_credentials",
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
            Self::Throttled { retry_after } => OAuthError::SlowDown { retry_after },
            Self::Busy { retry_after } => OAuthError::Overloaded { retry_after },
            Self::ActionsRequired { .. } => OAuthError::invalid_grant(NOT_FULLY_SET_UP),
            Self::UncheckedFactor { kinds, .. } => OAuthError::invalid_grant(format!(
                "{NOT_FULLY_SET_UP}: the user has a second factor ({}) that this server cannot check",
                kinds.join(", ")
            )),
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

/// Who is logging in, from where (the address the per-address password budget counts; see
/// `crate::ops::rate_limit::client_ip`).
pub struct LoginAttempt<'a> {
    pub login: &'a str,
    pub password: SecretString,
    pub address: &'a str,
}

/// Checks the credentials, applying the realm's brute-force detection when it is on, then
/// refuses a user whose login Portcullis cannot complete (required actions, unchecked factors).
pub async fn authenticate(
    store: &dyn Store,
    hasher: &PasswordHasher,
    realm: &RealmContext,
    attempt: LoginAttempt<'_>,
    now: UnixTime,
) -> Result<User, LoginFailure> {
    let (mut user, credentials) = check_brute_force(store, hasher, realm, attempt, now).await?;
    add_triggered_actions(store, realm, &mut user, &credentials, now).await?;
    // as in Keycloak, a pending action whose provider is disabled or not registered is skipped
    let blocking = crate::domain::required_actions::blocking(&realm.realm.settings.required_actions, &user.required_actions);
    if !blocking.is_empty() {
        let actions: Vec<String> = blocking.into_iter().cloned().collect();
        tracing::info!(realm = %realm.realm.name, user = %user.id, actions = ?actions,
            "login refused: required actions pending, which Portcullis cannot run yet");
        return Err(LoginFailure::ActionsRequired { user_id: user.id, actions });
    }
    let mut kinds: Vec<String> = credentials
        .into_iter()
        .map(|c| c.kind)
        .filter(|kind| !CHECKED_CREDENTIAL_TYPES.contains(&kind.as_str()))
        .collect();
    kinds.sort();
    kinds.dedup();
    if !kinds.is_empty() {
        tracing::warn!(realm = %realm.realm.name, user = %user.id, kinds = ?kinds,
            "login refused: the user has a second factor Portcullis cannot check yet (remove it to let the password alone suffice)");
        return Err(LoginFailure::UncheckedFactor { user_id: user.id, kinds });
    }
    Ok(user)
}

/// Keycloak's required-action triggers (`verifyEmail`, `forceExpiredPasswordChange`) add their
/// action to the user, stored, as Keycloak's `evaluateTriggers` does.
async fn add_triggered_actions(
    store: &dyn Store,
    realm: &RealmContext,
    user: &mut User,
    credentials: &[crate::domain::Credential],
    now: UnixTime,
) -> Result<(), LoginFailure> {
    let password_created = credentials.iter().find(|c| c.kind == "password").map(|c| c.created_at);
    let triggered = crate::users::actions::triggered(&realm.realm, user, password_created, now);
    let new: Vec<String> = triggered.into_iter().filter(|a| !user.required_actions.contains(a)).collect();
    if new.is_empty() {
        return Ok(());
    }
    user.required_actions.extend(new);
    store.update_user(user).await.map_err(|_| LoginFailure::Unavailable)?;
    Ok(())
}

async fn check_brute_force(
    store: &dyn Store,
    hasher: &PasswordHasher,
    realm: &RealmContext,
    attempt: LoginAttempt<'_>,
    now: UnixTime,
) -> Result<(User, Vec<crate::domain::Credential>), LoginFailure> {
    let result = check_password(store, hasher, realm, attempt, now).await;
    let settings = &realm.realm.settings;
    if !settings.brute_force_protected {
        return result;
    }
    let user_id = match &result {
        Ok((user, _)) => user.id.clone(),
        Err(LoginFailure::InvalidCredentials { user_id: Some(id) }) => id.clone(),
        Err(_) => return result,
    };
    let state = store.login_failures(&user_id).await.map_err(|_| LoginFailure::Unavailable)?;
    if state.locked_forever || state.locked_until.is_some_and(|until| until > now) {
        return Err(LoginFailure::Locked { user_id });
    }
    match result {
        Ok(found) => {
            if state.failures > 0 {
                store.set_login_failures(&user_id, &LoginFailureRecord::default()).await.map_err(|_| LoginFailure::Unavailable)?;
            }
            Ok(found)
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
    attempt: LoginAttempt<'_>,
    now: UnixTime,
) -> Result<(User, Vec<crate::domain::Credential>), LoginFailure> {
    let LoginAttempt { login, password, address } = attempt;
    let user = find_user(store, realm, login).await?.filter(|u| u.service_account_client_id.is_none());
    let credentials = match &user {
        Some(user) => store.credentials_of_user(&user.id).await.map_err(|_| LoginFailure::Unavailable)?,
        None => Vec::new(),
    };
    let credential = credentials.iter().find(|c| c.kind == "password").cloned();
    let imported = credential.as_ref().is_some_and(|c| c.credential_data != ARGON2_PHC_CREDENTIAL_DATA);
    let stored = credential.map(|c| {
        if c.credential_data == ARGON2_PHC_CREDENTIAL_DATA {
            StoredPassword::Phc(c.secret_data)
        } else {
            StoredPassword::Keycloak { secret_data: c.secret_data, credential_data: c.credential_data }
        }
    });
    let matches = match hasher.verify_login(address, now, password.clone(), stored).await {
        Ok(matches) => matches,
        Err(Refused::Throttled { retry_after }) => {
            tracing::info!(address, "password check refused: too many failures from this address");
            return Err(LoginFailure::Throttled { retry_after });
        }
        Err(Refused::Busy { retry_after }) => {
            tracing::warn!("password check refused: the hashing queue is full");
            return Err(LoginFailure::Busy { retry_after });
        }
    };
    if let (true, true, Some(user)) = (matches, imported, &user) {
        rehash(store, hasher, &user.id, password, now).await;
    }
    match user {
        Some(user) if matches && user.enabled => Ok((user, credentials)),
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
        user_label: None,
        priority: 0,
    };
    match store.replace_password(&credential).await {
        Ok(()) => tracing::info!(user = user_id, "imported password re-hashed with argon2id"),
        Err(e) => tracing::warn!(user = user_id, error = %e, "imported password could not be re-hashed"),
    }
}
