//! `POST /admin/realms/{realm}/partialImport`, as Keycloak's `PartialImportManager` serves it:
//! clients, realm and client roles, groups and users of a PartialImportRepresentation go into an
//! existing realm, each existing one (same clientId, role name, group path, username or email)
//! failing the import (FAIL, the default: 409, nothing written), kept (SKIP) or deleted and
//! created anew (OVERWRITE), in one transaction. The records are built by the realm importer
//! (`realm::import::build_bundle`) over a representation that also names what the realm already
//! has, so composites, role mappings and scope links resolve against it; only the new records
//! are written. Identity providers are refused (Portcullis has none).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::context::{AdminEventsConfig, Operation};
pub use super::partial_import_representation::{
    Action, PartialImportRepresentation, PartialImportResult, PartialImportResults, ResourceType,
};
use super::representation::{client_representation, role_representation, to_event_json};
use super::{AdminContext, AdminError, Permission};
use crate::domain::group::split_group_path;
use crate::domain::{Client, Realm, Role};
use crate::realm::export_scopes::KEYCLOAK_FORMAT_VERSION;
use crate::realm::groups::GroupRepresentation;
use crate::realm::import::{build_bundle, ImportContext, ParsedRealm};
use crate::realm::representation::{
    ClientRepresentation, RealmRepresentation, RoleRepresentation, RolesRepresentation, UserRepresentation,
};
use crate::realm::scope_representation::ClientScopeRepresentation;
use crate::store::partial_import::PartialImportWrite;
use crate::store::StoreError;

/// At most this many clients, roles, groups (with subgroups) and users in one import: each
/// user's password is hashed (argon2id, ~30 ms), and all of it is one transaction.
pub const MAX_PARTIAL_IMPORT_ITEMS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Fail,
    Skip,
    Overwrite,
}

impl Policy {
    fn parse(given: Option<&str>) -> Result<Self, AdminError> {
        match given {
            None | Some("FAIL") => Ok(Self::Fail),
            Some("SKIP") => Ok(Self::Skip),
            Some("OVERWRITE") => Ok(Self::Overwrite),
            Some(other) => Err(AdminError::bad_request(format!(
                "ifResourceExists {other:?} is not one of FAIL, SKIP, OVERWRITE"
            ))),
        }
    }

    /// What to do with one resource: `existing` is the id of the resource already there.
    fn decide(self, existing: Option<&str>, exists_message: impl FnOnce() -> String) -> Result<Decision, AdminError> {
        match (existing, self) {
            (None, _) => Ok(Decision::Add),
            (Some(id), Self::Skip) => Ok(Decision::Skip(id.to_string())),
            (Some(id), Self::Overwrite) => Ok(Decision::Overwrite(id.to_string())),
            (Some(_), Self::Fail) => Err(AdminError::conflict(exists_message())),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Decision {
    Add,
    Skip(String),
    Overwrite(String),
}

impl Decision {
    fn writes(&self) -> bool {
        !matches!(self, Self::Skip(_))
    }
}

/// One resource of the body, with what happens to it. `name` is Keycloak's `resourceName`.
struct Item {
    kind: ResourceType,
    name: String,
    decision: Decision,
}

/// The plan: every item, and the representation the importer builds the new records from.
#[derive(Default)]
struct Plan {
    items: Vec<Item>,
    write: PartialImportWrite,
    /// clientIds, realm role names, (clientId, role name), top-level group names and usernames
    /// (lower-cased) whose records are written.
    clients: BTreeSet<String>,
    realm_roles: BTreeSet<String>,
    client_roles: BTreeSet<(String, String)>,
    groups: BTreeSet<String>,
    users: BTreeSet<String>,
}

fn refuse_unsupported(rep: &PartialImportRepresentation) -> Result<(), AdminError> {
    for (field, given) in [
        ("identityProviders", rep.identity_providers.as_ref().is_some_and(|v| !v.is_empty())),
        ("identityProviderMappers", rep.identity_provider_mappers.as_ref().is_some_and(|v| !v.is_empty())),
    ] {
        if given {
            return Err(AdminError::bad_request(format!(
                "{field} cannot be imported: Portcullis has no identity providers (see README, Admin REST API)"
            )));
        }
    }
    Ok(())
}

fn count_groups(groups: &[GroupRepresentation]) -> usize {
    groups.iter().map(|g| 1 + count_groups(g.sub_groups.as_deref().unwrap_or_default())).sum()
}

fn check_size(rep: &PartialImportRepresentation) -> Result<(), AdminError> {
    let roles = rep.roles.as_ref();
    let items = rep.clients.as_ref().map_or(0, Vec::len)
        + rep.users.as_ref().map_or(0, Vec::len)
        + count_groups(rep.groups.as_deref().unwrap_or_default())
        + roles.and_then(|r| r.realm.as_ref()).map_or(0, Vec::len)
        + roles.and_then(|r| r.client.as_ref()).map_or(0, |c| c.values().map(Vec::len).sum());
    if items > MAX_PARTIAL_IMPORT_ITEMS {
        return Err(AdminError::bad_request(format!(
            "A partial import may hold at most {MAX_PARTIAL_IMPORT_ITEMS} clients, roles, groups and users; this one holds {items}"
        )));
    }
    Ok(())
}

/// Imports the body into the realm (manage-realm, as in Keycloak) and returns what happened to
/// each resource. On FAIL with an existing resource nothing is written.
pub async fn partial_import(
    ctx: &AdminContext<'_>,
    realm: &str,
    rep: PartialImportRepresentation,
) -> Result<PartialImportResults, AdminError> {
    let realm = ctx.realm(realm, Permission::ManageRealm).await?;
    let policy = Policy::parse(rep.if_resource_exists.as_deref())?;
    refuse_unsupported(&rep)?;
    check_size(&rep)?;
    let clients = ctx.clients(&realm).await?;
    let roles = ctx.store.realm_roles(&realm.id).await?;
    let mut plan = Plan::default();
    plan_clients(&mut plan, &realm, &clients, &rep, policy)?;
    plan_roles(&mut plan, &realm, &clients, &roles, &rep, policy)?;
    plan_groups(ctx, &mut plan, &realm, &rep, policy).await?;
    plan_users(ctx, &mut plan, &realm, &rep, policy).await?;
    let synthetic = synthetic_realm(ctx, &realm, &clients, &roles, &plan, &rep).await?;
    let parsed = ParsedRealm::new("request body", None, synthetic)
        .map_err(|e| AdminError::bad_request(format!("Invalid partial import at {}: {}", e.path, e.message)))?;
    let import = ImportContext { master: ctx.master, hasher: ctx.hasher, now: ctx.now };
    let (bundle, warnings) = build_bundle(&parsed, &import)
        .await
        .map_err(|e| AdminError::bad_request(format!("Invalid partial import at {}: {}", e.path, e.message)))?;
    for warning in &warnings {
        tracing::warn!(realm = %realm.name, "partial import: {warning}");
    }
    plan.write.realm_id = realm.id.clone();
    plan.write.bundle = keep_new_records(bundle, &plan);
    match ctx.store.apply_partial_import(&plan.write).await {
        Err(StoreError::Conflict(what)) => {
            return Err(AdminError::conflict(format!("Conflict detected during the partial import: {what}")))
        }
        other => other?,
    }
    ctx.ensure_keys(&realm, crate::realm::signing_keys::in_use(&realm.settings, &plan.write.bundle.clients)).await?;
    ctx.changed(&realm);
    let results = results(&plan, &clients);
    record_events(ctx, &realm, &plan, &results).await;
    Ok(results)
}

/// Keycloak's `ClientsPartialImport`: a client exists when its clientId does.
fn plan_clients(
    plan: &mut Plan,
    realm: &Realm,
    clients: &[Client],
    rep: &PartialImportRepresentation,
    policy: Policy,
) -> Result<(), AdminError> {
    for client in rep.clients.iter().flatten() {
        let client_id = client.client_id.clone().filter(|c| !c.trim().is_empty());
        let client_id = client_id.ok_or_else(|| AdminError::bad_request("Client id is missing"))?;
        let existing = clients.iter().find(|c| c.client_id == client_id);
        let decision =
            policy.decide(existing.map(|c| c.id.as_str()), || format!("Client id '{client_id}' already exists"))?;
        if let (Decision::Overwrite(_), Some(existing)) = (&decision, existing) {
            if super::clients::is_builtin(realm, existing) {
                return Err(AdminError::bad_request(format!("The built-in client {client_id} cannot be overwritten")));
            }
            plan.write.delete_clients.push(existing.id.clone());
        }
        if decision.writes() && !plan.clients.insert(client_id.clone()) {
            return Err(AdminError::bad_request(format!("Client id '{client_id}' appears twice")));
        }
        plan.items.push(Item { kind: ResourceType::Client, name: client_id, decision });
    }
    Ok(())
}

/// Keycloak's `RolesPartialImport`: realm roles by name; client roles by name within a client
/// that exists or is imported here (else 412, Keycloak's text).
fn plan_roles(
    plan: &mut Plan,
    realm: &Realm,
    clients: &[Client],
    roles: &[Role],
    rep: &PartialImportRepresentation,
    policy: Policy,
) -> Result<(), AdminError> {
    let Some(given) = &rep.roles else { return Ok(()) };
    let container = super::roles::Container::Realm;
    for role in given.realm.iter().flatten() {
        let name = role.name.clone().filter(|n| !n.trim().is_empty());
        let name = name.ok_or_else(|| AdminError::bad_request("Realm role to import does not have a name"))?;
        let existing = roles.iter().find(|r| !r.client_role && r.name == name);
        let decision = policy.decide(existing.map(|r| r.id.as_str()), || format!("Realm role '{name}' already exists."))?;
        if let (Decision::Overwrite(id), Some(existing)) = (&decision, existing) {
            if super::roles::is_builtin(realm, &container, existing) {
                return Err(AdminError::bad_request(format!("The built-in role {name} cannot be overwritten")));
            }
            plan.write.delete_roles.push(id.clone());
        }
        if decision.writes() && !plan.realm_roles.insert(name.clone()) {
            return Err(AdminError::bad_request(format!("Realm role '{name}' appears twice")));
        }
        plan.items.push(Item { kind: ResourceType::RealmRole, name, decision });
    }
    for (client_id, list) in given.client.iter().flatten() {
        let existing_client = clients.iter().find(|c| &c.client_id == client_id);
        let imported = rep.clients.iter().flatten().any(|c| c.client_id.as_ref() == Some(client_id));
        if existing_client.is_none() && !imported {
            return Err(AdminError::Keycloak {
                status: 412,
                body: serde_json::json!({
                    "errorMessage": format!("Can not import client roles for nonexistent client named {client_id}")
                }),
            });
        }
        let overwritten_client = existing_client.filter(|c| plan.write.delete_clients.contains(&c.id));
        for role in list {
            let name = role.name.clone().filter(|n| !n.trim().is_empty());
            let name = name.ok_or_else(|| AdminError::bad_request("Client role to import does not have a name"))?;
            let existing = existing_client
                .and_then(|c| roles.iter().find(|r| r.client_role && r.container_id == c.id && r.name == name));
            let message = || format!("Client role '{name}' for client '{client_id}' already exists.");
            let decision = policy.decide(existing.map(|r| r.id.as_str()), message)?;
            if let (Decision::Overwrite(id), Some(client)) = (&decision, existing_client) {
                if client.client_id == super::auth::REALM_MANAGEMENT {
                    return Err(AdminError::bad_request(format!("The built-in role {name} cannot be overwritten")));
                }
                // a role of a client overwritten here goes with its client
                if overwritten_client.is_none() {
                    plan.write.delete_roles.push(id.clone());
                }
            }
            if decision.writes() && !plan.client_roles.insert((client_id.clone(), name.clone())) {
                return Err(AdminError::bad_request(format!("Client role '{name}' of '{client_id}' appears twice")));
            }
            plan.items.push(Item { kind: ResourceType::ClientRole, name: format!("{client_id}-->{name}"), decision });
        }
    }
    Ok(())
}

/// Keycloak's `GroupsPartialImport`: top-level groups, found by their path.
async fn plan_groups(
    ctx: &AdminContext<'_>,
    plan: &mut Plan,
    realm: &Realm,
    rep: &PartialImportRepresentation,
    policy: Policy,
) -> Result<(), AdminError> {
    for group in rep.groups.iter().flatten() {
        let name = group.name.clone().filter(|n| !n.trim().is_empty());
        let name = name.ok_or_else(|| AdminError::bad_request("Group name is missing"))?;
        let path = crate::domain::group::group_path([name.as_str()]);
        let names = split_group_path(&path).unwrap_or_default();
        let existing = ctx.store.group_by_path(&realm.id, &names).await?;
        let existing_id = existing.as_ref().map(|g| g.group.id.as_str());
        let decision = policy.decide(existing_id, || format!("Group '{path}' already exists"))?;
        if let Decision::Overwrite(id) = &decision {
            plan.write.delete_groups.push(id.clone());
        }
        if decision.writes() && !plan.groups.insert(name.clone()) {
            return Err(AdminError::bad_request(format!("Group '{path}' appears twice")));
        }
        plan.items.push(Item { kind: ResourceType::Group, name, decision });
    }
    Ok(())
}

/// Keycloak's `UsersPartialImport`: a user exists when the username does, or the email does in
/// a realm without `duplicateEmailsAllowed`.
async fn plan_users(
    ctx: &AdminContext<'_>,
    plan: &mut Plan,
    realm: &Realm,
    rep: &PartialImportRepresentation,
    policy: Policy,
) -> Result<(), AdminError> {
    let unique_emails = !realm.settings.duplicate_emails_allowed;
    for user in rep.users.iter().flatten() {
        let username = user.username.as_deref().map(str::trim).filter(|u| !u.is_empty());
        let email = user.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
        let Some(name) = username.or(email).map(str::to_string) else {
            return Err(AdminError::bad_request("User name is missing"));
        };
        let mut existing = match username {
            Some(u) => ctx.store.user_by_username(&realm.id, &u.to_lowercase()).await?,
            None => None,
        };
        if existing.is_none() && unique_emails {
            if let Some(email) = email {
                existing = ctx.store.user_by_email(&realm.id, email).await?;
            }
        }
        let message = || match email {
            Some(email) if !unique_emails => format!("User with user name {name} or with email {email} already exists."),
            _ => format!("User with user name {name} already exists."),
        };
        let decision = policy.decide(existing.as_ref().map(|u| u.id.as_str()), message)?;
        if let (Decision::Overwrite(id), Some(found)) = (&decision, &existing) {
            if found.service_account_client_id.is_some() {
                return Err(AdminError::bad_request(format!(
                    "{name} is a service-account user: overwrite its client instead"
                )));
            }
            plan.write.delete_users.push(id.clone());
        }
        if decision.writes() {
            let Some(username) = username else {
                return Err(AdminError::bad_request("A user to import needs a username"));
            };
            if !plan.users.insert(username.to_lowercase()) {
                return Err(AdminError::bad_request(format!("User {username} appears twice")));
            }
        }
        plan.items.push(Item { kind: ResourceType::User, name, decision });
    }
    Ok(())
}

/// The realm as the importer should see it: what it keeps (clients, roles, client scopes and
/// default scopes, so that names resolve to their ids) and the resources to write, with fresh
/// ids as Keycloak gives them. Kept clients are stripped of secrets and service accounts: only
/// their ids and names matter, and their records are not written.
async fn synthetic_realm(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    clients: &[Client],
    roles: &[Role],
    plan: &Plan,
    rep: &PartialImportRepresentation,
) -> Result<RealmRepresentation, AdminError> {
    let kept_clients: Vec<&Client> = clients.iter().filter(|c| !plan.write.delete_clients.contains(&c.id)).collect();
    let mut client_reps: Vec<ClientRepresentation> = kept_clients
        .iter()
        .map(|c| ClientRepresentation {
            id: Some(c.id.clone()),
            client_id: Some(c.client_id.clone()),
            public_client: Some(true),
            ..ClientRepresentation::default()
        })
        .collect();
    for client in rep.clients.iter().flatten() {
        if client.client_id.as_ref().is_some_and(|c| plan.clients.contains(c)) {
            let mut client = client.clone();
            client.id = None;
            for mapper in client.protocol_mappers.iter_mut().flatten() {
                mapper.id = None;
            }
            client_reps.push(client);
        }
    }
    let kept_role = |r: &&Role| !plan.write.delete_roles.contains(&r.id);
    let context_role = |r: &Role| RoleRepresentation { id: Some(r.id.clone()), name: Some(r.name.clone()), ..Default::default() };
    let mut realm_roles: Vec<RoleRepresentation> =
        roles.iter().filter(|r| !r.client_role).filter(kept_role).map(context_role).collect();
    let given = rep.roles.clone().unwrap_or_default();
    for role in given.realm.into_iter().flatten() {
        if role.name.as_ref().is_some_and(|n| plan.realm_roles.contains(n)) {
            realm_roles.push(RoleRepresentation { id: None, ..role });
        }
    }
    let mut client_roles: BTreeMap<String, Vec<RoleRepresentation>> = BTreeMap::new();
    for client in &kept_clients {
        let of_client = roles.iter().filter(|r| r.client_role && r.container_id == client.id).filter(kept_role);
        client_roles.entry(client.client_id.clone()).or_default().extend(of_client.map(context_role));
    }
    for (client_id, list) in given.client.into_iter().flatten() {
        for role in list {
            if role.name.as_ref().is_some_and(|n| plan.client_roles.contains(&(client_id.clone(), n.clone()))) {
                client_roles.entry(client_id.clone()).or_default().push(RoleRepresentation { id: None, ..role });
            }
        }
    }
    let scopes = ctx.store.realm_scopes(&realm.id).await?;
    let scope_name: HashMap<&str, &str> = scopes.client_scopes.iter().map(|s| (s.id.as_str(), s.name.as_str())).collect();
    let realm_default = |default: bool| {
        scopes
            .realm_defaults
            .iter()
            .filter(|(_, d)| *d == default)
            .filter_map(|(id, _)| scope_name.get(id.as_str()).map(|n| n.to_string()))
            .collect::<Vec<_>>()
    };
    let groups = rep.groups.iter().flatten().filter(|g| g.name.as_ref().is_some_and(|n| plan.groups.contains(n)));
    let users = rep.users.iter().flatten().filter(|u| {
        u.username.as_deref().map(|n| n.trim().to_lowercase()).is_some_and(|n| plan.users.contains(&n))
    });
    Ok(RealmRepresentation {
        id: Some(realm.id.clone()),
        realm: Some(realm.name.clone()),
        keycloak_version: Some(KEYCLOAK_FORMAT_VERSION.into()),
        clients: Some(client_reps),
        roles: Some(RolesRepresentation { realm: Some(realm_roles), client: Some(client_roles) }),
        groups: Some(groups.map(without_ids).collect()),
        users: Some(users.map(|u| UserRepresentation { id: None, ..u.clone() }).collect()),
        client_scopes: Some(scopes.client_scopes.iter().map(ClientScopeRepresentation::from_scope).collect()),
        default_default_client_scopes: Some(realm_default(true)),
        default_optional_client_scopes: Some(realm_default(false)),
        ..RealmRepresentation::default()
    })
}

fn without_ids(group: &GroupRepresentation) -> GroupRepresentation {
    GroupRepresentation {
        id: None,
        parent_id: None,
        sub_groups: group.sub_groups.as_ref().map(|subs| subs.iter().map(without_ids).collect()),
        ..group.clone()
    }
}

/// The records of the plan's resources only: the realm's own, which the importer saw for
/// context, stay as they are.
fn keep_new_records(mut bundle: crate::store::RealmBundle, plan: &Plan) -> crate::store::RealmBundle {
    bundle.realm = None;
    bundle.keys.clear();
    let all_clients: HashMap<String, String> =
        bundle.clients.iter().map(|c| (c.id.clone(), c.client_id.clone())).collect();
    bundle.clients.retain(|c| plan.clients.contains(&c.client_id));
    let client_ids: BTreeSet<String> = bundle.clients.iter().map(|c| c.id.clone()).collect();
    bundle.roles.retain(|r| match r.client_role {
        false => plan.realm_roles.contains(&r.name),
        true => all_clients.get(&r.container_id).is_some_and(|c| plan.client_roles.contains(&(c.clone(), r.name.clone()))),
    });
    bundle.users.retain(|u| {
        plan.users.contains(&u.username)
            || u.service_account_client_id.as_ref().is_some_and(|id| client_ids.contains(id))
    });
    let user_ids: BTreeSet<String> = bundle.users.iter().map(|u| u.id.clone()).collect();
    bundle.credentials.retain(|c| user_ids.contains(&c.user_id));
    bundle.role_mappings.retain(|(user, _)| user_ids.contains(user));
    bundle.groups.memberships.retain(|(user, _)| user_ids.contains(user));
    bundle.groups.default_groups.clear();
    let scopes = &mut bundle.scopes;
    scopes.client_scopes.clear();
    scopes.realm_defaults.clear();
    scopes.client_mappers.retain(|(client, _)| client_ids.contains(client));
    scopes.client_links.retain(|l| client_ids.contains(&l.client_id));
    scopes.scope_mappings.retain(|(holder, _)| {
        matches!(holder, crate::domain::scopes::MapperContainer::Client(id) if client_ids.contains(id))
    });
    bundle
}

/// Keycloak's results: ids of the written records (the client's id for a client role, as
/// Keycloak gives it), or of the existing one for a skipped resource.
fn results(plan: &Plan, clients: &[Client]) -> PartialImportResults {
    let bundle = &plan.write.bundle;
    let client_id_of = |client_id: &str| {
        bundle
            .clients
            .iter()
            .map(|c| (&c.client_id, &c.id))
            .chain(clients.iter().map(|c| (&c.client_id, &c.id)))
            .find(|(name, _)| name.as_str() == client_id)
            .map(|(_, id)| id.clone())
            .unwrap_or_default()
    };
    let mut out = PartialImportResults::default();
    for item in &plan.items {
        let (action, id) = match &item.decision {
            Decision::Skip(id) => (Action::Skipped, id.clone()),
            written => {
                let action = if matches!(written, Decision::Add) { Action::Added } else { Action::Overwritten };
                let id = match item.kind {
                    ResourceType::Client => client_id_of(&item.name),
                    ResourceType::ClientRole => client_id_of(item.name.split("-->").next().unwrap_or_default()),
                    ResourceType::RealmRole => {
                        bundle.roles.iter().find(|r| !r.client_role && r.name == item.name).map(|r| r.id.clone()).unwrap_or_default()
                    }
                    ResourceType::Group => bundle
                        .groups
                        .groups
                        .iter()
                        .find(|g| g.parent_id.is_none() && g.name == item.name)
                        .map(|g| g.id.clone())
                        .unwrap_or_default(),
                    ResourceType::User => {
                        let name = item.name.to_lowercase();
                        bundle.users.iter().find(|u| u.username == name).map(|u| u.id.clone()).unwrap_or_default()
                    }
                };
                (action, id)
            }
        };
        match action {
            Action::Added => out.added += 1,
            Action::Skipped => out.skipped += 1,
            Action::Overwritten => out.overwritten += 1,
        }
        out.results.push(PartialImportResult { action, resource_type: item.kind, resource_name: item.name.clone(), id });
    }
    out
}

/// Keycloak records a CREATE for each added resource and an UPDATE for each overwritten one,
/// at `{type path}/{id}`, with the realm's settings from before the import.
async fn record_events(ctx: &AdminContext<'_>, realm: &Realm, plan: &Plan, results: &PartialImportResults) {
    let config = AdminEventsConfig::of(realm);
    let bundle = &plan.write.bundle;
    for result in &results.results {
        let operation = match result.action {
            Action::Added => Operation::Create,
            Action::Overwritten => Operation::Update,
            Action::Skipped => continue,
        };
        let representation = match result.resource_type {
            ResourceType::Client => bundle
                .clients
                .iter()
                .find(|c| c.id == result.id)
                .and_then(|c| to_event_json(&client_representation(c, None))),
            ResourceType::RealmRole => {
                bundle.roles.iter().find(|r| r.id == result.id).and_then(|r| to_event_json(&role_representation(r)))
            }
            _ => None,
        };
        let path = format!("{}/{}", result.resource_type.path(), result.id);
        ctx.record_as(config, &realm.id, operation, result.resource_type.resource(), &path, representation).await;
    }
}
