//! First start: realm `master` with the public `admin-cli` client (direct grants on) and the
//! bootstrap admin user holding the `admin` role, as Keycloak creates them. Runs only when realm
//! `master` does not exist yet, so restarts and changed environment variables change nothing.

use std::collections::BTreeMap;

use crate::clock::UnixTime;
use crate::crypto::password::PasswordHasher;
use crate::crypto::{MasterKey, SecretString};
use crate::domain::{new_id, Client, Credential, RealmSettings, Role, User};
use crate::realm::defaults::{default_roles_name, new_realm_bundle};
use crate::realm::import::ARGON2_PHC_CREDENTIAL_DATA;
use crate::realm::service::RealmServiceError;
use crate::store::{Store, StoreError};

pub const MASTER_REALM: &str = "master";
pub const ADMIN_CLI: &str = "admin-cli";
pub const ADMIN_ROLE: &str = "admin";
pub const CREATE_REALM_ROLE: &str = "create-realm";


#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("realm master does not exist and no bootstrap admin password was given (set PORTCULLIS_BOOTSTRAP_ADMIN_PASSWORD)")]
    NoAdmin,
    #[error(transparent)]
    Realm(#[from] RealmServiceError),
    #[error("password hashing failed")]
    Hash,
}

impl From<StoreError> for BootstrapError {
    fn from(e: StoreError) -> Self {
        Self::Realm(e.into())
    }
}

/// Creates realm master and its admin when missing. Returns whether it did.
pub async fn ensure_master_realm(
    store: &dyn Store,
    master_key: &MasterKey,
    hasher: &PasswordHasher,
    now: UnixTime,
    admin: Option<&(String, SecretString)>,
) -> Result<bool, BootstrapError> {
    if store.realm_by_name(MASTER_REALM).await?.is_some() {
        return Ok(false);
    }
    let (username, password) = admin.ok_or(BootstrapError::NoAdmin)?;
    let mut bundle = new_realm_bundle(MASTER_REALM, RealmSettings::default(), master_key, now)
        .map_err(RealmServiceError::from)?;
    let realm_id = bundle.realm.as_ref().map(|r| r.id.clone()).unwrap_or_default();
    bundle.clients.push(Client {
        id: new_id(),
        realm_id: realm_id.clone(),
        client_id: ADMIN_CLI.into(),
        name: Some("${client_admin-cli}".into()),
        enabled: true,
        public_client: true,
        bearer_only: false,
        secret_sealed: None,
        redirect_uris: Vec::new(),
        web_origins: Vec::new(),
        standard_flow_enabled: false,
        direct_access_grants_enabled: true,
        service_accounts_enabled: false,
        consent_required: false,
        full_scope_allowed: true,
        attributes: BTreeMap::new(),
        settings: crate::domain::ClientSettings::default(),
        created_at: now,
    });
    let admin_role = Role::realm_role(&realm_id, ADMIN_ROLE, Some("${role_admin}"));
    let create_realm = Role::realm_role(&realm_id, CREATE_REALM_ROLE, Some("${role_create-realm}"));
    let default_roles = default_roles_name(MASTER_REALM);
    let mut mapped: Vec<String> =
        bundle.roles.iter().filter(|r| r.name == default_roles).map(|r| r.id.clone()).collect();
    mapped.extend([admin_role.id.clone(), create_realm.id.clone()]);
    bundle.roles.extend([admin_role, create_realm]);

    let user = User {
        id: new_id(),
        realm_id,
        username: username.to_lowercase(),
        email: None,
        first_name: None,
        last_name: None,
        enabled: true,
        email_verified: false,
        service_account_client_id: None,
        created_at: now,
        required_actions: Vec::new(),
        attributes: Default::default(),
    };
    let hash = hasher.hash(password.clone()).await.map_err(|_| BootstrapError::Hash)?;
    bundle.credentials.push(Credential {
        id: new_id(),
        user_id: user.id.clone(),
        kind: "password".into(),
        secret_data: hash,
        credential_data: ARGON2_PHC_CREDENTIAL_DATA.into(),
        created_at: now,
        user_label: None,
        priority: 0,
    });
    bundle.role_mappings.extend(mapped.into_iter().map(|role| (user.id.clone(), role)));
    bundle.users.push(user);
    crate::realm::builtin_scopes::add_builtin_scopes(&mut bundle);
    match store.create_realms(&[bundle], false).await {
        // another node or process created it first: that is fine
        Err(StoreError::Conflict(_)) => Ok(false),
        other => other.map(|()| true).map_err(Into::into),
    }
}
