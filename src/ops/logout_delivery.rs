//! Delivery of back-channel logout tokens (OIDC Back-Channel Logout 1.0 §2.5): a bounded number
//! of pending deliveries, each its own task, with a cap in flight overall and per receiver origin,
//! so a client that is down, slow or hanging never delays or fails the request that ended a
//! session, nor another client's tokens. Past the bound a delivery is refused at once (a log line
//! and `portcullis_backchannel_logout_refused_total`); each POST has connect and total deadlines, is
//! tried a few times with back-off on network errors and 5xx answers, and its outcome is counted
//! (`..._sent_total`, `..._failed_total`) with a warning for each failure. Building the token is
//! `crate::oauth::backchannel_logout`; this module only carries it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use url::Url;

pub const LOGOUT_SENT: &str = "portcullis_backchannel_logout_sent_total";
pub const LOGOUT_FAILED: &str = "portcullis_backchannel_logout_failed_total";
pub const LOGOUT_REFUSED: &str = "portcullis_backchannel_logout_refused_total";

/// Deliveries pending at most (waiting or in flight); past this the queue refuses (each holds
/// a token of ~1 KiB).
pub const QUEUE_CAPACITY: usize = 4096;
/// Deliveries in flight at once, all receivers together.
pub const IN_FLIGHT: usize = 32;
/// Deliveries in flight at once to one receiver origin: a receiver that hangs holds at most
/// these, so the others' tokens never queue behind it.
pub const IN_FLIGHT_PER_ORIGIN: usize = 4;
/// Tries per token; the token lives two minutes, so later tries would be refused anyway.
pub const ATTEMPTS: u32 = 3;

/// How long one delivery may take.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub connect: Duration,
    /// The whole request, answer included.
    pub total: Duration,
    /// Pause before the second try; doubled before each later one.
    pub backoff: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines { connect: Duration::from_secs(2), total: Duration::from_secs(5), backoff: Duration::from_secs(1) }
    }
}

/// One token for one client. The token is signed by the delivery task (an RSA signature is
/// ~0.4 ms of CPU, which the request that ended the session should not pay), through `sign`.
pub struct Delivery {
    pub realm: String,
    pub client_id: String,
    pub url: Url,
    pub sign: Box<dyn FnOnce() -> Option<String> + Send>,
}

/// The process's outgoing logout tokens: cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct LogoutDelivery {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    deadlines: Deadlines,
    pending: AtomicUsize,
    in_flight: Semaphore,
    /// One semaphore per receiver origin; as many entries as distinct configured URLs' origins.
    per_origin: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl LogoutDelivery {
    pub fn start(deadlines: Deadlines) -> LogoutDelivery {
        let client = reqwest::Client::builder()
            .connect_timeout(deadlines.connect)
            .timeout(deadlines.total)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .build();
        let client = match client {
            Ok(client) => client,
            Err(e) => {
                // the queue still accepts, and every delivery fails loudly
                tracing::error!(error = %e, "cannot build the back-channel logout HTTP client");
                reqwest::Client::new()
            }
        };
        LogoutDelivery {
            inner: Arc::new(Inner {
                client,
                deadlines,
                pending: AtomicUsize::new(0),
                in_flight: Semaphore::new(IN_FLIGHT),
                per_origin: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Starts a delivery without waiting (a task on the current tokio runtime); refused, and
    /// logged, when `QUEUE_CAPACITY` deliveries are already pending.
    pub fn queue(&self, delivery: Delivery) {
        let inner = &self.inner;
        if inner.pending.fetch_add(1, Ordering::AcqRel) >= QUEUE_CAPACITY {
            inner.pending.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!(LOGOUT_REFUSED).increment(1);
            tracing::warn!(
                realm = %delivery.realm, client_id = %delivery.client_id, url = %delivery.url,
                "back-channel logout not sent: too many deliveries pending"
            );
            return;
        }
        let origin = delivery.url.origin().ascii_serialization();
        let per_origin = {
            let mut map = inner.per_origin.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            map.entry(origin).or_insert_with(|| Arc::new(Semaphore::new(IN_FLIGHT_PER_ORIGIN))).clone()
        };
        let inner = self.inner.clone();
        tokio::spawn(async move {
            // the origin's permit first: tasks waiting on a hanging receiver hold no global one
            if let (Ok(_origin), Ok(_global)) = (per_origin.acquire().await, inner.in_flight.acquire().await) {
                deliver(&inner.client, inner.deadlines, delivery).await;
            }
            inner.pending.fetch_sub(1, Ordering::AcqRel);
        });
    }
}

async fn deliver(client: &reqwest::Client, deadlines: Deadlines, job: Delivery) {
    let Delivery { realm, client_id, url, sign } = job;
    let Some(token) = sign() else {
        metrics::counter!(LOGOUT_FAILED).increment(1);
        tracing::warn!(%realm, %client_id, "back-channel logout not sent: the logout token could not be signed");
        return;
    };
    let body = form_urlencoded::Serializer::new(String::new()).append_pair("logout_token", &token).finish();
    let mut pause = deadlines.backoff;
    let mut last_error = String::new();
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status().is_success() => {
                metrics::counter!(LOGOUT_SENT).increment(1);
                tracing::debug!(%realm, %client_id, %url, attempt, "back-channel logout delivered");
                return;
            }
            // the client refused this token (§2.8: 400 for a token it cannot use); another try would too
            Ok(answer) if answer.status().is_client_error() => {
                last_error = format!("the client answered {}", answer.status());
                break;
            }
            Ok(answer) => last_error = format!("the client answered {}", answer.status()),
            Err(e) if e.is_timeout() => last_error = "no answer in time".into(),
            Err(e) if e.is_connect() => last_error = "cannot connect".into(),
            Err(e) => last_error = format!("request failed: {e}"),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    metrics::counter!(LOGOUT_FAILED).increment(1);
    tracing::warn!(%realm, %client_id, %url, error = %last_error, "back-channel logout failed");
}
