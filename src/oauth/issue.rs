//! Minting a token response: access token, id token and refresh/offline shell with Keycloak's
//! claims and response fields, from what a grant decided (user, session, scope, family).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use sha2::Digest;

use super::roles::EffectiveRoles;
use super::scope::Scope;
use super::tokens::claims::{
    AccessClaims, IdClaims, ProfileClaims, RefreshClaims, TYP_BEARER, TYP_ID, TYP_OFFLINE, TYP_REFRESH,
};
use super::tokens::refresh;
use super::OAuthError;
use crate::clock::UnixTime;
use crate::crypto::random::random_token;
use crate::domain::{Client, SignatureAlgorithm, User};
use crate::realm::RealmContext;
use crate::store::{TokenHash, UserSessionRecord};

/// The token endpoint's success body (RFC 6749 §5.1 plus Keycloak's fields).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(rename = "not-before-policy")]
    pub not_before_policy: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_state: Option<String>,
    pub scope: String,
}

/// A refresh shell about to be issued: its jti is known before the store call so the hash can
/// be written in the same transaction.
pub struct PlannedRefresh {
    pub jti: String,
    pub offline: bool,
    /// The shell's `iat` when it is not now: a successor re-issued within the reuse interval
    /// keeps the one it was first issued with, so the client gets the same token.
    pub issued_at: Option<UnixTime>,
}

impl PlannedRefresh {
    pub fn new(offline: bool) -> Self {
        Self { jti: random_token::<32>(), offline, issued_at: None }
    }

    pub fn hash(&self) -> TokenHash {
        refresh::jti_hash(&self.jti)
    }
}

/// The access token's jti, also known before the store call (codes record it).
pub fn new_access_jti() -> String {
    random_token::<16>()
}

pub struct Issue<'a> {
    pub realm: &'a RealmContext,
    pub issuer: &'a str,
    pub client: &'a Client,
    pub user: &'a User,
    pub roles: &'a EffectiveRoles,
    pub session: Option<&'a UserSessionRecord>,
    /// The refresh-token family the tokens belong to (the access token's `fam`).
    pub family_id: Option<&'a str>,
    pub scope: &'a Scope,
    pub now: UnixTime,
    pub nonce: Option<&'a str>,
    pub access_jti: String,
    /// The refresh shell and when it expires (the session's deadline).
    pub refresh: Option<(PlannedRefresh, UnixTime)>,
}

fn algorithm(realm: &RealmContext, client: &Client, attribute: &str) -> SignatureAlgorithm {
    client
        .attributes
        .get(attribute)
        .and_then(|alg| SignatureAlgorithm::parse(alg))
        .unwrap_or(realm.realm.settings.default_signature_algorithm)
}

pub fn access_token_lifespan(realm: &RealmContext, client: &Client) -> i64 {
    client.access_token_lifespan().unwrap_or(realm.realm.settings.access_token_lifespan)
}

/// The access token's expiry for a grant issued now (an online session caps it).
pub fn access_token_expiry(issue: &Issue<'_>) -> UnixTime {
    let mut exp = issue.now + access_token_lifespan(issue.realm, issue.client);
    if let (Some(session), Some((refresh, deadline))) = (issue.session, &issue.refresh) {
        if !session.offline && !refresh.offline {
            exp = exp.min(*deadline);
        }
    }
    exp
}

fn profile(user: &User) -> ProfileClaims {
    let name = match (&user.first_name, &user.last_name) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(f), None) => Some(f.clone()),
        (None, Some(l)) => Some(l.clone()),
        (None, None) => None,
    };
    ProfileClaims {
        preferred_username: Some(user.username.clone()),
        email: user.email.clone(),
        email_verified: Some(user.email_verified),
        name,
        given_name: user.first_name.clone(),
        family_name: user.last_name.clone(),
    }
}

/// The claims userinfo answers with.
pub fn userinfo_claims(user: &User) -> serde_json::Value {
    let mut value = serde_json::to_value(profile(user)).unwrap_or_default();
    value["sub"] = serde_json::Value::String(user.id.clone());
    value
}

/// OIDC Core §3.1.3.6: left half of the hash of the access token, base64url.
fn at_hash(alg: SignatureAlgorithm, access_token: &str) -> String {
    let digest: Vec<u8> = match alg {
        SignatureAlgorithm::EdDSA => sha2::Sha512::digest(access_token.as_bytes()).to_vec(),
        _ => sha2::Sha256::digest(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

pub async fn issue(issue: Issue<'_>) -> Result<TokenResponse, OAuthError> {
    let keys = &issue.realm.keys;
    let key_error = |e: super::tokens::KeyMaterialError| {
        tracing::error!(error = %e, "signing failed");
        OAuthError::ServerError
    };
    let sid = issue.session.map(|s| s.sid().to_string());
    let exp = access_token_expiry(&issue);
    let auth_time = issue.session.map(|s| s.auth_time);
    let audience: Vec<String> =
        issue.roles.clients.keys().filter(|c| **c != issue.client.client_id).cloned().collect();
    let access = AccessClaims {
        exp,
        iat: issue.now,
        auth_time,
        jti: issue.access_jti.clone(),
        iss: issue.issuer.to_string(),
        aud: audience,
        sub: issue.user.id.clone(),
        typ: TYP_BEARER.into(),
        azp: issue.client.client_id.clone(),
        sid: sid.clone(),
        session_state: sid.clone(),
        fam: issue.family_id.map(str::to_string),
        acr: Some("1".into()),
        allowed_origins: issue.client.web_origins.iter().filter(|o| o.as_str() != "+" && o.as_str() != "*").cloned().collect(),
        realm_access: super::tokens::claims::RoleList { roles: issue.roles.realm.clone() },
        resource_access: issue.roles.clients.clone(),
        scope: issue.scope.as_string(),
        profile: profile(issue.user),
    };
    let access_alg = algorithm(issue.realm, issue.client, "access.token.signed.response.alg");
    let access_token = keys.signer(access_alg).map_err(key_error)?.sign_in_request(&access).await.map_err(key_error)?;

    let id_token = if issue.scope.is_openid() {
        let id_alg = algorithm(issue.realm, issue.client, "id.token.signed.response.alg");
        let claims = IdClaims {
            exp,
            iat: issue.now,
            auth_time,
            jti: new_access_jti(),
            iss: issue.issuer.to_string(),
            aud: issue.client.client_id.clone(),
            sub: issue.user.id.clone(),
            typ: TYP_ID.into(),
            azp: issue.client.client_id.clone(),
            nonce: issue.nonce.map(str::to_string),
            sid: sid.clone(),
            session_state: sid.clone(),
            at_hash: at_hash(id_alg, &access_token),
            acr: "1".into(),
            profile: profile(issue.user),
        };
        Some(keys.signer(id_alg).map_err(key_error)?.sign_in_request(&claims).await.map_err(key_error)?)
    } else {
        None
    };

    let (refresh_token, refresh_expires_in) = match (&issue.refresh, &sid) {
        (Some((planned, deadline)), Some(sid)) => {
            let offline_without_max = planned.offline && !issue.realm.realm.settings.offline_session_max_lifespan_enabled;
            let claims = RefreshClaims {
                exp: *deadline,
                iat: planned.issued_at.unwrap_or(issue.now),
                jti: planned.jti.clone(),
                iss: issue.issuer.to_string(),
                aud: issue.issuer.to_string(),
                sub: issue.user.id.clone(),
                typ: if planned.offline { TYP_OFFLINE } else { TYP_REFRESH }.into(),
                azp: issue.client.client_id.clone(),
                sid: sid.clone(),
                session_state: sid.clone(),
                scope: issue.scope.as_string(),
            };
            let key = keys.hmac_active().map_err(key_error)?;
            let expires_in = if offline_without_max { 0 } else { (*deadline - issue.now).max(0) };
            (Some(refresh::sign(&key, &claims)), expires_in)
        }
        _ => (None, 0),
    };
    Ok(TokenResponse {
        access_token,
        expires_in: (exp - issue.now).max(0),
        refresh_expires_in,
        refresh_token,
        token_type: TYP_BEARER,
        id_token,
        not_before_policy: issue.realm.realm.not_before,
        session_state: sid,
        scope: issue.scope.as_string(),
    })
}
