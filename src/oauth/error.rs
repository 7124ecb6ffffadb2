//! OAuth errors as RFC 6749 §5.2 defines them, one variant per code, carrying Keycloak's
//! `error_description` text. Internal causes never reach a description; they go to the log.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
    /// RFC 6749 §5.2: the request is missing a parameter, repeats one or is otherwise malformed.
    InvalidRequest(String),
    /// RFC 6749 §5.2: client authentication failed (unknown client, no or wrong credentials).
    InvalidClient(String),
    /// `invalid_client` with 400, as Keycloak answers an authenticated client that may not do
    /// this at all (a `consentRequired` client asking for the password grant).
    ClientRefused(String),
    /// RFC 6749 §5.2: the grant or refresh token is invalid, expired, revoked or not this client's.
    InvalidGrant { description: String, status: u16 },
    /// RFC 6749 §5.2: the client may not use this grant type.
    UnauthorizedClient(String),
    /// RFC 6749 §4.1.2.1 / RFC 8693 §2.2.2: the request is understood and refused (403, as
    /// Keycloak answers a token exchange by a client outside the subject token's audience).
    AccessDenied(String),
    /// RFC 6749 §5.2: the grant type is not supported.
    UnsupportedGrantType(String),
    /// RFC 6749 §5.2: the requested scope is invalid or exceeds what was granted.
    InvalidScope(String),
    /// RFC 6750 §3.1: the access token is expired, revoked or malformed.
    InvalidToken(String),
    /// RFC 6750 §3.1: no bearer token was sent (401 with a bare challenge).
    MissingToken,
    /// RFC 6750 §3.1: the token lacks a scope the resource needs (403 with a challenge).
    InsufficientScope(String),
    /// RFC 7009 §2.2.1: the server cannot revoke this token type.
    UnsupportedTokenType(String),
    /// Realm unknown or disabled (Keycloak answers 404 "Realm does not exist").
    RealmNotFound,
    /// The server failed; the cause was logged, the client sees only this.
    ServerError,
    /// The database is unreachable: 503, retry later.
    TemporarilyUnavailable,
    /// Too many failed attempts from the client's address: 429 with `Retry-After` (RFC 6585 §4;
    /// the code is RFC 8628's `slow_down`, as the token endpoint's rate limit answers).
    SlowDown { retry_after: u64 },
    /// RFC 8628 §3.5's answers to a device polling the token endpoint (400): `code` is
    /// `authorization_pending`, `slow_down`, `expired_token` or `access_denied`.
    DeviceFlow { code: &'static str, description: &'static str },
    /// RFC 9449 §5 and §7.1: the DPoP proof is missing or invalid (400 at the token endpoint;
    /// at a resource, 401 with a `DPoP` challenge).
    InvalidDpopProof { description: String, at_resource: bool },
    /// RFC 9449 §8 and §9: the proof lacks a current server nonce; `nonce` is a fresh one, sent
    /// in the `DPoP-Nonce` header (400 at the token endpoint; at a resource, 401 with a challenge).
    UseDpopNonce { nonce: Option<String>, at_resource: bool },
    /// The server refuses new work for now (its password-check queue is full): 503 with `Retry-After`.
    Overloaded { retry_after: u64 },
}

#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<&'a str>,
}

impl OAuthError {
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::InvalidGrant { description: description.into(), status: 400 }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) | Self::ClientRefused(_) => "invalid_client",
            Self::InvalidGrant { .. } => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::AccessDenied(_) => "access_denied",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::InvalidToken(_) => "invalid_token",
            Self::MissingToken => "invalid_request",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::UnsupportedTokenType(_) => "unsupported_token_type",
            Self::RealmNotFound => "Realm does not exist",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable | Self::Overloaded { .. } => "temporarily_unavailable",
            Self::SlowDown { .. } => "slow_down",
            Self::DeviceFlow { code, .. } => code,
            Self::InvalidDpopProof { .. } => "invalid_dpop_proof",
            Self::UseDpopNonce { .. } => "use_dpop_nonce",
        }
    }

    pub fn description(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest(d)
            | Self::InvalidClient(d)
            | Self::ClientRefused(d)
            | Self::InvalidGrant { description: d, .. }
            | Self::UnauthorizedClient(d)
            | Self::AccessDenied(d)
            | Self::UnsupportedGrantType(d)
            | Self::InvalidScope(d)
            | Self::InvalidToken(d)
            | Self::InsufficientScope(d)
            | Self::UnsupportedTokenType(d) => Some(d),
            Self::MissingToken => Some("Token not provided"),
            Self::RealmNotFound => None,
            Self::ServerError => Some("Internal server error"),
            Self::TemporarilyUnavailable => Some("The service is temporarily unavailable, try again later"),
            Self::SlowDown { .. } => Some("Too many failed attempts from your address, try again later"),
            Self::Overloaded { .. } => Some("Too many logins in progress, try again later"),
            Self::DeviceFlow { description, .. } => Some(description),
            Self::InvalidDpopProof { description, .. } => Some(description),
            Self::UseDpopNonce { at_resource: false, .. } => Some("Authorization server requires nonce in DPoP proof"),
            Self::UseDpopNonce { at_resource: true, .. } => Some("Resource server requires nonce in DPoP proof"),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidClient(_) | Self::InvalidToken(_) | Self::MissingToken => 401,
            Self::InvalidDpopProof { at_resource: true, .. } | Self::UseDpopNonce { at_resource: true, .. } => 401,
            Self::InvalidGrant { status, .. } => *status,
            Self::RealmNotFound => 404,
            Self::InsufficientScope(_) | Self::AccessDenied(_) => 403,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable | Self::Overloaded { .. } => 503,
            Self::SlowDown { .. } => 429,
            _ => 400,
        }
    }

    /// Seconds for a `Retry-After` header, for the answers that carry one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::SlowDown { retry_after } | Self::Overloaded { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether the answer is part of a protocol working as it should (a device told to keep
    /// polling, a client handed a DPoP nonce), which the token endpoint's failure limits do not count.
    pub fn is_expected(&self) -> bool {
        matches!(self, Self::DeviceFlow { code: "authorization_pending", .. } | Self::UseDpopNonce { .. })
    }

    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody { error: self.code(), error_description: self.description() }
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_unavailable() {
            tracing::error!(error = %e, "database unavailable");
            Self::TemporarilyUnavailable
        } else {
            tracing::error!(error = %e, "storage failure");
            Self::ServerError
        }
    }
}
