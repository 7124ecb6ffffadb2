//! Issue 15 items 5 and 6: a Keycloak export's client scopes, default scopes, client scope lists,
//! protocol mappers, fullScopeAllowed and scope mappings import without an ignored-field warning
//! and export back (import -> export -> import gives the same realm); a database made before the
//! scope tables gets the built-in scopes for its realms at start-up.

use std::borrow::Cow;

use portcullis::crypto::password::PasswordHasher;
use portcullis::domain::RealmSettings;
use portcullis::realm::service::{export, import_paths, OnExisting};
use serde_json::{json, Value};

use crate::admin_support::Admin;
use crate::backend_tests;
use crate::helpers::{fixture, fresh_database, spawn_app, Backend, Spawn, TestApp};

async fn import(app: &TestApp, path: &std::path::Path) -> Vec<String> {
    let hasher = PasswordHasher::new(2);
    let outcomes = import_paths(app.store.as_ref(), &app.master_key, &hasher, 1_700_000_000, &[path.to_path_buf()], OnExisting::Fail)
        .await
        .unwrap();
    outcomes.into_iter().flat_map(|o| o.warnings).collect()
}

/// What the admin API shows of a realm's scope model, by names (ids differ between realms).
async fn scope_view(admin: &Admin<'_>, realm: &str) -> Value {
    let base = format!("/admin/realms/{realm}");
    let mut scopes = admin.ok(&format!("{base}/client-scopes")).await;
    for scope in scopes.as_array_mut().unwrap() {
        let id = scope["id"].as_str().unwrap().to_string();
        let mappings = admin.ok(&format!("{base}/client-scopes/{id}/scope-mappings")).await;
        scope["scopeMappings"] = strip(mappings);
        scope.as_object_mut().unwrap().remove("id");
    }
    let names = |list: Value| -> Vec<String> {
        let mut names: Vec<String> = list.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
        names.sort();
        names
    };
    let mut clients = Vec::new();
    for client in admin.ok(&format!("{base}/clients")).await.as_array().unwrap() {
        let id = client["id"].as_str().unwrap();
        clients.push(json!({
            "clientId": client["clientId"],
            "fullScopeAllowed": client["fullScopeAllowed"],
            "default": names(admin.ok(&format!("{base}/clients/{id}/default-client-scopes")).await),
            "optional": names(admin.ok(&format!("{base}/clients/{id}/optional-client-scopes")).await),
            "mappers": admin.ok(&format!("{base}/clients/{id}/protocol-mappers/models")).await,
            "scopeMappings": strip(admin.ok(&format!("{base}/clients/{id}/scope-mappings")).await),
        }));
    }
    json!({
        "scopes": scopes,
        "defaults": names(admin.ok(&format!("{base}/default-default-client-scopes")).await),
        "optional": names(admin.ok(&format!("{base}/default-optional-client-scopes")).await),
        "clients": clients,
    })
}

/// Role and client ids and container ids out of a MappingsRepresentation, names kept.
fn strip(mut mappings: Value) -> Value {
    let roles = |list: &mut Value| {
        for role in list.as_array_mut().into_iter().flatten() {
            let name = role["name"].clone();
            *role = name;
        }
    };
    roles(&mut mappings["realmMappings"]);
    if let Some(clients) = mappings["clientMappings"].as_object_mut() {
        for client in clients.values_mut() {
            client.as_object_mut().unwrap().remove("id");
            roles(&mut client["mappings"]);
        }
    }
    mappings
}

backend_tests! {
    async fn a_keycloak_export_keeps_its_scopes_and_round_trips_through_export(backend: Backend) {
        let app = spawn_app(backend).await;
        let warnings = import(&app, &fixture("demo-realm-partial-export.json")).await;
        for scoped in ["clientScopes", "DefaultClientScopes", "scopeMappings", "clientScopeMappings", "protocolMappers",
            "fullScopeAllowed", "ClientScopes"] {
            assert!(!warnings.iter().any(|w| w.contains(&format!("ignored unknown field {scoped}")) || w.contains(&format!(".{scoped}"))),
                "{scoped}: {warnings:#?}");
        }
        let inert: Vec<&String> = warnings.iter().filter(|w| w.contains("is not supported")).collect();
        assert_eq!(inert.len(), 1, "one line per unsupported type: {inert:?}");
        assert!(inert[0].contains("saml-role-list-mapper") && inert[0].contains("client scope role_list: role list"));
        assert_eq!(warnings.iter().filter(|w| w.contains("Keycloak 15.0.2 (before 25)")).count(), 1, "{warnings:#?}");
        assert_eq!(warnings.iter().filter(|w| w.contains("Keycloak 15.0.2 (before 18)")).count(), 1, "{warnings:#?}");

        let admin = Admin::login(&app).await;
        let view = scope_view(&admin, "demo-realm").await;
        let scopes = view["scopes"].as_array().unwrap();
        assert_eq!(scopes.len(), 11, "the file's nine, acr and basic");
        let role_list = scopes.iter().find(|s| s["name"] == "role_list").unwrap();
        assert_eq!(role_list["protocol"], "saml");
        assert_eq!(view["defaults"], json!(["acr", "basic", "email", "profile", "role_list", "roles", "web-origins"]));
        assert_eq!(view["optional"], json!(["address", "microprofile-jwt", "offline_access", "phone"]));
        let offline = scopes.iter().find(|s| s["name"] == "offline_access").unwrap();
        assert_eq!(offline["scopeMappings"]["realmMappings"], json!(["offline_access"]));
        let clients = view["clients"].as_array().unwrap();
        let console = clients.iter().find(|c| c["clientId"] == "account-console").unwrap();
        assert_eq!(console["fullScopeAllowed"], false);
        assert_eq!(console["mappers"][0]["protocolMapper"], "oidc-audience-resolve-mapper");
        assert_eq!(console["scopeMappings"]["clientMappings"]["account"]["mappings"], json!(["manage-account"]));
        assert_eq!(console["default"], json!(["acr", "basic", "email", "profile", "roles", "web-origins"]));

        let exported = export(app.store.as_ref(), &app.master_key, "demo-realm").await.unwrap();
        let json = serde_json::to_value(&exported).unwrap();
        assert_eq!(json["clientScopes"].as_array().unwrap().len(), 11);
        assert_eq!(json["keycloakVersion"], "26.0.0", "the format it follows: its own export is never migrated again");
        assert_eq!(json["clientScopeMappings"]["account"][0]["client"], "account-console");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("copy.json");
        std::fs::write(&file, json.to_string()).unwrap();
        let other = spawn_app(backend).await;
        let again = import(&other, &file).await;
        assert!(!again.iter().any(|w| w.contains("client scope as a realm default")), "no migration twice: {again:#?}");
        assert!(!again.iter().any(|w| w.contains("scope")  && !w.contains("is not supported")), "{again:#?}");
        let copy = scope_view(&Admin::login(&other).await, "demo-realm").await;
        let without_realm = |mut v: Value| {
            for scope in v["scopes"].as_array_mut().unwrap() {
                scope["scopeMappings"]["clientMappings"].take();
            }
            v
        };
        assert_eq!(without_realm(copy), without_realm(view), "import -> export -> import gives the same scope model");
        other.stop().await;
        app.stop().await;
    }

    async fn a_database_from_before_the_scope_tables_gets_the_built_in_scopes_at_start(backend: Backend) {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(backend, &dir).await;
        // the settings carry Keycloak's CSP header ('self'), so quotes are doubled for the literal
        let settings = serde_json::to_string(&RealmSettings::default()).unwrap().replace('\'', "''");
        let rows = [
            format!("INSERT INTO realms (id, name, enabled, not_before, settings, created_at) VALUES ('r-old', 'old', TRUE, 0, '{settings}', 1)"),
            "INSERT INTO roles (id, realm_id, container_id, client_role, name, description) VALUES ('role-offline', 'r-old', 'r-old', FALSE, 'offline_access', NULL)".to_string(),
            "INSERT INTO clients (id, realm_id, client_id, name, enabled, public_client, bearer_only, secret_sealed, redirect_uris, \
             web_origins, standard_flow_enabled, direct_access_grants_enabled, service_accounts_enabled, consent_required, attributes, created_at) \
             VALUES ('c-old', 'r-old', 'legacy', NULL, TRUE, TRUE, FALSE, NULL, '[]', '[]', TRUE, TRUE, FALSE, FALSE, '{}', 1)".to_string(),
        ];
        match backend {
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                let mut migrator = sqlx::migrate::Migrator::new(std::path::Path::new("migrations/postgres")).await.unwrap();
                migrator.migrations = Cow::Owned(migrator.migrations.iter().filter(|m| m.version < 9).cloned().collect());
                migrator.run(&pool).await.unwrap();
                for row in &rows {
                    sqlx::query(row).execute(&pool).await.unwrap();
                }
                pool.close().await;
            }
            Backend::Sqlite => {
                let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
                let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true)).await.unwrap();
                let mut migrator = sqlx::migrate::Migrator::new(std::path::Path::new("migrations/sqlite")).await.unwrap();
                migrator.migrations = Cow::Owned(migrator.migrations.iter().filter(|m| m.version < 8).cloned().collect());
                migrator.run(&pool).await.unwrap();
                for row in &rows {
                    sqlx::query(row).execute(&pool).await.unwrap();
                }
                pool.close().await;
            }
        }
        let app = Spawn::new(backend).setting("db-url", &url).start().await;
        let admin = Admin::login(&app).await;
        let scopes = admin.ok("/admin/realms/old/client-scopes").await;
        assert_eq!(scopes.as_array().unwrap().len(), 10, "the built-in scopes, added at start-up");
        let defaults = admin.ok("/admin/realms/old/clients/c-old/default-client-scopes").await;
        assert_eq!(defaults.as_array().unwrap().len(), 6, "the existing client is linked to the realm defaults");
        assert_eq!(admin.ok("/admin/realms/old/clients/c-old").await["fullScopeAllowed"], true, "the column's default");
        let offline = scopes.as_array().unwrap().iter().find(|s| s["name"] == "offline_access").unwrap();
        let mapped = admin.ok(&format!("/admin/realms/old/client-scopes/{}/scope-mappings/realm", offline["id"].as_str().unwrap())).await;
        assert_eq!(mapped[0]["name"], "offline_access");
        assert!(app.store.scope_upgrades_pending().await.unwrap().is_empty());
        let master = admin.ok("/admin/realms/master/client-scopes").await;
        assert_eq!(master.as_array().unwrap().len(), 10, "a realm made after the migration got them at creation");
        let again = portcullis::realm::builtin_scopes::upgrade_pending_realms(app.store.as_ref()).await.unwrap();
        assert!(again.is_empty(), "a second start finds nothing pending and adds nothing");
        assert_eq!(admin.ok("/admin/realms/old/client-scopes").await.as_array().unwrap().len(), 10);
        app.stop().await;
    }
}
