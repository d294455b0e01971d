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
use latchkey_protocol::token::{Grant, reusable};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

const SHARDS: usize = 64;
/// Entries per shard; the whole cache holds at most `SHARDS * SHARD_CAPACITY` tokens (about
/// 64 MiB of tokens at 1 KiB each), whatever the number of apps.
const SHARD_CAPACITY: usize = 1024;

/// A token handed out earlier, and what it was issued under.
struct CachedToken {
    token: Arc<str>,
    jti: Arc<str>,
    issued_at: i64,
    expires_at: i64,
    client: Arc<ClientEntry>,
    signer: Arc<Signer>,
}

/// What `TokenCache::lookup` found for a grant.
pub enum Lookup<'g> {
    /// A token the client already holds, to be handed out again.
    Hit(Reused),
    /// Nothing to hand out: sign a new token and `fill` the slot with it.
    Miss(Slot<'g>),
}

/// A token handed out again.
#[derive(Debug, Clone)]
pub struct Reused {
    /// The signed JWT.
    pub token: Arc<str>,
    /// Its expiry, unix seconds.
    pub expires_at: i64,
}

/// Where the token about to be signed for a grant goes; empty for an app without token reuse.
/// It holds the hashed key from the lookup, so remembering the token hashes nothing again.
#[must_use = "fill the slot with the token signed for the grant"]
pub struct Slot<'g> {
    place: Option<Place<'g>>,
}

struct Place<'g> {
    cache: &'g TokenCache,
    shard: usize,
    key: String,
    client: &'g Arc<ClientEntry>,
    signer: &'g Arc<Signer>,
    issued_at: i64,
    expires_at: i64,
}

impl Slot<'_> {
    /// Remembers the token just signed for the grant (nothing, for an app without token reuse).
    pub fn fill(self, jwt: &str, jti: &str) {
        let Some(place) = self.place else {
            return;
        };
        place.cache.insert(
            place.shard,
            place.key,
            CachedToken {
                token: Arc::from(jwt),
                jti: Arc::from(jti),
                issued_at: place.issued_at,
                expires_at: place.expires_at,
                client: Arc::clone(place.client),
                signer: Arc::clone(place.signer),
            },
        );
    }
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
fn key(client_id: &str, scopes: &[&str], audience: Option<&str>) -> String {
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
    /// A token `grant` may be answered with again, or the slot for the one about to be signed.
    /// `client` is the snapshot entry `grant` was decided on and `signer` the tenant's active
    /// key: a cached token counts only while both are the very ones it was issued under, and
    /// while `is_revoked` does not name its jti. An app without token reuse (or no entry,
    /// which a grant never has) always misses, with an empty slot and without a lock.
    pub fn lookup<'g>(
        &'g self,
        grant: &Grant<'_>,
        client: Option<&'g Arc<ClientEntry>>,
        signer: &'g Arc<Signer>,
        is_revoked: impl Fn(&str) -> bool,
    ) -> Lookup<'g> {
        let (Some(percent), Some(client)) = (grant.client.token_reuse_percent, client) else {
            return Lookup::Miss(Slot { place: None });
        };
        let key = key(&grant.client.client_id, &grant.scopes, grant.audience);
        let shard = (self.hasher.hash_one(key.as_str()) as usize) % SHARDS;
        let now = grant.issued_at;
        {
            let entries = self.lock(shard);
            let reused = entries.get(&key).filter(|cached| {
                Arc::ptr_eq(&cached.client, client)
                    && Arc::ptr_eq(&cached.signer, signer)
                    && reusable(cached.issued_at, cached.expires_at, percent, now)
                    && !is_revoked(&cached.jti)
            });
            if let Some(cached) = reused {
                return Lookup::Hit(Reused {
                    token: Arc::clone(&cached.token),
                    expires_at: cached.expires_at,
                });
            }
        }
        Lookup::Miss(Slot {
            place: Some(Place {
                cache: self,
                shard,
                key,
                client,
                signer,
                issued_at: grant.issued_at,
                expires_at: grant.expires_at,
            }),
        })
    }

    fn lock(&self, shard: usize) -> std::sync::MutexGuard<'_, HashMap<String, CachedToken>> {
        // A poisoned shard only means a panic elsewhere mid-insert; the map itself is intact.
        self.shards[shard]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn insert(&self, shard: usize, key: String, token: CachedToken) {
        let mut entries = self.lock(shard);
        if entries.len() >= SHARD_CAPACITY && !entries.contains_key(&key) {
            let issued_at = token.issued_at;
            entries.retain(|_, cached| cached.expires_at > issued_at);
            if entries.len() >= SHARD_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, token);
    }

    /// Drops expired entries (run by the maintenance task).
    pub fn prune(&self, now: i64) {
        for shard in 0..SHARDS {
            self.lock(shard).retain(|_, cached| cached.expires_at > now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_keys::{Algorithm, generate_private_key};

    fn entry(reuse: Option<u8>) -> Arc<ClientEntry> {
        let mut entry = crate::registry::test_entry("app");
        entry.client.token_reuse_percent = reuse;
        Arc::new(entry)
    }

    fn signer() -> Arc<Signer> {
        let pkcs8 = generate_private_key(Algorithm::EdDsa).unwrap();
        Arc::new(Signer::from_pkcs8("k", Algorithm::EdDsa, &pkcs8).unwrap())
    }

    /// A grant of `scopes` to the entry's client at `now`, for five minutes.
    fn grant<'c>(client: &'c ClientEntry, scopes: &[&'c str], now: i64) -> Grant<'c> {
        Grant {
            client: &client.client,
            scopes: scopes.to_vec(),
            audience: None,
            issued_at: now,
            expires_at: now + 300,
        }
    }

    /// Whether `grant` is answered with the cached token, which is "t" whenever there is one.
    fn hit(
        cache: &TokenCache,
        grant: &Grant<'_>,
        client: &Arc<ClientEntry>,
        signer: &Arc<Signer>,
        revoked: bool,
    ) -> bool {
        match cache.lookup(grant, Some(client), signer, |_| revoked) {
            Lookup::Hit(reused) => {
                assert_eq!(&*reused.token, "t");
                assert_eq!(reused.expires_at, 1300);
                true
            }
            Lookup::Miss(_) => false,
        }
    }

    fn fill(
        cache: &TokenCache,
        grant: &Grant<'_>,
        client: &Arc<ClientEntry>,
        signer: &Arc<Signer>,
    ) {
        match cache.lookup(grant, Some(client), signer, |_| false) {
            Lookup::Miss(slot) => slot.fill("t", "j"),
            Lookup::Hit(_) => panic!("a hit where a miss was expected"),
        }
    }

    #[test]
    fn a_filled_slot_is_a_hit_for_the_same_client_entry_scopes_and_key() {
        let (cache, client, signer) = (TokenCache::default(), entry(Some(80)), signer());
        fill(&cache, &grant(&client, &["a"], 1000), &client, &signer);
        assert!(hit(
            &cache,
            &grant(&client, &["a"], 1010),
            &client,
            &signer,
            false
        ));
        assert!(
            !hit(
                &cache,
                &grant(&client, &["b"], 1010),
                &client,
                &signer,
                false
            ),
            "other scopes"
        );
        let changed = entry(Some(80));
        assert!(
            !hit(
                &cache,
                &grant(&changed, &["a"], 1010),
                &changed,
                &signer,
                false
            ),
            "app changed"
        );
        assert!(
            !hit(
                &cache,
                &grant(&client, &["a"], 1010),
                &client,
                &self::signer(),
                false
            ),
            "key rotated"
        );
        assert!(
            !hit(
                &cache,
                &grant(&client, &["a"], 1010),
                &client,
                &signer,
                true
            ),
            "revoked"
        );
        assert!(
            !hit(
                &cache,
                &grant(&client, &["a"], 1061),
                &client,
                &signer,
                false
            ),
            "too old"
        );
    }

    #[test]
    fn a_revocation_check_sees_the_cached_jti() {
        let (cache, client, signer) = (TokenCache::default(), entry(Some(80)), signer());
        fill(&cache, &grant(&client, &["a"], 1000), &client, &signer);
        let looked_up = cache.lookup(
            &grant(&client, &["a"], 1010),
            Some(&client),
            &signer,
            |jti| jti == "j",
        );
        assert!(matches!(looked_up, Lookup::Miss(_)));
    }

    #[test]
    fn an_app_without_token_reuse_gets_an_empty_slot() {
        let (cache, client, signer) = (TokenCache::default(), entry(None), signer());
        fill(&cache, &grant(&client, &["a"], 1000), &client, &signer);
        assert!(
            cache
                .shards
                .iter()
                .all(|shard| shard.lock().unwrap().is_empty())
        );
        let reusing = entry(Some(80));
        let looked_up = cache.lookup(&grant(&reusing, &["a"], 1000), None, &signer, |_| false);
        assert!(
            matches!(looked_up, Lookup::Miss(Slot { place: None })),
            "no entry"
        );
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let (cache, client, signer) = (TokenCache::default(), entry(Some(80)), signer());
        let scopes: Vec<String> = (0..(SHARDS * SHARD_CAPACITY * 2))
            .map(|index| format!("s{index}"))
            .collect();
        for scope in &scopes {
            fill(
                &cache,
                &grant(&client, &[scope.as_str()], 1000),
                &client,
                &signer,
            );
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
