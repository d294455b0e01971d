//! One behaviour suite for every `Store`: each check takes `&dyn Store`, and the test at the end
//! runs them against SQLite in a temporary directory (PostgreSQL joins it with its own store).

use crate::*;
use latchkey_protocol::client::{ClientType, GrantType};
use latchkey_protocol::{Scope, SecretHash, TokenProfile};

pub(crate) fn app(client_id: &str, name: &str) -> AppRecord {
    AppRecord {
        client_id: client_id.into(),
        tenant: DEFAULT_TENANT.into(),
        name: name.into(),
        app_type: ClientType::M2m,
        enabled: true,
        scopes: vec![
            Scope::parse("read").unwrap(),
            Scope::parse("write").unwrap(),
        ],
        default_scopes: vec![Scope::parse("read").unwrap()],
        grant_types: vec![GrantType::ClientCredentials],
        token_ttl: 300,
        can_introspect: false,
        tokens_revoked_before: None,
        token_reuse_percent: None,
        audiences: Vec::new(),
        custom_claims: None,
        revision: 1,
        created_at: 100,
        updated_at: 100,
        secrets: vec![SecretRecord {
            hash: SecretHash::of("s1"),
            created_at: 100,
            expires_at: None,
        }],
    }
}

fn key(kid: &str) -> KeyRecord {
    key_with(kid, KeyStatus::Active)
}

fn key_with(kid: &str, status: KeyStatus) -> KeyRecord {
    KeyRecord {
        kid: kid.into(),
        tenant: DEFAULT_TENANT.into(),
        alg: "RS256".into(),
        status,
        private_key: vec![1, 2, 3],
        master_key_id: Some("mk1".into()),
        created_at: 100,
        activated_at: (status == KeyStatus::Active).then_some(100),
        activate_at: None,
        retire_at: None,
        retired_at: None,
    }
}

fn revocation(jti: &str, expires_at: i64) -> RevocationRecord {
    RevocationRecord {
        jti: jti.into(),
        tenant: DEFAULT_TENANT.into(),
        client_id: Some("c1".into()),
        expires_at,
        revoked_at: 100,
    }
}

async fn default_tenant_exists(store: &dyn Store) {
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
}

fn tenant(name: &str, domains: &[&str]) -> TenantRecord {
    TenantRecord {
        name: name.into(),
        domains: domains.iter().map(|d| (*d).to_owned()).collect(),
        issuer: None,
        token_profile: TokenProfile::Seed,
        publish_scopes: true,
        created_at: 100,
        updated_at: 100,
    }
}

async fn tenants_keep_their_domains_in_order(store: &dyn Store) {
    store
        .create_tenant(&tenant("acme", &["b.acme.test", "a.acme.test"]), None)
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
    store.update_tenant(&changed).await.unwrap();
    assert_eq!(store.tenant("acme").await.unwrap().unwrap(), changed);
    assert_eq!(store.tenant("nope").await.unwrap(), None);
    assert!(matches!(
        store.update_tenant(&tenant("nope", &[])).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_tenant_and_its_first_key_are_created_together_or_not_at_all(store: &dyn Store) {
    let first = KeyRecord {
        tenant: "acme".into(),
        ..key("acme-1")
    };
    store
        .create_tenant(&tenant("acme", &["acme.test"]), Some(&first))
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
            .create_tenant(&tenant("globex", &["acme.test"]), Some(&refused))
            .await,
        Err(StoreError::Duplicate(_))
    ));
    assert!(store.signing_keys("globex").await.unwrap().is_empty());
}

async fn a_domain_or_name_belongs_to_one_tenant(store: &dyn Store) {
    store
        .create_tenant(&tenant("acme", &["acme.test"]), None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_tenant(&tenant("acme", &["other.test"]), None)
            .await,
        Err(StoreError::Duplicate(_))
    ));
    assert!(matches!(
        store
            .create_tenant(&tenant("globex", &["acme.test"]), None)
            .await,
        Err(StoreError::Duplicate(_))
    ));
    // The refused create left nothing behind.
    assert_eq!(store.tenant("globex").await.unwrap(), None);
    store
        .create_tenant(&tenant("globex", &["globex.test"]), None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .update_tenant(&tenant("globex", &["globex.test", "acme.test"]))
            .await,
        Err(StoreError::Duplicate(_))
    ));
    // The refused update kept the old domains.
    assert_eq!(
        store.tenant("globex").await.unwrap().unwrap().domains,
        ["globex.test"]
    );
}

async fn deleting_a_tenant_with_apps_needs_force(store: &dyn Store) {
    store
        .create_tenant(&tenant("acme", &["acme.test"]), None)
        .await
        .unwrap();
    let mut acme_app = app("c1", "one");
    acme_app.tenant = "acme".into();
    store.create_app(&acme_app).await.unwrap();
    let mut acme_key = key("k1");
    acme_key.tenant = "acme".into();
    assert!(store.insert_key(&acme_key).await.unwrap());
    assert!(matches!(
        store.delete_tenant("acme", false).await,
        Err(StoreError::InUse(_))
    ));
    assert!(store.app("acme", "c1").await.unwrap().is_some());
    store.delete_tenant("acme", true).await.unwrap();
    assert_eq!(store.tenant("acme").await.unwrap(), None);
    assert_eq!(store.app("acme", "c1").await.unwrap(), None);
    assert!(store.signing_keys("acme").await.unwrap().is_empty());
    assert!(matches!(
        store.delete_tenant("acme", true).await,
        Err(StoreError::NotFound(_))
    ));
    // The domain is free again.
    store
        .create_tenant(&tenant("globex", &["acme.test"]), None)
        .await
        .unwrap();
}

async fn app_listing_filters_and_pages(store: &dyn Store) {
    for (id, name, enabled) in [
        ("c1", "Billing", true),
        ("c2", "billing-batch", false),
        ("c3", "Search", true),
    ] {
        let mut record = app(id, name);
        record.enabled = enabled;
        store.create_app(&record).await.unwrap();
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

async fn audiences_and_claims_are_stored(store: &dyn Store) {
    let mut record = app("c1", "one");
    record.audiences = vec!["https://api.test".into(), "urn:orders".into()];
    record.custom_claims = Some(r#"{"tier":"gold"}"#.into());
    store.create_app(&record).await.unwrap();
    assert_eq!(
        store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap(),
        record
    );
    record.audiences = vec![];
    record.custom_claims = None;
    store.update_app(&record).await.unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!((read.audiences.len(), read.custom_claims), (0, None));
}

async fn audit_events_read_back_in_order_and_filter(store: &dyn Store) {
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

async fn created_app_reads_back_with_its_secret(store: &dyn Store) {
    store.create_app(&app("c1", "one")).await.unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(read, app("c1", "one"));
    assert_eq!(store.app("other-tenant", "c1").await.unwrap(), None);
}

async fn duplicate_client_id_is_a_conflict(store: &dyn Store) {
    store.create_app(&app("c1", "one")).await.unwrap();
    assert!(matches!(
        store.create_app(&app("c1", "two")).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn app_in_unknown_tenant_is_not_found(store: &dyn Store) {
    let record = AppRecord {
        tenant: "nope".into(),
        ..app("c1", "one")
    };
    assert!(matches!(
        store.create_app(&record).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn max_token_ttl_is_the_longest_the_tenant_ever_had(store: &dyn Store) {
    assert_eq!(store.max_token_ttl(DEFAULT_TENANT).await.unwrap(), None);
    store.create_app(&app("c1", "one")).await.unwrap();
    store
        .create_app(&AppRecord {
            token_ttl: 900,
            ..app("c2", "two")
        })
        .await
        .unwrap();
    assert_eq!(
        store.max_token_ttl(DEFAULT_TENANT).await.unwrap(),
        Some(900)
    );
    // Tokens issued at 900 s outlive a later, shorter TTL or the app itself.
    let mut shortened = store.app(DEFAULT_TENANT, "c2").await.unwrap().unwrap();
    shortened.token_ttl = 60;
    store.update_app(&shortened).await.unwrap();
    assert_eq!(
        store.max_token_ttl(DEFAULT_TENANT).await.unwrap(),
        Some(900)
    );
    store.delete_app(DEFAULT_TENANT, "c2").await.unwrap();
    assert_eq!(
        store.max_token_ttl(DEFAULT_TENANT).await.unwrap(),
        Some(900)
    );
    assert_eq!(store.max_token_ttl("no-such-tenant").await.unwrap(), None);
}

async fn apps_list_in_name_order(store: &dyn Store) {
    store.create_app(&app("c2", "beta")).await.unwrap();
    store.create_app(&app("c1", "alpha")).await.unwrap();
    let names: Vec<String> = store
        .apps(DEFAULT_TENANT)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
}

async fn update_bumps_revision_and_refuses_stale_writes(store: &dyn Store) {
    store.create_app(&app("c1", "one")).await.unwrap();
    let mut record = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    record.name = "renamed".into();
    record.enabled = false;
    store.update_app(&record).await.unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(
        (read.name.as_str(), read.enabled, read.revision),
        ("renamed", false, 2)
    );
    // `record` still carries revision 1: a second write from it lost the race.
    assert!(matches!(
        store.update_app(&record).await,
        Err(StoreError::Conflict(_))
    ));
    let missing = AppRecord {
        client_id: "zz".into(),
        ..record
    };
    assert!(matches!(
        store.update_app(&missing).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn delete_removes_app_and_secrets(store: &dyn Store) {
    store.create_app(&app("c1", "one")).await.unwrap();
    store.delete_app(DEFAULT_TENANT, "c1").await.unwrap();
    assert_eq!(store.app(DEFAULT_TENANT, "c1").await.unwrap(), None);
    assert!(matches!(
        store.delete_app(DEFAULT_TENANT, "c1").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn replace_secret_without_grace_drops_the_old_one(store: &dyn Store) {
    store.create_app(&app("c1", "one")).await.unwrap();
    let new = SecretRecord {
        hash: SecretHash::of("s2"),
        created_at: 200,
        expires_at: None,
    };
    store
        .replace_secret(DEFAULT_TENANT, "c1", new, None)
        .await
        .unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(read.secrets, vec![new]);
    assert!(matches!(
        store.replace_secret(DEFAULT_TENANT, "zz", new, None).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn replace_secret_with_grace_keeps_the_old_one_until_its_end(store: &dyn Store) {
    store.create_app(&app("c1", "one")).await.unwrap();
    let new = SecretRecord {
        hash: SecretHash::of("s2"),
        created_at: 200,
        expires_at: None,
    };
    store
        .replace_secret(DEFAULT_TENANT, "c1", new, Some(3800))
        .await
        .unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(read.secrets.len(), 2);
    assert_eq!(read.secrets[0].expires_at, Some(3800));
    assert_eq!(read.secrets[1], new);
}

async fn first_key_is_inserted_once(store: &dyn Store) {
    assert!(store.insert_key(&key("k1")).await.unwrap());
    assert!(!store.insert_key(&key("k2")).await.unwrap());
    let keys = store.signing_keys(DEFAULT_TENANT).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (
            keys[0].kid.as_str(),
            keys[0].status,
            keys[0].private_key.as_slice()
        ),
        ("k1", KeyStatus::Active, &[1u8, 2, 3][..])
    );
}

async fn every_write_appends_a_change(store: &dyn Store) {
    let start = store.latest_change().await.unwrap();
    store.create_app(&app("c1", "one")).await.unwrap();
    store.insert_key(&key("k1")).await.unwrap();
    store.revoke_token(&revocation("j1", 500)).await.unwrap();
    store.delete_app(DEFAULT_TENANT, "c1").await.unwrap();
    let changes = store.changes_since(start, 100).await.unwrap();
    assert!(changes.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    let seen: Vec<(ChangedEntity, &str)> =
        changes.iter().map(|c| (c.entity, c.id.as_str())).collect();
    assert!(seen.contains(&(ChangedEntity::App, "c1")));
    assert!(seen.contains(&(ChangedEntity::Key, "k1")));
    assert!(seen.contains(&(ChangedEntity::Revocation, "j1")));
    assert_eq!(
        store.latest_change().await.unwrap(),
        changes.last().unwrap().seq
    );
    assert_eq!(store.changes_since(start, 1).await.unwrap().len(), 1);
}

async fn apps_by_id_returns_those_that_exist(store: &dyn Store) {
    store.create_app(&app("c1", "one")).await.unwrap();
    store.create_app(&app("c2", "two")).await.unwrap();
    let mut found = store
        .apps_by_id(&["c2".into(), "gone".into(), "c1".into()])
        .await
        .unwrap();
    found.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    assert_eq!(found, vec![app("c1", "one"), app("c2", "two")]);
}

/// What a snapshot scan hands over, in client id order (a scan promises no order).
async fn scan(store: &dyn Store) -> Vec<ScannedClient> {
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

async fn scan_hands_over_every_app_with_all_its_secrets(store: &dyn Store) {
    // Apps without secrets and with two next to apps with one, created out of id order.
    store.create_app(&app("c2", "two")).await.unwrap();
    let public = AppRecord {
        app_type: ClientType::Spa,
        grant_types: vec![],
        secrets: vec![],
        ..app("c3", "spa")
    };
    store.create_app(&public).await.unwrap();
    store.create_app(&app("c1", "one")).await.unwrap();
    let new = SecretRecord {
        hash: SecretHash::of("s2"),
        created_at: 200,
        expires_at: None,
    };
    store
        .replace_secret(DEFAULT_TENANT, "c2", new, Some(3800))
        .await
        .unwrap();
    store.create_app(&app("c4", "four")).await.unwrap();
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

async fn scan_reads_every_setting_of_every_app_once(store: &dyn Store) {
    // Apps in two tenants, created in an order unlike their ids', with every setting a snapshot
    // needs set somewhere.
    store
        .create_tenant(&tenant("acme", &["acme.test"]), None)
        .await
        .unwrap();
    let mut expected = Vec::new();
    for i in (0..11).rev() {
        let mut record = app(&format!("c{i:02}"), &format!("app {i}"));
        if i % 4 == 1 {
            record.tenant = "acme".into();
        }
        record.enabled = i % 2 == 0;
        record.can_introspect = i % 3 == 0;
        record.token_reuse_percent = (i == 5).then_some(80);
        record.tokens_revoked_before = (i == 7).then_some(150);
        record.audiences = vec![format!("urn:app:{i}")];
        record.custom_claims = (i == 4).then(|| r#"{"n":4}"#.to_owned());
        if i == 6 {
            record.scopes.push(Scope::parse("admin").unwrap());
            record.grant_types.push(GrantType::RefreshToken);
        }
        store.create_app(&record).await.unwrap();
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

async fn app_count_counts_the_apps_of_every_tenant(store: &dyn Store) {
    assert_eq!(store.app_count().await.unwrap(), 0);
    store
        .create_tenant(&tenant("acme", &["acme.test"]), None)
        .await
        .unwrap();
    store.create_app(&app("c1", "one")).await.unwrap();
    store.create_app(&app("c2", "two")).await.unwrap();
    let mut other = app("c3", "three");
    other.tenant = "acme".into();
    store.create_app(&other).await.unwrap();
    assert_eq!(store.app_count().await.unwrap(), 3);
    store.delete_app(DEFAULT_TENANT, "c1").await.unwrap();
    assert_eq!(store.app_count().await.unwrap(), 2);
}

async fn purge_drops_old_changes_only(store: &dyn Store) {
    store.create_app(&app("c1", "one")).await.unwrap();
    assert_eq!(store.purge_changes(0).await.unwrap(), 0);
    assert!(store.purge_changes(i64::MAX).await.unwrap() >= 1);
    assert!(store.changes_since(0, 10).await.unwrap().is_empty());
    // Sequence numbers keep increasing after a purge.
    let before = store.latest_change().await.unwrap();
    store.delete_app(DEFAULT_TENANT, "c1").await.unwrap();
    let after = store.changes_since(0, 10).await.unwrap();
    assert!(
        after
            .iter()
            .all(|change| change.seq > before || before == 0)
    );
}

async fn only_one_next_key_per_tenant(store: &dyn Store) {
    assert!(
        store
            .insert_key(&key_with("n1", KeyStatus::Next))
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_key(&key_with("n2", KeyStatus::Next))
            .await
            .unwrap()
    );
}

async fn promotion_makes_next_active_and_active_retiring(store: &dyn Store) {
    store.insert_key(&key("k1")).await.unwrap();
    store
        .insert_key(&key_with("k2", KeyStatus::Next))
        .await
        .unwrap();
    assert!(
        !store
            .promote_key(DEFAULT_TENANT, "k1", 200, 900)
            .await
            .unwrap(),
        "k1 is not a next key"
    );
    assert!(
        store
            .promote_key(DEFAULT_TENANT, "k2", 200, 900)
            .await
            .unwrap()
    );
    let keys = store.signing_keys(DEFAULT_TENANT).await.unwrap();
    let status = |kid: &str| {
        keys.iter()
            .find(|k| k.kid == kid)
            .map(|k| (k.status, k.retire_at, k.activated_at))
    };
    assert_eq!(
        status("k1"),
        Some((KeyStatus::Retiring, Some(900), Some(100)))
    );
    assert_eq!(status("k2"), Some((KeyStatus::Active, None, Some(200))));
}

async fn only_a_next_key_is_scheduled_and_its_time_reads_back(store: &dyn Store) {
    store.insert_key(&key("k1")).await.unwrap();
    let mut scheduled = key_with("k2", KeyStatus::Next);
    scheduled.activate_at = Some(700);
    store.insert_key(&scheduled).await.unwrap();
    let activate_at = |keys: &[KeyRecord], kid: &str| {
        keys.iter()
            .find(|k| k.kid == kid)
            .and_then(|k| k.activate_at)
    };
    let keys = store.signing_keys(DEFAULT_TENANT).await.unwrap();
    assert_eq!(activate_at(&keys, "k2"), Some(700));

    assert!(!store.schedule_key(DEFAULT_TENANT, "k1", 800).await.unwrap());
    assert!(!store.schedule_key("acme", "k2", 800).await.unwrap());
    assert!(store.schedule_key(DEFAULT_TENANT, "k2", 800).await.unwrap());
    let keys = store.signing_keys(DEFAULT_TENANT).await.unwrap();
    assert_eq!(activate_at(&keys, "k1"), None);
    assert_eq!(activate_at(&keys, "k2"), Some(800));
}

async fn retiring_keys_retire_and_inactive_keys_delete(store: &dyn Store) {
    store.insert_key(&key("k1")).await.unwrap();
    store
        .insert_key(&key_with("k2", KeyStatus::Next))
        .await
        .unwrap();
    store
        .promote_key(DEFAULT_TENANT, "k2", 200, 900)
        .await
        .unwrap();
    assert!(
        !store.retire_key("k2", 1000).await.unwrap(),
        "an active key does not retire"
    );
    assert!(store.retire_key("k1", 1000).await.unwrap());
    assert!(
        !store.delete_key("k2").await.unwrap(),
        "an active key is never deleted"
    );
    assert!(store.delete_key("k1").await.unwrap());
    assert_eq!(store.all_signing_keys().await.unwrap().len(), 1);
}

async fn keys_created_in_the_same_second_list_newest_first(store: &dyn Store) {
    store.insert_key(&key("z-first")).await.unwrap();
    store
        .insert_key(&key_with("a-second", KeyStatus::Next))
        .await
        .unwrap();
    let kids: Vec<String> = store
        .signing_keys(DEFAULT_TENANT)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, ["a-second", "z-first"]);
}

async fn reseal_replaces_only_keys_sealed_by_the_old_master_key(store: &dyn Store) {
    store.insert_key(&key("k1")).await.unwrap();
    assert!(
        !store
            .reseal_key("k1", Some("other"), &[9], "mk2")
            .await
            .unwrap()
    );
    assert!(
        store
            .reseal_key("k1", Some("mk1"), &[9], "mk2")
            .await
            .unwrap()
    );
    let keys = store.signing_keys(DEFAULT_TENANT).await.unwrap();
    assert_eq!(
        (
            keys[0].private_key.as_slice(),
            keys[0].master_key_id.as_deref()
        ),
        (&[9u8][..], Some("mk2"))
    );
}

async fn revocations_are_kept_until_their_token_expires(store: &dyn Store) {
    store.revoke_token(&revocation("j1", 500)).await.unwrap();
    store.revoke_token(&revocation("j1", 500)).await.unwrap();
    store.revoke_token(&revocation("j2", 900)).await.unwrap();
    assert_eq!(
        store
            .revocations(&["j1".into(), "zz".into()])
            .await
            .unwrap(),
        vec![revocation("j1", 500)]
    );
    assert_eq!(
        store.live_revocations(600).await.unwrap(),
        vec![revocation("j2", 900)]
    );
    assert_eq!(store.purge_revocations(600).await.unwrap(), 1);
    assert_eq!(
        store
            .revocations(&["j1".into(), "j2".into()])
            .await
            .unwrap(),
        vec![revocation("j2", 900)]
    );
}

async fn a_jti_revoked_in_two_tenants_is_two_revocations(store: &dyn Store) {
    let other = RevocationRecord {
        tenant: "acme".into(),
        client_id: None,
        expires_at: 700,
        ..revocation("j1", 500)
    };
    store.revoke_token(&other).await.unwrap();
    store.revoke_token(&revocation("j1", 500)).await.unwrap();
    store.revoke_token(&other).await.unwrap();
    let mut found = store.revocations(&["j1".into()]).await.unwrap();
    found.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    assert_eq!(found, vec![other.clone(), revocation("j1", 500)]);
    assert_eq!(store.live_revocations(600).await.unwrap(), vec![other]);
}

async fn introspection_permission_and_app_revocation_are_stored(store: &dyn Store) {
    let record = AppRecord {
        can_introspect: true,
        tokens_revoked_before: Some(150),
        ..app("c1", "one")
    };
    store.create_app(&record).await.unwrap();
    let mut read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(
        (read.can_introspect, read.tokens_revoked_before),
        (true, Some(150))
    );
    read.can_introspect = false;
    read.tokens_revoked_before = Some(300);
    store.update_app(&read).await.unwrap();
    let read = store.app(DEFAULT_TENANT, "c1").await.unwrap().unwrap();
    assert_eq!(
        (read.can_introspect, read.tokens_revoked_before),
        (false, Some(300))
    );
}

macro_rules! sqlite_suite {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $check() {
                    let dir = tempfile::tempdir().unwrap();
                    let url = format!("sqlite://{}", dir.path().join("t.db").display());
                    let store = crate::SqliteStore::open(&url).await.unwrap();
                    super::$check(&store).await;
                }
            )*
        }
    };
}

sqlite_suite!(
    default_tenant_exists,
    created_app_reads_back_with_its_secret,
    duplicate_client_id_is_a_conflict,
    app_in_unknown_tenant_is_not_found,
    apps_list_in_name_order,
    max_token_ttl_is_the_longest_the_tenant_ever_had,
    update_bumps_revision_and_refuses_stale_writes,
    delete_removes_app_and_secrets,
    replace_secret_without_grace_drops_the_old_one,
    replace_secret_with_grace_keeps_the_old_one_until_its_end,
    first_key_is_inserted_once,
    every_write_appends_a_change,
    apps_by_id_returns_those_that_exist,
    purge_drops_old_changes_only,
    scan_hands_over_every_app_with_all_its_secrets,
    scan_reads_every_setting_of_every_app_once,
    app_count_counts_the_apps_of_every_tenant,
    only_one_next_key_per_tenant,
    promotion_makes_next_active_and_active_retiring,
    only_a_next_key_is_scheduled_and_its_time_reads_back,
    retiring_keys_retire_and_inactive_keys_delete,
    keys_created_in_the_same_second_list_newest_first,
    reseal_replaces_only_keys_sealed_by_the_old_master_key,
    revocations_are_kept_until_their_token_expires,
    a_jti_revoked_in_two_tenants_is_two_revocations,
    introspection_permission_and_app_revocation_are_stored,
    tenants_keep_their_domains_in_order,
    a_domain_or_name_belongs_to_one_tenant,
    a_tenant_and_its_first_key_are_created_together_or_not_at_all,
    deleting_a_tenant_with_apps_needs_force,
    app_listing_filters_and_pages,
    audiences_and_claims_are_stored,
    audit_events_read_back_in_order_and_filter,
);
