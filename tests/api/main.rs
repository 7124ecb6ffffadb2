//! One integration-test binary (each file under tests/ would be a separate slow link): the HTTP
//! API against a real server, the storage conformance suite and the CLI, on both backends.

mod helpers;

mod admin_auth;
mod admin_clients;
mod admin_events;
mod admin_openapi;
mod admin_python;
mod admin_realms;
mod admin_roles;
mod admin_sessions;
mod admin_store;
mod admin_support;
mod admin_users;
mod browser_account;
mod browser_chromium;
mod browser_flows;
mod cli;
mod discovery;
mod example_fastapi;
mod example_keycloak_export;
mod example_keycloak_js;
mod example_mod_auth_openidc;
mod hardening_db_faults;
mod hardening_db_hang;
mod hardening_interleavings;
mod hardening_nodes;
mod hardening_rate_limit;
mod hardening_requests;
mod hardening_reuse_interval;
mod hardening_three_nodes;
mod hardening_tokens;
mod hardening_transport;
mod import;
mod keycloak_passwords;
mod keys;
mod ops;
mod processes;
mod python_client;
mod secrets_at_rest;
mod store_suite;
mod token_endpoints;
mod token_grants;
mod token_races;
mod token_refresh;
