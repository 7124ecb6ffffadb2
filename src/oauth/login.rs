//! Checking a login, shared by the password grant and the login form: the lookup (by username,
//! or email when the realm allows), the argon2id check on the bounded pool (a dummy hash for
//! unknown users, so timing reveals nothing; budgeted per client address), the disabled-account
//! rule, the one-time code of a user holding an OTP credential (given with the password on the
//! direct grant, or in the browser's second step, `check_otp`), and then what stops a login: a
//! second factor Portcullis cannot check (webauthn, ...) refuses it, never lets it through, and
//! pending required actions go to the browser's action pages (the password grant refuses). Brute-force detection counts wrong passwords and wrong codes alike.

use super::OAuthError;
use crate::crypto::password::{PasswordHasher, Refused, StoredPassword};
use crate::crypto::{MasterKey, SecretString};
use crate::domain::{User, CHECKED_CREDENTIAL_TYPES};
use crate::realm::import::ARGON2_PHC_CREDENTIAL_DATA;
use crate::realm::RealmContext;
use crate::clock::UnixTime;
use crate::store::{LoginFailureRecord, Store};
use crate::users::otp::{self, OtpError, OTP_CREDENTIAL_TYPE};

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
    /// The password is right and the user holds an OTP credential, but no code was given: the
    /// browser asks for it next (`check_otp`); the direct grant answers as Keycloak's ValidateOTP.
    OtpRequired { user_id: String },
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
            | Self::UncheckedFactor { user_id, .. }
            | Self::OtpRequired { user_id } => Some(user_id),
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
            Self::UncheckedFactor { .. } | Self::OtpRequired { .. } => "invalid_user_credentials",
        }
    }

    /// Keycloak answers bad credentials with 401 invalid_grant, and so a missing or wrong
    /// one-time code (its direct-grant ValidateOTP: "Invalid user credentials").
    pub fn into_oauth(self) -> OAuthError {
        match self {
            Self::InvalidCredentials { .. } | Self::Locked { .. } | Self::OtpRequired { .. } => {
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
    /// The one-time code given with the password (the direct grant's `otp`/`totp` parameter);
    /// `None` from the browser's first step.
    pub otp: Option<&'a str>,
}

/// Checks the credentials, applying the realm's brute-force detection when it is on: the
/// password, then, for a user holding an OTP credential, `attempt.otp` (`OtpRequired` without
/// it: nothing is counted then, the password was right). Then refuses a user whose login
/// Portcullis cannot complete (required actions, unchecked factors).
pub async fn authenticate(
    store: &dyn Store,
    hasher: &PasswordHasher,
    master: &MasterKey,
    realm: &RealmContext,
    attempt: LoginAttempt<'_>,
    now: UnixTime,
) -> Result<User, LoginFailure> {
    let code = attempt.otp;
    let (mut user, credentials, failures) = check_brute_force(store, hasher, realm, attempt, now).await?;
    if credentials.iter().any(|c| c.kind == OTP_CREDENTIAL_TYPE) {
        let Some(code) = code else {
            return Err(LoginFailure::OtpRequired { user_id: user.id });
        };
        second_factor(store, master, realm, &user, code, failures.as_ref(), now).await?;
    } else {
        forget_failures(store, &user.id, failures.as_ref()).await?;
    }
    add_triggered_actions(store, realm, &mut user, &credentials, now).await?;
    completable(realm, user, &credentials)
}

/// The browser's second step, after `authenticate` answered `OtpRequired` and the OTP form
/// posted `code`: the user (still enabled, not locked by brute-force detection), the code (a
/// wrong one counts as a failed login, and against `address`'s failure budget as a wrong
/// password does: `Throttled` once spent), then the same refusals as `authenticate`.
#[allow(clippy::too_many_arguments)]
pub async fn check_otp(
    store: &dyn Store,
    hasher: &PasswordHasher,
    master: &MasterKey,
    realm: &RealmContext,
    user_id: &str,
    code: &str,
    address: &str,
    now: UnixTime,
) -> Result<User, LoginFailure> {
    if let Err(Refused::Throttled { retry_after } | Refused::Busy { retry_after }) = hasher.charge_failure(address, now) {
        tracing::info!(address, "one-time code check refused: too many failures from this address");
        return Err(LoginFailure::Throttled { retry_after });
    }
    let checked = check_otp_charged(store, master, realm, user_id, code, address, now).await;
    if !matches!(checked, Err(LoginFailure::InvalidCredentials { .. } | LoginFailure::Locked { .. })) {
        hasher.forgive(address, now);
    }
    checked
}

async fn check_otp_charged(
    store: &dyn Store,
    master: &MasterKey,
    realm: &RealmContext,
    user_id: &str,
    code: &str,
    address: &str,
    now: UnixTime,
) -> Result<User, LoginFailure> {
    let user = store.user_by_id(&realm.realm.id, user_id).await.map_err(|_| LoginFailure::Unavailable)?;
    let Some(user) = user.filter(|u| u.service_account_client_id.is_none()) else {
        return Err(LoginFailure::InvalidCredentials { user_id: None });
    };
    if !user.enabled {
        return Err(LoginFailure::Disabled { user_id: user.id });
    }
    let failures = lock_state(store, realm, &user.id, now).await?;
    let credentials = store.credentials_of_user(&user.id).await.map_err(|_| LoginFailure::Unavailable)?;
    if let Err(failure) = second_factor(store, master, realm, &user, code, failures.as_ref(), now).await {
        tracing::info!(realm = %realm.realm.name, user = %user.id, address, "one-time code refused");
        return Err(failure);
    }
    let mut user = user;
    add_triggered_actions(store, realm, &mut user, &credentials, now).await?;
    completable(realm, user, &credentials)
}

/// Counts a failed login of `user_id` for brute-force detection when the realm has it on (the
/// direct grant counts a missing code, as Keycloak's ValidateOTP fails the flow).
pub async fn count_failure(store: &dyn Store, realm: &RealmContext, user_id: &str, now: UnixTime) -> Result<(), LoginFailure> {
    if !realm.realm.settings.brute_force_protected {
        return Ok(());
    }
    let state = store.login_failures(user_id).await.map_err(|_| LoginFailure::Unavailable)?;
    let next = brute_force::record_failure(&realm.realm.settings, &state, now);
    store.set_login_failures(user_id, &next).await.map_err(|_| LoginFailure::Unavailable)
}

/// Checks the one-time code; a wrong one is counted like a wrong password, a right one clears
/// the failures.
async fn second_factor(
    store: &dyn Store,
    master: &MasterKey,
    realm: &RealmContext,
    user: &User,
    code: &str,
    failures: Option<&LoginFailureRecord>,
    now: UnixTime,
) -> Result<(), LoginFailure> {
    match otp::verify(store, master, &realm.realm.settings, &user.id, code, now).await {
        Ok(()) => forget_failures(store, &user.id, failures).await,
        Err(OtpError::Unavailable) => Err(LoginFailure::Unavailable),
        Err(OtpError::InvalidCode | OtpError::NotConfigured | OtpError::InvalidSecret) => {
            if let Some(state) = failures {
                let next = brute_force::record_failure(&realm.realm.settings, state, now);
                store.set_login_failures(&user.id, &next).await.map_err(|_| LoginFailure::Unavailable)?;
            }
            Err(LoginFailure::InvalidCredentials { user_id: Some(user.id.clone()) })
        }
    }
}

/// After every factor passed: required actions and factors Portcullis cannot check refuse.
fn completable(realm: &RealmContext, user: User, credentials: &[crate::domain::Credential]) -> Result<User, LoginFailure> {
    let mut kinds: Vec<String> = credentials
        .iter()
        .map(|c| c.kind.clone())
        .filter(|kind| !CHECKED_CREDENTIAL_TYPES.contains(&kind.as_str()))
        .collect();
    kinds.sort();
    kinds.dedup();
    if !kinds.is_empty() {
        tracing::warn!(realm = %realm.realm.name, user = %user.id, kinds = ?kinds,
            "login refused: the user has a second factor Portcullis cannot check yet (remove it to let the password alone suffice)");
        return Err(LoginFailure::UncheckedFactor { user_id: user.id, kinds });
    }
    // as in Keycloak, a pending action whose provider is disabled or not registered is skipped;
    // the browser runs the others (`crate::http::required_actions`), the password grant refuses.
    // Checked after every factor, so running the actions never skips one.
    let blocking = crate::domain::required_actions::blocking(&realm.realm.settings.required_actions, &user.required_actions);
    if !blocking.is_empty() {
        let actions: Vec<String> = blocking.into_iter().cloned().collect();
        tracing::info!(realm = %realm.realm.name, user = %user.id, actions = ?actions, "required actions pending");
        return Err(LoginFailure::ActionsRequired { user_id: user.id, actions });
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

/// The user's brute-force state when the realm's detection is on; `Locked` while locked.
async fn lock_state(
    store: &dyn Store,
    realm: &RealmContext,
    user_id: &str,
    now: UnixTime,
) -> Result<Option<LoginFailureRecord>, LoginFailure> {
    if !realm.realm.settings.brute_force_protected {
        return Ok(None);
    }
    let state = store.login_failures(user_id).await.map_err(|_| LoginFailure::Unavailable)?;
    if state.locked_forever || state.locked_until.is_some_and(|until| until > now) {
        return Err(LoginFailure::Locked { user_id: user_id.to_string() });
    }
    Ok(Some(state))
}

async fn forget_failures(store: &dyn Store, user_id: &str, failures: Option<&LoginFailureRecord>) -> Result<(), LoginFailure> {
    match failures {
        Some(state) if state.failures > 0 => {
            store.set_login_failures(user_id, &LoginFailureRecord::default()).await.map_err(|_| LoginFailure::Unavailable)
        }
        _ => Ok(()),
    }
}

/// The password check under brute-force detection: refused while locked, a wrong password
/// counted. A right one clears nothing yet (the caller does, once every factor passed), so a
/// known password cannot reset the count of wrong one-time codes.
async fn check_brute_force(
    store: &dyn Store,
    hasher: &PasswordHasher,
    realm: &RealmContext,
    attempt: LoginAttempt<'_>,
    now: UnixTime,
) -> Result<(User, Vec<crate::domain::Credential>, Option<LoginFailureRecord>), LoginFailure> {
    let result = check_password(store, hasher, realm, attempt, now).await;
    let user_id = match &result {
        Ok((user, _)) => user.id.clone(),
        Err(LoginFailure::InvalidCredentials { user_id: Some(id) }) => id.clone(),
        Err(_) => return result.map(|(user, credentials)| (user, credentials, None)),
    };
    let state = lock_state(store, realm, &user_id, now).await?;
    match (result, state) {
        (Ok((user, credentials)), state) => Ok((user, credentials, state)),
        (Err(failure), Some(state)) => {
            let next = brute_force::record_failure(&realm.realm.settings, &state, now);
            store.set_login_failures(&user_id, &next).await.map_err(|_| LoginFailure::Unavailable)?;
            Err(failure)
        }
        (Err(failure), None) => Err(failure),
    }
}

async fn check_password(
    store: &dyn Store,
    hasher: &PasswordHasher,
    realm: &RealmContext,
    attempt: LoginAttempt<'_>,
    now: UnixTime,
) -> Result<(User, Vec<crate::domain::Credential>), LoginFailure> {
    let LoginAttempt { login, password, address, otp: _ } = attempt;
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
