//! Bounded in-process maps: the memory tier's store (weighed by bytes) and the engine's
//! small memos (symbol checks, probes, books, failures). Natively they are moka caches
//! (concurrent, TinyLFU admission); on WebAssembly, where moka's clock and threads are
//! not available, a mutex-guarded map that evicts the least recently used entry.

use std::hash::Hash;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// How much an entry weighs (bytes, or 1 for a count bound).
pub type Weigher<V> = fn(&V) -> u32;

/// A bounded map, cheap to clone (clones share the entries).
#[derive(Clone)]
pub struct Memo<K, V> {
    #[cfg(not(target_arch = "wasm32"))]
    inner: moka::sync::Cache<K, V>,
    #[cfg(target_arch = "wasm32")]
    inner: Arc<lru::Lru<K, V>>,
}

impl<K, V> std::fmt::Debug for Memo<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo").finish_non_exhaustive()
    }
}

impl<K, V> Memo<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// At most `entries` entries.
    pub fn new(entries: u64) -> Self {
        Self::weighted(entries, |_| 1, None)
    }

    /// At most `max_weight` in total by `weigh`; evictions for size are counted in
    /// `evictions` when given.
    pub fn weighted(max_weight: u64, weigh: Weigher<V>, evictions: Option<Arc<AtomicU64>>) -> Self {
        #[cfg(not(target_arch = "wasm32"))]
        {
            let mut builder =
                moka::sync::Cache::builder().max_capacity(max_weight).weigher(move |_k: &K, v: &V| weigh(v));
            if let Some(counter) = evictions {
                builder = builder.eviction_listener(move |_k, _v, cause| {
                    if cause == moka::notification::RemovalCause::Size {
                        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
            Memo { inner: builder.build() }
        }
        #[cfg(target_arch = "wasm32")]
        {
            Memo { inner: Arc::new(lru::Lru::new(max_weight, weigh, evictions)) }
        }
    }

    /// The value of `key`, if held.
    pub fn get(&self, key: &K) -> Option<V> {
        self.inner.get(key)
    }

    /// Holds `value` under `key` (evicting others past the bound).
    pub fn insert(&self, key: K, value: V) {
        self.inner.insert(key, value);
    }

    /// Drops `key`.
    pub fn invalidate(&self, key: &K) {
        self.inner.invalidate(key);
    }

    /// Drops everything.
    pub fn invalidate_all(&self) {
        self.inner.invalidate_all();
    }

    /// Every key held now.
    pub fn keys(&self) -> Vec<K> {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.inner.iter().map(|(k, _)| (*k).clone()).collect()
        }
        #[cfg(target_arch = "wasm32")]
        {
            self.inner.keys()
        }
    }

    /// Number of entries (after any pending evictions ran).
    pub fn len(&self) -> u64 {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.inner.run_pending_tasks();
            self.inner.entry_count()
        }
        #[cfg(target_arch = "wasm32")]
        {
            self.inner.len()
        }
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The WebAssembly store: least recently used first out, O(n) per eviction (fine for the
/// few thousand entries a browser holds). Compiled natively for its tests.
#[cfg(any(target_arch = "wasm32", test))]
mod lru {
    use std::collections::HashMap;
    use std::hash::Hash;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use super::Weigher;

    struct Entries<K, V> {
        map: HashMap<K, (V, u64, u32)>,
        weight: u64,
        tick: u64,
    }

    pub(super) struct Lru<K, V> {
        entries: Mutex<Entries<K, V>>,
        max_weight: u64,
        weigh: Weigher<V>,
        evictions: Option<Arc<AtomicU64>>,
    }

    impl<K: Hash + Eq + Clone, V: Clone> Lru<K, V> {
        pub(super) fn new(max_weight: u64, weigh: Weigher<V>, evictions: Option<Arc<AtomicU64>>) -> Self {
            let entries = Entries { map: HashMap::new(), weight: 0, tick: 0 };
            Lru { entries: Mutex::new(entries), max_weight, weigh, evictions }
        }

        fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
            self.entries.lock().unwrap_or_else(|e| e.into_inner())
        }

        pub(super) fn get(&self, key: &K) -> Option<V> {
            let mut e = self.lock();
            e.tick += 1;
            let tick = e.tick;
            e.map.get_mut(key).map(|(v, used, _)| {
                *used = tick;
                v.clone()
            })
        }

        pub(super) fn insert(&self, key: K, value: V) {
            let weight = (self.weigh)(&value);
            if u64::from(weight) > self.max_weight {
                return;
            }
            let mut e = self.lock();
            e.tick += 1;
            let tick = e.tick;
            if let Some((_, _, old)) = e.map.insert(key, (value, tick, weight)) {
                e.weight -= u64::from(old);
            }
            e.weight += u64::from(weight);
            while e.weight > self.max_weight {
                let Some(oldest) = e.map.iter().min_by_key(|(_, (_, used, _))| *used).map(|(k, _)| k.clone())
                else {
                    break;
                };
                if let Some((_, _, w)) = e.map.remove(&oldest) {
                    e.weight -= u64::from(w);
                    if let Some(counter) = &self.evictions {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }

        pub(super) fn invalidate(&self, key: &K) {
            let mut e = self.lock();
            if let Some((_, _, w)) = e.map.remove(key) {
                e.weight -= u64::from(w);
            }
        }

        pub(super) fn invalidate_all(&self) {
            let mut e = self.lock();
            e.map.clear();
            e.weight = 0;
        }

        pub(super) fn keys(&self) -> Vec<K> {
            self.lock().map.keys().cloned().collect()
        }

        pub(super) fn len(&self) -> u64 {
            self.lock().map.len() as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webassembly_store_evicts_the_least_recently_used_by_weight() {
        let evictions = Arc::new(AtomicU64::new(0));
        let lru = lru::Lru::new(10, |v: &u32| *v, Some(Arc::clone(&evictions)));
        lru.insert("a", 4);
        lru.insert("b", 4);
        assert_eq!(lru.get(&"a"), Some(4)); // "b" is now the least recently used
        lru.insert("c", 4);
        assert_eq!((lru.get(&"b"), lru.len()), (None, 2));
        assert_eq!(evictions.load(std::sync::atomic::Ordering::Relaxed), 1);
        lru.insert("huge", 11);
        assert_eq!(lru.get(&"huge"), None, "heavier than the bound: not held");
        lru.insert("a", 2);
        lru.invalidate(&"c");
        assert_eq!(lru.keys(), ["a"]);
        lru.invalidate_all();
        assert_eq!(lru.len(), 0);
    }

    #[test]
    fn memos_hold_and_drop() {
        let memo: Memo<u32, String> = Memo::new(100);
        memo.insert(1, "one".into());
        assert_eq!(memo.get(&1).as_deref(), Some("one"));
        assert_eq!((memo.keys(), memo.len()), (vec![1], 1));
        memo.invalidate(&1);
        assert!(memo.is_empty());
    }
}
