//! A tenant as the snapshot holds it: its issuer, its parsed signing keys and the JWKS body
//! they make, its token profile, and what its apps share (one copy of each scope text, with
//! how many apps allow it) and how many apps it has.

use latchkey_keys::{JwkSet, JwtType, TenantKeys};
use latchkey_protocol::admin::ADMIN_SCOPE;
use latchkey_protocol::assertion;
use latchkey_protocol::introspection::TokenClaims;
use latchkey_protocol::{Client, Scope, TokenProfile};
use std::collections::BTreeMap;
use std::sync::Arc;

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
    /// The longest lifetime, in seconds, it accepts of a `private_key_jwt` client assertion:
    /// its own limit, else `assertion::MAX_ASSERTION_LIFETIME`.
    pub assertion_lifetime: i64,
    /// How many of the tenant's apps allow each scope, for `scopes_supported`. Its keys are
    /// also the one copy of each scope text that the tenant's clients share.
    pub(super) scope_counts: BTreeMap<Scope, u32>,
    /// How many apps the tenant has (the `latchkey_apps` gauge).
    pub(super) app_count: usize,
    /// The client ids of its apps with federation rules (a persistent set: cloned with the
    /// tenant on every app change, in O(1)).
    pub(super) federated: imbl::OrdSet<Arc<str>>,
}

impl TenantState {
    /// A tenant's state with its keys; its scope counts fill as its clients are added.
    pub fn new(
        name: &str,
        issuer: String,
        keys: TenantKeys,
        token_profile: TokenProfile,
        publish_scopes: bool,
    ) -> TenantState {
        TenantState {
            name: Arc::from(name),
            issuer,
            jwks_body: jwks_body(&keys),
            keys,
            token_profile,
            publish_scopes,
            assertion_lifetime: assertion::MAX_ASSERTION_LIFETIME,
            scope_counts: BTreeMap::new(),
            app_count: 0,
            federated: imbl::OrdSet::new(),
        }
    }

    /// The same state with this limit on client assertion lifetimes (seconds).
    pub fn with_assertion_lifetime(self, assertion_lifetime: i64) -> TenantState {
        TenantState {
            assertion_lifetime,
            ..self
        }
    }

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

    pub(super) fn set_keys(&mut self, keys: TenantKeys) {
        self.jwks_body = jwks_body(&keys);
        self.keys = keys;
    }

    /// How many apps the tenant has.
    pub fn app_count(&self) -> usize {
        self.app_count
    }

    /// Counts a new client and its scopes, and makes its scopes share the tenant's copy of each
    /// text: a million apps with the same two scopes then hold two strings, not two million.
    pub(super) fn add_client(&mut self, client: &mut Client) {
        self.app_count += 1;
        // Set from the client as it is now: a replaced entry's `remove_client` comes after this
        // and leaves the set alone.
        if is_federated(client) {
            self.federated.insert(Arc::from(client.client_id.as_str()));
        } else if !self.federated.is_empty() {
            self.federated.remove(client.client_id.as_str());
        }
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

    pub(super) fn remove_client(&mut self, client: &Client) {
        self.app_count = self.app_count.saturating_sub(1);
        for scope in &client.scopes {
            if let Some(count) = self.scope_counts.get_mut(scope.as_str()) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    self.scope_counts.remove(scope.as_str());
                }
            }
        }
    }

    /// Forgets a client that is gone (not one replaced: `add_client` keeps the set right then).
    pub(super) fn forget_federated(&mut self, client_id: &str) {
        if !self.federated.is_empty() {
            self.federated.remove(client_id);
        }
    }
}

fn is_federated(client: &Client) -> bool {
    client
        .keys
        .as_ref()
        .is_some_and(|keys| !keys.federation.is_empty())
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
