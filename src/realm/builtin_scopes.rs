//! The client scopes Keycloak 26 creates in every new realm (`OIDCLoginProtocolFactory.
//! createDefaultClientScopesImpl`, `DefaultClientScopes.createOfflineAccessClientScope`), with
//! their mappers, attributes and realm default/optional status, and the links new clients get.
//! Left out on purpose: `role_list` and `saml_organization` (SAML: Portcullis speaks only
//! OpenID Connect), `organization` (Portcullis has no organizations, so its mapper would be
//! inert) and the newer `service_account` scope. Realms made before the scope tables existed get
//! the same scopes at start-up (`upgrade_pending_realms`).

use crate::domain::scopes::{ClientScope, ClientScopeLink, ProtocolMapper, RealmScopes, ScopeHolder, OPENID_CONNECT};
use crate::domain::{new_id, Client, Role};
use crate::realm::defaults::OFFLINE_ACCESS_ROLE;
use crate::store::{RealmBundle, Store, StoreError};

/// Names of the built-in scopes added on import to exports older than Keycloak 25 and 18 (as
/// Keycloak's `MigrateTo25_0_0` and `MigrateTo18_0_0` add them).
pub const BASIC_SCOPE: &str = "basic";
pub const ACR_SCOPE: &str = "acr";

/// The token switches Keycloak 26's built-in mappers carry.
const ACCESS: (&str, &str) = ("access.token.claim", "true");
const ID: (&str, &str) = ("id.token.claim", "true");
const USERINFO: (&str, &str) = ("userinfo.token.claim", "true");
const INTROSPECTION: (&str, &str) = ("introspection.token.claim", "true");

fn mapper(name: &str, kind: &str, config: &[(&str, &str)]) -> ProtocolMapper {
    ProtocolMapper {
        id: new_id(),
        name: name.into(),
        protocol: OPENID_CONNECT.into(),
        protocol_mapper: kind.into(),
        config: config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

/// `UserAttributeMapper.createClaimMapper` (or the property mapper) for all four answers.
fn claim(name: &str, kind: &str, attribute: &str, claim: &str, json_type: &str) -> ProtocolMapper {
    let config = [
        ("user.attribute", attribute),
        ("claim.name", claim),
        ("jsonType.label", json_type),
        ACCESS,
        ID,
        USERINFO,
        INTROSPECTION,
    ];
    mapper(name, kind, &config)
}

fn attribute(name: &str, attr: &str, claim_name: &str, json_type: &str) -> ProtocolMapper {
    claim(name, "oidc-usermodel-attribute-mapper", attr, claim_name, json_type)
}

fn scope(
    realm_id: &str,
    name: &str,
    description: &str,
    attributes: &[(&str, &str)],
    mappers: Vec<ProtocolMapper>,
) -> ClientScope {
    ClientScope {
        id: new_id(),
        realm_id: realm_id.into(),
        name: name.into(),
        description: Some(description.into()),
        protocol: OPENID_CONNECT.into(),
        attributes: attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        mappers,
    }
}

fn consent(text: &str, in_token: bool) -> [(&str, &str); 3] {
    [
        ("include.in.token.scope", if in_token { "true" } else { "false" }),
        ("display.on.consent.screen", "true"),
        ("consent.screen.text", text),
    ]
}

const NOT_SHOWN: [(&str, &str); 2] = [("include.in.token.scope", "false"), ("display.on.consent.screen", "false")];

fn profile(realm_id: &str) -> ClientScope {
    let mut mappers = vec![mapper("full name", "oidc-full-name-mapper", &[ID, INTROSPECTION, ACCESS, USERINFO])];
    for (name, attr, claim_name, json_type) in [
        ("family name", "lastName", "family_name", "String"),
        ("given name", "firstName", "given_name", "String"),
        ("middle name", "middleName", "middle_name", "String"),
        ("nickname", "nickname", "nickname", "String"),
        ("username", "username", "preferred_username", "String"),
        ("profile", "profile", "profile", "String"),
        ("picture", "picture", "picture", "String"),
        ("website", "website", "website", "String"),
        ("gender", "gender", "gender", "String"),
        ("birthdate", "birthdate", "birthdate", "String"),
        ("zoneinfo", "zoneinfo", "zoneinfo", "String"),
        ("locale", "locale", "locale", "String"),
        ("updated at", "updatedAt", "updated_at", "long"),
    ] {
        mappers.push(attribute(name, attr, claim_name, json_type));
    }
    let description = "OpenID Connect built-in scope: profile";
    scope(realm_id, "profile", description, &consent("${profileScopeConsentText}", true), mappers)
}

/// Keycloak 26's built-in scopes of a new realm, its default (`true`) and optional scopes, and
/// the `offline_access` scope's mapping to the `offline_access` role when the realm has one.
pub fn builtin_scopes(realm_id: &str, offline_access_role: Option<&str>) -> RealmScopes {
    let email = scope(
        realm_id,
        "email",
        "OpenID Connect built-in scope: email",
        &consent("${emailScopeConsentText}", true),
        vec![
            attribute("email", "email", "email", "String"),
            claim("email verified", "oidc-usermodel-property-mapper", "emailVerified", "email_verified", "boolean"),
        ],
    );
    let address_config = [
        ("user.attribute.formatted", "formatted"),
        ("user.attribute.country", "country"),
        ("user.attribute.postal_code", "postal_code"),
        ("user.attribute.street", "street"),
        ("user.attribute.region", "region"),
        ("user.attribute.locality", "locality"),
        ACCESS,
        ID,
        USERINFO,
        INTROSPECTION,
    ];
    let address = scope(
        realm_id,
        "address",
        "OpenID Connect built-in scope: address",
        &consent("${addressScopeConsentText}", true),
        vec![mapper("address", "oidc-address-mapper", &address_config)],
    );
    let phone = scope(
        realm_id,
        "phone",
        "OpenID Connect built-in scope: phone",
        &consent("${phoneScopeConsentText}", true),
        vec![
            attribute("phone number", "phoneNumber", "phone_number", "String"),
            attribute("phone number verified", "phoneNumberVerified", "phone_number_verified", "boolean"),
        ],
    );
    let offline = scope(
        realm_id,
        "offline_access",
        "OpenID Connect built-in scope: offline_access",
        &[("consent.screen.text", "${offlineAccessScopeConsentText}"), ("display.on.consent.screen", "true")],
        Vec::new(),
    );
    let role_claim = |claim_name: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut config =
            vec![("user.attribute", "foo"), ("claim.name", claim_name), ("jsonType.label", "String"), ("multivalued", "true")];
        config.extend_from_slice(extra);
        config
    };
    let roles = scope(
        realm_id,
        "roles",
        "OpenID Connect scope for add user roles to the access token",
        &consent("${rolesScopeConsentText}", false),
        vec![
            mapper("realm roles", "oidc-usermodel-realm-role-mapper", &role_claim("realm_access.roles", &[ACCESS, INTROSPECTION])),
            mapper(
                "client roles",
                "oidc-usermodel-client-role-mapper",
                &role_claim("resource_access.${client_id}.roles", &[ACCESS, INTROSPECTION]),
            ),
            mapper("audience resolve", "oidc-audience-resolve-mapper", &[ACCESS, INTROSPECTION]),
        ],
    );
    let web_origins = scope(
        realm_id,
        "web-origins",
        "OpenID Connect scope for add allowed web origins to the access token",
        &[("include.in.token.scope", "false"), ("display.on.consent.screen", "false"), ("consent.screen.text", "")],
        vec![mapper("allowed web origins", "oidc-allowed-origins-mapper", &[ACCESS, INTROSPECTION])],
    );
    let microprofile = scope(
        realm_id,
        "microprofile-jwt",
        "Microprofile - JWT built-in scope",
        &[("include.in.token.scope", "true"), ("display.on.consent.screen", "false")],
        vec![
            attribute("upn", "username", "upn", "String"),
            mapper(
                "groups",
                "oidc-usermodel-realm-role-mapper",
                &role_claim("groups", &[ACCESS, ID, USERINFO, INTROSPECTION]),
            ),
        ],
    );
    let mut scopes = vec![profile(realm_id), email, address, phone, offline, roles, web_origins, microprofile];
    scopes.push(acr(realm_id));
    scopes.push(basic(realm_id));
    let optional = ["address", "phone", "offline_access", "microprofile-jwt"];
    let realm_defaults = scopes.iter().map(|s| (s.id.clone(), !optional.contains(&s.name.as_str()))).collect();
    let scope_mappings = match (offline_access_role, scopes.iter().find(|s| s.name == "offline_access")) {
        (Some(role), Some(offline)) => vec![(ScopeHolder::ClientScope(offline.id.clone()), role.to_string())],
        _ => Vec::new(),
    };
    RealmScopes { client_scopes: scopes, realm_defaults, scope_mappings, ..RealmScopes::default() }
}

/// The `acr` scope (a realm default scope since Keycloak 18).
pub fn acr(realm_id: &str) -> ClientScope {
    scope(
        realm_id,
        ACR_SCOPE,
        "OpenID Connect scope for add acr (authentication context class reference) to the token",
        &NOT_SHOWN,
        vec![mapper("acr loa level", "oidc-acr-mapper", &[ID, INTROSPECTION, ACCESS])],
    )
}

/// The `basic` scope (a realm default scope since Keycloak 25): `sub` and `auth_time`.
pub fn basic(realm_id: &str) -> ClientScope {
    let auth_time = [
        ("user.session.note", "AUTH_TIME"),
        ("claim.name", "auth_time"),
        ("jsonType.label", "long"),
        ACCESS,
        ID,
        INTROSPECTION,
    ];
    scope(
        realm_id,
        BASIC_SCOPE,
        "OpenID Connect scope for add all basic claims to the token",
        &NOT_SHOWN,
        vec![
            mapper("auth_time", "oidc-usersessionmodel-note-mapper", &auth_time),
            mapper("sub", "oidc-sub-mapper", &[ACCESS, INTROSPECTION]),
        ],
    )
}

fn offline_role(roles: &[Role]) -> Option<&str> {
    roles.iter().find(|r| !r.client_role && r.name == OFFLINE_ACCESS_ROLE).map(|r| r.id.as_str())
}

/// Gives a new realm's bundle the built-in scopes (unless it has client scopes already, e.g.
/// from an import) and links the realm defaults to every client of the bundle that has no
/// scope link yet.
pub fn add_builtin_scopes(bundle: &mut RealmBundle) {
    let Some(realm) = bundle.realm.as_ref() else { return };
    if bundle.scopes.client_scopes.is_empty() {
        let mut builtins = builtin_scopes(&realm.id, offline_role(&bundle.roles));
        builtins.client_links = std::mem::take(&mut bundle.scopes.client_links);
        builtins.client_mappers = std::mem::take(&mut bundle.scopes.client_mappers);
        builtins.scope_mappings.append(&mut bundle.scopes.scope_mappings);
        bundle.scopes = builtins;
    }
    let unlinked: Vec<String> = bundle
        .clients
        .iter()
        .filter(|c| !bundle.scopes.client_links.iter().any(|l| l.client_id == c.id))
        .map(|c| c.id.clone())
        .collect();
    for client in unlinked {
        link_realm_defaults(&mut bundle.scopes, &client);
    }
}

/// Links the client (internal id) to every OpenID Connect realm default scope, as Keycloak
/// does when a client is created.
pub fn link_realm_defaults(scopes: &mut RealmScopes, client_id: &str) {
    let RealmScopes { client_scopes, realm_defaults, client_links, .. } = scopes;
    for (scope_id, default_scope) in realm_defaults.iter() {
        let oidc = client_scopes.iter().any(|s| &s.id == scope_id && s.protocol == OPENID_CONNECT);
        let linked = client_links.iter().any(|l| l.client_id == client_id && &l.scope_id == scope_id);
        if oidc && !linked {
            client_links.push(ClientScopeLink {
                client_id: client_id.to_string(),
                scope_id: scope_id.clone(),
                default_scope: *default_scope,
            });
        }
    }
}

/// Start-up step for databases made before the scope tables: each realm still marked pending
/// gets the built-in scopes, its clients linked to the realm defaults and `offline_access`
/// mapped, in one transaction per realm. Returns the ids of the realms upgraded here.
pub async fn upgrade_pending_realms(store: &dyn Store) -> Result<Vec<String>, StoreError> {
    let mut upgraded = Vec::new();
    for realm_id in store.scope_upgrades_pending().await? {
        let clients: Vec<Client> = store.list_clients(&realm_id).await?;
        let roles = store.realm_roles(&realm_id).await?;
        let mut scopes = builtin_scopes(&realm_id, offline_role(&roles));
        for client in &clients {
            link_realm_defaults(&mut scopes, &client.id);
        }
        if store.complete_scope_upgrade(&realm_id, &scopes).await? {
            tracing::info!(realm_id, "gave the realm Keycloak's built-in client scopes (upgrade)");
            upgraded.push(realm_id);
        }
    }
    Ok(upgraded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keycloak_26_counts_six_default_and_four_optional_scopes() {
        let scopes = builtin_scopes("r", Some("role"));
        let names = |default: bool| -> Vec<&str> {
            let mut names: Vec<&str> = scopes
                .realm_defaults
                .iter()
                .filter(|(_, d)| *d == default)
                .filter_map(|(id, _)| scopes.client_scopes.iter().find(|s| &s.id == id))
                .map(|s| s.name.as_str())
                .collect();
            names.sort();
            names
        };
        assert_eq!(names(true), ["acr", "basic", "email", "profile", "roles", "web-origins"]);
        assert_eq!(names(false), ["address", "microprofile-jwt", "offline_access", "phone"]);
        assert_eq!(scopes.scope_mappings.len(), 1);
        let profile = scopes.client_scopes.iter().find(|s| s.name == "profile").unwrap();
        assert_eq!(profile.mappers.len(), 14);
        for s in &scopes.client_scopes {
            for m in &s.mappers {
                assert!(crate::oauth::mappers::is_supported(&m.protocol_mapper), "{}", m.protocol_mapper);
            }
        }
    }
}
