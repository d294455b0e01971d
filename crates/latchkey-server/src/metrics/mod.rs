//! Prometheus metrics: what the request paths count, and (`exposition`) the text a scrape
//! reads, with the gauges taken from the snapshot and the process at scrape time.
//!
//! Hand-written on atomics rather than a metrics crate's labelled families: those find a
//! series by hashing its label values under a lock on every increment, where here a request
//! adds to a fixed array slot (its outcome, its latency bucket) after one lock-free lookup of
//! its tenant. Every label has a bounded set of values (tenants, endpoints, outcomes, key ids):
//! none is per app or per token.

pub mod exposition;
mod process;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The `endpoint` label of `latchkey_http_request_duration_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/oauth2/token`.
    Token,
    /// `/oauth2/introspect`.
    Introspect,
    /// `/oauth2/revoke`.
    Revoke,
    /// `/oauth2/jwks`.
    Jwks,
    /// The RFC 8414 and OpenID Connect discovery documents.
    Discovery,
    /// The admin API, `/admin/...`.
    Admin,
    /// `/healthz` and `/readyz`.
    Health,
    /// Any other path (answered 404).
    Other,
}

impl Endpoint {
    /// Every endpoint, in the order the exposition lists them.
    pub const ALL: [Endpoint; 8] = [
        Endpoint::Token,
        Endpoint::Introspect,
        Endpoint::Revoke,
        Endpoint::Jwks,
        Endpoint::Discovery,
        Endpoint::Admin,
        Endpoint::Health,
        Endpoint::Other,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Introspect => "introspect",
            Endpoint::Revoke => "revoke",
            Endpoint::Jwks => "jwks",
            Endpoint::Discovery => "discovery",
            Endpoint::Admin => "admin",
            Endpoint::Health => "health",
            Endpoint::Other => "other",
        }
    }
}

/// The `outcome` label of `latchkey_token_requests_total`: a token issued or reused, or the
/// OAuth error code the token endpoint answered with.
pub const TOKEN_OUTCOMES: [&str; 12] = [
    "issued",
    "reused",
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "too_many_requests",
    "temporarily_unavailable",
    "server_error",
];

/// A family's `# HELP` and `# TYPE` lines.
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    use std::fmt::Write;
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// How a token request ended, as an index into `TOKEN_OUTCOMES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenOutcome(usize);

impl TokenOutcome {
    /// A newly signed token.
    pub const ISSUED: TokenOutcome = TokenOutcome(0);
    /// A token handed out again (token reuse).
    pub const REUSED: TokenOutcome = TokenOutcome(1);

    /// The outcome of an answer with this OAuth error code; `None` for a code the token
    /// endpoint never answers with.
    pub fn of_error(code: &str) -> Option<TokenOutcome> {
        TOKEN_OUTCOMES
            .iter()
            .skip(2)
            .position(|outcome| *outcome == code)
            .map(|index| TokenOutcome(index + 2))
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        TOKEN_OUTCOMES[self.0]
    }
}

/// A tenant's counters.
#[derive(Debug, Default)]
struct TenantCounters {
    tokens: [AtomicU64; TOKEN_OUTCOMES.len()],
    /// Introspections answered inactive (0) and active (1).
    introspections: [AtomicU64; 2],
    revocations: AtomicU64,
}

/// The upper bounds of the latency buckets, in microseconds (100 µs to 2.5 s): a token takes
/// tens of microseconds to a few milliseconds, an admin write tens of milliseconds.
const BUCKET_MICROS: [u64; 14] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000,
];

/// A latency histogram: a count per bucket (not cumulative: one increment per observation;
/// the exposition adds them up) and the sum.
#[derive(Debug, Default)]
struct Histogram {
    /// One slot per bound of `BUCKET_MICROS`, and one more past the last (`+Inf`).
    buckets: [AtomicU64; BUCKET_MICROS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, micros: u64) {
        // Prometheus buckets are `le`: a value on a bound counts in that bound's bucket.
        let bucket = BUCKET_MICROS.partition_point(|bound| *bound < micros);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// What this node counted since it started.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Counters by tenant name. Tenants are few and made by operators (a request counts only
    /// once its Host found a tenant), so the map stays small.
    tenants: papaya::HashMap<Arc<str>, TenantCounters, foldhash::fast::RandomState>,
    durations: [Histogram; Endpoint::ALL.len()],
}

impl Metrics {
    /// Nothing counted yet.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// A token request of `tenant` ended with `outcome`.
    pub fn token(&self, tenant: &Arc<str>, outcome: TokenOutcome) {
        self.with_tenant(tenant, |counters| {
            counters.tokens[outcome.0].fetch_add(1, Ordering::Relaxed);
        });
    }

    /// An introspection in `tenant` answered `active`.
    pub fn introspection(&self, tenant: &Arc<str>, active: bool) {
        self.with_tenant(tenant, |counters| {
            counters.introspections[usize::from(active)].fetch_add(1, Ordering::Relaxed);
        });
    }

    /// A token of `tenant` was revoked at the revocation endpoint.
    pub fn revocation(&self, tenant: &Arc<str>) {
        self.with_tenant(tenant, |counters| {
            counters.revocations.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// A request to `endpoint` was answered after `elapsed`.
    pub fn observe(&self, endpoint: Endpoint, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.durations[endpoint as usize].observe(micros);
    }

    fn with_tenant(&self, tenant: &Arc<str>, count: impl FnOnce(&TenantCounters)) {
        let tenants = self.tenants.pin();
        match tenants.get(&**tenant) {
            Some(counters) => count(counters),
            None => count(tenants.get_or_insert_with(Arc::clone(tenant), TenantCounters::default)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_of_the_token_endpoint_has_an_outcome() {
        use latchkey_protocol::TokenError;
        let codes = [
            TokenError::UnsupportedGrantType.code(),
            TokenError::MethodNotAllowed.code(),
            TokenError::PayloadTooLarge.code(),
        ];
        for code in codes {
            let outcome = TokenOutcome::of_error(code).expect("an outcome");
            assert_eq!(outcome.as_str(), code);
        }
        assert_eq!(TokenOutcome::of_error("issued"), None);
        assert_eq!(TokenOutcome::of_error("not_found"), None);
    }

    #[test]
    fn a_latency_on_a_bound_counts_in_that_bounds_bucket() {
        let histogram = Histogram::default();
        histogram.observe(100);
        histogram.observe(101);
        histogram.observe(0);
        histogram.observe(10_000_000);
        let counts: Vec<u64> = histogram
            .buckets
            .iter()
            .map(|bucket| bucket.load(Ordering::Relaxed))
            .collect();
        assert_eq!(counts[0], 2, "0 and 100 µs are <= 100 µs");
        assert_eq!(counts[1], 1, "101 µs is <= 250 µs");
        assert_eq!(
            counts[BUCKET_MICROS.len()],
            1,
            "10 s is past the last bound"
        );
        assert_eq!(histogram.sum_micros.load(Ordering::Relaxed), 10_000_201);
    }
}
