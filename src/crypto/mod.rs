//! Cryptographic building blocks: randomness, the at-rest envelope, password hashing, a
//! low-priority pool for CPU-heavy steps and secret types that refuse to print. Token signing
//! lives in `oauth::tokens`; this module knows nothing about JWTs.

pub mod envelope;
pub mod hash_bounds;
pub mod keycloak_hash;
pub mod low_priority;
pub mod password;
pub mod random;
pub mod secret;

pub use envelope::MasterKey;
pub use secret::SecretString;

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// SHA-256, the only form in which refresh tokens, codes and jtis reach the database.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).into()
}

/// SHA-256 in lower-case hex: the key of the single-use records (`ActionTokenStore`) that
/// action tokens, PAR request_uris, client assertions and DPoP proofs spend.
pub fn sha256_hex(data: &[u8]) -> String {
    sha256(data).iter().map(|b| format!("{b:02x}")).collect()
}
