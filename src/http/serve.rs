//! Serving: our own accept loop over hyper-util's HTTP/1.1 + HTTP/2 connection builder, plain or
//! TLS (tokio-rustls, ALPN `h2` and `http/1.1`). It replaces `axum::serve` and axum-server, which
//! put no deadline on a connection that never finishes its request and no cap on how many are
//! open: a few hundred half-open sockets stopped the server (issue 13 item 3). This module
//! accepts, caps and shuts down; each connection's deadlines live in `connection`.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

use super::connection::{self, Deadlines, Phase, Shared};

/// The connection settings of `config`: `http-header-read-timeout`, `http-idle-timeout`,
/// `http-max-connections`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub deadlines: Deadlines,
    pub max_connections: usize,
}

/// The certificate chain and key from PEM files, offering HTTP/2 and HTTP/1.1 by ALPN (browsers
/// pick `h2`). Read at start-up, so a bad file stops the server before it serves.
pub fn tls_acceptor(cert: &Path, key: &Path) -> std::io::Result<TlsAcceptor> {
    let bad = |path: &Path, e: &dyn std::fmt::Display| std::io::Error::other(format!("{}: {e}", path.display()));
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| bad(cert, &e))?;
    if chain.is_empty() {
        return Err(bad(cert, &"no certificate in the file"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| bad(key, &e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn builder(deadlines: Deadlines) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's HTTP/1 header timer also runs while a keep-alive connection waits for its next
    // request, which would cut every idle connection at the header timeout; `connection` keeps
    // both deadlines itself, for HTTP/2 too.
    builder.http1().header_read_timeout(None);
    // A peer that stops answering (gone without a FIN) while a stream is open: ping it after an
    // idle-timeout of silence, and drop it when it does not answer within the header timeout.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(deadlines.idle)
        .keep_alive_timeout(deadlines.header_read);
    builder
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets in-flight requests finish
/// for up to `grace` and drops whatever is left.
///
/// Past `max_connections` the loop stops accepting until a slot frees, holding only the one
/// connection it took last: new clients wait in the kernel's backlog and are served late rather
/// than refused, and the process never holds more than the cap plus that one socket. Slots free
/// fast: a connection that sends nothing useful goes after the header timeout, and while a client
/// waits every idle keep-alive connection closes at once, so idle connections (cheap to open)
/// cannot keep clients with requests out for the idle timeout.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let max_connections = within_open_file_limit(limits.max_connections);
    let slots = Arc::new(Semaphore::new(max_connections));
    // hysteresis: "full" ends only once a few slots are free, so a server held at its cap does
    // not wake every connection task on every accept
    let headroom = (max_connections / 16).max(1);
    let (phase_tx, phase) = watch::channel(Phase::Serving);
    let (full_tx, full) = watch::channel(false);
    let shared = Arc::new(Shared { builder: builder(limits.deadlines), router, tls, deadlines: limits.deadlines, phase, full });
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                // a client is waiting (this one, and maybe more in the backlog): idle
                // connections give up their slots
                full_tx.send_if_modified(|full| !std::mem::replace(full, true));
                tracing::debug!(max = max_connections, "at the connection cap: accepting when a slot frees");
                tokio::select! {
                    permit = slots.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break, // closed: cannot happen, the semaphore is never closed
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        if slots.available_permits() >= headroom {
            full_tx.send_if_modified(|full| std::mem::replace(full, false));
        }
        // small answers: do not let Nagle's algorithm hold them back for the client's ACK
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection::run(shared.clone(), stream, peer, permit));
    }
    drop(listener);
    let _ = phase_tx.send(Phase::Draining);
    let everyone_gone = slots.acquire_many(u32::try_from(max_connections).unwrap_or(u32::MAX));
    if tokio::time::timeout(grace, everyone_gone).await.is_err() {
        tracing::warn!("in-flight requests did not finish within the shutdown timeout");
    }
    let _ = phase_tx.send(Phase::Stopped);
}

/// Errors of one connection (reset before we took it) are not the listener's; anything else
/// (out of file descriptors) gets a pause, so the loop does not spin while it lasts.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        tracing::error!(error = %e, "accept failed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every connection is a file descriptor, and running out of them fails accepts and database
/// connects alike. Raises the soft open-file limit to cover the cap and the other files (the
/// database pool, logs, the listener) when the hard limit allows; when it does not, lowers the
/// cap to fit, and says so at start-up.
fn within_open_file_limit(max_connections: usize) -> usize {
    #[cfg(unix)]
    {
        const OTHER_FILES: libc::rlim_t = 256;
        let wanted = (max_connections as libc::rlim_t).saturating_add(OTHER_FILES);
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit only writes the struct we pass, which lives for the call.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 || limit.rlim_cur >= wanted {
            return max_connections;
        }
        let raised = libc::rlimit { rlim_cur: wanted.min(limit.rlim_max), rlim_max: limit.rlim_max };
        // SAFETY: setrlimit only reads the struct we pass; it raises the soft limit only.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = raised.rlim_cur;
        }
        if limit.rlim_cur < wanted {
            let reserve = OTHER_FILES.min(limit.rlim_cur / 4);
            let fits = usize::try_from(limit.rlim_cur - reserve).unwrap_or(usize::MAX).clamp(1, max_connections);
            tracing::warn!(
                open_files = limit.rlim_cur,
                configured = max_connections,
                serving = fits,
                "the open-file limit cannot hold http-max-connections plus {OTHER_FILES} other files: \
                 serving at most {fits} connections; raise the limit (ulimit -n, LimitNOFILE=) for more"
            );
            return fits;
        }
    }
    max_connections
}
