//! # strata-tiered
//!
//! The cache a service actually runs: an in-process L1 over a shared L2. [`TieredStore`]
//! takes any two stores (typically `MemoryStore` over `RedisStore`) and is itself a
//! [`Store`](strata_core::Store), so layers and the typed cache sit on it unchanged.
//!
//! - Reads try L1, then L2; an L2 hit is promoted into L1 with the time to live it has
//!   *left* in L2 (read in the same round trip, through
//!   [`GetWithTtl`](strata_core::GetWithTtl)), never a fresh one, so L1 never outlives L2.
//! - When to promote is chosen per namespace ([`Promotion`]): immediately, on the Nth L2 hit
//!   within a window, lazily on the next read, or never.
//! - Writes go to L2, then L1 (write-through), or to L1 at once and to L2 from a bounded,
//!   batched queue (write-back, [`WriteBackConfig`]; a full queue is a back-pressure error,
//!   and [`TieredStore::shutdown`] flushes it). Deletes and invalidations reach L1 first, so
//!   this node stops serving a value even when L2 fails. While L2 is down, L1 hits are still
//!   served.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use strata_core::{Key, Namespace, SetOptions, Store};
//! use strata_memory::MemoryStore;
//! use strata_tiered::{Promotion, TieredStore};
//!
//! let shared = MemoryStore::new(); // in production: a RedisStore
//! let tiered = TieredStore::builder(MemoryStore::new(), shared.clone())
//!     .promotion(Promotion::Immediate)
//!     .build();
//! let key = Key::new(&Namespace::new("users")?, "42")?;
//! shared.set(&key, "Ada".into(), SetOptions::new()).await?; // written by another node
//! assert!(tiered.get(&key).await?.is_some()); // an L2 hit, promoted
//! assert!(tiered.l1().get(&key).await?.is_some());
//! assert_eq!(tiered.tier_stats().promotions, 1);
//! # Ok::<(), strata_core::Error>(()) }).unwrap();
//! ```
#![forbid(unsafe_code)]

mod builder;
mod coherence;
mod placement;
mod promotion;
mod store;
mod write_back;

pub use builder::TieredBuilder;
pub use coherence::{Coherence, CoherenceStats, LagSummary};
pub use placement::{Placement, PlacementPolicy, Tiers};
pub use promotion::Promotion;
pub use store::{TierStats, TieredStore};
pub use write_back::{FlushReport, WriteBackConfig};
