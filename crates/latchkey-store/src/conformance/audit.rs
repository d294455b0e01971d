//! The audit trail: order, filters and pages, and events stored only with their change.

use super::*;

/// Records one event per `(at, tenant, action)`, in this order, each with a change of its own.
async fn record_events(store: &dyn Store, events: &[(i64, &str, &str)]) {
    for (index, &(at, tenant, action)) in events.iter().enumerate() {
        let event = AuditEvent {
            id: 0,
            at,
            tenant: tenant.into(),
            actor: "cli".into(),
            action: action.into(),
            target: "x".into(),
            details: "{}".into(),
        };
        // Every event is stored with a change; a revocation is the simplest one.
        store
            .revoke_token(&revocation(&format!("j{index}"), 500), Some(&event))
            .await
            .unwrap();
    }
}

/// The actions of these events, in their order.
fn actions(events: Vec<AuditEvent>) -> Vec<String> {
    events.into_iter().map(|event| event.action).collect()
}

/// `AuditQuery` with this limit and everything else unset.
fn limited(limit: u32) -> AuditQuery {
    AuditQuery {
        limit,
        ..AuditQuery::default()
    }
}

pub(super) async fn audit_events_read_back_in_order_and_filter(store: &dyn Store) {
    record_events(
        store,
        &[
            (100, "default", "app.create"),
            (200, "acme", "tenant.create"),
            (300, "default", "app.delete"),
        ],
    )
    .await;
    let all = store
        .audit_events(&AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(all.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(
        actions(all.clone()),
        ["app.create", "tenant.create", "app.delete"]
    );
    let since = AuditQuery {
        since: Some(200),
        limit: 10,
        ..AuditQuery::default()
    };
    assert_eq!(
        actions(store.audit_events(&since).await.unwrap()),
        ["tenant.create", "app.delete"]
    );
    let tenant = AuditQuery {
        tenant: Some("default".into()),
        limit: 10,
        ..AuditQuery::default()
    };
    assert_eq!(
        actions(store.audit_events(&tenant).await.unwrap()),
        ["app.create", "app.delete"]
    );
    let latest = AuditQuery {
        order: AuditOrder::Latest,
        limit: 2,
        ..AuditQuery::default()
    };
    assert_eq!(
        actions(store.audit_events(&latest).await.unwrap()),
        ["tenant.create", "app.delete"]
    );
    let page = AuditQuery {
        after_id: Some(all[0].id),
        limit: 1,
        ..AuditQuery::default()
    };
    assert_eq!(
        actions(store.audit_events(&page).await.unwrap()),
        ["tenant.create"]
    );
}

pub(super) async fn the_action_filter_matches_the_action_exactly(store: &dyn Store) {
    record_events(
        store,
        &[
            (100, "default", "app.create"),
            (200, "default", "app.created"),
            (300, "default", "App.Create"),
            (400, "acme", "app.create"),
            (500, "default", "app_create"),
        ],
    )
    .await;
    let query = AuditQuery {
        action: Some("app.create".into()),
        ..limited(10)
    };
    let events = store.audit_events(&query).await.unwrap();
    assert_eq!(
        events
            .iter()
            .map(|event| (event.at, event.action.as_str()))
            .collect::<Vec<_>>(),
        [(100, "app.create"), (400, "app.create")]
    );
    // A pattern character is a character like any other.
    let pattern = AuditQuery {
        action: Some("app_create%".into()),
        ..limited(10)
    };
    assert_eq!(store.audit_events(&pattern).await.unwrap(), []);
    let with_tenant = AuditQuery {
        tenant: Some("acme".into()),
        ..query
    };
    assert_eq!(
        actions(store.audit_events(&with_tenant).await.unwrap()),
        ["app.create"]
    );
}

pub(super) async fn until_keeps_events_at_or_before_the_time_and_bounds_a_range_with_since(
    store: &dyn Store,
) {
    record_events(
        store,
        &[
            (100, "default", "one"),
            (200, "default", "two"),
            (300, "default", "three"),
            (400, "default", "four"),
        ],
    )
    .await;
    let until = |until: i64| AuditQuery {
        until: Some(until),
        ..limited(10)
    };
    assert_eq!(
        actions(store.audit_events(&until(200)).await.unwrap()),
        ["one", "two"]
    );
    assert_eq!(store.audit_events(&until(99)).await.unwrap(), []);
    let range = AuditQuery {
        since: Some(200),
        ..until(300)
    };
    assert_eq!(
        actions(store.audit_events(&range).await.unwrap()),
        ["two", "three"]
    );
    let one_second = AuditQuery {
        since: Some(300),
        ..until(300)
    };
    assert_eq!(
        actions(store.audit_events(&one_second).await.unwrap()),
        ["three"]
    );
    let latest_until = AuditQuery {
        order: AuditOrder::Latest,
        ..until(300)
    };
    assert_eq!(
        actions(
            store
                .audit_events(&AuditQuery {
                    limit: 2,
                    ..latest_until
                })
                .await
                .unwrap()
        ),
        ["two", "three"]
    );
}

pub(super) async fn before_id_keeps_events_with_a_lower_id(store: &dyn Store) {
    record_events(
        store,
        &[
            (100, "default", "one"),
            (100, "default", "two"),
            (100, "default", "three"),
        ],
    )
    .await;
    let all = store.audit_events(&limited(10)).await.unwrap();
    let before = |id: i64| AuditQuery {
        before_id: Some(id),
        ..limited(10)
    };
    assert_eq!(
        actions(store.audit_events(&before(all[2].id)).await.unwrap()),
        ["one", "two"]
    );
    assert_eq!(store.audit_events(&before(all[0].id)).await.unwrap(), []);
    let between = AuditQuery {
        after_id: Some(all[0].id),
        ..before(all[2].id)
    };
    assert_eq!(
        actions(store.audit_events(&between).await.unwrap()),
        ["two"]
    );
}

pub(super) async fn newest_first_lists_by_descending_id_and_its_limit_keeps_the_newest(
    store: &dyn Store,
) {
    // Times out of id order: the listing follows the ids, never the times.
    record_events(
        store,
        &[
            (300, "default", "one"),
            (100, "acme", "two"),
            (200, "default", "three"),
            (200, "acme", "four"),
            (400, "default", "five"),
        ],
    )
    .await;
    let newest = AuditQuery {
        order: AuditOrder::Newest,
        ..limited(10)
    };
    let all = store.audit_events(&newest).await.unwrap();
    assert_eq!(
        actions(all.clone()),
        ["five", "four", "three", "two", "one"]
    );
    assert!(all.windows(2).all(|pair| pair[0].id > pair[1].id));
    assert_eq!(
        actions(
            store
                .audit_events(&AuditQuery {
                    limit: 2,
                    ..newest.clone()
                })
                .await
                .unwrap()
        ),
        ["five", "four"]
    );
    let filtered = AuditQuery {
        tenant: Some("default".into()),
        until: Some(300),
        ..newest.clone()
    };
    assert_eq!(
        actions(store.audit_events(&filtered).await.unwrap()),
        ["three", "one"]
    );

    // Paging back through `before_id` from the newest sees every event once.
    let mut seen = Vec::new();
    let mut before_id = None;
    loop {
        let page = store
            .audit_events(&AuditQuery {
                before_id,
                limit: 2,
                ..newest.clone()
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        before_id = Some(last.id);
        seen.extend(page);
    }
    assert_eq!(seen, all);
}

/// A change and its audit event are one transaction: the event exists exactly when the change
/// was made.
pub(super) async fn an_audit_event_is_stored_with_its_change_and_never_without(store: &dyn Store) {
    let event = |action: &str| AuditEvent {
        id: 0,
        at: 100,
        tenant: DEFAULT_TENANT.into(),
        actor: "cli".into(),
        action: action.into(),
        target: "c1".into(),
        details: "{}".into(),
    };
    let trail = || async {
        store
            .audit_events(&AuditQuery {
                limit: 100,
                ..AuditQuery::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|event| event.action)
            .collect::<Vec<_>>()
    };
    let created = app("c1", "one");
    store
        .create_app(&created, Some(&event("app.create")))
        .await
        .unwrap();
    assert!(
        store
            .create_app(&created, Some(&event("app.create.again")))
            .await
            .is_err()
    );
    let stale = AppRecord {
        revision: 7,
        ..created.clone()
    };
    assert!(matches!(
        store
            .update_app(&stale, Some(&event("app.update.stale")))
            .await,
        Err(StoreError::ChangedConcurrently(_))
    ));
    store
        .update_app(&created, Some(&event("app.update")))
        .await
        .unwrap();
    assert!(
        store
            .delete_app(DEFAULT_TENANT, "nope", Some(&event("app.delete.missing")))
            .await
            .is_err()
    );
    assert!(
        store
            .insert_key(&key("k1"), Some(&event("key.first")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_key(&key("k2"), Some(&event("key.second.active")))
            .await
            .unwrap()
    );
    store
        .revoke_token(&revocation("j1", 500), Some(&event("token.revoke")))
        .await
        .unwrap();
    assert!(
        store
            .create_tenant(&tenant("default", &[]), None, Some(&event("tenant.twice")))
            .await
            .is_err()
    );
    assert_eq!(
        trail().await,
        ["app.create", "app.update", "key.first", "token.revoke"]
    );
}

pub(super) async fn an_event_without_a_change_is_recorded_alone(store: &dyn Store) {
    let event = AuditEvent {
        id: 0,
        at: 100,
        tenant: "default".into(),
        actor: "c1".into(),
        action: "app.federated_login".into(),
        target: "c1".into(),
        details: r#"{"federation":"ci"}"#.into(),
    };
    let changes_before = store.latest_change().await.unwrap();
    store.record_audit(&event).await.unwrap();
    let events = store
        .audit_events(&AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].action.as_str(), events[0].details.as_str()),
        ("app.federated_login", event.details.as_str())
    );
    assert_eq!(store.latest_change().await.unwrap(), changes_before);
}
