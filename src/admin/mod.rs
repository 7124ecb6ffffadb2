//! Keycloak's Admin REST API as domain operations: realms, users, clients, roles, sessions and
//! events, each checked against what the calling admin may do, and every write recorded as an
//! admin event. No axum types: `crate::http::admin` parses the request, calls one function here
//! and maps the error. Not the place for token or session rules (`oauth`, `session`) or SQL.

pub mod attack_detection;
pub mod auth;
pub mod caches;
pub mod cli;
pub mod client_defaults;
pub mod client_info;
pub mod client_scopes;
pub mod clients;
pub mod context;
pub mod default_clients;
pub mod error;
pub mod evaluate;
pub mod events;
pub mod group_roles;
pub mod groups;
pub mod keys;
pub mod protocol_mappers;
pub mod partial_export;
pub mod partial_import;
pub mod partial_import_representation;
pub mod realms;
pub mod required_actions;
pub mod representation;
pub mod role_composites;
pub mod role_mappings;
pub mod roles;
pub mod serverinfo;
pub mod scope_mappings;
pub mod sessions;
pub mod user_credentials;
pub mod user_profile;
pub mod user_search;
pub mod user_storage;
pub mod users;
/// The admin API's mails: execute-actions, verify-email, testSMTPConnection.
pub mod user_mail;

pub use auth::{Caller, Permission};
pub use context::AdminContext;
pub use error::AdminError;

/// Keycloak's page size when `max` is absent.
pub const DEFAULT_MAX_RESULTS: i64 = 100;

/// A page request: `first` results skipped, at most `max` returned (`max < 0`: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub first: i64,
    pub max: i64,
}

impl Page {
    pub fn new(first: Option<i64>, max: Option<i64>) -> Self {
        Self { first: first.unwrap_or(0).max(0), max: max.unwrap_or(DEFAULT_MAX_RESULTS) }
    }

    /// Applies the page to an in-memory list.
    pub fn apply<T>(&self, items: Vec<T>) -> Vec<T> {
        let first = usize::try_from(self.first).unwrap_or(usize::MAX);
        let iter = items.into_iter().skip(first);
        match usize::try_from(self.max) {
            Ok(max) if self.max >= 0 => iter.take(max).collect(),
            _ => iter.collect(),
        }
    }

    /// True when the page can hold nothing (`max=0`): callers answer without a query.
    pub fn is_empty(&self) -> bool {
        self.max == 0
    }
}

/// `text` with the `LIKE` wildcards `%`, `_` and the escape `\` itself escaped.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A SQL `LIKE` pattern matching `text` literally, for columns compared lower-cased.
pub fn like_literal(text: &str) -> String {
    escape_like(&text.to_lowercase())
}

/// Keycloak's search syntax: `"foo"` exact, `*` a wildcard, otherwise a prefix match.
pub fn like_search(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text == "*" {
        return None;
    }
    if let Some(exact) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return Some(like_literal(exact));
    }
    if text.contains('*') {
        let parts: Vec<String> = text.split('*').map(like_literal).collect();
        return Some(parts.join("%"));
    }
    Some(format!("{}%", like_literal(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_follow_keycloaks_syntax() {
        assert_eq!(like_search("Al").as_deref(), Some("al%"));
        assert_eq!(like_search("*li*").as_deref(), Some("%li%"));
        assert_eq!(like_search("\"alice\"").as_deref(), Some("alice"));
        assert_eq!(like_search("50%_off").as_deref(), Some("50\\%\\_off%"));
        assert_eq!(like_search(" * "), None);
    }

    #[test]
    fn pages_skip_and_take() {
        let page = Page::new(Some(1), Some(2));
        assert_eq!(page.apply(vec![1, 2, 3, 4]), vec![2, 3]);
        assert_eq!(Page::new(None, Some(-1)).apply(vec![1, 2, 3]), vec![1, 2, 3]);
    }
}
