//! The token endpoint's grants, one module each (as fosite's `flow_*`): each takes the parsed
//! request and the authenticated client and returns a token response or an RFC 6749 error.

mod approved_session;
pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod password;
pub mod refresh_token;
pub mod token_exchange;

use std::sync::Arc;

use super::events::{Event, EventKind, EventSink};
use super::request::FormParams;
use super::client_scopes::ClientScopeSet;
use super::mappers::TokenRoles;
use super::shaping::Shaper;
use super::OAuthError;
use crate::clock::UnixTime;
use crate::crypto::password::PasswordHasher;
use crate::crypto::MasterKey;
use crate::domain::{Client, User};
use crate::realm::RealmContext;
use crate::session;
use crate::store::{Store, UserSessionRecord};

/// Everything a grant needs besides its parameters. No HTTP types.
pub struct GrantContext<'a> {
    pub store: &'a Arc<dyn Store>,
    pub hasher: &'a PasswordHasher,
    pub master_key: &'a MasterKey,
    pub events: &'a EventSink,
    /// Back-channel logout of the clients of sessions a request ends.
    pub logout: &'a crate::oauth::backchannel_logout::LogoutNotifier,
    pub realm: &'a RealmContext,
    pub client: &'a Client,
    pub issuer: &'a str,
    pub now: UnixTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The client address as rate limits and the password budget count it (proxy-aware, IPv6
    /// per /64; see `crate::ops::rate_limit::client_ip`).
    pub address: String,
    /// The thumbprint of the key of the request's valid DPoP proof (RFC 9449): the tokens
    /// issued are bound to it.
    pub dpop: Option<String>,
}

impl GrantContext<'_> {
    pub fn event(&self, kind: EventKind, user: Option<&str>, session: Option<&str>, error: Option<&str>) {
        self.events.emit(
            self.realm,
            kind,
            self.now,
            Event {
                client_id: Some(self.client.client_id.clone()),
                user_id: user.map(str::to_string),
                session_id: session.map(str::to_string),
                ip: self.ip.clone(),
                error: error.map(str::to_string),
                details: None,
            },
        );
    }

    /// A new user session (online or offline) starting now.
    pub fn new_session(&self, user: &User, offline: bool, auth_time: UnixTime) -> UserSessionRecord {
        let mut record = UserSessionRecord {
            id: crate::domain::new_session_id(),
            realm_id: self.realm.realm.id.clone(),
            user_id: user.id.clone(),
            offline,
            started_at: self.now,
            last_access_at: self.now,
            auth_time,
            remember_me: false,
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            expires_at: 0,
            browser_session_id: None,
        };
        record.expires_at = session::deadline(&self.realm.realm.settings, &record, None, Some(self.now));
        record
    }

    /// The client scopes the client is offered (what `scope` may select).
    pub fn offered(&self) -> &ClientScopeSet {
        self.realm.scopes.of_client(&self.client.id)
    }

    /// The roles and groups one grant's tokens carry for the user.
    pub async fn shaped_for(&self, shaper: &Shaper<'_>, user: &User) -> Result<(TokenRoles, Vec<String>), OAuthError> {
        let ids = self.store.mapped_role_ids(&user.id).await?;
        Ok((shaper.roles(&ids), shaper.groups(self.store.as_ref(), user).await?))
    }
}

/// Dispatches on `grant_type`.
pub async fn handle(ctx: &GrantContext<'_>, form: &FormParams) -> Result<super::issue::TokenResponse, OAuthError> {
    if ctx.client.bearer_only {
        return Err(OAuthError::UnauthorizedClient("Bearer-only not allowed".into()));
    }
    let result = match form.require("grant_type")? {
        "password" => password::handle(ctx, form).await,
        "client_credentials" => client_credentials::handle(ctx, form).await,
        "refresh_token" => refresh_token::handle(ctx, form).await,
        "authorization_code" => authorization_code::handle(ctx, form).await,
        crate::oauth::device::GRANT_TYPE => device_code::handle(ctx, form).await,
        token_exchange::GRANT_TYPE => token_exchange::handle(ctx, form).await,
        other => Err(OAuthError::UnsupportedGrantType(format!("Unsupported grant_type: {}", other.chars().take(64).collect::<String>()))),
    };
    if result.is_ok() {
        metrics::counter!(crate::ops::metrics::TOKENS_ISSUED, "grant_type" => form.get("grant_type").unwrap_or("").to_string()).increment(1);
    }
    result
}
