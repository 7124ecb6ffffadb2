//! The admin part of the storage interface: what Keycloak's Admin REST API needs beyond the
//! token path (listing, searching, updating and deleting realms, clients, users, roles,
//! sessions, consents and admin events).

use async_trait::async_trait;

#[async_trait]
pub trait AdminStore {}
