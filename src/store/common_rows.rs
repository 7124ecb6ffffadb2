//! The rows `impl_common_store!` reads (realms, signing keys, clients, users, credentials, roles)
//! and their conversion into domain records, with the column lists and JSON helpers they share.
//! Kept apart from the macro so each file reads in one sitting.

use std::collections::BTreeMap;

use super::{KeyStatus, SigningKeyRecord, StoreError};
use crate::domain::{Client, Credential, Realm, RealmSettings, User};

pub(crate) fn map_unique(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.constraint().map(str::to_string).unwrap_or_else(|| db.message().to_string()))
        }
        _ => StoreError::Database(e),
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RealmRow {
    id: String,
    name: String,
    enabled: bool,
    not_before: i64,
    settings: String,
    created_at: i64,
}

impl TryFrom<RealmRow> for Realm {
    type Error = StoreError;
    fn try_from(row: RealmRow) -> Result<Self, StoreError> {
        let settings: RealmSettings = serde_json::from_str(&row.settings)
            .map_err(|e| StoreError::Corrupt(format!("settings of realm {}: {e}", row.name)))?;
        Ok(Realm {
            id: row.id,
            name: row.name,
            enabled: row.enabled,
            not_before: row.not_before,
            settings,
            created_at: row.created_at,
        })
    }
}

pub(crate) fn settings_json(realm: &Realm) -> String {
    serde_json::to_string(&realm.settings).expect("realm settings always serialise")
}

#[derive(sqlx::FromRow)]
pub(crate) struct KeyRow {
    kid: String,
    realm_id: String,
    algorithm: String,
    status: String,
    public_jwk: Option<String>,
    private_sealed: Vec<u8>,
    created_at: i64,
    publish_until: Option<i64>,
}

impl TryFrom<KeyRow> for SigningKeyRecord {
    type Error = StoreError;
    fn try_from(row: KeyRow) -> Result<Self, StoreError> {
        let status = match row.status.as_str() {
            "active" => KeyStatus::Active,
            "passive" => KeyStatus::Passive,
            other => return Err(StoreError::Corrupt(format!("key {} has status {other}", row.kid))),
        };
        Ok(SigningKeyRecord {
            kid: row.kid,
            realm_id: row.realm_id,
            algorithm: row.algorithm,
            status,
            public_jwk: row.public_jwk,
            private_sealed: row.private_sealed,
            created_at: row.created_at,
            publish_until: row.publish_until,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClientRow {
    id: String,
    realm_id: String,
    client_id: String,
    name: Option<String>,
    enabled: bool,
    public_client: bool,
    bearer_only: bool,
    secret_sealed: Option<Vec<u8>>,
    redirect_uris: String,
    web_origins: String,
    standard_flow_enabled: bool,
    direct_access_grants_enabled: bool,
    service_accounts_enabled: bool,
    consent_required: bool,
    full_scope_allowed: bool,
    attributes: String,
    settings: String,
    created_at: i64,
}

fn json_column<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("lists and string maps always serialise")
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;
    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        let attributes: BTreeMap<String, String> = json_column("client attributes", &row.attributes)?;
        Ok(Client {
            redirect_uris: json_column("client redirect uris", &row.redirect_uris)?,
            web_origins: json_column("client web origins", &row.web_origins)?,
            attributes,
            settings: json_column("client settings", &row.settings)?,
            id: row.id,
            realm_id: row.realm_id,
            client_id: row.client_id,
            name: row.name,
            enabled: row.enabled,
            public_client: row.public_client,
            bearer_only: row.bearer_only,
            secret_sealed: row.secret_sealed,
            standard_flow_enabled: row.standard_flow_enabled,
            direct_access_grants_enabled: row.direct_access_grants_enabled,
            service_accounts_enabled: row.service_accounts_enabled,
            consent_required: row.consent_required,
            full_scope_allowed: row.full_scope_allowed,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    realm_id: String,
    username: String,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    enabled: bool,
    email_verified: bool,
    service_account_client_id: Option<String>,
    created_at: i64,
    required_actions: String,
    /// `[[name, value], ...]` from the backend's aggregate (`store::users::UserSql`).
    attributes: Option<String>,
}

/// A JSON array of strings as stored in a TEXT column; anything else reads as empty (and is
/// logged), since a column written by this code cannot hold anything else.
pub(crate) fn string_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a stored string list is not a JSON array of strings");
        Vec::new()
    })
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            required_actions: string_list(&row.required_actions),
            attributes: super::users::parse_attributes(row.attributes.as_deref()),
            id: row.id,
            realm_id: row.realm_id,
            username: row.username,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            enabled: row.enabled,
            email_verified: row.email_verified,
            service_account_client_id: row.service_account_client_id,
            created_at: row.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialRow {
    id: String,
    user_id: String,
    #[sqlx(rename = "type")]
    kind: String,
    secret_data: String,
    credential_data: String,
    created_at: i64,
    user_label: Option<String>,
    priority: i64,
}

/// The columns of a `CredentialRow`, for a table aliased `c`.
pub(crate) const CREDENTIAL_COLUMNS: &str =
    "c.id, c.user_id, c.type, c.secret_data, c.credential_data, c.created_at, c.user_label, c.priority";

impl From<CredentialRow> for Credential {
    fn from(row: CredentialRow) -> Self {
        Credential {
            id: row.id,
            user_id: row.user_id,
            kind: row.kind,
            secret_data: row.secret_data,
            credential_data: row.credential_data,
            created_at: row.created_at,
            user_label: row.user_label,
            priority: row.priority,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RoleRow {
    pub id: String,
    pub realm_id: String,
    pub container_id: String,
    pub client_role: bool,
    pub name: String,
    pub description: Option<String>,
    pub attributes: String,
}

/// Role attributes as stored: a JSON object of string arrays.
pub(crate) fn role_attributes(row_id: &str, text: &str) -> Result<BTreeMap<String, Vec<String>>, StoreError> {
    json_column(&format!("attributes of role {row_id}"), text)
}

pub(crate) const CLIENT_COLUMNS: &str = "id, realm_id, client_id, name, enabled, public_client, bearer_only, secret_sealed, redirect_uris, web_origins, standard_flow_enabled, direct_access_grants_enabled, service_accounts_enabled, consent_required, full_scope_allowed, attributes, settings, created_at";
