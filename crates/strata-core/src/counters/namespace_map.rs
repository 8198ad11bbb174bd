//! [`NamespaceMap`]: a bounded, lock-free table keyed by interned namespace.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::key::Namespace;

struct Slot<T> {
    /// The address of the interned name; 0 while the slot is free.
    addr: AtomicUsize,
    value: OnceLock<(Namespace, T)>,
}

/// A table from [`Namespace`] to `T`, created on first use, that never locks and never grows.
///
/// Namespaces are interned, so the address of a name identifies it: a lookup hashes one
/// integer and compares integers. Slots are claimed with one compare-and-swap and never
/// released. When every slot is taken, further namespaces share the overflow value
/// ([`NamespaceMap::overflow`]), so a caller minting namespaces per request cannot make the
/// table grow without bound.
pub struct NamespaceMap<T> {
    slots: Box<[Slot<T>]>,
    /// `usize::BITS - log2(slots.len())`: keeps the top bits of the hash.
    shift: u32,
    overflow: T,
}

impl<T: Default> NamespaceMap<T> {
    /// A table with room for at least `capacity` namespaces (rounded up to a power of two,
    /// at least 8) before they share the overflow value.
    pub fn with_capacity(capacity: usize) -> Self {
        let n = capacity.max(8).next_power_of_two();
        NamespaceMap {
            slots: (0..n)
                .map(|_| Slot {
                    addr: AtomicUsize::new(0),
                    value: OnceLock::new(),
                })
                .collect(),
            shift: usize::BITS - n.trailing_zeros(),
            overflow: T::default(),
        }
    }

    /// The value of `ns`, created with `T::default()` on first use (the overflow value when
    /// the table is full).
    #[inline]
    pub fn get_or_default(&self, ns: &Namespace) -> &T {
        self.get_or_insert_with(ns, T::default)
    }

    /// [`NamespaceMap::get_or_insert_with_index`] with `T::default()`.
    #[inline]
    pub fn get_or_default_with_index(&self, ns: &Namespace) -> (usize, &T) {
        self.get_or_insert_with_index(ns, T::default)
    }
}

impl<T> NamespaceMap<T> {
    fn start(&self, addr: usize) -> usize {
        // Fibonacci hashing of the address: the top bits of the product mix all of its bits.
        addr.wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize)
            .checked_shr(self.shift)
            .unwrap_or(0)
    }

    /// The value of `ns`, created with `make` on first use (the overflow value when the table
    /// is full).
    #[inline]
    pub fn get_or_insert_with(&self, ns: &Namespace, make: impl FnOnce() -> T) -> &T {
        self.get_or_insert_with_index(ns, make).1
    }

    /// The index of `ns`'s slot and its value, created with `make` on first use. The index is
    /// below [`NamespaceMap::capacity`], and stays `ns`'s for the table's life; when the
    /// table is full it is `capacity()` and the value is the overflow value. Callers keep
    /// per-namespace data of their own in arrays indexed by it (`capacity() + 1` long).
    #[inline]
    pub fn get_or_insert_with_index(
        &self,
        ns: &Namespace,
        make: impl FnOnce() -> T,
    ) -> (usize, &T) {
        let addr = ns.as_str().as_ptr() as usize;
        let mask = self.slots.len() - 1;
        let mut i = self.start(addr);
        for _ in 0..self.slots.len() {
            let slot = &self.slots[i];
            let current = slot.addr.load(Ordering::Acquire);
            let claimed = if current == addr {
                true
            } else if current == 0 {
                match slot
                    .addr
                    .compare_exchange(0, addr, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => true,
                    Err(other) => other == addr,
                }
            } else {
                false
            };
            if claimed {
                return (i, &slot.value.get_or_init(|| (*ns, make())).1);
            }
            i = (i + 1) & mask;
        }
        (self.slots.len(), &self.overflow)
    }

    /// The value of `ns` when it has one of its own.
    pub fn get(&self, ns: &Namespace) -> Option<&T> {
        let addr = ns.as_str().as_ptr() as usize;
        let mask = self.slots.len() - 1;
        let mut i = self.start(addr);
        for _ in 0..self.slots.len() {
            let slot = &self.slots[i];
            match slot.addr.load(Ordering::Acquire) {
                0 => return None,
                a if a == addr => return slot.value.get().map(|(_, v)| v),
                _ => i = (i + 1) & mask,
            }
        }
        None
    }

    /// The value namespaces share once the table is full.
    pub fn overflow(&self) -> &T {
        &self.overflow
    }

    /// Every namespace with a value of its own, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Namespace, &T)> {
        self.iter_indexed().map(|(_, ns, v)| (ns, v))
    }

    /// Every namespace with a value of its own with its slot's index (as
    /// [`NamespaceMap::get_or_insert_with_index`] gives it), in no particular order.
    pub fn iter_indexed(&self) -> impl Iterator<Item = (usize, Namespace, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.value.get().map(|(ns, v)| (i, *ns, v)))
    }

    /// How many namespaces the table holds before they share the overflow value.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

impl<T: fmt::Debug> fmt::Debug for NamespaceMap<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn values_are_per_namespace_and_bounded() {
        let map: NamespaceMap<AtomicU64> = NamespaceMap::with_capacity(8);
        let names: Vec<Namespace> = (0..20)
            .map(|i| Namespace::new(format!("nsmap-{i}")).unwrap())
            .collect();
        for (i, ns) in names.iter().enumerate() {
            map.get_or_default(ns)
                .fetch_add(i as u64, Ordering::Relaxed);
        }
        assert_eq!(map.iter().count(), 8);
        for (i, ns) in names.iter().enumerate().take(8) {
            assert_eq!(map.get(ns).unwrap().load(Ordering::Relaxed), i as u64);
        }
        for (i, ns, _) in map.iter_indexed() {
            assert_eq!(map.get_or_default_with_index(&ns).0, i);
        }
        assert_eq!(map.get_or_default_with_index(&names[19]).0, map.capacity());
        let overflow: u64 = (8..20).sum();
        assert_eq!(map.overflow().load(Ordering::Relaxed), overflow);
        assert!(map.get(&names[19]).is_none());
    }

    #[test]
    fn concurrent_first_use_creates_one_value() {
        let map: std::sync::Arc<NamespaceMap<AtomicU64>> =
            std::sync::Arc::new(NamespaceMap::with_capacity(16));
        let ns = Namespace::new("nsmap-race").unwrap();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let map = map.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        map.get_or_default(&ns).fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(map.get(&ns).unwrap().load(Ordering::Relaxed), 4000);
        assert_eq!(map.iter().count(), 1);
    }
}
