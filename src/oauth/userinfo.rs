//! The UserInfo endpoint (OIDC Core §5.3): `sub` and the claims the userinfo mappers of the
//! token's client and of its scopes (read again from the token's `scope`) give for the user a
//! live access token was issued to. A dead token is RFC 6750's `invalid_token`; one without the `openid` scope is
//! `insufficient_scope` (403), as Keycloak answers. A client may ask for the answer signed. A
//! DPoP-bound token (RFC 9449 §7) is accepted only with a proof of its key.

use serde_json::Value;

use super::events::{Event, EventKind, EventSink};
use super::issue::ACR_LOGIN;
use super::mappers::{Subject, TokenKind, TokenRoles};
use super::scope::Scope;
use super::shaping::{session_notes, Shaper};
use super::token_check::live_access_token;
use super::OAuthError;
use crate::clock::UnixTime;
use crate::domain::client::USERINFO_SIGNATURE_ALG;
use crate::realm::RealmContext;
use crate::store::Store;

/// What the endpoint answers: JSON, or, when the client's `user.info.response.signature.alg`
/// asks for it, a JWT signed with the realm's key of that algorithm carrying the same claims
/// plus `iss` and `aud` (OIDC Core §5.3.2, as Keycloak signs it).
pub enum UserInfo {
    Json(Value),
    Signed(String),
}

pub async fn userinfo(
    store: &dyn Store,
    events: &EventSink,
    realm: &RealmContext,
    issuer: &str,
    token: &str,
    proof_jkt: Option<&str>,
    now: UnixTime,
) -> Result<UserInfo, OAuthError> {
    let claims = match live_access_token(store, realm, issuer, token, now).await? {
        Ok(claims) => claims,
        Err(inactive) => {
            let event = Event { error: Some(inactive.reason().into()), ..Event::default() };
            events.emit(realm, EventKind::UserInfoRequestError, now, event);
            return Err(OAuthError::InvalidToken("Token verification failed".into()));
        }
    };
    if let Err(why) = super::dpop::check_binding(&claims, proof_jkt, realm.client(&claims.azp).as_deref()) {
        let event = Event { client_id: Some(claims.azp.clone()), error: Some("invalid_token".into()), ..Event::default() };
        events.emit(realm, EventKind::UserInfoRequestError, now, event);
        return Err(OAuthError::InvalidToken(why.into()));
    }
    // OIDC Core §5.3: userinfo is an OpenID Connect resource (Keycloak: 403 "Missing openid scope")
    if !claims.scope.split_whitespace().any(|s| s == "openid") {
        let event = Event { client_id: Some(claims.azp.clone()), error: Some("access_denied".into()), ..Event::default() };
        events.emit(realm, EventKind::UserInfoRequestError, now, event);
        return Err(OAuthError::InsufficientScope("Missing openid scope".into()));
    }
    let user = store
        .user_by_id(&realm.realm.id, &claims.sub)
        .await?
        .filter(|u| u.enabled)
        .ok_or_else(|| OAuthError::InvalidToken("User not found or disabled".into()))?;
    let event = Event {
        client_id: Some(claims.azp.clone()),
        user_id: Some(user.id.clone()),
        session_id: claims.sid.clone(),
        ..Event::default()
    };
    let Some(client) = realm.client(&claims.azp) else {
        return Err(OAuthError::InvalidToken("Client not found".into()));
    };
    events.emit(realm, EventKind::UserInfoRequest, now, event);
    let shaper = Shaper::new(realm, &client, Scope::regrant(realm.scopes.of_client(&client.id), &claims.scope));
    let roles = if shaper.reads_roles(TokenKind::UserInfo) {
        shaper.roles(&store.mapped_role_ids(&user.id).await?)
    } else {
        TokenRoles::default()
    };
    let groups = shaper.groups(store, &user).await?;
    let notes = session_notes(&client, &user, claims.auth_time, None);
    let subject = Subject { user: &user, attributes: &user.attributes, group_paths: &groups, notes: &notes };
    let shaped = shaper.shape(TokenKind::UserInfo, subject, &roles, claims.acr.as_deref().unwrap_or(ACR_LOGIN));
    let mut body = serde_json::Map::new();
    body.insert("sub".into(), Value::String(user.id.clone()));
    body.extend(shaped.claims);
    let alg = client.signature_algorithm(USERINFO_SIGNATURE_ALG).map_err(|value| {
        // refused on admin writes, warned about on import: only an old row can get here
        tracing::error!(client = %client.client_id, value, "userinfo signature algorithm not supported");
        OAuthError::ServerError
    })?;
    let Some(alg) = alg else {
        return Ok(UserInfo::Json(Value::Object(body)));
    };
    body.insert("iss".into(), Value::String(issuer.to_string()));
    body.insert("aud".into(), Value::String(client.client_id.clone()));
    let key_error = |e: super::tokens::KeyMaterialError| {
        tracing::error!(error = %e, "userinfo signing failed");
        OAuthError::ServerError
    };
    let signer = realm.keys.signer(alg).map_err(key_error)?;
    Ok(UserInfo::Signed(signer.sign_in_request(&Value::Object(body)).await.map_err(key_error)?))
}
