//! An app's federations: the external issuers whose identity tokens it accepts as its own
//! (workload identity federation), added and removed one rule at a time. The rules live in the
//! app's settings, so each change is a read-modify-write of the app under its revision; the
//! rules' own checks are `latchkey_protocol::federation`'s.

use crate::apps::{self, AppError};
use crate::audit::{self, Actor};
use latchkey_protocol::federation::{self, FederationRule};
use latchkey_store::{AppRecord, Store};
use serde_json::json;

/// The audit details of a change to one rule: what names it, never its pinned keys.
fn details(rule: &FederationRule) -> serde_json::Value {
    json!({ "name": rule.name, "issuer": rule.issuer, "subject": rule.subject })
}

/// `rule` checked on its own (`FederationRule::validated`, and the keys it pins parsed), as
/// `add` checks it before reading the app.
pub fn checked_rule(mut rule: FederationRule) -> Result<FederationRule, AppError> {
    if let Some(jwks) = &rule.jwks {
        rule.jwks = Some(apps::checked_jwks(jwks)?);
    }
    rule.validated().map_err(AppError::Federation)
}

/// Adds `rule` to the app's federations. Refused when the rule breaks a rule or pins keys
/// latchkey cannot use (`checked_rule`), or when the app is a public client, already has a
/// rule of that name, or has as many rules as it may.
pub async fn add(
    store: &dyn Store,
    tenant: &str,
    client_id: &str,
    rule: FederationRule,
    actor: Actor<'_>,
    now: i64,
) -> Result<AppRecord, AppError> {
    let rule = checked_rule(rule)?;
    apps::modify(store, tenant, client_id, now, |app| {
        let mut rules = app.settings.federation.clone();
        federation::add_rule(&mut rules, rule.clone()).map_err(AppError::Federation)?;
        app.settings.federation = rules;
        apps::validate(app)?;
        Ok(audit::event(
            actor,
            tenant,
            "app.federation.add",
            client_id,
            details(&rule),
            now,
        ))
    })
    .await
}

/// Removes the app's federation named `name`.
pub async fn remove(
    store: &dyn Store,
    tenant: &str,
    client_id: &str,
    name: &str,
    actor: Actor<'_>,
    now: i64,
) -> Result<AppRecord, AppError> {
    apps::modify(store, tenant, client_id, now, |app| {
        let removed = app
            .settings
            .federation
            .iter()
            .find(|rule| rule.name == name)
            .map(details);
        federation::remove_rule(&mut app.settings.federation, name)
            .map_err(AppError::Federation)?;
        Ok(audit::event(
            actor,
            tenant,
            "app.federation.remove",
            client_id,
            removed.unwrap_or_else(|| json!({ "name": name })),
            now,
        ))
    })
    .await
}
