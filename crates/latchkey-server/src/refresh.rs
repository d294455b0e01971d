//! Follows the store's change log so that writes by the CLI or other nodes reach this server's
//! snapshot within a poll interval, applying only what changed; and, less often, carries out
//! due key rotation steps and purges what has expired.

use crate::clock::Clock;
use crate::keys::{self, RotationPolicy};
use crate::registry::Registry;
use crate::reuse::TokenCache;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many change rows one poll reads at most; a larger backlog is drained over several polls
/// in a row without waiting.
const BATCH: u32 = 10_000;

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
    clock: Arc<dyn Clock>,
    mut seq: i64,
    timing: Timing,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut shutdown = shutdown;
    let mut last_success = Instant::now();
    let mut last_purge: Option<Instant> = None;
    let mut last_maintenance: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(timing.poll) => {}
            _ = shutdown.changed() => return,
        }
        if last_maintenance.is_none_or(|at| at.elapsed() >= timing.maintenance) {
            last_maintenance = Some(Instant::now());
            maintain(&registry, clock.now(), &timing.key_rotation).await;
            reuse.prune(clock.now());
        }
        if last_success.elapsed() > STALE_AFTER {
            match registry.reload(clock.now()).await {
                Ok(reloaded) => {
                    seq = reloaded;
                    last_success = Instant::now();
                    tracing::info!("reloaded the registry after a long gap in change polling");
                }
                Err(error) => tracing::warn!(error = %error, "registry reload failed; retrying"),
            }
            continue;
        }
        match poll_once(&registry, clock.as_ref(), seq).await {
            Ok(applied) => {
                seq = applied;
                last_success = Instant::now();
            }
            Err(error) => tracing::warn!(error = %error, "applying store changes failed; retrying"),
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

/// Applies every pending change after `seq`; returns the last sequence applied.
pub async fn poll_once(
    registry: &Registry,
    clock: &dyn Clock,
    mut seq: i64,
) -> Result<i64, crate::registry::RegistryError> {
    loop {
        let changes = registry.store().changes_since(seq, BATCH).await?;
        let Some(last) = changes.last() else {
            return Ok(seq);
        };
        registry.apply(&changes, clock.now()).await?;
        seq = last.seq;
        tracing::debug!(count = changes.len(), seq, "applied store changes");
        if changes.len() < BATCH as usize {
            return Ok(seq);
        }
    }
}
