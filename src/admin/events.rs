//! `GET .../events` (login, refresh, logout... events, stored when the realm's `eventsEnabled`
//! is on) and `GET .../admin-events` (every write through this API, always stored), with
//! Keycloak's query parameters.

use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::representation::{
    admin_event_representation, event_representation, AdminEventRepresentation, EventRepresentation,
};
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
