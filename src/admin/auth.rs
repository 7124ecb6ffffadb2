//! Who is calling the admin API and what they may do, as in Keycloak: a bearer access token of
//! any enabled realm, verified fully (`live_access_token`) against the realm its issuer names.
//! A user of realm `master` holding the realm role `admin` may do everything; a user of realm R
//! holding client roles of R's `realm-management` client (view-users, manage-users, ...) may act
//! on realm R only, reading with view-* and writing with manage-*. Role mappings are read from
//! the database on every request, so taking a role away takes effect at once.

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::AdminError;
use crate::bootstrap::{ADMIN_ROLE, CREATE_REALM_ROLE, MASTER_REALM};
use crate::clock::UnixTime;
use crate::domain::Role;
use crate::oauth::roles::effective_roles;
use crate::oauth::token_check::live_access_token;
use crate::realm::RealmCache;
use crate::store::Store;

/// The client every realm has whose roles grant admin rights over that realm.
pub const REALM_MANAGEMENT: &str = "realm-management";
/// The realm-management role that includes all the others.
pub const REALM_ADMIN: &str = "realm-admin";

/// The realm-management roles a realm is created with (Keycloak's `AdminRoles`), with the roles
/// each includes: `realm-admin` includes all the others.
pub const REALM_MANAGEMENT_ROLES: &[(&str, &[&str])] = &[
    ("create-client", &[]),
    ("impersonation", &[]),
    ("manage-authorization", &[]),
    ("manage-clients", &[]),
    ("manage-events", &[]),
    ("manage-identity-providers", &[]),
    ("manage-realm", &[]),
    ("manage-users", &[]),
    ("query-clients", &[]),
    ("query-groups", &[]),
    ("query-realms", &[]),
    ("query-users", &[]),
    ("view-authorization", &[]),
    ("view-clients", &["query-clients"]),
    ("view-events", &[]),
    ("view-identity-providers", &[]),
    ("view-realm", &[]),
    ("view-users", &["query-users", "query-groups"]),
    (
        REALM_ADMIN,
        &[
            "create-client",
            "impersonation",
            "manage-authorization",
            "manage-clients",
            "manage-events",
            "manage-identity-providers",
            "manage-realm",
            "manage-users",
            "query-clients",
            "query-groups",
            "query-realms",
            "query-users",
            "view-authorization",
            "view-clients",
            "view-events",
            "view-identity-providers",
            "view-realm",
            "view-users",
        ],
    ),
];

/// What an admin operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ViewRealm,
    ManageRealm,
    ViewUsers,
    ManageUsers,
    ViewClients,
    ManageClients,
    ViewEvents,
    ManageEvents,
    /// List and search users (Keycloak's query-users), without reading them in full.
    QueryUsers,
    /// List clients (query-clients).
    QueryClients,
    /// List groups (query-groups).
    QueryGroups,
    /// Create clients (create-client), without managing the others.
    CreateClient,
    ViewIdentityProviders,
    ManageIdentityProviders,
    ViewAuthorization,
    ManageAuthorization,
    Impersonation,
}

impl Permission {
    /// The realm-management roles that grant it: manage-x implies view-x, view-x implies
    /// query-x, realm-admin all. A caller's roles are effective ones (composites expanded), so
    /// `realm-admin` and `view-users` grant what they include too; naming them here keeps a
    /// realm whose composites were edited working as Keycloak's fixed checks do.
    fn granted_by(self) -> &'static [&'static str] {
        match self {
            Self::ViewRealm => &["view-realm", "manage-realm", REALM_ADMIN],
            Self::ManageRealm => &["manage-realm", REALM_ADMIN],
            Self::ViewUsers => &["view-users", "manage-users", REALM_ADMIN],
            Self::ManageUsers => &["manage-users", REALM_ADMIN],
            Self::ViewClients => &["view-clients", "manage-clients", REALM_ADMIN],
            Self::ManageClients => &["manage-clients", REALM_ADMIN],
            Self::ViewEvents => &["view-events", "manage-events", REALM_ADMIN],
            Self::ManageEvents => &["manage-events", REALM_ADMIN],
            Self::QueryUsers => &["query-users", "view-users", "manage-users", REALM_ADMIN],
            Self::QueryClients => &["query-clients", "view-clients", "manage-clients", REALM_ADMIN],
            Self::QueryGroups => &["query-groups", "view-users", "manage-users", REALM_ADMIN],
            Self::CreateClient => &["create-client", "manage-clients", REALM_ADMIN],
            Self::ViewIdentityProviders => &["view-identity-providers", "manage-identity-providers", REALM_ADMIN],
            Self::ManageIdentityProviders => &["manage-identity-providers", REALM_ADMIN],
            Self::ViewAuthorization => &["view-authorization", "manage-authorization", REALM_ADMIN],
            Self::ManageAuthorization => &["manage-authorization", REALM_ADMIN],
            Self::Impersonation => &["impersonation", REALM_ADMIN],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Access {
    /// Realm `master`, role `admin`: every realm, every operation.
    Full,
    /// The realm-management roles held in the caller's own realm, and whether the caller may
    /// create realms (realm `master`, role `create-realm`).
    Realm { roles: BTreeSet<String>, create_realm: bool },
}

/// An authenticated admin: whose token, from which realm, and what it grants.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub realm_id: String,
    pub realm_name: String,
    pub user_id: String,
    /// The client the token was issued to (`azp`).
    pub client_id: String,
    pub ip: Option<String>,
    access: Access,
}

impl Caller {
    /// A caller with full rights, for tools that act as the server itself.
    pub fn full(realm_id: &str, user_id: &str) -> Self {
        Self {
            realm_id: realm_id.into(),
            realm_name: MASTER_REALM.into(),
            user_id: user_id.into(),
            client_id: String::new(),
            ip: None,
            access: Access::Full,
        }
    }

    pub fn is_full(&self) -> bool {
        self.access == Access::Full
    }

    /// Ok when the caller may do `need` in `realm` (by name); 403 otherwise.
    pub fn require(&self, realm: &str, need: Permission) -> Result<(), AdminError> {
        if self.allows(realm, need) {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }

    /// Ok when any of `needs` is allowed.
    pub fn require_any(&self, realm: &str, needs: &[Permission]) -> Result<(), AdminError> {
        if needs.iter().any(|need| self.allows(realm, *need)) {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }

    pub fn allows(&self, realm: &str, need: Permission) -> bool {
        match &self.access {
            Access::Full => true,
            Access::Realm { roles, .. } => {
                realm == self.realm_name && need.granted_by().iter().any(|role| roles.contains(*role))
            }
        }
    }

    /// Whether the realm shows in `GET /admin/realms` for this caller.
    pub fn sees_realm(&self, realm: &str) -> bool {
        match &self.access {
            Access::Full => true,
            Access::Realm { roles, .. } => realm == self.realm_name && !roles.is_empty(),
        }
    }

    pub fn may_create_realm(&self) -> bool {
        match &self.access {
            Access::Full => true,
            Access::Realm { create_realm, .. } => *create_realm,
        }
    }

    /// The realm-management roles the caller holds in `realm`, composites expanded (every one
    /// for a full admin), as Keycloak's console `whoami` lists them.
    pub fn admin_roles_in(&self, realm: &str) -> Vec<String> {
        let all = || REALM_MANAGEMENT_ROLES.iter().map(|(name, _)| (*name).to_string()).collect();
        match &self.access {
            Access::Full => all(),
            Access::Realm { .. } if realm != self.realm_name => Vec::new(),
            Access::Realm { roles, .. } => {
                let mut held: BTreeSet<String> = BTreeSet::new();
                for (name, includes) in REALM_MANAGEMENT_ROLES {
                    if roles.contains(*name) {
                        held.insert((*name).to_string());
                        held.extend(includes.iter().map(|r| (*r).to_string()));
                    }
                }
                held.into_iter().collect()
            }
        }
    }

    /// Holds any admin right at all.
    pub fn is_admin(&self) -> bool {
        match &self.access {
            Access::Full => true,
            Access::Realm { roles, create_realm } => *create_realm || !roles.is_empty(),
        }
    }

    /// May the caller grant (or take away, or put in a composite) this role of `realm`? Admin
    /// roles (realm-management client roles, and master's `admin` and `create-realm`) only when
    /// the caller holds them, as Keycloak's `requireMapRole`; other roles always.
    pub fn may_grant(&self, realm: &str, role: &Role, realm_management_id: Option<&str>) -> bool {
        let Access::Realm { roles, create_realm } = &self.access else { return true };
        if role.client_role {
            return realm_management_id != Some(role.container_id.as_str()) || roles.contains(&role.name);
        }
        if realm == MASTER_REALM && role.name == ADMIN_ROLE {
            return false;
        }
        if realm == MASTER_REALM && role.name == CREATE_REALM_ROLE {
            return *create_realm;
        }
        true
    }
}

/// The realm name an access token's (unverified) `iss` claims, when it is one of this server's
/// issuers at `base`. Verification against that realm's keys follows.
fn issuer_realm(token: &str, base: &str) -> Option<String> {
    if token.len() > 16 * 1024 {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let iss = claims.get("iss")?.as_str()?;
    let realm = iss.strip_prefix(base)?.strip_prefix("/realms/")?;
    (!realm.is_empty() && !realm.contains('/')).then(|| realm.to_string())
}

/// Authenticates a bearer token for the admin API. 401 for a missing, malformed, expired,
/// revoked or stale token, a token whose session ended, or whose user is gone or disabled.
pub async fn authenticate(
    store: &dyn Store,
    realms: &RealmCache,
    base: &str,
    token: Option<&str>,
    ip: Option<String>,
    now: UnixTime,
) -> Result<Caller, AdminError> {
    let token = token.ok_or(AdminError::Unauthorized)?;
    let realm_name = issuer_realm(token, base).ok_or(AdminError::Unauthorized)?;
    let realm = match realms.enabled(&realm_name).await {
        Ok(Some(realm)) => realm,
        Ok(None) => return Err(AdminError::Unauthorized),
        Err(crate::realm::cache::RealmLoadError::Store(e)) => return Err(e.into()),
        Err(crate::realm::cache::RealmLoadError::Keys(e)) => return Err(AdminError::Internal(e.to_string())),
    };
    let issuer = format!("{base}/realms/{realm_name}");
    let claims = match live_access_token(store, &realm, &issuer, token, now).await? {
        Ok(claims) => claims,
        Err(inactive) => {
            tracing::info!(realm = %realm_name, reason = inactive.reason(), "admin request with an inactive token");
            return Err(AdminError::Unauthorized);
        }
    };
    let user = store
        .user_by_id(&realm.realm.id, &claims.sub)
        .await?
        .filter(|u| u.enabled)
        .ok_or(AdminError::Unauthorized)?;
    let role_ids = store.mapped_role_ids(&user.id).await?;
    let roles = effective_roles(&realm, &role_ids);
    let master = realm_name == MASTER_REALM;
    let access = if master && roles.has_realm_role(ADMIN_ROLE) {
        Access::Full
    } else {
        Access::Realm {
            roles: roles
                .clients
                .get(REALM_MANAGEMENT)
                .map(|r| r.roles.iter().cloned().collect())
                .unwrap_or_default(),
            create_realm: master && roles.has_realm_role(CREATE_REALM_ROLE),
        }
    };
    Ok(Caller {
        realm_id: realm.realm.id.clone(),
        realm_name,
        user_id: user.id,
        client_id: claims.azp,
        ip,
        access,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scoped(realm: &str, roles: &[&str]) -> Caller {
        Caller {
            realm_id: "id".into(),
            realm_name: realm.into(),
            user_id: "u".into(),
            client_id: "c".into(),
            ip: None,
            access: Access::Realm {
                roles: roles.iter().map(|r| r.to_string()).collect(),
                create_realm: false,
            },
        }
    }

    #[test]
    fn manage_implies_view_and_scope_is_one_realm() {
        let caller = scoped("demo", &["manage-users"]);
        assert!(caller.allows("demo", Permission::ViewUsers));
        assert!(caller.allows("demo", Permission::ManageUsers));
        assert!(!caller.allows("demo", Permission::ViewClients));
        assert!(!caller.allows("other", Permission::ViewUsers));
        let viewer = scoped("demo", &["view-users"]);
        assert!(!viewer.allows("demo", Permission::ManageUsers));
        assert!(scoped("demo", &[REALM_ADMIN]).allows("demo", Permission::ManageRealm));
    }

    #[test]
    fn admin_roles_are_granted_only_by_holders() {
        let caller = scoped("demo", &["manage-users"]);
        let mut role = Role::realm_role("r", "view-users", None);
        role.client_role = true;
        role.container_id = "rm".into();
        assert!(!caller.may_grant("demo", &role, Some("rm")));
        role.name = "manage-users".into();
        assert!(caller.may_grant("demo", &role, Some("rm")));
        assert!(caller.may_grant("demo", &Role::realm_role("r", "admin", None), Some("rm")));
        assert!(!scoped("master", &["manage-users"]).may_grant(
            "master",
            &Role::realm_role("r", "admin", None),
            None
        ));
    }

    #[test]
    fn the_issuer_names_the_realm_only_under_our_base() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"iss":"http://h:1/realms/demo"}"#);
        let token = format!("e30.{payload}.sig");
        assert_eq!(issuer_realm(&token, "http://h:1").as_deref(), Some("demo"));
        assert_eq!(issuer_realm(&token, "http://evil"), None);
        assert_eq!(issuer_realm("garbage", "http://h:1"), None);
    }
}
