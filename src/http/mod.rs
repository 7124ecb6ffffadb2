//! The HTTP edge: axum handlers that extract, call one domain function and map its error, and
//! `serve`/`connection`, which accept and bound the connections they answer on. The router lives
//! in `crate::app`; nothing here touches SQL.

pub mod account;
pub mod action_token;
pub mod admin;
pub mod base_url;
pub mod connection;
pub mod cors;
pub mod device;
pub mod discovery;
pub mod error;
pub mod health;
pub mod hsts;
pub mod login;
pub mod login_otp;
pub mod logout;
pub mod published_realm;
pub mod registration;
pub mod required_actions;
pub mod reset_credentials;
pub mod serve;
pub mod session_iframe;
pub mod timeout;
pub mod token;
pub mod userinfo;

use std::sync::Arc;

use crate::app::AppState;
use crate::oauth::OAuthError;
use crate::realm::cache::RealmLoadError;
use crate::realm::RealmContext;

/// The enabled realm of that name, or Keycloak's 404 "Realm does not exist".
pub async fn enabled_realm(state: &AppState, name: &str) -> Result<Arc<RealmContext>, OAuthError> {
    match state.realms.enabled(name).await {
        Ok(Some(ctx)) => Ok(ctx),
        Ok(None) => Err(OAuthError::RealmNotFound),
        Err(RealmLoadError::Store(e)) => Err(e.into()),
        Err(RealmLoadError::Keys(e)) => {
            tracing::error!(realm = name, error = %e, "realm keys cannot be loaded");
            Err(OAuthError::ServerError)
        }
    }
}
