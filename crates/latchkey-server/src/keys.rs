//! Signing keys as the server uses them: master keys that seal them, making sure every tenant
//! has one, parsing published keys into `Signer`s once per change, and the rotation life cycle
//! (next → active → retiring → retired → removed).

use arc_swap::ArcSwap;
use latchkey_keys::{
    Algorithm, KeyError, Keyring, MasterKeyError, Signer, generate_private_key, random,
};
use latchkey_protocol::client::DEFAULT_TOKEN_TTL;
use latchkey_protocol::introspection::TokenClaims;
use latchkey_store::{KeyRecord, KeyStatus, Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

/// A failure to prepare or rotate a tenant's keys.
#[derive(Debug, thiserror::Error)]
pub enum KeySetupError {
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
    #[error("signing key {kid} has unknown algorithm {alg:?}")]
    UnknownAlgorithm {
        /// The key.
        kid: String,
        /// Its stored algorithm.
        alg: String,
    },
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
    pub fn from_file(path: PathBuf) -> Result<MasterKeys, KeySetupError> {
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
    pub fn seal(&self, kid: &str, pkcs8: &[u8]) -> Result<(String, Vec<u8>), KeySetupError> {
        Ok(self.keyring.load().seal(kid, pkcs8)?)
    }

    /// The PKCS#8 bytes of a stored key.
    pub fn open(&self, record: &KeyRecord) -> Result<Vec<u8>, KeySetupError> {
        let Some(master_key_id) = &record.master_key_id else {
            // Stored before sealing existed; `seal_plain_keys` seals it on the next start.
            return Ok(record.private_key.clone());
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

    fn reload(&self) -> Result<(), KeySetupError> {
        if let Some(path) = &self.file {
            self.keyring.store(Arc::new(read_keyring(path)?));
        }
        Ok(())
    }
}

fn read_keyring(path: &PathBuf) -> Result<Keyring, KeySetupError> {
    let text = std::fs::read_to_string(path).map_err(|error| KeySetupError::MasterKeyFile {
        path: path.clone(),
        error,
    })?;
    Ok(Keyring::parse(&text)?)
}

fn parse_alg(record: &KeyRecord) -> Result<Algorithm, KeySetupError> {
    record
        .alg
        .parse()
        .map_err(|_| KeySetupError::UnknownAlgorithm {
            kid: record.kid.clone(),
            alg: record.alg.clone(),
        })
}

/// Generates and seals a new key record (not yet stored).
pub async fn new_key(
    master: &MasterKeys,
    tenant: &str,
    alg: Algorithm,
    status: KeyStatus,
    now: i64,
) -> Result<KeyRecord, KeySetupError> {
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
) -> Result<(), KeySetupError> {
    let keys = store.signing_keys(tenant).await?;
    if keys.iter().any(|key| key.status == KeyStatus::Active) {
        return Ok(());
    }
    let record = new_key(master, tenant, Algorithm::default(), KeyStatus::Active, now).await?;
    if store.insert_key(&record).await? {
        tracing::info!(tenant, kid = %record.kid, alg = %record.alg, "created the tenant's first signing key");
    }
    Ok(())
}

/// Seals keys stored in plain form by an earlier version.
pub async fn seal_plain_keys(
    store: &dyn Store,
    master: &MasterKeys,
) -> Result<usize, KeySetupError> {
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
pub async fn reseal_all(store: &dyn Store, master: &MasterKeys) -> Result<usize, KeySetupError> {
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

/// A tenant's parsed keys: the one that signs, and every one published in the JWKS.
#[derive(Debug, Default, Clone)]
pub struct TenantKeys {
    /// The active key, if the tenant has one.
    pub active: Option<Arc<Signer>>,
    /// Keys published in the JWKS (next, active, retiring), newest first.
    pub published: Vec<Arc<Signer>>,
    /// A published key that starts signing at a set instant (a rotation scheduled ahead).
    pub pending: Option<PendingKey>,
}

/// A `next` key with its activation instant.
#[derive(Debug, Clone)]
pub struct PendingKey {
    /// The key (also among the published ones).
    pub signer: Arc<Signer>,
    /// When it starts signing (unix seconds).
    pub activate_at: i64,
}

impl TenantKeys {
    /// The published key with this kid.
    pub fn published(&self, kid: &str) -> Option<&Arc<Signer>> {
        self.published.iter().find(|signer| signer.kid() == kid)
    }

    /// The claims of a token signed by one of these published keys, with the key's own
    /// algorithm; `None` for anything else (malformed, unknown or retired key, other algorithm,
    /// bad signature, claims that are not latchkey's).
    pub fn verify(&self, token: &str) -> Option<TokenClaims> {
        let jws = latchkey_keys::jws::decode(token)?;
        let signer = self.published(jws.header.kid.as_deref()?)?;
        if !signer.verify(&jws) {
            return None;
        }
        TokenClaims::parse(&jws.payload)
    }

    /// Makes the pending key `kid` the signing key if its instant has come; returns whether it
    /// did. The key's tokens verify already: it has been published since it was created.
    pub fn activate(&mut self, kid: &str, now: i64) -> bool {
        match self.pending.take() {
            Some(pending) if pending.signer.kid() == kid && now >= pending.activate_at => {
                self.active = Some(pending.signer);
                true
            }
            other => {
                self.pending = other;
                false
            }
        }
    }
}

/// Opens and parses a tenant's stored keys as they stand at `now`: a `next` key whose
/// activation instant has come signs, even before a node has recorded it as active, so a
/// reload never switches a node back to the key it left.
pub fn parse_keys(
    records: &[KeyRecord],
    master: &MasterKeys,
    now: i64,
) -> Result<TenantKeys, KeySetupError> {
    let mut keys = TenantKeys::default();
    let mut stored_active = None;
    for record in records
        .iter()
        .filter(|record| record.status != KeyStatus::Retired)
    {
        let alg = parse_alg(record)?;
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

/// When keys change on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// Seconds between automatic rotations; `None` turns automatic rotation off.
    pub interval: Option<i64>,
    /// How long before use a next key is published. At least the JWKS `max-age`, so caches of
    /// relying parties hold it before the first token it signs.
    pub publish_ahead: i64,
    /// Allowance for clock differences between latchkey and relying parties.
    pub clock_skew: i64,
    /// How long a retired key stays in the database before it is removed.
    pub removal_delay: i64,
}

impl RotationPolicy {
    /// Automatic rotation every `days` days (0 for never).
    pub fn every_days(days: u32) -> RotationPolicy {
        RotationPolicy {
            interval: (days > 0).then(|| i64::from(days) * 86_400),
            publish_ahead: SAFE_ACTIVATION_DELAY_SECONDS as i64,
            clock_skew: 60,
            removal_delay: 7 * 86_400,
        }
    }
}

/// One step of the key life cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAction {
    /// Publish a new key of this algorithm ahead of its use.
    CreateNext(Algorithm),
    /// Make this next key active; the active one starts retiring.
    Promote(String),
    /// A retiring key whose tokens have all expired leaves the JWKS.
    Retire(String),
    /// A retired key is deleted.
    Remove(String),
}

/// What the key life cycle asks for at `now`, given a tenant's keys. Pure: the maintenance task
/// carries the actions out, and every write is conditional, so nodes running it at once agree.
pub fn plan(keys: &[KeyRecord], policy: &RotationPolicy, now: i64) -> Vec<KeyAction> {
    let mut actions = Vec::new();
    let active = keys.iter().find(|key| key.status == KeyStatus::Active);
    let next = keys.iter().find(|key| key.status == KeyStatus::Next);
    if let Some(next) = next
        && let Some(activate_at) = next.activate_at
    {
        // A rotation scheduled ahead keeps its instant, whatever the automatic schedule says;
        // nodes switch at the instant themselves, this only records it if none has.
        if now >= activate_at {
            actions.push(KeyAction::Promote(next.kid.clone()));
        }
    } else if let (Some(active), Some(interval)) = (active, policy.interval) {
        let due = active.activated_at.unwrap_or(active.created_at) + interval;
        match next {
            None if now >= due - policy.publish_ahead => {
                actions.push(KeyAction::CreateNext(parse_alg(active).unwrap_or_default()));
            }
            Some(next) if now >= due && now >= next.created_at + policy.publish_ahead => {
                actions.push(KeyAction::Promote(next.kid.clone()));
            }
            _ => {}
        }
    }
    for key in keys {
        match key.status {
            KeyStatus::Retiring if key.retire_at.is_some_and(|at| now >= at) => {
                actions.push(KeyAction::Retire(key.kid.clone()));
            }
            KeyStatus::Retired
                if key
                    .retired_at
                    .is_some_and(|at| now >= at + policy.removal_delay) =>
            {
                actions.push(KeyAction::Remove(key.kid.clone()));
            }
            _ => {}
        }
    }
    actions
}

/// When a key retired now stops being needed: every token it signed has expired. The bound is
/// the longest TTL any app of the tenant has ever had, not the apps' current TTLs (a TTL may have
/// been shortened after longer-lived tokens were issued).
async fn retire_at(
    store: &dyn Store,
    tenant: &str,
    policy: &RotationPolicy,
    now: i64,
) -> Result<i64, KeySetupError> {
    let max_ttl = store
        .max_token_ttl(tenant)
        .await?
        .unwrap_or(DEFAULT_TOKEN_TTL);
    Ok(now + i64::from(max_ttl) + policy.clock_skew)
}

/// Carries out the life cycle steps due for a tenant; returns the actions taken.
pub async fn maintain(
    store: &dyn Store,
    master: &MasterKeys,
    tenant: &str,
    policy: &RotationPolicy,
    now: i64,
) -> Result<Vec<KeyAction>, KeySetupError> {
    let keys = store.signing_keys(tenant).await?;
    let mut done = Vec::new();
    for action in plan(&keys, policy, now) {
        let applied = match &action {
            KeyAction::CreateNext(alg) => {
                store
                    .insert_key(&new_key(master, tenant, *alg, KeyStatus::Next, now).await?)
                    .await?
            }
            KeyAction::Promote(kid) => {
                let retire_at = retire_at(store, tenant, policy, now).await?;
                store.promote_key(tenant, kid, now, retire_at).await?
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

/// The furthest ahead a rotation may be scheduled.
pub const MAX_ACTIVATION_DELAY_SECONDS: u64 = 365 * 86_400;

/// How long before it signs a new key should be published: twice the JWKS cache lifetime, so
/// a verifier that cached the JWKS just before the key appeared has refetched it in time.
pub const SAFE_ACTIVATION_DELAY_SECONDS: u64 = 2 * crate::http::JWKS_MAX_AGE_SECONDS as u64;

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
) -> Result<String, KeySetupError> {
    if delay_seconds > MAX_ACTIVATION_DELAY_SECONDS {
        return Err(KeySetupError::TooFarAhead);
    }
    // Bounded just above, so it fits.
    let activate_at = (delay_seconds > 0).then(|| now + delay_seconds as i64);
    let (kid, alg) = successor(store, master, tenant, alg, activate_at, now).await?;
    let details = match activate_at {
        Some(activate_at) => serde_json::json!({ "alg": alg.as_str(), "activate_at": activate_at }),
        None => {
            // Only the clock allowance of the policy matters for a rotation made by hand.
            let policy = RotationPolicy::every_days(0);
            let retire_at = retire_at(store, tenant, &policy, now).await?;
            if !store.promote_key(tenant, &kid, now, retire_at).await? {
                return Err(KeySetupError::Concurrent(tenant.to_owned()));
            }
            serde_json::json!({ "alg": alg.as_str(), "previous_retire_at": retire_at })
        }
    };
    crate::audit::record(store, actor, tenant, "key.rotate", &kid, details, now).await;
    Ok(kid)
}

/// The `next` key a rotation promotes, of `alg` (default: the active key's), with its
/// activation instant set: the one already published when it has that algorithm (caches may
/// hold it already), else a new one replacing it.
async fn successor(
    store: &dyn Store,
    master: &MasterKeys,
    tenant: &str,
    alg: Option<Algorithm>,
    activate_at: Option<i64>,
    now: i64,
) -> Result<(String, Algorithm), KeySetupError> {
    let keys = store.signing_keys(tenant).await?;
    let active_alg = keys
        .iter()
        .find(|key| key.status == KeyStatus::Active)
        .map(parse_alg)
        .transpose()?;
    let alg = alg.or(active_alg).unwrap_or_default();
    let next = keys.iter().find(|key| key.status == KeyStatus::Next);
    if let Some(next) = next
        && parse_alg(next)? == alg
    {
        if let Some(at) = activate_at
            && !store.schedule_key(tenant, &next.kid, at).await?
        {
            return Err(KeySetupError::Concurrent(tenant.to_owned()));
        }
        return Ok((next.kid.clone(), alg));
    }
    if let Some(next) = next {
        store.delete_key(&next.kid).await?;
    }
    let mut record = new_key(master, tenant, alg, KeyStatus::Next, now).await?;
    record.activate_at = activate_at;
    if !store.insert_key(&record).await? {
        return Err(KeySetupError::Concurrent(tenant.to_owned()));
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
) -> Result<bool, KeySetupError> {
    let retire_at = retire_at(store, tenant, policy, activate_at).await?;
    Ok(store
        .promote_key(tenant, kid, activate_at, retire_at)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn policy() -> RotationPolicy {
        RotationPolicy {
            interval: Some(30 * DAY),
            publish_ahead: 600,
            clock_skew: 60,
            removal_delay: 7 * DAY,
        }
    }

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

    #[test]
    fn nothing_happens_mid_interval() {
        assert_eq!(
            plan(&[key("a", KeyStatus::Active, 0)], &policy(), 10 * DAY),
            vec![]
        );
    }

    #[test]
    fn next_key_is_published_ahead_of_the_due_time() {
        let keys = [key("a", KeyStatus::Active, 0)];
        assert_eq!(plan(&keys, &policy(), 30 * DAY - 601), vec![]);
        assert_eq!(
            plan(&keys, &policy(), 30 * DAY - 600),
            vec![KeyAction::CreateNext(Algorithm::Rs256)]
        );
    }

    #[test]
    fn next_key_is_promoted_when_due_and_published_long_enough() {
        let keys = [
            key("a", KeyStatus::Active, 0),
            key("b", KeyStatus::Next, 30 * DAY - 100),
        ];
        assert_eq!(
            plan(&keys, &policy(), 30 * DAY),
            vec![],
            "published only 100 s ago"
        );
        assert_eq!(
            plan(&keys, &policy(), 30 * DAY + 500),
            vec![KeyAction::Promote("b".into())]
        );
    }

    #[test]
    fn one_rotation_per_interval_counts_from_activation() {
        let mut active = key("b", KeyStatus::Active, 29 * DAY);
        active.activated_at = Some(30 * DAY);
        assert_eq!(plan(&[active], &policy(), 31 * DAY), vec![]);
    }

    #[test]
    fn retiring_key_retires_at_its_time_and_is_removed_later() {
        let mut retiring = key("a", KeyStatus::Retiring, 0);
        retiring.retire_at = Some(1000);
        assert_eq!(
            plan(std::slice::from_ref(&retiring), &policy(), 999),
            vec![]
        );
        assert_eq!(
            plan(std::slice::from_ref(&retiring), &policy(), 1000),
            vec![KeyAction::Retire("a".into())]
        );
        let mut retired = key("a", KeyStatus::Retired, 0);
        retired.retired_at = Some(1000);
        assert_eq!(
            plan(std::slice::from_ref(&retired), &policy(), 1000 + 7 * DAY),
            vec![KeyAction::Remove("a".into())]
        );
    }

    #[test]
    fn automatic_rotation_can_be_off() {
        let off = RotationPolicy::every_days(0);
        assert_eq!(
            plan(&[key("a", KeyStatus::Active, 0)], &off, 400 * DAY),
            vec![]
        );
    }

    fn scheduled(kid: &str, created_at: i64, activate_at: i64) -> KeyRecord {
        KeyRecord {
            activate_at: Some(activate_at),
            ..key(kid, KeyStatus::Next, created_at)
        }
    }

    #[test]
    fn a_scheduled_key_is_promoted_at_its_instant_and_not_before() {
        let keys = [
            key("a", KeyStatus::Active, 0),
            scheduled("b", DAY, DAY + 600),
        ];
        assert_eq!(plan(&keys, &policy(), DAY + 599), vec![]);
        assert_eq!(
            plan(&keys, &policy(), DAY + 600),
            vec![KeyAction::Promote("b".into())]
        );
        assert_eq!(
            plan(&keys, &policy(), DAY + 5000),
            vec![KeyAction::Promote("b".into())],
            "a node that missed the instant still records it"
        );
    }

    #[test]
    fn a_scheduled_key_waits_for_its_instant_even_when_the_automatic_rotation_is_due() {
        let keys = [
            key("a", KeyStatus::Active, 0),
            scheduled("b", 30 * DAY - 1000, 30 * DAY + 3600),
        ];
        assert_eq!(plan(&keys, &policy(), 30 * DAY + 10), vec![]);
        assert_eq!(
            plan(&keys, &policy(), 30 * DAY + 3600),
            vec![KeyAction::Promote("b".into())]
        );
    }

    #[test]
    fn a_scheduled_key_is_promoted_with_automatic_rotation_off() {
        let keys = [key("a", KeyStatus::Active, 0), scheduled("b", 10, 20)];
        let off = RotationPolicy::every_days(0);
        assert_eq!(plan(&keys, &off, 19), vec![]);
        assert_eq!(plan(&keys, &off, 20), vec![KeyAction::Promote("b".into())]);
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

    #[test]
    fn next_key_keeps_the_active_keys_algorithm() {
        let mut active = key("a", KeyStatus::Active, 0);
        active.alg = "ES256".into();
        assert_eq!(
            plan(&[active], &policy(), 30 * DAY),
            vec![KeyAction::CreateNext(Algorithm::Es256)]
        );
    }
}
