//! `/admin/realms/{realm}/groups/...`, `group-by-path`, `default-groups` and a user's group
//! memberships, as Keycloak 26 serves them. Groups are read from the store on every request
//! (they are not in the realm cache); what members inherit is read by the token paths from the
//! same tables (`store::groups`). Role mappings of groups are in `admin::group_roles`.
//!
//! Texts, defaults and statuses follow Keycloak's `GroupsResource`, `GroupResource` and
//! `UserResource`: a top-level list shows `subGroupCount` and empty `subGroups`; a search returns
//! the matching groups inside their ancestors' tree (`populateHierarchy`).

use std::collections::{BTreeMap, HashMap};

use super::context::{Operation, Resource};
use super::representation::{to_event_json, user_representation, UserView};
use super::users::realm_and_user;
use super::{like_literal, AdminContext, AdminError, Page, Permission};
use crate::domain::group::split_group_path;
use crate::domain::{new_id, Client, Group, Realm, Role};
use crate::realm::groups::GroupRepresentation;
use crate::store::groups::{GroupFilter, GroupLevel, GroupView, MoveOutcome};
use crate::store::StoreError;

pub const GROUP_NOT_FOUND: &str = "Could not find group by id";
const NAME_MISSING: &str = "Group name is missing";
/// At most this many groups per listing, whatever `max` asks: bounded work per request.
pub const MAX_PAGE: i64 = 10_000;
/// Keycloak's page size for `children`.
const CHILDREN_PAGE: i64 = 10;

/// What `GET .../groups` asks.
#[derive(Debug, Clone, Default)]
pub struct GroupQuery {
    pub search: Option<String>,
    /// Keycloak's attribute search: `key:value` pairs separated by spaces.
    pub q: Option<String>,
    pub exact: bool,
    pub brief: bool,
    pub populate_hierarchy: bool,
    pub sub_groups_count: bool,
    pub first: Option<i64>,
    pub max: Option<i64>,
}

/// The realm's roles and clients, to name a group's role mappings.
pub(crate) struct RoleNames {
    roles: Vec<Role>,
    clients: Vec<Client>,
}

impl RoleNames {
    pub(crate) async fn load(ctx: &AdminContext<'_>, realm: &Realm) -> Result<Self, AdminError> {
        Ok(Self { roles: ctx.store.realm_roles(&realm.id).await?, clients: ctx.clients(realm).await? })
    }

    /// (realm role names, client role names by clientId) of these role ids.
    fn names(&self, ids: &[String]) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
        let mut realm = Vec::new();
        let mut clients: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for role in self.roles.iter().filter(|r| ids.contains(&r.id)) {
            if !role.client_role {
                realm.push(role.name.clone());
            } else if let Some(client) = self.clients.iter().find(|c| c.id == role.container_id) {
                clients.entry(client.client_id.clone()).or_default().push(role.name.clone());
            }
        }
        realm.sort();
        clients.values_mut().for_each(|names| names.sort());
        (realm, clients)
    }
}

fn access(ctx: &AdminContext<'_>, realm: &Realm) -> BTreeMap<String, bool> {
    let manage = ctx.caller.allows(&realm.name, Permission::ManageUsers);
    BTreeMap::from([
        ("view".to_string(), true),
        ("viewMembers".to_string(), true),
        ("manageMembers".to_string(), manage),
        ("manage".to_string(), manage),
        ("manageMembership".to_string(), manage),
    ])
}

/// Keycloak's brief representation (id, name, description, path, parentId), the subgroup count
/// and an empty `subGroups`.
pub(crate) fn brief(view: &GroupView) -> GroupRepresentation {
    GroupRepresentation {
        id: Some(view.group.id.clone()),
        name: Some(view.group.name.clone()),
        description: view.group.description.clone(),
        path: Some(view.path.clone()),
        parent_id: view.group.parent_id.clone(),
        sub_group_count: Some(view.sub_group_count),
        sub_groups: Some(Vec::new()),
        ..GroupRepresentation::default()
    }
}

/// The full representation: the brief one with attributes, role mappings and access.
async fn full(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    names: &RoleNames,
    view: &GroupView,
) -> Result<GroupRepresentation, AdminError> {
    let mapped = ctx.store.group_role_ids(&view.group.id).await?;
    let (realm_roles, client_roles) = names.names(&mapped);
    Ok(GroupRepresentation {
        attributes: Some(view.group.attributes.clone()),
        realm_roles: Some(realm_roles),
        client_roles: Some(client_roles),
        access: Some(access(ctx, realm)),
        ..brief(view)
    })
}

pub(crate) async fn shown(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    views: &[GroupView],
    is_brief: bool,
) -> Result<Vec<GroupRepresentation>, AdminError> {
    if is_brief {
        return Ok(views.iter().map(brief).collect());
    }
    let names = RoleNames::load(ctx, realm).await?;
    let mut out = Vec::with_capacity(views.len());
    for view in views {
        out.push(full(ctx, realm, &names, view).await?);
    }
    Ok(out)
}

/// The group of the realm, or Keycloak's 404.
pub(crate) async fn find(ctx: &AdminContext<'_>, realm: &Realm, id: &str) -> Result<GroupView, AdminError> {
    ctx.store.group_by_id(&realm.id, id).await?.ok_or_else(|| AdminError::not_found(GROUP_NOT_FOUND))
}

/// `key:value` pairs of Keycloak's `q`, values optionally in double quotes.
pub fn parse_q(q: &str) -> Result<Vec<(String, String)>, AdminError> {
    let mut pairs = Vec::new();
    let mut rest = q.trim();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once(':')
            .ok_or_else(|| AdminError::bad_request("Invalid query, expected key:value pairs"))?;
        let key = key.trim();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"').ok_or_else(|| AdminError::bad_request("Invalid query, unclosed quote"))?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(' ').unwrap_or((after, "")),
        };
        if key.is_empty() || key.contains(' ') {
            return Err(AdminError::bad_request("Invalid query, expected key:value pairs"));
        }
        pairs.push((key.to_string(), value.to_string()));
        rest = next.trim_start();
    }
    Ok(pairs)
}

fn capped(first: Option<i64>, max: Option<i64>, default_max: i64) -> (i64, i64) {
    let max = match max.unwrap_or(default_max) {
        m if m < 0 => MAX_PAGE,
        m => m.min(MAX_PAGE),
    };
    (first.unwrap_or(0).max(0), max)
}

fn name_filter(search: Option<&str>, exact: bool, filter: &mut GroupFilter) {
    if let Some(search) = search.map(str::trim) {
        if exact {
            filter.name_exact = Some(search.to_string());
        } else if !search.is_empty() {
            filter.name_like = Some(format!("%{}%", like_literal(search)));
        }
    }
}

/// `GET .../groups`.
pub async fn list(ctx: &AdminContext<'_>, realm: &str, query: &GroupQuery) -> Result<Vec<GroupRepresentation>, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewUsers).await?;
    let (first, max) = capped(query.first, query.max, -1);
    if max == 0 {
        return Ok(Vec::new());
    }
    let mut filter = GroupFilter { first, max, ..GroupFilter::default() };
    let searching = query.search.is_some() || query.q.is_some();
    if let Some(q) = &query.q {
        filter.attributes = parse_q(q)?;
    } else {
        name_filter(query.search.as_deref(), query.exact, &mut filter);
    }
    if !searching {
        filter.level = GroupLevel::Top;
    }
    let matches = ctx.store.list_groups(&realm.id, &filter).await?;
    let mut reps = shown(ctx, &realm, &matches, query.brief).await?;
    if !query.sub_groups_count {
        reps.iter_mut().for_each(|r| r.sub_group_count = None);
    }
    if !searching || !query.populate_hierarchy {
        return Ok(reps);
    }
    hierarchy(ctx, &realm, matches, reps, query).await
}

/// The matching groups inside their ancestors' tree: top-level groups whose `subGroups` hold only
/// the branches that lead to a match (Keycloak's `populateGroupHierarchyFromSubGroups`).
async fn hierarchy(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    matches: Vec<GroupView>,
    reps: Vec<GroupRepresentation>,
    query: &GroupQuery,
) -> Result<Vec<GroupRepresentation>, AdminError> {
    let mut ancestor_ids: Vec<String> = matches.iter().flat_map(|m| m.ancestor_ids.iter().cloned()).collect();
    ancestor_ids.sort();
    ancestor_ids.dedup();
    let matched: Vec<String> = matches.iter().map(|m| m.group.id.clone()).collect();
    ancestor_ids.retain(|id| !matched.contains(id));
    let ancestors = ctx.store.groups_by_ids(&realm.id, &ancestor_ids).await?;
    let mut ancestor_reps = shown(ctx, realm, &ancestors, query.brief).await?;
    if !query.sub_groups_count {
        ancestor_reps.iter_mut().for_each(|r| r.sub_group_count = None);
    }
    let mut nodes: HashMap<String, GroupRepresentation> = HashMap::new();
    let mut parents: HashMap<String, Option<String>> = HashMap::new();
    for (view, rep) in matches.iter().zip(reps).chain(ancestors.iter().zip(ancestor_reps)) {
        parents.insert(view.group.id.clone(), view.group.parent_id.clone());
        nodes.insert(view.group.id.clone(), rep);
    }
    // Attach the deepest nodes first, so each child is complete when it joins its parent.
    let mut order: Vec<(usize, String)> = matches
        .iter()
        .chain(ancestors.iter())
        .map(|v| (v.ancestor_ids.len(), v.group.id.clone()))
        .collect();
    order.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    let mut roots = Vec::new();
    for (_, id) in order {
        let Some(node) = nodes.remove(&id) else { continue };
        match parents.get(&id).cloned().flatten() {
            Some(parent) => match nodes.get_mut(&parent) {
                Some(parent) => parent.sub_groups.get_or_insert_with(Vec::new).push(node),
                None => roots.push(node),
            },
            None => roots.push(node),
        }
    }
    fn sort(reps: &mut [GroupRepresentation]) {
        reps.sort_by(|a, b| a.name.cmp(&b.name));
        for rep in reps.iter_mut() {
            if let Some(children) = rep.sub_groups.as_mut() {
                sort(children);
            }
        }
    }
    sort(&mut roots);
    Ok(roots)
}

/// `GET .../groups/count`: `{"count": n}`; all groups, top-level ones (`top`), or those whose
/// name contains `search` at any level.
pub async fn count(ctx: &AdminContext<'_>, realm: &str, search: Option<&str>, top: bool) -> Result<i64, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewUsers).await?;
    let mut filter = GroupFilter::default();
    if search.is_some() {
        name_filter(search, false, &mut filter);
    } else if top {
        filter.level = GroupLevel::Top;
    }
    Ok(ctx.store.count_groups(&realm.id, &filter).await?)
}

/// `GET .../groups/{id}`: the full representation with `subGroupCount`.
pub async fn get(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<GroupRepresentation, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewUsers).await?;
    let view = find(ctx, &realm, id).await?;
    full(ctx, &realm, &RoleNames::load(ctx, &realm).await?, &view).await
}

/// `GET .../group-by-path/{path}`.
pub async fn by_path(ctx: &AdminContext<'_>, realm: &str, path: &str) -> Result<GroupRepresentation, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewUsers).await?;
    let not_found = || AdminError::not_found("Group path does not exist");
    let names = split_group_path(path).ok_or_else(not_found)?;
    let view = ctx.store.group_by_path(&realm.id, &names).await?.ok_or_else(not_found)?;
    full(ctx, &realm, &RoleNames::load(ctx, &realm).await?, &view).await
}

fn required_name(rep: &GroupRepresentation) -> Result<String, AdminError> {
    match rep.name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => Ok(rep.name.clone().unwrap_or_default()),
        _ => Err(AdminError::bad_request(NAME_MISSING)),
    }
}

fn new_group(realm: &Realm, parent: Option<&str>, name: String, rep: &GroupRepresentation, now: i64) -> Group {
    Group {
        id: new_id(),
        realm_id: realm.id.clone(),
        parent_id: parent.map(str::to_string),
        name,
        description: rep.description.clone(),
        attributes: rep.attributes.clone().unwrap_or_default(),
        created_at: now,
    }
}

/// What `POST .../groups` or `.../children` did.
pub enum Added {
    /// A new group: its full representation.
    Created(Box<GroupRepresentation>),
    /// The group named by the body's id now hangs here.
    Moved,
}

async fn moved(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    id: &str,
    parent: Option<&str>,
    taken: String,
) -> Result<(), AdminError> {
    match ctx.store.move_group(&realm.id, id, parent).await {
        Ok(MoveOutcome::Moved) => Ok(()),
        Ok(MoveOutcome::GroupNotFound) => Err(AdminError::not_found("Could not find child by id")),
        Ok(MoveOutcome::ParentNotFound) => Err(AdminError::not_found(GROUP_NOT_FOUND)),
        Ok(MoveOutcome::IntoOwnSubtree) => Err(AdminError::bad_request("Cannot move a group into itself or one of its subgroups")),
        Err(StoreError::Conflict(_)) => Err(AdminError::conflict(taken)),
        Err(e) => Err(e.into()),
    }
}

/// `POST .../groups` (parent `None`) or `POST .../groups/{parent}/children`: creates the group,
/// or, when the body carries the id of an existing group, moves that group here.
pub async fn add(
    ctx: &AdminContext<'_>,
    realm: &str,
    parent: Option<&str>,
    rep: GroupRepresentation,
) -> Result<Added, AdminError> {
    let realm = ctx.realm(realm, Permission::ManageUsers).await?;
    let parent = match parent {
        Some(id) => Some(find(ctx, &realm, id).await?),
        None => None,
    };
    let name = required_name(&rep)?;
    let parent_id = parent.as_ref().map(|p| p.group.id.clone());
    let taken = |name: &str| match parent {
        None => format!("Top level group named '{name}' already exists."),
        Some(_) => format!("Sibling group named '{name}' already exists."),
    };
    let base = match &parent {
        Some(p) => format!("groups/{}/children", p.group.id),
        None => "groups".to_string(),
    };
    if let Some(id) = &rep.id {
        let child = ctx.store.group_by_id(&realm.id, id).await?;
        let child = child.ok_or_else(|| AdminError::not_found("Could not find child by id"))?;
        if child.group.parent_id != parent_id {
            moved(ctx, &realm, id, parent_id.as_deref(), taken(&child.group.name)).await?;
        }
        ctx.record(&realm.id, Operation::Update, Resource::Group, &base, to_event_json(&rep)).await;
        return Ok(Added::Moved);
    }
    let group = new_group(&realm, parent_id.as_deref(), name.clone(), &rep, ctx.now);
    match ctx.store.create_group(&group).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(AdminError::conflict(taken(&name))),
        Err(StoreError::NotFound(_)) => return Err(AdminError::not_found(GROUP_NOT_FOUND)),
        Err(e) => return Err(e.into()),
    }
    let view = find(ctx, &realm, &group.id).await?;
    let shown = full(ctx, &realm, &RoleNames::load(ctx, &realm).await?, &view).await?;
    let path = format!("{base}/{}", group.id);
    ctx.record(&realm.id, Operation::Create, Resource::Group, &path, to_event_json(&shown)).await;
    Ok(Added::Created(Box::new(shown)))
}

/// `PUT .../groups/{id}`: name, description and (when given) attributes; subgroups are ignored.
pub async fn update(ctx: &AdminContext<'_>, realm: &str, id: &str, rep: GroupRepresentation) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageUsers).await?;
    let view = find(ctx, &realm, id).await?;
    let name = required_name(&rep)?;
    if rep.id.as_deref().is_some_and(|given| given != view.group.id) {
        return Err(AdminError::bad_request("Invalid group id"));
    }
    let mut group = view.group.clone();
    group.name = name.clone();
    group.description = rep.description.clone();
    if let Some(attributes) = &rep.attributes {
        group.attributes = attributes.clone();
    }
    match ctx.store.update_group(&group).await {
        Ok(true) => {}
        Ok(false) => return Err(AdminError::not_found(GROUP_NOT_FOUND)),
        Err(StoreError::Conflict(_)) => {
            return Err(AdminError::conflict(format!("Sibling group named '{name}' already exists.")))
        }
        Err(e) => return Err(e.into()),
    }
    ctx.record(&realm.id, Operation::Update, Resource::Group, &format!("groups/{id}"), to_event_json(&rep)).await;
    Ok(())
}

/// `DELETE .../groups/{id}`: with its subgroups and memberships.
pub async fn delete(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageUsers).await?;
    if !ctx.store.delete_group(&realm.id, id).await? {
        return Err(AdminError::not_found(GROUP_NOT_FOUND));
    }
    ctx.record(&realm.id, Operation::Delete, Resource::Group, &format!("groups/{id}"), None).await;
    Ok(())
}

/// `GET .../groups/{id}/children`: a page (default 10) of direct subgroups, full unless `brief`.
pub async fn children(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    query: &GroupQuery,
) -> Result<Vec<GroupRepresentation>, AdminError> {
    let (search, exact, is_brief) = (query.search.as_deref(), query.exact, query.brief);
    let (first, max) = (query.first, query.max);
    let realm = ctx.realm(realm, Permission::ViewUsers).await?;
    let parent = find(ctx, &realm, id).await?;
    let (first, max) = capped(first, max, CHILDREN_PAGE);
    if max == 0 {
        return Ok(Vec::new());
    }
    let mut filter = GroupFilter { level: GroupLevel::ChildrenOf(parent.group.id), first, max, ..GroupFilter::default() };
    name_filter(search, exact, &mut filter);
    let views = ctx.store.list_groups(&realm.id, &filter).await?;
    shown(ctx, &realm, &views, is_brief).await
}

/// `GET .../groups/{id}/members`: a page (default 100) of direct members, by username.
pub async fn members(ctx: &AdminContext<'_>, realm: &str, id: &str, page: Page) -> Result<Vec<UserView>, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewUsers).await?;
    let group = find(ctx, &realm, id).await?;
    let (first, max) = capped(Some(page.first), Some(page.max), super::DEFAULT_MAX_RESULTS);
    if max == 0 {
        return Ok(Vec::new());
    }
    let users = ctx.store.group_members(&group.group.id, first, max).await?;
    let clients = ctx.clients(&realm).await?;
    Ok(users.iter().map(|u| user_representation(u, &clients)).collect())
}

/// `GET .../users/{id}/groups`: the groups the user is a direct member of, by name.
pub async fn of_user(
    ctx: &AdminContext<'_>,
    realm: &str,
    user: &str,
    search: Option<&str>,
    page: Page,
    is_brief: bool,
) -> Result<Vec<GroupRepresentation>, AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, user, Permission::ViewUsers).await?;
    let (first, max) = capped(Some(page.first), Some(page.max), super::DEFAULT_MAX_RESULTS);
    if max == 0 {
        return Ok(Vec::new());
    }
    let mut filter = GroupFilter { member: Some(user.id), first, max, ..GroupFilter::default() };
    name_filter(search, false, &mut filter);
    let views = ctx.store.list_groups(&realm.id, &filter).await?;
    shown(ctx, &realm, &views, is_brief).await
}

/// `GET .../users/{id}/groups/count`.
pub async fn count_of_user(ctx: &AdminContext<'_>, realm: &str, user: &str, search: Option<&str>) -> Result<i64, AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, user, Permission::ViewUsers).await?;
    let mut filter = GroupFilter { member: Some(user.id), ..GroupFilter::default() };
    name_filter(search, false, &mut filter);
    Ok(ctx.store.count_groups(&realm.id, &filter).await?)
}

/// `PUT` (join) or `DELETE` (leave) `.../users/{id}/groups/{groupId}`.
pub async fn membership(ctx: &AdminContext<'_>, realm: &str, user: &str, group: &str, join: bool) -> Result<(), AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, user, Permission::ManageUsers).await?;
    let group = ctx.store.group_by_id(&realm.id, group).await?.ok_or_else(|| AdminError::not_found("Group not found"))?;
    let changed = if join {
        ctx.store.join_group(&user.id, &group.group.id).await?
    } else {
        ctx.store.leave_group(&user.id, &group.group.id).await?
    };
    if changed {
        let operation = if join { Operation::Create } else { Operation::Delete };
        let path = format!("users/{}/groups/{}", user.id, group.group.id);
        ctx.record(&realm.id, operation, Resource::GroupMembership, &path, to_event_json(&brief(&group))).await;
    }
    Ok(())
}

/// `GET .../default-groups`: brief representations.
pub async fn default_groups(ctx: &AdminContext<'_>, realm: &str) -> Result<Vec<GroupRepresentation>, AdminError> {
    let realm = ctx.realm_any(realm, &[Permission::ViewRealm, Permission::ViewUsers]).await?;
    let filter = GroupFilter { defaults_only: true, max: MAX_PAGE, ..GroupFilter::default() };
    let views = ctx.store.list_groups(&realm.id, &filter).await?;
    Ok(views.iter().map(brief).collect())
}

/// `PUT` (add) or `DELETE` (remove) `.../default-groups/{groupId}`.
pub async fn set_default(ctx: &AdminContext<'_>, realm: &str, group: &str, default: bool) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageRealm).await?;
    if !ctx.store.set_default_group(&realm.id, group, default).await? {
        return Err(AdminError::not_found("Group not found"));
    }
    let operation = if default { Operation::Create } else { Operation::Delete };
    ctx.record(&realm.id, operation, Resource::Group, &format!("default-groups/{group}"), None).await;
    Ok(())
}

/// A representation with every field present, for the OpenAPI document.
pub fn sample_representation() -> GroupRepresentation {
    let child = GroupRepresentation { id: Some("id".into()), ..GroupRepresentation::default() };
    GroupRepresentation {
        id: Some("id".into()),
        name: Some("staff".into()),
        description: Some("...".into()),
        path: Some("/staff".into()),
        parent_id: Some("id".into()),
        sub_group_count: Some(0),
        sub_groups: Some(vec![child]),
        attributes: Some(BTreeMap::from([("key".into(), vec!["value".into()])])),
        realm_roles: Some(vec!["role".into()]),
        client_roles: Some(BTreeMap::from([("client".into(), vec!["role".into()])])),
        access: Some(BTreeMap::from([("view".into(), true)])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_queries_are_key_value_pairs() {
        assert_eq!(parse_q("tier:gold").unwrap(), vec![("tier".to_string(), "gold".to_string())]);
        assert_eq!(
            parse_q("a:1 b:\"two words\"").unwrap(),
            vec![("a".to_string(), "1".to_string()), ("b".to_string(), "two words".to_string())]
        );
        assert!(parse_q("nocolon").is_err());
        assert!(parse_q("").unwrap().is_empty());
    }
}
