//! Invalidation requests: what to remove, and why.

use std::fmt;

use crate::key::{Key, Namespace, Tag};
use crate::pattern::Pattern;

/// Which entries an invalidation removes.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// One key.
    Key(Key),
    /// Every key of a namespace whose id matches a glob pattern.
    Pattern {
        /// The namespace searched.
        namespace: Namespace,
        /// The pattern matched against ids.
        pattern: Pattern,
    },
    /// Every entry that carries at least one of these tags, in any namespace.
    Tags(Vec<Tag>),
    /// Every entry of a namespace.
    Namespace(Namespace),
    /// Every entry the store holds (under its prefix, for shared backends).
    All,
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Key(k) => write!(f, "key {k}"),
            Selector::Pattern { namespace, pattern } => {
                write!(f, "pattern {namespace}:{pattern}")
            }
            Selector::Tags(tags) => {
                let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
                write!(f, "tags [{}]", names.join(", "))
            }
            Selector::Namespace(ns) => write!(f, "namespace {ns}"),
            Selector::All => f.write_str("all"),
        }
    }
}

/// Why entries were invalidated. The names are the triggers the older cache managers used.
#[non_exhaustive]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvalidationReason {
    /// The time to live ran out.
    TtlExpired,
    /// Someone asked for it.
    #[default]
    Manual,
    /// The source data changed.
    DataChanged,
    /// Space was needed.
    CapacityLimit,
    /// Too many errors were seen for these entries.
    ErrorThreshold,
    /// A pattern matched them.
    PatternBased,
}

/// A request to invalidate entries.
///
/// ```
/// use strata_core::{Invalidation, InvalidationReason, Namespace};
/// let req = Invalidation::namespace(Namespace::new("users").unwrap())
///     .reason(InvalidationReason::DataChanged)
///     .triggered_by("user-service:import");
/// assert_eq!(req.to_string(), "namespace users (DataChanged, by user-service:import)");
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalidation {
    /// What to remove.
    pub selector: Selector,
    /// Why.
    pub reason: InvalidationReason,
    /// Who or what asked (a service, a user, a job); free-form.
    pub triggered_by: Option<String>,
}

impl Invalidation {
    /// An invalidation of `selector` for [`InvalidationReason::Manual`].
    pub fn new(selector: Selector) -> Self {
        let reason = match selector {
            Selector::Pattern { .. } => InvalidationReason::PatternBased,
            _ => InvalidationReason::Manual,
        };
        Invalidation {
            selector,
            reason,
            triggered_by: None,
        }
    }

    /// One key.
    pub fn key(key: Key) -> Self {
        Self::new(Selector::Key(key))
    }

    /// Ids of `namespace` matching `pattern` (reason defaults to `PatternBased`).
    pub fn pattern(namespace: Namespace, pattern: Pattern) -> Self {
        Self::new(Selector::Pattern { namespace, pattern })
    }

    /// Entries carrying any of `tags`.
    pub fn tags(tags: impl IntoIterator<Item = Tag>) -> Self {
        Self::new(Selector::Tags(tags.into_iter().collect()))
    }

    /// Entries carrying `tag`.
    pub fn tag(tag: Tag) -> Self {
        Self::new(Selector::Tags(vec![tag]))
    }

    /// A whole namespace.
    pub fn namespace(namespace: Namespace) -> Self {
        Self::new(Selector::Namespace(namespace))
    }

    /// Everything.
    pub fn all() -> Self {
        Self::new(Selector::All)
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: InvalidationReason) -> Self {
        self.reason = reason;
        self
    }

    /// Records who asked.
    pub fn triggered_by(mut self, who: impl Into<String>) -> Self {
        self.triggered_by = Some(who.into());
        self
    }

    /// True when the selector would remove `key` whose entry carries `tags`.
    pub fn selects(&self, key: &Key, tags: &[Tag]) -> bool {
        match &self.selector {
            Selector::Key(k) => k == key,
            Selector::Pattern { namespace, pattern } => {
                key.namespace() == namespace && pattern.matches(key.id())
            }
            Selector::Tags(wanted) => wanted.iter().any(|t| tags.contains(t)),
            Selector::Namespace(ns) => key.namespace() == ns,
            Selector::All => true,
        }
    }
}

impl fmt::Display for Invalidation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?}", self.selector, self.reason)?;
        if let Some(who) = &self.triggered_by {
            write!(f, ", by {who}")?;
        }
        f.write_str(")")
    }
}
