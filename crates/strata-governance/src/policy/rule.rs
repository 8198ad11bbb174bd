//! Per-namespace rules: bounds on TTLs and payloads, jitter, tiers, priority, enforcement.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// What a rule does when a write breaks it.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Log a warning, count a violation, and let the write through unchanged.
    Warn,
    /// Fix the TTL (to the floor or ceiling) and count a violation and an override. A payload
    /// over the limit cannot be fixed, so it is refused as in [`Mode::Reject`].
    #[default]
    Clamp,
    /// Refuse the write with [`ErrorKind::Rejected`](strata_core::ErrorKind::Rejected), naming
    /// the rule.
    Reject,
}

/// How important a namespace's entries are: used by promotion and eviction where the store
/// supports it (a tiered store asks [`GovernanceLayer::rule`](crate::GovernanceLayer::rule)).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Promote eagerly, evict last.
    High,
    /// The default.
    #[default]
    Medium,
    /// Promote reluctantly, evict first.
    Low,
}

/// Which tiers of a tiered cache may hold a namespace's entries.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AllowedTiers {
    /// The in-process tier only.
    L1,
    /// The shared tier only.
    L2,
    /// Both.
    #[default]
    Both,
}

macro_rules! named {
    ($ty:ident, $what:literal, $($variant:ident => $name:literal),+) => {
        impl $ty {
            /// The name configuration uses.
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            /// Case-insensitive.
            fn from_str(s: &str) -> Result<Self, String> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(format!(
                        concat!("unknown ", $what, " {:?}; use {}"),
                        s,
                        [$($name),+].join(", ")
                    )),
                }
            }
        }
    };
}

named!(Mode, "enforcement mode", Warn => "warn", Clamp => "clamp", Reject => "reject");
named!(Priority, "priority", High => "high", Medium => "medium", Low => "low");
named!(AllowedTiers, "tier choice", L1 => "l1", L2 => "l2", Both => "both");

/// A rule as written: every field optional, so profiles can override some of them.
///
/// ```
/// use std::time::Duration;
/// use strata_governance::{Mode, RuleSpec};
/// let rule = RuleSpec::new()
///     .floor(Duration::from_secs(30))
///     .ceiling(Duration::from_secs(600))
///     .max_payload(1 << 20)
///     .jitter(0.1)
///     .mode(Mode::Reject);
/// assert_eq!(rule.ceiling, Some(Duration::from_secs(600)));
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleSpec {
    /// The shortest TTL a write may ask for.
    pub floor: Option<Duration>,
    /// The longest TTL a write may ask for (and the TTL of writes asking for no expiry).
    pub ceiling: Option<Duration>,
    /// The largest value, in bytes.
    pub max_payload: Option<u64>,
    /// Spreads TTLs by up to this fraction either way (0 to 0.5), so entries written
    /// together do not expire together.
    pub jitter: Option<f64>,
    /// Which tiers may hold the entries.
    pub tiers: Option<AllowedTiers>,
    /// Promotion and eviction priority.
    pub priority: Option<Priority>,
    /// The enforcement mode (default: the policy's).
    pub mode: Option<Mode>,
}

impl RuleSpec {
    /// A rule that sets nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the TTL floor.
    pub fn floor(mut self, d: Duration) -> Self {
        self.floor = Some(d);
        self
    }

    /// Sets the TTL ceiling.
    pub fn ceiling(mut self, d: Duration) -> Self {
        self.ceiling = Some(d);
        self
    }

    /// Sets the payload limit in bytes.
    pub fn max_payload(mut self, bytes: u64) -> Self {
        self.max_payload = Some(bytes);
        self
    }

    /// Sets the jitter fraction.
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = Some(fraction);
        self
    }

    /// Sets the allowed tiers.
    pub fn tiers(mut self, tiers: AllowedTiers) -> Self {
        self.tiers = Some(tiers);
        self
    }

    /// Sets the priority.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Sets the enforcement mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// `self` with the fields `other` sets replaced.
    pub fn merged(&self, other: &RuleSpec) -> RuleSpec {
        RuleSpec {
            floor: other.floor.or(self.floor),
            ceiling: other.ceiling.or(self.ceiling),
            max_payload: other.max_payload.or(self.max_payload),
            jitter: other.jitter.or(self.jitter),
            tiers: other.tiers.or(self.tiers),
            priority: other.priority.or(self.priority),
            mode: other.mode.or(self.mode),
        }
    }
}
