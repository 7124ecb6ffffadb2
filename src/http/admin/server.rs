//! Realm-level and server-level admin resources beyond realm CRUD (issue 14): the schemas the
//! OpenAPI document names for them. Handlers stay thin over `crate::admin`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::extract::{no_content, Admin, Body, Params};
use super::openapi::{sample, schema_of};
use crate::admin::caches::{self, Cache};
use crate::admin::events::RealmEventsConfigRepresentation;
use crate::admin::{keys, AdminError};
use crate::app::AppState;

pub async fn serverinfo(State(state): State<AppState>, admin: Admin) -> Result<Response, AdminError> {
    Ok(Json(crate::admin::serverinfo::serverinfo(&admin.ctx(&state)).await?).into_response())
}

pub async fn whoami(State(state): State<AppState>, admin: Admin, Path(realm): Path<String>) -> Result<Response, AdminError> {
    Ok(Json(crate::admin::serverinfo::whoami(&admin.ctx(&state), &realm).await?).into_response())
}

pub async fn partial_export(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    params: Params,
) -> Result<Response, AdminError> {
    let clients = params.bool("exportClients")?.unwrap_or(false);
    let roles = params.bool("exportGroupsAndRoles")?.unwrap_or(false);
    let rep = crate::admin::partial_export::partial_export(&admin.ctx(&state), &realm, clients, roles).await?;
    Ok(Json(rep).into_response())
}

pub async fn partial_import(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Body(rep): Body<crate::admin::partial_import::PartialImportRepresentation>,
) -> Result<Response, AdminError> {
    Ok(Json(crate::admin::partial_import::partial_import(&admin.ctx(&state), &realm, rep).await?).into_response())
}

pub async fn keys(State(state): State<AppState>, admin: Admin, Path(realm): Path<String>) -> Result<Response, AdminError> {
    Ok(Json(keys::list(&admin.ctx(&state), &realm).await?).into_response())
}

pub async fn clear_realm_cache(State(state): State<AppState>, admin: Admin, Path(realm): Path<String>) -> Result<Response, AdminError> {
    caches::clear(&admin.ctx(&state), &realm, Cache::Realm).await?;
    Ok(no_content())
}

pub async fn clear_user_cache(State(state): State<AppState>, admin: Admin, Path(realm): Path<String>) -> Result<Response, AdminError> {
    caches::clear(&admin.ctx(&state), &realm, Cache::User).await?;
    Ok(no_content())
}

pub async fn clear_keys_cache(State(state): State<AppState>, admin: Admin, Path(realm): Path<String>) -> Result<Response, AdminError> {
    caches::clear(&admin.ctx(&state), &realm, Cache::Keys).await?;
    Ok(no_content())
}

/// The representations of these resources, for the OpenAPI document.
pub fn schemas() -> Vec<(&'static str, Value)> {
    let events_config = RealmEventsConfigRepresentation {
        events_enabled: Some(true),
        events_expiration: Some(3600),
        events_listeners: Some(vec!["jboss-logging".into()]),
        enabled_event_types: Some(vec!["LOGIN".into()]),
        admin_events_enabled: Some(true),
        admin_events_details_enabled: Some(true),
    };
    let keys = keys::metadata(&[crate::store::SigningKeyRecord {
        kid: "kid".into(),
        realm_id: "realm".into(),
        algorithm: "ES256".into(),
        status: crate::store::KeyStatus::Active,
        public_jwk: Some(r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#.into()),
        private_sealed: Vec::new(),
        created_at: 0,
        publish_until: Some(0),
    }]);
    vec![
        ("RealmEventsConfigRepresentation", schema_of(&sample(&events_config))),
        ("KeysMetadataRepresentation", schema_of(&sample(&keys))),
        ("PartialImportRepresentation", schema_of(&serde_json::json!({
            "ifResourceExists": "FAIL", "clients": [{}], "roles": {"realm": [{}], "client": {}}, "groups": [{}], "users": [{}],
        }))),
        ("PartialImportResults", schema_of(&serde_json::json!({
            "overwritten": 0, "added": 1, "skipped": 0,
            "results": [{"action": "ADDED", "resourceType": "CLIENT", "resourceName": "app", "id": "id"}],
        }))),
    ]
}
