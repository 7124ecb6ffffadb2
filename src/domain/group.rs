//! Keycloak's groups: a tree of named groups per realm whose members inherit the realm and client
//! roles mapped to the group and to every ancestor. A group's path (`/parent/child`) is derived
//! from the names of its ancestors; it is never stored, so renaming or moving a group changes
//! one record. Not here: how the tree is stored (`store::groups`) or shown (`admin::groups`).

use std::collections::BTreeMap;

/// One group as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    pub id: String,
    pub realm_id: String,
    /// `None` for a top-level group.
    pub parent_id: Option<String>,
    /// Unique among the group's siblings.
    pub name: String,
    pub description: Option<String>,
    /// Keycloak's multivalued attributes, values in their given order.
    pub attributes: BTreeMap<String, Vec<String>>,
    pub created_at: i64,
}

/// The path of a group whose ancestors, from the top, are named `names` (the group's own last):
/// `/a/b`. Keycloak escapes a `/` inside a name as `~/`.
pub fn group_path<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut path = String::new();
    for name in names {
        path.push('/');
        path.push_str(&name.replace('/', "~/"));
    }
    path
}

/// The names a Keycloak group path is made of, top first; `None` for a path that names no group
/// (empty, or not starting with `/`). A `~/` inside a segment is a `/` of the name.
pub fn split_group_path(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    if rest.is_empty() {
        return None;
    }
    let mut names = Vec::new();
    let mut current = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '~' if chars.peek() == Some(&'/') => {
                chars.next();
                current.push('/');
            }
            '/' => names.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    names.push(current);
    if names.iter().any(String::is_empty) {
        return None;
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_names_and_split_back() {
        assert_eq!(group_path(["a", "b"]), "/a/b");
        assert_eq!(split_group_path("/a/b"), Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(split_group_path("a"), Some(vec!["a".to_string()]));
        assert_eq!(group_path(["x/y", "z"]), "/x~/y/z");
        assert_eq!(split_group_path("/x~/y/z"), Some(vec!["x/y".to_string(), "z".to_string()]));
        assert_eq!(split_group_path("/"), None);
        assert_eq!(split_group_path("/a//b"), None);
    }
}
