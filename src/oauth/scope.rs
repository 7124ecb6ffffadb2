//! Scopes, as Keycloak selects them: a client always gets its default client scopes, and the
//! optional ones its `scope` parameter names; any other value is `invalid_scope`. `openid` is no
//! client scope: it makes the request OpenID Connect (an id token is issued). The token's
//! `scope` lists `openid` and the selected scopes whose `include.in.token.scope` is on.
//! A refresh (or a code exchange) selects again from the scope string it was granted, so a
//! scope unlinked since then is gone and a new default scope is there, as in Keycloak.

use std::sync::Arc;

use super::client_scopes::ClientScopeSet;
use super::OAuthError;
use crate::domain::scopes::ClientScope;

pub const OPENID: &str = "openid";
pub const OFFLINE_ACCESS: &str = "offline_access";

#[derive(Debug, Clone)]
pub struct Scope {
    openid: bool,
    /// The selected client scopes, ordered by name.
    selected: Vec<Arc<ClientScope>>,
}

impl Scope {
    /// Selects the scopes of a new grant; a value that names no scope of the client is
    /// `invalid_scope` (Keycloak: "Invalid scopes: ...").
    pub fn grant(offered: &ClientScopeSet, requested: Option<&str>) -> Result<Self, OAuthError> {
        let requested = requested.unwrap_or("");
        let unknown: Vec<&str> =
            requested.split_whitespace().filter(|s| *s != OPENID && offered.find(s).is_none()).collect();
        if !unknown.is_empty() {
            return Err(OAuthError::InvalidScope(format!("Invalid scopes: {}", unknown.join(" "))));
        }
        Ok(Self::select(offered, requested))
    }

    /// Selects again from a scope string granted earlier (a code's, a refresh token's): values
    /// that no longer name a scope of the client are dropped.
    pub fn regrant(offered: &ClientScopeSet, granted: &str) -> Self {
        Self::select(offered, granted)
    }

    fn select(offered: &ClientScopeSet, requested: &str) -> Self {
        let names: Vec<&str> = requested.split_whitespace().collect();
        let mut selected: Vec<Arc<ClientScope>> = offered.defaults.clone();
        selected.extend(offered.optional.iter().filter(|s| names.contains(&s.name.as_str())).cloned());
        selected.sort_by(|a, b| a.name.cmp(&b.name));
        selected.dedup_by(|a, b| a.id == b.id);
        Self { openid: names.contains(&OPENID), selected }
    }

    /// RFC 6749 §6: a refresh may narrow the scope, never widen it. Every value asked for must be
    /// in the scope granted (its token string).
    pub fn narrow(&self, offered: &ClientScopeSet, requested: Option<&str>) -> Result<Self, OAuthError> {
        let Some(requested) = requested else { return Ok(self.clone()) };
        let granted = self.as_string();
        let granted: Vec<&str> = granted.split_whitespace().collect();
        let extra: Vec<&str> = requested.split_whitespace().filter(|s| !granted.contains(s)).collect();
        if !extra.is_empty() {
            return Err(OAuthError::InvalidScope(format!("Invalid scopes: {}", extra.join(" "))));
        }
        Ok(Self::select(offered, requested))
    }

    /// Whether a client scope of this name is selected (`openid` counts too).
    pub fn contains(&self, scope: &str) -> bool {
        (scope == OPENID && self.openid) || self.selected.iter().any(|s| s.name == scope)
    }

    pub fn is_openid(&self) -> bool {
        self.openid
    }

    pub fn is_offline(&self) -> bool {
        self.contains(OFFLINE_ACCESS)
    }

    pub fn selected(&self) -> &[Arc<ClientScope>] {
        &self.selected
    }

    /// The token's `scope`: `openid` first, then the selected scopes included in token scope.
    pub fn as_string(&self) -> String {
        let included = self.selected.iter().filter(|s| s.include_in_token_scope()).map(|s| s.name.as_str());
        let openid = self.openid.then_some(OPENID);
        openid.into_iter().chain(included).collect::<Vec<_>>().join(" ")
    }

    /// Every selected scope by name, `openid` first: what a code and a consent record keep, so a
    /// selected optional scope left out of the token string is not lost.
    pub fn granted_string(&self) -> String {
        let openid = self.openid.then_some(OPENID);
        openid.into_iter().chain(self.selected.iter().map(|s| s.name.as_str())).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scopes::OPENID_CONNECT;

    fn scope(name: &str, in_token: bool) -> Arc<ClientScope> {
        Arc::new(ClientScope {
            id: format!("id-{name}"),
            realm_id: "r".into(),
            name: name.into(),
            description: None,
            protocol: OPENID_CONNECT.into(),
            attributes: [("include.in.token.scope".to_string(), in_token.to_string())].into(),
            mappers: vec![],
        })
    }

    fn offered() -> ClientScopeSet {
        ClientScopeSet {
            defaults: vec![scope("email", true), scope("profile", true), scope("roles", false)],
            optional: vec![scope("address", true), scope("offline_access", true), scope("hidden", false)],
            mappers: vec![],
        }
    }

    #[test]
    fn defaults_are_always_granted_optional_ones_on_request_and_openid_leads() {
        let offered = offered();
        assert_eq!(Scope::grant(&offered, Some("address openid")).unwrap().as_string(), "openid address email profile");
        assert_eq!(Scope::grant(&offered, None).unwrap().as_string(), "email profile");
        let hidden = Scope::grant(&offered, Some("hidden")).unwrap();
        assert!(hidden.contains("hidden") && !hidden.as_string().contains("hidden"));
        assert_eq!(hidden.granted_string(), "email hidden profile roles");
        assert!(Scope::regrant(&offered, &hidden.granted_string()).contains("hidden"));
    }

    #[test]
    fn values_that_name_no_scope_of_the_client_are_refused() {
        let error = Scope::grant(&offered(), Some("openid admin:all phone")).unwrap_err();
        assert_eq!(error.code(), "invalid_scope");
        assert_eq!(error.description(), Some("Invalid scopes: admin:all phone"));
        assert!(Scope::grant(&offered(), Some("email roles")).is_ok(), "a default scope may be named");
        assert!(!Scope::regrant(&offered(), "openid phone").contains("phone"), "a granted string is read leniently");
    }

    #[test]
    fn a_refresh_can_narrow_but_never_widen_the_scope() {
        let offered = offered();
        let granted = Scope::grant(&offered, Some("openid offline_access")).unwrap();
        assert!(!granted.narrow(&offered, Some("openid")).unwrap().is_offline());
        assert!(granted.narrow(&offered, None).unwrap().is_offline());
        let online = Scope::grant(&offered, Some("openid")).unwrap();
        assert_eq!(online.narrow(&offered, Some("offline_access")).unwrap_err().code(), "invalid_scope");
    }
}
