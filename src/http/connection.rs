//! One client connection from accept to close, and the deadlines that bound it. A connection
//! that has not finished its first request's headers (TLS handshake included) by the header-read
//! timeout is dropped; one with no request in flight for the idle timeout, or while the server
//! is at its connection cap, is closed gracefully (HTTP/2 GOAWAY). A request in flight is bounded
//! by `request-timeout`, not here. Accepting and the cap itself live in `serve`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::ops::metrics::{HTTP_CONNECTIONS, HTTP_CONNECTIONS_CLOSED};

/// The time limits of every connection (settings `http-header-read-timeout`, `http-idle-timeout`).
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub header_read: Duration,
    pub idle: Duration,
}

/// Where the server is in its life; connections close when it stops serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Serving,
    /// Shutting down: finish what is in flight, take nothing new.
    Draining,
    /// The shutdown grace is over: drop every connection.
    Stopped,
}

/// What every connection task shares with the accept loop.
pub struct Shared {
    pub builder: auto::Builder<TokioExecutor>,
    pub router: Router,
    pub tls: Option<TlsAcceptor>,
    pub deadlines: Deadlines,
    pub phase: watch::Receiver<Phase>,
    /// True while the accept loop waits for a free slot: idle connections then close at once.
    pub full: watch::Receiver<bool>,
}

/// Serves one accepted connection until it ends or a deadline closes it. The permit is the
/// connection's slot under the cap; dropping it (when this returns) lets another in.
pub async fn run(shared: Arc<Shared>, stream: TcpStream, peer: SocketAddr, permit: OwnedSemaphorePermit) {
    let accepted = Instant::now();
    metrics::gauge!(HTTP_CONNECTIONS).increment(1.0);
    match &shared.tls {
        None => serve(&shared, TokioIo::new(stream), peer, accepted).await,
        Some(acceptor) => {
            let mut phase = shared.phase.clone();
            let handshake = tokio::time::timeout_at(accepted + shared.deadlines.header_read, acceptor.accept(stream));
            let done = tokio::select! {
                done = handshake => Some(done),
                // nothing was asked yet, so there is nothing to finish
                _ = phase.wait_for(|p| *p != Phase::Serving) => None,
            };
            match done {
                Some(Ok(Ok(tls))) => serve(&shared, TokioIo::new(tls), peer, accepted).await,
                Some(Ok(Err(e))) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Some(Err(_)) => closed(peer, "header_timeout"),
                None => {}
            }
        }
    }
    metrics::gauge!(HTTP_CONNECTIONS).decrement(1.0);
    drop(permit);
}

fn closed(peer: SocketAddr, reason: &'static str) {
    // debug, not info: whoever opens connections could otherwise fill the log
    tracing::debug!(%peer, reason, "connection closed by the server");
    metrics::counter!(HTTP_CONNECTIONS_CLOSED, "reason" => reason).increment(1);
}

async fn serve<I>(shared: &Shared, io: I, peer: SocketAddr, accepted: Instant)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new(accepted));
    let service = {
        let (router, activity) = (shared.router.clone(), activity.clone());
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            // handlers extract the peer address (rate limits by IP)
            request.extensions_mut().insert(ConnectInfo(peer));
            let in_flight = activity.begin();
            let response = router.clone().oneshot(request);
            async move {
                let response = response.await;
                drop(in_flight);
                response
            }
        })
    };
    let connection = shared.builder.serve_connection(io, service);
    tokio::pin!(connection);
    let (mut phase, mut full) = (shared.phase.clone(), shared.full.clone());
    // set once we asked the connection to close: from then on it gets `header_read` to go
    let mut closing: Option<Instant> = None;
    let due = |closing: Option<Instant>, full: bool| match closing {
        Some(since) => activity.quiet_since().map(|quiet| (since.max(quiet) + shared.deadlines.header_read, "")),
        None => activity.due(shared.deadlines, full),
    };
    loop {
        let deadline = due(closing, *full.borrow()).map(|(at, _)| at);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = sleep_until(deadline) => {
                let now = Instant::now();
                match due(closing, *full.borrow()) {
                    // a request came in meanwhile, or the deadline moved
                    None => {}
                    Some((at, _)) if at > now => {}
                    // it did not take our goodbye in time
                    Some(_) if closing.is_some() => return,
                    Some((_, reason)) => {
                        closed(peer, reason);
                        if reason == "header_timeout" {
                            return; // no request yet: nothing to be graceful about
                        }
                        connection.as_mut().graceful_shutdown();
                        closing = Some(now);
                    }
                }
            }
            () = activity.changed.notified() => {}
            Ok(()) = full.changed() => {}
            Ok(()) = phase.changed() => {
                let now_phase = *phase.borrow();
                match now_phase {
                    Phase::Stopped => return,
                    Phase::Draining if closing.is_none() => {
                        if !activity.served() {
                            return;
                        }
                        connection.as_mut().graceful_shutdown();
                        closing = Some(Instant::now());
                    }
                    _ => {}
                }
            }
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What a connection is doing, as its deadlines need it: requests in flight, whether one was
/// ever made, and since when it has been idle.
struct Activity {
    state: Mutex<State>,
    /// Woken when the last request in flight ends: the idle clock starts.
    changed: Notify,
}

struct State {
    accepted: Instant,
    in_flight: usize,
    served: bool,
    idle_since: Instant,
}

impl Activity {
    fn new(accepted: Instant) -> Self {
        let state = State { accepted, in_flight: 0, served: false, idle_since: accepted };
        Self { state: Mutex::new(state), changed: Notify::new() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A request's headers have arrived; the guard marks its end (also when the client drops it).
    fn begin(self: &Arc<Self>) -> InFlight {
        let mut state = self.lock();
        state.in_flight += 1;
        state.served = true;
        InFlight(self.clone())
    }

    fn served(&self) -> bool {
        self.lock().served
    }

    /// Since when nothing has been in flight, or `None` while something is.
    fn quiet_since(&self) -> Option<Instant> {
        let state = self.lock();
        (state.in_flight == 0).then_some(state.idle_since)
    }

    /// When this connection is due to close, and why; `None` while a request is in flight.
    /// `full`: the server is at its cap, so an idle connection gives up its slot now.
    fn due(&self, deadlines: Deadlines, full: bool) -> Option<(Instant, &'static str)> {
        let state = self.lock();
        if state.in_flight > 0 {
            None
        } else if !state.served {
            Some((state.accepted + deadlines.header_read, "header_timeout"))
        } else if full {
            Some((state.idle_since, "capacity"))
        } else {
            Some((state.idle_since + deadlines.idle, "idle_timeout"))
        }
    }
}

struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.in_flight -= 1;
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
            drop(state);
            self.0.changed.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Deadlines = Deadlines { header_read: Duration::from_secs(10), idle: Duration::from_secs(75) };

    #[tokio::test]
    async fn a_connection_is_due_by_the_header_timeout_until_its_first_request_then_by_idleness() {
        let accepted = Instant::now();
        let activity = Arc::new(Activity::new(accepted));
        assert_eq!(activity.due(LIMITS, false), Some((accepted + LIMITS.header_read, "header_timeout")));
        assert_eq!(activity.due(LIMITS, true).map(|d| d.1), Some("header_timeout"), "a new client gets its time");
        let first = activity.begin();
        let second = activity.begin();
        assert_eq!(activity.due(LIMITS, true), None, "nothing closes under a request in flight");
        drop(first);
        assert_eq!(activity.due(LIMITS, false), None);
        drop(second);
        let idle_since = activity.quiet_since().expect("idle");
        assert!(idle_since >= accepted);
        assert_eq!(activity.due(LIMITS, false), Some((idle_since + LIMITS.idle, "idle_timeout")));
        assert_eq!(activity.due(LIMITS, true), Some((idle_since, "capacity")));
    }
}
