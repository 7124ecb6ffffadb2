//! `/admin/realms/{realm}/groups/...`, `group-by-path`, `default-groups` and
//! `users/{id}/groups`: thin handlers over `admin::groups` and `admin::group_roles`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::extract::{created, no_content, Admin, KnownFields, Params, Strict};
use crate::admin::group_roles::{self, Container, Which};
use crate::admin::groups::{self, Added, GroupQuery};
use crate::admin::AdminError;
use crate::app::AppState;
use crate::realm::groups::GroupRepresentation;
use crate::realm::representation::RoleRepresentation;

impl KnownFields for GroupRepresentation {
    const CLASS: &'static str = "org.keycloak.representations.idm.GroupRepresentation";
    const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "description",
        "path",
        "parentId",
        "subGroupCount",
        "subGroups",
        "attributes",
        "realmRoles",
        "clientRoles",
        "access",
    ];
}

fn count_body(count: i64) -> Response {
    Json(json!({ "count": count })).into_response()
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    params: Params,
) -> Result<Response, AdminError> {
    let query = GroupQuery {
        search: params.get("search"),
        q: params.get("q"),
        exact: params.bool("exact")?.unwrap_or(false),
        brief: params.bool("briefRepresentation")?.unwrap_or(true),
        populate_hierarchy: params.bool("populateHierarchy")?.unwrap_or(true),
        sub_groups_count: params.bool("subGroupsCount")?.unwrap_or(true),
        first: params.int("first")?,
        max: params.int("max")?,
    };
    Ok(Json(groups::list(&admin.ctx(&state), &realm, &query).await?).into_response())
}

pub async fn count(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    params: Params,
) -> Result<Response, AdminError> {
    let top = params.bool("top")?.unwrap_or(false);
    Ok(count_body(groups::count(&admin.ctx(&state), &realm, params.get("search").as_deref(), top).await?))
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Strict(rep): Strict<GroupRepresentation>,
) -> Result<Response, AdminError> {
    match groups::add(&admin.ctx(&state), &realm, None, rep).await? {
        Added::Created(shown) => Ok(created(&admin.location(&[&realm, "groups", shown.id.as_deref().unwrap_or_default()]))),
        Added::Moved => Ok(no_content()),
    }
}

pub async fn get(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(groups::get(&admin.ctx(&state), &realm, &id).await?).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Strict(rep): Strict<GroupRepresentation>,
) -> Result<Response, AdminError> {
    groups::update(&admin.ctx(&state), &realm, &id, rep).await?;
    Ok(no_content())
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    groups::delete(&admin.ctx(&state), &realm, &id).await?;
    Ok(no_content())
}

pub async fn children(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    let query = GroupQuery {
        search: params.get("search"),
        exact: params.bool("exact")?.unwrap_or(false),
        brief: params.bool("briefRepresentation")?.unwrap_or(false),
        first: params.int("first")?,
        max: params.int("max")?,
        ..GroupQuery::default()
    };
    let found = groups::children(&admin.ctx(&state), &realm, &id, &query).await?;
    Ok(Json(found).into_response())
}

/// 201 with a Location and the new subgroup's representation (as Keycloak answers), or 204
/// after a move.
pub async fn add_child(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Strict(rep): Strict<GroupRepresentation>,
) -> Result<Response, AdminError> {
    match groups::add(&admin.ctx(&state), &realm, Some(&id), rep).await? {
        Added::Created(shown) => {
            let location = admin.location(&[&realm, "groups", shown.id.as_deref().unwrap_or_default()]);
            let mut response = (StatusCode::CREATED, Json(*shown)).into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            Ok(response)
        }
        Added::Moved => Ok(no_content()),
    }
}

pub async fn members(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    Ok(Json(groups::members(&admin.ctx(&state), &realm, &id, params.page()?).await?).into_response())
}

pub async fn by_path(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, path)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(groups::by_path(&admin.ctx(&state), &realm, &path).await?).into_response())
}

pub async fn of_user(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    let brief = params.bool("briefRepresentation")?.unwrap_or(true);
    let found =
        groups::of_user(&admin.ctx(&state), &realm, &id, params.get("search").as_deref(), params.page()?, brief).await?;
    Ok(Json(found).into_response())
}

pub async fn count_of_user(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    Ok(count_body(groups::count_of_user(&admin.ctx(&state), &realm, &id, params.get("search").as_deref()).await?))
}

pub async fn join(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, group)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    groups::membership(&admin.ctx(&state), &realm, &id, &group, true).await?;
    Ok(no_content())
}

pub async fn leave(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, group)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    groups::membership(&admin.ctx(&state), &realm, &id, &group, false).await?;
    Ok(no_content())
}

pub async fn default_groups(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
) -> Result<Response, AdminError> {
    Ok(Json(groups::default_groups(&admin.ctx(&state), &realm).await?).into_response())
}

pub async fn add_default(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, group)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    groups::set_default(&admin.ctx(&state), &realm, &group, true).await?;
    Ok(no_content())
}

pub async fn remove_default(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, group)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    groups::set_default(&admin.ctx(&state), &realm, &group, false).await?;
    Ok(no_content())
}

pub async fn role_mappings(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(group_roles::mappings(&admin.ctx(&state), &realm, &id).await?).into_response())
}

async fn listed(
    state: &AppState,
    admin: &Admin,
    (realm, id): (&str, &str),
    container: Container<'_>,
    which: Which,
    params: &Params,
) -> Result<Response, AdminError> {
    let brief = params.bool("briefRepresentation")?.unwrap_or(true);
    Ok(Json(group_roles::roles(&admin.ctx(state), realm, id, container, which, brief).await?).into_response())
}

pub async fn realm_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    listed(&state, &admin, (&realm, &id), Container::Realm, Which::Mapped, &params).await
}

pub async fn available_realm_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    listed(&state, &admin, (&realm, &id), Container::Realm, Which::Available, &params).await
}

pub async fn composite_realm_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    listed(&state, &admin, (&realm, &id), Container::Realm, Which::Composite, &params).await
}

pub async fn add_realm_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    group_roles::change(&admin.ctx(&state), &realm, &id, Container::Realm, reps, true).await?;
    Ok(no_content())
}

pub async fn remove_realm_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    group_roles::change(&admin.ctx(&state), &realm, &id, Container::Realm, reps, false).await?;
    Ok(no_content())
}

pub async fn client_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    listed(&state, &admin, (&realm, &id), Container::Client(&client), Which::Mapped, &params).await
}

pub async fn available_client_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    listed(&state, &admin, (&realm, &id), Container::Client(&client), Which::Available, &params).await
}

pub async fn composite_client_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    listed(&state, &admin, (&realm, &id), Container::Client(&client), Which::Composite, &params).await
}

pub async fn add_client_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    group_roles::change(&admin.ctx(&state), &realm, &id, Container::Client(&client), reps, true).await?;
    Ok(no_content())
}

pub async fn remove_client_roles(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, client)): Path<(String, String, String)>,
    Strict(reps): Strict<Vec<RoleRepresentation>>,
) -> Result<Response, AdminError> {
    group_roles::change(&admin.ctx(&state), &realm, &id, Container::Client(&client), reps, false).await?;
    Ok(no_content())
}

pub async fn realm_role_groups(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, role)): Path<(String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    let brief = params.bool("briefRepresentation")?.unwrap_or(true);
    let found = group_roles::groups_with_role(&admin.ctx(&state), &realm, None, &role, params.page()?, brief).await?;
    Ok(Json(found).into_response())
}

pub async fn client_role_groups(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id, role)): Path<(String, String, String)>,
    params: Params,
) -> Result<Response, AdminError> {
    let brief = params.bool("briefRepresentation")?.unwrap_or(true);
    let found = group_roles::groups_with_role(&admin.ctx(&state), &realm, Some(&id), &role, params.page()?, brief).await?;
    Ok(Json(found).into_response())
}
