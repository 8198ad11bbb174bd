//! The tag index: which keys carry a tag.
//!
//! The index may list keys that no longer carry the tag (overwritten, expired, evicted);
//! readers re-check each entry, and a set is pruned when it has doubled since its last
//! pruning. A key is added to a tag's set after its entry is written, under the set's lock,
//! and pruning re-checks entries under the same lock, so a tagged entry is never missing
//! from its set.

use std::collections::HashSet;

use dashmap::DashMap;
use strata_core::{Key, Tag};

const MIN_PRUNE_AT: usize = 64;

struct TagSet {
    keys: HashSet<Key>,
    prune_at: usize,
}

#[derive(Default)]
pub(crate) struct TagIndex {
    sets: DashMap<Tag, TagSet>,
}

impl TagIndex {
    /// Records that `key` carries `tag`. `still_tagged` tells whether a key's current entry
    /// carries the tag, for pruning.
    pub(crate) fn add(&self, tag: &Tag, key: &Key, still_tagged: impl Fn(&Key) -> bool) {
        let mut set = self.sets.entry(tag.clone()).or_insert_with(|| TagSet {
            keys: HashSet::new(),
            prune_at: MIN_PRUNE_AT,
        });
        if !set.keys.contains(key) {
            set.keys.insert(key.clone());
        }
        if set.keys.len() >= set.prune_at {
            set.keys.retain(|k| still_tagged(k));
            set.prune_at = (set.keys.len() * 2).max(MIN_PRUNE_AT);
        }
    }

    /// Removes and returns the keys recorded for `tag`.
    pub(crate) fn take(&self, tag: &Tag) -> Vec<Key> {
        self.sets
            .remove(tag)
            .map(|(_, set)| set.keys.into_iter().collect())
            .unwrap_or_default()
    }

    /// Forgets every tag.
    pub(crate) fn clear(&self) {
        self.sets.clear();
    }

    /// Prunes every set of keys that no longer carry its tag; drops empty sets.
    pub(crate) fn prune(&self, still_tagged: impl Fn(&Tag, &Key) -> bool) {
        self.sets.retain(|tag, set| {
            set.keys.retain(|k| still_tagged(tag, k));
            set.prune_at = (set.keys.len() * 2).max(MIN_PRUNE_AT);
            !set.keys.is_empty()
        });
    }

    /// How many keys the index lists in all (stale ones included).
    pub(crate) fn len(&self) -> usize {
        self.sets.iter().map(|s| s.keys.len()).sum()
    }
}
