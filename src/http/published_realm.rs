//! `GET /realms/{realm}`: Keycloak's PublishedRealmRepresentation, which older adapters and
//! scripts read for the realm's RS256 public key (base64 DER SubjectPublicKeyInfo) and its
//! token and account service URLs. No authentication, as in Keycloak.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::base_url::BaseUrl;
use super::enabled_realm;
use crate::admin::keys::spki_der;
use crate::app::AppState;
use crate::domain::SignatureAlgorithm;
use crate::oauth::OAuthError;

pub async fn realm(State(state): State<AppState>, base: BaseUrl, Path(realm): Path<String>) -> Result<Response, OAuthError> {
    let ctx = enabled_realm(&state, &realm).await?;
    let public_key = ctx.keys.signer(SignatureAlgorithm::RS256).ok().and_then(|signer| {
        let keys = ctx.keys.jwks()["keys"].as_array()?;
        let jwk = keys.iter().find(|k| k["kid"].as_str() == Some(signer.kid.as_str()))?;
        spki_der(jwk).map(|der| STANDARD.encode(der))
    });
    let issuer = base.issuer(&ctx.realm.name);
    Ok(Json(json!({
        "realm": ctx.realm.name,
        "public_key": public_key.map_or(Value::Null, Value::String),
        "token-service": format!("{issuer}/protocol/openid-connect"),
        "account-service": format!("{issuer}/account"),
        "tokens-not-before": ctx.realm.not_before,
    }))
    .into_response())
}
