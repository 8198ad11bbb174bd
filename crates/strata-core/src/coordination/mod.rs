//! What a shared (L2) store offers the stores above it to coordinate nodes: a distributed
//! lock (one loader per key across the fleet), an invalidation bus (publish invalidations to
//! every node), key tracking (hear about writes by any client), and compare-and-set writes with fences (a fill never overwrites what an
//! invalidation removed after the fill began). Traits only; `strata-redis` implements them, tiering uses them.

mod bus;
mod cas;
mod lock;
mod tracking;

pub use bus::{BusEvent, InvalidationBus};
pub use cas::{CompareAndSet, Version};
pub use lock::{DistributedLock, DynLock, LockToken};
pub use tracking::{KeyTracking, TrackingEvent};

/// A random 128-bit id (a lock token, a node id): std's per-process random hasher keys,
/// seeded from the OS and stepped per call, over the time.
///
/// ```
/// assert_ne!(strata_core::coordination::random_id(), strata_core::coordination::random_id());
/// ```
pub fn random_id() -> u128 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut id = 0u128;
    for _ in 0..2 {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        id = (id << 64) | u128::from(h.finish());
    }
    id
}
