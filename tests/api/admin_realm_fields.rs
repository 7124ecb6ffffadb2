//! Issue 14 items 5 (realm part) and 10: every field of Keycloak's RealmRepresentation that
//! Keycloak returns is stored by POST/PUT and read back, the SMTP password sealed and masked;
//! unknown fields and bad names answer Keycloak's own texts.

use serde_json::{json, Value};

use crate::admin_support::{count, vault, Admin};
use crate::backend_tests;

const UNRECOGNIZED: &str =
    "(class org.keycloak.representations.idm.RealmRepresentation), not marked as ignorable";

fn full_realm() -> Value {
    json!({
        "id": "shop-id-1", "realm": "shop", "enabled": true,
        "displayNameHtml": "<b>Shop</b>",
        "loginTheme": "keycloak", "accountTheme": "keycloak.v3", "adminTheme": "keycloak.v2", "emailTheme": "keycloak",
        "smtpServer": {"host": "smtp.example", "port": "587", "from": "noreply@example", "auth": "true",
                       "user": "mailer", "password": "smtp-pass-0123456789"},
        "eventsEnabled": true, "eventsListeners": ["jboss-logging", "email"], "enabledEventTypes": ["LOGIN", "LOGOUT"],
        "adminEventsEnabled": true, "adminEventsDetailsEnabled": true,
        "organizationsEnabled": true, "internationalizationEnabled": true,
        "supportedLocales": ["en", "de"], "defaultLocale": "en",
        "registrationAllowed": true, "resetPasswordAllowed": true, "verifyEmail": true,
        "loginWithEmailAllowed": false, "duplicateEmailsAllowed": true, "rememberMe": true,
        "bruteForceProtected": true, "maxTemporaryLockouts": 3, "bruteForceStrategy": "LINEAR", "failureFactor": 5,
        "otpPolicyType": "hotp", "otpPolicyDigits": 8, "otpPolicyPeriod": 60, "otpPolicyAlgorithm": "HmacSHA256",
        "passwordPolicy": "length(12) and notUsername",
        "attributes": {"frontendUrl": "https://shop.example", "custom": "x"},
        "browserSecurityHeaders": {"xFrameOptions": "DENY"},
        "webAuthnPolicyRpEntityName": "shop", "oauth2DeviceCodeLifespan": 900,
        "localizationTexts": {"de": {"welcome": "Willkommen"}}
    })
}

backend_tests! {
    async fn every_realm_field_posted_comes_back_on_get(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let reply = admin.post("/admin/realms", full_realm()).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let got = admin.ok("/admin/realms/shop").await;
        let mut sent = full_realm();
        sent["smtpServer"]["password"] = json!("**********");
        for (key, value) in sent.as_object().unwrap() {
            assert_eq!(&got[key], value, "{key} stored and returned: {got}");
        }
        // what the body left out has Keycloak's defaults
        assert_eq!(got["otpPolicyLookAheadWindow"], 1);
        assert_eq!(got["requiredCredentials"], json!(["password"]));
        assert_eq!(got["browserFlow"], "browser");
        assert_eq!(got["actionTokenGeneratedByAdminLifespan"], 43200);
        assert!(got.get("keycloakVersion").is_none());

        // the SMTP password is sealed: never in the stored settings, never in an answer
        let plain = count(&app, "SELECT COUNT(*) FROM realms WHERE settings LIKE $1", "%smtp-pass-0123456789%").await;
        assert_eq!(plain, 0, "the SMTP password is stored sealed");
        let listed = admin.ok("/admin/realms").await;
        assert!(!listed.to_string().contains("smtp-pass-0123456789"));
        app.stop().await;
    }

    async fn a_new_realm_reads_keycloaks_defaults(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.post("/admin/realms", json!({"realm": "plain"})).await.status, 201);
        let got = admin.ok("/admin/realms/plain").await;
        for (key, value) in [
            ("eventsListeners", json!(["jboss-logging"])), ("enabledEventTypes", json!([])),
            ("adminEventsEnabled", json!(false)), ("adminEventsDetailsEnabled", json!(false)),
            ("registrationAllowed", json!(false)), ("verifyEmail", json!(false)),
            ("loginWithEmailAllowed", json!(true)), ("duplicateEmailsAllowed", json!(false)),
            ("bruteForceStrategy", json!("MULTIPLE")), ("otpPolicyType", json!("totp")),
            ("otpPolicyAlgorithm", json!("HmacSHA1")), ("otpPolicyDigits", json!(6)), ("otpPolicyPeriod", json!(30)),
            ("organizationsEnabled", json!(false)), ("internationalizationEnabled", json!(false)),
            ("supportedLocales", json!([])), ("smtpServer", json!({})), ("attributes", json!({})),
            ("webAuthnPolicyPasswordlessRequireResidentKey", json!("Yes")),
        ] {
            assert_eq!(got[key], value, "{key}");
        }
        assert_eq!(got["browserSecurityHeaders"]["xFrameOptions"], "SAMEORIGIN");
        assert_eq!(got["browserSecurityHeaders"]["xContentTypeOptions"], "nosniff");
        assert!(got.get("passwordPolicy").is_none() && got.get("loginTheme").is_none(), "unset stays absent");
        app.stop().await;
    }

    async fn put_keeps_the_smtp_password_under_its_mask_and_replaces_it_otherwise(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        assert_eq!(admin.post("/admin/realms", full_realm()).await.status, 201);
        let sealed = || async {
            let sql = "SELECT COUNT(*) FROM realms WHERE id = $1 AND settings LIKE '%smtpPasswordSealed%'";
            count(&app, sql, "shop-id-1").await
        };
        assert_eq!(sealed().await, 1);

        // what the console does: GET, change a field, PUT the whole representation back
        let mut realm = admin.ok("/admin/realms/shop").await;
        realm["smtpServer"]["host"] = json!("smtp2.example");
        realm["loginTheme"] = json!("custom");
        assert_eq!(admin.put("/admin/realms/shop", realm).await.status, 204);
        let got = admin.ok("/admin/realms/shop").await;
        assert_eq!((got["smtpServer"]["host"].as_str(), got["loginTheme"].as_str()), (Some("smtp2.example"), Some("custom")));
        assert_eq!(got["smtpServer"]["password"], "**********", "the mask kept the password");
        assert_eq!(sealed().await, 1);

        // a smtpServer without a password removes it, as in Keycloak
        assert_eq!(admin.put("/admin/realms/shop", json!({"smtpServer": {"host": "h"}})).await.status, 204);
        let got = admin.ok("/admin/realms/shop").await;
        assert_eq!(got["smtpServer"], json!({"host": "h"}));
        assert_eq!(sealed().await, 0);
        app.stop().await;
    }

    async fn realm_bodies_are_refused_in_keycloaks_words(backend: Backend) {
        let app = vault(backend).await;
        let admin = Admin::login(&app).await;
        let empty = admin.post("/admin/realms", json!({})).await;
        assert_eq!((empty.status, empty.body.clone()), (400, json!({"errorMessage": "Realm name cannot be empty"})));
        let blank = admin.post("/admin/realms", json!({"realm": "  ", "enabled": true})).await;
        assert_eq!((blank.status, blank.error_message()), (400, "Realm name cannot be empty"));
        let slash = admin.post("/admin/realms", json!({"realm": "a/b"})).await;
        assert_eq!((slash.status, slash.error_message()), (400, "Character '/' not allowed."));
        assert!(slash.body["error_description"].is_string(), "a JAX-RS BadRequestException: {slash:?}");

        let unknown = admin.post("/admin/realms", json!({"realm": "x", "someFutureField": [1]})).await;
        assert_eq!(unknown.status, 400);
        assert_eq!(unknown.error_message(), format!("Unrecognized field \"someFutureField\" {UNRECOGNIZED}"));
        let known_unmodelled = admin.post("/admin/realms", json!({"realm": "x", "groups": [], "components": {}})).await;
        assert_eq!(known_unmodelled.status, 201, "Keycloak's own fields are known: {known_unmodelled:?}");

        // duplicates: by name and by the id a body may give
        let again = admin.post("/admin/realms", json!({"realm": "x"})).await;
        assert_eq!((again.status, again.error_message()), (409, "Conflict detected. See logs for details"));
        assert_eq!(admin.post("/admin/realms", json!({"realm": "y", "id": "same-id"})).await.status, 201);
        assert_eq!(admin.ok("/admin/realms/y").await["id"], "same-id", "a given id is kept");
        let same_id = admin.post("/admin/realms", json!({"realm": "z", "id": "same-id"})).await;
        assert_eq!((same_id.status, same_id.error_message()), (409, "Conflict detected. See logs for details"));
        assert_eq!(admin.post("/admin/realms", json!({"realm": "z", "id": "has space"})).await.status, 400);

        let rename = admin.put("/admin/realms/master", json!({"realm": "other"})).await;
        assert_eq!((rename.status, rename.error_message()), (400, "Can't rename master realm"));
        let strategy = admin.put("/admin/realms/x", json!({"bruteForceStrategy": "SOMETIMES"})).await;
        assert_eq!(strategy.status, 400);
        assert_eq!(admin.get("/admin/realms/z").await.status, 404, "nothing refused was created");
        app.stop().await;
    }
}
