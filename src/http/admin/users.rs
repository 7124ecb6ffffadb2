//! `/admin/realms/{realm}/users/...`: users, their password, sessions, consents and realm role
//! mappings; the realm's user profile. User bodies are Keycloak's UserRepresentation, refused
//! with "Unrecognized field" for a field Keycloak does not have, as Keycloak refuses it.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};

use super::extract::{check_known_fields, created, no_content, parse_json, Admin, Body, KnownFields, Params, Strict, Text};
use crate::admin::{attack_detection, user_credentials};
use crate::admin::user_profile::{self, UpConfig};
use crate::admin::user_search::UserSearch;
use crate::admin::{roles, users, AdminError};
use crate::app::AppState;
use crate::realm::representation::{CredentialRepresentation, RoleRepresentation, UserRepresentation};

impl KnownFields for UserRepresentation {
    const CLASS: &'static str = "org.keycloak.representations.idm.UserRepresentation";
    const FIELDS: &'static [&'static str] = &[
        "self", "id", "origin", "createdTimestamp", "username", "enabled", "totp", "emailVerified",
        "firstName", "lastName", "email", "federationLink", "serviceAccountClientId", "attributes",
        "credentials", "disableableCredentialTypes", "requiredActions", "federatedIdentities",
        "realmRoles", "clientRoles", "clientConsents", "notBefore", "applicationRoles", "socialLinks",
        "groups", "access", "userProfileMetadata",
    ];
}

/// Fields Keycloak acts on that Portcullis cannot: refused when they carry anything, so nothing
/// is accepted and silently dropped. (Read-only fields a GET returns, such as `totp` or
/// `access`, are ignored as Keycloak ignores them on write.)
const UNSUPPORTED_USER_FIELDS: &[&str] =
    &["federationLink", "federatedIdentities", "clientConsents", "groups", "applicationRoles", "socialLinks"];

/// A UserRepresentation body, checked as described above.
pub struct UserBody(pub UserRepresentation);

fn parse_user(bytes: &[u8]) -> Result<UserRepresentation, AdminError> {
    let value: serde_json::Value = parse_json(bytes)?;
    check_known_fields::<UserRepresentation>(&value)?;
    if let Some(object) = value.as_object() {
        for field in UNSUPPORTED_USER_FIELDS {
            let given = match object.get(*field) {
                None | Some(serde_json::Value::Null) => false,
                Some(serde_json::Value::Array(items)) => !items.is_empty(),
                Some(serde_json::Value::Object(map)) => !map.is_empty(),
                Some(serde_json::Value::String(s)) => !s.is_empty(),
                Some(_) => true,
            };
            if given {
                return Err(AdminError::bad_request(format!(
                    "{field} is not supported by Portcullis (see README, Admin REST API)"
                )));
            }
        }
    }
    serde_path_to_error::deserialize(value)
        .map_err(|e| AdminError::Unparsable(format!("unexpected value at {}", e.path())))
}

impl FromRequest<AppState> for UserBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        parse_user(&bytes).map(UserBody).map_err(IntoResponse::into_response)
    }
}

pub async fn profile(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    Ok(Json(user_profile::get(&admin.ctx(&state), &realm).await?).into_response())
}

pub async fn put_profile(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Body(config): Body<UpConfig>,
) -> Result<Response, AdminError> {
    Ok(Json(user_profile::put(&admin.ctx(&state), &realm, config).await?).into_response())
}

pub async fn profile_metadata(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    Ok(Json(user_profile::metadata(&admin.ctx(&state), &realm).await?).into_response())
}

fn search(params: &Params) -> Result<UserSearch, AdminError> {
    Ok(UserSearch {
        search: params.get("search"),
        username: params.get("username"),
        email: params.get("email"),
        first_name: params.get("firstName"),
        last_name: params.get("lastName"),
        enabled: params.bool("enabled")?,
        email_verified: params.bool("emailVerified")?,
        exact: params.bool("exact")?,
        q: params.get("q"),
        idp_alias: params.get("idpAlias"),
        idp_user_id: params.get("idpUserId"),
    })
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    params: Params,
) -> Result<Response, AdminError> {
    let brief = params.bool("briefRepresentation")?.unwrap_or(false);
    let found = users::search(&admin.ctx(&state), &realm, &search(&params)?, params.page()?, brief).await?;
    Ok(Json(found).into_response())
}

pub async fn count(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    params: Params,
) -> Result<Response, AdminError> {
    Ok(Json(users::count(&admin.ctx(&state), &realm, &search(&params)?).await?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    UserBody(rep): UserBody,
) -> Result<Response, AdminError> {
    let id = users::create(&admin.ctx(&state), &realm, rep).await?;
    Ok(created(&admin.location(&[&realm, "users", &id])))
}

pub async fn get(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    let ctx = admin.ctx(&state);
    let user = users::get(&ctx, &realm, &id).await?;
    if params.bool("userProfileMetadata")? != Some(true) {
        return Ok(Json(user).into_response());
    }
    // Keycloak's `?userProfileMetadata=true`: the profile as the admin console renders the form
    let mut value = serde_json::to_value(user).map_err(|e| AdminError::Internal(e.to_string()))?;
    value["userProfileMetadata"] = user_profile::metadata(&ctx, &realm).await?;
    Ok(Json(value).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    UserBody(rep): UserBody,
) -> Result<Response, AdminError> {
    users::update(&admin.ctx(&state), &realm, &id, rep).await?;
    Ok(no_content())
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    users::delete(&admin.ctx(&state), &realm, &id).await?;
    Ok(no_content())
}

pub async fn reset_password(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Body(credential): Body<CredentialRepresentation>,
) -> Result<Response, AdminError> {
    users::reset_password(&admin.ctx(&state), &realm, &id, credential).await?;
    Ok(no_content())
}

pub async fn credentials(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(user_credentials::list(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn credential_label(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, credential)): Path<(String, String, String)>,
    Text(label): Text,
) -> Result<Response, AdminError> {
    user_credentials::set_label(&admin.ctx(&state), &realm, &id, &credential, &label).await?;
    Ok(no_content())
}

pub async fn credential_to_first(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, credential)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    user_credentials::move_credential(&admin.ctx(&state), &realm, &id, &credential, None).await?;
    Ok(no_content())
}

pub async fn credential_after(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, credential, previous)): Path<(String, String, String, String)>,
) -> Result<Response, AdminError> {
    user_credentials::move_credential(&admin.ctx(&state), &realm, &id, &credential, Some(&previous)).await?;
    Ok(no_content())
}

/// `GET .../configured-user-storage-credential-types`: none, as Portcullis has no user federation.
pub async fn storage_credential_types(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    users::get(&admin.ctx(&state), &realm, &id).await?;
    Ok(Json(Vec::<String>::new()).into_response())
}

/// `POST .../user-storage/{id}/sync`, `.../remove-imported-users`, `.../unlink-users`: no
/// federation component exists (`crate::admin::user_storage`).
pub async fn user_storage_action(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    crate::admin::user_storage::action(&admin.ctx(&state), &realm, &id).await?;
    Ok(no_content())
}

/// `POST .../user-storage/{parentId}/mappers/{id}/sync`: no federation component exists.
pub async fn user_storage_mapper_sync(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, parent, _mapper)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    crate::admin::user_storage::action(&admin.ctx(&state), &realm, &parent).await?;
    Ok(no_content())
}

fn email_params(params: &Params) -> Result<crate::admin::user_mail::EmailParams, AdminError> {
    Ok(crate::admin::user_mail::EmailParams {
        redirect_uri: params.get("redirect_uri"),
        client_id: params.get("client_id"),
        lifespan: params.int("lifespan")?,
    })
}

/// `PUT .../execute-actions-email`: the body is a JSON array of required actions (may be empty).
pub async fn execute_actions_email(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
    Text(body): Text,
) -> Result<Response, AdminError> {
    let actions: Vec<String> = if body.trim().is_empty() { Vec::new() } else { parse_json::<Option<Vec<String>>>(body.as_bytes())?.unwrap_or_default() };
    let origin = crate::admin::user_mail::MailOrigin { mailer: &state.mailer, base: &admin.base };
    crate::admin::user_mail::execute_actions_email(&admin.ctx(&state), &origin, &realm, &id, &email_params(&params)?, actions).await?;
    Ok(no_content())
}

pub async fn send_verify_email(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    let origin = crate::admin::user_mail::MailOrigin { mailer: &state.mailer, base: &admin.base };
    crate::admin::user_mail::send_verify_email(&admin.ctx(&state), &origin, &realm, &id, &email_params(&params)?).await?;
    Ok(no_content())
}

pub async fn brute_force_status(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(attack_detection::user_status(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn clear_brute_force(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    attack_detection::clear_user(&admin.ctx(&state), &realm, &id).await?;
    Ok(no_content())
}

pub async fn clear_all_brute_force(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    attack_detection::clear_all(&admin.ctx(&state), &realm).await?;
    Ok(no_content())
}

pub async fn delete_credential(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, credential)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    users::delete_credential(&admin.ctx(&state), &realm, &id, &credential).await?;
    Ok(no_content())
}

pub async fn sessions(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(users::sessions(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn offline_sessions(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(users::offline_sessions(&admin.ctx(&state), &realm, &id, &client).await?).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    users::logout(&admin.ctx(&state), &realm, &id).await?;
    Ok(no_content())
}

pub async fn consents(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(users::consents(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn revoke_consent(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    users::revoke_consent(&admin.ctx(&state), &realm, &id, &client).await?;
    Ok(no_content())
}

pub async fn role_mappings(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(roles::user_mappings(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn realm_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(roles::user_realm_roles(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn add_realm_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    roles::change_user_realm_roles(&admin.ctx(&state), &realm, &id, reps, true).await?;
    Ok(no_content())
}

pub async fn remove_realm_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    roles::change_user_realm_roles(&admin.ctx(&state), &realm, &id, reps, false).await?;
    Ok(no_content())
}

pub async fn client_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(roles::user_client_roles(&admin.ctx(&state), &realm, &id, &client).await?).into_response())
}

pub async fn add_client_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    roles::change_user_client_roles(&admin.ctx(&state), &realm, &id, &client, reps, true).await?;
    Ok(no_content())
}

pub async fn remove_client_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    roles::change_user_client_roles(&admin.ctx(&state), &realm, &id, &client, reps, false).await?;
    Ok(no_content())
}
