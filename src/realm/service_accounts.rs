//! Service-account users cached per client, with their mapped role ids and (read only once a
//! token needs them) their group paths: what the client_credentials grant would otherwise read
//! from the database on every request (BENCHMARKS.md, issue 16). A map lives inside each cached
//! `RealmContext`, so whatever drops the realm (its TTL, a client or role change, the change
//! feed) drops its service accounts too. User, role-mapping and group changes clear the map
//! alone (`RealmCache::forget_service_accounts`): on this node after every admin write, on other
//! nodes through the Postgres feed (migration 0016). Never used for sessions or tokens.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::domain::User;
use crate::store::{Store, StoreError};

/// A client's service-account user as the grant needs it.
#[derive(Debug)]
pub struct ServiceAccount {
    pub user: User,
    /// Ids of the roles mapped to the user, directly and through its groups.
    pub role_ids: Vec<String>,
    /// The user's group paths, loaded the first time a selected mapper asks for them.
    pub groups: OnceCell<Vec<String>>,
}

/// The service accounts of one realm, by the client's internal id.
#[derive(Debug, Default)]
pub struct ServiceAccounts {
    entries: RwLock<HashMap<String, Arc<ServiceAccount>>>,
    /// Bumped by every `clear`: a load that started before one is not kept, so a change heard
    /// while the old rows were being read cannot be undone by that read.
    generation: AtomicU64,
}

impl ServiceAccounts {
    /// The service-account user of the client (internal id), from memory or, on a miss, from
    /// the store. `None` when the client has none. Absence is not cached: such a client cannot
    /// use the grant, so there is no traffic to spare.
    pub async fn get(&self, store: &dyn Store, client_id: &str) -> Result<Option<Arc<ServiceAccount>>, StoreError> {
        if let Some(hit) = self.entries.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(client_id) {
            return Ok(Some(hit.clone()));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let Some((user, role_ids)) = store.service_account_with_role_ids(client_id).await? else {
            return Ok(None);
        };
        let account = Arc::new(ServiceAccount { user, role_ids, groups: OnceCell::new() });
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.generation.load(Ordering::SeqCst) == generation {
            entries.insert(client_id.to_string(), account.clone());
        }
        Ok(Some(account))
    }

    /// Forgets every cached service account of the realm.
    pub fn clear(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }
}
