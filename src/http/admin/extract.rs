//! What admin handlers extract: the authenticated caller (with the request's base URL), a JSON
//! body that becomes a 400 `{"errorMessage"}` instead of axum's plain-text rejection, and query
//! parameters that may repeat (`type=LOGIN&type=LOGOUT`). Plus the 201 and 204 answers.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::admin::{auth, AdminContext, AdminError, Caller, Page};
use crate::app::AppState;
use crate::http::base_url::BaseUrl;
use crate::realm::import::{json_holds_nul, NUL_REFUSED};

/// An authenticated admin request: who calls, and the public base URL for `Location` headers.
pub struct Admin {
    pub caller: Caller,
    pub base: String,
}

impl Admin {
    pub fn ctx<'a>(&'a self, state: &'a AppState) -> AdminContext<'a> {
        AdminContext {
            store: state.store.as_ref(),
            realms: &state.realms,
            master: &state.master_key,
            hasher: &state.hasher,
            caller: &self.caller,
            now: state.clock.now(),
            logout: Some((&state.logout, &self.base)),
        }
    }

    /// `{base}/admin/realms/{realm}/{path}`, each path segment percent-encoded.
    pub fn location(&self, segments: &[&str]) -> String {
        let mut url = format!("{}/admin/realms", self.base);
        for segment in segments {
            url.push('/');
            url.push_str(&encode_segment(segment));
        }
        url
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let base = BaseUrl::from_request_parts(parts, state)
            .await
            .map_err(|_| AdminError::bad_request("Missing or invalid Host header"))?
            .0;
        let ip =
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip().to_string());
        let token = bearer(parts);
        let caller =
            auth::authenticate(state.store.as_ref(), &state.realms, &base, token, ip, state.clock.now())
                .await?;
        Ok(Admin { caller, base })
    }
}

/// A JSON request body. A malformed body, a wrong type or a NUL character is a 400 in Keycloak's
/// shape; the place goes to the log, never the value (it may be a password). Unknown fields are
/// ignored: use `Strict` for a Keycloak representation, which refuses them as Keycloak does.
pub struct Body<T>(pub T);

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AdminError> {
    if json_holds_nul(bytes) {
        return Err(AdminError::bad_request(NUL_REFUSED));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        match inner.classify() {
            serde_json::error::Category::Data => AdminError::Unparsable(format!("unexpected value at {}", e.path())),
            _ => AdminError::Unparsable(format!("malformed at line {} column {}", inner.line(), inner.column())),
        }
    })?;
    de.end().map_err(|e| AdminError::Unparsable(format!("trailing characters at line {} column {}", e.line(), e.column())))?;
    Ok(value)
}

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        parse_json(&bytes).map(Body).map_err(IntoResponse::into_response)
    }
}

/// A Keycloak representation whose JSON field names are all known (from Keycloak's own class),
/// so that a body naming any other field is refused as Keycloak's Jackson refuses it:
/// `400 {"error":"Unrecognized field \"x\" (class ...), not marked as ignorable"}`. Fields
/// Keycloak has and Portcullis does not model must still be kept, never dropped.
pub trait KnownFields {
    /// Keycloak's Java class, as its error message names it.
    const CLASS: &'static str;
    /// Every JSON field of that class.
    const FIELDS: &'static [&'static str];
    /// Fields Keycloak acts on and Portcullis cannot: known, but refused with 400 when they carry
    /// a value (`null`, `false`, `""`, `[]` and `{}` carry none), so nothing is accepted and
    /// silently dropped.
    const REFUSED: &'static [&'static str] = &[];

    /// The first field of `object` (a JSON object of this representation) Keycloak would not
    /// know. Representations that nest others check those too.
    fn unknown_field(object: &serde_json::Map<String, Value>) -> Option<(String, &'static str)> {
        object.keys().find(|k| !Self::FIELDS.contains(&k.as_str())).map(|k| (k.clone(), Self::CLASS))
    }
}

/// The unknown fields of each object of `items` (a JSON array, or absent), as `T` finds them:
/// for representations that nest a list of others.
pub fn unknown_in_list<T: KnownFields>(items: Option<&Value>) -> Option<(String, &'static str)> {
    items.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object).find_map(T::unknown_field)
}

/// Whether a JSON value says anything: `null`, `false`, `""`, `[]` and `{}` do not.
pub fn carries(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        Value::Number(_) => true,
    }
}

/// Checks a body (one representation, or an array of them) against `T`'s known fields, then
/// its refused ones.
pub fn check_known_fields<T: KnownFields>(value: &Value) -> Result<(), AdminError> {
    let objects: Vec<&serde_json::Map<String, Value>> = match value {
        Value::Object(object) => vec![object],
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    if let Some((field, class)) = objects.iter().find_map(|o| T::unknown_field(o)) {
        return Err(AdminError::UnrecognizedField { field, class });
    }
    for object in objects {
        if let Some(field) = T::REFUSED.iter().find(|f| object.get(**f).is_some_and(carries)) {
            return Err(AdminError::bad_request(format!(
                "{field} is not supported by Portcullis (see README, Admin REST API)"
            )));
        }
    }
    Ok(())
}

/// A JSON body of a Keycloak representation (or an array of them, `Strict<Vec<T>>`), checked
/// against its known fields before it is parsed.
pub struct Strict<T>(pub T);

/// What `Strict` checks an element against: the representation itself, or the elements of a list.
pub trait Checked {
    fn check(value: &Value) -> Result<(), AdminError>;
}

impl<T: KnownFields> Checked for T {
    fn check(value: &Value) -> Result<(), AdminError> {
        check_known_fields::<T>(value)
    }
}

impl<T: KnownFields> Checked for Vec<T> {
    fn check(value: &Value) -> Result<(), AdminError> {
        check_known_fields::<T>(value)
    }
}

/// `parse_json` for a representation `Strict` checks.
pub fn parse_strict<T: DeserializeOwned + Checked>(bytes: &[u8]) -> Result<T, AdminError> {
    let value: Value = parse_json(bytes)?;
    T::check(&value)?;
    serde_path_to_error::deserialize(value).map_err(|e| AdminError::Unparsable(format!("unexpected value at {}", e.path())))
}

impl<T: DeserializeOwned + Checked> FromRequest<AppState> for Strict<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        parse_strict(&bytes).map(Strict).map_err(IntoResponse::into_response)
    }
}

/// A request body as UTF-8 text (realm creation hands it to the import parser).
pub struct Text(pub String);

impl FromRequest<AppState> for Text {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        String::from_utf8(bytes.to_vec())
            .map(Text)
            .map_err(|_| AdminError::bad_request("The body is not UTF-8").into_response())
    }
}

/// Query parameters in order, repeats kept.
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(Params(form_urlencoded::parse(query.as_bytes()).into_owned().collect()))
    }
}

impl Params {
    pub fn get(&self, key: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, AdminError> {
        self.get(key)
            .map(|v| {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| AdminError::bad_request(format!("{key} must be an integer")))
            })
            .transpose()
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, AdminError> {
        self.get(key)
            .map(|v| match v.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(AdminError::bad_request(format!("{key} must be true or false"))),
            })
            .transpose()
    }

    /// `first` and `max`, Keycloak's paging.
    pub fn page(&self) -> Result<Page, AdminError> {
        Ok(Page::new(self.int("first")?, self.int("max")?))
    }
}

/// 201 Created with a `Location` and no body.
pub fn created(location: &str) -> Response {
    let mut response = StatusCode::CREATED.into_response();
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
        }
        Err(_) => tracing::warn!("a Location header could not be formed"),
    }
    response
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A URL path segment: unreserved characters as they are, everything else percent-encoded.
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bad_body_is_keycloaks_unknown_error_and_never_quotes_the_value() {
        let error = parse_json::<crate::realm::representation::CredentialRepresentation>(br#"{"value": 12345678}"#)
            .err()
            .expect("a number is no password");
        assert!(matches!(&error, AdminError::Unparsable(why) if why.contains("value") && !why.contains("12345678")), "{error:?}");
        assert!(matches!(parse_json::<serde_json::Value>(b"{"), Err(AdminError::Unparsable(_))));
        assert!(parse_json::<crate::realm::representation::UserRepresentation>(br#"{"unknown": 1}"#).is_ok());
    }

    struct Probe;
    impl KnownFields for Probe {
        const CLASS: &'static str = "org.keycloak.representations.idm.ProbeRepresentation";
        const FIELDS: &'static [&'static str] = &["name", "attributes"];
    }

    #[test]
    fn a_strict_body_names_the_first_unknown_field_as_keycloak_does() {
        let error = check_known_fields::<Probe>(&serde_json::json!({"name": "x", "wrong": 1})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Unrecognized field \"wrong\" (class org.keycloak.representations.idm.ProbeRepresentation), not marked as ignorable"
        );
        assert!(check_known_fields::<Probe>(&serde_json::json!([{"name": "a"}, {"bad": 2}])).is_err(), "arrays too");
        assert!(check_known_fields::<Probe>(&serde_json::json!({"name": "x", "attributes": {"any": ["thing"]}})).is_ok());
    }

    struct Refusing;
    impl KnownFields for Refusing {
        const CLASS: &'static str = "org.keycloak.representations.idm.RefusingRepresentation";
        const FIELDS: &'static [&'static str] = &["name", "authorizationSettings", "flag"];
        const REFUSED: &'static [&'static str] = &["authorizationSettings", "flag"];
    }

    #[test]
    fn a_refused_field_is_a_400_only_when_it_carries_a_value() {
        for empty in [json!({"flag": false}), json!({"flag": null}), json!({"authorizationSettings": {}}), json!({"name": "x"})] {
            assert!(check_known_fields::<Refusing>(&empty).is_ok(), "{empty}");
        }
        let error = check_known_fields::<Refusing>(&json!([{"name": "a"}, {"flag": true}])).unwrap_err();
        assert!(matches!(&error, AdminError::BadRequest(m) if m.starts_with("flag is not supported")), "{error:?}");
        assert!(check_known_fields::<Refusing>(&json!({"authorizationSettings": {"policies": []}})).is_err());
        assert!(matches!(check_known_fields::<Refusing>(&json!({"flag": true, "wrong": 1})), Err(AdminError::UnrecognizedField { .. })));
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("a b/ü"), "a%20b%2F%C3%BC");
        assert_eq!(encode_segment("user-1_x.y~"), "user-1_x.y~");
    }
}
