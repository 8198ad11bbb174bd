//! The older managers' vocabulary: [`CacheNamespace`], [`TtlPolicy`] and invalidation reasons
//! given as strings.

use std::fmt;
use std::str::FromStr;

use strata::governance::namespaces as ns;
use strata::{Error, InvalidationReason, Namespace, Result};

/// The older managers' `TTLPolicy`: Strata's [`TtlTier`](strata::governance::TtlTier)
/// (`UltraShort` 30 s, `Short` 5 min, `Medium` 30 min, `Long` 4 h, `Extended` 24 h,
/// `Persistent` 7 days).
pub type TtlPolicy = strata::governance::TtlTier;

/// The older managers' `CacheNamespace` and cache types, plus any other namespace.
///
/// Each built-in name is a namespace of the governance policy with its default TTL
/// (`curves` 300 s, `metadata` 1800 s, `scenarios` 60 s, `eia_data` 600 s, `external_data`
/// 1800 s, `user_data` 3600 s, `system_config` 86400 s, `general` 1800 s; `model_registry`
/// 1800 s, `workflow` 3600 s, `tool` 3600 s, `session` 300 s).
///
/// ```
/// use strata_compat::CacheNamespace;
/// assert_eq!(CacheNamespace::Curves.as_str(), "curves");
/// assert_eq!("EIA_DATA".parse::<CacheNamespace>()?, CacheNamespace::EiaData);
/// assert_eq!(CacheNamespace::custom("reports")?.as_str(), "reports");
/// # Ok::<(), strata::Error>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CacheNamespace {
    /// `curves`: curve data (300 s).
    Curves,
    /// `metadata`: system metadata (1800 s).
    Metadata,
    /// `scenarios`: scenario data (60 s).
    Scenarios,
    /// `eia_data`: EIA data (600 s).
    EiaData,
    /// `external_data`: third-party data (1800 s).
    ExternalData,
    /// `user_data`: user preferences (3600 s).
    UserData,
    /// `system_config`: configuration (86400 s).
    SystemConfig,
    /// `general`: everything else (1800 s).
    General,
    /// `model_registry`: the model registry cache type (1800 s).
    ModelRegistry,
    /// `workflow`: compiled workflows (3600 s).
    Workflow,
    /// `tool`: tool definitions (3600 s).
    Tool,
    /// `session`: sessions (300 s).
    Session,
    /// Any other valid namespace (its TTL is the policy's fallback rule unless declared).
    Custom(Namespace),
}

impl CacheNamespace {
    /// The built-in namespaces, in the order the older documentation lists them.
    pub const BUILT_IN: [CacheNamespace; 12] = [
        CacheNamespace::Curves,
        CacheNamespace::Metadata,
        CacheNamespace::Scenarios,
        CacheNamespace::EiaData,
        CacheNamespace::ExternalData,
        CacheNamespace::UserData,
        CacheNamespace::SystemConfig,
        CacheNamespace::General,
        CacheNamespace::ModelRegistry,
        CacheNamespace::Workflow,
        CacheNamespace::Tool,
        CacheNamespace::Session,
    ];

    /// Another namespace: `[A-Za-z0-9_.-]{1,64}`, else `ErrorKind::InvalidKey`.
    pub fn custom(name: &str) -> Result<Self> {
        Ok(match Self::built_in(name) {
            Some(b) => b,
            None => CacheNamespace::Custom(Namespace::new(name)?),
        })
    }

    fn built_in(name: &str) -> Option<Self> {
        Self::BUILT_IN.into_iter().find(|b| b.as_str() == name)
    }

    /// The namespace's name.
    pub fn as_str(&self) -> &str {
        match self {
            CacheNamespace::Curves => ns::CURVES,
            CacheNamespace::Metadata => ns::METADATA,
            CacheNamespace::Scenarios => ns::SCENARIOS,
            CacheNamespace::EiaData => ns::EIA_DATA,
            CacheNamespace::ExternalData => ns::EXTERNAL_DATA,
            CacheNamespace::UserData => ns::USER_DATA,
            CacheNamespace::SystemConfig => ns::SYSTEM_CONFIG,
            CacheNamespace::General => ns::GENERAL,
            CacheNamespace::ModelRegistry => ns::MODEL_REGISTRY,
            CacheNamespace::Workflow => ns::WORKFLOW,
            CacheNamespace::Tool => ns::TOOL,
            CacheNamespace::Session => ns::SESSION,
            CacheNamespace::Custom(n) => n.as_str(),
        }
    }

    /// The Strata namespace.
    pub fn namespace(&self) -> Result<Namespace> {
        match self {
            CacheNamespace::Custom(n) => Ok(*n),
            other => Namespace::new(other.as_str()),
        }
    }
}

impl fmt::Display for CacheNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CacheNamespace {
    type Err = Error;

    /// A built-in name in any case (`CURVES`, `curves`, `eia-data`), else a custom namespace.
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase().replace('-', "_");
        match Self::built_in(&lower) {
            Some(b) => Ok(b),
            None => Self::custom(s.trim()),
        }
    }
}

impl From<Namespace> for CacheNamespace {
    fn from(n: Namespace) -> Self {
        Self::built_in(n.as_str()).unwrap_or(CacheNamespace::Custom(n))
    }
}

/// The reasons older call sites passed as strings, and the trigger names they logged.
const REASONS: [(&str, InvalidationReason); 8] = [
    ("ttl_expired", InvalidationReason::TtlExpired),
    ("manual", InvalidationReason::Manual),
    ("data_changed", InvalidationReason::DataChanged),
    ("data_update", InvalidationReason::DataChanged),
    ("capacity_limit", InvalidationReason::CapacityLimit),
    ("error_threshold", InvalidationReason::ErrorThreshold),
    ("pattern_based", InvalidationReason::PatternBased),
    ("pattern", InvalidationReason::PatternBased),
];

/// An invalidation reason from the strings older call sites passed (`"data_update"`,
/// `"MANUAL"`, `"ttl-expired"`, ...), case-insensitive; anything else is
/// `ErrorKind::InvalidArgument` listing the accepted names.
///
/// ```
/// use strata::InvalidationReason;
/// assert_eq!(strata_compat::reason("data_update")?, InvalidationReason::DataChanged);
/// assert_eq!(strata_compat::reason("PATTERN_BASED")?, InvalidationReason::PatternBased);
/// # Ok::<(), strata::Error>(())
/// ```
pub fn reason(text: &str) -> Result<InvalidationReason> {
    let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
    REASONS
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, r)| *r)
        .ok_or_else(|| {
            let names: Vec<&str> = REASONS.iter().map(|(n, _)| *n).collect();
            Error::invalid_argument(format!(
                "unknown invalidation reason {text:?}; use one of {}",
                names.join(", ")
            ))
            .with_operation("reason")
        })
}
