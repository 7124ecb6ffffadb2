//! Wiring: the shared application state, the router in one place, start-up (master key, store,
//! bootstrap, realm import, bind) and serving with graceful shutdown. Tests build the same `App`
//! on port 0 with a fresh database and a movable clock.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::bootstrap::{ensure_master_realm, BootstrapError};
use crate::clock::Clock;
use crate::config::{MasterKeySource, Mode, Settings};
use crate::crypto::envelope::MasterKeyError;
use crate::crypto::password::PasswordHasher;
use crate::crypto::MasterKey;
use crate::http;
use crate::http::timeout::RequestTimeouts;
use crate::oauth::events::EventSink;
use crate::ops::rate_limit::{self, RateLimits};
use crate::realm::cache::{RealmCache, DEFAULT_TTL};
use crate::realm::service::{import_paths, OnExisting, RealmServiceError};
use crate::store::{self, RealmChange, Store, StoreError};

/// Largest request body accepted (RFC 6749 requests are small; this bounds memory per request).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler shares. Behind one `Arc`, so axum's clone per request is one reference
/// count, not one per field (2.8 % of the server's CPU in an introspection profile).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

pub struct AppStateInner {
    pub store: Arc<dyn Store>,
    pub realms: Arc<RealmCache>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    pub master_key: MasterKey,
    pub hasher: PasswordHasher,
    pub events: EventSink,
    pub metrics: PrometheusHandle,
    /// `request-timeout` and when it last fired (read by `/health/ready`).
    pub timeouts: Arc<RequestTimeouts>,
    /// Outgoing mail: a bounded queue and its workers (`crate::mail`).
    pub mailer: crate::mail::Mailer,
    /// Back-channel logout tokens to clients when sessions end (`crate::oauth::backchannel_logout`).
    pub logout: crate::oauth::backchannel_logout::LogoutNotifier,
    /// `client-jwt` clients' public keys (`jwks.url` fetched with bounds, cached).
    pub client_keys: crate::oauth::client_keys::ClientKeys,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("master key: {0}")]
    MasterKey(#[from] MasterKeyError),
    #[error("this command needs the master key: set master-key (PORTCULLIS_MASTER_KEY) or master-key-file")]
    NoMasterKey,
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("database {url}: {source}")]
    Store { url: String, source: StoreError },
    #[error("bootstrap: {0}")]
    Bootstrap(#[from] BootstrapError),
    #[error("realm import: {0}")]
    Import(#[from] RealmServiceError),
    #[error("cannot bind {address}: {source}")]
    Bind { address: SocketAddr, source: std::io::Error },
    #[error("TLS certificate or key: {0}")]
    Tls(std::io::Error),
    #[error("signing keys: {0}")]
    Keys(String),
}

/// Selects aws-lc-rs as rustls's crypto provider for the process. Dependencies enable both
/// rustls providers, and rustls refuses to guess; calling this more than once is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Resolves the master key per the settings, creating the dev key file when allowed.
pub fn load_master_key(settings: &Settings) -> Result<MasterKey, StartError> {
    match settings.master_key.as_ref().ok_or(StartError::NoMasterKey)? {
        MasterKeySource::Value(value) => Ok(MasterKey::from_base64(value.expose())?),
        MasterKeySource::File(path) => Ok(MasterKey::load(path)?),
        MasterKeySource::DataDir(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|source| StartError::DataDir { path: dir.display().to_string(), source })?;
            }
            Ok(MasterKey::load_or_create(path)?)
        }
    }
}

/// Opens the configured database (creating the dev data dir first) and runs migrations.
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, StartError> {
    if settings.db_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|source| StartError::DataDir { path: settings.data_dir.display().to_string(), source })?;
    }
    store::connect_with(&settings.db_url, settings.db_pool_size, Duration::from_secs(settings.db_acquire_timeout))
        .await
        .map_err(|source| StartError::Store { url: store::redact_url(&settings.db_url), source })
}

pub struct App {
    state: AppState,
    listener: std::net::TcpListener,
    address: SocketAddr,
    /// Set when serving HTTPS (`https-certificate-file`).
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl App {
    /// Everything before serving: fails here, never later, on bad keys, database or realm files.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>, import: &[PathBuf]) -> Result<App, StartError> {
        let master_key = load_master_key(&settings)?;
        let store = open_store(&settings).await?;
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let hasher = PasswordHasher::with_limits(
            cores,
            settings.password_hash_queue,
            settings.rate_limit_password_failures_per_ip,
        );
        let now = clock.now();
        crate::realm::builtin_scopes::upgrade_pending_realms(store.as_ref())
            .await
            .map_err(|source| StartError::Store { url: store::redact_url(&settings.db_url), source })?;
        // OTP secrets written in plain text before issue 17 (SQL cannot seal them: migration 0011/0013)
        crate::users::otp::seal_plaintext_secrets(store.as_ref(), &master_key)
            .await
            .map_err(|source| StartError::Store { url: store::redact_url(&settings.db_url), source })?;
        if matches!(settings.mode, Mode::Dev | Mode::Production) {
            let created =
                ensure_master_realm(store.as_ref(), &master_key, &hasher, now, settings.bootstrap_admin.as_ref())
                    .await?;
            if created {
                tracing::info!("created realm master with client admin-cli and the bootstrap admin user");
            }
            if created && settings.uses_default_admin_password() {
                tracing::warn!(
                    "!!! the admin password is the development default 'admin': set \
                     PORTCULLIS_BOOTSTRAP_ADMIN_PASSWORD, and never expose start-dev to a network !!!"
                );
            }
        }
        crate::realm::signing_keys::ensure_all(store.as_ref(), &master_key, now)
            .await
            .map_err(|e| StartError::Keys(e.to_string()))?;
        if !import.is_empty() {
            let outcomes = import_paths(store.as_ref(), &master_key, &hasher, now, import, OnExisting::Skip).await?;
            for outcome in outcomes {
                if outcome.imported {
                    tracing::info!(realm = %outcome.realm, ignored = outcome.warnings.len(), "imported realm");
                    for warning in outcome.warnings {
                        tracing::warn!(realm = %outcome.realm, "{warning}");
                    }
                } else {
                    tracing::info!(realm = %outcome.realm, "realm exists, import skipped");
                }
            }
        }
        let tls = match &settings.tls {
            Some((cert, key)) => Some(http::serve::tls_acceptor(cert, key).map_err(StartError::Tls)?),
            None => None,
        };
        let address = SocketAddr::new(settings.http_host, settings.http_port);
        let listener = std::net::TcpListener::bind(address).map_err(|source| StartError::Bind { address, source })?;
        listener.set_nonblocking(true).map_err(|source| StartError::Bind { address, source })?;
        let address = listener.local_addr().map_err(|source| StartError::Bind { address, source })?;
        let realms = Arc::new(RealmCache::new(store.clone(), master_key.clone(), clock.clone(), DEFAULT_TTL));
        let settings_timeout = settings.request_timeout;
        let state = AppState(Arc::new(AppStateInner {
            events: EventSink::new(store.clone()),
            store,
            realms,
            settings: Arc::new(settings),
            clock,
            master_key,
            hasher,
            metrics: crate::ops::metrics::handle(),
            timeouts: Arc::new(RequestTimeouts::new(settings_timeout)),
            mailer: crate::mail::Mailer::start(crate::mail::WORKERS, crate::mail::QUEUE_CAPACITY),
            logout: crate::oauth::backchannel_logout::LogoutNotifier::new(crate::ops::logout_delivery::LogoutDelivery::start(
                Default::default(),
            )),
            client_keys: Default::default(),
        }));
        Ok(App { state, listener, address, tls })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish (bounded by
    /// `shutdown-timeout`) and closes the database pool.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), StartError> {
        let App { state, listener, address, tls } = self;
        let settings = state.settings.clone();
        let store = state.store.clone();
        let cleanup = crate::ops::cleanup::spawn(
            state.store.clone(),
            state.clock.clone(),
            Duration::from_secs(settings.cleanup_interval),
            settings.event_retention,
        );
        // other nodes' (and tools') changes to realms, clients, roles, keys and service accounts, heard at once
        let realm_feed = state.store.realm_changes().map(|mut changes| {
            let realms = state.realms.clone();
            tokio::spawn(async move {
                while let Some(change) = changes.recv().await {
                    match change {
                        RealmChange::Realm(id) => realms.invalidate_id(&id),
                        RealmChange::ServiceAccounts(id) => realms.forget_service_accounts(Some(&id)),
                        RealmChange::All => realms.invalidate_all(),
                    }
                }
            })
        });
        let grace = Duration::from_secs(settings.shutdown_timeout);
        let limits = http::serve::Limits {
            deadlines: http::connection::Deadlines {
                header_read: settings.http_header_read_timeout,
                idle: settings.http_idle_timeout,
            },
            max_connections: settings.http_max_connections,
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let result = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => {
                tracing::info!(%address, "listening on {scheme}://{address}");
                http::serve::serve(listener, tls, router(state), limits, shutdown, grace).await;
                Ok(())
            }
            Err(source) => Err(StartError::Bind { address, source }),
        };
        cleanup.abort();
        if let Some(feed) = realm_feed {
            feed.abort();
        }
        store.close().await;
        tracing::info!("stopped");
        result
    }
}

/// Every route of the server. All but health and metrics run under `request-timeout`.
pub fn router(state: AppState) -> Router {
    let oidc = "/realms/{realm}/protocol/openid-connect";
    let limits = Arc::new(RateLimits::new(&state.settings, state.clock.clone()));
    crate::admin::serverinfo::mark_started(state.clock.now());
    Router::new()
        .route("/realms/{realm}", get(http::published_realm::realm))
        .route("/realms/{realm}/.well-known/openid-configuration", get(http::discovery::well_known))
        // RFC 8414 §3.1 (well-known segment inserted before the issuer's path) and Keycloak's
        // appended form: the same document
        .route("/.well-known/oauth-authorization-server/realms/{realm}", get(http::discovery::well_known))
        .route("/realms/{realm}/.well-known/oauth-authorization-server", get(http::discovery::well_known))
        .route(&format!("{oidc}/certs"), get(http::discovery::certs))
        .route(
            &format!("{oidc}/token"),
            post(http::token::token).layer(middleware::from_fn_with_state(limits.clone(), rate_limit::token_endpoint)),
        )
        .route(
            &format!("{oidc}/auth/device"),
            post(http::device::device_authorization).layer(middleware::from_fn_with_state(limits.clone(), rate_limit::token_endpoint)),
        )
        .route(
            "/realms/{realm}/device",
            get(http::device::page).post(http::device::submit).layer(middleware::from_fn_with_state(limits.clone(), rate_limit::device_page)),
        )
        .route(&format!("{oidc}/token/introspect"), post(http::token::introspect))
        .route(&format!("{oidc}/ext/par/request"), post(http::token::pushed_authorization_request))
        .route(&format!("{oidc}/revoke"), post(http::token::revoke))
        .route(&format!("{oidc}/logout"), get(http::logout::logout_get).post(http::logout::logout_post))
        .route(&format!("{oidc}/auth"), get(http::login::authorize).post(http::login::authorize))
        .route(
            "/realms/{realm}/login-actions/authenticate",
            post(http::login::authenticate_form).layer(middleware::from_fn_with_state(limits.clone(), rate_limit::login_form)),
        )
        .route(
            "/realms/{realm}/login-actions/required-action",
            post(http::required_actions::action_form).layer(middleware::from_fn_with_state(limits.clone(), rate_limit::login_form)),
        )
        .route(
            "/realms/{realm}/login-actions/otp",
            post(http::login_otp::otp_form).layer(middleware::from_fn_with_state(limits.clone(), rate_limit::login_form)),
        )
        .route(&format!("{oidc}/registrations"), get(http::registration::registrations))
        .route(
            "/realms/{realm}/login-actions/registration",
            get(http::registration::registration_page)
                .post(http::registration::register_form)
                .layer(middleware::from_fn_with_state(limits.clone(), rate_limit::login_form)),
        )
        .route(
            "/realms/{realm}/login-actions/action-token",
            get(http::action_token::show).post(http::action_token::proceed),
        )
        .route(
            "/realms/{realm}/login-actions/reset-credentials",
            get(http::reset_credentials::show).merge(
                post(http::reset_credentials::submit).layer(middleware::from_fn_with_state(limits, rate_limit::login_form)),
            ),
        )
        .route("/realms/{realm}/login-actions/restart", get(http::reset_credentials::restart))
        .route("/realms/{realm}/login-actions/consent", post(http::login::consent_form_action))
        .route("/realms/{realm}/account", get(http::account::account))
        .route("/realms/{realm}/account/{*action}", post(http::account::account_action))
        .route("/resources/{name}", get(crate::web::resource))
        .route(&format!("{oidc}/userinfo"), get(http::userinfo::userinfo).post(http::userinfo::userinfo))
        .merge(http::admin::router().layer(middleware::from_fn_with_state(
            state.realms.clone(),
            http::admin::forget_service_accounts,
        )))
        .merge(http::session_iframe::router())
        // routes added above this line are limited; health answers within its own bound
        .layer(middleware::from_fn_with_state(state.timeouts.clone(), http::timeout::enforce))
        .route("/health/live", get(http::health::live))
        .route("/health/ready", get(http::health::ready))
        .route("/metrics", get(http::health::metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), http::cors::cors))
        .layer(middleware::from_fn(crate::ops::metrics::track_http))
        .layer(middleware::from_fn(refuse_nul_in_uri))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), http::hsts::strict_transport_security))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                let request_id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // the path only: query strings can carry tokens (id_token_hint) and codes
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// A percent-encoded NUL in the path or query never names anything we hold (Postgres text cannot
/// contain it): refuse it before any handler passes it to the database.
async fn refuse_nul_in_uri(request: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    let has_nul = |text: &str| text.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0');
    let uri = request.uri();
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        tracing::info!("request refused: NUL character in the URI");
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": "invalid_request", "error_description": "NUL characters are not allowed" })),
        )
            .into_response();
    }
    next.run(request).await
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": "Unable to find matching target resource method" })))
}
