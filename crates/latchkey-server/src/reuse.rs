//! Token reuse (opt-in per app): an identical request (same client, same granted scopes) gets
//! the token the client already holds while enough of its life remains, instead of a new
//! signature. Many clients fetch a token per call; for them this turns a signature into a map
//! lookup.
//!
//! The cache is per node, bounded, and sharded so that requests for different clients rarely
//! meet on a lock. An entry is only handed out while everything it was issued under still holds:
//! the client's snapshot entry is the same one (any update, secret rotation, disable or app-wide
//! revocation replaces it), the tenant still signs with the same key, and its jti is not revoked.

use crate::registry::ClientEntry;
use latchkey_keys::Signer;
use latchkey_protocol::token::reusable;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

const SHARDS: usize = 64;
/// Entries per shard; the whole cache holds at most `SHARDS * SHARD_CAPACITY` tokens (about
/// 64 MiB of tokens at 1 KiB each), whatever the number of apps.
const SHARD_CAPACITY: usize = 1024;

/// A token handed out earlier, and what it was issued under.
#[derive(Clone)]
pub struct CachedToken {
    /// The signed JWT.
    pub token: Arc<str>,
    /// Its jti.
    pub jti: Arc<str>,
    /// Issued at.
    pub issued_at: i64,
    /// Expiry.
    pub expires_at: i64,
    client: Arc<ClientEntry>,
    signer: Arc<Signer>,
}

/// The per-node cache of reusable tokens.
pub struct TokenCache {
    shards: Vec<Mutex<HashMap<String, CachedToken>>>,
    hasher: RandomState,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

/// The cache key of a request: client id, audience and granted scopes, so a token is never
/// handed out for another audience (or none) than it was issued for.
pub fn key(client_id: &str, scopes: &[&str], audience: Option<&str>) -> String {
    let audience = audience.unwrap_or_default();
    let mut key = String::with_capacity(
        client_id.len() + 1 + audience.len() + scopes.iter().map(|s| s.len() + 1).sum::<usize>(),
    );
    key.push_str(client_id);
    // An empty audience part means none was asked for: an absolute URI is never empty.
    key.push('\n');
    key.push_str(audience);
    // A newline can appear in neither a client id the server minted nor a scope (RFC 6749 §3.3).
    for scope in scopes {
        key.push('\n');
        key.push_str(scope);
    }
    key
}

impl TokenCache {
    fn shard(&self, key: &str) -> &Mutex<HashMap<String, CachedToken>> {
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        &self.shards[index]
    }

    /// The cached token for `key`, if it may be handed out again now.
    pub fn get(
        &self,
        key: &str,
        client: &Arc<ClientEntry>,
        signer: &Arc<Signer>,
        percent: u8,
        now: i64,
        is_revoked: impl Fn(&str) -> bool,
    ) -> Option<CachedToken> {
        // A poisoned shard only means a panic elsewhere mid-insert; the map itself is intact.
        let shard = self
            .shard(key)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let cached = shard.get(key)?;
        let still_valid = Arc::ptr_eq(&cached.client, client)
            && Arc::ptr_eq(&cached.signer, signer)
            && reusable(cached.issued_at, cached.expires_at, percent, now)
            && !is_revoked(&cached.jti);
        still_valid.then(|| cached.clone())
    }

    /// Remembers a token just issued.
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        &self,
        key: String,
        token: Arc<str>,
        jti: Arc<str>,
        issued_at: i64,
        expires_at: i64,
        client: Arc<ClientEntry>,
        signer: Arc<Signer>,
    ) {
        let mut shard = self
            .shard(&key)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if shard.len() >= SHARD_CAPACITY && !shard.contains_key(&key) {
            shard.retain(|_, cached| cached.expires_at > issued_at);
            if shard.len() >= SHARD_CAPACITY {
                shard.clear();
            }
        }
        shard.insert(
            key,
            CachedToken {
                token,
                jti,
                issued_at,
                expires_at,
                client,
                signer,
            },
        );
    }

    /// Drops expired entries (run by the maintenance task).
    pub fn prune(&self, now: i64) {
        for shard in &self.shards {
            let mut shard = shard
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            shard.retain(|_, cached| cached.expires_at > now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_keys::{Algorithm, generate_private_key};

    fn entry() -> Arc<ClientEntry> {
        let mut entry = crate::registry::test_entry("app");
        entry.client.token_reuse_percent = Some(80);
        Arc::new(entry)
    }

    fn signer() -> Arc<Signer> {
        let pkcs8 = generate_private_key(Algorithm::EdDsa).unwrap();
        Arc::new(Signer::from_pkcs8("k", Algorithm::EdDsa, &pkcs8).unwrap())
    }

    fn insert(cache: &TokenCache, key: &str, client: &Arc<ClientEntry>, signer: &Arc<Signer>) {
        let (client, signer) = (Arc::clone(client), Arc::clone(signer));
        cache.insert(
            key.into(),
            "t".into(),
            "j".into(),
            1000,
            1300,
            client,
            signer,
        );
    }

    #[test]
    fn hit_needs_the_same_client_entry_key_and_an_unrevoked_fresh_token() {
        let (cache, client, signer) = (TokenCache::default(), entry(), signer());
        insert(&cache, "app\na", &client, &signer);
        assert!(
            cache
                .get("app\na", &client, &signer, 80, 1010, |_| false)
                .is_some()
        );
        assert!(
            cache
                .get("app\nb", &client, &signer, 80, 1010, |_| false)
                .is_none(),
            "other scopes"
        );
        assert!(
            cache
                .get("app\na", &entry(), &signer, 80, 1010, |_| false)
                .is_none(),
            "app changed"
        );
        assert!(
            cache
                .get("app\na", &client, &self::signer(), 80, 1010, |_| false)
                .is_none(),
            "key rotated"
        );
        assert!(
            cache
                .get("app\na", &client, &signer, 80, 1010, |_| true)
                .is_none(),
            "revoked"
        );
        assert!(
            cache
                .get("app\na", &client, &signer, 80, 1061, |_| false)
                .is_none(),
            "too old"
        );
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let (cache, client, signer) = (TokenCache::default(), entry(), signer());
        for index in 0..(SHARDS * SHARD_CAPACITY * 2) {
            insert(&cache, &format!("app-{index}"), &client, &signer);
        }
        let held: usize = cache
            .shards
            .iter()
            .map(|shard| shard.lock().unwrap().len())
            .sum();
        assert!(held <= SHARDS * SHARD_CAPACITY, "{held}");
        cache.prune(1300);
        let held: usize = cache
            .shards
            .iter()
            .map(|shard| shard.lock().unwrap().len())
            .sum();
        assert_eq!(held, 0, "expired tokens are pruned");
    }

    #[test]
    fn key_separates_client_audience_and_scopes() {
        assert_eq!(key("app", &["a", "b"], None), "app\n\na\nb");
        assert_ne!(key("app", &["a b"], None), key("app", &["a", "b"], None));
        assert_ne!(
            key("app", &["a"], Some("urn:x")),
            key("app", &["a"], Some("urn:y"))
        );
        assert_ne!(key("app", &["a"], Some("urn:x")), key("app", &["a"], None));
    }
}
