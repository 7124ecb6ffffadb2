//! Bounds on the work one stored password hash may ask of a verification, and argon2 computed
//! in memory the server allocates itself. A hash's parameters are data (a realm file, a Keycloak
//! export, `POST /admin/realms`): trusted, one login attempt could ask for 4 TiB of memory (the
//! process aborted) or 2^31 PBKDF2 rounds (a core pinned for 40 minutes; issue 13 item 1).
//! Import refuses a hash beyond these bounds; verification checks them again, so a hash stored
//! before they existed is refused, never computed.

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// argon2 memory: 1 GiB (Keycloak's default is 7 MiB, OWASP's 19 MiB).
pub const ARGON2_MAX_MEMORY_KIB: u32 = 1024 * 1024;
/// argon2 passes (Keycloak's default is 5, OWASP's 2).
pub const ARGON2_MAX_ITERATIONS: u32 = 10;
/// argon2 lanes (Keycloak's default is 1).
pub const ARGON2_MAX_PARALLELISM: u32 = 16;
/// PBKDF2 rounds (Keycloak's pbkdf2-sha512 default is 210,000; pbkdf2-sha256 27,500).
pub const PBKDF2_MAX_ITERATIONS: u32 = 1_000_000;
/// The stored hash (derived key) length, for every algorithm (Keycloak writes 32 or 64).
pub const MAX_HASH_BYTES: usize = 64;

/// Why a stored hash is refused: the message names the parameter, its value and the bound.
pub type OutOfBounds = String;

pub fn check_argon2(memory_kib: u32, iterations: u32, parallelism: u32, hash_len: usize) -> Result<(), OutOfBounds> {
    if memory_kib > ARGON2_MAX_MEMORY_KIB {
        return Err(format!("argon2 memory {memory_kib} KiB exceeds the bound of {ARGON2_MAX_MEMORY_KIB} KiB (1 GiB)"));
    }
    if iterations > ARGON2_MAX_ITERATIONS {
        return Err(format!("argon2 iterations {iterations} exceed the bound of {ARGON2_MAX_ITERATIONS}"));
    }
    if parallelism > ARGON2_MAX_PARALLELISM {
        return Err(format!("argon2 parallelism {parallelism} exceeds the bound of {ARGON2_MAX_PARALLELISM}"));
    }
    check_hash_len(hash_len)
}

pub fn check_pbkdf2(iterations: i64, hash_len: usize) -> Result<(), OutOfBounds> {
    if iterations > i64::from(PBKDF2_MAX_ITERATIONS) {
        return Err(format!("PBKDF2 hashIterations {iterations} exceed the bound of {PBKDF2_MAX_ITERATIONS}"));
    }
    check_hash_len(hash_len)
}

fn check_hash_len(hash_len: usize) -> Result<(), OutOfBounds> {
    if hash_len > MAX_HASH_BYTES {
        return Err(format!("a hash of {hash_len} bytes exceeds the bound of {MAX_HASH_BYTES} bytes"));
    }
    Ok(())
}

/// Whether argon2 of `password` and `salt` under these parameters is `expected`, computed in a
/// block buffer allocated here, fallibly: a failed allocation refuses the login, it never
/// aborts the process. Parameters beyond the bounds are refused without computing anything.
pub fn argon2_matches(algorithm: Algorithm, version: Version, params: &Params, password: &[u8], salt: &[u8], expected: &[u8]) -> bool {
    if let Err(refusal) = check_argon2(params.m_cost(), params.t_cost(), params.p_cost(), expected.len()) {
        tracing::error!("stored argon2 hash refused: {refusal}");
        return false;
    }
    let count = params.block_count();
    let mut blocks: Vec<Block> = Vec::new();
    if blocks.try_reserve_exact(count).is_err() {
        tracing::error!(kib = params.m_cost(), "cannot allocate memory to verify an argon2 hash");
        return false;
    }
    blocks.resize(count, Block::default());
    let mut out = vec![0u8; expected.len()];
    let computed = Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password, salt, &mut out, &mut blocks)
        .is_ok();
    computed && super::constant_time_eq(&out, expected)
}

/// An argon2 PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`), parsed and bounded.
pub struct Phc {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl Phc {
    pub fn parse(phc: &str) -> Result<Phc, OutOfBounds> {
        let malformed = |what: &str| format!("malformed argon2 PHC string ({what})");
        let parsed = PasswordHash::new(phc).map_err(|_| malformed("syntax"))?;
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|_| malformed("algorithm"))?;
        let version = match parsed.version {
            None => Version::default(),
            Some(v) => Version::try_from(v).map_err(|_| malformed("version"))?,
        };
        let hash = parsed.hash.ok_or_else(|| malformed("no hash"))?.as_bytes().to_vec();
        // the bounds first: `Params` itself accepts 4 TiB
        let param = |name: &str| parsed.params.get_decimal(name);
        let (Some(m), Some(t), Some(p)) = (param("m"), param("t"), param("p")) else {
            return Err(malformed("m, t or p missing"));
        };
        check_argon2(m, t, p, hash.len())?;
        let params = Params::new(m, t, p, Some(hash.len())).map_err(|_| malformed("parameters"))?;
        let mut buffer = [0u8; 64];
        let salt = parsed.salt.ok_or_else(|| malformed("no salt"))?;
        let salt = salt.decode_b64(&mut buffer).map_err(|_| malformed("salt"))?.to_vec();
        Ok(Phc { algorithm, version, params, salt, hash })
    }

    pub fn matches(&self, password: &[u8]) -> bool {
        argon2_matches(self.algorithm, self.version, &self.params, password, &self.salt, &self.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_phc_parameters_are_refused_before_any_allocation() {
        let hostile = "$argon2id$v=19$m=4294967295,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$\
                       AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let error = Phc::parse(hostile).err().unwrap_or_default();
        assert!(error.contains("4294967295 KiB") && error.contains("1048576 KiB"), "{error}");
        let slow = "$argon2id$v=19$m=19456,t=4294967295,p=1$c2FsdHNhbHRzYWx0c2FsdA$\
                    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(Phc::parse(slow).err().unwrap_or_default().contains("iterations"));
        let wide = "$argon2id$v=19$m=19456,t=2,p=255$c2FsdHNhbHRzYWx0c2FsdA$\
                    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(Phc::parse(wide).err().unwrap_or_default().contains("parallelism"));
    }

    #[test]
    fn a_phc_string_within_the_bounds_verifies_its_password_only() {
        let phc = crate::crypto::password::hash_blocking("pw").unwrap();
        let parsed = Phc::parse(&phc).unwrap();
        assert!(parsed.matches(b"pw"));
        assert!(!parsed.matches(b"px"));
    }

    #[test]
    fn parameters_past_the_bounds_never_compute() {
        let params = Params::new(ARGON2_MAX_MEMORY_KIB + 8, 1, 1, Some(32)).unwrap();
        assert!(!argon2_matches(Algorithm::Argon2id, Version::V0x13, &params, b"pw", b"saltsaltsaltsalt", &[0; 32]));
        assert!(check_pbkdf2(i64::from(i32::MAX), 32).unwrap_err().contains("2147483647"));
        assert!(check_pbkdf2(27_500, 65).unwrap_err().contains("65 bytes"));
        assert!(check_pbkdf2(210_000, 64).is_ok());
    }
}
