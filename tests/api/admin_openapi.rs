//! The OpenAPI document at /admin/openapi.json: it describes every route the issue promises,
//! every operation it describes is routed, and every schema it references exists.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::admin_support::{call, vault, Admin};
use crate::backend_tests;

/// The Keycloak admin endpoints Portcullis implements (issue 5), as "METHOD path".
const PROMISED: &[&str] = &[
    "GET /admin/realms",
    "POST /admin/realms",
    "GET /admin/realms/{realm}",
    "PUT /admin/realms/{realm}",
    "DELETE /admin/realms/{realm}",
    "GET /admin/realms/{realm}/clients",
    "POST /admin/realms/{realm}/clients",
    "GET /admin/realms/{realm}/clients/{id}",
    "PUT /admin/realms/{realm}/clients/{id}",
    "DELETE /admin/realms/{realm}/clients/{id}",
    "GET /admin/realms/{realm}/clients/{id}/client-secret",
    "POST /admin/realms/{realm}/clients/{id}/client-secret",
    "GET /admin/realms/{realm}/clients/{id}/user-sessions",
    "GET /admin/realms/{realm}/clients/{id}/offline-sessions",
    "GET /admin/realms/{realm}/clients/{id}/service-account-user",
    "GET /admin/realms/{realm}/users",
    "POST /admin/realms/{realm}/users",
    "GET /admin/realms/{realm}/users/count",
    "GET /admin/realms/{realm}/users/profile",
    "PUT /admin/realms/{realm}/users/profile",
    "GET /admin/realms/{realm}/users/profile/metadata",
    "GET /admin/realms/{realm}/users/{id}",
    "PUT /admin/realms/{realm}/users/{id}",
    "DELETE /admin/realms/{realm}/users/{id}",
    "PUT /admin/realms/{realm}/users/{id}/reset-password",
    "GET /admin/realms/{realm}/users/{id}/credentials",
    "DELETE /admin/realms/{realm}/users/{id}/credentials/{credential}",
    "PUT /admin/realms/{realm}/users/{id}/credentials/{credential}/userLabel",
    "POST /admin/realms/{realm}/users/{id}/credentials/{credential}/moveToFirst",
    "POST /admin/realms/{realm}/users/{id}/credentials/{credential}/moveAfter/{previous}",
    "GET /admin/realms/{realm}/users/{id}/configured-user-storage-credential-types",
    "GET /admin/realms/{realm}/authentication/required-actions",
    "GET /admin/realms/{realm}/authentication/required-actions/{alias}",
    "PUT /admin/realms/{realm}/authentication/required-actions/{alias}",
    "DELETE /admin/realms/{realm}/authentication/required-actions/{alias}",
    "POST /admin/realms/{realm}/authentication/required-actions/{alias}/raise-priority",
    "POST /admin/realms/{realm}/authentication/required-actions/{alias}/lower-priority",
    "GET /admin/realms/{realm}/authentication/unregistered-required-actions",
    "POST /admin/realms/{realm}/authentication/register-required-action",
    "POST /admin/realms/{realm}/user-storage/{id}/sync",
    "POST /admin/realms/{realm}/user-storage/{id}/remove-imported-users",
    "POST /admin/realms/{realm}/user-storage/{id}/unlink-users",
    "POST /admin/realms/{realm}/user-storage/{parent}/mappers/{id}/sync",
    "PUT /admin/realms/{realm}/users/{id}/execute-actions-email",
    "PUT /admin/realms/{realm}/users/{id}/send-verify-email",
    // issue 17: e-mail
    "POST /admin/realms/{realm}/testSMTPConnection",
    "GET /admin/realms/{realm}/attack-detection/brute-force/users/{id}",
    "DELETE /admin/realms/{realm}/attack-detection/brute-force/users/{id}",
    "DELETE /admin/realms/{realm}/attack-detection/brute-force/users",
    "GET /admin/realms/{realm}/users/{id}/sessions",
    "GET /admin/realms/{realm}/users/{id}/offline-sessions/{client}",
    "POST /admin/realms/{realm}/users/{id}/logout",
    "GET /admin/realms/{realm}/users/{id}/consents",
    "DELETE /admin/realms/{realm}/users/{id}/consents/{client}",
    "GET /admin/realms/{realm}/roles",
    "POST /admin/realms/{realm}/roles",
    "GET /admin/realms/{realm}/roles/{role}",
    "PUT /admin/realms/{realm}/roles/{role}",
    "DELETE /admin/realms/{realm}/roles/{role}",
    "GET /admin/realms/{realm}/users/{id}/role-mappings",
    "GET /admin/realms/{realm}/users/{id}/role-mappings/realm",
    "POST /admin/realms/{realm}/users/{id}/role-mappings/realm",
    "DELETE /admin/realms/{realm}/users/{id}/role-mappings/realm",
    // beyond the issue: what granting realm-management roles (realm-scoped admins) needs
    "GET /admin/realms/{realm}/users/{id}/role-mappings/clients/{client}",
    "POST /admin/realms/{realm}/users/{id}/role-mappings/clients/{client}",
    "DELETE /admin/realms/{realm}/users/{id}/role-mappings/clients/{client}",
    "GET /admin/realms/{realm}/clients/{id}/roles",
    "GET /admin/realms/{realm}/clients/{id}/roles/{role}",
    "DELETE /admin/realms/{realm}/sessions/{session}",
    "GET /admin/realms/{realm}/client-session-stats",
    "POST /admin/realms/{realm}/logout-all",
    "POST /admin/realms/{realm}/push-revocation",
    "GET /admin/realms/{realm}/events",
    "GET /admin/realms/{realm}/admin-events",
    "GET /admin/openapi.json",
    // issue 15: groups
    "GET /admin/realms/{realm}/groups",
    "POST /admin/realms/{realm}/groups",
    "GET /admin/realms/{realm}/groups/count",
    "GET /admin/realms/{realm}/groups/{id}",
    "PUT /admin/realms/{realm}/groups/{id}",
    "DELETE /admin/realms/{realm}/groups/{id}",
    "GET /admin/realms/{realm}/groups/{id}/children",
    "POST /admin/realms/{realm}/groups/{id}/children",
    "GET /admin/realms/{realm}/groups/{id}/members",
    "GET /admin/realms/{realm}/groups/{id}/role-mappings",
    "GET /admin/realms/{realm}/groups/{id}/role-mappings/realm",
    "POST /admin/realms/{realm}/groups/{id}/role-mappings/realm",
    "DELETE /admin/realms/{realm}/groups/{id}/role-mappings/realm",
    "GET /admin/realms/{realm}/groups/{id}/role-mappings/realm/available",
    "GET /admin/realms/{realm}/groups/{id}/role-mappings/realm/composite",
    "GET /admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}",
    "POST /admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}",
    "DELETE /admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}",
    "GET /admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}/available",
    "GET /admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}/composite",
    "GET /admin/realms/{realm}/group-by-path/{path}",
    "GET /admin/realms/{realm}/default-groups",
    "PUT /admin/realms/{realm}/default-groups/{group}",
    "DELETE /admin/realms/{realm}/default-groups/{group}",
    "GET /admin/realms/{realm}/users/{id}/groups",
    "GET /admin/realms/{realm}/users/{id}/groups/count",
    "PUT /admin/realms/{realm}/users/{id}/groups/{group}",
    "DELETE /admin/realms/{realm}/users/{id}/groups/{group}",
    // clients and roles (issue 14 items 5, 7)
    "POST /admin/realms/{realm}/clients/{id}/roles",
    "PUT /admin/realms/{realm}/clients/{id}/roles/{role}",
    "DELETE /admin/realms/{realm}/clients/{id}/roles/{role}",
    "GET /admin/realms/{realm}/clients/{id}/roles/{role}/composites",
    "POST /admin/realms/{realm}/clients/{id}/roles/{role}/composites",
    "DELETE /admin/realms/{realm}/clients/{id}/roles/{role}/composites",
    "GET /admin/realms/{realm}/clients/{id}/roles/{role}/composites/realm",
    "GET /admin/realms/{realm}/clients/{id}/roles/{role}/composites/clients/{client}",
    "GET /admin/realms/{realm}/clients/{id}/roles/{role}/users",
    "GET /admin/realms/{realm}/roles/{role}/composites",
    "POST /admin/realms/{realm}/roles/{role}/composites",
    "DELETE /admin/realms/{realm}/roles/{role}/composites",
    "GET /admin/realms/{realm}/roles/{role}/composites/realm",
    "GET /admin/realms/{realm}/roles/{role}/composites/clients/{client}",
    "GET /admin/realms/{realm}/roles/{role}/users",
    "GET /admin/realms/{realm}/roles-by-id/{id}",
    "PUT /admin/realms/{realm}/roles-by-id/{id}",
    "DELETE /admin/realms/{realm}/roles-by-id/{id}",
    "GET /admin/realms/{realm}/roles-by-id/{id}/composites",
    "POST /admin/realms/{realm}/roles-by-id/{id}/composites",
    "DELETE /admin/realms/{realm}/roles-by-id/{id}/composites",
    "GET /admin/realms/{realm}/roles-by-id/{id}/composites/realm",
    "GET /admin/realms/{realm}/roles-by-id/{id}/composites/clients/{client}",
    "GET /admin/realms/{realm}/users/{id}/role-mappings/realm/available",
    "GET /admin/realms/{realm}/users/{id}/role-mappings/realm/composite",
    "GET /admin/realms/{realm}/users/{id}/role-mappings/clients/{client}/available",
    "GET /admin/realms/{realm}/users/{id}/role-mappings/clients/{client}/composite",
    "GET /admin/realms/{realm}/clients/{id}/session-count",
    "GET /admin/realms/{realm}/clients/{id}/offline-session-count",
    "GET /admin/realms/{realm}/clients/{id}/installation/providers/{provider}",
    "GET /admin/realms/{realm}/clients/{id}/evaluate-scopes/protocol-mappers",
    "GET /admin/realms/{realm}/clients/{id}/evaluate-scopes/generate-example-access-token",
    "GET /admin/realms/{realm}/clients/{id}/evaluate-scopes/generate-example-id-token",
    "GET /admin/realms/{realm}/clients/{id}/evaluate-scopes/generate-example-userinfo",
    // issue 14: realms and server-level resources
    "GET /admin/realms/{realm}/events/config",
    "PUT /admin/realms/{realm}/events/config",
    "DELETE /admin/realms/{realm}/events",
    "DELETE /admin/realms/{realm}/admin-events",
    "GET /admin/realms/{realm}/keys",
    "GET /admin/serverinfo",
    "POST /admin/realms/{realm}/partial-export",
    "POST /admin/realms/{realm}/partialImport",
    "GET /admin/{realm}/console/whoami",
    "POST /admin/realms/{realm}/clear-realm-cache",
    "POST /admin/realms/{realm}/clear-user-cache",
    "POST /admin/realms/{realm}/clear-keys-cache",
    "GET /admin/realms/{realm}/roles/{role}/groups",
    "GET /admin/realms/{realm}/clients/{id}/roles/{role}/groups",
    // Issue 15: client scopes, protocol mappers, default scopes and scope mappings.
    "GET /admin/realms/{realm}/client-scopes",
    "POST /admin/realms/{realm}/client-scopes",
    "GET /admin/realms/{realm}/client-scopes/{id}",
    "PUT /admin/realms/{realm}/client-scopes/{id}",
    "DELETE /admin/realms/{realm}/client-scopes/{id}",
    "GET /admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models",
    "POST /admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models",
    "POST /admin/realms/{realm}/client-scopes/{id}/protocol-mappers/add-models",
    "GET /admin/realms/{realm}/client-scopes/{id}/protocol-mappers/protocol/{protocol}",
    "GET /admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models/{mapper}",
    "PUT /admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models/{mapper}",
    "DELETE /admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models/{mapper}",
    "GET /admin/realms/{realm}/clients/{id}/protocol-mappers/models",
    "POST /admin/realms/{realm}/clients/{id}/protocol-mappers/models",
    "POST /admin/realms/{realm}/clients/{id}/protocol-mappers/add-models",
    "GET /admin/realms/{realm}/clients/{id}/protocol-mappers/protocol/{protocol}",
    "GET /admin/realms/{realm}/clients/{id}/protocol-mappers/models/{mapper}",
    "PUT /admin/realms/{realm}/clients/{id}/protocol-mappers/models/{mapper}",
    "DELETE /admin/realms/{realm}/clients/{id}/protocol-mappers/models/{mapper}",
    "GET /admin/realms/{realm}/default-default-client-scopes",
    "PUT /admin/realms/{realm}/default-default-client-scopes/{scope}",
    "DELETE /admin/realms/{realm}/default-default-client-scopes/{scope}",
    "GET /admin/realms/{realm}/default-optional-client-scopes",
    "PUT /admin/realms/{realm}/default-optional-client-scopes/{scope}",
    "DELETE /admin/realms/{realm}/default-optional-client-scopes/{scope}",
    "GET /admin/realms/{realm}/clients/{id}/default-client-scopes",
    "PUT /admin/realms/{realm}/clients/{id}/default-client-scopes/{scope}",
    "DELETE /admin/realms/{realm}/clients/{id}/default-client-scopes/{scope}",
    "GET /admin/realms/{realm}/clients/{id}/optional-client-scopes",
    "PUT /admin/realms/{realm}/clients/{id}/optional-client-scopes/{scope}",
    "DELETE /admin/realms/{realm}/clients/{id}/optional-client-scopes/{scope}",
    "GET /admin/realms/{realm}/clients/{id}/scope-mappings",
    "GET /admin/realms/{realm}/clients/{id}/scope-mappings/realm",
    "POST /admin/realms/{realm}/clients/{id}/scope-mappings/realm",
    "DELETE /admin/realms/{realm}/clients/{id}/scope-mappings/realm",
    "GET /admin/realms/{realm}/clients/{id}/scope-mappings/realm/available",
    "GET /admin/realms/{realm}/clients/{id}/scope-mappings/realm/composite",
    "GET /admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}",
    "POST /admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}",
    "DELETE /admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}",
    "GET /admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}/available",
    "GET /admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}/composite",
    "GET /admin/realms/{realm}/client-scopes/{id}/scope-mappings",
    "GET /admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm",
    "POST /admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm",
    "DELETE /admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm",
    "GET /admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm/available",
    "GET /admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm/composite",
    "GET /admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}",
    "POST /admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}",
    "DELETE /admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}",
    "GET /admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}/available",
    "GET /admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}/composite",
];

fn operations(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    out
}

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

backend_tests! {
    async fn the_openapi_document_describes_every_admin_route_and_only_routed_ones(backend: Backend) {
        let app = vault(backend).await;
        let reply = call(&app, None, "GET", "/admin/openapi.json", None).await;
        assert_eq!(reply.status, 200, "served without a token");
        let doc = reply.body;
        assert_eq!(doc["openapi"], "3.0.3");
        let described = operations(&doc);
        let promised: BTreeSet<String> = PROMISED.iter().map(|s| s.to_string()).collect();
        assert_eq!(described, promised, "described vs promised");

        let mut references = Vec::new();
        refs(&doc, &mut references);
        for reference in references {
            let name = reference.strip_prefix("#/components/schemas/").unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "{reference} is not defined");
        }
        let realm = &doc["components"]["schemas"]["RealmRepresentation"]["properties"];
        for setting in ["accessTokenLifespan", "ssoSessionIdleTimeout", "offlineSessionMaxLifespan", "revokeRefreshToken"] {
            assert!(realm[setting].is_object(), "{setting} described");
        }

        // every described operation reaches a handler: never 405, never the router's fallback
        let admin = Admin::login(&app).await;
        let fallback = call(&app, Some(&admin.token), "GET", "/admin/realms/vault/identity-provider/instances", None).await;
        assert_eq!(fallback.body["error"], "Unable to find matching target resource method", "the fallback looks like this");
        for operation in &described {
            let (method, path) = operation.split_once(' ').unwrap();
            let concrete = path.replace("{realm}", "nope").replace("{id}", "x").replace("{client}", "x")
                .replace("{session}", "x").replace("{role}", "x").replace("{group}", "x").replace("{path}", "x");
            let item = &doc["paths"][path][method.to_lowercase()];
            let body = match item["requestBody"]["content"]["application/json"]["schema"]["type"].as_str() {
                Some("array") => Some(json!([])),
                _ if item.get("requestBody").is_some() => Some(json!({})),
                _ => None,
            };
            let reply = call(&app, Some(&admin.token), method, &concrete, body).await;
            assert_ne!(reply.status, 405, "{operation}");
            assert_ne!(reply.body["error"], "Unable to find matching target resource method", "{operation} is not routed");
            assert!(item["summary"].as_str().is_some_and(|s| !s.is_empty()), "{operation} has a summary");
            assert_eq!(reply.cache_control.as_deref(), Some("no-store"), "{operation}: admin answers are never cached");
        }
        app.stop().await;
    }
}
