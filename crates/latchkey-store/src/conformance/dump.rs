//! Export and import: a whole deployment read in one consistent read and written into an
//! empty store, which then holds the same deployment and takes writes as the source did.

use super::*;

/// The time the fixture's exports are read at: one revocation is live then, one expired.
const NOW: i64 = 1_000;

fn event(action: &str, target: &str) -> AuditEvent {
    AuditEvent {
        id: 0,
        at: 100,
        tenant: DEFAULT_TENANT.into(),
        actor: "cli".into(),
        action: action.into(),
        target: target.into(),
        details: "{}".into(),
    }
}

/// A deployment with something of everything: two tenants (both with domains, one with its
/// own issuer and token profile), apps of both (one in a secret rotation's grace period, one
/// disabled with its tokens revoked), keys in each life-cycle state, a live and an expired
/// revocation, and an audit trail.
pub(super) async fn fill(store: &dyn Store) {
    let acme = TenantRecord {
        issuer: Some("https://issuer.acme.test".into()),
        token_profile: TokenProfile::Rfc9068,
        publish_scopes: false,
        max_assertion_lifetime: Some(300),
        ..tenant("acme", &["b.acme.test", "a.acme.test"])
    };
    let acme_key = KeyRecord {
        tenant: "acme".into(),
        ..key("acme-k1")
    };
    store
        .create_tenant(
            &acme,
            Some(&acme_key),
            Some(&event("tenant.create", "acme")),
        )
        .await
        .unwrap();
    let default = TenantRecord {
        updated_at: 200,
        ..tenant(DEFAULT_TENANT, &["auth.example.test"])
    };
    store.update_tenant(&default, None).await.unwrap();

    store
        .create_app(&app("c1", "one"), Some(&event("app.create", "c1")))
        .await
        .unwrap();
    let long_lived = with_settings(app("c2", "two"), |settings| {
        settings.token_ttl = 3_600;
        settings.audiences = vec!["https://api.test".into()];
        settings.custom_claims = Some(r#"{"tier":"gold"}"#.into());
        settings.token_reuse_percent = Some(80);
        settings.rate_limit = "600/min".parse().ok();
        settings.rate_limit_monitor = true;
        settings.jwks_uri = Some("https://keys.test/jwks".into());
        settings.federation = vec![latchkey_protocol::federation::FederationRule {
            name: "ci".into(),
            issuer: "https://ci.test".into(),
            subject: "repo:acme/api:*".into(),
            audience: None,
            claims: [("ref".to_owned(), "refs/heads/main".to_owned())].into(),
            jwks: None,
        }];
    });
    store.create_app(&long_lived, None).await.unwrap();
    let rotated = SecretRecord {
        hash: SecretHash::of("s2"),
        created_at: 300,
        expires_at: None,
    };
    store
        .replace_secret(DEFAULT_TENANT, "c2", rotated, Some(900), None)
        .await
        .unwrap();
    let disabled = AppRecord {
        tenant: "acme".into(),
        enabled: false,
        tokens_revoked_before: Some(400),
        ..with_settings(app("a1", "acme app"), |s| s.can_introspect = true)
    };
    store.create_app(&disabled, None).await.unwrap();

    // k1 retired, k2 retiring, k3 active, k4 next with its instant set.
    store.insert_key(&key("k1"), None).await.unwrap();
    for (next, at) in [("k2", 200), ("k3", 300)] {
        store
            .insert_key(&key_with(next, KeyStatus::Next), None)
            .await
            .unwrap();
        store
            .promote_key(DEFAULT_TENANT, next, at, at + 600, None)
            .await
            .unwrap();
    }
    store.retire_key("k1", 850).await.unwrap();
    let scheduled = KeyRecord {
        activate_at: Some(2_000),
        ..key_with("k4", KeyStatus::Next)
    };
    store
        .insert_key(&scheduled, Some(&event("key.rotate", "k4")))
        .await
        .unwrap();

    store
        .revoke_token(
            &revocation("live", 5_000),
            Some(&event("token.revoke", "live")),
        )
        .await
        .unwrap();
    store
        .revoke_token(&revocation("expired", 500), None)
        .await
        .unwrap();
}

/// Exports `source` and imports the dump into `target`, whose export must then be the same.
pub(super) async fn copy(source: &dyn Store, target: &dyn Store) -> Dump {
    let dump = source.export(NOW).await.unwrap();
    target.import(&dump).await.unwrap();
    assert_eq!(target.export(NOW).await.unwrap(), dump);
    dump
}

pub(super) async fn an_export_imported_into_a_new_store_exports_the_same(
    source: &dyn Store,
    target: &dyn Store,
) {
    fill(source).await;
    let dump = source.export(NOW).await.unwrap();

    let names = |records: &[TenantRecord]| -> Vec<String> {
        records.iter().map(|t| t.name.clone()).collect()
    };
    assert_eq!(names(&dump.tenants), ["acme", "default"]);
    assert_eq!(dump.tenants, source.tenants().await.unwrap());
    let ids: Vec<&str> = dump.apps.iter().map(|a| a.client_id.as_str()).collect();
    assert_eq!(ids, ["a1", "c1", "c2"]);
    let grace = &dump.apps[2].secrets;
    assert_eq!(
        grace.iter().map(|s| s.expires_at).collect::<Vec<_>>(),
        [Some(900), None],
        "the old secret in its grace period, then the new one"
    );
    let states: Vec<(&str, KeyStatus)> = dump
        .keys
        .iter()
        .map(|k| (k.kid.as_str(), k.status))
        .collect();
    assert_eq!(
        states,
        [
            ("acme-k1", KeyStatus::Active),
            ("k1", KeyStatus::Retired),
            ("k2", KeyStatus::Retiring),
            ("k3", KeyStatus::Active),
            ("k4", KeyStatus::Next),
        ]
    );
    assert_eq!(dump.revocations, [revocation("live", 5_000)]);
    let actions: Vec<&str> = dump.audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["tenant.create", "app.create", "key.rotate", "token.revoke"]
    );

    let before = target.latest_change().await.unwrap();
    target.import(&dump).await.unwrap();
    assert_eq!(target.export(NOW).await.unwrap(), dump);
    assert_eq!(
        target.app(DEFAULT_TENANT, "c2").await.unwrap(),
        source.app(DEFAULT_TENANT, "c2").await.unwrap()
    );
    assert_eq!(
        target.max_token_ttl(DEFAULT_TENANT).await.unwrap(),
        Some(3_600),
        "retiring keys stay published as long as the longest imported TTL"
    );
    // Nodes following the target's log learn of every tenant, and so reload them.
    let changes = target.changes_since(before, 1_000).await.unwrap();
    for name in ["acme", "default"] {
        assert!(
            changes
                .iter()
                .any(|c| c.entity == ChangedEntity::Tenant && c.id == name),
            "{name} is announced: {changes:?}"
        );
    }
    let mut clients = Vec::new();
    target
        .scan_clients(&mut |scanned| clients.push(scanned.client.client_id))
        .await
        .unwrap();
    clients.sort();
    assert_eq!(clients, ["a1", "c1", "c2"]);
}

pub(super) async fn an_import_refuses_a_store_with_an_app_or_a_key_and_writes_nothing(
    source: &dyn Store,
    target: &dyn Store,
) {
    fill(source).await;
    let dump = source.export(NOW).await.unwrap();
    target
        .create_app(
            &app("mine", "already here"),
            Some(&event("app.create", "mine")),
        )
        .await
        .unwrap();
    let before = target.export(NOW).await.unwrap();
    let seq = target.latest_change().await.unwrap();

    let refused = target.import(&dump).await;
    match &refused {
        Err(StoreError::NotEmpty(message)) => {
            assert!(message.contains("already holds 1 app(s)"), "{message}")
        }
        other => panic!("expected NotEmpty, got {other:?}"),
    }
    assert_eq!(target.export(NOW).await.unwrap(), before);
    assert_eq!(target.latest_change().await.unwrap(), seq);

    target
        .delete_app(DEFAULT_TENANT, "mine", None)
        .await
        .unwrap();
    target.insert_key(&key("mine"), None).await.unwrap();
    assert!(
        matches!(target.import(&dump).await, Err(StoreError::NotEmpty(_))),
        "a signing key alone makes a store a deployment"
    );
    assert_eq!(target.export(NOW).await.unwrap().apps, []);
}

pub(super) async fn after_an_import_every_kind_of_write_goes_on(
    source: &dyn Store,
    target: &dyn Store,
) {
    fill(source).await;
    let dump = source.export(NOW).await.unwrap();
    target.import(&dump).await.unwrap();
    let seq = target.latest_change().await.unwrap();

    target
        .create_app(&app("new", "after"), Some(&event("app.create", "new")))
        .await
        .unwrap();
    let mut imported = target.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    imported.name = "renamed".into();
    target.update_app(&imported, None).await.unwrap();
    let stale = target.update_app(&imported, None).await;
    assert!(
        matches!(stale, Err(StoreError::ChangedConcurrently(_))),
        "the imported revision still guards updates: {stale:?}"
    );
    let secret = SecretRecord {
        hash: SecretHash::of("s3"),
        created_at: 1_100,
        expires_at: None,
    };
    target
        .replace_secret(DEFAULT_TENANT, "c2", secret, None, None)
        .await
        .unwrap();
    assert_eq!(
        target
            .app(DEFAULT_TENANT, "c2")
            .await
            .unwrap()
            .unwrap()
            .secrets,
        [secret]
    );
    // The next key of the import is promoted, and a new one takes its place.
    assert!(
        target
            .promote_key(DEFAULT_TENANT, "k4", 1_200, 1_800, None)
            .await
            .unwrap()
    );
    assert!(
        target
            .insert_key(&key_with("k5", KeyStatus::Next), None)
            .await
            .unwrap()
    );
    let newest = target.signing_keys(DEFAULT_TENANT).await.unwrap();
    assert_eq!(
        newest[0].kid, "k5",
        "a new key lists after the imported ones"
    );
    target
        .revoke_token(
            &revocation("later", 5_000),
            Some(&event("token.revoke", "later")),
        )
        .await
        .unwrap();

    let trail = target.export(NOW).await.unwrap().audit;
    let last = &trail[trail.len() - 2..];
    assert_eq!(
        last.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["app.create", "token.revoke"]
    );
    let imported_ids = dump.audit.iter().map(|e| e.id).max().unwrap();
    assert!(
        last.iter().all(|e| e.id > imported_ids),
        "new events are numbered after the imported ones: {trail:?}"
    );
    let changes = target.changes_since(seq, 100).await.unwrap();
    for id in ["new", "c1", "c2", "k4", "k5", "later"] {
        assert!(
            changes.iter().any(|c| c.id == id),
            "{id} is in the change log: {changes:?}"
        );
    }
}

pub(super) async fn an_import_replaces_tenants_of_its_names_and_keeps_the_others(
    source: &dyn Store,
    target: &dyn Store,
) {
    fill(source).await;
    let dump = source.export(NOW).await.unwrap();
    let taken = tenant("other", &["a.acme.test"]);
    target.create_tenant(&taken, None, None).await.unwrap();
    let before = target.export(NOW).await.unwrap();

    let refused = target.import(&dump).await;
    assert!(
        matches!(&refused, Err(StoreError::Duplicate(message)) if message.contains("a.acme.test")),
        "a domain the target's own tenant serves: {refused:?}"
    );
    assert_eq!(target.export(NOW).await.unwrap(), before, "nothing written");

    let kept = tenant("other", &["other.test"]);
    target.update_tenant(&kept, None).await.unwrap();
    target.import(&dump).await.unwrap();
    let tenants = target.tenants().await.unwrap();
    let names: Vec<&str> = tenants.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["acme", "default", "other"]);
    assert_eq!(
        tenants[1], dump.tenants[1],
        "the dump's default replaced the target's"
    );
    assert_eq!(tenants[2], kept);
}
