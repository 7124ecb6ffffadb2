//! `GET .../events` (login, refresh, logout... events, stored when the realm's `eventsEnabled`
//! is on) and `GET .../admin-events` (writes through this API, stored when the realm's
//! `adminEventsEnabled` is on), with Keycloak's query parameters; the realm's events
//! configuration (`GET/PUT .../events/config`) and emptying both tables (`DELETE .../events`,
//! `DELETE .../admin-events`).

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::representation::{
    admin_event_representation, event_representation, AdminEventRepresentation, EventRepresentation,
};
use super::context::{AdminEventsConfig, Operation, Resource};
use super::realms::validate_settings;
use super::{escape_like, AdminContext, AdminError, Page, Permission};
use crate::clock::UnixTime;
use crate::store::admin::AdminEventFilter;
use crate::store::EventFilter;

/// A `dateFrom` / `dateTo` parameter: `yyyy-MM-dd` (UTC) or milliseconds since the epoch.
/// `end` makes a date mean the end of that day, as Keycloak reads `dateTo`.
pub fn parse_date(name: &str, value: &str, end: bool) -> Result<UnixTime, AdminError> {
    let value = value.trim();
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
        return value
            .parse::<i64>()
            .map(|ms| ms / 1000)
            .map_err(|_| AdminError::bad_request(format!("Invalid {name}")));
    }
    let date = Date::parse(value, format_description!("[year]-[month]-[day]"))
        .map_err(|_| AdminError::bad_request(format!("Invalid {name}: expected yyyy-MM-dd")))?;
    let start = OffsetDateTime::new_utc(date, time::Time::MIDNIGHT).unix_timestamp();
    Ok(if end { start + 86_399 } else { start })
}

#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub types: Vec<String>,
    /// A `clientId`.
    pub client: Option<String>,
    /// A user id.
    pub user: Option<String>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
}

pub async fn list(
    ctx: &AdminContext<'_>,
    realm: &str,
    query: &EventQuery,
    page: Page,
) -> Result<Vec<EventRepresentation>, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewEvents).await?;
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let filter = EventFilter {
        kinds: query.types.clone(),
        client_id: query.client.clone(),
        user_id: query.user.clone(),
        from: query.date_from.as_deref().map(|d| parse_date("dateFrom", d, false)).transpose()?,
        to: query.date_to.as_deref().map(|d| parse_date("dateTo", d, true)).transpose()?,
        first: page.first,
        max: if page.max < 0 { i64::MAX } else { page.max },
    };
    let events = ctx.store.list_events(&realm.id, &filter).await?;
    Ok(events.into_iter().map(event_representation).collect())
}

#[derive(Debug, Clone, Default)]
pub struct AdminEventQuery {
    pub operation_types: Vec<String>,
    pub resource_types: Vec<String>,
    /// Keycloak's `resourcePath`, where `*` is a wildcard.
    pub resource_path: Option<String>,
    pub auth_user: Option<String>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
}

pub async fn list_admin(
    ctx: &AdminContext<'_>,
    realm: &str,
    query: &AdminEventQuery,
    page: Page,
) -> Result<Vec<AdminEventRepresentation>, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewEvents).await?;
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let filter = AdminEventFilter {
        operations: query.operation_types.clone(),
        resource_types: query.resource_types.clone(),
        // the path is matched as written, only `*` widening it (no lower-casing: ids are exact)
        resource_path: query
            .resource_path
            .as_deref()
            .map(|p| p.split('*').map(escape_like).collect::<Vec<_>>().join("%")),
        auth_user_id: query.auth_user.clone(),
        from: query.date_from.as_deref().map(|d| parse_date("dateFrom", d, false)).transpose()?,
        to: query.date_to.as_deref().map(|d| parse_date("dateTo", d, true)).transpose()?,
        first: page.first,
        max: if page.max < 0 { i64::MAX } else { page.max },
    };
    let events = ctx.store.list_admin_events(&realm.id, &filter).await?;
    Ok(events.into_iter().map(admin_event_representation).collect())
}

/// Keycloak's RealmEventsConfigRepresentation. `eventsEnabled` and `eventsExpiration` are
/// primitives in Keycloak's class, so a PUT without them sets them to false and 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RealmEventsConfigRepresentation {
    pub events_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_expiration: Option<i64>,
    pub events_listeners: Option<Vec<String>>,
    pub enabled_event_types: Option<Vec<String>>,
    pub admin_events_enabled: Option<bool>,
    pub admin_events_details_enabled: Option<bool>,
}

/// The JSON fields of RealmEventsConfigRepresentation.
pub const EVENTS_CONFIG_FIELDS: &[&str] = &[
    "eventsEnabled", "eventsExpiration", "eventsListeners", "enabledEventTypes",
    "adminEventsEnabled", "adminEventsDetailsEnabled",
];

/// The event types Portcullis records, what `enabledEventTypes` reads as when the realm names
/// none (Keycloak lists its types saved by default there).
pub const RECORDED_EVENT_TYPES: &[&str] = &[
    "LOGIN", "LOGIN_ERROR", "CLIENT_LOGIN", "CLIENT_LOGIN_ERROR", "CODE_TO_TOKEN",
    "CODE_TO_TOKEN_ERROR", "REFRESH_TOKEN", "REFRESH_TOKEN_ERROR", "LOGOUT", "LOGOUT_ERROR",
    "REVOKE_GRANT", "INTROSPECT_TOKEN", "INTROSPECT_TOKEN_ERROR", "USER_INFO_REQUEST",
    "USER_INFO_REQUEST_ERROR", "UPDATE_PASSWORD", "UPDATE_PROFILE", "UPDATE_TOTP", "VERIFY_EMAIL",
    "CUSTOM_REQUIRED_ACTION", "CUSTOM_REQUIRED_ACTION_ERROR", "REGISTER", "REGISTER_ERROR",
];

/// `GET .../events/config`, as Keycloak's `toEventsConfigReprensetation` shapes it:
/// `eventsExpiration` only when set.
pub async fn config(ctx: &AdminContext<'_>, realm: &str) -> Result<RealmEventsConfigRepresentation, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewEvents).await?;
    let s = &realm.settings;
    let types = if s.enabled_event_types.is_empty() {
        RECORDED_EVENT_TYPES.iter().map(|t| (*t).to_string()).collect()
    } else {
        s.enabled_event_types.clone()
    };
    Ok(RealmEventsConfigRepresentation {
        events_enabled: Some(s.events_enabled),
        events_expiration: (s.events_expiration != 0).then_some(s.events_expiration),
        events_listeners: Some(s.events_listeners.clone()),
        enabled_event_types: Some(types),
        admin_events_enabled: Some(s.admin_events_enabled),
        admin_events_details_enabled: Some(s.admin_events_details_enabled),
    })
}

/// `PUT .../events/config`, as Keycloak's `updateRealmEventsConfig`: `eventsEnabled` and
/// `eventsExpiration` always (absent is false and 0), the lists and admin switches when given.
/// Recorded as an UPDATE of the realm when admin events were on before or are on after.
pub async fn update_config(
    ctx: &AdminContext<'_>,
    realm: &str,
    rep: RealmEventsConfigRepresentation,
) -> Result<(), AdminError> {
    let mut realm = ctx.realm(realm, Permission::ManageEvents).await?;
    let before = AdminEventsConfig::of(&realm);
    let s = &mut realm.settings;
    s.events_enabled = rep.events_enabled.unwrap_or(false);
    s.events_expiration = rep.events_expiration.unwrap_or(0);
    if let Some(listeners) = &rep.events_listeners {
        s.events_listeners = dedup(listeners);
    }
    if let Some(types) = &rep.enabled_event_types {
        if let Some(bad) = types.iter().find(|t| t.is_empty() || !t.chars().all(|c| c.is_ascii_uppercase() || c == '_')) {
            return Err(AdminError::bad_request(format!("Unknown event type {bad:?}")));
        }
        s.enabled_event_types = dedup(types);
    }
    if let Some(on) = rep.admin_events_enabled {
        s.admin_events_enabled = on;
    }
    if let Some(on) = rep.admin_events_details_enabled {
        s.admin_events_details_enabled = on;
    }
    validate_settings(&realm.settings)?;
    if !ctx.store.update_realm(&realm).await? {
        return Err(AdminError::not_found("Realm not found."));
    }
    ctx.changed(&realm);
    let config = before.either(AdminEventsConfig::of(&realm));
    let event = serde_json::to_value(&rep).ok();
    ctx.record_as(config, &realm.id, Operation::Update, Resource::Realm, "events/config", event).await;
    Ok(())
}

fn dedup(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

/// `DELETE .../events`: every stored login/token event of the realm.
pub async fn clear(ctx: &AdminContext<'_>, realm: &str) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageEvents).await?;
    let deleted = ctx.store.delete_events(&realm.id).await?;
    tracing::info!(target: "portcullis::admin", realm = %realm.name, deleted, "events cleared");
    Ok(())
}

/// `DELETE .../admin-events`: every stored admin event of the realm.
pub async fn clear_admin(ctx: &AdminContext<'_>, realm: &str) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageEvents).await?;
    let deleted = ctx.store.delete_admin_events(&realm.id).await?;
    tracing::info!(target: "portcullis::admin", realm = %realm.name, deleted, "admin events cleared");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_days_in_utc_or_milliseconds() {
        assert_eq!(parse_date("dateFrom", "1970-01-02", false).unwrap(), 86_400);
        assert_eq!(parse_date("dateTo", "1970-01-02", true).unwrap(), 86_400 + 86_399);
        assert_eq!(parse_date("dateFrom", "1700000000123", false).unwrap(), 1_700_000_000);
        assert!(parse_date("dateFrom", "yesterday", false).is_err());
    }
}
