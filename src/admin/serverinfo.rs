//! `GET /admin/serverinfo` and the console's `GET /admin/{realm}/console/whoami`, in
//! Keycloak's shapes (ServerInfoRepresentation, WhoAmI) but truthful: only the protocols, key
//! providers, hashing algorithms, features and themes Portcullis has. `systemInfo` names
//! Portcullis and its host instead of a JVM; `memoryInfo` is this process's resident memory
//! against the host's total (Keycloak reports its JVM heap).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{AdminContext, AdminError};
use crate::clock::UnixTime;
use crate::domain::SignatureAlgorithm;

/// The server's start, for `systemInfo.uptime`.
static STARTED: std::sync::OnceLock<(std::time::Instant, UnixTime)> = std::sync::OnceLock::new();

/// Notes the start time (called when the admin router is built; later calls change nothing).
pub fn mark_started(now: UnixTime) {
    let _ = STARTED.set((std::time::Instant::now(), now));
}

fn uptime(now: UnixTime) -> (String, u128) {
    let (since, _) = *STARTED.get_or_init(|| (std::time::Instant::now(), now));
    let elapsed = since.elapsed();
    let s = elapsed.as_secs();
    let text = format!("{} days, {} hours, {} minutes, {} seconds", s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    (text, elapsed.as_millis())
}

/// `(key, kilobytes)` of a `/proc` file in `key: value kB` lines; Linux only, else none.
fn proc_kb(file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn formatted(bytes: u64) -> String {
    format!("{} MB", bytes / 1_048_576)
}

fn provider_map(names: &[&str]) -> Value {
    let providers: BTreeMap<&str, Value> = names.iter().map(|n| (*n, json!({ "order": 0 }))).collect();
    json!({ "internal": true, "providers": providers })
}

pub async fn serverinfo(ctx: &AdminContext<'_>) -> Result<Value, AdminError> {
    if !ctx.caller.is_admin() {
        return Err(AdminError::Forbidden);
    }
    let (uptime, uptime_millis) = uptime(ctx.now);
    let total = proc_kb("/proc/meminfo", "MemTotal:").unwrap_or(0) * 1024;
    let used = proc_kb("/proc/self/status", "VmRSS:").unwrap_or(0) * 1024;
    let free = total.saturating_sub(used);
    let percent = if total > 0 { free * 100 / total } else { 0 };
    let server_time = time::OffsetDateTime::from_unix_timestamp(ctx.now)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let algorithms: Vec<&str> = SignatureAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    let theme = |name: &str| json!([{ "name": name, "locales": ["en"] }]);
    Ok(json!({
        "systemInfo": {
            "version": env!("CARGO_PKG_VERSION"),
            "serverTime": server_time,
            "uptime": uptime,
            "uptimeMillis": uptime_millis,
            "osName": std::env::consts::OS,
            "osArchitecture": std::env::consts::ARCH,
            "fileEncoding": "UTF-8",
            "userTimezone": "UTC",
            "userLocale": "en",
        },
        "memoryInfo": {
            "total": total, "totalFormated": formatted(total),
            "used": used, "usedFormated": formatted(used),
            "free": free, "freeFormated": formatted(free),
            "freePercentage": percent,
        },
        "cpuInfo": { "processorCount": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) },
        "profileInfo": { "name": "community", "disabledFeatures": [], "previewFeatures": [], "experimentalFeatures": [] },
        "features": [
            { "name": "ADMIN_API", "label": "Admin API", "type": "DEFAULT", "enabled": true, "dependencies": [] },
            { "name": "DEVICE_FLOW", "label": "OAuth 2.0 Device Authorization Grant", "type": "DEFAULT", "enabled": true, "dependencies": [] },
            { "name": "DPOP", "label": "OAuth 2.0 Demonstrating Proof-of-Possession at the Application Layer", "type": "DEFAULT", "enabled": true, "dependencies": [] },
            { "name": "TOKEN_EXCHANGE", "label": "Token Exchange", "type": "PREVIEW", "enabled": false, "dependencies": [] },
            { "name": "TOKEN_EXCHANGE_STANDARD_V2", "label": "Standard Token Exchange version 2", "type": "DEFAULT", "enabled": true, "dependencies": [] },
            { "name": "AUTHORIZATION", "label": "Authorization Services", "type": "DEFAULT", "enabled": false, "dependencies": [] },
            { "name": "ORGANIZATION", "label": "Organizations", "type": "DEFAULT", "enabled": false, "dependencies": [] },
        ],
        "themes": { "login": theme("portcullis"), "account": theme("portcullis"), "admin": [], "email": [], "welcome": [], "common": [] },
        "socialProviders": [],
        "identityProviders": [],
        "providers": {
            "login-protocol": provider_map(&["openid-connect"]),
            "keys": provider_map(&["rsa-generated", "ecdsa-generated", "eddsa-generated", "hmac-generated"]),
            "password-hashing": provider_map(&["argon2", "pbkdf2-sha256", "pbkdf2-sha512", "pbkdf2"]),
            "eventsListener": provider_map(&["jboss-logging"]),
            "eventsStore": provider_map(&["jpa"]),
        },
        "protocolMapperTypes": { "openid-connect": [] },
        "builtinProtocolMappers": { "openid-connect": [] },
        "clientInstallations": { "openid-connect": [] },
        "componentTypes": {},
        "passwordPolicies": [],
        "enums": {
            "sslRequired": ["all", "external", "none"],
            "bruteForceStrategy": ["LINEAR", "MULTIPLE"],
            "operationType": ["CREATE", "UPDATE", "DELETE", "ACTION"],
        },
        "cryptoInfo": {
            "cryptoProvider": "aws-lc-rs",
            "supportedKeystoreTypes": [],
            "clientSignatureSymmetricAlgorithms": ["HS256"],
            "clientSignatureAsymmetricAlgorithms": algorithms,
        },
    }))
}

/// The console's whoami for a caller logged in to `realm`: Keycloak's WhoAmI. A token of
/// another realm is refused (the console of realm R is for R's users).
pub async fn whoami(ctx: &AdminContext<'_>, realm: &str) -> Result<Value, AdminError> {
    if realm != ctx.caller.realm_name {
        return Err(AdminError::Forbidden);
    }
    let user = ctx
        .store
        .user_by_id(&ctx.caller.realm_id, &ctx.caller.user_id)
        .await?
        .ok_or_else(|| AdminError::not_found("User not found"))?;
    let display = match (&user.first_name, &user.last_name) {
        (Some(first), Some(last)) => format!("{first} {last}"),
        (Some(name), None) | (None, Some(name)) => name.clone(),
        (None, None) => user.username.clone(),
    };
    let mut access = serde_json::Map::new();
    for r in ctx.store.list_realms().await? {
        let roles = ctx.caller.admin_roles_in(&r.name);
        if !roles.is_empty() {
            access.insert(r.name.clone(), json!(roles));
        }
    }
    Ok(json!({
        "userId": user.id,
        "realm": realm,
        "displayName": display,
        "locale": "en",
        "createRealm": ctx.caller.may_create_realm(),
        "realm_access": access,
        "temporary": false,
    }))
}
