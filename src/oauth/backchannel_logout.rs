//! OIDC Back-Channel Logout 1.0: when sessions end, by whatever path (RP-initiated or
//! refresh-token logout, the account page, an admin, a password change, a disabled or deleted
//! user, a revoked consent), each client that joined them and names a `backchannel.logout.url`
//! is sent a logout token (§2.4): signed with the realm's key for the client's ID tokens, header
//! `typ: logout+jwt`, claims iss, aud, iat, exp (two minutes, as Keycloak), jti, sub, sid (unless
//! `backchannel.logout.session.required` is false), events; never a nonce (§2.4). Delivery is
//! queued (`crate::ops::logout_delivery`), so the request that ended the session never waits.
//! With `backchannel.logout.revoke.offline.tokens` the end of an online session also ends the
//! user's offline sessions with that client, and its token says so (`revoke_offline_access`), as
//! Keycloak's `OIDCLoginProtocol.backchannelLogout` does.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::clock::UnixTime;
use crate::domain::Client;
use crate::ops::logout_delivery::{Delivery, LogoutDelivery};
use crate::realm::cache::RealmContext;
use crate::store::sessions::SessionWithClients;
use crate::store::Store;

/// §2.4 `events` member naming a back-channel logout.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Keycloak's extra `events` member when the client's offline sessions were ended too.
pub const REVOKE_OFFLINE_EVENT: &str = "revoke_offline_access";
/// §2.4: "explicitly typed ... `logout+jwt`".
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";
/// Seconds a logout token is valid (§2.4 recommends at most two minutes; Keycloak uses two).
pub const LOGOUT_TOKEN_LIFETIME: i64 = 120;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LogoutClaims {
    pub iss: String,
    pub aud: String,
    pub iat: UnixTime,
    pub exp: UnixTime,
    pub jti: String,
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub events: Map<String, Value>,
}

/// The claims of the logout token telling `client` that `session` ended.
pub fn logout_claims(client: &Client, issuer: &str, ended: &SessionWithClients, now: UnixTime) -> LogoutClaims {
    let mut events = Map::new();
    events.insert(LOGOUT_EVENT.into(), json!({}));
    if client.backchannel_logout_revokes_offline_tokens() {
        events.insert(REVOKE_OFFLINE_EVENT.into(), Value::Bool(true));
    }
    LogoutClaims {
        iss: issuer.to_string(),
        aud: client.client_id.clone(),
        iat: now,
        exp: now + LOGOUT_TOKEN_LIFETIME,
        jti: crate::domain::new_id(),
        sub: ended.session.user_id.clone(),
        sid: client.backchannel_logout_session_required().then(|| ended.session.sid().to_string()),
        events,
    }
}

/// Tells clients that sessions ended. Cheap to clone.
#[derive(Clone)]
pub struct LogoutNotifier {
    delivery: LogoutDelivery,
}

impl LogoutNotifier {
    pub fn new(delivery: LogoutDelivery) -> Self {
        LogoutNotifier { delivery }
    }

    /// Queues a logout token for every client with a back-channel URL in each of `ended`, then
    /// ends (and reports) the offline sessions of clients that ask for it. Never fails: a store
    /// error while ending offline sessions is logged, and the online logout stands.
    pub async fn sessions_ended(
        &self,
        store: &dyn Store,
        realm: &RealmContext,
        issuer: &str,
        ended: &[SessionWithClients],
        now: UnixTime,
    ) {
        let mut offline_too: Vec<(String, String)> = Vec::new();
        for session in ended {
            for client in self.notify(realm, issuer, session, now) {
                let pair = (session.session.user_id.clone(), client.id.clone());
                if !session.session.offline && client.backchannel_logout_revokes_offline_tokens() && !offline_too.contains(&pair) {
                    offline_too.push(pair);
                }
            }
        }
        for (user_id, client_id) in offline_too {
            match store.delete_offline_sessions_of_client(&user_id, &client_id).await {
                Ok(more) => {
                    for session in &more {
                        self.notify(realm, issuer, session, now);
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot end the offline sessions that backchannel.logout.revoke.offline.tokens asks for"),
            }
        }
    }

    /// Queues one token per distinct client of `session`; returns the clients it found.
    fn notify(&self, realm: &RealmContext, issuer: &str, session: &SessionWithClients, now: UnixTime) -> Vec<Arc<Client>> {
        let mut clients: Vec<Arc<Client>> = Vec::new();
        for id in &session.client_ids {
            let Some(client) = realm.client_by_internal_id(id) else { continue };
            if clients.iter().any(|c| c.id == client.id) {
                continue;
            }
            if let Some(url) = client.backchannel_logout_url() {
                let claims = logout_claims(&client, issuer, session, now);
                let alg = client
                    .signature_algorithm("id.token.signed.response.alg")
                    .ok()
                    .flatten()
                    .unwrap_or(realm.realm.settings.default_signature_algorithm);
                let signer = realm.keys.signer(alg);
                let sign = Box::new(move || match signer.and_then(|key| key.sign_typed(LOGOUT_TOKEN_TYP, &claims)) {
                    Ok(token) => Some(token),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot sign a logout token");
                        None
                    }
                });
                self.delivery.queue(Delivery { realm: realm.realm.name.clone(), client_id: client.client_id.clone(), url, sign });
            }
            clients.push(client);
        }
        clients
    }
}
