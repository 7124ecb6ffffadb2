//! The claims Portcullis puts in tokens, with Keycloak's names, so clients and resource servers
//! written for Keycloak read them unchanged. The structural claims are fields; the rest is what
//! the protocol mappers put in (`crate::oauth::shaping`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Token `typ` values, as Keycloak writes them.
pub const TYP_BEARER: &str = "Bearer";
pub const TYP_ID: &str = "ID";
pub const TYP_REFRESH: &str = "Refresh";
pub const TYP_OFFLINE: &str = "Offline";
/// The `typ` of an access token bound to a DPoP key (Keycloak's).
pub const TYP_DPOP: &str = "DPoP";

/// RFC 7800's `cnf` claim as RFC 9449 §6.1 uses it: the SHA-256 thumbprint of the DPoP key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Confirmation {
    pub jkt: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RoleList {
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub exp: i64,
    pub iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    pub jti: String,
    pub iss: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "one_or_many")]
    pub aud: Vec<String>,
    pub sub: String,
    pub typ: String,
    pub azp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_state: Option<String>,
    /// Ours: the refresh-token family (grant) the token was issued from, so that revoking the
    /// grant or detecting a refresh-token reuse ends its access tokens at once (RFC 7009 §2.1,
    /// RFC 9700 §4.14.2). Absent on tokens of no grant (client_credentials without a refresh token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    pub scope: String,
    /// The DPoP key the token is bound to (RFC 9449 §6.1); `typ` is then `DPoP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// What the protocol mappers put in (`realm_access`, `preferred_username`, `groups`...).
    #[serde(flatten)]
    pub mapped: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IdClaims {
    pub exp: i64,
    pub iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    pub jti: String,
    pub iss: String,
    #[serde(with = "one_or_many")]
    pub aud: Vec<String>,
    pub sub: String,
    pub typ: String,
    pub azp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// What the protocol mappers put in.
    #[serde(flatten)]
    pub mapped: Map<String, Value>,
}

/// The body of a refresh or offline token shell (DESIGN.md §2): HMAC-signed, and only the
/// SHA-256 of `jti` is stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RefreshClaims {
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub typ: String,
    pub azp: String,
    pub sid: String,
    pub session_state: String,
    pub scope: String,
    /// The token family (one grant) and this shell's generation in it (DESIGN.md §2): how the
    /// store tells the current token from an older one without a row per token. Absent only
    /// from shells minted before families held constant state; kept last so such a shell,
    /// re-issued within the reuse interval, is byte-identical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
    #[serde(default, rename = "gen", skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// A public client's refresh token bound to its DPoP key (RFC 9449 §5): each refresh must
    /// come with a proof of that key. After `gen`, so older shells stay byte-identical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// Ours: the audiences a token exchange narrowed this grant to (RFC 8693 §2.1 `audience`);
    /// an access token refreshed from the shell keeps only those, as Keycloak's exchanged
    /// refresh tokens do. Last, so older shells stay byte-identical.
    #[serde(default, rename = "req_aud", skip_serializing_if = "Option::is_none")]
    pub requested_audience: Option<Vec<String>>,
}

/// `aud` is a string when there is one audience and an array otherwise (RFC 7519 §4.1.3).
mod one_or_many {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &[String], s: S) -> Result<S::Ok, S::Error> {
        match value {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        })
    }
}
