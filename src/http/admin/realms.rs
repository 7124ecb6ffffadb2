//! `/admin/realms` and `/admin/realms/{realm}`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{check_known_fields, created, no_content, parse_json, Admin, KnownFields, Strict, Text};
use crate::admin::{realms, AdminError};
use crate::app::AppState;
use crate::realm::representation::{RealmRepresentation, REALM_REPRESENTATION_FIELDS};

impl KnownFields for RealmRepresentation {
    const CLASS: &'static str = "org.keycloak.representations.idm.RealmRepresentation";
    const FIELDS: &'static [&'static str] = REALM_REPRESENTATION_FIELDS;
}

pub async fn list(State(state): State<AppState>, admin: Admin) -> Result<Response, AdminError> {
    Ok(Json(realms::list(&admin.ctx(&state)).await?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Text(body): Text,
) -> Result<Response, AdminError> {
    // Keycloak's Jackson reads the body first: unparsable JSON and unknown top-level fields are
    // refused before any check of the realm itself.
    let value: serde_json::Value = parse_json(body.as_bytes())?;
    check_known_fields::<RealmRepresentation>(&value)?;
    let name = realms::create(&admin.ctx(&state), &body).await?;
    Ok(created(&admin.location(&[&name])))
}

pub async fn get(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    Ok(Json(realms::get(&admin.ctx(&state), &realm).await?).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Strict(rep): Strict<RealmRepresentation>,
) -> Result<Response, AdminError> {
    realms::update(&admin.ctx(&state), &realm, rep).await?;
    Ok(no_content())
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    realms::delete(&admin.ctx(&state), &realm).await?;
    Ok(no_content())
}

/// `POST .../testSMTPConnection`: the body is Keycloak's `smtpServer` map; booleans and numbers
/// are taken as the admin console sends them, as strings or as JSON values.
pub async fn test_smtp_connection(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Text(body): Text,
) -> Result<Response, AdminError> {
    let values: std::collections::BTreeMap<String, serde_json::Value> = parse_json(body.as_bytes())?;
    let settings = values
        .into_iter()
        .filter_map(|(key, value)| match value {
            serde_json::Value::String(text) => Some((key, text)),
            serde_json::Value::Null => None,
            other => Some((key, other.to_string())),
        })
        .collect();
    crate::admin::user_mail::test_smtp_connection(&admin.ctx(&state), &realm, settings).await?;
    Ok(no_content())
}
