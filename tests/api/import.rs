//! Realm import and export through the realm service, with Keycloak's exists/override rules.

use portcullis::crypto::password::PasswordHasher;
use portcullis::realm::service::{export, import_paths, OnExisting, RealmServiceError};

use crate::backend_tests;
use crate::helpers::{fixture, spawn_app, TestApp};

async fn import(app: &TestApp, paths: &[std::path::PathBuf], on_existing: OnExisting)
    -> Result<Vec<portcullis::realm::service::ImportOutcome>, RealmServiceError> {
    let hasher = PasswordHasher::new(2);
    import_paths(app.store.as_ref(), &app.master_key, &hasher, 1_700_000_000, paths, on_existing).await
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

backend_tests! {
    async fn a_real_keycloak_export_imports_and_serves_discovery(backend: Backend) {
        let app = spawn_app(backend).await;
        let outcomes = import(&app, &[fixture("demo-realm-partial-export.json")], OnExisting::Fail).await.unwrap();
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].realm, "demo-realm");
        println!("ignored: {:#?}", outcomes[0].warnings);
        assert!(outcomes[0].warnings.len() < 200, "warnings are one per unknown field, not per occurrence");

        let realm = app.store.realm_by_name("demo-realm").await.unwrap().unwrap();
        assert!(!realm.settings.revoke_refresh_token, "the file's explicit value wins over our default");
        assert_eq!(realm.settings.sso_session_idle_timeout, 1800);
        let clients = app.store.list_clients(&realm.id).await.unwrap();
        assert!(clients.iter().any(|c| c.client_id == "angular-client-A" && c.public_client));
        let (status, doc) = app.get_json("/realms/demo-realm/.well-known/openid-configuration").await;
        assert_eq!(status, 200);
        assert_eq!(doc["issuer"], format!("{}/realms/demo-realm", app.base).as_str());
        app.stop().await;
    }

    async fn a_malformed_file_names_the_json_path_and_changes_nothing(backend: Backend) {
        let app = spawn_app(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let good = write(&dir, "a-good.json", r#"{"realm": "fine"}"#);
        let bad = write(&dir, "b-bad.json", r#"{"realm": "broken", "clients": [{"clientId": "ok"}, {"clientId": 5}]}"#);
        let err = import(&app, &[good.clone(), bad.clone()], OnExisting::Fail).await.unwrap_err().to_string();
        assert!(err.contains("b-bad.json"), "{err}");
        assert!(err.contains("clients[1].clientId"), "{err}");
        let syntax = write(&dir, "c-syntax.json", "{\"realm\": \"x\",\n  oops}");
        let err = import(&app, &[syntax], OnExisting::Fail).await.unwrap_err().to_string();
        assert!(err.contains("c-syntax.json") && err.contains("line 2"), "{err}");
        let names: Vec<String> = app.store.list_realms().await.unwrap().into_iter().map(|r| r.name).collect();
        assert_eq!(names, vec!["master".to_string()], "nothing was imported");
        app.stop().await;
    }

    async fn an_existing_realm_fails_skips_or_is_replaced(backend: Backend) {
        let app = spawn_app(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let file = write(&dir, "r.json", r#"{"realm": "again", "accessTokenLifespan": 120}"#);
        import(&app, &[file.clone()], OnExisting::Fail).await.unwrap();
        let first = app.store.realm_by_name("again").await.unwrap().unwrap();

        let err = import(&app, &[file.clone()], OnExisting::Fail).await.unwrap_err();
        assert!(err.to_string().contains("already exists") && err.to_string().contains("--override"), "{err}");
        let skipped = import(&app, &[file.clone()], OnExisting::Skip).await.unwrap();
        assert!(!skipped[0].imported);
        assert_eq!(app.store.realm_by_name("again").await.unwrap().unwrap().id, first.id);

        let changed = write(&dir, "r.json", r#"{"realm": "again", "accessTokenLifespan": 60}"#);
        import(&app, &[changed], OnExisting::Replace).await.unwrap();
        let replaced = app.store.realm_by_name("again").await.unwrap().unwrap();
        assert_ne!(replaced.id, first.id);
        assert_eq!(replaced.settings.access_token_lifespan, 60);
        app.stop().await;
    }

    async fn a_directory_and_an_array_of_realms_both_import(backend: Backend) {
        let app = spawn_app(backend).await;
        let dir = tempfile::tempdir().unwrap();
        write(&dir, "one.json", r#"{"realm": "one"}"#);
        write(&dir, "many.json", r#"[{"realm": "two"}, {"realm": "three"}]"#);
        write(&dir, "notes.txt", "not a realm");
        let outcomes = import(&app, &[dir.path().to_path_buf()], OnExisting::Fail).await.unwrap();
        let mut names: Vec<String> = outcomes.into_iter().map(|o| o.realm).collect();
        names.sort();
        assert_eq!(names, ["one", "three", "two"]);
        app.stop().await;
    }

    async fn an_export_imports_again_under_override(backend: Backend) {
        let app = spawn_app(backend).await;
        import(&app, &[fixture("secrets-realm.json")], OnExisting::Fail).await.unwrap();
        let exported = export(app.store.as_ref(), &app.master_key, "vault").await.unwrap();
        let json = serde_json::to_string_pretty(&exported).unwrap();
        assert!(json.contains("s3cr3t-client-value-0123456789"), "export carries the client secret, as Keycloak's does");
        assert!(!json.contains("correct-horse-battery-staple"), "never the password");
        let dir = tempfile::tempdir().unwrap();
        let file = write(&dir, "vault.json", &json);
        import(&app, &[file], OnExisting::Replace).await.unwrap();
        let realm = app.store.realm_by_name("vault").await.unwrap().unwrap();
        let carol = app.store.user_by_username(&realm.id, "carol").await.unwrap().expect("user survives");
        let credential = app.store.password_credential(&carol.id).await.unwrap().expect("password survives");
        assert!(credential.secret_data.starts_with("$argon2id$"));
        app.stop().await;
    }
}
