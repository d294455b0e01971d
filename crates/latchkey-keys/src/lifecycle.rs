//! The signing key life cycle (next → active → retiring → retired → removed) as pure rules:
//! when a tenant's keys change on their own, how long a new key is published before it signs,
//! and how long a retired key is kept. The management layer carries the steps out.

use crate::Algorithm;
use latchkey_protocol::app_settings::DEFAULT_TOKEN_TTL;
use latchkey_store::{KeyRecord, KeyStatus};

/// How long verifiers may cache the JWKS (its `Cache-Control: max-age`). A fact of the life
/// cycle: a new key must be announced at least this long before it signs.
pub const JWKS_MAX_AGE_SECONDS: u32 = 300;

/// How long before it signs a new key should be published: twice the JWKS cache lifetime, so
/// a verifier that cached the JWKS just before the key appeared has refetched it in time.
pub const SAFE_ACTIVATION_DELAY_SECONDS: u64 = 2 * JWKS_MAX_AGE_SECONDS as u64;

/// The furthest ahead a rotation may be scheduled.
pub const MAX_ACTIVATION_DELAY_SECONDS: u64 = 365 * 86_400;

/// A stored key names an algorithm latchkey does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing key {kid} has unknown algorithm {alg:?}")]
pub struct UnknownKeyAlgorithm {
    /// The key.
    pub kid: String,
    /// Its stored algorithm.
    pub alg: String,
}

/// The algorithm of a stored key.
pub fn key_algorithm(record: &KeyRecord) -> Result<Algorithm, UnknownKeyAlgorithm> {
    record.alg.parse().map_err(|_| UnknownKeyAlgorithm {
        kid: record.kid.clone(),
        alg: record.alg.clone(),
    })
}

/// When keys change on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// Seconds between automatic rotations; `None` turns automatic rotation off.
    pub interval: Option<i64>,
    /// How long before use a next key is published. At least the JWKS `max-age`, so caches of
    /// relying parties hold it before the first token it signs.
    pub publish_ahead: i64,
    /// Allowance for clock differences between latchkey and relying parties.
    pub clock_skew: i64,
    /// How long a retired key stays in the database before it is removed.
    pub removal_delay: i64,
}

impl RotationPolicy {
    /// Automatic rotation every `days` days (0 for never).
    pub fn every_days(days: u32) -> RotationPolicy {
        RotationPolicy {
            interval: (days > 0).then(|| i64::from(days) * 86_400),
            publish_ahead: SAFE_ACTIVATION_DELAY_SECONDS as i64,
            clock_skew: 60,
            removal_delay: 7 * 86_400,
        }
    }
}

/// One step of the key life cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAction {
    /// Publish a new key of this algorithm ahead of its use.
    CreateNext(Algorithm),
    /// Make this next key active; the active one starts retiring.
    Promote(String),
    /// A retiring key whose tokens have all expired leaves the JWKS.
    Retire(String),
    /// A retired key is deleted.
    Remove(String),
}

/// What the key life cycle asks for at `now`, given a tenant's keys. Pure: the maintenance task
/// carries the actions out, and every write is conditional, so nodes running it at once agree.
pub fn plan(keys: &[KeyRecord], policy: &RotationPolicy, now: i64) -> Vec<KeyAction> {
    let mut actions = Vec::new();
    let active = keys.iter().find(|key| key.status == KeyStatus::Active);
    let next = keys.iter().find(|key| key.status == KeyStatus::Next);
    if let Some(next) = next
        && let Some(activate_at) = next.activate_at
    {
        // A rotation scheduled ahead keeps its instant, whatever the automatic schedule says;
        // nodes switch at the instant themselves, this only records it if none has.
        if now >= activate_at {
            actions.push(KeyAction::Promote(next.kid.clone()));
        }
    } else if let (Some(active), Some(interval)) = (active, policy.interval) {
        let due = active.activated_at.unwrap_or(active.created_at) + interval;
        match next {
            None if now >= due - policy.publish_ahead => {
                actions.push(KeyAction::CreateNext(
                    key_algorithm(active).unwrap_or_default(),
                ));
            }
            Some(next) if now >= due && now >= next.created_at + policy.publish_ahead => {
                actions.push(KeyAction::Promote(next.kid.clone()));
            }
            _ => {}
        }
    }
    for key in keys {
        match key.status {
            KeyStatus::Retiring if key.retire_at.is_some_and(|at| now >= at) => {
                actions.push(KeyAction::Retire(key.kid.clone()));
            }
            KeyStatus::Retired
                if key
                    .retired_at
                    .is_some_and(|at| now >= at + policy.removal_delay) =>
            {
                actions.push(KeyAction::Remove(key.kid.clone()));
            }
            _ => {}
        }
    }
    actions
}

/// When a key retired at `now` stops being needed: every token it signed has expired. The bound
/// is `max_ttl`, the longest TTL any app of the tenant has ever had (a TTL may have been
/// shortened after longer-lived tokens were issued), or the default TTL for a tenant without
/// apps.
pub fn retire_at(max_ttl: Option<u32>, policy: &RotationPolicy, now: i64) -> i64 {
    now + i64::from(max_ttl.unwrap_or(DEFAULT_TOKEN_TTL)) + policy.clock_skew
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn policy() -> RotationPolicy {
        RotationPolicy {
            interval: Some(30 * DAY),
            publish_ahead: 600,
            clock_skew: 60,
            removal_delay: 7 * DAY,
        }
    }

    fn key(kid: &str, status: KeyStatus, created_at: i64) -> KeyRecord {
        KeyRecord {
            kid: kid.into(),
            tenant: "default".into(),
            alg: "RS256".into(),
            status,
            private_key: vec![],
            master_key_id: None,
            created_at,
            activated_at: (status == KeyStatus::Active).then_some(created_at),
            activate_at: None,
            retire_at: None,
            retired_at: None,
        }
    }

    #[test]
    fn nothing_happens_mid_interval() {
        assert_eq!(
            plan(&[key("a", KeyStatus::Active, 0)], &policy(), 10 * DAY),
            vec![]
        );
    }

    #[test]
    fn next_key_is_published_ahead_of_the_due_time() {
        let keys = [key("a", KeyStatus::Active, 0)];
        assert_eq!(plan(&keys, &policy(), 30 * DAY - 601), vec![]);
        assert_eq!(
            plan(&keys, &policy(), 30 * DAY - 600),
            vec![KeyAction::CreateNext(Algorithm::Rs256)]
        );
    }

    #[test]
    fn next_key_is_promoted_when_due_and_published_long_enough() {
        let keys = [
            key("a", KeyStatus::Active, 0),
            key("b", KeyStatus::Next, 30 * DAY - 100),
        ];
        assert_eq!(
            plan(&keys, &policy(), 30 * DAY),
            vec![],
            "published only 100 s ago"
        );
        assert_eq!(
            plan(&keys, &policy(), 30 * DAY + 500),
            vec![KeyAction::Promote("b".into())]
        );
    }

    #[test]
    fn one_rotation_per_interval_counts_from_activation() {
        let mut active = key("b", KeyStatus::Active, 29 * DAY);
        active.activated_at = Some(30 * DAY);
        assert_eq!(plan(&[active], &policy(), 31 * DAY), vec![]);
    }

    #[test]
    fn retiring_key_retires_at_its_time_and_is_removed_later() {
        let mut retiring = key("a", KeyStatus::Retiring, 0);
        retiring.retire_at = Some(1000);
        assert_eq!(
            plan(std::slice::from_ref(&retiring), &policy(), 999),
            vec![]
        );
        assert_eq!(
            plan(std::slice::from_ref(&retiring), &policy(), 1000),
            vec![KeyAction::Retire("a".into())]
        );
        let mut retired = key("a", KeyStatus::Retired, 0);
        retired.retired_at = Some(1000);
        assert_eq!(
            plan(std::slice::from_ref(&retired), &policy(), 1000 + 7 * DAY),
            vec![KeyAction::Remove("a".into())]
        );
    }

    #[test]
    fn automatic_rotation_can_be_off() {
        let off = RotationPolicy::every_days(0);
        assert_eq!(
            plan(&[key("a", KeyStatus::Active, 0)], &off, 400 * DAY),
            vec![]
        );
    }

    fn scheduled(kid: &str, created_at: i64, activate_at: i64) -> KeyRecord {
        KeyRecord {
            activate_at: Some(activate_at),
            ..key(kid, KeyStatus::Next, created_at)
        }
    }

    #[test]
    fn a_scheduled_key_is_promoted_at_its_instant_and_not_before() {
        let keys = [
            key("a", KeyStatus::Active, 0),
            scheduled("b", DAY, DAY + 600),
        ];
        assert_eq!(plan(&keys, &policy(), DAY + 599), vec![]);
        assert_eq!(
            plan(&keys, &policy(), DAY + 600),
            vec![KeyAction::Promote("b".into())]
        );
        assert_eq!(
            plan(&keys, &policy(), DAY + 5000),
            vec![KeyAction::Promote("b".into())],
            "a node that missed the instant still records it"
        );
    }

    #[test]
    fn a_scheduled_key_waits_for_its_instant_even_when_the_automatic_rotation_is_due() {
        let keys = [
            key("a", KeyStatus::Active, 0),
            scheduled("b", 30 * DAY - 1000, 30 * DAY + 3600),
        ];
        assert_eq!(plan(&keys, &policy(), 30 * DAY + 10), vec![]);
        assert_eq!(
            plan(&keys, &policy(), 30 * DAY + 3600),
            vec![KeyAction::Promote("b".into())]
        );
    }

    #[test]
    fn a_scheduled_key_is_promoted_with_automatic_rotation_off() {
        let keys = [key("a", KeyStatus::Active, 0), scheduled("b", 10, 20)];
        let off = RotationPolicy::every_days(0);
        assert_eq!(plan(&keys, &off, 19), vec![]);
        assert_eq!(plan(&keys, &off, 20), vec![KeyAction::Promote("b".into())]);
    }

    #[test]
    fn next_key_keeps_the_active_keys_algorithm() {
        let mut active = key("a", KeyStatus::Active, 0);
        active.alg = "ES256".into();
        assert_eq!(
            plan(&[active], &policy(), 30 * DAY),
            vec![KeyAction::CreateNext(Algorithm::Es256)]
        );
    }

    #[test]
    fn a_retired_key_is_kept_for_the_longest_ttl_ever_plus_the_clock_allowance() {
        assert_eq!(retire_at(Some(3600), &policy(), 1000), 1000 + 3600 + 60);
        assert_eq!(
            retire_at(None, &policy(), 1000),
            1000 + i64::from(DEFAULT_TOKEN_TTL) + 60,
            "a tenant that never had an app"
        );
    }

    #[test]
    fn an_unknown_stored_algorithm_is_named_with_its_key() {
        let mut odd = key("a", KeyStatus::Active, 0);
        odd.alg = "HS256".into();
        let error = key_algorithm(&odd).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"signing key a has unknown algorithm "HS256""#
        );
    }
}
