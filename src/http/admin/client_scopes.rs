//! `/admin/realms/{realm}/client-scopes/...`, the realm's and clients' default scopes, protocol
//! mappers of client scopes and clients, and scope mappings: thin handlers over
//! `admin::{client_scopes, protocol_mappers, scope_mappings}`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{created, no_content, Admin, KnownFields, Strict};
use crate::admin::protocol_mappers::{self, On};
use crate::admin::scope_mappings::{self, Of, Roles, View};
use crate::admin::{client_scopes, AdminError};
use crate::app::AppState;
use crate::realm::representation::RoleRepresentation;
use crate::realm::scope_representation::{ClientScopeRepresentation, ProtocolMapperRepresentation};

impl KnownFields for ClientScopeRepresentation {
    const CLASS: &'static str = "org.keycloak.representations.idm.ClientScopeRepresentation";
    const FIELDS: &'static [&'static str] = &["id", "name", "description", "protocol", "attributes", "protocolMappers"];
}

impl KnownFields for ProtocolMapperRepresentation {
    const CLASS: &'static str = "org.keycloak.representations.idm.ProtocolMapperRepresentation";
    const FIELDS: &'static [&'static str] =
        &["id", "name", "protocol", "protocolMapper", "consentRequired", "consentText", "config"];
}

type R = Result<Response, AdminError>;

fn json<T: serde::Serialize>(value: T) -> R {
    Ok(Json(value).into_response())
}

pub async fn list(State(state): State<AppState>, admin: Admin, Path(realm): Path<String>) -> R {
    json(client_scopes::list(&admin.ctx(&state), &realm).await?)
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(realm): Path<String>,
    Strict(rep): Strict<ClientScopeRepresentation>,
) -> R {
    let id = client_scopes::create(&admin.ctx(&state), &realm, rep).await?;
    Ok(created(&admin.location(&[&realm, "client-scopes", &id])))
}

pub async fn get(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>) -> R {
    json(client_scopes::get(&admin.ctx(&state), &realm, &id).await?)
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Strict(rep): Strict<ClientScopeRepresentation>,
) -> R {
    client_scopes::update(&admin.ctx(&state), &realm, &id, rep).await?;
    Ok(no_content())
}

pub async fn delete(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>) -> R {
    client_scopes::delete(&admin.ctx(&state), &realm, &id).await?;
    Ok(no_content())
}

pub async fn realm_defaults(State(state): State<AppState>, admin: Admin, Path(realm): Path<String>) -> R {
    json(client_scopes::realm_defaults(&admin.ctx(&state), &realm, true).await?)
}

pub async fn realm_optionals(State(state): State<AppState>, admin: Admin, Path(realm): Path<String>) -> R {
    json(client_scopes::realm_defaults(&admin.ctx(&state), &realm, false).await?)
}

async fn set_realm(state: &AppState, admin: &Admin, realm: &str, scope: &str, kind: Option<bool>) -> R {
    client_scopes::set_realm_default(&admin.ctx(state), realm, scope, kind).await?;
    Ok(no_content())
}

pub async fn add_realm_default(State(state): State<AppState>, admin: Admin, Path((realm, scope)): Path<(String, String)>) -> R {
    set_realm(&state, &admin, &realm, &scope, Some(true)).await
}

pub async fn add_realm_optional(State(state): State<AppState>, admin: Admin, Path((realm, scope)): Path<(String, String)>) -> R {
    set_realm(&state, &admin, &realm, &scope, Some(false)).await
}

pub async fn remove_realm_default(State(state): State<AppState>, admin: Admin, Path((realm, scope)): Path<(String, String)>) -> R {
    set_realm(&state, &admin, &realm, &scope, None).await
}

pub async fn client_defaults(State(state): State<AppState>, admin: Admin, Path((realm, client)): Path<(String, String)>) -> R {
    json(client_scopes::client_links(&admin.ctx(&state), &realm, &client, true).await?)
}

pub async fn client_optionals(State(state): State<AppState>, admin: Admin, Path((realm, client)): Path<(String, String)>) -> R {
    json(client_scopes::client_links(&admin.ctx(&state), &realm, &client, false).await?)
}

async fn set_link(state: &AppState, admin: &Admin, (realm, client, scope): (String, String, String), kind: Option<bool>) -> R {
    client_scopes::set_client_link(&admin.ctx(state), &realm, &client, &scope, kind).await?;
    Ok(no_content())
}

pub async fn add_client_default(State(state): State<AppState>, admin: Admin, Path(p): Path<(String, String, String)>) -> R {
    set_link(&state, &admin, p, Some(true)).await
}

pub async fn add_client_optional(State(state): State<AppState>, admin: Admin, Path(p): Path<(String, String, String)>) -> R {
    set_link(&state, &admin, p, Some(false)).await
}

pub async fn remove_client_link(State(state): State<AppState>, admin: Admin, Path(p): Path<(String, String, String)>) -> R {
    set_link(&state, &admin, p, None).await
}

/// Protocol mappers, for a client scope (`scope` true) or a client: each handler pair below.
macro_rules! mapper_handlers {
    ($on:ident, $list:ident, $create:ident, $add:ident, $by_protocol:ident, $get:ident, $update:ident, $delete:ident, $kind:literal) => {
        pub async fn $list(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>) -> R {
            json(protocol_mappers::list(&admin.ctx(&state), &realm, On::$on(&id), None).await?)
        }

        pub async fn $by_protocol(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id, protocol)): Path<(String, String, String)>,
        ) -> R {
            json(protocol_mappers::list(&admin.ctx(&state), &realm, On::$on(&id), Some(&protocol)).await?)
        }

        pub async fn $create(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id)): Path<(String, String)>,
            Strict(rep): Strict<ProtocolMapperRepresentation>,
        ) -> R {
            let ids = protocol_mappers::create(&admin.ctx(&state), &realm, On::$on(&id), &[rep]).await?;
            let mapper = ids.first().map(String::as_str).unwrap_or_default();
            Ok(created(&admin.location(&[&realm, $kind, &id, "protocol-mappers", "models", mapper])))
        }

        pub async fn $add(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id)): Path<(String, String)>,
            Strict(reps): Strict<Vec<ProtocolMapperRepresentation>>,
        ) -> R {
            protocol_mappers::create(&admin.ctx(&state), &realm, On::$on(&id), &reps).await?;
            Ok(no_content())
        }

        pub async fn $get(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id, mapper)): Path<(String, String, String)>,
        ) -> R {
            json(protocol_mappers::get(&admin.ctx(&state), &realm, On::$on(&id), &mapper).await?)
        }

        pub async fn $update(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id, mapper)): Path<(String, String, String)>,
            Strict(rep): Strict<ProtocolMapperRepresentation>,
        ) -> R {
            protocol_mappers::update(&admin.ctx(&state), &realm, On::$on(&id), &mapper, &rep).await?;
            Ok(no_content())
        }

        pub async fn $delete(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id, mapper)): Path<(String, String, String)>,
        ) -> R {
            protocol_mappers::delete(&admin.ctx(&state), &realm, On::$on(&id), &mapper).await?;
            Ok(no_content())
        }
    };
}

mapper_handlers!(ClientScope, scope_mappers, scope_mapper_create, scope_mappers_add, scope_mappers_by_protocol,
    scope_mapper_get, scope_mapper_update, scope_mapper_delete, "client-scopes");
mapper_handlers!(Client, client_mappers, client_mapper_create, client_mappers_add, client_mappers_by_protocol,
    client_mapper_get, client_mapper_update, client_mapper_delete, "clients");

/// Scope mappings of a client or a client scope: the same eleven handlers for each.
macro_rules! scope_mapping_handlers {
    ($of:ident, $all:ident, $realm:ident, $realm_add:ident, $realm_remove:ident, $realm_available:ident,
     $realm_composite:ident, $client:ident, $client_add:ident, $client_remove:ident, $client_available:ident,
     $client_composite:ident) => {
        pub async fn $all(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>) -> R {
            json(scope_mappings::all(&admin.ctx(&state), &realm, Of::$of(&id)).await?)
        }

        pub async fn $realm(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>) -> R {
            json(scope_mappings::roles(&admin.ctx(&state), &realm, Of::$of(&id), Roles::Realm, View::Mapped).await?)
        }

        pub async fn $realm_available(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>) -> R {
            json(scope_mappings::roles(&admin.ctx(&state), &realm, Of::$of(&id), Roles::Realm, View::Available).await?)
        }

        pub async fn $realm_composite(State(state): State<AppState>, admin: Admin, Path((realm, id)): Path<(String, String)>) -> R {
            json(scope_mappings::roles(&admin.ctx(&state), &realm, Of::$of(&id), Roles::Realm, View::Composite).await?)
        }

        pub async fn $realm_add(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id)): Path<(String, String)>,
            Strict(reps): Strict<Vec<RoleRepresentation>>,
        ) -> R {
            scope_mappings::change(&admin.ctx(&state), &realm, Of::$of(&id), Roles::Realm, &reps, true).await?;
            Ok(no_content())
        }

        pub async fn $realm_remove(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id)): Path<(String, String)>,
            Strict(reps): Strict<Vec<RoleRepresentation>>,
        ) -> R {
            scope_mappings::change(&admin.ctx(&state), &realm, Of::$of(&id), Roles::Realm, &reps, false).await?;
            Ok(no_content())
        }

        pub async fn $client(State(state): State<AppState>, admin: Admin, Path((realm, id, client)): Path<(String, String, String)>) -> R {
            json(scope_mappings::roles(&admin.ctx(&state), &realm, Of::$of(&id), Roles::OfClient(&client), View::Mapped).await?)
        }

        pub async fn $client_available(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id, client)): Path<(String, String, String)>,
        ) -> R {
            json(scope_mappings::roles(&admin.ctx(&state), &realm, Of::$of(&id), Roles::OfClient(&client), View::Available).await?)
        }

        pub async fn $client_composite(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id, client)): Path<(String, String, String)>,
        ) -> R {
            json(scope_mappings::roles(&admin.ctx(&state), &realm, Of::$of(&id), Roles::OfClient(&client), View::Composite).await?)
        }

        pub async fn $client_add(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id, client)): Path<(String, String, String)>,
            Strict(reps): Strict<Vec<RoleRepresentation>>,
        ) -> R {
            scope_mappings::change(&admin.ctx(&state), &realm, Of::$of(&id), Roles::OfClient(&client), &reps, true).await?;
            Ok(no_content())
        }

        pub async fn $client_remove(
            State(state): State<AppState>,
            admin: Admin,
            Path((realm, id, client)): Path<(String, String, String)>,
            Strict(reps): Strict<Vec<RoleRepresentation>>,
        ) -> R {
            scope_mappings::change(&admin.ctx(&state), &realm, Of::$of(&id), Roles::OfClient(&client), &reps, false).await?;
            Ok(no_content())
        }
    };
}

scope_mapping_handlers!(Client, client_sm, client_sm_realm, client_sm_realm_add, client_sm_realm_remove,
    client_sm_realm_available, client_sm_realm_composite, client_sm_client, client_sm_client_add,
    client_sm_client_remove, client_sm_client_available, client_sm_client_composite);
scope_mapping_handlers!(ClientScope, scope_sm, scope_sm_realm, scope_sm_realm_add, scope_sm_realm_remove,
    scope_sm_realm_available, scope_sm_realm_composite, scope_sm_client, scope_sm_client_add,
    scope_sm_client_remove, scope_sm_client_available, scope_sm_client_composite);
