//! Failed client authentications, throttled: counted per source address and per (source
//! address, client_id), each a token bucket (`latchkey_protocol::rate`). Past either limit the
//! endpoints that authenticate clients answer 429 before any secret is hashed or compared, so an
//! attack cannot turn into CPU; a pair over its limit does not block the other client_ids of
//! its address (many services share one NAT address) until the address itself is over its own.
//!
//! Not the `governor` crate: its keyed limiters count a request as they check it, and this
//! check must look at a bucket on every request but fill it only with the ones that then fail.
//! The token path pays one clock read and one atomic load while nothing is throttled
//! (`quiet_until`); the buckets live in `papaya` maps, whose reads take no lock, and are only
//! read while some key is refusing.

use crate::http::source::TrustedProxies;
use latchkey_protocol::rate::{Rate, retry_after_seconds};
use latchkey_protocol::{Limit, TokenError};
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// How many failed client authentications a minute one source may make; zero turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedLoginLimits {
    /// For one client_id from one address.
    pub per_client: u32,
    /// For one address, whatever the client_ids.
    pub per_address: u32,
}

impl Default for FailedLoginLimits {
    fn default() -> FailedLoginLimits {
        FailedLoginLimits {
            per_client: 10,
            per_address: 100,
        }
    }
}

/// Keys a map holds at most: past it idle buckets are dropped, and if every one is busy a new
/// key goes uncounted (failing open, with a warning) rather than grow memory without bound.
const MAX_TRACKED: usize = 100_000;

const MINUTE_MS: u64 = 60_000;

/// An address as counted: IPv4 as its mapped IPv6 form, IPv6 by its /64, the block one host
/// is usually given, so that rotating through a /64 does not buy an attacker fresh buckets.
type AddressKey = u128;

fn address_key(address: IpAddr) -> AddressKey {
    match address {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6) & !u128::from(u64::MAX),
    }
}

#[derive(Debug, Default)]
struct Bucket {
    /// The theoretical arrival time (`Rate`), in milliseconds since `Throttle::epoch`.
    tat: AtomicU64,
    /// Until when a refusal for this key is not logged again.
    logged_until: AtomicU64,
}

/// The limits on requests from one source: whom to believe about a request's source, and the
/// failed-login buckets.
#[derive(Debug)]
pub(crate) struct Throttle {
    /// The proxies whose forwarding headers name a request's source.
    pub(crate) proxies: TrustedProxies,
    epoch: Instant,
    per_client: Option<Rate>,
    per_address: Option<Rate>,
    clients: papaya::HashMap<(AddressKey, u64), Bucket>,
    addresses: papaya::HashMap<AddressKey, Bucket>,
    /// Client ids are attacker-chosen text of any length: a bucket is keyed by a keyed 64-bit
    /// hash of one, so it costs the same whatever was sent. Two ids colliding would only share
    /// a bucket for one address.
    ids: foldhash::quality::RandomState,
    /// No bucket refuses before this time: while it is past, `admit` reads no map.
    quiet_until: AtomicU64,
}

/// Which bucket refused.
#[derive(Debug, Clone, Copy)]
enum Over {
    Address,
    Client,
}

impl Throttle {
    /// A throttle with `limits`, believing `proxies`.
    pub(crate) fn new(limits: FailedLoginLimits, proxies: TrustedProxies) -> Throttle {
        Throttle {
            proxies,
            epoch: Instant::now(),
            per_client: Rate::per(limits.per_client, MINUTE_MS),
            per_address: Rate::per(limits.per_address, MINUTE_MS),
            clients: papaya::HashMap::new(),
            addresses: papaya::HashMap::new(),
            ids: foldhash::quality::RandomState::default(),
            quiet_until: AtomicU64::new(0),
        }
    }

    /// Milliseconds since this throttle was made: a clock that never goes back.
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Before authenticating a client: `Err(too_many_requests)` when `source`, or `client_id`
    /// from it, has failed too often. Reads nothing but a clock and an atomic while no bucket
    /// refuses.
    pub(crate) fn admit(
        &self,
        endpoint: &'static str,
        source: IpAddr,
        client_id: &str,
    ) -> Result<(), TokenError> {
        let now = self.now();
        if now >= self.quiet_until.load(Ordering::Relaxed) {
            return Ok(());
        }
        let address = address_key(source);
        let refusal = self
            .per_address
            .and_then(|rate| Self::refusing(&self.addresses, &address, rate, now))
            .map(|found| (found, Over::Address))
            .or_else(|| {
                let rate = self.per_client?;
                let key = (address, self.ids.hash_one(client_id));
                Self::refusing(&self.clients, &key, rate, now).map(|found| (found, Over::Client))
            });
        let Some(((wait, first_in_window), over)) = refusal else {
            return Ok(());
        };
        let retry_after = retry_after_seconds(wait, 1_000);
        if first_in_window {
            tracing::warn!(
                target: "latchkey_server::client_auth",
                endpoint = %endpoint,
                address = %source,
                client_id = ?crate::http::response::loggable_client_id(client_id),
                over = ?over,
                retry_after,
                "throttling failed client authentications"
            );
        }
        Err(TokenError::TooManyRequests {
            retry_after,
            limit: Limit::FailedAuthentication,
        })
    }

    /// Whether `key`'s bucket refuses at `now`: the wait, and whether this is the first refusal
    /// of its window (the one to log).
    fn refusing<K: std::hash::Hash + Eq>(
        map: &papaya::HashMap<K, Bucket>,
        key: &K,
        rate: Rate,
        now: u64,
    ) -> Option<(u64, bool)> {
        let buckets = map.pin();
        let bucket = buckets.get(key)?;
        let until = rate.refused_until(bucket.tat.load(Ordering::Relaxed));
        if now >= until {
            return None;
        }
        let logged = bucket.logged_until.load(Ordering::Relaxed);
        let first = now >= logged
            && bucket
                .logged_until
                .compare_exchange(
                    logged,
                    now + rate.window(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok();
        Some((until - now, first))
    }

    /// Counts a failed client authentication from `source` (for `client_id`, when the request
    /// named one).
    pub(crate) fn failed(&self, source: IpAddr, client_id: Option<&str>) {
        let now = self.now();
        let address = address_key(source);
        if let Some(rate) = self.per_address {
            self.count(&self.addresses, address, rate, now);
        }
        if let (Some(rate), Some(id)) = (self.per_client, client_id) {
            self.count(&self.clients, (address, self.ids.hash_one(id)), rate, now);
        }
    }

    fn count<K: std::hash::Hash + Eq>(
        &self,
        map: &papaya::HashMap<K, Bucket>,
        key: K,
        rate: Rate,
        now: u64,
    ) {
        let buckets = map.pin();
        if buckets.len() >= MAX_TRACKED && buckets.get(&key).is_none() {
            // A full bucket is as good as none: drop the ones that refilled.
            buckets.retain(|_, bucket| bucket.tat.load(Ordering::Relaxed) > now);
            if buckets.len() >= MAX_TRACKED {
                tracing::warn!(
                    "{MAX_TRACKED} sources are failing client authentication at once; a new one goes uncounted"
                );
                return;
            }
        }
        let bucket = buckets.get_or_insert_with(key, Bucket::default);
        let before = bucket
            .tat
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |tat| {
                Some(rate.after_one(tat, now))
            })
            .unwrap_or_else(|tat| tat);
        let until = rate.refused_until(rate.after_one(before, now));
        self.quiet_until.fetch_max(until, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn throttle(per_client: u32, per_address: u32) -> Throttle {
        Throttle::new(
            FailedLoginLimits {
                per_client,
                per_address,
            },
            TrustedProxies::default(),
        )
    }

    fn fail(throttle: &Throttle, source: &str, client_id: &str, times: usize) {
        for _ in 0..times {
            throttle.failed(ip(source), Some(client_id));
        }
    }

    fn admitted(throttle: &Throttle, source: &str, client_id: &str) -> bool {
        throttle
            .admit("/oauth2/token", ip(source), client_id)
            .is_ok()
    }

    #[test]
    fn a_pair_is_refused_after_its_limit_and_other_pairs_are_not() {
        let throttle = throttle(3, 100);
        fail(&throttle, "192.0.2.1", "billing", 2);
        assert!(admitted(&throttle, "192.0.2.1", "billing"));
        fail(&throttle, "192.0.2.1", "billing", 1);
        assert!(!admitted(&throttle, "192.0.2.1", "billing"));
        // Another client id from the same address, and the same one from elsewhere.
        assert!(admitted(&throttle, "192.0.2.1", "reports"));
        assert!(admitted(&throttle, "192.0.2.2", "billing"));
    }

    #[test]
    fn an_address_over_its_limit_is_refused_for_every_client_id() {
        let throttle = throttle(100, 5);
        for i in 0..5 {
            throttle.failed(ip("192.0.2.1"), Some(&format!("guess-{i}")));
        }
        assert!(!admitted(&throttle, "192.0.2.1", "anything"));
        assert!(admitted(&throttle, "192.0.2.9", "anything"));
    }

    #[test]
    fn a_refusal_says_how_long_to_wait() {
        let throttle = throttle(10, 100);
        fail(&throttle, "192.0.2.1", "billing", 10);
        match throttle.admit("/oauth2/token", ip("192.0.2.1"), "billing") {
            Err(TokenError::TooManyRequests { retry_after, limit }) => {
                assert_eq!(limit, Limit::FailedAuthentication);
                // One failure a minute's tenth: six seconds, rounded up.
                assert!((1..=6).contains(&retry_after), "{retry_after}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn ipv6_sources_are_counted_by_their_64_bit_prefix() {
        let throttle = throttle(100, 2);
        throttle.failed(ip("2001:db8:0:1::1"), None);
        throttle.failed(ip("2001:db8:0:1::2"), None);
        assert!(!admitted(&throttle, "2001:db8:0:1::ffff", "x"));
        assert!(admitted(&throttle, "2001:db8:0:2::1", "x"));
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let throttle = throttle(0, 0);
        fail(&throttle, "192.0.2.1", "billing", 1_000);
        assert!(admitted(&throttle, "192.0.2.1", "billing"));
    }

    #[test]
    fn a_failure_without_a_client_id_counts_for_the_address() {
        let throttle = throttle(100, 2);
        throttle.failed(ip("192.0.2.1"), None);
        throttle.failed(ip("192.0.2.1"), None);
        assert!(!admitted(&throttle, "192.0.2.1", "billing"));
    }
}
