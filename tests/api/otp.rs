//! One-time passwords over HTTP on both backends (issue 17): the direct grant's `otp` parameter
//! with TOTP and HOTP credentials imported from a Keycloak export (tests/fixtures/
//! keycloak-otp-realm.json: tom TOTP/SHA1, hal HOTP/8 digits/SHA256, uma TOTP/SHA512 with a
//! BASE32 secret), replay refused, brute-force detection counting OTP failures, enrolment, the
//! export round trip, and secrets sealed at rest. Codes are computed here from the secrets, at the
//! test clock's time.

use portcullis::clock::Clock;
use portcullis::users::otp::{self, hotp, totp, OtpAlgorithm, OtpError};
use serde_json::{json, Value};

use crate::admin_support::{token_request, Admin};
use crate::backend_tests;
use crate::browser_flows::{browser_client, get, post, submit_login, web};
use crate::helpers::{fixture, Backend, Spawn, TestApp};
use crate::secrets_at_rest::database_dump;

const TOM_SECRET: &str = "hT4kN0vQzW2pLx8Rab3c";
const HAL_SECRET: &str = "Hq2wE4rT6yU8iO0pAs1d";
/// uma's `secretData.value` is this base32 text (`secretEncoding: BASE32`); the key is its decoding.
const UMA_SECRET_BASE32: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

async fn migrated(backend: Backend) -> TestApp {
    let app = Spawn::new(backend).import(fixture("keycloak-otp-realm.json")).start().await;
    // the start of a time step plus one second, so a few seconds' moves stay in it
    let now = app.clock.now();
    app.clock.set(now - now.rem_euclid(30) + 31);
    app
}

async fn without_brute_force(app: &TestApp) {
    let admin = Admin::login(app).await;
    assert_eq!(admin.put("/admin/realms/migrated", json!({"bruteForceProtected": false})).await.status, 204);
}

fn tom_code(at: i64) -> String {
    totp(TOM_SECRET.as_bytes(), at, 30, 6, OtpAlgorithm::Sha1)
}

fn hal_code(counter: u64) -> String {
    hotp(HAL_SECRET.as_bytes(), counter, 8, OtpAlgorithm::Sha256)
}

/// A code of the right length that is not `right`.
fn wrong(right: &str) -> String {
    let first = if right.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &right[1..])
}

async fn grant(app: &TestApp, username: &str, password: &str, otp: Option<(&str, &str)>) -> (u16, Value) {
    let mut form = vec![("grant_type", "password"), ("client_id", "cli"), ("username", username), ("password", password)];
    if let Some(pair) = otp {
        form.push(pair);
    }
    token_request(app, "migrated", &form).await
}

fn invalid_credentials() -> Value {
    json!({"error": "invalid_grant", "error_description": "Invalid user credentials"})
}

async fn failures(admin: &Admin<'_>, username: &str) -> Value {
    let id = admin.user_id("migrated", username).await;
    admin.ok(&format!("/admin/realms/migrated/attack-detection/brute-force/users/{id}")).await
}

backend_tests! {
    async fn the_direct_grant_takes_a_right_totp_and_refuses_a_missing_wrong_or_replayed_one(backend: Backend) {
        let app = migrated(backend).await;
        without_brute_force(&app).await;
        let now = app.clock.now();
        let code = tom_code(now);
        assert_eq!(grant(&app, "tom", "tom-password-2026", None).await, (401, invalid_credentials()), "missing");
        assert_eq!(grant(&app, "tom", "tom-password-2026", Some(("otp", &wrong(&code)))).await, (401, invalid_credentials()));
        assert_eq!(grant(&app, "tom", "wrong-password", Some(("otp", &code))).await, (401, invalid_credentials()));
        let (status, body) = grant(&app, "tom", "tom-password-2026", Some(("otp", &code))).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["access_token"].is_string());
        assert_eq!(grant(&app, "tom", "tom-password-2026", Some(("otp", &code))).await, (401, invalid_credentials()), "replayed");
        let earlier = tom_code(now - 30);
        assert_eq!(grant(&app, "tom", "tom-password-2026", Some(("otp", &earlier))).await.0, 401,
            "an older code inside the look-ahead window, after a newer one was used");
        app.clock.advance(30);
        let next = tom_code(app.clock.now());
        assert_eq!(grant(&app, "tom", "tom-password-2026", Some(("totp", &next))).await.0, 200, "Keycloak's older parameter name");
        app.clock.advance(30);
        let late = tom_code(app.clock.now() - 30);
        assert_eq!(grant(&app, "tom", "tom-password-2026", Some(("otp", &late))).await.0, 401, "already used");
        app.clock.advance(30);
        let ahead = tom_code(app.clock.now() + 30);
        assert_eq!(grant(&app, "tom", "tom-password-2026", Some(("otp", &ahead))).await.0, 200, "one step ahead (look-ahead 1)");
        app.stop().await;
    }

    async fn a_hotp_credential_advances_its_counter_within_the_look_ahead_window(backend: Backend) {
        let app = migrated(backend).await;
        without_brute_force(&app).await;
        let ok = |c: u64| hal_code(c);
        assert_eq!(grant(&app, "hal", "hal-password-2026", Some(("otp", &ok(0)))).await.0, 200);
        assert_eq!(grant(&app, "hal", "hal-password-2026", Some(("otp", &ok(0)))).await.0, 401, "used");
        assert_eq!(grant(&app, "hal", "hal-password-2026", Some(("otp", &ok(2)))).await.0, 200, "one skipped: look-ahead 1");
        assert_eq!(grant(&app, "hal", "hal-password-2026", Some(("otp", &ok(1)))).await.0, 401, "behind the counter");
        assert_eq!(grant(&app, "hal", "hal-password-2026", Some(("otp", &ok(5)))).await.0, 401, "past the look-ahead");
        assert_eq!(grant(&app, "hal", "hal-password-2026", Some(("otp", &ok(3)))).await.0, 200);
        let admin = Admin::login(&app).await;
        let hal = admin.user_id("migrated", "hal").await;
        let listed = admin.ok(&format!("/admin/realms/migrated/users/{hal}/credentials")).await;
        let otp = listed.as_array().unwrap().iter().find(|c| c["type"] == "otp").unwrap().clone();
        assert!(otp.get("secretData").is_none(), "{otp}");
        assert_eq!(otp["userLabel"], "YubiKey");
        assert_eq!(admin.ok(&format!("/admin/realms/migrated/users/{hal}")).await["totp"], true, "Keycloak's totp flag");
        let newbie = admin.post("/admin/realms/migrated/users", json!({"username": "plain", "enabled": true})).await.created_id();
        assert_eq!(admin.ok(&format!("/admin/realms/migrated/users/{newbie}")).await["totp"], false);
        let data: Value = serde_json::from_str(otp["credentialData"].as_str().unwrap()).unwrap();
        assert_eq!(data, json!({"subType": "hotp", "digits": 8, "counter": 4, "period": 30, "algorithm": "HmacSHA256"}));
        app.stop().await;
    }

    async fn wrong_and_missing_codes_count_for_brute_force_detection(backend: Backend) {
        let app = migrated(backend).await;
        let admin = Admin::login(&app).await;
        let code = tom_code(app.clock.now());
        assert_eq!(grant(&app, "tom", "tom-password-2026", Some(("otp", &wrong(&code)))).await.0, 401);
        app.clock.advance(2);
        assert_eq!(grant(&app, "tom", "tom-password-2026", None).await.0, 401);
        let state = failures(&admin, "tom").await;
        assert_eq!((state["numFailures"].as_i64(), state["disabled"].as_bool()), (Some(2), Some(false)), "{state}");
        app.clock.advance(2);
        assert_eq!(grant(&app, "tom", "tom-password-2026", Some(("otp", &wrong(&code)))).await.0, 401);
        let state = failures(&admin, "tom").await;
        assert_eq!((state["numFailures"].as_i64(), state["disabled"].as_bool()), (Some(3), Some(true)), "{state}");
        assert_eq!(grant(&app, "tom", "tom-password-2026", Some(("otp", &code))).await, (401, invalid_credentials()),
            "locked: the right password and code are refused like wrong ones");
        app.clock.advance(61);
        let code = tom_code(app.clock.now());
        assert_eq!(grant(&app, "tom", "tom-password-2026", Some(("otp", &code))).await.0, 200, "after the wait");
        assert_eq!(failures(&admin, "tom").await["numFailures"], 0, "a full login clears the count");
        app.stop().await;
    }

    async fn a_keycloak_export_with_otp_users_imports_works_and_exports_back(backend: Backend) {
        let app = migrated(backend).await;
        without_brute_force(&app).await;
        let uma = totp(&data_encoding::BASE32_NOPAD.decode(UMA_SECRET_BASE32.as_bytes()).unwrap(), app.clock.now(), 30, 6, OtpAlgorithm::Sha512);
        assert_eq!(grant(&app, "uma", "uma-password-2026", Some(("otp", &uma))).await.0, 200, "BASE32 secretEncoding, HmacSHA512");
        assert_eq!(grant(&app, "hal", "hal-password-2026", Some(("otp", &hal_code(0)))).await.0, 200);

        let exported = portcullis::realm::service::export(app.store.as_ref(), &app.master_key, "migrated").await.unwrap();
        let exported = serde_json::to_value(&exported).unwrap();
        let otp_of = |name: &str| {
            let user = exported["users"].as_array().unwrap().iter().find(|u| u["username"] == name).unwrap();
            user["credentials"].as_array().unwrap().iter().find(|c| c["type"] == "otp").unwrap().clone()
        };
        assert_eq!(otp_of("tom")["secretData"], json!({"value": TOM_SECRET}).to_string(), "Keycloak's plain form");
        assert_eq!(otp_of("tom")["userLabel"], "Tom's phone");
        let hal = otp_of("hal");
        let data: Value = serde_json::from_str(hal["credentialData"].as_str().unwrap()).unwrap();
        assert_eq!((data["subType"].as_str(), data["counter"].as_i64()), (Some("hotp"), Some(1)), "the counter moved on");
        let uma_data: Value = serde_json::from_str(otp_of("uma")["credentialData"].as_str().unwrap()).unwrap();
        assert_eq!(uma_data["secretEncoding"], "BASE32", "kept for Keycloak");

        // into another server with another master key: the apps keep working
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("round-trip.json");
        std::fs::write(&file, exported.to_string()).unwrap();
        let copy = Spawn::new(backend).import(&file).start().await;
        without_brute_force(&copy).await;
        let code = tom_code(copy.clock.now());
        assert_eq!(grant(&copy, "tom", "tom-password-2026", Some(("otp", &code))).await.0, 200);
        assert_eq!(grant(&copy, "hal", "hal-password-2026", Some(("otp", &hal_code(0)))).await.0, 401, "counter 1 came along");
        assert_eq!(grant(&copy, "hal", "hal-password-2026", Some(("otp", &hal_code(1)))).await.0, 200);
        copy.stop().await;
        app.stop().await;
    }

    async fn otp_secrets_are_sealed_at_rest_and_plain_ones_get_sealed(backend: Backend) {
        let app = migrated(backend).await;
        let dump = database_dump(&app).await;
        let has = |needle: &[u8]| dump.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"HmacSHA256"), "the scan sees the credential data");
        for secret in [TOM_SECRET, HAL_SECRET, UMA_SECRET_BASE32] {
            assert!(!has(secret.as_bytes()), "{secret} in plain text");
            let b32 = data_encoding::BASE32_NOPAD.encode(secret.as_bytes());
            assert!(!has(b32.as_bytes()), "{secret} in base32");
        }

        // a credential written in plain text, as a store from before issue 17 holds it
        without_brute_force(&app).await;
        let tom = Admin::login(&app).await.user_id("migrated", "tom").await;
        let legacy = portcullis::domain::Credential {
            id: portcullis::domain::new_id(),
            user_id: tom.clone(),
            kind: "otp".into(),
            secret_data: json!({"value": "legacy-plain-secret"}).to_string(),
            credential_data: r#"{"subType":"totp","digits":6,"counter":0,"period":30,"algorithm":"HmacSHA1"}"#.into(),
            created_at: 0,
            user_label: None,
            priority: 0,
        };
        app.store.add_otp_credential(&legacy, None).await.unwrap();
        let code = totp(b"legacy-plain-secret", app.clock.now(), 30, 6, OtpAlgorithm::Sha1);
        assert_eq!(grant(&app, "tom", "tom-password-2026", Some(("otp", &code))).await.0, 200, "a plain one works meanwhile");
        // the next start on this database (same master key) seals it
        let restarted = Spawn::new(backend)
            .setting("db-url", &app.db_url)
            .setting("master-key", &app.master_key.to_base64())
            .start()
            .await;
        let held = restarted.store.otp_credentials(&tom).await.unwrap();
        let row = held.iter().find(|s| s.credential.id == legacy.id).unwrap();
        assert!(!row.credential.secret_data.contains("legacy-plain-secret"), "{}", row.credential.secret_data);
        assert!(restarted.store.unsealed_otp_credentials(10).await.unwrap().is_empty());
        assert_eq!(otp::seal_plaintext_secrets(restarted.store.as_ref(), &app.master_key).await.unwrap(), 0, "once");
        restarted.clock.set(app.clock.now() + 30);
        let code = totp(b"legacy-plain-secret", restarted.clock.now(), 30, 6, OtpAlgorithm::Sha1);
        assert_eq!(grant(&restarted, "tom", "tom-password-2026", Some(("otp", &code))).await.0, 200, "sealed, it still opens");
        restarted.stop().await;
        app.stop().await;
    }

    async fn enrolment_checks_the_first_code_and_the_next_login_needs_a_code(backend: Backend) {
        let app = migrated(backend).await;
        without_brute_force(&app).await;
        let admin = Admin::login(&app).await;
        let reply = admin.post("/admin/realms/migrated/users", json!({"username": "newbie", "enabled": true,
            "credentials": [{"type": "password", "value": "newbie-password-1", "temporary": false}]})).await;
        let id = reply.created_id();
        assert_eq!(grant(&app, "newbie", "newbie-password-1", None).await.0, 200, "no OTP yet: the password suffices");
        let realm = app.store.realm_by_name("migrated").await.unwrap().unwrap();
        let secret = otp::new_secret();
        let now = app.clock.now();
        let code = totp(secret.expose().as_bytes(), now, 30, 6, OtpAlgorithm::Sha1);
        let refused = otp::enrol(app.store.as_ref(), &app.master_key, &realm.settings, &id, &secret, &wrong(&code), None, now).await;
        assert_eq!(refused.unwrap_err(), OtpError::InvalidCode);
        let enrolled = otp::enrol(app.store.as_ref(), &app.master_key, &realm.settings, &id, &secret, &code, Some(" laptop "), now)
            .await.unwrap();
        assert_eq!(enrolled.user_label.as_deref(), Some("laptop"));
        assert!(!enrolled.secret_data.contains(secret.expose()));
        let listed = admin.ok(&format!("/admin/realms/migrated/users/{id}/credentials")).await;
        assert_eq!(listed.as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect::<Vec<_>>(), ["password", "otp"]);

        assert_eq!(grant(&app, "newbie", "newbie-password-1", None).await, (401, invalid_credentials()), "now a code is needed");
        assert_eq!(grant(&app, "newbie", "newbie-password-1", Some(("otp", &code))).await.0, 401, "the enrolment code is used");
        app.clock.advance(30);
        let next = totp(secret.expose().as_bytes(), app.clock.now(), 30, 6, OtpAlgorithm::Sha1);
        assert_eq!(grant(&app, "newbie", "newbie-password-1", Some(("otp", &next))).await.0, 200);
        let wrong_secret = portcullis::crypto::SecretString::new("");
        let refused = otp::enrol(app.store.as_ref(), &app.master_key, &realm.settings, &id, &wrong_secret, &code, None, now).await;
        assert_eq!(refused.unwrap_err(), OtpError::InvalidSecret);
        app.stop().await;
    }

    async fn the_account_page_lists_the_authenticator_apps_and_removes_one(backend: Backend) {
        let app = web(backend).await;
        let jar = browser_client();
        let login_page = get(&jar, &app.url("/realms/web/account")).await;
        let reply = submit_login(&app, &jar, &login_page, "dora", "dora-password-1", &[]).await;
        assert_eq!(reply.status, 303, "{}", reply.html);
        let account = get(&jar, &app.url("/realms/web/account")).await;
        assert!(account.html.contains("Two-factor authentication") && account.html.contains("id=\"otp-none\""), "{}", account.html);

        // enrolled meanwhile (the enrolment page is the login flow's; the engine is the same)
        let realm = app.store.realm_by_name("web").await.unwrap().unwrap();
        let dora = app.store.user_by_username(&realm.id, "dora").await.unwrap().unwrap();
        let secret = otp::new_secret();
        let now = app.clock.now();
        let code = totp(secret.expose().as_bytes(), now, 30, 6, OtpAlgorithm::Sha1);
        let phone = otp::enrol(app.store.as_ref(), &app.master_key, &realm.settings, &dora.id, &secret, &code, Some("Dora's <phone>"), now)
            .await.unwrap();
        let account = get(&jar, &app.url("/realms/web/account")).await;
        assert!(account.html.contains(&format!("id=\"otp-{}\"", phone.id)), "{}", account.html);
        assert!(account.html.contains("Dora&#x27;s &lt;phone&gt;") || account.html.contains("Dora's &lt;phone&gt;"), "escaped label: {}", account.html);
        assert!(!account.html.contains(secret.expose()), "never the secret");

        let csrf = account.hidden("csrf");
        let remove = |fields: Vec<(&str, String)>| {
            let fields: Vec<(String, String)> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            let (jar, url) = (jar.clone(), app.url("/realms/web/account/totp/remove"));
            async move { post(&jar, &url, &fields, None).await }
        };
        let password_id = app.store.password_credential(&dora.id).await.unwrap().unwrap().id;
        assert_eq!(remove(vec![("csrf", csrf.clone()), ("credential", password_id)]).await.status, 400, "never the password");
        assert_eq!(remove(vec![("csrf", "forged".into()), ("credential", phone.id.clone())]).await.status, 400, "CSRF");
        assert_eq!(app.store.otp_credentials(&dora.id).await.unwrap().len(), 1);
        let reply = remove(vec![("csrf", csrf), ("credential", phone.id.clone())]).await;
        assert_eq!((reply.status, reply.location()), (303, "/realms/web/account?notice=otp-removed".to_string()), "{}", reply.html);
        assert!(app.store.otp_credentials(&dora.id).await.unwrap().is_empty());
        let account = get(&jar, &app.url("/realms/web/account")).await;
        assert!(account.html.contains("The authenticator app was removed.") || account.html.contains("id=\"otp-none\""), "{}", account.html);
        app.stop().await;
    }

    async fn the_browser_second_step_checks_the_code_after_otp_required(backend: Backend) {
        use portcullis::crypto::SecretString;
        use portcullis::oauth::login::{authenticate, check_otp, LoginAttempt, LoginFailure};
        let app = migrated(backend).await;
        let realm = app.state.realms.get("migrated").await.unwrap().unwrap();
        let (store, master, now) = (app.store.as_ref(), &app.master_key, app.clock.now());
        let attempt = |password: &'static str| LoginAttempt { login: "tom", password: SecretString::new(password), address: "10.0.0.1", otp: None };
        let tom = match authenticate(store, &app.state.hasher, master, &realm, attempt("tom-password-2026"), now).await {
            Err(LoginFailure::OtpRequired { user_id }) => user_id,
            other => panic!("{other:?}"),
        };
        let admin = Admin::login(&app).await;
        assert_eq!(failures(&admin, "tom").await["numFailures"], 0, "a right password awaiting its code counts nothing");
        let wrong_password = authenticate(store, &app.state.hasher, master, &realm, attempt("nope"), now).await;
        assert!(matches!(wrong_password, Err(LoginFailure::InvalidCredentials { .. })), "{wrong_password:?}");
        let code = tom_code(now);
        let refused = check_otp(store, &app.state.hasher, master, &realm, &tom, &wrong(&code), "10.0.0.1", now + 2).await;
        assert_eq!(refused, Err(LoginFailure::InvalidCredentials { user_id: Some(tom.clone()) }));
        assert_eq!(failures(&admin, "tom").await["numFailures"], 2, "the wrong password and the wrong code");
        let user = check_otp(store, &app.state.hasher, master, &realm, &tom, &code, "10.0.0.1", now + 4).await.unwrap();
        assert_eq!(user.username, "tom");
        assert_eq!(failures(&admin, "tom").await["numFailures"], 0, "a complete login clears them");
        let replayed = check_otp(store, &app.state.hasher, master, &realm, &tom, &code, "10.0.0.1", now + 6).await;
        assert_eq!(replayed, Err(LoginFailure::InvalidCredentials { user_id: Some(tom.clone()) }), "replayed");

        // pending required actions come after the code, as after the password
        let id = admin.user_id("migrated", "tom").await;
        assert_eq!(admin.put(&format!("/admin/realms/migrated/users/{id}"), json!({"requiredActions": ["UPDATE_PROFILE"]})).await.status, 204);
        app.clock.advance(30);
        let code = tom_code(app.clock.now());
        let pending = check_otp(store, &app.state.hasher, master, &realm, &tom, &code, "10.0.0.1", app.clock.now()).await;
        assert!(matches!(pending, Err(LoginFailure::ActionsRequired { ref actions, .. }) if actions == &["UPDATE_PROFILE".to_string()]), "{pending:?}");
        assert_eq!(check_otp(store, &app.state.hasher, master, &realm, "no-such-user", &code, "10.0.0.1", app.clock.now()).await,
            Err(LoginFailure::InvalidCredentials { user_id: None }));
        app.stop().await;
    }

    async fn of_concurrent_direct_grants_with_one_code_exactly_one_gets_tokens(backend: Backend) {
        let app = migrated(backend).await;
        without_brute_force(&app).await;
        let code = tom_code(app.clock.now());
        let app = std::sync::Arc::new(app);
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (app, code) = (app.clone(), code.clone());
                tokio::spawn(async move { grant(&app, "tom", "tom-password-2026", Some(("otp", &code))).await.0 })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        statuses.sort();
        assert_eq!(statuses, [200, 401, 401, 401, 401, 401]);
    }

    async fn a_partial_import_brings_working_sealed_otp_credentials(backend: Backend) {
        let app = migrated(backend).await;
        without_brute_force(&app).await;
        let admin = Admin::login(&app).await;
        let body = json!({"ifResourceExists": "FAIL", "users": [{"username": "pia", "enabled": true, "credentials": [
            {"type": "password", "value": "pia-password-2026"},
            {"type": "otp", "userLabel": "pia's phone", "secretData": json!({"value": "pia-secret-value-20c"}).to_string(),
             "credentialData": r#"{"subType":"totp","digits":6,"counter":0,"period":30,"algorithm":"HmacSHA1"}"#}]}]});
        let reply = admin.post("/admin/realms/migrated/partialImport", body).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let pia = admin.user_id("migrated", "pia").await;
        let held = app.store.otp_credentials(&pia).await.unwrap();
        assert_eq!(held.len(), 1);
        assert!(!held[0].credential.secret_data.contains("pia-secret-value-20c"), "sealed");
        assert_eq!(grant(&app, "pia", "pia-password-2026", None).await.0, 401);
        let code = totp(b"pia-secret-value-20c", app.clock.now(), 30, 6, OtpAlgorithm::Sha1);
        assert_eq!(grant(&app, "pia", "pia-password-2026", Some(("otp", &code))).await.0, 200);
        app.stop().await;
    }

    async fn wrong_codes_in_the_second_step_spend_the_address_failure_budget(backend: Backend) {
        use portcullis::oauth::login::{check_otp, LoginFailure};
        let app = Spawn::new(backend).import(fixture("keycloak-otp-realm.json"))
            .setting("rate-limit-password-failures-per-ip", "0.01,3").start().await;
        without_brute_force(&app).await;
        let realm = app.state.realms.get("migrated").await.unwrap().unwrap();
        let tom = Admin::login(&app).await.user_id("migrated", "tom").await;
        let now = app.clock.now();
        let code = tom_code(now);
        let check = |code: String, address: &'static str| {
            let (app, realm, tom) = (&app, realm.clone(), tom.clone());
            async move { check_otp(app.store.as_ref(), &app.state.hasher, &app.master_key, &realm, &tom, &code, address, now).await }
        };
        assert!(check(code.clone(), "10.0.0.9").await.is_ok(), "a right code gives its unit back");
        app.clock.advance(30);
        let now = app.clock.now();
        let code = tom_code(now);
        let check = |code: String, address: &'static str| {
            let (app, realm, tom) = (&app, realm.clone(), tom.clone());
            async move { check_otp(app.store.as_ref(), &app.state.hasher, &app.master_key, &realm, &tom, &code, address, now).await }
        };
        for _ in 0..3 {
            assert!(matches!(check(wrong(&code), "10.0.0.9").await, Err(LoginFailure::InvalidCredentials { .. })));
        }
        assert!(matches!(check(code.clone(), "10.0.0.9").await, Err(LoginFailure::Throttled { .. })), "budget spent");
        assert!(check(code, "10.0.0.10").await.is_ok(), "another address");
        app.stop().await;
    }
}
