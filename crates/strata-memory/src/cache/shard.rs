//! One shard: a hash table over a slab of nodes, a recency list and an expiry index.
//!
//! All methods run under the shard's lock; none of them calls back into user code.

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::hash::Hash;
use std::time::Duration;

use hashbrown::HashTable;
use strata_core::{EvictionCounts, Timestamp};

use super::policy::EvictionPolicy;

const NIL: u32 = u32::MAX;

/// Per-entry expiry settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Expiry {
    pub(crate) ttl_deadline: Option<Timestamp>,
    pub(crate) tti: Option<Duration>,
}

pub(crate) struct Node<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    hash: u64,
    pub(crate) weight: u64,
    pub(crate) expiry: Expiry,
    last_access: Timestamp,
    /// The deadline under which the node sits in the expiry index.
    indexed_deadline: Option<Timestamp>,
    prev: u32,
    next: u32,
}

impl<K, V> Node<K, V> {
    fn deadline(&self) -> Option<Timestamp> {
        let idle = self.expiry.tti.map(|d| self.last_access.saturating_add(d));
        match (self.expiry.ttl_deadline, idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(crate) fn is_expired(&self, now: Timestamp) -> bool {
        self.deadline().is_some_and(|d| d <= now)
    }

    /// Time left at `now`: `None` when the node never expires.
    pub(crate) fn remaining(&self, now: Timestamp) -> Option<Duration> {
        self.deadline().map(|d| d.saturating_duration_since(now))
    }
}

/// Counters kept under the shard lock (no atomics on the hit path).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ShardStats {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) inserts: u64,
    pub(crate) evictions: EvictionCounts,
}

pub(crate) struct Shard<K, V> {
    table: HashTable<u32>,
    slab: Vec<Option<Node<K, V>>>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    expiry_index: BTreeSet<(Timestamp, u32)>,
    pub(crate) len: u64,
    pub(crate) weight: u64,
    rng: u64,
    pub(crate) stats: ShardStats,
}

impl<K: Hash + Eq, V> Shard<K, V> {
    pub(crate) fn new(seed: u64) -> Self {
        Shard {
            table: HashTable::new(),
            slab: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            expiry_index: BTreeSet::new(),
            len: 0,
            weight: 0,
            rng: seed | 1,
            stats: ShardStats::default(),
        }
    }

    fn node(&self, idx: u32) -> &Node<K, V> {
        match self.slab.get(idx as usize) {
            Some(Some(n)) => n,
            // Indices come only from the table, the list and the index, which the shard keeps
            // consistent with the slab; reaching this is a bug in this file.
            _ => unreachable!("strata-memory: dangling slab index {idx}"),
        }
    }

    fn node_mut(&mut self, idx: u32) -> &mut Node<K, V> {
        match self.slab.get_mut(idx as usize) {
            Some(Some(n)) => n,
            _ => unreachable!("strata-memory: dangling slab index {idx}"),
        }
    }

    pub(crate) fn find<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let slab = &self.slab;
        self.table
            .find(
                hash,
                |&idx| matches!(slab.get(idx as usize), Some(Some(n)) if n.key.borrow() == key),
            )
            .copied()
    }

    pub(crate) fn get_node(&self, idx: u32) -> &Node<K, V> {
        self.node(idx)
    }

    // --- recency list -------------------------------------------------------------------

    fn unlink(&mut self, idx: u32) {
        let (prev, next) = {
            let n = self.node(idx);
            (n.prev, n.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.node_mut(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.node_mut(next).prev = prev;
        }
    }

    fn push_front(&mut self, idx: u32) {
        let old_head = self.head;
        {
            let n = self.node_mut(idx);
            n.prev = NIL;
            n.next = old_head;
        }
        if old_head == NIL {
            self.tail = idx;
        } else {
            self.node_mut(old_head).prev = idx;
        }
        self.head = idx;
    }

    // --- expiry index -------------------------------------------------------------------

    fn reindex(&mut self, idx: u32) {
        let (old, new) = {
            let n = self.node(idx);
            (n.indexed_deadline, n.deadline())
        };
        if old == new {
            return;
        }
        if let Some(d) = old {
            self.expiry_index.remove(&(d, idx));
        }
        if let Some(d) = new {
            self.expiry_index.insert((d, idx));
        }
        self.node_mut(idx).indexed_deadline = new;
    }

    // --- operations ---------------------------------------------------------------------

    /// Marks a read of `idx` at `now`: recency and time to idle.
    pub(crate) fn touch(&mut self, idx: u32, now: Timestamp, policy: EvictionPolicy) {
        let has_tti = {
            let n = self.node_mut(idx);
            n.last_access = now;
            n.expiry.tti.is_some()
        };
        if has_tti {
            self.reindex(idx);
        }
        if policy != EvictionPolicy::Random && self.head != idx {
            self.unlink(idx);
            self.push_front(idx);
        }
    }

    /// Inserts a new key; the caller checked it is absent.
    pub(crate) fn insert_new(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: u64,
        expiry: Expiry,
        now: Timestamp,
    ) -> u32 {
        let node = Node {
            key,
            value,
            hash,
            weight,
            expiry,
            last_access: now,
            indexed_deadline: None,
            prev: NIL,
            next: NIL,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = Some(node);
                i
            }
            None => {
                self.slab.push(Some(node));
                (self.slab.len() - 1) as u32
            }
        };
        let slab = &self.slab;
        self.table
            .insert_unique(hash, idx, |&i| match slab.get(i as usize) {
                Some(Some(n)) => n.hash,
                _ => 0,
            });
        self.push_front(idx);
        self.reindex(idx);
        self.len += 1;
        self.weight += weight;
        self.stats.inserts += 1;
        idx
    }

    /// Replaces the value of `idx`; returns the old value.
    pub(crate) fn replace(
        &mut self,
        idx: u32,
        value: V,
        weight: u64,
        expiry: Option<Expiry>,
        now: Timestamp,
        policy: EvictionPolicy,
    ) -> V {
        let old_weight;
        let old = {
            let n = self.node_mut(idx);
            old_weight = n.weight;
            n.weight = weight;
            if let Some(e) = expiry {
                n.expiry = e;
            }
            n.last_access = now;
            std::mem::replace(&mut n.value, value)
        };
        self.weight = self.weight - old_weight + weight;
        self.stats.inserts += 1;
        self.reindex(idx);
        if policy != EvictionPolicy::Random && self.head != idx {
            self.unlink(idx);
            self.push_front(idx);
        }
        old
    }

    /// Changes the expiry of `idx`.
    pub(crate) fn set_expiry(&mut self, idx: u32, expiry: Expiry) {
        self.node_mut(idx).expiry = expiry;
        self.reindex(idx);
    }

    /// Removes `idx` and returns its node.
    pub(crate) fn remove(&mut self, idx: u32) -> Node<K, V> {
        self.unlink(idx);
        let (hash, deadline) = {
            let n = self.node(idx);
            (n.hash, n.indexed_deadline)
        };
        if let Some(d) = deadline {
            self.expiry_index.remove(&(d, idx));
        }
        if let Ok(entry) = self.table.find_entry(hash, |&i| i == idx) {
            entry.remove();
        }
        let node = match self.slab.get_mut(idx as usize).and_then(Option::take) {
            Some(n) => n,
            None => unreachable!("strata-memory: removing a free slab slot {idx}"),
        };
        self.free.push(idx);
        self.len -= 1;
        self.weight -= node.weight;
        if self.len == 0 {
            // Give memory back after a clear.
            self.slab.clear();
            self.free.clear();
            self.table.shrink_to_fit(|_| 0);
        }
        node
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// The entry the policy would evict, never `protect`.
    pub(crate) fn victim(&mut self, policy: EvictionPolicy, protect: Option<u32>) -> Option<u32> {
        let lru_victim = |s: &Self| {
            let mut idx = s.tail;
            while idx != NIL && Some(idx) == protect {
                idx = s.node(idx).prev;
            }
            (idx != NIL).then_some(idx)
        };
        match policy {
            EvictionPolicy::Lru => lru_victim(self),
            EvictionPolicy::TtlSoonest => self
                .expiry_index
                .iter()
                .map(|&(_, idx)| idx)
                .find(|&idx| Some(idx) != protect)
                .or_else(|| lru_victim(self)),
            EvictionPolicy::Random => {
                let slots = self.slab.len() as u64;
                if slots == 0 {
                    return None;
                }
                for _ in 0..16 {
                    let idx = (self.next_random() % slots) as u32;
                    if Some(idx) != protect && matches!(self.slab.get(idx as usize), Some(Some(_)))
                    {
                        return Some(idx);
                    }
                }
                lru_victim(self)
            }
        }
    }

    /// Removes up to `limit` expired entries.
    pub(crate) fn pop_expired(&mut self, now: Timestamp, limit: usize) -> Vec<Node<K, V>> {
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(&(deadline, idx)) = self.expiry_index.first() else {
                break;
            };
            if deadline > now {
                break;
            }
            out.push(self.remove(idx));
        }
        out
    }

    /// Indices of every node, in recency order (most recent first).
    pub(crate) fn indices(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.len as usize);
        let mut idx = self.head;
        while idx != NIL {
            out.push(idx);
            idx = self.node(idx).next;
        }
        out
    }
}
