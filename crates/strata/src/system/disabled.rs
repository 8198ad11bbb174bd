//! [`DisabledStore`]: the store of a cache system with `CACHE_ENABLED=false`. Every read
//! misses and every write succeeds without storing, so code written against a cache runs
//! unchanged (loaders run every time) and never sees an error from it.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream};
use strata_core::{
    Capabilities, Entry, Explain, Health, Invalidation, Key, Namespace, Now, Pattern, Result,
    SetOptions, SetOutcome, Store, StoreInfo, StoreStats, TtlState,
};

/// A store that holds nothing: reads miss, writes succeed, nothing errors.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use strata::{Cache, SharedStore};
/// use strata::system::DisabledStore;
/// let cache: Cache<u32> = Cache::with_store(SharedStore::new(DisabledStore), "n")?;
/// cache.set("a", 1).await?;
/// assert_eq!(cache.get("a").await?, None);
/// # Ok::<(), strata::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DisabledStore;

impl Store for DisabledStore {
    fn info(&self) -> StoreInfo {
        StoreInfo::new("disabled", Capabilities::empty())
    }

    fn get_now(&self, _key: &Key) -> Now<Option<Entry>> {
        Now::Ready(None)
    }

    async fn get(&self, _key: &Key) -> Result<Option<Entry>> {
        Ok(None)
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        Ok(vec![None; keys.len()])
    }

    async fn set(&self, _key: &Key, _value: Bytes, _opts: SetOptions) -> Result<SetOutcome> {
        Ok(SetOutcome::Stored)
    }

    async fn set_many(&self, _items: Vec<(Key, Bytes)>, _opts: SetOptions) -> Result<()> {
        Ok(())
    }

    async fn delete(&self, _key: &Key) -> Result<bool> {
        Ok(false)
    }

    async fn expire(&self, _key: &Key, _ttl: strata_core::Ttl) -> Result<bool> {
        Ok(false)
    }

    async fn ttl(&self, _key: &Key) -> Result<TtlState> {
        Ok(TtlState::Missing)
    }

    /// The delta, as if counting from zero (nothing is kept).
    async fn increment(&self, _key: &Key, delta: i64) -> Result<i64> {
        Ok(delta)
    }

    fn scan(&self, _namespace: &Namespace, _pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        Box::pin(stream::empty())
    }

    async fn invalidate(&self, _req: &Invalidation) -> Result<u64> {
        Ok(0)
    }

    async fn health(&self) -> Health {
        let mut h = Health::healthy("disabled");
        h.latency = Some(Duration::ZERO);
        h.message = Some("caching is disabled (CACHE_ENABLED=false): every read misses".into());
        h
    }

    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }

    async fn explain(&self, key: &Key) -> Result<Explain> {
        Ok(Explain::new(key).note("caching is disabled (CACHE_ENABLED=false)"))
    }
}
