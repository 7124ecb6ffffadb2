// placeholder: to be replaced by the realm import/export helper
#[derive(Debug, thiserror::Error)] #[error("x")] pub struct ExportError;
pub fn export_realm(_b: &crate::store::RealmBundle, _m: &crate::crypto::MasterKey) -> Result<super::representation::RealmRepresentation, ExportError> { todo!() }
