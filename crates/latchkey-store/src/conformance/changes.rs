//! The change log: every write announced, purges, and the ordering contract on `Store`.

use super::*;

pub(super) async fn every_write_appends_a_change(store: &dyn Store) {
    let start = store.latest_change().await.unwrap();
    store.create_app(&app("c1", "one"), None).await.unwrap();
    store.insert_key(&key("k1"), None).await.unwrap();
    store
        .revoke_token(&revocation("j1", 500), None)
        .await
        .unwrap();
    store.delete_app(DEFAULT_TENANT, "c1", None).await.unwrap();
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

pub(super) async fn purge_drops_old_changes_only(store: &dyn Store) {
    store.create_app(&app("c1", "one"), None).await.unwrap();
    store.create_app(&app("c2", "two"), None).await.unwrap();
    let newest = store.latest_change().await.unwrap();
    assert_eq!(store.purge_changes(0).await.unwrap(), 0);
    assert!(store.purge_changes(i64::MAX).await.unwrap() >= 1);
    // The newest change stays, however old: `latest_change` never goes back by a purge, so a
    // reader can tell a purged log from one that lost changes it had seen.
    let kept = store.changes_since(0, 10).await.unwrap();
    assert_eq!(
        kept.iter().map(|change| change.seq).collect::<Vec<_>>(),
        [newest]
    );
    assert_eq!(store.latest_change().await.unwrap(), newest);
    // Sequence numbers keep increasing after a purge.
    let before = store.latest_change().await.unwrap();
    store.delete_app(DEFAULT_TENANT, "c1", None).await.unwrap();
    let after = store.changes_since(before, 10).await.unwrap();
    assert!(!after.is_empty() && after.iter().all(|change| change.seq > before));
}

/// The ordering contract on `Store`: writers at once, and a reader following the log as a server
/// does (asking again from the last seq it got) while they write. The reader must see every
/// change exactly once, in increasing seq; a backend that numbers changes before commit order
/// is settled shows here as a change the reader skipped.
pub(super) async fn a_reader_following_the_log_during_concurrent_writes_misses_nothing(
    store: &dyn Store,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const WRITES: usize = 20;
    // Small pages, so that the reader asks again often while the writers are busy.
    const PAGE: u32 = 3;
    let start = store.latest_change().await.unwrap();
    let finished = AtomicUsize::new(0);
    // Each writer alternates a multi-statement write (an app with its secret) with a
    // single-statement one (a revocation).
    let writer = |name: &'static str| {
        let finished = &finished;
        async move {
            for i in 0..WRITES {
                let id = format!("{name}-{i}");
                if i % 2 == 0 {
                    store.create_app(&app(&id, name), None).await.unwrap();
                } else {
                    store
                        .revoke_token(&revocation(&id, 500), None)
                        .await
                        .unwrap();
                }
                tokio::task::yield_now().await;
            }
            finished.fetch_add(1, Ordering::SeqCst);
        }
    };
    let reader = async {
        let mut seen: Vec<Change> = Vec::new();
        let mut last = start;
        loop {
            // Read before asking: once every writer had finished before the question, the
            // answer must reach the end of the log.
            let done = finished.load(Ordering::SeqCst) == 3;
            let latest = store.latest_change().await.unwrap();
            let page = store.changes_since(last, PAGE).await.unwrap();
            for change in &page {
                assert!(change.seq > last, "seq {} after {last}", change.seq);
                last = change.seq;
            }
            if page.len() < PAGE as usize {
                assert!(
                    last >= latest,
                    "latest_change said {latest}, but changes stop at {last}"
                );
            }
            seen.extend(page.iter().cloned());
            if done && page.len() < PAGE as usize {
                return seen;
            }
            tokio::task::yield_now().await;
        }
    };
    let ((), (), (), seen) = tokio::join!(writer("a"), writer("b"), writer("c"), reader);
    let log = store.changes_since(start, 10_000).await.unwrap();
    assert_eq!(seen, log, "the reader saw the log other than it stands");
    for name in ["a", "b", "c"] {
        for i in 0..WRITES {
            let id = format!("{name}-{i}");
            let entity = if i % 2 == 0 {
                ChangedEntity::App
            } else {
                ChangedEntity::Revocation
            };
            assert!(
                seen.iter()
                    .any(|change| change.entity == entity && change.id == id),
                "no change for {id}"
            );
        }
    }
}
