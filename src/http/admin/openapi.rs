//! The OpenAPI 3 document of the admin API, built at request time from the route table
//! (`super::ENDPOINTS`) and from sample values of the very types the handlers serialise, so a
//! route or a field cannot be added without appearing here.

use std::collections::BTreeMap;

use axum::Json;
use serde_json::{json, Map, Value};

use super::{Endpoint, ENDPOINTS};
use crate::admin::representation::{
    admin_event_representation, client_representation, event_representation, realm_representation,
    role_representation, session_representation, user_representation, AdditionalGrant, ClientMappings,
    ClientSessionStat, ConsentRepresentation, GlobalRequestResult, MappingsRepresentation,
};
use crate::crypto::SecretString;
use crate::domain::{Client, Realm, RealmSettings, Role, User};
use crate::realm::representation::CredentialRepresentation;
use crate::store::admin::AdminEventRecord;
use crate::store::{EventRecord, UserSessionRecord};

pub async fn document() -> Json<Value> {
    Json(build())
}

/// A JSON schema for a sample value: its shape, one level of `items` for arrays.
pub(super) fn schema_of(value: &Value) -> Value {
    match value {
        Value::Null => json!({}),
        Value::Bool(_) => json!({ "type": "boolean" }),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({ "type": "integer", "format": "int64" }),
        Value::Number(_) => json!({ "type": "number" }),
        Value::String(_) => json!({ "type": "string" }),
        Value::Array(items) => {
            json!({ "type": "array", "items": items.first().map(schema_of).unwrap_or(json!({})) })
        }
        Value::Object(fields) => {
            let properties: Map<String, Value> =
                fields.iter().map(|(k, v)| (k.clone(), schema_of(v))).collect();
            json!({ "type": "object", "properties": properties })
        }
    }
}

pub(super) fn sample<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Every representation the table names, from sample values with every field present.
fn schemas() -> BTreeMap<&'static str, Value> {
    let realm = Realm {
        id: "id".into(),
        name: "demo".into(),
        enabled: true,
        not_before: 0,
        settings: RealmSettings { display_name: Some("Demo".into()), ..RealmSettings::default() },
        created_at: 0,
    };
    let user = User {
        id: "id".into(),
        realm_id: "realm".into(),
        username: "alice".into(),
        email: Some("alice@example.com".into()),
        first_name: Some("Alice".into()),
        last_name: Some("Doe".into()),
        enabled: true,
        email_verified: true,
        service_account_client_id: Some("client".into()),
        created_at: 0,
        required_actions: Vec::new(),
        attributes: Default::default(),
    };
    let client = Client {
        id: "client".into(),
        realm_id: "realm".into(),
        client_id: "app".into(),
        name: Some("App".into()),
        enabled: true,
        public_client: false,
        bearer_only: false,
        secret_sealed: None,
        redirect_uris: vec!["https://app.example/*".into()],
        web_origins: vec!["+".into()],
        standard_flow_enabled: true,
        direct_access_grants_enabled: false,
        service_accounts_enabled: false,
        consent_required: false,
        full_scope_allowed: true,
        attributes: BTreeMap::from([("pkce.code.challenge.method".into(), "S256".into())]),
        settings: crate::domain::ClientSettings::default(),
        created_at: 0,
    };
    let role = Role::realm_role("realm", "editor", Some("Can edit"));
    let session = UserSessionRecord {
        id: "session".into(),
        realm_id: "realm".into(),
        user_id: "id".into(),
        offline: false,
        started_at: 0,
        last_access_at: 0,
        auth_time: 0,
        remember_me: false,
        ip: Some("127.0.0.1".into()),
        user_agent: None,
        expires_at: 0,
        browser_session_id: None,
    };
    let mut user_in = sample(&user_representation(&user, std::slice::from_ref(&client)));
    if let Value::Object(fields) = &mut user_in {
        fields.insert(
            "credentials".into(),
            json!([{ "type": "password", "value": "...", "temporary": false }]),
        );
    }
    let credential = CredentialRepresentation {
        kind: Some("password".into()),
        value: Some(SecretString::new("...")),
        temporary: Some(false),
        ..CredentialRepresentation::default()
    };
    let mappings = MappingsRepresentation {
        realm_mappings: vec![role_representation(&role)],
        client_mappings: BTreeMap::from([(
            "app".into(),
            ClientMappings {
                id: "client".into(),
                client: "app".into(),
                mappings: vec![role_representation(&role)],
            },
        )]),
    };
    let consent = ConsentRepresentation {
        client_id: "app".into(),
        granted_client_scopes: vec!["openid".into()],
        created_date: Some(0),
        last_updated_date: Some(0),
        additional_grants: vec![AdditionalGrant { client: "app".into(), key: "Offline Token".into() }],
    };
    let event = EventRecord {
        id: "id".into(),
        realm_id: "realm".into(),
        time: 0,
        kind: "LOGIN".into(),
        client_id: Some("app".into()),
        user_id: Some("id".into()),
        session_id: Some("session".into()),
        ip: Some("127.0.0.1".into()),
        error: Some("invalid_user_credentials".into()),
        details: Some("{\"username\":\"alice\"}".into()),
    };
    let admin_event = AdminEventRecord {
        id: "id".into(),
        realm_id: "realm".into(),
        time: 0,
        operation: "CREATE".into(),
        resource_type: "USER".into(),
        resource_path: "users/id".into(),
        representation: Some("{}".into()),
        auth_realm_id: Some("master".into()),
        auth_user_id: Some("admin".into()),
        ip: Some("127.0.0.1".into()),
    };
    let session_view = session_representation(
        &session,
        "alice",
        std::slice::from_ref(&client.id),
        std::slice::from_ref(&client),
    );
    let stat = ClientSessionStat {
        id: "client".into(),
        client_id: "app".into(),
        active: "1".into(),
        offline: "0".into(),
    };
    let result = GlobalRequestResult { message: Some("...".into()), ..GlobalRequestResult::default() };
    let error = json!({ "errorMessage": "..." });
    BTreeMap::from([
        (
            "UPConfig",
            schema_of(&serde_json::to_value(crate::admin::user_profile::default_config()).unwrap_or_default()),
        ),
        (
            "UserProfileMetadata",
            schema_of(&json!({"attributes": [{"name": "username", "displayName": "${username}", "required": true,
                "readOnly": false, "validators": {}, "multivalued": false}], "groups": [{"name": "user-metadata"}]})),
        ),
        ("BruteForceStatus", schema_of(&json!({"numFailures": 0, "disabled": false, "lastIPFailure": "n/a", "lastFailure": 0}))),
        ("RealmRepresentation", schema_of(&sample(&realm_representation(&realm)))),
        ("UserRepresentation", schema_of(&user_in)),
        (
            "ClientRepresentation",
            schema_of(&sample(&client_representation(&client, Some(SecretString::new("..."))))),
        ),
        ("RoleRepresentation", schema_of(&sample(&role_representation(&role)))),
        ("CredentialRepresentation", schema_of(&sample(&credential))),
        ("UserSessionRepresentation", schema_of(&sample(&session_view))),
        ("UserConsentRepresentation", schema_of(&sample(&consent))),
        ("MappingsRepresentation", schema_of(&sample(&mappings))),
        ("EventRepresentation", schema_of(&sample(&event_representation(event)))),
        ("AdminEventRepresentation", schema_of(&sample(&admin_event_representation(admin_event)))),
        ("ClientSessionStat", schema_of(&sample(&stat))),
        ("GlobalRequestResult", schema_of(&sample(&result))),
        ("ErrorRepresentation", schema_of(&error)),
        ("GroupRepresentation", schema_of(&sample(&crate::admin::groups::sample_representation()))),
        ("Count", schema_of(&json!({ "count": 1 }))),
        ("ClientSessionCount", schema_of(&json!({ "count": 0 }))),
        (
            "KeycloakOidcJson",
            schema_of(&json!({ "realm": "...", "auth-server-url": "...", "ssl-required": "external", "resource": "...",
                "public-client": true, "credentials": { "secret": "..." }, "confidential-port": 0 })),
        ),
        (
            "ProtocolMapperEvaluationRepresentation",
            schema_of(&json!({ "mapperId": "...", "mapperName": "...", "containerId": "...", "containerName": "...",
                "containerType": "client-scope", "protocolMapper": "oidc-usermodel-attribute-mapper" })),
        ),
        (
            "AccessToken",
            schema_of(&json!({ "exp": 0, "iat": 0, "jti": "...", "iss": "...", "aud": "...", "sub": "...", "typ": "Bearer",
                "azp": "...", "acr": "1", "scope": "...", "realm_access": { "roles": ["..."] }, "preferred_username": "..." })),
        ),
        (
            "IDToken",
            schema_of(&json!({ "exp": 0, "iat": 0, "jti": "...", "iss": "...", "aud": "...", "sub": "...", "typ": "ID",
                "azp": "...", "acr": "1", "preferred_username": "..." })),
        ),
        (
            "RequiredActionProviderRepresentation",
            schema_of(&sample(&crate::domain::required_actions::keycloak_defaults().first().cloned())),
        ),
        ("RequiredActionProviderRef", schema_of(&json!({ "providerId": "CONFIGURE_TOTP", "name": "Configure OTP" }))),
        ("UserInfo", schema_of(&json!({ "sub": "...", "preferred_username": "...", "email": "..." }))),
        ("ClientScopeRepresentation", schema_of(&sample(&scope_sample()))),
        ("ProtocolMapperRepresentation", schema_of(&sample(&scope_sample().protocol_mappers.unwrap_or_default().first().cloned().unwrap_or_default()))),
    ])
    .into_iter()
    .chain(super::server::schemas())
    .collect()
}

/// A built-in scope (`email`: two mappers) as the client-scope endpoints show it.
fn scope_sample() -> crate::realm::scope_representation::ClientScopeRepresentation {
    let scopes = crate::realm::builtin_scopes::builtin_scopes("realm", None);
    let email = scopes.client_scopes.iter().find(|s| s.name == "email").expect("email is a built-in scope");
    crate::realm::scope_representation::ClientScopeRepresentation::from_scope(email)
}

/// `X` as a reference, `X[]` as an array of references, `integer` and `string` as themselves.
fn schema_ref(name: &str) -> Value {
    match name.strip_suffix("[]") {
        Some(item) => json!({ "type": "array", "items": schema_ref(item) }),
        None if name == "integer" => json!({ "type": "integer", "format": "int64" }),
        None if name == "string" => json!({ "type": "string" }),
        None => json!({ "$ref": format!("#/components/schemas/{name}") }),
    }
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| name.trim_start_matches('*'))
        .map(|name| {
            let description = match name {
                "realm" => "The realm's name",
                "id" => "The user's or client's internal id",
                "client" => "A client: its internal id (offline-sessions) or its clientId (consents)",
                "session" => "A user session id",
                "role" => "The role's name",
                "provider" => "An installation provider: keycloak-oidc-keycloak-json",
                _ => "",
            };
            json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } })
        })
        .collect()
}

fn operation(endpoint: &Endpoint) -> Value {
    let mut parameters = path_parameters(endpoint.path);
    parameters.extend(endpoint.query.iter().map(
        |name| json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" } }),
    ));
    let mut success = json!({ "description": status_text(endpoint.status) });
    if let Some(returns) = endpoint.returns {
        success["content"] = json!({ "application/json": { "schema": schema_ref(returns) } });
    }
    if endpoint.status == 201 {
        success["headers"] = json!({ "Location": { "description": "URL of the new resource", "schema": { "type": "string" } } });
    }
    let error = |description: &str| json!({ "description": description, "content": { "application/json": { "schema": schema_ref("ErrorRepresentation") } } });
    let mut responses = Map::new();
    responses.insert(endpoint.status.to_string(), success);
    let public = endpoint.path == "/admin/openapi.json";
    if !public {
        responses.insert("400".into(), error("Invalid body or parameters"));
        responses.insert("401".into(), json!({ "description": "No or invalid bearer token" }));
        responses
            .insert("403".into(), json!({ "description": "The token's user lacks the admin role needed" }));
        responses.insert("404".into(), error("Unknown realm or resource"));
        if endpoint.method == "POST" || endpoint.method == "PUT" {
            responses.insert("409".into(), error("Conflict with an existing resource"));
        }
    }
    let mut op = json!({
        "tags": [endpoint.tag],
        "summary": endpoint.summary,
        "operationId": format!("{} {}", endpoint.method, endpoint.path),
        "parameters": parameters,
        "responses": responses,
    });
    if public {
        op["security"] = json!([]);
    }
    if let Some(body) = endpoint.body {
        op["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": schema_ref(body) } } });
    }
    op
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        404 => "Always: Keycloak's answer for what Portcullis has none of (see the summary)",
        _ => "Success",
    }
}

pub fn build() -> Value {
    let mut paths = Map::new();
    for endpoint in ENDPOINTS {
        // a catch-all segment (`{*path}`, may hold slashes) is an ordinary parameter to OpenAPI
        let item = paths.entry(endpoint.path.replace("{*", "{")).or_insert_with(|| json!({}));
        item[endpoint.method.to_ascii_lowercase()] = operation(endpoint);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Portcullis admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Keycloak's Admin REST API paths, methods, status codes and representations, for the \
                endpoints Portcullis implements. Authenticate with a bearer access token: realm master's admin \
                role for everything, or a realm's realm-management client roles for that realm."
        },
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } },
            "schemas": schemas(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_representation_has_a_schema() {
        let schemas = schemas();
        for endpoint in ENDPOINTS {
            for name in endpoint.body.into_iter().chain(endpoint.returns) {
                let name = name.trim_end_matches("[]");
                assert!(
                    name == "integer" || name == "string" || schemas.contains_key(name),
                    "{name} of {} {}",
                    endpoint.method,
                    endpoint.path
                );
            }
        }
        let realm = &schemas["RealmRepresentation"]["properties"];
        assert!(realm.get("ssoSessionIdleTimeout").is_some() && realm.get("revokeRefreshToken").is_some());
    }

    #[test]
    fn every_route_is_a_path_operation() {
        let doc = build();
        for endpoint in ENDPOINTS {
            assert!(
                doc["paths"][endpoint.path.replace("{*", "{")][endpoint.method.to_ascii_lowercase()].is_object(),
                "{}",
                endpoint.path
            );
        }
    }
}
