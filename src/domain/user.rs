//! Users, their credentials and roles. Usernames are stored lower-cased, as Keycloak does.

use std::collections::BTreeMap;

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
    /// Keycloak's user attributes: each a list of strings (one row per value in the store),
    /// loaded with the user in the same statement, so token mappers need no second read.
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// The required action a temporary password sets (Keycloak's provider id).
pub const UPDATE_PASSWORD: &str = "UPDATE_PASSWORD";

/// Credential types the login checks (or that are not a factor of their own): the password,
/// Keycloak's record of earlier passwords, and `otp` (issue 17: `crate::users::otp`). Any other
/// type (webauthn, ...) is a factor Portcullis cannot check yet, and its holder is refused at
/// login (issue 13 item 25).
pub const CHECKED_CREDENTIAL_TYPES: &[&str] = &["password", "password-history", "otp"];

impl User {
    /// The service-account user of `client_id` (an internal client id), as the admin API and a
    /// realm import create it: enabled, no e-mail or names, no required actions.
    pub fn service_account(realm_id: &str, client_id: &str, username: String, now: i64) -> Self {
        Self {
            id: super::new_id(),
            realm_id: realm_id.into(),
            username,
            email: None,
            first_name: None,
            last_name: None,
            enabled: true,
            email_verified: false,
            service_account_client_id: Some(client_id.into()),
            created_at: now,
            required_actions: Vec::new(),
            attributes: BTreeMap::new(),
        }
    }

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
    /// Keycloak's `userLabel`, shown in the admin console and account page.
    pub user_label: Option<String>,
    /// Keycloak's order of a user's credentials: lower first; a new one goes last.
    pub priority: i64,
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

/// Bounds on a user's attributes. Keycloak stores names in a 255-character column; values and
/// counts are bounded here so that one request's work is (one row is written per value).
pub const MAX_ATTRIBUTE_NAME: usize = 255;
pub const MAX_ATTRIBUTE_VALUE: usize = 8192;
pub const MAX_ATTRIBUTE_VALUES: usize = 200;

/// Why a set of attributes cannot be stored; the text names the attribute, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    #[error("An attribute name must not be empty")]
    EmptyName,
    #[error("Attribute name {0:?} is longer than 255 characters")]
    NameTooLong(String),
    #[error("A value of attribute {0:?} is longer than 8192 characters")]
    ValueTooLong(String),
    #[error("A user can hold at most 200 attribute values")]
    TooMany,
}

/// Checks attributes against the bounds above. Empty lists are allowed (they store nothing).
pub fn check_attributes(attributes: &BTreeMap<String, Vec<String>>) -> Result<(), AttributeError> {
    let mut count = 0;
    for (name, values) in attributes {
        if name.trim().is_empty() {
            return Err(AttributeError::EmptyName);
        }
        if name.chars().count() > MAX_ATTRIBUTE_NAME {
            return Err(AttributeError::NameTooLong(name.chars().take(40).collect()));
        }
        if values.iter().any(|v| v.chars().count() > MAX_ATTRIBUTE_VALUE) {
            return Err(AttributeError::ValueTooLong(name.clone()));
        }
        count += values.len();
    }
    if count > MAX_ATTRIBUTE_VALUES {
        return Err(AttributeError::TooMany);
    }
    Ok(())
}
