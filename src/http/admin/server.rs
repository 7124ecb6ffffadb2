//! Realm-level and server-level admin resources beyond realm CRUD (issue 14): the schemas the
//! OpenAPI document names for them. Handlers stay thin over `crate::admin`.

use serde_json::Value;

use super::openapi::{sample, schema_of};
use crate::admin::events::RealmEventsConfigRepresentation;

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
    vec![("RealmEventsConfigRepresentation", schema_of(&sample(&events_config)))]
}
