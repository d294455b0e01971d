//! The audit trail of federated logins: which workload used which trust of which app, at
//! most once per (app, rule, subject) an hour on each node, so the trail shows who signs in
//! without growing with every request. Written in the background: a login never waits for
//! the database, and one that cannot be recorded is logged instead.

use latchkey_store::{AuditEvent, Store};
use std::sync::Arc;

/// How long a login is not audited again, in seconds.
const QUIET_SECONDS: i64 = 3600;
/// Most (app, rule, subject) triples remembered; past it, those older than the quiet period
/// are forgotten first.
const MAX_REMEMBERED: usize = 100_000;
/// The longest subject the trail repeats.
const MAX_SUBJECT_BYTES: usize = 256;

/// When each (tenant, app, rule, subject) was last audited on this node.
pub(crate) struct LoginAudit {
    store: Arc<dyn Store>,
    last: papaya::HashMap<Box<str>, i64, foldhash::fast::RandomState>,
}

/// One federated login.
pub(crate) struct Login<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) rule: &'a str,
    pub(crate) issuer: &'a str,
    pub(crate) subject: &'a str,
}

impl LoginAudit {
    pub(crate) fn new(store: Arc<dyn Store>) -> LoginAudit {
        LoginAudit {
            store,
            last: papaya::HashMap::default(),
        }
    }

    /// Audits `login` unless the same one was audited within the quiet period.
    pub(crate) fn record(&self, login: &Login<'_>, now: i64) {
        let subject = truncated(login.subject, MAX_SUBJECT_BYTES);
        let key: Box<str> = format!(
            "{}\n{}\n{}\n{subject}",
            login.tenant, login.client_id, login.rule
        )
        .into();
        if self.last.len() >= MAX_REMEMBERED {
            self.last.pin().retain(|_, at| *at > now - QUIET_SECONDS);
        }
        let last = self.last.pin();
        let recent = last.get(&key).is_some_and(|at| *at > now - QUIET_SECONDS);
        if recent || self.last.len() >= MAX_REMEMBERED {
            return;
        }
        last.insert(key, now);
        let event = AuditEvent {
            id: 0,
            at: now,
            tenant: login.tenant.to_owned(),
            actor: login.client_id.to_owned(),
            action: "app.federated_login".to_owned(),
            target: login.client_id.to_owned(),
            details: serde_json::json!({
                "federation": login.rule,
                "issuer": login.issuer,
                "subject": subject,
            })
            .to_string(),
        };
        let store = Arc::clone(&self.store);
        tokio::spawn(async move {
            if let Err(error) = store.record_audit(&event).await {
                tracing::warn!(
                    client_id = %event.target,
                    error = %error,
                    "a federated login could not be added to the audit trail"
                );
            }
        });
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncated(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
