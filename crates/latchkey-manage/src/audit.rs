//! The audit trail: every admin change and every secret rotation, by the CLI or the admin API,
//! is recorded with who made it, what it was, when, and in which tenant. Details hold the
//! settings a change wrote, never a secret, a secret hash or a key. Each operation hands its
//! event to the store with the write itself, which records both in one transaction.

use latchkey_store::AuditEvent;
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

/// The event of one change, for the store to record in the change's own transaction (so the
/// trail holds exactly the changes that were made).
pub fn event(
    actor: Actor<'_>,
    tenant: &str,
    action: &str,
    target: &str,
    details: Value,
    now: i64,
) -> AuditEvent {
    AuditEvent {
        id: 0,
        at: now,
        tenant: tenant.to_owned(),
        actor: actor.0.to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        details: details.to_string(),
    }
}
