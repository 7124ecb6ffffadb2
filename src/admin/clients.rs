//! `/admin/realms/{realm}/clients`: list (by `clientId`), create, read, update and delete
//! clients; read and regenerate the secret; list a client's online and offline sessions and
//! its service-account user. Secrets are generated here (256 bits), sealed under the master
//! key, and the realm cache is dropped on every change so a replaced secret fails at once.

use super::context::{Operation, Resource};
use super::representation::{
    client_representation, listing_representation, open_secret, secret_credential, to_event_json,
    user_representation, ClientView, UserSessionRepresentation, UserView,
};
use super::{AdminContext, AdminError, Page, Permission};
use crate::bootstrap::{ADMIN_CLI, MASTER_REALM};
use crate::crypto::random::random_token;
use super::client_defaults::with_keycloak_defaults;
use crate::domain::client::{unsupported_signature_message, CLIENT_SECRET_AUTHENTICATOR};
use crate::oauth::client_assertion::{CLIENT_JWT, CLIENT_SECRET_JWT};
use crate::domain::{new_id, Client, ClientSettings, Realm, User};
use crate::oauth::authorize::unregistrable_redirect_uri;
use crate::realm::defaults::default_roles_name;
use crate::realm::import::MASKED_SECRET;
use crate::realm::representation::{ClientRepresentation, CredentialRepresentation};
use crate::session;
use crate::store::admin::NewServiceAccount;
use crate::store::StoreError;

use super::auth::REALM_MANAGEMENT;

const CLIENT_NOT_FOUND: &str = "Could not find client";

fn conflict(client_id: &str) -> AdminError {
    AdminError::conflict(format!("Client {client_id} already exists"))
}

async fn find(ctx: &AdminContext<'_>, realm: &Realm, id: &str) -> Result<Client, AdminError> {
    ctx.store.client_by_id(&realm.id, id).await?.ok_or_else(|| AdminError::not_found(CLIENT_NOT_FOUND))
}

async fn realm_and_client(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    need: Permission,
) -> Result<(Realm, Client), AdminError> {
    let realm = ctx.realm(realm, need).await?;
    let client = find(ctx, &realm, id).await?;
    Ok((realm, client))
}

fn view(ctx: &AdminContext<'_>, client: &Client) -> ClientView {
    client_representation(client, open_secret(ctx.master, client))
}

/// `GET .../clients`, optionally only the one with `clientId` (or, with `search`, those whose
/// clientId contains it). A caller who may only query clients (query-clients) gets each as
/// Keycloak's brief form: id, clientId and description, never a secret.
pub async fn list(
    ctx: &AdminContext<'_>,
    realm: &str,
    client_id: Option<&str>,
    search: bool,
    page: Page,
) -> Result<Vec<ClientView>, AdminError> {
    let realm = ctx.realm(realm, Permission::QueryClients).await?;
    let full = ctx.caller.allows(&realm.name, Permission::ViewClients);
    let clients = ctx.clients(&realm).await?;
    let wanted = client_id.map(str::to_lowercase);
    let chosen: Vec<Client> = clients
        .into_iter()
        .filter(|c| match (&wanted, client_id) {
            (Some(w), _) if search => c.client_id.to_lowercase().contains(w.as_str()),
            (_, Some(exact)) => c.client_id == exact,
            _ => true,
        })
        .collect();
    let views = page.apply(chosen).iter().map(|c| if full { view(ctx, c) } else { brief(c) }).collect();
    if full {
        super::client_scopes::with_scopes(ctx, &realm, views).await
    } else {
        Ok(views)
    }
}

fn brief(client: &Client) -> ClientView {
    ClientView {
        client: ClientRepresentation {
            id: Some(client.id.clone()),
            client_id: Some(client.client_id.clone()),
            description: client.settings.description.clone(),
            ..ClientRepresentation::default()
        },
    }
}

pub async fn get(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<ClientView, AdminError> {
    let (realm, client) = realm_and_client(ctx, realm, id, Permission::ViewClients).await?;
    let mut views = super::client_scopes::with_scopes(ctx, &realm, vec![view(ctx, &client)]).await?;
    views.pop().ok_or_else(|| AdminError::Internal("a client view went missing".into()))
}

/// A secret for the client: the one given (unless empty or Keycloak's mask), else a new one;
/// none for public clients, and none for bearer-only clients that were given none.
fn secret_for(client: &Client, given: Option<&str>) -> Option<String> {
    let given = given.filter(|s| !s.is_empty() && *s != MASKED_SECRET);
    match given {
        _ if client.public_client => None,
        Some(secret) => Some(secret.to_string()),
        None if client.bearer_only => None,
        None => Some(random_token::<32>()),
    }
}

fn seal(ctx: &AdminContext<'_>, client: &Client, secret: &str) -> Vec<u8> {
    ctx.master.seal(secret.as_bytes(), &client.secret_aad())
}

/// The protocol and client authenticator must be ones Portcullis runs: accepting another and
/// keeping on with secrets would be a silent downgrade.
fn check_protocol(rep: &ClientRepresentation) -> Result<(), AdminError> {
    match rep.protocol.as_deref() {
        None | Some("openid-connect") => {}
        Some(other) => {
            return Err(AdminError::bad_request(format!("Unsupported protocol {other:?}: only openid-connect")))
        }
    }
    match rep.client_authenticator_type.as_deref() {
        None | Some(CLIENT_SECRET_AUTHENTICATOR | CLIENT_JWT | CLIENT_SECRET_JWT) => Ok(()),
        Some(other) => Err(AdminError::bad_request(format!(
            "Unsupported clientAuthenticatorType {other:?}: only client-secret, client-jwt and client-secret-jwt"
        ))),
    }
}

/// Redirect and post-logout redirect URIs must be registrable (no fragment, no code-running or
/// file scheme: issue 13 item 12); back- and front-channel logout URLs must be http(s).
fn check_uris(client: &Client) -> Result<(), AdminError> {
    for uri in client.redirect_uris.iter().map(String::as_str).chain(client.post_logout_redirect_uris()) {
        if let Some(why) = unregistrable_redirect_uri(uri) {
            return Err(AdminError::bad_request(format!("Invalid redirect URI: {why}")));
        }
    }
    if let Some((attribute, why)) = client.invalid_logout_url() {
        return Err(AdminError::bad_request(format!("Invalid {attribute}: {why}")));
    }
    Ok(())
}

/// A signature attribute must name an algorithm the realm signs with, never fall back silently.
fn check_signature_algorithms(client: &Client) -> Result<(), AdminError> {
    match client.unsupported_signature_algorithm() {
        Some((attribute, value)) => Err(AdminError::bad_request(unsupported_signature_message(attribute, value))),
        None => Ok(()),
    }
}

/// The service-account user Keycloak creates for a client with service accounts enabled.
async fn new_service_account(
    ctx: &AdminContext<'_>,
    realm: &Realm,
    client: &Client,
) -> Result<NewServiceAccount, AdminError> {
    let username = format!("service-account-{}", client.client_id).to_lowercase();
    if ctx.store.user_by_username(&realm.id, &username).await?.is_some() {
        return Err(AdminError::conflict(format!("User {username} already exists")));
    }
    let default_role = default_roles_name(&realm.name);
    let roles = ctx.store.realm_roles(&realm.id).await?;
    Ok(NewServiceAccount {
        user: User::service_account(&realm.id, &client.id, username, ctx.now),
        role_ids: roles
            .iter()
            .filter(|r| !r.client_role && r.name == default_role)
            .map(|r| r.id.clone())
            .collect(),
    })
}

/// Creates a client and returns its internal id, with Keycloak's defaults (`client_defaults`):
/// public unless `publicClient` is false, standard flow and direct access grants on. A
/// confidential client without a secret gets a generated one; `serviceAccountsEnabled` creates
/// the `service-account-{clientId}` user.
pub async fn create(
    ctx: &AdminContext<'_>,
    realm: &str,
    rep: ClientRepresentation,
) -> Result<String, AdminError> {
    let realm = ctx.realm(realm, Permission::CreateClient).await?;
    check_protocol(&rep)?;
    let rep = with_keycloak_defaults(&rep);
    let client_id = rep
        .client_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AdminError::bad_request("Client id is missing"))?
        .to_string();
    let id = rep.id.clone().filter(|id| !id.trim().is_empty()).unwrap_or_else(new_id);
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if id.len() > 255 || !id.chars().all(safe) {
        return Err(AdminError::bad_request("A client id may hold only letters, digits, '-', '_' and '.'"));
    }
    if ctx.store.client_by_id(&realm.id, &id).await?.is_some() {
        return Err(conflict(&client_id));
    }
    let mut client = Client {
        id,
        realm_id: realm.id.clone(),
        client_id,
        name: rep.name.clone(),
        enabled: rep.enabled.unwrap_or(true),
        public_client: rep.public_client.unwrap_or(false),
        bearer_only: rep.bearer_only.unwrap_or(false),
        secret_sealed: None,
        redirect_uris: rep.redirect_uris.clone().unwrap_or_default(),
        web_origins: rep.web_origins.clone().unwrap_or_default(),
        standard_flow_enabled: rep.standard_flow_enabled.unwrap_or(true),
        direct_access_grants_enabled: rep.direct_access_grants_enabled.unwrap_or(false),
        service_accounts_enabled: rep.service_accounts_enabled.unwrap_or(false),
        consent_required: rep.consent_required.unwrap_or(false),
        full_scope_allowed: rep.full_scope_allowed.unwrap_or(true),
        attributes: rep.attributes.clone().unwrap_or_default(),
        settings: rep.settings_over(ClientSettings::default()),
        created_at: ctx.now,
    };
    check_uris(&client)?;
    check_signature_algorithms(&client)?;
    ctx.ensure_keys(&realm, crate::realm::signing_keys::in_use(&realm.settings, [&client])).await?;
    if ctx.store.client_by_client_id(&realm.id, &client.client_id).await?.is_some() {
        return Err(conflict(&client.client_id));
    }
    super::client_scopes::check_new_client(&rep)?;
    let secret = secret_for(&client, rep.secret.as_ref().map(|s| s.expose()));
    client.secret_sealed = secret.as_deref().map(|s| seal(ctx, &client, s));
    let account = if client.service_accounts_enabled {
        Some(new_service_account(ctx, &realm, &client).await?)
    } else {
        None
    };
    match ctx.store.create_client(&client, &[], account.as_ref()).await {
        Err(StoreError::Conflict(_)) => return Err(conflict(&client.client_id)),
        other => other?,
    }
    super::client_scopes::link_new_client(ctx, &realm, &client, &rep).await?;
    ctx.changed(&realm);
    let event = to_event_json(&client_representation(&client, None));
    ctx.record(&realm.id, Operation::Create, Resource::Client, &format!("clients/{}", client.id), event)
        .await;
    Ok(client.id)
}

/// Applies the fields present in the body. Attributes are merged (an empty value removes one);
/// a secret in the body replaces the stored one; a client made public loses its secret, one
/// made confidential without a secret gets a new one; enabling service accounts creates the
/// service-account user when it has none.
pub async fn update(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    rep: ClientRepresentation,
) -> Result<(), AdminError> {
    let (realm, mut client) = realm_and_client(ctx, realm, id, Permission::ManageClients).await?;
    check_protocol(&rep)?;
    if let Some(client_id) = rep.client_id.as_deref().map(str::trim) {
        if client_id.is_empty() {
            return Err(AdminError::bad_request("Client id is missing"));
        }
        if client_id != client.client_id && is_builtin(&realm, &client) {
            return Err(AdminError::bad_request("A built-in client cannot be renamed"));
        }
        client.client_id = client_id.to_string();
    }
    if rep.name.is_some() {
        client.name = rep.name.clone();
    }
    client.enabled = rep.enabled.unwrap_or(client.enabled);
    client.public_client = rep.public_client.unwrap_or(client.public_client);
    client.bearer_only = rep.bearer_only.unwrap_or(client.bearer_only);
    if let Some(uris) = &rep.redirect_uris {
        client.redirect_uris = uris.clone();
    }
    if let Some(origins) = &rep.web_origins {
        client.web_origins = origins.clone();
    }
    client.standard_flow_enabled = rep.standard_flow_enabled.unwrap_or(client.standard_flow_enabled);
    client.direct_access_grants_enabled =
        rep.direct_access_grants_enabled.unwrap_or(client.direct_access_grants_enabled);
    client.service_accounts_enabled = rep.service_accounts_enabled.unwrap_or(client.service_accounts_enabled);
    client.consent_required = rep.consent_required.unwrap_or(client.consent_required);
    client.settings = rep.settings_over(client.settings.clone());
    client.full_scope_allowed = rep.full_scope_allowed.unwrap_or(client.full_scope_allowed);
    for (key, value) in rep.attributes.iter().flatten() {
        if value.is_empty() {
            client.attributes.remove(key);
        } else {
            client.attributes.insert(key.clone(), value.clone());
        }
    }
    check_uris(&client)?;
    check_signature_algorithms(&client)?;
    ctx.ensure_keys(&realm, crate::realm::signing_keys::in_use(&realm.settings, [&client])).await?;
    let given = rep.secret.as_ref().map(|s| s.expose()).filter(|s| !s.is_empty() && *s != MASKED_SECRET);
    if client.public_client {
        client.secret_sealed = None;
    } else if let Some(secret) = given {
        client.secret_sealed = Some(seal(ctx, &client, secret));
    } else if client.secret_sealed.is_none() && !client.bearer_only {
        client.secret_sealed = Some(seal(ctx, &client, &random_token::<32>()));
    }
    super::client_scopes::check_new_client(&rep)?;
    let account =
        if client.service_accounts_enabled && ctx.store.service_account_user(&client.id).await?.is_none() {
            Some(new_service_account(ctx, &realm, &client).await?)
        } else {
            None
        };
    match ctx.store.update_client(&client, account.as_ref()).await {
        Err(StoreError::Conflict(_)) => return Err(conflict(&client.client_id)),
        Ok(false) => return Err(AdminError::not_found(CLIENT_NOT_FOUND)),
        other => other.map(|_| ())?,
    }
    super::client_scopes::apply_client_update(ctx, &realm, &client, &rep).await?;
    ctx.changed(&realm);
    let event = to_event_json(&client_representation(&client, None));
    ctx.record(&realm.id, Operation::Update, Resource::Client, &format!("clients/{}", client.id), event)
        .await;
    Ok(())
}

/// The clients the server itself relies on: master's `admin-cli` and every `realm-management`.
pub(crate) fn is_builtin(realm: &Realm, client: &Client) -> bool {
    client.client_id == REALM_MANAGEMENT || (realm.name == MASTER_REALM && client.client_id == ADMIN_CLI)
}

/// Deletes the client with its roles, service-account user, consents and sessions' client
/// sessions. Built-in clients cannot be deleted.
pub async fn delete(ctx: &AdminContext<'_>, realm: &str, id: &str) -> Result<(), AdminError> {
    let (realm, client) = realm_and_client(ctx, realm, id, Permission::ManageClients).await?;
    if is_builtin(&realm, &client) {
        return Err(AdminError::bad_request(format!(
            "The built-in client {} cannot be deleted",
            client.client_id
        )));
    }
    if !ctx.store.delete_client(&realm.id, &client.id).await? {
        return Err(AdminError::not_found(CLIENT_NOT_FOUND));
    }
    ctx.changed(&realm);
    ctx.record(&realm.id, Operation::Delete, Resource::Client, &format!("clients/{}", client.id), None).await;
    Ok(())
}

/// `GET .../client-secret`: `{"type": "secret", "value": ...}`; no value for a client without one.
pub async fn secret(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
) -> Result<CredentialRepresentation, AdminError> {
    let (_, client) = realm_and_client(ctx, realm, id, Permission::ViewClients).await?;
    Ok(secret_credential(open_secret(ctx.master, &client)))
}

/// `POST .../client-secret`: a new secret replaces the old one, which stops working on this node
/// at once (and on others when their realm cache expires).
pub async fn regenerate_secret(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
) -> Result<CredentialRepresentation, AdminError> {
    let (realm, mut client) = realm_and_client(ctx, realm, id, Permission::ManageClients).await?;
    if client.public_client {
        return Err(AdminError::bad_request("A public client has no secret"));
    }
    let secret = random_token::<32>();
    client.secret_sealed = Some(seal(ctx, &client, &secret));
    if !ctx.store.update_client(&client, None).await? {
        return Err(AdminError::not_found(CLIENT_NOT_FOUND));
    }
    ctx.changed(&realm);
    let path = format!("clients/{}/client-secret", client.id);
    ctx.record(&realm.id, Operation::Action, Resource::Client, &path, None).await;
    Ok(secret_credential(Some(crate::crypto::SecretString::new(secret))))
}

/// `GET .../user-sessions` and `GET .../offline-sessions`: the live sessions the client joined.
pub async fn sessions(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
    offline: bool,
    page: Page,
) -> Result<Vec<UserSessionRepresentation>, AdminError> {
    let (realm, client) = realm_and_client(ctx, realm, id, Permission::ViewClients).await?;
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let listings =
        ctx.store.sessions_of_client(&realm.id, &client.id, offline, ctx.now, page.first, page.max).await?;
    let clients = ctx.clients(&realm).await?;
    Ok(listings
        .iter()
        .filter(|l| session::is_alive(&realm.settings, &l.session, None, ctx.now))
        .map(|l| listing_representation(l, &clients))
        .collect())
}

/// `GET .../service-account-user`.
pub async fn service_account_user(
    ctx: &AdminContext<'_>,
    realm: &str,
    id: &str,
) -> Result<UserView, AdminError> {
    let (realm, client) = realm_and_client(ctx, realm, id, Permission::ViewClients).await?;
    if !client.service_accounts_enabled {
        return Err(AdminError::bad_request("Service account not enabled for the client"));
    }
    let user = ctx
        .store
        .service_account_user(&client.id)
        .await?
        .ok_or_else(|| AdminError::not_found("No service account user for the client"))?;
    Ok(user_representation(&user, &ctx.clients(&realm).await?))
}
