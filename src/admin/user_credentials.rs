//! A user's credentials as Keycloak's admin API shows and orders them: listing (with
//! `userLabel` and `priority`, never `secretData`), the label (`PUT .../userLabel`, a text/plain
//! body), and the order (`moveToFirst`, `moveAfter`), which Keycloak keeps as priorities 10, 20...

use super::context::{Operation, Resource};
use super::representation::millis;
use super::users::realm_and_user;
use super::{AdminContext, AdminError, Permission};
use crate::realm::import::ARGON2_PHC_CREDENTIAL_DATA;
use crate::realm::representation::CredentialRepresentation;

const CREDENTIAL_NOT_FOUND: &str = "Credential not found";
/// Keycloak's USER_LABEL column.
const MAX_LABEL: usize = 255;

/// `GET .../users/{id}/credentials`: in Keycloak's order (priority), with id, type, userLabel,
/// createdDate, priority and credentialData; never secretData.
pub async fn list(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<Vec<CredentialRepresentation>, AdminError> {
    let (_, user) = realm_and_user(ctx, realm, id, Permission::ViewUsers).await?;
    let credentials = ctx.store.credentials_of_user(&user.id).await?;
    Ok(credentials
        .into_iter()
        .map(|c| CredentialRepresentation {
            id: Some(c.id),
            kind: Some(c.kind),
            user_label: c.user_label,
            created_date: Some(millis(c.created_at)),
            priority: Some(c.priority),
            // ours is a marker, not Keycloak's shape: nothing a Keycloak client could read
            credential_data: (c.credential_data != ARGON2_PHC_CREDENTIAL_DATA).then_some(c.credential_data),
            ..CredentialRepresentation::default()
        })
        .collect())
}

/// `PUT .../credentials/{credentialId}/userLabel`: the body is the label as plain text; an empty
/// one clears it.
pub async fn set_label(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    credential_id: &str,
    label: &str,
) -> Result<(), AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ManageUsers).await?;
    let label = label.trim();
    if label.chars().count() > MAX_LABEL {
        return Err(AdminError::bad_request("The credential label is longer than 255 characters"));
    }
    let label = (!label.is_empty()).then_some(label);
    if !ctx.store.set_credential_label(&user.id, credential_id, label).await? {
        return Err(AdminError::not_found(CREDENTIAL_NOT_FOUND));
    }
    let path = format!("users/{}/credentials/{credential_id}/userLabel", user.id);
    ctx.record(&realm.id, Operation::Action, Resource::User, &path, None).await;
    Ok(())
}

/// `POST .../moveToFirst` (`after` None) and `.../moveAfter/{newPreviousCredentialId}`.
pub async fn move_credential(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    credential_id: &str,
    after: Option<&str>,
) -> Result<(), AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ManageUsers).await?;
    let mut order: Vec<String> = ctx.store.credentials_of_user(&user.id).await?.into_iter().map(|c| c.id).collect();
    let Some(from) = order.iter().position(|c| c == credential_id) else {
        return Err(AdminError::not_found(CREDENTIAL_NOT_FOUND));
    };
    if after.is_some_and(|a| !order.iter().any(|c| c == a)) {
        return Err(AdminError::not_found(CREDENTIAL_NOT_FOUND));
    }
    let moved = order.remove(from);
    let to = match after {
        None => 0,
        Some(previous) => order.iter().position(|c| c == previous).map_or(0, |p| p + 1),
    };
    order.insert(to, moved);
    if !ctx.store.reorder_credentials(&user.id, &order).await? {
        // a credential was added or removed meanwhile
        return Err(AdminError::conflict("The user's credentials changed meanwhile; try again"));
    }
    let path = match after {
        None => format!("users/{}/credentials/{credential_id}/moveToFirst", user.id),
        Some(previous) => format!("users/{}/credentials/{credential_id}/moveAfter/{previous}", user.id),
    };
    ctx.record(&realm.id, Operation::Action, Resource::User, &path, None).await;
    Ok(())
}
