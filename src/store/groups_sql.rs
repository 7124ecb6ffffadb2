//! The SQL of `GroupStore`, one text for both backends, and `impl_group_store!`, which stamps
//! the implementation onto each backend in a child module of it (so it may use the backend's
//! `begin_write`). Rows become `GroupView`s here; the trait and its contracts are in `groups`.

use super::groups::{GroupFilter, GroupLevel, GroupView};
use crate::domain::Group;

pub(crate) const GROUP_COLUMNS: &str = "g.id, g.realm_id, g.parent_id, g.name, g.description, g.created_at, \
     g.default_group, (SELECT COUNT(*) FROM realm_groups s WHERE s.parent_id = g.id) AS sub_group_count";

/// $1 realm, $2 level (`any`, `top`, `child`), $3 parent, $4 name pattern, $5 exact name,
/// $6 member, $7 defaults only, $8 role; attribute conditions follow from $9.
pub(crate) const GROUP_FILTER: &str = "g.realm_id = $1 \
     AND ($2 = 'any' OR ($2 = 'top' AND g.parent_id IS NULL) OR ($2 = 'child' AND g.parent_id = $3)) \
     AND (CAST($4 AS TEXT) IS NULL OR LOWER(g.name) LIKE $4 ESCAPE '\\') \
     AND (CAST($5 AS TEXT) IS NULL OR g.name = $5) \
     AND (CAST($6 AS TEXT) IS NULL OR g.id IN (SELECT ug.group_id FROM user_group_membership ug WHERE ug.user_id = $6)) \
     AND ($7 = FALSE OR g.default_group = TRUE) \
     AND (CAST($8 AS TEXT) IS NULL OR g.id IN (SELECT gr.group_id FROM group_role_mappings gr WHERE gr.role_id = $8))";

/// `GROUP_FILTER` with one attribute condition per pair; the next free placeholder number.
pub(crate) fn filter_sql(filter: &GroupFilter) -> (String, usize) {
    let mut sql = GROUP_FILTER.to_string();
    let mut next = 9;
    for _ in &filter.attributes {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM group_attributes a WHERE a.group_id = g.id AND a.name = ${} AND a.value = ${})",
            next,
            next + 1
        ));
        next += 2;
    }
    (sql, next)
}

pub(crate) fn level_params(level: &GroupLevel) -> (&'static str, Option<&str>) {
    match level {
        GroupLevel::Any => ("any", None),
        GroupLevel::Top => ("top", None),
        GroupLevel::ChildrenOf(parent) => ("child", Some(parent.as_str())),
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GroupRow {
    pub id: String,
    pub realm_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub default_group: bool,
    pub sub_group_count: i64,
}

/// IN lists are sent in chunks of this many ids (far below either backend's bind limit).
pub(crate) const ID_CHUNK: usize = 500;

/// Rows, their (descendant, ancestor id, ancestor name, depth) closure and (group, name, value)
/// attributes, into views in the rows' order.
pub(crate) fn assemble(
    rows: Vec<GroupRow>,
    ancestry: Vec<(String, String, String, i64)>,
    attributes: Vec<(String, String, String)>,
) -> Vec<GroupView> {
    use std::collections::HashMap;
    let mut lines: HashMap<String, Vec<(i64, String, String)>> = HashMap::new();
    for (descendant, id, name, depth) in ancestry {
        lines.entry(descendant).or_default().push((depth, id, name));
    }
    let mut attrs: HashMap<String, std::collections::BTreeMap<String, Vec<String>>> = HashMap::new();
    for (group, name, value) in attributes {
        attrs.entry(group).or_default().entry(name).or_default().push(value);
    }
    rows.into_iter()
        .map(|row| {
            let mut line = lines.remove(&row.id).unwrap_or_default();
            line.sort_by_key(|entry| std::cmp::Reverse(entry.0));
            let path = if line.is_empty() {
                crate::domain::group::group_path([row.name.as_str()])
            } else {
                crate::domain::group::group_path(line.iter().map(|(_, _, name)| name.as_str()))
            };
            let ancestor_ids = line.into_iter().filter(|(depth, _, _)| *depth > 0).map(|(_, id, _)| id).collect();
            GroupView {
                path,
                ancestor_ids,
                sub_group_count: row.sub_group_count,
                default_group: row.default_group,
                group: Group {
                    attributes: attrs.remove(&row.id).unwrap_or_default(),
                    id: row.id,
                    realm_id: row.realm_id,
                    parent_id: row.parent_id,
                    name: row.name,
                    description: row.description,
                    created_at: row.created_at,
                },
            }
        })
        .collect()
}

/// `$first, $first+1, ...` for `count` placeholders.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

macro_rules! impl_group_store {
    ($store:ty, $db:ty) => {
        mod group_impl {
            use super::*;

            use async_trait::async_trait;

            use crate::domain::{Group, User};
            use crate::store::common::{map_unique, UserRow};

            /// Every user read selects these (attributes included: see `store::users`).
            const USER_COLUMNS: &str = <$db as crate::store::users::UserSql>::USER_COLUMNS;
            use crate::store::common_admin::limit;
            use crate::store::groups::{mapped_role_ids_sql, GroupFilter, GroupStore, GroupView, MoveOutcome, RealmGroups};
            use crate::store::groups_sql::{assemble, filter_sql, level_params, placeholders, GroupRow, GROUP_COLUMNS, ID_CHUNK};
            use crate::store::StoreError;

            type GroupTx<'a> = sqlx::Transaction<'a, $db>;
            type Conn = <$db as sqlx::Database>::Connection;

            impl $store {
                /// Inserts the group, its closure rows and attributes; the parent, when given,
                /// must already be stored.
                pub(crate) async fn insert_group_rows(tx: &mut GroupTx<'_>, group: &Group, default: bool) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO realm_groups (id, realm_id, parent_id, name, description, default_group, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&group.id)
                    .bind(&group.realm_id)
                    .bind(&group.parent_id)
                    .bind(&group.name)
                    .bind(&group.description)
                    .bind(default)
                    .bind(group.created_at)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_unique)?;
                    sqlx::query("INSERT INTO group_closure (ancestor_id, descendant_id, depth) VALUES ($1, $1, 0)")
                        .bind(&group.id)
                        .execute(&mut **tx)
                        .await?;
                    if let Some(parent) = &group.parent_id {
                        sqlx::query(
                            "INSERT INTO group_closure (ancestor_id, descendant_id, depth) \
                             SELECT ancestor_id, $1, depth + 1 FROM group_closure WHERE descendant_id = $2",
                        )
                        .bind(&group.id)
                        .bind(parent)
                        .execute(&mut **tx)
                        .await?;
                    }
                    Self::write_group_attributes(tx, group).await
                }

                async fn write_group_attributes(tx: &mut GroupTx<'_>, group: &Group) -> Result<(), StoreError> {
                    sqlx::query("DELETE FROM group_attributes WHERE group_id = $1").bind(&group.id).execute(&mut **tx).await?;
                    for (name, values) in &group.attributes {
                        for (position, value) in values.iter().enumerate() {
                            sqlx::query("INSERT INTO group_attributes (group_id, name, position, value) VALUES ($1, $2, $3, $4)")
                                .bind(&group.id)
                                .bind(name)
                                .bind(position as i64)
                                .bind(value)
                                .execute(&mut **tx)
                                .await?;
                        }
                    }
                    Ok(())
                }

                /// Group memberships and role mappings of a bundle (users and roles stored first).
                pub(crate) async fn insert_group_links(tx: &mut GroupTx<'_>, groups: &RealmGroups) -> Result<(), StoreError> {
                    for (group_id, role_id) in &groups.role_mappings {
                        sqlx::query("INSERT INTO group_role_mappings (group_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                            .bind(group_id)
                            .bind(role_id)
                            .execute(&mut **tx)
                            .await?;
                    }
                    for (user_id, group_id) in &groups.memberships {
                        sqlx::query("INSERT INTO user_group_membership (user_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                            .bind(user_id)
                            .bind(group_id)
                            .execute(&mut **tx)
                            .await?;
                    }
                    Ok(())
                }

                /// Everything a realm's export holds of its groups.
                pub(crate) async fn realm_groups_in(conn: &mut Conn, realm_id: &str) -> Result<RealmGroups, StoreError> {
                    let rows: Vec<GroupRow> = sqlx::query_as(&format!(
                        "SELECT {GROUP_COLUMNS} FROM realm_groups g WHERE g.realm_id = $1 \
                         ORDER BY (SELECT COUNT(*) FROM group_closure c WHERE c.descendant_id = g.id), g.name, g.id"
                    ))
                    .bind(realm_id)
                    .fetch_all(&mut *conn)
                    .await?;
                    let attributes: Vec<(String, String, String)> = sqlx::query_as(
                        "SELECT a.group_id, a.name, a.value FROM group_attributes a JOIN realm_groups g ON g.id = a.group_id \
                         WHERE g.realm_id = $1 ORDER BY a.group_id, a.name, a.position",
                    )
                    .bind(realm_id)
                    .fetch_all(&mut *conn)
                    .await?;
                    let role_mappings: Vec<(String, String)> = sqlx::query_as(
                        "SELECT r.group_id, r.role_id FROM group_role_mappings r JOIN realm_groups g ON g.id = r.group_id \
                         WHERE g.realm_id = $1 ORDER BY r.group_id, r.role_id",
                    )
                    .bind(realm_id)
                    .fetch_all(&mut *conn)
                    .await?;
                    let memberships: Vec<(String, String)> = sqlx::query_as(
                        "SELECT m.user_id, m.group_id FROM user_group_membership m JOIN realm_groups g ON g.id = m.group_id \
                         WHERE g.realm_id = $1 ORDER BY m.user_id, m.group_id",
                    )
                    .bind(realm_id)
                    .fetch_all(&mut *conn)
                    .await?;
                    let default_groups = rows.iter().filter(|r| r.default_group).map(|r| r.id.clone()).collect();
                    let views = assemble(rows, Vec::new(), attributes);
                    Ok(RealmGroups {
                        groups: views.into_iter().map(|v| v.group).collect(),
                        default_groups,
                        role_mappings,
                        memberships,
                    })
                }

                /// Rows into views: their paths, ancestors and attributes read in chunks.
                async fn views(&self, rows: Vec<GroupRow>) -> Result<Vec<GroupView>, StoreError> {
                    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                    let mut ancestry: Vec<(String, String, String, i64)> = Vec::new();
                    let mut attributes: Vec<(String, String, String)> = Vec::new();
                    for chunk in ids.chunks(ID_CHUNK) {
                        let list = placeholders(1, chunk.len());
                        let sql = format!(
                            "SELECT c.descendant_id, g.id, g.name, c.depth FROM group_closure c \
                             JOIN realm_groups g ON g.id = c.ancestor_id WHERE c.descendant_id IN ({list})"
                        );
                        let mut query = sqlx::query_as(&sql);
                        for id in chunk {
                            query = query.bind(id);
                        }
                        let found: Vec<(String, String, String, i64)> = query.fetch_all(&self.pool).await?;
                        ancestry.extend(found);
                        let sql = format!(
                            "SELECT group_id, name, value FROM group_attributes WHERE group_id IN ({list}) \
                             ORDER BY group_id, name, position"
                        );
                        let mut query = sqlx::query_as(&sql);
                        for id in chunk {
                            query = query.bind(id);
                        }
                        let found: Vec<(String, String, String)> = query.fetch_all(&self.pool).await?;
                        attributes.extend(found);
                    }
                    Ok(assemble(rows, ancestry, attributes))
                }

                fn bind_group_filter<'q, O>(
                    sql: &'q str,
                    realm_id: &'q str,
                    f: &'q GroupFilter,
                ) -> sqlx::query::QueryAs<'q, $db, O, <$db as sqlx::Database>::Arguments<'q>>
                where
                    O: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row>,
                {
                    let (level, parent) = level_params(&f.level);
                    let mut query = sqlx::query_as(sql)
                        .bind(realm_id)
                        .bind(level)
                        .bind(parent)
                        .bind(f.name_like.as_deref())
                        .bind(f.name_exact.as_deref())
                        .bind(f.member.as_deref())
                        .bind(f.defaults_only)
                        .bind(f.role.as_deref());
                    for (name, value) in &f.attributes {
                        query = query.bind(name.as_str()).bind(value.as_str());
                    }
                    query
                }

                async fn group_exists(tx: &mut GroupTx<'_>, realm_id: &str, id: &str) -> Result<bool, StoreError> {
                    let found: Option<(String,)> = sqlx::query_as("SELECT id FROM realm_groups WHERE id = $1 AND realm_id = $2")
                        .bind(id)
                        .bind(realm_id)
                        .fetch_optional(&mut **tx)
                        .await?;
                    Ok(found.is_some())
                }
            }

            #[async_trait]
            impl GroupStore for $store {
                async fn create_group(&self, group: &Group) -> Result<(), StoreError> {
                    let mut tx = self.begin_write().await?;
                    if let Some(parent) = &group.parent_id {
                        if !Self::group_exists(&mut tx, &group.realm_id, parent).await? {
                            return Err(StoreError::NotFound(format!("parent group {parent}")));
                        }
                    }
                    Self::insert_group_rows(&mut tx, group, false).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn group_by_id(&self, realm_id: &str, id: &str) -> Result<Option<GroupView>, StoreError> {
                    Ok(self.groups_by_ids(realm_id, &[id.to_string()]).await?.pop())
                }

                async fn group_by_path(&self, realm_id: &str, names: &[String]) -> Result<Option<GroupView>, StoreError> {
                    let mut parent: Option<String> = None;
                    for name in names {
                        let found: Option<(String,)> = sqlx::query_as(
                            "SELECT id FROM realm_groups WHERE realm_id = $1 AND COALESCE(parent_id, '') = $2 AND name = $3",
                        )
                        .bind(realm_id)
                        .bind(parent.as_deref().unwrap_or(""))
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await?;
                        match found {
                            Some((id,)) => parent = Some(id),
                            None => return Ok(None),
                        }
                    }
                    match parent {
                        Some(id) => self.group_by_id(realm_id, &id).await,
                        None => Ok(None),
                    }
                }

                async fn groups_by_ids(&self, realm_id: &str, ids: &[String]) -> Result<Vec<GroupView>, StoreError> {
                    let mut rows: Vec<GroupRow> = Vec::new();
                    for chunk in ids.chunks(ID_CHUNK) {
                        let sql = format!(
                            "SELECT {GROUP_COLUMNS} FROM realm_groups g WHERE g.realm_id = $1 AND g.id IN ({})",
                            placeholders(2, chunk.len())
                        );
                        let mut query = sqlx::query_as(&sql).bind(realm_id);
                        for id in chunk {
                            query = query.bind(id);
                        }
                        let found: Vec<GroupRow> = query.fetch_all(&self.pool).await?;
                        rows.extend(found);
                    }
                    self.views(rows).await
                }

                async fn list_groups(&self, realm_id: &str, filter: &GroupFilter) -> Result<Vec<GroupView>, StoreError> {
                    let (condition, next) = filter_sql(filter);
                    let sql = format!(
                        "SELECT {GROUP_COLUMNS} FROM realm_groups g WHERE {condition} ORDER BY g.name, g.id LIMIT ${} OFFSET ${}",
                        next,
                        next + 1
                    );
                    let rows: Vec<GroupRow> = Self::bind_group_filter(&sql, realm_id, filter)
                        .bind(limit(filter.max))
                        .bind(filter.first.max(0))
                        .fetch_all(&self.pool)
                        .await?;
                    self.views(rows).await
                }

                async fn count_groups(&self, realm_id: &str, filter: &GroupFilter) -> Result<i64, StoreError> {
                    let (condition, _) = filter_sql(filter);
                    let sql = format!("SELECT COUNT(*) FROM realm_groups g WHERE {condition}");
                    let (count,): (i64,) = Self::bind_group_filter(&sql, realm_id, filter).fetch_one(&self.pool).await?;
                    Ok(count)
                }

                async fn update_group(&self, group: &Group) -> Result<bool, StoreError> {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query("UPDATE realm_groups SET name = $1, description = $2 WHERE id = $3 AND realm_id = $4")
                        .bind(&group.name)
                        .bind(&group.description)
                        .bind(&group.id)
                        .bind(&group.realm_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_unique)?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    Self::write_group_attributes(&mut tx, group).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn move_group(&self, realm_id: &str, id: &str, parent: Option<&str>) -> Result<MoveOutcome, StoreError> {
                    let mut tx = self.begin_write().await?;
                    if !Self::group_exists(&mut tx, realm_id, id).await? {
                        return Ok(MoveOutcome::GroupNotFound);
                    }
                    if let Some(parent) = parent {
                        if !Self::group_exists(&mut tx, realm_id, parent).await? {
                            return Ok(MoveOutcome::ParentNotFound);
                        }
                        let inside: Option<(String,)> =
                            sqlx::query_as("SELECT descendant_id FROM group_closure WHERE ancestor_id = $1 AND descendant_id = $2")
                                .bind(id)
                                .bind(parent)
                                .fetch_optional(&mut *tx)
                                .await?;
                        if inside.is_some() {
                            return Ok(MoveOutcome::IntoOwnSubtree);
                        }
                    }
                    sqlx::query("UPDATE realm_groups SET parent_id = $1 WHERE id = $2")
                        .bind(parent)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_unique)?;
                    // The subtree keeps its inner pairs and loses those with its old ancestors...
                    sqlx::query(
                        "DELETE FROM group_closure WHERE descendant_id IN (SELECT descendant_id FROM group_closure WHERE ancestor_id = $1) \
                         AND ancestor_id NOT IN (SELECT descendant_id FROM group_closure WHERE ancestor_id = $1)",
                    )
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    // ...and gains one with each new ancestor.
                    if let Some(parent) = parent {
                        sqlx::query(
                            "INSERT INTO group_closure (ancestor_id, descendant_id, depth) \
                             SELECT a.ancestor_id, d.descendant_id, a.depth + d.depth + 1 \
                             FROM group_closure a CROSS JOIN group_closure d WHERE a.descendant_id = $1 AND d.ancestor_id = $2",
                        )
                        .bind(parent)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(MoveOutcome::Moved)
                }

                async fn delete_group(&self, realm_id: &str, id: &str) -> Result<bool, StoreError> {
                    let done = sqlx::query("DELETE FROM realm_groups WHERE id = $1 AND realm_id = $2")
                        .bind(id)
                        .bind(realm_id)
                        .execute(&self.pool)
                        .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn set_default_group(&self, realm_id: &str, id: &str, default: bool) -> Result<bool, StoreError> {
                    let done = sqlx::query("UPDATE realm_groups SET default_group = $1 WHERE id = $2 AND realm_id = $3")
                        .bind(default)
                        .bind(id)
                        .bind(realm_id)
                        .execute(&self.pool)
                        .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn group_members(&self, group_id: &str, first: i64, max: i64) -> Result<Vec<User>, StoreError> {
                    let rows: Vec<UserRow> = sqlx::query_as(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE id IN (SELECT user_id FROM user_group_membership WHERE group_id = $1) \
                         ORDER BY username LIMIT $2 OFFSET $3"
                    ))
                    .bind(group_id)
                    .bind(limit(max))
                    .bind(first.max(0))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(User::from).collect())
                }

                async fn join_group(&self, user_id: &str, group_id: &str) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "INSERT INTO user_group_membership (user_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    )
                    .bind(user_id)
                    .bind(group_id)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn leave_group(&self, user_id: &str, group_id: &str) -> Result<bool, StoreError> {
                    let done = sqlx::query("DELETE FROM user_group_membership WHERE user_id = $1 AND group_id = $2")
                        .bind(user_id)
                        .bind(group_id)
                        .execute(&self.pool)
                        .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn group_role_ids(&self, group_id: &str) -> Result<Vec<String>, StoreError> {
                    let rows: Vec<(String,)> =
                        sqlx::query_as("SELECT role_id FROM group_role_mappings WHERE group_id = $1 ORDER BY role_id")
                            .bind(group_id)
                            .fetch_all(&self.pool)
                            .await?;
                    Ok(rows.into_iter().map(|(id,)| id).collect())
                }

                async fn inherited_group_role_ids(&self, group_id: &str) -> Result<Vec<String>, StoreError> {
                    let rows: Vec<(String,)> = sqlx::query_as(
                        "SELECT DISTINCT r.role_id FROM group_closure c JOIN group_role_mappings r ON r.group_id = c.ancestor_id \
                         WHERE c.descendant_id = $1 ORDER BY r.role_id",
                    )
                    .bind(group_id)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(|(id,)| id).collect())
                }

                async fn add_group_roles(&self, group_id: &str, role_ids: &[String]) -> Result<(), StoreError> {
                    let mut tx = self.begin_write().await?;
                    for role_id in role_ids {
                        sqlx::query("INSERT INTO group_role_mappings (group_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                            .bind(group_id)
                            .bind(role_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn remove_group_roles(&self, group_id: &str, role_ids: &[String]) -> Result<(), StoreError> {
                    let mut tx = self.begin_write().await?;
                    for role_id in role_ids {
                        sqlx::query("DELETE FROM group_role_mappings WHERE group_id = $1 AND role_id = $2")
                            .bind(group_id)
                            .bind(role_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn mapped_role_ids(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
                    let sql = format!("SELECT x.role_id FROM ({}) x ORDER BY x.role_id", mapped_role_ids_sql("$1"));
                    let rows: Vec<(String,)> = sqlx::query_as(&sql).bind(user_id).fetch_all(&self.pool).await?;
                    Ok(rows.into_iter().map(|(id,)| id).collect())
                }
            }
        }
    };
}

pub(crate) use impl_group_store;
