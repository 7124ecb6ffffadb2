//! Issue 14 items 4, 6 and 8: the realm's keys as Keycloak's KeysMetadataRepresentation, the
//! cache-clearing actions, and the public `GET /realms/{realm}`.

use base64::Engine;
use serde_json::{json, Value};

use crate::admin_support::{call, carol, count, vault, Admin};
use crate::backend_tests;

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

fn b64url(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).unwrap()
}

backend_tests! {
    async fn keys_are_listed_with_their_public_parts_only(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let keys = admin.ok("/admin/realms/vault/keys").await;
        let active = keys["active"].as_object().unwrap();
        for alg in ["RS256", "ES256", "EdDSA", "HS256"] {
            assert!(active.contains_key(alg), "{alg} active: {keys}");
        }
        let (_, jwks) = app.get_json("/realms/vault/protocol/openid-connect/certs").await;
        let rs256 = keys["keys"].as_array().unwrap().iter()
            .find(|k| k["kid"] == active["RS256"]).unwrap();
        assert_eq!((rs256["type"].as_str(), rs256["status"].as_str(), rs256["use"].as_str()), (Some("RSA"), Some("ACTIVE"), Some("SIG")));
        assert_eq!(rs256["providerId"], "rsa-generated");
        let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == rs256["kid"]).unwrap();
        let der = b64(rs256["publicKey"].as_str().unwrap());
        let modulus = b64url(jwk["n"].as_str().unwrap());
        assert!(der.windows(modulus.len()).any(|w| w == modulus.as_slice()), "the SPKI holds the JWKS modulus");
        let hmac = keys["keys"].as_array().unwrap().iter().find(|k| k["type"] == "OCT").unwrap();
        assert!(hmac.get("publicKey").is_none());
        let text = keys.to_string();
        assert!(!text.contains("private") && !text.contains("secret"), "{text}");
        assert_eq!(admin.get("/admin/realms/nope/keys").await.status, 404);
        app.stop().await;
    }

    async fn the_public_realm_document_is_keycloaks(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let reply = call(&app, None, "GET", "/realms/vault", None).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let doc = reply.body;
        assert_eq!(doc["realm"], "vault");
        assert_eq!(doc["token-service"], format!("{}/realms/vault/protocol/openid-connect", app.base));
        assert_eq!(doc["account-service"], format!("{}/realms/vault/account", app.base));
        assert_eq!(doc["tokens-not-before"], 0);
        let keys = admin.ok("/admin/realms/vault/keys").await;
        let rs256 = keys["keys"].as_array().unwrap().iter().find(|k| k["kid"] == keys["active"]["RS256"]).unwrap();
        assert_eq!(doc["public_key"], rs256["publicKey"], "the active RS256 key, base64 DER");
        assert_eq!(call(&app, None, "GET", "/realms/nope", None).await.status, 404);
        app.stop().await;
    }

    async fn clearing_the_realm_cache_makes_a_change_made_behind_the_servers_back_visible(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let lifespan = admin.ok("/admin/realms/vault").await["accessTokenLifespan"].as_i64().unwrap();
        assert_eq!(carol(&app, "openid").await["expires_in"], lifespan, "the realm is cached now");
        let sql = format!(
            "UPDATE realms SET settings = REPLACE(settings, '\"accessTokenLifespan\":{lifespan},', '\"accessTokenLifespan\":123,') \
             WHERE name = $1 RETURNING CAST(1 AS BIGINT)"
        );
        assert_eq!(count(&app, &sql, "vault").await, 1, "changed in the database directly");
        for path in ["clear-user-cache", "clear-keys-cache", "clear-realm-cache"] {
            let reply = admin.post_empty(&format!("/admin/realms/vault/{path}")).await;
            assert_eq!((reply.status, reply.body.clone()), (204, Value::Null), "{path}");
        }
        assert_eq!(carol(&app, "openid").await["expires_in"], 123, "every node reloads the realm");
        assert_eq!(admin.post_empty("/admin/realms/nope/clear-realm-cache").await.status, 404);

        // the actions are admin events when the realm records them
        assert_eq!(admin.put("/admin/realms/vault/events/config", json!({"adminEventsEnabled": true})).await.status, 204);
        assert_eq!(admin.post_empty("/admin/realms/vault/clear-keys-cache").await.status, 204);
        let trail = admin.ok("/admin/realms/vault/admin-events?operationTypes=ACTION").await;
        assert_eq!(trail[0]["resourcePath"], "clear-keys-cache", "{trail}");
        app.stop().await;
    }

    async fn serverinfo_tells_what_portcullis_has_in_keycloaks_shape(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let info = admin.ok("/admin/serverinfo").await;
        let allowed = ["systemInfo", "memoryInfo", "profileInfo", "features", "themes", "socialProviders",
            "identityProviders", "providers", "protocolMapperTypes", "builtinProtocolMappers", "clientInstallations",
            "componentTypes", "passwordPolicies", "enums", "cryptoInfo", "cpuInfo"];
        for key in info.as_object().unwrap().keys() {
            assert!(allowed.contains(&key.as_str()), "{key} is not a ServerInfoRepresentation field");
        }
        assert_eq!(info["systemInfo"]["version"], env!("CARGO_PKG_VERSION"));
        assert!(info["memoryInfo"]["used"].is_u64() && info["systemInfo"]["uptimeMillis"].is_u64());
        assert!(info["providers"]["login-protocol"]["providers"]["openid-connect"].is_object());
        assert!(info["providers"]["login-protocol"]["providers"].get("saml").is_none(), "no SAML here");
        assert_eq!(info["cryptoInfo"]["clientSignatureAsymmetricAlgorithms"], json!(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]));
        assert_eq!(call(&app, None, "GET", "/admin/serverinfo", None).await.status, 401);
        app.stop().await;
    }

    async fn whoami_answers_the_consoles_question(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let me = admin.ok("/admin/master/console/whoami").await;
        assert_eq!(me["userId"], admin.user_id("master", "admin").await.as_str());
        assert_eq!((me["realm"].as_str(), me["createRealm"].as_bool()), (Some("master"), Some(true)));
        assert!(me["displayName"].is_string() && me["locale"].is_string());
        for realm in ["master", "vault"] {
            let roles = me["realm_access"][realm].as_array().unwrap_or_else(|| panic!("{me}"));
            assert!(roles.contains(&json!("manage-users")) && roles.contains(&json!("view-realm")), "{me}");
        }
        let other = admin.get("/admin/vault/console/whoami").await;
        assert_eq!(other.status, 403, "a master token is not a console login to vault");
        app.stop().await;
    }

    async fn partial_export_masks_secrets_and_leaves_users_out(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let smtp = json!({"smtpServer": {"host": "mail", "password": "smtp-secret-value-42"}});
        assert_eq!(admin.put("/admin/realms/vault", smtp).await.status, 204);
        let bare = admin.post_empty("/admin/realms/vault/partial-export").await;
        assert_eq!(bare.status, 200, "{bare:?}");
        assert_eq!(bare.body["realm"], "vault");
        assert!(bare.body.get("clients").is_none() && bare.body.get("roles").is_none() && bare.body.get("users").is_none());
        assert_eq!(bare.body["smtpServer"]["password"], "**********");

        let full = admin.post_empty("/admin/realms/vault/partial-export?exportClients=true&exportGroupsAndRoles=true").await;
        assert_eq!(full.status, 200);
        let clients = full.body["clients"].as_array().unwrap();
        let backend_client = clients.iter().find(|c| c["clientId"] == "backend").unwrap();
        assert_eq!(backend_client["secret"], "**********", "client secrets are masked");
        assert!(full.body["roles"]["realm"].as_array().unwrap().iter().any(|r| r["name"] == "offline_access"));
        assert!(full.body.get("users").is_none(), "users are never in a partial export");
        let text = full.body.to_string();
        assert!(!text.contains(crate::admin_support::VAULT_SECRET) && !text.contains("smtp-secret-value-42"));
        assert_eq!(admin.post_empty("/admin/realms/vault/partial-export?exportClients=maybe").await.status, 400);
        app.stop().await;
    }
}
