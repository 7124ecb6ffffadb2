//! The records the server reasons about (realms, clients, users, roles, keys), free of HTTP and
//! SQL. Input from the edge becomes these types; the store persists them as they are.

pub mod client;
pub mod client_logout;
pub mod group;
pub mod realm;
pub mod required_actions;
pub mod scopes;
pub mod user;

pub use client::{Client, ClientSettings};
pub use group::Group;
pub use realm::{Realm, RealmSettings, SignatureAlgorithm};
pub use user::{Credential, Role, User, CHECKED_CREDENTIAL_TYPES, UPDATE_PASSWORD};

/// A new random identifier in Keycloak's form (a UUID string).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
