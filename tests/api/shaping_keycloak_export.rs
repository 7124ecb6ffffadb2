//! Issue 15's end-to-end check: a realm built from the real Keycloak 15 export in
//! shared/testdata (tests/fixtures holds a copy), given a custom client scope with mappers, client
//! mappers, a composite role, a group tree with role mappings and a user with attributes, is
//! imported, and its access token, id token, userinfo and introspection answers hold, claim by
//! claim, what Keycloak gives for the same realm (README: "Client scopes and token shaping").

use serde_json::{json, Value};

use crate::backend_tests;
use crate::browser_flows::claims;
use crate::helpers::{fixture, Backend, Spawn, TestApp};

const PASSWORD: &str = "dana-password-0123456789";
const RS_SECRET: &str = "resource-server-secret-0123456789";

fn mapper(name: &str, kind: &str, config: Value) -> Value {
    json!({"name": name, "protocol": "openid-connect", "protocolMapper": kind, "config": config})
}

/// The export, with what the test checks added the way the admin console would write it.
fn realm() -> Value {
    let mut realm: Value = serde_json::from_slice(&std::fs::read(fixture("demo-realm-partial-export.json")).unwrap()).unwrap();
    let roles = realm["roles"]["realm"].as_array_mut().unwrap();
    roles.push(json!({"name": "reader", "composite": false}));
    roles.push(json!({"name": "editor", "composite": true, "composites": {"realm": ["reader"]}}));
    realm["roles"]["client"]["angular-client-B"] = json!([{"name": "b-admin", "composite": false}]);
    realm["clientScopes"].as_array_mut().unwrap().push(json!({
        "name": "department", "protocol": "openid-connect",
        "attributes": {"include.in.token.scope": "true", "display.on.consent.screen": "true", "consent.screen.text": "Your department"},
        "protocolMappers": [
            mapper("department", "oidc-usermodel-attribute-mapper", json!({"user.attribute": "department", "claim.name": "org.department",
                "jsonType.label": "String", "access.token.claim": "true", "id.token.claim": "true", "userinfo.token.claim": "true",
                "introspection.token.claim": "true"})),
            mapper("groups", "oidc-group-membership-mapper", json!({"claim.name": "groups", "full.path": "false",
                "access.token.claim": "true", "id.token.claim": "true", "userinfo.token.claim": "true"})),
        ]
    }));
    for client in realm["clients"].as_array_mut().unwrap() {
        if client["clientId"] == "angular-client-A" {
            client["optionalClientScopes"].as_array_mut().unwrap().push(json!("department"));
            client["protocolMappers"] = json!([
                mapper("tenant", "oidc-hardcoded-claim-mapper", json!({"claim.name": "tenant", "claim.value": "acme",
                    "jsonType.label": "String", "access.token.claim": "true", "introspection.token.claim": "true"})),
                mapper("b audience", "oidc-audience-mapper", json!({"included.client.audience": "angular-client-B",
                    "access.token.claim": "true", "id.token.claim": "false"})),
            ]);
        }
    }
    realm["clients"].as_array_mut().unwrap().push(json!({"clientId": "resource-server", "enabled": true, "publicClient": false,
        "secret": RS_SECRET, "standardFlowEnabled": false, "directAccessGrantsEnabled": false, "protocol": "openid-connect"}));
    realm["groups"] = json!([{"name": "staff", "path": "/staff", "realmRoles": ["editor"], "subGroups": [
        {"name": "eng", "path": "/staff/eng", "clientRoles": {"angular-client-B": ["b-admin"]}, "subGroups": []}]}]);
    realm["users"] = json!([{"username": "dana", "email": "dana@example.com", "firstName": "Dana", "lastName": "Scully",
        "enabled": true, "emailVerified": true, "attributes": {"department": ["research"]},
        "credentials": [{"type": "password", "value": PASSWORD}], "realmRoles": ["default-roles-demo-realm"],
        "groups": ["/staff/eng"]}]);
    realm
}

async fn spawn(backend: Backend) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo-realm.json");
    std::fs::write(&path, realm().to_string()).unwrap();
    (Spawn::new(backend).import(path).start().await, dir)
}

fn strings(value: &Value) -> Vec<String> {
    let mut list: Vec<String> = match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
        _ => Vec::new(),
    };
    list.sort();
    list
}

backend_tests! {
    async fn a_keycloak_export_with_scopes_mappers_groups_and_composites_shapes_every_answer(backend: Backend) {
        let (app, _dir) = spawn(backend).await;
        let token_url = app.url("/realms/demo-realm/protocol/openid-connect/token");
        let form = [("grant_type", "password"), ("client_id", "angular-client-A"), ("username", "dana"), ("password", PASSWORD),
            ("scope", "openid department")];
        let response = app.http.post(&token_url).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let tokens: Value = response.json().await.unwrap();
        assert_eq!(tokens["scope"], "openid department email profile");

        let access = claims(tokens["access_token"].as_str().unwrap());
        assert_eq!(access["typ"], "Bearer");
        assert_eq!(access["azp"], "angular-client-A");
        assert_eq!(access["scope"], "openid department email profile");
        assert_eq!(access["acr"], "1", "a Keycloak 15 export gets the acr scope on import, as MigrateTo18 adds it");
        assert!(access["auth_time"].is_i64() && access["sid"].is_string(), "{access}");
        assert_eq!(strings(&access["aud"]), ["account", "angular-client-B"],
            "audience-resolve (account, angular-client-B) and the audience mapper (angular-client-B)");
        for (claim, value) in [("preferred_username", json!("dana")), ("email", json!("dana@example.com")), ("email_verified", json!(true)),
            ("name", json!("Dana Scully")), ("given_name", json!("Dana")), ("family_name", json!("Scully")),
            ("org", json!({"department": "research"})), ("groups", json!(["eng"])), ("tenant", json!("acme"))] {
            assert_eq!(access[claim], value, "access token {claim}: {access}");
        }
        assert_eq!(strings(&access["realm_access"]["roles"]),
            ["default-roles-demo-realm", "editor", "offline_access", "reader", "uma_authorization"],
            "direct, group (parent's editor) and composite (editor's reader, the default roles') realm roles");
        assert_eq!(strings(&access["resource_access"]["angular-client-B"]["roles"]), ["b-admin"], "the group's client role");
        assert_eq!(strings(&access["resource_access"]["account"]["roles"]), ["manage-account", "manage-account-links", "view-profile"]);
        assert_eq!(strings(&access["allowed-origins"]), ["http://18.184.159.218:8081", "http://3.68.105.190:8081"]);

        let id = claims(tokens["id_token"].as_str().unwrap());
        assert_eq!((id["typ"].as_str(), id["aud"].as_str()), (Some("ID"), Some("angular-client-A")), "{id}");
        for (claim, value) in [("preferred_username", json!("dana")), ("name", json!("Dana Scully")), ("email", json!("dana@example.com")),
            ("org", json!({"department": "research"})), ("groups", json!(["eng"])), ("acr", json!("1"))] {
            assert_eq!(id[claim], value, "id token {claim}: {id}");
        }
        for absent in ["tenant", "realm_access", "resource_access", "allowed-origins", "scope"] {
            assert!(id.get(absent).is_none(), "id token has no {absent}: {id}");
        }

        let response = app.http.get(app.url("/realms/demo-realm/protocol/openid-connect/userinfo"))
            .bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let info: Value = response.json().await.unwrap();
        assert_eq!(info["sub"], access["sub"]);
        for (claim, value) in [("preferred_username", json!("dana")), ("email_verified", json!(true)), ("org", json!({"department": "research"})),
            ("groups", json!(["eng"]))] {
            assert_eq!(info[claim], value, "userinfo {claim}: {info}");
        }
        for absent in ["tenant", "realm_access", "aud", "acr"] {
            assert!(info.get(absent).is_none(), "userinfo has no {absent}: {info}");
        }

        let form = [("client_id", "resource-server"), ("client_secret", RS_SECRET), ("token", tokens["access_token"].as_str().unwrap())];
        let response = app.http.post(app.url("/realms/demo-realm/protocol/openid-connect/token/introspect")).form(&form).send().await.unwrap();
        let answer: Value = response.json().await.unwrap();
        assert_eq!((answer["active"].as_bool(), answer["client_id"].as_str(), answer["username"].as_str()),
            (Some(true), Some("angular-client-A"), Some("dana")), "{answer}");
        for (claim, value) in [("tenant", json!("acme")), ("org", json!({"department": "research"})), ("groups", json!(["eng"])),
            ("scope", json!("openid department email profile"))] {
            assert_eq!(answer[claim], value, "introspection {claim}: {answer}");
        }
        assert_eq!(strings(&answer["realm_access"]["roles"]), strings(&access["realm_access"]["roles"]));

        // without the optional scope, its mappers do not run
        let form = [("grant_type", "password"), ("client_id", "angular-client-A"), ("username", "dana"), ("password", PASSWORD)];
        let plain: Value = app.http.post(&token_url).form(&form).send().await.unwrap().json().await.unwrap();
        let access = claims(plain["access_token"].as_str().unwrap());
        assert_eq!(plain["scope"], "email profile");
        assert!(access.get("org").is_none() && access.get("groups").is_none(), "{access}");
        assert_eq!(access["tenant"], "acme", "the client's own mapper always runs");
    }
}
