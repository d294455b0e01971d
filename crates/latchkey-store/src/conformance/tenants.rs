//! Tenants: names and domains that belong to one tenant, a first key created with its tenant, deleting.

use super::*;

pub(super) async fn default_tenant_exists(store: &dyn Store) {
    let tenants = store.tenants().await.unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0].name, DEFAULT_TENANT);
    assert_eq!(
        (tenants[0].issuer.as_deref(), tenants[0].domains.len()),
        (None, 0)
    );
    assert_eq!(
        (tenants[0].token_profile, tenants[0].publish_scopes),
        (TokenProfile::Seed, true),
        "the seed's tokens and published scopes unless a tenant says otherwise"
    );
    assert_eq!(
        tenants[0].max_assertion_lifetime, None,
        "the default assertion lifetime unless a tenant sets its own"
    );
}

pub(super) async fn tenants_keep_their_domains_in_order(store: &dyn Store) {
    store
        .create_tenant(&tenant("acme", &["b.acme.test", "a.acme.test"]), None, None)
        .await
        .unwrap();
    let read = store.tenant("acme").await.unwrap().unwrap();
    assert_eq!(read, tenant("acme", &["b.acme.test", "a.acme.test"]));
    assert_eq!(
        read.effective_issuer().as_deref(),
        Some("https://b.acme.test")
    );
    let names: Vec<String> = store
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["acme", "default"]);
    let mut changed = tenant("acme", &["c.acme.test"]);
    changed.issuer = Some("https://issuer.acme.test".into());
    changed.token_profile = TokenProfile::Rfc9068;
    changed.publish_scopes = false;
    changed.max_assertion_lifetime = Some(600);
    store.update_tenant(&changed, None).await.unwrap();
    assert_eq!(store.tenant("acme").await.unwrap().unwrap(), changed);
    assert_eq!(store.tenant("nope").await.unwrap(), None);
    assert!(matches!(
        store.update_tenant(&tenant("nope", &[]), None).await,
        Err(StoreError::NotFound(_))
    ));
}

pub(super) async fn a_tenants_assertion_lifetime_is_stored_changed_announced_and_cleared(
    store: &dyn Store,
) {
    let created = TenantRecord {
        max_assertion_lifetime: Some(300),
        ..tenant("acme", &["acme.test"])
    };
    store.create_tenant(&created, None, None).await.unwrap();
    assert_eq!(store.tenant("acme").await.unwrap().unwrap(), created);

    let before = store.latest_change().await.unwrap();
    let shorter = TenantRecord {
        max_assertion_lifetime: Some(1),
        updated_at: 200,
        ..created.clone()
    };
    store.update_tenant(&shorter, None).await.unwrap();
    assert_eq!(store.tenant("acme").await.unwrap().unwrap(), shorter);
    let announced = store.changes_since(before, 10).await.unwrap();
    assert!(
        announced
            .iter()
            .any(|change| change.entity == ChangedEntity::Tenant && change.id == "acme"),
        "servers must learn of the new limit: {announced:?}"
    );

    let cleared = TenantRecord {
        max_assertion_lifetime: None,
        updated_at: 300,
        ..shorter
    };
    store.update_tenant(&cleared, None).await.unwrap();
    let listed = store.tenants().await.unwrap();
    let acme = listed.iter().find(|t| t.name == "acme").unwrap();
    assert_eq!(acme.max_assertion_lifetime, None);

    // The store holds only a limit a server can apply: one second to the one-hour ceiling.
    for out_of_range in [0, 3_601] {
        let refused = TenantRecord {
            max_assertion_lifetime: Some(out_of_range),
            ..cleared.clone()
        };
        assert!(
            store.update_tenant(&refused, None).await.is_err(),
            "{out_of_range}"
        );
    }
    assert_eq!(store.tenant("acme").await.unwrap().unwrap(), cleared);
}

pub(super) async fn a_tenant_and_its_first_key_are_created_together_or_not_at_all(
    store: &dyn Store,
) {
    let first = KeyRecord {
        tenant: "acme".into(),
        ..key("acme-1")
    };
    store
        .create_tenant(&tenant("acme", &["acme.test"]), Some(&first), None)
        .await
        .unwrap();
    let keys = store.signing_keys("acme").await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].kid, "acme-1");
    assert_eq!(keys[0].status, KeyStatus::Active);
    let changes = store.changes_since(0, 100).await.unwrap();
    assert!(
        changes
            .iter()
            .any(|change| change.entity == ChangedEntity::Key && change.tenant == "acme")
    );

    let refused = KeyRecord {
        tenant: "globex".into(),
        ..key("globex-1")
    };
    assert!(matches!(
        store
            .create_tenant(&tenant("globex", &["acme.test"]), Some(&refused), None)
            .await,
        Err(StoreError::Duplicate(_))
    ));
    assert!(store.signing_keys("globex").await.unwrap().is_empty());
}

pub(super) async fn a_domain_or_name_belongs_to_one_tenant(store: &dyn Store) {
    store
        .create_tenant(&tenant("acme", &["acme.test"]), None, None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_tenant(&tenant("acme", &["other.test"]), None, None)
            .await,
        Err(StoreError::Duplicate(_))
    ));
    assert!(matches!(
        store
            .create_tenant(&tenant("globex", &["acme.test"]), None, None)
            .await,
        Err(StoreError::Duplicate(_))
    ));
    // The refused create left nothing behind.
    assert_eq!(store.tenant("globex").await.unwrap(), None);
    store
        .create_tenant(&tenant("globex", &["globex.test"]), None, None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .update_tenant(&tenant("globex", &["globex.test", "acme.test"]), None)
            .await,
        Err(StoreError::Duplicate(_))
    ));
    // The refused update kept the old domains.
    assert_eq!(
        store.tenant("globex").await.unwrap().unwrap().domains,
        ["globex.test"]
    );
}

pub(super) async fn deleting_a_tenant_with_apps_needs_force(store: &dyn Store) {
    store
        .create_tenant(&tenant("acme", &["acme.test"]), None, None)
        .await
        .unwrap();
    let mut acme_app = app("c1", "one");
    acme_app.tenant = "acme".into();
    store.create_app(&acme_app, None).await.unwrap();
    let mut acme_key = key("k1");
    acme_key.tenant = "acme".into();
    assert!(store.insert_key(&acme_key, None).await.unwrap());
    assert!(matches!(
        store.delete_tenant("acme", false, None).await,
        Err(StoreError::InUse(_))
    ));
    assert!(store.app("acme", "c1").await.unwrap().is_some());
    store.delete_tenant("acme", true, None).await.unwrap();
    assert_eq!(store.tenant("acme").await.unwrap(), None);
    assert_eq!(store.app("acme", "c1").await.unwrap(), None);
    assert!(store.signing_keys("acme").await.unwrap().is_empty());
    assert!(matches!(
        store.delete_tenant("acme", true, None).await,
        Err(StoreError::NotFound(_))
    ));
    // The domain is free again.
    store
        .create_tenant(&tenant("globex", &["acme.test"]), None, None)
        .await
        .unwrap();
}
