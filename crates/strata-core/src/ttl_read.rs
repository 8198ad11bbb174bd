//! Reading values together with their remaining time to live, for stores above a shared one.

use std::future::Future;

use crate::entry::Entry;
use crate::error::Result;
use crate::key::Key;
use crate::options::TtlState;
use crate::store::Store;

/// A store that reads entries and their remaining time to live together (one round trip on
/// a remote store), so a tier above can copy an entry with exactly the life it has left
/// rather than a fresh TTL or one computed from metadata another clock wrote.
pub trait GetWithTtl: Store {
    /// For each key in order: the entry and its remaining time to live, or `None` when
    /// missing.
    fn get_with_ttl(
        &self,
        keys: &[Key],
    ) -> impl Future<Output = Result<Vec<Option<(Entry, TtlState)>>>> + Send;
}
