//! AES-256-GCM envelope under the master key, for what must be readable back but never stored in
//! plain text: signing keys' private parts and client secrets (DESIGN.md §5). Each value gets a fresh
//! 96-bit nonce; the associated data binds a ciphertext to its row so blobs cannot be swapped.

use std::fmt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::random::random_bytes;

const NONCE_LEN: usize = 12;
const VERSION: u8 = 1;

#[derive(Clone)]
pub struct MasterKey(Key<Aes256Gcm>);

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("the master key must be 32 bytes encoded in base64 (got {0} bytes)")]
    WrongLength(usize),
    #[error("the master key is not valid base64")]
    NotBase64,
    #[error("cannot read or write the master key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt a value sealed at rest (wrong master key or damaged data)")]
pub struct OpenError;

impl MasterKey {
    pub fn generate() -> Self {
        Self(random_bytes::<32>().into())
    }

    pub fn from_base64(encoded: &str) -> Result<Self, MasterKeyError> {
        let bytes = STANDARD.decode(encoded.trim()).map_err(|_| MasterKeyError::NotBase64)?;
        if bytes.len() != 32 {
            return Err(MasterKeyError::WrongLength(bytes.len()));
        }
        Ok(Self(*Key::<Aes256Gcm>::from_slice(&bytes)))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_slice())
    }

    /// Reads the key file, or creates it with a fresh key (mode 0600) when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, MasterKeyError> {
        let io = |source| MasterKeyError::Io { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                write_private_file(path, key.to_base64().as_bytes()).map_err(io)?;
                Ok(key)
            }
            Err(e) => Err(io(e)),
        }
    }

    pub fn load(path: &Path) -> Result<Self, MasterKeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| MasterKeyError::Io { path: path.display().to_string(), source })?;
        Self::from_base64(&text)
    }

    /// `version || nonce || ciphertext+tag`, bound to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce = random_bytes::<NONCE_LEN>();
        let cipher = Aes256Gcm::new(&self.0);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .expect("AES-GCM encryption cannot fail for inputs under 64 GiB");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        Aes256Gcm::new(&self.0)
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad })
            .map_err(|_| OpenError)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_row() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"client-secret", b"client:1");
        assert_eq!(key.open(&sealed, b"client:1").unwrap(), b"client-secret");
        assert!(key.open(&sealed, b"client:2").is_err());
        assert!(MasterKey::generate().open(&sealed, b"client:1").is_err());
        assert!(!sealed.windows(13).any(|w| w == b"client-secret"));
    }

    #[test]
    fn a_short_key_is_refused() {
        assert!(matches!(MasterKey::from_base64("AAAA"), Err(MasterKeyError::WrongLength(3))));
    }
}
