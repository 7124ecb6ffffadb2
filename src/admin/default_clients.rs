//! What Keycloak 26 gives every realm it creates (`RealmManager.setupRealmDefaults` and the
//! `setup*` steps after it), added to a realm representation before it is imported: the clients
//! `account`, `account-console`, `admin-cli`, `broker`, `realm-management` and
//! `security-admin-console` with Keycloak's settings, the roles of `account`, `broker` and
//! `realm-management` (Keycloak's `AdminRoles`, `realm-admin` including them all, `view-users`
//! including `query-users` and `query-groups`, `view-clients` including `query-clients`), and
//! the default role `default-roles-{realm}` (offline_access, uma_authorization, account's
//! view-profile and manage-account). What the representation already has is kept.
//! Client scopes and protocol mappers of these clients are the client-scopes module's business.

use std::collections::BTreeMap;

use super::auth::{REALM_MANAGEMENT, REALM_MANAGEMENT_ROLES};
use super::representation::role_representation;
use super::{AdminContext, AdminError};
use crate::bootstrap::ADMIN_CLI;
use crate::domain::Realm;
use crate::realm::defaults::{default_roles_name, OFFLINE_ACCESS_ROLE, UMA_AUTHORIZATION_ROLE};
use crate::realm::representation::{
    ClientRepresentation, CompositesRepresentation, RealmRepresentation, RoleRepresentation, RolesRepresentation,
};

pub const ACCOUNT: &str = "account";
pub const ACCOUNT_CONSOLE: &str = "account-console";
pub const BROKER: &str = "broker";
pub const SECURITY_ADMIN_CONSOLE: &str = "security-admin-console";

/// `account`'s roles (Keycloak's `AccountRoles`), with the roles each includes.
pub const ACCOUNT_ROLES: &[(&str, &[&str])] = &[
    ("view-profile", &[]),
    ("manage-account", &["manage-account-links"]),
    ("manage-account-links", &[]),
    ("view-applications", &[]),
    ("view-consent", &[]),
    ("manage-consent", &["view-consent"]),
    ("delete-account", &[]),
    ("view-groups", &[]),
];

/// `broker`'s one role.
pub const BROKER_ROLES: &[(&str, &[&str])] = &[("read-token", &[])];

/// The account roles every user gets through `default-roles-{realm}`.
const DEFAULT_ACCOUNT_ROLES: &[&str] = &["view-profile", "manage-account"];

/// Settings every built-in client shares: created by Keycloak's model, not from a representation
/// (so `nodeReRegistrationTimeout` is 0 and no backchannel attributes are added).
fn builtin(client_id: &str) -> ClientRepresentation {
    ClientRepresentation {
        client_id: Some(client_id.into()),
        name: Some(format!("${{client_{client_id}}}")),
        enabled: Some(true),
        public_client: Some(false),
        bearer_only: Some(false),
        standard_flow_enabled: Some(true),
        direct_access_grants_enabled: Some(false),
        implicit_flow_enabled: Some(false),
        service_accounts_enabled: Some(false),
        consent_required: Some(false),
        frontchannel_logout: Some(false),
        node_re_registration_timeout: Some(0),
        redirect_uris: Some(Vec::new()),
        web_origins: Some(Vec::new()),
        attributes: Some(BTreeMap::new()),
        protocol: Some("openid-connect".into()),
        ..ClientRepresentation::default()
    }
}

/// Keycloak's six built-in clients of realm `realm`, as its export shows them.
pub fn builtin_clients(realm: &str) -> Vec<ClientRepresentation> {
    let account_url = format!("/realms/{realm}/account/");
    let console_pkce = BTreeMap::from([
        ("pkce.code.challenge.method".to_string(), "S256".to_string()),
        ("post.logout.redirect.uris".to_string(), "+".to_string()),
    ]);
    vec![
        ClientRepresentation {
            public_client: Some(true),
            root_url: Some("${authBaseUrl}".into()),
            base_url: Some(account_url.clone()),
            redirect_uris: Some(vec![format!("{account_url}*")]),
            ..builtin(ACCOUNT)
        },
        ClientRepresentation {
            public_client: Some(true),
            root_url: Some("${authBaseUrl}".into()),
            base_url: Some(account_url.clone()),
            redirect_uris: Some(vec![format!("{account_url}*")]),
            attributes: Some(console_pkce.clone()),
            ..builtin(ACCOUNT_CONSOLE)
        },
        ClientRepresentation {
            public_client: Some(true),
            standard_flow_enabled: Some(false),
            direct_access_grants_enabled: Some(true),
            ..builtin(ADMIN_CLI)
        },
        ClientRepresentation { bearer_only: Some(true), ..builtin(BROKER) },
        ClientRepresentation {
            bearer_only: Some(true),
            attributes: Some(BTreeMap::from([("realm_client".to_string(), "true".to_string())])),
            ..builtin(REALM_MANAGEMENT)
        },
        ClientRepresentation {
            public_client: Some(true),
            root_url: Some("${authAdminUrl}".into()),
            base_url: Some(format!("/admin/{realm}/console/")),
            redirect_uris: Some(vec![format!("/admin/{realm}/console/*")]),
            web_origins: Some(vec!["+".into()]),
            attributes: Some(console_pkce),
            ..builtin(SECURITY_ADMIN_CONSOLE)
        },
    ]
}

/// A client's roles as a representation: descriptions `${role_x}`, composites within the client.
fn client_roles(client_id: &str, roles: &[(&str, &[&str])]) -> Vec<RoleRepresentation> {
    roles
        .iter()
        .map(|(name, includes)| RoleRepresentation {
            name: Some((*name).to_string()),
            description: Some(format!("${{role_{name}}}")),
            composite: Some(!includes.is_empty()),
            composites: (!includes.is_empty()).then(|| CompositesRepresentation {
                client: Some(BTreeMap::from([(
                    client_id.to_string(),
                    includes.iter().map(|r| (*r).to_string()).collect(),
                )])),
                ..CompositesRepresentation::default()
            }),
            ..RoleRepresentation::default()
        })
        .collect()
}

/// Adds Keycloak's built-in clients, their roles and the default role to a new realm's
/// representation (`realm` is its name), leaving alone whatever it already defines.
pub fn with_default_clients(rep: &mut RealmRepresentation, realm: &str) {
    let clients = rep.clients.get_or_insert_with(Vec::new);
    for client in builtin_clients(realm) {
        if !clients.iter().any(|c| c.client_id == client.client_id) {
            clients.push(client);
        }
    }
    let roles = rep.roles.get_or_insert_with(RolesRepresentation::default);
    let by_client = roles.client.get_or_insert_with(BTreeMap::new);
    for (client_id, set) in [(ACCOUNT, ACCOUNT_ROLES), (BROKER, BROKER_ROLES), (REALM_MANAGEMENT, REALM_MANAGEMENT_ROLES)] {
        by_client.entry(client_id.to_string()).or_insert_with(|| client_roles(client_id, set));
    }
    let realm_roles = roles.realm.get_or_insert_with(Vec::new);
    let has = |roles: &[RoleRepresentation], name: &str| roles.iter().any(|r| r.name.as_deref() == Some(name));
    for (name, description) in
        [(OFFLINE_ACCESS_ROLE, "${role_offline-access}"), (UMA_AUTHORIZATION_ROLE, "${role_uma_authorization}")]
    {
        if !has(realm_roles, name) {
            realm_roles.push(RoleRepresentation {
                name: Some(name.into()),
                description: Some(description.into()),
                ..RoleRepresentation::default()
            });
        }
    }
    let default_name = default_roles_name(realm);
    let renamed = rep.default_role.as_ref().and_then(|d| d.name.clone()).filter(|n| *n != default_name);
    if !has(realm_roles, &default_name) && renamed.is_none_or(|n| !has(realm_roles, &n)) {
        realm_roles.push(RoleRepresentation {
            name: Some(default_name),
            description: Some("${role_default-roles}".into()),
            composite: Some(true),
            composites: Some(CompositesRepresentation {
                realm: Some(vec![OFFLINE_ACCESS_ROLE.into(), UMA_AUTHORIZATION_ROLE.into()]),
                client: Some(BTreeMap::from([(
                    ACCOUNT.to_string(),
                    DEFAULT_ACCOUNT_ROLES.iter().map(|r| (*r).to_string()).collect(),
                )])),
            }),
            ..RoleRepresentation::default()
        });
    }
}

/// The realm's `defaultRole`, as Keycloak's RealmRepresentation shows it (no composites listed).
pub async fn default_role(ctx: &AdminContext<'_>, realm: &Realm) -> Result<Option<RoleRepresentation>, AdminError> {
    let name = default_roles_name(&realm.name);
    let roles = ctx.store.realm_roles(&realm.id).await?;
    Ok(roles.iter().find(|r| !r.client_role && r.name == name).map(|r| {
        let mut rep = role_representation(r);
        rep.attributes = None;
        rep
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_realm_gets_keycloaks_six_clients_once_and_keeps_its_own() {
        let mut rep = RealmRepresentation {
            realm: Some("demo".into()),
            clients: Some(vec![ClientRepresentation { client_id: Some("account".into()), ..Default::default() }]),
            ..Default::default()
        };
        with_default_clients(&mut rep, "demo");
        with_default_clients(&mut rep, "demo");
        let clients = rep.clients.as_ref().unwrap();
        let ids: Vec<&str> = clients.iter().map(|c| c.client_id.as_deref().unwrap()).collect();
        assert_eq!(ids, ["account", "account-console", "admin-cli", "broker", "realm-management", "security-admin-console"]);
        assert_eq!(clients[0].name, None, "the representation's own account client is kept");
        let roles = rep.roles.as_ref().unwrap();
        let admin = roles.client.as_ref().unwrap()[REALM_MANAGEMENT].iter().find(|r| r.name.as_deref() == Some("realm-admin")).unwrap();
        let includes = &admin.composites.as_ref().unwrap().client.as_ref().unwrap()[REALM_MANAGEMENT];
        assert_eq!(includes.len(), REALM_MANAGEMENT_ROLES.len() - 1, "every other realm-management role");
        let realm_roles: Vec<&str> = roles.realm.as_ref().unwrap().iter().map(|r| r.name.as_deref().unwrap()).collect();
        assert_eq!(realm_roles, ["offline_access", "uma_authorization", "default-roles-demo"]);
    }
}
