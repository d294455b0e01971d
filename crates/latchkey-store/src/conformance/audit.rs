//! The audit trail: order, filters and pages.

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
        store.record_audit(&event).await.unwrap();
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
