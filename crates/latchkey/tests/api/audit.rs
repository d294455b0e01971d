//! The audit trail of CLI changes, read with `latchkey audit list`: one event per change, with
//! actor `cli`, the tenant, the action and its target; filters by time and tenant; never a
//! secret.

use crate::harness::*;
use serde_json::{Value, json};

const ACME_HOST: &str = "auth.acme.test";

/// `latchkey audit list ARGS... --json`.
fn audit(app: &TestApp, args: &[&str]) -> Vec<Value> {
    let mut full = vec!["audit", "list"];
    full.extend_from_slice(args);
    full.push("--json");
    app.cli_json(&full)
        .as_array()
        .unwrap_or_else(|| panic!("audit list --json prints a list"))
        .clone()
}

/// Events as (tenant, actor, action, target).
fn summary(events: &[Value]) -> Vec<(String, String, String, String)> {
    let text = |event: &Value, field: &str| {
        event[field]
            .as_str()
            .unwrap_or_else(|| panic!("no string {field} in {event}"))
            .to_owned()
    };
    events
        .iter()
        .map(|event| {
            (
                text(event, "tenant"),
                text(event, "actor"),
                text(event, "action"),
                text(event, "target"),
            )
        })
        .collect()
}

fn event(tenant: &str, action: &str, target: &str) -> (String, String, String, String) {
    (tenant.into(), "cli".into(), action.into(), target.into())
}

/// The events recorded since `count` events were there.
fn new_events(app: &TestApp, count: usize) -> Vec<Value> {
    audit(app, &[]).split_off(count)
}

#[tokio::test]
async fn a_new_server_has_an_empty_audit_trail() {
    let app = spawn_app().await;

    assert_eq!(audit(&app, &[]), Vec::<Value>::new());
    let table = app.cli_ok(&["audit", "list"]);
    assert!(table.contains("No audit events"), "{table}");
}

#[tokio::test]
async fn audit_events_have_the_documented_json_fields() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);

    let events = audit(&app, &[]);

    assert_eq!(events.len(), 1, "{events:?}");
    let created = &events[0];
    let mut fields: Vec<&str> = created
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["action", "actor", "at", "details", "id", "target", "tenant"]
    );
    assert!(created["id"].is_i64(), "{created}");
    unix_seconds(&created["at"]);
    assert!(created["details"].is_object(), "{created}");
}

#[tokio::test]
async fn tenant_create_update_and_delete_are_audited_in_the_tenant() {
    let app = spawn_app().await;

    app.cli_ok(&["tenant", "create", "acme", "--domain", "Auth.Acme.test"]);
    app.cli_ok(&["tenant", "update", "acme", "--domain", "id.acme.test"]);
    app.cli_ok(&["tenant", "delete", "acme"]);

    let events = audit(&app, &[]);
    assert_eq!(
        summary(&events),
        [
            event("acme", "tenant.create", "acme"),
            event("acme", "tenant.update", "acme"),
            event("acme", "tenant.delete", "acme"),
        ]
    );
    assert_eq!(
        events[0]["details"],
        json!({
            "domains": ["auth.acme.test"],
            "issuer": null,
            "token_profile": "seed",
            "publish_scopes": true,
            "max_assertion_lifetime": null,
        })
    );
    assert_eq!(events[1]["details"]["domains"], json!(["id.acme.test"]));
    assert_eq!(events[2]["details"], json!({ "force": false }));
    assert_eq!(
        audit(&app, &["--tenant", "acme"]),
        events,
        "a deleted tenant's events stay readable by its name"
    );
}

#[tokio::test]
async fn refused_changes_record_no_event() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);
    app.cli_ok(&["app", "create", "--tenant", "acme", "--name", "w"]);
    let before = audit(&app, &[]).len();

    for args in [
        vec!["tenant", "delete", "acme"],
        vec!["tenant", "delete", "default"],
        vec!["tenant", "create", "Bad", "--domain", "bad.test"],
        vec!["tenant", "create", "other", "--domain", ACME_HOST],
        vec!["tenant", "update", "acme", "--domain", "x.test:1"],
        vec!["app", "disable", "no-such-app"],
    ] {
        let output = app.cli(&args);
        assert!(!output.status.success(), "{args:?}: {}", describe(&output));
    }

    assert_eq!(new_events(&app, before), Vec::<Value>::new());
}

#[tokio::test]
async fn each_app_change_is_one_event_with_its_action_tenant_and_client_id() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);
    let before = audit(&app, &[]).len();

    let created = app.cli_json(&[
        "app", "create", "--tenant", "acme", "--name", "worker", "--json",
    ]);
    let id = client_id(&created);
    app.cli_ok(&["app", "update", "--tenant", "acme", id, "--name", "renamed"]);
    app.cli_ok(&["app", "disable", "--tenant", "acme", id]);
    app.cli_ok(&["app", "enable", "--tenant", "acme", id]);
    app.cli_ok(&["app", "rotate-secret", "--tenant", "acme", id]);
    app.cli_ok(&[
        "app",
        "rotate-secret",
        "--tenant",
        "acme",
        id,
        "--grace",
        "1h",
    ]);
    app.cli_ok(&["token", "revoke", "--tenant", "acme", "--app", id]);
    app.cli_ok(&["app", "delete", "--tenant", "acme", id]);

    let events = new_events(&app, before);
    assert_eq!(
        summary(&events),
        [
            event("acme", "app.create", id),
            event("acme", "app.update", id),
            event("acme", "app.disable", id),
            event("acme", "app.enable", id),
            event("acme", "app.rotate_secret", id),
            event("acme", "app.rotate_secret", id),
            event("acme", "token.revoke_all", id),
            event("acme", "app.delete", id),
        ]
    );
    assert_eq!(events[0]["details"]["name"], "worker");
    assert_eq!(events[1]["details"]["name"], "renamed");
    assert_eq!(events[2]["details"]["enabled"], false);
    assert_eq!(events[3]["details"]["enabled"], true);
    assert_eq!(events[5]["details"]["grace_seconds"], 3600);
    assert!(
        events[6]["details"]["tokens_revoked_before"].is_i64(),
        "{}",
        events[6]
    );
    let ids: Vec<i64> = events
        .iter()
        .map(|event| event["id"].as_i64().expect("an id"))
        .collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "oldest first: {ids:?}"
    );
}

#[tokio::test]
async fn app_changes_without_tenant_are_audited_in_default() {
    let app = spawn_app().await;

    let created = app.cli_json(&["app", "create", "--name", "worker", "--json"]);
    app.cli_ok(&["app", "disable", client_id(&created)]);

    assert_eq!(
        summary(&audit(&app, &[])),
        [
            event("default", "app.create", client_id(&created)),
            event("default", "app.disable", client_id(&created)),
        ]
    );
}

#[tokio::test]
async fn key_rotate_is_audited_with_the_new_kid_in_its_tenant() {
    let app = spawn_app().await;
    app.seed_tenant(new_tenant("acme", &[ACME_HOST])).await;
    let before = audit(&app, &[]).len();

    let rotated = app.cli_json(&["key", "rotate", "--tenant", "acme", "--json"]);
    let kid = rotated["kid"].as_str().expect("a kid");

    let events = new_events(&app, before);
    assert_eq!(summary(&events), [event("acme", "key.rotate", kid)]);
    assert_eq!(events[0]["details"]["alg"], rotated["alg"]);
}

#[tokio::test]
async fn token_revoke_by_jti_is_audited_with_the_jti() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);
    let before = audit(&app, &[]).len();
    let jti = "6f1c0e1a-2b3c-4d5e-8f90-0123456789ab";

    app.cli_ok(&["token", "revoke", "--tenant", "acme", jti]);
    app.cli_ok(&["token", "revoke", jti]);

    assert_eq!(
        summary(&new_events(&app, before)),
        [
            event("acme", "token.revoke", jti),
            event("default", "token.revoke", jti),
        ]
    );
}

#[tokio::test]
async fn audit_list_tenant_shows_only_that_tenants_events() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);
    app.cli_ok(&["tenant", "create", "globex", "--domain", "auth.globex.test"]);
    let acme_app = app.cli_json(&["app", "create", "--tenant", "acme", "--name", "a", "--json"]);
    let default_app = app.cli_json(&["app", "create", "--name", "d", "--json"]);

    let acme = audit(&app, &["--tenant", "acme"]);
    let default = audit(&app, &["--tenant", "default"]);
    let globex = audit(&app, &["--tenant", "globex"]);

    assert_eq!(
        summary(&acme),
        [
            event("acme", "tenant.create", "acme"),
            event("acme", "app.create", client_id(&acme_app)),
        ]
    );
    assert_eq!(
        summary(&default),
        [event("default", "app.create", client_id(&default_app))]
    );
    assert_eq!(
        summary(&globex),
        [event("globex", "tenant.create", "globex")]
    );
    assert_eq!(audit(&app, &[]).len(), 4);
}

#[tokio::test]
async fn audit_list_since_keeps_events_at_or_after_the_time() {
    let app = spawn_app().await;
    let created = app.cli_json(&["app", "create", "--name", "worker", "--json"]);
    let id = client_id(&created).to_owned();
    let first_at = unix_seconds(&audit(&app, &[])[0]["at"]);
    // Events carry whole seconds: change the app until an event lands in a later second than
    // the first, so that some events are before the cut and some at or after it.
    let mut renames = 0;
    let cut = eventually("an audit event in a later second", async || {
        renames += 1;
        app.cli_ok(&["app", "update", &id, "--name", &format!("worker-{renames}")]);
        let last = audit(&app, &[]).pop().expect("events");
        if unix_seconds(&last["at"]) > first_at {
            Ok(last["at"].as_str().expect("a time").to_owned())
        } else {
            Err(format!("{last}"))
        }
    })
    .await;
    let cut_seconds = unix_seconds(&json!(cut));
    let all = audit(&app, &[]);
    let expected: Vec<Value> = all
        .iter()
        .filter(|event| unix_seconds(&event["at"]) >= cut_seconds)
        .cloned()
        .collect();
    assert!(
        !expected.is_empty() && expected.len() < all.len(),
        "the cut splits the events: {all:?}"
    );

    let by_rfc3339 = audit(&app, &["--since", &cut]);
    let by_unix = audit(&app, &["--since", &cut_seconds.to_string()]);
    let after_last = audit(&app, &["--since", &(cut_seconds + 1).to_string()]);

    assert_eq!(by_rfc3339, expected);
    assert_eq!(by_unix, expected);
    assert_eq!(after_last, Vec::<Value>::new());
}

#[tokio::test]
async fn audit_list_since_takes_a_duration_ago() {
    let app = spawn_app().await;
    app.cli_ok(&["app", "create", "--name", "worker"]);
    let events = audit(&app, &[]);
    assert_eq!(events.len(), 1);

    assert_eq!(audit(&app, &["--since", "1h"]), events);
}

#[tokio::test]
async fn audit_list_refuses_a_since_that_is_not_a_time() {
    let app = spawn_app().await;

    let output = app.cli(&["audit", "list", "--since", "yesterday-ish"]);

    assert!(!output.status.success(), "{}", describe(&output));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("RFC 3339"), "{message}");
}

#[tokio::test]
async fn audit_list_limit_gives_the_most_recent_events_oldest_first() {
    let app = spawn_app().await;
    for name in ["a", "b", "c"] {
        app.cli_ok(&["app", "create", "--name", name]);
    }
    let all = audit(&app, &[]);

    assert_eq!(audit(&app, &["--limit", "2"]), &all[all.len() - 2..]);
}

#[tokio::test]
async fn audit_list_limit_after_since_gives_the_oldest_events_from_then() {
    let app = spawn_app().await;
    for name in ["a", "b", "c"] {
        app.cli_ok(&["app", "create", "--name", name]);
    }
    let all = audit(&app, &[]);

    assert_eq!(audit(&app, &["--since", "0", "--limit", "2"]), &all[..2]);
}

#[tokio::test]
async fn audit_list_action_keeps_only_events_of_that_action() {
    let app = spawn_app().await;
    let created = app.cli_json(&["app", "create", "--name", "worker", "--json"]);
    let id = client_id(&created);
    app.cli_ok(&["app", "disable", id]);
    app.cli_ok(&["app", "create", "--name", "other"]);

    assert_eq!(
        summary(&audit(&app, &["--action", "app.disable"])),
        [event("default", "app.disable", id)]
    );
    assert_eq!(
        audit(&app, &["--action", "app.disabl"]),
        Vec::<Value>::new()
    );
}

#[tokio::test]
async fn audit_list_until_keeps_events_at_or_before_the_time() {
    let app = spawn_app().await;
    app.cli_ok(&["app", "create", "--name", "worker"]);
    let events = audit(&app, &[]);
    let at = events[0]["at"].as_str().expect("a time").to_owned();

    assert_eq!(audit(&app, &["--until", &at]), events);
    assert_eq!(audit(&app, &["--since", &at, "--until", &at]), events);
    let before = (unix_seconds(&json!(at)) - 1).to_string();
    assert_eq!(audit(&app, &["--until", &before]), Vec::<Value>::new());
}

#[tokio::test]
async fn audit_list_refuses_an_until_before_the_since() {
    let app = spawn_app().await;

    let output = app.cli(&["audit", "list", "--since", "200", "--until", "199"]);

    assert!(!output.status.success(), "{}", describe(&output));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("--until is before --since"), "{message}");
}

#[tokio::test]
async fn audit_list_never_shows_a_client_secret() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);
    let created = app.cli_json(&[
        "app", "create", "--tenant", "acme", "--name", "worker", "--json",
    ]);
    let id = client_id(&created);
    let mut secrets = vec![client_secret(&created).to_owned()];
    for extra in [&[][..], &["--grace", "1h"][..]] {
        let mut args = vec!["app", "rotate-secret", "--tenant", "acme", id, "--json"];
        args.extend_from_slice(extra);
        let rotated = app.cli_json(&args);
        secrets.push(client_secret(&rotated).to_owned());
    }

    let json = app.cli_ok(&["audit", "list", "--json"]);
    let table = app.cli_ok(&["audit", "list"]);

    assert_eq!(
        serde_json::from_str::<Vec<Value>>(&json)
            .expect("a list")
            .iter()
            .filter(|event| event["action"] == "app.rotate_secret")
            .count(),
        2,
        "{json}"
    );
    for secret in &secrets {
        assert!(!json.contains(secret.as_str()), "a secret in {json}");
        assert!(!table.contains(secret.as_str()), "a secret in {table}");
    }
    assert!(!json.contains("client_secret"), "{json}");
}
