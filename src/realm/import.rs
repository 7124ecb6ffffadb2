//! Keycloak realm JSON in, `RealmBundle` out: parse one realm or an array of realms (what
//! `kc.sh export` writes), warn about what Portcullis ignores, then build the records with fresh
//! keys, sealed client secrets and argon2id-hashed passwords. It writes nothing: the caller hands
//! the bundle to `Store::create_realms`, so a bad file never leaves a half-imported realm.

use std::collections::{BTreeSet, HashMap};

use serde::de::DeserializeOwned;

use crate::clock::UnixTime;
use crate::crypto::password::PasswordHasher;
use crate::crypto::random::random_token;
use crate::crypto::MasterKey;
use crate::domain::realm::{validate_realm_id, validate_realm_name};
use crate::domain::required_actions::{keycloak_defaults, sort, RequiredActionProvider};
use crate::domain::{new_id, Client, RealmSettings, Role, SignatureAlgorithm};
use crate::oauth::authorize::unregistrable_redirect_uri;
use crate::oauth::tokens::keys::generate_realm_keys;
use crate::realm::defaults::{default_roles_name, ensure_default_roles, new_realm};
use crate::realm::representation::{CompositesRepresentation, RealmRepresentation};
use crate::store::RealmBundle;

/// What Keycloak's admin console writes in place of a client secret.
pub const MASKED_SECRET: &str = "**********";

/// `credentialData` of a password hashed here; `secretData` is then an argon2id PHC string.
pub const ARGON2_PHC_CREDENTIAL_DATA: &str = r#"{"algorithm":"argon2-phc"}"#;

pub struct ImportContext<'a> {
    pub master: &'a MasterKey,
    pub hasher: &'a PasswordHasher,
    pub now: UnixTime,
}

/// A file that cannot be imported. `path` is a JSON path such as `clients[2].redirectUris`, or
/// `.` for errors about the whole file (invalid JSON: the message then gives line and column).
#[derive(Debug, thiserror::Error)]
#[error("{file}: at {path}: {message}")]
pub struct ImportError {
    pub file: String,
    pub path: String,
    pub message: String,
}

/// One realm of a file, parsed and named, not yet built into records.
#[derive(Debug, Clone)]
pub struct ParsedRealm {
    pub name: String,
    pub representation: RealmRepresentation,
    /// Unknown fields, one line per distinct path.
    pub warnings: Vec<String>,
    /// Where it came from, for errors found while building: a file name or "request body".
    pub file: String,
    /// Its position when the file held an array of realms; prefixes every error path.
    pub index: Option<usize>,
}

impl ParsedRealm {
    /// Names a representation, refusing a missing or unsafe `realm` name.
    pub fn new(
        file: &str,
        index: Option<usize>,
        representation: RealmRepresentation,
    ) -> Result<Self, ImportError> {
        let scope = Scope { file, index };
        let name = representation.realm.clone().unwrap_or_default();
        if name.is_empty() {
            return Err(scope.error("realm", "the realm name is missing"));
        }
        validate_realm_name(&name).map_err(|message| scope.error("realm", message))?;
        let warnings = Vec::new();
        Ok(Self { name, representation, warnings, file: file.to_string(), index })
    }
}

/// Whether JSON text holds a NUL character: raw (invalid JSON anyway) or escaped as `\u0000`
/// inside a string, which is valid JSON but no text a name or setting may hold (Postgres refuses
/// it, SQLite would store it; issue 13 item 15). An escaped backslash is skipped, so `\\u0000`
/// is six plain characters.
pub fn json_holds_nul(text: &[u8]) -> bool {
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            0 => return true,
            b'\\' if text[i + 1..].starts_with(b"u0000") => return true,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    false
}

/// The message for a body or file refused by `json_holds_nul`.
pub const NUL_REFUSED: &str = "NUL characters (\\u0000) are not allowed";

/// Parses a realm file: one realm object, or an array of them. A type error names its JSON path;
/// unknown fields are ignored with one warning per distinct path (array indices collapsed).
pub fn parse_realm_json(file_label: &str, text: &str) -> Result<Vec<ParsedRealm>, ImportError> {
    if json_holds_nul(text.as_bytes()) {
        return Err(ImportError { file: file_label.to_string(), path: ".".into(), message: NUL_REFUSED.into() });
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let many = text.trim_start().starts_with('[');
    let mut ignored: Vec<Vec<Segment>> = Vec::new();
    let representations = if many {
        deserialize::<Vec<RealmRepresentation>>(file_label, text, &mut ignored)?
    } else {
        vec![deserialize::<RealmRepresentation>(file_label, text, &mut ignored)?]
    };
    let mut realms: Vec<ParsedRealm> = Vec::new();
    for (i, representation) in representations.into_iter().enumerate() {
        let index = many.then_some(i);
        let mut realm = ParsedRealm::new(file_label, index, representation)?;
        if let Some(first) = realms.iter().position(|r| r.name == realm.name) {
            let message = format!("realm {:?} appears twice in this file (also [{first}])", realm.name);
            return Err(Scope { file: file_label, index }.error("realm", message));
        }
        let mut seen = BTreeSet::new();
        for path in &ignored {
            let path = match (index, path.split_first()) {
                (None, _) => path.as_slice(),
                (Some(i), Some((Segment::Index(j), rest))) if *j == i => rest,
                _ => continue,
            };
            let collapsed = collapse(path);
            if seen.insert(collapsed.clone()) {
                realm.warnings.push(format!("ignored unknown field {collapsed}"));
            }
        }
        realms.push(realm);
    }
    Ok(realms)
}

/// Turns a parsed realm into records. Returns the warnings found while building (the parse
/// warnings stay in `parsed.warnings`). Ids of clients, roles and users are kept from the file;
/// the realm keeps its `id` when the file gives one (as Keycloak's import does) and always gets
/// fresh keys.
pub async fn build_bundle(
    parsed: &ParsedRealm,
    ctx: &ImportContext<'_>,
) -> Result<(RealmBundle, Vec<String>), ImportError> {
    let rep = &parsed.representation;
    let scope = Scope { file: &parsed.file, index: parsed.index };
    let mut b = Builder { parsed, scope, realm_id: String::new(), warnings: Vec::new() };
    let mut settings = rep.settings_over(RealmSettings::default());
    if let Some(alg) = &rep.default_signature_algorithm {
        match SignatureAlgorithm::parse(alg) {
            Some(alg) => settings.default_signature_algorithm = alg,
            None => b.warn(format!("defaultSignatureAlgorithm {alg:?} is not supported; using RS256")),
        }
    }
    if let Some(policy) = settings.password_policy.as_deref() {
        match crate::users::password_policy::PasswordPolicy::parse(policy) {
            Err(e) => b.warn(format!("passwordPolicy {policy:?} cannot be enforced ({e}); no password rule applies until it is fixed")),
            Ok(parsed) if !parsed.inert.is_empty() => b.warn(format!(
                "passwordPolicy: {} accepted but not enforced by Portcullis (README, Password policy)",
                parsed.inert.join(", ")
            )),
            Ok(_) => {}
        }
    }
    if let Some(actions) = &rep.required_actions {
        settings.required_actions = with_missing_defaults(actions);
    }
    let mut realm = new_realm(&parsed.name, settings, ctx.now);
    realm.enabled = rep.enabled.unwrap_or(true);
    realm.not_before = rep.not_before.unwrap_or(0);
    if let Some(id) = rep.id.as_deref().filter(|id| !id.trim().is_empty()) {
        validate_realm_id(id).map_err(|message| b.scope.error("id", message))?;
        realm.id = id.to_string();
    }
    crate::realm::smtp::apply_password(rep, &mut realm.settings, &realm.id, ctx.master);
    b.realm_id = realm.id.clone();
    let keys = generate_realm_keys(&realm.id, ctx.master, ctx.now)
        .map_err(|e| b.scope.error("", format!("cannot generate the realm's keys: {e}")))?;
    let clients = b.clients(ctx)?;
    let mut keys = keys;
    let wanted = crate::realm::signing_keys::in_use(&realm.settings, &clients);
    keys.extend(
        crate::realm::signing_keys::missing(&realm.id, &keys, &wanted, ctx.master, ctx.now)
            .map_err(|e| b.scope.error("", format!("cannot generate the realm's keys: {e}")))?,
    );
    let (roles, alias) = b.roles(&clients)?;
    let mut bundle = RealmBundle { realm: Some(realm), keys, roles, clients, ..RealmBundle::default() };
    ensure_default_roles(&mut bundle);
    let mut index = RoleIndex::new(&bundle.roles, &bundle.clients);
    if let Some((old_name, id)) = alias {
        index.realm.insert(old_name, id);
    }
    let groups = rep.groups.as_deref().unwrap_or_default();
    let resolve = |realm: &[String], client: &std::collections::BTreeMap<String, Vec<String>>| index.resolve(realm, client);
    let imported = super::groups::import_groups(groups, &b.realm_id.clone(), ctx.now, &resolve, &mut |w| b.warn(w));
    b.users(ctx, &index, &mut bundle).await?;
    super::groups::attach(imported, rep, &mut bundle, &mut |w| b.warn(w));
    let realm_id = b.realm_id.clone();
    let (scopes, warnings) = crate::realm::import_scopes::import_scopes(rep, &realm_id, &bundle.clients, &bundle.roles)
        .map_err(|e| b.scope.error(&e.path, e.message))?;
    bundle.scopes = scopes;
    b.warnings.extend(warnings);
    Ok((bundle, b.warnings))
}

/// One step of a JSON path, as `serde_ignored` reports it.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Index(usize),
    Key(String),
}

fn collapse(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Index(_) => out.push_str("[]"),
            Segment::Key(key) if out.is_empty() => out.push_str(key),
            Segment::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
        }
    }
    out
}

fn segments(path: &serde_ignored::Path<'_>, out: &mut Vec<Segment>) {
    use serde_ignored::Path;
    match path {
        Path::Root => {}
        Path::Seq { parent, index } => {
            segments(parent, out);
            out.push(Segment::Index(*index));
        }
        Path::Map { parent, key } => {
            segments(parent, out);
            out.push(Segment::Key(key.clone()));
        }
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            segments(parent, out)
        }
    }
}

fn deserialize<T: DeserializeOwned>(
    file: &str,
    text: &str,
    ignored: &mut Vec<Vec<Segment>>,
) -> Result<T, ImportError> {
    let whole_file = |e: serde_json::Error| ImportError {
        file: file.to_string(),
        path: ".".into(),
        message: e.to_string(),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let mut record = |path: serde_ignored::Path<'_>| {
        let mut out = Vec::new();
        segments(&path, &mut out);
        ignored.push(out);
    };
    let value = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(&mut de, &mut record))
        .map_err(|e| match e.inner().classify() {
            serde_json::error::Category::Data => ImportError {
                file: file.to_string(),
                path: e.path().to_string(),
                message: e.inner().to_string(),
            },
            _ => whole_file(e.into_inner()),
        })?;
    de.end().map_err(whole_file)?;
    Ok(value)
}

/// Where errors are reported: the file, and the realm's index in it when it held an array.
#[derive(Clone, Copy)]
struct Scope<'a> {
    file: &'a str,
    index: Option<usize>,
}

impl Scope<'_> {
    fn error(&self, path: &str, message: impl Into<String>) -> ImportError {
        let path = match (self.index, path) {
            (None, "") => ".".to_string(),
            (None, path) => path.to_string(),
            (Some(i), "") => format!("[{i}]"),
            (Some(i), path) => format!("[{i}].{path}"),
        };
        ImportError { file: self.file.to_string(), path, message: message.into() }
    }
}

/// Role ids by name: realm roles by name, client roles by (clientId, name).
struct RoleIndex {
    realm: HashMap<String, String>,
    client: HashMap<(String, String), String>,
}

impl RoleIndex {
    fn new(roles: &[Role], clients: &[Client]) -> Self {
        let client_ids: HashMap<&str, &str> =
            clients.iter().map(|c| (c.id.as_str(), c.client_id.as_str())).collect();
        let mut index = Self { realm: HashMap::new(), client: HashMap::new() };
        for role in roles {
            if !role.client_role {
                index.realm.insert(role.name.clone(), role.id.clone());
            } else if let Some(client_id) = client_ids.get(role.container_id.as_str()) {
                index.client.insert((client_id.to_string(), role.name.clone()), role.id.clone());
            }
        }
        index
    }

    /// Ids of the named roles; names not found are returned apart, as "realm role x" or
    /// "client role app/x", for the caller's warning.
    fn resolve<'n>(
        &self,
        realm: impl IntoIterator<Item = &'n String>,
        client: impl IntoIterator<Item = (&'n String, &'n Vec<String>)>,
    ) -> (Vec<String>, Vec<String>) {
        let (mut ids, mut missing) = (Vec::new(), Vec::new());
        for name in realm {
            match self.realm.get(name) {
                Some(id) => ids.push(id.clone()),
                None => missing.push(format!("realm role {name:?}")),
            }
        }
        for (client_id, names) in client {
            for name in names {
                match self.client.get(&(client_id.clone(), name.clone())) {
                    Some(id) => ids.push(id.clone()),
                    None => missing.push(format!("client role {client_id}/{name}")),
                }
            }
        }
        let mut seen = BTreeSet::new();
        ids.retain(|id| seen.insert(id.clone()));
        (ids, missing)
    }
}

/// Refuses a second occurrence of `key`, naming both places.
fn unique(
    seen: &mut HashMap<String, String>,
    key: &str,
    path: String,
    what: &str,
    scope: &Scope<'_>,
) -> Result<(), ImportError> {
    if let Some(first) = seen.get(key) {
        return Err(scope.error(&path, format!("duplicate {what} {key:?} (also at {first})")));
    }
    seen.insert(key.to_string(), path);
    Ok(())
}

/// Another name a role is found by: (name, role id).
/// A file's required actions (the first of each alias), plus Keycloak's defaults it lacks, as
/// Keycloak's migrations add those to an older export's realm.
fn with_missing_defaults(actions: &[RequiredActionProvider]) -> Vec<RequiredActionProvider> {
    let mut kept: Vec<RequiredActionProvider> = Vec::new();
    for action in actions.iter().filter(|a| !a.alias.trim().is_empty()) {
        if !kept.iter().any(|k| k.alias == action.alias) {
            kept.push(action.clone());
        }
    }
    for default in keycloak_defaults() {
        if !kept.iter().any(|k| k.alias.eq_ignore_ascii_case(&default.alias) || k.provider_id.eq_ignore_ascii_case(&default.provider_id)) {
            kept.push(default);
        }
    }
    sort(&mut kept);
    kept
}

type Alias = (String, String);

struct Builder<'a> {
    parsed: &'a ParsedRealm,
    scope: Scope<'a>,
    realm_id: String,
    warnings: Vec<String>,
}

impl Builder<'_> {
    fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    fn clients(&mut self, ctx: &ImportContext<'_>) -> Result<Vec<Client>, ImportError> {
        let (mut by_client_id, mut by_id) = (HashMap::new(), HashMap::new());
        let mut clients = Vec::new();
        let parsed = self.parsed;
        let reps = parsed.representation.clients.as_deref().unwrap_or_default();
        for (i, rep) in reps.iter().enumerate() {
            let path = format!("clients[{i}]");
            let client_id =
                rep.client_id.clone().filter(|c| !c.trim().is_empty()).ok_or_else(|| {
                    self.scope.error(&format!("{path}.clientId"), "the clientId is missing")
                })?;
            unique(&mut by_client_id, &client_id, format!("{path}.clientId"), "clientId", &self.scope)?;
            let id = rep.id.clone().unwrap_or_else(new_id);
            unique(&mut by_id, &id, format!("{path}.id"), "client id", &self.scope)?;
            if let Some(protocol) = rep.protocol.as_deref().filter(|p| *p != "openid-connect") {
                self.warn(format!(
                    "client {client_id:?} uses protocol {protocol:?}; Portcullis speaks only openid-connect"
                ));
            }
            let public_client = rep.public_client.unwrap_or(false);
            let bearer_only = rep.bearer_only.unwrap_or(false);
            let mut client = Client {
                id,
                realm_id: self.realm_id.clone(),
                client_id,
                name: rep.name.clone(),
                enabled: rep.enabled.unwrap_or(true),
                public_client,
                bearer_only,
                secret_sealed: None,
                redirect_uris: rep.redirect_uris.clone().unwrap_or_default(),
                web_origins: rep.web_origins.clone().unwrap_or_default(),
                standard_flow_enabled: rep.standard_flow_enabled.unwrap_or(true),
                direct_access_grants_enabled: rep.direct_access_grants_enabled.unwrap_or(false),
                service_accounts_enabled: rep.service_accounts_enabled.unwrap_or(false),
                consent_required: rep.consent_required.unwrap_or(false),
                full_scope_allowed: rep.full_scope_allowed.unwrap_or(true),
                attributes: rep.attributes.clone().unwrap_or_default(),
                settings: rep.settings_over(crate::domain::ClientSettings::default()),
                created_at: ctx.now,
            };
            if let Some(kind) = rep
                .client_authenticator_type
                .as_deref()
                .filter(|k| {
                    ![crate::domain::client::CLIENT_SECRET_AUTHENTICATOR, crate::oauth::client_assertion::CLIENT_JWT, crate::oauth::client_assertion::CLIENT_SECRET_JWT]
                        .contains(k)
                })
            {
                self.warn(format!(
                    "client {:?} uses clientAuthenticatorType {kind:?}; Portcullis authenticates clients by secret \
                     (client-secret) or signed JWT (client-jwt, client-secret-jwt) only, so this client cannot authenticate",
                    client.client_id
                ));
            }
            if let Some((attribute, value)) = client.unsupported_signature_algorithm() {
                let message = crate::domain::client::unsupported_signature_message(attribute, value);
                self.warn(format!(
                    "client {:?}: {message}; tokens are signed with the realm's default algorithm instead and a \
                     signed userinfo answer is refused (server_error) until the attribute is changed",
                    client.client_id
                ));
            }
            for (j, uri) in client.redirect_uris.iter().enumerate() {
                if let Some(why) = unregistrable_redirect_uri(uri) {
                    return Err(self.scope.error(&format!("{path}.redirectUris[{j}]"), why));
                }
            }
            if let Some(why) = client.post_logout_redirect_uris().find_map(unregistrable_redirect_uri) {
                return Err(self.scope.error(&format!("{path}.attributes.post.logout.redirect.uris"), why));
            }
            if let Some((attribute, why)) = client.invalid_logout_url() {
                return Err(self.scope.error(&format!("{path}.attributes.{attribute}"), &why));
            }
            let given = rep.secret.as_ref().map(|s| s.expose()).filter(|s| !s.is_empty());
            let client_id = &client.client_id;
            let secret = match given {
                _ if public_client => None,
                Some(MASKED_SECRET) => {
                    self.warn(format!(
                        "client {client_id:?}: the secret is masked in the file; a new one was generated"
                    ));
                    Some(random_token::<32>())
                }
                Some(secret) => Some(secret.to_string()),
                None if bearer_only => None,
                None => {
                    self.warn(format!(
                        "client {client_id:?} has no secret in the file; a new one was generated"
                    ));
                    Some(random_token::<32>())
                }
            };
            client.secret_sealed = secret.map(|s| ctx.master.seal(s.as_bytes(), &client.secret_aad()));
            clients.push(client);
        }
        Ok(clients)
    }

    /// Realm and client roles with composites resolved by name. Returns also the alias to keep
    /// when the file's default role was renamed to `default-roles-{realm}`: (old name, id).
    fn roles(&mut self, clients: &[Client]) -> Result<(Vec<Role>, Option<Alias>), ImportError> {
        let parsed = self.parsed;
        let rep = &parsed.representation;
        let (mut roles, mut pending, mut ids) = (Vec::new(), Vec::new(), HashMap::new());
        let empty = Default::default();
        let groups = rep.roles.as_ref();
        let realm_group = groups.and_then(|g| g.realm.as_ref()).map(|r| ("realm".to_string(), None, r));
        let client_groups = groups.and_then(|g| g.client.as_ref()).unwrap_or(&empty);
        let client_groups = client_groups.iter().map(|(c, r)| (format!("client.{c}"), Some(c), r));
        for (group, client_id, reps) in realm_group.into_iter().chain(client_groups) {
            let container = match client_id {
                None => self.realm_id.clone(),
                Some(client_id) => match clients.iter().find(|c| &c.client_id == client_id) {
                    Some(client) => client.id.clone(),
                    None => {
                        self.warn(format!(
                            "roles.{group}: no client {client_id:?} in the file; its roles were skipped"
                        ));
                        continue;
                    }
                },
            };
            let mut names = HashMap::new();
            for (i, r) in reps.iter().enumerate() {
                let path = format!("roles.{group}[{i}]");
                let name = r.name.clone().filter(|n| !n.is_empty());
                let name = name
                    .ok_or_else(|| self.scope.error(&format!("{path}.name"), "the role name is missing"))?;
                unique(&mut names, &name, format!("{path}.name"), "role", &self.scope)?;
                let id = r.id.clone().unwrap_or_else(new_id);
                unique(&mut ids, &id, format!("{path}.id"), "role id", &self.scope)?;
                if let Some(composites) = &r.composites {
                    pending.push((roles.len(), composites));
                }
                roles.push(Role {
                    id,
                    realm_id: self.realm_id.clone(),
                    container_id: container.clone(),
                    client_role: client_id.is_some(),
                    name,
                    description: r.description.clone(),
                    composites: Vec::new(),
                    attributes: r.attributes.clone().unwrap_or_default(),
                });
            }
        }
        let index = RoleIndex::new(&roles, clients);
        for (at, composites) in pending {
            let CompositesRepresentation { realm, client } = composites;
            let (ids, missing) = index.resolve(realm.iter().flatten(), client.iter().flatten());
            for name in missing {
                self.warn(format!("role {:?}: composite {name} not found; skipped", roles[at].name));
            }
            roles[at].composites = ids;
        }
        let alias = self.adopt_default_role(&mut roles);
        Ok((roles, alias))
    }

    /// When the file's `defaultRole` has another name than `default-roles-{realm}` (a realm
    /// renamed in the file), that role becomes the default role instead of a second one.
    fn adopt_default_role(&mut self, roles: &mut [Role]) -> Option<Alias> {
        let named = self.parsed.representation.default_role.as_ref()?.name.clone()?;
        let expected = default_roles_name(&self.parsed.name);
        if named == expected || roles.iter().any(|r| !r.client_role && r.name == expected) {
            return None;
        }
        let role = roles.iter_mut().find(|r| !r.client_role && r.name == named)?;
        role.name = expected.clone();
        self.warn(format!("default role {named:?} renamed to {expected:?} to match the realm name"));
        Some((named, role.id.clone()))
    }
}

#[path = "import_users.rs"]
mod users;

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
