//! One shard: a hash table over a slab of nodes, intrusive lists, an expiry index, and the
//! adaptive policy's sketch and hill climber.
//!
//! Reads run under the shard's shared lock and only touch a node's atomics (its access state
//! and, for time-to-idle entries, its deadline). Everything else runs under the exclusive lock.
//! No method calls back into user code.

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use hashbrown::{HashMap, HashTable};
use strata_core::{EvictionCounts, Timestamp};

use super::policy::EvictionPolicy;
use super::policy::lead::{Lead, outranks};
use super::policy::sketch::{MAX_COUNT, Sketch};

const NIL: u32 = u32::MAX;

/// The entries a new shard's frequency sketch is first sized for.
const INITIAL_SKETCH: u64 = 4_096;

/// The lists a node can be on. The simple policies use only `WINDOW`.
const WINDOW: usize = 0;
const PROBATION: usize = 1;
const PROTECTED: usize = 2;

/// Access state bits: the low four count hits (saturating), bit 4 is "referenced since the
/// policy last looked".
const FREQ_MASK: u8 = 0x0F;
const REFERENCED: u8 = 0x10;

/// Every bit of the access state.
const STATE_MASK: u8 = FREQ_MASK | REFERENCED;

/// The access state after a hit, by the state before: referenced, and the count one higher
/// unless saturated. A table lookup instead of the mask, compare and select on every hit.
const TOUCHED: [u8; 32] = {
    let mut table = [0; 32];
    let mut s = 0;
    while s < table.len() {
        let f = s as u8 & FREQ_MASK;
        table[s] = REFERENCED | if f < MAX_COUNT { f + 1 } else { f };
        s += 1;
    }
    table
};

/// Node flag: the node has a time to idle (see `Shard::idle`).
const FLAG_TTI: u8 = 1;

/// The protected segment's share of the main space: 4/5 (integers, so a write computes it
/// without a float conversion).
const PROTECTED_SHARE: (u64, u64) = (4, 5);
/// How many referenced entries one eviction may pass over before it takes one anyway.
const SECOND_CHANCES: usize = 64;

/// Expiry settings of an entry, as written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Expiry {
    pub(crate) ttl_deadline: Option<Timestamp>,
    pub(crate) tti: Option<Duration>,
}

/// Time-to-idle bookkeeping, kept beside the node for the few entries that have one.
#[derive(Clone, Copy, Debug)]
struct Idle {
    ttl_deadline: u64,
    tti: u64,
    /// The deadline under which the node is in the expiry index.
    indexed: u64,
}

pub(crate) struct Node<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    /// Nanoseconds since the epoch; 0 = never.
    deadline: AtomicU64,
    /// Never zero (a zero weight counts as one), which also lets `Slot` use it as its niche:
    /// a free slot costs no tag.
    pub(crate) weight: NonZeroU32,
    prev: u32,
    next: u32,
    state: AtomicU8,
    list: u8,
    flags: u8,
}

impl<K, V> Node<K, V> {
    #[inline]
    fn deadline(&self) -> u64 {
        self.deadline.load(Ordering::Relaxed)
    }

    #[inline]
    pub(crate) fn is_expired(&self, now: Timestamp) -> bool {
        let d = self.deadline();
        d != 0 && d <= now.as_nanos()
    }

    /// Time left at `now`: `None` when the node never expires.
    pub(crate) fn remaining(&self, now: Timestamp) -> Option<Duration> {
        match self.deadline() {
            0 => None,
            d => Some(Duration::from_nanos(d.saturating_sub(now.as_nanos()))),
        }
    }

    /// Whether the node can expire at all. A time-to-idle node always has a deadline (at least
    /// 1), so a node without one has no expiry state of any kind: not in the expiry index, no
    /// idle data.
    #[inline]
    pub(crate) fn has_deadline(&self) -> bool {
        self.deadline() != 0
    }

    fn freq(&self) -> u8 {
        self.state.load(Ordering::Relaxed) & FREQ_MASK
    }

    /// Marks a hit: referenced, and one more in the saturating counter. Racing hits may
    /// lose an increment; the counter is an estimate.
    #[inline]
    pub(crate) fn touch(&self) {
        let s = self.state.load(Ordering::Relaxed);
        let next = TOUCHED[usize::from(s & STATE_MASK)];
        if next != s {
            self.state.store(next, Ordering::Relaxed);
        }
    }

    fn take_referenced(&self) -> bool {
        let s = self.state.load(Ordering::Relaxed);
        if s & REFERENCED != 0 {
            self.state.store(s & !REFERENCED, Ordering::Relaxed);
            true
        } else {
            false
        }
    }
}

enum Slot<K, V> {
    Occupied(Node<K, V>),
    Free,
}

#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
    len: u64,
}

impl List {
    const EMPTY: List = List {
        head: NIL,
        tail: NIL,
        len: 0,
    };
}

/// Counters kept under the exclusive lock.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ShardStats {
    pub(crate) inserts: u64,
    pub(crate) evictions: EvictionCounts,
}

/// The adaptive policy's state.
struct Adaptive {
    sketch: Sketch,
    /// The window's share of the capacity, as the cache's tuner last chose it.
    share: f64,
    /// The shard's share of the cache's entry limit (0: none; the current size is used).
    capacity: u64,
    /// The window's target size for `share` of `capacity` (when `capacity` is not 0),
    /// computed when the share changes rather than on every write.
    window: u64,
    /// The entry most recently moved from the window to probation, not yet judged.
    candidate: u32,
    /// Which candidates must lead the victim by two counts, as the cache's tuner last chose.
    lead: Lead,
}

pub(crate) struct Shard<K, V> {
    table: HashTable<u32>,
    slab: Vec<Slot<K, V>>,
    free: Vec<u32>,
    lists: [List; 3],
    expiry_index: BTreeSet<(u64, u32)>,
    idle: HashMap<u32, Idle>,
    pub(crate) len: u64,
    pub(crate) weight: u64,
    rng: u64,
    policy: EvictionPolicy,
    adaptive: Option<Adaptive>,
    pub(crate) stats: ShardStats,
}

impl<K: Hash + Eq, V> Shard<K, V> {
    /// A shard for a share of `capacity` entries (0 when unbounded).
    pub(crate) fn new(seed: u64, policy: EvictionPolicy, capacity: u64) -> Self {
        let adaptive = (policy == EvictionPolicy::Adaptive).then(|| Adaptive {
            // Sized for what the shard holds, growing with it up to its share of the limit,
            // so a cache configured for millions of entries but holding few stays small.
            sketch: Sketch::new(INITIAL_SKETCH.min(capacity.max(64))),
            share: super::policy::tuner::SHARES[super::policy::tuner::INITIAL_SHARE],
            capacity,
            window: Self::window_of(
                super::policy::tuner::SHARES[super::policy::tuner::INITIAL_SHARE],
                capacity,
            ),
            candidate: NIL,
            lead: Lead::default(),
        });
        Shard {
            table: HashTable::new(),
            slab: Vec::new(),
            free: Vec::new(),
            lists: [List::EMPTY; 3],
            expiry_index: BTreeSet::new(),
            idle: HashMap::new(),
            len: 0,
            weight: 0,
            rng: seed | 1,
            policy,
            adaptive,
            stats: ShardStats::default(),
        }
    }

    #[inline]
    fn node(&self, idx: u32) -> &Node<K, V> {
        match self.slab.get(idx as usize) {
            Some(Slot::Occupied(n)) => n,
            // Indices come only from the table, the lists and the index, which the shard
            // keeps consistent with the slab; reaching this is a bug in this file.
            _ => unreachable!("strata-memory: dangling slab index {idx}"),
        }
    }

    #[inline]
    fn node_mut(&mut self, idx: u32) -> &mut Node<K, V> {
        match self.slab.get_mut(idx as usize) {
            Some(Slot::Occupied(n)) => n,
            _ => unreachable!("strata-memory: dangling slab index {idx}"),
        }
    }

    #[inline]
    pub(crate) fn get_node(&self, idx: u32) -> &Node<K, V> {
        self.node(idx)
    }

    #[inline]
    pub(crate) fn find<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let slab = &self.slab;
        self.table
            .find(hash, |&idx| {
                matches!(slab.get(idx as usize), Some(Slot::Occupied(n)) if n.key.borrow() == key)
            })
            .copied()
    }

    // --- reads (shared lock) ------------------------------------------------------------

    /// Records a hit on `idx` at `now`: access state and, for idle-expiring nodes, the
    /// deadline. Safe under the shared lock.
    #[inline]
    pub(crate) fn touch_shared(&self, idx: u32, now: Option<Timestamp>) {
        let node = self.node(idx);
        node.touch();
        if node.flags & FLAG_TTI != 0
            && let (Some(now), Some(idle)) = (now, self.idle.get(&idx))
        {
            let by_idle = now.as_nanos().saturating_add(idle.tti);
            let d = if idle.ttl_deadline == 0 {
                by_idle
            } else {
                by_idle.min(idle.ttl_deadline)
            };
            node.deadline.store(d.max(1), Ordering::Relaxed);
        }
    }

    /// Whether hits must reorder a list (and so need the exclusive lock).
    #[inline]
    pub(crate) fn hits_reorder(&self) -> bool {
        self.policy == EvictionPolicy::Lru
    }

    /// Records a hit under the exclusive lock (LRU: move to the newest end).
    pub(crate) fn touch_exclusive(&mut self, idx: u32, now: Option<Timestamp>) {
        self.touch_shared(idx, now);
        if self.policy == EvictionPolicy::Lru && self.lists[WINDOW].tail != idx {
            self.unlink(idx);
            self.push_back(WINDOW, idx);
        }
    }

    // --- lists ---------------------------------------------------------------------------

    // `inline(always)` here and on the list moves below, the second-chance scan and the
    // duel's `frequency`: they run several times per evicting insert, and inlining them saved
    // about 4 % of its instructions (1,226 to 1,180, callgrind, `cache-ops insert`).
    #[inline(always)]
    fn unlink(&mut self, idx: u32) {
        let (prev, next, list) = {
            let n = self.node(idx);
            (n.prev, n.next, n.list as usize)
        };
        if prev == NIL {
            self.lists[list].head = next;
        } else {
            self.node_mut(prev).next = next;
        }
        if next == NIL {
            self.lists[list].tail = prev;
        } else {
            self.node_mut(next).prev = prev;
        }
        self.lists[list].len -= 1;
    }

    #[inline(always)]
    fn push_back(&mut self, list: usize, idx: u32) {
        let old_tail = self.lists[list].tail;
        {
            let n = self.node_mut(idx);
            n.prev = old_tail;
            n.next = NIL;
            n.list = list as u8;
        }
        if old_tail == NIL {
            self.lists[list].head = idx;
        } else {
            self.node_mut(old_tail).next = idx;
        }
        self.lists[list].tail = idx;
        self.lists[list].len += 1;
    }

    #[inline(always)]
    fn move_to(&mut self, list: usize, idx: u32) {
        self.unlink(idx);
        self.push_back(list, idx);
    }

    // --- expiry index ----------------------------------------------------------------------

    fn indexed_deadline(&self, idx: u32) -> u64 {
        let n = self.node(idx);
        if n.flags & FLAG_TTI != 0 {
            self.idle.get(&idx).map_or(0, |i| i.indexed)
        } else {
            n.deadline()
        }
    }

    fn unindex(&mut self, idx: u32) {
        let d = self.indexed_deadline(idx);
        if d != 0 {
            self.expiry_index.remove(&(d, idx));
        }
    }

    /// Drops the time-to-idle data of `idx`. `idle` holds exactly the nodes flagged
    /// `FLAG_TTI`, so the map is looked up only for them (most entries have none).
    fn forget_idle(&mut self, idx: u32) {
        if self.node(idx).flags & FLAG_TTI != 0 {
            self.idle.remove(&idx);
        }
    }

    /// Sets the expiry of `idx` (not yet indexed, or just unindexed) and indexes it.
    fn apply_expiry(&mut self, idx: u32, expiry: Expiry, now: &impl Fn() -> Timestamp) {
        let ttl = expiry.ttl_deadline.map_or(0, |t| t.as_nanos().max(1));
        let (deadline, flags) = match expiry.tti {
            None => {
                self.forget_idle(idx);
                (ttl, 0)
            }
            Some(tti) => {
                let tti = u64::try_from(tti.as_nanos()).unwrap_or(u64::MAX);
                let by_idle = now().as_nanos().saturating_add(tti).max(1);
                let d = if ttl == 0 { by_idle } else { by_idle.min(ttl) };
                self.idle.insert(
                    idx,
                    Idle {
                        ttl_deadline: ttl,
                        tti,
                        indexed: d,
                    },
                );
                (d, FLAG_TTI)
            }
        };
        let n = self.node_mut(idx);
        n.deadline.store(deadline, Ordering::Relaxed);
        n.flags = (n.flags & !FLAG_TTI) | flags;
        if deadline != 0 {
            self.expiry_index.insert((deadline, idx));
        }
    }

    /// The expiry settings `idx` was written with.
    pub(crate) fn expiry_of(&self, idx: u32) -> Expiry {
        let n = self.node(idx);
        if n.flags & FLAG_TTI != 0
            && let Some(i) = self.idle.get(&idx)
        {
            return Expiry {
                ttl_deadline: (i.ttl_deadline != 0).then(|| Timestamp::from_nanos(i.ttl_deadline)),
                tti: Some(Duration::from_nanos(i.tti)),
            };
        }
        Expiry {
            ttl_deadline: match n.deadline() {
                0 => None,
                d => Some(Timestamp::from_nanos(d)),
            },
            tti: None,
        }
    }

    // --- writes (exclusive lock) ----------------------------------------------------------

    /// Inserts a new key; the caller checked it is absent.
    #[allow(clippy::too_many_arguments)] // the parts of one new entry, all needed here
    pub(crate) fn insert_new(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: u32,
        expiry: Expiry,
        now: &impl Fn() -> Timestamp,
        hasher: impl Fn(&K) -> u64,
    ) -> u32 {
        let node = Node {
            key,
            value,
            deadline: AtomicU64::new(0),
            weight: NonZeroU32::new(weight).unwrap_or(NonZeroU32::MIN),
            prev: NIL,
            next: NIL,
            state: AtomicU8::new(0),
            list: WINDOW as u8,
            flags: 0,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = Slot::Occupied(node);
                i
            }
            None => {
                self.slab.push(Slot::Occupied(node));
                (self.slab.len() - 1) as u32
            }
        };
        let slab = &self.slab;
        self.table
            .insert_unique(hash, idx, |&i| match slab.get(i as usize) {
                Some(Slot::Occupied(n)) => hasher(&n.key),
                _ => 0,
            });
        self.push_back(WINDOW, idx);
        // A new node starts with no deadline and no idle data: only an expiry changes that.
        if expiry != Expiry::default() {
            self.apply_expiry(idx, expiry, now);
        }
        self.len += 1;
        self.weight += u64::from(self.node(idx).weight.get());
        self.stats.inserts += 1;
        self.record_access(hash);
        self.drain_window(Some(idx));
        idx
    }

    /// The window's target size for a window of `share` of `capacity` entries: at least one.
    fn window_of(share: f64, capacity: u64) -> u64 {
        ((share * capacity as f64) as u64).max(1)
    }

    /// The window's target size, in entries.
    #[inline]
    fn window_target(&self) -> u64 {
        match &self.adaptive {
            None => u64::MAX,
            Some(a) if a.capacity == 0 => Self::window_of(a.share, self.len),
            Some(a) => a.window,
        }
    }

    /// Moves the window's overflow to probation (adaptive policy), oldest first, giving
    /// referenced entries a second chance in the window. Never moves `protect`. Inlined: the
    /// eviction after a write calls it again, and then the window is within its target.
    #[inline]
    fn drain_window(&mut self, protect: Option<u32>) {
        if self.adaptive.is_some() {
            let target = self.window_target();
            if self.lists[WINDOW].len > target {
                self.drain_window_to(target, protect);
            }
        }
    }

    /// The loop of [`Shard::drain_window`], for a window over `target` entries.
    fn drain_window_to(&mut self, target: u64, protect: Option<u32>) {
        let mut guard = SECOND_CHANCES;
        while self.lists[WINDOW].len > target && guard > 0 {
            guard -= 1;
            let Some(idx) = self.head_after_second_chances(WINDOW, WINDOW, protect) else {
                break;
            };
            self.move_to(PROBATION, idx);
            if let Some(a) = &mut self.adaptive {
                a.candidate = idx;
            }
        }
    }

    /// Replaces the value of `idx`; returns the old value.
    pub(crate) fn replace(
        &mut self,
        idx: u32,
        hash: u64,
        value: V,
        weight: u32,
        expiry: Option<Expiry>,
        now: &impl Fn() -> Timestamp,
    ) -> V {
        // An entry that never expires, written again without an expiry (the common case of
        // a cache without TTLs): nothing to re-index.
        if self.node(idx).has_deadline() || expiry.is_some_and(|e| e != Expiry::default()) {
            let expiry = expiry.unwrap_or_else(|| self.expiry_of(idx));
            self.unindex(idx);
            self.apply_expiry(idx, expiry, now);
        }
        let old_weight;
        let old = {
            let n = self.node_mut(idx);
            old_weight = n.weight.get();
            n.weight = NonZeroU32::new(weight).unwrap_or(NonZeroU32::MIN);
            n.touch();
            std::mem::replace(&mut n.value, value)
        };
        self.weight = self.weight - u64::from(old_weight) + u64::from(weight.max(1));
        self.stats.inserts += 1;
        if self.policy == EvictionPolicy::Lru && self.lists[WINDOW].tail != idx {
            self.move_to(WINDOW, idx);
        }
        self.record_access(hash);
        old
    }

    /// Changes the expiry of `idx`.
    pub(crate) fn set_expiry(&mut self, idx: u32, expiry: Expiry, now: &impl Fn() -> Timestamp) {
        self.unindex(idx);
        self.apply_expiry(idx, expiry, now);
    }

    /// Removes `idx` and returns its node.
    pub(crate) fn remove(&mut self, idx: u32, hash: u64) -> Node<K, V> {
        // Most entries have neither a deadline nor idle data: one load tells.
        if self.node(idx).has_deadline() {
            self.unindex(idx);
            self.forget_idle(idx);
        }
        self.unlink(idx);
        if let Ok(entry) = self.table.find_entry(hash, |&i| i == idx) {
            entry.remove();
        }
        let node = match std::mem::replace(&mut self.slab[idx as usize], Slot::Free) {
            Slot::Occupied(n) => n,
            Slot::Free => unreachable!("strata-memory: removing a free slab slot {idx}"),
        };
        self.free.push(idx);
        self.len -= 1;
        self.weight -= u64::from(node.weight.get());
        // Remember how often the entry was read while it was here.
        if let Some(a) = &mut self.adaptive
            && a.sketch.add(hash, node.freq())
        {
            self.halve_frequencies();
        }
        if self.len == 0 {
            // Give memory back after a clear.
            self.slab = Vec::new();
            self.free = Vec::new();
            self.table = HashTable::new();
            self.idle = HashMap::new();
        }
        node
    }

    fn record_access(&mut self, hash: u64) {
        let len = self.len;
        if let Some(a) = &mut self.adaptive {
            let limit = if a.capacity == 0 {
                u64::MAX
            } else {
                a.capacity
            };
            let sized_for = a.sketch.capacity();
            if len > sized_for && sized_for < limit {
                // Grow (history restarts; this happens only while the shard fills).
                a.sketch = Sketch::new(len.saturating_mul(2).min(limit));
            }
        }
        if let Some(a) = &mut self.adaptive
            && a.sketch.add(hash, 1)
        {
            self.halve_frequencies();
        }
    }

    fn halve_frequencies(&mut self) {
        for slot in &self.slab {
            if let Slot::Occupied(n) = slot {
                let s = n.state.load(Ordering::Relaxed);
                let f = (s & FREQ_MASK) >> 1;
                n.state.store((s & !FREQ_MASK) | f, Ordering::Relaxed);
            }
        }
    }

    /// Sets the window share the cache's tuner chose (adaptive policy).
    pub(crate) fn set_window_share(&mut self, share: f64) {
        if let Some(a) = &mut self.adaptive
            && a.share != share
        {
            a.share = share;
            a.window = Self::window_of(share, a.capacity);
        }
    }

    /// Sets the admission rule the cache's tuner chose (adaptive policy).
    pub(crate) fn set_lead(&mut self, lead: Lead) {
        if let Some(a) = &mut self.adaptive {
            a.lead = lead;
        }
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

    /// The entry to evict next, never `protect`. For the adaptive policy this also moves
    /// entries between segments (window overflow, promotions, demotions) as a side effect.
    pub(crate) fn victim(
        &mut self,
        protect: Option<u32>,
        hasher: &impl Fn(&K) -> u64,
    ) -> Option<u32> {
        let victim = match self.policy {
            EvictionPolicy::Adaptive => self.adaptive_victim(protect, hasher),
            EvictionPolicy::TtlSoonest => self
                .expiry_index
                .iter()
                .map(|&(_, idx)| idx)
                .find(|&idx| Some(idx) != protect),
            EvictionPolicy::Random => {
                let slots = self.slab.len() as u64;
                let mut found = None;
                for _ in 0..16 {
                    if slots == 0 {
                        break;
                    }
                    let idx = (self.next_random() % slots) as u32;
                    if Some(idx) != protect
                        && matches!(self.slab.get(idx as usize), Some(Slot::Occupied(_)))
                    {
                        found = Some(idx);
                        break;
                    }
                }
                found
            }
            // LRU and policies added later: the oldest entry.
            _ => None,
        };
        victim.or_else(|| self.oldest(protect))
    }

    /// The oldest entry on any list, never `protect`.
    fn oldest(&self, protect: Option<u32>) -> Option<u32> {
        for list in [WINDOW, PROBATION, PROTECTED] {
            let mut idx = self.lists[list].head;
            while idx != NIL && Some(idx) == protect {
                idx = self.node(idx).next;
            }
            if idx != NIL {
                return Some(idx);
            }
        }
        None
    }

    /// The head of `list` after giving referenced entries a second chance (moved to the
    /// tail of `list`, or of `promote_to`, with their flag cleared).
    #[inline(always)]
    fn head_after_second_chances(
        &mut self,
        list: usize,
        promote_to: usize,
        protect: Option<u32>,
    ) -> Option<u32> {
        for _ in 0..SECOND_CHANCES {
            let idx = self.lists[list].head;
            if idx == NIL {
                return None;
            }
            if Some(idx) == protect {
                // Skip the entry being written: rotate it to the back of its list.
                if self.lists[list].len == 1 {
                    return None;
                }
                self.move_to(list, idx);
                continue;
            }
            if self.node(idx).take_referenced() {
                self.move_to(promote_to, idx);
                continue;
            }
            return Some(idx);
        }
        let idx = self.lists[list].head;
        (idx != NIL && Some(idx) != protect).then_some(idx)
    }

    /// Predictive admission: counts an access to `hash` (a read this shard missed) in the
    /// frequency sketch, and tells whether an entry for it would be seen more often than the
    /// entry eviction would take next. Without a frequency sketch (policies other than the
    /// adaptive one), or with room to spare (`full` false), it admits. Nothing moves.
    pub(crate) fn admits(&mut self, hash: u64, full: bool, hasher: &impl Fn(&K) -> u64) -> bool {
        self.record_access(hash);
        let Some(a) = &self.adaptive else {
            return true;
        };
        if !full {
            return true;
        }
        let (candidate, lead) = (a.sketch.estimate(hash), a.lead);
        // The entry the duel would face: probation's oldest, else the window's, else the
        // protected segment's.
        let victim = [PROBATION, WINDOW, PROTECTED]
            .into_iter()
            .map(|list| self.lists[list].head)
            .find(|&idx| idx != NIL);
        victim.is_none_or(|idx| outranks(candidate, self.frequency(idx, hasher), lead))
    }

    #[inline(always)]
    fn frequency(&self, idx: u32, hasher: &impl Fn(&K) -> u64) -> u8 {
        let n = self.node(idx);
        let sketched = self
            .adaptive
            .as_ref()
            .map_or(0, |a| a.sketch.estimate(hasher(&n.key)));
        sketched.saturating_add(n.freq()).min(MAX_COUNT)
    }

    /// W-TinyLFU: the newest arrival from the window (the candidate) duels with the oldest
    /// entry of probation (the victim); the candidate is admitted if it [`outranks`] the
    /// victim (or, rarely, at random when it is warm: Caffeine's guard against hash
    /// flooding), else it is evicted.
    fn adaptive_victim(
        &mut self,
        protect: Option<u32>,
        hasher: &impl Fn(&K) -> u64,
    ) -> Option<u32> {
        self.drain_window(protect);
        let window = self.lists[WINDOW].len;
        let main_target = self.len.saturating_sub(window);
        let (num, den) = PROTECTED_SHARE;
        let protected_target = main_target / den * num + main_target % den * num / den;
        // Keep the protected segment within its share: demote its oldest unreferenced
        // entries to probation.
        let mut guard = SECOND_CHANCES;
        while self.lists[PROTECTED].len > protected_target && guard > 0 {
            guard -= 1;
            match self.head_after_second_chances(PROTECTED, PROTECTED, protect) {
                Some(idx) => self.move_to(PROBATION, idx),
                None => break,
            }
        }
        let candidate = self.adaptive.as_ref().map_or(NIL, |a| a.candidate);
        let candidate = (candidate != NIL
            && Some(candidate) != protect
            && matches!(self.slab.get(candidate as usize), Some(Slot::Occupied(n)) if n.list as usize == PROBATION))
        .then_some(candidate);
        if let Some(a) = &mut self.adaptive {
            a.candidate = NIL;
        }
        // The victim: probation's oldest (referenced entries are promoted on the way), else
        // protected's oldest.
        let mut victim = self.head_after_second_chances(PROBATION, PROTECTED, protect);
        if victim.is_none() || victim == candidate {
            victim = self
                .head_after_second_chances(PROTECTED, PROTECTED, protect)
                .or(victim);
        }
        match (candidate, victim) {
            (Some(c), Some(v)) if c != v => {
                let (cf, vf) = (self.frequency(c, hasher), self.frequency(v, hasher));
                let lead = self
                    .adaptive
                    .as_ref()
                    .map_or_else(Lead::default, |a| a.lead);
                let admit =
                    outranks(cf, vf, lead) || (cf >= 6 && self.next_random().is_multiple_of(128));
                Some(if admit { v } else { c })
            }
            (_, Some(v)) => Some(v),
            (Some(c), None) => Some(c),
            (None, None) => self.head_after_second_chances(WINDOW, WINDOW, protect),
        }
    }

    /// Removes up to `limit` expired entries; returns them with their hashes removed.
    pub(crate) fn pop_expired(
        &mut self,
        now: Timestamp,
        limit: usize,
        hasher: &impl Fn(&K) -> u64,
    ) -> Vec<Node<K, V>> {
        let mut out = Vec::new();
        let now = now.as_nanos();
        // Bounded: each pass removes or re-indexes one entry, re-indexed ones move later.
        let mut budget = limit.saturating_mul(2).max(limit);
        while out.len() < limit && budget > 0 {
            budget -= 1;
            let Some(&(indexed, idx)) = self.expiry_index.first() else {
                break;
            };
            if indexed > now {
                break;
            }
            let actual = self.node(idx).deadline();
            if actual != 0 && actual > now {
                // A time-to-idle entry read since it was indexed: index its new deadline.
                self.expiry_index.remove(&(indexed, idx));
                self.expiry_index.insert((actual, idx));
                if let Some(i) = self.idle.get_mut(&idx) {
                    i.indexed = actual;
                }
                continue;
            }
            let hash = hasher(&self.node(idx).key);
            out.push(self.remove(idx, hash));
        }
        out
    }

    /// True when some entry can expire (the expiry index is not empty).
    pub(crate) fn has_expiring(&self) -> bool {
        !self.expiry_index.is_empty()
    }

    /// Indices of every node.
    pub(crate) fn indices(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.len as usize);
        for list in [WINDOW, PROBATION, PROTECTED] {
            let mut idx = self.lists[list].head;
            while idx != NIL {
                out.push(idx);
                idx = self.node(idx).next;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_slot_costs_no_tag() {
        // The weight's niche marks a free slot: a slot is as large as its node (40 bytes
        // for u64 keys and values, part of the bytes-per-entry figure).
        assert_eq!(std::mem::size_of::<Node<u64, u64>>(), 40);
        assert_eq!(std::mem::size_of::<Slot<u64, u64>>(), 40);
    }

    #[test]
    fn a_hit_marks_the_node_referenced_and_counts_up_to_the_maximum() {
        let node = Node {
            key: 1u64,
            value: 1u64,
            deadline: AtomicU64::new(0),
            weight: NonZeroU32::MIN,
            prev: NIL,
            next: NIL,
            state: AtomicU8::new(0),
            list: WINDOW as u8,
            flags: 0,
        };
        for hits in 1..=20u8 {
            node.touch();
            assert_eq!(node.freq(), hits.min(MAX_COUNT));
            assert!(node.take_referenced());
            assert!(!node.take_referenced());
        }
        // Every state, referenced or not, goes to the referenced state one count higher.
        for s in 0..=STATE_MASK {
            node.state.store(s, Ordering::Relaxed);
            node.touch();
            let f = (s & FREQ_MASK).saturating_add(1).min(MAX_COUNT);
            assert_eq!(
                node.state.load(Ordering::Relaxed),
                REFERENCED | f,
                "state {s:#x}"
            );
        }
    }
}
