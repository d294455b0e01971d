//! How long a fetched key set is used before it is fetched again: the response's
//! `Cache-Control: max-age` (RFC 9111 §5.2.2.1), held between a floor and a ceiling. Pure.
//!
//! Only `max-age`, `no-store` and `no-cache` are read: `Expires` and `Age` are for shared
//! caches on the way, and a key set's publisher that cares says `max-age`.

/// The shortest a key set is used: a source that says `no-store`, `no-cache` or `max-age=0`
/// would otherwise be fetched for every token request, and five minutes bounds the load
/// latchkey puts on it while still following a rotation the same hour.
pub(super) const MIN_LIFETIME_SECONDS: i64 = 5 * 60;

/// The longest a key set is used: a key removed at its source (say, after a leak) stops being
/// trusted within a day however long its source told caches to keep it.
pub(super) const MAX_LIFETIME_SECONDS: i64 = 24 * 60 * 60;

/// The lifetime when a source says nothing: an hour, what common issuers send themselves.
pub(super) const DEFAULT_LIFETIME_SECONDS: i64 = 60 * 60;

/// RFC 9111 §1.2.2: a `delta-seconds` too large to represent is taken as 2^31.
const DELTA_SECONDS_LIMIT: u64 = 1 << 31;

/// The lifetime in seconds of a response whose `Cache-Control` header lines are `values`.
pub(super) fn lifetime_seconds<'a>(values: impl IntoIterator<Item = &'a str>) -> i64 {
    let mut max_age: Option<Option<u64>> = None;
    let mut uncacheable = false;
    for directive in values.into_iter().flat_map(|value| value.split(',')) {
        let (name, argument) = match directive.split_once('=') {
            Some((name, argument)) => (name.trim(), Some(argument.trim())),
            None => (directive.trim(), None),
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            uncacheable = true;
        } else if name.eq_ignore_ascii_case("max-age") && max_age.is_none() {
            // RFC 9111 §4.2.1: of several max-age directives the first is used.
            max_age = Some(argument.and_then(delta_seconds));
        }
    }
    if uncacheable {
        return MIN_LIFETIME_SECONDS;
    }
    match max_age {
        None => DEFAULT_LIFETIME_SECONDS,
        // RFC 9111 §4.2.1: an invalid max-age makes the response stale, so the floor.
        Some(None) => MIN_LIFETIME_SECONDS,
        Some(Some(seconds)) => i64::try_from(seconds)
            .unwrap_or(MAX_LIFETIME_SECONDS)
            .clamp(MIN_LIFETIME_SECONDS, MAX_LIFETIME_SECONDS),
    }
}

/// RFC 9111 §1.2.2 `delta-seconds`: digits only, accepted in quotes too (§5.2), as large as
/// `DELTA_SECONDS_LIMIT`.
fn delta_seconds(argument: &str) -> Option<u64> {
    let digits = argument
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(argument);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let value = digits.bytes().fold(0u64, |value, digit| {
        value
            .saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
            .min(DELTA_SECONDS_LIMIT)
    });
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(header: &[&str], expected: i64) {
        assert_eq!(
            lifetime_seconds(header.iter().copied()),
            expected,
            "{header:?}"
        );
    }

    #[test]
    fn max_age_within_the_bounds_is_used() {
        check(&["max-age=600"], 600);
        check(&["public, max-age=3600, must-revalidate"], 3600);
        check(&["MAX-AGE=900"], 900);
        check(&["max-age=\"1200\""], 1200);
    }

    #[test]
    fn a_short_max_age_is_raised_to_the_floor() {
        check(&["max-age=0"], MIN_LIFETIME_SECONDS);
        check(&["max-age=10"], MIN_LIFETIME_SECONDS);
    }

    #[test]
    fn a_long_max_age_is_lowered_to_the_ceiling() {
        check(&["max-age=31536000"], MAX_LIFETIME_SECONDS);
        check(
            &["max-age=99999999999999999999999999"],
            MAX_LIFETIME_SECONDS,
        );
    }

    #[test]
    fn no_header_or_no_max_age_is_an_hour() {
        check(&[], DEFAULT_LIFETIME_SECONDS);
        check(&["public"], DEFAULT_LIFETIME_SECONDS);
        check(&["s-maxage=60"], DEFAULT_LIFETIME_SECONDS);
    }

    #[test]
    fn no_store_and_no_cache_are_the_floor() {
        check(&["no-store"], MIN_LIFETIME_SECONDS);
        check(&["no-cache, max-age=3600"], MIN_LIFETIME_SECONDS);
        check(&["max-age=3600", "no-store"], MIN_LIFETIME_SECONDS);
        check(&["no-cache=\"set-cookie\""], MIN_LIFETIME_SECONDS);
    }

    #[test]
    fn an_invalid_max_age_is_the_floor() {
        check(&["max-age=soon"], MIN_LIFETIME_SECONDS);
        check(&["max-age=-5"], MIN_LIFETIME_SECONDS);
        check(&["max-age="], MIN_LIFETIME_SECONDS);
        check(&["max-age"], MIN_LIFETIME_SECONDS);
        check(&["max-age=60.5"], MIN_LIFETIME_SECONDS);
    }

    #[test]
    fn the_first_max_age_counts() {
        check(&["max-age=600, max-age=7200"], 600);
        check(&["max-age=900", "max-age=60"], 900);
    }
}
