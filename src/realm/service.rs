//! Realm operations shared by the CLI and the server: importing files (with Keycloak's
//! exists/override semantics), exporting, and rotating signing keys.

use std::path::{Path, PathBuf};

use crate::clock::UnixTime;
use crate::crypto::password::PasswordHasher;
use crate::crypto::MasterKey;
use crate::domain::SignatureAlgorithm;
use crate::oauth::tokens::keys::generate_signing_key;
use crate::oauth::tokens::KeyMaterialError;
use crate::realm::export::export_realm;
use crate::realm::import::{build_bundle, parse_realm_json, ImportContext, ImportError, ParsedRealm};
use crate::realm::representation::RealmRepresentation;
use crate::store::{KeyStatus, Store, StoreError};

/// What to do with a realm that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExisting {
    /// `portcullis import` without `--override`: a clear error, nothing imported.
    Fail,
    /// `start-dev --import-realm`: keep the existing realm, import the others (Keycloak's
    /// behaviour, so a restart with the same flags neither fails nor duplicates).
    Skip,
    /// `--override`: replace the realm and everything it owns.
    Replace,
}

#[derive(Debug, thiserror::Error)]
pub enum RealmServiceError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("realm {0} already exists (use --override to replace it)")]
    Exists(String),
    #[error("cannot import: {0}")]
    Conflict(String),
    #[error("realm {0} does not exist")]
    UnknownRealm(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyMaterialError),
    #[error("{0}")]
    Export(String),
}

/// One line per realm for the operator: what happened and what was ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    pub realm: String,
    pub imported: bool,
    pub warnings: Vec<String>,
}

/// The files a path names: itself, or every `*.json` in a directory, sorted.
pub fn realm_files(path: &Path) -> Result<Vec<PathBuf>, RealmServiceError> {
    let read_err = |source| RealmServiceError::Read { path: path.display().to_string(), source };
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_err)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "json") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Parses every file first, then writes every realm in one transaction: a malformed file or a
/// conflict leaves the database as it was.
pub async fn import_paths(
    store: &dyn Store,
    master: &MasterKey,
    hasher: &PasswordHasher,
    now: UnixTime,
    paths: &[PathBuf],
    on_existing: OnExisting,
) -> Result<Vec<ImportOutcome>, RealmServiceError> {
    let mut parsed: Vec<ParsedRealm> = Vec::new();
    for path in paths {
        for file in realm_files(path)? {
            let text = std::fs::read_to_string(&file)
                .map_err(|source| RealmServiceError::Read { path: file.display().to_string(), source })?;
            parsed.extend(parse_realm_json(&file.display().to_string(), &text)?);
        }
    }
    let mut outcomes = Vec::new();
    let mut bundles = Vec::new();
    let ctx = ImportContext { master, hasher, now };
    for realm in parsed {
        let exists = store.realm_by_name(&realm.name).await?.is_some();
        match (exists, on_existing) {
            (true, OnExisting::Fail) => return Err(RealmServiceError::Exists(realm.name)),
            (true, OnExisting::Skip) => {
                outcomes.push(ImportOutcome { realm: realm.name, imported: false, warnings: Vec::new() });
                continue;
            }
            _ => {}
        }
        let (bundle, mut warnings) = build_bundle(&realm, &ctx).await?;
        if bundle.realm.as_ref().is_some_and(|r| !r.settings.revoke_refresh_token) {
            warnings.push(
                "revokeRefreshToken is false in the file (Keycloak's default): refresh tokens of this realm \
                 will not rotate; set it to true for Portcullis's secure default"
                    .to_string(),
            );
        }
        let mut all = realm.warnings.clone();
        all.append(&mut warnings);
        outcomes.push(ImportOutcome { realm: realm.name.clone(), imported: true, warnings: all });
        bundles.push(bundle);
    }
    match store.create_realms(&bundles, on_existing == OnExisting::Replace).await {
        Err(StoreError::Conflict(what)) => Err(RealmServiceError::Conflict(what)),
        other => other.map(|()| outcomes).map_err(Into::into),
    }
}

pub async fn export(
    store: &dyn Store,
    master: &MasterKey,
    realm_name: &str,
) -> Result<RealmRepresentation, RealmServiceError> {
    let realm = store
        .realm_by_name(realm_name)
        .await?
        .ok_or_else(|| RealmServiceError::UnknownRealm(realm_name.to_string()))?;
    let bundle = store.realm_bundle(&realm.id).await?;
    export_realm(&bundle, master).map_err(|e| RealmServiceError::Export(e.to_string()))
}

/// Seconds a retired key must stay published: the longest access or id token lifespan the realm
/// can issue, plus a minute of clock skew.
pub async fn key_publication_window(
    store: &dyn Store,
    realm: &crate::domain::Realm,
) -> Result<i64, StoreError> {
    let clients = store.list_clients(&realm.id).await?;
    let longest = clients
        .iter()
        .filter_map(|c| c.access_token_lifespan())
        .chain([realm.settings.access_token_lifespan])
        .max()
        .unwrap_or(realm.settings.access_token_lifespan);
    Ok(longest + 60)
}

/// New active keys for every algorithm the realm signs with (RS256, ES256, EdDSA and any made
/// on demand, `realm::signing_keys`); the old ones stay in JWKS until every token they
/// signed has expired. Returns the new key ids.
pub async fn rotate_keys(
    store: &dyn Store,
    master: &MasterKey,
    realm_name: &str,
    now: UnixTime,
) -> Result<Vec<String>, RealmServiceError> {
    let realm = store
        .realm_by_name(realm_name)
        .await?
        .ok_or_else(|| RealmServiceError::UnknownRealm(realm_name.to_string()))?;
    // every algorithm the realm has an active key for (at least the initial three)
    let mut algs: Vec<SignatureAlgorithm> = SignatureAlgorithm::INITIAL.to_vec();
    for key in store.signing_keys(&realm.id).await? {
        if let Some(alg) = SignatureAlgorithm::parse(&key.algorithm).filter(|a| key.status == KeyStatus::Active && !algs.contains(a)) {
            algs.push(alg);
        }
    }
    let keys = algs
        .into_iter()
        .map(|alg| generate_signing_key(&realm.id, alg, master, now))
        .collect::<Result<Vec<_>, _>>()?;
    let window = key_publication_window(store, &realm).await?;
    store.rotate_keys(&realm.id, &keys, now + window).await?;
    Ok(keys.into_iter().map(|k| k.kid).collect())
}
