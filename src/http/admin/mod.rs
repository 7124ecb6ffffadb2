//! Keycloak's Admin REST API under `/admin`: thin handlers over `crate::admin`. Every route is
//! declared once, in the table below, from which both the router and the OpenAPI document at
//! `/admin/openapi.json` are built, so the two cannot drift apart.

mod clients;
mod error;
pub mod extract;
pub mod openapi;
mod realms;
mod roles;
pub mod server;
mod sessions;
mod users;

use axum::http::{header, HeaderValue};
use axum::routing::{on, MethodFilter};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;

/// One route of the admin API, as the OpenAPI document describes it.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// The request body's representation (`X[]` for an array).
    pub body: Option<&'static str>,
    /// The success status and the representation it carries.
    pub status: u16,
    pub returns: Option<&'static str>,
    /// Query parameters understood.
    pub query: &'static [&'static str],
}

macro_rules! admin_api {
    ($(
        $method:ident $path:literal => $handler:path, $tag:literal, $summary:literal,
        body: $body:expr, ok: $status:literal, returns: $returns:expr, query: [$($q:literal),*];
    )*) => {
        /// Every admin route.
        pub const ENDPOINTS: &[Endpoint] = &[$(
            Endpoint {
                method: stringify!($method),
                path: $path,
                tag: $tag,
                summary: $summary,
                body: $body,
                status: $status,
                returns: $returns,
                query: &[$($q),*],
            },
        )*];

        /// Every `/admin/...` route, with and without a trailing slash (Keycloak's JAX-RS serves
        /// both; the official admin client sends `POST /admin/realms/`). A known path asked with
        /// another method answers Keycloak's JSON 405. Answers are never cached: some carry secrets.
        pub fn router() -> Router<AppState> {
            Router::new()
                $(
                    .route($path, on(MethodFilter::$method, $handler))
                    .route(concat!($path, "/"), on(MethodFilter::$method, $handler))
                )*
                .method_not_allowed_fallback(error::method_not_allowed)
                .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        }
    };
}

admin_api! {
    GET "/admin/openapi.json" => openapi::document, "meta", "This document (no authentication)",
        body: None, ok: 200, returns: None, query: [];

    GET "/admin/realms" => realms::list, "realms", "The realms the caller may administer",
        body: None, ok: 200, returns: Some("RealmRepresentation[]"), query: [];
    POST "/admin/realms" => realms::create, "realms",
        "Create a realm (clients, roles and users in the body are imported); 409 if the name is taken",
        body: Some("RealmRepresentation"), ok: 201, returns: None, query: [];
    GET "/admin/realms/{realm}" => realms::get, "realms", "The realm and all its token and session settings",
        body: None, ok: 200, returns: Some("RealmRepresentation"), query: [];
    PUT "/admin/realms/{realm}" => realms::update, "realms",
        "Update enabled, displayName, notBefore and every token and session setting present",
        body: Some("RealmRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}" => realms::delete, "realms", "Delete the realm and everything it owns",
        body: None, ok: 204, returns: None, query: [];

    GET "/admin/realms/{realm}/users" => users::list, "users", "Search users",
        body: None, ok: 200, returns: Some("UserRepresentation[]"),
        query: ["search", "username", "email", "firstName", "lastName", "enabled", "exact", "first", "max"];
    POST "/admin/realms/{realm}/users" => users::create, "users",
        "Create a user (a password credential is hashed with argon2id); 409 if the username or email is taken",
        body: Some("UserRepresentation"), ok: 201, returns: None, query: [];
    GET "/admin/realms/{realm}/users/count" => users::count, "users", "Count users matching a search",
        body: None, ok: 200, returns: Some("integer"),
        query: ["search", "username", "email", "firstName", "lastName", "enabled", "exact"];
    GET "/admin/realms/{realm}/users/{id}" => users::get, "users", "A user",
        body: None, ok: 200, returns: Some("UserRepresentation"), query: [];
    PUT "/admin/realms/{realm}/users/{id}" => users::update, "users",
        "Update a user; disabling ends their sessions",
        body: Some("UserRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/users/{id}" => users::delete, "users", "Delete a user",
        body: None, ok: 204, returns: None, query: [];
    PUT "/admin/realms/{realm}/users/{id}/reset-password" => users::reset_password, "users",
        "Set the password; ends the user's sessions when revokeSessionsOnPasswordChange is on",
        body: Some("CredentialRepresentation"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/users/{id}/credentials" => users::credentials, "users",
        "The user's credentials (id, type, createdDate, credentialData; never secretData)",
        body: None, ok: 200, returns: Some("CredentialRepresentation[]"), query: [];
    DELETE "/admin/realms/{realm}/users/{id}/credentials/{credential}" => users::delete_credential, "users",
        "Remove one credential (e.g. an imported OTP credential that blocks the user's logins)",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/users/{id}/sessions" => users::sessions, "users", "The user's live SSO sessions",
        body: None, ok: 200, returns: Some("UserSessionRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/users/{id}/offline-sessions/{client}" => users::offline_sessions, "users",
        "The user's live offline sessions of a client (internal id)",
        body: None, ok: 200, returns: Some("UserSessionRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/users/{id}/logout" => users::logout, "users",
        "End all the user's SSO sessions (offline sessions stay)",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/users/{id}/consents" => users::consents, "users",
        "Consents and offline tokens the user granted, per client",
        body: None, ok: 200, returns: Some("UserConsentRepresentation[]"), query: [];
    DELETE "/admin/realms/{realm}/users/{id}/consents/{client}" => users::revoke_consent, "users",
        "Revoke the consent given to a client (clientId) and end its offline sessions",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/users/{id}/role-mappings" => users::role_mappings, "roles",
        "Roles mapped to the user, realm and client",
        body: None, ok: 200, returns: Some("MappingsRepresentation"), query: [];
    GET "/admin/realms/{realm}/users/{id}/role-mappings/realm" => users::realm_roles, "roles",
        "Realm roles mapped to the user",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/users/{id}/role-mappings/realm" => users::add_realm_roles, "roles",
        "Map realm roles (by id or name) to the user",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/users/{id}/role-mappings/realm" => users::remove_realm_roles, "roles",
        "Remove realm role mappings from the user",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];

    GET "/admin/realms/{realm}/users/{id}/role-mappings/clients/{client}" => users::client_roles, "roles",
        "Roles of a client (internal id) mapped to the user",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/users/{id}/role-mappings/clients/{client}" => users::add_client_roles, "roles",
        "Map roles of a client (by name or id) to the user; realm-management roles make realm admins",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/users/{id}/role-mappings/clients/{client}" => users::remove_client_roles, "roles",
        "Remove client role mappings from the user",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];

    DELETE "/admin/realms/{realm}/sessions/{session}" => sessions::delete, "sessions",
        "End one session (online or offline) at once",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/client-session-stats" => sessions::client_stats, "sessions",
        "Per client, the number of online and offline sessions",
        body: None, ok: 200, returns: Some("ClientSessionStat[]"), query: [];
    POST "/admin/realms/{realm}/logout-all" => sessions::logout_all, "sessions",
        "End every session of the realm and set notBefore to now",
        body: None, ok: 200, returns: Some("GlobalRequestResult"), query: [];
    POST "/admin/realms/{realm}/push-revocation" => sessions::push_revocation, "sessions",
        "Accepted; there are no adapters to notify",
        body: None, ok: 200, returns: Some("GlobalRequestResult"), query: [];

    GET "/admin/realms/{realm}/clients" => clients::list, "clients", "Clients, or the one with clientId",
        body: None, ok: 200, returns: Some("ClientRepresentation[]"), query: ["clientId", "search", "first", "max"];
    POST "/admin/realms/{realm}/clients" => clients::create, "clients",
        "Create a client (confidential clients get a generated secret); 409 if the clientId is taken",
        body: Some("ClientRepresentation"), ok: 201, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}" => clients::get, "clients", "A client by internal id",
        body: None, ok: 200, returns: Some("ClientRepresentation"), query: [];
    PUT "/admin/realms/{realm}/clients/{id}" => clients::update, "clients", "Update a client",
        body: Some("ClientRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/clients/{id}" => clients::delete, "clients",
        "Delete a client with its roles, service-account user and sessions",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}/client-secret" => clients::secret, "clients", "The client's secret",
        body: None, ok: 200, returns: Some("CredentialRepresentation"), query: [];
    POST "/admin/realms/{realm}/clients/{id}/client-secret" => clients::regenerate_secret, "clients",
        "Generate a new secret; the old one stops working at once",
        body: None, ok: 200, returns: Some("CredentialRepresentation"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/user-sessions" => clients::user_sessions, "clients",
        "Live SSO sessions the client joined",
        body: None, ok: 200, returns: Some("UserSessionRepresentation[]"), query: ["first", "max"];
    GET "/admin/realms/{realm}/clients/{id}/offline-sessions" => clients::offline_sessions, "clients",
        "Live offline sessions the client joined",
        body: None, ok: 200, returns: Some("UserSessionRepresentation[]"), query: ["first", "max"];
    GET "/admin/realms/{realm}/clients/{id}/service-account-user" => clients::service_account_user, "clients",
        "The client's service-account user",
        body: None, ok: 200, returns: Some("UserRepresentation"), query: [];

    GET "/admin/realms/{realm}/clients/{id}/roles" => clients::roles, "clients", "The client's roles",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/roles/{role}" => clients::role, "clients", "A role of the client by name",
        body: None, ok: 200, returns: Some("RoleRepresentation"), query: [];

    GET "/admin/realms/{realm}/roles" => roles::list, "roles", "Realm roles",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: ["search", "first", "max"];
    POST "/admin/realms/{realm}/roles" => roles::create, "roles", "Create a realm role; 409 if the name is taken",
        body: Some("RoleRepresentation"), ok: 201, returns: None, query: [];
    GET "/admin/realms/{realm}/roles/{role}" => roles::get, "roles", "A realm role by name",
        body: None, ok: 200, returns: Some("RoleRepresentation"), query: [];
    PUT "/admin/realms/{realm}/roles/{role}" => roles::update, "roles", "Rename a realm role or change its description",
        body: Some("RoleRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/roles/{role}" => roles::delete, "roles", "Delete a realm role",
        body: None, ok: 204, returns: None, query: [];

    GET "/admin/realms/{realm}/events" => sessions::events, "events",
        "Login, token and logout events (stored when eventsEnabled)",
        body: None, ok: 200, returns: Some("EventRepresentation[]"),
        query: ["type", "client", "user", "dateFrom", "dateTo", "first", "max"];
    GET "/admin/realms/{realm}/admin-events" => sessions::admin_events, "events",
        "Writes through this API (stored when adminEventsEnabled)",
        body: None, ok: 200, returns: Some("AdminEventRepresentation[]"),
        query: ["operationTypes", "resourceTypes", "resourcePath", "authUser", "dateFrom", "dateTo", "first", "max"];

    // realms and server-level resources (issue 14, helper h-realms)
    GET "/admin/realms/{realm}/events/config" => sessions::events_config, "events",
        "The events configuration: eventsEnabled, eventsExpiration, listeners, types, admin events switches",
        body: None, ok: 200, returns: Some("RealmEventsConfigRepresentation"), query: [];
    PUT "/admin/realms/{realm}/events/config" => sessions::update_events_config, "events",
        "Update the events configuration (eventsEnabled and eventsExpiration default to false and 0)",
        body: Some("RealmEventsConfigRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/events" => sessions::clear_events, "events", "Delete every stored event of the realm",
        body: None, ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/admin-events" => sessions::clear_admin_events, "events",
        "Delete every stored admin event of the realm",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/serverinfo" => server::serverinfo, "server",
        "What this server has: version, memory, protocols, key providers, hashing, features, themes",
        body: None, ok: 200, returns: None, query: [];
    GET "/admin/{realm}/console/whoami" => server::whoami, "server",
        "The caller as the admin console sees them: userId, displayName, createRealm, realm_access",
        body: None, ok: 200, returns: None, query: ["currentRealm"];
    POST "/admin/realms/{realm}/partial-export" => server::partial_export, "realms",
        "The realm's settings, and its clients and roles when asked; no users; secrets masked",
        body: None, ok: 200, returns: Some("RealmRepresentation"), query: ["exportClients", "exportGroupsAndRoles"];
    GET "/admin/realms/{realm}/keys" => server::keys, "realms",
        "The realm's keys: active kid per algorithm, each key's public part (never a private one)",
        body: None, ok: 200, returns: Some("KeysMetadataRepresentation"), query: [];
    POST "/admin/realms/{realm}/clear-realm-cache" => server::clear_realm_cache, "realms",
        "Drop every realm's cached data on every node",
        body: None, ok: 204, returns: None, query: [];
    POST "/admin/realms/{realm}/clear-user-cache" => server::clear_user_cache, "realms",
        "Drop the realm's cached data on every node (users themselves are never cached)",
        body: None, ok: 204, returns: None, query: [];
    POST "/admin/realms/{realm}/clear-keys-cache" => server::clear_keys_cache, "realms",
        "Drop the realm's cached keys on every node",
        body: None, ok: 204, returns: None, query: [];
}
