//! Token formats: realm key material and the in-memory key ring that signs with parsed key pairs
//! (DESIGN.md §6), JWT encoding, the claims we issue, refresh-token shells and access-token
//! verification (with its memo of verified signatures).

pub mod access;
pub mod claims;
pub mod jwt;
pub mod keys;
pub mod refresh;
pub mod verified;

pub use keys::{KeyMaterialError, KeyRing};
