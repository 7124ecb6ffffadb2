//! Self-registration (`registrationAllowed`): a new user from the registration form, checked as
//! Keycloak's RegistrationUserCreation and RegistrationPassword check it: the user profile as the
//! user's own edit, `registrationEmailAsUsername`, `duplicateEmailsAllowed`, the password policy,
//! then stored with the realm's default roles, default groups and default required actions.

use crate::clock::UnixTime;
use crate::crypto::password::PasswordHasher;
use crate::crypto::SecretString;
use crate::domain::{new_id, Credential, Realm, User};
use crate::realm::import::ARGON2_PHC_CREDENTIAL_DATA;
use crate::store::{Store, StoreError};

use super::actions::{apply_profile, profile_config, ActionError, FormError, ProfileForm};

/// What the registration form posted.
pub struct Registration {
    pub profile: ProfileForm,
    pub password: SecretString,
    pub confirm: SecretString,
}

fn refuse(field: &str, message: impl Into<String>) -> ActionError {
    ActionError::Form(vec![FormError { field: Some(field.to_string()), message: message.into() }])
}

/// Creates the user, or says what the form got wrong (every profile error at once, then the
/// password's).
pub async fn register(
    store: &dyn Store,
    hasher: &PasswordHasher,
    realm: &Realm,
    form: Registration,
    now: UnixTime,
) -> Result<User, ActionError> {
    let mut profile = form.profile;
    if realm.settings.registration_email_as_username {
        profile.username = profile.email.clone();
    }
    let mut user = User {
        id: new_id(),
        realm_id: realm.id.clone(),
        username: String::new(),
        email: None,
        first_name: None,
        last_name: None,
        enabled: true,
        email_verified: false,
        service_account_client_id: None,
        created_at: now,
        required_actions: crate::domain::required_actions::for_new_users(&realm.settings.required_actions),
        attributes: Default::default(),
    };
    let config = profile_config(store, realm).await?;
    let mut errors = match apply_profile(store, realm, &config, &mut user, &profile, true).await {
        Ok(()) => Vec::new(),
        Err(ActionError::Form(errors)) => errors,
        Err(e) => return Err(e),
    };
    if profile.username.as_deref().is_none_or(|u| u.trim().is_empty()) && !errors.iter().any(|e| e.field.as_deref() == Some("username")) {
        let (field, message) = if realm.settings.registration_email_as_username { ("email", "Please specify email.") } else { ("username", "Please specify username.") };
        errors.insert(0, FormError { field: Some(field.into()), message: message.into() });
    }
    if !errors.is_empty() {
        return Err(ActionError::Form(errors));
    }
    if form.password.expose().is_empty() {
        return Err(refuse("password", "Please specify password."));
    }
    if form.password.expose() != form.confirm.expose() {
        return Err(refuse("password-confirm", "Password confirmation doesn't match."));
    }
    let policy = super::password_policy::PasswordPolicy::of(realm.settings.password_policy.as_deref());
    policy.check(form.password.expose(), &user).map_err(|v| refuse("password", v.message()))?;
    for action in super::actions::triggered(realm, &user, Some(now), now) {
        if !user.required_actions.contains(&action) {
            user.required_actions.push(action);
        }
    }
    let hash = hasher.hash(form.password).await.map_err(|_| ActionError::Hash)?;
    let credential = Credential {
        id: new_id(),
        user_id: user.id.clone(),
        kind: "password".into(),
        secret_data: hash,
        credential_data: ARGON2_PHC_CREDENTIAL_DATA.into(),
        created_at: now,
        user_label: None,
        priority: 0,
    };
    let default_role = crate::realm::defaults::default_roles_name(&realm.name);
    let roles = store.realm_roles(&realm.id).await?;
    let role_ids: Vec<String> = roles.iter().filter(|r| !r.client_role && r.name == default_role).map(|r| r.id.clone()).collect();
    match store.create_user(&user, &[credential], &role_ids).await {
        Err(StoreError::Conflict(_)) => Err(refuse("username", "Username already exists.")),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(user),
    }
}
