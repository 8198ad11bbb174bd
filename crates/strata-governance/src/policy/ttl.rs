//! [`TtlSpec`]: a namespace's default TTL, as a tier, a duration or no expiry.

use std::fmt;
use std::time::Duration;

use strata_core::TtlTier;
use strata_core::config::{format_duration, parse_duration};

/// A default time to live: a named [`TtlTier`], a duration, or no expiry.
///
/// ```
/// use std::time::Duration;
/// use strata_governance::{TtlSpec, TtlTier};
/// assert_eq!(TtlSpec::parse("SHORT").unwrap(), TtlSpec::Tier(TtlTier::Short));
/// assert_eq!(TtlSpec::parse("90s").unwrap().duration(), Some(Duration::from_secs(90)));
/// assert_eq!(TtlSpec::parse("none").unwrap(), TtlSpec::Never);
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TtlSpec {
    /// The tier's duration.
    Tier(TtlTier),
    /// This duration.
    After(Duration),
    /// Values do not expire.
    Never,
}

impl TtlSpec {
    /// The duration, `None` for [`TtlSpec::Never`].
    pub fn duration(self) -> Option<Duration> {
        match self {
            TtlSpec::Tier(t) => Some(t.duration()),
            TtlSpec::After(d) => Some(d),
            TtlSpec::Never => None,
        }
    }

    /// Parses a tier name (`MEDIUM`), a duration (`300`, `"45s"`, `"5m"`), or `none`/`never`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("never") {
            return Ok(TtlSpec::Never);
        }
        if t.starts_with(|c: char| c.is_ascii_digit()) {
            return parse_duration(t).map(TtlSpec::After);
        }
        t.parse::<TtlTier>().map(TtlSpec::Tier)
    }
}

impl From<Duration> for TtlSpec {
    fn from(d: Duration) -> Self {
        TtlSpec::After(d)
    }
}

impl From<TtlTier> for TtlSpec {
    fn from(t: TtlTier) -> Self {
        TtlSpec::Tier(t)
    }
}

impl fmt::Display for TtlSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TtlSpec::Tier(t) => write!(f, "{t} ({})", format_duration(t.duration())),
            TtlSpec::After(d) => f.write_str(&format_duration(*d)),
            TtlSpec::Never => f.write_str("none"),
        }
    }
}
