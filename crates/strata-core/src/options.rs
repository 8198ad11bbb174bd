//! Options and outcomes of store operations.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Timestamp;
use crate::codec::{CodecId, Fingerprint};
use crate::entry::Meta;
use crate::error::{Error, Result};
use crate::key::Tag;

/// How long a value lives.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ttl {
    /// The value does not expire.
    Never,
    /// The value expires after this long (must be at least one millisecond).
    After(Duration),
}

impl Ttl {
    /// A TTL of `secs` seconds.
    pub const fn secs(secs: u64) -> Self {
        Ttl::After(Duration::from_secs(secs))
    }

    /// A TTL of `millis` milliseconds.
    pub const fn millis(millis: u64) -> Self {
        Ttl::After(Duration::from_millis(millis))
    }

    /// Checks the TTL is representable by every backend: zero and sub-millisecond TTLs are
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument).
    pub fn validate(self) -> Result<Self> {
        match self {
            Ttl::After(d) if d < Duration::from_millis(1) => Err(Error::invalid_argument(format!(
                "ttl {d:?} is under the minimum of 1ms; use Ttl::Never for no expiry"
            ))),
            Ttl::After(d) if d.as_millis() > u128::from(i64::MAX as u64) => {
                Err(Error::invalid_argument(format!("ttl {d:?} is too large")))
            }
            other => Ok(other),
        }
    }

    /// The duration, or `None` for [`Ttl::Never`].
    pub fn duration(self) -> Option<Duration> {
        match self {
            Ttl::Never => None,
            Ttl::After(d) => Some(d),
        }
    }
}

impl From<Duration> for Ttl {
    fn from(d: Duration) -> Self {
        Ttl::After(d)
    }
}

/// When a write happens.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SetMode {
    /// Always write (Redis `SET`).
    #[default]
    Always,
    /// Write only when the key holds no live value (Redis `SET NX`).
    IfAbsent,
    /// Write only when the key holds a live value (Redis `SET XX`).
    IfPresent,
}

/// Options for `set` and `set_many`.
///
/// ```
/// use std::time::Duration;
/// use strata_core::{SetOptions, Tag};
/// let opts = SetOptions::new()
///     .ttl(Duration::from_secs(60))
///     .tag(Tag::new("team:7").unwrap())
///     .only_if_absent();
/// assert_eq!(opts.tags.len(), 1);
/// ```
#[non_exhaustive]
#[derive(Clone, Default)]
pub struct SetOptions {
    /// Time to live; `None` uses the store's default.
    pub ttl: Option<Ttl>,
    /// Time to idle: the value expires when not read for this long (stores with
    /// [`Capabilities::TIME_TO_IDLE`](crate::Capabilities::TIME_TO_IDLE)).
    pub tti: Option<Duration>,
    /// Tags to attach.
    pub tags: Vec<Tag>,
    /// Conditional write.
    pub mode: SetMode,
    /// The codec the bytes were encoded with (recorded in the entry's metadata).
    pub codec: CodecId,
    /// The type fingerprint of the encoded value, if the writer checks one.
    pub fingerprint: Option<Fingerprint>,
    /// The decoded value, which an in-process store may keep beside the bytes so a typed
    /// reader need not decode again. Remote stores ignore it.
    pub decoded: Option<Arc<dyn Any + Send + Sync>>,
    /// Fail-safe: how long the value stays in the store after its TTL ran out, readable as
    /// *stale* (its [`Meta::logical_expiry`](crate::Meta::logical_expiry) is the TTL, its
    /// physical expiry this much later), so a load that fails can still answer with it.
    /// Ignored without a TTL.
    pub stale_for: Option<Duration>,
    /// A read-through fill: the value was loaded from the source after a miss (the load
    /// engine sets it). Plain stores ignore it; a coherent tiered store writes a fill only if
    /// nothing invalidated the key since its miss (a fenced fill) and never broadcasts it.
    pub fill: bool,
    /// When the value was first written, for a copy of a value another store holds (a
    /// promotion from L2 into L1): the entry records it as its
    /// [`Meta::created_at`](crate::Meta::created_at) instead of the time of this write, so
    /// the copy reports the same age as the original. Expiry still counts from this write.
    /// `None`: now.
    pub created_at: Option<Timestamp>,
}

impl SetOptions {
    /// Default options: store default TTL, no tags, unconditional.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the time to live.
    pub fn ttl(mut self, ttl: impl Into<Ttl>) -> Self {
        self.ttl = Some(ttl.into());
        self
    }

    /// The value never expires.
    pub fn no_expiry(mut self) -> Self {
        self.ttl = Some(Ttl::Never);
        self
    }

    /// Records `at` as the entry's write time (a copy of a value written then; see
    /// [`SetOptions::created_at`]).
    pub fn created_at(mut self, at: Timestamp) -> Self {
        self.created_at = Some(at);
        self
    }

    /// Keeps the value `window` past its TTL as a stale fallback (fail-safe).
    pub fn fail_safe(mut self, window: Duration) -> Self {
        self.stale_for = Some(window);
        self
    }

    /// The value's logical and physical lifetimes for a TTL of `ttl` (the options' own TTL
    /// already resolved against a store default): the physical one adds the fail-safe window.
    pub fn lifetimes(&self, ttl: Option<Duration>) -> (Option<Duration>, Option<Duration>) {
        let physical = ttl.map(|t| t.saturating_add(self.stale_for.unwrap_or_default()));
        (ttl, physical)
    }

    /// The metadata of a value written at `now` with these options and a TTL of `ttl` (the
    /// options' own TTL already resolved against a store default): write time
    /// ([`SetOptions::created_at`], else `now`), logical and physical expiry (the physical
    /// one past the fail-safe window), tags, codec, fingerprint and time to idle. Returns the
    /// physical lifetime too, which is how long a store keeps the value.
    pub fn meta(&self, now: Timestamp, ttl: Option<Duration>) -> (Meta, Option<Duration>) {
        let (logical, physical) = self.lifetimes(ttl);
        let mut meta = Meta::new(
            self.created_at.unwrap_or(now),
            logical.map(|d| now.saturating_add(d)),
        )
        .with_tags(self.tags.clone())
        .with_codec(self.codec)
        .with_fingerprint(self.fingerprint)
        .with_tti(self.tti);
        meta.physical_expiry = physical.map(|d| now.saturating_add(d));
        (meta, physical)
    }

    /// Sets the time to idle.
    pub fn tti(mut self, tti: Duration) -> Self {
        self.tti = Some(tti);
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, tag: Tag) -> Self {
        self.tags.push(tag);
        self
    }

    /// Adds tags.
    pub fn tags(mut self, tags: impl IntoIterator<Item = Tag>) -> Self {
        self.tags.extend(tags);
        self
    }

    /// Writes only if the key is absent.
    pub fn only_if_absent(mut self) -> Self {
        self.mode = SetMode::IfAbsent;
        self
    }

    /// Writes only if the key is present.
    pub fn only_if_present(mut self) -> Self {
        self.mode = SetMode::IfPresent;
        self
    }

    /// Records the codec.
    pub fn codec(mut self, codec: CodecId) -> Self {
        self.codec = codec;
        self
    }

    /// Records the type fingerprint.
    pub fn fingerprint(mut self, fingerprint: Option<Fingerprint>) -> Self {
        self.fingerprint = fingerprint;
        self
    }

    /// Offers the decoded value to in-process stores.
    pub fn decoded(mut self, value: Arc<dyn Any + Send + Sync>) -> Self {
        self.decoded = Some(value);
        self
    }

    /// Marks the write as a read-through fill (see [`SetOptions::fill`](#structfield.fill)).
    pub fn as_fill(mut self) -> Self {
        self.fill = true;
        self
    }

    /// Validates the TTL and time to idle.
    pub fn validate(&self) -> Result<()> {
        if let Some(ttl) = self.ttl {
            ttl.validate()?;
        }
        if let Some(tti) = self.tti
            && tti < Duration::from_millis(1)
        {
            return Err(Error::invalid_argument(format!(
                "time to idle {tti:?} is under the minimum of 1ms"
            )));
        }
        if let Some(window) = self.stale_for
            && window < Duration::from_millis(1)
        {
            return Err(Error::invalid_argument(format!(
                "fail-safe window {window:?} is under the minimum of 1ms"
            )));
        }
        Ok(())
    }
}

impl fmt::Debug for SetOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetOptions")
            .field("ttl", &self.ttl)
            .field("tti", &self.tti)
            .field("tags", &self.tags)
            .field("mode", &self.mode)
            .field("codec", &self.codec)
            .field("fingerprint", &self.fingerprint)
            .field("decoded", &self.decoded.is_some())
            .field("stale_for", &self.stale_for)
            .field("fill", &self.fill)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// What a `set` did.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetOutcome {
    /// The value was written.
    Stored,
    /// A condition (`IfAbsent`/`IfPresent`) was not met; nothing changed.
    NotStored,
}

impl SetOutcome {
    /// True when the value was written.
    pub fn is_stored(self) -> bool {
        self == SetOutcome::Stored
    }
}

/// The remaining lifetime of a key.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TtlState {
    /// No live value under the key.
    Missing,
    /// A live value that does not expire.
    NoExpiry,
    /// A live value that expires after this long.
    Remaining(Duration),
}
