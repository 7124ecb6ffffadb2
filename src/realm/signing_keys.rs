//! Signing keys made on demand. A new realm has RS256, ES256 and EdDSA keys; a realm or client
//! that asks for another algorithm (`defaultSignatureAlgorithm`, a client's
//! `access.token.signed.response.alg`, `id.token.signed.response.alg` or
//! `user.info.response.signature.alg`) gets an active key for it when it is written (admin API)
//! or imported, as Keycloak makes its fallback key the first time one is needed, so a token is
//! signed with the supported algorithm asked for. (An unsupported one, ES512 or HS*, is refused
//! by the admin API; an import warns and tokens then use the realm's default.)

use crate::clock::UnixTime;
use crate::crypto::MasterKey;
use crate::domain::client::SIGNATURE_ATTRIBUTES;
use crate::domain::{Client, RealmSettings, SignatureAlgorithm};
use crate::oauth::tokens::keys::generate_signing_key;
use crate::oauth::tokens::KeyMaterialError;
use crate::store::{KeyStatus, SigningKeyRecord, Store, StoreError};

/// The algorithms the realm's settings and these clients sign with.
pub fn in_use<'a>(settings: &RealmSettings, clients: impl IntoIterator<Item = &'a Client>) -> Vec<SignatureAlgorithm> {
    let mut algs = vec![settings.default_signature_algorithm];
    for client in clients {
        for attribute in SIGNATURE_ATTRIBUTES {
            if let Ok(Some(alg)) = client.signature_algorithm(attribute) {
                if !algs.contains(&alg) {
                    algs.push(alg);
                }
            }
        }
    }
    algs
}

/// New active keys for those of `wanted` that `existing` has no active key for.
pub fn missing(
    realm_id: &str,
    existing: &[SigningKeyRecord],
    wanted: &[SignatureAlgorithm],
    master: &MasterKey,
    now: UnixTime,
) -> Result<Vec<SigningKeyRecord>, KeyMaterialError> {
    wanted
        .iter()
        .filter(|alg| !existing.iter().any(|k| k.status == KeyStatus::Active && k.algorithm == alg.as_str()))
        .map(|alg| generate_signing_key(realm_id, *alg, master, now))
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum EnsureError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyMaterialError),
}

/// At start-up: every realm gets the keys its settings and clients ask for, so a realm stored
/// before an algorithm was supported (its tokens then signed with the realm's default) signs
/// with the algorithm it names from now on.
pub async fn ensure_all(store: &dyn Store, master: &MasterKey, now: UnixTime) -> Result<(), EnsureError> {
    for realm in store.list_realms().await? {
        let clients = store.list_clients(&realm.id).await?;
        if ensure(store, master, &realm.id, in_use(&realm.settings, &clients), now).await? {
            tracing::info!(realm = %realm.name, "made signing keys for the algorithms its clients ask for");
        }
    }
    Ok(())
}

/// Stores an active key for each of `wanted` the realm lacks; whether any was made (the caller
/// then drops the realm's cached key ring). RSA keys take tens of milliseconds to generate, so
/// generation runs off the async workers.
pub async fn ensure(
    store: &dyn Store,
    master: &MasterKey,
    realm_id: &str,
    wanted: Vec<SignatureAlgorithm>,
    now: UnixTime,
) -> Result<bool, EnsureError> {
    let existing = store.signing_keys(realm_id).await?;
    if wanted.iter().all(|alg| existing.iter().any(|k| k.status == KeyStatus::Active && k.algorithm == alg.as_str())) {
        return Ok(false);
    }
    let (realm, master) = (realm_id.to_string(), master.clone());
    let made = tokio::task::spawn_blocking(move || missing(&realm, &existing, &wanted, &master, now))
        .await
        .map_err(|_| KeyMaterialError::Generation)??;
    // no active key of these algorithms existed, so nothing turns passive: `now` is unused
    store.rotate_keys(realm_id, &made, now).await?;
    Ok(!made.is_empty())
}
