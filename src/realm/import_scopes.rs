//! The scope part of a realm import (issue 15): a Keycloak export's `clientScopes`,
//! `defaultDefaultClientScopes`, `defaultOptionalClientScopes`, each client's
//! `defaultClientScopes`, `optionalClientScopes` and `protocolMappers`, `scopeMappings` and
//! `clientScopeMappings` become a `RealmScopes`. A file without `clientScopes` gets Keycloak's
//! built-in scopes, as a realm created in Keycloak would; an export from before Keycloak 25 (18)
//! gets the `basic` (`acr`) scope as Keycloak's migrations add it, with a warning. Mappers of a
//! type Portcullis does not run are kept, exported and named once per type in a warning.

use std::collections::{BTreeMap, HashMap};

use crate::domain::scopes::{ClientScope, ClientScopeLink, ProtocolMapper, RealmScopes, ScopeHolder, OPENID_CONNECT};
use crate::domain::{new_id, Client, Role};
use crate::oauth::mappers::is_supported;
use crate::realm::builtin_scopes::{self, builtin_scopes, link_realm_defaults};
use crate::realm::defaults::OFFLINE_ACCESS_ROLE;
use crate::realm::representation::RealmRepresentation;
use crate::realm::scope_representation::{ProtocolMapperRepresentation, ScopeMappingRepresentation};

/// A refusal at a JSON path of the realm (the caller adds the file and realm index).
#[derive(Debug)]
pub struct ScopeImportError {
    pub path: String,
    pub message: String,
}

fn refuse(path: impl Into<String>, message: impl Into<String>) -> ScopeImportError {
    ScopeImportError { path: path.into(), message: message.into() }
}

/// The major version of a `keycloakVersion` such as `15.0.2` or `26.0.5.redhat-00001`.
fn major(version: &str) -> Option<u32> {
    version.split('.').next()?.trim().parse().ok()
}

struct Build<'a> {
    realm_id: &'a str,
    clients: &'a [Client],
    roles: &'a [Role],
    scopes: RealmScopes,
    warnings: Vec<String>,
    /// Unsupported mapper type -> where its mappers are ("client scope x: mapper y").
    inert: BTreeMap<String, Vec<String>>,
}

/// Builds the realm's scope model from its representation. `clients` and `roles` are the
/// bundle's (ids already final). Returns the model and its warnings.
pub fn import_scopes(
    rep: &RealmRepresentation,
    realm_id: &str,
    clients: &[Client],
    roles: &[Role],
) -> Result<(RealmScopes, Vec<String>), ScopeImportError> {
    let mut b = Build { realm_id, clients, roles, scopes: RealmScopes::default(), warnings: Vec::new(), inert: BTreeMap::new() };
    match &rep.client_scopes {
        None => {
            let offline = roles.iter().find(|r| !r.client_role && r.name == OFFLINE_ACCESS_ROLE).map(|r| r.id.as_str());
            b.scopes = builtin_scopes(realm_id, offline);
        }
        Some(reps) => b.client_scopes(reps)?,
    }
    b.realm_defaults(rep);
    b.clients(rep)?;
    if rep.client_scopes.is_some() {
        let version = rep.keycloak_version.as_deref();
        let old = |before: u32| version.and_then(major).is_none_or(|m| m < before);
        if old(18) {
            b.migrate(builtin_scopes::acr(realm_id), "18", version);
        }
        if old(25) {
            b.migrate(builtin_scopes::basic(realm_id), "25", version);
        }
    }
    b.scope_mappings(rep);
    for (kind, places) in std::mem::take(&mut b.inert) {
        b.warnings.push(format!(
            "protocol mapper type {kind:?} is not supported: kept and exported but inert ({})",
            places.join(", ")
        ));
    }
    Ok((b.scopes, b.warnings))
}

impl Build<'_> {
    fn scope_id(&self, name: &str) -> Option<String> {
        self.scopes.client_scopes.iter().find(|s| s.name == name).map(|s| s.id.clone())
    }

    fn mapper(
        &mut self,
        rep: &ProtocolMapperRepresentation,
        path: &str,
        place: &str,
        names: &mut HashMap<String, String>,
        ids: &mut HashMap<String, String>,
    ) -> Result<ProtocolMapper, ScopeImportError> {
        let name = rep.name.clone().filter(|n| !n.trim().is_empty());
        let name = name.ok_or_else(|| refuse(format!("{path}.name"), "the protocol mapper name is missing"))?;
        let kind = rep.protocol_mapper.clone().filter(|k| !k.trim().is_empty());
        let kind = kind.ok_or_else(|| refuse(format!("{path}.protocolMapper"), "the protocol mapper type is missing"))?;
        if let Some(first) = names.insert(name.clone(), path.to_string()) {
            return Err(refuse(format!("{path}.name"), format!("duplicate protocol mapper {name:?} (also at {first})")));
        }
        let id = rep.id.clone().filter(|i| !i.is_empty()).unwrap_or_else(new_id);
        if let Some(first) = ids.insert(id.clone(), path.to_string()) {
            return Err(refuse(format!("{path}.id"), format!("duplicate protocol mapper id {id:?} (also at {first})")));
        }
        if !is_supported(&kind) {
            self.inert.entry(kind.clone()).or_default().push(format!("{place}: {name}"));
        }
        Ok(ProtocolMapper {
            id,
            name,
            protocol: rep.protocol.clone().unwrap_or_else(|| OPENID_CONNECT.into()),
            protocol_mapper: kind,
            config: rep.config.clone().unwrap_or_default(),
        })
    }

    fn client_scopes(
        &mut self,
        reps: &[crate::realm::scope_representation::ClientScopeRepresentation],
    ) -> Result<(), ScopeImportError> {
        let (mut names, mut ids, mut mapper_ids) = (HashMap::new(), HashMap::new(), HashMap::new());
        for (i, rep) in reps.iter().enumerate() {
            let path = format!("clientScopes[{i}]");
            let name = rep.name.clone().filter(|n| !n.trim().is_empty());
            let name = name.ok_or_else(|| refuse(format!("{path}.name"), "the client scope name is missing"))?;
            if let Some(first) = names.insert(name.clone(), path.clone()) {
                return Err(refuse(format!("{path}.name"), format!("duplicate client scope {name:?} (also at {first})")));
            }
            let id = rep.id.clone().filter(|i| !i.is_empty()).unwrap_or_else(new_id);
            if let Some(first) = ids.insert(id.clone(), path.clone()) {
                return Err(refuse(format!("{path}.id"), format!("duplicate client scope id {id:?} (also at {first})")));
            }
            let mut mapper_names = HashMap::new();
            let mut mappers = Vec::new();
            for (j, m) in rep.protocol_mappers.iter().flatten().enumerate() {
                let at = format!("{path}.protocolMappers[{j}]");
                mappers.push(self.mapper(m, &at, &format!("client scope {name}"), &mut mapper_names, &mut mapper_ids)?);
            }
            self.scopes.client_scopes.push(ClientScope {
                id,
                realm_id: self.realm_id.to_string(),
                name,
                description: rep.description.clone(),
                protocol: rep.protocol.clone().unwrap_or_else(|| OPENID_CONNECT.into()),
                attributes: rep.attributes.clone().unwrap_or_default(),
                mappers,
            });
        }
        Ok(())
    }

    /// `defaultDefaultClientScopes` / `defaultOptionalClientScopes`, when the file has them.
    fn realm_defaults(&mut self, rep: &RealmRepresentation) {
        if rep.default_default_client_scopes.is_none() && rep.default_optional_client_scopes.is_none() {
            return;
        }
        self.scopes.realm_defaults.clear();
        let lists = [(&rep.default_default_client_scopes, true), (&rep.default_optional_client_scopes, false)];
        for (names, default_scope) in lists {
            for name in names.iter().flatten() {
                match self.scope_id(name) {
                    Some(id) if !self.scopes.realm_defaults.iter().any(|(s, _)| *s == id) => {
                        self.scopes.realm_defaults.push((id, default_scope))
                    }
                    Some(_) => {}
                    None => self.warnings.push(format!("realm default client scope {name:?} does not exist; skipped")),
                }
            }
        }
    }

    /// Each client's mappers and scope links; a client listing neither `defaultClientScopes`
    /// nor `optionalClientScopes` gets the realm defaults.
    fn clients(&mut self, rep: &RealmRepresentation) -> Result<(), ScopeImportError> {
        let mut mapper_ids: HashMap<String, String> =
            self.scopes.client_scopes.iter().flat_map(|s| &s.mappers).map(|m| (m.id.clone(), String::new())).collect();
        for (i, client_rep) in rep.clients.iter().flatten().enumerate() {
            let Some(client) = self.clients.iter().find(|c| Some(&c.client_id) == client_rep.client_id.as_ref()) else {
                continue;
            };
            let mut names = HashMap::new();
            for (j, m) in client_rep.protocol_mappers.iter().flatten().enumerate() {
                let at = format!("clients[{i}].protocolMappers[{j}]");
                let mapper = self.mapper(m, &at, &format!("client {}", client.client_id), &mut names, &mut mapper_ids)?;
                self.scopes.client_mappers.push((client.id.clone(), mapper));
            }
            if client_rep.default_client_scopes.is_none() && client_rep.optional_client_scopes.is_none() {
                link_realm_defaults(&mut self.scopes, &client.id);
                continue;
            }
            let lists = [(&client_rep.default_client_scopes, true), (&client_rep.optional_client_scopes, false)];
            for (names, default_scope) in lists {
                for name in names.iter().flatten() {
                    let linked = |s: &RealmScopes, id: &str| s.client_links.iter().any(|l| l.client_id == client.id && l.scope_id == id);
                    match self.scope_id(name) {
                        Some(id) if !linked(&self.scopes, &id) => self.scopes.client_links.push(ClientScopeLink {
                            client_id: client.id.clone(),
                            scope_id: id,
                            default_scope,
                        }),
                        Some(_) => {}
                        None => self.warnings.push(format!(
                            "client {:?}: client scope {name:?} does not exist; link skipped",
                            client.client_id
                        )),
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds a scope an older Keycloak did not have, as a realm default linked to every OpenID
    /// Connect client (Keycloak's `MigrateTo{version}_0_0`), unless the realm has one by that name.
    fn migrate(&mut self, scope: ClientScope, version: &str, from: Option<&str>) {
        if self.scope_id(&scope.name).is_some() {
            return;
        }
        let from = from.map_or_else(|| "an unknown Keycloak version".to_string(), |v| format!("Keycloak {v}"));
        self.warnings.push(format!(
            "the export is from {from} (before {version}): added the {:?} client scope as a realm default \
             scope of every client, as Keycloak's migration to {version} does",
            scope.name
        ));
        let id = scope.id.clone();
        self.scopes.client_scopes.push(scope);
        self.scopes.realm_defaults.push((id.clone(), true));
        for client in self.clients {
            self.scopes.client_links.push(ClientScopeLink { client_id: client.id.clone(), scope_id: id.clone(), default_scope: true });
        }
    }

    fn holder(&mut self, m: &ScopeMappingRepresentation, at: &str) -> Option<ScopeHolder> {
        if let Some(client_id) = &m.client {
            if let Some(client) = self.clients.iter().find(|c| &c.client_id == client_id) {
                return Some(ScopeHolder::Client(client.id.clone()));
            }
            self.warnings.push(format!("{at}: no client {client_id:?}; scope mapping skipped"));
            return None;
        }
        if let Some(name) = m.client_scope.as_ref().or(m.client_template.as_ref()) {
            if let Some(id) = self.scope_id(name) {
                return Some(ScopeHolder::ClientScope(id));
            }
            self.warnings.push(format!("{at}: no client scope {name:?}; scope mapping skipped"));
            return None;
        }
        self.warnings.push(format!("{at}: names neither a client nor a client scope; skipped"));
        None
    }

    /// `scopeMappings` (realm roles) and `clientScopeMappings` (roles of the keyed client).
    fn scope_mappings(&mut self, rep: &RealmRepresentation) {
        let realm_mappings = rep.scope_mappings.iter().flatten().map(|m| (None, m));
        let client_mappings = rep
            .client_scope_mappings
            .iter()
            .flatten()
            .flat_map(|(owner, list)| list.iter().map(move |m| (Some(owner.as_str()), m)));
        let all: Vec<(Option<&str>, &ScopeMappingRepresentation)> = realm_mappings.chain(client_mappings).collect();
        for (owner, m) in all {
            let at = match owner {
                None => "scopeMappings".to_string(),
                Some(owner) => format!("clientScopeMappings.{owner}"),
            };
            let Some(holder) = self.holder(m, &at) else { continue };
            let container = match owner {
                None => Some(self.realm_id.to_string()),
                Some(owner) => self.clients.iter().find(|c| c.client_id == owner).map(|c| c.id.clone()),
            };
            let Some(container) = container else {
                self.warnings.push(format!("{at}: no client {owner:?} owns these roles; skipped"));
                continue;
            };
            for name in m.roles.iter().flatten() {
                let role = self.roles.iter().find(|r| r.name == *name && r.client_role == owner.is_some() && r.container_id == container);
                match role {
                    Some(role) if !self.scopes.scope_mappings.contains(&(holder.clone(), role.id.clone())) => {
                        self.scopes.scope_mappings.push((holder.clone(), role.id.clone()))
                    }
                    Some(_) => {}
                    None => self.warnings.push(format!("{at}: role {name:?} not found; scope mapping skipped")),
                }
            }
        }
    }
}
