//! The registry: holds the current `Snapshot` in an `ArcSwap` and keeps it in step with the
//! store, loading it whole at start and applying the change log after. Writers build a new
//! snapshot and swap it in through `ArcSwap::rcu`, so concurrent writers (the refresh task, a
//! request serving its own write, a revocation request) never lose each other's changes.

mod app_keys;
mod clients;
mod snapshot;
mod tenant;

pub use app_keys::{AppKeys, Trust};
#[cfg(test)]
pub(crate) use snapshot::test_entry;
pub use snapshot::{ClientEntry, Snapshot, host_name, normalize_issuer};
use snapshot::{Fetched, FetchedTenant};
pub use tenant::TenantState;

use arc_swap::ArcSwap;
use latchkey_keys::TenantKeys;
use latchkey_manage::keys::{self, MasterKeys, SigningKeyError};
use latchkey_store::{Change, ChangedEntity, Store, StoreError, TenantRecord};
use std::collections::HashSet;
use std::sync::Arc;

/// A failure to load or refresh the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Preparing signing keys failed.
    #[error(transparent)]
    Keys(#[from] SigningKeyError),
}

/// How many change rows one catch-up reads at a time; a larger backlog is drained in several
/// batches in a row.
const CHANGE_BATCH: u32 = 10_000;

/// Holds the current snapshot and knows how to rebuild parts of it from the store.
pub struct Registry {
    current: ArcSwap<Snapshot>,
    /// The last change log sequence applied to the snapshot. Held for the whole of a catch-up,
    /// so that the refresh task and a request serving its own write apply batches one at a time
    /// and in log order: one of them never swaps in entities it read before the other's newer
    /// read of the same ones.
    applied: tokio::sync::Mutex<i64>,
    store: Arc<dyn Store>,
    master_keys: Arc<MasterKeys>,
    default_issuer: String,
    strict_hosts: bool,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("default_issuer", &self.default_issuer)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Loads the whole registry. Only reads: `latchkey_manage::keys::prepare` makes the keys a
    /// first start lacks.
    pub async fn load(
        store: Arc<dyn Store>,
        master_keys: Arc<MasterKeys>,
        default_issuer: &str,
        strict_hosts: bool,
        now: i64,
    ) -> Result<Registry, RegistryError> {
        // Read the sequence first: a change landing during the load is then applied again by
        // the first catch-up, which is harmless (applying a change is idempotent).
        let seq = store.latest_change().await?;
        let registry = Registry {
            current: ArcSwap::from_pointee(Snapshot::default()),
            applied: tokio::sync::Mutex::new(seq),
            store,
            master_keys,
            default_issuer: normalize_issuer(default_issuer),
            strict_hosts,
        };
        let started = std::time::Instant::now();
        let snapshot = registry.build(now).await?;
        tracing::info!(
            apps = snapshot.client_count(),
            revocations = snapshot.revocation_count(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "loaded apps, keys and revocations"
        );
        registry.current.store(Arc::new(snapshot));
        Ok(registry)
    }

    async fn build(&self, now: i64) -> Result<Snapshot, RegistryError> {
        // Quotas carry on from the snapshot being replaced (empty at the first load).
        let previous = self.current.load_full();
        let mut snapshot = Snapshot::new(self.strict_hosts);
        for tenant in self.store.tenants().await? {
            let keys = self.tenant_keys(&tenant.name, now).await?;
            let state = self.tenant_state(&tenant, keys);
            snapshot.add_hosts(&state.name, &tenant.domains);
            snapshot
                .tenants
                .insert(tenant.name.clone(), Arc::new(state));
        }
        let apps = usize::try_from(self.store.app_count().await?).unwrap_or(0);
        snapshot.clients.reserve(apps);
        self.store
            .scan_clients(&mut |scanned| {
                snapshot.add_client(&scanned.tenant, scanned.client, Some(&previous));
            })
            .await?;
        for revocation in self.store.live_revocations(now).await? {
            snapshot.add_revocation(
                &revocation.tenant,
                &revocation.jti,
                revocation.expires_at,
                revocation.client_id.as_deref(),
            );
        }
        Ok(snapshot)
    }

    /// The current snapshot. Cheap: no lock, one atomic load.
    pub fn current(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// The current snapshot as an owned `Arc`, for holding across an await.
    pub fn current_full(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The store behind the registry.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The master keys that open the signing keys.
    pub fn master_keys(&self) -> &Arc<MasterKeys> {
        &self.master_keys
    }

    /// A tenant's stored keys, parsed, as they stand at `now`.
    async fn tenant_keys(&self, tenant: &str, now: i64) -> Result<TenantKeys, RegistryError> {
        Ok(keys::parse_keys(
            &self.store.signing_keys(tenant).await?,
            &self.master_keys,
            now,
        )?)
    }

    fn issuer_of(&self, tenant: &TenantRecord) -> String {
        tenant
            .effective_issuer()
            .map(|issuer| normalize_issuer(&issuer))
            .unwrap_or_else(|| self.default_issuer.clone())
    }

    fn tenant_state(&self, tenant: &TenantRecord, keys: TenantKeys) -> TenantState {
        TenantState::new(
            &tenant.name,
            self.issuer_of(tenant),
            keys,
            tenant.token_profile,
            tenant.publish_scopes,
        )
        .with_assertion_lifetime(tenant.effective_assertion_lifetime())
    }

    /// Applies every change logged since the last one applied, in order; returns how many.
    /// The refresh task calls this every poll, and a request that wrote calls it before
    /// answering, so that this node serves the change from the next request on.
    pub async fn catch_up(&self, now: i64) -> Result<usize, RegistryError> {
        let mut applied = self.applied.lock().await;
        let mut count = 0;
        loop {
            // The first read starts at the last change applied, to see that it is still
            // there: in the log this node followed it always is (a purge keeps the newest
            // change). A log without it is another (a restore of an older backup, or a
            // failover to a standby that lagged, whose numbers may have run ahead since):
            // numbers this node has passed may mean other changes there, so only a full
            // reload can be trusted.
            let checking = count == 0 && *applied > 0;
            let from = if checking { *applied - 1 } else { *applied };
            let mut changes = self.store.changes_since(from, CHANGE_BATCH).await?;
            let full = changes.len() == CHANGE_BATCH as usize;
            if checking {
                if changes.first().is_none_or(|first| first.seq != *applied) {
                    drop(applied);
                    tracing::warn!(
                        "the change log is behind or apart from what this server applied (a restored or failed-over database?): reloading everything"
                    );
                    self.reload(now).await?;
                    return Ok(0);
                }
                changes.remove(0);
            }
            let Some(last) = changes.last() else {
                return Ok(count);
            };
            self.apply(&changes, now).await?;
            *applied = last.seq;
            count += changes.len();
            if !full {
                return Ok(count);
            }
        }
    }

    /// Applies a batch of change log rows: reloads exactly the apps, keys, tenants and
    /// revocations they name, then swaps in the new snapshot.
    async fn apply(&self, changes: &[Change], now: i64) -> Result<(), RegistryError> {
        let Named {
            app_ids,
            mut key_tenants,
            jtis,
            tenants_changed,
        } = Named::by(changes);
        let mut fetched = Fetched::default();
        if tenants_changed {
            let current = self.current.load_full();
            let mut states = Vec::new();
            for record in self.store.tenants().await? {
                // A known tenant keeps its parsed keys unless they changed too (then the key
                // changes below reload them): a change to one tenant costs no key parsing for
                // the others. A new issuer or token profile takes new `Signer`s, since reused
                // tokens are valid only with the signer they were issued with and carry the old
                // issuer and shape.
                let issuer = self.issuer_of(&record);
                let unchanged = current.tenants.get(&record.name).is_some_and(|state| {
                    state.issuer == issuer && state.token_profile == record.token_profile
                });
                let (keys, keys_loaded) = if unchanged {
                    (TenantKeys::default(), false)
                } else {
                    key_tenants.remove(record.name.as_str());
                    match self.tenant_keys(&record.name, now).await {
                        Ok(keys) => (keys, true),
                        // Keep the keys already parsed, if any (a new tenant answers 503),
                        // rather than stop following changes.
                        Err(error) => {
                            tracing::error!(tenant = record.name, error = %error, "could not load a tenant's signing keys");
                            (TenantKeys::default(), false)
                        }
                    }
                };
                states.push(FetchedTenant {
                    state: self.tenant_state(&record, keys),
                    domains: record.domains,
                    keys_loaded,
                });
            }
            fetched.tenants = Some(states);
        }
        for tenant in key_tenants {
            match self.tenant_keys(tenant, now).await {
                Ok(keys) => fetched.keys.push((tenant.to_owned(), keys)),
                // Keep signing with the keys already parsed rather than stop following changes.
                Err(error) => {
                    tracing::error!(tenant, error = %error, "could not load changed signing keys; keeping the current ones")
                }
            }
        }
        if !app_ids.is_empty() {
            let ids: Vec<String> = app_ids.iter().map(|id| (*id).to_owned()).collect();
            fetched.apps = self.store.apps_by_id(&ids).await?;
            let found: HashSet<&str> = fetched
                .apps
                .iter()
                .map(|app| app.client_id.as_str())
                .collect();
            fetched.missing_apps = ids
                .iter()
                .filter(|id| !found.contains(id.as_str()))
                .cloned()
                .collect();
        }
        if !jtis.is_empty() {
            let jtis: Vec<String> = jtis.iter().map(|jti| (*jti).to_owned()).collect();
            fetched.revocations = self.store.revocations(&jtis).await?;
        }
        self.current.rcu(|current| {
            let mut snapshot = Snapshot::clone(current);
            fetched.apply_to(&mut snapshot);
            snapshot
        });
        Ok(())
    }

    /// Switches `tenant` to its pending key `kid` if the key's instant has come: the swap a
    /// scheduled rotation makes on every node at that instant. Returns whether the snapshot
    /// now signs with `kid` because of this call.
    pub fn activate(&self, tenant: &str, kid: &str, now: i64) -> bool {
        let mut activated = false;
        self.current.rcu(|current| {
            let mut snapshot = Snapshot::clone(current);
            activated = snapshot.tenants.get_mut(tenant).is_some_and(|state| {
                let mut keys = state.keys.clone();
                keys.activate(kid, now) && {
                    Arc::make_mut(state).keys = keys;
                    true
                }
            });
            snapshot
        });
        activated
    }

    /// Records a revocation made by this node at once (other nodes learn it from the change
    /// log); `client_id` is the app that revoked its own token, if it did.
    pub fn note_revocation(
        &self,
        tenant: &str,
        jti: &str,
        expires_at: i64,
        client_id: Option<&str>,
    ) {
        self.current.rcu(|current| {
            let mut snapshot = Snapshot::clone(current);
            snapshot.add_revocation(tenant, jti, expires_at, client_id);
            snapshot
        });
    }

    /// Forgets revocations of tokens that have expired (an expired token is inactive anyway).
    pub fn prune_revocations(&self, now: i64) -> usize {
        if !self.current.load().has_expired_revocations(now) {
            return 0;
        }
        let mut pruned = 0;
        self.current.rcu(|current| {
            let mut snapshot = Snapshot::clone(current);
            pruned = snapshot.prune_revocations(now);
            snapshot
        });
        pruned
    }

    /// Rebuilds everything from the store (after a long outage, when the change log may have
    /// been purged past what this server applied).
    pub async fn reload(&self, now: i64) -> Result<(), RegistryError> {
        let mut applied = self.applied.lock().await;
        let seq = self.store.latest_change().await?;
        let snapshot = self.build(now).await?;
        self.current.store(Arc::new(snapshot));
        *applied = seq;
        Ok(())
    }
}

/// What a batch of change log rows names, sorted by entity: each app and revoked jti once, each
/// tenant whose keys changed once, and whether any tenant changed.
#[derive(Debug, Default, PartialEq)]
struct Named<'a> {
    app_ids: HashSet<&'a str>,
    key_tenants: HashSet<&'a str>,
    jtis: HashSet<&'a str>,
    tenants_changed: bool,
}

impl<'a> Named<'a> {
    fn by(changes: &'a [Change]) -> Named<'a> {
        let mut named = Named::default();
        for change in changes {
            match change.entity {
                ChangedEntity::App => named.app_ids.insert(&change.id),
                ChangedEntity::Key => named.key_tenants.insert(&change.tenant),
                ChangedEntity::Revocation => named.jtis.insert(&change.id),
                ChangedEntity::Tenant => {
                    named.tenants_changed = true;
                    true
                }
            };
        }
        named
    }
}

#[cfg(test)]
mod tests {
    use super::Named;
    use latchkey_store::{Change, ChangedEntity};
    use std::collections::HashSet;

    fn change(seq: i64, entity: ChangedEntity, tenant: &str, id: &str) -> Change {
        Change {
            seq,
            entity,
            tenant: tenant.to_owned(),
            id: id.to_owned(),
        }
    }

    fn set<'a>(items: &[&'a str]) -> HashSet<&'a str> {
        items.iter().copied().collect()
    }

    #[test]
    fn no_changes_name_nothing() {
        assert_eq!(Named::by(&[]), Named::default());
    }

    #[test]
    fn apps_and_revocations_are_named_by_id_and_keys_by_tenant_each_once() {
        let changes = [
            change(1, ChangedEntity::App, "default", "app-1"),
            change(2, ChangedEntity::Key, "acme", "kid-1"),
            change(3, ChangedEntity::App, "acme", "app-2"),
            change(4, ChangedEntity::Revocation, "default", "jti-1"),
            change(5, ChangedEntity::App, "default", "app-1"),
            change(6, ChangedEntity::Key, "acme", "kid-2"),
            change(7, ChangedEntity::Key, "default", "kid-3"),
            change(8, ChangedEntity::Revocation, "acme", "jti-1"),
        ];
        let named = Named::by(&changes);
        assert_eq!(named.app_ids, set(&["app-1", "app-2"]));
        assert_eq!(named.key_tenants, set(&["acme", "default"]));
        assert_eq!(named.jtis, set(&["jti-1"]));
        assert!(!named.tenants_changed);
    }

    #[test]
    fn tenant_changes_set_tenants_changed_and_name_no_app_key_or_revocation() {
        let changes = [
            change(1, ChangedEntity::Tenant, "acme", "acme"),
            change(2, ChangedEntity::Tenant, "globex", "globex"),
        ];
        assert_eq!(
            Named::by(&changes),
            Named {
                tenants_changed: true,
                ..Named::default()
            }
        );
    }
}
