//! Realm-wide sessions (`/sessions/{id}`, `/client-session-stats`, `/logout-all`,
//! `/push-revocation`) and events (`/events`, `/admin-events`, `/events/config`).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{no_content, Admin, KnownFields, Params, Strict};
use crate::admin::events::{AdminEventQuery, EventQuery, RealmEventsConfigRepresentation, EVENTS_CONFIG_FIELDS};
use crate::admin::{events, sessions, AdminError};
use crate::app::AppState;

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, session)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    sessions::delete(&admin.ctx(&state), &realm, &session).await?;
    Ok(no_content())
}

pub async fn client_stats(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    Ok(Json(sessions::client_stats(&admin.ctx(&state), &realm).await?).into_response())
}

pub async fn logout_all(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    Ok(Json(sessions::logout_all(&admin.ctx(&state), &realm).await?).into_response())
}

pub async fn push_revocation(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    Ok(Json(sessions::push_revocation(&admin.ctx(&state), &realm).await?).into_response())
}

pub async fn events(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    params: Params,
) -> Result<Response, AdminError> {
    let query = EventQuery {
        types: params.all("type"),
        client: params.get("client"),
        user: params.get("user"),
        date_from: params.get("dateFrom"),
        date_to: params.get("dateTo"),
    };
    Ok(Json(events::list(&admin.ctx(&state), &realm, &query, params.page()?).await?).into_response())
}

pub async fn admin_events(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    params: Params,
) -> Result<Response, AdminError> {
    let query = AdminEventQuery {
        operation_types: params.all("operationTypes"),
        resource_types: params.all("resourceTypes"),
        resource_path: params.get("resourcePath"),
        auth_user: params.get("authUser"),
        date_from: params.get("dateFrom"),
        date_to: params.get("dateTo"),
    };
    Ok(Json(events::list_admin(&admin.ctx(&state), &realm, &query, params.page()?).await?).into_response())
}

impl KnownFields for RealmEventsConfigRepresentation {
    const CLASS: &'static str = "org.keycloak.representations.idm.RealmEventsConfigRepresentation";
    const FIELDS: &'static [&'static str] = EVENTS_CONFIG_FIELDS;
}

pub async fn events_config(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    Ok(Json(events::config(&admin.ctx(&state), &realm).await?).into_response())
}

pub async fn update_events_config(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Strict(rep): Strict<RealmEventsConfigRepresentation>,
) -> Result<Response, AdminError> {
    events::update_config(&admin.ctx(&state), &realm, rep).await?;
    Ok(no_content())
}

pub async fn clear_events(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    events::clear(&admin.ctx(&state), &realm).await?;
    Ok(no_content())
}

pub async fn clear_admin_events(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    events::clear_admin(&admin.ctx(&state), &realm).await?;
    Ok(no_content())
}
