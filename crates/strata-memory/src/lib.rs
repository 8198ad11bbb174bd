//! # strata-memory
//!
//! Strata's in-process cache, in two parts:
//!
//! - [`Cache<K, V>`]: a generic, sharded, bounded cache with per-entry TTL and time to idle,
//!   entry and weight limits, eviction policies ([`EvictionPolicy`]: LRU, TTL-soonest,
//!   random), an eviction listener that hears every removal once with its reason, and
//!   counters.
//! - [`MemoryStore`]: the [`strata_core::Store`] over a `Cache<Key, Entry>`, adding tags,
//!   pattern scans, namespace invalidation, atomic increments and conditional writes. It is
//!   Strata's embedded default and the L1 of a tiered cache.
//!
//! ```
//! use std::time::Duration;
//! use strata_core::{ManualClock, SharedClock};
//! use strata_memory::{Cache, EntryOptions};
//! use std::sync::Arc;
//!
//! let clock = Arc::new(ManualClock::new());
//! let cache: Cache<&'static str, u32> = Cache::builder()
//!     .max_entries(100)
//!     .clock(clock.clone() as SharedClock)
//!     .build()?;
//! cache.insert_with("session", 7, EntryOptions::ttl(Duration::from_secs(30)))?;
//! assert_eq!(cache.get("session"), Some(7));
//! clock.advance(Duration::from_secs(31));
//! assert_eq!(cache.get("session"), None); // expired entries are never returned
//! # Ok::<(), strata_core::Error>(())
//! ```
// One module holds `unsafe` code, the shard lock (`cache/lock.rs`), which allows it; every
// other module is denied it.
#![deny(unsafe_code)]

mod cache;
mod store;

pub use cache::{
    Cache, CacheBuilder, CacheStats, Compute, EntryOptions, EvictionPolicy, Listener, Weigher,
};
pub use store::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, ENTRY_OVERHEAD_BYTES, MemoryStore, MemoryStoreBuilder,
    entry_weight,
};
