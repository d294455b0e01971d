//! Follows the store's change log so that writes by the CLI or other nodes reach this server's
//! snapshot within a poll interval, applying only what changed; and, less often, carries out
//! due key rotation steps and purges what has expired.

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

/// Polls the change log every `timing.poll` until `shutdown` resolves.
pub async fn follow_changes(
    registry: Arc<Registry>,
    reuse: Arc<TokenCache>,
    freshness: Arc<Freshness>,
    clock: Arc<dyn Clock>,
    timing: Timing,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut shutdown = shutdown;
    let mut last_success = Instant::now();
    let mut last_purge: Option<Instant> = None;
    let mut last_maintenance: Option<Instant> = None;
    let mut asked_for_keys: HashSet<String> = HashSet::new();
    let mut scheduled: HashSet<Scheduled> = HashSet::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(timing.poll) => {}
            _ = shutdown.changed() => return,
        }
        if last_maintenance.is_none_or(|at| at.elapsed() >= timing.maintenance) {
            last_maintenance = Some(Instant::now());
            // A request for a missing key that failed is made again.
            asked_for_keys.clear();
            maintain(&registry, clock.now(), &timing.key_rotation).await;
            reuse.prune(clock.now());
        }
        if last_success.elapsed() > STALE_AFTER {
            match registry.reload(clock.now()).await {
                Ok(()) => {
                    last_success = Instant::now();
                    freshness.contact();
                    tracing::info!("reloaded the registry after a long gap in change polling");
                }
                Err(error) => {
                    freshness.lost();
                    tracing::warn!(error = %error, "registry reload failed; retrying");
                }
            }
            continue;
        }
        match registry.catch_up(clock.now()).await {
            Ok(count) => {
                if count > 0 {
                    tracing::debug!(count, "applied store changes");
                }
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
                freshness.lost();
                tracing::warn!(error = %error, "applying store changes failed; retrying");
            }
        }
        if last_purge.is_none_or(|at| at.elapsed() > Duration::from_secs(600)) {
            last_purge = Some(Instant::now());
            let before = clock.now() - CHANGE_RETENTION_SECONDS;
            if let Err(error) = registry.store().purge_changes(before).await {
                tracing::warn!(error = %error, "purging old change log rows failed");
            }
        }
    }
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

/// Runs due key life cycle steps for every tenant and forgets expired revocations. The writes
/// reach every node's snapshot through the change log.
pub async fn maintain(registry: &Registry, now: i64, policy: &RotationPolicy) {
    let tenants: Vec<String> = match registry.store().tenants().await {
        Ok(tenants) => tenants.into_iter().map(|tenant| tenant.name).collect(),
        Err(error) => {
            tracing::warn!(error = %error, "key maintenance could not list tenants");
            return;
        }
    };
    for tenant in tenants {
        if let Err(error) = keys::maintain(
            registry.store().as_ref(),
            registry.master_keys(),
            &tenant,
            policy,
            now,
        )
        .await
        {
            tracing::warn!(tenant, error = %error, "key maintenance failed; retrying later");
        }
    }
    registry.prune_revocations(now);
    if let Err(error) = registry.store().purge_revocations(now).await {
        tracing::warn!(error = %error, "purging expired revocations failed");
    }
}
