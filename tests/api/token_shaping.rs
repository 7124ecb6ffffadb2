//! Issue 15 over HTTP: tokens follow the client's default and optional client scopes, their
//! protocol mappers, `fullScopeAllowed` and scope mappings, and groups; userinfo and
//! introspection follow their own mapper switches; the admin API's evaluate-scopes endpoints show
//! what a token would hold. Each change is made through the admin API and seen at once.

use serde_json::{json, Value};

use crate::admin_support::{carol, token_request, vault, Admin, CAROL_PASSWORD, VAULT_SECRET};
use crate::backend_tests;
use crate::browser_flows::claims;
use crate::helpers::TestApp;

const SCOPES: &str = "/admin/realms/vault/client-scopes";

async fn userinfo(app: &TestApp, access_token: &str) -> (u16, Value) {
    let response = app.http.get(app.url("/realms/vault/protocol/openid-connect/userinfo")).bearer_auth(access_token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn introspect(app: &TestApp, token: &str) -> Value {
    let form = [("client_id", "backend"), ("client_secret", VAULT_SECRET), ("token", token)];
    let response = app.http.post(app.url("/realms/vault/protocol/openid-connect/token/introspect")).form(&form).send().await.unwrap();
    response.json().await.unwrap()
}

async fn scope_id(admin: &Admin<'_>, name: &str) -> String {
    let all = admin.ok(SCOPES).await;
    all.as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()["id"].as_str().unwrap().to_string()
}

/// `aud` as a list, whether the token holds one audience (a string) or several.
fn audiences(token: &Value) -> Vec<String> {
    match &token["aud"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
        _ => Vec::new(),
    }
}

fn mapper(name: &str, kind: &str, config: Value) -> Value {
    json!({"name": name, "protocol": "openid-connect", "protocolMapper": kind, "config": config})
}

backend_tests! {
    async fn tokens_carry_the_default_scopes_and_the_optional_ones_asked_for(backend: Backend) {
        let app = vault(backend).await;
        let tokens = carol(&app, "openid").await;
        assert_eq!(tokens["scope"], "openid email profile", "acr, basic, roles and web-origins stay out of the scope string");
        let access = claims(tokens["access_token"].as_str().unwrap());
        assert_eq!(access["scope"], "openid email profile");
        assert_eq!((access["preferred_username"].as_str(), access["email"].as_str()), (Some("carol"), Some("carol@example.com")));
        assert_eq!(access["acr"], "1", "the acr scope's mapper");
        let roles: Vec<&str> = access["realm_access"]["roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert_eq!(roles, ["offline_access"], "an imported user holds the roles the file gives (no default roles, as in Keycloak)");
        let id = claims(tokens["id_token"].as_str().unwrap());
        assert_eq!((id["aud"].as_str(), id["email"].as_str()), (Some("backend"), Some("carol@example.com")));
        assert!(id.get("realm_access").is_none(), "the roles mappers are not for the id token");

        let tokens = carol(&app, "openid phone address").await;
        assert_eq!(tokens["scope"], "openid address email phone profile");
        let (status, error) = token_request(&app, "vault", &[("grant_type", "password"), ("client_id", "backend"),
            ("client_secret", VAULT_SECRET), ("username", "carol"), ("password", CAROL_PASSWORD), ("scope", "openid nonsense")]).await;
        assert_eq!((status, error["error"].as_str(), error["error_description"].as_str()),
            (400, Some("invalid_scope"), Some("Invalid scopes: nonsense")));

        // unlinking a default scope takes effect on the next token
        let admin = Admin::login(&app).await;
        let client = admin.client_uuid("vault", "backend").await;
        let profile = scope_id(&admin, "profile").await;
        assert_eq!(admin.delete(&format!("/admin/realms/vault/clients/{client}/default-client-scopes/{profile}")).await.status, 204);
        let tokens = carol(&app, "openid").await;
        assert_eq!(tokens["scope"], "openid email");
        let access = claims(tokens["access_token"].as_str().unwrap());
        assert!(access.get("preferred_username").is_none(), "the profile scope's mappers are gone: {access}");
        let (status, _) = token_request(&app, "vault", &[("grant_type", "password"), ("client_id", "backend"),
            ("client_secret", VAULT_SECRET), ("username", "carol"), ("password", CAROL_PASSWORD), ("scope", "profile")]).await;
        assert_eq!(status, 400, "a scope the client no longer has is invalid");

        let discovery = app.get_json("/realms/vault/.well-known/openid-configuration").await.1;
        let supported: Vec<&str> = discovery["scopes_supported"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        assert_eq!(supported, ["openid", "address", "email", "microprofile-jwt", "offline_access", "phone", "profile"]);
        assert_eq!(discovery["acr_values_supported"], json!(["0", "1"]));
    }

    async fn client_and_scope_mappers_shape_each_token_by_their_switches(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let carol_id = admin.user_id("vault", "carol").await;
        let mut profile = admin.ok("/admin/realms/vault/users/profile").await;
        profile["unmanagedAttributePolicy"] = json!("ADMIN_EDIT");
        assert_eq!(admin.put("/admin/realms/vault/users/profile", profile).await.status, 200);
        let mut user = admin.ok(&format!("/admin/realms/vault/users/{carol_id}")).await;
        user["attributes"] = json!({"department": ["sales"], "level": ["7"]});
        assert_eq!(admin.put(&format!("/admin/realms/vault/users/{carol_id}"), user).await.status, 204);
        let client = admin.client_uuid("vault", "backend").await;
        let models = format!("/admin/realms/vault/clients/{client}/protocol-mappers/models");
        let added = admin.post(&models, mapper("level", "oidc-usermodel-attribute-mapper", json!({"user.attribute": "level",
            "claim.name": "org.level", "jsonType.label": "int", "access.token.claim": "true", "id.token.claim": "false"}))).await;
        assert_eq!(added.status, 201, "{added:?}");
        let dept = admin.post(SCOPES, json!({"name": "dept", "protocol": "openid-connect",
            "attributes": {"include.in.token.scope": "true"},
            "protocolMappers": [mapper("dept", "oidc-usermodel-attribute-mapper", json!({"user.attribute": "department",
                "claim.name": "department", "jsonType.label": "String", "userinfo.token.claim": "true",
                "introspection.token.claim": "true"})),
                mapper("aud", "oidc-audience-mapper", json!({"included.custom.audience": "billing-api", "access.token.claim": "true"}))]})).await;
        let dept = dept.created_id();
        assert_eq!(admin.put(&format!("/admin/realms/vault/clients/{client}/optional-client-scopes/{dept}"), json!({})).await.status, 204);

        let tokens = carol(&app, "openid dept").await;
        assert_eq!(tokens["scope"], "openid dept email profile");
        let access = claims(tokens["access_token"].as_str().unwrap());
        assert_eq!(access["org"], json!({"level": 7}), "the client's own mapper, typed and nested");
        assert!(audiences(&access).contains(&"billing-api".to_string()), "{access}");
        assert!(access.get("department").is_none(), "dept's mapper is for userinfo and introspection only");
        let id = claims(tokens["id_token"].as_str().unwrap());
        assert!(id.get("org").is_none() && id.get("department").is_none(), "{id}");
        let (status, info) = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!((info["department"].as_str(), info["preferred_username"].as_str()), (Some("sales"), Some("carol")));
        assert!(info.get("org").is_none() && info.get("realm_access").is_none(), "{info}");
        let answer = introspect(&app, tokens["access_token"].as_str().unwrap()).await;
        assert_eq!((answer["active"].as_bool(), answer["department"].as_str()), (Some(true), Some("sales")),
            "introspection shapes with its own switch, as Keycloak 25+: {answer}");
        assert_eq!(answer["org"], json!({"level": 7}));
        assert_eq!(answer["username"], "carol");

        // a refresh selects the same scopes again; narrowing drops the optional one
        let refreshed = token_request(&app, "vault", &[("grant_type", "refresh_token"), ("client_id", "backend"),
            ("client_secret", VAULT_SECRET), ("refresh_token", tokens["refresh_token"].as_str().unwrap())]).await.1;
        assert!(audiences(&claims(refreshed["access_token"].as_str().unwrap())).contains(&"billing-api".to_string()), "{refreshed}");
        let narrowed = token_request(&app, "vault", &[("grant_type", "refresh_token"), ("client_id", "backend"),
            ("client_secret", VAULT_SECRET), ("refresh_token", refreshed["refresh_token"].as_str().unwrap()), ("scope", "openid")]).await.1;
        assert!(!audiences(&claims(narrowed["access_token"].as_str().unwrap())).contains(&"billing-api".to_string()), "{narrowed}");
        let widened = token_request(&app, "vault", &[("grant_type", "refresh_token"), ("client_id", "backend"),
            ("client_secret", VAULT_SECRET), ("refresh_token", narrowed["refresh_token"].as_str().unwrap()), ("scope", "openid phone")]).await;
        assert_eq!((widened.0, widened.1["error"].as_str()), (400, Some("invalid_scope")));
    }

    async fn full_scope_allowed_off_limits_roles_to_scope_mappings_and_groups_reach_tokens(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        for name in ["reader", "writer"] {
            assert_eq!(admin.post("/admin/realms/vault/roles", json!({"name": name})).await.status, 201);
        }
        let carol_id = admin.user_id("vault", "carol").await;
        let writer = admin.ok("/admin/realms/vault/roles/writer").await;
        assert_eq!(admin.post(&format!("/admin/realms/vault/users/{carol_id}/role-mappings/realm"), json!([writer])).await.status, 204);
        let staff = admin.post("/admin/realms/vault/groups", json!({"name": "staff"})).await.created_id();
        let eng = admin.post(&format!("/admin/realms/vault/groups/{staff}/children"), json!({"name": "eng"})).await.created_id();
        let reader = admin.ok("/admin/realms/vault/roles/reader").await;
        assert_eq!(admin.post(&format!("/admin/realms/vault/groups/{staff}/role-mappings/realm"), json!([reader])).await.status, 204);
        assert_eq!(admin.put(&format!("/admin/realms/vault/users/{carol_id}/groups/{eng}"), json!({})).await.status, 204);
        let client = admin.client_uuid("vault", "backend").await;
        let models = format!("/admin/realms/vault/clients/{client}/protocol-mappers/models");
        assert_eq!(admin.post(&models, mapper("groups", "oidc-group-membership-mapper", json!({"claim.name": "groups",
            "full.path": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}))).await.status, 201);

        let access = claims(carol(&app, "openid").await["access_token"].as_str().unwrap());
        assert_eq!(access["groups"], json!(["/staff/eng"]));
        let roles = &access["realm_access"]["roles"];
        assert!(roles.as_array().unwrap().contains(&json!("reader")), "a parent group's role reaches the member: {access}");
        assert!(roles.as_array().unwrap().contains(&json!("writer")));

        let mut shown = admin.ok(&format!("/admin/realms/vault/clients/{client}")).await;
        shown["fullScopeAllowed"] = json!(false);
        assert_eq!(admin.put(&format!("/admin/realms/vault/clients/{client}"), shown).await.status, 204);
        let access = claims(carol(&app, "openid").await["access_token"].as_str().unwrap());
        assert!(access["realm_access"]["roles"].as_array().is_none_or(|r| r.is_empty()), "no scope mapping allows any role: {access}");
        assert!(access.get("resource_access").is_none() && audiences(&access).is_empty(), "{access}");
        assert_eq!(admin.post(&format!("/admin/realms/vault/clients/{client}/scope-mappings/realm"), json!([reader])).await.status, 204);
        let tokens = carol(&app, "openid offline_access").await;
        let access = claims(tokens["access_token"].as_str().unwrap());
        assert_eq!(access["realm_access"]["roles"], json!(["offline_access", "reader"]),
            "the client's scope mapping and the offline_access scope's own allow these two only");
        assert_eq!(tokens["refresh_token"].is_string(), true);
    }

    async fn evaluate_scopes_shows_the_mappers_and_example_tokens(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let client = admin.client_uuid("vault", "backend").await;
        let carol_id = admin.user_id("vault", "carol").await;
        let base = format!("/admin/realms/vault/clients/{client}/evaluate-scopes");
        let mappers = admin.ok(&format!("{base}/protocol-mappers?scope=phone")).await;
        let of = |scope: &str| mappers.as_array().unwrap().iter().filter(|m| m["containerName"] == scope).count();
        assert_eq!((of("phone"), of("email"), of("address")), (2, 2, 0), "{mappers}");
        assert!(mappers[0]["containerType"] == "client-scope" && mappers[0]["mapperId"].is_string());

        let example = admin.ok(&format!("{base}/generate-example-access-token?scope=openid%20phone&userId={carol_id}")).await;
        assert_eq!(example["scope"], "openid email phone profile");
        assert_eq!((example["preferred_username"].as_str(), example["azp"].as_str()), (Some("carol"), Some("backend")));
        assert!(example["realm_access"]["roles"].as_array().unwrap().contains(&json!("offline_access")));
        let id = admin.ok(&format!("{base}/generate-example-id-token?scope=openid&userId={carol_id}")).await;
        assert_eq!((id["typ"].as_str(), id["aud"].as_str()), (Some("ID"), Some("backend")));
        let info = admin.ok(&format!("{base}/generate-example-userinfo?userId={carol_id}")).await;
        assert_eq!((info["sub"].as_str(), info["email"].as_str()), (Some(carol_id.as_str()), Some("carol@example.com")));
        let missing = admin.get(&format!("{base}/generate-example-access-token")).await;
        assert_eq!((missing.status, missing.error_message()), (404, "No userId provided"));
        let missing = admin.get(&format!("{base}/generate-example-access-token?userId=nobody")).await;
        assert_eq!((missing.status, missing.error_message()), (404, "No user found"));
        let missing = admin.get("/admin/realms/vault/clients/nope/evaluate-scopes/protocol-mappers").await;
        assert_eq!((missing.status, missing.error_message()), (404, "Could not find client"));
    }
}
