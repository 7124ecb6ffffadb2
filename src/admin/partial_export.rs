//! `POST /admin/realms/{realm}/partial-export?exportClients=&exportGroupsAndRoles=`: the realm
//! as Keycloak's partial export writes it: its settings always, its clients and its roles when
//! asked, never its users, and every secret (client secrets, the SMTP password) as Keycloak's
//! mask `**********`. The work is bounded by the realm's clients and roles, never its users.
//! `partial_import` reads such a document back.

use super::{AdminContext, AdminError, Permission};
use crate::realm::export::export_realm;
use crate::realm::import::MASKED_SECRET;
use crate::realm::representation::RealmRepresentation;
use crate::realm::smtp;
use crate::store::RealmBundle;

pub async fn partial_export(
    ctx: &AdminContext<'_>,
    realm: &str,
    clients: bool,
    groups_and_roles: bool,
) -> Result<RealmRepresentation, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewRealm).await?;
    let bundle = RealmBundle {
        clients: if clients || groups_and_roles { ctx.store.list_clients(&realm.id).await? } else { Vec::new() },
        roles: if groups_and_roles { ctx.store.realm_roles(&realm.id).await? } else { Vec::new() },
        realm: Some(realm),
        ..RealmBundle::default()
    };
    let mut rep = export_realm(&bundle, ctx.master).map_err(|e| AdminError::Internal(e.to_string()))?;
    rep.users = None;
    if let Some(smtp) = rep.smtp_server.as_mut() {
        if smtp.contains_key(smtp::PASSWORD) {
            smtp.insert(smtp::PASSWORD.into(), MASKED_SECRET.into());
        }
    }
    if clients {
        for client in rep.clients.iter_mut().flatten() {
            if client.secret.is_some() {
                client.secret = Some(crate::crypto::SecretString::new(MASKED_SECRET));
            }
        }
    } else {
        rep.clients = None;
    }
    if !groups_and_roles {
        rep.roles = None;
        rep.default_role = None;
    }
    Ok(rep)
}
