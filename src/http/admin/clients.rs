//! `/admin/realms/{realm}/clients/...`. Client bodies are Keycloak's ClientRepresentation,
//! refused with "Unrecognized field" for a field Keycloak does not have; the fields Keycloak has
//! and Portcullis has no feature for are refused when they ask for it (see `REFUSED`).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use super::extract::{created, no_content, unknown_in_list, Admin, KnownFields, Params, Strict};
use crate::admin::{client_info, clients, AdminError};
use crate::app::AppState;
use crate::realm::representation::ClientRepresentation;
use crate::realm::scope_representation::ProtocolMapperRepresentation;

impl KnownFields for ClientRepresentation {
    const CLASS: &'static str = "org.keycloak.representations.idm.ClientRepresentation";
    /// Keycloak 26's ClientRepresentation, deprecated fields included.
    const FIELDS: &'static [&'static str] = &[
        "id", "clientId", "name", "description", "type", "rootUrl", "adminUrl", "baseUrl",
        "surrogateAuthRequired", "enabled", "alwaysDisplayInConsole", "clientAuthenticatorType", "secret",
        "registrationAccessToken", "defaultRoles", "redirectUris", "webOrigins", "notBefore", "bearerOnly",
        "consentRequired", "standardFlowEnabled", "implicitFlowEnabled", "directAccessGrantsEnabled",
        "serviceAccountsEnabled", "authorizationServicesEnabled", "directGrantsOnly", "publicClient",
        "frontchannelLogout", "protocol", "attributes", "authenticationFlowBindingOverrides", "fullScopeAllowed",
        "nodeReRegistrationTimeout", "registeredNodes", "protocolMappers", "clientTemplate", "useTemplateConfig",
        "useTemplateScope", "useTemplateMappers", "defaultClientScopes", "optionalClientScopes",
        "authorizationSettings", "access", "origin",
    ];
    /// Authorization services (UMA), client types, cluster node registration, registration
    /// access tokens and the deprecated default roles and client templates: Portcullis has none
    /// of them. `access` and `origin` are what a GET shows; Keycloak ignores them on write, and
    /// so does Portcullis.
    const REFUSED: &'static [&'static str] = &[
        "authorizationServicesEnabled", "authorizationSettings", "type", "registeredNodes",
        "registrationAccessToken", "defaultRoles", "directGrantsOnly", "clientTemplate", "useTemplateConfig",
        "useTemplateScope", "useTemplateMappers",
    ];

    fn unknown_field(object: &Map<String, Value>) -> Option<(String, &'static str)> {
        let own = object.keys().find(|k| !Self::FIELDS.contains(&k.as_str())).map(|k| (k.clone(), Self::CLASS));
        own.or_else(|| unknown_in_list::<ProtocolMapperRepresentation>(object.get("protocolMappers")))
    }
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    params: Params,
) -> Result<Response, AdminError> {
    let client_id = params.get("clientId");
    let search = params.bool("search")?.unwrap_or(false);
    let page = params.page()?;
    let found = clients::list(&admin.ctx(&state), &realm, client_id.as_deref(), search, page).await?;
    Ok(Json(found).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Strict(rep): Strict<ClientRepresentation>,
) -> Result<Response, AdminError> {
    let id = clients::create(&admin.ctx(&state), &realm, rep).await?;
    Ok(created(&admin.location(&[&realm, "clients", &id])))
}

pub async fn get(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(clients::get(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Strict(rep): Strict<ClientRepresentation>,
) -> Result<Response, AdminError> {
    clients::update(&admin.ctx(&state), &realm, &id, rep).await?;
    Ok(no_content())
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    clients::delete(&admin.ctx(&state), &realm, &id).await?;
    Ok(no_content())
}

pub async fn secret(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(clients::secret(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn regenerate_secret(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(clients::regenerate_secret(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn user_sessions(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    Ok(Json(clients::sessions(&admin.ctx(&state), &realm, &id, false, params.page()?).await?).into_response())
}

pub async fn offline_sessions(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    Ok(Json(clients::sessions(&admin.ctx(&state), &realm, &id, true, params.page()?).await?).into_response())
}

pub async fn service_account_user(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(clients::service_account_user(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn session_count(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(client_info::session_count(&admin.ctx(&state), &realm, &id, false).await?).into_response())
}

pub async fn offline_session_count(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(client_info::session_count(&admin.ctx(&state), &realm, &id, true).await?).into_response())
}

pub async fn installation(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, provider)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    let text = client_info::installation(&admin.ctx(&state), &realm, &id, &provider, &admin.base).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}
