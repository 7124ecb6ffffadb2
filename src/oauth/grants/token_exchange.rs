//! Token exchange (RFC 8693 §2.1-2.2) as Keycloak 26's "standard token exchange" (V2): a
//! confidential client with `standard.token.exchange.enabled` trades a live access token of this
//! realm whose `aud` names it (or that was issued to it) for an access token for other audiences
//! (`audience`, each an existing client, and `aud` keeps only those, §2.1) or a narrower
//! `scope`; with `standard.token.exchange.enableRefreshRequestedTokenType=SAME_SESSION` also for
//! a refresh token that joins the subject token's session. No impersonation, no external tokens,
//! no `actor_token` (delegation, §4.1), no id_token or SAML results.
//!
//! The one decision that matters: an exchanged access token carries the subject token's grant
//! (`fam`) and session, so revoking or ending either ends it too; a requested refresh token
//! starts a grant of its own in the requester's client session of that same user session.

use serde_json::{json, Value};

use super::GrantContext;
use crate::domain::{Client, User};
use crate::oauth::events::{Event, EventKind};
use crate::oauth::issue::{access_claims, issue, new_access_jti, Issue, PlannedRefresh, TokenResponse};
use crate::oauth::request::FormParams;
use crate::oauth::scope::Scope;
use crate::oauth::shaping::Shaper;
use crate::oauth::token_check::live_access_token_in_session;
use crate::oauth::tokens::claims::AccessClaims;
use crate::oauth::OAuthError;
use crate::session;
use crate::store::{NewGrant, StoreError, UserSessionRecord};

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693 §3 token type identifiers.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const REFRESH_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:refresh_token";

/// The client attributes Keycloak 26.2 reads (`OIDCConfigAttributes`).
pub const ENABLED_ATTRIBUTE: &str = "standard.token.exchange.enabled";
pub const REFRESH_ATTRIBUTE: &str = "standard.token.exchange.enableRefreshRequestedTokenType";
const USE_REFRESH_TOKENS: &str = "use.refresh.tokens";

/// At most this many `audience` values per request (a bound, not a Keycloak setting).
pub const MAX_AUDIENCES: usize = 32;

/// The refusal of one request: the RFC error the client sees, and Keycloak's event error and
/// `reason` detail.
struct Refusal {
    error: OAuthError,
    event_error: &'static str,
    reason: String,
}

fn refuse(error: OAuthError, event_error: &'static str, reason: impl Into<String>) -> Refusal {
    Refusal { error, event_error, reason: reason.into() }
}

fn invalid_request(description: &str) -> Refusal {
    refuse(OAuthError::InvalidRequest(description.into()), "invalid_request", description)
}

/// What the events of one exchange carry, filled in as the request is checked.
#[derive(Default)]
struct Details {
    user_id: Option<String>,
    session_id: Option<String>,
    username: Option<String>,
    subject_client: Option<String>,
    requested_token_type: Option<String>,
    audience: Option<String>,
}

impl Details {
    fn emit(&self, ctx: &GrantContext<'_>, kind: EventKind, refusal: Option<&Refusal>) {
        let mut details = serde_json::Map::new();
        details.insert("auth_method".into(), json!("token_exchange"));
        let fields = [
            ("username", self.username.as_deref()),
            ("subject_token_client_id", self.subject_client.as_deref()),
            ("requested_token_type", self.requested_token_type.as_deref()),
            ("audience", self.audience.as_deref()),
            ("reason", refusal.map(|r| r.reason.as_str())),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                details.insert(name.into(), Value::String(value.into()));
            }
        }
        let event = Event {
            client_id: Some(ctx.client.client_id.clone()),
            user_id: self.user_id.clone(),
            session_id: self.session_id.clone(),
            ip: ctx.ip.clone(),
            error: refusal.map(|r| r.event_error.to_string()),
            details: Some(Value::Object(details)),
        };
        ctx.events.emit(ctx.realm, kind, ctx.now, event);
    }
}

pub async fn handle(ctx: &GrantContext<'_>, form: &FormParams) -> Result<TokenResponse, OAuthError> {
    let mut details = Details::default();
    match exchange(ctx, form, &mut details).await {
        Ok(Ok(response)) => {
            details.emit(ctx, EventKind::TokenExchange, None);
            Ok(response)
        }
        Ok(Err(refusal)) => {
            tracing::info!(realm = %ctx.realm.realm.name, client = %ctx.client.client_id, reason = %refusal.reason,
                "token exchange refused");
            details.emit(ctx, EventKind::TokenExchangeError, Some(&refusal));
            Err(refusal.error)
        }
        Err(internal) => Err(internal),
    }
}

/// Keycloak's `StandardTokenExchangeProvider.supports`: what this provider does not do is
/// `invalid_request` with the reason, checked in Keycloak's order.
fn supported(client: &Client, form: &FormParams) -> Result<(), Refusal> {
    for name in ["requested_subject", "requested_issuer", "subject_issuer"] {
        if form.get(name).is_some() {
            return Err(invalid_request(&format!(
                "Parameter '{name}' is not supported for standard token exchange"
            )));
        }
    }
    if !client.attributes.get(ENABLED_ATTRIBUTE).is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err(invalid_request("Standard token exchange is not enabled for the requested client"));
    }
    if form.get("subject_token").is_none() {
        return Err(invalid_request("Parameter 'subject_token' required for standard token exchange"));
    }
    match form.get("subject_token_type") {
        None => {
            return Err(invalid_request(
                "Parameter 'subject_token_type' required for standard token exchange",
            ))
        }
        Some(ACCESS_TOKEN_TYPE) => {}
        Some(_) => return Err(invalid_request("Parameter 'subject_token' supports access tokens only")),
    }
    // Keycloak 26.2 ignores these; refusing them keeps a client from believing it got delegation.
    if form.get("actor_token").is_some() || form.get("actor_token_type").is_some() {
        return Err(invalid_request("Parameter 'actor_token' is not supported for standard token exchange"));
    }
    Ok(())
}

/// Keycloak's `getRequestedTokenType`: access token by default; a refresh token only when the
/// client uses refresh tokens and allows them for exchange.
fn requested_token_type(client: &Client, form: &FormParams) -> Result<&'static str, Refusal> {
    let unsupported = || invalid_request("requested_token_type unsupported");
    match form.get("requested_token_type") {
        None | Some(ACCESS_TOKEN_TYPE) => Ok(ACCESS_TOKEN_TYPE),
        Some(REFRESH_TOKEN_TYPE) => {
            let uses_refresh =
                client.attributes.get(USE_REFRESH_TOKENS).is_none_or(|v| !v.eq_ignore_ascii_case("false"));
            let allowed = client.attributes.get(REFRESH_ATTRIBUTE).is_some_and(|v| v == "SAME_SESSION");
            if uses_refresh && allowed {
                Ok(REFRESH_TOKEN_TYPE)
            } else {
                Err(unsupported())
            }
        }
        Some(_) => Err(unsupported()),
    }
}

/// `Ok(Err)` is a refusal the client and the event see; `Err` an internal failure.
async fn exchange(
    ctx: &GrantContext<'_>,
    form: &FormParams,
    details: &mut Details,
) -> Result<Result<TokenResponse, Refusal>, OAuthError> {
    if let Err(refusal) = supported(ctx.client, form) {
        return Ok(Err(refusal));
    }
    let subject_token = form.get("subject_token").unwrap_or_default();
    details.requested_token_type = form.get("requested_token_type").map(|t| t.chars().take(128).collect());

    // The subject token: ours, live, its session alive, its user enabled (Keycloak's
    // `verifyIdentityToken` with checkActive).
    let (subject, subject_session) =
        match live_access_token_in_session(ctx.store.as_ref(), ctx.realm, ctx.issuer, subject_token, ctx.now)
            .await?
        {
            Ok(found) => found,
            Err(inactive) => {
                tracing::debug!(reason = inactive.reason(), "subject token not live");
                let refusal = refuse(
                    OAuthError::InvalidRequest("Invalid token".into()),
                    "invalid_token",
                    "subject_token validation failure",
                );
                return Ok(Err(refusal));
            }
        };
    let Some(user) = ctx.store.user_by_id(&ctx.realm.realm.id, &subject.sub).await?.filter(|u| u.enabled)
    else {
        return Ok(Err(refuse(
            OAuthError::InvalidRequest("Invalid token".into()),
            "invalid_token",
            "subject_token validation failure",
        )));
    };
    details.user_id = Some(user.id.clone());
    details.username = Some(user.username.clone());
    details.session_id = subject.sid.clone();
    details.subject_client = Some(subject.azp.clone());

    let requested_type = match requested_token_type(ctx.client, form) {
        Ok(t) => t,
        Err(refusal) => return Ok(Err(refusal)),
    };
    details.requested_token_type = Some(requested_type.to_string());

    let audiences: Vec<&str> = form.all("audience").collect();
    if audiences.len() > MAX_AUDIENCES {
        return Ok(Err(invalid_request("Too many audience parameters")));
    }
    let mut targets = Vec::with_capacity(audiences.len());
    for audience in &audiences {
        let Some(target) = ctx.realm.client(audience) else {
            details.audience = Some(audience.chars().take(255).collect());
            return Ok(Err(refuse(
                OAuthError::ClientRefused("Audience not found".into()),
                "client_not_found",
                "audience not found",
            )));
        };
        targets.push(target);
    }

    // Keycloak's `validateAudience`
    if ctx.client.public_client {
        let reason = "Public client is not allowed to exchange token";
        return Ok(Err(refuse(OAuthError::ClientRefused(reason.into()), "invalid_client", reason)));
    }
    if let Some(disabled) = targets.iter().find(|t| !t.enabled) {
        details.audience = Some(disabled.client_id.clone());
        return Ok(Err(refuse(
            OAuthError::ClientRefused("Client disabled".into()),
            "client_disabled",
            "audience client disabled",
        )));
    }
    if subject.azp != ctx.client.client_id && !subject.aud.contains(&ctx.client.client_id) {
        return Ok(Err(refuse(
            OAuthError::AccessDenied("Client is not within the token audience".into()),
            "not_allowed",
            "client is not within the token audience",
        )));
    }

    // Keycloak's `getRequestedScope`: the requester's default scopes and the optional ones asked
    // for; the subject token's scope plays no part.
    let scope = match Scope::grant(ctx.offered(), form.get("scope")) {
        Ok(scope) => scope,
        Err(error) => {
            let reason = error.description().unwrap_or("Invalid scopes").to_string();
            return Ok(Err(refuse(error, "invalid_request", reason)));
        }
    };

    let online_session = subject_session.filter(|s| !s.offline);
    if requested_type == REFRESH_TOKEN_TYPE {
        if online_session.is_none() {
            return Ok(Err(invalid_request(
                "Refresh token not valid as requested_token_type because creating a new session is needed",
            )));
        }
        if scope.is_offline() {
            return Ok(Err(invalid_request("Scope offline_access not allowed for token exchange")));
        }
    }
    if let Some(refusal) = missing_consent(ctx, &user, &scope).await? {
        return Ok(Err(refusal));
    }

    let mut shaper = Shaper::new(ctx.realm, ctx.client, scope);
    let (mut roles, groups) = ctx.shaped_for(&shaper, &user).await?;
    if !audiences.is_empty() {
        // `restrictRequestedAudience`: `aud` and `resource_access` keep the requested audiences only
        shaper.restrict_audience(&mut roles, audiences.iter().map(|a| a.to_string()).collect());
    }

    // Keycloak's `checkRequestedAudiences`, before anything is written
    let planned = Issue {
        shaper: &shaper,
        issuer: ctx.issuer,
        user: &user,
        roles: &roles,
        groups: &groups,
        session: online_session.as_ref(),
        family_id: None,
        now: ctx.now,
        nonce: None,
        ip: ctx.ip.as_deref(),
        access_jti: new_access_jti(),
        refresh: None,
        dpop: ctx.dpop.as_deref(),
    };
    let preview = access_claims(&planned);
    let missing: Vec<&str> =
        audiences.iter().copied().filter(|a| !preview.aud.iter().any(|got| got == a)).collect();
    if !missing.is_empty() {
        let description = format!("Requested audience not available: {}", missing.join(", "));
        details.audience = Some(missing.join(" "));
        return Ok(Err(refuse(
            OAuthError::InvalidRequest(description.clone()),
            "invalid_request",
            description,
        )));
    }
    details.audience = (!preview.aud.is_empty()).then(|| preview.aud.join(" "));

    let mut response = if requested_type == REFRESH_TOKEN_TYPE {
        let Some(joined) = online_session.as_ref() else { return Ok(Err(invalid_request("Invalid token"))) };
        match with_refresh_token(ctx, &shaper, &user, &roles, &groups, joined).await? {
            Ok(response) => response,
            Err(refusal) => return Ok(Err(refusal)),
        }
    } else {
        access_only(ctx, &shaper, &user, &roles, &groups, online_session.as_ref(), &subject).await?
    };
    if online_session.is_none() {
        details.session_id = None;
    }
    response.issued_token_type = Some(requested_type);
    Ok(Ok(response))
}

/// Keycloak's `validateConsents`: a client that requires consent needs the user's consent to
/// every selected scope shown on the consent screen.
async fn missing_consent(
    ctx: &GrantContext<'_>,
    user: &User,
    scope: &Scope,
) -> Result<Option<Refusal>, OAuthError> {
    if !ctx.client.consent_required {
        return Ok(None);
    }
    let granted = ctx.store.consent(&user.id, &ctx.client.id).await?.map(|c| c.scope).unwrap_or_default();
    let granted: Vec<&str> = granted.split_whitespace().collect();
    let covered = scope
        .selected()
        .iter()
        .filter(|s| s.display_on_consent_screen())
        .all(|s| granted.contains(&s.name.as_str()));
    if covered {
        return Ok(None);
    }
    let description = format!("Missing consents for Token Exchange in client {}", ctx.client.client_id);
    Ok(Some(refuse(OAuthError::InvalidScope(description.clone()), "consent_denied", description)))
}

/// An access token alone: it joins the subject token's grant and session (its `fam` and `sid`)
/// and writes nothing. A subject token of an offline session gives a token without `sid`, as
/// Keycloak's transient session does, that still ends with the offline grant.
async fn access_only(
    ctx: &GrantContext<'_>,
    shaper: &Shaper<'_>,
    user: &User,
    roles: &crate::oauth::mappers::TokenRoles,
    groups: &[String],
    session: Option<&UserSessionRecord>,
    subject: &AccessClaims,
) -> Result<TokenResponse, OAuthError> {
    issue(Issue {
        shaper,
        issuer: ctx.issuer,
        user,
        roles,
        groups,
        session,
        family_id: subject.fam.as_deref(),
        now: ctx.now,
        nonce: None,
        ip: ctx.ip.as_deref(),
        access_jti: new_access_jti(),
        refresh: None,
        dpop: ctx.dpop.as_deref(),
    })
    .await
}

/// A refresh token (`SAME_SESSION`): a new grant of the requester in the subject token's user
/// session, whose deadlines then bound it.
async fn with_refresh_token(
    ctx: &GrantContext<'_>,
    shaper: &Shaper<'_>,
    user: &User,
    roles: &crate::oauth::mappers::TokenRoles,
    groups: &[String],
    joined: &UserSessionRecord,
) -> Result<Result<TokenResponse, Refusal>, OAuthError> {
    let settings = &ctx.realm.realm.settings;
    let refresh = PlannedRefresh::new(false);
    let family_id = crate::domain::new_session_id();
    let started = ctx
        .store
        .start_grant(&NewGrant {
            new_session: None,
            existing_session_id: Some(joined.id.clone()),
            joined_expires_at: session::deadline(settings, joined, None, Some(ctx.now)),
            client_id: ctx.client.id.clone(),
            family_id: family_id.clone(),
            scope: shaper.scope.as_string(),
            now: ctx.now,
            refresh_hash: Some(refresh.hash()),
            from_code: None,
        })
        .await;
    let started = match started {
        Ok(started) => started,
        // the session ended between the check and the write
        Err(StoreError::NotFound(_)) => {
            return Ok(Err(refuse(
                OAuthError::InvalidRequest("Invalid token".into()),
                "invalid_token",
                "subject_token validation failure",
            )))
        }
        Err(other) => return Err(other.into()),
    };
    let deadline =
        session::deadline(settings, &started.session, Some(&started.client_session), Some(ctx.now));
    let response = issue(Issue {
        shaper,
        issuer: ctx.issuer,
        user,
        roles,
        groups,
        session: Some(&started.session),
        family_id: Some(&family_id),
        now: ctx.now,
        nonce: None,
        ip: ctx.ip.as_deref(),
        access_jti: new_access_jti(),
        refresh: Some((refresh, deadline)),
        dpop: ctx.dpop.as_deref(),
    })
    .await?;
    Ok(Ok(response))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(attributes: &[(&str, &str)]) -> Client {
        Client {
            public_client: false,
            attributes: attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Client::for_tests("exchanger")
        }
    }

    fn form(body: &str) -> FormParams {
        FormParams::parse(body.as_bytes()).unwrap()
    }

    fn reason(result: Result<(), Refusal>) -> String {
        result.err().map(|r| r.reason).unwrap_or_default()
    }

    #[test]
    fn only_what_standard_token_exchange_does_is_supported_in_keycloaks_order() {
        let enabled = client(&[(ENABLED_ATTRIBUTE, "true")]);
        let full =
            "subject_token=t&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token";
        assert!(supported(&enabled, &form(full)).is_ok());
        assert_eq!(
            reason(supported(&client(&[]), &form(full))),
            "Standard token exchange is not enabled for the requested client"
        );
        assert_eq!(
            reason(supported(&client(&[(ENABLED_ATTRIBUTE, "false")]), &form(full))),
            "Standard token exchange is not enabled for the requested client"
        );
        assert_eq!(
            reason(supported(&client(&[]), &form(&format!("{full}&requested_subject=bob")))),
            "Parameter 'requested_subject' is not supported for standard token exchange"
        );
        assert_eq!(
            reason(supported(&enabled, &form("subject_token_type=x"))),
            "Parameter 'subject_token' required for standard token exchange"
        );
        assert_eq!(
            reason(supported(&enabled, &form("subject_token=t"))),
            "Parameter 'subject_token_type' required for standard token exchange"
        );
        let id_token =
            "subject_token=t&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token";
        assert_eq!(
            reason(supported(&enabled, &form(id_token))),
            "Parameter 'subject_token' supports access tokens only"
        );
        assert_eq!(
            reason(supported(&enabled, &form(&format!("{full}&actor_token=a")))),
            "Parameter 'actor_token' is not supported for standard token exchange"
        );
    }

    #[test]
    fn a_refresh_token_needs_same_session_and_refresh_tokens_on() {
        let wanted = form("requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Arefresh_token");
        assert_eq!(requested_token_type(&client(&[]), &form("")).ok(), Some(ACCESS_TOKEN_TYPE));
        assert!(requested_token_type(&client(&[]), &wanted).is_err());
        assert!(requested_token_type(&client(&[(REFRESH_ATTRIBUTE, "NO")]), &wanted).is_err());
        assert_eq!(
            requested_token_type(&client(&[(REFRESH_ATTRIBUTE, "SAME_SESSION")]), &wanted).ok(),
            Some(REFRESH_TOKEN_TYPE)
        );
        assert!(requested_token_type(
            &client(&[(REFRESH_ATTRIBUTE, "SAME_SESSION"), (USE_REFRESH_TOKENS, "false")]),
            &wanted
        )
        .is_err());
        let id = form("requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token");
        assert_eq!(
            requested_token_type(&client(&[]), &id).err().map(|r| r.reason).as_deref(),
            Some("requested_token_type unsupported")
        );
    }
}
