//! The mapper types, one arm each: what value a mapper reads (a user property or attribute,
//! groups, roles, the client's web origins, a session note, a constant) and which claim it
//! writes. Claims the server owns (`jti`, `iss`, `exp`, `scope`...) are never overwritten; `aud`,
//! `acr` and `auth_time` go to their structural places, as Keycloak's property setters do.

use serde_json::Value;

use super::claims::{map_value, put, split_claim_path};
use super::{Shaped, Shaping, TokenKind, TokenRoles};
use crate::domain::scopes::ProtocolMapper;

/// Claims a mapper may not set: the server's own.
const SERVER_CLAIMS: &[&str] = &["jti", "typ", "iat", "exp", "iss", "scope", "nonce", "session_state", "sub", "azp", "sid"];

/// `role` or `clientId.role` (Keycloak's `parseRole`, split at the last dot, and a client only
/// when one of that id exists), as (client, role).
fn parse_role(text: &str, client_ids: &dyn Fn(&str) -> bool) -> (Option<String>, String) {
    match text.rsplit_once('.') {
        Some((client, role)) if client_ids(client) => (Some(client.to_string()), role.to_string()),
        _ => (None, text.to_string()),
    }
}

fn holds(roles: &TokenRoles, (client, role): &(Option<String>, String)) -> bool {
    match client {
        None => roles.realm.contains(role),
        Some(client) => roles.clients.get(client).is_some_and(|r| r.contains(role)),
    }
}

fn add(roles: &mut TokenRoles, (client, role): (Option<String>, String)) {
    match client {
        None => {
            roles.realm.insert(role);
        }
        Some(client) => {
            roles.clients.entry(client).or_default().insert(role);
        }
    }
}

fn remove(roles: &mut TokenRoles, (client, role): &(Option<String>, String)) {
    match client {
        None => {
            roles.realm.remove(role);
        }
        Some(client) => {
            if let Some(held) = roles.clients.get_mut(client) {
                held.remove(role);
                if held.is_empty() {
                    roles.clients.remove(client);
                }
            }
        }
    }
}

/// The role-changing mappers: `oidc-hardcoded-role-mapper` adds its `role` whether the user holds
/// it or not; `oidc-role-name-mapper` renames `role` to `new.role.name` when the token holds it.
pub fn change_roles(mapper: &ProtocolMapper, roles: &mut TokenRoles, client_ids: &dyn Fn(&str) -> bool) {
    match mapper.protocol_mapper.as_str() {
        "oidc-hardcoded-role-mapper" => {
            if let Some(role) = mapper.setting("role") {
                add(roles, parse_role(role, client_ids));
            }
        }
        "oidc-role-name-mapper" => {
            let (Some(from), Some(to)) = (mapper.setting("role"), mapper.setting("new.role.name")) else { return };
            let from = parse_role(from, client_ids);
            if holds(roles, &from) {
                remove(roles, &from);
                add(roles, parse_role(to, client_ids));
            }
        }
        _ => {}
    }
}

/// Writes `value` where the mapper's `claim.name` says.
fn set_claim(mapper: &ProtocolMapper, shaped: &mut Shaped, value: Value) {
    let Some(name) = mapper.setting("claim.name") else { return };
    let path = split_claim_path(name);
    let top = path.first().map(String::as_str).unwrap_or("");
    match (top, path.len()) {
        ("aud", 1) => match value {
            Value::Array(items) => shaped.audience.extend(items.iter().map(text)),
            single => shaped.audience.push(text(&single)),
        },
        ("acr", 1) => shaped.acr = Some(text(&value)),
        ("auth_time", 1) => shaped.auth_time = text(&value).parse().ok(),
        (server, _) if SERVER_CLAIMS.contains(&server) => {
            tracing::warn!(mapper = %mapper.name, claim = server, "a mapper may not set a claim the server owns: ignored");
        }
        _ => put(&mut shaped.claims, &path, value, mapper.flag("multivalued")),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `claim.name`'s value from string values, per `jsonType.label` and `multivalued`.
fn map_strings(mapper: &ProtocolMapper, values: Vec<String>) -> Option<Value> {
    let values = values.into_iter().map(Value::String).collect();
    map_value(mapper.setting("jsonType.label"), mapper.flag("multivalued"), values, &mapper.name)
}

/// A user property by Keycloak's name (`ProtocolMapperUtils.getUserModelValue`).
fn user_property(shaping: &Shaping<'_>, property: &str) -> Option<String> {
    let user = shaping.subject.user;
    match property {
        "username" => Some(user.username.clone()),
        "email" => user.email.clone(),
        "firstName" => user.first_name.clone(),
        "lastName" => user.last_name.clone(),
        "emailVerified" => Some(user.email_verified.to_string()),
        "enabled" => Some(user.enabled.to_string()),
        "id" => Some(user.id.clone()),
        "createdTimestamp" => Some(user.created_at.saturating_mul(1000).to_string()),
        _ => None,
    }
}

/// A user attribute; since Keycloak 24 the profile's username, email and names are attributes too.
fn user_attribute(shaping: &Shaping<'_>, name: &str) -> Vec<String> {
    match shaping.subject.attributes.get(name) {
        Some(values) => values.clone(),
        None => match name {
            "username" | "email" | "firstName" | "lastName" => user_property(shaping, name).into_iter().collect(),
            _ => Vec::new(),
        },
    }
}

fn prefixed(roles: impl IntoIterator<Item = impl AsRef<str>>, prefix: Option<&str>) -> Vec<String> {
    roles.into_iter().map(|r| format!("{}{}", prefix.unwrap_or(""), r.as_ref())).collect()
}

/// The origin (`scheme://host[:port]`) of an absolute URI.
fn origin_of(uri: &str) -> Option<String> {
    let parsed = url::Url::parse(uri.trim_end_matches('*')).ok()?;
    match parsed.origin() {
        url::Origin::Tuple(..) => Some(parsed.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// The client's web origins with `+` expanded to its redirect URIs' origins (Keycloak's
/// `WebOriginsUtils.resolveValidWebOrigins`).
pub fn allowed_origins(client: &crate::domain::Client) -> Vec<String> {
    let mut origins: Vec<String> = Vec::new();
    for origin in &client.web_origins {
        if origin == "+" {
            origins.extend(client.redirect_uris.iter().filter_map(|u| origin_of(u)));
        } else {
            origins.push(origin.clone());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    origins.retain(|o| seen.insert(o.clone()));
    origins
}

/// One claim mapper's contribution to one token.
pub fn apply(mapper: &ProtocolMapper, kind: TokenKind, shaping: &Shaping<'_>, shaped: &mut Shaped) {
    match mapper.protocol_mapper.as_str() {
        "oidc-usermodel-property-mapper" => {
            let value = mapper.setting("user.attribute").and_then(|p| user_property(shaping, p));
            if let Some(value) = value.and_then(|v| map_strings(mapper, vec![v])) {
                set_claim(mapper, shaped, value);
            }
        }
        "oidc-usermodel-attribute-mapper" => {
            let values = mapper.setting("user.attribute").map(|a| user_attribute(shaping, a)).unwrap_or_default();
            if let Some(value) = map_strings(mapper, values) {
                set_claim(mapper, shaped, value);
            }
        }
        "oidc-full-name-mapper" => {
            let user = shaping.subject.user;
            let name = [user.first_name.as_deref(), user.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
            if !name.trim().is_empty() {
                shaped.claims.insert("name".into(), Value::String(name));
            }
        }
        "oidc-hardcoded-claim-mapper" => {
            if let Some(value) = mapper.setting("claim.value").and_then(|v| map_strings(mapper, vec![v.to_string()])) {
                set_claim(mapper, shaped, value);
            }
        }
        "oidc-audience-mapper" if kind != TokenKind::UserInfo => {
            shaped.audience.extend(mapper.setting("included.client.audience").map(str::to_string));
            shaped.audience.extend(mapper.setting("included.custom.audience").map(str::to_string));
        }
        "oidc-audience-resolve-mapper" => {
            let own = &shaping.client.client_id;
            shaped.audience.extend(shaping.roles.clients.keys().filter(|c| *c != own).cloned());
        }
        "oidc-group-membership-mapper" => {
            let full = mapper.config.get("full.path").is_none_or(|v| v.eq_ignore_ascii_case("true"));
            let groups = shaping.subject.group_paths.iter().map(|path| {
                if full { path.clone() } else { path.rsplit('/').next().unwrap_or(path).to_string() }
            });
            let values: Vec<Value> = groups.map(Value::String).collect();
            // Keycloak's GroupMembershipMapper forces multivalued: the claim is always a list
            let mut listed = mapper.clone();
            listed.config.insert("multivalued".into(), "true".into());
            if let Some(value) = map_value(None, true, values, &mapper.name) {
                set_claim(&listed, shaped, value);
            }
        }
        "oidc-usermodel-realm-role-mapper" => {
            let roles = prefixed(&shaping.roles.realm, mapper.setting("usermodel.realmRoleMapping.rolePrefix"));
            if let Some(value) = map_strings(mapper, roles) {
                set_claim(mapper, shaped, value);
            }
        }
        "oidc-usermodel-client-role-mapper" => client_roles(mapper, shaping, shaped),
        "oidc-allowed-origins-mapper" if kind == TokenKind::Access || kind == TokenKind::Introspection => {
            let origins = allowed_origins(shaping.client);
            if !origins.is_empty() {
                shaped.claims.insert("allowed-origins".into(), Value::from(origins));
            }
        }
        "oidc-address-mapper" => {
            let mut address = serde_json::Map::new();
            for (claim, key, default) in [
                ("formatted", "user.attribute.formatted", "formatted"),
                ("street_address", "user.attribute.street", "street"),
                ("locality", "user.attribute.locality", "locality"),
                ("region", "user.attribute.region", "region"),
                ("postal_code", "user.attribute.postal_code", "postal_code"),
                ("country", "user.attribute.country", "country"),
            ] {
                let attribute = mapper.setting(key).unwrap_or(default);
                if let Some(value) = user_attribute(shaping, attribute).into_iter().next() {
                    address.insert(claim.into(), Value::String(value));
                }
            }
            if !address.is_empty() {
                shaped.claims.insert("address".into(), Value::Object(address));
            }
        }
        "oidc-acr-mapper" => shaped.acr = Some(shaping.acr.to_string()),
        "oidc-usersessionmodel-note-mapper" => {
            let note = mapper.setting("user.session.note").and_then(|n| shaping.subject.notes.get(n));
            if let Some(value) = note.and_then(|v| map_strings(mapper, vec![v.clone()])) {
                set_claim(mapper, shaped, value);
            }
        }
        // `sub` is always the server's claim; the role-changing mappers ran in `change_roles`
        _ => {}
    }
}

/// `oidc-usermodel-client-role-mapper`: roles of one client (`usermodel.clientRoleMapping.clientId`)
/// or of every client, under a claim that may name the client (`${client_id}`).
fn client_roles(mapper: &ProtocolMapper, shaping: &Shaping<'_>, shaped: &mut Shaped) {
    let Some(claim) = mapper.setting("claim.name") else { return };
    let only = mapper.setting("usermodel.clientRoleMapping.clientId");
    let prefix = mapper.setting("usermodel.clientRoleMapping.rolePrefix");
    let clients = shaping.roles.clients.iter().filter(|(client, _)| only.is_none_or(|o| o == client.as_str()));
    for (client, roles) in clients {
        let mut named = mapper.clone();
        named.config.insert("claim.name".into(), claim.replace("${client_id}", &client.replace('.', "\\.")));
        if let Some(value) = map_strings(&named, prefixed(roles, prefix)) {
            set_claim(&named, shaped, value);
        }
    }
}
