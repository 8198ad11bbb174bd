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
