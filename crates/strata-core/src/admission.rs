//! [`Admission`]: what an L1 can tell a tiered store about a key read from L2 — whether it
//! would keep it — so predictive promotion copies only keys that will earn their place.

use crate::Key;

/// An in-process store that can weigh a key it does not hold against what it would evict
/// for it (the in-memory store does, with its frequency sketch).
///
/// ```
/// use strata_core::{Admission, Key, Namespace};
/// struct AlwaysRoom;
/// impl Admission for AlwaysRoom {
///     fn admits(&self, _key: &Key) -> bool { true }
/// }
/// let key = Key::new(&Namespace::new("users")?, "42")?;
/// assert!(AlwaysRoom.admits(&key));
/// # Ok::<(), strata_core::Error>(())
/// ```
pub trait Admission: Send + Sync + 'static {
    /// Counts an access to `key` (read elsewhere) and tells whether an entry for it would be
    /// kept: the store has room, or `key` is used more than the entry it would evict.
    fn admits(&self, key: &Key) -> bool;
}
