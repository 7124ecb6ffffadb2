//! `/admin/realms/{realm}/attack-detection/brute-force/users`: Keycloak's view of the
//! brute-force state the login path keeps (`store` login_failures), and clearing it for one user
//! or all. As in Keycloak, a realm without `bruteForceProtected`, or a user without failures,
//! answers zeros, and an unknown user id is no error.

use serde::Serialize;

use super::context::{Operation, Resource};
use super::representation::millis;
use super::{AdminContext, AdminError, Permission};

/// Keycloak's answer (a map there): `lastIPFailure` is "n/a" since Portcullis does not keep the
/// address of failures.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BruteForceStatus {
    pub num_failures: i64,
    pub disabled: bool,
    #[serde(rename = "lastIPFailure")]
    pub last_ip_failure: String,
    /// Milliseconds since the epoch; 0 without failures.
    pub last_failure: i64,
}

pub async fn user_status(ctx: &AdminContext<'_>, realm: &str, user_id: &str) -> Result<BruteForceStatus, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewUsers).await?;
    let mut status =
        BruteForceStatus { num_failures: 0, disabled: false, last_ip_failure: "n/a".into(), last_failure: 0 };
    if !realm.settings.brute_force_protected {
        return Ok(status);
    }
    let Some(user) = ctx.store.user_by_id(&realm.id, user_id).await? else { return Ok(status) };
    let record = ctx.store.login_failures(&user.id).await?;
    if record.failures == 0 && !record.locked_forever {
        return Ok(status);
    }
    status.num_failures = record.failures;
    status.last_failure = millis(record.last_failure_at);
    status.disabled = record.locked_forever || record.locked_until.is_some_and(|until| until > ctx.now);
    Ok(status)
}

/// `DELETE .../brute-force/users/{id}`: forgets the user's failures (and any lockout).
pub async fn clear_user(ctx: &AdminContext<'_>, realm: &str, user_id: &str) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageUsers).await?;
    if let Some(user) = ctx.store.user_by_id(&realm.id, user_id).await? {
        ctx.store.set_login_failures(&user.id, &Default::default()).await?;
    }
    let path = format!("attack-detection/brute-force/users/{user_id}");
    ctx.record(&realm.id, Operation::Delete, Resource::User, &path, None).await;
    Ok(())
}

/// `DELETE .../brute-force/users`: forgets every user's failures in the realm.
pub async fn clear_all(ctx: &AdminContext<'_>, realm: &str) -> Result<u64, AdminError> {
    let realm = ctx.realm(realm, Permission::ManageUsers).await?;
    let cleared = ctx.store.clear_realm_login_failures(&realm.id).await?;
    ctx.record(&realm.id, Operation::Delete, Resource::User, "attack-detection/brute-force/users", None).await;
    Ok(cleared)
}
