//! Keycloak 24+'s declarative user profile (`GET/PUT .../users/profile`, `.../profile/metadata`):
//! the realm's UPConfig, stored as given and enforced on admin user create and update as
//! Keycloak's `USER_API` context does: admin `edit` permission, `required` for the admin role,
//! the `length`, `email`, `pattern`, `options`, `integer`, `multivalued` and prohibited-character
//! validators, and `unmanagedAttributePolicy` for attributes the profile does not name. Realm
//! import writes attributes as given (Keycloak's import does not validate the profile either).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::context::{Operation, Resource};
use super::{AdminContext, AdminError, Permission};
use crate::domain::{Realm, User};

/// Validators Keycloak ships; a profile naming another is refused, as Keycloak refuses it.
const KNOWN_VALIDATORS: &[&str] = &[
    "length", "email", "pattern", "options", "integer", "double", "uri", "local-date", "iso-date",
    "multivalued", "person-name-prohibited-characters", "username-prohibited-characters",
    "up-username-not-idn-homograph",
];
/// Characters Keycloak's `person-name-prohibited-characters` refuses (and controls).
const PERSON_NAME_PROHIBITED: &str = "<>&\"$%!#?§;*~/\\|^=[]{}()";
/// `username-prohibited-characters`: the same, plus quote, comma, colon and whitespace.
const USERNAME_PROHIBITED: &str = "<>&\"'$%!#?§,;:*~/\\|^=[]{}()";

/// Keycloak's `UnmanagedAttributePolicy`; absent: unmanaged attributes are disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UnmanagedAttributePolicy {
    Enabled,
    AdminView,
    AdminEdit,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Required {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Permissions {
    #[serde(default)]
    pub view: Vec<String>,
    #[serde(default)]
    pub edit: Vec<String>,
}

/// One attribute of the profile (Keycloak's `UPAttribute`); fields it does not model are kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpAttribute {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub validations: BTreeMap<String, Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Required>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    #[serde(default)]
    pub multivalued: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A realm's profile (Keycloak's `UPConfig`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpConfig {
    #[serde(default)]
    pub attributes: Vec<UpAttribute>,
    #[serde(default)]
    pub groups: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmanaged_attribute_policy: Option<UnmanagedAttributePolicy>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// What a new Keycloak 26 realm has: the four root attributes, no unmanaged attributes.
pub fn default_config() -> UpConfig {
    let both = || Some(Permissions { view: vec!["admin".into(), "user".into()], edit: vec!["admin".into(), "user".into()] });
    let user_required = || Some(Required { roles: vec!["user".into()], scopes: vec![] });
    let validations = |v: Value| serde_json::from_value(v).unwrap_or_default();
    let attribute = |name: &str, v: Value, required: Option<Required>| UpAttribute {
        name: name.into(),
        display_name: Some(format!("${{{name}}}")),
        validations: validations(v),
        required,
        permissions: both(),
        ..UpAttribute::default()
    };
    UpConfig {
        attributes: vec![
            attribute(
                "username",
                json!({"length": {"min": 3, "max": 255}, "username-prohibited-characters": {}, "up-username-not-idn-homograph": {}}),
                None,
            ),
            attribute("email", json!({"email": {}, "length": {"max": 255}}), user_required()),
            attribute("firstName", json!({"length": {"max": 255}, "person-name-prohibited-characters": {}}), user_required()),
            attribute("lastName", json!({"length": {"max": 255}, "person-name-prohibited-characters": {}}), user_required()),
        ],
        groups: vec![json!({"name": "user-metadata", "displayHeader": "User metadata",
            "displayDescription": "Attributes, which refer to user metadata"})],
        unmanaged_attribute_policy: None,
        other: Map::new(),
    }
}

/// A stored profile, or Keycloak's default when none was PUT (or, logged, when it cannot be read).
pub fn parse_stored(text: Option<&str>) -> UpConfig {
    match text.map(serde_json::from_str::<UpConfig>) {
        None => default_config(),
        Some(Ok(config)) => config,
        Some(Err(e)) => {
            tracing::error!(error = %e, "stored user profile cannot be read; using the default");
            default_config()
        }
    }
}

/// What the account page shows a user of their own profile, as (label, values): the attributes
/// the profile lets the `user` role view (the root ones, `username`, `email`, `firstName` and
/// `lastName`, from the user's fields), and, with `unmanagedAttributePolicy` `ENABLED`, the
/// attributes the profile does not name. Labels are `displayName` unless that is a message key.
pub fn visible_to_user(config: &UpConfig, user: &User) -> Vec<(String, Vec<String>)> {
    let value = |name: &str| -> Vec<String> {
        match name {
            "username" => vec![user.username.clone()],
            "email" => user.email.iter().cloned().collect(),
            "firstName" => user.first_name.iter().cloned().collect(),
            "lastName" => user.last_name.iter().cloned().collect(),
            other => user.attributes.get(other).cloned().unwrap_or_default(),
        }
    };
    let mut shown: Vec<(String, Vec<String>)> = config
        .attributes
        .iter()
        .filter(|a| a.permissions.as_ref().is_some_and(|p| p.view.iter().chain(&p.edit).any(|r| r == "user")))
        .map(|a| {
            let label = a.display_name.clone().filter(|d| !d.starts_with("${")).unwrap_or_else(|| a.name.clone());
            (label, value(&a.name))
        })
        .filter(|(_, values)| !values.is_empty())
        .collect();
    if config.unmanaged_attribute_policy == Some(UnmanagedAttributePolicy::Enabled) {
        let named = |key: &str| config.attributes.iter().any(|a| a.name == key);
        shown.extend(user.attributes.iter().filter(|(k, v)| !named(k) && !v.is_empty()).map(|(k, v)| (k.clone(), v.clone())));
    }
    shown
}

/// The realm's profile: as last PUT, or Keycloak's default.
pub async fn config_of(ctx: &AdminContext<'_>, realm: &Realm) -> Result<UpConfig, AdminError> {
    match ctx.store.user_profile_config(&realm.id).await? {
        None => Ok(default_config()),
        Some(text) => serde_json::from_str(&text).map_err(|e| AdminError::Internal(format!("stored user profile: {e}"))),
    }
}

pub async fn get(ctx: &AdminContext<'_>, realm: &str) -> Result<UpConfig, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewRealm).await?;
    config_of(ctx, &realm).await
}

/// `PUT .../users/profile`: checks the configuration as Keycloak's provider does, stores it and
/// answers it (Keycloak answers 200 with the stored configuration).
pub async fn put(ctx: &AdminContext<'_>, realm: &str, config: UpConfig) -> Result<UpConfig, AdminError> {
    let realm = ctx.realm(realm, Permission::ManageRealm).await?;
    check_config(&config)?;
    let text = serde_json::to_string(&config).map_err(|e| AdminError::Internal(e.to_string()))?;
    if text.len() > 256 * 1024 {
        return Err(AdminError::bad_request("The user profile configuration is too large"));
    }
    ctx.store.set_user_profile_config(&realm.id, &text).await?;
    ctx.record(&realm.id, Operation::Update, Resource::Realm, "users/profile", serde_json::to_value(&config).ok()).await;
    Ok(config)
}

fn check_config(config: &UpConfig) -> Result<(), AdminError> {
    let mut seen = std::collections::BTreeSet::new();
    for attribute in &config.attributes {
        let name = attribute.name.trim();
        if name.is_empty() {
            return Err(AdminError::bad_request("Attribute name is missing"));
        }
        if !seen.insert(name) {
            return Err(AdminError::bad_request(format!("Duplicated attribute name '{name}'")));
        }
        for validator in attribute.validations.keys() {
            if !KNOWN_VALIDATORS.contains(&validator.as_str()) {
                return Err(AdminError::bad_request(format!("Validator '{validator}' does not exist")));
            }
        }
        if let Some(pattern) = attribute.validations.get("pattern") {
            let text = pattern.get("pattern").and_then(Value::as_str).unwrap_or_default();
            compile(text).ok_or_else(|| AdminError::bad_request(format!("Invalid pattern for attribute '{name}'")))?;
        }
    }
    for root in ["username", "email"] {
        if !seen.contains(root) {
            return Err(AdminError::bad_request(format!("The attribute '{root}' can not be removed")));
        }
    }
    Ok(())
}

fn compile(pattern: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(pattern).size_limit(1 << 20).build().ok()
}

/// `GET .../users/profile/metadata`: Keycloak's `UserProfileMetadata` for an admin.
pub async fn metadata(ctx: &AdminContext<'_>, realm: &str) -> Result<Value, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewUsers).await?;
    let config = config_of(ctx, &realm).await?;
    let attributes: Vec<Value> = config
        .attributes
        .iter()
        .map(|a| {
            let mut out = json!({
                "name": a.name,
                "displayName": a.display_name.clone().unwrap_or_else(|| a.name.clone()),
                // Keycloak always requires a username
                "required": a.name == "username" || Editor::Admin.must_fill(a),
                "readOnly": !Editor::Admin.edits(a),
                "validators": a.validations,
                "multivalued": a.multivalued,
            });
            if let Some(annotations) = &a.annotations {
                out["annotations"] = Value::Object(annotations.clone());
            }
            if let Some(group) = &a.group {
                out["group"] = json!(group);
            }
            out
        })
        .collect();
    Ok(json!({ "attributes": attributes, "groups": config.groups }))
}


/// One violation, in Keycloak's `ErrorRepresentation` shape.
fn violation(field: &str, message: &str, params: Vec<Value>) -> Value {
    let mut all = vec![json!(field)];
    all.extend(params);
    json!({ "field": field, "errorMessage": message, "params": all })
}

/// The values the profile sees for a managed attribute of `user`.
fn values_of(user: &User, name: &str) -> Vec<String> {
    let root = match name {
        "username" => Some(Some(user.username.clone())),
        "email" => Some(user.email.clone()),
        "firstName" => Some(user.first_name.clone()),
        "lastName" => Some(user.last_name.clone()),
        _ => None,
    };
    match root {
        Some(value) => value.into_iter().collect(),
        None => user.attributes.get(name).cloned().unwrap_or_default(),
    }
}

fn number(config: &Map<String, Value>, key: &str) -> Option<f64> {
    match config.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Who edits a profile: Keycloak's `USER_API` context (the admin API) or the user's own forms
/// (`UPDATE_PROFILE`, registration), which Keycloak checks with the `user` role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editor {
    Admin,
    User,
}

impl Editor {
    fn role(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
        }
    }

    fn edits(self, a: &UpAttribute) -> bool {
        a.permissions.as_ref().is_none_or(|p| p.edit.iter().any(|r| r == self.role()))
    }

    /// Required for this editor: no roles named (everyone) or its role, and no scopes.
    fn must_fill(self, a: &UpAttribute) -> bool {
        a.required.as_ref().is_some_and(|r| r.scopes.is_empty() && (r.roles.is_empty() || r.roles.iter().any(|x| x == self.role())))
    }
}

/// Every way `user` (as it would be stored) breaks the profile for `editor`, `before` being the
/// stored user on update, each in Keycloak's `ErrorRepresentation` shape.
pub fn violations(config: &UpConfig, editor: Editor, before: Option<&User>, user: &User) -> Vec<Value> {
    let mut errors = Vec::new();
    for a in &config.attributes {
        let values = values_of(user, &a.name);
        let old = before.map(|b| values_of(b, &a.name)).unwrap_or_default();
        if !editor.edits(a) && old != values {
            errors.push(violation(&a.name, "error-user-attribute-read-only", vec![]));
            continue;
        }
        let present: Vec<&String> = values.iter().filter(|v| !v.trim().is_empty()).collect();
        if present.is_empty() {
            if editor.must_fill(a) {
                errors.push(violation(&a.name, "error-user-attribute-required", vec![]));
            }
            continue;
        }
        if !a.multivalued && present.len() > 1 {
            errors.push(violation(&a.name, "error-invalid-multivalued-size", vec![json!(0), json!(1)]));
        }
        for (validator, cfg) in &a.validations {
            if let Some(error) = present.iter().find_map(|v| check(&a.name, validator, cfg, v)) {
                errors.push(error);
            }
        }
    }
    let managed = |name: &str| config.attributes.iter().any(|a| a.name == name);
    let may_write = match editor {
        Editor::Admin => matches!(
            config.unmanaged_attribute_policy,
            Some(UnmanagedAttributePolicy::Enabled | UnmanagedAttributePolicy::AdminEdit)
        ),
        Editor::User => config.unmanaged_attribute_policy == Some(UnmanagedAttributePolicy::Enabled),
    };
    if !may_write {
        for (name, values) in &user.attributes {
            let unchanged = before.and_then(|b| b.attributes.get(name)) == Some(values);
            if !managed(name) && !unchanged {
                errors.push(violation(name, "error-user-attribute-read-only", vec![]));
            }
        }
    }
    errors
}

/// Checks `user` (as it would be stored) against the profile in the admin context, `before`
/// being the stored user on update. Violations come back in Keycloak's shape: one error as
/// itself, several as `errors`.
pub fn enforce(config: &UpConfig, before: Option<&User>, user: &User) -> Result<(), AdminError> {
    let mut errors = violations(config, Editor::Admin, before, user);
    match errors.len() {
        0 => Ok(()),
        1 => Err(AdminError::Keycloak { status: 400, body: errors.remove(0) }),
        _ => Err(AdminError::Keycloak { status: 400, body: json!({ "errors": errors }) }),
    }
}

/// One validator on one value; `None` when it passes (or is not one Portcullis checks).
fn check(name: &str, validator: &str, cfg: &Map<String, Value>, value: &str) -> Option<Value> {
    let chars = value.chars().count() as f64;
    match validator {
        "length" => {
            let (min, max) = (number(cfg, "min"), number(cfg, "max"));
            let bad = min.is_some_and(|m| chars < m) || max.is_some_and(|m| chars > m);
            bad.then(|| {
                let show = |n: Option<f64>| n.map_or(Value::Null, |n| json!(n as i64));
                violation(name, "error-invalid-length", vec![show(min), show(max)])
            })
        }
        "email" => {
            let ok = value.len() <= 255
                && !value.chars().any(char::is_whitespace)
                && value.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && !domain.is_empty() && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@')
                });
            (!ok).then(|| violation(name, "invalidEmailMessage", vec![]))
        }
        "pattern" => {
            let pattern = cfg.get("pattern").and_then(Value::as_str).unwrap_or_default();
            let message = cfg.get("error-message").and_then(Value::as_str).unwrap_or("error-pattern-no-match");
            let matches = compile(pattern).is_some_and(|re| re.is_match(value));
            (!matches).then(|| violation(name, message, vec![json!(pattern)]))
        }
        "options" => {
            let options: Vec<&str> = cfg.get("options").and_then(Value::as_array).map(|o| o.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            (!options.contains(&value)).then(|| violation(name, "error-invalid-value", vec![]))
        }
        "integer" => match value.trim().parse::<i64>() {
            Err(_) => Some(violation(name, "error-invalid-number", vec![])),
            Ok(n) => {
                let (min, max) = (number(cfg, "min"), number(cfg, "max"));
                let bad = min.is_some_and(|m| (n as f64) < m) || max.is_some_and(|m| (n as f64) > m);
                bad.then(|| violation(name, "error-number-out-of-range", vec![json!(min), json!(max)]))
            }
        },
        "person-name-prohibited-characters" => prohibited(value, PERSON_NAME_PROHIBITED, false)
            .then(|| violation(name, "error-person-name-invalid-character", vec![])),
        "username-prohibited-characters" => prohibited(value, USERNAME_PROHIBITED, true)
            .then(|| violation(name, "error-username-invalid-character", vec![])),
        _ => None,
    }
}

/// A violation as the user's forms show it: Keycloak's English text for its message key.
pub fn form_message(violation: &Value) -> String {
    let param = |i: usize| violation["params"].get(i).map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string)).unwrap_or_default();
    match violation["errorMessage"].as_str().unwrap_or_default() {
        "error-user-attribute-required" => "Please specify this field.".into(),
        "error-invalid-length" => match (param(1).as_str(), param(2).as_str()) {
            ("null", max) => format!("Length must be at most {max}."),
            (min, "null") => format!("Length must be at least {min}."),
            (min, max) => format!("Length must be between {min} and {max}."),
        },
        "invalidEmailMessage" => "Invalid email address.".into(),
        "error-user-attribute-read-only" => "The field is read only.".into(),
        "error-person-name-invalid-character" | "error-username-invalid-character" => {
            format!("'{}' contains invalid character.", param(0))
        }
        "error-invalid-multivalued-size" => "Only one value is allowed.".into(),
        "error-number-out-of-range" | "error-invalid-number" | "error-invalid-value" => "Invalid value.".into(),
        other => other.to_string(),
    }
}

fn prohibited(value: &str, set: &str, whitespace: bool) -> bool {
    value.chars().any(|c| set.contains(c) || c.is_control() || (whitespace && c.is_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(username: &str) -> User {
        User {
            id: "u".into(),
            realm_id: "r".into(),
            username: username.into(),
            email: None,
            first_name: None,
            last_name: None,
            enabled: true,
            email_verified: false,
            service_account_client_id: None,
            created_at: 0,
            required_actions: vec![],
            attributes: BTreeMap::new(),
        }
    }

    fn error_of(result: Result<(), AdminError>) -> Value {
        match result {
            Err(AdminError::Keycloak { status: 400, body }) => body,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_default_profile_checks_lengths_characters_and_email() {
        let config = default_config();
        assert!(enforce(&config, None, &user("alice")).is_ok());
        let short = error_of(enforce(&config, None, &user("al")));
        assert_eq!(short, json!({"field": "username", "errorMessage": "error-invalid-length", "params": ["username", 3, 255]}));
        assert_eq!(error_of(enforce(&config, None, &user("a b c")))["errorMessage"], "error-username-invalid-character");
        let mut bad = user("alice");
        bad.email = Some("nope".into());
        bad.first_name = Some("<b>".into());
        let both = error_of(enforce(&config, None, &bad));
        assert_eq!(both["errors"].as_array().map(Vec::len), Some(2), "{both}");
        let mut custom = user("alice");
        custom.attributes.insert("dept".into(), vec!["eng".into()]);
        assert_eq!(error_of(enforce(&config, None, &custom))["errorMessage"], "error-user-attribute-read-only");
        assert!(enforce(&config, Some(&custom), &custom).is_ok(), "an unmanaged attribute already held may stay");
    }
}
