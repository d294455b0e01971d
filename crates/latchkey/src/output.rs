//! What the CLI prints: JSON objects for scripts, aligned tables and plain sentences for people.
//! Secrets appear only in the output of the commands that create them.

use latchkey_manage::views::{AppView, AuditView, KeyView, TenantView};
use latchkey_protocol::ClientSecret;
use latchkey_store::{AppRecord, AuditEvent, KeyRecord, KeyStatus, TenantRecord};
use serde::Serialize;
use serde_json::{Value, json};

pub(crate) use latchkey_manage::views::timestamp;

fn strings<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

fn to_json<T: Serialize>(view: &T) -> Value {
    serde_json::to_value(view).unwrap_or(Value::Null)
}

/// An app as JSON (the admin API's shape); `secret` is included only by the commands that mint
/// one (`null` for a public app, which has none).
pub(crate) fn app_json(app: &AppRecord, secret: Option<Option<&ClientSecret>>) -> Value {
    let mut object = to_json(&AppView::from(app));
    if let Some(secret) = secret {
        object["client_secret"] = json!(secret.map(ClientSecret::expose));
    }
    object
}

/// A signing key as JSON (never its private part).
pub(crate) fn key_json(key: &KeyRecord) -> Value {
    to_json(&KeyView::from(key))
}

/// Writes one line of a command's output on stdout. A reader that has gone away (`latchkey
/// app list | head -1`) ends the command quietly with success, as ripgrep does: what was asked
/// is done, and the reader chose to stop. Any other write failure ends it with an error.
/// `outln!` is the `println!` of command output, which would panic instead.
pub(crate) fn write_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout
        .write_fmt(line)
        .and_then(|()| stdout.write_all(b"\n"))
    {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: could not write the output: {error}");
        std::process::exit(1);
    }
}

/// `1 app`, `3 apps`: a count with its noun in singular or plural.
pub(crate) fn counted(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Prints a value as pretty JSON on stdout.
pub(crate) fn print_json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => outln!("{text}"),
        Err(error) => eprintln!("error: could not format JSON output: {error}"),
    }
}

/// Prints rows as a table whose columns are as wide as their widest cell.
pub(crate) fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|header| header.chars().count())
        .collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}", width = *width))
            .collect();
        outln!("{}", padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

fn list_or_dash<T: ToString>(items: &[T]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        strings(items).join(" ")
    }
}

/// Prints one app for people, as labelled lines.
pub(crate) fn print_app(app: &AppRecord, secret: Option<&ClientSecret>) {
    let rows: Vec<(&str, String)> = vec![
        ("client_id", app.client_id.clone()),
        (
            "client_secret",
            secret.map(|s| s.expose().to_owned()).unwrap_or_default(),
        ),
        ("name", app.name.clone()),
        ("type", app.settings.app_type.to_string()),
        ("enabled", if app.enabled { "yes" } else { "no" }.to_owned()),
        ("scopes", list_or_dash(&app.settings.scopes)),
        ("default_scopes", list_or_dash(&app.settings.default_scopes)),
        ("grant_types", list_or_dash(&app.settings.grant_types)),
        ("token_ttl", format!("{} s", app.settings.token_ttl)),
        (
            "introspect",
            if app.settings.can_introspect {
                "yes: may introspect other apps' tokens"
            } else {
                "own tokens only"
            }
            .to_owned(),
        ),
        (
            "token_reuse",
            app.settings
                .token_reuse_percent
                .map(|percent| format!("while {percent}% of a token's life remains"))
                .unwrap_or_else(|| "off".to_owned()),
        ),
        ("audiences", list_or_dash(&app.settings.audiences)),
        (
            "rate_limit",
            match (app.settings.rate_limit, app.settings.rate_limit_monitor) {
                (None, _) => "off".to_owned(),
                (Some(limit), false) => format!("{limit} per server"),
                (Some(limit), true) => {
                    format!("{limit} per server, monitor only: counts and logs, refuses nothing")
                }
            },
        ),
        (
            "claims",
            app.settings
                .custom_claims
                .clone()
                .unwrap_or_else(|| "-".to_owned()),
        ),
        (
            "secret",
            if AppView::from(app).has_secret {
                "yes"
            } else {
                "none"
            }
            .to_owned(),
        ),
        (
            "jwks",
            match (&app.settings.jwks, &app.settings.jwks_uri) {
                (Some(jwks), _) => format!("keys {}", key_ids(jwks)),
                (None, Some(uri)) => format!("fetched from {uri}"),
                (None, None) => "-".to_owned(),
            },
        ),
        (
            "federations",
            list_or_dash(
                &app.settings
                    .federation
                    .iter()
                    .map(|rule| rule.name.as_str())
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "previous_secret",
            AppView::from(app)
                .previous_secret_expires_at
                .map(|until| format!("accepted until {until}"))
                .unwrap_or_else(|| "-".to_owned()),
        ),
        ("tenant", app.tenant.clone()),
        ("created_at", timestamp(app.created_at)),
        ("updated_at", timestamp(app.updated_at)),
    ];
    for (label, value) in rows {
        if label == "client_secret" && secret.is_none() {
            continue;
        }
        outln!("{label:<15} {value}");
    }
}

/// The key ids of a JWK Set for people: `kid1 kid2`, a key without one as `(no kid)`.
fn key_ids(jwks: &str) -> String {
    let kids: Vec<String> = latchkey_manage::apps::key_ids(jwks)
        .into_iter()
        .map(|kid| kid.unwrap_or_else(|| "(no kid)".to_owned()))
        .collect();
    list_or_dash(&kids)
}

/// Prints an app's federations as a table.
pub(crate) fn print_federation_table(app: &AppRecord) {
    let rules = &app.settings.federation;
    if rules.is_empty() {
        outln!(
            "App {} has no federations. Add one with: latchkey app federation add {} --name NAME --issuer URL --subject SUBJECT",
            app.client_id,
            app.client_id
        );
        return;
    }
    let rows: Vec<Vec<String>> = rules
        .iter()
        .map(|rule| {
            let claims: Vec<String> = rule
                .claims
                .iter()
                .map(|(claim, value)| format!("{claim}={value}"))
                .collect();
            vec![
                rule.name.clone(),
                rule.issuer.clone(),
                rule.subject.clone(),
                rule.audience
                    .clone()
                    .unwrap_or_else(|| "(tenant issuer)".to_owned()),
                list_or_dash(&claims),
            ]
        })
        .collect();
    print_table(&["NAME", "ISSUER", "SUBJECT", "AUDIENCE", "CLAIMS"], &rows);
}

/// Prints apps as a table.
pub(crate) fn print_app_table(apps: &[AppRecord]) {
    if apps.is_empty() {
        outln!("No apps yet. Create one with: latchkey app create --name NAME --scope SCOPE");
        return;
    }
    let rows: Vec<Vec<String>> = apps
        .iter()
        .map(|app| {
            vec![
                app.client_id.clone(),
                app.name.clone(),
                app.settings.app_type.to_string(),
                if app.enabled { "enabled" } else { "disabled" }.to_owned(),
                list_or_dash(&app.settings.scopes),
                app.settings.token_ttl.to_string(),
            ]
        })
        .collect();
    print_table(
        &["CLIENT_ID", "NAME", "TYPE", "STATUS", "SCOPES", "TTL"],
        &rows,
    );
}

/// Prints keys as a table.
pub(crate) fn print_key_table(keys: &[KeyRecord]) {
    if keys.is_empty() {
        outln!("No signing keys yet: `latchkey serve` creates the first one when it starts.");
        return;
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|key| {
            vec![
                key.kid.clone(),
                key.alg.clone(),
                key.status.to_string(),
                timestamp(key.created_at),
                key.activated_at
                    .map(timestamp)
                    .unwrap_or_else(|| "-".into()),
                match (key.status, key.activate_at) {
                    (KeyStatus::Next, Some(at)) => timestamp(at),
                    _ => "-".into(),
                },
                key.retire_at
                    .or(key.retired_at)
                    .map(timestamp)
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_table(
        &[
            "KID",
            "ALG",
            "STATUS",
            "CREATED",
            "ACTIVATED",
            "ACTIVATES",
            "RETIRES",
        ],
        &rows,
    );
}

/// A tenant as JSON (the admin API's shape).
pub(crate) fn tenant_json(tenant: &TenantRecord) -> Value {
    to_json(&TenantView::from(tenant))
}

/// Prints one tenant for people.
pub(crate) fn print_tenant(tenant: &TenantRecord) {
    outln!("name       {}", tenant.name);
    outln!("domains    {}", list_or_dash(&tenant.domains));
    outln!(
        "issuer     {}",
        tenant
            .effective_issuer()
            .unwrap_or_else(|| "the --issuer of `latchkey serve`".to_owned())
    );
    outln!("tokens     {} profile", tenant.token_profile);
    outln!(
        "discovery  {}",
        if tenant.publish_scopes {
            "lists scopes_supported"
        } else {
            "lists no scopes"
        }
    );
    outln!(
        "assertions at most {}{}",
        humantime::format_duration(std::time::Duration::from_secs(
            tenant.effective_assertion_lifetime().unsigned_abs()
        )),
        if tenant.max_assertion_lifetime.is_some() {
            ""
        } else {
            " (the default)"
        }
    );
    outln!("created_at {}", timestamp(tenant.created_at));
}

/// Prints tenants as a table.
pub(crate) fn print_tenant_table(tenants: &[TenantRecord]) {
    let rows: Vec<Vec<String>> = tenants
        .iter()
        .map(|tenant| {
            vec![
                tenant.name.clone(),
                list_or_dash(&tenant.domains),
                tenant
                    .effective_issuer()
                    .unwrap_or_else(|| "(serve --issuer)".to_owned()),
            ]
        })
        .collect();
    print_table(&["NAME", "DOMAINS", "ISSUER"], &rows);
}

/// An audit event as JSON (the admin API's shape).
pub(crate) fn audit_json(event: &AuditEvent) -> Value {
    to_json(&AuditView::from(event))
}

/// Prints audit events as a table.
pub(crate) fn print_audit_table(events: &[AuditEvent]) {
    if events.is_empty() {
        outln!("No audit events match.");
        return;
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|event| {
            vec![
                timestamp(event.at),
                event.tenant.clone(),
                event.actor.clone(),
                event.action.clone(),
                event.target.clone(),
            ]
        })
        .collect();
    print_table(&["AT", "TENANT", "ACTOR", "ACTION", "TARGET"], &rows);
}
