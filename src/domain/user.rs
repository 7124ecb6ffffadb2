//! Users, their credentials and roles. Usernames are stored lower-cased, as Keycloak does.

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub realm_id: String,
    pub username: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub enabled: bool,
    pub email_verified: bool,
    /// Set for the service-account user of a client (client_credentials grant).
    pub service_account_client_id: Option<String>,
    pub created_at: i64,
    /// Keycloak's required actions (`UPDATE_PASSWORD`, `CONFIGURE_TOTP`, ...) the user must
    /// complete before tokens are issued. Portcullis cannot run them yet, so a user with any
    /// pending is refused at login, never let through (issue 13 item 24).
    pub required_actions: Vec<String>,
}

/// The required action a temporary password sets (Keycloak's provider id).
pub const UPDATE_PASSWORD: &str = "UPDATE_PASSWORD";

/// Credential types that are not a factor of their own: the password itself, and Keycloak's
/// record of earlier passwords. Any other type (otp, webauthn, ...) is a factor Portcullis
/// cannot check yet, and its holder is refused at login (issue 13 item 25).
pub const CHECKED_CREDENTIAL_TYPES: &[&str] = &["password", "password-history"];

impl User {
    /// Adds or removes `UPDATE_PASSWORD`, as a temporary or a permanent password does.
    pub fn set_temporary_password(&mut self, temporary: bool) {
        self.required_actions.retain(|a| a != UPDATE_PASSWORD);
        if temporary {
            self.required_actions.push(UPDATE_PASSWORD.to_string());
        }
    }
}

/// A stored credential. For passwords hashed here, `secret_data` is an argon2id PHC string;
/// credentials imported from Keycloak keep Keycloak's `secretData`/`credentialData` JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub secret_data: String,
    pub credential_data: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub id: String,
    pub realm_id: String,
    /// The realm id for realm roles, the client's internal id for client roles.
    pub container_id: String,
    pub client_role: bool,
    pub name: String,
    pub description: Option<String>,
    /// Ids of the roles this composite role includes.
    pub composites: Vec<String>,
    /// Keycloak's role attributes: each name holds a list of values.
    pub attributes: std::collections::BTreeMap<String, Vec<String>>,
}

impl Role {
    pub fn realm_role(realm_id: &str, name: &str, description: Option<&str>) -> Self {
        Self {
            id: super::new_id(),
            realm_id: realm_id.into(),
            container_id: realm_id.into(),
            client_role: false,
            name: name.into(),
            description: description.map(Into::into),
            composites: Vec::new(),
            attributes: std::collections::BTreeMap::new(),
        }
    }
}
