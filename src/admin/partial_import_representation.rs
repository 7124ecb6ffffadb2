//! The wire shapes of `POST /admin/realms/{realm}/partialImport` (`admin::partial_import`):
//! Keycloak's PartialImportRepresentation in, its PartialImportResults out, and the resource
//! types and actions those name. No behaviour beyond naming.

use serde::{Deserialize, Serialize};

use super::context::Resource;
use crate::realm::groups::GroupRepresentation;
use crate::realm::representation::{ClientRepresentation, RolesRepresentation, UserRepresentation};

/// Keycloak's PartialImportRepresentation. Other fields (a partial export's realm settings) are
/// ignored, as Keycloak's `@JsonIgnoreProperties(ignoreUnknown=true)` ignores them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PartialImportRepresentation {
    pub if_resource_exists: Option<String>,
    pub users: Option<Vec<UserRepresentation>>,
    pub groups: Option<Vec<GroupRepresentation>>,
    pub clients: Option<Vec<ClientRepresentation>>,
    pub identity_providers: Option<Vec<serde_json::Value>>,
    pub identity_provider_mappers: Option<Vec<serde_json::Value>>,
    pub roles: Option<RolesRepresentation>,
}

/// Keycloak's `PartialImportResults`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialImportResults {
    pub overwritten: usize,
    pub added: usize,
    pub skipped: usize,
    pub results: Vec<PartialImportResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialImportResult {
    pub action: Action,
    pub resource_type: ResourceType,
    pub resource_name: String,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    Added,
    Skipped,
    Overwritten,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceType {
    User,
    Client,
    Group,
    RealmRole,
    ClientRole,
}

impl ResourceType {
    /// Keycloak's `ResourceType.getPath()`, the admin events' path prefix (realm roles are
    /// `realms/{id}` there too).
    pub fn path(self) -> &'static str {
        match self {
            Self::User => "users",
            Self::Client | Self::ClientRole => "clients",
            Self::Group => "groups",
            Self::RealmRole => "realms",
        }
    }

    pub fn resource(self) -> Resource {
        match self {
            Self::User => Resource::User,
            Self::Client => Resource::Client,
            Self::Group => Resource::Group,
            Self::RealmRole => Resource::RealmRole,
            Self::ClientRole => Resource::ClientRole,
        }
    }
}
