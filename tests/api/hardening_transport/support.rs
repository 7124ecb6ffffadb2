//! Helpers of the transport tests: raw sockets and what the server holds of them (read from
//! `/proc/net/tcp`), TLS clients that take the test's own certificate, client connections whose
//! end can be watched, a `portcullis start` process, and realm `edge`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::helpers::{Backend, Spawn, TestApp};

/// The start of a request whose headers never end.
pub(super) const HALF_REQUEST: &[u8] = b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow";
pub(super) const SECOND: Duration = Duration::from_secs(1);

pub(super) fn address(app: &TestApp) -> SocketAddr {
    app.base.trim_start_matches("http://").parse().expect("the base is an address")
}

/// Connections the server has accepted on its port and still holds: established sockets whose
/// local port is the server's and which belong to a process (a connection waiting in the
/// kernel's backlog has no inode until `accept`).
pub(super) fn held_by_server(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let port = format!("{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 9
                && fields[1].rsplit(':').next() == Some(port.as_str())
                && fields[3] == "01"
                && fields[9] != "0"
        })
        .count()
}

/// Samples `held_by_server` every 20 ms until dropped; `max()` is the most seen at once. Each
/// sample is the smaller of two reads back to back: the kernel writes `/proc/net/tcp` in chunks,
/// so one read can list a socket closed mid-read beside the one accepted after it (seen once
/// under load as 6 held for a cap of 5); a real excess lasts seconds and shows in both reads.
pub(super) struct HeldSampler {
    max: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl HeldSampler {
    pub(super) fn start(port: u16) -> Self {
        let max = Arc::new(AtomicUsize::new(0));
        let seen = max.clone();
        let task = tokio::spawn(async move {
            loop {
                seen.fetch_max(held_by_server(port).min(held_by_server(port)), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Self { max, task }
    }

    pub(super) fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

impl Drop for HeldSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(super) async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads until the server closes the connection; how long that took from `since`, or `None`
/// when it was still open at `limit` after `since`.
pub(super) async fn closed_by_server(stream: &mut (impl AsyncRead + Unpin), since: Instant, limit: Duration) -> Option<Duration> {
    let mut buf = [0u8; 4096];
    let reading = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // e.g. the server's HTTP/2 SETTINGS
            }
        }
    };
    tokio::time::timeout_at(since + limit, reading).await.ok().map(|()| since.elapsed())
}

/// A connection that sends half a request line and headers, then nothing.
pub(super) async fn slowloris(address: SocketAddr) -> (TcpStream, Instant) {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(HALF_REQUEST).await.expect("write");
    (stream, Instant::now())
}

pub(super) fn assert_closed_about(what: &str, closed: Option<Duration>, expected: Duration) {
    let closed = closed.unwrap_or_else(|| panic!("{what}: still open, the server never closed it"));
    assert!(closed >= expected.mul_f32(0.8), "{what}: closed after {closed:?}, before the {expected:?} limit");
}

/// One request on its own client connection (HTTP/2 when `http2`), then checks the time from
/// its answer until the server closed the connection: not before `not_before`, and within 6 s
/// after it. The client keeps its end open and ready to send more all along.
pub(super) async fn idle_close<IO>(io: IO, http2: bool, base: &str, not_before: Duration)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let what = if http2 { "HTTP/2" } else { "HTTP/1.1" };
    let (response, mut connection, _sender): (_, tokio::task::JoinHandle<Result<(), hyper::Error>>, Box<dyn std::any::Any + Send>) =
        if http2 {
            let request = hyper::Request::get(format!("{base}/health/live")).body(Body::empty()).unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io)).await.expect("h2 handshake");
            let connection = tokio::spawn(connection);
            (sender.send_request(request).await.expect("h2 answer"), connection, Box::new(sender))
        } else {
            let host = base.split("://").nth(1).unwrap_or(base);
            let request = hyper::Request::get("/health/live").header("host", host).body(Body::empty()).unwrap();
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await.expect("h1 handshake");
            let connection = tokio::spawn(connection);
            (sender.send_request(request).await.expect("h1 answer"), connection, Box::new(sender))
        };
    assert_eq!(response.status(), 200, "{what}");
    let _ = axum::body::to_bytes(Body::new(response.into_body()), 64 * 1024).await;
    let answered = Instant::now();
    assert!(
        tokio::time::timeout(not_before, &mut connection).await.is_err(),
        "{what}: closed {:?} after the answer, before the idle timeout",
        answered.elapsed()
    );
    let closed = tokio::time::timeout(Duration::from_secs(6), connection).await;
    assert!(closed.is_ok(), "{what}: still open {:?} after the answer", answered.elapsed());
}

/// A throwaway self-signed certificate and key.
pub(super) fn certificate(dir: &std::path::Path) -> (String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    (cert.display().to_string(), key.display().to_string())
}

/// A server on HTTPS with the given settings, its https base URL, and the directory of its
/// certificate (kept until the test ends).
pub(super) async fn https_app(settings: &[(&str, &str)]) -> (TestApp, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let mut spawn = Spawn::new(Backend::Sqlite)
        .setting("https-certificate-file", &cert)
        .setting("https-certificate-key-file", &key);
    for (k, v) in settings {
        spawn = spawn.setting(k, v);
    }
    let app = spawn.start().await;
    let https = app.base.replace("http://", "https://");
    (app, https, dir)
}

/// A TLS client that takes any certificate (the test's own) and offers `alpn`.
pub(super) fn tls_connector(alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    #[derive(Debug)]
    struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);
    impl ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

pub(super) async fn tls_connect(address: SocketAddr, alpn: &[&[u8]]) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(address).await.unwrap();
    let name = rustls::pki_types::ServerName::from(address.ip());
    tls_connector(alpn).connect(name, tcp).await.expect("TLS handshake")
}

pub(super) fn https_client() -> reqwest::Client {
    portcullis::app::install_crypto_provider();
    reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap()
}

/// `portcullis start` on a fresh SQLite file, with a master key and a bootstrap password from the
/// environment (as an operator gives them) and no PORTCULLIS_* of the test's own environment.
pub(super) fn start_command(dir: &std::path::Path, extra: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("PORTCULLIS_")) {
        command.env_remove(name);
    }
    let db = format!("sqlite://{}/portcullis.db", dir.display());
    command
        .args(["start", "--http-host", "127.0.0.1", "--http-port", "0", "--db-url", &db, "--data-dir"])
        .arg(dir)
        .args(extra)
        .env("PORTCULLIS_MASTER_KEY", portcullis::crypto::MasterKey::generate().to_base64())
        .env("PORTCULLIS_BOOTSTRAP_ADMIN_PASSWORD", "a-long-bootstrap-password")
        .stdin(std::process::Stdio::null());
    command
}

/// Kills the child when the test ends, however it ends.
pub(super) struct Child(pub(super) std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(super) const APP_SECRET: &str = "app-secret-0123456789abcdef";
pub(super) const SPA: &str = "https://spa.example";

/// A server with realm `edge`: confidential client `app` (service account, direct grants) whose
/// web origin is the SPA's, and user erin.
pub(super) async fn edge(settings: &[(&str, &str)]) -> (TestApp, tempfile::TempDir) {
    let realm = serde_json::json!({
        "realm": "edge",
        "enabled": true,
        "clients": [{
            "clientId": "app", "secret": APP_SECRET, "publicClient": false,
            "serviceAccountsEnabled": true, "directAccessGrantsEnabled": true,
            "webOrigins": [SPA], "redirectUris": [format!("{SPA}/*")]
        }],
        "users": [{"username": "erin", "enabled": true, "credentials": [{"type": "password", "value": "erin-password"}]}]
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edge.json");
    std::fs::write(&file, realm.to_string()).unwrap();
    let mut spawn = Spawn::new(Backend::Sqlite).import(&file);
    for (k, v) in settings {
        spawn = spawn.setting(k, v);
    }
    (spawn.start().await, dir)
}

