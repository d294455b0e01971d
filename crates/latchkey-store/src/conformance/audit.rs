//! The audit trail: order, filters and pages, and events stored only with their change.

use super::*;

pub(super) async fn audit_events_read_back_in_order_and_filter(store: &dyn Store) {
    for (at, tenant, action) in [
        (100, "default", "app.create"),
        (200, "acme", "tenant.create"),
        (300, "default", "app.delete"),
    ] {
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
            .revoke_token(&revocation(&format!("j{at}"), 500), Some(&event))
            .await
            .unwrap();
    }
    let actions =
        |events: Vec<AuditEvent>| events.into_iter().map(|e| e.action).collect::<Vec<_>>();
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
        latest: true,
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
