use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn mapper(kind: &str, config: &[(&str, &str)]) -> ProtocolMapper {
    ProtocolMapper {
        id: "m".into(),
        name: kind.into(),
        protocol: "openid-connect".into(),
        protocol_mapper: kind.into(),
        config: config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

const ALL_TOKENS: &[(&str, &str)] =
    &[("access.token.claim", "true"), ("id.token.claim", "true"), ("userinfo.token.claim", "true")];

fn with(base: &[(&'static str, &'static str)], extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    base.iter().chain(extra).copied().collect()
}

fn client() -> Client {
    Client {
        id: "cid".into(),
        redirect_uris: vec!["https://app.example/cb/*".into()],
        web_origins: vec!["+".into(), "https://other.example".into()],
        ..Client::for_tests("app")
    }
}

fn user() -> User {
    User {
        id: "uid".into(),
        realm_id: "r".into(),
        username: "alice".into(),
        email: Some("alice@example.org".into()),
        first_name: Some("Alice".into()),
        last_name: Some("Liddell".into()),
        enabled: true,
        email_verified: true,
        service_account_client_id: None,
        created_at: 1_700_000_000,
        required_actions: vec![],
        attributes: Default::default(),
    }
}

fn roles() -> TokenRoles {
    let mut roles = TokenRoles::default();
    roles.realm.extend(["user".to_string(), "admin".to_string()]);
    roles.clients.entry("api".into()).or_default().insert("read".into());
    roles.clients.entry("app".into()).or_default().insert("own".into());
    roles
}

struct Fixture {
    client: Client,
    user: User,
    attributes: BTreeMap<String, Vec<String>>,
    groups: Vec<String>,
    notes: BTreeMap<String, String>,
    roles: TokenRoles,
}

impl Fixture {
    fn new() -> Self {
        let mut attributes = BTreeMap::new();
        attributes.insert("dept".into(), vec!["eng".into(), "ops".into()]);
        attributes.insert("level".into(), vec!["7".into()]);
        attributes.insert("street".into(), vec!["1 Main St".into()]);
        let mut notes = BTreeMap::new();
        notes.insert("clientHost".into(), "10.0.0.1".into());
        Fixture {
            client: client(),
            user: user(),
            attributes,
            groups: vec!["/staff/eng".into(), "/admins".into()],
            notes,
            roles: roles(),
        }
    }

    fn shape(&self, mappers: &[ProtocolMapper], kind: TokenKind) -> Shaped {
        let refs: Vec<&ProtocolMapper> = mappers.iter().collect();
        let shaping = Shaping {
            client: &self.client,
            subject: Subject { user: &self.user, attributes: &self.attributes, group_paths: &self.groups, notes: &self.notes },
            roles: &self.roles,
            acr: "1",
        };
        shape(&refs, kind, false, &shaping)
    }
}

#[test]
fn attribute_and_property_mappers_follow_their_json_type_and_multivalued_switches() {
    let f = Fixture::new();
    let mappers = [
        mapper("oidc-usermodel-attribute-mapper", &with(ALL_TOKENS, &[("user.attribute", "dept"), ("claim.name", "org.dept"), ("multivalued", "true"), ("jsonType.label", "String")])),
        mapper("oidc-usermodel-attribute-mapper", &with(ALL_TOKENS, &[("user.attribute", "level"), ("claim.name", "level"), ("jsonType.label", "long")])),
        mapper("oidc-usermodel-property-mapper", &with(ALL_TOKENS, &[("user.attribute", "emailVerified"), ("claim.name", "email_verified"), ("jsonType.label", "boolean")])),
        mapper("oidc-usermodel-attribute-mapper", &with(ALL_TOKENS, &[("user.attribute", "missing"), ("claim.name", "absent")])),
        mapper("oidc-full-name-mapper", ALL_TOKENS),
    ];
    let shaped = f.shape(&mappers, TokenKind::Access);
    assert_eq!(
        Value::Object(shaped.claims),
        json!({"org": {"dept": ["eng", "ops"]}, "level": 7, "email_verified": true, "name": "Alice Liddell"})
    );
}

#[test]
fn each_mapper_reaches_only_the_tokens_its_switches_name() {
    let f = Fixture::new();
    let only_id = [mapper("oidc-hardcoded-claim-mapper", &[("claim.name", "c"), ("claim.value", "v"), ("id.token.claim", "true")])];
    assert!(f.shape(&only_id, TokenKind::Access).claims.is_empty());
    assert_eq!(f.shape(&only_id, TokenKind::Id).claims.get("c"), Some(&json!("v")));
    assert_eq!(f.shape(&only_id, TokenKind::UserInfo).claims.get("c"), Some(&json!("v")),
        "no userinfo.token.claim follows id.token.claim, as Keycloak's includeInUserInfo");
    let not_userinfo = [mapper("oidc-hardcoded-claim-mapper", &[("claim.name", "c"), ("claim.value", "v"), ("id.token.claim", "true"), ("userinfo.token.claim", "false")])];
    assert!(f.shape(&not_userinfo, TokenKind::UserInfo).claims.is_empty());
    // an allowed-origins mapper of an old export has no switch: access token and introspection
    let switchless = [mapper("oidc-allowed-origins-mapper", &[])];
    assert!(applies(&switchless[0], TokenKind::Access, false) && applies(&switchless[0], TokenKind::Introspection, false));
    assert!(!applies(&switchless[0], TokenKind::Id, false));
    // without introspection.token.claim (a mapper from before Keycloak 25), the access switch counts
    let access = [mapper("oidc-hardcoded-claim-mapper", &[("claim.name", "c"), ("claim.value", "v"), ("access.token.claim", "true")])];
    assert_eq!(f.shape(&access, TokenKind::Introspection).claims.get("c"), Some(&json!("v")));
    let not_introspected = [mapper(
        "oidc-hardcoded-claim-mapper",
        &[("claim.name", "c"), ("claim.value", "v"), ("access.token.claim", "true"), ("introspection.token.claim", "false")],
    )];
    assert!(f.shape(&not_introspected, TokenKind::Introspection).claims.is_empty());
}

#[test]
fn role_mappers_write_filtered_roles_under_their_claims() {
    let f = Fixture::new();
    let mappers = [
        mapper("oidc-usermodel-realm-role-mapper", &with(ALL_TOKENS, &[("claim.name", "realm_access.roles"), ("multivalued", "true")])),
        mapper("oidc-usermodel-client-role-mapper", &with(ALL_TOKENS, &[("claim.name", "resource_access.${client_id}.roles"), ("multivalued", "true")])),
        mapper(
            "oidc-usermodel-realm-role-mapper",
            &with(ALL_TOKENS, &[("claim.name", "prefixed"), ("multivalued", "true"), ("usermodel.realmRoleMapping.rolePrefix", "r_")]),
        ),
    ];
    let shaped = f.shape(&mappers, TokenKind::Access);
    assert_eq!(
        Value::Object(shaped.claims),
        json!({
            "realm_access": {"roles": ["admin", "user"]},
            "resource_access": {"api": {"roles": ["read"]}, "app": {"roles": ["own"]}},
            "prefixed": ["r_admin", "r_user"],
        })
    );
}

#[test]
fn a_client_id_with_a_dot_stays_one_claim_name() {
    let mut f = Fixture::new();
    f.roles.clients.entry("my.api".into()).or_default().insert("x".into());
    let mappers = [mapper(
        "oidc-usermodel-client-role-mapper",
        &with(ALL_TOKENS, &[("claim.name", "resource_access.${client_id}.roles"), ("multivalued", "true"), ("usermodel.clientRoleMapping.clientId", "my.api")]),
    )];
    let shaped = f.shape(&mappers, TokenKind::Access);
    assert_eq!(Value::Object(shaped.claims), json!({"resource_access": {"my.api": {"roles": ["x"]}}}));
}

#[test]
fn audience_mappers_fill_aud_and_resolve_skips_the_client_itself() {
    let f = Fixture::new();
    let mappers = [
        mapper("oidc-audience-mapper", &[("included.client.audience", "billing"), ("access.token.claim", "true")]),
        mapper("oidc-audience-mapper", &[("included.custom.audience", "https://aud.example"), ("access.token.claim", "true")]),
        mapper("oidc-audience-resolve-mapper", &[("access.token.claim", "true")]),
    ];
    let shaped = f.shape(&mappers, TokenKind::Access);
    // audience-resolve (priority 30) runs after the plain audience mappers (priority 0)
    assert_eq!(shaped.audience, ["billing", "https://aud.example", "api"]);
    assert!(shaped.claims.is_empty());
}

#[test]
fn groups_origins_address_acr_and_notes() {
    let f = Fixture::new();
    let mappers = [
        mapper("oidc-group-membership-mapper", &with(ALL_TOKENS, &[("claim.name", "groups"), ("full.path", "false"), ("multivalued", "true")])),
        mapper("oidc-allowed-origins-mapper", &[("access.token.claim", "true")]),
        mapper("oidc-address-mapper", ALL_TOKENS),
        mapper("oidc-acr-mapper", ALL_TOKENS),
        mapper("oidc-usersessionmodel-note-mapper", &with(ALL_TOKENS, &[("user.session.note", "clientHost"), ("claim.name", "clientHost")])),
    ];
    let shaped = f.shape(&mappers, TokenKind::Access);
    assert_eq!(
        Value::Object(shaped.claims),
        json!({
            "groups": ["eng", "admins"],
            "allowed-origins": ["https://app.example", "https://other.example"],
            "address": {"street_address": "1 Main St"},
            "clientHost": "10.0.0.1",
        })
    );
    assert_eq!(shaped.acr.as_deref(), Some("1"));
    // the ID token has no allowed-origins
    assert!(!f.shape(&mappers, TokenKind::Id).claims.contains_key("allowed-origins"));
}

#[test]
fn server_claims_are_never_overwritten_and_unsupported_types_stay_inert() {
    let f = Fixture::new();
    let mappers = [
        mapper("oidc-hardcoded-claim-mapper", &with(ALL_TOKENS, &[("claim.name", "sub"), ("claim.value", "evil")])),
        mapper("oidc-hardcoded-claim-mapper", &with(ALL_TOKENS, &[("claim.name", "exp"), ("claim.value", "9")])),
        mapper("oidc-script-based-protocol-mapper", &with(ALL_TOKENS, &[("claim.name", "s"), ("script", "x")])),
    ];
    assert!(f.shape(&mappers, TokenKind::Access).claims.is_empty());
    assert!(!is_supported("oidc-script-based-protocol-mapper"));
}

#[test]
fn role_changing_mappers_add_and_rename_roles() {
    let is_client = |c: &str| c == "api" || c == "app";
    let mut roles = roles();
    let mappers = [
        mapper("oidc-hardcoded-role-mapper", &[("role", "api.write")]),
        mapper("oidc-role-name-mapper", &[("role", "admin"), ("new.role.name", "superuser")]),
        mapper("oidc-role-name-mapper", &[("role", "absent"), ("new.role.name", "never")]),
        mapper("oidc-hardcoded-role-mapper", &[("role", "no.such.client.role")]),
    ];
    let refs: Vec<&ProtocolMapper> = mappers.iter().collect();
    shape_roles(&refs, &mut roles, &is_client);
    assert_eq!(roles.realm.iter().collect::<Vec<_>>(), ["no.such.client.role", "superuser", "user"]);
    assert_eq!(roles.clients["api"].iter().collect::<Vec<_>>(), ["read", "write"]);
}

#[test]
fn role_name_runs_before_hardcoded_role_whatever_the_order_given() {
    // Keycloak: role-name priority 10, hardcoded-role 20, so a hardcoded role is never renamed
    let mut roles = TokenRoles::default();
    let mappers = [
        mapper("oidc-hardcoded-role-mapper", &[("role", "granted")]),
        mapper("oidc-role-name-mapper", &[("role", "granted"), ("new.role.name", "renamed")]),
    ];
    let refs: Vec<&ProtocolMapper> = mappers.iter().collect();
    shape_roles(&refs, &mut roles, &|_| false);
    assert_eq!(roles.realm.iter().collect::<Vec<_>>(), ["granted"]);
}
