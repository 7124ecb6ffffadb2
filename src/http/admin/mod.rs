//! Keycloak's Admin REST API under `/admin`: thin handlers over `crate::admin`. Every route is
//! declared once, in the table below, from which both the router and the OpenAPI document at
//! `/admin/openapi.json` are built, so the two cannot drift apart.

mod client_scopes;
mod clients;
mod error;
mod evaluate;
pub mod extract;
mod groups;
pub mod openapi;
mod realms;
mod required_actions;
mod role_mappings;
mod roles;
pub mod server;
mod sessions;
mod users;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{on, MethodFilter};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;
use crate::realm::RealmCache;

/// After every admin request that may write (any method but GET, HEAD and OPTIONS), this node
/// forgets its cached service-account users (`realm::service_accounts`), whichever user, role
/// mapping, group or client the request touched: admin writes are rare, a reload is one query
/// per client, and no write path can be missed. The guard also runs if the request is dropped
/// midway (timeout, closed connection), when its write may already be committed.
pub async fn forget_service_accounts(State(realms): State<Arc<RealmCache>>, request: Request, next: Next) -> Response {
    /// Forgets when dropped: at the end of the request, however it ends.
    struct Forget(Arc<RealmCache>);
    impl Drop for Forget {
        fn drop(&mut self) {
            self.0.forget_service_accounts(None);
        }
    }
    let writes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let _forget = writes.then(|| Forget(realms));
    next.run(request).await
}

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
            let router = Router::new();
            $(
                let router = router.route($path, on(MethodFilter::$method, $handler));
                // a catch-all (`{*path}`) already matches a trailing slash, and takes no twin
                let router = if $path.contains("{*") {
                    router
                } else {
                    router.route(concat!($path, "/"), on(MethodFilter::$method, $handler))
                };
            )*
            router
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
    POST "/admin/realms/{realm}/testSMTPConnection" => realms::test_smtp_connection, "realms",
        "Send a test mail to the calling admin with the smtpServer settings in the body (a JSON object; password ********** = the stored one)",
        body: None, ok: 204, returns: None, query: [];

    GET "/admin/realms/{realm}/users" => users::list, "users", "Search users",
        body: None, ok: 200, returns: Some("UserRepresentation[]"),
        query: ["search", "username", "email", "firstName", "lastName", "enabled", "emailVerified", "exact", "q",
                "idpAlias", "idpUserId", "briefRepresentation", "first", "max"];
    POST "/admin/realms/{realm}/users" => users::create, "users",
        "Create a user (a password credential is hashed with argon2id); 409 if the username or email is taken",
        body: Some("UserRepresentation"), ok: 201, returns: None, query: [];
    GET "/admin/realms/{realm}/users/count" => users::count, "users", "Count users matching a search",
        body: None, ok: 200, returns: Some("integer"),
        query: ["search", "username", "email", "firstName", "lastName", "enabled", "emailVerified", "q"];
    GET "/admin/realms/{realm}/users/profile" => users::profile, "users",
        "The realm's declarative user profile (Keycloak 24+ UPConfig; Keycloak 26's default when never set)",
        body: None, ok: 200, returns: Some("UPConfig"), query: [];
    PUT "/admin/realms/{realm}/users/profile" => users::put_profile, "users",
        "Replace the user profile; enforced on user create and update through this API",
        body: Some("UPConfig"), ok: 200, returns: Some("UPConfig"), query: [];
    GET "/admin/realms/{realm}/users/profile/metadata" => users::profile_metadata, "users",
        "The user profile as an admin sees it (required, readOnly, validators per attribute)",
        body: None, ok: 200, returns: Some("UserProfileMetadata"), query: [];
    GET "/admin/realms/{realm}/users/{id}" => users::get, "users",
        "A user (with userProfileMetadata=true, the profile metadata too)",
        body: None, ok: 200, returns: Some("UserRepresentation"), query: ["userProfileMetadata"];
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
    PUT "/admin/realms/{realm}/users/{id}/credentials/{credential}/userLabel" => users::credential_label, "users",
        "Set a credential's label (text/plain body; empty clears it)",
        body: Some("string"), ok: 204, returns: None, query: [];
    POST "/admin/realms/{realm}/users/{id}/credentials/{credential}/moveToFirst" => users::credential_to_first, "users",
        "Make the credential the user's first",
        body: None, ok: 204, returns: None, query: [];
    POST "/admin/realms/{realm}/users/{id}/credentials/{credential}/moveAfter/{previous}" => users::credential_after, "users",
        "Put the credential right after another of the user's",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/users/{id}/configured-user-storage-credential-types" => users::storage_credential_types, "users",
        "Credential types of the user's federation provider: none (Portcullis has no user federation)",
        body: None, ok: 200, returns: Some("string[]"), query: [];
    PUT "/admin/realms/{realm}/users/{id}/execute-actions-email" => users::execute_actions_email, "users",
        "Queue a mail whose link runs the given required actions (lifespan defaults to actionTokenGeneratedByAdminLifespan)",
        body: Some("string[]"), ok: 204, returns: None, query: ["lifespan", "redirect_uri", "client_id"];
    PUT "/admin/realms/{realm}/users/{id}/send-verify-email" => users::send_verify_email, "users",
        "Queue a mail whose link verifies the user's email address",
        body: None, ok: 204, returns: None, query: ["lifespan", "redirect_uri", "client_id"];
    GET "/admin/realms/{realm}/authentication/required-actions" => required_actions::list, "authentication",
        "The realm's required-action providers, by priority",
        body: None, ok: 200, returns: Some("RequiredActionProviderRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/authentication/required-actions/{alias}" => required_actions::get, "authentication",
        "One required-action provider",
        body: None, ok: 200, returns: Some("RequiredActionProviderRepresentation"), query: [];
    PUT "/admin/realms/{realm}/authentication/required-actions/{alias}" => required_actions::update, "authentication",
        "Update enabled, defaultAction, priority, name and config (renaming is refused)",
        body: Some("RequiredActionProviderRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/authentication/required-actions/{alias}" => required_actions::delete, "authentication",
        "Unregister a required-action provider (users' pending actions for it stop counting)",
        body: None, ok: 204, returns: None, query: [];
    POST "/admin/realms/{realm}/authentication/required-actions/{alias}/raise-priority" => required_actions::raise, "authentication",
        "Swap priorities with the provider before it",
        body: None, ok: 204, returns: None, query: [];
    POST "/admin/realms/{realm}/authentication/required-actions/{alias}/lower-priority" => required_actions::lower, "authentication",
        "Swap priorities with the provider after it",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/authentication/unregistered-required-actions" => required_actions::unregistered, "authentication",
        "Keycloak's built-in providers the realm has not registered ({providerId, name})",
        body: None, ok: 200, returns: Some("RequiredActionProviderRef[]"), query: [];
    POST "/admin/realms/{realm}/authentication/register-required-action" => required_actions::register, "authentication",
        "Register a built-in provider ({providerId, name}): enabled, last",
        body: Some("RequiredActionProviderRef"), ok: 204, returns: None, query: [];
    POST "/admin/realms/{realm}/user-storage/{id}/sync" => users::user_storage_action, "users",
        "User federation sync: Keycloak's 404 \"Could not find component\" (Portcullis has no user federation)",
        body: None, ok: 404, returns: None, query: ["action"];
    POST "/admin/realms/{realm}/user-storage/{id}/remove-imported-users" => users::user_storage_action, "users",
        "Keycloak's 404 \"Could not find component\" (no user federation)",
        body: None, ok: 404, returns: None, query: [];
    POST "/admin/realms/{realm}/user-storage/{id}/unlink-users" => users::user_storage_action, "users",
        "Keycloak's 404 \"Could not find component\" (no user federation)",
        body: None, ok: 404, returns: None, query: [];
    POST "/admin/realms/{realm}/user-storage/{parent}/mappers/{id}/sync" => users::user_storage_mapper_sync, "users",
        "Keycloak's 404 \"Could not find component\" (no user federation)",
        body: None, ok: 404, returns: None, query: ["direction"];
    GET "/admin/realms/{realm}/attack-detection/brute-force/users/{id}" => users::brute_force_status, "users",
        "The user's brute-force state (numFailures, disabled, lastFailure; lastIPFailure is n/a)",
        body: None, ok: 200, returns: Some("BruteForceStatus"), query: [];
    DELETE "/admin/realms/{realm}/attack-detection/brute-force/users/{id}" => users::clear_brute_force, "users",
        "Forget the user's login failures and lockout",
        body: None, ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/attack-detection/brute-force/users" => users::clear_all_brute_force, "users",
        "Forget the login failures and lockouts of every user of the realm",
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

    // Clients and roles (issue 14 items 5, 7): client roles, composites, roles-by-id, users in a
    // role, derived role mappings, client session counts and installation.
    GET "/admin/realms/{realm}/clients/{id}/roles" => roles::client_list, "clients",
        "The client's roles (brief unless briefRepresentation=false)",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: ["search", "first", "max", "briefRepresentation"];
    POST "/admin/realms/{realm}/clients/{id}/roles" => roles::client_create, "clients",
        "Create a role of the client; 409 if the name is taken",
        body: Some("RoleRepresentation"), ok: 201, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}/roles/{role}" => roles::client_get, "clients", "A role of the client by name",
        body: None, ok: 200, returns: Some("RoleRepresentation"), query: [];
    PUT "/admin/realms/{realm}/clients/{id}/roles/{role}" => roles::client_update, "clients",
        "Rename a client role or change its description and attributes",
        body: Some("RoleRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/clients/{id}/roles/{role}" => roles::client_delete, "clients", "Delete a client role",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}/roles/{role}/composites" => roles::client_composites_get, "roles",
        "The roles a client role includes",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/clients/{id}/roles/{role}/composites" => roles::client_composites_add, "roles",
        "Make a client role include these roles (by id)",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/clients/{id}/roles/{role}/composites" => roles::client_composites_remove, "roles",
        "Stop a client role including these roles",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}/roles/{role}/composites/realm" => roles::client_composites_realm, "roles",
        "The realm roles a client role includes",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/roles/{role}/composites/clients/{client}" => roles::client_composites_client, "roles",
        "The roles of a client (internal id) a client role includes",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/roles/{role}/users" => roles::client_users, "roles",
        "Users mapped directly to a client role",
        body: None, ok: 200, returns: Some("UserRepresentation[]"), query: ["first", "max"];
    GET "/admin/realms/{realm}/roles/{role}/composites" => roles::composites_get, "roles", "The roles a realm role includes",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/roles/{role}/composites" => roles::composites_add, "roles",
        "Make a realm role include these roles (by id)",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/roles/{role}/composites" => roles::composites_remove, "roles",
        "Stop a realm role including these roles",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/roles/{role}/composites/realm" => roles::composites_realm, "roles",
        "The realm roles a realm role includes",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/roles/{role}/composites/clients/{client}" => roles::composites_client, "roles",
        "The roles of a client (internal id) a realm role includes",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/roles/{role}/users" => roles::users, "roles", "Users mapped directly to a realm role",
        body: None, ok: 200, returns: Some("UserRepresentation[]"), query: ["first", "max"];
    GET "/admin/realms/{realm}/roles-by-id/{id}" => roles::by_id_get, "roles", "A role (realm or client) by id",
        body: None, ok: 200, returns: Some("RoleRepresentation"), query: [];
    PUT "/admin/realms/{realm}/roles-by-id/{id}" => roles::by_id_update, "roles", "Update a role by id",
        body: Some("RoleRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/roles-by-id/{id}" => roles::by_id_delete, "roles", "Delete a role by id",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/roles-by-id/{id}/composites" => roles::by_id_composites_get, "roles",
        "The roles a role includes",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/roles-by-id/{id}/composites" => roles::by_id_composites_add, "roles",
        "Make a role include these roles (by id)",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/roles-by-id/{id}/composites" => roles::by_id_composites_remove, "roles",
        "Stop a role including these roles",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/roles-by-id/{id}/composites/realm" => roles::by_id_composites_realm, "roles",
        "The realm roles a role includes",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/roles-by-id/{id}/composites/clients/{client}" => roles::by_id_composites_client, "roles",
        "The roles of a client (internal id) a role includes",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/users/{id}/role-mappings/realm/available" => role_mappings::realm_available, "roles",
        "Realm roles not mapped to the user directly",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/users/{id}/role-mappings/realm/composite" => role_mappings::realm_composite, "roles",
        "Every realm role the user holds, composites expanded",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: ["briefRepresentation"];
    GET "/admin/realms/{realm}/users/{id}/role-mappings/clients/{client}/available" => role_mappings::client_available, "roles",
        "Roles of the client not mapped to the user directly",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/users/{id}/role-mappings/clients/{client}/composite" => role_mappings::client_composite, "roles",
        "Every role of the client the user holds, composites expanded",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: ["briefRepresentation"];
    GET "/admin/realms/{realm}/clients/{id}/session-count" => clients::session_count, "clients",
        "How many online sessions hold a client session of the client",
        body: None, ok: 200, returns: Some("ClientSessionCount"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/offline-session-count" => clients::offline_session_count, "clients",
        "How many offline sessions hold a client session of the client",
        body: None, ok: 200, returns: Some("ClientSessionCount"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/installation/providers/{provider}" => clients::installation, "clients",
        "The client's adapter configuration (provider keycloak-oidc-keycloak-json: keycloak.json)",
        body: None, ok: 200, returns: Some("KeycloakOidcJson"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/evaluate-scopes/protocol-mappers" => evaluate::protocol_mappers, "clients",
        "The protocol mappers the client's tokens run for a scope parameter: the client's own, then each selected scope's",
        body: None, ok: 200, returns: Some("ProtocolMapperEvaluationRepresentation[]"), query: ["scope"];
    GET "/admin/realms/{realm}/clients/{id}/evaluate-scopes/generate-example-access-token" => evaluate::access_token, "clients",
        "The claims of an access token the client would get for the user and scope (not signed, no session)",
        body: None, ok: 200, returns: Some("AccessToken"), query: ["scope", "userId"];
    GET "/admin/realms/{realm}/clients/{id}/evaluate-scopes/generate-example-id-token" => evaluate::id_token, "clients",
        "The claims of an id token the client would get for the user and scope",
        body: None, ok: 200, returns: Some("IDToken"), query: ["scope", "userId"];
    GET "/admin/realms/{realm}/clients/{id}/evaluate-scopes/generate-example-userinfo" => evaluate::userinfo, "clients",
        "The userinfo answer the client would get for the user and scope",
        body: None, ok: 200, returns: Some("UserInfo"), query: ["scope", "userId"];

    GET "/admin/realms/{realm}/roles" => roles::list, "roles", "Realm roles (brief unless briefRepresentation=false)",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: ["search", "first", "max", "briefRepresentation"];
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

    // Groups (issue 15): the tree, members, role mappings, default groups, a user's groups.
    GET "/admin/realms/{realm}/groups" => groups::list, "groups",
        "Top-level groups with subGroupCount and empty subGroups; a search or q returns matches inside their ancestors",
        body: None, ok: 200, returns: Some("GroupRepresentation[]"),
        query: ["search", "q", "exact", "first", "max", "briefRepresentation", "populateHierarchy", "subGroupsCount"];
    POST "/admin/realms/{realm}/groups" => groups::create, "groups",
        "Create a top-level group (201), or move the group with the body's id to the top level (204); 409 if the name is taken",
        body: Some("GroupRepresentation"), ok: 201, returns: None, query: [];
    GET "/admin/realms/{realm}/groups/count" => groups::count, "groups", "Count all, top-level or matching groups",
        body: None, ok: 200, returns: Some("Count"), query: ["search", "top"];
    GET "/admin/realms/{realm}/groups/{id}" => groups::get, "groups", "A group with attributes, role mappings and subGroupCount",
        body: None, ok: 200, returns: Some("GroupRepresentation"), query: [];
    PUT "/admin/realms/{realm}/groups/{id}" => groups::update, "groups", "Rename a group, set its description and attributes",
        body: Some("GroupRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/groups/{id}" => groups::delete, "groups", "Delete a group with its subgroups and memberships",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/groups/{id}/children" => groups::children, "groups", "A page (default 10) of direct subgroups",
        body: None, ok: 200, returns: Some("GroupRepresentation[]"),
        query: ["search", "exact", "first", "max", "briefRepresentation"];
    POST "/admin/realms/{realm}/groups/{id}/children" => groups::add_child, "groups",
        "Create a subgroup (201 with its representation), or move the group with the body's id here (204)",
        body: Some("GroupRepresentation"), ok: 201, returns: Some("GroupRepresentation"), query: [];
    GET "/admin/realms/{realm}/groups/{id}/members" => groups::members, "groups", "Direct members (default 100)",
        body: None, ok: 200, returns: Some("UserRepresentation[]"), query: ["first", "max", "briefRepresentation"];
    GET "/admin/realms/{realm}/groups/{id}/role-mappings" => groups::role_mappings, "groups",
        "Roles mapped to the group, realm and client",
        body: None, ok: 200, returns: Some("MappingsRepresentation"), query: [];
    GET "/admin/realms/{realm}/groups/{id}/role-mappings/realm" => groups::realm_roles, "groups",
        "Realm roles mapped to the group",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/groups/{id}/role-mappings/realm" => groups::add_realm_roles, "groups",
        "Map realm roles to the group; its members (and its subgroups' members) hold them",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/groups/{id}/role-mappings/realm" => groups::remove_realm_roles, "groups",
        "Remove realm role mappings from the group",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/groups/{id}/role-mappings/realm/available" => groups::available_realm_roles, "groups",
        "Realm roles not mapped to the group",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/groups/{id}/role-mappings/realm/composite" => groups::composite_realm_roles, "groups",
        "Effective realm roles: the group's and its ancestors', composites expanded",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: ["briefRepresentation"];
    GET "/admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}" => groups::client_roles, "groups",
        "Roles of a client (internal id) mapped to the group",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}" => groups::add_client_roles, "groups",
        "Map roles of a client to the group",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}" => groups::remove_client_roles, "groups",
        "Remove client role mappings from the group",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}/available" => groups::available_client_roles, "groups",
        "Roles of the client not mapped to the group",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}/composite" => groups::composite_client_roles, "groups",
        "Effective roles of the client: the group's and its ancestors', composites expanded",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: ["briefRepresentation"];
    GET "/admin/realms/{realm}/group-by-path/{*path}" => groups::by_path, "groups", "A group by its path (/a/b)",
        body: None, ok: 200, returns: Some("GroupRepresentation"), query: [];
    GET "/admin/realms/{realm}/default-groups" => groups::default_groups, "groups", "The groups new users join",
        body: None, ok: 200, returns: Some("GroupRepresentation[]"), query: [];
    PUT "/admin/realms/{realm}/default-groups/{group}" => groups::add_default, "groups", "Make a group a default group",
        body: None, ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/default-groups/{group}" => groups::remove_default, "groups", "Stop a group being a default group",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/users/{id}/groups" => groups::of_user, "groups", "Groups the user is a direct member of",
        body: None, ok: 200, returns: Some("GroupRepresentation[]"), query: ["search", "first", "max", "briefRepresentation"];
    GET "/admin/realms/{realm}/users/{id}/groups/count" => groups::count_of_user, "groups", "How many groups the user is in",
        body: None, ok: 200, returns: Some("Count"), query: ["search"];
    PUT "/admin/realms/{realm}/users/{id}/groups/{group}" => groups::join, "groups", "Add the user to a group",
        body: None, ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/users/{id}/groups/{group}" => groups::leave, "groups", "Remove the user from a group",
        body: None, ok: 204, returns: None, query: [];

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
    POST "/admin/realms/{realm}/partialImport" => server::partial_import, "realms",
        "Import clients, roles, groups and users into the realm (ifResourceExists FAIL, SKIP or OVERWRITE), all or nothing",
        body: Some("PartialImportRepresentation"), ok: 200, returns: Some("PartialImportResults"), query: [];
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
    GET "/admin/realms/{realm}/roles/{role}/groups" => groups::realm_role_groups, "groups",
        "Groups the realm role is mapped to directly",
        body: None, ok: 200, returns: Some("GroupRepresentation[]"), query: ["first", "max", "briefRepresentation"];
    GET "/admin/realms/{realm}/clients/{id}/roles/{role}/groups" => groups::client_role_groups, "groups",
        "Groups the client role is mapped to directly",
        body: None, ok: 200, returns: Some("GroupRepresentation[]"), query: ["first", "max", "briefRepresentation"];
    // Issue 15: client scopes, protocol mappers, default scopes and scope mappings.
    GET "/admin/realms/{realm}/client-scopes" => client_scopes::list, "client-scopes",
        "The realm's client scopes with their protocol mappers",
        body: None, ok: 200, returns: Some("ClientScopeRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/client-scopes" => client_scopes::create, "client-scopes",
        "Create a client scope (and the mappers in the body); 409 if the name is taken",
        body: Some("ClientScopeRepresentation"), ok: 201, returns: None, query: [];
    GET "/admin/realms/{realm}/client-scopes/{id}" => client_scopes::get, "client-scopes",
        "A client scope",
        body: None, ok: 200, returns: Some("ClientScopeRepresentation"), query: [];
    PUT "/admin/realms/{realm}/client-scopes/{id}" => client_scopes::update, "client-scopes",
        "Update name, description, protocol and attributes (merged) of a client scope",
        body: Some("ClientScopeRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/client-scopes/{id}" => client_scopes::delete, "client-scopes",
        "Delete a client scope with its mappers, links and scope mappings",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models" => client_scopes::scope_mappers, "client-scopes",
        "The protocol mappers of a client scope",
        body: None, ok: 200, returns: Some("ProtocolMapperRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models" => client_scopes::scope_mapper_create, "client-scopes",
        "Add a protocol mapper to a client scope; 409 if the name is taken",
        body: Some("ProtocolMapperRepresentation"), ok: 201, returns: None, query: [];
    POST "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/add-models" => client_scopes::scope_mappers_add, "client-scopes",
        "Add several protocol mappers to a client scope, all or none",
        body: Some("ProtocolMapperRepresentation[]"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/protocol/{protocol}" => client_scopes::scope_mappers_by_protocol, "client-scopes",
        "The client scope's protocol mappers of one protocol",
        body: None, ok: 200, returns: Some("ProtocolMapperRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models/{mapper}" => client_scopes::scope_mapper_get, "client-scopes",
        "A protocol mapper of a client scope",
        body: None, ok: 200, returns: Some("ProtocolMapperRepresentation"), query: [];
    PUT "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models/{mapper}" => client_scopes::scope_mapper_update, "client-scopes",
        "Update a protocol mapper of a client scope",
        body: Some("ProtocolMapperRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models/{mapper}" => client_scopes::scope_mapper_delete, "client-scopes",
        "Delete a protocol mapper of a client scope",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}/protocol-mappers/models" => client_scopes::client_mappers, "client-scopes",
        "The protocol mappers of a client",
        body: None, ok: 200, returns: Some("ProtocolMapperRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/clients/{id}/protocol-mappers/models" => client_scopes::client_mapper_create, "client-scopes",
        "Add a protocol mapper to a client; 409 if the name is taken",
        body: Some("ProtocolMapperRepresentation"), ok: 201, returns: None, query: [];
    POST "/admin/realms/{realm}/clients/{id}/protocol-mappers/add-models" => client_scopes::client_mappers_add, "client-scopes",
        "Add several protocol mappers to a client, all or none",
        body: Some("ProtocolMapperRepresentation[]"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}/protocol-mappers/protocol/{protocol}" => client_scopes::client_mappers_by_protocol, "client-scopes",
        "The client's protocol mappers of one protocol",
        body: None, ok: 200, returns: Some("ProtocolMapperRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/protocol-mappers/models/{mapper}" => client_scopes::client_mapper_get, "client-scopes",
        "A protocol mapper of a client",
        body: None, ok: 200, returns: Some("ProtocolMapperRepresentation"), query: [];
    PUT "/admin/realms/{realm}/clients/{id}/protocol-mappers/models/{mapper}" => client_scopes::client_mapper_update, "client-scopes",
        "Update a protocol mapper of a client",
        body: Some("ProtocolMapperRepresentation"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/clients/{id}/protocol-mappers/models/{mapper}" => client_scopes::client_mapper_delete, "client-scopes",
        "Delete a protocol mapper of a client",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/default-default-client-scopes" => client_scopes::realm_defaults, "client-scopes",
        "The realm default scopes new clients get as default scopes",
        body: None, ok: 200, returns: Some("ClientScopeRepresentation[]"), query: [];
    PUT "/admin/realms/{realm}/default-default-client-scopes/{scope}" => client_scopes::add_realm_default, "client-scopes",
        "Make a client scope a realm default scope",
        body: None, ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/default-default-client-scopes/{scope}" => client_scopes::remove_realm_default, "client-scopes",
        "Remove a client scope from the realm default scopes",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/default-optional-client-scopes" => client_scopes::realm_optionals, "client-scopes",
        "The realm default scopes new clients get as optional scopes",
        body: None, ok: 200, returns: Some("ClientScopeRepresentation[]"), query: [];
    PUT "/admin/realms/{realm}/default-optional-client-scopes/{scope}" => client_scopes::add_realm_optional, "client-scopes",
        "Make a client scope a realm default optional scope",
        body: None, ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/default-optional-client-scopes/{scope}" => client_scopes::remove_realm_default, "client-scopes",
        "Remove a client scope from the realm default optional scopes",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}/default-client-scopes" => client_scopes::client_defaults, "client-scopes",
        "The client's default client scopes",
        body: None, ok: 200, returns: Some("ClientScopeRepresentation[]"), query: [];
    PUT "/admin/realms/{realm}/clients/{id}/default-client-scopes/{scope}" => client_scopes::add_client_default, "client-scopes",
        "Link a client scope to the client as a default scope",
        body: None, ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/clients/{id}/default-client-scopes/{scope}" => client_scopes::remove_client_link, "client-scopes",
        "Unlink a default client scope from the client",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}/optional-client-scopes" => client_scopes::client_optionals, "client-scopes",
        "The client's optional client scopes",
        body: None, ok: 200, returns: Some("ClientScopeRepresentation[]"), query: [];
    PUT "/admin/realms/{realm}/clients/{id}/optional-client-scopes/{scope}" => client_scopes::add_client_optional, "client-scopes",
        "Link a client scope to the client as an optional scope",
        body: None, ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/clients/{id}/optional-client-scopes/{scope}" => client_scopes::remove_client_link, "client-scopes",
        "Unlink an optional client scope from the client",
        body: None, ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}/scope-mappings" => client_scopes::client_sm, "client-scopes",
        "Roles the client's scope mappings allow, realm and per client",
        body: None, ok: 200, returns: Some("MappingsRepresentation"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/scope-mappings/realm" => client_scopes::client_sm_realm, "client-scopes",
        "Realm roles in the client's scope",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/clients/{id}/scope-mappings/realm" => client_scopes::client_sm_realm_add, "client-scopes",
        "Add realm roles (by id) to the client's scope",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/clients/{id}/scope-mappings/realm" => client_scopes::client_sm_realm_remove, "client-scopes",
        "Remove realm roles from the client's scope",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}/scope-mappings/realm/available" => client_scopes::client_sm_realm_available, "client-scopes",
        "Realm roles not in the client's scope",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/scope-mappings/realm/composite" => client_scopes::client_sm_realm_composite, "client-scopes",
        "Realm roles in the client's effective scope (composites expanded)",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}" => client_scopes::client_sm_client, "client-scopes",
        "Roles of a client in the client's scope",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}" => client_scopes::client_sm_client_add, "client-scopes",
        "Add roles (by name) of a client to the client's scope",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}" => client_scopes::client_sm_client_remove, "client-scopes",
        "Remove roles of a client from the client's scope",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}/available" => client_scopes::client_sm_client_available, "client-scopes",
        "Roles of a client not in the client's scope",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}/composite" => client_scopes::client_sm_client_composite, "client-scopes",
        "Roles of a client in the client's effective scope",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/client-scopes/{id}/scope-mappings" => client_scopes::scope_sm, "client-scopes",
        "Roles the client scope's scope mappings allow, realm and per client",
        body: None, ok: 200, returns: Some("MappingsRepresentation"), query: [];
    GET "/admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm" => client_scopes::scope_sm_realm, "client-scopes",
        "Realm roles in the client scope's scope",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm" => client_scopes::scope_sm_realm_add, "client-scopes",
        "Add realm roles (by id) to the client scope's scope",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm" => client_scopes::scope_sm_realm_remove, "client-scopes",
        "Remove realm roles from the client scope's scope",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm/available" => client_scopes::scope_sm_realm_available, "client-scopes",
        "Realm roles not in the client scope's scope",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm/composite" => client_scopes::scope_sm_realm_composite, "client-scopes",
        "Realm roles in the client scope's effective scope (composites expanded)",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}" => client_scopes::scope_sm_client, "client-scopes",
        "Roles of a client in the client scope's scope",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    POST "/admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}" => client_scopes::scope_sm_client_add, "client-scopes",
        "Add roles (by name) of a client to the client scope's scope",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    DELETE "/admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}" => client_scopes::scope_sm_client_remove, "client-scopes",
        "Remove roles of a client from the client scope's scope",
        body: Some("RoleRepresentation[]"), ok: 204, returns: None, query: [];
    GET "/admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}/available" => client_scopes::scope_sm_client_available, "client-scopes",
        "Roles of a client not in the client scope's scope",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
    GET "/admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}/composite" => client_scopes::scope_sm_client_composite, "client-scopes",
        "Roles of a client in the client scope's effective scope",
        body: None, ok: 200, returns: Some("RoleRepresentation[]"), query: [];
}
