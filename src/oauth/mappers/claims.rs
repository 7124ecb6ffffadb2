//! How a mapper's value becomes a claim, as Keycloak's `OIDCAttributeMapperHelper` does it:
//! `jsonType.label` conversion (String, long, int, boolean, JSON), `multivalued` lists, and
//! `claim.name` paths with dotted nesting (`a.b.c`; `\.` keeps a dot in a name). A value that
//! does not convert is left out (and logged), never a failed token.

use serde_json::{Map, Value};

/// A claim path split on unescaped dots: `address.street` is two names, `a\.b` one.
pub fn split_claim_path(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                current.push('.');
                chars.next();
            }
            '.' => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    parts.retain(|p| !p.is_empty());
    parts
}

/// One value converted to `json_type` (Keycloak's `jsonType.label`); `None` when it does not
/// convert. No type (or an unknown one) keeps the value as it is.
pub fn convert(json_type: Option<&str>, value: Value) -> Option<Value> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match json_type {
        Some("String") => Some(Value::String(text(&value))),
        Some("boolean") => match &value {
            Value::Bool(_) => Some(value),
            // Java's Boolean.valueOf: "true" in any case is true, anything else false
            Value::String(s) => Some(Value::Bool(s.eq_ignore_ascii_case("true"))),
            _ => None,
        },
        Some("long") | Some("int") => match &value {
            Value::Number(n) if n.is_i64() => Some(value),
            Value::String(s) => s.trim().parse::<i64>().ok().map(Value::from),
            _ => None,
        },
        Some("JSON") => match value {
            Value::String(s) => serde_json::from_str(&s).ok(),
            other @ (Value::Object(_) | Value::Array(_)) => Some(other),
            _ => None,
        },
        _ => Some(value),
    }
}

/// Keycloak's `mapAttributeValue`: a list becomes a list (multivalued) or its first value, each
/// converted; an empty list is no value.
pub fn map_value(json_type: Option<&str>, multivalued: bool, values: Vec<Value>, mapper: &str) -> Option<Value> {
    if values.is_empty() {
        return None;
    }
    if multivalued {
        let converted: Vec<Value> = values.into_iter().filter_map(|v| convert(json_type, v)).collect();
        return Some(Value::Array(converted));
    }
    if values.len() > 1 {
        tracing::debug!(mapper, "several values for a single-valued mapper: the first is used");
    }
    let first = values.into_iter().next()?;
    let converted = convert(json_type, first);
    if converted.is_none() {
        tracing::warn!(mapper, json_type, "a mapped value does not convert to its JSON type: claim left out");
    }
    converted
}

/// Puts `value` at `path` in `claims`, creating nested objects; a multivalued claim that
/// already exists gains the new values it lacks (Keycloak merges, so two mappers of one claim add up).
pub fn put(claims: &mut Map<String, Value>, path: &[String], value: Value, multivalued: bool) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut object = claims;
    for name in parents {
        let entry = object.entry(name.clone()).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(nested) = entry else { return };
        object = nested;
    }
    match (multivalued, object.get_mut(last)) {
        (true, Some(existing)) => {
            let mut merged: Vec<Value> = match existing.take() {
                Value::Array(items) => items,
                single => vec![single],
            };
            let added = match value {
                Value::Array(items) => items,
                single => vec![single],
            };
            for item in added {
                if !merged.contains(&item) {
                    merged.push(item);
                }
            }
            *existing = Value::Array(merged);
        }
        _ => {
            object.insert(last.clone(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn claim_paths_split_on_unescaped_dots() {
        assert_eq!(split_claim_path("realm_access.roles"), ["realm_access", "roles"]);
        assert_eq!(split_claim_path("https://example\\.org/roles"), ["https://example.org/roles"]);
        assert_eq!(split_claim_path("a..b"), ["a", "b"]);
        assert!(split_claim_path("").is_empty());
    }

    #[test]
    fn values_convert_as_keycloak_converts_them() {
        assert_eq!(convert(Some("boolean"), json!("TRUE")), Some(json!(true)));
        assert_eq!(convert(Some("boolean"), json!("yes")), Some(json!(false)));
        assert_eq!(convert(Some("long"), json!("42")), Some(json!(42)));
        assert_eq!(convert(Some("long"), json!("x")), None);
        assert_eq!(convert(Some("JSON"), json!("{\"a\":1}")), Some(json!({"a": 1})));
        assert_eq!(convert(Some("String"), json!(7)), Some(json!("7")));
        assert_eq!(convert(None, json!(7)), Some(json!(7)));
        assert_eq!(map_value(Some("String"), true, vec![json!("a"), json!("b")], "m"), Some(json!(["a", "b"])));
        assert_eq!(map_value(Some("String"), false, vec![json!("a"), json!("b")], "m"), Some(json!("a")));
        assert_eq!(map_value(Some("String"), true, vec![], "m"), None);
    }

    #[test]
    fn nested_claims_are_built_and_multivalued_ones_merge() {
        let mut claims = Map::new();
        put(&mut claims, &split_claim_path("realm_access.roles"), json!(["a"]), true);
        put(&mut claims, &split_claim_path("realm_access.roles"), json!(["b", "a"]), true);
        put(&mut claims, &split_claim_path("single"), json!("x"), false);
        put(&mut claims, &split_claim_path("single"), json!("y"), false);
        assert_eq!(Value::Object(claims), json!({"realm_access": {"roles": ["a", "b"]}, "single": "y"}));
    }
}
