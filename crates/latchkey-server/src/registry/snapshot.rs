//! The snapshot: an immutable view of every tenant, client, parsed signing key and live
//! revocation, as of one moment. Pure: the request paths read it without a lock or a database
//! call, and the registry builds new ones from what it fetched and swaps them in.
//!
//! Clients live in a `ClientMap` (a hash set built by the load plus a persistent overlay of
//! changes, see `clients`) and revocations in a persistent hash map (`imbl`): cloning a
//! snapshot is O(1) and replacing one entry costs the same with ten apps or a million.
//!
//! At a million apps the clients are most of a snapshot's memory, so an app costs little here:
//! its slot in the set is one pointer and holds the only copy of its client id, its scope texts
//! are the one copy its tenant's clients share (the keys of `TenantState::scope_counts`, in `tenant`), and
//! its grant types are a bit set (`GrantTypes`).
//!
//! Hosts route through `hosts` (every tenant domain to its tenant), rebuilt when a tenant
//! change arrives through the change log: a server that has not yet applied the creation of a
//! tenant answers its domains as unclaimed ones (the `default` tenant, or 404 with
//! `--strict-hosts`) until its next poll.

use super::app_keys::AppKeys;
use super::clients::ClientMap;
use super::tenant::TenantState;
use crate::quota::Quota;
use latchkey_keys::TenantKeys;
use latchkey_protocol::Client;
use latchkey_store::{AppRecord, DEFAULT_TENANT, RevocationRecord};
use std::collections::HashMap;
use std::sync::Arc;

/// A client and the tenant it belongs to.
#[derive(Debug, Clone)]
pub struct ClientEntry {
    /// The tenant's name, shared by all of its clients.
    pub tenant: Arc<str>,
    /// What the endpoints need of the client.
    pub client: Client,
    /// Its token quota on this node, when it has a rate limit: shared with the entry it
    /// replaced while the limit stays the same.
    pub quota: Option<Arc<Quota>>,
    /// Its public keys and federation rules, parsed, when it has any.
    pub keys: Option<Arc<AppKeys>>,
}

/// Everything the request paths read, as of one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub(super) tenants: HashMap<String, Arc<TenantState>>,
    /// Every tenant domain (lower-case, no port) and the tenant it routes to.
    hosts: HashMap<String, Arc<str>>,
    /// Whether a Host no tenant claims gets 404 instead of the `default` tenant.
    pub(super) strict_hosts: bool,
    /// Every client, by client id.
    pub(super) clients: ClientMap,
    /// Revoked token ids, each with the tenants it is revoked in (nearly always one) and when
    /// its token expires. A revocation counts only in its own tenant: a jti revoked in one tenant
    /// says nothing about a token another tenant issued.
    revoked: imbl::HashMap<String, Vec<(String, i64)>>,
    /// The expiry of each token an app revoked itself (RFC 7009), by tenant and client id:
    /// what bounds an app's live self-revocations. Pruned with `revoked`.
    self_revoked: imbl::HashMap<(String, String), Vec<i64>>,
}

impl Snapshot {
    /// An empty snapshot; `strict_hosts` makes a Host no tenant claims get no tenant.
    pub fn new(strict_hosts: bool) -> Snapshot {
        Snapshot {
            strict_hosts,
            ..Snapshot::default()
        }
    }

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

    /// The clients of `tenant` with federation rules: the candidates of a JWT bearer grant
    /// that names no client.
    pub fn federated_clients<'a>(
        &'a self,
        tenant: &'a TenantState,
    ) -> impl Iterator<Item = &'a Arc<ClientEntry>> + 'a {
        tenant
            .federated
            .iter()
            .filter_map(move |client_id| self.client_entry(tenant, client_id))
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

    /// How many tokens live at `now` the app revoked itself in `tenant`, and the whole
    /// seconds until the first of them expires (at least 1).
    pub fn live_self_revocations(&self, tenant: &str, client_id: &str, now: i64) -> (usize, u32) {
        let key = (tenant.to_owned(), client_id.to_owned());
        let live = self
            .self_revoked
            .get(&key)
            .into_iter()
            .flatten()
            .filter(|expires_at| **expires_at >= now);
        live.fold((0, u32::MAX), |(count, first), expires_at| {
            let wait = u32::try_from(expires_at - now + 1).unwrap_or(u32::MAX);
            (count + 1, first.min(wait))
        })
    }

    /// Records a revocation; `client_id` is the app that revoked its own token, if it did.
    pub(super) fn add_revocation(
        &mut self,
        tenant: &str,
        jti: &str,
        expires_at: i64,
        client_id: Option<&str>,
    ) {
        let tenants = self.revoked.entry(jti.to_owned()).or_default();
        match tenants
            .iter_mut()
            .find(|(revoked_in, _)| revoked_in == tenant)
        {
            Some((_, expiry)) => *expiry = expires_at,
            None => {
                tenants.push((tenant.to_owned(), expires_at));
                // Counted once per token: a revocation applied again is found above.
                if let Some(client_id) = client_id {
                    self.self_revoked
                        .entry((tenant.to_owned(), client_id.to_owned()))
                        .or_default()
                        .push(expires_at);
                }
            }
        }
    }

    /// Whether any revocation is of a token that expired before `now`.
    pub(super) fn has_expired_revocations(&self, now: i64) -> bool {
        self.revoked
            .values()
            .flatten()
            .any(|(_, expires_at)| *expires_at < now)
    }

    /// Forgets revocations of tokens that expired before `now`; returns how many.
    pub(super) fn prune_revocations(&mut self, now: i64) -> usize {
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
        let apps: Vec<(String, String)> = self
            .self_revoked
            .iter()
            .filter(|(_, expiries)| expiries.iter().any(|expires_at| *expires_at < now))
            .map(|(app, _)| app.clone())
            .collect();
        for app in apps {
            if let Some(expiries) = self.self_revoked.get_mut(&app) {
                expiries.retain(|expires_at| *expires_at >= now);
                if expiries.is_empty() {
                    self.self_revoked.remove(&app);
                }
            }
        }
        pruned
    }

    pub(super) fn add_hosts(&mut self, tenant: &Arc<str>, domains: &[String]) {
        for domain in domains {
            self.hosts
                .insert(domain.to_ascii_lowercase(), Arc::clone(tenant));
        }
    }

    fn insert_client(&mut self, record: AppRecord) {
        let tenant = record.tenant.clone();
        self.replace_client(&tenant, record.into_client());
    }

    /// The quota a client's entry holds: its entry's in `previous` (same tenant, same limit),
    /// so that neither a change to the app nor a reload refills it, or a new one.
    fn quota_for(previous: &Snapshot, tenant: &str, client: &Client) -> Option<Arc<Quota>> {
        let limit = client.rate_limit?;
        let kept = previous
            .clients
            .get(&client.client_id)
            .filter(|old| *old.tenant == *tenant)
            .and_then(|old| old.quota.as_ref())
            .filter(|quota| quota.limit() == limit);
        Some(kept.map_or_else(|| Arc::new(Quota::new(limit)), Arc::clone))
    }

    /// Adds a client, or replaces the one with its id.
    fn replace_client(&mut self, tenant: &str, client: Client) {
        // Added before the old entry's scopes are forgotten, so scopes the two share keep their
        // count above zero and their shared text.
        if let Some(old) = self.add_client(tenant, client, None) {
            self.forget_scopes(&old);
        }
    }

    /// Adds a client, its scopes counted and shared with its tenant's; returns the entry it
    /// replaced, whose scopes are still counted. Its quota carries on from its entry in
    /// `previous` (a snapshot this one is rebuilding), else from the one it replaces.
    pub(super) fn add_client(
        &mut self,
        tenant: &str,
        mut client: Client,
        previous: Option<&Snapshot>,
    ) -> Option<Arc<ClientEntry>> {
        let quota = Snapshot::quota_for(previous.unwrap_or(self), tenant, &client);
        let tenant = match self.tenants.get_mut(tenant) {
            Some(state) => {
                let state = Arc::make_mut(state);
                state.add_client(&mut client);
                Arc::clone(&state.name)
            }
            None => Arc::from(tenant),
        };
        let keys = client
            .keys
            .as_deref()
            .map(|keys| Arc::new(AppKeys::parse(&client.client_id, keys)));
        let entry = ClientEntry {
            tenant,
            client,
            quota,
            keys,
        };
        self.clients.insert(Arc::new(entry))
    }

    fn remove_client(&mut self, client_id: &str) {
        if let Some(old) = self.clients.remove(client_id) {
            self.forget_scopes(&old);
            if let Some(tenant) = self.tenants.get_mut(&*old.tenant) {
                Arc::make_mut(tenant).forget_federated(client_id);
            }
        }
    }

    fn forget_scopes(&mut self, old: &ClientEntry) {
        if let Some(tenant) = self.tenants.get_mut(&*old.tenant) {
            Arc::make_mut(tenant).remove_client(&old.client);
        }
    }
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
pub(super) struct FetchedTenant {
    pub(super) state: TenantState,
    pub(super) domains: Vec<String>,
    /// Whether `state` holds keys read with the batch; otherwise the snapshot's stay.
    pub(super) keys_loaded: bool,
}

/// What a batch of changes fetched from the store, ready to apply to any snapshot.
#[derive(Default)]
pub(super) struct Fetched {
    pub(super) tenants: Option<Vec<FetchedTenant>>,
    pub(super) keys: Vec<(String, TenantKeys)>,
    pub(super) apps: Vec<AppRecord>,
    pub(super) missing_apps: Vec<String>,
    pub(super) revocations: Vec<RevocationRecord>,
}

impl Fetched {
    pub(super) fn apply_to(&self, snapshot: &mut Snapshot) {
        if let Some(tenants) = &self.tenants {
            snapshot
                .tenants
                .retain(|name, _| tenants.iter().any(|fetched| *fetched.state.name == **name));
            snapshot.hosts.clear();
            for fetched in tenants {
                let mut state = fetched.state.clone();
                if let Some(old) = snapshot.tenants.get(&*state.name) {
                    state.scope_counts = old.scope_counts.clone();
                    state.app_count = old.app_count;
                    state.federated = old.federated.clone();
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
            snapshot.add_revocation(
                &revocation.tenant,
                &revocation.jti,
                revocation.expires_at,
                revocation.client_id.as_deref(),
            );
        }
    }
}

/// A client entry for tests: `Client::m2m` in the `default` tenant.
#[cfg(test)]
pub(crate) fn test_entry(client_id: &str) -> ClientEntry {
    ClientEntry {
        tenant: DEFAULT_TENANT.into(),
        client: Client::m2m(client_id),
        quota: None,
        keys: None,
    }
}

#[cfg(test)]
mod tests {
    use super::{Snapshot, TenantState, host_name};
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
            assertion_lifetime: latchkey_protocol::assertion::MAX_ASSERTION_LIFETIME,
            scope_counts: Default::default(),
            app_count: 0,
            federated: Default::default(),
        };
        snapshot.tenants.insert("default".into(), Arc::new(tenant));
        snapshot
    }

    fn routed(snapshot: &Snapshot, host: Option<&str>) -> Option<String> {
        snapshot
            .tenant_for_host(host)
            .map(|tenant| tenant.name.to_string())
    }

    fn with_acme(strict_hosts: bool) -> Snapshot {
        let mut snapshot = with_default_tenant(true);
        snapshot.strict_hosts = strict_hosts;
        let acme: Arc<str> = Arc::from("acme");
        let state = TenantState::new(
            "acme",
            String::new(),
            Default::default(),
            Default::default(),
            true,
        );
        snapshot.tenants.insert("acme".into(), Arc::new(state));
        snapshot.add_hosts(
            &acme,
            &["auth.acme.test".into(), "[::1]".into(), "10.0.0.7".into()],
        );
        snapshot
    }

    #[test]
    fn a_host_name_drops_its_port_and_trailing_dot_and_keeps_ipv6_brackets() {
        for (host, name) in [
            ("auth.acme.test", "auth.acme.test"),
            ("auth.acme.test:8443", "auth.acme.test"),
            ("auth.acme.test.", "auth.acme.test"),
            ("auth.acme.test.:443", "auth.acme.test"),
            (" auth.acme.test ", "auth.acme.test"),
            ("[::1]", "[::1]"),
            ("[::1]:8080", "[::1]"),
            ("[2001:db8::1]:443", "[2001:db8::1]"),
            ("10.0.0.7:80", "10.0.0.7"),
        ] {
            assert_eq!(host_name(host), name, "{host}");
        }
    }

    #[test]
    fn a_request_finds_the_tenant_claiming_its_host_whatever_the_port_case_or_trailing_dot() {
        let snapshot = with_acme(false);
        for host in [
            "auth.acme.test",
            "AUTH.Acme.Test:8443",
            "auth.acme.test.",
            "[::1]:8080",
            "10.0.0.7:80",
        ] {
            assert_eq!(
                routed(&snapshot, Some(host)).as_deref(),
                Some("acme"),
                "{host}"
            );
        }
    }

    #[test]
    fn an_unclaimed_or_missing_host_gets_the_default_tenant_or_none_with_strict_hosts() {
        let lenient = with_acme(false);
        let strict = with_acme(true);
        for host in [Some("other.test"), Some("[::2]"), Some("acme.test"), None] {
            assert_eq!(
                routed(&lenient, host).as_deref(),
                Some("default"),
                "{host:?}"
            );
            assert_eq!(routed(&strict, host), None, "{host:?}");
        }
        assert_eq!(
            routed(&strict, Some("auth.acme.test")).as_deref(),
            Some("acme")
        );
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
    fn an_app_with_federation_rules_stays_a_candidate_while_replaced_and_leaves_when_removed() {
        use latchkey_protocol::client::ClientKeys;
        use latchkey_protocol::federation::FederationRule;
        let federated = |id: &str| {
            let mut client = client(id, &[]);
            client.keys = ClientKeys::boxed(
                None,
                None,
                vec![FederationRule {
                    name: "ci".into(),
                    issuer: "https://ci.test".into(),
                    subject: "repo:*".into(),
                    audience: None,
                    claims: Default::default(),
                    jwks: None,
                }],
            );
            client
        };
        let candidates = |snapshot: &Snapshot| {
            let tenant = snapshot.tenant("default").unwrap();
            snapshot
                .federated_clients(tenant)
                .map(|entry| entry.client.client_id.clone())
                .collect::<Vec<_>>()
        };
        let mut snapshot = with_default_tenant(true);
        snapshot.replace_client("default", federated("a"));
        snapshot.replace_client("default", client("b", &[]));
        assert_eq!(candidates(&snapshot), ["a"]);
        snapshot.replace_client("default", federated("a"));
        assert_eq!(
            candidates(&snapshot),
            ["a"],
            "a replaced entry is still a candidate"
        );
        snapshot.replace_client("default", federated("b"));
        assert_eq!(candidates(&snapshot), ["a", "b"]);
        snapshot.replace_client("default", client("a", &[]));
        assert_eq!(candidates(&snapshot), ["b"], "rules removed");
        snapshot.remove_client("b");
        assert!(candidates(&snapshot).is_empty());
    }

    #[test]
    fn a_revocation_counts_only_in_its_own_tenant() {
        let mut snapshot = Snapshot::default();
        snapshot.add_revocation("acme", "j1", 500, None);

        assert!(snapshot.is_revoked("acme", "j1"));
        assert!(!snapshot.is_revoked("default", "j1"));
        assert!(!snapshot.is_revoked("acme", "j2"));

        snapshot.add_revocation("default", "j1", 900, None);
        snapshot.add_revocation("default", "j1", 900, None);
        assert!(snapshot.is_revoked("default", "j1"));
        assert_eq!(snapshot.revocation_count(), 2);
    }

    #[test]
    fn pruning_forgets_each_tenants_expired_revocations_alone() {
        let mut snapshot = Snapshot::default();
        snapshot.add_revocation("acme", "j1", 500, None);
        snapshot.add_revocation("default", "j1", 900, None);
        snapshot.add_revocation("default", "j2", 400, None);

        assert!(snapshot.has_expired_revocations(600));
        assert_eq!(snapshot.prune_revocations(600), 2);

        assert!(!snapshot.is_revoked("acme", "j1"));
        assert!(snapshot.is_revoked("default", "j1"));
        assert!(!snapshot.is_revoked("default", "j2"));
        assert_eq!(snapshot.revocation_count(), 1);
        assert!(!snapshot.has_expired_revocations(600));
    }

    #[test]
    fn an_apps_self_revocations_are_counted_once_each_until_they_expire() {
        let mut snapshot = Snapshot::default();
        snapshot.add_revocation("default", "j1", 500, Some("app"));
        snapshot.add_revocation("default", "j1", 500, Some("app"));
        snapshot.add_revocation("default", "j2", 900, Some("app"));
        snapshot.add_revocation("acme", "j3", 900, Some("app"));
        snapshot.add_revocation("default", "j4", 900, None);
        assert_eq!(
            snapshot.live_self_revocations("default", "app", 400),
            (2, 101)
        );
        assert_eq!(
            snapshot.live_self_revocations("default", "app", 600),
            (1, 301)
        );
        assert_eq!(snapshot.live_self_revocations("default", "other", 400).0, 0);
        snapshot.prune_revocations(600);
        assert_eq!(
            snapshot.live_self_revocations("default", "app", 400),
            (1, 501)
        );
        assert_eq!(snapshot.live_self_revocations("acme", "app", 400).0, 1);
    }

    #[test]
    fn a_changed_app_keeps_its_quota_unless_its_limit_changes() {
        let mut snapshot = with_default_tenant(true);
        let limited = |limit: &str| Client {
            rate_limit: limit.parse().ok(),
            ..client("a", &["read"])
        };
        snapshot.replace_client("default", limited("3/min"));
        let quota = |snapshot: &Snapshot| snapshot.clients.get("a").unwrap().quota.clone().unwrap();
        let first = quota(&snapshot);
        snapshot.replace_client(
            "default",
            Client {
                token_ttl: 60,
                ..limited("3/min")
            },
        );
        assert!(Arc::ptr_eq(&first, &quota(&snapshot)));

        let mut rebuilt = with_default_tenant(true);
        rebuilt.add_client("default", limited("3/min"), Some(&snapshot));
        assert!(Arc::ptr_eq(&first, &quota(&rebuilt)));

        snapshot.replace_client("default", limited("4/min"));
        assert!(!Arc::ptr_eq(&first, &quota(&snapshot)));
        snapshot.replace_client("default", limited("none"));
        assert!(snapshot.clients.get("a").unwrap().quota.is_none());
    }
}
