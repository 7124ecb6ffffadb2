//! What Keycloak tells about one client beyond its representation: how many sessions it is in
//! (`session-count`, `offline-session-count`) and its adapter configuration
//! (`installation/providers/keycloak-oidc-keycloak-json`, Keycloak's `keycloak.json`).

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::representation::open_secret;
use super::roles::client_of;
use super::{AdminContext, AdminError, Permission};

/// `{"count": n}`, as Keycloak answers both counts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Count {
    pub count: i64,
}

/// `GET .../clients/{id}/session-count` (online) or `.../offline-session-count`: the sessions that
/// hold a client session of the client and are not past their cleanup bound.
pub async fn session_count(
    ctx: &AdminContext<'_>,
    realm: &str,
    client: &str,
    offline: bool,
) -> Result<Count, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewClients).await?;
    let client = client_of(ctx, &realm, client).await?;
    let counts = ctx.store.client_session_counts(&realm.id, ctx.now).await?;
    let found = counts.iter().find(|c| c.client_id == client.id);
    let count = found.map_or(0, |c| if offline { c.offline } else { c.active });
    Ok(Count { count })
}

/// The installation providers Portcullis serves.
pub const KEYCLOAK_OIDC_JSON: &str = "keycloak-oidc-keycloak-json";

/// `GET .../clients/{id}/installation/providers/keycloak-oidc-keycloak-json`: Keycloak's
/// `KeycloakOIDCClientInstallation` (the OIDC adapter's `keycloak.json`) with the fields it
/// writes when they apply; the secret only where Keycloak shows it. `base` is the server's public
/// base URL. Answered as text, as Keycloak does.
pub async fn installation(
    ctx: &AdminContext<'_>,
    realm: &str,
    client: &str,
    provider: &str,
    base: &str,
) -> Result<String, AdminError> {
    let realm = ctx.realm(realm, Permission::ViewClients).await?;
    let client = client_of(ctx, &realm, client).await?;
    if provider != KEYCLOAK_OIDC_JSON {
        return Err(AdminError::not_found("Unknown Provider"));
    }
    let all = ctx.store.realm_roles(&realm.id).await?;
    let has_roles = all.iter().any(|r| r.client_role && r.container_id == client.id);
    let mut out = Map::new();
    out.insert("realm".into(), json!(realm.name));
    out.insert("auth-server-url".into(), json!(format!("{}/", base.trim_end_matches('/'))));
    out.insert("ssl-required".into(), json!(realm.settings.ssl_required));
    out.insert("resource".into(), json!(client.client_id));
    if client.public_client && !client.bearer_only {
        out.insert("public-client".into(), json!(true));
    }
    if client.bearer_only {
        out.insert("bearer-only".into(), json!(true));
    }
    let show_secret = !client.public_client
        && !(client.bearer_only && !client.service_accounts_enabled && client.settings.node_re_registration_timeout <= 0);
    if show_secret {
        let secret = open_secret(ctx.master, &client);
        out.insert("credentials".into(), json!({"secret": secret.as_ref().map(|s| s.expose())}));
    }
    if has_roles {
        out.insert("use-resource-role-mappings".into(), json!(true));
        out.insert("verify-token-audience".into(), json!(true));
    }
    out.insert("confidential-port".into(), json!(0));
    serde_json::to_string_pretty(&Value::Object(out)).map_err(|e| AdminError::Internal(e.to_string()))
}
