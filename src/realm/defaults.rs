//! What every new realm starts with, as in Keycloak: roles `offline_access`,
//! `uma_authorization` and the composite `default-roles-{realm}` that includes them, plus one key
//! per signature algorithm and the refresh-token HMAC key, and Keycloak's built-in client scopes
//! (`realm::builtin_scopes`).

use crate::clock::UnixTime;
use crate::crypto::MasterKey;
use crate::domain::{new_id, Realm, RealmSettings, Role};
use crate::oauth::tokens::keys::generate_realm_keys;
use crate::oauth::tokens::KeyMaterialError;
use crate::store::RealmBundle;

pub const OFFLINE_ACCESS_ROLE: &str = "offline_access";
pub const UMA_AUTHORIZATION_ROLE: &str = "uma_authorization";

pub fn default_roles_name(realm_name: &str) -> String {
    format!("default-roles-{realm_name}")
}

/// A realm record with fresh id and the given settings.
pub fn new_realm(name: &str, settings: RealmSettings, now: UnixTime) -> Realm {
    Realm { id: new_id(), name: name.to_string(), enabled: true, not_before: 0, settings, created_at: now }
}

/// Adds the default realm roles the bundle lacks, and makes `default-roles-{realm}` include
/// `offline_access` and `uma_authorization` when the bundle had to create it.
pub fn ensure_default_roles(bundle: &mut RealmBundle) {
    let Some(realm) = bundle.realm.as_ref() else { return };
    let (realm_id, realm_name) = (realm.id.clone(), realm.name.clone());
    let find = |roles: &[Role], name: &str| {
        roles.iter().find(|r| !r.client_role && r.name == name).map(|r| r.id.clone())
    };
    let mut basics = Vec::new();
    for (name, description) in [
        (OFFLINE_ACCESS_ROLE, "${role_offline-access}"),
        (UMA_AUTHORIZATION_ROLE, "${role_uma_authorization}"),
    ] {
        let id = match find(&bundle.roles, name) {
            Some(id) => id,
            None => {
                let role = Role::realm_role(&realm_id, name, Some(description));
                let id = role.id.clone();
                bundle.roles.push(role);
                id
            }
        };
        basics.push(id);
    }
    let default_name = default_roles_name(&realm_name);
    if find(&bundle.roles, &default_name).is_none() {
        let mut role = Role::realm_role(&realm_id, &default_name, Some("${role_default-roles}"));
        role.composites = basics;
        bundle.roles.push(role);
    }
}

/// A complete new realm: record, default roles and keys.
pub fn new_realm_bundle(
    name: &str,
    settings: RealmSettings,
    master: &MasterKey,
    now: UnixTime,
) -> Result<RealmBundle, KeyMaterialError> {
    let realm = new_realm(name, settings, now);
    let keys = generate_realm_keys(&realm.id, master, now)?;
    let mut bundle = RealmBundle { realm: Some(realm), keys, ..RealmBundle::default() };
    ensure_default_roles(&mut bundle);
    crate::realm::builtin_scopes::add_builtin_scopes(&mut bundle);
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_realm_has_keycloaks_default_roles_and_all_keys() {
        let bundle = new_realm_bundle("demo", RealmSettings::default(), &MasterKey::generate(), 1).unwrap();
        let names: Vec<&str> = bundle.roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["offline_access", "uma_authorization", "default-roles-demo"]);
        assert_eq!(bundle.roles[2].composites.len(), 2);
        assert_eq!(bundle.keys.len(), 4);
    }
}
