//! Deduplication of concurrent work per key.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::error::{Error, ErrorKind, Result};
use crate::key::Key;

type Outcome = Result<Arc<dyn Any + Send + Sync>>;

struct Slot {
    id: u64,
    rx: watch::Receiver<Option<Outcome>>,
}

/// Tracks the flights (work in progress) per key, so concurrent callers share one.
///
/// Flights are told apart by key and by the type of their result, so two typed caches over
/// one namespace never receive each other's values.
#[derive(Default)]
pub struct SingleFlight {
    next_id: AtomicU64,
    flights: Mutex<HashMap<(Key, TypeId), Slot>>,
}

impl std::fmt::Debug for SingleFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleFlight")
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

/// The result of [`SingleFlight::claim`].
pub enum Claim<'a, V> {
    /// Nobody is working on the key: do the work and call [`Leader::complete`].
    Leader(Leader<'a, V>),
    /// Someone is: [`Follower::wait`] for their result.
    Follower(Follower<V>),
}

/// The caller doing the work for a key. Dropping it without completing (cancellation, a
/// panic) releases the followers, who then claim again.
pub struct Leader<'a, V> {
    flights: &'a SingleFlight,
    slot_key: Option<(Key, TypeId)>,
    id: u64,
    tx: watch::Sender<Option<Outcome>>,
    _value: PhantomData<fn() -> V>,
}

/// A caller waiting for a leader.
pub struct Follower<V> {
    rx: watch::Receiver<Option<Outcome>>,
    _value: PhantomData<fn() -> V>,
}

impl SingleFlight {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many flights are in progress.
    pub fn in_flight(&self) -> usize {
        self.flights.lock().len()
    }

    /// Becomes the leader for `key`, or a follower of the current leader.
    pub fn claim<V: Clone + Send + Sync + 'static>(&self, key: &Key) -> Claim<'_, V> {
        let slot_key = (key.clone(), TypeId::of::<V>());
        let mut flights = self.flights.lock();
        if let Some(slot) = flights.get(&slot_key)
            && slot.rx.has_changed().is_ok()
        {
            return Claim::Follower(Follower {
                rx: slot.rx.clone(),
                _value: PhantomData,
            });
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        flights.insert(slot_key.clone(), Slot { id, rx });
        Claim::Leader(Leader {
            flights: self,
            slot_key: Some(slot_key),
            id,
            tx,
            _value: PhantomData,
        })
    }
}

impl<V: Clone + Send + Sync + 'static> Leader<'_, V> {
    /// Hands the result to every follower and ends the flight.
    pub fn complete(self, outcome: Result<V>) {
        let erased: Outcome = outcome.map(|v| Arc::new(v) as Arc<dyn Any + Send + Sync>);
        // Followers may all be gone; that is fine.
        self.tx.send_replace(Some(erased));
        // Drop removes the slot.
    }
}

impl<V> Drop for Leader<'_, V> {
    fn drop(&mut self) {
        if let Some(slot_key) = self.slot_key.take() {
            let mut flights = self.flights.flights.lock();
            if flights.get(&slot_key).is_some_and(|s| s.id == self.id) {
                flights.remove(&slot_key);
            }
        }
    }
}

fn downcast<V: Clone + 'static>(outcome: &Outcome) -> Result<V> {
    match outcome {
        Ok(any) => any.downcast_ref::<V>().cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::Backend,
                "single-flight result had an unexpected type",
            )
        }),
        Err(e) => Err(e.clone()),
    }
}

impl<V: Clone + Send + Sync + 'static> Follower<V> {
    /// Waits for the leader's result; `None` when the leader gave up without one (it was
    /// cancelled), in which case the caller should claim again.
    pub async fn wait(mut self) -> Option<Result<V>> {
        loop {
            if let Some(outcome) = self.rx.borrow_and_update().as_ref() {
                return Some(downcast(outcome));
            }
            if self.rx.changed().await.is_err() {
                return self.rx.borrow().as_ref().map(downcast);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Namespace;

    fn key(id: &str) -> Key {
        Key::new(&Namespace::new("t").unwrap(), id).unwrap()
    }

    #[tokio::test]
    async fn followers_get_the_leaders_result() {
        let sf = SingleFlight::new();
        let k = key("a");
        let Claim::Leader(leader) = sf.claim::<u32>(&k) else {
            panic!("first claim must lead")
        };
        let Claim::Follower(f) = sf.claim::<u32>(&k) else {
            panic!("second claim must follow")
        };
        // A different result type is a different flight.
        assert!(matches!(sf.claim::<String>(&k), Claim::Leader(_)));
        leader.complete(Ok(7));
        assert_eq!(f.wait().await.unwrap().unwrap(), 7);
        assert_eq!(sf.in_flight(), 0);
    }

    #[tokio::test]
    async fn dropped_leader_releases_followers() {
        let sf = SingleFlight::new();
        let k = key("a");
        let leader = sf.claim::<u32>(&k);
        let Claim::Follower(f) = sf.claim::<u32>(&k) else {
            panic!()
        };
        drop(leader);
        assert!(f.wait().await.is_none());
        assert!(matches!(sf.claim::<u32>(&k), Claim::Leader(_)));
    }

    #[tokio::test]
    async fn errors_reach_followers() {
        let sf = SingleFlight::new();
        let k = key("a");
        let Claim::Leader(leader) = sf.claim::<u32>(&k) else {
            panic!()
        };
        let Claim::Follower(f) = sf.claim::<u32>(&k) else {
            panic!()
        };
        leader.complete(Err(Error::new(ErrorKind::Loader, "db down")));
        assert_eq!(
            f.wait().await.unwrap().unwrap_err().kind(),
            ErrorKind::Loader
        );
    }
}
