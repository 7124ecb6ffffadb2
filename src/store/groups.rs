//! Where groups are stored: the group tree, its attributes, members and role mappings, and the
//! role ids a user inherits through groups: the records and the contract. Its SQL, one text for
//! both backends (the dialects agree on everything used here), is in `groups_sql`.
//!
//! The tree is kept twice: `realm_groups.parent_id` (the truth, and the cascade that deletes a
//! subtree) and `group_closure` (every ancestor/descendant pair, maintained on create and move),
//! so "the roles of a user's groups and all their ancestors" is a plain join on the token path.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{Group, User};

/// A group as the admin API shows it: with its path, its ancestors and how many children it has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupView {
    pub group: Group,
    /// `/top/.../name`.
    pub path: String,
    /// The ids of the group's ancestors, top first (empty for a top-level group).
    pub ancestor_ids: Vec<String>,
    pub sub_group_count: i64,
    pub default_group: bool,
}

/// Which level of the tree a listing looks at.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum GroupLevel {
    /// Every group of the realm, at any depth.
    #[default]
    Any,
    /// Top-level groups only.
    Top,
    /// The direct children of this group.
    ChildrenOf(String),
}

/// Which groups a listing returns, ordered by name. Every condition given must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupFilter {
    pub level: GroupLevel,
    /// A SQL `LIKE` pattern over the lower-cased name (`\` escapes).
    pub name_like: Option<String>,
    /// The name, exactly (case-sensitive).
    pub name_exact: Option<String>,
    /// Only groups this user (id) is a direct member of.
    pub member: Option<String>,
    /// Only the realm's default groups.
    pub defaults_only: bool,
    /// Only groups this role (id) is mapped to directly.
    pub role: Option<String>,
    /// (name, value): the group has an attribute `name` with exactly this value, for each pair.
    pub attributes: Vec<(String, String)>,
    /// Offset and page size; `max <= 0` means no limit.
    pub first: i64,
    pub max: i64,
}

/// How a move ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveOutcome {
    Moved,
    /// No such group in the realm.
    GroupNotFound,
    /// The new parent is not a group of the realm.
    ParentNotFound,
    /// The new parent is the group itself or one of its descendants; nothing changed.
    IntoOwnSubtree,
}

#[async_trait]
pub trait GroupStore {
    /// Creates the group (its closure rows and attributes too) in one transaction. `NotFound`
    /// when its parent is not a group of its realm; `Conflict` when a sibling has its name.
    async fn create_group(&self, group: &Group) -> Result<(), StoreError>;

    /// The group of the realm with this id.
    async fn group_by_id(&self, realm_id: &str, id: &str) -> Result<Option<GroupView>, StoreError>;

    /// The group reached by following `names` from the top level (each a child's name).
    async fn group_by_path(&self, realm_id: &str, names: &[String]) -> Result<Option<GroupView>, StoreError>;

    /// The groups of `ids` in the realm (others are skipped), in no particular order.
    async fn groups_by_ids(&self, realm_id: &str, ids: &[String]) -> Result<Vec<GroupView>, StoreError>;

    /// A page of the realm's groups matching the filter, ordered by name then id.
    async fn list_groups(&self, realm_id: &str, filter: &GroupFilter) -> Result<Vec<GroupView>, StoreError>;

    /// How many groups match the filter (its page ignored).
    async fn count_groups(&self, realm_id: &str, filter: &GroupFilter) -> Result<i64, StoreError>;

    /// Writes name, description and attributes (replacing them all). False when the realm has no
    /// such group; `Conflict` when a sibling has the new name.
    async fn update_group(&self, group: &Group) -> Result<bool, StoreError>;

    /// Makes the group a child of `parent` (top level when `None`) in one transaction, its whole
    /// subtree following. `Conflict` when the new siblings include one of its name.
    async fn move_group(&self, realm_id: &str, id: &str, parent: Option<&str>) -> Result<MoveOutcome, StoreError>;

    /// Deletes the group with its subtree, memberships, role mappings and attributes. False when
    /// the realm has no such group.
    async fn delete_group(&self, realm_id: &str, id: &str) -> Result<bool, StoreError>;

    /// Marks or unmarks a realm default group. False when the realm has no such group.
    async fn set_default_group(&self, realm_id: &str, id: &str, default: bool) -> Result<bool, StoreError>;

    /// A page of the group's direct members, ordered by username.
    async fn group_members(&self, group_id: &str, first: i64, max: i64) -> Result<Vec<User>, StoreError>;

    /// Makes the user a direct member; false when they already were.
    async fn join_group(&self, user_id: &str, group_id: &str) -> Result<bool, StoreError>;

    /// Ends a direct membership; false when there was none.
    async fn leave_group(&self, user_id: &str, group_id: &str) -> Result<bool, StoreError>;

    /// Ids of the roles mapped directly to the group.
    async fn group_role_ids(&self, group_id: &str) -> Result<Vec<String>, StoreError>;

    /// Ids of the roles mapped to the group or any of its ancestors (what a member inherits).
    async fn inherited_group_role_ids(&self, group_id: &str) -> Result<Vec<String>, StoreError>;

    async fn add_group_roles(&self, group_id: &str, role_ids: &[String]) -> Result<(), StoreError>;

    async fn remove_group_roles(&self, group_id: &str, role_ids: &[String]) -> Result<(), StoreError>;

    /// Ids of every role the user holds before composites are expanded: mapped directly, or to
    /// any group the user is a member of or to any ancestor of such a group. The same set the
    /// token paths read (the refresh's fast read, the service account's read) in their one
    /// statement, through [`mapped_role_ids_sql`].
    async fn mapped_role_ids(&self, user_id: &str) -> Result<Vec<String>, StoreError>;
}

/// A subquery (column `role_id`) of every role id mapped to the user `user` (a SQL expression,
/// e.g. `u.id` or `$1`) directly or through a group or a group's ancestor.
pub(crate) fn mapped_role_ids_sql(user: &str) -> String {
    role_id_sources(user, "UNION")
}

/// The same role ids as [`mapped_role_ids_sql`], but a role mapped both directly and through a
/// group (or through two groups) comes more than once: for an `EXISTS` test or an aggregate
/// that takes `DISTINCT`. It saves Postgres the hash aggregate of a `UNION`, a plan node that
/// every execution of the refresh statement sets up (issue 16).
pub(crate) fn mapped_role_ids_with_repeats_sql(user: &str) -> String {
    role_id_sources(user, "UNION ALL")
}

fn role_id_sources(user: &str, union: &str) -> String {
    format!(
        "SELECT m.role_id FROM user_role_mappings m WHERE m.user_id = {user} \
         {union} SELECT gr.role_id FROM user_group_membership ug \
         JOIN group_closure gc ON gc.descendant_id = ug.group_id \
         JOIN group_role_mappings gr ON gr.group_id = gc.ancestor_id WHERE ug.user_id = {user}"
    )
}

/// What a realm's export holds of its groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RealmGroups {
    /// Parents before children.
    pub groups: Vec<Group>,
    pub default_groups: Vec<String>,
    /// (group id, role id)
    pub role_mappings: Vec<(String, String)>,
    /// (user id, group id)
    pub memberships: Vec<(String, String)>,
}
