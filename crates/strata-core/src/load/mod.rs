//! The load engine: `get_or_load` and `get_or_load_many`, with single-flight.
//!
//! One place for every loader feature. Concurrent callers missing the same key share one
//! loader call ([`SingleFlight`]); a loader error reaches every waiter and is not cached; a
//! cancelled caller or a panicking loader never leaves other waiters stuck; the loader may
//! choose the TTL from the value it loaded ([`Loaded::with_ttl`]).

mod engine;
mod single_flight;

pub use engine::{LoadEngine, LoadOptions, Loaded, StampedeLock};
pub use single_flight::{Claim, Follower, Leader, SingleFlight};
