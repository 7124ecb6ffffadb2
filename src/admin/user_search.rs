//! Keycloak's user search (`GET .../users` and `.../users/count`) turned into a store filter:
//! `search` (whitespace-separated terms, AND-ed; `"exact"`, `*` wildcards, otherwise a prefix;
//! `id:...`), the field parameters (substring, or equal with `exact=true`), `enabled`,
//! `emailVerified`, and `q=name:value ...` attribute pairs. A search that cannot be served
//! (`idpAlias`, `idpUserId`: Portcullis has no identity brokering, so no user has a federated
//! identity) finds nobody; none ever falls back to every user.

use super::{like_literal, escape_like, AdminError, Page};
use crate::store::admin::UserFilter;

/// The most users one page returns, `max=-1` included: a bound on one request's work.
pub const MAX_USERS_PAGE: i64 = 10_000;

/// The query of `GET .../users` and `GET .../users/count`, as Keycloak names it.
#[derive(Debug, Clone, Default)]
pub struct UserSearch {
    pub search: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub enabled: Option<bool>,
    pub email_verified: Option<bool>,
    /// The field parameters match exactly (ignoring case) instead of as substrings.
    pub exact: Option<bool>,
    /// `name:value` pairs separated by spaces; names and values may be `"quoted"`.
    pub q: Option<String>,
    pub idp_alias: Option<String>,
    pub idp_user_id: Option<String>,
}

/// What a search asks of the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Nobody can match (e.g. an identity-provider search): answer `[]` / `0` without a query.
    Nobody,
    Filter(UserFilter),
}

/// One `search` term as Keycloak's JPA store reads it: `"x"` exact, otherwise `*` becomes a
/// wildcard and the pattern always ends with one (a prefix match).
pub fn search_term_pattern(term: &str) -> String {
    let term = term.to_lowercase();
    if term.len() >= 2 && term.starts_with('"') && term.ends_with('"') {
        return escape_like(&term[1..term.len() - 1]);
    }
    let mut pattern = escape_like(&term).replace('*', "%");
    if !pattern.ends_with('%') {
        pattern.push('%');
    }
    pattern
}

/// Keycloak's `q` syntax: `name:value` pairs separated by whitespace; a name or value in double
/// quotes may hold spaces and colons (`\"` and `\\` escape inside). `None` when it does not parse.
pub fn parse_q(q: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut chars = q.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(pairs);
        }
        let name = token(&mut chars, |c| c == ':')?;
        if chars.next() != Some(':') || name.is_empty() {
            return None;
        }
        let value = token(&mut chars, char::is_whitespace)?;
        pairs.push((name, value));
    }
}

/// A quoted token, or characters up to `end` (not consumed).
fn token(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, end: impl Fn(char) -> bool) -> Option<String> {
    let mut out = String::new();
    if chars.peek() == Some(&'"') {
        chars.next();
        loop {
            match chars.next()? {
                '\\' => out.push(chars.next()?),
                '"' => return Some(out),
                c => out.push(c),
            }
        }
    }
    while let Some(&c) = chars.peek() {
        if end(c) {
            break;
        }
        out.push(c);
        chars.next();
    }
    Some(out)
}

impl UserSearch {
    /// The store filter, following Keycloak's `UsersResource.getUsers`: `search` wins and is
    /// combined with `enabled` only; otherwise the field parameters, `q` and the flags, with
    /// service accounts included (as Keycloak does there); otherwise every regular user.
    /// `count` uses the same rules without service accounts and paging.
    pub fn plan(&self, page: Page, counting: bool) -> Result<Plan, AdminError> {
        let max = if page.max < 0 || page.max > MAX_USERS_PAGE { MAX_USERS_PAGE } else { page.max };
        let mut filter = UserFilter { first: page.first, max, ..UserFilter::default() };
        if let Some(search) = &self.search {
            let search = search.trim();
            if let Some(id) = search.strip_prefix("id:") {
                filter.id = Some(id.trim().to_string());
                filter.include_service_accounts = !counting;
            } else {
                filter.any = search.split_whitespace().map(search_term_pattern).collect();
            }
            filter.enabled = self.enabled;
            return Ok(Plan::Filter(filter));
        }
        if self.idp_alias.is_some() || self.idp_user_id.is_some() {
            return Ok(Plan::Nobody);
        }
        let exact = self.exact == Some(true);
        let field = |value: &Option<String>| {
            value.as_deref().map(|v| if exact { like_literal(v) } else { format!("%{}%", like_literal(v)) })
        };
        filter.username = field(&self.username);
        filter.email = field(&self.email);
        filter.first_name = field(&self.first_name);
        filter.last_name = field(&self.last_name);
        filter.enabled = self.enabled;
        filter.email_verified = self.email_verified;
        if let Some(q) = self.q.as_deref().filter(|q| !q.trim().is_empty()) {
            let pairs = parse_q(q).ok_or_else(|| {
                AdminError::bad_request("Invalid q: expected name:value pairs separated by spaces")
            })?;
            for (name, value) in pairs {
                // Keycloak merges q into the same map as the field parameters
                let like = || Some(if exact { like_literal(&value) } else { format!("%{}%", like_literal(&value)) });
                match name.as_str() {
                    "username" => filter.username = like(),
                    "email" => filter.email = like(),
                    "firstName" => filter.first_name = like(),
                    "lastName" => filter.last_name = like(),
                    _ => filter.attributes.push((name, value)),
                }
            }
        }
        let any_field = self.username.is_some()
            || self.email.is_some()
            || self.first_name.is_some()
            || self.last_name.is_some()
            || self.enabled.is_some()
            || self.email_verified.is_some()
            || self.exact.is_some()
            || !filter.attributes.is_empty()
            || self.q.is_some();
        filter.include_service_accounts = any_field && !counting;
        Ok(Plan::Filter(filter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_follow_keycloaks_jpa_rules() {
        assert_eq!(search_term_pattern("Al"), "al%");
        assert_eq!(search_term_pattern("*li"), "%li%");
        assert_eq!(search_term_pattern("a*e"), "a%e%");
        assert_eq!(search_term_pattern("\"Alice\""), "alice");
        assert_eq!(search_term_pattern("50%_off"), "50\\%\\_off%");
        assert_eq!(search_term_pattern("*"), "%");
    }

    #[test]
    fn q_reads_pairs_with_quotes() {
        assert_eq!(parse_q("dept:eng  level:7"), Some(vec![("dept".into(), "eng".into()), ("level".into(), "7".into())]));
        assert_eq!(parse_q(r#""full name":"Ada L" x:"a\"b""#), Some(vec![("full name".into(), "Ada L".into()), ("x".into(), "a\"b".into())]));
        assert_eq!(parse_q("url:http://x"), Some(vec![("url".into(), "http://x".into())]));
        assert_eq!(parse_q("garbage"), None);
        assert_eq!(parse_q(":v"), None);
        assert_eq!(parse_q("k:\"open"), None);
        assert_eq!(parse_q("   "), Some(vec![]));
    }

    #[test]
    fn identity_provider_searches_find_nobody() {
        let search = UserSearch { idp_alias: Some("github".into()), ..UserSearch::default() };
        assert_eq!(search.plan(Page::new(None, None), false).unwrap(), Plan::Nobody);
        let search = UserSearch { idp_user_id: Some("1".into()), username: Some("a".into()), ..UserSearch::default() };
        assert_eq!(search.plan(Page::new(None, None), true).unwrap(), Plan::Nobody);
    }
}
