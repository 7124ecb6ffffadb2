//! Layered settings: the TOML file named by `--config`, then `PORTCULLIS_*` environment variables,
//! then command-line flags, each overriding the one before. Every value is parsed and checked
//! here, before anything binds or connects; a bad one is a [`ConfigError`] naming the key and the
//! value, and the process exits with status 2.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::crypto::SecretString;
use crate::ops::rate_limit::Rate;

/// One setting: its key (file and flag name), what it means and its default, shown in
/// `config/portcullis.toml` and README.md.
pub struct Key {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// Every setting. The env variable is `PORTCULLIS_` + the name upper-cased with `_` for `-`.
pub const KEYS: &[Key] = &[
    Key { name: "http-host", default: "0.0.0.0 (start-dev: 127.0.0.1)", help: "address to bind" },
    Key { name: "http-port", default: "8080", help: "port to bind (0 picks a free one)" },
    Key { name: "hostname", default: "(from the request)", help: "public base URL, e.g. https://auth.example.com; fixes the issuer" },
    Key { name: "hostname-strict", default: "true (start-dev: false)", help: "refuse to start without hostname, as Keycloak's production mode does: otherwise each request's Host header chooses the issuer and every URL in discovery; false allows it (behind a proxy you control)" },
    Key { name: "proxy-headers", default: "none", help: "trust Forwarded (forwarded) or X-Forwarded-* (xforwarded) headers from a reverse proxy" },
    Key { name: "https-certificate-file", default: "(none)", help: "PEM certificate chain; with the key file, serve HTTPS" },
    Key { name: "https-certificate-key-file", default: "(none)", help: "PEM private key for the certificate" },
    Key { name: "http-header-read-timeout", default: "10", help: "seconds a new connection gets for its TLS handshake and first request headers before it is closed; bounds slow-header (slowloris) clients, which would otherwise hold a connection forever" },
    Key { name: "http-idle-timeout", default: "75", help: "seconds a keep-alive connection may sit with no request in flight before it is closed; longer than the 60 s idle timeout of common proxies and load balancers, so they never reuse a connection we are closing" },
    Key { name: "http-max-connections", default: "4096", help: "most connections open at once (each costs a file descriptor and memory; lowered at start to fit the open-file limit); past it new connections wait in the kernel's backlog and idle keep-alive connections are closed to make room" },
    Key { name: "log-format", default: "text", help: "text or json" },
    Key { name: "log-level", default: "info", help: "tracing filter, e.g. info or portcullis=debug" },
    Key { name: "db-url", default: "sqlite://<data-dir>/portcullis.db (start-dev only)", help: "postgres://... or sqlite://..." },
    Key { name: "db-pool-size", default: "10", help: "maximum database connections" },
    Key { name: "db-acquire-timeout", default: "5", help: "seconds a request waits for a database connection before failing with 503" },
    Key { name: "request-timeout", default: "10", help: "seconds a request may run before it is dropped and answered 503 (a hung database); 0 disables" },
    Key { name: "data-dir", default: "./data", help: "where start-dev keeps its SQLite database and master key" },
    Key { name: "master-key", default: "(none; start-dev generates <data-dir>/master.key)", help: "base64 of 32 random bytes; encrypts private keys and client secrets at rest" },
    Key { name: "master-key-file", default: "(none)", help: "file holding the master key" },
    Key { name: "bootstrap-admin-username", default: "admin (start-dev only)", help: "admin user created with realm master on first start" },
    Key { name: "bootstrap-admin-password", default: "admin (start-dev only)", help: "its password; start refuses 'admin'" },
    Key { name: "event-retention", default: "604800", help: "seconds events are kept" },
    Key { name: "cleanup-interval", default: "300", help: "seconds between background deletions of expired rows" },
    Key { name: "shutdown-timeout", default: "20", help: "seconds in-flight requests get to finish on SIGTERM" },
    Key { name: "rate-limit-token-per-client", default: "50,500", help: "failed token endpoint requests (4xx) per second[,burst] per client_id and node before its requests get 429; successes never count; 0 disables" },
    Key { name: "rate-limit-token-per-ip", default: "20,200", help: "failed token endpoint requests (4xx) per second[,burst] per client IP and node before its requests get 429; successes never count; 0 disables" },
    Key { name: "rate-limit-login-per-ip", default: "10,30", help: "login form posts per second[,burst] per client IP and node; 0 disables" },
    Key { name: "rate-limit-device-code-per-ip", default: "0.1,10", help: "wrong user codes on the device page per second[,burst] per client IP and node before it answers 429; 0 disables" },
    Key { name: "rate-limit-password-failures-per-ip", default: "2,30", help: "failed password checks (login form and password grant) per second[,burst] per client IP and node before further attempts from it get 429 without hashing; successful logins do not count; 0 disables" },
    Key { name: "password-hash-queue", default: "32", help: "password checks that may wait for a free core beyond those running; further logins get 503 with Retry-After at once" },
];

/// A day: anything longer is a typo (milliseconds?), not a time limit.
const MAX_REQUEST_TIMEOUT_SECS: u64 = 86_400;
/// Far above what one process can hold open; a larger cap is a typo.
const MAX_HTTP_CONNECTIONS: usize = 1_000_000;
/// Keycloak's start-up error, word for word, so that searching for it finds both servers' docs.
pub const HOSTNAME_NOT_CONFIGURED: &str =
    "hostname is not configured; either configure hostname, or set hostname-strict to false";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("invalid value {value:?} for setting '{key}': {reason}")]
    Invalid { key: String, value: String, reason: String },
    #[error("setting '{key}' is required: {reason}")]
    Missing { key: String, reason: String },
    #[error("unknown setting '{key}' in {source_name}")]
    Unknown { key: String, source_name: String },
    #[error("cannot read config file {path}: {reason}")]
    File { path: String, reason: String },
}

fn invalid(key: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), value: value.into(), reason: reason.into() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `start-dev`: SQLite in the data dir, generated master key, default admin allowed.
    Dev,
    /// `start`: explicit database and master key, no default admin password.
    Production,
    /// `migrate`, `import`, `export`, `keys`: talk to the database, serve nothing.
    Tool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeaders {
    None,
    Forwarded,
    XForwarded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub enum MasterKeySource {
    Value(SecretString),
    File(PathBuf),
    /// Created in the data dir when missing (start-dev and tools on the dev database).
    DataDir(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub http_host: IpAddr,
    pub http_port: u16,
    /// Public base URL without a trailing slash.
    pub hostname: Option<String>,
    /// Whether serving without `hostname` is refused (checked in `resolve`).
    pub hostname_strict: bool,
    pub proxy_headers: ProxyHeaders,
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Connection deadlines and cap of `crate::http::serve`.
    pub http_header_read_timeout: Duration,
    pub http_idle_timeout: Duration,
    pub http_max_connections: usize,
    pub log_format: LogFormat,
    pub log_level: String,
    pub db_url: String,
    pub db_pool_size: u32,
    /// Seconds to wait for a pooled connection (or a reconnect while the database is down).
    pub db_acquire_timeout: u64,
    /// How long a request may run before it is dropped and answered 503; `None` when disabled.
    pub request_timeout: Option<Duration>,
    pub data_dir: PathBuf,
    /// `None` only for tools on an explicit database that need no key (`migrate`).
    pub master_key: Option<MasterKeySource>,
    pub bootstrap_admin: Option<(String, SecretString)>,
    pub event_retention: i64,
    pub cleanup_interval: u64,
    pub shutdown_timeout: u64,
    /// Token buckets of `crate::ops::rate_limit`; `None` when disabled.
    pub rate_limit_token_per_client: Option<Rate>,
    pub rate_limit_token_per_ip: Option<Rate>,
    pub rate_limit_login_per_ip: Option<Rate>,
    /// Wrong user codes on the device page (RFC 8628 §5.1: bounds guessing a user code).
    pub rate_limit_device_code_per_ip: Option<Rate>,
    /// Failed password verifications per client address (`crypto::password`); `None` when disabled.
    pub rate_limit_password_failures_per_ip: Option<Rate>,
    /// Login verifications that may queue beyond the running ones.
    pub password_hash_queue: usize,
}

/// Raw `key -> value` pairs from one layer.
pub type Layer = BTreeMap<String, String>;

/// Reads a TOML file of `key = value` lines; unknown keys are errors so typos do not pass silently.
pub fn file_layer(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::File { path: path.display().to_string(), reason: e.to_string() })?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::File { path: path.display().to_string(), reason: e.to_string() })?;
    let mut layer = Layer::new();
    for (key, value) in table {
        if !KEYS.iter().any(|k| k.name == key) {
            return Err(ConfigError::Unknown { key, source_name: path.display().to_string() });
        }
        let text = match value {
            toml::Value::String(s) => s,
            other => other.to_string(),
        };
        layer.insert(key, text);
    }
    Ok(layer)
}

/// `PORTCULLIS_*` variables for every known key.
pub fn env_layer(vars: impl IntoIterator<Item = (String, String)>) -> Layer {
    let by_env: BTreeMap<String, &str> = KEYS
        .iter()
        .map(|k| (format!("PORTCULLIS_{}", k.name.to_uppercase().replace('-', "_")), k.name))
        .collect();
    vars.into_iter()
        .filter_map(|(name, value)| by_env.get(&name).map(|key| (key.to_string(), value)))
        .collect()
}

impl Settings {
    /// Merges the layers (later wins) and validates the result for `mode`.
    pub fn resolve(mode: Mode, layers: &[Layer]) -> Result<Self, ConfigError> {
        let mut merged = Layer::new();
        for layer in layers {
            merged.extend(layer.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let get = |key: &str| merged.get(key).map(String::as_str).filter(|v| !v.is_empty());

        let http_host = match get("http-host") {
            Some(v) => v.parse().map_err(|_| invalid("http-host", v, "not an IP address"))?,
            None if mode == Mode::Dev => IpAddr::from([127, 0, 0, 1]),
            None => IpAddr::from([0, 0, 0, 0]),
        };
        let http_port = parse_num::<u16>(get("http-port"), "http-port", 8080)?;
        let hostname = get("hostname").map(|v| parse_hostname(v)).transpose()?;
        let hostname_strict = match get("hostname-strict") {
            None => mode == Mode::Production,
            Some("true") => true,
            Some("false") => false,
            Some(v) => return Err(invalid("hostname-strict", v, "expected true or false")),
        };
        let proxy_headers = match get("proxy-headers") {
            None | Some("none") => ProxyHeaders::None,
            Some("forwarded") => ProxyHeaders::Forwarded,
            Some("xforwarded") => ProxyHeaders::XForwarded,
            Some(v) => return Err(invalid("proxy-headers", v, "expected forwarded, xforwarded or none")),
        };
        let tls = match (get("https-certificate-file"), get("https-certificate-key-file")) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                for (name, path) in [("https-certificate-file", cert), ("https-certificate-key-file", key)] {
                    if !Path::new(path).is_file() {
                        return Err(invalid(name, path, "file does not exist"));
                    }
                }
                Some((PathBuf::from(cert), PathBuf::from(key)))
            }
            (Some(_), None) => {
                return Err(ConfigError::Missing {
                    key: "https-certificate-key-file".into(),
                    reason: "https-certificate-file is set".into(),
                })
            }
            (None, Some(_)) => {
                return Err(ConfigError::Missing {
                    key: "https-certificate-file".into(),
                    reason: "https-certificate-key-file is set".into(),
                })
            }
        };
        let http_header_read_timeout = parse_seconds(get("http-header-read-timeout"), "http-header-read-timeout", 10)?;
        let http_idle_timeout = parse_seconds(get("http-idle-timeout"), "http-idle-timeout", 75)?;
        let http_max_connections = parse_num::<usize>(get("http-max-connections"), "http-max-connections", 4096)?;
        if !(1..=MAX_HTTP_CONNECTIONS).contains(&http_max_connections) {
            let reason = format!("must be between 1 and {MAX_HTTP_CONNECTIONS}");
            return Err(invalid("http-max-connections", &http_max_connections.to_string(), reason));
        }
        let log_format = match get("log-format") {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(v) => return Err(invalid("log-format", v, "expected text or json")),
        };
        let log_level = get("log-level").unwrap_or("info").to_string();
        tracing_subscriber::EnvFilter::try_new(&log_level)
            .map_err(|e| invalid("log-level", &log_level, e.to_string()))?;
        let data_dir = PathBuf::from(get("data-dir").unwrap_or("./data"));
        let explicit_db = get("db-url");
        let db_url = match explicit_db {
            Some(url) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite:")) {
                    return Err(invalid("db-url", &crate::store::redact_url(url), "expected postgres://... or sqlite://..."));
                }
                url.to_string()
            }
            None if mode == Mode::Production => {
                return Err(ConfigError::Missing { key: "db-url".into(), reason: "start needs an explicit database".into() })
            }
            None => format!("sqlite://{}/portcullis.db", data_dir.display()),
        };
        let db_pool_size = parse_num::<u32>(get("db-pool-size"), "db-pool-size", 10)?;
        if db_pool_size == 0 {
            return Err(invalid("db-pool-size", "0", "must be at least 1"));
        }
        let db_acquire_timeout = parse_num::<u64>(get("db-acquire-timeout"), "db-acquire-timeout", 5)?;
        if db_acquire_timeout == 0 {
            return Err(invalid("db-acquire-timeout", "0", "must be at least 1"));
        }
        let request_timeout = match parse_num::<u64>(get("request-timeout"), "request-timeout", 10)? {
            0 => None,
            seconds if seconds > MAX_REQUEST_TIMEOUT_SECS => {
                return Err(invalid("request-timeout", &seconds.to_string(), format!("must be at most {MAX_REQUEST_TIMEOUT_SECS} (0 disables it)")))
            }
            seconds => Some(Duration::from_secs(seconds)),
        };
        let master_key = match (get("master-key"), get("master-key-file")) {
            (Some(v), _) => {
                crate::crypto::MasterKey::from_base64(v)
                    .map_err(|e| invalid("master-key", "***", e.to_string()))?;
                Some(MasterKeySource::Value(SecretString::new(v)))
            }
            (None, Some(path)) => Some(MasterKeySource::File(PathBuf::from(path))),
            (None, None) if mode == Mode::Dev || explicit_db.is_none() => {
                Some(MasterKeySource::DataDir(data_dir.join("master.key")))
            }
            (None, None) if mode == Mode::Tool => None,
            (None, None) => {
                return Err(ConfigError::Missing {
                    key: "master-key".into(),
                    reason: "an explicit database needs an explicit master key (or master-key-file)".into(),
                })
            }
        };
        let bootstrap_admin = match (get("bootstrap-admin-username"), get("bootstrap-admin-password")) {
            (user, Some(password)) => {
                if mode == Mode::Production && password == "admin" {
                    return Err(invalid("bootstrap-admin-password", "***", "the default password 'admin' is refused by start"));
                }
                Some((user.unwrap_or("admin").to_string(), SecretString::new(password)))
            }
            (Some(_), None) if mode == Mode::Production => {
                return Err(ConfigError::Missing {
                    key: "bootstrap-admin-password".into(),
                    reason: "bootstrap-admin-username is set".into(),
                })
            }
            (user, None) if mode == Mode::Dev => {
                Some((user.unwrap_or("admin").to_string(), SecretString::new("admin")))
            }
            _ => None,
        };
        // Last, so that a missing database or master key is reported first. Tools serve nothing.
        if hostname_strict && hostname.is_none() && mode != Mode::Tool {
            return Err(ConfigError::Missing { key: "hostname".into(), reason: HOSTNAME_NOT_CONFIGURED.into() });
        }
        Ok(Settings {
            mode,
            http_host,
            http_port,
            hostname,
            hostname_strict,
            proxy_headers,
            tls,
            http_header_read_timeout,
            http_idle_timeout,
            http_max_connections,
            log_format,
            log_level,
            db_url,
            db_pool_size,
            db_acquire_timeout,
            request_timeout,
            data_dir,
            master_key,
            bootstrap_admin,
            event_retention: parse_num::<i64>(get("event-retention"), "event-retention", 604_800)?,
            cleanup_interval: parse_num::<u64>(get("cleanup-interval"), "cleanup-interval", 300)?.max(1),
            shutdown_timeout: parse_num::<u64>(get("shutdown-timeout"), "shutdown-timeout", 20)?,
            rate_limit_token_per_client: parse_rate(get("rate-limit-token-per-client"), "rate-limit-token-per-client", "50,500")?,
            rate_limit_token_per_ip: parse_rate(get("rate-limit-token-per-ip"), "rate-limit-token-per-ip", "20,200")?,
            rate_limit_login_per_ip: parse_rate(get("rate-limit-login-per-ip"), "rate-limit-login-per-ip", "10,30")?,
            rate_limit_device_code_per_ip: parse_rate(get("rate-limit-device-code-per-ip"), "rate-limit-device-code-per-ip", "0.1,10")?,
            rate_limit_password_failures_per_ip: parse_rate(
                get("rate-limit-password-failures-per-ip"),
                "rate-limit-password-failures-per-ip",
                "2,30",
            )?,
            password_hash_queue: parse_num::<usize>(get("password-hash-queue"), "password-hash-queue", 32)?,
        })
    }

    /// Whether the admin password is the development default (start-dev warns loudly).
    pub fn uses_default_admin_password(&self) -> bool {
        self.bootstrap_admin.as_ref().is_some_and(|(_, p)| p.expose() == "admin")
    }
}

fn parse_num<T: std::str::FromStr>(value: Option<&str>, key: &str, default: T) -> Result<T, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| invalid(key, v, "not a valid non-negative number in range")),
    }
}

/// A time limit in whole seconds: at least 1 (a zero deadline would close every connection at
/// once), at most a day.
fn parse_seconds(value: Option<&str>, key: &str, default: u64) -> Result<Duration, ConfigError> {
    let seconds = parse_num::<u64>(value, key, default)?;
    if !(1..=MAX_REQUEST_TIMEOUT_SECS).contains(&seconds) {
        return Err(invalid(key, &seconds.to_string(), format!("must be between 1 and {MAX_REQUEST_TIMEOUT_SECS} seconds")));
    }
    Ok(Duration::from_secs(seconds))
}

/// The `--help` line of a setting: its meaning and default from [`KEYS`].
pub fn help(name: &str) -> String {
    KEYS.iter().find(|k| k.name == name).map(|k| format!("{} [default: {}]", k.help, k.default)).unwrap_or_default()
}

fn parse_rate(value: Option<&str>, key: &str, default: &str) -> Result<Option<Rate>, ConfigError> {
    let value = value.unwrap_or(default);
    Rate::parse(value).map_err(|reason| invalid(key, value, reason))
}

fn parse_hostname(value: &str) -> Result<String, ConfigError> {
    let trimmed = value.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| invalid("hostname", value, "expected a URL such as https://auth.example.com"))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) || rest.contains(['?', '#']) {
        return Err(invalid("hostname", value, "expected a URL such as https://auth.example.com"));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(pairs: &[(&str, &str)]) -> Layer {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn later_layers_override_earlier_ones() {
        let file = layer(&[("http-port", "9000"), ("log-format", "json")]);
        let env = layer(&[("http-port", "9001")]);
        let flags = layer(&[("http-port", "9002")]);
        let s = Settings::resolve(Mode::Dev, &[file, env, flags]).unwrap();
        assert_eq!(s.http_port, 9002);
        assert_eq!(s.log_format, LogFormat::Json);
    }

    #[test]
    fn a_bad_value_names_its_key_and_value() {
        let err = Settings::resolve(Mode::Dev, &[layer(&[("http-port", "eighty")])]).unwrap_err();
        assert!(err.to_string().contains("'http-port'"), "{err}");
        assert!(err.to_string().contains("eighty"), "{err}");
    }

    #[test]
    fn production_needs_a_database_and_a_master_key() {
        let err = Settings::resolve(Mode::Production, &[]).unwrap_err();
        assert!(matches!(err, ConfigError::Missing { ref key, .. } if key == "db-url"));
        let err = Settings::resolve(Mode::Production, &[layer(&[("db-url", "postgres://x/y")])]).unwrap_err();
        assert!(matches!(err, ConfigError::Missing { ref key, .. } if key == "master-key"));
    }

    #[test]
    fn production_refuses_the_default_admin_password() {
        let key = crate::crypto::MasterKey::generate().to_base64();
        let l = layer(&[("db-url", "sqlite://x.db"), ("master-key", &key), ("bootstrap-admin-password", "admin")]);
        let err = Settings::resolve(Mode::Production, &[l]).unwrap_err();
        assert!(err.to_string().contains("bootstrap-admin-password"));
    }

    #[test]
    fn rate_limits_are_on_by_default_and_zero_turns_one_off() {
        let s = Settings::resolve(Mode::Dev, &[]).unwrap();
        assert_eq!(s.rate_limit_login_per_ip, Some(Rate { per_second: 10.0, burst: 30 }));
        assert!(s.rate_limit_token_per_client.is_some() && s.rate_limit_token_per_ip.is_some());
        let s = Settings::resolve(Mode::Dev, &[layer(&[("rate-limit-token-per-ip", "0"), ("rate-limit-login-per-ip", "0.5,2")])]).unwrap();
        assert_eq!(s.rate_limit_token_per_ip, None);
        assert_eq!(s.rate_limit_login_per_ip, Some(Rate { per_second: 0.5, burst: 2 }));
        let err = Settings::resolve(Mode::Dev, &[layer(&[("rate-limit-token-per-client", "fast")])]).unwrap_err();
        assert!(err.to_string().contains("'rate-limit-token-per-client'"), "{err}");
    }

    #[test]
    fn the_request_timeout_defaults_to_ten_seconds_and_zero_turns_it_off() {
        assert_eq!(Settings::resolve(Mode::Dev, &[]).unwrap().request_timeout, Some(Duration::from_secs(10)));
        let s = Settings::resolve(Mode::Dev, &[layer(&[("request-timeout", "0")])]).unwrap();
        assert_eq!(s.request_timeout, None);
        let s = Settings::resolve(Mode::Dev, &[env_layer(vec![("PORTCULLIS_REQUEST_TIMEOUT".into(), "3".into())])]).unwrap();
        assert_eq!(s.request_timeout, Some(Duration::from_secs(3)));
        for bad in ["-1", "soon", "86401"] {
            let err = Settings::resolve(Mode::Dev, &[layer(&[("request-timeout", bad)])]).unwrap_err();
            assert!(err.to_string().contains("'request-timeout'"), "{err}");
        }
    }

    #[test]
    fn start_needs_a_hostname_unless_told_not_to_be_strict_and_start_dev_does_not() {
        let key = crate::crypto::MasterKey::generate().to_base64();
        let base = [("db-url", "sqlite://x.db"), ("master-key", key.as_str())];
        let err = Settings::resolve(Mode::Production, &[layer(&base)]).unwrap_err();
        assert_eq!(err, ConfigError::Missing { key: "hostname".into(), reason: HOSTNAME_NOT_CONFIGURED.into() });
        let lax = Settings::resolve(Mode::Production, &[layer(&base), layer(&[("hostname-strict", "false")])]).unwrap();
        assert!(!lax.hostname_strict && lax.hostname.is_none());
        let fixed = Settings::resolve(Mode::Production, &[layer(&base), layer(&[("hostname", "https://a.example")])]).unwrap();
        assert!(fixed.hostname_strict);
        assert!(!Settings::resolve(Mode::Dev, &[]).unwrap().hostname_strict);
        assert!(Settings::resolve(Mode::Tool, &[layer(&base)]).is_ok(), "tools serve nothing");
        let err = Settings::resolve(Mode::Dev, &[layer(&[("hostname-strict", "yes")])]).unwrap_err();
        assert!(err.to_string().contains("'hostname-strict'"), "{err}");
    }

    #[test]
    fn connection_limits_have_defaults_and_refuse_zero() {
        let s = Settings::resolve(Mode::Dev, &[]).unwrap();
        assert_eq!(s.http_header_read_timeout, Duration::from_secs(10));
        assert_eq!(s.http_idle_timeout, Duration::from_secs(75));
        assert_eq!(s.http_max_connections, 4096);
        for (key, bad) in [("http-header-read-timeout", "0"), ("http-idle-timeout", "86401"), ("http-max-connections", "0")] {
            let err = Settings::resolve(Mode::Dev, &[layer(&[(key, bad)])]).unwrap_err();
            assert!(err.to_string().contains(&format!("'{key}'")), "{err}");
        }
    }

    #[test]
    fn env_names_map_to_keys() {
        let env = env_layer(vec![
            ("PORTCULLIS_DB_POOL_SIZE".to_string(), "4".to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ]);
        assert_eq!(env, layer(&[("db-pool-size", "4")]));
    }
}
