//! Unit tests of `representation.rs`: every realm setting maps to a field and back, client
//! attributes given as numbers or booleans, secrets that never print, absent fields left out.

use super::*;

#[test]
fn every_realm_setting_has_a_representation_field() {
    let settings = RealmSettings {
        display_name: Some("Demo".into()),
        revoke_refresh_token: false,
        ..RealmSettings::default()
    };
    let mut json = serde_json::to_value(&settings).unwrap();
    json.as_object_mut().unwrap().remove("smtpPasswordSealed");
    let mut ignored = Vec::new();
    let rep: RealmRepresentation =
        serde_ignored::deserialize(json, |path| ignored.push(path.to_string())).unwrap();
    assert!(ignored.is_empty(), "settings without a field: {ignored:?}");
    let mut back = rep.settings_over(RealmSettings::default());
    back.default_signature_algorithm = settings.default_signature_algorithm;
    assert_eq!(back, settings);
}

#[test]
fn every_field_a_realm_shows_is_a_known_field() {
    let mut rep = RealmRepresentation {
        id: Some("i".into()),
        realm: Some("r".into()),
        enabled: Some(true),
        not_before: Some(0),
        roles: Some(RolesRepresentation::default()),
        default_role: Some(RoleRepresentation::default()),
        clients: Some(Vec::new()),
        users: Some(Vec::new()),
        ..RealmRepresentation::default()
    };
    let settings = RealmSettings {
        display_name_html: Some("x".into()),
        login_theme: Some("x".into()),
        account_theme: Some("x".into()),
        admin_theme: Some("x".into()),
        email_theme: Some("x".into()),
        default_locale: Some("x".into()),
        password_policy: Some("x".into()),
        ..RealmSettings::default()
    };
    rep.set_settings(&settings);
    let json = serde_json::to_value(&rep).unwrap();
    for key in json.as_object().unwrap().keys() {
        assert!(REALM_REPRESENTATION_FIELDS.contains(&key.as_str()), "{key} is not a known field");
    }
}

#[test]
fn set_settings_then_settings_over_is_the_identity() {
    let settings = RealmSettings {
        access_token_lifespan: 42,
        ssl_required: "all".into(),
        ..RealmSettings::default()
    };
    let mut rep = RealmRepresentation::default();
    rep.set_settings(&settings);
    assert_eq!(rep.settings_over(RealmSettings::default()), settings);
    assert_eq!(rep.default_signature_algorithm.as_deref(), Some("RS256"));
}

#[test]
fn client_attributes_accept_numbers_and_booleans_as_text() {
    let client: ClientRepresentation = serde_json::from_str(
        r#"{"attributes": {"a": "x", "access.token.lifespan": 300, "flag": true, "gone": null}}"#,
    )
    .unwrap();
    let attributes = client.attributes.unwrap();
    assert_eq!(attributes["a"], "x");
    assert_eq!(attributes["access.token.lifespan"], "300");
    assert_eq!(attributes["flag"], "true");
    assert!(!attributes.contains_key("gone"));
}

#[test]
fn secrets_round_trip_as_strings_but_never_print() {
    let json = r#"{"clientId":"app","secret":"s3cr3t-value"}"#;
    let client: ClientRepresentation = serde_json::from_str(json).unwrap();
    assert!(!format!("{client:?}").contains("s3cr3t-value"));
    assert_eq!(serde_json::to_string(&client).unwrap(), json);
    let credential: CredentialRepresentation =
        serde_json::from_str(r#"{"type":"password","value":"hunter2"}"#).unwrap();
    assert!(!format!("{credential:?}").contains("hunter2"));
}

#[test]
fn absent_fields_are_not_serialized() {
    let user = UserRepresentation { username: Some("alice".into()), ..Default::default() };
    assert_eq!(serde_json::to_string(&user).unwrap(), r#"{"username":"alice"}"#);
}
