//! Password hashing with argon2id (OWASP: m=19 MiB, t=2, p=1) on a bounded blocking pool, so a
//! burst of logins queues here instead of starving token refreshes on the async workers
//! (DESIGN.md §5). Unknown users are checked against a dummy hash so timing reveals nothing.
//! Login verifications are bounded three ways (issue 13 item 11): at most one hash per core runs
//! (a permit held until the computation ends, even when the request that asked for it gave up),
//! at most `queue` more wait (beyond that: `Refused::Busy` at once), and each client address has
//! a budget of failed verifications (`Refused::Throttled`), so one address cannot slow every
//! realm's logins. Successful logins give their budget back: valid credentials are never
//! throttled.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use super::hash_bounds::Phc;
use super::secret::SecretString;
use crate::clock::UnixTime;
use crate::ops::rate_limit::{Limiter, Rate};

const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// Client addresses whose failure budgets are tracked at once (memory stays bounded).
const MAX_TRACKED_ADDRESSES: usize = 100_000;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// A stored password in one of the forms we verify.
#[derive(Debug, Clone)]
pub enum StoredPassword {
    /// Ours: an argon2id PHC string.
    Phc(String),
    /// Imported from Keycloak: `secretData` and `credentialData` JSON (see `keycloak_hash`).
    Keycloak { secret_data: String, credential_data: String },
}

/// A login verification that was not attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The client address used up its budget of failed verifications: 429, retry after this many seconds.
    Throttled { retry_after: u64 },
    /// Too many verifications are queued already: 503, retry after this many seconds.
    Busy { retry_after: u64 },
}

/// Hashes and verifies passwords off the async runtime, at most `permits` at a time.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Login verifications admitted: running, or waiting for a permit.
    admitted: Arc<AtomicUsize>,
    max_admitted: usize,
    /// Failed verifications per client address.
    failures: Option<Arc<Limiter>>,
}

/// A place in the login queue, given back when the verification has finished computing.
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PasswordHasher {
    /// A hasher with no queue bound and no failure budget (tools, import, tests).
    pub fn new(max_concurrent: usize) -> Self {
        Self::with_limits(max_concurrent, usize::MAX, None)
    }

    /// `queue`: login verifications that may wait beyond the running ones; `failures_per_address`:
    /// the budget of failed verifications per client address (`None`: unlimited).
    pub fn with_limits(max_concurrent: usize, queue: usize, failures_per_address: Option<Rate>) -> Self {
        let max_concurrent = max_concurrent.max(1);
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent)),
            admitted: Arc::new(AtomicUsize::new(0)),
            max_admitted: max_concurrent.saturating_add(queue),
            failures: failures_per_address.map(|rate| Arc::new(Limiter::new(rate, MAX_TRACKED_ADDRESSES))),
        }
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, HashError> {
        self.run(move || hash_blocking(password.expose())).await?
    }

    /// True when `password` matches `stored`. With no stored hash (unknown user, user without a
    /// password) it still spends the same time and answers false.
    pub async fn verify(&self, password: SecretString, stored: Option<StoredPassword>) -> bool {
        self.run(move || verify_stored(&password, stored)).await.unwrap_or(false)
    }

    /// `verify` for a login from `address` (see `crate::ops::rate_limit::client_ip`): refused
    /// without hashing when the address has no failure budget left or the queue is full.
    pub async fn verify_login(
        &self,
        address: &str,
        now: UnixTime,
        password: SecretString,
        stored: Option<StoredPassword>,
    ) -> Result<bool, Refused> {
        if let Some(failures) = &self.failures {
            failures.check(address, now).map_err(|retry_after| Refused::Throttled { retry_after })?;
        }
        let Some(admission) = self.admit() else {
            if let Some(failures) = &self.failures {
                failures.refund(address, now);
            }
            return Err(Refused::Busy { retry_after: 1 });
        };
        let matched = self
            .run(move || {
                let _admission = admission;
                verify_stored(&password, stored)
            })
            .await
            .unwrap_or(false);
        if matched {
            if let Some(failures) = &self.failures {
                failures.refund(address, now);
            }
        }
        Ok(matched)
    }

    /// For a login check that hashes nothing (a one-time code): spends one unit of `address`'s
    /// budget of failures like a password check, so guessing codes is bounded per address as
    /// guessing passwords is. `forgive` gives it back when the check passed.
    pub fn charge_failure(&self, address: &str, now: UnixTime) -> Result<(), Refused> {
        match &self.failures {
            Some(failures) => failures.check(address, now).map_err(|retry_after| Refused::Throttled { retry_after }),
            None => Ok(()),
        }
    }

    pub fn forgive(&self, address: &str, now: UnixTime) {
        if let Some(failures) = &self.failures {
            failures.refund(address, now);
        }
    }

    fn admit(&self) -> Option<Admission> {
        let admitted = self.admitted.fetch_add(1, Ordering::SeqCst);
        let admission = Admission(self.admitted.clone());
        (admitted < self.max_admitted).then_some(admission)
    }

    /// Runs `job` on the blocking pool once a permit is free. The permit moves into the job, so
    /// it is held until the computation ends even if the caller stops waiting (a timed-out
    /// request): abandoned hashes still count against the bound.
    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|e| HashError(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|e| HashError(e.to_string()))
    }
}

fn verify_stored(password: &SecretString, stored: Option<StoredPassword>) -> bool {
    match stored {
        Some(StoredPassword::Keycloak { secret_data, credential_data }) => {
            super::keycloak_hash::verify(password.expose(), &secret_data, &credential_data)
        }
        Some(StoredPassword::Phc(phc)) => verify_phc(password.expose(), &phc),
        None => {
            let _ = verify_phc(password.expose(), dummy_hash());
            false
        }
    }
}

fn argon2id() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("the OWASP argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_blocking(password: &str) -> Result<String, HashError> {
    let salt = SaltString::encode_b64(&super::random::random_bytes::<16>())
        .map_err(|e| HashError(e.to_string()))?;
    argon2id()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// A PHC string's parameters are bounded before anything is computed (see `hash_bounds`).
fn verify_phc(password: &str, stored: &str) -> bool {
    match Phc::parse(stored) {
        Ok(phc) => phc.matches(password.as_bytes()),
        Err(refusal) => {
            tracing::warn!("stored password hash not verified: {refusal}");
            false
        }
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking("portcullis-dummy-password").unwrap_or_else(|_| String::from("$argon2id$"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(2);
        let hash = hasher.hash(SecretString::new("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let stored = || Some(StoredPassword::Phc(hash.clone()));
        assert!(hasher.verify(SecretString::new("correct horse"), stored()).await);
        assert!(!hasher.verify(SecretString::new("wrong"), stored()).await);
        assert!(!hasher.verify(SecretString::new("correct horse"), None).await);
    }

    #[tokio::test]
    async fn failures_use_up_the_address_budget_and_successes_give_it_back() {
        let hasher = PasswordHasher::with_limits(1, 8, Some(Rate { per_second: 0.01, burst: 2 }));
        let hash = hasher.hash(SecretString::new("pw")).await.unwrap();
        let stored = || Some(StoredPassword::Phc(hash.clone()));
        let login = |address: &'static str, password: &'static str| {
            let hasher = hasher.clone();
            let stored = stored();
            async move { hasher.verify_login(address, 1000, SecretString::new(password), stored).await }
        };
        for _ in 0..5 {
            assert_eq!(login("10.0.0.1", "pw").await, Ok(true), "valid credentials are never throttled");
        }
        assert_eq!(login("10.0.0.1", "bad").await, Ok(false));
        assert_eq!(login("10.0.0.1", "bad").await, Ok(false));
        assert!(matches!(login("10.0.0.1", "bad").await, Err(Refused::Throttled { retry_after }) if retry_after > 1));
        assert!(matches!(login("10.0.0.1", "pw").await, Err(Refused::Throttled { .. })), "no hash is spent once throttled");
        assert_eq!(login("10.0.0.2", "bad").await, Ok(false), "budgets are per address");
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_frees_when_hashes_finish() {
        let hasher = PasswordHasher::with_limits(1, 1, None);
        let running: Vec<_> = (0..2).map(|_| hasher.admit().expect("one running, one queued")).collect();
        assert!(hasher.admit().is_none());
        let refused = hasher.verify_login("a", 0, SecretString::new("pw"), None).await;
        assert_eq!(refused, Err(Refused::Busy { retry_after: 1 }));
        drop(running);
        assert_eq!(hasher.verify_login("a", 0, SecretString::new("pw"), None).await, Ok(false));
    }
}
