//! The registry: an atomically swapped, immutable `Snapshot` of every tenant, client, parsed
//! signing key and live revocation. The request paths read it without a lock or a database
//! call; writers build a new snapshot and swap it in.
//!
//! Clients live in a `ClientMap` (a hash set built by the load plus a persistent overlay of
//! changes, see `clients`) and revocations in a persistent hash map (`imbl`): cloning a
//! snapshot is O(1) and replacing one entry costs the same with ten apps or a million. Updates
//! go through `ArcSwap::rcu`, so concurrent writers (the refresh task and a revocation request)
//! never lose each other's changes.

mod clients;

use arc_swap::ArcSwap;
use clients::ClientMap;
use latchkey_keys::TenantKeys;
use latchkey_keys::{JwkSet, JwtType};
use latchkey_manage::keys::{self, MasterKeys, SigningKeyError};
use latchkey_protocol::admin::ADMIN_SCOPE;
use latchkey_protocol::introspection::TokenClaims;
use latchkey_protocol::{Client, Scope, TokenProfile};
use latchkey_store::{
    AppRecord, Change, ChangedEntity, DEFAULT_TENANT, RevocationRecord, Store, StoreError,
    TenantRecord,
};
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
    Keys(#[from] SigningKeyError),
}

/// What a tenant serves: its issuer, its keys, and what its discovery document lists.
#[derive(Debug, Clone)]
pub struct TenantState {
    /// The tenant's name (shared with every `ClientEntry` of the tenant).
    pub name: Arc<str>,
    /// Its issuer URL, without a trailing slash.
    pub issuer: String,
    /// Its parsed signing keys.
    pub keys: TenantKeys,
    /// The JWKS body, serialized once per key change.
    pub jwks_body: Arc<[u8]>,
    /// The shape of its access tokens, read from the tenant once per snapshot so the token
    /// path only picks a precomputed header and a claims struct.
    pub token_profile: TokenProfile,
    /// Whether its discovery document lists `scopes_supported`.
    pub publish_scopes: bool,
    /// How many of the tenant's apps allow each scope, for `scopes_supported`. Its keys are
    /// also the one copy of each scope text that the tenant's clients share.
    scope_counts: BTreeMap<Scope, u32>,
}

impl TenantState {
    /// What discovery lists as `scopes_supported`: every scope some app of the tenant may be
    /// granted, sorted, but never `latchkey:admin` (which names the admin API's operators, not
    /// a resource); `None` when the tenant does not publish its scopes.
    pub fn scopes_supported(&self) -> Option<Vec<&str>> {
        self.publish_scopes.then(|| {
            self.scope_counts
                .keys()
                .map(Scope::as_str)
                .filter(|scope| *scope != ADMIN_SCOPE)
                .collect()
        })
    }

    /// The `typ` of its tokens' JWT header.
    pub fn jwt_type(&self) -> JwtType {
        match self.token_profile {
            TokenProfile::Seed => JwtType::Jwt,
            TokenProfile::Rfc9068 => JwtType::AccessToken,
        }
    }

    /// The algorithms of the published keys, the active key's first.
    pub fn signing_algorithms(&self) -> Vec<&'static str> {
        let mut algs: Vec<&'static str> = Vec::new();
        for signer in self.keys.active.iter().chain(self.keys.published.iter()) {
            let alg = signer.alg().as_str();
            if !algs.contains(&alg) {
                algs.push(alg);
            }
        }
        algs
    }

    /// The claims of a token signed by one of this tenant's published keys (`TenantKeys::verify`).
    pub fn verify(&self, token: &str) -> Option<TokenClaims> {
        self.keys.verify(token)
    }

    fn set_keys(&mut self, keys: TenantKeys) {
        self.jwks_body = jwks_body(&keys);
        self.keys = keys;
    }

    /// Counts a new client's scopes, and makes its scopes share the tenant's copy of each
    /// text: a million apps with the same two scopes then hold two strings, not two million.
    fn add_scopes(&mut self, client: &mut Client) {
        for scope in &mut client.scopes {
            if let Some((shared, _)) = self.scope_counts.get_key_value(scope.as_str()) {
                scope.share(shared);
            }
            *self.scope_counts.entry(scope.clone()).or_insert(0) += 1;
        }
        // Default scopes are among the allowed ones.
        let Client {
            scopes,
            default_scopes,
            ..
        } = client;
        for default in default_scopes.iter_mut() {
            if let Some(shared) = scopes.iter().find(|scope| *scope == default) {
                default.share(shared);
            }
        }
    }

    fn remove_scopes(&mut self, client: &Client) {
        for scope in &client.scopes {
            if let Some(count) = self.scope_counts.get_mut(scope.as_str()) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    self.scope_counts.remove(scope.as_str());
                }
            }
        }
    }
}

/// A client and the tenant it belongs to.
#[derive(Debug, Clone)]
pub struct ClientEntry {
    /// The tenant's name, shared by all of its clients.
    pub tenant: Arc<str>,
    /// What the endpoints need of the client.
    pub client: Client,
}

/// Everything the request paths read, as of one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    tenants: HashMap<String, Arc<TenantState>>,
    /// Every tenant domain (lower-case, no port) and the tenant it routes to.
    hosts: HashMap<String, Arc<str>>,
    /// Whether a Host no tenant claims gets 404 instead of the `default` tenant.
    strict_hosts: bool,
    /// Every client, by client id.
    clients: ClientMap,
    /// Revoked token ids, each with the tenants it is revoked in (nearly always one) and when
    /// its token expires. A revocation counts only in its own tenant: a jti revoked in one tenant
    /// says nothing about a token another tenant issued.
    revoked: imbl::HashMap<String, Vec<(String, i64)>>,
}

impl Snapshot {
    /// The tenant that answers a request with this Host header: the tenant claiming the host
    /// (port and letter case ignored), else the `default` tenant, or none with strict hosts.
    /// This is the only place a request finds its tenant.
    pub fn tenant_for_host(&self, host: Option<&str>) -> Option<&Arc<TenantState>> {
        let claimed = match host.map(host_name) {
            Some(name) if !self.hosts.is_empty() => {
                if name.bytes().any(|byte| byte.is_ascii_uppercase()) {
                    self.hosts.get(&name.to_ascii_lowercase())
                } else {
                    self.hosts.get(name)
                }
            }
            _ => None,
        };
        match claimed {
            Some(tenant) => self.tenants.get(&**tenant),
            None if self.strict_hosts => None,
            None => self.tenants.get(DEFAULT_TENANT),
        }
    }

    /// Every tenant, by name.
    pub fn tenants(&self) -> impl Iterator<Item = &Arc<TenantState>> {
        self.tenants.values()
    }

    /// A tenant by name.
    pub fn tenant(&self, name: &str) -> Option<&Arc<TenantState>> {
        self.tenants.get(name)
    }

    /// The client with this id, if it belongs to `tenant`. A client of another tenant is as
    /// unknown as one that does not exist.
    pub fn client(&self, tenant: &TenantState, client_id: &str) -> Option<&Client> {
        self.client_entry(tenant, client_id)
            .map(|entry| &entry.client)
    }

    /// The snapshot entry of a client of `tenant`: the entry's identity changes whenever the
    /// client's settings or secrets do (token reuse relies on that).
    pub fn client_entry(&self, tenant: &TenantState, client_id: &str) -> Option<&Arc<ClientEntry>> {
        self.clients
            .get(client_id)
            .filter(|entry| *entry.tenant == *tenant.name)
    }

    /// Whether a client with this id exists in another tenant than `tenant`: only the failure
    /// log asks, to tell a wrong tenant host from an unknown client.
    pub fn client_in_other_tenant(&self, tenant: &TenantState, client_id: &str) -> bool {
        self.clients
            .get(client_id)
            .is_some_and(|entry| *entry.tenant != *tenant.name)
    }

    /// Whether a token id is revoked in `tenant`.
    pub fn is_revoked(&self, tenant: &str, jti: &str) -> bool {
        self.revoked
            .get(jti)
            .is_some_and(|tenants| tenants.iter().any(|(revoked_in, _)| revoked_in == tenant))
    }

    /// How many clients the snapshot holds.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// How many revocations the snapshot holds.
    pub fn revocation_count(&self) -> usize {
        self.revoked.values().map(Vec::len).sum()
    }

    fn add_revocation(&mut self, tenant: &str, jti: &str, expires_at: i64) {
        let tenants = self.revoked.entry(jti.to_owned()).or_default();
        match tenants
            .iter_mut()
            .find(|(revoked_in, _)| revoked_in == tenant)
        {
            Some((_, expiry)) => *expiry = expires_at,
            None => tenants.push((tenant.to_owned(), expires_at)),
        }
    }

    /// Whether any revocation is of a token that expired before `now`.
    fn has_expired_revocations(&self, now: i64) -> bool {
        self.revoked
            .values()
            .flatten()
            .any(|(_, expires_at)| *expires_at < now)
    }

    /// Forgets revocations of tokens that expired before `now`; returns how many.
    fn prune_revocations(&mut self, now: i64) -> usize {
        let expired: Vec<String> = self
            .revoked
            .iter()
            .filter(|(_, tenants)| tenants.iter().any(|(_, expires_at)| *expires_at < now))
            .map(|(jti, _)| jti.clone())
            .collect();
        let mut pruned = 0;
        for jti in expired {
            let Some(tenants) = self.revoked.get_mut(&jti) else {
                continue;
            };
            let before = tenants.len();
            tenants.retain(|(_, expires_at)| *expires_at >= now);
            pruned += before - tenants.len();
            if tenants.is_empty() {
                self.revoked.remove(&jti);
            }
        }
        pruned
    }

    fn add_hosts(&mut self, tenant: &Arc<str>, domains: &[String]) {
        for domain in domains {
            self.hosts
                .insert(domain.to_ascii_lowercase(), Arc::clone(tenant));
        }
    }

    fn insert_client(&mut self, record: AppRecord) {
        let tenant = record.tenant.clone();
        self.replace_client(&tenant, record.into_client());
    }

    /// Adds a client, or replaces the one with its id.
    fn replace_client(&mut self, tenant: &str, client: Client) {
        // Added before the old entry's scopes are forgotten, so scopes the two share keep their
        // count above zero and their shared text.
        if let Some(old) = self.add_client(tenant, client) {
            self.forget_scopes(&old);
        }
    }

    /// Adds a client, its scopes counted and shared with its tenant's; returns the entry it
    /// replaced, whose scopes are still counted.
    fn add_client(&mut self, tenant: &str, mut client: Client) -> Option<Arc<ClientEntry>> {
        let tenant = match self.tenants.get_mut(tenant) {
            Some(state) => {
                let state = Arc::make_mut(state);
                state.add_scopes(&mut client);
                Arc::clone(&state.name)
            }
            None => Arc::from(tenant),
        };
        let entry = ClientEntry { tenant, client };
        self.clients.insert(Arc::new(entry))
    }

    fn remove_client(&mut self, client_id: &str) {
        if let Some(old) = self.clients.remove(client_id) {
            self.forget_scopes(&old);
        }
    }

    fn forget_scopes(&mut self, old: &ClientEntry) {
        if let Some(tenant) = self.tenants.get_mut(&*old.tenant) {
            Arc::make_mut(tenant).remove_scopes(&old.client);
        }
    }
}

fn jwks_body(keys: &TenantKeys) -> Arc<[u8]> {
    let set = JwkSet {
        keys: keys
            .published
            .iter()
            .map(|signer| signer.public_jwk())
            .collect(),
    };
    // Serializing plain strings into a Vec cannot fail.
    serde_json::to_vec(&set).unwrap_or_default().into()
}

/// The host name of a Host header value: no port, no trailing dot. IPv6 literals keep their
/// brackets (`[::1]:8080` is `[::1]`).
pub fn host_name(host: &str) -> &str {
    let host = host.trim();
    let name = if host.starts_with('[') {
        host.find(']').map_or(host, |end| &host[..=end])
    } else {
        host.rsplit_once(':').map_or(host, |(name, _port)| name)
    };
    name.strip_suffix('.').unwrap_or(name)
}

/// Normalizes an issuer URL: no trailing slash, so endpoint URLs join cleanly.
pub fn normalize_issuer(issuer: &str) -> String {
    issuer.trim_end_matches('/').to_owned()
}

/// A tenant as a batch of changes fetched it.
struct FetchedTenant {
    state: TenantState,
    domains: Vec<String>,
    /// Whether `state` holds keys read with the batch; otherwise the snapshot's stay.
    keys_loaded: bool,
}

/// What a batch of changes fetched from the store, ready to apply to any snapshot.
#[derive(Default)]
struct Fetched {
    tenants: Option<Vec<FetchedTenant>>,
    keys: Vec<(String, TenantKeys)>,
    apps: Vec<AppRecord>,
    missing_apps: Vec<String>,
    revocations: Vec<RevocationRecord>,
}

impl Fetched {
    fn apply_to(&self, snapshot: &mut Snapshot) {
        if let Some(tenants) = &self.tenants {
            snapshot
                .tenants
                .retain(|name, _| tenants.iter().any(|fetched| *fetched.state.name == **name));
            snapshot.hosts.clear();
            for fetched in tenants {
                let mut state = fetched.state.clone();
                if let Some(old) = snapshot.tenants.get(&*state.name) {
                    state.scope_counts = old.scope_counts.clone();
                    if !fetched.keys_loaded {
                        state.keys = old.keys.clone();
                        state.jwks_body = Arc::clone(&old.jwks_body);
                    }
                }
                snapshot.add_hosts(&state.name, &fetched.domains);
                snapshot
                    .tenants
                    .insert(state.name.to_string(), Arc::new(state));
            }
        }
        for (tenant, keys) in &self.keys {
            if let Some(state) = snapshot.tenants.get_mut(tenant) {
                Arc::make_mut(state).set_keys(keys.clone());
            }
        }
        for id in &self.missing_apps {
            snapshot.remove_client(id);
        }
        for app in &self.apps {
            snapshot.insert_client(app.clone());
        }
        for revocation in &self.revocations {
            snapshot.add_revocation(&revocation.tenant, &revocation.jti, revocation.expires_at);
        }
    }
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
        let mut snapshot = Snapshot {
            strict_hosts: self.strict_hosts,
            ..Snapshot::default()
        };
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
                snapshot.add_client(&scanned.tenant, scanned.client);
            })
            .await?;
        for revocation in self.store.live_revocations(now).await? {
            snapshot.add_revocation(&revocation.tenant, &revocation.jti, revocation.expires_at);
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
        TenantState {
            name: Arc::from(tenant.name.as_str()),
            issuer: self.issuer_of(tenant),
            jwks_body: jwks_body(&keys),
            keys,
            token_profile: tenant.token_profile,
            publish_scopes: tenant.publish_scopes,
            scope_counts: BTreeMap::new(),
        }
    }

    /// Applies every change logged since the last one applied, in order; returns how many.
    /// The refresh task calls this every poll, and a request that wrote calls it before
    /// answering, so that this node serves the change from the next request on.
    pub async fn catch_up(&self, now: i64) -> Result<usize, RegistryError> {
        let mut applied = self.applied.lock().await;
        let mut count = 0;
        loop {
            let changes = self.store.changes_since(*applied, CHANGE_BATCH).await?;
            let Some(last) = changes.last() else {
                return Ok(count);
            };
            self.apply(&changes, now).await?;
            *applied = last.seq;
            count += changes.len();
            if changes.len() < CHANGE_BATCH as usize {
                return Ok(count);
            }
        }
    }

    /// Applies a batch of change log rows: reloads exactly the apps, keys, tenants and
    /// revocations they name, then swaps in the new snapshot.
    async fn apply(&self, changes: &[Change], now: i64) -> Result<(), RegistryError> {
        let mut app_ids: HashSet<&str> = HashSet::new();
        let mut key_tenants: HashSet<&str> = HashSet::new();
        let mut jtis: HashSet<&str> = HashSet::new();
        let mut tenants_changed = false;
        for change in changes {
            match change.entity {
                ChangedEntity::App => app_ids.insert(&change.id),
                ChangedEntity::Key => key_tenants.insert(&change.tenant),
                ChangedEntity::Revocation => jtis.insert(&change.id),
                ChangedEntity::Tenant => {
                    tenants_changed = true;
                    true
                }
            };
        }
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

    /// Records a revocation made by this node at once (other nodes learn it from the change log).
    pub fn note_revocation(&self, tenant: &str, jti: &str, expires_at: i64) {
        self.current.rcu(|current| {
            let mut snapshot = Snapshot::clone(current);
            snapshot.add_revocation(tenant, jti, expires_at);
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

/// A client entry for tests: `Client::m2m` in the `default` tenant.
#[cfg(test)]
pub(crate) fn test_entry(client_id: &str) -> ClientEntry {
    ClientEntry {
        tenant: DEFAULT_TENANT.into(),
        client: Client::m2m(client_id),
    }
}

#[cfg(test)]
mod tests {
    use super::{Snapshot, TenantState};
    use latchkey_protocol::{Client, Scope};
    use std::sync::Arc;

    fn client(id: &str, scopes: &[&str]) -> Client {
        Client {
            scopes: scopes.iter().map(|s| Scope::parse(s).unwrap()).collect(),
            ..Client::m2m(id)
        }
    }

    fn supported(snapshot: &Snapshot) -> Vec<&str> {
        snapshot.tenants["default"]
            .scopes_supported()
            .unwrap_or_default()
    }

    fn with_default_tenant(publish_scopes: bool) -> Snapshot {
        let mut snapshot = Snapshot::default();
        let tenant = TenantState {
            name: "default".into(),
            issuer: String::new(),
            keys: Default::default(),
            jwks_body: Arc::from(&b""[..]),
            token_profile: Default::default(),
            publish_scopes,
            scope_counts: Default::default(),
        };
        snapshot.tenants.insert("default".into(), Arc::new(tenant));
        snapshot
    }

    #[test]
    fn scopes_supported_never_lists_the_admin_scope() {
        let mut snapshot = with_default_tenant(true);
        snapshot.replace_client("default", client("ops", &["latchkey:admin", "read"]));
        assert_eq!(supported(&snapshot), ["read"]);
    }

    #[test]
    fn a_tenant_that_does_not_publish_scopes_lists_none() {
        let mut snapshot = with_default_tenant(false);
        snapshot.replace_client("default", client("a", &["read"]));
        assert_eq!(snapshot.tenants["default"].scopes_supported(), None);
    }

    #[test]
    fn replacing_an_app_counts_its_new_scopes_and_forgets_only_its_old_ones() {
        let mut snapshot = with_default_tenant(true);
        snapshot.replace_client("default", client("a", &["read", "write"]));
        snapshot.replace_client("default", client("b", &["write"]));

        snapshot.replace_client("default", client("a", &["read", "admin"]));
        assert_eq!(supported(&snapshot), ["admin", "read", "write"]);

        snapshot.remove_client("b");
        assert_eq!(supported(&snapshot), ["admin", "read"]);
        snapshot.remove_client("a");
        assert!(supported(&snapshot).is_empty());
    }

    #[test]
    fn a_revocation_counts_only_in_its_own_tenant() {
        let mut snapshot = Snapshot::default();
        snapshot.add_revocation("acme", "j1", 500);

        assert!(snapshot.is_revoked("acme", "j1"));
        assert!(!snapshot.is_revoked("default", "j1"));
        assert!(!snapshot.is_revoked("acme", "j2"));

        snapshot.add_revocation("default", "j1", 900);
        snapshot.add_revocation("default", "j1", 900);
        assert!(snapshot.is_revoked("default", "j1"));
        assert_eq!(snapshot.revocation_count(), 2);
    }

    #[test]
    fn pruning_forgets_each_tenants_expired_revocations_alone() {
        let mut snapshot = Snapshot::default();
        snapshot.add_revocation("acme", "j1", 500);
        snapshot.add_revocation("default", "j1", 900);
        snapshot.add_revocation("default", "j2", 400);

        assert!(snapshot.has_expired_revocations(600));
        assert_eq!(snapshot.prune_revocations(600), 2);

        assert!(!snapshot.is_revoked("acme", "j1"));
        assert!(snapshot.is_revoked("default", "j1"));
        assert!(!snapshot.is_revoked("default", "j2"));
        assert_eq!(snapshot.revocation_count(), 1);
        assert!(!snapshot.has_expired_revocations(600));
    }
}
