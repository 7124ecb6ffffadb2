//! The mails of the flows: an action token for the user, its link (Keycloak's
//! `/realms/{realm}/login-actions/action-token?key=...&client_id=...`), Keycloak's text, and the
//! queue. Every function here returns as soon as the mail is queued; a delivery that fails later
//! is logged and counted by the `Mailer`, never reported to the caller.

use crate::app::AppState;
use crate::clock::UnixTime;
use crate::crypto::MasterKey;
use crate::domain::{Realm, User};
use crate::realm::RealmContext;

use super::action_token::{self, ActionToken};
use super::{texts, MailError, MailKind, Mailer, SmtpConfig};

/// The realm's SMTP settings with the sealed password opened.
pub fn realm_smtp(realm: &Realm, master: &MasterKey) -> Result<SmtpConfig, MailError> {
    let settings = &realm.settings;
    SmtpConfig::from_map(&settings.smtp_server, crate::realm::smtp::open_password(settings, &realm.id, master))
}

/// The name mails call the realm: its display name, else its name.
pub fn realm_display_name(realm: &Realm) -> String {
    realm.settings.display_name.clone().filter(|d| !d.trim().is_empty()).unwrap_or_else(|| realm.name.clone())
}

/// Keycloak's action-token link.
pub fn action_link(base: &str, realm_name: &str, key: &str, client_id: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("key", key);
    if let Some(client_id) = client_id {
        query.append_pair("client_id", client_id);
    }
    format!("{base}/realms/{}/login-actions/action-token?{}", encode_segment(realm_name), query.finish())
}

fn encode_segment(segment: &str) -> String {
    form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Where a mailed link leads back to, and for how long it works.
#[derive(Debug, Clone, Default)]
pub struct LinkTarget<'a> {
    pub client_id: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    /// Seconds.
    pub lifespan: i64,
}

/// Everything a flow needs to queue an action mail.
pub struct Outbox<'a> {
    pub mailer: &'a Mailer,
    pub master: &'a MasterKey,
    /// The public base URL the link starts with.
    pub base: &'a str,
    pub realm: &'a RealmContext,
    pub now: UnixTime,
}

impl Outbox<'_> {
    fn token(&self, typ: &str, user: &User, target: &LinkTarget<'_>) -> ActionToken {
        let mut token = ActionToken::new(typ, &self.realm.realm.id, &user.id, self.now, target.lifespan);
        token.azp = target.client_id.map(str::to_string);
        token.reduri = target.redirect_uri.map(str::to_string);
        token.eml = user.email.clone();
        token
    }

    fn queue(&self, user: &User, token: &ActionToken, kind: MailKind, build: impl FnOnce(&str, &str, &str) -> super::Mail) -> Result<(), MailError> {
        let realm = &self.realm.realm;
        let config = realm_smtp(realm, self.master)?;
        let to = user.email.as_deref().ok_or_else(|| MailError::InvalidAddress(String::new()))?;
        let key = token.sign(&self.realm.keys).ok_or(MailError::NoKey)?;
        let link = action_link(self.base, &realm.name, &key, token.azp.as_deref());
        let mail = build(to, &realm_display_name(realm), &link);
        self.mailer.queue(&realm.name, config, mail, kind)
    }

    /// The verify-email mail (`emailVerification*`).
    pub fn verify_email(&self, user: &User, target: &LinkTarget<'_>) -> Result<(), MailError> {
        let token = self.token(action_token::VERIFY_EMAIL, user, target);
        self.queue(user, &token, MailKind::VerifyEmail, |to, realm, link| texts::verify_email(to, realm, link, target.lifespan))
    }

    /// The execute-actions mail (`executeActions*`) for `actions`.
    pub fn execute_actions(&self, user: &User, actions: &[String], target: &LinkTarget<'_>) -> Result<(), MailError> {
        let mut token = self.token(action_token::EXECUTE_ACTIONS, user, target);
        token.rqac = actions.to_vec();
        self.queue(user, &token, MailKind::ExecuteActions, |to, realm, link| {
            texts::execute_actions(to, realm, link, target.lifespan, actions)
        })
    }

    /// The forgot-password mail (`passwordReset*`).
    pub fn password_reset(&self, user: &User, target: &LinkTarget<'_>) -> Result<(), MailError> {
        let mut token = self.token(action_token::RESET_CREDENTIALS, user, target);
        token.rqac = vec![crate::domain::user::UPDATE_PASSWORD.to_string()];
        self.queue(user, &token, MailKind::ResetCredentials, |to, realm, link| texts::password_reset(to, realm, link, target.lifespan))
    }
}

/// Queues the verify-email mail with a user-lifespan token (`actionTokenGeneratedByUserLifespan`),
/// as the VERIFY_EMAIL required action does during a login. Never blocks: an unconfigured SMTP
/// server or a full queue is an error at once, a failed delivery only a log line and a metric.
pub fn send_verify_email(
    state: &AppState,
    base: &str,
    realm: &RealmContext,
    user: &User,
    client_id: Option<&str>,
    redirect_uri: Option<&str>,
    now: UnixTime,
) -> Result<(), MailError> {
    let outbox = Outbox { mailer: &state.mailer, master: &state.master_key, base, realm, now };
    let lifespan = realm.realm.settings.action_token_generated_by_user_lifespan;
    outbox.verify_email(user, &LinkTarget { client_id, redirect_uri, lifespan })
}
