//! Keycloak's JSON for client scopes, protocol mappers and scope mappings
//! (ClientScopeRepresentation, ProtocolMapperRepresentation, ScopeMappingRepresentation), used by
//! realm import/export and the admin API, and their conversion to and from `domain::scopes`.
//! Wire shapes only, like `representation.rs`: every field optional, defaults applied by callers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::scopes::{ClientScope, ProtocolMapper};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientScopeRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(
        deserialize_with = "crate::realm::representation::stringified_map",
        skip_serializing_if = "Option::is_none"
    )]
    pub attributes: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_mappers: Option<Vec<ProtocolMapperRepresentation>>,
}

impl ClientScopeRepresentation {
    /// The stored scope as Keycloak shows it: `protocolMappers` only when it has some.
    pub fn from_scope(scope: &ClientScope) -> Self {
        ClientScopeRepresentation {
            id: Some(scope.id.clone()),
            name: Some(scope.name.clone()),
            description: scope.description.clone(),
            protocol: Some(scope.protocol.clone()),
            attributes: Some(scope.attributes.clone()),
            protocol_mappers: (!scope.mappers.is_empty())
                .then(|| scope.mappers.iter().map(ProtocolMapperRepresentation::from_mapper).collect()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProtocolMapperRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_mapper: Option<String>,
    /// Deprecated in Keycloak and without effect there; read so old exports do not warn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_required: Option<bool>,
    /// Deprecated in Keycloak and without effect there; read so old exports do not warn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_text: Option<String>,
    #[serde(
        deserialize_with = "crate::realm::representation::stringified_map",
        skip_serializing_if = "Option::is_none"
    )]
    pub config: Option<BTreeMap<String, String>>,
}

impl ProtocolMapperRepresentation {
    pub fn from_mapper(mapper: &ProtocolMapper) -> Self {
        ProtocolMapperRepresentation {
            id: Some(mapper.id.clone()),
            name: Some(mapper.name.clone()),
            protocol: Some(mapper.protocol.clone()),
            protocol_mapper: Some(mapper.protocol_mapper.clone()),
            consent_required: None,
            consent_text: None,
            config: Some(mapper.config.clone()),
        }
    }
}

/// One entry of a realm's `scopeMappings` (holder: a client by `client` or a client scope by
/// `clientScope`, realm role names in `roles`), or of `clientScopeMappings.{clientId}` (the
/// roles are then that client's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScopeMappingRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Keycloak's pre-client-scope name for a client scope (before Keycloak 4.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_scope: Option<String>,
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_reads_keycloak_json_and_writes_it_back() {
        let json = r#"{"id":"s1","name":"profile","protocol":"openid-connect",
            "attributes":{"include.in.token.scope":"true","gui.order":1},
            "protocolMappers":[{"id":"m1","name":"locale","protocol":"openid-connect",
              "protocolMapper":"oidc-usermodel-attribute-mapper","consentRequired":false,
              "config":{"claim.name":"locale","multivalued":false}}]}"#;
        let rep: ClientScopeRepresentation = serde_json::from_str(json).unwrap();
        assert_eq!(rep.attributes.as_ref().unwrap()["gui.order"], "1");
        let mapper = &rep.protocol_mappers.as_ref().unwrap()[0];
        assert_eq!(mapper.config.as_ref().unwrap()["multivalued"], "false");
        let back = serde_json::to_value(&rep).unwrap();
        assert_eq!(back["protocolMappers"][0]["protocolMapper"], "oidc-usermodel-attribute-mapper");
    }
}
