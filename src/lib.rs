//! Portcullis: an OAuth2 / OpenID Connect authorization server with Keycloak's URLs and JSON.
//!
//! Data flows one way: `http` (parse into domain types) -> `oauth` / `realm` logic -> `store`.

/// Keycloak's Admin REST API as domain operations: rights, realms, users, clients, roles, sessions, events.
pub mod admin;
/// Wiring: application state, the router, start-up and shutdown.
pub mod app;
/// Start-dev bootstrap of realm `master`, its admin client and admin user.
pub mod bootstrap;
/// Command-line interface: subcommands and their flags.
pub mod cli;
/// Where "now" comes from; a movable clock for tests.
pub mod clock;
/// Layered settings: file, PORTCULLIS_* environment, flags.
pub mod config;
/// Randomness, the at-rest envelope, password hashing, secret types.
pub mod crypto;
/// Realms, clients, users and roles as the server reasons about them.
pub mod domain;
/// Axum handlers: extract, call the domain, map the error; and the accept loop that serves
/// them (TLS, connection deadlines and cap).
pub mod http;
/// E-mail: SMTP delivery through a bounded queue, Keycloak's mail texts, action tokens.
pub mod mail;
/// OAuth/OIDC protocol logic without HTTP types: tokens, keys, discovery, errors.
pub mod oauth;
/// Health, metrics, tracing and background cleanup.
pub mod ops;
/// Realm creation, Keycloak realm JSON import/export and the in-memory realm cache.
pub mod realm;
/// Server-rendered pages: templates, security headers, cookies, pending logins.
pub mod web;
/// User operations shared by admin, account page and CLI (passwords).
pub mod users;
/// Session liveness and token deadlines as pure functions of settings and time.
pub mod session;
/// The storage interface and its Postgres and SQLite backends.
pub mod store;
