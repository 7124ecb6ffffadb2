//! Realms as units of administration: creating a realm with Keycloak's default roles and fresh
//! keys, importing and exporting Keycloak realm JSON, rotating keys, and the in-memory cache of
//! realm settings and parsed keys that every request reads (DESIGN.md §4).

pub mod builtin_scopes;
pub mod cache;
pub mod defaults;
pub mod export;
pub mod groups;
pub mod export_scopes;
pub mod import;
pub mod import_scopes;
pub mod representation;
pub mod scope_representation;
pub mod service;
pub mod service_accounts;
pub mod signing_keys;
pub mod smtp;

pub use cache::{RealmCache, RealmContext};
