//! Unit tests of `import.rs`: parsing realm files (JSON errors with their paths, NUL bytes,
//! unknown fields), the warnings a bundle comes with, and how passwords, OTP secrets, Keycloak
//! hashes and client secrets are hashed or sealed on the way in.

use serde_json::{json, Value};

use super::*;

const FIXTURE: &str = include_str!("../../tests/fixtures/demo-realm-partial-export.json");

fn ctx_parts() -> (MasterKey, PasswordHasher) {
    (MasterKey::generate(), PasswordHasher::new(2))
}

async fn build(json: &str) -> (RealmBundle, Vec<String>, MasterKey) {
    let (master, hasher) = ctx_parts();
    let parsed = parse_realm_json("test.json", json).unwrap().remove(0);
    let ctx = ImportContext { master: &master, hasher: &hasher, now: 1_700_000_000 };
    let (bundle, warnings) = build_bundle(&parsed, &ctx).await.unwrap();
    (bundle, warnings, master)
}

fn error_of(json: &str) -> ImportError {
    match parse_realm_json("test.json", json) {
        Err(e) => e,
        Ok(_) => panic!("expected an error for {json}"),
    }
}

#[tokio::test]
async fn the_keycloak_fixture_imports_with_a_bounded_list_of_warnings() {
    let parsed = parse_realm_json("fixture.json", FIXTURE).unwrap();
    assert_eq!(parsed.len(), 1);
    let realm = &parsed[0];
    println!("{} parse warnings:\n  {}", realm.warnings.len(), realm.warnings.join("\n  "));
    assert!(realm.warnings.len() < 100, "{} warnings", realm.warnings.len());
    assert!(realm.warnings.contains(&"ignored unknown field authenticationFlows".into()));
    for scoped in ["clientScopes", "defaultDefaultClientScopes", "scopeMappings", "clientScopeMappings", "clients[].protocolMappers",
        "clients[].defaultClientScopes", "clients[].fullScopeAllowed", "keycloakVersion"] {
        assert!(!realm.warnings.iter().any(|w| w.contains(scoped)), "{scoped} is imported (issue 15)");
    }

    let (bundle, warnings, _) = build(FIXTURE).await;
    println!("{} build warnings:\n  {}", warnings.len(), warnings.join("\n  "));
    let settings = &bundle.realm.as_ref().unwrap().settings;
    assert!(!settings.revoke_refresh_token, "a value in the file wins over our default");
    assert!(!settings.events_enabled);
    assert_eq!(bundle.realm.as_ref().unwrap().id, "demo-realm", "the file's realm id is kept");
    assert_eq!(bundle.clients.len(), 8);
    assert!(bundle.clients.iter().all(|c| c.secret_sealed.is_none()), "all are public or bearer-only");
    let default = bundle.roles.iter().find(|r| r.name == "default-roles-demo-realm").unwrap();
    assert_eq!(default.composites.len(), 4);
    assert_eq!(bundle.roles.iter().filter(|r| r.name == "offline_access").count(), 1);
    assert_eq!(bundle.keys.len(), 4);
    // Keycloak 15: `acr` and `basic` are added as Keycloak's migrations add them, once each;
    // the SAML `role_list` mapper is kept but inert.
    assert_eq!(warnings.iter().filter(|w| w.contains("added the \"acr\" client scope")).count(), 1);
    assert_eq!(warnings.iter().filter(|w| w.contains("added the \"basic\" client scope")).count(), 1);
    assert_eq!(warnings.iter().filter(|w| w.contains("\"saml-role-list-mapper\" is not supported")).count(), 1);
    assert_eq!(bundle.scopes.client_scopes.len(), 11, "9 in the file, acr and basic");
    assert!(bundle.clients.iter().filter(|c| c.client_id.starts_with("angular")).all(|c| c.full_scope_allowed));
    assert!(!bundle.clients.iter().find(|c| c.client_id == "account").unwrap().full_scope_allowed);
    assert_eq!(bundle.scopes.client_links.len(), 8 * 10, "4 default + 4 optional + acr + basic, each client");
    assert_eq!(bundle.scopes.scope_mappings.len(), 2, "offline_access, and account-console's manage-account");
}

#[tokio::test]
async fn a_signature_algorithm_portcullis_cannot_sign_with_is_kept_and_warned_about() {
    let json = r#"{"realm": "algs", "defaultSignatureAlgorithm": "RS512", "clients": [
        {"clientId": "es512", "publicClient": true, "attributes": {"id.token.signed.response.alg": "ES512"}},
        {"clientId": "ps", "publicClient": true, "attributes": {"user.info.response.signature.alg": "PS256"}}]}"#;
    let (bundle, warnings, _) = build(json).await;
    let about: Vec<&String> = warnings.iter().filter(|w| w.contains("ES512")).collect();
    assert_eq!(about.len(), 1, "{warnings:?}");
    assert!(about[0].starts_with("client \"es512\": id.token.signed.response.alg \"ES512\" is not supported by Portcullis"), "{}", about[0]);
    let es512 = bundle.clients.iter().find(|c| c.client_id == "es512").unwrap();
    assert_eq!(es512.attributes["id.token.signed.response.alg"], "ES512", "kept, so an export round-trips");
    assert!(!warnings.iter().any(|w| w.contains("\"ps\"")), "a supported algorithm imports quietly");
    let mut algs: Vec<&str> = bundle.keys.iter().map(|k| k.algorithm.as_str()).collect();
    algs.sort();
    assert_eq!(algs, ["ES256", "EdDSA", "HS256", "PS256", "RS256", "RS512"], "keys for what the realm and its clients sign with");
}

#[tokio::test]
async fn a_masked_or_missing_secret_of_a_confidential_client_is_replaced_with_a_warning() {
    let mut fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let clients = fixture["clients"].as_array_mut().unwrap();
    clients.push(json!({"clientId": "backend", "secret": MASKED_SECRET}));
    clients.push(json!({"clientId": "worker", "serviceAccountsEnabled": true}));
    let (bundle, warnings, master) = build(&fixture.to_string()).await;
    assert!(warnings.iter().any(|w| w.contains("\"backend\"") && w.contains("masked")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("\"worker\"") && w.contains("no secret")));
    let backend = bundle.clients.iter().find(|c| c.client_id == "backend").unwrap();
    let secret = master.open(backend.secret_sealed.as_ref().unwrap(), &backend.secret_aad()).unwrap();
    assert_eq!(secret.len(), 43);
    assert_ne!(secret, MASKED_SECRET.as_bytes());
    let worker = bundle.clients.iter().find(|c| c.client_id == "worker").unwrap();
    let account = bundle.users.iter().find(|u| u.username == "service-account-worker").unwrap();
    assert_eq!(account.service_account_client_id.as_deref(), Some(worker.id.as_str()));
    let default = bundle.roles.iter().find(|r| r.name == "default-roles-demo-realm").unwrap();
    assert!(bundle.role_mappings.contains(&(account.id.clone(), default.id.clone())));
}

#[test]
fn a_nul_anywhere_in_the_json_is_found_and_an_escaped_backslash_is_not_one() {
    assert!(json_holds_nul(br#"{"realm":"a\u0000b"}"#));
    assert!(json_holds_nul(b"{\"realm\":\"a\0b\"}"));
    assert!(json_holds_nul(br#"{"a\u0000":1}"#), "keys too");
    assert!(!json_holds_nul(br#"{"realm":"a\\u0000b"}"#), "an escaped backslash then text");
    assert!(json_holds_nul(br#"{"realm":"a\\\u0000b"}"#));
    assert!(!json_holds_nul(br#"{"realm":"\"quoted\" \u0041"}"#));
    assert!(!json_holds_nul(b"trailing backslash \\"));
    assert_eq!(error_of(r#"{"realm":"demo","displayName":"x\u0000"}"#).message, NUL_REFUSED);
}

#[test]
fn an_array_of_two_realms_parses() {
    let realms = parse_realm_json("all.json", r#"[{"realm":"one"},{"realm":"two","x":1}]"#).unwrap();
    let names: Vec<&str> = realms.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["one", "two"]);
    assert!(realms[0].warnings.is_empty());
    assert_eq!(realms[1].warnings, ["ignored unknown field x"]);
    assert_eq!(realms[1].index, Some(1));
}

#[test]
fn a_type_error_names_its_json_path() {
    let error = error_of(r#"{"realm":"demo","clients":[{"clientId": 5}]}"#);
    assert_eq!(error.path, "clients[0].clientId");
    assert!(error.to_string().starts_with("test.json: at clients[0].clientId: invalid type"));
    let error = error_of(r#"[{"realm":"a"},{"realm":"b","clients":[{"redirectUris":["/a", 7]}]}]"#);
    assert_eq!(error.path, "[1].clients[0].redirectUris[1]");
}

#[test]
fn invalid_json_is_a_whole_file_error_with_line_and_column() {
    let error = error_of("{\n  \"realm\": \"demo\",\n  \"clients\": [\n}");
    assert_eq!(error.path, ".");
    assert!(error.message.contains("line 4 column 1"), "{}", error.message);
    assert_eq!(error_of(r#"{"realm":"demo"} trailing"#).path, ".");
}

#[test]
fn a_missing_or_unsafe_realm_name_is_an_error_at_realm() {
    assert_eq!(error_of(r#"{"enabled":true}"#).path, "realm");
    assert_eq!(error_of(r#"{"realm":""}"#).path, "realm");
    assert_eq!(error_of(r#"{"realm":"../etc"}"#).path, "realm");
    assert_eq!(error_of(r#"[{"realm":"a"},{"realm":"a"}]"#).path, "[1].realm");
}

#[test]
fn unknown_fields_warn_once_each() {
    let json = r#"{"realm":"demo","components":{},
        "clients":[{"clientId":"a","useTemplateConfig":true},{"clientId":"b","useTemplateConfig":false,"useTemplateMappers":true}]}"#;
    let warnings = &parse_realm_json("t.json", json).unwrap()[0].warnings;
    assert_eq!(
        warnings,
        &[
            "ignored unknown field components",
            "ignored unknown field clients[].useTemplateConfig",
            "ignored unknown field clients[].useTemplateMappers",
        ]
    );
}

#[tokio::test]
async fn passwords_become_argon2id_hashes_and_leave_no_plaintext() {
    let json = r#"{"realm":"demo","users":[{"username":"Alice","realmRoles":["offline_access","nope"],
        "credentials":[{"type":"password","value":"correct horse battery"}]}]}"#;
    let (bundle, warnings, _) = build(json).await;
    let alice = &bundle.users[0];
    assert_eq!(alice.username, "alice");
    assert!(alice.enabled, "a missing enabled means enabled");
    let credential = &bundle.credentials[0];
    assert_eq!(credential.kind, "password");
    assert!(credential.secret_data.starts_with("$argon2id$"));
    assert_eq!(credential.credential_data, ARGON2_PHC_CREDENTIAL_DATA);
    assert!(!format!("{bundle:?}").contains("correct horse battery"));
    assert_eq!(bundle.role_mappings.len(), 1);
    assert!(warnings.iter().any(|w| w.contains("\"nope\"")), "{warnings:?}");
}

#[tokio::test]
async fn otp_credentials_are_sealed_and_an_unreadable_one_is_skipped_with_a_warning() {
    let json = r#"{"realm":"demo","users":[{"username":"o","credentials":[
        {"type":"otp","secretData":"{\"value\":\"plain-otp-secret\"}",
         "credentialData":"{\"subType\":\"totp\",\"digits\":6,\"counter\":0,\"period\":30,\"algorithm\":\"HmacSHA1\"}"},
        {"type":"otp","secretData":"{}","credentialData":"{}"}]}]}"#;
    let (bundle, warnings, master) = build(json).await;
    assert_eq!(bundle.credentials.len(), 1, "{warnings:?}");
    let otp = &bundle.credentials[0];
    assert!(!otp.secret_data.contains("plain-otp-secret"), "{}", otp.secret_data);
    let opened = crate::users::otp::credential::open_secret(&master, otp).expect("opens");
    assert_eq!(opened.expose(), "plain-otp-secret");
    assert!(warnings.iter().any(|w| w.contains("\"o\"") && w.contains("otp") && w.contains("skipped")), "{warnings:?}");
    assert!(!warnings.iter().any(|w| w.contains("cannot check")), "OTP is checked: {warnings:?}");
}

#[tokio::test]
async fn keycloak_hashes_are_kept_and_the_legacy_form_is_converted() {
    let json = r#"{"realm":"demo","users":[
        {"username":"a","credentials":[{"type":"password",
            "secretData":"{\"value\":\"h\"}","credentialData":"{\"hashIterations\":27500}"}]},
        {"username":"b","credentials":[{"type":"password","hashedSaltedValue":"hv","salt":"c2FsdA==",
            "hashIterations":27500,"algorithm":"pbkdf2-sha256"}]}]}"#;
    let (bundle, _, _) = build(json).await;
    assert_eq!(bundle.credentials[0].secret_data, r#"{"value":"h"}"#);
    assert_eq!(bundle.credentials[0].credential_data, r#"{"hashIterations":27500}"#);
    let secret: Value = serde_json::from_str(&bundle.credentials[1].secret_data).unwrap();
    let data: Value = serde_json::from_str(&bundle.credentials[1].credential_data).unwrap();
    assert_eq!((secret["value"].as_str(), secret["salt"].as_str()), (Some("hv"), Some("c2FsdA==")));
    assert_eq!(
        (data["hashIterations"].as_i64(), data["algorithm"].as_str()),
        (Some(27500), Some("pbkdf2-sha256"))
    );
}

#[tokio::test]
async fn client_secrets_are_sealed_and_open_back_to_the_original() {
    let json = r#"{"realm":"demo","clients":[{"clientId":"app","secret":"the-original-secret"},
        {"clientId":"spa","publicClient":true,"secret":"ignored"}]}"#;
    let (bundle, warnings, master) = build(json).await;
    assert!(warnings.is_empty(), "{warnings:?}");
    let app = &bundle.clients[0];
    let sealed = app.secret_sealed.as_ref().unwrap();
    assert_eq!(master.open(sealed, &app.secret_aad()).unwrap(), b"the-original-secret");
    assert!(!format!("{bundle:?}").contains("the-original-secret"));
    assert!(bundle.clients[1].secret_sealed.is_none());
    assert!(app.enabled && app.standard_flow_enabled && !app.direct_access_grants_enabled);
}

#[tokio::test]
async fn a_realm_renamed_in_the_file_keeps_its_default_role_under_the_new_name() {
    let json = r#"{"realm":"copy","defaultRole":{"name":"default-roles-orig"},
        "roles":{"realm":[{"name":"default-roles-orig","composites":{"realm":["extra"]}},{"name":"extra"}]},
        "users":[{"username":"u","realmRoles":["default-roles-orig"]}]}"#;
    let (bundle, warnings, _) = build(json).await;
    let default = bundle.roles.iter().find(|r| r.name == "default-roles-copy").unwrap();
    assert_eq!(bundle.roles.iter().filter(|r| r.name.starts_with("default-roles")).count(), 1);
    assert_eq!(bundle.role_mappings, [(bundle.users[0].id.clone(), default.id.clone())]);
    assert!(warnings.iter().any(|w| w.contains("renamed")), "{warnings:?}");
}

#[tokio::test]
async fn duplicate_usernames_and_client_ids_name_their_path() {
    let (master, hasher) = ctx_parts();
    let ctx = ImportContext { master: &master, hasher: &hasher, now: 0 };
    for (json, path) in [
        (r#"{"realm":"d","users":[{"username":"Bob"},{"username":"bob"}]}"#, "users[1].username"),
        (r#"{"realm":"d","clients":[{"clientId":"a"},{"clientId":"a"}]}"#, "clients[1].clientId"),
        (
            r#"{"realm":"d","users":[{"username":"service-account-w"}],
            "clients":[{"clientId":"w","serviceAccountsEnabled":true}]}"#,
            "users[0].username",
        ),
    ] {
        let parsed = parse_realm_json("t.json", json).unwrap().remove(0);
        let error = build_bundle(&parsed, &ctx).await.err().unwrap();
        assert_eq!(error.path, path, "{error}");
    }
}
