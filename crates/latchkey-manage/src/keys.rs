//! The operator side of signing keys: the master keys that seal them, making and sealing keys,
//! rotating them by hand or on schedule (the steps `lifecycle::plan` asks for), and opening
//! stored keys into the `Signer`s a node serves with.

use arc_swap::ArcSwap;
use latchkey_keys::lifecycle::{
    self, KeyAction, MAX_ACTIVATION_DELAY_SECONDS, RotationPolicy, UnknownKeyAlgorithm,
    key_algorithm,
};
use latchkey_keys::{
    Algorithm, KeyError, KeyLife, Keyring, MasterKeyError, PendingKey, Signer, TenantKeys,
    generate_private_key, random,
};
use latchkey_store::{KeyRecord, KeyStatus, Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;
use zeroize::Zeroizing;

/// A failure to make, seal, open, rotate or maintain signing keys.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    /// Reading or writing keys failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Generating or parsing a key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Sealing or unsealing a key failed.
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    /// A stored key names an algorithm latchkey does not know.
    #[error(transparent)]
    UnknownAlgorithm(#[from] UnknownKeyAlgorithm),
    /// A rotation scheduled further ahead than `MAX_ACTIVATION_DELAY_SECONDS`.
    #[error("a rotation can be scheduled at most a year ahead")]
    TooFarAhead,
    /// Another rotation changed the keys at the same moment.
    #[error("another key rotation for tenant {0:?} happened at the same time; run it again")]
    Concurrent(String),
    /// Reading the master key file failed. The cause is in the message, not a `source`: these
    /// errors are logged by their message, and a printed chain would name it twice.
    #[error("could not read the master key file {}: {error}", path.display())]
    MasterKeyFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        error: std::io::Error,
    },
}

/// The master keys in use, and the file they came from (re-read when a signing key turns out
/// to be sealed by a key this process has not seen: a `master-key rotate` by another process).
pub struct MasterKeys {
    file: Option<PathBuf>,
    keyring: ArcSwap<Keyring>,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeys")
            .field("file", &self.file)
            .field("keyring", &self.keyring.load())
            .finish()
    }
}

impl MasterKeys {
    /// Master keys given inline (an environment variable) or read from `file`.
    pub fn new(keyring: Keyring, file: Option<PathBuf>) -> MasterKeys {
        MasterKeys {
            file,
            keyring: ArcSwap::from_pointee(keyring),
        }
    }

    /// Reads the keyring from a file.
    pub fn from_file(path: PathBuf) -> Result<MasterKeys, SigningKeyError> {
        let keyring = read_keyring(&path)?;
        Ok(MasterKeys::new(keyring, Some(path)))
    }

    /// The current keyring.
    pub fn keyring(&self) -> Arc<Keyring> {
        self.keyring.load_full()
    }

    /// The file the keys come from, if any.
    pub fn file(&self) -> Option<&PathBuf> {
        self.file.as_ref()
    }

    /// Seals a private key with the current master key.
    pub fn seal(&self, kid: &str, pkcs8: &[u8]) -> Result<(String, Vec<u8>), SigningKeyError> {
        Ok(self.keyring.load().seal(kid, pkcs8)?)
    }

    /// The PKCS#8 bytes of a stored key, wiped when dropped.
    pub fn open(&self, record: &KeyRecord) -> Result<Zeroizing<Vec<u8>>, SigningKeyError> {
        let Some(master_key_id) = &record.master_key_id else {
            // Stored before sealing existed; `seal_plain_keys` seals it on the next start.
            return Ok(Zeroizing::new(record.private_key.clone()));
        };
        match self
            .keyring
            .load()
            .open(master_key_id, &record.kid, &record.private_key)
        {
            Err(MasterKeyError::Unknown { .. }) if self.file.is_some() => {
                self.reload()?;
                Ok(self
                    .keyring
                    .load()
                    .open(master_key_id, &record.kid, &record.private_key)?)
            }
            other => Ok(other?),
        }
    }

    fn reload(&self) -> Result<(), SigningKeyError> {
        if let Some(path) = &self.file {
            self.keyring.store(Arc::new(read_keyring(path)?));
        }
        Ok(())
    }
}

fn read_keyring(path: &PathBuf) -> Result<Keyring, SigningKeyError> {
    // The file's text is the master keys: wiped once parsed.
    let text = std::fs::read_to_string(path).map_err(|error| SigningKeyError::MasterKeyFile {
        path: path.clone(),
        error,
    })?;
    let text = Zeroizing::new(text);
    Ok(Keyring::parse(&text)?)
}

/// Generates and seals a new key record (not yet stored).
pub async fn new_key(
    master: &MasterKeys,
    tenant: &str,
    alg: Algorithm,
    status: KeyStatus,
    now: i64,
) -> Result<KeyRecord, SigningKeyError> {
    // RSA key generation takes tens of milliseconds: keep it off the async workers.
    let pkcs8 = tokio::task::spawn_blocking(move || generate_private_key(alg))
        .await
        .map_err(|_| KeyError::Generate(alg))??;
    let kid = random::uuid_v4();
    let (master_key_id, sealed) = master.seal(&kid, &pkcs8)?;
    Ok(KeyRecord {
        kid,
        tenant: tenant.to_owned(),
        alg: alg.as_str().to_owned(),
        status,
        private_key: sealed,
        master_key_id: Some(master_key_id),
        created_at: now,
        activated_at: (status == KeyStatus::Active).then_some(now),
        activate_at: None,
        retire_at: None,
        retired_at: None,
    })
}

/// Gives `tenant` an RS256 signing key if it has no active key. Safe when several servers start
/// at once: only one insert wins, the others keep the winner's key.
pub async fn ensure_active_key(
    store: &dyn Store,
    master: &MasterKeys,
    tenant: &str,
    now: i64,
) -> Result<(), SigningKeyError> {
    let keys = store.signing_keys(tenant).await?;
    if keys.iter().any(|key| key.status == KeyStatus::Active) {
        return Ok(());
    }
    let record = new_key(master, tenant, Algorithm::default(), KeyStatus::Active, now).await?;
    if store.insert_key(&record, None).await? {
        tracing::info!(tenant, kid = %record.kid, alg = %record.alg, "created the tenant's first signing key");
    }
    Ok(())
}

/// Seals keys stored in plain form by an earlier version.
pub async fn seal_plain_keys(
    store: &dyn Store,
    master: &MasterKeys,
) -> Result<usize, SigningKeyError> {
    let mut sealed_count = 0;
    for record in store
        .all_signing_keys()
        .await?
        .iter()
        .filter(|key| key.master_key_id.is_none())
    {
        let (master_key_id, sealed) = master.seal(&record.kid, &record.private_key)?;
        if store
            .reseal_key(&record.kid, None, &sealed, &master_key_id)
            .await?
        {
            sealed_count += 1;
        }
    }
    Ok(sealed_count)
}

/// Re-seals every signing key with the current master key; returns how many changed.
pub async fn reseal_all(store: &dyn Store, master: &MasterKeys) -> Result<usize, SigningKeyError> {
    let current = master.keyring().current_id().to_owned();
    let mut resealed = 0;
    for record in store.all_signing_keys().await? {
        if record.master_key_id.as_deref() == Some(current.as_str()) {
            continue;
        }
        let pkcs8 = master.open(&record)?;
        let (master_key_id, sealed) = master.seal(&record.kid, &pkcs8)?;
        if store
            .reseal_key(
                &record.kid,
                record.master_key_id.as_deref(),
                &sealed,
                &master_key_id,
            )
            .await?
        {
            resealed += 1;
        }
    }
    Ok(resealed)
}

/// Makes the store ready for a node to load: seals keys an earlier version stored in plain form,
/// and gives every tenant without an active key its first one (only a first start, or tenants
/// stored by an older version, lack one: tenants are created with their key). Run before the
/// snapshot is built, so that loading and following changes only read.
pub async fn prepare(
    store: &dyn Store,
    master: &MasterKeys,
    now: i64,
) -> Result<(), SigningKeyError> {
    let sealed = seal_plain_keys(store, master).await?;
    if sealed > 0 {
        tracing::info!(
            count = sealed,
            "sealed signing keys stored in plain form with the master key"
        );
    }
    for tenant in store.tenants().await? {
        ensure_active_key(store, master, &tenant.name, now).await?;
    }
    Ok(())
}

/// Opens and parses a tenant's stored keys as they stand at `now`: a `next` key whose
/// activation instant has come signs, even before a node has recorded it as active, so a
/// reload never switches a node back to the key it left.
pub fn parse_keys(
    records: &[KeyRecord],
    master: &MasterKeys,
    now: i64,
) -> Result<TenantKeys, SigningKeyError> {
    let mut keys = TenantKeys::default();
    let mut stored_active = None;
    for record in records
        .iter()
        .filter(|record| record.status != KeyStatus::Retired)
    {
        let alg = key_algorithm(record)?;
        let signer = Arc::new(Signer::from_pkcs8(&record.kid, alg, &master.open(record)?)?);
        match (record.status, record.activate_at) {
            (KeyStatus::Active, _) => stored_active = Some(Arc::clone(&signer)),
            (KeyStatus::Next, Some(activate_at)) => {
                keys.pending = Some(PendingKey {
                    signer: Arc::clone(&signer),
                    activate_at,
                });
            }
            _ => {}
        }
        keys.lives.push(KeyLife {
            kid: record.kid.clone(),
            stored_status: record.status,
            created_at: record.created_at,
        });
        keys.published.push(signer);
    }
    keys.active = stored_active;
    if let Some(kid) = keys
        .pending
        .as_ref()
        .map(|pending| pending.signer.kid().to_owned())
    {
        keys.activate(&kid, now);
    }
    Ok(keys)
}

/// When a key of `tenant` retired at `now` stops being needed (`lifecycle::retire_at`, with the
/// longest TTL the tenant's apps have ever had).
async fn retire_at(
    store: &dyn Store,
    tenant: &str,
    policy: &RotationPolicy,
    now: i64,
) -> Result<i64, SigningKeyError> {
    let max_ttl = store.max_token_ttl(tenant).await?;
    Ok(lifecycle::retire_at(max_ttl, policy, now))
}

/// Carries out the life cycle steps due for a tenant; returns the actions taken.
pub async fn maintain(
    store: &dyn Store,
    master: &MasterKeys,
    tenant: &str,
    policy: &RotationPolicy,
    now: i64,
) -> Result<Vec<KeyAction>, SigningKeyError> {
    let keys = store.signing_keys(tenant).await?;
    let mut done = Vec::new();
    for action in lifecycle::plan(&keys, policy, now) {
        let applied = match &action {
            KeyAction::CreateNext(alg) => {
                store
                    .insert_key(
                        &new_key(master, tenant, *alg, KeyStatus::Next, now).await?,
                        None,
                    )
                    .await?
            }
            KeyAction::Promote(kid) => {
                let retire_at = retire_at(store, tenant, policy, now).await?;
                store.promote_key(tenant, kid, now, retire_at, None).await?
            }
            KeyAction::Retire(kid) => store.retire_key(kid, now).await?,
            KeyAction::Remove(kid) => store.delete_key(kid).await?,
        };
        if applied {
            tracing::info!(tenant, ?action, "signing key life cycle step");
            done.push(action);
        }
    }
    Ok(done)
}

/// Rotates a tenant's signing key to a new one (of `alg`, or of the active key's algorithm);
/// returns the new kid. With no delay the new key signs from this moment, and verifiers that
/// cached the JWKS do not know it until they refetch. With `delay_seconds`, the key is
/// published now and signs from `now + delay_seconds` on, on every node: each switches at the
/// instant, the first to record it makes it active in the store, and maintenance does if no
/// node was running then. Either way the old key stays published until its tokens have expired.
pub async fn rotate(
    store: &dyn Store,
    master: &MasterKeys,
    tenant: &str,
    alg: Option<Algorithm>,
    delay_seconds: u64,
    actor: crate::audit::Actor<'_>,
    now: i64,
) -> Result<String, SigningKeyError> {
    if delay_seconds > MAX_ACTIVATION_DELAY_SECONDS {
        return Err(SigningKeyError::TooFarAhead);
    }
    // Bounded just above, so it fits.
    let activate_at = (delay_seconds > 0).then(|| now + delay_seconds as i64);
    let scheduled = activate_at.map(|at| (at, actor));
    let (kid, alg) = successor(store, master, tenant, alg, scheduled, now).await?;
    if activate_at.is_none() {
        // Only the clock allowance of the policy matters for a rotation made by hand.
        let policy = RotationPolicy::every_days(0);
        let retire_at = retire_at(store, tenant, &policy, now).await?;
        let details = serde_json::json!({ "alg": alg.as_str(), "previous_retire_at": retire_at });
        let event = crate::audit::event(actor, tenant, "key.rotate", &kid, details, now);
        if !store
            .promote_key(tenant, &kid, now, retire_at, Some(&event))
            .await?
        {
            return Err(SigningKeyError::Concurrent(tenant.to_owned()));
        }
    }
    Ok(kid)
}

/// The `next` key a rotation promotes, of `alg` (default: the active key's), with its
/// activation instant set: the one already published when it has that algorithm (caches may
/// hold it already), else a new one replacing it. A rotation scheduled ahead (`scheduled`: the
/// instant and who asked) is complete once this key is written, so its audit event is recorded
/// with that write.
async fn successor(
    store: &dyn Store,
    master: &MasterKeys,
    tenant: &str,
    alg: Option<Algorithm>,
    scheduled: Option<(i64, crate::audit::Actor<'_>)>,
    now: i64,
) -> Result<(String, Algorithm), SigningKeyError> {
    let keys = store.signing_keys(tenant).await?;
    let active_alg = keys
        .iter()
        .find(|key| key.status == KeyStatus::Active)
        .map(key_algorithm)
        .transpose()?;
    let alg = alg.or(active_alg).unwrap_or_default();
    let event = |kid: &str| {
        scheduled.map(|(at, actor)| {
            let details = serde_json::json!({ "alg": alg.as_str(), "activate_at": at });
            crate::audit::event(actor, tenant, "key.rotate", kid, details, now)
        })
    };
    let next = keys.iter().find(|key| key.status == KeyStatus::Next);
    if let Some(next) = next
        && key_algorithm(next)? == alg
    {
        if let Some((at, _)) = scheduled
            && !store
                .schedule_key(tenant, &next.kid, at, event(&next.kid).as_ref())
                .await?
        {
            return Err(SigningKeyError::Concurrent(tenant.to_owned()));
        }
        return Ok((next.kid.clone(), alg));
    }
    if let Some(next) = next {
        store.delete_key(&next.kid).await?;
    }
    let mut record = new_key(master, tenant, alg, KeyStatus::Next, now).await?;
    record.activate_at = scheduled.map(|(at, _)| at);
    if !store
        .insert_key(&record, event(&record.kid).as_ref())
        .await?
    {
        return Err(SigningKeyError::Concurrent(tenant.to_owned()));
    }
    Ok((record.kid, alg))
}

/// Records in the store that the scheduled key `kid` became active at `activate_at`. Every
/// node that switched calls it; the conditional promotion lets exactly one of them through.
pub async fn promote_scheduled(
    store: &dyn Store,
    tenant: &str,
    kid: &str,
    activate_at: i64,
    policy: &RotationPolicy,
) -> Result<bool, SigningKeyError> {
    let retire_at = retire_at(store, tenant, policy, activate_at).await?;
    Ok(store
        .promote_key(tenant, kid, activate_at, retire_at, None)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, status: KeyStatus, created_at: i64) -> KeyRecord {
        KeyRecord {
            kid: kid.into(),
            tenant: "default".into(),
            alg: "RS256".into(),
            status,
            private_key: vec![],
            master_key_id: None,
            created_at,
            activated_at: (status == KeyStatus::Active).then_some(created_at),
            activate_at: None,
            retire_at: None,
            retired_at: None,
        }
    }

    /// Sealed ES256 records (quick to generate) of the given kids and statuses.
    fn sealed(master: &MasterKeys, keys: &[(&str, KeyStatus, Option<i64>)]) -> Vec<KeyRecord> {
        keys.iter()
            .map(|(kid, status, activate_at)| {
                let pkcs8 = generate_private_key(Algorithm::Es256).unwrap();
                let (master_key_id, private_key) = master.seal(kid, &pkcs8).unwrap();
                KeyRecord {
                    alg: "ES256".into(),
                    private_key,
                    master_key_id: Some(master_key_id),
                    activate_at: *activate_at,
                    ..key(kid, *status, 0)
                }
            })
            .collect()
    }

    #[test]
    fn a_scheduled_key_signs_from_its_instant_in_parsed_keys_and_in_a_switch() {
        let text = latchkey_keys::master_key::generate_text();
        let master = MasterKeys::new(Keyring::parse(&text).unwrap(), None);
        let records = sealed(
            &master,
            &[
                ("b", KeyStatus::Next, Some(100)),
                ("a", KeyStatus::Active, None),
            ],
        );
        let active_kid = |keys: &TenantKeys| keys.active.as_ref().map(|s| s.kid().to_owned());

        let mut before = parse_keys(&records, &master, 99).unwrap();
        assert_eq!(active_kid(&before).as_deref(), Some("a"));
        assert_eq!(before.published.len(), 2);
        assert!(!before.activate("b", 99), "not before the instant");
        assert!(!before.activate("a", 100), "only the pending key");
        assert!(before.activate("b", 100));
        assert_eq!(active_kid(&before).as_deref(), Some("b"));
        assert!(before.pending.is_none());
        assert!(!before.activate("b", 101), "once");

        let after = parse_keys(&records, &master, 100).unwrap();
        assert_eq!(active_kid(&after).as_deref(), Some("b"));
        assert!(after.pending.is_none());
        assert_eq!(after.published.len(), 2, "the old key stays published");
    }
}
