//! A realm file's groups (issue 15): nested `subGroups` with attributes and realm and client
//! roles, users' `groups` by path and `defaultGroups` import without an ignored-field warning,
//! members get the inherited roles in their tokens, and import -> export -> import gives the same
//! groups back.

use portcullis::crypto::password::PasswordHasher;
use portcullis::realm::service::{export, import_paths, OnExisting};
use portcullis::store::groups::GroupFilter;
use serde_json::{json, Value};

use crate::admin_support::password_grant;
use crate::backend_tests;
use crate::browser_flows::claims;
use crate::helpers::{spawn_app, TestApp};

fn realm_file() -> Value {
    json!({
        "realm": "guild",
        "enabled": true,
        "roles": {
            "realm": [{ "name": "member" }, { "name": "elder" }],
            "client": { "app": [{ "name": "editor" }] }
        },
        "clients": [{ "clientId": "app", "publicClient": true, "directAccessGrantsEnabled": true }],
        "groups": [
            {
                "name": "crafts",
                "path": "/crafts",
                "attributes": { "hall": ["north"] },
                "realmRoles": ["member"],
                "clientRoles": { "app": ["editor"] },
                "subGroups": [
                    { "name": "smiths", "path": "/crafts/smiths", "realmRoles": ["elder", "ghost"], "subGroups": [
                        { "name": "masters", "path": "/crafts/smiths/masters", "subGroups": [] }
                    ] },
                    { "name": "weavers", "path": "/crafts/weavers", "subGroups": [] }
                ]
            },
            { "name": "visitors", "path": "/visitors", "subGroups": [] }
        ],
        "defaultGroups": ["/visitors"],
        "users": [
            {
                "username": "ada",
                "enabled": true,
                "credentials": [{ "type": "password", "value": "ada-password-1" }],
                "groups": ["/crafts/smiths/masters", "/nowhere"]
            }
        ]
    })
}

async fn import(app: &TestApp, text: &str, on_existing: OnExisting) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guild.json");
    std::fs::write(&path, text).unwrap();
    let hasher = PasswordHasher::new(2);
    let outcomes = import_paths(app.store.as_ref(), &app.master_key, &hasher, 1_700_000_000, &[path], on_existing)
        .await
        .unwrap();
    outcomes.into_iter().flat_map(|o| o.warnings).collect()
}

/// What an export says about groups: the tree, users' paths and default groups (ids aside).
fn groups_part(export: &Value) -> Value {
    fn strip(groups: &Value) -> Value {
        Value::Array(
            groups
                .as_array()
                .unwrap()
                .iter()
                .map(|g| {
                    json!({
                        "name": g["name"], "path": g["path"], "attributes": g["attributes"],
                        "realmRoles": g["realmRoles"], "clientRoles": g["clientRoles"],
                        "subGroups": strip(&g["subGroups"]),
                    })
                })
                .collect(),
        )
    }
    let users: Vec<Value> = export["users"].as_array().unwrap().iter().map(|u| json!([u["username"], u["groups"]])).collect();
    json!({ "groups": strip(&export["groups"]), "defaultGroups": export["defaultGroups"], "users": users })
}

backend_tests! {
    async fn a_realm_files_groups_import_shape_tokens_and_round_trip(backend: Backend) {
        let app = spawn_app(backend).await;
        let warnings = import(&app, &realm_file().to_string(), OnExisting::Fail).await;
        assert!(!warnings.iter().any(|w| w.contains("ignored unknown field") && w.contains("roup")), "{warnings:#?}");
        assert!(warnings.iter().any(|w| w.contains("/crafts/smiths") && w.contains("ghost")), "{warnings:#?}");
        assert!(warnings.iter().any(|w| w.contains("/nowhere")), "{warnings:#?}");

        let realm = app.store.realm_by_name("guild").await.unwrap().unwrap();
        let masters = app.store.group_by_path(&realm.id, &["crafts".into(), "smiths".into(), "masters".into()]).await.unwrap();
        assert_eq!(masters.expect("nested groups imported").path, "/crafts/smiths/masters");
        let crafts = app.store.group_by_path(&realm.id, &["crafts".into()]).await.unwrap().unwrap();
        assert_eq!(crafts.group.attributes["hall"], vec!["north".to_string()]);
        let defaults = GroupFilter { defaults_only: true, ..GroupFilter::default() };
        assert_eq!(app.store.list_groups(&realm.id, &defaults).await.unwrap()[0].path, "/visitors");

        let tokens = password_grant(&app, "guild", "app", None, "ada", "ada-password-1", None).await;
        let access = claims(tokens["access_token"].as_str().unwrap());
        let roles = access["realm_access"]["roles"].as_array().unwrap();
        assert!(roles.contains(&json!("member")) && roles.contains(&json!("elder")), "inherited from both ancestors: {access}");
        assert_eq!(access["resource_access"]["app"]["roles"], json!(["editor"]), "{access}");

        let first = serde_json::to_value(export(app.store.as_ref(), &app.master_key, "guild").await.unwrap()).unwrap();
        let part = groups_part(&first);
        assert_eq!(part["defaultGroups"], json!(["/visitors"]));
        assert_eq!(part["users"], json!([["ada", ["/crafts/smiths/masters"]]]));
        assert_eq!(part["groups"][0]["subGroups"][0]["path"], "/crafts/smiths");
        assert_eq!(part["groups"][0]["clientRoles"], json!({ "app": ["editor"] }));

        let again = import(&app, &first.to_string(), OnExisting::Replace).await;
        assert!(!again.iter().any(|w| w.contains("roup")), "an export imports cleanly: {again:#?}");
        let second = serde_json::to_value(export(app.store.as_ref(), &app.master_key, "guild").await.unwrap()).unwrap();
        assert_eq!(groups_part(&second), part);
        assert_eq!(second["groups"], first["groups"], "ids are kept too");
        app.stop().await;
    }
}
