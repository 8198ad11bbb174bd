//! # strata
//!
//! One cache for a tokio service. `strata` composes Strata's crates behind feature flags and
//! offers the typed [`Cache<T>`]: values of one type in one namespace, read as `Arc<T>`,
//! with single-flight loading ([`Cache::get_or_load`]) so concurrent misses of one key call
//! the loader once.
//!
//! The store underneath is the embedded in-memory store (feature `memory`, on by default),
//! or any [`Store`] you pass to [`CacheBuilder::store`], such as a `RedisStore` (feature
//! `redis`).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::time::Duration;
//! use strata::{Cache, CacheBuilder};
//!
//! let cache: Cache<String> = CacheBuilder::new()
//!     .namespace("greetings")
//!     .default_ttl(Duration::from_secs(60))
//!     .build()?;
//! cache.set("en", "hello".to_string()).await?;
//! assert_eq!(cache.get("en").await?.as_deref().map(String::as_str), Some("hello"));
//! assert_eq!(cache.stats().hits, 1);
//! # Ok::<(), strata::Error>(()) }).unwrap();
//! ```
#![forbid(unsafe_code)]

mod builder;
mod cache;
pub mod config;
mod counts;
pub mod registry;
pub mod system;
pub mod warming;

pub use builder::CacheBuilder;
pub use cache::Cache;
pub use counts::CacheCounts;
pub use registry::{CacheType, Registry};
pub use system::{CacheSystem, ShutdownReport};

pub use strata_core::load::{LoadEngine, LoadOptions, Loaded, StampedeLock};
pub use strata_core::{
    Capabilities, Clock, CodecId, Entry, Error, ErrorKind, Health, HealthStatus, Invalidation,
    InvalidationReason, Key, Layer, ManualClock, Namespace, Pattern, Result, Retry, SetOptions,
    SetOutcome, SharedClock, SharedStore, Store, StoreExt, StoreStats, SystemClock, Tag, Ttl,
    TtlState,
};

/// The core crate, for everything `strata` does not re-export.
pub use strata_core as core;

/// The in-memory store and cache core (feature `memory`).
#[cfg(feature = "memory")]
pub use strata_memory as memory;
#[cfg(feature = "memory")]
pub use strata_memory::{EvictionPolicy, MemoryStore};

/// The Redis store (feature `redis`).
#[cfg(feature = "redis")]
pub use strata_redis as redis;
#[cfg(feature = "redis")]
pub use strata_redis::RedisStore;

/// The tiered store, L1 over L2 (feature `tiered`).
#[cfg(feature = "tiered")]
pub use strata_tiered as tiered;
#[cfg(feature = "tiered")]
pub use strata_tiered::TieredStore;

/// The governance layer (feature `governance`).
#[cfg(feature = "governance")]
pub use strata_governance as governance;

/// The analytics layer, with OpenTelemetry export (feature `analytics`, or `otel`).
#[cfg(feature = "analytics")]
pub use strata_analytics as analytics;
