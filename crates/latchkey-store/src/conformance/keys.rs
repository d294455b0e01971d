//! Signing keys: one active and one next key per tenant, and the life-cycle moves.

use super::*;

pub(super) async fn first_key_is_inserted_once(store: &dyn Store) {
    assert!(store.insert_key(&key("k1"), None).await.unwrap());
    assert!(!store.insert_key(&key("k2"), None).await.unwrap());
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

pub(super) async fn only_one_next_key_per_tenant(store: &dyn Store) {
    assert!(
        store
            .insert_key(&key_with("n1", KeyStatus::Next), None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_key(&key_with("n2", KeyStatus::Next), None)
            .await
            .unwrap()
    );
}

pub(super) async fn promotion_makes_next_active_and_active_retiring(store: &dyn Store) {
    store.insert_key(&key("k1"), None).await.unwrap();
    store
        .insert_key(&key_with("k2", KeyStatus::Next), None)
        .await
        .unwrap();
    assert!(
        !store
            .promote_key(DEFAULT_TENANT, "k1", 200, 900, None)
            .await
            .unwrap(),
        "k1 is not a next key"
    );
    assert!(
        store
            .promote_key(DEFAULT_TENANT, "k2", 200, 900, None)
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

pub(super) async fn only_a_next_key_is_scheduled_and_its_time_reads_back(store: &dyn Store) {
    store.insert_key(&key("k1"), None).await.unwrap();
    let mut scheduled = key_with("k2", KeyStatus::Next);
    scheduled.activate_at = Some(700);
    store.insert_key(&scheduled, None).await.unwrap();
    let activate_at = |keys: &[KeyRecord], kid: &str| {
        keys.iter()
            .find(|k| k.kid == kid)
            .and_then(|k| k.activate_at)
    };
    let keys = store.signing_keys(DEFAULT_TENANT).await.unwrap();
    assert_eq!(activate_at(&keys, "k2"), Some(700));

    assert!(
        !store
            .schedule_key(DEFAULT_TENANT, "k1", 800, None)
            .await
            .unwrap()
    );
    assert!(!store.schedule_key("acme", "k2", 800, None).await.unwrap());
    assert!(
        store
            .schedule_key(DEFAULT_TENANT, "k2", 800, None)
            .await
            .unwrap()
    );
    let keys = store.signing_keys(DEFAULT_TENANT).await.unwrap();
    assert_eq!(activate_at(&keys, "k1"), None);
    assert_eq!(activate_at(&keys, "k2"), Some(800));
}

pub(super) async fn retiring_keys_retire_and_inactive_keys_delete(store: &dyn Store) {
    store.insert_key(&key("k1"), None).await.unwrap();
    store
        .insert_key(&key_with("k2", KeyStatus::Next), None)
        .await
        .unwrap();
    store
        .promote_key(DEFAULT_TENANT, "k2", 200, 900, None)
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

pub(super) async fn keys_created_in_the_same_second_list_newest_first(store: &dyn Store) {
    store.insert_key(&key("z-first"), None).await.unwrap();
    store
        .insert_key(&key_with("a-second", KeyStatus::Next), None)
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

pub(super) async fn reseal_replaces_only_keys_sealed_by_the_old_master_key(store: &dyn Store) {
    store.insert_key(&key("k1"), None).await.unwrap();
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
