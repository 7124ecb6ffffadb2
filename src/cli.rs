//! The `portcullis` command line: subcommands and their flags. Setting flags are taken as text
//! and handed to `config`, which owns all validation, so a bad flag, env var or file entry gets the
//! same error naming the key.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{help, Layer};

#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about = "OAuth2 / OpenID Connect server with Keycloak's URLs and JSON")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Development server: embedded SQLite in the data dir, generated master key, admin/admin.
    StartDev {
        #[command(flatten)]
        settings: SettingFlags,
        /// Realm JSON file, or a directory of *.json files, imported at start unless it exists.
        #[arg(long = "import-realm", value_name = "FILE_OR_DIR")]
        import_realm: Vec<PathBuf>,
    },
    /// Production server: explicit database and master key.
    Start {
        #[command(flatten)]
        settings: SettingFlags,
        #[arg(long = "import-realm", value_name = "FILE_OR_DIR")]
        import_realm: Vec<PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        settings: SettingFlags,
    },
    /// Import a realm from Keycloak realm JSON (one realm, or an array of realms).
    Import {
        #[command(flatten)]
        settings: SettingFlags,
        #[arg(long, value_name = "FILE_OR_DIR")]
        file: PathBuf,
        /// Replace realms that already exist. Without it an existing realm is an error (safer than
        /// kc.sh import, which overwrites by default).
        #[arg(long = "override")]
        replace: bool,
    },
    /// Export a realm as Keycloak realm JSON to stdout or a file.
    Export {
        #[command(flatten)]
        settings: SettingFlags,
        #[arg(long)]
        realm: String,
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Key management.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// User and session helpers on the database directly (works while the server is down).
    Admin {
        #[command(subcommand)]
        action: AdminCli,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCli {
    /// Create an enabled user; the password is read from standard input with --password-stdin.
    CreateUser {
        #[command(flatten)]
        settings: SettingFlags,
        #[arg(long)]
        realm: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input (never from the command line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Print a user's live sessions as JSON (UserSessionRepresentation).
    Sessions {
        #[command(flatten)]
        settings: SettingFlags,
        #[arg(long)]
        realm: String,
        #[arg(long)]
        user: String,
    },
    /// End every online session of a user.
    Logout {
        #[command(flatten)]
        settings: SettingFlags,
        #[arg(long)]
        realm: String,
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate new active signing keys for a realm; old public keys stay in JWKS until every
    /// token they signed has expired.
    Rotate {
        #[command(flatten)]
        settings: SettingFlags,
        #[arg(long)]
        realm: String,
    },
}

/// One flag per setting of `config::KEYS`, plus the config file; `--help` shows each key's
/// description and default from `KEYS`.
#[derive(Debug, Args, Default)]
pub struct SettingFlags {
    /// TOML config file (see config/portcullis.toml).
    #[arg(long, env = "PORTCULLIS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, help = help("http-host"))]
    pub http_host: Option<String>,
    #[arg(long, help = help("http-port"))]
    pub http_port: Option<String>,
    #[arg(long, help = help("hostname"))]
    pub hostname: Option<String>,
    #[arg(long, help = help("hostname-strict"))]
    pub hostname_strict: Option<String>,
    #[arg(long, help = help("proxy-headers"))]
    pub proxy_headers: Option<String>,
    #[arg(long, help = help("https-certificate-file"))]
    pub https_certificate_file: Option<String>,
    #[arg(long, help = help("https-certificate-key-file"))]
    pub https_certificate_key_file: Option<String>,
    #[arg(long, help = help("http-header-read-timeout"))]
    pub http_header_read_timeout: Option<String>,
    #[arg(long, help = help("http-idle-timeout"))]
    pub http_idle_timeout: Option<String>,
    #[arg(long, help = help("http-max-connections"))]
    pub http_max_connections: Option<String>,
    #[arg(long, help = help("log-format"))]
    pub log_format: Option<String>,
    #[arg(long, help = help("log-level"))]
    pub log_level: Option<String>,
    #[arg(long, help = help("db-url"))]
    pub db_url: Option<String>,
    #[arg(long, help = help("db-pool-size"))]
    pub db_pool_size: Option<String>,
    #[arg(long, help = help("db-acquire-timeout"))]
    pub db_acquire_timeout: Option<String>,
    #[arg(long, help = help("request-timeout"))]
    pub request_timeout: Option<String>,
    #[arg(long, help = help("data-dir"))]
    pub data_dir: Option<String>,
    #[arg(long, help = help("master-key-file"))]
    pub master_key_file: Option<String>,
    #[arg(long, help = help("event-retention"))]
    pub event_retention: Option<String>,
    #[arg(long, help = help("cleanup-interval"))]
    pub cleanup_interval: Option<String>,
    #[arg(long, help = help("shutdown-timeout"))]
    pub shutdown_timeout: Option<String>,
    #[arg(long, help = help("rate-limit-token-per-client"))]
    pub rate_limit_token_per_client: Option<String>,
    #[arg(long, help = help("rate-limit-token-per-ip"))]
    pub rate_limit_token_per_ip: Option<String>,
    #[arg(long, help = help("rate-limit-login-per-ip"))]
    pub rate_limit_login_per_ip: Option<String>,
    #[arg(long, help = help("rate-limit-device-code-per-ip"))]
    pub rate_limit_device_code_per_ip: Option<String>,
    #[arg(long, help = help("rate-limit-password-failures-per-ip"))]
    pub rate_limit_password_failures_per_ip: Option<String>,
    #[arg(long, help = help("password-hash-queue"))]
    pub password_hash_queue: Option<String>,
}

impl SettingFlags {
    /// The flags given, as a settings layer. Secrets (master key, admin password) have no flag:
    /// command lines are visible to every user of the machine.
    pub fn layer(&self) -> Layer {
        let pairs = [
            ("http-host", &self.http_host),
            ("http-port", &self.http_port),
            ("hostname", &self.hostname),
            ("hostname-strict", &self.hostname_strict),
            ("proxy-headers", &self.proxy_headers),
            ("https-certificate-file", &self.https_certificate_file),
            ("https-certificate-key-file", &self.https_certificate_key_file),
            ("http-header-read-timeout", &self.http_header_read_timeout),
            ("http-idle-timeout", &self.http_idle_timeout),
            ("http-max-connections", &self.http_max_connections),
            ("log-format", &self.log_format),
            ("log-level", &self.log_level),
            ("db-url", &self.db_url),
            ("db-pool-size", &self.db_pool_size),
            ("db-acquire-timeout", &self.db_acquire_timeout),
            ("request-timeout", &self.request_timeout),
            ("data-dir", &self.data_dir),
            ("master-key-file", &self.master_key_file),
            ("event-retention", &self.event_retention),
            ("cleanup-interval", &self.cleanup_interval),
            ("shutdown-timeout", &self.shutdown_timeout),
            ("rate-limit-token-per-client", &self.rate_limit_token_per_client),
            ("rate-limit-token-per-ip", &self.rate_limit_token_per_ip),
            ("rate-limit-login-per-ip", &self.rate_limit_login_per_ip),
            ("rate-limit-device-code-per-ip", &self.rate_limit_device_code_per_ip),
            ("rate-limit-password-failures-per-ip", &self.rate_limit_password_failures_per_ip),
            ("password-hash-queue", &self.password_hash_queue),
        ];
        pairs
            .into_iter()
            .filter_map(|(key, value)| value.as_ref().map(|v| (key.to_string(), v.clone())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::config::KEYS;

    /// Secrets have no flag on purpose (see `SettingFlags::layer`).
    const NO_FLAG: &[&str] = &["master-key", "bootstrap-admin-username", "bootstrap-admin-password"];

    #[test]
    fn every_setting_but_the_secrets_is_a_flag_whose_help_comes_from_keys() {
        let command = Cli::command();
        let start = command.find_subcommand("start").expect("start exists");
        let flags: Vec<_> = start.get_arguments().filter_map(|a| Some((a.get_long()?, a))).collect();
        for key in KEYS.iter().filter(|k| !NO_FLAG.contains(&k.name)) {
            let (_, arg) = flags.iter().find(|(long, _)| *long == key.name).unwrap_or_else(|| panic!("no --{}", key.name));
            let shown = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(shown.starts_with(key.help) && shown.contains(key.default), "--{}: {shown}", key.name);
        }
        for (long, _) in flags.iter().filter(|(long, _)| !matches!(*long, "config" | "import-realm")) {
            assert!(KEYS.iter().any(|k| k.name == *long), "--{long} is not in config::KEYS");
        }
    }
}
