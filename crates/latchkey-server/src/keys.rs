//! Signing keys as the server uses them: making sure every tenant has one, and parsing the
//! published keys into `Signer`s once per change.

use latchkey_keys::{Algorithm, KeyError, Signer, generate_private_key, random};
use latchkey_store::{KeyRecord, KeyStatus, Store, StoreError};
use std::sync::Arc;

/// A failure to prepare a tenant's keys.
#[derive(Debug, thiserror::Error)]
pub enum KeySetupError {
    /// Reading or writing keys failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Generating or parsing a key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A stored key names an algorithm latchkey does not know.
    #[error("signing key {kid} has unknown algorithm {alg:?}")]
    UnknownAlgorithm {
        /// The key.
        kid: String,
        /// Its stored algorithm.
        alg: String,
    },
}

/// Gives `tenant` an RS256 signing key if it has no active key. Safe when several servers start
/// at once: only one insert wins, the others keep the winner's key.
pub async fn ensure_active_key(store: &dyn Store, tenant: &str, now: i64) -> Result<(), KeySetupError> {
    let keys = store.signing_keys(tenant).await?;
    if keys.iter().any(|key| key.status == KeyStatus::Active) {
        return Ok(());
    }
    let alg = Algorithm::default();
    let private_key = tokio::task::spawn_blocking(move || generate_private_key(alg))
        .await
        .map_err(|_| KeyError::Generate(alg))??;
    let record = KeyRecord {
        kid: random::uuid_v4(),
        tenant: tenant.to_owned(),
        alg: alg.as_str().to_owned(),
        status: KeyStatus::Active,
        private_key,
        created_at: now,
        activated_at: Some(now),
        retired_at: None,
    };
    if store.insert_first_key(&record).await? {
        tracing::info!(tenant, kid = %record.kid, alg = %alg, "created the tenant's first signing key");
    }
    Ok(())
}

/// A tenant's parsed keys: the one that signs, and every one published in the JWKS.
#[derive(Debug, Default, Clone)]
pub struct TenantKeys {
    /// The active key, if the tenant has one.
    pub active: Option<Arc<Signer>>,
    /// Keys published in the JWKS (next, active, retiring), newest first.
    pub published: Vec<Arc<Signer>>,
}

/// Parses a tenant's stored keys.
pub fn parse_keys(records: &[KeyRecord]) -> Result<TenantKeys, KeySetupError> {
    let mut keys = TenantKeys::default();
    for record in records.iter().filter(|record| record.status != KeyStatus::Retired) {
        let alg: Algorithm = record.alg.parse().map_err(|_| KeySetupError::UnknownAlgorithm {
            kid: record.kid.clone(),
            alg: record.alg.clone(),
        })?;
        let signer = Arc::new(Signer::from_pkcs8(&record.kid, alg, &record.private_key)?);
        if record.status == KeyStatus::Active {
            keys.active = Some(Arc::clone(&signer));
        }
        keys.published.push(signer);
    }
    Ok(keys)
}
