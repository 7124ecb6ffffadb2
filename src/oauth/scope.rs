//! Scopes: what a client may ask for and what it is granted. Like Keycloak's default client
//! scopes, `profile` and `email` are always granted; `openid` makes the request OpenID Connect
//! (an id token is issued); `offline_access` asks for an offline token.

use super::OAuthError;

pub const OPENID: &str = "openid";
pub const OFFLINE_ACCESS: &str = "offline_access";

/// Keycloak's built-in client scopes: accepted; the ones that change our tokens are above.
const KNOWN: &[&str] = &[
    "openid", "profile", "email", "offline_access", "roles", "web-origins", "acr", "basic", "address",
    "phone", "microprofile-jwt", "organization",
];
const DEFAULTS: &[&str] = &["profile", "email"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(Vec<String>);

impl Scope {
    /// Parses a requested scope; unknown values are `invalid_scope` (Keycloak: "Invalid scopes").
    pub fn grant(requested: Option<&str>) -> Result<Self, OAuthError> {
        let requested: Vec<&str> = requested.unwrap_or("").split_whitespace().collect();
        let unknown: Vec<&str> = requested.iter().copied().filter(|s| !KNOWN.contains(s)).collect();
        if !unknown.is_empty() {
            return Err(OAuthError::InvalidScope(format!("Invalid scopes: {}", unknown.join(" "))));
        }
        let mut scopes: Vec<String> = Vec::new();
        let mut add = |s: &str| {
            if !scopes.iter().any(|have| have == s) {
                scopes.push(s.to_string());
            }
        };
        if requested.contains(&OPENID) {
            add(OPENID);
        }
        DEFAULTS.iter().for_each(|s| add(s));
        requested.iter().for_each(|s| add(s));
        Ok(Self(scopes))
    }

    pub fn parse_granted(text: &str) -> Self {
        Self(text.split_whitespace().map(str::to_string).collect())
    }

    /// RFC 6749 §6: a refresh may narrow the scope, never widen it.
    pub fn narrow(&self, requested: Option<&str>) -> Result<Self, OAuthError> {
        let Some(requested) = requested else { return Ok(self.clone()) };
        let asked = Scope::grant(Some(requested))?;
        if let Some(extra) = asked.0.iter().find(|s| !self.contains(s)) {
            return Err(OAuthError::InvalidScope(format!("Invalid scopes: {extra}")));
        }
        Ok(asked)
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    pub fn is_openid(&self) -> bool {
        self.contains(OPENID)
    }

    pub fn is_offline(&self) -> bool {
        self.contains(OFFLINE_ACCESS)
    }

    pub fn as_string(&self) -> String {
        self.0.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_always_granted_and_openid_leads() {
        assert_eq!(Scope::grant(Some("email openid")).unwrap().as_string(), "openid profile email");
        assert_eq!(Scope::grant(None).unwrap().as_string(), "profile email");
    }

    #[test]
    fn unknown_scopes_are_refused() {
        assert_eq!(Scope::grant(Some("openid admin:all")).unwrap_err().code(), "invalid_scope");
    }

    #[test]
    fn a_refresh_cannot_widen_the_scope() {
        let granted = Scope::grant(Some("openid")).unwrap();
        assert!(granted.narrow(Some("openid")).is_ok());
        assert_eq!(granted.narrow(Some("offline_access")).unwrap_err().code(), "invalid_scope");
    }
}
