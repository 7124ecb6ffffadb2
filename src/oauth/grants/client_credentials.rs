//! Client Credentials grant (RFC 6749 §4.4): a token for the client's service-account user.
//! Like Keycloak, no refresh token unless the client sets
//! `client_credentials.use_refresh_token` to "true"; without one no session is created.
//! The service-account user, its role ids and groups come from the realm cache
//! (`realm::service_accounts`), so a grant without a refresh token costs no query.

use super::GrantContext;
use crate::oauth::events::EventKind;
use crate::oauth::issue::{issue, new_access_jti, Issue, PlannedRefresh, TokenResponse};
use crate::oauth::request::FormParams;
use crate::oauth::scope::Scope;
use crate::oauth::shaping::Shaper;
use crate::oauth::OAuthError;
use crate::store::NewGrant;

pub async fn handle(ctx: &GrantContext<'_>, form: &FormParams) -> Result<TokenResponse, OAuthError> {
    if ctx.client.public_client || !ctx.client.service_accounts_enabled {
        ctx.event(EventKind::ClientLoginError, None, None, Some("invalid_client"));
        return Err(OAuthError::UnauthorizedClient("Client not enabled to retrieve service account".into()));
    }
    let scope = Scope::grant(ctx.offered(), form.get("scope"))?;
    if scope.is_offline() {
        return Err(OAuthError::InvalidScope("Offline tokens not allowed for the client credentials grant".into()));
    }
    let account = ctx
        .realm
        .service_accounts
        .get(ctx.store.as_ref(), &ctx.client.id)
        .await?
        .filter(|account| account.user.enabled)
        .ok_or_else(|| OAuthError::UnauthorizedClient("Client has no enabled service account user".into()))?;
    let user = &account.user;
    let shaper = Shaper::new(ctx.realm, ctx.client, scope);
    let roles = shaper.roles(&account.role_ids);
    let groups = if shaper.needs_groups() {
        account.groups.get_or_try_init(|| shaper.groups(ctx.store.as_ref(), user)).await?.as_slice()
    } else {
        &[]
    };
    let scope = &shaper.scope;
    let wants_refresh =
        ctx.client.attributes.get("client_credentials.use_refresh_token").is_some_and(|v| v == "true");
    let family_id = wants_refresh.then(crate::domain::new_session_id);
    let (session, refresh) = if let Some(family_id) = &family_id {
        let refresh = PlannedRefresh::new(false);
        let started = ctx
            .store
            .start_grant(&NewGrant {
                new_session: Some(ctx.new_session(user, false, ctx.now)),
                existing_session_id: None,
                joined_expires_at: 0,
                client_id: ctx.client.id.clone(),
                family_id: family_id.clone(),
                scope: scope.as_string(),
                now: ctx.now,
                refresh_hash: Some(refresh.hash()),
                from_code: None,
            })
            .await?;
        let deadline = crate::session::deadline(
            &ctx.realm.realm.settings,
            &started.session,
            Some(&started.client_session),
            Some(ctx.now),
        );
        (Some(started.session), Some((refresh, deadline)))
    } else {
        (None, None)
    };
    ctx.event(EventKind::ClientLogin, Some(&user.id), session.as_ref().map(|s| s.id.as_str()), None);
    issue(Issue {
        shaper: &shaper,
        issuer: ctx.issuer,
        user,
        roles: &roles,
        groups,
        session: session.as_ref(),
        family_id: family_id.as_deref(),
        now: ctx.now,
        nonce: None,
        ip: ctx.ip.as_deref(),
        access_jti: new_access_jti(),
        refresh,
        dpop: ctx.dpop.as_deref(),
    })
    .await
}
