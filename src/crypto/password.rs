//! Password hashing with argon2id (OWASP: m=19 MiB, t=2, p=1) on a bounded blocking pool, so a
//! burst of logins queues here instead of starving token refreshes on the async workers
//! (DESIGN.md §5). Unknown users are checked against a dummy hash so timing reveals nothing.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use super::secret::SecretString;

const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

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

/// Hashes and verifies passwords off the async runtime, at most `permits` at a time.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl PasswordHasher {
    pub fn new(max_concurrent: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(max_concurrent.max(1))) }
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, HashError> {
        self.run(move || hash_blocking(password.expose())).await?
    }

    /// True when `password` matches `stored`. With no stored hash (unknown user, user without a
    /// password) it still spends the same time and answers false.
    pub async fn verify(&self, password: SecretString, stored: Option<StoredPassword>) -> bool {
        self.run(move || match stored {
            Some(StoredPassword::Keycloak { secret_data, credential_data }) => {
                super::keycloak_hash::verify(password.expose(), &secret_data, &credential_data)
            }
            Some(StoredPassword::Phc(phc)) => verify_blocking(password.expose(), Some(&phc)),
            None => verify_blocking(password.expose(), None),
        })
        .await
        .unwrap_or(false)
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self.permits.acquire().await.map_err(|e| HashError(e.to_string()))?;
        tokio::task::spawn_blocking(job).await.map_err(|e| HashError(e.to_string()))
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

fn verify_blocking(password: &str, stored: Option<&str>) -> bool {
    let Some(stored) = stored else {
        let _ = verify_phc(password, dummy_hash());
        return false;
    };
    verify_phc(password, stored)
}

fn verify_phc(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2id().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
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
}
