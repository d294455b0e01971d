//! `latchkey audit list`: the audit trail.

use super::now;
use crate::cli::AuditCommand;
use crate::output;
use latchkey_store::{AuditOrder, AuditQuery, Store};

/// A `--since` or `--until` value: a moment, or a duration before now.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Moment {
    /// Unix seconds.
    At(i64),
    /// This many seconds ago.
    Ago(u64),
}

impl Moment {
    /// Parses an RFC 3339 time, unix seconds, or a duration ago (15m, 2h, 7d).
    pub(crate) fn parse(text: &str) -> Result<Moment, String> {
        if let Some(seconds) = latchkey_manage::views::parse_time(text) {
            return Ok(Moment::At(seconds));
        }
        humantime::parse_duration(text)
            .map(|ago| Moment::Ago(ago.as_secs()))
            .map_err(|_| {
                format!(
                    "{text:?} is not a time: use an RFC 3339 time (2026-11-25T10:00:00Z), unix seconds, or a duration ago (15m, 2h, 7d)"
                )
            })
    }

    fn unix_seconds(self, now: i64) -> i64 {
        match self {
            Moment::At(seconds) => seconds,
            Moment::Ago(ago) => now.saturating_sub(i64::try_from(ago).unwrap_or(i64::MAX)),
        }
    }
}

pub(crate) async fn run(store: &dyn Store, command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::List(args) = command;
    let now = now();
    let since = args.since.map(|since| since.unix_seconds(now));
    let until = args.until.map(|until| until.unix_seconds(now));
    if let (Some(since), Some(until)) = (since, until)
        && until < since
    {
        anyhow::bail!("--until is before --since: give an --until at or after --since");
    }
    // Without --since, the most recent events (a long-lived trail is mostly old history).
    let query = AuditQuery {
        order: if since.is_none() {
            AuditOrder::Latest
        } else {
            AuditOrder::Oldest
        },
        since,
        until,
        tenant: args.tenant,
        action: args.action,
        after_id: None,
        limit: args.limit,
        before_id: None,
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
