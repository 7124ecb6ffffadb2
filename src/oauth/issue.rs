//! Minting a token response: access token, id token and refresh/offline shell with Keycloak's
//! claims and response fields, from what a grant decided (user, session, scope, family).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use sha2::Digest;

use super::mappers::{Subject, TokenKind, TokenRoles};
use super::shaping::{session_notes, Shaper};
use super::tokens::claims::{AccessClaims, Confirmation, IdClaims, RefreshClaims, TYP_BEARER, TYP_DPOP, TYP_ID, TYP_OFFLINE, TYP_REFRESH};
use super::tokens::refresh;
use super::OAuthError;
use crate::clock::UnixTime;
use crate::crypto::random::random_token;
use crate::domain::realm::HashSize;
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
    /// RFC 8693 §2.2.1: the type of the token issued by a token exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}

/// A refresh shell about to be issued: its jti is known before the store call so the hash can
/// be written in the same transaction.
pub struct PlannedRefresh {
    pub jti: String,
    pub offline: bool,
    /// The shell's `iat` when it is not now: a successor re-issued within the reuse interval
    /// keeps the one it was first issued with, so the client gets the same token.
    pub issued_at: Option<UnixTime>,
    /// The shell's generation in its family (`Issue::family_id`), which the store decides.
    /// `None` only re-issues a shell minted before shells carried family and generation.
    pub generation: Option<i64>,
}

impl PlannedRefresh {
    /// The first shell of a new family.
    pub fn new(offline: bool) -> Self {
        Self { jti: random_token::<32>(), offline, issued_at: None, generation: Some(crate::store::FIRST_GENERATION) }
    }

    pub fn hash(&self) -> TokenHash {
        refresh::jti_hash(&self.jti)
    }
}

/// `acr` of a token issued after the user authenticated (Keycloak's "1"; "0" is an SSO cookie
/// reused without a login form, which Portcullis does not tell apart yet).
pub const ACR_LOGIN: &str = "1";

/// The access token's jti, also known before the store call (codes record it).
pub fn new_access_jti() -> String {
    random_token::<16>()
}

pub struct Issue<'a> {
    /// The client, its selected scopes and their mappers.
    pub shaper: &'a Shaper<'a>,
    pub issuer: &'a str,
    pub user: &'a User,
    /// The roles the tokens carry (`Shaper::roles`).
    pub roles: &'a TokenRoles,
    /// The user's groups as full paths (`Shaper::groups`; empty unless a mapper reads them).
    pub groups: &'a [String],
    pub session: Option<&'a UserSessionRecord>,
    /// The refresh-token family the tokens belong to (the access token's `fam`).
    pub family_id: Option<&'a str>,
    pub now: UnixTime,
    pub nonce: Option<&'a str>,
    /// The client's address, for a service account's session notes.
    pub ip: Option<&'a str>,
    pub access_jti: String,
    /// The refresh shell and when it expires (the session's deadline).
    pub refresh: Option<(PlannedRefresh, UnixTime)>,
    /// The thumbprint of the request's DPoP key (RFC 9449): the access token is bound to it,
    /// and a public client's refresh token too.
    pub dpop: Option<&'a str>,
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

/// The access token's expiry for a grant issued now: an online session's deadline caps it (the
/// refresh shell's, or, for a token issued without one, the session's as last touched).
pub fn access_token_expiry(issue: &Issue<'_>) -> UnixTime {
    let exp = issue.now + access_token_lifespan(issue.shaper.realm, issue.shaper.client);
    match (issue.session, &issue.refresh) {
        (Some(session), Some((refresh, deadline))) if !session.offline && !refresh.offline => exp.min(*deadline),
        (Some(session), None) if !session.offline => {
            exp.min(crate::session::deadline(&issue.shaper.realm.realm.settings, session, None, None))
        }
        _ => exp,
    }
}

/// OIDC Core §3.1.3.6: left half of the hash of the access token, base64url.
fn at_hash(alg: SignatureAlgorithm, access_token: &str) -> String {
    let digest: Vec<u8> = match alg.hash() {
        HashSize::Sha256 => sha2::Sha256::digest(access_token.as_bytes()).to_vec(),
        HashSize::Sha384 => sha2::Sha384::digest(access_token.as_bytes()).to_vec(),
        HashSize::Sha512 => sha2::Sha512::digest(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// The access token's claims (also what the admin API's example token shows).
pub fn access_claims(issue: &Issue<'_>) -> AccessClaims {
    let (client, shaper) = (issue.shaper.client, issue.shaper);
    let sid = issue.session.map(|s| s.sid().to_string());
    let exp = access_token_expiry(issue);
    let auth_time = issue.session.map(|s| s.auth_time);
    let notes = session_notes(client, issue.user, auth_time, issue.ip);
    let subject = Subject { user: issue.user, attributes: &issue.user.attributes, group_paths: issue.groups, notes: &notes };
    let shaped = shaper.shape(TokenKind::Access, subject, issue.roles, ACR_LOGIN);
    AccessClaims {
        exp,
        iat: issue.now,
        auth_time: shaped.auth_time.or(auth_time),
        jti: issue.access_jti.clone(),
        iss: issue.issuer.to_string(),
        aud: shaped.audience,
        sub: issue.user.id.clone(),
        typ: if issue.dpop.is_some() { TYP_DPOP } else { TYP_BEARER }.into(),
        azp: client.client_id.clone(),
        sid: sid.clone(),
        session_state: sid.clone(),
        fam: issue.family_id.map(str::to_string),
        acr: shaped.acr,
        scope: shaper.scope.as_string(),
        cnf: issue.dpop.map(|jkt| Confirmation { jkt: jkt.to_string() }),
        mapped: shaped.claims,
    }
}

/// The id token's claims; `at_hash` when an access token goes with it.
pub fn id_claims(issue: &Issue<'_>, at_hash: Option<String>) -> IdClaims {
    let client = issue.shaper.client;
    let sid = issue.session.map(|s| s.sid().to_string());
    let auth_time = issue.session.map(|s| s.auth_time);
    let notes = session_notes(client, issue.user, auth_time, issue.ip);
    let subject = Subject { user: issue.user, attributes: &issue.user.attributes, group_paths: issue.groups, notes: &notes };
    let shaped = issue.shaper.shape(TokenKind::Id, subject, issue.roles, ACR_LOGIN);
    let mut aud = vec![client.client_id.clone()];
    aud.extend(shaped.audience.into_iter().filter(|a| *a != client.client_id));
    IdClaims {
        exp: access_token_expiry(issue),
        iat: issue.now,
        auth_time: shaped.auth_time.or(auth_time),
        jti: new_access_jti(),
        iss: issue.issuer.to_string(),
        aud,
        sub: issue.user.id.clone(),
        typ: TYP_ID.into(),
        azp: client.client_id.clone(),
        nonce: issue.nonce.map(str::to_string),
        sid: sid.clone(),
        session_state: sid,
        at_hash,
        acr: shaped.acr,
        mapped: shaped.claims,
    }
}

pub async fn issue(issue: Issue<'_>) -> Result<TokenResponse, OAuthError> {
    let (realm, client, shaper) = (issue.shaper.realm, issue.shaper.client, issue.shaper);
    let keys = &realm.keys;
    let key_error = |e: super::tokens::KeyMaterialError| {
        tracing::error!(error = %e, "signing failed");
        OAuthError::ServerError
    };
    let access = access_claims(&issue);
    let (exp, sid, scope) = (access.exp, access.sid.clone(), access.scope.clone());
    let access_alg = algorithm(realm, client, "access.token.signed.response.alg");
    let access_token = keys.signer(access_alg).map_err(key_error)?.sign_in_request(&access).await.map_err(key_error)?;

    let id_token = if shaper.scope.is_openid() {
        let id_alg = algorithm(realm, client, "id.token.signed.response.alg");
        let claims = id_claims(&issue, Some(at_hash(id_alg, &access_token)));
        Some(keys.signer(id_alg).map_err(key_error)?.sign_in_request(&claims).await.map_err(key_error)?)
    } else {
        None
    };

    let (refresh_token, refresh_expires_in) = match (&issue.refresh, &sid) {
        (Some((planned, deadline)), Some(sid)) => {
            let offline_without_max = planned.offline && !realm.realm.settings.offline_session_max_lifespan_enabled;
            let claims = RefreshClaims {
                exp: *deadline,
                iat: planned.issued_at.unwrap_or(issue.now),
                jti: planned.jti.clone(),
                iss: issue.issuer.to_string(),
                aud: issue.issuer.to_string(),
                sub: issue.user.id.clone(),
                typ: if planned.offline { TYP_OFFLINE } else { TYP_REFRESH }.into(),
                azp: client.client_id.clone(),
                sid: sid.clone(),
                session_state: sid.clone(),
                scope: scope.clone(),
                fam: planned.generation.and(issue.family_id).map(str::to_string),
                generation: issue.family_id.and(planned.generation),
                // RFC 9449 §5: a confidential client's refresh token is bound by its credentials
                cnf: issue.dpop.filter(|_| client.public_client).map(|jkt| Confirmation { jkt: jkt.to_string() }),
                requested_audience: shaper.requested_audience.clone(),
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
        token_type: if issue.dpop.is_some() { TYP_DPOP } else { TYP_BEARER },
        id_token,
        not_before_policy: realm.realm.not_before,
        session_state: sid,
        scope,
        issued_token_type: None,
    })
}
