//! # strata-redis
//!
//! Redis as Strata's shared (L2) cache: [`RedisStore`] implements the whole
//! [`Store`](strata_core::Store) trait on a standalone server or a Redis Cluster, on the
//! redis-rs client (default) or on fred (`Client::Fred`, feature `fred`).
//!
//! ## Features
//!
//! | feature | what it brings | crates it pulls |
//! |---|---|---|
//! | *(none)* | `RedisStore` on redis-rs, standalone and cluster | `redis` |
//! | `fred` | `Client::Fred`: the same store (same keys, envelope, tags, batching, retries, breaker) on the fred client, chosen with [`RedisStoreBuilder::client`] | `fred` (and its `redis-protocol`) |
//! | `tls` | `rediss://` URLs through rustls with the `ring` provider (never aws-lc), for redis-rs and, with `fred`, for fred; a custom root CA (`RedisStoreBuilder::tls_root_ca_pem`) and a client certificate for mutual TLS (`RedisStoreBuilder::tls_client_cert_pem`). Without it a `rediss://` URL is an `InvalidConfig` error that names the feature | `rustls` (`ring`), `tokio-rustls`, `rustls-native-certs` |
//!
//! - Keys are `<prefix>:<namespace>:<id>`; the prefix is limited to `[A-Za-z0-9_.-]` so two
//!   prefixes never collide.
//! - Values are the core envelope (docs/format.md), LZ4- or Zstandard-compressed above a
//!   threshold; counters are plain integers so INCRBY works; bytes that are neither are a
//!   `Codec` error naming the key (or, opt-in, read as legacy JSON).
//! - Batches are one round trip on a standalone server and one pipeline per node on a
//!   cluster; pattern and namespace invalidation use SCAN and bounded UNLINK batches.
//! - Tags are Redis sets; invalidating a tag removes exactly the values that still carry it.
//! - For tiering across nodes it implements `strata-core`'s [`DistributedLock`] (SET NX PX
//!   with a token-checked release) and [`InvalidationBus`] (PUBLISH/SUBSCRIBE that reports
//!   disconnections and reconnects).
//! - Calls run behind a circuit breaker, a command timeout and a retry policy that repeats
//!   only what is safe to repeat.
//!
//! ```no_run
//! use std::time::Duration;
//! use strata_core::{Key, Namespace, SetOptions, Store, StoreExt};
//! use strata_redis::RedisStore;
//!
//! # async fn demo() -> strata_core::Result<()> {
//! let store = RedisStore::builder()
//!     .url("redis://127.0.0.1:6379")
//!     .prefix("myapp")
//!     .command_timeout(Duration::from_millis(500))
//!     .connect()
//!     .await?;
//! let key = Key::new(&Namespace::new("users")?, "42")?;
//! store.set_with_ttl(&key, "Ada".into(), Duration::from_secs(60)).await?;
//! assert_eq!(store.get(&key).await?.map(|e| e.value().clone()), Some("Ada".into()));
//! # Ok(()) }
//! ```
//!
//! [`DistributedLock`]: strata_core::DistributedLock
//! [`InvalidationBus`]: strata_core::InvalidationBus
#![forbid(unsafe_code)]

mod breaker;
mod builder;
mod config;
mod conn;
mod coordination;
mod error;
mod keys;
mod retry;
mod scripts;
mod secret;
mod stats;
mod store;
#[cfg(feature = "tls")]
mod tls;
mod value;

pub use breaker::{BreakerConfig, BreakerState};
pub use builder::RedisStoreBuilder;
pub use config::{Client, CompressionConfig, DEFAULT_MAX_VALUE_BYTES, DEFAULT_PREFIX, RedisConfig};
pub use keys::MAX_PREFIX_LEN;
pub use retry::RetryPolicy;
pub use stats::RedisStats;
pub use store::RedisStore;
/// Re-exported so callers name the same compression choices.
pub use strata_core::envelope::Compression;
pub use value::ValueFormat;
