//! Running Keycloak's required actions for a user: which one comes next, and what completing
//! UPDATE_PASSWORD, UPDATE_PROFILE and TERMS_AND_CONDITIONS writes. The browser pages that ask
//! for them are `crate::http::required_actions`; CONFIGURE_TOTP and VERIFY_EMAIL complete
//! through the OTP and e-mail modules. A completed action is removed from the user's stored
//! `requiredActions`, so a login cut off half-way resumes at the next one.

use crate::admin::user_profile::{self, Editor, UpConfig};
use crate::clock::UnixTime;
use crate::crypto::password::PasswordHasher;
use crate::crypto::SecretString;
use crate::domain::required_actions::RequiredActionProvider;
use crate::domain::{Realm, User};
use crate::store::sessions::SessionWithClients;
use crate::store::{Store, StoreError};

use super::{set_password, NewPassword, PasswordError};

pub const UPDATE_PASSWORD: &str = "UPDATE_PASSWORD";
pub const UPDATE_PROFILE: &str = "UPDATE_PROFILE";
pub const TERMS_AND_CONDITIONS: &str = "TERMS_AND_CONDITIONS";
pub const VERIFY_EMAIL: &str = "VERIFY_EMAIL";
pub const CONFIGURE_TOTP: &str = "CONFIGURE_TOTP";

/// The actions Portcullis runs; a pending action of another enabled provider (webauthn
/// registration, delete_account, ...) still stops the login with a page saying so.
pub const RUNNABLE: &[&str] = &[UPDATE_PASSWORD, UPDATE_PROFILE, TERMS_AND_CONDITIONS, VERIFY_EMAIL, CONFIGURE_TOTP];

/// The user attribute Keycloak's TERMS_AND_CONDITIONS writes: when they were accepted (seconds).
pub const TERMS_ACCEPTED_ATTRIBUTE: &str = "terms_and_conditions";

/// The next action to run: of the user's pending actions and those a link asked for (`extra`),
/// the enabled provider's first in the realm's order (priority, then name), as Keycloak runs
/// them. `None` when nothing is left.
pub fn next(providers: &[RequiredActionProvider], pending: &[String], extra: &[String]) -> Option<String> {
    let mut ordered: Vec<&RequiredActionProvider> = providers.iter().filter(|p| p.enabled).collect();
    ordered.sort_by(|a, b| a.priority.cmp(&b.priority).then_with(|| a.name.cmp(&b.name)));
    ordered
        .into_iter()
        .find(|p| pending.iter().chain(extra).any(|a| a.eq_ignore_ascii_case(&p.alias)))
        .map(|p| p.alias.clone())
}

/// What a form refused, in the words the page shows; `field` names the input it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub field: Option<String>,
    pub message: String,
}

impl FormError {
    fn new(field: Option<&str>, message: impl Into<String>) -> Self {
        Self { field: field.map(str::to_string), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("{}", .0.first().map(|e| e.message.as_str()).unwrap_or("invalid input"))]
    Form(Vec<FormError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed")]
    Hash,
    #[error("a dependency is unavailable")]
    Unavailable,
}

/// Removes `alias` from the user's stored required actions.
pub async fn complete(store: &dyn Store, user: &mut User, alias: &str) -> Result<(), StoreError> {
    let before = user.required_actions.len();
    user.required_actions.retain(|a| !a.eq_ignore_ascii_case(alias));
    if user.required_actions.len() != before {
        store.update_user(user).await?;
    }
    Ok(())
}

/// UPDATE_PASSWORD: `password-new` and `password-confirm` must match and meet the realm's policy
/// (Keycloak's texts). The new password is permanent, so the action goes with it; the user's
/// sessions end as on any password change (`revokeSessionsOnPasswordChange`): those are returned,
/// for their clients to be told.
pub async fn update_password(
    store: &dyn Store,
    hasher: &PasswordHasher,
    realm: &Realm,
    user: &mut User,
    new: SecretString,
    confirm: SecretString,
    now: UnixTime,
) -> Result<Vec<SessionWithClients>, ActionError> {
    if new.expose().is_empty() {
        return Err(ActionError::Form(vec![FormError::new(Some("password-new"), "Please specify password.")]));
    }
    if new.expose() != confirm.expose() {
        return Err(ActionError::Form(vec![FormError::new(Some("password-confirm"), "Passwords don't match.")]));
    }
    let ended = match set_password(store, hasher, realm, user, NewPassword { value: new, temporary: false }, now, None).await {
        Ok(ended) => ended,
        Err(PasswordError::Policy(violation)) => {
            return Err(ActionError::Form(vec![FormError::new(Some("password-new"), violation.message())]))
        }
        Err(PasswordError::Empty) => {
            return Err(ActionError::Form(vec![FormError::new(Some("password-new"), "Please specify password.")]))
        }
        Err(PasswordError::Hash) => return Err(ActionError::Hash),
        Err(PasswordError::Store(e)) => return Err(ActionError::Store(e)),
    };
    user.required_actions.retain(|a| a != UPDATE_PASSWORD);
    Ok(ended)
}

/// The fields of the profile form (and of registration): absent ones keep the user's value.
#[derive(Debug, Default, Clone)]
pub struct ProfileForm {
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

fn cleaned(value: &Option<String>) -> Option<Option<String>> {
    value.as_ref().map(|v| Some(v.trim().chars().take(1024).collect::<String>()).filter(|v| !v.is_empty()))
}

/// Applies the form to `user` and checks the result against the realm's user profile as the
/// user's own edit (Keycloak's `UPDATE_PROFILE` context): the username only when
/// `editUsernameAllowed` (or `registration` is true), a changed e-mail unverified again and free
/// unless `duplicateEmailsAllowed`.
pub async fn apply_profile(
    store: &dyn Store,
    realm: &Realm,
    config: &UpConfig,
    user: &mut User,
    form: &ProfileForm,
    registration: bool,
) -> Result<(), ActionError> {
    let before = user.clone();
    let settings = &realm.settings;
    let mut errors = Vec::new();
    if registration || settings.edit_username_allowed {
        if let Some(Some(username)) = cleaned(&form.username) {
            user.username = username.to_lowercase();
        } else if form.username.is_some() {
            errors.push(FormError::new(Some("username"), "Please specify username."));
        }
    }
    if let Some(email) = cleaned(&form.email) {
        user.email = email.map(|e| e.to_lowercase());
    }
    if let Some(first) = cleaned(&form.first_name) {
        user.first_name = first;
    }
    if let Some(last) = cleaned(&form.last_name) {
        user.last_name = last;
    }
    if user.email != before.email {
        user.email_verified = false;
    }
    let profile_before = (!registration).then_some(&before);
    for violation in user_profile::violations(config, Editor::User, profile_before, user) {
        let field = violation["field"].as_str().map(str::to_string);
        errors.push(FormError { field, message: user_profile::form_message(&violation) });
    }
    if registration || (errors.is_empty() && user.username != before.username) {
        if store.user_by_username(&realm.id, &user.username).await?.is_some_and(|other| other.id != user.id) {
            errors.push(FormError::new(Some("username"), "Username already exists."));
        }
    }
    if let (Some(email), false) = (&user.email, settings.duplicate_emails_allowed) {
        if user.email != before.email || registration {
            let others = store.users_with_email(&realm.id, email, &user.id).await?;
            if !others.is_empty() {
                errors.push(FormError::new(Some("email"), "Email already exists."));
            }
        }
    }
    if !errors.is_empty() {
        *user = before;
        return Err(ActionError::Form(errors));
    }
    Ok(())
}

/// UPDATE_PROFILE: applies and stores the form, and completes the action.
pub async fn update_profile(
    store: &dyn Store,
    realm: &Realm,
    config: &UpConfig,
    user: &mut User,
    form: &ProfileForm,
) -> Result<(), ActionError> {
    apply_profile(store, realm, config, user, form, false).await?;
    user.required_actions.retain(|a| !a.eq_ignore_ascii_case(UPDATE_PROFILE));
    match store.update_user(user).await {
        Err(StoreError::Conflict(_)) => Err(ActionError::Form(vec![FormError::new(Some("username"), "Username already exists.")])),
        other => other.map(|_| ()).map_err(ActionError::from),
    }
}

/// TERMS_AND_CONDITIONS accepted: Keycloak records when, in the `terms_and_conditions`
/// attribute, and completes the action.
pub async fn accept_terms(store: &dyn Store, user: &mut User, now: UnixTime) -> Result<(), StoreError> {
    user.attributes.insert(TERMS_ACCEPTED_ATTRIBUTE.into(), vec![now.to_string()]);
    user.required_actions.retain(|a| !a.eq_ignore_ascii_case(TERMS_AND_CONDITIONS));
    store.update_user(user).await.map(|_| ())
}

/// The stored user profile of the realm (Keycloak's default when none was set).
pub async fn profile_config(store: &dyn Store, realm: &Realm) -> Result<UpConfig, StoreError> {
    Ok(user_profile::parse_stored(store.user_profile_config(&realm.id).await?.as_deref()))
}

/// Keycloak's triggers that add an action at login without an admin asking: VERIFY_EMAIL when
/// the realm's `verifyEmail` is on and the user has an e-mail not yet verified; UPDATE_PASSWORD
/// when the password is older than the policy's `forceExpiredPasswordChange` days.
pub fn triggered(realm: &Realm, user: &User, password_created_at: Option<UnixTime>, now: UnixTime) -> Vec<String> {
    let mut actions = Vec::new();
    if realm.settings.verify_email && !user.email_verified && user.email.is_some() {
        actions.push(VERIFY_EMAIL.to_string());
    }
    let policy = super::password_policy::PasswordPolicy::of(realm.settings.password_policy.as_deref());
    if let (Some(days), Some(created)) = (policy.expire_days(), password_created_at) {
        if now >= created + days * 86_400 {
            actions.push(UPDATE_PASSWORD.to_string());
        }
    }
    actions
}
