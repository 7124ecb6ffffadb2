//! Issue 14 item 3 for clients and roles: a ClientRepresentation or RoleRepresentation body naming
//! a field Keycloak's class does not have (role-mapping and scope-mapping lists included) is `400 "Unrecognized field ..."`; the fields Keycloak
//! has are accepted (what real clients send), those Portcullis has no feature for refused when
//! they ask for one, and what a GET answers can be PUT back.

use serde_json::json;

use crate::admin_support::{vault, Admin};
use crate::backend_tests;

const CLIENT_CLASS: &str = "(class org.keycloak.representations.idm.ClientRepresentation), not marked as ignorable";
const ROLE_CLASS: &str = "(class org.keycloak.representations.idm.RoleRepresentation), not marked as ignorable";

backend_tests! {
    async fn client_bodies_refuse_unknown_fields_and_accept_every_keycloak_field(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let unknown = admin.post("/admin/realms/vault/clients", json!({"clientId": "x", "colour": "red"})).await;
        assert_eq!(unknown.status, 400);
        assert_eq!(unknown.error_message(), format!("Unrecognized field \"colour\" {CLIENT_CLASS}"));
        assert_eq!(admin.ok("/admin/realms/vault/clients?clientId=x").await, json!([]), "nothing was created");
        let mapper = admin.post("/admin/realms/vault/clients",
            json!({"clientId": "x", "protocolMappers": [{"name": "m", "protocolMapper": "oidc-audience-mapper", "bogus": 1}]})).await;
        assert!(mapper.error_message().starts_with("Unrecognized field \"bogus\" (class org.keycloak.representations.idm.ProtocolMapperRepresentation)"), "{mapper:?}");

        // what python-keycloak and keycloak-admin-client send
        let mut full = json!({
            "clientId": "full", "name": "Full", "description": "every field", "rootUrl": "https://full.example",
            "adminUrl": "https://full.example/admin", "baseUrl": "/home", "surrogateAuthRequired": false, "enabled": true,
            "alwaysDisplayInConsole": true, "clientAuthenticatorType": "client-secret", "secret": "full-secret-0123456789",
            "redirectUris": ["https://full.example/*"], "webOrigins": ["+"], "notBefore": 0, "bearerOnly": false,
            "consentRequired": false, "standardFlowEnabled": true, "implicitFlowEnabled": false
        });
        let more = json!({
            "directAccessGrantsEnabled": true, "serviceAccountsEnabled": false, "authorizationServicesEnabled": false,
            "publicClient": false, "frontchannelLogout": true, "protocol": "openid-connect",
            "attributes": {"pkce.code.challenge.method": "S256"}, "authenticationFlowBindingOverrides": {},
            "fullScopeAllowed": false, "nodeReRegistrationTimeout": -1, "registeredNodes": {}, "defaultClientScopes": ["profile"],
            "optionalClientScopes": ["email"], "access": {"view": true, "configure": true, "manage": true}, "origin": null
        });
        let mappers = json!({
            "protocolMappers": [{"name": "aud", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
                                 "consentRequired": false, "config": {"included.client.audience": "full", "access.token.claim": "true"}}]
        });
        for part in [more, mappers] {
            full.as_object_mut().unwrap().extend(part.as_object().unwrap().clone());
        }
        let created = admin.post("/admin/realms/vault/clients", full).await;
        let id = created.created_id();
        let got = admin.ok(&format!("/admin/realms/vault/clients/{id}")).await;
        assert_eq!((got["alwaysDisplayInConsole"].as_bool(), got["fullScopeAllowed"].as_bool()), (Some(true), Some(false)));
        assert_eq!(got["description"], "every field");
        let mut back = got.clone();
        back["description"] = json!("put back");
        let put = admin.put(&format!("/admin/realms/vault/clients/{id}"), back).await;
        assert_eq!(put.status, 204, "a GET can be PUT back: {put:?}");
        assert_eq!(admin.ok(&format!("/admin/realms/vault/clients/{id}")).await["description"], "put back");
        let wrong = admin.put(&format!("/admin/realms/vault/clients/{id}"), json!({"wrong": "payload"})).await;
        assert_eq!(wrong.error_message(), format!("Unrecognized field \"wrong\" {CLIENT_CLASS}"));
        app.stop().await;
    }

    async fn client_fields_without_a_feature_are_refused_when_they_ask_for_one(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        for (field, value) in [
            ("authorizationServicesEnabled", json!(true)),
            ("authorizationSettings", json!({"policyEnforcementMode": "ENFORCING"})),
            ("type", json!("saml-sp")),
            ("registeredNodes", json!({"node1": 1700000000})),
            ("defaultRoles", json!(["r"])),
            ("directGrantsOnly", json!(true)),
            ("useTemplateMappers", json!(true)),
        ] {
            let mut body = json!({"clientId": "authz"});
            body[field] = value;
            let refused = admin.post("/admin/realms/vault/clients", body).await;
            assert_eq!(refused.status, 400, "{field}: {refused:?}");
            assert_eq!(refused.error_message(), format!("{field} is not supported by Portcullis (see README, Admin REST API)"));
        }
        assert_eq!(admin.ok("/admin/realms/vault/clients?clientId=authz").await, json!([]));
        let uuid = admin.client_uuid("vault", "backend").await;
        let refused = admin.put(&format!("/admin/realms/vault/clients/{uuid}"), json!({"authorizationServicesEnabled": true})).await;
        assert_eq!(refused.status, 400);
        app.stop().await;
    }

    async fn role_bodies_refuse_unknown_fields_everywhere_roles_are_written(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let unknown = admin.post("/admin/realms/vault/roles", json!({"name": "r", "colour": "red"})).await;
        assert_eq!((unknown.status, unknown.error_message().to_string()), (400, format!("Unrecognized field \"colour\" {ROLE_CLASS}")));
        assert_eq!(admin.get("/admin/realms/vault/roles/r").await.status, 404);
        let nested = admin.post("/admin/realms/vault/roles", json!({"name": "r", "composites": {"realm": [], "group": []}})).await;
        assert!(nested.error_message().starts_with("Unrecognized field \"group\""), "{nested:?}");

        let every = json!({"name": "r", "description": "d", "scopeParamRequired": false, "composite": false,
            "clientRole": false, "containerId": "vault", "attributes": {"a": ["1"]}, "composites": {"realm": ["offline_access"]}});
        assert_eq!(admin.post("/admin/realms/vault/roles", every).await.status, 201);
        let role = admin.ok("/admin/realms/vault/roles/r").await;
        assert_eq!(admin.put("/admin/realms/vault/roles/r", role.clone()).await.status, 204, "a GET can be PUT back");
        let id = role["id"].as_str().unwrap().to_string();
        assert_eq!(admin.put(&format!("/admin/realms/vault/roles-by-id/{id}"), json!({"bad": 1})).await.status, 400);
        assert_eq!(admin.put("/admin/realms/vault/roles/r", json!({"bad": 1})).await.status, 400);
        let composites = admin.post("/admin/realms/vault/roles/r/composites", json!([{"name": "offline_access", "bad": 1}])).await;
        assert_eq!(composites.status, 400, "{composites:?}");

        let uuid = admin.client_uuid("vault", "backend").await;
        let client_role = admin.post(&format!("/admin/realms/vault/clients/{uuid}/roles"), json!({"name": "cr", "nope": true})).await;
        assert_eq!(client_role.error_message(), format!("Unrecognized field \"nope\" {ROLE_CLASS}"));
        assert_eq!(admin.post(&format!("/admin/realms/vault/clients/{uuid}/roles"), json!({"name": "cr", "clientRole": true})).await.status, 201);
        assert_eq!(admin.put(&format!("/admin/realms/vault/clients/{uuid}/roles/cr"), json!({"x": 1})).await.status, 400);

        // role-mapping bodies are RoleRepresentation lists too: users, groups, client scopes
        let user = admin.post("/admin/realms/vault/users", json!({"username": "mapped"})).await.created_id();
        let group = admin.post("/admin/realms/vault/groups", json!({"name": "mapped"})).await.created_id();
        let scope = admin.post("/admin/realms/vault/client-scopes", json!({"name": "mapped", "protocol": "openid-connect"})).await.created_id();
        let role = admin.ok("/admin/realms/vault/roles/r").await;
        for owner in [format!("users/{user}"), format!("groups/{group}"), format!("client-scopes/{scope}/scope-mappings")] {
            let path = if owner.ends_with("scope-mappings") { format!("/admin/realms/vault/{owner}/realm") } else { format!("/admin/realms/vault/{owner}/role-mappings/realm") };
            let before = admin.ok(&path).await.as_array().map(Vec::len).unwrap_or(0);
            let mut extra = role.clone();
            extra["colour"] = json!("red");
            let refused = admin.post(&path, json!([extra])).await;
            assert_eq!((refused.status, refused.error_message().to_string()), (400, format!("Unrecognized field \"colour\" {ROLE_CLASS}")), "{path}");
            assert_eq!(admin.ok(&path).await.as_array().map(Vec::len), Some(before), "{path}: nothing was mapped");
            assert_eq!(admin.post(&path, json!([role.clone()])).await.status, 204, "{path}: what a GET shows is accepted");
            assert_eq!(admin.delete_with(&path, json!([{"id": role["id"], "name": "r", "bad": 1}])).await.status, 400, "{path}");
            assert_eq!(admin.ok(&path).await.as_array().map(Vec::len), Some(before + 1), "{path}: a refused delete removes nothing");
        }
        app.stop().await;
    }
}
