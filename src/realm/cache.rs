//! The in-memory realm cache: settings and parsed key pairs per realm, read by every request so
//! that neither a database round trip nor a key parse sits on the token path (DESIGN.md §4, §6).
//! Entries are dropped on change by this node; on Postgres, on any committed change by any node
//! or tool too (the database's LISTEN/NOTIFY feed, `RealmChange`); and they expire after a short
//! TTL, which is what covers other processes on SQLite and a feed being reconnected.
//! Sessions and tokens are never cached here. Client scopes and mappers are, compiled per client
//! (`CompiledScopes`), so shaping a token costs no query. So are clients' service-account users
//! (`ServiceAccounts`), cleared on their own when users, role mappings or groups change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::domain::{Client, Realm, Role};
use crate::oauth::client_scopes::CompiledScopes;
use crate::oauth::tokens::verified::VerifiedSignatures;
use crate::oauth::tokens::{KeyMaterialError, KeyRing};
use crate::realm::defaults::OFFLINE_ACCESS_ROLE;
use crate::realm::service_accounts::ServiceAccounts;
use crate::store::{Store, StoreError};

/// How long a cached realm is trusted before it is re-read.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5);

pub struct RealmContext {
    pub realm: Realm,
    pub keys: KeyRing,
    /// By OAuth `client_id`.
    pub clients: HashMap<String, Arc<Client>>,
    /// Realm and client roles by id, with composites.
    pub roles: HashMap<String, Role>,
    /// Ids of the roles that grant `offline_access` (that role, and every composite holding it
    /// at any depth): a user mapped to none of them may not hold offline tokens.
    pub offline_access_roles: Vec<String>,
    /// Each client's default and optional client scopes, mappers and scope mappings, compiled.
    pub scopes: CompiledScopes,
    /// Clients' service-account users with their role ids (client_credentials), filled on use.
    pub service_accounts: ServiceAccounts,
    loaded_at: Instant,
}

impl RealmContext {
    pub fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        self.clients.get(client_id).cloned()
    }

    pub fn client_by_internal_id(&self, id: &str) -> Option<Arc<Client>> {
        self.clients.values().find(|c| c.id == id).cloned()
    }

    pub fn realm_role(&self, name: &str) -> Option<&Role> {
        self.roles.values().find(|r| !r.client_role && r.name == name)
    }
}

/// The ids of `target` and of every role that includes it through composites.
fn roles_granting(roles: &HashMap<String, Role>, target: &str) -> Vec<String> {
    let mut granting: Vec<String> = vec![target.to_string()];
    // grow the set until no role adds itself: composite graphs are small and may have cycles
    loop {
        let before = granting.len();
        for role in roles.values() {
            if !granting.contains(&role.id) && role.composites.iter().any(|c| granting.contains(c)) {
                granting.push(role.id.clone());
            }
        }
        if granting.len() == before {
            return granting;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RealmLoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyMaterialError),
}

pub struct RealmCache {
    store: Arc<dyn Store>,
    master: MasterKey,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    entries: RwLock<HashMap<String, Arc<RealmContext>>>,
    /// Bumped by every invalidation: a load that started before one is not cached, so a change
    /// heard while a node was reading the old data cannot be undone by that read.
    generation: AtomicU64,
    /// Access-token signatures already verified, kept across the key rings' reloads.
    verified: Arc<VerifiedSignatures>,
}

impl RealmCache {
    pub fn new(store: Arc<dyn Store>, master: MasterKey, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        Self {
            store,
            master,
            clock,
            ttl,
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            verified: Arc::default(),
        }
    }

    /// The realm by name when it exists and is enabled; `None` otherwise.
    pub async fn enabled(&self, name: &str) -> Result<Option<Arc<RealmContext>>, RealmLoadError> {
        Ok(self.get(name).await?.filter(|ctx| ctx.realm.enabled))
    }

    /// The realm by name, enabled or not.
    pub async fn get(&self, name: &str) -> Result<Option<Arc<RealmContext>>, RealmLoadError> {
        if let Some(hit) = self.cached(name) {
            return Ok(Some(hit));
        }
        // No realm can be named so (import checks names), so junk from a URL (a NUL byte that
        // Postgres refuses, 10 KB of text, `..`) never costs a query.
        if crate::domain::realm::validate_realm_name(name).is_err() {
            return Ok(None);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let Some(realm) = self.store.realm_by_name(name).await? else {
            return Ok(None);
        };
        let records = self.store.signing_keys(&realm.id).await?;
        let keys = KeyRing::load(&records, &self.master, self.clock.now())?.with_verified(self.verified.clone());
        let clients = self.store.list_clients(&realm.id).await?;
        let roles = self.store.realm_roles(&realm.id).await?;
        let roles: HashMap<String, Role> = roles.into_iter().map(|r| (r.id.clone(), r)).collect();
        let offline = roles.values().find(|r| !r.client_role && r.name == OFFLINE_ACCESS_ROLE).map(|r| r.id.clone());
        let offline_access_roles = offline.map(|id| roles_granting(&roles, &id)).unwrap_or_default();
        let scopes = CompiledScopes::build(self.store.realm_scopes(&realm.id).await?, &roles);
        let ctx = Arc::new(RealmContext {
            realm,
            keys,
            clients: clients.into_iter().map(|c| (c.client_id.clone(), Arc::new(c))).collect(),
            roles,
            offline_access_roles,
            scopes,
            service_accounts: ServiceAccounts::default(),
            loaded_at: Instant::now(),
        });
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.generation.load(Ordering::SeqCst) == generation {
            entries.insert(name.to_string(), ctx.clone());
        }
        Ok(Some(ctx))
    }

    fn cached(&self, name: &str) -> Option<Arc<RealmContext>> {
        let entries = self.entries.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.get(name).filter(|ctx| ctx.loaded_at.elapsed() < self.ttl).cloned()
    }

    /// Forgets a realm after this node changed it.
    pub fn invalidate(&self, name: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.remove(name);
    }

    /// Forgets a realm by id: what the database's change feed names (`RealmChange::Realm`).
    pub fn invalidate_id(&self, id: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.retain(|_, ctx| ctx.realm.id != id);
    }

    /// Forgets the cached service-account users of the realm with this id, or of every realm
    /// (`None`), keeping the rest of each realm: after a change to users, their role mappings
    /// or groups (`RealmChange::ServiceAccounts`, and every admin write on this node).
    pub fn forget_service_accounts(&self, realm_id: Option<&str>) {
        let entries = self.entries.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        for ctx in entries.values().filter(|ctx| realm_id.is_none_or(|id| ctx.realm.id == id)) {
            ctx.service_accounts.clear();
        }
    }

    /// Forgets every realm (`RealmChange::All`).
    pub fn invalidate_all(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }
}
