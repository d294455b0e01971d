//! `latchkey audit list`: the audit trail.

use super::now;
use crate::cli::AuditCommand;
use crate::output;
use latchkey_store::{AuditQuery, Store};

/// A `--since` value: a moment, or a duration before now.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Since {
    /// Unix seconds.
    At(i64),
    /// This many seconds ago.
    Ago(u64),
}

impl Since {
    /// Parses an RFC 3339 time, unix seconds, or a duration ago (15m, 2h, 7d).
    pub(crate) fn parse(text: &str) -> Result<Since, String> {
        if let Some(seconds) = latchkey_manage::views::parse_time(text) {
            return Ok(Since::At(seconds));
        }
        humantime::parse_duration(text)
            .map(|ago| Since::Ago(ago.as_secs()))
            .map_err(|_| {
                format!(
                    "{text:?} is not a time: use an RFC 3339 time (2026-11-25T10:00:00Z), unix seconds, or a duration ago (15m, 2h, 7d)"
                )
            })
    }

    fn unix_seconds(self, now: i64) -> i64 {
        match self {
            Since::At(seconds) => seconds,
            Since::Ago(ago) => now.saturating_sub(i64::try_from(ago).unwrap_or(i64::MAX)),
        }
    }
}

pub(crate) async fn run(store: &dyn Store, command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::List(args) = command;
    // Without --since, the most recent events (a long-lived trail is mostly old history).
    let query = AuditQuery {
        latest: args.since.is_none(),
        since: args.since.map(|since| since.unix_seconds(now())),
        tenant: args.tenant,
        after_id: None,
        limit: args.limit,
        ..AuditQuery::default()
    };
    let events = store.audit_events(&query).await?;
    if args.json {
        let list: Vec<_> = events.iter().map(output::audit_json).collect();
        output::print_json(&list);
    } else {
        output::print_audit_table(&events);
    }
    Ok(())
}
