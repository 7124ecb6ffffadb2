//! `.../clients/{id}/evaluate-scopes/...`: what the client's tokens would hold, as Keycloak's
//! `ClientScopeEvaluateResource` shows it: the protocol mappers that run for a `scope` parameter,
//! and an example access token, id token and userinfo answer for a user. The examples are shaped
//! by the same code as real tokens (`oauth::shaping`, `oauth::issue`), with no session and
//! nothing signed or stored. Like Keycloak, an unknown `scope` value is ignored here.

use serde::Serialize;
use serde_json::Value;

use super::{AdminContext, AdminError, Permission};
use crate::domain::User;
use crate::oauth::issue::{access_claims, id_claims, new_access_jti, Issue, ACR_LOGIN};
use crate::oauth::mappers::{Subject, TokenKind};
use crate::oauth::scope::Scope;
use crate::oauth::shaping::{session_notes, Shaper};
use crate::realm::RealmContext;

/// Keycloak's `ProtocolMapperEvaluationRepresentation`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MapperEvaluation {
    pub mapper_id: String,
    pub mapper_name: String,
    pub container_id: String,
    pub container_name: String,
    pub container_type: &'static str,
    pub protocol_mapper: String,
}

/// Which example to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Example {
    AccessToken,
    IdToken,
    UserInfo,
}

async fn realm_context(ctx: &AdminContext<'_>, realm: &str) -> Result<std::sync::Arc<RealmContext>, AdminError> {
    ctx.realm(realm, Permission::ViewClients).await?;
    let loaded = ctx.realms.get(realm).await.map_err(|e| AdminError::Internal(format!("cannot load the realm: {e}")))?;
    loaded.ok_or_else(|| AdminError::not_found("Realm not found."))
}

fn client_of(realm: &RealmContext, id: &str) -> Result<std::sync::Arc<crate::domain::Client>, AdminError> {
    realm.client_by_internal_id(id).ok_or_else(|| AdminError::not_found("Could not find client"))
}

/// `GET .../evaluate-scopes/protocol-mappers?scope=`: the client's own mappers, then those of
/// each selected client scope (by scope name).
pub async fn protocol_mappers(ctx: &AdminContext<'_>, realm: &str, client: &str, scope: Option<&str>) -> Result<Vec<MapperEvaluation>, AdminError> {
    let realm = realm_context(ctx, realm).await?;
    let client = client_of(&realm, client)?;
    let offered = realm.scopes.of_client(&client.id);
    let scope = Scope::regrant(offered, scope.unwrap_or(""));
    let own = offered.mappers.iter().map(|m| (m, client.id.clone(), String::new(), "client"));
    let scoped = scope
        .selected()
        .iter()
        .flat_map(|s| s.mappers.iter().map(move |m| (m, s.id.clone(), s.name.clone(), "client-scope")));
    Ok(own
        .chain(scoped)
        .map(|(m, container_id, container_name, container_type)| MapperEvaluation {
            mapper_id: m.id.clone(),
            mapper_name: m.name.clone(),
            container_id,
            container_name,
            container_type,
            protocol_mapper: m.protocol_mapper.clone(),
        })
        .collect())
}

async fn user_of(ctx: &AdminContext<'_>, realm: &RealmContext, user: Option<&str>) -> Result<User, AdminError> {
    let id = user.filter(|u| !u.is_empty()).ok_or_else(|| AdminError::not_found("No userId provided"))?;
    ctx.store.user_by_id(&realm.realm.id, id).await?.ok_or_else(|| AdminError::not_found("No user found"))
}

/// `GET .../evaluate-scopes/generate-example-{access-token,id-token,userinfo}?scope=&userId=`.
pub async fn example(
    ctx: &AdminContext<'_>,
    issuer: &str,
    realm: &str,
    client: &str,
    scope: Option<&str>,
    user: Option<&str>,
    example: Example,
) -> Result<Value, AdminError> {
    let realm = realm_context(ctx, realm).await?;
    let client = client_of(&realm, client)?;
    let user = user_of(ctx, &realm, user).await?;
    let scope = Scope::regrant(realm.scopes.of_client(&client.id), scope.unwrap_or(""));
    let shaper = Shaper::new(&realm, &client, scope);
    let roles = shaper.roles(&ctx.store.mapped_role_ids(&user.id).await?);
    let groups = shaper.groups(ctx.store, &user).await?;
    let issue = Issue {
        shaper: &shaper,
        issuer,
        user: &user,
        roles: &roles,
        groups: &groups,
        session: None,
        family_id: None,
        now: ctx.now,
        nonce: None,
        ip: None,
        access_jti: new_access_jti(),
        refresh: None,
        dpop: None,
    };
    let json = |value: Result<Value, serde_json::Error>| value.map_err(|e| AdminError::Internal(e.to_string()));
    match example {
        Example::AccessToken => json(serde_json::to_value(access_claims(&issue))),
        Example::IdToken => json(serde_json::to_value(id_claims(&issue, None))),
        Example::UserInfo => {
            let notes = session_notes(&client, &user, None, None);
            let subject = Subject { user: &user, attributes: &user.attributes, group_paths: &groups, notes: &notes };
            let mut body = serde_json::Map::new();
            body.insert("sub".into(), Value::String(user.id.clone()));
            body.extend(shaper.shape(TokenKind::UserInfo, subject, &roles, ACR_LOGIN).claims);
            Ok(Value::Object(body))
        }
    }
}
