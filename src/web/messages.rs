//! Keycloak's message keys that realm data carries (`${profileScopeConsentText}` as a client
//! scope's consent text, from a new realm or a Keycloak export), resolved to the English texts
//! of Keycloak's `messages_en.properties`. A key Portcullis does not know shows as its name, not
//! as `${...}`; plain text shows as it is.

/// The text for `value`: a known `${key}`, the bare key of an unknown one, or `value` itself.
pub fn resolve(value: &str) -> &str {
    let Some(key) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) else { return value };
    match key {
        "profileScopeConsentText" => "User profile",
        "emailScopeConsentText" => "Email address",
        "addressScopeConsentText" => "Address",
        "phoneScopeConsentText" => "Phone number",
        "offlineAccessScopeConsentText" => "Offline Access",
        "rolesScopeConsentText" => "User roles",
        "organizationScopeConsentText" => "Organization",
        "samlRoleListScopeConsentText" => "My Roles",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn keys_resolve_and_plain_text_stays() {
        assert_eq!(resolve("${profileScopeConsentText}"), "User profile");
        assert_eq!(resolve("${myOwnText}"), "myOwnText");
        assert_eq!(resolve("Read your calendar"), "Read your calendar");
        assert_eq!(resolve("${"), "${");
    }
}
