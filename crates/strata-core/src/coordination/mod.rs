//! What a shared (L2) store offers the stores above it to coordinate nodes: a distributed
//! lock (one loader per key across the fleet) and an invalidation bus (publish invalidations
//! to every node). Traits only; `strata-redis` implements them, tiering uses them.

mod bus;
mod lock;

pub use bus::{BusEvent, InvalidationBus};
pub use lock::{DistributedLock, LockToken};
