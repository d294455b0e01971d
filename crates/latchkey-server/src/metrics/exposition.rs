//! The Prometheus text exposition format (version 0.0.4) of a node's metrics: its counters,
//! its latency histograms, the gauges read from the snapshot at scrape time (apps, signing key
//! ages, how fresh the snapshot is) and the process's own.

use super::{BUCKET_MICROS, Endpoint, Metrics, TOKEN_OUTCOMES, header, process};
use crate::freshness::Freshness;
use crate::registry::Snapshot;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a scrape reads, as of `now` (unix seconds).
pub struct Scrape<'a> {
    /// The counters.
    pub metrics: &'a Metrics,
    /// The snapshot the gauges are read from.
    pub snapshot: &'a Snapshot,
    /// The node's contact with its store.
    pub freshness: &'a Freshness,
    /// The wall clock, for key ages.
    pub now: i64,
}

impl Scrape<'_> {
    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        self.counters(&mut out);
        self.durations(&mut out);
        self.gauges(&mut out);
        process::render(&mut out);
        out
    }

    /// Every tenant of the snapshot and every tenant counted (one deleted since keeps its
    /// counts until the node restarts), by name.
    fn tenants(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = self
            .snapshot
            .tenants()
            .map(|tenant| tenant.name.to_string())
            .collect();
        names.extend(
            self.metrics
                .tenants
                .pin()
                .keys()
                .map(|name| name.to_string()),
        );
        names
    }

    fn counters(&self, out: &mut String) {
        let tenants = self.metrics.tenants.pin();
        let names = self.tenants();
        let counters = |name: &str| tenants.get(name);
        header(
            out,
            "latchkey_token_requests_total",
            "counter",
            "Token requests answered, by tenant and outcome: issued, reused, or the OAuth error code.",
        );
        for name in &names {
            for (index, outcome) in TOKEN_OUTCOMES.iter().enumerate() {
                let value = counters(name).map_or(0, |c| c.tokens[index].load(Ordering::Relaxed));
                let _ = writeln!(
                    out,
                    "latchkey_token_requests_total{{tenant=\"{}\",outcome=\"{outcome}\"}} {value}",
                    escape(name)
                );
            }
        }
        header(
            out,
            "latchkey_introspections_total",
            "counter",
            "Introspection requests answered, by tenant and whether the token was active.",
        );
        for name in &names {
            for (index, active) in ["false", "true"].iter().enumerate() {
                let value =
                    counters(name).map_or(0, |c| c.introspections[index].load(Ordering::Relaxed));
                let _ = writeln!(
                    out,
                    "latchkey_introspections_total{{tenant=\"{}\",active=\"{active}\"}} {value}",
                    escape(name)
                );
            }
        }
        header(
            out,
            "latchkey_revocations_total",
            "counter",
            "Tokens revoked at the revocation endpoint of this node, by tenant.",
        );
        for name in &names {
            let value = counters(name).map_or(0, |c| c.revocations.load(Ordering::Relaxed));
            let _ = writeln!(
                out,
                "latchkey_revocations_total{{tenant=\"{}\"}} {value}",
                escape(name)
            );
        }
    }

    fn durations(&self, out: &mut String) {
        header(
            out,
            "latchkey_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its answer, by endpoint.",
        );
        for endpoint in Endpoint::ALL {
            let histogram = &self.metrics.durations[endpoint as usize];
            let label = endpoint.as_str();
            let mut cumulative = 0u64;
            for (index, slot) in histogram.buckets.iter().enumerate() {
                cumulative += slot.load(Ordering::Relaxed);
                let bound = BUCKET_MICROS
                    .get(index)
                    .map_or_else(|| "+Inf".to_owned(), |micros| seconds(*micros));
                let _ = writeln!(
                    out,
                    "latchkey_http_request_duration_seconds_bucket{{endpoint=\"{label}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let sum = seconds(histogram.sum_micros.load(Ordering::Relaxed));
            let _ = writeln!(
                out,
                "latchkey_http_request_duration_seconds_sum{{endpoint=\"{label}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "latchkey_http_request_duration_seconds_count{{endpoint=\"{label}\"}} {cumulative}"
            );
        }
    }

    fn gauges(&self, out: &mut String) {
        let mut tenants: Vec<_> = self.snapshot.tenants().collect();
        tenants.sort_by(|a, b| a.name.cmp(&b.name));
        header(
            out,
            "latchkey_apps",
            "gauge",
            "Apps (OAuth clients) of each tenant in this node's snapshot.",
        );
        for tenant in &tenants {
            let _ = writeln!(
                out,
                "latchkey_apps{{tenant=\"{}\"}} {}",
                escape(&tenant.name),
                tenant.app_count()
            );
        }
        header(
            out,
            "latchkey_signing_key_age_seconds",
            "gauge",
            "Age of each published signing key, by tenant, kid and status (next, active, retiring).",
        );
        for tenant in &tenants {
            for life in &tenant.keys.lives {
                let status = tenant.keys.status(life).as_str();
                let age = self.now.saturating_sub(life.created_at).max(0);
                let _ = writeln!(
                    out,
                    "latchkey_signing_key_age_seconds{{tenant=\"{}\",kid=\"{}\",status=\"{status}\"}} {age}",
                    escape(&tenant.name),
                    escape(&life.kid)
                );
            }
        }
        header(
            out,
            "latchkey_snapshot_age_seconds",
            "gauge",
            "Time since this node last read its database: the age of what its snapshot knows.",
        );
        let _ = writeln!(
            out,
            "latchkey_snapshot_age_seconds {}",
            self.freshness.age().as_secs_f64()
        );
        header(
            out,
            "latchkey_database_up",
            "gauge",
            "1 if this node's last attempt to read its database succeeded, else 0.",
        );
        let _ = writeln!(
            out,
            "latchkey_database_up {}",
            u8::from(self.freshness.reachable())
        );
    }
}

/// Microseconds as seconds, exactly (`0.00025`, `2.5`, `1`).
fn seconds(micros: u64) -> String {
    let whole = micros / 1_000_000;
    let fraction = micros % 1_000_000;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A label value escaped as the text format requires (backslash, double quote, line feed).
fn escape(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains(['\\', '"', '\n']) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut escaped = String::with_capacity(value.len() + 2);
    for character in value.chars() {
        match character {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            other => escaped.push(other),
        }
    }
    std::borrow::Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::TokenOutcome;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_node_that_lost_its_database_says_so() {
        let freshness = Freshness::new(Duration::ZERO);
        freshness.lost();
        let text = Scrape {
            metrics: &Metrics::new(),
            snapshot: &Snapshot::default(),
            freshness: &freshness,
            now: 0,
        }
        .render();
        assert!(
            text.lines().any(|line| line == "latchkey_database_up 0"),
            "{text}"
        );
    }

    #[test]
    fn bucket_bounds_are_written_as_exact_seconds() {
        assert_eq!(seconds(100), "0.0001");
        assert_eq!(seconds(250), "0.00025");
        assert_eq!(seconds(1_000_000), "1");
        assert_eq!(seconds(2_500_000), "2.5");
        assert_eq!(seconds(0), "0");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("acme"), "acme");
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn a_scrape_shows_what_was_counted_and_cumulative_buckets() {
        let metrics = Metrics::new();
        let tenant: Arc<str> = Arc::from("acme");
        metrics.token(&tenant, TokenOutcome::ISSUED);
        metrics.token(&tenant, TokenOutcome::ISSUED);
        metrics.token(
            &tenant,
            TokenOutcome::of_error("invalid_client").expect("an outcome"),
        );
        metrics.introspection(&tenant, true);
        metrics.revocation(&tenant);
        metrics.observe(Endpoint::Token, Duration::from_micros(90));
        metrics.observe(Endpoint::Token, Duration::from_micros(3_000));
        let text = Scrape {
            metrics: &metrics,
            snapshot: &Snapshot::default(),
            freshness: &Freshness::new(Duration::ZERO),
            now: 0,
        }
        .render();
        for line in [
            "latchkey_token_requests_total{tenant=\"acme\",outcome=\"issued\"} 2",
            "latchkey_token_requests_total{tenant=\"acme\",outcome=\"invalid_client\"} 1",
            "latchkey_token_requests_total{tenant=\"acme\",outcome=\"reused\"} 0",
            "latchkey_introspections_total{tenant=\"acme\",active=\"true\"} 1",
            "latchkey_introspections_total{tenant=\"acme\",active=\"false\"} 0",
            "latchkey_revocations_total{tenant=\"acme\"} 1",
            "latchkey_http_request_duration_seconds_bucket{endpoint=\"token\",le=\"0.0001\"} 1",
            "latchkey_http_request_duration_seconds_bucket{endpoint=\"token\",le=\"0.0025\"} 1",
            "latchkey_http_request_duration_seconds_bucket{endpoint=\"token\",le=\"0.005\"} 2",
            "latchkey_http_request_duration_seconds_bucket{endpoint=\"token\",le=\"+Inf\"} 2",
            "latchkey_http_request_duration_seconds_sum{endpoint=\"token\"} 0.00309",
            "latchkey_http_request_duration_seconds_count{endpoint=\"token\"} 2",
            "latchkey_http_request_duration_seconds_count{endpoint=\"admin\"} 0",
            "latchkey_database_up 1",
        ] {
            assert!(text.lines().any(|got| got == line), "{line} in:\n{text}");
        }
    }
}
