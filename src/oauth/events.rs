//! Keycloak-style events (LOGIN, REFRESH_TOKEN, ..._ERROR): always a structured tracing event,
//! and stored per realm when the realm's `eventsEnabled` is on. Storing happens off the request
//! path; a lost event never fails a request. Never carries a token, code or secret.

use std::sync::Arc;

use crate::clock::UnixTime;
use crate::domain::new_id;
use crate::realm::RealmContext;
use crate::store::{EventRecord, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Login,
    LoginError,
    ClientLogin,
    ClientLoginError,
    CodeToToken,
    CodeToTokenError,
    RefreshToken,
    RefreshTokenError,
    Logout,
    LogoutError,
    RevokeGrant,
    TokenExchange,
    TokenExchangeError,
    IntrospectToken,
    IntrospectTokenError,
    UserInfoRequest,
    UserInfoRequestError,
    UpdatePassword,
    UpdateProfile,
    UpdateTotp,
    VerifyEmail,
    CustomRequiredAction,
    CustomRequiredActionError,
    Register,
    RegisterError,
    DeviceAuth,
    DeviceAuthError,
    DeviceVerifyUserCode,
    DeviceVerifyUserCodeError,
    DeviceCodeToToken,
    DeviceCodeToTokenError,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "LOGIN",
            Self::LoginError => "LOGIN_ERROR",
            Self::ClientLogin => "CLIENT_LOGIN",
            Self::ClientLoginError => "CLIENT_LOGIN_ERROR",
            Self::CodeToToken => "CODE_TO_TOKEN",
            Self::CodeToTokenError => "CODE_TO_TOKEN_ERROR",
            Self::RefreshToken => "REFRESH_TOKEN",
            Self::RefreshTokenError => "REFRESH_TOKEN_ERROR",
            Self::Logout => "LOGOUT",
            Self::LogoutError => "LOGOUT_ERROR",
            Self::RevokeGrant => "REVOKE_GRANT",
            Self::TokenExchange => "TOKEN_EXCHANGE",
            Self::TokenExchangeError => "TOKEN_EXCHANGE_ERROR",
            Self::IntrospectToken => "INTROSPECT_TOKEN",
            Self::IntrospectTokenError => "INTROSPECT_TOKEN_ERROR",
            Self::UserInfoRequest => "USER_INFO_REQUEST",
            Self::UserInfoRequestError => "USER_INFO_REQUEST_ERROR",
            Self::UpdatePassword => "UPDATE_PASSWORD",
            Self::UpdateProfile => "UPDATE_PROFILE",
            Self::UpdateTotp => "UPDATE_TOTP",
            Self::VerifyEmail => "VERIFY_EMAIL",
            Self::CustomRequiredAction => "CUSTOM_REQUIRED_ACTION",
            Self::CustomRequiredActionError => "CUSTOM_REQUIRED_ACTION_ERROR",
            Self::Register => "REGISTER",
            Self::RegisterError => "REGISTER_ERROR",
            Self::DeviceAuth => "OAUTH2_DEVICE_AUTH",
            Self::DeviceAuthError => "OAUTH2_DEVICE_AUTH_ERROR",
            Self::DeviceVerifyUserCode => "OAUTH2_DEVICE_VERIFY_USER_CODE",
            Self::DeviceVerifyUserCodeError => "OAUTH2_DEVICE_VERIFY_USER_CODE_ERROR",
            Self::DeviceCodeToToken => "OAUTH2_DEVICE_CODE_TO_TOKEN",
            Self::DeviceCodeToTokenError => "OAUTH2_DEVICE_CODE_TO_TOKEN_ERROR",
        }
    }
}

/// One event before it is recorded.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub ip: Option<String>,
    pub error: Option<String>,
    pub details: Option<serde_json::Value>,
}

#[derive(Clone)]
pub struct EventSink {
    store: Arc<dyn Store>,
}

impl EventSink {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    pub fn emit(&self, realm: &RealmContext, kind: EventKind, now: UnixTime, event: Event) {
        tracing::info!(
            target: "portcullis::events",
            realm = %realm.realm.name,
            event = kind.as_str(),
            client = event.client_id.as_deref(),
            user = event.user_id.as_deref(),
            session = event.session_id.as_deref(),
            ip = event.ip.as_deref(),
            error = event.error.as_deref(),
        );
        if !realm.realm.settings.events_enabled {
            return;
        }
        let record = EventRecord {
            id: new_id(),
            realm_id: realm.realm.id.clone(),
            time: now,
            kind: kind.as_str().to_string(),
            client_id: event.client_id,
            user_id: event.user_id,
            session_id: event.session_id,
            ip: event.ip,
            error: event.error,
            details: event.details.map(|d| d.to_string()),
        };
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.insert_events(&[record]).await {
                tracing::warn!(error = %e, "event not stored");
            }
        });
    }
}
