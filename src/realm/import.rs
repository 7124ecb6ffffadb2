// placeholder: to be replaced by the realm import/export helper
use crate::{clock::UnixTime, crypto::{password::PasswordHasher, MasterKey}, store::RealmBundle};
pub struct ImportContext<'a> { pub master: &'a MasterKey, pub hasher: &'a PasswordHasher, pub now: UnixTime }
#[derive(Debug, thiserror::Error)] #[error("{file}: at {path}: {message}")]
pub struct ImportError { pub file: String, pub path: String, pub message: String }
pub struct ParsedRealm { pub name: String, pub representation: super::representation::RealmRepresentation, pub warnings: Vec<String> }
pub fn parse_realm_json(_file_label: &str, _text: &str) -> Result<Vec<ParsedRealm>, ImportError> { todo!() }
pub async fn build_bundle(_parsed: &ParsedRealm, _ctx: &ImportContext<'_>) -> Result<(RealmBundle, Vec<String>), ImportError> { todo!() }
