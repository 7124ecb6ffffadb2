//! What every admin operation works with: the store, the realm cache, the master key and
//! password hasher, the caller and the time. Also the two things every operation does around
//! its work: find the realm after checking the caller's rights, and record an admin event.

use crate::clock::UnixTime;
use crate::crypto::password::PasswordHasher;
use crate::crypto::MasterKey;
use crate::domain::{new_id, Client, Realm, Role};
use crate::realm::RealmCache;
use crate::store::admin::AdminEventRecord;
use crate::store::Store;
use crate::store::sessions::SessionWithClients;
use crate::oauth::backchannel_logout::LogoutNotifier;

use super::auth::REALM_MANAGEMENT;
use super::{AdminError, Caller, Permission};

/// Keycloak's `OperationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Action,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
            Self::Action => "ACTION",
        }
    }
}

/// Keycloak's `ResourceType`, the subset this API writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Realm,
    User,
    Client,
    RealmRole,
    ClientRole,
    RealmRoleMapping,
    ClientRoleMapping,
    UserSession,
    Group,
    GroupMembership,
    ClientScope,
    ProtocolMapper,
    RealmScopeMapping,
    ClientScopeMapping,
    RequiredAction,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Realm => "REALM",
            Self::User => "USER",
            Self::Client => "CLIENT",
            Self::RealmRole => "REALM_ROLE",
            Self::ClientRole => "CLIENT_ROLE",
            Self::RealmRoleMapping => "REALM_ROLE_MAPPING",
            Self::ClientRoleMapping => "CLIENT_ROLE_MAPPING",
            Self::UserSession => "USER_SESSION",
            Self::Group => "GROUP",
            Self::GroupMembership => "GROUP_MEMBERSHIP",
            Self::ClientScope => "CLIENT_SCOPE",
            Self::ProtocolMapper => "PROTOCOL_MAPPER",
            Self::RealmScopeMapping => "REALM_SCOPE_MAPPING",
            Self::ClientScopeMapping => "CLIENT_SCOPE_MAPPING",
            Self::RequiredAction => "REQUIRED_ACTION",
        }
    }
}

/// A realm's `adminEventsEnabled` and `adminEventsDetailsEnabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminEventsConfig {
    pub enabled: bool,
    pub details: bool,
}

impl AdminEventsConfig {
    pub fn of(realm: &Realm) -> Self {
        Self { enabled: realm.settings.admin_events_enabled, details: realm.settings.admin_events_details_enabled }
    }

    /// Either configuration records.
    pub fn either(self, other: Self) -> Self {
        Self { enabled: self.enabled || other.enabled, details: self.details || other.details }
    }
}

pub struct AdminContext<'a> {
    pub store: &'a dyn Store,
    pub realms: &'a RealmCache,
    pub master: &'a MasterKey,
    pub hasher: &'a PasswordHasher,
    pub caller: &'a Caller,
    pub now: UnixTime,
    /// Where ended sessions are reported (back-channel logout) and the public base URL their
    /// issuer is built from; `None` for the offline CLI, which runs no delivery queue.
    pub logout: Option<(&'a LogoutNotifier, &'a str)>,
}

impl AdminContext<'_> {
    /// Tells the clients of `ended` that these sessions of `realm` ended (back-channel logout).
    pub async fn sessions_ended(&self, realm: &Realm, ended: &[SessionWithClients]) {
        let Some((notifier, base)) = self.logout else { return };
        if ended.is_empty() {
            return;
        }
        match self.realms.get(&realm.name).await {
            Ok(Some(context)) => {
                let issuer = format!("{base}/realms/{}", realm.name);
                notifier.sessions_ended(self.store, &context, &issuer, ended, self.now).await;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, realm = %realm.name, "cannot load the realm to send back-channel logouts"),
        }
    }

    /// The realm, read fresh from the store, once the caller is known to hold `need` in it: a
    /// caller without rights gets 403 whether or not the realm exists.
    pub async fn realm(&self, name: &str, need: Permission) -> Result<Realm, AdminError> {
        self.caller.require(name, need)?;
        self.find_realm(name).await
    }

    /// Like [`Self::realm`] with any of several permissions.
    pub async fn realm_any(&self, name: &str, needs: &[Permission]) -> Result<Realm, AdminError> {
        self.caller.require_any(name, needs)?;
        self.find_realm(name).await
    }

    async fn find_realm(&self, name: &str) -> Result<Realm, AdminError> {
        self.store.realm_by_name(name).await?.ok_or_else(|| AdminError::not_found("Realm not found."))
    }

    /// The realm's clients; used to name clients by `clientId` in representations.
    pub async fn clients(&self, realm: &Realm) -> Result<Vec<Client>, AdminError> {
        Ok(self.store.list_clients(&realm.id).await?)
    }

    /// The internal id of the realm's `realm-management` client, when it has one.
    pub fn realm_management_id(clients: &[Client]) -> Option<&str> {
        clients.iter().find(|c| c.client_id == REALM_MANAGEMENT).map(|c| c.id.as_str())
    }

    /// Refuses, with 403, roles the caller may not grant: admin roles they do not hold, also
    /// when reached through a composite.
    pub fn check_grantable(
        &self,
        realm: &Realm,
        clients: &[Client],
        all: &[Role],
        granted: &[&Role],
    ) -> Result<(), AdminError> {
        let management = Self::realm_management_id(clients);
        let mut stack: Vec<&Role> = granted.to_vec();
        let mut seen = std::collections::HashSet::new();
        while let Some(role) = stack.pop() {
            if !seen.insert(role.id.as_str()) {
                continue;
            }
            if !self.caller.may_grant(&realm.name, role, management) {
                return Err(AdminError::Forbidden);
            }
            stack.extend(role.composites.iter().filter_map(|id| all.iter().find(|r| &r.id == id)));
        }
        Ok(())
    }

    /// Forgets the cached realm so this node sees the change at once (others within the
    /// cache's TTL).
    /// Makes the realm an active key for each of `algs` it has none for
    /// (`realm::signing_keys`), before whatever asks for them is stored.
    pub async fn ensure_keys(&self, realm: &Realm, algs: Vec<crate::domain::SignatureAlgorithm>) -> Result<(), AdminError> {
        use crate::realm::signing_keys::{ensure, EnsureError};
        match ensure(self.store, self.master, &realm.id, algs, self.now).await {
            Ok(made) => {
                if made {
                    self.changed(realm);
                }
                Ok(())
            }
            Err(EnsureError::Store(e)) => Err(e.into()),
            Err(EnsureError::Keys(e)) => Err(AdminError::Internal(format!("cannot make the realm's signing key: {e}"))),
        }
    }

    pub fn changed(&self, realm: &Realm) {
        self.realms.invalidate(&realm.name);
    }

    /// Records an admin event in `realm_id` and logs it, as Keycloak does: stored only when the
    /// realm's `adminEventsEnabled` is on, with the representation only when
    /// `adminEventsDetailsEnabled` is too (the log line is always written). A failure to store
    /// it is logged and does not fail the request: the change has already been committed.
    pub async fn record(
        &self,
        realm_id: &str,
        operation: Operation,
        resource: Resource,
        path: &str,
        representation: Option<serde_json::Value>,
    ) {
        let config = match self.store.list_realms().await {
            Ok(realms) => realms.iter().find(|r| r.id == realm_id).map(AdminEventsConfig::of),
            Err(e) => {
                tracing::error!(error = %e, path, "admin event not stored: the realm's settings cannot be read");
                None
            }
        };
        let config = config.unwrap_or(AdminEventsConfig { enabled: false, details: false });
        self.record_as(config, realm_id, operation, resource, path, representation).await;
    }

    /// [`Self::record`] under a given configuration: Keycloak decides with the realm's settings
    /// from before the request, so a PUT that turns admin events on is not itself recorded, one
    /// that turns them off is (and `PUT .../events/config` is recorded when either is on).
    pub async fn record_as(
        &self,
        config: AdminEventsConfig,
        realm_id: &str,
        operation: Operation,
        resource: Resource,
        path: &str,
        representation: Option<serde_json::Value>,
    ) {
        tracing::info!(
            target: "portcullis::admin",
            realm_id,
            operation = operation.as_str(),
            resource = resource.as_str(),
            path,
            auth_realm = %self.caller.realm_name,
            auth_user = %self.caller.user_id,
            "admin event"
        );
        if !config.enabled {
            return;
        }
        let representation = if config.details { representation } else { None };
        let event = AdminEventRecord {
            id: new_id(),
            realm_id: realm_id.to_string(),
            time: self.now,
            operation: operation.as_str().into(),
            resource_type: resource.as_str().into(),
            resource_path: path.to_string(),
            representation: representation.map(|r| r.to_string()),
            auth_realm_id: Some(self.caller.realm_id.clone()),
            auth_user_id: Some(self.caller.user_id.clone()),
            ip: self.caller.ip.clone(),
        };
        if let Err(e) = self.store.insert_admin_event(&event).await {
            tracing::error!(error = %e, path, "admin event not stored");
        }
    }
}
