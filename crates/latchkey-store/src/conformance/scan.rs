//! The snapshot scan: every app, every setting, every secret, once.

use super::*;

/// What a snapshot scan hands over, in client id order (a scan promises no order).
pub(super) async fn scan(store: &dyn Store) -> Vec<ScannedClient> {
    let mut scanned = Vec::new();
    store
        .scan_clients(&mut |client| scanned.push(client))
        .await
        .unwrap();
    scanned.sort_by(|a, b| a.client.client_id.cmp(&b.client.client_id));
    scanned
}

/// What a scan must hand over for a record.
fn scanned(record: &AppRecord) -> ScannedClient {
    ScannedClient {
        tenant: record.tenant.as_str().into(),
        client: record.clone().into_client(),
    }
}

pub(super) async fn scan_hands_over_every_app_with_all_its_secrets(store: &dyn Store) {
    // Apps without secrets and with two next to apps with one, created out of id order.
    store.create_app(&app("c2", "two"), None).await.unwrap();
    let public = AppRecord {
        settings: AppSettings {
            grant_types: vec![],
            ..AppSettings::new(ClientType::Spa)
        },
        secrets: vec![],
        ..app("c3", "spa")
    };
    store.create_app(&public, None).await.unwrap();
    store.create_app(&app("c1", "one"), None).await.unwrap();
    let new = SecretRecord {
        hash: SecretHash::of("s2"),
        created_at: 200,
        expires_at: None,
    };
    store
        .replace_secret(DEFAULT_TENANT, "c2", new, Some(3800), None)
        .await
        .unwrap();
    store.create_app(&app("c4", "four"), None).await.unwrap();
    let seen: Vec<(String, usize)> = scan(store)
        .await
        .iter()
        .map(|s| (s.client.client_id.clone(), s.client.secrets.len()))
        .collect();
    assert_eq!(
        seen,
        [
            ("c1".to_owned(), 1),
            ("c2".to_owned(), 2),
            ("c3".to_owned(), 0),
            ("c4".to_owned(), 1),
        ]
    );
    // The rotated app's secrets in the order they were added: the old one (now expiring) first.
    let rotated = store.app(DEFAULT_TENANT, "c2").await.unwrap().unwrap();
    assert_eq!(rotated.secrets[0].expires_at, Some(3800));
    assert_eq!(scan(store).await[1], scanned(&rotated));
}

pub(super) async fn scan_reads_every_setting_of_every_app_once(store: &dyn Store) {
    // Apps in two tenants, created in an order unlike their ids', with every setting a snapshot
    // needs set somewhere.
    store
        .create_tenant(&tenant("acme", &["acme.test"]), None, None)
        .await
        .unwrap();
    let mut expected = Vec::new();
    for i in (0..11).rev() {
        let mut record = app(&format!("c{i:02}"), &format!("app {i}"));
        if i % 4 == 1 {
            record.tenant = "acme".into();
        }
        record.enabled = i % 2 == 0;
        record.settings.can_introspect = i % 3 == 0;
        record.settings.token_reuse_percent = (i == 5).then_some(80);
        record.settings.rate_limit = (i == 8).then(|| "3/min".parse().unwrap());
        record.settings.rate_limit_monitor = i == 9;
        record.tokens_revoked_before = (i == 7).then_some(150);
        record.settings.audiences = vec![format!("urn:app:{i}")];
        record.settings.custom_claims = (i == 4).then(|| r#"{"n":4}"#.to_owned());
        if i == 6 {
            record.settings.scopes.push(Scope::parse("admin").unwrap());
            record.settings.grant_types.push(GrantType::RefreshToken);
        }
        store.create_app(&record, None).await.unwrap();
        expected.push(scanned(&record));
    }
    expected.sort_by(|a, b| a.client.client_id.cmp(&b.client.client_id));
    let scanned = scan(store).await;
    assert_eq!(scanned, expected);
    assert!(scanned[4].client.custom_claims.is_some());
    // One copy of each tenant name and scope text, however many apps name it.
    assert!(Arc::ptr_eq(&scanned[1].tenant, &scanned[5].tenant));
    assert!(Arc::ptr_eq(&scanned[0].tenant, &scanned[2].tenant));
    assert_eq!(&*scanned[1].tenant, "acme");
    let text = |s: &ScannedClient| s.client.scopes[0].as_str().as_ptr();
    assert_eq!(text(&scanned[0]), text(&scanned[10]));
}
