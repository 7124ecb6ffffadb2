//! Realm-wide session operations: end one session, count sessions per client, log everyone out
//! (and make every token issued before now stale through the realm's `notBefore`), and
//! Keycloak's push-revocation, which has no adapters to notify here.

use super::context::{Operation, Resource};
use super::representation::{ClientSessionStat, GlobalRequestResult};
use super::{AdminContext, AdminError, Permission};

/// What push-revocation answers: revocation here never depends on notifying clients.
pub const NO_ADAPTERS: &str = "No adapters to notify: Portcullis does not push revocations to client admin URLs. \
     Revoked sessions and tokens fail at once at this server (refresh, introspection, userinfo), and access tokens \
     issued before the realm's notBefore are stale.";

/// `DELETE .../sessions/{id}`: ends the session (online or offline) at once. It takes the
/// session's row lock, so a refresh in flight either finishes first or finds it gone: no token
/// is minted after this returns.
pub async fn delete(ctx: &AdminContext<'_>, realm: &str, session_id: &str) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageUsers).await?;
    let Some(ended) = ctx.store.delete_user_session(&realm.id, session_id).await? else {
        return Err(AdminError::not_found("Session not found"));
    };
    ctx.sessions_ended(&realm, std::slice::from_ref(&ended)).await;
    ctx.record(&realm.id, Operation::Delete, Resource::UserSession, &format!("sessions/{session_id}"), None)
        .await;
    Ok(())
}

/// `GET .../client-session-stats`: per client with sessions, how many online and offline.
pub async fn client_stats(ctx: &AdminContext<'_>, realm: &str) -> Result<Vec<ClientSessionStat>, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewRealm).await?;
    let counts = ctx.store.client_session_counts(&realm.id, ctx.now).await?;
    let clients = ctx.clients(&realm).await?;
    Ok(counts
        .into_iter()
        .filter_map(|count| {
            let client = clients.iter().find(|c| c.id == count.client_id)?;
            Some(ClientSessionStat {
                id: client.id.clone(),
                client_id: client.client_id.clone(),
                active: count.active.to_string(),
                offline: count.offline.to_string(),
            })
        })
        .collect())
}

/// `POST .../logout-all`: ends every session of the realm, offline ones included, and sets the
/// realm's `notBefore` to now, so tokens issued before (client-credentials tokens without a
/// session too) are stale.
pub async fn logout_all(ctx: &AdminContext<'_>, realm: &str) -> Result<GlobalRequestResult, AdminError> {
    let mut realm = ctx.realm(realm, Permission::ManageRealm).await?;
    let ended = ctx.store.delete_realm_sessions(&realm.id).await?;
    realm.not_before = ctx.now;
    if !ctx.store.update_realm(&realm).await? {
        return Err(AdminError::not_found("Realm not found."));
    }
    ctx.changed(&realm);
    tracing::info!(target: "portcullis::admin", realm = %realm.name, ended, "logged out every session");
    ctx.record(&realm.id, Operation::Action, Resource::Realm, "logout-all", None).await;
    Ok(GlobalRequestResult::default())
}

/// `POST .../push-revocation`: accepted; there is nothing to push (see [`NO_ADAPTERS`]).
pub async fn push_revocation(ctx: &AdminContext<'_>, realm: &str) -> Result<GlobalRequestResult, AdminError> {
    let realm = ctx.realm(realm, Permission::ManageRealm).await?;
    ctx.record(&realm.id, Operation::Action, Resource::Realm, "push-revocation", None).await;
    Ok(GlobalRequestResult { message: Some(NO_ADAPTERS.into()), ..GlobalRequestResult::default() })
}
