//! A stored realm back out as Keycloak-shaped realm JSON, the inverse of `realm::import`: client
//! secrets, the SMTP password and OTP secrets are decrypted (as Keycloak's export writes them),
//! password credentials leave as stored hashes.
//! Signing keys are not exported: importing the result generates fresh ones, so tokens issued
//! by the exported realm are not valid on the imported copy.

use std::collections::{BTreeMap, HashMap};

use crate::crypto::{MasterKey, SecretString};
use crate::domain::{Client, Credential, Role, User};
use crate::realm::defaults::default_roles_name;
use crate::realm::representation::{
    ClientRepresentation, CompositesRepresentation, CredentialRepresentation, RealmRepresentation,
    RoleRepresentation, RolesRepresentation, UserRepresentation,
};
use crate::store::RealmBundle;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the bundle holds no realm record")]
    NoRealm,
    /// The master key differs from the one that sealed the secret, or the row is damaged.
    #[error("cannot decrypt the secret of client {client_id} (wrong master key or damaged data)")]
    Secret { client_id: String },
    /// An OTP secret does not open under the master key.
    #[error("cannot decrypt the one-time password secret of {holder} (wrong master key or damaged data)")]
    OtpSecret { holder: String },
    /// A role, mapping or service account points at a record the bundle does not hold.
    #[error("{0} refers to a record missing from the realm")]
    Dangling(String),
}

/// The realm with its roles, clients (secrets in plain text) and users (with role mappings and
/// stored credentials), in Keycloak's field names. Keys are left out on purpose (see module doc).
pub fn export_realm(bundle: &RealmBundle, master: &MasterKey) -> Result<RealmRepresentation, ExportError> {
    let realm = bundle.realm.as_ref().ok_or(ExportError::NoRealm)?;
    let refs = Refs::new(bundle);
    let mut rep = RealmRepresentation {
        id: Some(realm.id.clone()),
        realm: Some(realm.name.clone()),
        enabled: Some(realm.enabled),
        not_before: Some(realm.not_before),
        ..RealmRepresentation::default()
    };
    rep.set_settings(&realm.settings);
    rep.required_actions = Some(realm.settings.required_actions.clone());
    if let Some(password) = crate::realm::smtp::open_password(&realm.settings, &realm.id, master) {
        let smtp = rep.smtp_server.get_or_insert_with(BTreeMap::new);
        smtp.insert(crate::realm::smtp::PASSWORD.into(), password.expose().to_string());
    }

    let mut realm_roles = Vec::new();
    let mut client_roles: BTreeMap<String, Vec<RoleRepresentation>> = BTreeMap::new();
    for role in &bundle.roles {
        let role_rep = refs.role(role)?;
        match refs.owner(role)? {
            None => realm_roles.push(role_rep),
            Some(client_id) => client_roles.entry(client_id.to_string()).or_default().push(role_rep),
        }
    }
    let default_name = default_roles_name(&realm.name);
    rep.default_role = realm_roles
        .iter()
        .find(|r| r.name.as_deref() == Some(default_name.as_str()))
        .map(|r| RoleRepresentation { composites: None, ..r.clone() });
    rep.roles = Some(RolesRepresentation { realm: Some(realm_roles), client: Some(client_roles) });

    let clients = bundle.clients.iter().map(|c| export_client(c, master));
    rep.clients = Some(clients.collect::<Result<_, _>>()?);

    let mut credentials: HashMap<&str, Vec<&Credential>> = HashMap::new();
    for credential in &bundle.credentials {
        credentials.entry(credential.user_id.as_str()).or_default().push(credential);
    }
    let mut mappings: HashMap<&str, Vec<String>> = HashMap::new();
    for (user_id, role_id) in &bundle.role_mappings {
        mappings.entry(user_id.as_str()).or_default().push(role_id.clone());
    }
    let mut users = Vec::with_capacity(bundle.users.len());
    for user in &bundle.users {
        let roles = mappings.get(user.id.as_str()).map(Vec::as_slice).unwrap_or_default();
        let creds = credentials.get(user.id.as_str()).map(Vec::as_slice).unwrap_or_default();
        users.push(refs.user(user, roles, creds, master)?);
    }
    let names = |ids: &[String]| refs.names(ids, "group").unwrap_or_default();
    let (groups, paths) = super::groups::export_groups(&bundle.groups, &names);
    for (user_id, group_id) in &bundle.groups.memberships {
        let (Some(at), Some(path)) = (bundle.users.iter().position(|u| &u.id == user_id), paths.get(group_id)) else {
            continue;
        };
        users[at].groups.get_or_insert_with(Vec::new).push(path.clone());
    }
    let defaults: Vec<String> = bundle.groups.default_groups.iter().filter_map(|id| paths.get(id).cloned()).collect();
    rep.users = Some(users);
    rep.groups = (!groups.is_empty()).then_some(groups);
    rep.default_groups = (!defaults.is_empty()).then_some(defaults);
    crate::realm::export_scopes::export_scopes(bundle, &mut rep)?;
    Ok(rep)
}

fn export_client(client: &Client, master: &MasterKey) -> Result<ClientRepresentation, ExportError> {
    let secret = match &client.secret_sealed {
        None => None,
        Some(sealed) => {
            let plain = master
                .open(sealed, &client.secret_aad())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| ExportError::Secret { client_id: client.client_id.clone() })?;
            Some(SecretString::new(plain))
        }
    };
    Ok(ClientRepresentation::from_client(client, secret))
}

/// Realm role names, and client role names by `clientId`.
type RoleNames = (Vec<String>, BTreeMap<String, Vec<String>>);

/// Lookups from internal ids to the names the representation uses.
/// A credential's `secretData` as Keycloak stores it: an OTP secret opened (`{"value": ...}`, so
/// the user's authenticator app keeps working after an import into Keycloak), others as stored.
fn export_secret_data(c: &Credential, master: &MasterKey, holder: &str) -> Result<String, ExportError> {
    if c.kind != crate::users::otp::OTP_CREDENTIAL_TYPE {
        return Ok(c.secret_data.clone());
    }
    crate::users::otp::credential::keycloak_secret_data(master, c)
        .ok_or_else(|| ExportError::OtpSecret { holder: holder.to_string() })
}

struct Refs<'a> {
    clients: HashMap<&'a str, &'a Client>,
    roles: HashMap<&'a str, &'a Role>,
}

impl<'a> Refs<'a> {
    fn new(bundle: &'a RealmBundle) -> Self {
        Self {
            clients: bundle.clients.iter().map(|c| (c.id.as_str(), c)).collect(),
            roles: bundle.roles.iter().map(|r| (r.id.as_str(), r)).collect(),
        }
    }

    /// `None` for a realm role, the owning client's `clientId` for a client role.
    fn owner(&self, role: &Role) -> Result<Option<&'a str>, ExportError> {
        if !role.client_role {
            return Ok(None);
        }
        match self.clients.get(role.container_id.as_str()) {
            Some(client) => Ok(Some(client.client_id.as_str())),
            None => Err(ExportError::Dangling(format!("client role {}", role.name))),
        }
    }

    /// Role ids as names: realm role names, and client role names by `clientId`.
    fn names(
        &self,
        ids: &[String],
        holder: &str,
    ) -> Result<RoleNames, ExportError> {
        let (mut realm, mut client) = (Vec::new(), BTreeMap::<String, Vec<String>>::new());
        for id in ids {
            let role =
                self.roles.get(id.as_str()).ok_or_else(|| ExportError::Dangling(holder.to_string()))?;
            match self.owner(role)? {
                None => realm.push(role.name.clone()),
                Some(client_id) => client.entry(client_id.to_string()).or_default().push(role.name.clone()),
            }
        }
        Ok((realm, client))
    }

    fn role(&self, role: &Role) -> Result<RoleRepresentation, ExportError> {
        let (realm, client) = self.names(&role.composites, &format!("composite role {}", role.name))?;
        let composites = (!role.composites.is_empty()).then(|| CompositesRepresentation {
            realm: (!realm.is_empty()).then_some(realm),
            client: (!client.is_empty()).then_some(client),
        });
        Ok(RoleRepresentation {
            id: Some(role.id.clone()),
            name: Some(role.name.clone()),
            description: role.description.clone(),
            composite: Some(composites.is_some()),
            composites,
            client_role: Some(role.client_role),
            container_id: Some(role.container_id.clone()),
            attributes: Some(role.attributes.clone()),
        })
    }

    fn user(
        &self,
        user: &User,
        role_ids: &[String],
        credentials: &[&Credential],
        master: &MasterKey,
    ) -> Result<UserRepresentation, ExportError> {
        let holder = format!("user {}", user.username);
        let service_account_client_id = match &user.service_account_client_id {
            None => None,
            Some(id) => {
                let client =
                    self.clients.get(id.as_str()).ok_or_else(|| ExportError::Dangling(holder.clone()))?;
                Some(client.client_id.clone())
            }
        };
        let (realm_roles, client_roles) = self.names(role_ids, &holder)?;
        let credentials = credentials
            .iter()
            .map(|c| -> Result<CredentialRepresentation, ExportError> {
                Ok(CredentialRepresentation {
                id: Some(c.id.clone()),
                kind: Some(c.kind.clone()),
                secret_data: Some(export_secret_data(c, master, &holder)?),
                credential_data: Some(c.credential_data.clone()),
                created_date: Some(c.created_at.saturating_mul(1000)),
                user_label: c.user_label.clone(),
                priority: Some(c.priority),
                ..CredentialRepresentation::default()
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(UserRepresentation {
            id: Some(user.id.clone()),
            username: Some(user.username.clone()),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            enabled: Some(user.enabled),
            email_verified: Some(user.email_verified),
            created_timestamp: Some(user.created_at.saturating_mul(1000)),
            service_account_client_id,
            credentials: (!credentials.is_empty()).then_some(credentials),
            realm_roles: (!realm_roles.is_empty()).then_some(realm_roles),
            client_roles: (!client_roles.is_empty()).then_some(client_roles),
            required_actions: Some(user.required_actions.clone()),
            attributes: (!user.attributes.is_empty()).then(|| user.attributes.clone()),
            groups: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::crypto::password::PasswordHasher;
    use crate::realm::import::{build_bundle, parse_realm_json, ImportContext};

    const SOURCE: &str = r#"{
      "realm": "shop", "displayName": "Shop", "accessTokenLifespan": 120, "revokeRefreshToken": false,
      "defaultSignatureAlgorithm": "ES256", "notBefore": 1600000000,
      "roles": {
        "realm": [{"name": "admin", "description": "Admins",
                   "composites": {"realm": ["viewer"], "client": {"api": ["write"]}}},
                  {"name": "viewer"}],
        "client": {"api": [{"name": "write"}, {"name": "read"}]}
      },
      "clients": [
        {"clientId": "api", "secret": "api-secret-value", "serviceAccountsEnabled": true,
         "redirectUris": ["https://api.example/cb"], "attributes": {"access.token.lifespan": 60}},
        {"clientId": "web", "publicClient": true, "webOrigins": ["+"], "directAccessGrantsEnabled": true}
      ],
      "users": [
        {"username": "Carol", "email": "carol@example.com", "firstName": "Carol", "emailVerified": true,
         "createdTimestamp": 1650000000000, "realmRoles": ["admin", "default-roles-shop"],
         "clientRoles": {"api": ["read"]},
         "credentials": [{"type": "password", "value": "carol-plain-password"}]},
        {"username": "dave", "enabled": false,
         "credentials": [{"type": "password",
            "secretData": "{\"value\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"salt\":\"c2FsdA==\"}",
            "credentialData": "{\"hashIterations\":27500,\"algorithm\":\"pbkdf2-sha256\"}"}]}
      ]
    }"#;

    async fn import(json: &str, master: &MasterKey, hasher: &PasswordHasher) -> (RealmBundle, Vec<String>) {
        let parsed = parse_realm_json("shop.json", json).unwrap().remove(0);
        let ctx = ImportContext { master, hasher, now: 1_700_000_000 };
        let (bundle, mut warnings) = build_bundle(&parsed, &ctx).await.unwrap();
        warnings.extend(parsed.warnings);
        (bundle, warnings)
    }

    fn secrets(bundle: &RealmBundle, master: &MasterKey) -> Vec<Option<Vec<u8>>> {
        let open = |c: &Client| c.secret_sealed.as_ref().map(|s| master.open(s, &c.secret_aad()).unwrap());
        bundle.clients.iter().map(open).collect()
    }

    #[tokio::test]
    async fn export_then_import_gives_back_an_equivalent_realm() {
        let (master, hasher) = (MasterKey::generate(), PasswordHasher::new(2));
        let (first, warnings) = import(SOURCE, &master, &hasher).await;
        assert!(warnings.is_empty(), "{warnings:?}");

        let json = serde_json::to_string_pretty(&export_realm(&first, &master).unwrap()).unwrap();
        let (second, warnings) = import(&json, &master, &hasher).await;
        assert!(warnings.is_empty(), "a re-import of our own export warns about nothing: {warnings:?}");

        let (a, b) = (first.realm.as_ref().unwrap(), second.realm.as_ref().unwrap());
        assert_eq!(a.id, b.id, "the realm id is kept, as Keycloak's import keeps it");
        assert_eq!(
            (&a.name, a.enabled, a.not_before, &a.settings),
            (&b.name, b.enabled, b.not_before, &b.settings)
        );
        assert_eq!(b.settings.access_token_lifespan, 120);
        // Realm roles are written before client roles, so only the order may change.
        let realm_id = |mut r: Role| {
            r.realm_id.clear();
            if !r.client_role {
                r.container_id.clear();
            }
            r.composites.sort();
            r
        };
        let roles = |b: &RealmBundle| {
            let mut roles = b.roles.iter().cloned().map(realm_id).collect::<Vec<_>>();
            roles.sort_by(|x, y| x.id.cmp(&y.id));
            roles
        };
        assert_eq!(roles(&first), roles(&second));
        let client = |mut c: Client| {
            c.realm_id.clear();
            c.secret_sealed = None;
            c
        };
        let clients = |b: &RealmBundle| b.clients.iter().cloned().map(client).collect::<Vec<_>>();
        assert_eq!(clients(&first), clients(&second));
        assert_eq!(secrets(&first, &master), secrets(&second, &master));
        let user = |mut u: User| {
            u.realm_id.clear();
            u
        };
        let users = |b: &RealmBundle| b.users.iter().cloned().map(user).collect::<Vec<_>>();
        assert_eq!(users(&first), users(&second));
        assert_eq!(first.users.len(), 3, "carol, dave and the service account of api");
        let credential = |c: &Credential| {
            (
                c.user_id.clone(),
                c.kind.clone(),
                c.secret_data.clone(),
                c.credential_data.clone(),
                c.created_at,
            )
        };
        let credentials = |b: &RealmBundle| b.credentials.iter().map(credential).collect::<Vec<_>>();
        assert_eq!(credentials(&first), credentials(&second));
        let mappings = |b: &RealmBundle| b.role_mappings.iter().cloned().collect::<BTreeSet<_>>();
        assert_eq!(mappings(&first), mappings(&second));
        let scoped = |b: &RealmBundle| {
            let mut scopes = b.scopes.clone();
            scopes.client_scopes.iter_mut().for_each(|s| s.realm_id.clear());
            scopes.realm_defaults.sort();
            scopes.client_links.sort_by(|x, y| (&x.client_id, &x.scope_id).cmp(&(&y.client_id, &y.scope_id)));
            scopes
        };
        assert_eq!(scoped(&first), scoped(&second), "client scopes, mappers, defaults, links round-trip");
        assert_eq!(first.scopes.client_scopes.len(), 10);
        assert_eq!(
            first.role_mappings.len(),
            4,
            "carol: admin, default, api/read; the service account: default"
        );
    }

    #[tokio::test]
    async fn the_export_is_keycloak_shaped_with_plain_secrets_and_no_passwords() {
        let (master, hasher) = (MasterKey::generate(), PasswordHasher::new(2));
        let (bundle, _) = import(SOURCE, &master, &hasher).await;
        let json = serde_json::to_value(export_realm(&bundle, &master).unwrap()).unwrap();
        assert_eq!(json["realm"], "shop");
        assert_eq!(json["defaultSignatureAlgorithm"], "ES256");
        assert_eq!(json["clients"][0]["secret"], "api-secret-value");
        assert!(json["clients"][1].get("secret").is_none());
        assert_eq!(json["roles"]["realm"][0]["composites"]["client"]["api"][0], "write");
        assert_eq!(json["roles"]["client"]["api"][1]["name"], "read");
        assert_eq!(json["users"][0]["clientRoles"]["api"][0], "read");
        assert_eq!(json["users"][2]["serviceAccountClientId"], "api");
        assert_eq!(json["defaultRole"]["name"], "default-roles-shop");
        assert!(json.get("keys").is_none());
        let text = json.to_string();
        assert!(!text.contains("carol-plain-password"));
        assert!(json["users"][0]["credentials"][0]["secretData"].as_str().unwrap().starts_with("$argon2id$"));
    }

    #[test]
    fn a_secret_sealed_under_another_key_fails_the_export() {
        let realm = crate::realm::defaults::new_realm("r", Default::default(), 0);
        let mut client = Client { id: "c1".into(), realm_id: realm.id.clone(), public_client: false, ..Client::for_tests("app") };
        client.secret_sealed = Some(MasterKey::generate().seal(b"s", &client.secret_aad()));
        let bundle = RealmBundle { realm: Some(realm), clients: vec![client], ..RealmBundle::default() };
        let error = export_realm(&bundle, &MasterKey::generate()).err().unwrap();
        assert!(matches!(error, ExportError::Secret { ref client_id } if client_id == "app"));
    }
}
