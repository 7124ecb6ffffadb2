//! Keycloak's GroupRepresentation, as the admin API shows and takes it and as realm files nest it
//! (`groups` with `subGroups`, `realmRoles`, `clientRoles`, `attributes`). The import and export of
//! a realm's groups live in `realm::import` / `realm::export` beside the other parts of a realm.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_group_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_groups: Option<Vec<GroupRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
    /// Realm role names mapped to the group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm_roles: Option<Vec<String>>,
    /// Client role names mapped to the group, by `clientId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
    /// What the caller may do with the group (`view`, `manage`, ...); output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<BTreeMap<String, bool>>,
}

/// Realm role names, and client role names by clientId.
pub type RoleNameSets = (Vec<String>, BTreeMap<String, Vec<String>>);

/// Role ids of (realm role names, client role names by clientId), and the names not found.
pub type ResolveRoles<'a> = dyn Fn(&[String], &BTreeMap<String, Vec<String>>) -> (Vec<String>, Vec<String>) + 'a;

/// A realm file's group tree flattened into records, parents first, with what it refers to.
#[derive(Debug, Default)]
pub struct ImportedGroups {
    pub groups: crate::store::RealmGroups,
    /// Every imported group by its path, to resolve users' `groups` and `defaultGroups`.
    pub by_path: std::collections::HashMap<String, String>,
}

/// Flattens `reps` (Keycloak's nested `groups`) into groups of `realm_id`. `resolve` turns
/// realm and client role names into role ids and names those not found. A group without a name,
/// or named like an earlier sibling, or with an id already used, is skipped with its subgroups
/// and a warning; so are role names that name no role.
pub fn import_groups(
    reps: &[GroupRepresentation],
    realm_id: &str,
    now: i64,
    resolve: &ResolveRoles<'_>,
    warn: &mut dyn FnMut(String),
) -> ImportedGroups {
    let mut out = ImportedGroups::default();
    let mut ids = std::collections::HashSet::new();
    // (representation, parent id, parent path): a stack, so depth costs no recursion
    let mut pending: Vec<(&GroupRepresentation, Option<String>, String)> =
        reps.iter().rev().map(|r| (r, None, String::new())).collect();
    while let Some((rep, parent, parent_path)) = pending.pop() {
        let Some(name) = rep.name.clone().filter(|n| !n.trim().is_empty()) else {
            warn(format!("a group under {:?} has no name; skipped with its subgroups", display(&parent_path)));
            continue;
        };
        let path = format!("{parent_path}{}", crate::domain::group::group_path([name.as_str()]));
        if out.by_path.contains_key(&path) {
            warn(format!("group {path:?} appears twice; the second is skipped with its subgroups"));
            continue;
        }
        let id = rep.id.clone().unwrap_or_else(crate::domain::new_id);
        if !ids.insert(id.clone()) {
            warn(format!("group {path:?}: id {id:?} is already used; skipped with its subgroups"));
            continue;
        }
        let empty = BTreeMap::new();
        let (role_ids, missing) =
            resolve(rep.realm_roles.as_deref().unwrap_or_default(), rep.client_roles.as_ref().unwrap_or(&empty));
        for role in missing {
            warn(format!("group {path:?}: {role} not found; mapping skipped"));
        }
        out.groups.role_mappings.extend(role_ids.into_iter().map(|r| (id.clone(), r)));
        out.groups.groups.push(crate::domain::Group {
            id: id.clone(),
            realm_id: realm_id.to_string(),
            parent_id: parent,
            name,
            description: rep.description.clone(),
            attributes: rep.attributes.clone().unwrap_or_default(),
            created_at: now,
        });
        out.by_path.insert(path.clone(), id.clone());
        for child in rep.sub_groups.iter().flatten().rev() {
            pending.push((child, Some(id.clone()), path.clone()));
        }
    }
    out
}

fn display(path: &str) -> &str {
    if path.is_empty() {
        "the top level"
    } else {
        path
    }
}

/// The group ids of `paths` (a user's `groups` or the realm's `defaultGroups`); each path that
/// names no imported group is warned about as `what` and skipped.
pub fn resolve_paths(imported: &ImportedGroups, paths: &[String], what: &str, warn: &mut dyn FnMut(String)) -> Vec<String> {
    let mut ids = Vec::new();
    for path in paths {
        let normalised = if path.starts_with('/') { path.clone() } else { format!("/{path}") };
        match imported.by_path.get(&normalised) {
            Some(id) if !ids.contains(id) => ids.push(id.clone()),
            Some(_) => {}
            None => warn(format!("{what}: group {path:?} not found; skipped")),
        }
    }
    ids
}

/// The realm's groups as Keycloak exports them: top-level groups with nested `subGroups`, each
/// with its path, attributes and role names (`names` turns role ids into realm role names and
/// client role names by clientId). Also each group's path by id, for users' `groups`.
pub fn export_groups(
    groups: &crate::store::RealmGroups,
    names: &dyn Fn(&[String]) -> RoleNameSets,
) -> (Vec<GroupRepresentation>, std::collections::HashMap<String, String>) {
    use std::collections::HashMap;
    let mut roles: HashMap<&str, Vec<String>> = HashMap::new();
    for (group, role) in &groups.role_mappings {
        roles.entry(group.as_str()).or_default().push(role.clone());
    }
    let mut paths: HashMap<String, String> = HashMap::new();
    // parents come first, so a parent's path is known when its children are reached
    for group in &groups.groups {
        let parent = group.parent_id.as_ref().and_then(|p| paths.get(p)).cloned().unwrap_or_default();
        paths.insert(group.id.clone(), format!("{parent}{}", crate::domain::group::group_path([group.name.as_str()])));
    }
    let mut reps: HashMap<String, GroupRepresentation> = HashMap::new();
    for group in &groups.groups {
        let (realm_roles, client_roles) = names(roles.get(group.id.as_str()).map(Vec::as_slice).unwrap_or_default());
        reps.insert(
            group.id.clone(),
            GroupRepresentation {
                id: Some(group.id.clone()),
                name: Some(group.name.clone()),
                description: group.description.clone(),
                path: paths.get(&group.id).cloned(),
                parent_id: group.parent_id.clone(),
                sub_groups: Some(Vec::new()),
                attributes: Some(group.attributes.clone()),
                realm_roles: Some(realm_roles),
                client_roles: Some(client_roles),
                ..GroupRepresentation::default()
            },
        );
    }
    // attach children to parents, deepest first
    let mut top = Vec::new();
    for group in groups.groups.iter().rev() {
        let Some(rep) = reps.remove(&group.id) else { continue };
        match group.parent_id.as_ref().and_then(|p| reps.get_mut(p)) {
            Some(parent) => parent.sub_groups.get_or_insert_with(Vec::new).insert(0, rep),
            None => top.insert(0, rep),
        }
    }
    (top, paths)
}

/// Puts the imported groups into the bundle with the memberships named by users' `groups` and
/// the realm's `defaultGroups` (users must already be in the bundle).
pub fn attach(
    mut imported: ImportedGroups,
    rep: &crate::realm::representation::RealmRepresentation,
    bundle: &mut crate::store::RealmBundle,
    warn: &mut dyn FnMut(String),
) {
    for user_rep in rep.users.iter().flatten() {
        let Some(paths) = &user_rep.groups else { continue };
        let username = user_rep.username.as_deref().unwrap_or_default().trim().to_lowercase();
        let Some(user) = bundle.users.iter().find(|u| u.username == username) else { continue };
        let ids = resolve_paths(&imported, paths, &format!("user {username:?}"), warn);
        imported.groups.memberships.extend(ids.into_iter().map(|g| (user.id.clone(), g)));
    }
    let defaults = rep.default_groups.as_deref().unwrap_or_default();
    imported.groups.default_groups = resolve_paths(&imported, defaults, "defaultGroups", warn);
    bundle.groups = imported.groups;
}
