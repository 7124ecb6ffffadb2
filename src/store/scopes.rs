//! Where client scopes, protocol mappers, default scopes, client scope links and scope mappings
//! are stored (issue 15): the contract both backends meet. The SQL is in `scopes_sql.rs`, written
//! once and compiled into each backend's module with its own `Db` type (`include!`), so compiler
//! errors point at real lines. Records are `domain::scopes`'s; every method names the realm, so
//! no call can reach another realm's rows.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::scopes::{ClientScope, MapperContainer, ProtocolMapper, RealmScopes, ScopeHolder};

#[async_trait]
pub trait ScopeStore {
    /// The realm's whole scope model, read in one transaction (the realm cache's one call):
    /// client scopes by name with their mappers by name, client mappers, realm defaults, client
    /// links and scope mappings. An unknown realm reads as empty.
    async fn realm_scopes(&self, realm_id: &str) -> Result<RealmScopes, StoreError>;

    /// Creates the scope with its mappers in one transaction. `Conflict` when the realm has a
    /// scope of that name (or a mapper id is taken).
    async fn create_client_scope(&self, scope: &ClientScope) -> Result<(), StoreError>;

    /// Writes name, description, protocol and attributes (not the mappers). `Conflict` on a taken
    /// name; false when the realm has no scope with this id.
    async fn update_client_scope(&self, scope: &ClientScope) -> Result<bool, StoreError>;

    /// Deletes the scope, its mappers, links, defaults and scope mappings. False when absent.
    async fn delete_client_scope(&self, realm_id: &str, scope_id: &str) -> Result<bool, StoreError>;

    /// Adds mappers to a container of the realm, all or none. `Conflict` when the container has a
    /// mapper of one of the names (or an id is taken).
    async fn add_mappers(
        &self,
        realm_id: &str,
        container: &MapperContainer,
        mappers: &[ProtocolMapper],
    ) -> Result<(), StoreError>;

    /// Writes name, protocol, type and config of the container's mapper with `mapper.id`.
    /// `Conflict` on a name taken in the container; false when the container has no such mapper.
    async fn update_mapper(
        &self,
        realm_id: &str,
        container: &MapperContainer,
        mapper: &ProtocolMapper,
    ) -> Result<bool, StoreError>;

    /// False when the container has no mapper with this id.
    async fn delete_mapper(&self, realm_id: &str, container: &MapperContainer, id: &str) -> Result<bool, StoreError>;

    /// Makes the scope a realm default (`Some(true)`: default, `Some(false)`: optional), moving it
    /// if it was the other kind, or removes it (`None`). Removing an absent one is no error.
    async fn set_realm_default(&self, realm_id: &str, scope_id: &str, kind: Option<bool>) -> Result<(), StoreError>;

    /// The same for a client's link to a scope (internal ids of the realm's client and scope).
    async fn set_client_link(
        &self,
        realm_id: &str,
        client_id: &str,
        scope_id: &str,
        kind: Option<bool>,
    ) -> Result<(), StoreError>;

    /// Links the client to every realm default scope of `protocol` (as Keycloak does on client
    /// creation), keeping links it has.
    async fn link_realm_defaults(&self, realm_id: &str, client_id: &str, protocol: &str) -> Result<(), StoreError>;

    /// Adds (`add`) or removes scope mappings of a client or client scope of the realm; mappings
    /// that exist (or, removing, are absent) are left alone.
    async fn change_scope_mappings(
        &self,
        realm_id: &str,
        holder: &ScopeHolder,
        role_ids: &[String],
        add: bool,
    ) -> Result<(), StoreError>;

    /// Realms that existed before the scope tables (migration postgres 0009 / sqlite 0008) and
    /// have not yet received the built-in scopes.
    async fn scope_upgrades_pending(&self) -> Result<Vec<String>, StoreError>;

    /// Writes `scopes` into the realm and clears its pending mark, in one transaction; false
    /// (writing nothing) when the realm was no longer pending, e.g. another node did it first.
    async fn complete_scope_upgrade(&self, realm_id: &str, scopes: &RealmScopes) -> Result<bool, StoreError>;
}
