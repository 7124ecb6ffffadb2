//! `/admin/realms/{realm}/authentication/required-actions` and its siblings: the realm's
//! required-action providers as Keycloak's AuthenticationManagementResource serves them (list,
//! read, update, delete, raise and lower priority, unregistered providers, register). They are
//! stored in the realm's settings (`domain::required_actions` says what they change).

use serde::{Deserialize, Serialize};

use super::context::{AdminContext, Operation, Resource};
use super::{AdminError, Permission};
use crate::domain::required_actions::{self, RequiredActionProvider};
use crate::domain::Realm;

/// Keycloak's `NotFoundException` text for an unknown alias.
pub const NOT_FOUND: &str = "Failed to find required action";

/// A PUT body (Keycloak's RequiredActionProviderRepresentation); absent fields keep their value.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequiredActionUpdate {
    pub alias: Option<String>,
    pub name: Option<String>,
    pub provider_id: Option<String>,
    pub enabled: Option<bool>,
    pub default_action: Option<bool>,
    pub priority: Option<i64>,
    pub config: Option<std::collections::BTreeMap<String, String>>,
}

/// `register-required-action`'s body and `unregistered-required-actions`' items.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderRef {
    pub provider_id: Option<String>,
    pub name: Option<String>,
}

pub async fn list(ctx: &AdminContext<'_>, realm: &str) -> Result<Vec<RequiredActionProvider>, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewRealm).await?;
    let mut actions = realm.settings.required_actions;
    required_actions::sort(&mut actions);
    Ok(actions)
}

pub async fn get(ctx: &AdminContext<'_>, realm: &str, alias: &str) -> Result<RequiredActionProvider, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewRealm).await?;
    realm.settings.required_actions.into_iter().find(|a| a.alias == alias).ok_or_else(|| AdminError::not_found(NOT_FOUND))
}

pub async fn update(ctx: &AdminContext<'_>, realm: &str, alias: &str, rep: RequiredActionUpdate) -> Result<(), AdminError> {
    let mut realm = ctx.realm(realm, Permission::ManageRealm).await?;
    if rep.alias.as_deref().is_some_and(|given| given != alias) {
        return Err(AdminError::bad_request("Renaming a required action is not supported by Portcullis"));
    }
    let action = position(&realm, alias).map(|i| &mut realm.settings.required_actions[i])?;
    if rep.provider_id.as_deref().is_some_and(|given| given != action.provider_id) {
        return Err(AdminError::bad_request("A required action's providerId cannot change"));
    }
    if let Some(name) = rep.name.filter(|n| !n.trim().is_empty()) {
        action.name = name;
    }
    action.enabled = rep.enabled.unwrap_or(action.enabled);
    action.default_action = rep.default_action.unwrap_or(action.default_action);
    action.priority = rep.priority.unwrap_or(action.priority);
    if let Some(config) = rep.config {
        action.config = config;
    }
    save(ctx, &realm, Operation::Update, &format!("authentication/required-actions/{alias}")).await
}

pub async fn delete(ctx: &AdminContext<'_>, realm: &str, alias: &str) -> Result<(), AdminError> {
    let mut realm = ctx.realm(realm, Permission::ManageRealm).await?;
    let i = position(&realm, alias)?;
    realm.settings.required_actions.remove(i);
    save(ctx, &realm, Operation::Delete, &format!("authentication/required-actions/{alias}")).await
}

/// `raise-priority` (`up`) and `lower-priority`: swaps the priorities of the action and its
/// neighbour in Keycloak's order; at either end nothing changes.
pub async fn move_priority(ctx: &AdminContext<'_>, realm: &str, alias: &str, up: bool) -> Result<(), AdminError> {
    let mut realm = ctx.realm(realm, Permission::ManageRealm).await?;
    let actions = &mut realm.settings.required_actions;
    required_actions::sort(actions);
    let i = actions.iter().position(|a| a.alias == alias).ok_or_else(|| AdminError::not_found(NOT_FOUND))?;
    let neighbour = if up { i.checked_sub(1) } else { Some(i + 1).filter(|j| *j < actions.len()) };
    let Some(j) = neighbour else {
        return Ok(());
    };
    let (a, b) = (actions[i].priority, actions[j].priority);
    // equal priorities would not move: make the order strict first
    let (a, b) = if a == b { if up { (a, a + 1) } else { (a + 1, a) } } else { (a, b) };
    actions[i].priority = b;
    actions[j].priority = a;
    let verb = if up { "raise-priority" } else { "lower-priority" };
    save(ctx, &realm, Operation::Update, &format!("authentication/required-actions/{alias}/{verb}")).await
}

/// Keycloak's built-in providers the realm has not registered.
pub async fn unregistered(ctx: &AdminContext<'_>, realm: &str) -> Result<Vec<ProviderRef>, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewRealm).await?;
    let registered = &realm.settings.required_actions;
    Ok(required_actions::known_providers()
        .filter(|(id, _)| !registered.iter().any(|a| a.provider_id.eq_ignore_ascii_case(id)))
        .map(|(id, name)| ProviderRef { provider_id: Some(id.to_string()), name: Some(name.to_string()) })
        .collect())
}

pub async fn register(ctx: &AdminContext<'_>, realm: &str, rep: ProviderRef) -> Result<(), AdminError> {
    let mut realm = ctx.realm(realm, Permission::ManageRealm).await?;
    let id = rep.provider_id.filter(|p| !p.trim().is_empty()).ok_or_else(|| AdminError::bad_request("providerId is missing"))?;
    let Some((id, default_name)) = required_actions::known_providers().find(|(known, _)| known.eq_ignore_ascii_case(&id)) else {
        return Err(AdminError::bad_request(format!("No required action provider {id:?} in Portcullis")));
    };
    let actions = &mut realm.settings.required_actions;
    if actions.iter().any(|a| a.alias == id || a.provider_id == id) {
        return Err(AdminError::conflict(format!("Required action {id} is already registered")));
    }
    let after = actions.iter().map(|a| a.priority).max().unwrap_or(0) + 1;
    let name = rep.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| default_name.to_string());
    actions.push(required_actions::registered(id, &name, after));
    save(ctx, &realm, Operation::Create, "authentication/register-required-action").await
}

fn position(realm: &Realm, alias: &str) -> Result<usize, AdminError> {
    realm.settings.required_actions.iter().position(|a| a.alias == alias).ok_or_else(|| AdminError::not_found(NOT_FOUND))
}

async fn save(ctx: &AdminContext<'_>, realm: &Realm, operation: Operation, path: &str) -> Result<(), AdminError> {
    if !ctx.store.update_realm(realm).await? {
        return Err(AdminError::not_found("Realm not found."));
    }
    ctx.changed(realm);
    ctx.record(&realm.id, operation, Resource::RequiredAction, path, None).await;
    Ok(())
}
