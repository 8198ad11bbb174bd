//! [`Explain`]: what a store knows about one key, for people debugging a cache. Never the value.
//!
//! [`Store::explain`](crate::Store::explain) answers it. A backend fills one [`TierReport`]
//! (does it hold the key, since when, for how long, with which tags and codec); a tier of two
//! stores reports both; layers enrich the report on the way out: governance adds the
//! [`PolicyReport`] of the rule that governs the key's TTL, analytics the last
//! [`InvalidationReport`] that touched it. Reading a report counts as no read: no hit, no
//! miss, no recency or idle-time refresh.
//!
//! ```
//! use std::time::Duration;
//! use strata_core::{Entry, Explain, Key, Meta, Namespace, Timestamp, TierReport, TtlState};
//!
//! let key = Key::new(&Namespace::new("users")?, "42")?;
//! let written = Timestamp::from_millis(1_000);
//! let meta = Meta::new(written, Some(Timestamp::from_millis(61_000)));
//! let entry = Entry::new(bytes::Bytes::from_static(b"{}"), meta);
//! let now = Timestamp::from_millis(21_000);
//! let report = Explain::new(&key).tier(TierReport::from_entry(
//!     "memory",
//!     &entry,
//!     now,
//!     TtlState::Remaining(Duration::from_secs(40)),
//! ));
//! assert!(report.is_present());
//! assert_eq!(report.tiers[0].age, Some(Duration::from_secs(20)));
//! assert_eq!(report.tiers[0].original_ttl, Some(Duration::from_secs(60)));
//! # Ok::<(), strata_core::Error>(())
//! ```

use std::borrow::Cow;
use std::time::Duration;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::codec::CodecId;
use crate::entry::Entry;
use crate::invalidation::InvalidationReason;
use crate::key::{Key, Tag};
use crate::options::TtlState;

/// What a store (and the layers around it) know about one key. Never carries the value.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explain {
    /// The key, written `namespace:id`.
    pub key: String,
    /// One report per store that was asked, outermost tier first.
    pub tiers: Vec<TierReport>,
    /// The policy that governs the key's TTL, when a governance layer is present.
    pub policy: Option<PolicyReport>,
    /// The last recorded invalidation that selected the key, when an analytics layer is
    /// present and remembers one.
    pub last_invalidation: Option<InvalidationReport>,
    /// Free-form remarks layers add (one sentence each).
    pub notes: Vec<String>,
}

impl Explain {
    /// An empty report for `key`.
    pub fn new(key: &Key) -> Self {
        Explain {
            key: key.to_string(),
            tiers: Vec::new(),
            policy: None,
            last_invalidation: None,
            notes: Vec::new(),
        }
    }

    /// Adds a tier's report.
    pub fn tier(mut self, tier: TierReport) -> Self {
        self.tiers.push(tier);
        self
    }

    /// Adds a remark.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// True when some tier holds a live value under the key.
    pub fn is_present(&self) -> bool {
        self.tiers.iter().any(|t| t.present)
    }

    /// The first tier holding the key, outermost first.
    pub fn holder(&self) -> Option<&TierReport> {
        self.tiers.iter().find(|t| t.present)
    }

    /// The tags of the value in the first tier holding it (empty when absent).
    pub fn tags(&self) -> &[Tag] {
        self.holder().map_or(&[], |t| &t.tags)
    }
}

/// What one store knows about the key.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TierReport {
    /// The store's name (`memory`, `redis`, ...).
    pub store: Cow<'static, str>,
    /// The tier the store plays in a tiered cache (`l1`, `l2`), when it is one.
    pub tier: Option<Cow<'static, str>>,
    /// True when the store holds a live value under the key.
    pub present: bool,
    /// When the value was written.
    #[serde(serialize_with = "ser::timestamp", rename = "created_at_ms")]
    pub created_at: Option<Timestamp>,
    /// How long ago it was written.
    #[serde(serialize_with = "ser::duration", rename = "age_ms")]
    pub age: Option<Duration>,
    /// Its remaining time to live.
    #[serde(serialize_with = "ser::ttl_state", rename = "remaining_ms")]
    pub remaining: TtlState,
    /// The time to live it was written with (expiry minus creation), when it expires.
    #[serde(serialize_with = "ser::duration", rename = "original_ttl_ms")]
    pub original_ttl: Option<Duration>,
    /// True when it is past its logical expiry and kept only to be served stale.
    pub stale: bool,
    /// Its tags.
    pub tags: Vec<Tag>,
    /// The codec its bytes are encoded with.
    pub codec: Option<CodecId>,
    /// The length of its encoded bytes (the bytes themselves are never reported).
    pub value_len: Option<u64>,
}

impl TierReport {
    /// `store` does not hold the key.
    pub fn absent(store: impl Into<Cow<'static, str>>) -> Self {
        TierReport {
            store: store.into(),
            tier: None,
            present: false,
            created_at: None,
            age: None,
            remaining: TtlState::Missing,
            original_ttl: None,
            stale: false,
            tags: Vec::new(),
            codec: None,
            value_len: None,
        }
    }

    /// `store` holds `entry`; `now` is the store's time and `remaining` its remaining TTL.
    pub fn from_entry(
        store: impl Into<Cow<'static, str>>,
        entry: &Entry,
        now: Timestamp,
        remaining: TtlState,
    ) -> Self {
        let meta = entry.meta();
        TierReport {
            store: store.into(),
            tier: None,
            present: true,
            created_at: Some(meta.created_at),
            age: Some(now.saturating_duration_since(meta.created_at)),
            remaining,
            original_ttl: meta
                .logical_expiry
                .map(|e| e.saturating_duration_since(meta.created_at)),
            stale: meta.is_stale_at(now),
            tags: meta.tags.to_vec(),
            codec: Some(meta.codec),
            value_len: Some(entry.value().len() as u64),
        }
    }

    /// Names the tier the store plays (`l1`, `l2`).
    pub fn in_tier(mut self, tier: impl Into<Cow<'static, str>>) -> Self {
        self.tier = Some(tier.into());
        self
    }
}

/// The rule that governs a key's TTL, as a governance layer reports it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyReport {
    /// Who reported (`governance`).
    pub source: Cow<'static, str>,
    /// The rule, such as `namespace curves (built-in)`.
    pub rule: String,
    /// The TTL a write without one gets.
    #[serde(serialize_with = "ser::duration", rename = "default_ttl_ms")]
    pub default_ttl: Option<Duration>,
    /// The shortest TTL allowed.
    #[serde(serialize_with = "ser::duration", rename = "floor_ms")]
    pub floor: Option<Duration>,
    /// The longest TTL allowed.
    #[serde(serialize_with = "ser::duration", rename = "ceiling_ms")]
    pub ceiling: Option<Duration>,
    /// How the rule is enforced (`warn`, `clamp`, `reject`).
    pub mode: Cow<'static, str>,
    /// How the value's TTL relates to the rule, in a sentence.
    pub ttl_decision: String,
}

impl PolicyReport {
    /// A report from `source` naming `rule`, enforced in `mode`, with a sentence on how the
    /// value's TTL relates to it; the bounds start empty (set the public fields).
    pub fn new(
        source: impl Into<Cow<'static, str>>,
        rule: impl Into<String>,
        mode: impl Into<Cow<'static, str>>,
        ttl_decision: impl Into<String>,
    ) -> Self {
        PolicyReport {
            source: source.into(),
            rule: rule.into(),
            default_ttl: None,
            floor: None,
            ceiling: None,
            mode: mode.into(),
            ttl_decision: ttl_decision.into(),
        }
    }
}

/// An invalidation that selected the key.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvalidationReport {
    /// When it ran.
    #[serde(serialize_with = "ser::timestamp_required", rename = "at_ms")]
    pub at: Timestamp,
    /// What it selected, as [`Selector`](crate::Selector) displays it.
    pub selector: String,
    /// Why.
    pub reason: InvalidationReason,
    /// Who asked.
    pub triggered_by: Option<String>,
    /// How many entries it removed in all.
    pub removed: u64,
}

impl InvalidationReport {
    /// An invalidation that ran `at`, selected `selector` for `reason`, asked by
    /// `triggered_by`, and removed `removed` entries.
    pub fn new(
        at: Timestamp,
        selector: impl Into<String>,
        reason: InvalidationReason,
        triggered_by: Option<String>,
        removed: u64,
    ) -> Self {
        InvalidationReport {
            at,
            selector: selector.into(),
            reason,
            triggered_by,
            removed,
        }
    }
}

/// Serializers for the report's times: milliseconds, so a JSON reader needs no Rust types.
mod ser {
    use std::time::Duration;

    use serde::Serializer;

    use crate::clock::Timestamp;
    use crate::options::TtlState;

    pub(super) fn timestamp<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.as_millis()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn timestamp_required<S: Serializer>(
        t: &Timestamp,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_u64(t.as_millis())
    }

    pub(super) fn duration<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }

    /// `"missing"`, `"no_expiry"` or the remaining milliseconds.
    pub(super) fn ttl_state<S: Serializer>(t: &TtlState, s: S) -> Result<S::Ok, S::Error> {
        match t {
            TtlState::Missing => s.serialize_str("missing"),
            TtlState::NoExpiry => s.serialize_str("no_expiry"),
            TtlState::Remaining(d) => s.serialize_u64(d.as_millis() as u64),
        }
    }
}
