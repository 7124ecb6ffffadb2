//! Form-encoded request bodies (RFC 6749 §3.2, Appendix B) parsed strictly: a parameter given
//! twice is `invalid_request`, and empty values count as absent (python-keycloak sends
//! `code=&redirect_uri=` with a password grant). Only `audience` and `resource` may repeat
//! (RFC 8693 §2.1, as Keycloak's token exchange allows); `get` gives their first value.

use std::collections::HashMap;

use super::OAuthError;

#[derive(Debug, Default, Clone)]
pub struct FormParams {
    values: HashMap<String, String>,
    /// Every non-empty value of the parameters that may repeat, in order.
    repeated: Vec<(String, String)>,
}

/// The parameters that may be given more than once.
const REPEATABLE: [&str; 2] = ["audience", "resource"];

impl FormParams {
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut values = HashMap::new();
        let mut repeated = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (key, value) in form_urlencoded::parse(body) {
            // RFC 6749 Appendix A: no parameter may hold %x00 (and Postgres text cannot)
            if key.contains('\0') || value.contains('\0') {
                return Err(OAuthError::InvalidRequest("Parameters may not contain NUL characters".into()));
            }
            let repeatable = REPEATABLE.contains(&key.as_ref());
            if !seen.insert(key.to_string()) && !repeatable {
                return Err(OAuthError::InvalidRequest(format!("duplicated parameter: {key}")));
            }
            if !value.is_empty() {
                if repeatable {
                    repeated.push((key.to_string(), value.to_string()));
                }
                values.entry(key.into_owned()).or_insert_with(|| value.into_owned());
            }
        }
        Ok(Self { values, repeated })
    }

    /// The value when present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Every non-empty value of a parameter that may repeat (`audience`, `resource`), in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.repeated.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every non-empty parameter (the first value of a repeated one), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value, or Keycloak's `Missing parameter: {name}`.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::InvalidRequest(format!("Missing parameter: {name}")))
    }
}

/// RFC 6749 requires `application/x-www-form-urlencoded` for token, revoke and introspect.
pub fn require_form_content_type(content_type: Option<&str>) -> Result<(), OAuthError> {
    let is_form = content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if is_form {
        Ok(())
    } else {
        Err(OAuthError::InvalidRequest("Content-Type must be application/x-www-form-urlencoded".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_parameter_is_invalid() {
        let err = FormParams::parse(b"grant_type=password&grant_type=refresh_token").unwrap_err();
        assert_eq!(err.code(), "invalid_request");
    }

    #[test]
    fn audience_and_resource_may_repeat() {
        let form = FormParams::parse(b"audience=a&audience=b&resource=r&audience=&scope=x").unwrap();
        assert_eq!(form.all("audience").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(form.get("audience"), Some("a"));
        assert_eq!(form.all("scope").count(), 0, "only the repeatable ones are listed");
        assert!(FormParams::parse(b"scope=a&scope=b").is_err());
    }

    #[test]
    fn a_nul_character_is_invalid() {
        for body in [&b"username=a%00b"[..], b"us%00er=a", b"username=\0"] {
            assert_eq!(FormParams::parse(body).unwrap_err().code(), "invalid_request");
        }
    }

    #[test]
    fn empty_values_are_absent() {
        let form = FormParams::parse(b"grant_type=password&code=&redirect_uri=&username=a%2Bb").unwrap();
        assert_eq!(form.get("code"), None);
        assert_eq!(form.get("username"), Some("a+b"));
        assert_eq!(form.require("password").unwrap_err().description(), Some("Missing parameter: password"));
    }

    #[test]
    fn content_type_parameters_are_allowed() {
        assert!(require_form_content_type(Some("application/x-www-form-urlencoded; charset=UTF-8")).is_ok());
        assert!(require_form_content_type(Some("application/json")).is_err());
        assert!(require_form_content_type(None).is_err());
    }
}
