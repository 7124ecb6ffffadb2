//! The admin API's mails: `PUT users/{id}/execute-actions-email`, `PUT users/{id}/send-verify-email`
//! and `POST /admin/realms/{realm}/testSMTPConnection`, with Keycloak's checks and error texts
//! (`UserResource.verifySendEmailParams`, `RealmAdminResource.testSMTPConnection`).
//! Unlike Keycloak, the two user mails are queued: the 204 means "queued", and a mail server
//! that is down only shows in the log and `portcullis_mail_failed_total` (README, E-mail).

use std::collections::BTreeMap;

use super::context::{Operation, Resource};
use super::users::realm_and_user;
use super::{AdminContext, AdminError, Permission};
use crate::admin::default_clients::ACCOUNT;
use crate::domain::{Realm, User};
use crate::mail::flows::{realm_smtp, LinkTarget, Outbox};
use crate::mail::{MailError, MailKind, Mailer, SmtpConfig};
use crate::realm::import::MASKED_SECRET;
use crate::realm::RealmContext;

/// The query parameters both user mails take.
#[derive(Debug, Clone, Default)]
pub struct EmailParams {
    pub redirect_uri: Option<String>,
    pub client_id: Option<String>,
    /// Seconds; the realm's `actionTokenGeneratedByAdminLifespan` when absent.
    pub lifespan: Option<i64>,
}

/// Where the mail comes from: the queue and the public base URL the link starts with.
pub struct MailOrigin<'a> {
    pub mailer: &'a Mailer,
    pub base: &'a str,
}

fn keycloak_500(message: impl Into<String>) -> AdminError {
    AdminError::Keycloak { status: 500, body: serde_json::json!({ "errorMessage": message.into() }) }
}

/// Checked parameters: (client id, redirect URI, lifespan).
struct Checked {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    lifespan: i64,
}

/// Keycloak's `verifySendEmailParams`, in its order.
fn check(realm: &Realm, ctx: &RealmContext, user: &User, params: &EmailParams) -> Result<Checked, AdminError> {
    if user.email.is_none() {
        return Err(AdminError::bad_request("User email missing"));
    }
    if !user.enabled {
        return Err(AdminError::bad_request("User is disabled"));
    }
    if params.redirect_uri.is_some() && params.client_id.is_none() {
        return Err(AdminError::bad_request("Client id missing"));
    }
    // Keycloak falls back to the realm's system client (`account`); a realm without one (some
    // imports) gets no client at all rather than Keycloak's "Client doesn't exist"
    let client = match &params.client_id {
        Some(id) => Some(ctx.client(id).ok_or_else(|| AdminError::bad_request("Client doesn't exist"))?),
        None => ctx.client(ACCOUNT),
    };
    if let Some(client) = &client {
        if !client.enabled {
            return Err(AdminError::bad_request("Client is not enabled"));
        }
    }
    if let Some(uri) = &params.redirect_uri {
        let allowed = client.as_ref().is_some_and(|c| crate::oauth::authorize::redirect_uri_allowed(c, uri));
        if !allowed {
            return Err(AdminError::bad_request("Invalid redirect uri."));
        }
    }
    let lifespan = params.lifespan.unwrap_or(realm.settings.action_token_generated_by_admin_lifespan);
    Ok(Checked { client_id: client.map(|c| c.client_id.clone()), redirect_uri: params.redirect_uri.clone(), lifespan })
}

async fn realm_context(ctx: &AdminContext<'_>, realm: &Realm) -> Result<std::sync::Arc<RealmContext>, AdminError> {
    match ctx.realms.get(&realm.name).await {
        Ok(Some(loaded)) => Ok(loaded),
        Ok(None) => Err(AdminError::not_found("Realm not found.")),
        Err(e) => Err(AdminError::Internal(e.to_string())),
    }
}

/// How a mail that cannot even be queued is answered: Keycloak's 500 for a configuration it
/// cannot send with, a 503 for a full queue.
fn not_queued(e: MailError, what: &str, with_cause: bool) -> AdminError {
    match e {
        MailError::QueueFull => AdminError::Unavailable("the mail queue is full".into()),
        e if with_cause => keycloak_500(format!("Failed to send {what}: {e}")),
        _ => keycloak_500(format!("Failed to send {what}")),
    }
}

/// `PUT .../users/{id}/execute-actions-email`.
pub async fn execute_actions_email(
    ctx: &AdminContext<'_>,
    origin: &MailOrigin<'_>,
    realm: &str,
    id: &str,
    params: &EmailParams,
    actions: Vec<String>,
) -> Result<(), AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ManageUsers).await?;
    let loaded = realm_context(ctx, &realm).await?;
    let checked = check(&realm, &loaded, &user, params)?;
    let known: Vec<&str> = crate::domain::required_actions::known_providers().map(|(alias, _)| alias).collect();
    if actions.iter().any(|a| !known.contains(&a.as_str())) {
        return Err(AdminError::bad_request("Provided invalid required actions"));
    }
    let outbox = Outbox { mailer: origin.mailer, master: ctx.master, base: origin.base, realm: &loaded, now: ctx.now };
    let target = LinkTarget { client_id: checked.client_id.as_deref(), redirect_uri: checked.redirect_uri.as_deref(), lifespan: checked.lifespan };
    outbox.execute_actions(&user, &actions, &target).map_err(|e| not_queued(e, "execute actions email", true))?;
    tracing::info!(target: "portcullis::admin", user = %user.id, actions = actions.len(), "execute-actions mail queued");
    let path = format!("users/{}/execute-actions-email", user.id);
    ctx.record(&realm.id, Operation::Action, Resource::User, &path, None).await;
    Ok(())
}

/// `PUT .../users/{id}/send-verify-email`.
pub async fn send_verify_email(
    ctx: &AdminContext<'_>,
    origin: &MailOrigin<'_>,
    realm: &str,
    id: &str,
    params: &EmailParams,
) -> Result<(), AdminError> {
    let (realm, user) = realm_and_user(ctx, realm, id, Permission::ManageUsers).await?;
    let loaded = realm_context(ctx, &realm).await?;
    let checked = check(&realm, &loaded, &user, params)?;
    let outbox = Outbox { mailer: origin.mailer, master: ctx.master, base: origin.base, realm: &loaded, now: ctx.now };
    let target = LinkTarget { client_id: checked.client_id.as_deref(), redirect_uri: checked.redirect_uri.as_deref(), lifespan: checked.lifespan };
    outbox.verify_email(&user, &target).map_err(|e| not_queued(e, "verify email", false))?;
    tracing::info!(target: "portcullis::admin", user = %user.id, "verify-email mail queued");
    let path = format!("users/{}/send-verify-email", user.id);
    ctx.record(&realm.id, Operation::Action, Resource::User, &path, None).await;
    Ok(())
}

/// `POST .../testSMTPConnection`: sends Keycloak's test mail with the given settings (the mask
/// `**********` as password means the stored one) to the calling admin, now, within the SMTP
/// deadlines, and answers Keycloak's 500s: "Logged in user does not have an e-mail." and
/// "Failed to send email" (the cause goes to the log only).
pub async fn test_smtp_connection(
    ctx: &AdminContext<'_>,
    realm: &str,
    settings: BTreeMap<String, String>,
) -> Result<(), AdminError> {
    let realm = ctx.realm(realm, Permission::ManageRealm).await?;
    let admin = ctx.store.user_by_id(&ctx.caller.realm_id, &ctx.caller.user_id).await?;
    let Some(to) = admin.and_then(|a| a.email) else {
        return Err(keycloak_500("Logged in user does not have an e-mail."));
    };
    let mut settings = settings;
    let password = match settings.remove(crate::realm::smtp::PASSWORD) {
        Some(p) if p == MASKED_SECRET => crate::realm::smtp::open_password(&realm.settings, &realm.id, ctx.master),
        Some(p) if !p.is_empty() => Some(crate::crypto::SecretString::new(p)),
        _ => None,
    };
    let result = match SmtpConfig::from_map(&settings, password) {
        Ok(config) => crate::mail::send_now(&realm.name, &config, &crate::mail::texts::smtp_test(&to), MailKind::Test).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(target: "portcullis::admin", realm = %realm.name, error = %e, "SMTP test failed");
        return Err(keycloak_500("Failed to send email"));
    }
    Ok(())
}

/// Whether the realm can send mail at all (its `smtpServer` reads as a configuration).
pub fn mail_configured(realm: &Realm, master: &crate::crypto::MasterKey) -> bool {
    realm_smtp(realm, master).is_ok()
}
