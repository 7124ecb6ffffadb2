//! The client-authenticated OAuth endpoints: token (RFC 6749), revoke (RFC 7009), introspect
//! (RFC 7662), pushed authorization requests (RFC 9126) and refresh-token logout. Each parses the form, authenticates the client, calls
//! one function of `crate::oauth` and maps the result.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::base_url::BaseUrl;
use super::enabled_realm;
use crate::app::AppState;
use crate::domain::Client;
use crate::oauth::client_auth::{self, authenticate};
use crate::oauth::grants::{self, GrantContext};
use crate::oauth::request::{require_form_content_type, FormParams};
use crate::oauth::{dpop, dpop_nonce, introspect, logout, par, revoke, OAuthError};
use crate::ops::rate_limit::client_ip;
use crate::realm::RealmContext;

pub fn header_str<'a>(headers: &'a HeaderMap, name: header::HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The request's DPoP proof (RFC 9449 §4.3: at most one `DPoP` header).
pub fn dpop_proof(headers: &HeaderMap, at_resource: bool) -> Result<Option<&str>, OAuthError> {
    let mut values = headers.get_all(dpop::HEADER).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(OAuthError::InvalidDpopProof { description: "Only one DPoP header is allowed".into(), at_resource });
    }
    first
        .map(|v| v.to_str().map_err(|_| OAuthError::InvalidDpopProof { description: "DPoP header verification failure".into(), at_resource }))
        .transpose()
}

/// Adds a fresh DPoP nonce to a successful answer when `needed` (a client with
/// `dpop.nonce.required`, RFC 9449 §8.2), so its next proof carries it without a refusal first.
pub fn offer_dpop_nonce(mut response: Response, needed: bool, realm: &RealmContext, now: crate::clock::UnixTime) -> Response {
    if let Some(value) = needed.then(|| dpop_nonce::current(realm, now)).flatten().and_then(|n| HeaderValue::from_str(&n).ok()) {
        response.headers_mut().insert(dpop_nonce::HEADER, value);
    }
    response
}

/// Adds RFC 6749 §5.1's cache headers to a success body.
pub fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A request to a client-authenticated endpoint, parsed and authenticated.
pub struct ClientRequest {
    pub realm: Arc<RealmContext>,
    pub client: Arc<Client>,
    pub form: FormParams,
    pub issuer: String,
    pub ip: String,
    /// The address limits count (see `GrantContext::address`).
    pub address: String,
    pub user_agent: Option<String>,
}

impl ClientRequest {
    pub async fn parse(
        state: &AppState,
        realm: &str,
        base: &BaseUrl,
        peer: SocketAddr,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Self, OAuthError> {
        let realm = enabled_realm(state, realm).await?;
        require_form_content_type(header_str(headers, header::CONTENT_TYPE))?;
        let form = FormParams::parse(body)?;
        let issuer = base.issuer(&realm.realm.name);
        let client = if client_auth::has_assertion(&form) {
            let oidc = format!("{issuer}/protocol/openid-connect");
            let audiences = [issuer.clone(), format!("{oidc}/token"), format!("{oidc}/token/introspect"),
                format!("{oidc}/revoke"), format!("{oidc}/ext/par/request"), format!("{oidc}/auth/device")];
            client_auth::authenticate_assertion(&realm, &form, &state.master_key, &state.client_keys, state.store.as_ref(), &audiences, state.clock.now())
                .await
                .inspect_err(|e| tracing::info!(realm = %realm.realm.name, error = e.code(), description = e.description().unwrap_or(""), "client assertion refused"))?
        } else {
            authenticate(&realm, header_str(headers, header::AUTHORIZATION), &form, &state.master_key)?
        };
        Ok(Self {
            issuer,
            realm,
            client,
            form,
            ip: peer.ip().to_string(),
            address: client_ip(headers, peer, state.settings.proxy_headers),
            user_agent: header_str(headers, header::USER_AGENT).map(|ua| ua.chars().take(512).collect()),
        })
    }

    pub fn context<'a>(&'a self, state: &'a AppState) -> GrantContext<'a> {
        GrantContext {
            store: &state.store,
            hasher: &state.hasher,
            master_key: &state.master_key,
            events: &state.events,
            logout: &state.logout,
            realm: &self.realm,
            client: &self.client,
            issuer: &self.issuer,
            now: state.clock.now(),
            ip: Some(self.ip.clone()),
            user_agent: self.user_agent.clone(),
            address: self.address.clone(),
            dpop: None,
        }
    }
}


pub async fn token(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let request = ClientRequest::parse(&state, &realm, &base, peer, &headers, &body).await?;
    let mut ctx = request.context(&state);
    let url = format!("{}/protocol/openid-connect/token", request.issuer);
    let proof = dpop_proof(&headers, false)?;
    ctx.dpop = dpop::at_token_endpoint(state.store.as_ref(), &request.realm, &request.client, proof, &url, ctx.now).await?;
    let response = grants::handle(&ctx, &request.form).await?;
    Ok(offer_dpop_nonce(no_store(Json(response)), dpop_nonce::required(&request.client), &request.realm, ctx.now))
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let request = ClientRequest::parse(&state, &realm, &base, peer, &headers, &body).await?;
    revoke::revoke(&request.context(&state), &request.form).await?;
    Ok(no_store(StatusCode::OK))
}

pub async fn introspect(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let request = ClientRequest::parse(&state, &realm, &base, peer, &headers, &body).await?;
    let answer = introspect::introspect(&request.context(&state), &request.form).await?;
    Ok(no_store(Json(answer)))
}

/// `POST .../ext/par/request` (RFC 9126): 201 with the request_uri and its lifetime.
pub async fn pushed_authorization_request(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let request = ClientRequest::parse(&state, &realm, &base, peer, &headers, &body).await?;
    let now = state.clock.now();
    // RFC 9449 §10.1: a proof at the push binds the code as `dpop_jkt` would
    let url = format!("{}/protocol/openid-connect/ext/par/request", request.issuer);
    let proof = dpop_proof(&headers, false)?;
    let proven = match proof {
        Some(proof) => dpop::at_token_endpoint(state.store.as_ref(), &request.realm, &request.client, Some(proof), &url, now).await?,
        None => None,
    };
    let (request_uri, expires_in) =
        par::push(&request.realm, &request.client, &request.form, proven.as_deref(), &state.master_key, now)?;
    let answer = no_store((StatusCode::CREATED, Json(serde_json::json!({ "request_uri": request_uri, "expires_in": expires_in }))));
    Ok(offer_dpop_nonce(answer, proven.is_some() && dpop_nonce::required(&request.client), &request.realm, now))
}

/// `POST .../logout` with client authentication and a refresh token: 204 as Keycloak answers.
pub async fn logout(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    base: BaseUrl,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let request = ClientRequest::parse(&state, &realm, &base, peer, &headers, &body).await?;
    logout::logout(&request.context(&state), &request.form).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

