//! Where a client wants to hear that a session ended: Keycloak's back-channel and front-channel
//! logout attributes (OIDC Back-Channel Logout 1.0 §2.2, Front-Channel Logout 1.0 §2), read and
//! validated in one place so the admin API, the realm import and the notifier agree.

use url::Url;

use super::Client;

pub const BACKCHANNEL_URL: &str = "backchannel.logout.url";
pub const BACKCHANNEL_SESSION_REQUIRED: &str = "backchannel.logout.session.required";
pub const BACKCHANNEL_REVOKE_OFFLINE: &str = "backchannel.logout.revoke.offline.tokens";
pub const FRONTCHANNEL_URL: &str = "frontchannel.logout.url";
pub const FRONTCHANNEL_SESSION_REQUIRED: &str = "frontchannel.logout.session.required";

impl Client {
    /// The resolved back-channel logout URL (relative ones against `rootUrl`, as Keycloak's
    /// `ResolveRelative`), `None` when the client names none or it does not resolve.
    pub fn backchannel_logout_url(&self) -> Option<Url> {
        self.logout_url(BACKCHANNEL_URL)
    }

    /// Whether logout tokens carry `sid` (Keycloak: on unless the attribute says `false`).
    pub fn backchannel_logout_session_required(&self) -> bool {
        !self.attribute_is_false(BACKCHANNEL_SESSION_REQUIRED)
    }

    /// Whether a session's end also ends the user's offline sessions with this client.
    pub fn backchannel_logout_revokes_offline_tokens(&self) -> bool {
        self.attributes.get(BACKCHANNEL_REVOKE_OFFLINE).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// The front-channel logout URL when `frontchannelLogout` is on: the attribute, else the
    /// client's `baseUrl` (Keycloak's fallback), resolved against `rootUrl`.
    pub fn frontchannel_logout_url(&self) -> Option<Url> {
        if !self.settings.frontchannel_logout {
            return None;
        }
        self.logout_url(FRONTCHANNEL_URL).or_else(|| {
            let base = self.settings.base_url.as_deref().filter(|b| !b.trim().is_empty())?;
            resolve(self.settings.root_url.as_deref(), base)
        })
    }

    /// Whether the front-channel URL gets `iss` and `sid` (Keycloak: on unless `false`).
    pub fn frontchannel_logout_session_required(&self) -> bool {
        !self.attribute_is_false(FRONTCHANNEL_SESSION_REQUIRED)
    }

    /// The first logout URL attribute that is not an http(s) URL, with why.
    pub fn invalid_logout_url(&self) -> Option<(&'static str, String)> {
        [BACKCHANNEL_URL, FRONTCHANNEL_URL].into_iter().find_map(|attribute| {
            let value = self.attributes.get(attribute).map(|v| v.trim()).filter(|v| !v.is_empty())?;
            match resolve(self.settings.root_url.as_deref(), value) {
                Some(_) => None,
                None if value.starts_with('/') => Some((attribute, format!("{value:?} is relative and the client has no http(s) rootUrl"))),
                None => Some((attribute, format!("{value:?} is not an absolute http or https URL without a fragment"))),
            }
        })
    }

    fn logout_url(&self, attribute: &str) -> Option<Url> {
        let value = self.attributes.get(attribute).map(|v| v.trim()).filter(|v| !v.is_empty())?;
        resolve(self.settings.root_url.as_deref(), value)
    }

    fn attribute_is_false(&self, attribute: &str) -> bool {
        self.attributes.get(attribute).is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
    }
}

/// An absolute http(s) URL without fragment or credentials; a path (`/...`) is resolved against
/// the root URL.
fn resolve(root: Option<&str>, value: &str) -> Option<Url> {
    let url = if value.starts_with('/') {
        let root = Url::parse(root?.trim()).ok()?;
        root.join(value).ok()?
    } else {
        Url::parse(value).ok()?
    };
    let acceptable = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    acceptable.then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(attributes: &[(&str, &str)], root: Option<&str>) -> Client {
        let mut client = Client {
            public_client: false,
            attributes: attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Client::for_tests("app")
        };
        client.settings.root_url = root.map(str::to_string);
        client
    }

    #[test]
    fn an_absolute_http_url_is_used_as_given_and_a_path_is_resolved_against_the_root_url() {
        let absolute = client(&[(BACKCHANNEL_URL, "https://app.example/logout")], None);
        assert_eq!(absolute.backchannel_logout_url().unwrap().as_str(), "https://app.example/logout");
        let relative = client(&[(BACKCHANNEL_URL, "/bcl")], Some("http://app.example:8080/base/"));
        assert_eq!(relative.backchannel_logout_url().unwrap().as_str(), "http://app.example:8080/bcl");
        assert_eq!(client(&[(BACKCHANNEL_URL, "")], None).backchannel_logout_url(), None);
    }

    #[test]
    fn other_schemes_fragments_credentials_and_unrooted_paths_are_invalid() {
        for value in ["javascript:alert(1)", "file:///etc/passwd", "https://a.example/x#f", "https://u:p@a.example/", "not a url", "/bcl"] {
            let c = client(&[(BACKCHANNEL_URL, value)], None);
            assert!(c.invalid_logout_url().is_some(), "{value}");
            assert_eq!(c.backchannel_logout_url(), None, "{value}");
        }
        assert!(client(&[(FRONTCHANNEL_URL, "ftp://a.example/")], None).invalid_logout_url().is_some());
        assert_eq!(client(&[(BACKCHANNEL_URL, "http://127.0.0.1:9/x")], None).invalid_logout_url(), None);
    }

    #[test]
    fn session_required_defaults_to_true_and_revoke_offline_to_false() {
        let c = client(&[], None);
        assert!(c.backchannel_logout_session_required() && c.frontchannel_logout_session_required());
        assert!(!c.backchannel_logout_revokes_offline_tokens());
        let c = client(&[(BACKCHANNEL_SESSION_REQUIRED, "false"), (BACKCHANNEL_REVOKE_OFFLINE, "true")], None);
        assert!(!c.backchannel_logout_session_required() && c.backchannel_logout_revokes_offline_tokens());
    }

    #[test]
    fn the_front_channel_url_needs_frontchannel_logout_and_falls_back_to_the_base_url() {
        let mut c = client(&[(FRONTCHANNEL_URL, "https://app.example/fcl")], None);
        assert_eq!(c.frontchannel_logout_url(), None);
        c.settings.frontchannel_logout = true;
        assert_eq!(c.frontchannel_logout_url().unwrap().as_str(), "https://app.example/fcl");
        c.attributes.clear();
        c.settings.base_url = Some("/home".into());
        c.settings.root_url = Some("https://app.example".into());
        assert_eq!(c.frontchannel_logout_url().unwrap().as_str(), "https://app.example/home");
    }
}
