//! Follows the store's change log so that writes by the CLI or other nodes reach this server's
//! snapshot within a poll interval (at once, on a store that announces commits), applying only
//! what changed; and, less often, on one node at a time, carries out due key rotation steps and
//! purges what has expired.

use crate::freshness::Freshness;
use crate::registry::Registry;
use crate::reuse::TokenCache;
use latchkey_keys::lifecycle::RotationPolicy;
use latchkey_manage::clock::Clock;
use latchkey_manage::keys;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Change log rows older than this are purged by the server.
pub const CHANGE_RETENTION_SECONDS: i64 = 3600;

/// A server that has not applied changes for this long may have missed purged rows and
/// rebuilds its snapshot from scratch.
const STALE_AFTER: Duration = Duration::from_secs(1800);

/// How often the background work runs.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Change log polling.
    pub poll: Duration,
    /// Key rotation steps and revocation purges.
    pub maintenance: Duration,
    /// The key life cycle.
    pub key_rotation: RotationPolicy,
}

/// Follows the change log until `shutdown` resolves: every `timing.poll`, or at once when the
/// store says another writer committed (PostgreSQL's notices), whichever comes first. After a
/// failure it waits longer each time (with jitter), up to a few seconds, so that nodes which
/// lost their database do not all hammer it together when it returns.
pub async fn follow_changes(
    registry: Arc<Registry>,
    reuse: Arc<TokenCache>,
    freshness: Arc<Freshness>,
    clock: Arc<dyn Clock>,
    timing: Timing,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut shutdown = shutdown;
    let mut notices = registry.store().change_notices();
    let mut failures = 0u32;
    let mut last_success = Instant::now();
    let mut last_purge: Option<Instant> = None;
    let mut last_maintenance: Option<Instant> = None;
    let mut asked_for_keys: HashSet<String> = HashSet::new();
    let mut scheduled: HashSet<Scheduled> = HashSet::new();
    loop {
        let wait = match failures {
            0 => timing.poll,
            _ => latchkey_store::retry_backoff(failures).max(timing.poll),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = notice(&mut notices) => {}
            _ = shutdown.changed() => return,
        }
        if last_maintenance.is_none_or(|at| at.elapsed() >= timing.maintenance) {
            last_maintenance = Some(Instant::now());
            // A request for a missing key that failed is made again.
            asked_for_keys.clear();
            let purge_changes = last_purge.is_none_or(|at| at.elapsed() > Duration::from_secs(600));
            if purge_changes {
                last_purge = Some(Instant::now());
            }
            maintain(&registry, clock.now(), &timing.key_rotation, purge_changes).await;
            reuse.prune(clock.now());
        }
        let caught_up = if last_success.elapsed() > STALE_AFTER {
            registry.reload(clock.now()).await.map(|()| {
                tracing::info!("reloaded the registry after a long gap in change polling");
            })
        } else {
            registry.catch_up(clock.now()).await.map(|count| {
                if count > 0 {
                    tracing::debug!(count, "applied store changes");
                }
            })
        };
        match caught_up {
            Ok(()) => {
                if failures > 0 {
                    tracing::info!("the database answers again; caught up");
                }
                failures = 0;
                last_success = Instant::now();
                freshness.contact();
                ask_for_missing_keys(&registry, clock.now(), &mut asked_for_keys);
                schedule_activations(
                    &registry,
                    &clock,
                    &timing.key_rotation,
                    &shutdown,
                    &mut scheduled,
                );
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                freshness.lost();
                tracing::warn!(error = %error, "applying store changes failed; retrying");
            }
        }
    }
}

/// Resolves at the store's next notice of a commit; never, for a store that gives none.
async fn notice(notices: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    if let Some(receiver) = notices
        && receiver.changed().await.is_ok()
    {
        return;
    }
    std::future::pending().await
}

/// Asks the key management for the first signing key of each tenant the snapshot holds without
/// one (stored by an older version, or its key deleted), once per tenant and outside the reload:
/// following changes never waits for a key to be generated, and the tenant answers 503 until
/// its key arrives through the change log.
fn ask_for_missing_keys(registry: &Arc<Registry>, now: i64, asked: &mut HashSet<String>) {
    let snapshot = registry.current();
    asked.retain(|tenant| {
        snapshot
            .tenant(tenant)
            .is_some_and(|state| state.keys.active.is_none())
    });
    for tenant in snapshot
        .tenants()
        .filter(|state| state.keys.active.is_none())
    {
        if !asked.insert(tenant.name.to_string()) {
            continue;
        }
        let registry = Arc::clone(registry);
        let tenant = tenant.name.to_string();
        tokio::spawn(async move {
            let store = registry.store().as_ref();
            if let Err(error) =
                keys::ensure_active_key(store, registry.master_keys(), &tenant, now).await
            {
                tracing::warn!(tenant, error = %error, "could not create a missing signing key; retrying at the next maintenance");
            }
        });
    }
}

/// A scheduled key activation: tenant, kid and instant.
type Scheduled = (String, String, i64);

/// Starts, once per key the snapshot holds with an activation instant, the timer that switches
/// this node to it at that instant (not at a later maintenance tick).
fn schedule_activations(
    registry: &Arc<Registry>,
    clock: &Arc<dyn Clock>,
    policy: &RotationPolicy,
    shutdown: &tokio::sync::watch::Receiver<bool>,
    scheduled: &mut HashSet<Scheduled>,
) {
    let pending: Vec<Scheduled> = registry
        .current()
        .tenants()
        .filter_map(|tenant| {
            let pending = tenant.keys.pending.as_ref()?;
            Some((
                tenant.name.to_string(),
                pending.signer.kid().to_owned(),
                pending.activate_at,
            ))
        })
        .collect();
    scheduled.retain(|entry| pending.contains(entry));
    for entry in pending {
        if scheduled.insert(entry.clone()) {
            tokio::spawn(activate_at_instant(
                Arc::clone(registry),
                Arc::clone(clock),
                *policy,
                shutdown.clone(),
                entry,
            ));
        }
    }
}

/// Waits for a scheduled key's instant, swaps in a snapshot that signs with it, and records the
/// activation in the store (the conditional promotion lets one node through).
async fn activate_at_instant(
    registry: Arc<Registry>,
    clock: Arc<dyn Clock>,
    policy: RotationPolicy,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    (tenant, kid, activate_at): Scheduled,
) {
    loop {
        let now = clock.now();
        if now >= activate_at {
            break;
        }
        // The clock counts whole seconds and may be moved by hand (in tests): look again every
        // second, and in the last one every 100 ms, so the switch comes within that of the
        // instant.
        let step = if activate_at - now > 1 {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(100)
        };
        tokio::select! {
            _ = tokio::time::sleep(step) => {}
            _ = shutdown.changed() => return,
        }
    }
    if !registry.activate(&tenant, &kid, clock.now()) {
        // Rescheduled, replaced, or already applied from the store.
        return;
    }
    tracing::info!(tenant, kid, "a scheduled signing key started signing");
    let store = registry.store().as_ref();
    match keys::promote_scheduled(store, &tenant, &kid, activate_at, &policy).await {
        Ok(true) => tracing::info!(tenant, kid, "recorded the scheduled key as active"),
        Ok(false) => {}
        Err(error) => {
            tracing::warn!(tenant, kid, error = %error, "could not record the scheduled key as active; maintenance will")
        }
    }
}

/// Forgets expired revocations in memory, then, on the one node holding the maintenance lease,
/// runs due key life cycle steps for every tenant and purges expired revocations (and, when
/// `purge_changes`, old change log rows) from the store. The writes reach every node's snapshot
/// through the change log.
pub async fn maintain(registry: &Registry, now: i64, policy: &RotationPolicy, purge_changes: bool) {
    registry.prune_revocations(now);
    let store = registry.store();
    let lease = match store.lead_maintenance().await {
        Ok(Some(lease)) => lease,
        // Another node is at it.
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(error = %error, "maintenance could not take its lease; retrying later");
            return;
        }
    };
    match store.tenants().await {
        Ok(tenants) => {
            for tenant in tenants {
                if let Err(error) = keys::maintain(
                    store.as_ref(),
                    registry.master_keys(),
                    &tenant.name,
                    policy,
                    now,
                )
                .await
                {
                    tracing::warn!(tenant = tenant.name, error = %error, "key maintenance failed; retrying later");
                }
            }
        }
        Err(error) => tracing::warn!(error = %error, "key maintenance could not list tenants"),
    }
    if let Err(error) = store.purge_revocations(now).await {
        tracing::warn!(error = %error, "purging expired revocations failed");
    }
    if purge_changes && let Err(error) = store.purge_changes(now - CHANGE_RETENTION_SECONDS).await {
        tracing::warn!(error = %error, "purging old change log rows failed");
    }
    lease.release().await;
}
