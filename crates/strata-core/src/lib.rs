//! # strata-core
//!
//! The foundation every Strata crate builds on: the [`Store`] trait that each backend
//! implements and each layer wraps, its object-safe twin [`SharedStore`], [`Layer`], validated
//! [`Key`]s and [`Namespace`]s, [`Entry`] and [`Meta`], write options, Redis-style glob
//! [`Pattern`]s, [`Invalidation`] requests, [`Codec`]s (JSON and MessagePack), the on-wire
//! [`envelope`], one [`Error`] type with an [`ErrorKind`], the [`Clock`], the load engine
//! ([`load`]) with single-flight, the [`Explain`] report of [`Store::explain`], and
//! [`counters`] cheap enough for the hit path (striped counters, a namespace-keyed table).
//!
//! Nothing here does I/O; backends live in their own crates (`strata-memory`, ...).
//!
//! ```
//! use std::time::Duration;
//! use strata_core::{Invalidation, Key, Namespace, Pattern, SetOptions, Tag};
//!
//! let users = Namespace::new("users")?;
//! let key = Key::new(&users, "42")?;
//! let opts = SetOptions::new().ttl(Duration::from_secs(300)).tag(Tag::new("org:7")?);
//! let purge = Invalidation::pattern(users, Pattern::new("4*")?).triggered_by("import-job");
//! assert!(purge.selects(&key, &opts.tags));
//! # Ok::<(), strata_core::Error>(())
//! ```
#![forbid(unsafe_code)]

mod admission;
pub mod clock;
pub mod codec;
pub mod config;
pub mod coordination;
pub mod counters;
mod dyn_store;
pub mod entry;
pub mod envelope;
pub mod error;
pub mod explain;
mod ext;
pub mod invalidation;
pub mod key;
mod layer;
pub mod load;
pub mod namespaces;
pub mod options;
pub mod pattern;
mod store;
mod ttl_read;
mod ttl_tier;

pub use admission::Admission;
pub use clock::{Clock, ManualClock, SharedClock, SystemClock, Timestamp};
pub use codec::{Codec, CodecId, Fingerprint, Json, MessagePack, ValueCodec};
pub use coordination::{
    BusEvent, CompareAndSet, DistributedLock, DynLock, InvalidationBus, KeyTracking, LockToken,
    TrackingEvent, Version,
};
pub use dyn_store::{BoxFuture, DynStore, SharedStore};
pub use entry::{Entry, Meta};
pub use error::{BoxError, Context, Error, ErrorKind, Result, Retry};
pub use explain::{Explain, InvalidationReport, PolicyReport, TierReport};
pub use ext::StoreExt;
pub use invalidation::{Invalidation, InvalidationReason, Selector};
pub use key::{Key, Namespace, Tag};
pub use layer::{Identity, Layer, Stack};
pub use options::{SetMode, SetOptions, SetOutcome, Ttl, TtlState};
pub use pattern::Pattern;
pub use store::{
    Capabilities, EvictionCounts, EvictionReason, Health, HealthStatus, Now, Store, StoreInfo,
    StoreStats,
};
pub use ttl_read::GetWithTtl;
pub use ttl_tier::TtlTier;

/// Re-exported so stores and callers name the same `Bytes`.
pub use bytes::Bytes;
/// Re-exported so stores can return the same `BoxStream`.
pub use futures_util::stream::BoxStream;
