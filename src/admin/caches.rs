//! `POST .../clear-realm-cache`, `.../clear-user-cache`, `.../clear-keys-cache`: drop cached
//! realm data on this node at once and on every other node through the store's change feed
//! (Postgres NOTIFY; on SQLite, other processes within the realm cache's TTL). What Portcullis
//! caches is one entry per realm (settings, clients, roles, parsed keys and clients'
//! service-account users: `realm::cache`); other users are never cached, so `clear-user-cache`
//! drops the realm's entry, which holds their roles and the service accounts.

use super::context::{Operation, Resource};
use super::{AdminContext, AdminError, Permission};

/// Which of Keycloak's caches was asked for, as its path names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// Keycloak clears every realm's cached data.
    Realm,
    User,
    Keys,
}

impl Cache {
    fn path(self) -> &'static str {
        match self {
            Self::Realm => "clear-realm-cache",
            Self::User => "clear-user-cache",
            Self::Keys => "clear-keys-cache",
        }
    }
}

pub async fn clear(ctx: &AdminContext<'_>, realm: &str, cache: Cache) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageRealm).await?;
    match cache {
        Cache::Realm => {
            ctx.realms.invalidate_all();
            ctx.store.announce_realm_change(None).await?;
        }
        Cache::User | Cache::Keys => {
            ctx.realms.invalidate(&realm.name);
            ctx.store.announce_realm_change(Some(&realm.id)).await?;
        }
    }
    ctx.record(&realm.id, Operation::Action, Resource::Realm, cache.path(), None).await;
    Ok(())
}
