//! The audit trail of admin API changes: each change with the admin app as its actor and never a
//! secret, read page by page oldest or newest first, and filtered by time range and action.

use crate::harness::*;
use latchkey_manage::clock::{Clock, ManualClock};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

/// The events of a page answered 200.
fn events(page: &Value) -> Vec<Value> {
    page["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in {page}"))
        .clone()
}

/// The ids of these events, in order.
fn ids(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|event| event["id"].as_i64().expect("an id"))
        .collect()
}

/// Creates an app of `tenant` through the admin API, as the admin of every tenant; returns its
/// client id.
async fn create_app(admins: &Admins, tenant: &str, name: &str) -> String {
    let path = format!("/admin/v1/tenants/{tenant}/apps");
    let body = json!({ "name": name });
    let created = ok_json(&admins.as_root(Method::POST, &path, Some(&body)).await, 201);
    client_id(&created).to_owned()
}

/// Asserts a 400 whose description says `hint`.
fn assert_bad_request_saying(reply: &Reply, hint: &str) {
    assert_admin_error(reply, 400, "invalid_request");
    let description = reply.json()["error_description"].clone();
    assert!(
        description.as_str().is_some_and(|text| text.contains(hint)),
        "{hint:?} not in {description}"
    );
}

#[tokio::test]
async fn api_changes_are_audited_with_the_admin_app_as_actor_and_never_a_secret() {
    let admins = admins().await;
    let created = ok_json(
        &admins
            .as_root(
                Method::POST,
                "/admin/v1/tenants/globex/apps",
                Some(&json!({"name": "audited"})),
            )
            .await,
        201,
    );
    let id = client_id(&created).to_owned();
    let rotated = ok_json(
        &admins
            .as_root(
                Method::POST,
                &format!("/admin/v1/tenants/globex/apps/{id}/rotate-secret"),
                None,
            )
            .await,
        200,
    );

    let reply = admins
        .as_root(Method::GET, "/admin/v1/audit?tenant=globex", None)
        .await;
    assert!(!reply.body.contains(client_secret(&created)));
    assert!(
        !reply
            .body
            .contains(rotated["client_secret"].as_str().unwrap())
    );
    let events = ok_json(&reply, 200)["events"].clone();
    let api_events: Vec<(&str, &str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["actor"] != "cli")
        .map(|event| {
            (
                event["actor"].as_str().unwrap(),
                event["action"].as_str().unwrap(),
                event["target"].as_str().unwrap(),
            )
        })
        .collect();
    let ops = client_id(&admins.ops);
    assert_eq!(
        api_events,
        [
            (ops, "app.create", id.as_str()),
            (ops, "app.rotate_secret", id.as_str())
        ]
    );
    // The CLI reads the same trail.
    let cli = admins
        .app
        .cli_ok(&["audit", "list", "--tenant", "globex", "--json"]);
    assert!(cli.contains(ops));
}

#[tokio::test]
async fn the_audit_trail_pages_and_filters_by_time() {
    let admins = admins().await;
    let page = ok_json(
        &admins
            .as_root(Method::GET, "/admin/v1/audit?limit=2", None)
            .await,
        200,
    );
    let first = page["events"].as_array().unwrap().clone();
    assert_eq!(first.len(), 2);
    let after = page["next_after"].as_i64().expect("more events follow");
    let next = ok_json(
        &admins
            .as_root(Method::GET, &format!("/admin/v1/audit?after={after}"), None)
            .await,
        200,
    );
    let rest = next["events"].as_array().unwrap();
    assert!(
        rest.iter()
            .all(|event| event["id"].as_i64().unwrap() > after)
    );
    assert!(next["next_after"].is_null());

    let future = ok_json(
        &admins
            .as_root(Method::GET, "/admin/v1/audit?since=4102444800", None)
            .await,
        200,
    );
    assert_eq!(future["events"], json!([]));
    admins
        .root_fails(
            Method::GET,
            "/admin/v1/audit?since=yesterday",
            None,
            400,
            "invalid_request",
        )
        .await;
}

#[tokio::test]
async fn newest_first_pages_through_next_before_see_every_event_once_in_descending_order() {
    let admins = admins().await;
    for name in ["one", "two", "three", "four"] {
        create_app(&admins, "default", name).await;
    }
    let oldest_first = ok_json(
        &admins
            .as_root(Method::GET, "/admin/v1/audit?limit=1000", None)
            .await,
        200,
    );
    let mut expected = ids(&events(&oldest_first));
    expected.reverse();
    assert!(expected.len() > 4, "{expected:?}");

    let mut seen = Vec::new();
    let mut path = "/admin/v1/audit?order=newest&limit=2".to_owned();
    loop {
        let page = ok_json(&admins.as_root(Method::GET, &path, None).await, 200);
        assert!(page["next_after"].is_null(), "{page}");
        seen.extend(ids(&events(&page)));
        let Some(before) = page["next_before"].as_i64() else {
            break;
        };
        assert_eq!(
            Some(&before),
            seen.last(),
            "the cursor is the last event listed"
        );
        path = format!("/admin/v1/audit?order=newest&limit=2&before={before}");
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn the_action_filter_lists_only_events_of_that_action() {
    let admins = admins().await;
    let id = create_app(&admins, "default", "rotated").await;
    for _ in 0..2 {
        let reply = admins
            .as_root(
                Method::POST,
                &format!("/admin/v1/tenants/default/apps/{id}/rotate-secret"),
                None,
            )
            .await;
        ok_json(&reply, 200);
    }

    for order in ["oldest", "newest"] {
        let page = ok_json(
            &admins
                .as_root(
                    Method::GET,
                    &format!("/admin/v1/audit?action=app.rotate_secret&order={order}"),
                    None,
                )
                .await,
            200,
        );
        let listed = events(&page);
        assert_eq!(listed.len(), 2, "{order}: {page}");
        assert!(
            listed
                .iter()
                .all(|event| event["action"] == "app.rotate_secret" && event["target"] == id),
            "{order}: {page}"
        );
    }
    // Exactly that action: a prefix of one is another action.
    let prefix = ok_json(
        &admins
            .as_root(Method::GET, "/admin/v1/audit?action=app.rotate", None)
            .await,
        200,
    );
    assert_eq!(prefix["events"], json!([]));
}

#[tokio::test]
async fn until_and_since_together_bound_the_range_at_both_ends() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let admins = admins_with(Setup::with_clock(Arc::clone(&clock))).await;
    // After every seeded event (seeded at the real time), and well inside the admin token's
    // five minutes.
    let start = clock.now().max(unix_now());
    let mut created = Vec::new();
    for (offset, name) in [(10, "early"), (20, "middle"), (30, "late")] {
        advance_to(&clock, start + offset);
        created.push(create_app(&admins, "default", name).await);
    }
    let targets = |page: &Value| -> Vec<String> {
        events(page)
            .iter()
            .map(|event| event["target"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = async |query: String| {
        ok_json(
            &admins
                .as_root(Method::GET, &format!("/admin/v1/audit?{query}"), None)
                .await,
            200,
        )
    };

    let range = list(format!("since={}&until={}", start + 15, start + 25)).await;
    assert_eq!(targets(&range), [created[1].clone()]);
    let middle_at = events(&range)[0]["at"].as_str().unwrap().to_owned();
    // Both ends are inclusive, and RFC 3339 reads as unix seconds do.
    let one_second = list(format!(
        "since={0}&until={0}&order=newest",
        form_encode(&middle_at)
    ))
    .await;
    assert_eq!(targets(&one_second), [created[1].clone()]);
    let up_to_late = list(format!("since={}&until={}", start + 10, start + 30)).await;
    assert_eq!(targets(&up_to_late), created);
}

#[tokio::test]
async fn a_tenant_admin_listing_newest_first_sees_only_its_tenant() {
    let admins = admins().await;
    let acme_app = create_app(&admins, "acme", "acme-worker").await;
    create_app(&admins, "globex", "globex-worker").await;
    create_app(&admins, "default", "default-worker").await;

    let page = ok_json(
        &admins
            .as_acme(Method::GET, "/admin/v1/audit?order=newest", None)
            .await,
        200,
    );
    let listed = events(&page);
    assert_eq!(listed[0]["target"], acme_app, "{page}");
    assert!(
        listed.iter().all(|event| event["tenant"] == "acme"),
        "{page}"
    );
    admins
        .acme_fails(
            Method::GET,
            "/admin/v1/audit?order=newest&tenant=globex",
            None,
            403,
            "access_denied",
        )
        .await;
}

#[tokio::test]
async fn a_range_ending_before_it_starts_or_a_cursor_of_the_other_order_is_400() {
    let admins = admins().await;
    for (query, hint) in [
        ("since=200&until=199", "until is before since"),
        ("until=tomorrow", "until must be an RFC 3339 time"),
        ("order=newest&after=1", "next_before as before"),
        ("before=1", "order=newest"),
        ("order=oldest&before=1", "next_after as after"),
        ("order=sideways", "order"),
    ] {
        let reply = admins
            .as_root(Method::GET, &format!("/admin/v1/audit?{query}"), None)
            .await;
        assert_bad_request_saying(&reply, hint);
    }
}
