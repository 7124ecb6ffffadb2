//! `/admin/realms` and `/admin/realms/{realm}`: list, create (through the realm import path, so
//! a body may carry clients, roles and users as a Keycloak export does), read, update every
//! token and session setting, and delete a realm with everything it owns.

use std::collections::BTreeMap;

use super::auth::{REALM_MANAGEMENT, REALM_MANAGEMENT_ROLES};
use super::context::{AdminEventsConfig, Operation, Resource};
use super::representation::{realm_representation, to_event_json};
use super::{AdminContext, AdminError, Permission};
use crate::bootstrap::{ADMIN_CLI, MASTER_REALM};
use crate::domain::{RealmSettings, SignatureAlgorithm};
use crate::realm::import::{build_bundle, parse_realm_json, ImportContext};
use crate::realm::representation::{
    ClientRepresentation, CompositesRepresentation, RealmRepresentation, RoleRepresentation,
    RolesRepresentation,
};
use crate::store::StoreError;

/// Keycloak's answer to a duplicate realm, which python-keycloak's `skip_exists` recognises.
pub const REALM_CONFLICT: &str = "Conflict detected. See logs for details";

/// Every realm the caller may see; 403 for a caller with no admin rights at all.
pub async fn list(ctx: &AdminContext<'_>) -> Result<Vec<RealmRepresentation>, AdminError> {
    if !ctx.caller.is_admin() {
        return Err(AdminError::Forbidden);
    }
    let realms = ctx.store.list_realms().await?;
    Ok(realms.iter().filter(|r| ctx.caller.sees_realm(&r.name)).map(realm_representation).collect())
}

pub async fn get(ctx: &AdminContext<'_>, name: &str) -> Result<RealmRepresentation, AdminError> {
    let realm = ctx.realm(name, Permission::ViewRealm).await?;
    let mut rep = realm_representation(&realm);
    rep.default_role = super::default_clients::default_role(ctx, &realm).await?;
    Ok(rep)
}

/// Creates a realm from a RealmRepresentation body and returns its name. Like Keycloak, a realm
/// created without `enabled` is disabled, and it gets the default roles, fresh keys, a public
/// `admin-cli` client and a `realm-management` client whose roles delegate administration of it.
pub async fn create(ctx: &AdminContext<'_>, body: &str) -> Result<String, AdminError> {
    if !ctx.caller.may_create_realm() {
        return Err(AdminError::Forbidden);
    }
    if body.trim_start().starts_with('[') {
        return Err(AdminError::bad_request("Expected one RealmRepresentation, not an array"));
    }
    check_new_name(body)?;
    let mut parsed = parse_realm_json("request body", body)
        .map_err(|e| AdminError::bad_request(format!("Invalid realm at {}: {}", e.path, e.message)))?
        .pop()
        .ok_or_else(|| AdminError::bad_request("Expected one RealmRepresentation"))?;
    if let Some(alg) = &parsed.representation.default_signature_algorithm {
        if SignatureAlgorithm::parse(alg).is_none() {
            return Err(AdminError::bad_request(format!("Unsupported defaultSignatureAlgorithm {alg:?}")));
        }
    }
    if ctx.store.realm_by_name(&parsed.name).await?.is_some() {
        return Err(AdminError::conflict(REALM_CONFLICT));
    }
    super::default_clients::with_default_clients(&mut parsed.representation, &parsed.name);
    let import = ImportContext { master: ctx.master, hasher: ctx.hasher, now: ctx.now };
    let (mut bundle, warnings) = build_bundle(&parsed, &import)
        .await
        .map_err(|e| AdminError::bad_request(format!("Invalid realm at {}: {}", e.path, e.message)))?;
    let realm = bundle.realm.as_mut().ok_or_else(|| AdminError::Internal("import built no realm".into()))?;
    realm.enabled = parsed.representation.enabled.unwrap_or(false);
    validate_settings(&realm.settings)?;
    let created = realm.clone();
    for warning in parsed.warnings.iter().chain(&warnings) {
        tracing::info!(realm = %parsed.name, "realm created through the admin API: {warning}");
    }
    match ctx.store.create_realms(&[bundle], false).await {
        Err(StoreError::Conflict(_)) => return Err(AdminError::conflict(REALM_CONFLICT)),
        other => other?,
    }
    ctx.realms.invalidate(&created.name);
    let path = format!("realms/{}", created.name);
    let rep = to_event_json(&realm_representation(&created));
    ctx.record(&ctx.caller.realm_id, Operation::Create, Resource::Realm, &path, rep).await;
    Ok(created.name)
}

/// Applies a RealmRepresentation: `enabled`, `notBefore`, `displayName`,
/// `defaultSignatureAlgorithm` and every setting present in it (`smtpServer.password` sealed,
/// its mask keeping the stored one). Absent fields keep their value; clients, roles and users
/// in the body are ignored, as Keycloak ignores them (they have their own endpoints). Renaming
/// is refused (Keycloak renames; Portcullis does not yet), renaming master as Keycloak words it.
pub async fn update(ctx: &AdminContext<'_>, name: &str, rep: RealmRepresentation) -> Result<(), AdminError> {
    let mut realm = ctx.realm(name, Permission::ManageRealm).await?;
    let events_before = AdminEventsConfig::of(&realm);
    if rep.realm.as_deref().is_some_and(|new| new != realm.name) {
        if realm.name == MASTER_REALM {
            return Err(AdminError::bad_request("Can't rename master realm"));
        }
        return Err(AdminError::bad_request("Renaming a realm is not supported"));
    }
    let mut settings = rep.settings_over(realm.settings.clone());
    crate::realm::smtp::apply_password(&rep, &mut settings, &realm.id, ctx.master);
    if let Some(alg) = &rep.default_signature_algorithm {
        settings.default_signature_algorithm = SignatureAlgorithm::parse(alg).ok_or_else(|| {
            AdminError::bad_request(format!("Unsupported defaultSignatureAlgorithm {alg:?}"))
        })?;
    }
    validate_settings(&settings)?;
    ctx.ensure_keys(&realm, vec![settings.default_signature_algorithm]).await?;
    let enabled = rep.enabled.unwrap_or(realm.enabled);
    if realm.name == MASTER_REALM && !enabled {
        return Err(AdminError::bad_request("The master realm cannot be disabled"));
    }
    realm.settings = settings;
    realm.enabled = enabled;
    if let Some(not_before) = rep.not_before {
        if not_before < 0 {
            return Err(AdminError::bad_request("notBefore must not be negative"));
        }
        realm.not_before = not_before;
    }
    if !ctx.store.update_realm(&realm).await? {
        return Err(AdminError::not_found("Realm not found."));
    }
    ctx.changed(&realm);
    let path = format!("realms/{}", realm.name);
    let event = to_event_json(&realm_representation(&realm));
    ctx.record_as(events_before, &realm.id, Operation::Update, Resource::Realm, &path, event).await;
    Ok(())
}

/// Deletes the realm and everything it owns: keys, clients, roles, users, credentials,
/// sessions, tokens, codes, consents, events and admin events. The deletion itself is recorded
/// in the caller's realm, so the trail survives it. Realm `master` cannot be deleted.
pub async fn delete(ctx: &AdminContext<'_>, name: &str) -> Result<(), AdminError> {
    let realm = ctx.realm(name, Permission::ManageRealm).await?;
    if realm.name == MASTER_REALM {
        return Err(AdminError::bad_request("The master realm cannot be deleted"));
    }
    if !ctx.store.purge_realm(&realm.id).await? {
        return Err(AdminError::not_found("Realm not found."));
    }
    ctx.changed(&realm);
    let path = format!("realms/{}", realm.name);
    if ctx.caller.realm_id != realm.id {
        ctx.record(&ctx.caller.realm_id, Operation::Delete, Resource::Realm, &path, None).await;
    } else {
        tracing::info!(target: "portcullis::admin", realm = %realm.name, "realm deleted by one of its own admins");
    }
    Ok(())
}

/// Adds what Keycloak gives every realm unless the representation brings its own: the public
/// `admin-cli` client (direct grants, for admin tools logging in to the realm), and the
/// `realm-management` client with its roles (`realm-admin` including the others), so users in
/// the same body can be given them through `clientRoles`. Realm import could call it too (files
/// written by hand have neither; Keycloak's exports have both).
pub fn with_builtin_clients(rep: &mut RealmRepresentation) {
    let clients = rep.clients.get_or_insert_with(Vec::new);
    if !clients.iter().any(|c| c.client_id.as_deref() == Some(ADMIN_CLI)) {
        clients.push(ClientRepresentation {
            client_id: Some(ADMIN_CLI.into()),
            name: Some("${client_admin-cli}".into()),
            enabled: Some(true),
            public_client: Some(true),
            direct_access_grants_enabled: Some(true),
            standard_flow_enabled: Some(false),
            ..ClientRepresentation::default()
        });
    }
    if !clients.iter().any(|c| c.client_id.as_deref() == Some(REALM_MANAGEMENT)) {
        clients.push(ClientRepresentation {
            client_id: Some(REALM_MANAGEMENT.into()),
            name: Some("${client_realm-management}".into()),
            enabled: Some(true),
            bearer_only: Some(true),
            standard_flow_enabled: Some(false),
            ..ClientRepresentation::default()
        });
    }
    let roles = rep.roles.get_or_insert_with(RolesRepresentation::default);
    let client_roles = roles.client.get_or_insert_with(BTreeMap::new);
    client_roles.entry(REALM_MANAGEMENT.to_string()).or_insert_with(|| {
        REALM_MANAGEMENT_ROLES
            .iter()
            .map(|(name, includes)| RoleRepresentation {
                name: Some((*name).to_string()),
                description: Some(format!("${{role_{name}}}")),
                composite: Some(!includes.is_empty()),
                composites: (!includes.is_empty()).then(|| CompositesRepresentation {
                    client: Some(BTreeMap::from([(
                        REALM_MANAGEMENT.to_string(),
                        includes.iter().map(|r| (*r).to_string()).collect(),
                    )])),
                    ..CompositesRepresentation::default()
                }),
                ..RoleRepresentation::default()
            })
            .collect()
    });
}

/// Keycloak's first checks of a new realm's name, with its texts: absent or blank is "Realm name
/// cannot be empty" (`{"errorMessage"}`); a character RFC 3986 reserves is refused by its
/// `ReservedCharValidator` (a JAX-RS `BadRequestException`). The stricter alphabet Portcullis
/// keeps for names (they become URLs and file names) is checked afterwards by the importer.
fn check_new_name(body: &str) -> Result<(), AdminError> {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(body) else {
        return Ok(()); // the importer words the parse error
    };
    let name = match object.get("realm") {
        None | Some(serde_json::Value::Null) => "",
        Some(serde_json::Value::String(name)) => name.as_str(),
        Some(_) => return Ok(()),
    };
    if name.trim().is_empty() {
        return Err(AdminError::bad_request("Realm name cannot be empty"));
    }
    if let Some(c) = name.chars().find(|c| ":/?#@!$&()*+,;=[]\\".contains(*c)) {
        return Err(AdminError::BadRequestException(format!("Character '{c}' not allowed.")));
    }
    Ok(())
}

/// Settings a realm cannot work with are refused before they are stored.
pub fn validate_settings(s: &RealmSettings) -> Result<(), AdminError> {
    if let Some(policy) = s.password_policy.as_deref() {
        crate::users::password_policy::PasswordPolicy::parse(policy).map_err(AdminError::bad_request)?;
    }
    let positive = [
        ("accessTokenLifespan", s.access_token_lifespan),
        ("accessCodeLifespan", s.access_code_lifespan),
        ("accessCodeLifespanUserAction", s.access_code_lifespan_user_action),
        ("accessCodeLifespanLogin", s.access_code_lifespan_login),
        ("ssoSessionIdleTimeout", s.sso_session_idle_timeout),
        ("ssoSessionMaxLifespan", s.sso_session_max_lifespan),
        ("offlineSessionIdleTimeout", s.offline_session_idle_timeout),
        ("failureFactor", s.failure_factor),
    ];
    for (name, value) in positive {
        if value <= 0 {
            return Err(AdminError::bad_request(format!("{name} must be a positive number")));
        }
    }
    let non_negative = [
        ("ssoSessionIdleTimeoutRememberMe", s.sso_session_idle_timeout_remember_me),
        ("ssoSessionMaxLifespanRememberMe", s.sso_session_max_lifespan_remember_me),
        ("clientSessionIdleTimeout", s.client_session_idle_timeout),
        ("clientSessionMaxLifespan", s.client_session_max_lifespan),
        ("offlineSessionMaxLifespan", s.offline_session_max_lifespan),
        ("clientOfflineSessionIdleTimeout", s.client_offline_session_idle_timeout),
        ("clientOfflineSessionMaxLifespan", s.client_offline_session_max_lifespan),
        ("refreshTokenMaxReuse", s.refresh_token_max_reuse),
        ("refreshTokenReuseIntervalSeconds", s.refresh_token_reuse_interval_seconds),
        ("maxFailureWaitSeconds", s.max_failure_wait_seconds),
        ("minimumQuickLoginWaitSeconds", s.minimum_quick_login_wait_seconds),
        ("waitIncrementSeconds", s.wait_increment_seconds),
        ("quickLoginCheckMilliSeconds", s.quick_login_check_milli_seconds),
        ("maxDeltaTimeSeconds", s.max_delta_time_seconds),
        ("eventsExpiration", s.events_expiration),
    ];
    for (name, value) in non_negative {
        if value < 0 {
            return Err(AdminError::bad_request(format!("{name} must not be negative")));
        }
    }
    if !matches!(s.ssl_required.as_str(), "all" | "external" | "none") {
        return Err(AdminError::bad_request("sslRequired must be one of all, external, none"));
    }
    if !matches!(s.brute_force_strategy.as_str(), "LINEAR" | "MULTIPLE") {
        return Err(AdminError::bad_request("bruteForceStrategy must be LINEAR or MULTIPLE"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_clients_are_added_once_with_realm_admin_including_the_rest() {
        let mut rep = RealmRepresentation { realm: Some("demo".into()), ..Default::default() };
        with_builtin_clients(&mut rep);
        with_builtin_clients(&mut rep);
        assert_eq!(rep.clients.as_ref().map(Vec::len), Some(2));
        let roles = &rep.roles.as_ref().unwrap().client.as_ref().unwrap()[REALM_MANAGEMENT];
        assert_eq!(roles.len(), REALM_MANAGEMENT_ROLES.len());
        let admin = roles.iter().find(|r| r.name.as_deref() == Some("realm-admin")).unwrap();
        let includes = &admin.composites.as_ref().unwrap().client.as_ref().unwrap()[REALM_MANAGEMENT];
        assert!(includes.contains(&"manage-users".to_string()));
    }

    #[test]
    fn unusable_settings_are_refused() {
        assert!(validate_settings(&RealmSettings::default()).is_ok());
        let zero = RealmSettings { access_token_lifespan: 0, ..RealmSettings::default() };
        assert!(validate_settings(&zero).is_err());
        let ssl = RealmSettings { ssl_required: "sometimes".into(), ..RealmSettings::default() };
        assert!(validate_settings(&ssl).is_err());
    }
}
