//! Reading the values older managers wrote to Redis as raw JSON (feature `redis`).
//!
//! Strata writes values on Redis in a versioned envelope; the older managers wrote
//! `json.dumps(value)` (or `JSON.stringify`) as the plain string value. A store built here
//! reads such values as JSON (so `get` on any compat type answers them) instead of failing
//! with `ErrorKind::Codec`; bytes that are neither an envelope nor JSON still fail, naming
//! the key. New writes always use the envelope: older readers cannot read them, so switch
//! readers before (or with) writers.
//!
//! Legacy values are found where their keys fit Strata's layout,
//! `<prefix>:<namespace>:<key>`: an older key `aurum:curves:CAISO:RT:ZONE1` is key
//! `CAISO:RT:ZONE1` of namespace `curves` under prefix `aurum`.

use strata::redis::{RedisStore, RedisStoreBuilder};
use strata::{Result, SharedStore, StoreExt};

/// `builder` with legacy JSON reading turned on
/// ([`RedisStoreBuilder::legacy_json`]).
pub fn legacy_json(builder: RedisStoreBuilder) -> RedisStoreBuilder {
    builder.legacy_json(true)
}

/// Connects to the Redis at `url` under key `prefix`, reading legacy raw JSON values.
///
/// ```no_run
/// # async fn demo() -> strata::Result<()> {
/// use strata_compat::{legacy, CompatOptions, UnifiedCacheManager};
/// let store = legacy::connect_legacy_redis("redis://127.0.0.1:6379/", "aurum").await?;
/// let cache = UnifiedCacheManager::new(store, CompatOptions::new())?;
/// let curve = cache.get_curve_data("CAISO", "RT", "ZONE1").await?; // written by the older manager
/// # Ok(()) }
/// ```
pub async fn connect_legacy_redis(url: &str, prefix: &str) -> Result<SharedStore> {
    let store: RedisStore = legacy_json(RedisStore::builder().url(url).prefix(prefix))
        .connect()
        .await?;
    Ok(store.into_shared())
}
