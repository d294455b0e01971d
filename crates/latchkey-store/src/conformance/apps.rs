//! Apps and their secrets as the admin paths read and write them.

use super::*;

pub(super) async fn created_app_reads_back_with_its_secret(store: &dyn Store) {
    store.create_app(&app("c1", "one"), None).await.unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(read, app("c1", "one"));
    assert_eq!(store.app("other-tenant", "c1").await.unwrap(), None);
}

pub(super) async fn a_duplicate_client_id_already_exists(store: &dyn Store) {
    store.create_app(&app("c1", "one"), None).await.unwrap();
    assert!(matches!(
        store.create_app(&app("c1", "two"), None).await,
        Err(StoreError::AlreadyExists(_))
    ));
}

pub(super) async fn app_in_unknown_tenant_is_not_found(store: &dyn Store) {
    let record = AppRecord {
        tenant: "nope".into(),
        ..app("c1", "one")
    };
    assert!(matches!(
        store.create_app(&record, None).await,
        Err(StoreError::NotFound(_))
    ));
}

pub(super) async fn apps_list_in_name_order(store: &dyn Store) {
    store.create_app(&app("c2", "beta"), None).await.unwrap();
    store.create_app(&app("c1", "alpha"), None).await.unwrap();
    let names: Vec<String> = store
        .apps(DEFAULT_TENANT)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
}

pub(super) async fn app_listing_filters_and_pages(store: &dyn Store) {
    for (id, name, enabled) in [
        ("c1", "Billing", true),
        ("c2", "billing-batch", false),
        ("c3", "Search", true),
    ] {
        let mut record = app(id, name);
        record.enabled = enabled;
        store.create_app(&record, None).await.unwrap();
    }
    let ids = |apps: Vec<AppRecord>| apps.into_iter().map(|a| a.client_id).collect::<Vec<_>>();
    let query = |limit| AppQuery {
        limit,
        ..AppQuery::default()
    };
    assert_eq!(
        ids(store.list_apps(DEFAULT_TENANT, &query(10)).await.unwrap()),
        ["c1", "c3", "c2"]
    );
    let first = store.list_apps(DEFAULT_TENANT, &query(2)).await.unwrap();
    assert_eq!(first[0].secrets.len(), 1);
    let last = first.last().unwrap();
    let next = AppQuery {
        after: Some((last.name.clone(), last.client_id.clone())),
        ..query(2)
    };
    assert_eq!(
        ids(store.list_apps(DEFAULT_TENANT, &next).await.unwrap()),
        ["c2"]
    );
    let billing = AppQuery {
        name_contains: Some("BILL".into()),
        ..query(10)
    };
    assert_eq!(
        ids(store.list_apps(DEFAULT_TENANT, &billing).await.unwrap()),
        ["c1", "c2"]
    );
    let enabled = AppQuery {
        enabled: Some(false),
        ..query(10)
    };
    assert_eq!(
        ids(store.list_apps(DEFAULT_TENANT, &enabled).await.unwrap()),
        ["c2"]
    );
    let web = AppQuery {
        app_type: Some(ClientType::Web),
        ..query(10)
    };
    assert!(
        store
            .list_apps(DEFAULT_TENANT, &web)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_apps("other", &query(10))
            .await
            .unwrap()
            .is_empty()
    );
}

pub(super) async fn apps_by_id_returns_those_that_exist(store: &dyn Store) {
    store.create_app(&app("c1", "one"), None).await.unwrap();
    store.create_app(&app("c2", "two"), None).await.unwrap();
    let mut found = store
        .apps_by_id(&["c2".into(), "gone".into(), "c1".into()])
        .await
        .unwrap();
    found.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    assert_eq!(found, vec![app("c1", "one"), app("c2", "two")]);
}

pub(super) async fn app_count_counts_the_apps_of_every_tenant(store: &dyn Store) {
    assert_eq!(store.app_count().await.unwrap(), 0);
    store
        .create_tenant(&tenant("acme", &["acme.test"]), None, None)
        .await
        .unwrap();
    store.create_app(&app("c1", "one"), None).await.unwrap();
    store.create_app(&app("c2", "two"), None).await.unwrap();
    let mut other = app("c3", "three");
    other.tenant = "acme".into();
    store.create_app(&other, None).await.unwrap();
    assert_eq!(store.app_count().await.unwrap(), 3);
    store.delete_app(DEFAULT_TENANT, "c1", None).await.unwrap();
    assert_eq!(store.app_count().await.unwrap(), 2);
}

pub(super) async fn max_token_ttl_is_the_longest_the_tenant_ever_had(store: &dyn Store) {
    assert_eq!(store.max_token_ttl(DEFAULT_TENANT).await.unwrap(), None);
    store.create_app(&app("c1", "one"), None).await.unwrap();
    store
        .create_app(
            &with_settings(app("c2", "two"), |settings| {
                settings.token_ttl = 900;
            }),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        store.max_token_ttl(DEFAULT_TENANT).await.unwrap(),
        Some(900)
    );
    // Tokens issued at 900 s outlive a later, shorter TTL or the app itself.
    let mut shortened = store.app(DEFAULT_TENANT, "c2").await.unwrap().unwrap();
    shortened.settings.token_ttl = 60;
    store.update_app(&shortened, None).await.unwrap();
    assert_eq!(
        store.max_token_ttl(DEFAULT_TENANT).await.unwrap(),
        Some(900)
    );
    store.delete_app(DEFAULT_TENANT, "c2", None).await.unwrap();
    assert_eq!(
        store.max_token_ttl(DEFAULT_TENANT).await.unwrap(),
        Some(900)
    );
    assert_eq!(store.max_token_ttl("no-such-tenant").await.unwrap(), None);
}

pub(super) async fn update_bumps_revision_and_refuses_stale_writes(store: &dyn Store) {
    store.create_app(&app("c1", "one"), None).await.unwrap();
    let mut record = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    record.name = "renamed".into();
    record.enabled = false;
    store.update_app(&record, None).await.unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(
        (read.name.as_str(), read.enabled, read.revision),
        ("renamed", false, 2)
    );
    // `record` still carries revision 1: a second write from it lost the race.
    assert!(matches!(
        store.update_app(&record, None).await,
        Err(StoreError::ChangedConcurrently(_))
    ));
    let missing = AppRecord {
        client_id: "zz".into(),
        ..record
    };
    assert!(matches!(
        store.update_app(&missing, None).await,
        Err(StoreError::NotFound(_))
    ));
}

pub(super) async fn delete_removes_app_and_secrets(store: &dyn Store) {
    store.create_app(&app("c1", "one"), None).await.unwrap();
    store.delete_app(DEFAULT_TENANT, "c1", None).await.unwrap();
    assert_eq!(store.app(DEFAULT_TENANT, "c1").await.unwrap(), None);
    assert!(matches!(
        store.delete_app(DEFAULT_TENANT, "c1", None).await,
        Err(StoreError::NotFound(_))
    ));
}

pub(super) async fn replace_secret_without_grace_drops_the_old_one(store: &dyn Store) {
    store.create_app(&app("c1", "one"), None).await.unwrap();
    let new = SecretRecord {
        hash: SecretHash::of("s2"),
        created_at: 200,
        expires_at: None,
    };
    store
        .replace_secret(DEFAULT_TENANT, "c1", new, None, None)
        .await
        .unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(read.secrets, vec![new]);
    assert!(matches!(
        store
            .replace_secret(DEFAULT_TENANT, "zz", new, None, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub(super) async fn replace_secret_with_grace_keeps_the_old_one_until_its_end(store: &dyn Store) {
    store.create_app(&app("c1", "one"), None).await.unwrap();
    let new = SecretRecord {
        hash: SecretHash::of("s2"),
        created_at: 200,
        expires_at: None,
    };
    store
        .replace_secret(DEFAULT_TENANT, "c1", new, Some(3800), None)
        .await
        .unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(read.secrets.len(), 2);
    assert_eq!(read.secrets[0].expires_at, Some(3800));
    assert_eq!(read.secrets[1], new);
}

pub(super) async fn audiences_and_claims_are_stored(store: &dyn Store) {
    let mut record = app("c1", "one");
    record.settings.audiences = vec!["https://api.test".into(), "urn:orders".into()];
    record.settings.custom_claims = Some(r#"{"tier":"gold"}"#.into());
    store.create_app(&record, None).await.unwrap();
    assert_eq!(
        store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap(),
        record
    );
    record.settings.audiences = vec![];
    record.settings.custom_claims = None;
    store.update_app(&record, None).await.unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(
        (read.settings.audiences.len(), read.settings.custom_claims),
        (0, None)
    );
}

pub(super) async fn rate_limits_are_stored_and_removed(store: &dyn Store) {
    let mut record = app("c1", "one");
    record.settings.rate_limit = "600/min".parse().ok();
    record.settings.rate_limit_monitor = true;
    store.create_app(&record, None).await.unwrap();
    assert_eq!(
        store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap(),
        record
    );
    let scanned = super::scan::scan(store).await;
    assert_eq!(
        (
            scanned[0].client.rate_limit,
            scanned[0].client.rate_limit_monitor
        ),
        (record.settings.rate_limit, true)
    );
    record.settings.rate_limit = None;
    record.settings.rate_limit_monitor = false;
    store.update_app(&record, None).await.unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(
        (read.settings.rate_limit, read.settings.rate_limit_monitor),
        (None, false)
    );
}

pub(super) async fn keys_and_federation_rules_are_stored_and_scanned(store: &dyn Store) {
    use latchkey_protocol::federation::FederationRule;
    let rule = FederationRule {
        name: "k8s".into(),
        issuer: "https://kubernetes.default.svc".into(),
        subject: "system:serviceaccount:payments:*".into(),
        audience: Some("https://latchkey.test".into()),
        claims: [("/kubernetes.io/namespace".to_owned(), "payments".to_owned())].into(),
        jwks: Some(r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}"#.into()),
    };
    let mut record = with_settings(app("c1", "one"), |settings| {
        settings.jwks = Some(r#"{"keys":[{"kty":"EC"}]}"#.into());
        settings.federation = vec![rule.clone()];
    });
    store.create_app(&record, None).await.unwrap();
    assert_eq!(
        store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap(),
        record
    );
    let scanned = super::scan::scan(store).await;
    let keys = scanned[0].client.keys.as_deref().unwrap();
    assert_eq!(
        (keys.jwks.as_deref(), keys.jwks_uri.as_deref()),
        (record.settings.jwks.as_deref(), None)
    );
    assert_eq!(keys.federation, [rule]);
    record.settings.jwks = None;
    record.settings.jwks_uri = Some("https://keys.test/jwks".into());
    record.settings.federation = Vec::new();
    store.update_app(&record, None).await.unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(
        (read.settings.jwks, read.settings.jwks_uri.as_deref()),
        (None, Some("https://keys.test/jwks"))
    );
    assert!(read.settings.federation.is_empty());
}

pub(super) async fn removing_secrets_leaves_the_app_without_any(store: &dyn Store) {
    store.create_app(&app("c1", "one"), None).await.unwrap();
    assert!(
        !store
            .remove_secrets("other", "c1", 200, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_secrets(DEFAULT_TENANT, "c2", 200, None)
            .await
            .unwrap()
    );
    assert!(
        store
            .remove_secrets(DEFAULT_TENANT, "c1", 200, None)
            .await
            .unwrap()
    );
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert!(read.secrets.is_empty());
    assert_eq!((read.revision, read.updated_at), (2, 200));
    let scanned = super::scan::scan(store).await;
    assert!(scanned[0].client.secrets.is_empty());
}

pub(super) async fn introspection_permission_and_app_revocation_are_stored(store: &dyn Store) {
    let record = AppRecord {
        tokens_revoked_before: Some(150),
        ..with_settings(app("c1", "one"), |settings| settings.can_introspect = true)
    };
    store.create_app(&record, None).await.unwrap();
    let mut read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(
        (read.settings.can_introspect, read.tokens_revoked_before),
        (true, Some(150))
    );
    read.settings.can_introspect = false;
    read.tokens_revoked_before = Some(300);
    store.update_app(&read, None).await.unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(
        (read.settings.can_introspect, read.tokens_revoked_before),
        (false, Some(300))
    );
}
