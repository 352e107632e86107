//! Concurrent callers asking for the same key share one in-flight computation.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// Deduplicates concurrent work per key. The result is handed to every caller that
/// joined while the work ran; the next caller after it finished starts afresh.
#[derive(Debug)]
pub struct Singleflight<K, V> {
    flights: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for Singleflight<K, V> {
    fn default() -> Self {
        Singleflight { flights: Mutex::new(HashMap::new()) }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Singleflight<K, V> {
    /// Runs `work` for `key` unless a run is already in flight, in which case it waits
    /// for that one. If the running caller is cancelled, a waiter takes over; if it was
    /// the only caller, its entry is removed.
    pub async fn run<F, Fut>(&self, key: &K, work: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = {
            let mut map = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(map.entry(key.clone()).or_default())
        };
        let flight = Flight { owner: self, key, cell };
        flight.cell.get_or_init(work).await.clone()
    }

    /// Removes `key`'s entry if it is still `cell` and no caller needs it any more: the
    /// work finished, or every caller left (dropped its future).
    fn leave(&self, key: &K, cell: &Arc<OnceCell<V>>) {
        let mut map = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        // The map and this caller hold the only references: nobody else is waiting.
        let last = Arc::strong_count(cell) <= 2;
        if map.get(key).is_some_and(|c| Arc::ptr_eq(c, cell)) && (cell.initialized() || last) {
            map.remove(key);
        }
    }

    /// Number of keys in flight.
    pub fn in_flight(&self) -> usize {
        self.flights.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether a run for `key` is in flight.
    pub fn is_running(&self, key: &K) -> bool {
        self.flights.lock().unwrap_or_else(|e| e.into_inner()).contains_key(key)
    }
}

/// One caller's part in a flight; leaving (finished or cancelled) tidies the map.
struct Flight<'a, K: Hash + Eq + Clone, V: Clone> {
    owner: &'a Singleflight<K, V>,
    key: &'a K,
    cell: Arc<OnceCell<V>>,
}

impl<K: Hash + Eq + Clone, V: Clone> Drop for Flight<'_, K, V> {
    fn drop(&mut self) {
        self.owner.leave(self.key, &self.cell);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_run_for_many_callers() {
        let sf = Arc::new(Singleflight::<u32, u32>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (sf, runs) = (Arc::clone(&sf), Arc::clone(&runs));
                tokio::spawn(async move {
                    sf.run(&7, || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        42
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), 42);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(sf.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_only_caller_leaves_no_entry() {
        let sf = Singleflight::<u32, u32>::default();
        let never = sf.run(&1, std::future::pending::<u32>);
        assert!(tokio::time::timeout(Duration::from_millis(20), never).await.is_err());
        assert_eq!(sf.in_flight(), 0, "the cancelled flight's entry was removed");
        assert_eq!(sf.run(&1, || async { 5 }).await, 5, "the next caller runs afresh");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiter_takes_over_when_the_runner_is_cancelled() {
        let sf = Arc::new(Singleflight::<u32, u32>::default());
        let first = {
            let sf = Arc::clone(&sf);
            tokio::spawn(async move { sf.run(&1, std::future::pending::<u32>).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = {
            let sf = Arc::clone(&sf);
            tokio::spawn(async move { sf.run(&1, || async { 9 }).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        first.abort();
        assert_eq!(second.await.unwrap(), 9);
        assert_eq!(sf.in_flight(), 0);
    }
}
