//! Token formats: realm key material and the in-memory key ring that signs with parsed key pairs
//! (DESIGN.md §6), JWKS rendering, and JWT encoding.

pub mod jwt;
pub mod keys;

pub use keys::{KeyRing, KeyMaterialError};
