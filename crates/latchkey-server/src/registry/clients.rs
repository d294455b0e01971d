//! The snapshot's clients, by client id.
//!
//! Two needs pull apart here. A snapshot load inserts every app, a million on a large
//! deployment, and is what stands between a restart and a server ready to answer; a change to
//! one app must cost work in proportion to that app, however many others there are, and must
//! leave every snapshot already handed out as it was.
//!
//! A persistent map (`imbl`'s HAMT) serves the second need alone, and at a million apps its
//! inserts were a quarter of the time to ready: each one walks and checks several nodes spread
//! over memory. So the clients are held in two parts: `base`, a plain hash set built once by the
//! load and then shared by every later snapshot, and `changes`, a small persistent map of what
//! changed since (an entry added or replaced, or a tombstone). A lookup asks `changes` first,
//! only when it holds anything. While no other snapshot shares `base` (during the load), a
//! change goes straight into it. When `changes` grows past an eighth of `base`, the two are
//! folded into a new `base`: work in proportion to the apps, done once per that many changes,
//! so each change still costs a constant amount of work on average, and the memory held for
//! replaced entries stays bounded.

use super::ClientEntry;
use std::collections::HashSet;
use std::sync::Arc;

/// The base set hashes with foldhash rather than SipHash: every token request looks its client
/// up here, and the load hashes every app. Foldhash is seeded at random per process; its weaker
/// resistance to crafted collisions does not matter here, as only administrators add client
/// ids, and a request can only look one up, which cannot lengthen any probe sequence.
type Base = HashSet<ClientSlot, foldhash::fast::RandomState>;

/// Changes below this many are never folded into the base: a small deployment keeps its
/// overlay rather than rebuild its base every few changes.
const MIN_FOLD: usize = 1024;

/// A client in the base set: hashed and compared by its client id, and found by a `&str`
/// through `Borrow`, so the set holds one pointer per client and no second copy of the id.
#[derive(Debug, Clone)]
struct ClientSlot(Arc<ClientEntry>);

impl ClientSlot {
    fn id(&self) -> &str {
        &self.0.client.client_id
    }
}

impl std::hash::Hash for ClientSlot {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Exactly as the `str` it borrows as hashes, so lookups by `&str` find it.
        self.id().hash(state);
    }
}

impl PartialEq for ClientSlot {
    fn eq(&self, other: &ClientSlot) -> bool {
        self.id() == other.id()
    }
}

impl Eq for ClientSlot {}

impl std::borrow::Borrow<str> for ClientSlot {
    fn borrow(&self) -> &str {
        self.id()
    }
}

/// Every client of a snapshot, by client id. Cloning is O(1); a clone never sees changes made
/// to another.
#[derive(Clone, Default)]
pub(super) struct ClientMap {
    /// The clients as of the last load or fold; never changed while another snapshot shares it.
    base: Arc<Base>,
    /// What changed since `base`, by client id: the client now, or `None` for one removed.
    changes: imbl::HashMap<Arc<str>, Option<Arc<ClientEntry>>>,
    /// How many clients the map holds.
    len: usize,
}

impl ClientMap {
    /// The client with this id.
    pub(super) fn get(&self, client_id: &str) -> Option<&Arc<ClientEntry>> {
        if !self.changes.is_empty()
            && let Some(change) = self.changes.get(client_id)
        {
            return change.as_ref();
        }
        self.base.get(client_id).map(|slot| &slot.0)
    }

    /// How many clients the map holds.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Makes room for `additional` more clients at once, while no other snapshot shares the
    /// base (a load): growing a table of a million entries step by step rehashes every entry
    /// about twice, each through pointers to its id scattered over memory.
    pub(super) fn reserve(&mut self, additional: usize) {
        if let Some(base) = Arc::get_mut(&mut self.base) {
            base.reserve(additional);
        }
    }

    /// Adds a client, or replaces the one with its id; returns the one replaced.
    pub(super) fn insert(&mut self, entry: Arc<ClientEntry>) -> Option<Arc<ClientEntry>> {
        let id = entry.client.client_id.as_str();
        let changed = if self.changes.is_empty() {
            None
        } else {
            self.changes.remove(id)
        };
        let old = match Arc::get_mut(&mut self.base) {
            // One hash and one probe per app during the load: `replace` both finds and inserts.
            Some(base) => {
                let in_base = base.replace(ClientSlot(entry)).map(|slot| slot.0);
                changed.unwrap_or(in_base)
            }
            None => {
                let old =
                    changed.unwrap_or_else(|| self.base.get(id).map(|slot| Arc::clone(&slot.0)));
                self.changes.insert(Arc::from(id), Some(entry));
                self.fold_if_large();
                old
            }
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Removes the client with this id; returns it.
    pub(super) fn remove(&mut self, client_id: &str) -> Option<Arc<ClientEntry>> {
        let changed = self.changes.remove(client_id);
        let old = match Arc::get_mut(&mut self.base) {
            Some(base) => {
                let in_base = base.take(client_id).map(|slot| slot.0);
                changed.unwrap_or(in_base)
            }
            None => {
                let in_base = self.base.get(client_id).map(|slot| Arc::clone(&slot.0));
                if in_base.is_some() {
                    self.changes.insert(Arc::from(client_id), None);
                    self.fold_if_large();
                }
                changed.unwrap_or(in_base)
            }
        };
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    fn fold_if_large(&mut self) {
        if self.changes.len() > MIN_FOLD.max(self.base.len() / 8) {
            self.fold();
        }
    }

    /// Builds a new base holding every current client, and empties `changes`.
    #[allow(clippy::mutable_key_type)] // See the module's allow: slots hash by client id alone.
    fn fold(&mut self) {
        let mut base = Base::with_capacity_and_hasher(self.len, Default::default());
        base.extend(
            self.base
                .iter()
                .filter(|slot| !self.changes.contains_key(slot.id()))
                .cloned(),
        );
        base.extend(self.changes.values().flatten().cloned().map(ClientSlot));
        self.base = Arc::new(base);
        self.changes = imbl::HashMap::new();
    }
}

impl std::fmt::Debug for ClientMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientMap")
            .field("len", &self.len)
            .field("base", &self.base.len())
            .field("changes", &self.changes.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn entry(client_id: &str, ttl: u32) -> Arc<ClientEntry> {
        let mut entry = crate::registry::test_entry(client_id);
        entry.client.token_ttl = ttl;
        Arc::new(entry)
    }

    fn ttl(map: &ClientMap, client_id: &str) -> Option<u32> {
        map.get(client_id).map(|entry| entry.client.token_ttl)
    }

    #[test]
    fn a_load_fills_the_base_in_place() {
        let mut map = ClientMap::default();
        map.reserve(100);
        let capacity = map.base.capacity();
        assert!(capacity >= 100);
        for i in 0..100 {
            assert!(map.insert(entry(&format!("app-{i}"), i)).is_none());
        }
        assert_eq!(map.len(), 100);
        assert_eq!(map.base.len(), 100);
        assert_eq!(map.base.capacity(), capacity, "reserved once, never grown");
        assert!(map.changes.is_empty());
        assert_eq!(ttl(&map, "app-42"), Some(42));
        assert_eq!(ttl(&map, "app-100"), None);
    }

    #[test]
    fn changes_to_a_clone_leave_the_snapshot_it_was_cloned_from_as_it_was() {
        let mut published = ClientMap::default();
        published.insert(entry("kept", 1));
        published.insert(entry("replaced", 2));
        published.insert(entry("removed", 3));

        let mut next = published.clone();
        assert_eq!(
            next.insert(entry("replaced", 20))
                .map(|e| e.client.token_ttl),
            Some(2)
        );
        assert_eq!(next.remove("removed").map(|e| e.client.token_ttl), Some(3));
        assert!(next.insert(entry("added", 4)).is_none());

        assert_eq!(next.len(), 3);
        assert_eq!(ttl(&next, "kept"), Some(1));
        assert_eq!(ttl(&next, "replaced"), Some(20));
        assert_eq!(ttl(&next, "removed"), None);
        assert_eq!(ttl(&next, "added"), Some(4));

        assert_eq!(published.len(), 3);
        assert_eq!(ttl(&published, "replaced"), Some(2));
        assert_eq!(ttl(&published, "removed"), Some(3));
        assert_eq!(ttl(&published, "added"), None);
        // The change went to the overlay: the base is still shared, not copied.
        assert!(Arc::ptr_eq(&published.base, &next.base));
    }

    #[test]
    fn a_removed_client_can_come_back_and_go_again() {
        let mut published = ClientMap::default();
        published.insert(entry("app", 1));
        let mut next = published.clone();

        next.remove("app");
        assert!(next.remove("app").is_none());
        next.insert(entry("app", 2));
        assert_eq!(ttl(&next, "app"), Some(2));
        assert_eq!(next.remove("app").map(|e| e.client.token_ttl), Some(2));
        assert_eq!(ttl(&next, "app"), None);
        assert_eq!(next.len(), 0);
        assert_eq!(ttl(&published, "app"), Some(1));
    }

    #[test]
    fn once_no_other_snapshot_shares_the_base_changes_go_into_it() {
        let mut published = ClientMap::default();
        published.insert(entry("a", 1));
        let mut next = published.clone();
        next.insert(entry("a", 2));
        assert_eq!(next.changes.len(), 1);
        drop(published);

        next.insert(entry("a", 3));
        assert!(next.changes.is_empty());
        assert_eq!(ttl(&next, "a"), Some(3));
        assert_eq!(next.len(), 1);
    }

    #[test]
    fn many_changes_fold_into_a_new_base_with_the_same_clients() {
        let mut published = ClientMap::default();
        for i in 0..10 {
            published.insert(entry(&format!("app-{i}"), i));
        }
        let mut next = published.clone();
        next.remove("app-0");
        for i in 0..=MIN_FOLD as u32 {
            next.insert(entry(&format!("new-{i}"), i));
        }
        // The fold happened on the change that took the overlay past its limit.
        assert!(next.changes.len() < MIN_FOLD);
        assert!(!Arc::ptr_eq(&published.base, &next.base));
        assert_eq!(next.len(), 9 + MIN_FOLD + 1);
        assert_eq!(ttl(&next, "app-0"), None);
        assert_eq!(ttl(&next, "app-9"), Some(9));
        assert_eq!(
            ttl(&next, &format!("new-{MIN_FOLD}")),
            Some(MIN_FOLD as u32)
        );
        assert_eq!(published.len(), 10);
        assert_eq!(ttl(&published, "new-0"), None);
    }

    /// Random inserts, replacements and removals, with clones taken along the way, against a
    /// plain map: every clone keeps answering exactly as the map did when it was taken.
    #[test]
    fn every_snapshot_agrees_with_a_plain_map_through_random_changes() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut map = ClientMap::default();
        let mut model: HashMap<String, u32> = HashMap::new();
        let mut kept: Vec<(ClientMap, HashMap<String, u32>)> = Vec::new();
        for step in 0..20_000u32 {
            let id = format!("app-{}", next() % 1500);
            if next() % 3 == 0 {
                let old = map.remove(&id).map(|e| e.client.token_ttl);
                assert_eq!(old, model.remove(&id));
            } else {
                let old = map.insert(entry(&id, step)).map(|e| e.client.token_ttl);
                assert_eq!(old, model.insert(id, step));
            }
            assert_eq!(map.len(), model.len());
            if step % 1000 == 0 {
                kept.push((map.clone(), model.clone()));
            }
            // Sometimes drop the oldest clone, so the base is at times shared and at times not.
            if step % 1500 == 0 && !kept.is_empty() {
                kept.remove(0);
            }
        }
        kept.push((map, model));
        for (map, model) in &kept {
            assert_eq!(map.len(), model.len());
            for i in 0..1500 {
                let id = format!("app-{i}");
                assert_eq!(ttl(map, &id), model.get(&id).copied(), "{id}");
            }
        }
    }
}
