//! The scope part of a realm export, the inverse of `import_scopes`: `clientScopes` with their
//! mappers, `defaultDefaultClientScopes`, `defaultOptionalClientScopes`, each client's
//! `defaultClientScopes`, `optionalClientScopes` and `protocolMappers`, `scopeMappings` and
//! `clientScopeMappings`, named as Keycloak names them (scopes and clients by name, roles by name).

use std::collections::{BTreeMap, HashMap};

use crate::domain::scopes::ScopeHolder;
use crate::domain::Role;
use crate::realm::export::ExportError;
use crate::realm::representation::RealmRepresentation;
use crate::realm::scope_representation::{ClientScopeRepresentation, ProtocolMapperRepresentation, ScopeMappingRepresentation};
use crate::store::RealmBundle;

/// The Keycloak version whose realm format and built-in scopes an export follows, written as
/// `keycloakVersion` so that importing Portcullis's own export never runs Keycloak's migrations
/// (which would bring back an `acr` or `basic` scope an admin deleted).
pub const KEYCLOAK_FORMAT_VERSION: &str = "26.0.0";

/// Writes the bundle's scope model into `rep`, whose `clients` are already written.
pub fn export_scopes(bundle: &RealmBundle, rep: &mut RealmRepresentation) -> Result<(), ExportError> {
    rep.keycloak_version = Some(KEYCLOAK_FORMAT_VERSION.into());
    let scopes = &bundle.scopes;
    let scope_names: HashMap<&str, &str> = scopes.client_scopes.iter().map(|s| (s.id.as_str(), s.name.as_str())).collect();
    let scope_name = |id: &str| {
        scope_names.get(id).map(|n| n.to_string()).ok_or_else(|| ExportError::Dangling(format!("client scope link to {id}")))
    };
    rep.client_scopes = Some(scopes.client_scopes.iter().map(ClientScopeRepresentation::from_scope).collect());
    let (mut defaults, mut optional) = (Vec::new(), Vec::new());
    for (id, default_scope) in &scopes.realm_defaults {
        if *default_scope { defaults.push(scope_name(id)?) } else { optional.push(scope_name(id)?) }
    }
    rep.default_default_client_scopes = Some(defaults);
    rep.default_optional_client_scopes = Some(optional);

    for client_rep in rep.clients.iter_mut().flatten() {
        let Some(id) = client_rep.id.clone() else { continue };
        let (mut defaults, mut optional) = (Vec::new(), Vec::new());
        for link in scopes.client_links.iter().filter(|l| l.client_id == id) {
            if link.default_scope { defaults.push(scope_name(&link.scope_id)?) } else { optional.push(scope_name(&link.scope_id)?) }
        }
        client_rep.default_client_scopes = Some(defaults);
        client_rep.optional_client_scopes = Some(optional);
        let mappers: Vec<ProtocolMapperRepresentation> = scopes
            .client_mappers
            .iter()
            .filter(|(client, _)| *client == id)
            .map(|(_, m)| ProtocolMapperRepresentation::from_mapper(m))
            .collect();
        client_rep.protocol_mappers = (!mappers.is_empty()).then_some(mappers);
    }

    let clients: HashMap<&str, &str> = bundle.clients.iter().map(|c| (c.id.as_str(), c.client_id.as_str())).collect();
    let roles: HashMap<&str, &Role> = bundle.roles.iter().map(|r| (r.id.as_str(), r)).collect();
    // (role owner clientId or None for realm roles, holder) -> role names
    let mut grouped: BTreeMap<(Option<String>, (bool, String)), Vec<String>> = BTreeMap::new();
    for (holder, role_id) in &scopes.scope_mappings {
        let role = roles.get(role_id.as_str()).ok_or_else(|| ExportError::Dangling(format!("scope mapping of role {role_id}")))?;
        let owner = if role.client_role {
            let owner = clients.get(role.container_id.as_str());
            Some(owner.ok_or_else(|| ExportError::Dangling(format!("client role {}", role.name)))?.to_string())
        } else {
            None
        };
        let holder = match holder {
            ScopeHolder::Client(id) => {
                let name = clients.get(id.as_str()).ok_or_else(|| ExportError::Dangling(format!("scope mapping of client {id}")))?;
                (true, name.to_string())
            }
            ScopeHolder::ClientScope(id) => (false, scope_name(id)?),
        };
        grouped.entry((owner, holder)).or_default().push(role.name.clone());
    }
    let (mut realm_mappings, mut client_mappings) = (Vec::new(), BTreeMap::<String, Vec<ScopeMappingRepresentation>>::new());
    for ((owner, (is_client, holder)), mut names) in grouped {
        names.sort();
        let mapping = ScopeMappingRepresentation {
            client: is_client.then(|| holder.clone()),
            client_scope: (!is_client).then_some(holder),
            roles: Some(names),
            ..ScopeMappingRepresentation::default()
        };
        match owner {
            None => realm_mappings.push(mapping),
            Some(owner) => client_mappings.entry(owner).or_default().push(mapping),
        }
    }
    rep.scope_mappings = Some(realm_mappings);
    rep.client_scope_mappings = Some(client_mappings);
    Ok(())
}
