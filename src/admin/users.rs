//! `/admin/realms/{realm}/users`: search, count, create, read, update and delete users, reset
//! a password, and see or end a user's sessions and consents. Passwords are hashed with
//! argon2id on the bounded pool; they never reach an admin event or a log line.

use std::collections::BTreeMap;

use super::context::{Operation, Resource};
use super::representation::{
    millis, session_representation, to_event_json, user_representation, AdditionalGrant,
    ConsentRepresentation, UserSessionRepresentation, UserView,
};
use super::user_search::{Plan, UserSearch};
use super::{AdminContext, AdminError, Page, Permission};
use crate::domain::{new_id, Client, Credential, Realm, User};
use crate::realm::defaults::default_roles_name;
use crate::realm::import::ARGON2_PHC_CREDENTIAL_DATA;
use crate::realm::representation::{CredentialRepresentation, UserRepresentation};
use crate::session;
use crate::store::{SessionWithClients, StoreError};
use crate::users::{set_password, NewPassword, PasswordError};

pub const USERNAME_TAKEN: &str = "User exists with same username";
pub const EMAIL_TAKEN: &str = "User exists with same email";
const USER_NOT_FOUND: &str = "User not found";

async fn find_user(ctx: &AdminContext<'_>, realm: &Realm, id: &str) -> Result<User, AdminError> {
    ctx.store.user_by_id(&realm.id, id).await?.ok_or_else(|| AdminError::not_found(USER_NOT_FOUND))
}

/// The realm (after the permission check) and the user in it.
pub async fn realm_and_user(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    need: Permission,
) -> Result<(Realm, User), AdminError> {
    let realm = ctx.realm(realm, need).await?;
    let user = find_user(ctx, &realm, id).await?;
    Ok((realm, user))
}

/// `GET .../users`: one page of the users the search finds, ordered by username; with
/// `brief`, Keycloak's brief representation (no attributes, no required actions).
pub async fn search(
    ctx: &AdminContext<'_>,
    realm: &str,
    query: &UserSearch,
    page: Page,
    brief: bool,
) -> Result<Vec<serde_json::Value>, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewUsers).await?;
    let Plan::Filter(filter) = query.plan(page, false)? else { return Ok(Vec::new()) };
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let users = ctx.store.search_users(&realm.id, &filter).await?;
    let clients = ctx.clients(&realm).await?;
    users
        .iter()
        .map(|u| {
            let value = if brief {
                serde_json::to_value(brief_representation(u))
            } else {
                serde_json::to_value(user_representation(u, &clients))
            };
            value.map_err(|e| AdminError::Internal(e.to_string()))
        })
        .collect()
}

/// Keycloak's `ModelToRepresentation.toBriefRepresentation`.
fn brief_representation(user: &User) -> UserRepresentation {
    UserRepresentation {
        id: Some(user.id.clone()),
        username: Some(user.username.clone()),
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        enabled: Some(user.enabled),
        email_verified: Some(user.email_verified),
        created_timestamp: Some(millis(user.created_at)),
        ..UserRepresentation::default()
    }
}

/// `GET .../users/count`: how many regular users the same search finds.
pub async fn count(ctx: &AdminContext<'_>, realm: &str, query: &UserSearch) -> Result<i64, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewUsers).await?;
    match query.plan(Page::new(None, Some(-1)), true)? {
        Plan::Nobody => Ok(0),
        Plan::Filter(filter) => Ok(ctx.store.count_users(&realm.id, &filter).await?),
    }
}

/// `GET .../users/{id}`, with Keycloak's `totp`: whether the user holds an OTP credential (one
/// more read; a search's page leaves it false rather than read every user's credentials).
pub async fn get(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<UserView, AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ViewUsers).await?;
    let clients = ctx.clients(&realm).await?;
    let mut view = user_representation(&user, &clients);
    view.totp = !ctx.store.otp_credentials(&user.id).await?.is_empty();
    Ok(view)
}

fn clean(value: Option<&String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn check_email(email: &Option<String>) -> Result<(), AdminError> {
    match email {
        Some(e) if !e.contains('@') || e.len() > 255 || e.chars().any(char::is_whitespace) => {
            Err(AdminError::bad_request("Invalid email address"))
        }
        _ => Ok(()),
    }
}

async fn check_email_free(ctx: &AdminContext<'_>, user: &User) -> Result<(), AdminError> {
    if let Some(email) = &user.email {
        if !ctx.store.users_with_email(&user.realm_id, email, &user.id).await?.is_empty() {
            return Err(AdminError::conflict(EMAIL_TAKEN));
        }
    }
    Ok(())
}

/// The one password a request sets, from a list of CredentialRepresentations. Only plain
/// `password` values are accepted (hashed forms belong to realm import). `temporary` adds the
/// `UPDATE_PASSWORD` required action, as in Keycloak.
fn password_of(credentials: &[CredentialRepresentation]) -> Result<Option<NewPassword>, AdminError> {
    let mut password = None;
    for credential in credentials {
        password = Some(password_value(credential)?);
    }
    Ok(password)
}

fn password_value(credential: &CredentialRepresentation) -> Result<NewPassword, AdminError> {
    let kind = credential.kind.as_deref().unwrap_or("password");
    if kind != "password" {
        return Err(AdminError::bad_request(format!("Unsupported credential type {kind:?}")));
    }
    let value = credential
        .value
        .clone()
        .filter(|v| !v.expose().is_empty())
        .ok_or_else(|| AdminError::bad_request("A password credential needs a non-empty value"))?;
    Ok(NewPassword { value, temporary: credential.temporary == Some(true) })
}

/// The four attributes Keycloak 24+ keeps as the user's own fields: given in `attributes`,
/// they count as the field when the field itself is absent.
const ROOT_ATTRIBUTES: [&str; 4] = ["username", "email", "firstName", "lastName"];

/// The body's attributes with the root ones moved to their fields, empty lists dropped, and
/// the store's bounds checked.
fn take_attributes(rep: &mut UserRepresentation) -> Result<Option<BTreeMap<String, Vec<String>>>, AdminError> {
    let Some(mut attributes) = rep.attributes.take() else { return Ok(None) };
    for name in ROOT_ATTRIBUTES {
        let Some(values) = attributes.remove(name) else { continue };
        let field = match name {
            "username" => &mut rep.username,
            "email" => &mut rep.email,
            "firstName" => &mut rep.first_name,
            _ => &mut rep.last_name,
        };
        if field.is_none() {
            *field = values.into_iter().next();
        }
    }
    attributes.retain(|_, values| !values.is_empty());
    crate::domain::user::check_attributes(&attributes).map_err(|e| AdminError::bad_request(e.to_string()))?;
    Ok(Some(attributes))
}

/// Creates a user and returns its id. As in Keycloak: the username is lower-cased and unique,
/// `enabled` defaults to false, the realm's default roles are granted, and `realmRoles` /

/// A new user's required actions: those given, then the realm's default actions (enabled
/// providers with `defaultAction`), as Keycloak adds them to every user it creates.
fn with_default_actions(realm: &crate::domain::Realm, given: &[String]) -> Vec<String> {
    let mut actions = given.to_vec();
    for action in crate::domain::required_actions::for_new_users(&realm.settings.required_actions) {
        if !actions.contains(&action) {
            actions.push(action);
        }
    }
    actions
}

/// `clientRoles` in the body are ignored (grant roles through role-mappings).
pub async fn create(
    ctx: &AdminContext<'_>,
    realm: &str,
    mut rep: UserRepresentation,
) -> Result<String, AdminError> {
    let realm = ctx.realm(realm, Permission::ManageUsers).await?;
    let attributes = take_attributes(&mut rep)?.unwrap_or_default();
    let username = clean(rep.username.as_ref())
        .ok_or_else(|| AdminError::bad_request("User name is missing"))?
        .to_lowercase();
    if username.len() > 255 {
        return Err(AdminError::bad_request("User name is too long"));
    }
    let mut user = User {
        id: new_id(),
        realm_id: realm.id.clone(),
        username,
        email: clean(rep.email.as_ref()),
        first_name: clean(rep.first_name.as_ref()),
        last_name: clean(rep.last_name.as_ref()),
        enabled: rep.enabled.unwrap_or(false),
        email_verified: rep.email_verified.unwrap_or(false),
        service_account_client_id: None,
        created_at: ctx.now,
        required_actions: with_default_actions(&realm, rep.required_actions.as_deref().unwrap_or_default()),
        attributes,
    };
    let profile = super::user_profile::config_of(ctx, &realm).await?;
    super::user_profile::enforce(&profile, None, &user)?;
    check_email(&user.email)?;
    if ctx.store.user_by_username(&realm.id, &user.username).await?.is_some() {
        return Err(AdminError::conflict(USERNAME_TAKEN));
    }
    check_email_free(ctx, &user).await?;
    let mut credentials = Vec::new();
    if let Some(password) = password_of(rep.credentials.as_deref().unwrap_or_default())? {
        let policy = crate::users::password_policy::PasswordPolicy::of(realm.settings.password_policy.as_deref());
        if let Err(violation) = policy.check(password.value.expose(), &user) {
            // Keycloak's UsersResource answer; the rule broken goes to the log
            tracing::info!(realm = %realm.name, username = %user.username, rule = violation.key, "user not created: password policy not met");
            return Err(AdminError::Keycloak { status: 400, body: serde_json::json!({ "errorMessage": "Password policy not met" }) });
        }
        user.set_temporary_password(password.temporary);
        let hash = ctx.hasher.hash(password.value).await.map_err(|e| AdminError::Internal(e.to_string()))?;
        credentials.push(Credential {
            id: new_id(),
            user_id: user.id.clone(),
            kind: "password".into(),
            secret_data: hash,
            credential_data: ARGON2_PHC_CREDENTIAL_DATA.into(),
            created_at: ctx.now,
            user_label: None,
            priority: 0,
        });
    }
    let default_role = default_roles_name(&realm.name);
    let roles = ctx.store.realm_roles(&realm.id).await?;
    let role_ids: Vec<String> =
        roles.iter().filter(|r| !r.client_role && r.name == default_role).map(|r| r.id.clone()).collect();
    match ctx.store.create_user(&user, &credentials, &role_ids).await {
        Err(StoreError::Conflict(_)) => return Err(AdminError::conflict(USERNAME_TAKEN)),
        other => other?,
    }
    let clients = ctx.clients(&realm).await?;
    let event = to_event_json(&user_representation(&user, &clients));
    ctx.record(&realm.id, Operation::Create, Resource::User, &format!("users/{}", user.id), event).await;
    Ok(user.id)
}

/// Applies the fields present in the body. Disabling a user ends all their sessions at once
/// (their access tokens die with the session); a password in `credentials` is set as by
/// reset-password.
pub async fn update(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    mut rep: UserRepresentation,
) -> Result<(), AdminError> {
    let (realm, mut user) = realm_and_user(ctx, realm, id, Permission::ManageUsers).await?;
    let before = user.clone();
    let was_enabled = user.enabled;
    if let Some(attributes) = take_attributes(&mut rep)? {
        user.attributes = attributes;
    }
    if let Some(username) = &rep.username {
        let username = username.trim().to_lowercase();
        if username.is_empty() || username.len() > 255 {
            return Err(AdminError::bad_request("Invalid user name"));
        }
        if username != user.username && user.service_account_client_id.is_some() {
            return Err(AdminError::bad_request("The user name of a service account cannot change"));
        }
        user.username = username;
    }
    if rep.email.is_some() {
        user.email = clean(rep.email.as_ref());
    }
    if rep.first_name.is_some() {
        user.first_name = clean(rep.first_name.as_ref());
    }
    if rep.last_name.is_some() {
        user.last_name = clean(rep.last_name.as_ref());
    }
    user.enabled = rep.enabled.unwrap_or(user.enabled);
    user.email_verified = rep.email_verified.unwrap_or(user.email_verified);
    if let Some(actions) = &rep.required_actions {
        user.required_actions = actions.clone();
    }
    let profile = super::user_profile::config_of(ctx, &realm).await?;
    super::user_profile::enforce(&profile, Some(&before), &user)?;
    check_email(&user.email)?;
    check_email_free(ctx, &user).await?;
    let password = password_of(rep.credentials.as_deref().unwrap_or_default())?;
    match ctx.store.update_user(&user).await {
        Err(StoreError::Conflict(_)) => return Err(AdminError::conflict(USERNAME_TAKEN)),
        Ok(false) => return Err(AdminError::not_found(USER_NOT_FOUND)),
        other => other.map(|_| ())?,
    }
    if was_enabled && !user.enabled {
        let ended = ctx.store.delete_user_sessions(&user.id, true).await?;
        tracing::info!(target: "portcullis::admin", user = %user.id, ended = ended.len(), "user disabled: sessions ended");
        ctx.sessions_ended(&realm, &ended).await;
    }
    if let Some(password) = password {
        change_password(ctx, &realm, &user, password).await?;
    }
    let clients = ctx.clients(&realm).await?;
    let event = to_event_json(&user_representation(&user, &clients));
    ctx.record(&realm.id, Operation::Update, Resource::User, &format!("users/{}", user.id), event).await;
    Ok(())
}

/// Deletes the user and everything that is theirs. A client's service-account user goes with
/// its client, not alone.
pub async fn delete(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<(), AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ManageUsers).await?;
    if user.service_account_client_id.is_some() {
        return Err(AdminError::bad_request("A service-account user is deleted with its client"));
    }
    // the sessions go with the user (by cascade): read them first, to tell their clients
    let sessions = ctx.store.sessions_of_user(&user.id).await?;
    if !ctx.store.delete_user(&realm.id, &user.id).await? {
        return Err(AdminError::not_found(USER_NOT_FOUND));
    }
    ctx.sessions_ended(&realm, &sessions).await;
    ctx.record(&realm.id, Operation::Delete, Resource::User, &format!("users/{}", user.id), None).await;
    Ok(())
}

async fn change_password(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    user: &User,
    password: NewPassword,
) -> Result<u64, AdminError> {
    match set_password(ctx.store, ctx.hasher, realm, user, password, ctx.now, None).await {
        Ok(ended) => {
            ctx.sessions_ended(realm, &ended).await;
            Ok(ended.len() as u64)
        }
        Err(PasswordError::Empty) => {
            Err(AdminError::bad_request("A password credential needs a non-empty value"))
        }
        Err(PasswordError::Hash) => Err(AdminError::Internal("password hashing failed".into())),
        // Keycloak's UserResource.resetPassword: the message key and its English text
        Err(PasswordError::Policy(violation)) => Err(AdminError::Keycloak {
            status: 400,
            body: serde_json::json!({ "error": violation.key, "error_description": violation.message() }),
        }),
        Err(PasswordError::Store(e)) => Err(e.into()),
    }
}

/// `PUT .../reset-password`: a CredentialRepresentation of type password. Ends the user's
/// sessions when the realm's `revokeSessionsOnPasswordChange` is on (the default).
pub async fn reset_password(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    credential: CredentialRepresentation,
) -> Result<(), AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ManageUsers).await?;
    let password = password_value(&credential)?;
    let ended = change_password(ctx, &realm, &user, password).await?;
    tracing::info!(target: "portcullis::admin", user = %user.id, ended, "password reset");
    let path = format!("users/{}/reset-password", user.id);
    ctx.record(&realm.id, Operation::Action, Resource::User, &path, None).await;
    Ok(())
}

/// `DELETE .../users/{id}/credentials/{credentialId}`: removes one credential, e.g. an
/// imported OTP credential Portcullis cannot check yet, so the password alone signs the user in.
pub async fn delete_credential(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    credential_id: &str,
) -> Result<(), AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ManageUsers).await?;
    if !ctx.store.delete_credential(&user.id, credential_id).await? {
        return Err(AdminError::not_found("Credential not found"));
    }
    let path = format!("users/{}/credentials/{credential_id}", user.id);
    ctx.record(&realm.id, Operation::Delete, Resource::User, &path, None).await;
    Ok(())
}

/// The user's sessions alive now, online or offline.
async fn live_sessions(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    user: &User,
    offline: bool,
) -> Result<Vec<SessionWithClients>, AdminError> {
    let sessions = ctx.store.sessions_of_user(&user.id).await?;
    Ok(sessions
        .into_iter()
        .filter(|s| {
            s.session.offline == offline && session::is_alive(&realm.settings, &s.session, None, ctx.now)
        })
        .collect())
}

/// `GET .../users/{id}/sessions`: the user's live online (SSO) sessions.
pub async fn sessions(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
) -> Result<Vec<UserSessionRepresentation>, AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ViewUsers).await?;
    let clients = ctx.clients(&realm).await?;
    let live = live_sessions(ctx, &realm, &user, false).await?;
    Ok(live
        .iter()
        .map(|s| session_representation(&s.session, &user.username, &s.client_ids, &clients))
        .collect())
}

/// `GET .../users/{id}/offline-sessions/{clientUuid}`: the user's live offline sessions that
/// the client joined.
pub async fn offline_sessions(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    client_uuid: &str,
) -> Result<Vec<UserSessionRepresentation>, AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ViewUsers).await?;
    let clients = ctx.clients(&realm).await?;
    if !clients.iter().any(|c| c.id == client_uuid) {
        return Err(AdminError::not_found("Client not found"));
    }
    let live = live_sessions(ctx, &realm, &user, true).await?;
    Ok(live
        .iter()
        .filter(|s| s.client_ids.iter().any(|c| c == client_uuid))
        .map(|s| session_representation(&s.session, &user.username, &s.client_ids, &clients))
        .collect())
}

/// `POST .../users/{id}/logout`: ends every online session of the user. Offline sessions stay,
/// as in Keycloak (revoke them through the consents endpoint).
pub async fn logout(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<u64, AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ManageUsers).await?;
    let ended = ctx.store.delete_user_sessions(&user.id, false).await?;
    ctx.sessions_ended(&realm, &ended).await;
    ctx.record(&realm.id, Operation::Action, Resource::User, &format!("users/{}/logout", user.id), None)
        .await;
    Ok(ended.len() as u64)
}

/// `GET .../users/{id}/consents`: per client, the consent given and whether offline tokens are
/// held (Keycloak's "Offline Token" additional grant).
pub async fn consents(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
) -> Result<Vec<ConsentRepresentation>, AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ViewUsers).await?;
    let clients = ctx.clients(&realm).await?;
    let client_id_of = |id: &str| clients.iter().find(|c| c.id == id).map(|c| c.client_id.clone());
    let mut out: BTreeMap<String, ConsentRepresentation> = BTreeMap::new();
    for consent in ctx.store.consents_of_user(&user.id).await? {
        let Some(client_id) = client_id_of(&consent.client_id) else { continue };
        out.insert(
            consent.client_id.clone(),
            ConsentRepresentation {
                client_id,
                granted_client_scopes: consent.scope.split_whitespace().map(str::to_string).collect(),
                created_date: Some(millis(consent.created_at)),
                last_updated_date: Some(millis(consent.updated_at)),
                additional_grants: Vec::new(),
            },
        );
    }
    for offline in live_sessions(ctx, &realm, &user, true).await? {
        for id in &offline.client_ids {
            let Some(client_id) = client_id_of(id) else { continue };
            let entry = out.entry(id.clone()).or_insert_with(|| ConsentRepresentation {
                client_id: client_id.clone(),
                granted_client_scopes: Vec::new(),
                created_date: None,
                last_updated_date: None,
                additional_grants: Vec::new(),
            });
            if entry.additional_grants.is_empty() {
                entry
                    .additional_grants
                    .push(AdditionalGrant { client: client_id, key: "Offline Token".into() });
            }
        }
    }
    Ok(out.into_values().collect())
}

/// `DELETE .../users/{id}/consents/{clientId}`: revokes the consent and ends the client's
/// offline sessions of the user, so its offline tokens (and the access tokens minted from them)
/// stop working at once. 404 when there was neither.
pub async fn revoke_consent(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    client_id: &str,
) -> Result<(), AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ManageUsers).await?;
    let client: Client = ctx
        .store
        .client_by_client_id(&realm.id, client_id)
        .await?
        .ok_or_else(|| AdminError::not_found("Client not found"))?;
    let Some(ended) = ctx.store.revoke_consent(&user.id, &client.id).await? else {
        return Err(AdminError::not_found("Consent nor offline token not found"));
    };
    ctx.sessions_ended(&realm, &ended).await;
    let path = format!("users/{}/consents/{}", user.id, client.client_id);
    ctx.record(&realm.id, Operation::Action, Resource::User, &path, None).await;
    Ok(())
}
