//! The audit trail: every admin change and every secret rotation, by the CLI or the admin API,
//! is recorded with who made it, what it was, when, and in which tenant. Details hold the
//! settings a change wrote, never a secret, a secret hash or a key.

use latchkey_store::{AuditEvent, Store};
use serde_json::Value;

/// The actor name of changes made with the `latchkey` CLI (directly on the database).
pub const CLI_ACTOR: &str = "cli";

/// Who makes a change: `cli`, or the client_id of the admin app whose token made the request.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a>(pub &'a str);

impl Actor<'static> {
    /// The CLI.
    pub const CLI: Actor<'static> = Actor(CLI_ACTOR);
}

/// Records one event. The change it describes has already been written: a failure here is
/// logged loudly rather than reported as a failure of the change (which would invite a retry
/// that changes things twice).
pub async fn record(
    store: &dyn Store,
    actor: Actor<'_>,
    tenant: &str,
    action: &str,
    target: &str,
    details: Value,
    now: i64,
) {
    let event = AuditEvent {
        id: 0,
        at: now,
        tenant: tenant.to_owned(),
        actor: actor.0.to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        details: details.to_string(),
    };
    if let Err(error) = store.record_audit(&event).await {
        tracing::error!(
            error = %error,
            tenant,
            action,
            target,
            actor = actor.0,
            "could not record an audit event for a change that was made"
        );
    }
}
