//! Key sets published by others, fetched over HTTP and cached: an app's `jwks_uri`
//! (private_key_jwt) and a trusted issuer's keys, found through its OpenID Connect discovery
//! document (workload identity federation).
//!
//! The request path reads a cached set without IO or lock (a `papaya` map of sources, each
//! with its set behind an `ArcSwapOption`). A set past its lifetime is answered at once and
//! refreshed in a spawned task, so a source that went away costs its apps nothing while its
//! keys stay cached, indefinitely. A kid the cached set lacks is fetched for at once, but at
//! most once a minute per source; a source with nothing cached is fetched at once, by one task
//! that concurrent callers wait for, and a failure is remembered for a minute, so an
//! unreachable source costs one bounded wait a minute, to its own apps' requests only.
//!
//! Must not: fetch a URL no operator configured (callers pass only configured sources; `uri`
//! refuses plain HTTP off this host, and redirects are not followed), hold a lock across an
//! await, or put a response body in an error or a log line.

mod cache_control;
mod discovery;
mod fetch;
#[cfg(test)]
mod tests;
mod uri;

use arc_swap::ArcSwapOption;
use fetch::{Fetcher, Limits};
use latchkey_keys::PublicKeySet;
use latchkey_manage::clock::Clock;
use reqwest::Url;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

/// How long after a fetch of a source began another may begin, unless its set expired: an
/// unknown kid or a failed fetch costs its source (and the requests waiting) once a minute.
const RETRY_AFTER_SECONDS: i64 = 60;

/// The most sources of each kind held. Callers pass only sources operators configured, so this
/// is a backstop against a bug turning requests into entries; past it the source fetched
/// longest ago (one that never was, first) is dropped, and fetched again when next asked for.
const MAX_SOURCES: usize = 10_000;

/// Where a key set comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySource<'a> {
    /// A JWK Set URL, fetched as it is (an app's `jwks_uri`).
    JwksUri(&'a str),
    /// An issuer: its discovery document at `ISSUER/.well-known/openid-configuration`, then
    /// the `jwks_uri` that names.
    Issuer(&'a str),
}

/// Why no key set could be had. The messages name no response body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RemoteKeyError {
    /// The URL (configured, or named by a discovery document) may not be fetched.
    #[error("the key set URL is not allowed: only https, or http on a loopback host")]
    NotAllowed,
    /// No answer in time: no connection, a TLS failure or a timeout.
    #[error("the key set source could not be reached")]
    Unreachable,
    /// An answer other than a success (a redirect included).
    #[error("the key set source answered with status {0}")]
    Status(u16),
    /// A body past the size bound.
    #[error("the key set source answered with a body too large")]
    TooLarge,
    /// A body that is not a JWK Set.
    #[error("the key set source answered with something other than a JWK Set")]
    NotJwks,
    /// A discovery document without `issuer` and `jwks_uri`, or of another issuer.
    #[error("the issuer's discovery document is not usable")]
    BadDiscovery,
}

/// Remote key sets, cached per source.
pub(crate) struct RemoteKeys {
    clock: Arc<dyn Clock>,
    fetcher: Arc<Fetcher>,
    jwks_uris: papaya::HashMap<String, Arc<Entry>>,
    issuers: papaya::HashMap<String, Arc<Entry>>,
    /// `MAX_SOURCES`, smaller in tests.
    max_sources: usize,
}

/// What a source is fetched from, checked by `uri` once, when the source is first asked for.
enum Origin {
    JwksUri(Url),
    Issuer { issuer: String, discovery: Url },
}

impl Origin {
    fn of(source: KeySource<'_>) -> Result<Origin, RemoteKeyError> {
        Ok(match source {
            KeySource::JwksUri(text) => Origin::JwksUri(uri::allowed(text)?),
            KeySource::Issuer(issuer) => Origin::Issuer {
                issuer: issuer.to_owned(),
                discovery: uri::discovery_url(issuer)?,
            },
        })
    }

    /// The URL a log line names.
    fn url(&self) -> &Url {
        match self {
            Origin::JwksUri(url) => url,
            Origin::Issuer { discovery, .. } => discovery,
        }
    }
}

/// One source: its cached set, read without a lock, and its fetches, under a lock held only
/// to decide whether to start one.
struct Entry {
    origin: Origin,
    cached: ArcSwapOption<Cached>,
    attempts: Mutex<Attempts>,
}

struct Cached {
    keys: Arc<PublicKeySet>,
    fetched_at: i64,
    fresh_until: i64,
}

/// A fetch's result as its waiters see it.
type Outcome = Result<Arc<PublicKeySet>, RemoteKeyError>;

/// A fetch in flight: its task sends the outcome once.
type Flight = watch::Receiver<Option<Outcome>>;

struct Attempts {
    /// When the last fetch began.
    last_started: Option<i64>,
    /// How the last fetch failed, while it is the last.
    last_failure: Option<RemoteKeyError>,
    flight: Option<Flight>,
}

impl Entry {
    fn new(origin: Origin) -> Entry {
        Entry {
            origin,
            cached: ArcSwapOption::empty(),
            attempts: Mutex::new(Attempts {
                last_started: None,
                last_failure: None,
                flight: None,
            }),
        }
    }

    fn attempts(&self) -> std::sync::MutexGuard<'_, Attempts> {
        // No critical section can panic half-way, so a poisoned lock still holds a whole state.
        self.attempts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn cached_keys(&self) -> Option<Arc<PublicKeySet>> {
        self.cached
            .load()
            .as_ref()
            .map(|cached| cached.keys.clone())
    }
}

impl RemoteKeys {
    /// An empty cache reading time from `clock`.
    pub(crate) fn new(clock: Arc<dyn Clock>) -> RemoteKeys {
        RemoteKeys::with_fetcher(clock, Fetcher::new(Limits::default()), MAX_SOURCES)
    }

    fn with_fetcher(clock: Arc<dyn Clock>, fetcher: Fetcher, max_sources: usize) -> RemoteKeys {
        RemoteKeys {
            clock,
            fetcher: Arc::new(fetcher),
            jwks_uris: papaya::HashMap::new(),
            issuers: papaya::HashMap::new(),
            max_sources,
        }
    }

    /// The key set for `source`, such that it holds `kid` if the source publishes it.
    /// Never does IO when a cached set is fresh and holds `kid` (or `kid` is None and a set
    /// is cached).
    pub(crate) async fn keys(
        &self,
        source: KeySource<'_>,
        kid: Option<&str>,
    ) -> Result<Arc<PublicKeySet>, RemoteKeyError> {
        let entry = self.entry(source)?;
        let now = self.clock.now();
        let Some(cached) = entry.cached.load_full() else {
            // Nothing cached: fetch now, or repeat the failure of a fetch less than a minute old.
            return match self.begin_fetch(&entry, now) {
                Some(flight) => outcome(flight).await,
                None => match entry.cached_keys() {
                    Some(keys) => Ok(keys),
                    None => Err(entry
                        .attempts()
                        .last_failure
                        .clone()
                        .unwrap_or(RemoteKeyError::Unreachable)),
                },
            };
        };
        if kid.is_none_or(|kid| cached.keys.has_kid(kid)) {
            if now >= cached.fresh_until {
                // Stale: answer with it, and refresh it in the background (at most once a
                // minute while its source fails), so an outage of the source costs nothing.
                let _in_background = self.begin_fetch(&entry, now);
            }
            return Ok(cached.keys.clone());
        }
        // A kid the set lacks: its source may have rotated, so fetch now, once a minute at most
        // (the set answered otherwise makes the caller's verification fail).
        match self.begin_fetch(&entry, now) {
            Some(flight) => Ok(outcome(flight).await.unwrap_or(cached.keys.clone())),
            None => Ok(entry.cached_keys().unwrap_or(cached.keys.clone())),
        }
    }

    /// The entry of `source`, made when it is first asked for (after its URL passed `uri`).
    fn entry(&self, source: KeySource<'_>) -> Result<Arc<Entry>, RemoteKeyError> {
        let (map, text) = match source {
            KeySource::JwksUri(text) => (&self.jwks_uris, text),
            KeySource::Issuer(text) => (&self.issuers, text),
        };
        let map = map.pin();
        if let Some(entry) = map.get(text) {
            return Ok(entry.clone());
        }
        let origin = Origin::of(source)?;
        if map.len() >= self.max_sources {
            // A scan of the map, only when a source past the bound is added.
            let oldest = map
                .iter()
                .min_by_key(|(_, entry)| {
                    entry
                        .cached
                        .load()
                        .as_ref()
                        .map_or(i64::MIN, |cached| cached.fetched_at)
                })
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                tracing::warn!(
                    limit = self.max_sources,
                    "too many remote key set sources; dropping the one fetched longest ago"
                );
                map.remove(&oldest);
            }
        }
        Ok(map
            .get_or_insert_with(text.to_owned(), || Arc::new(Entry::new(origin)))
            .clone())
    }

    /// The fetch of `entry` to wait for: the one in flight, or one started now, unless the
    /// last began less than `RETRY_AFTER_SECONDS` ago (`None`).
    fn begin_fetch(&self, entry: &Arc<Entry>, now: i64) -> Option<Flight> {
        let mut attempts = entry.attempts();
        // A flight whose task is gone (it cannot send any more) is no flight.
        if let Some(flight) = attempts.flight.as_ref().filter(|f| f.has_changed().is_ok()) {
            return Some(flight.clone());
        }
        // A clock that went back does not hold fetches off until it catches up.
        if attempts
            .last_started
            .is_some_and(|started| (0..RETRY_AFTER_SECONDS).contains(&(now - started)))
        {
            return None;
        }
        let (sender, flight) = watch::channel(None);
        attempts.flight = Some(flight.clone());
        attempts.last_started = Some(now);
        drop(attempts);
        // A task of its own: a caller that gives up (its client went away) does not cancel the
        // fetch others wait for.
        tokio::spawn(fetch(
            entry.clone(),
            self.fetcher.clone(),
            self.clock.clone(),
            sender,
        ));
        Some(flight)
    }

    /// Waits for every fetch in flight, so a test sees a background refresh's effect.
    #[cfg(test)]
    async fn settle(&self) {
        let mut flights = Vec::new();
        for map in [&self.jwks_uris, &self.issuers] {
            for (_, entry) in map.pin().iter() {
                flights.extend(entry.attempts().flight.clone());
            }
        }
        for flight in flights {
            let _ = outcome(flight).await;
        }
    }
}

/// A fetch's outcome, once its task sent it.
async fn outcome(mut flight: Flight) -> Outcome {
    match flight.wait_for(Option::is_some).await {
        Ok(sent) => sent.clone().unwrap_or(Err(RemoteKeyError::Unreachable)),
        Err(_) => Err(RemoteKeyError::Unreachable),
    }
}

/// The task of one fetch of `entry`'s source: stores the set (or the failure), then tells the
/// waiters. The whole fetch, discovery included, is bounded by the total timeout.
async fn fetch(
    entry: Arc<Entry>,
    fetcher: Arc<Fetcher>,
    clock: Arc<dyn Clock>,
    sender: watch::Sender<Option<Outcome>>,
) {
    let fetched = tokio::time::timeout(
        fetcher.limits().total_timeout,
        fetcher.key_set(&entry.origin),
    )
    .await
    .unwrap_or(Err(RemoteKeyError::Unreachable));
    let now = clock.now();
    let outcome = match fetched {
        Ok((keys, lifetime_seconds)) => {
            let keys = Arc::new(keys);
            entry.cached.store(Some(Arc::new(Cached {
                keys: keys.clone(),
                fetched_at: now,
                fresh_until: now.saturating_add(lifetime_seconds),
            })));
            Ok(keys)
        }
        Err(error) => {
            let serving = if entry.cached.load().is_some() {
                "serving the cached set"
            } else {
                "nothing cached"
            };
            tracing::warn!(url = %entry.origin.url(), %error, "fetching a remote key set failed; {serving}");
            Err(error)
        }
    };
    {
        let mut attempts = entry.attempts();
        attempts.last_failure = outcome.as_ref().err().cloned();
        attempts.flight = None;
    }
    // No receiver left is fine: nobody was waiting.
    let _ = sender.send(Some(outcome));
}
