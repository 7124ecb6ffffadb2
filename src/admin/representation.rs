//! Wire shapes the admin API answers with, beyond the import/export ones it reuses from
//! `realm::representation`: sessions, consents, role mappings, events, and Keycloak's extra
//! read-only fields on users and clients. Times go out in milliseconds, as Keycloak writes them.
//! Conversions from domain records live here too, so every endpoint shows a record the same way.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::crypto::{MasterKey, SecretString};
use crate::domain::{Client, Realm, Role, User};
use crate::realm::representation::{
    ClientRepresentation, CredentialRepresentation, RealmRepresentation, RoleRepresentation,
    UserRepresentation,
};
use crate::store::admin::{AdminEventRecord, SessionListing};
use crate::store::{EventRecord, UserSessionRecord};

pub fn millis(seconds: i64) -> i64 {
    seconds.saturating_mul(1000)
}

pub fn realm_representation(realm: &Realm) -> RealmRepresentation {
    let mut rep = RealmRepresentation {
        id: Some(realm.id.clone()),
        realm: Some(realm.name.clone()),
        enabled: Some(realm.enabled),
        not_before: Some(realm.not_before),
        ..RealmRepresentation::default()
    };
    rep.set_settings(&realm.settings);
    rep
}

/// A user as `GET .../users/{id}` shows it: Keycloak's UserRepresentation plus the read-only
/// fields its clients expect to find (`totp` is false unless the caller sets it).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    #[serde(flatten)]
    pub user: UserRepresentation,
    pub totp: bool,
    pub disableable_credential_types: Vec<String>,
    pub not_before: i64,
}

/// Never carries credentials: events record this shape too.
pub fn user_representation(user: &User, clients: &[Client]) -> UserView {
    let service_account = user
        .service_account_client_id
        .as_ref()
        .and_then(|id| clients.iter().find(|c| &c.id == id))
        .map(|c| c.client_id.clone());
    UserView {
        user: UserRepresentation {
            id: Some(user.id.clone()),
            username: Some(user.username.clone()),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            enabled: Some(user.enabled),
            email_verified: Some(user.email_verified),
            created_timestamp: Some(millis(user.created_at)),
            service_account_client_id: service_account,
            required_actions: Some(user.required_actions.clone()),
            attributes: (!user.attributes.is_empty()).then(|| user.attributes.clone()),
            ..UserRepresentation::default()
        },
        totp: false,
        disableable_credential_types: Vec::new(),
        not_before: 0,
    }
}

/// A client as the admin API shows it. `secret` is the opened secret for callers who may read
/// it (Keycloak includes it too); admin events record the shape with `secret: None`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    #[serde(flatten)]
    pub client: ClientRepresentation,
}

pub fn client_representation(client: &Client, secret: Option<SecretString>) -> ClientView {
    ClientView { client: ClientRepresentation::from_client(client, secret) }
}

/// The client's secret in clear, when it has one that opens under the master key.
pub fn open_secret(master: &MasterKey, client: &Client) -> Option<SecretString> {
    let sealed = client.secret_sealed.as_ref()?;
    match master.open(sealed, &client.secret_aad()) {
        Ok(bytes) => String::from_utf8(bytes).ok().map(SecretString::new),
        Err(_) => {
            tracing::error!(client = %client.client_id, "client secret does not open under the master key");
            None
        }
    }
}

pub fn secret_credential(secret: Option<SecretString>) -> CredentialRepresentation {
    CredentialRepresentation {
        kind: Some("secret".into()),
        value: secret,
        ..CredentialRepresentation::default()
    }
}

pub fn role_representation(role: &Role) -> RoleRepresentation {
    RoleRepresentation {
        id: Some(role.id.clone()),
        name: Some(role.name.clone()),
        description: role.description.clone(),
        composite: Some(!role.composites.is_empty()),
        client_role: Some(role.client_role),
        container_id: Some(role.container_id.clone()),
        attributes: Some(role.attributes.clone()),
        ..RoleRepresentation::default()
    }
}

/// `GET .../users/{id}/role-mappings`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingsRepresentation {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub realm_mappings: Vec<RoleRepresentation>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub client_mappings: BTreeMap<String, ClientMappings>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientMappings {
    /// The client's internal id.
    pub id: String,
    /// Its `clientId`.
    pub client: String,
    pub mappings: Vec<RoleRepresentation>,
}

/// Keycloak's UserSessionRepresentation.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserSessionRepresentation {
    pub id: String,
    pub username: String,
    pub user_id: String,
    pub ip_address: Option<String>,
    pub start: i64,
    pub last_access: i64,
    pub remember_me: bool,
    /// `clientId` by the client's internal id.
    pub clients: BTreeMap<String, String>,
    pub transient_user: bool,
}

pub fn session_representation(
    session: &UserSessionRecord,
    username: &str,
    client_ids: &[String],
    clients: &[Client],
) -> UserSessionRepresentation {
    UserSessionRepresentation {
        id: session.id.clone(),
        username: username.to_string(),
        user_id: session.user_id.clone(),
        ip_address: session.ip.clone(),
        start: millis(session.started_at),
        last_access: millis(session.last_access_at),
        remember_me: session.remember_me,
        clients: client_ids
            .iter()
            .filter_map(|id| {
                clients.iter().find(|c| &c.id == id).map(|c| (c.id.clone(), c.client_id.clone()))
            })
            .collect(),
        transient_user: false,
    }
}

pub fn listing_representation(listing: &SessionListing, clients: &[Client]) -> UserSessionRepresentation {
    session_representation(&listing.session, &listing.username, &listing.client_ids, clients)
}

/// One entry of `GET .../users/{id}/consents`: a consent, or offline tokens, or both.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConsentRepresentation {
    pub client_id: String,
    pub granted_client_scopes: Vec<String>,
    pub created_date: Option<i64>,
    pub last_updated_date: Option<i64>,
    pub additional_grants: Vec<AdditionalGrant>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AdditionalGrant {
    pub client: String,
    pub key: String,
}

/// Keycloak's GlobalRequestResult: which adapters were told. There are none to tell here.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct GlobalRequestResult {
    pub success_requests: Vec<String>,
    pub failed_requests: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One entry of `GET .../client-session-stats`; Keycloak sends the counts as strings.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClientSessionStat {
    pub id: String,
    pub client_id: String,
    pub active: String,
    pub offline: String,
}

/// Keycloak's EventRepresentation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRepresentation {
    pub id: String,
    pub time: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub realm_id: String,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

pub fn event_representation(event: EventRecord) -> EventRepresentation {
    EventRepresentation {
        id: event.id,
        time: millis(event.time),
        kind: event.kind,
        realm_id: event.realm_id,
        client_id: event.client_id,
        user_id: event.user_id,
        session_id: event.session_id,
        ip_address: event.ip,
        error: event.error,
        details: event.details.and_then(|d| serde_json::from_str(&d).ok()),
    }
}

/// Keycloak's AdminEventRepresentation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminEventRepresentation {
    pub id: String,
    pub time: i64,
    pub realm_id: String,
    pub auth_details: AuthDetails,
    pub operation_type: String,
    pub resource_type: String,
    pub resource_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub representation: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthDetails {
    pub realm_id: Option<String>,
    pub user_id: Option<String>,
    pub ip_address: Option<String>,
}

pub fn admin_event_representation(event: AdminEventRecord) -> AdminEventRepresentation {
    AdminEventRepresentation {
        id: event.id,
        time: millis(event.time),
        realm_id: event.realm_id,
        auth_details: AuthDetails {
            realm_id: event.auth_realm_id,
            user_id: event.auth_user_id,
            ip_address: event.ip,
        },
        operation_type: event.operation,
        resource_type: event.resource_type,
        resource_path: event.resource_path,
        representation: event.representation,
    }
}

/// A representation as JSON for an admin event. Callers pass shapes without secrets.
pub fn to_event_json<T: Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}
