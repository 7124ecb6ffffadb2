//! E-mail (issue 17): SMTP delivery on lettre, Keycloak's mail texts, action tokens, and the
//! `Mailer`, a bounded queue with a small pool of workers, so a mail server that is down or slow
//! never blocks or fails the request that asked for a mail: a full queue refuses at once (a log
//! line and `portcullis_mail_refused_total`), each delivery has connect and total deadlines, and
//! outcomes are counted (`portcullis_mail_sent_total`, `portcullis_mail_failed_total`).
//! The flows that build mails (links, lifespans) are in `flows`; pages are in `crate::http`.

pub mod action_token;
pub mod flows;
pub mod smtp;
pub mod texts;

use std::sync::Arc;

use tokio::sync::{mpsc, Mutex};

use crate::clock::UnixTime;
use crate::ops::rate_limit::{Limiter, Rate};
pub use flows::send_verify_email;
pub use smtp::{Mail, SmtpConfig};

pub const MAIL_SENT: &str = "portcullis_mail_sent_total";
pub const MAIL_FAILED: &str = "portcullis_mail_failed_total";
pub const MAIL_REFUSED: &str = "portcullis_mail_refused_total";

/// Mails waiting at most; past this the queue refuses (each holds a few KiB).
pub const QUEUE_CAPACITY: usize = 1024;
/// Concurrent deliveries.
pub const WORKERS: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Keycloak's `EmailException` text for a realm without `smtpServer.from`.
    #[error("No sender address configured in the realm settings for emails")]
    NoSender,
    #[error("No SMTP host configured in the realm settings for emails")]
    NoHost,
    #[error("Invalid SMTP port: {0}")]
    InvalidPort(String),
    #[error("Invalid email address: {0}")]
    InvalidAddress(String),
    #[error("the mail server did not answer in time")]
    Timeout,
    #[error("{0}")]
    Send(String),
    #[error("the mail queue is full")]
    QueueFull,
    #[error("the realm has no HMAC key to sign action tokens")]
    NoKey,
}

/// What a mail is, as the metrics' `kind` label (a closed set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    VerifyEmail,
    ExecuteActions,
    ResetCredentials,
    /// `testSMTPConnection`, sent at once rather than queued.
    Test,
}

impl MailKind {
    pub fn label(self) -> &'static str {
        match self {
            MailKind::VerifyEmail => "verify_email",
            MailKind::ExecuteActions => "execute_actions",
            MailKind::ResetCredentials => "reset_credentials",
            MailKind::Test => "test",
        }
    }
}

struct Job {
    config: SmtpConfig,
    mail: Mail,
    kind: MailKind,
    realm: String,
}

/// The process's outgoing mail: cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    queue: mpsc::Sender<Job>,
    /// Forgot-password mails per recipient address: a burst of 3, then one a minute, so the
    /// form cannot be used to flood someone's mailbox.
    per_recipient: Limiter,
}

impl Mailer {
    /// Starts `workers` delivery tasks on the current tokio runtime.
    pub fn start(workers: usize, capacity: usize) -> Mailer {
        let (queue, jobs) = mpsc::channel::<Job>(capacity.max(1));
        let jobs = Arc::new(Mutex::new(jobs));
        for _ in 0..workers.max(1) {
            let jobs = jobs.clone();
            tokio::spawn(async move {
                loop {
                    let next = jobs.lock().await.recv().await;
                    let Some(job) = next else { break };
                    deliver(job).await;
                }
            });
        }
        let rate = Rate { per_second: 1.0 / 60.0, burst: 3 };
        Mailer { inner: Arc::new(Inner { queue, per_recipient: Limiter::new(rate, crate::ops::rate_limit::MAX_BUCKETS) }) }
    }

    /// Queues a mail without waiting: `QueueFull` at once when the queue is full.
    pub fn queue(&self, realm: &str, config: SmtpConfig, mail: Mail, kind: MailKind) -> Result<(), MailError> {
        let job = Job { config, mail, kind, realm: realm.to_string() };
        self.inner.queue.try_send(job).map_err(|_| {
            metrics::counter!(MAIL_REFUSED, "kind" => kind.label()).increment(1);
            tracing::warn!(realm, kind = kind.label(), "mail refused: the mail queue is full");
            MailError::QueueFull
        })
    }

    /// Takes a token of the per-recipient limit; false when `address` has had its share.
    pub fn allow_recipient(&self, address: &str, now: UnixTime) -> bool {
        self.inner.per_recipient.check(&address.to_lowercase(), now).is_ok()
    }
}

async fn deliver(job: Job) {
    let _ = send_now(&job.realm, &job.config, &job.mail, job.kind).await;
}

/// Delivers one mail now (within `smtp::TOTAL_TIMEOUT`), counted and logged like queued ones.
pub async fn send_now(realm: &str, config: &SmtpConfig, mail: &Mail, kind: MailKind) -> Result<(), MailError> {
    let label = kind.label();
    let result = smtp::send(config, mail).await;
    match &result {
        Ok(()) => {
            metrics::counter!(MAIL_SENT, "kind" => label).increment(1);
            tracing::info!(realm, kind = label, host = %config.host, "mail sent");
        }
        Err(e) => {
            metrics::counter!(MAIL_FAILED, "kind" => label).increment(1);
            // the error text is lettre's or ours, never the password
            tracing::warn!(realm, kind = label, host = %config.host, port = config.port, error = %e, "mail not sent");
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant};

    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_while_a_dead_server_holds_the_worker() {
        // accepts and never answers: the one worker waits on it up to the step deadline
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let _held = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let map: BTreeMap<String, String> =
            [("host", "127.0.0.1"), ("port", &port.to_string()), ("from", "a@example.org")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let config = SmtpConfig::from_map(&map, None).unwrap();
        let mail = texts::smtp_test("b@example.org");
        let mailer = Mailer::start(1, 2);
        let started = Instant::now();
        let mut refused = 0;
        for _ in 0..6 {
            if matches!(mailer.queue("r", config.clone(), mail.clone(), MailKind::VerifyEmail), Err(MailError::QueueFull)) {
                refused += 1;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(started.elapsed() < Duration::from_secs(1), "queueing never waits");
        assert_eq!(refused, 3, "one with the worker, two waiting, the rest refused");
    }

    #[test]
    fn a_recipient_gets_a_burst_then_one_a_minute() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mailer = rt.block_on(async { Mailer::start(1, 1) });
        assert!((0..3).all(|_| mailer.allow_recipient("A@example.org", 1000)));
        assert!(!mailer.allow_recipient("a@example.org", 1000), "addresses compare case-insensitively");
        assert!(mailer.allow_recipient("a@example.org", 1060));
    }
}
