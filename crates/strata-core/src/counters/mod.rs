//! Counters cheap enough for a cache hit, shared by the layers that count per namespace.
//!
//! - [`Striped`] and [`StripedCounter`]: values split into cache-line-sized stripes, one per
//!   thread slot, so threads counting hits on one namespace do not write one shared line.
//! - [`ThreadStripe`]: the stripe the calling thread writes; the first threads own one each
//!   and count on it without atomic read-modify-writes, the rest share one more.
//! - [`NamespaceMap`]: a fixed-capacity, lock-free table from [`Namespace`](crate::Namespace)
//!   to a value created on first use, looked up by the interned name's address (no string
//!   hashing on the hit path). Past its capacity, namespaces share one overflow value, so
//!   memory stays bounded whatever callers do.
//!
//! ```
//! use strata_core::Namespace;
//! use strata_core::counters::{NamespaceMap, StripedCounter};
//!
//! let hits: NamespaceMap<StripedCounter> = NamespaceMap::with_capacity(64);
//! let users = Namespace::new("users")?;
//! hits.get_or_default(&users).add(1);
//! hits.get_or_default(&users).add(2);
//! assert_eq!(hits.get(&users).map(StripedCounter::sum), Some(3));
//! # Ok::<(), strata_core::Error>(())
//! ```

mod namespace_map;
mod striped;
mod thread_stripe;

pub use namespace_map::NamespaceMap;
pub use striped::{LocalStripe, Striped, StripedCounter};
pub use thread_stripe::{ThreadStripe, striped_add, stripes};
