//! TTL tiers: named lifetimes a namespace can pick instead of a number.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A named time to live, from the older cache managers' `TTLPolicy`.
///
/// ```
/// use std::time::Duration;
/// use strata_core::TtlTier;
/// assert_eq!(TtlTier::Short.duration(), Duration::from_secs(300));
/// assert_eq!("persistent".parse::<TtlTier>().unwrap(), TtlTier::Persistent);
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TtlTier {
    /// 30 seconds: real-time data.
    UltraShort,
    /// 5 minutes: frequently changing data.
    Short,
    /// 30 minutes: semi-static data.
    Medium,
    /// 4 hours: stable data.
    Long,
    /// 24 hours: daily aggregates.
    Extended,
    /// 7 days: configuration.
    Persistent,
}

impl TtlTier {
    /// Every tier, shortest first.
    pub const ALL: [TtlTier; 6] = [
        TtlTier::UltraShort,
        TtlTier::Short,
        TtlTier::Medium,
        TtlTier::Long,
        TtlTier::Extended,
        TtlTier::Persistent,
    ];

    /// The tier's time to live.
    pub const fn duration(self) -> Duration {
        Duration::from_secs(match self {
            TtlTier::UltraShort => 30,
            TtlTier::Short => 5 * 60,
            TtlTier::Medium => 30 * 60,
            TtlTier::Long => 4 * 3600,
            TtlTier::Extended => 24 * 3600,
            TtlTier::Persistent => 7 * 24 * 3600,
        })
    }

    /// The tier's name as configuration writes it (`ULTRA_SHORT`, `SHORT`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            TtlTier::UltraShort => "ULTRA_SHORT",
            TtlTier::Short => "SHORT",
            TtlTier::Medium => "MEDIUM",
            TtlTier::Long => "LONG",
            TtlTier::Extended => "EXTENDED",
            TtlTier::Persistent => "PERSISTENT",
        }
    }
}

impl fmt::Display for TtlTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TtlTier {
    type Err = String;

    /// Case-insensitive; `-` and `_` are interchangeable.
    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_uppercase().replace('-', "_");
        TtlTier::ALL
            .into_iter()
            .find(|t| t.as_str() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = TtlTier::ALL.iter().map(|t| t.as_str()).collect();
                format!("unknown TTL tier {s:?}; the tiers are {}", names.join(", "))
            })
    }
}
