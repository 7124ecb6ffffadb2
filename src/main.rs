//! `portcullis`: parse the command line, resolve settings (exit 2 on a bad one), set up tracing,
//! then run the subcommand.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use portcullis::app::{self, App};
use portcullis::admin::cli::AdminCommand;
use portcullis::cli::{AdminCli, Cli, Command, KeysCommand, SettingFlags};
use portcullis::clock::{Clock, SystemClock};
use portcullis::config::{env_layer, file_layer, ConfigError, Mode, Settings};
use portcullis::crypto::password::PasswordHasher;
use portcullis::ops;
use portcullis::realm::service::{self, OnExisting};

/// Status for invalid settings, as clap uses for invalid flags.
const EXIT_CONFIG: u8 = 2;

/// argon2id allocates 19 MiB per hash on the blocking pool. glibc raises its mmap threshold after
/// such blocks are freed and then keeps later ones in the heap, where they are never returned:
/// a burst of logins left RSS at ~190 MiB. A fixed threshold keeps large blocks mmapped, so
/// their memory goes back to the system after each hash.
fn bound_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; it is called once, before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> ExitCode {
    bound_large_allocations();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

fn settings(mode: Mode, flags: &SettingFlags) -> Result<Settings, ConfigError> {
    let mut layers = Vec::new();
    if let Some(file) = &flags.config {
        layers.push(file_layer(file)?);
    }
    layers.push(env_layer(std::env::vars()));
    layers.push(flags.layer());
    Settings::resolve(mode, &layers)
}

async fn run(cli: Cli) -> ExitCode {
    let (mode, flags) = match &cli.command {
        Command::StartDev { settings, .. } => (Mode::Dev, settings),
        Command::Start { settings, .. } => (Mode::Production, settings),
        Command::Migrate { settings }
        | Command::Import { settings, .. }
        | Command::Export { settings, .. }
        | Command::Keys { action: KeysCommand::Rotate { settings, .. } }
        | Command::Admin { action: AdminCli::CreateUser { settings, .. } }
        | Command::Admin { action: AdminCli::Sessions { settings, .. } }
        | Command::Admin { action: AdminCli::Logout { settings, .. } } => (Mode::Tool, settings),
    };
    let settings = match settings(mode, flags) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    ops::telemetry::init(settings.log_format, &settings.log_level);
    match execute(cli.command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command, settings: Settings) -> Result<(), String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match command {
        Command::StartDev { import_realm, .. } | Command::Start { import_realm, .. } => serve(settings, clock, &import_realm).await,
        Command::Migrate { .. } => {
            let store = app::open_store(&settings).await.map_err(|e| e.to_string())?;
            store.close().await;
            println!("migrations applied to {}", portcullis::store::redact_url(&settings.db_url));
            Ok(())
        }
        Command::Import { file, replace, .. } => import(settings, clock, file, replace).await,
        Command::Export { realm, file, .. } => {
            let master = app::load_master_key(&settings).map_err(|e| e.to_string())?;
            let store = app::open_store(&settings).await.map_err(|e| e.to_string())?;
            let exported = service::export(store.as_ref(), &master, &realm).await.map_err(|e| e.to_string())?;
            store.close().await;
            let json = serde_json::to_string_pretty(&exported).map_err(|e| e.to_string())?;
            match file {
                Some(path) => std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?,
                None => println!("{json}"),
            }
            Ok(())
        }
        Command::Admin { action } => {
            let command = match action {
                AdminCli::CreateUser { realm, username, email, password_stdin, .. } => {
                    let password = if password_stdin {
                        let mut line = String::new();
                        std::io::stdin().read_line(&mut line).map_err(|e| format!("reading the password: {e}"))?;
                        Some(portcullis::crypto::SecretString::new(line.trim_end_matches(['\r', '\n'])))
                    } else {
                        None
                    };
                    AdminCommand::CreateUser { realm, username, email, password }
                }
                AdminCli::Sessions { realm, user, .. } => AdminCommand::Sessions { realm, user },
                AdminCli::Logout { realm, user, .. } => AdminCommand::Logout { realm, user },
            };
            let master = app::load_master_key(&settings).map_err(|e| e.to_string())?;
            let store = app::open_store(&settings).await.map_err(|e| e.to_string())?;
            let result = portcullis::admin::cli::run(store.clone(), master, command).await;
            store.close().await;
            println!("{}", result.map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Keys { action: KeysCommand::Rotate { realm, .. } } => {
            let master = app::load_master_key(&settings).map_err(|e| e.to_string())?;
            let store = app::open_store(&settings).await.map_err(|e| e.to_string())?;
            let kids = service::rotate_keys(store.as_ref(), &master, &realm, clock.now())
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            println!("realm {realm}: new active keys {}", kids.join(", "));
            Ok(())
        }
    }
}

async fn serve(settings: Settings, clock: Arc<dyn Clock>, import: &[PathBuf]) -> Result<(), String> {
    let started = std::time::Instant::now();
    let app = App::build(settings, clock, import).await.map_err(|e| e.to_string())?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "ready");
    app.run(ops::shutdown_signal()).await.map_err(|e| e.to_string())
}

async fn import(settings: Settings, clock: Arc<dyn Clock>, file: PathBuf, replace: bool) -> Result<(), String> {
    let master = app::load_master_key(&settings).map_err(|e| e.to_string())?;
    let store = app::open_store(&settings).await.map_err(|e| e.to_string())?;
    let hasher = PasswordHasher::new(2);
    let on_existing = if replace { OnExisting::Replace } else { OnExisting::Fail };
    let result = service::import_paths(store.as_ref(), &master, &hasher, clock.now(), &[file], on_existing).await;
    store.close().await;
    for outcome in result.map_err(|e| e.to_string())? {
        println!("imported realm {} ({} warnings)", outcome.realm, outcome.warnings.len());
        for warning in &outcome.warnings {
            println!("  warning: {warning}");
        }
    }
    Ok(())
}
