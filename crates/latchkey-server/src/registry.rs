//! The registry: an atomically swapped, immutable `Snapshot` of every tenant, client and parsed
//! signing key. The token path reads it without a lock or a database call; writers build a new
//! snapshot and swap it in.
//!
//! Clients live in a persistent hash map (`imbl`): cloning a snapshot is O(1) and replacing one
//! client is O(log n), so a change to one app costs the same with ten apps or a million.

use crate::keys::{self, KeySetupError, TenantKeys};
use arc_swap::ArcSwap;
use latchkey_keys::JwkSet;
use latchkey_protocol::Client;
use latchkey_store::{AppRecord, Change, ChangedEntity, DEFAULT_TENANT, Store, StoreError, TenantRecord};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// A failure to load or refresh the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Preparing signing keys failed.
    #[error(transparent)]
    Keys(#[from] KeySetupError),
}

/// What a tenant serves: its issuer, its keys, and what its discovery document lists.
#[derive(Debug, Clone)]
pub struct TenantState {
    /// The tenant's name.
    pub name: String,
    /// Its issuer URL, without a trailing slash.
    pub issuer: String,
    /// Its parsed signing keys.
    pub keys: TenantKeys,
    /// The JWKS body, serialized once per key change.
    pub jwks_body: Arc<[u8]>,
    /// How many of the tenant's apps allow each scope, for `scopes_supported`.
    scope_counts: BTreeMap<String, u32>,
}

impl TenantState {
    /// Every scope some app of the tenant may be granted, sorted.
    pub fn scopes_supported(&self) -> impl Iterator<Item = &str> {
        self.scope_counts.keys().map(String::as_str)
    }

    /// The algorithms of the published keys, active first.
    pub fn signing_algorithms(&self) -> Vec<&'static str> {
        let mut algs: Vec<&'static str> = Vec::new();
        let active = self.keys.active.iter();
        for signer in active.chain(self.keys.published.iter()) {
            let alg = signer.alg().as_str();
            if !algs.contains(&alg) {
                algs.push(alg);
            }
        }
        algs
    }

    fn count_scopes(&mut self, client: &Client, delta: i32) {
        for scope in &client.scopes {
            let count = self.scope_counts.entry(scope.as_str().to_owned()).or_insert(0);
            *count = count.saturating_add_signed(delta);
            if *count == 0 {
                self.scope_counts.remove(scope.as_str());
            }
        }
    }
}

/// A client and the tenant it belongs to.
#[derive(Debug, Clone)]
pub struct ClientEntry {
    /// The tenant's name.
    pub tenant: String,
    /// What the token endpoint needs of the client.
    pub client: Client,
}

/// Everything the request paths read, as of one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    tenants: HashMap<String, Arc<TenantState>>,
    clients: imbl::HashMap<String, Arc<ClientEntry>>,
}

impl Snapshot {
    /// The tenant that answers a request. Today every request is served by the `default` tenant.
    pub fn tenant_for_host(&self, _host: Option<&str>) -> Option<&Arc<TenantState>> {
        self.tenants.get(DEFAULT_TENANT)
    }

    /// A tenant by name.
    pub fn tenant(&self, name: &str) -> Option<&Arc<TenantState>> {
        self.tenants.get(name)
    }

    /// The client with this id, if it belongs to `tenant`. A client of another tenant is as
    /// unknown as one that does not exist.
    pub fn client(&self, tenant: &TenantState, client_id: &str) -> Option<&Client> {
        self.clients.get(client_id).filter(|entry| entry.tenant == tenant.name).map(|entry| &entry.client)
    }

    /// How many clients the snapshot holds.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    fn insert_client(&mut self, record: &AppRecord) {
        self.remove_client(&record.client_id);
        let client = record.to_client();
        if let Some(tenant) = self.tenants.get_mut(&record.tenant) {
            Arc::make_mut(tenant).count_scopes(&client, 1);
        }
        let entry = ClientEntry { tenant: record.tenant.clone(), client };
        self.clients.insert(record.client_id.clone(), Arc::new(entry));
    }

    fn remove_client(&mut self, client_id: &str) {
        if let Some(old) = self.clients.remove(client_id) {
            if let Some(tenant) = self.tenants.get_mut(&old.tenant) {
                Arc::make_mut(tenant).count_scopes(&old.client, -1);
            }
        }
    }
}

fn jwks_body(keys: &TenantKeys) -> Arc<[u8]> {
    let set = JwkSet { keys: keys.published.iter().map(|signer| signer.public_jwk()).collect() };
    // Serializing plain strings into a Vec cannot fail.
    serde_json::to_vec(&set).unwrap_or_default().into()
}

/// Holds the current snapshot and knows how to rebuild parts of it from the store.
pub struct Registry {
    current: ArcSwap<Snapshot>,
    store: Arc<dyn Store>,
    default_issuer: String,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("default_issuer", &self.default_issuer).finish_non_exhaustive()
    }
}

/// Normalizes an issuer URL: no trailing slash, so endpoint URLs join cleanly.
pub fn normalize_issuer(issuer: &str) -> String {
    issuer.trim_end_matches('/').to_owned()
}

impl Registry {
    /// Loads the whole registry, creating a signing key for any tenant that has none. Returns
    /// the registry and the change sequence it reflects.
    pub async fn load(store: Arc<dyn Store>, default_issuer: &str, now: i64) -> Result<(Registry, i64), RegistryError> {
        // Read the sequence first: a change landing during the load is then applied again by
        // the first refresh, which is harmless (applying a change is idempotent).
        let seq = store.latest_change().await?;
        let registry = Registry {
            current: ArcSwap::from_pointee(Snapshot::default()),
            store,
            default_issuer: normalize_issuer(default_issuer),
        };
        let mut snapshot = Snapshot::default();
        for tenant in registry.store.tenants().await? {
            let state = registry.tenant_state(&tenant, now).await?;
            snapshot.tenants.insert(tenant.name.clone(), Arc::new(state));
        }
        for app in registry.store.all_apps().await? {
            snapshot.insert_client(&app);
        }
        registry.current.store(Arc::new(snapshot));
        Ok((registry, seq))
    }

    /// The current snapshot. Cheap: no lock, one atomic load.
    pub fn current(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// The store behind the registry.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    async fn tenant_state(&self, tenant: &TenantRecord, now: i64) -> Result<TenantState, RegistryError> {
        keys::ensure_active_key(self.store.as_ref(), &tenant.name, now).await?;
        let keys = keys::parse_keys(&self.store.signing_keys(&tenant.name).await?)?;
        Ok(TenantState {
            name: tenant.name.clone(),
            issuer: tenant.issuer.as_deref().map(normalize_issuer).unwrap_or_else(|| self.default_issuer.clone()),
            jwks_body: jwks_body(&keys),
            keys,
            scope_counts: BTreeMap::new(),
        })
    }

    /// Applies a batch of change log rows: reloads exactly the apps, keys and tenants they name,
    /// then swaps in the new snapshot.
    pub async fn apply(&self, changes: &[Change], now: i64) -> Result<(), RegistryError> {
        let mut app_ids: HashSet<&str> = HashSet::new();
        let mut key_tenants: HashSet<&str> = HashSet::new();
        let mut tenants_changed = false;
        for change in changes {
            match change.entity {
                ChangedEntity::App => app_ids.insert(&change.id),
                ChangedEntity::Key => key_tenants.insert(&change.tenant),
                ChangedEntity::Tenant => {
                    tenants_changed = true;
                    true
                }
            };
        }
        let mut snapshot = Snapshot::clone(&self.current.load());
        if tenants_changed {
            self.reload_tenants(&mut snapshot, now).await?;
        }
        for tenant in key_tenants {
            if let Some(state) = snapshot.tenants.get_mut(tenant) {
                let keys = keys::parse_keys(&self.store.signing_keys(tenant).await?)?;
                let state = Arc::make_mut(state);
                state.jwks_body = jwks_body(&keys);
                state.keys = keys;
            }
        }
        if !app_ids.is_empty() {
            let ids: Vec<String> = app_ids.iter().map(|id| (*id).to_owned()).collect();
            let found = self.store.apps_by_id(&ids).await?;
            let found_ids: HashSet<&str> = found.iter().map(|app| app.client_id.as_str()).collect();
            for id in app_ids.iter().filter(|id| !found_ids.contains(*id)) {
                snapshot.remove_client(id);
            }
            for app in &found {
                snapshot.insert_client(app);
            }
        }
        self.current.store(Arc::new(snapshot));
        Ok(())
    }

    async fn reload_tenants(&self, snapshot: &mut Snapshot, now: i64) -> Result<(), RegistryError> {
        let records = self.store.tenants().await?;
        let names: HashSet<&str> = records.iter().map(|tenant| tenant.name.as_str()).collect();
        snapshot.tenants.retain(|name, _| names.contains(name.as_str()));
        for record in &records {
            let mut state = self.tenant_state(record, now).await?;
            if let Some(old) = snapshot.tenants.get(&record.name) {
                state.scope_counts = old.scope_counts.clone();
            }
            snapshot.tenants.insert(record.name.clone(), Arc::new(state));
        }
        Ok(())
    }

    /// Rebuilds everything from the store (after a long outage, when the change log may have
    /// been purged past what this server applied).
    pub async fn reload(&self, now: i64) -> Result<i64, RegistryError> {
        let (fresh, seq) = Registry::load(Arc::clone(&self.store), &self.default_issuer, now).await?;
        self.current.store(fresh.current.load_full());
        Ok(seq)
    }
}
