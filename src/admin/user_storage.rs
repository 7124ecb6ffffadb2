//! `/admin/realms/{realm}/user-storage/...`: Keycloak's user-federation actions (sync, unlink,
//! remove imported users, mapper sync). Portcullis has no user federation (README, "Not
//! supported"), so no user-storage component can exist: after the caller's rights are checked,
//! every action answers Keycloak's own 404 for an unknown component, never a pretended success.

use super::context::AdminContext;
use super::{AdminError, Permission};

/// Keycloak's `UserStorageSyncResource` answer when the component id names nothing.
pub const NO_COMPONENT: &str = "Could not find component";

/// Any user-storage action on component `_component` of `realm`.
pub async fn action(ctx: &AdminContext<'_>, realm: &str, _component: &str) -> Result<(), AdminError> {
    ctx.realm(realm, Permission::ManageUsers).await?;
    Err(AdminError::not_found(NO_COMPONENT))
}
