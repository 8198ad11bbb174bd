//! [`Config`]: one configuration for a cache system, from code defaults, a TOML file and the
//! environment (environment over file, file over defaults), checked all at once.
//!
//! The environment speaks the names the older cache managers used (`CACHE_BACKEND`,
//! `REDIS_URL`, `CACHE_MAX_MEMORY_SIZE`, `CACHE_SESSION_TTL`, ...) plus `STRATA_*` names for
//! the rest; [`SETTINGS`] lists every one, and docs/configuration.md shows the table.
//!
//! ```
//! use strata::config::{Backend, Config};
//!
//! let config = Config::source()
//!     .toml_str("backend = \"memory\"\n[memory]\nmax_size = \"64MiB\"\n")
//!     .env_vars([("CACHE_EVICTION_POLICY", "lru"), ("CACHE_SESSION_TTL", "120")])
//!     .load()?;
//! assert_eq!(config.backend, Backend::Memory);
//! assert_eq!(config.memory.eviction_policy, "lru");
//! assert_eq!(config.ttl_of("session").map(|d| d.as_secs()), Some(120));
//!
//! // Every mistake at once, each naming the variable and its value.
//! let err = Config::source()
//!     .env_vars([("CACHE_L1_SIZE_RATIO", "1.5"), ("CACHE_BACKEND", "floppy")])
//!     .load()
//!     .unwrap_err();
//! assert!(err.to_string().contains("CACHE_L1_SIZE_RATIO"));
//! assert!(err.to_string().contains("floppy"));
//! # Ok::<(), strata::Error>(())
//! ```

mod dump;
mod load;
mod validate;
mod values;
mod vars;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub use load::ConfigSource;
pub use strata_core::config::{Problem, Problems};
#[cfg(feature = "redis")]
pub(crate) use validate::redact;
pub use vars::{SETTINGS, Setting};

/// Which store a cache system runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// Redis when a Redis address is configured and answers, else memory.
    #[default]
    Auto,
    /// The embedded in-memory store.
    Memory,
    /// One Redis server (or a cluster, when `REDIS_CLUSTER` is set).
    Redis,
    /// A Redis Cluster.
    RedisCluster,
    /// An in-memory L1 over Redis (feature `tiered`).
    MultiTier,
}

impl Backend {
    /// The configuration name (`redis_cluster`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Memory => "memory",
            Backend::Redis => "redis",
            Backend::RedisCluster => "redis_cluster",
            Backend::MultiTier => "multi_tier",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Backend::Auto,
            "memory" => Backend::Memory,
            "redis" => Backend::Redis,
            "redis_cluster" | "cluster" => Backend::RedisCluster,
            // The older managers called the L1-over-Redis deployment "hybrid" too.
            "multi_tier" | "multitier" | "hybrid" | "tiered" => Backend::MultiTier,
            other => {
                return Err(format!(
                    "unknown backend {other:?}; expected auto, memory, redis, redis_cluster, multi_tier or hybrid"
                ));
            }
        })
    }
}

/// How the Redis address names a cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ClusterNodes {
    /// Not a cluster.
    #[default]
    No,
    /// The Redis URL is a seed node of a cluster.
    SeedFromUrl,
    /// These seed nodes (URLs).
    Nodes(Vec<String>),
}

/// The Redis settings.
#[derive(Clone, Debug, PartialEq)]
pub struct RedisSettings {
    /// `redis://...` (`REDIS_URL`).
    pub url: Option<String>,
    /// The host, when no URL is set (`REDIS_HOST`).
    pub host: Option<String>,
    /// The port with `host` (`REDIS_PORT`, default 6379).
    pub port: u16,
    /// Cluster seeds (`REDIS_CLUSTER`).
    pub cluster: ClusterNodes,
    /// The key prefix.
    pub prefix: String,
    /// The client library: `redis` or `fred`.
    pub client: String,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// How long one call may take.
    pub command_timeout: Duration,
    /// Read raw JSON values written by older managers.
    pub legacy_json: bool,
}

impl Default for RedisSettings {
    fn default() -> Self {
        RedisSettings {
            url: None,
            host: None,
            port: 6379,
            cluster: ClusterNodes::No,
            prefix: "strata".to_owned(),
            client: "redis".to_owned(),
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(1),
            legacy_json: false,
        }
    }
}

impl RedisSettings {
    /// The address to connect to: the URL, else `redis://host:port`, else none.
    pub fn address(&self) -> Option<String> {
        match (&self.url, &self.host) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(host)) => Some(format!("redis://{host}:{}", self.port)),
            (None, None) => None,
        }
    }

    /// The cluster's seed nodes, when the settings name a cluster.
    pub fn cluster_seeds(&self) -> Option<Vec<String>> {
        match &self.cluster {
            ClusterNodes::No => None,
            ClusterNodes::SeedFromUrl => self.address().map(|a| vec![a]),
            ClusterNodes::Nodes(nodes) => Some(nodes.clone()),
        }
    }
}

/// The in-memory store's bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemorySize {
    /// At most this many entries.
    Entries(u64),
    /// At most this many bytes.
    Bytes(u64),
}

impl MemorySize {
    /// This share (0 to 1) of the bound, at least 1.
    pub fn share(self, ratio: f64) -> MemorySize {
        let part = |n: u64| ((n as f64 * ratio) as u64).max(1);
        match self {
            MemorySize::Entries(n) => MemorySize::Entries(part(n)),
            MemorySize::Bytes(n) => MemorySize::Bytes(part(n)),
        }
    }
}

/// The in-memory store's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct MemorySettings {
    /// The bound (`CACHE_MAX_MEMORY_SIZE`).
    pub max_size: MemorySize,
    /// The L1's share of `max_size` in a multi-tier cache.
    pub l1_size_ratio: f64,
    /// The eviction policy's name.
    pub eviction_policy: String,
}

impl Default for MemorySettings {
    fn default() -> Self {
        MemorySettings {
            max_size: MemorySize::Entries(10_000),
            l1_size_ratio: 0.1,
            eviction_policy: "adaptive".to_owned(),
        }
    }
}

/// How a multi-tier cache writes to L2.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WriteMode {
    /// L2, then L1.
    #[default]
    Through,
    /// L1 now, L2 from a bounded queue.
    Back,
}

impl FromStr for WriteMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "through" | "write_through" | "write-through" => Ok(WriteMode::Through),
            "back" | "write_back" | "write-back" => Ok(WriteMode::Back),
            other => Err(format!(
                "unknown write mode {other:?}; expected through or back"
            )),
        }
    }
}

/// Start-up and background warming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarmingSettings {
    /// Warm when the system starts (`CACHE_WARM_ON_STARTUP`).
    pub on_startup: bool,
    /// Keys loaded at once.
    pub concurrency: usize,
    /// Warm again at this interval.
    pub interval: Option<Duration>,
}

impl Default for WarmingSettings {
    fn default() -> Self {
        WarmingSettings {
            on_startup: false,
            concurrency: 8,
            interval: None,
        }
    }
}

/// A cache system's whole configuration. Build it with [`Config::source`] (TOML and
/// environment over the defaults) or [`Config::from_env`], or fill the fields in code and
/// call [`Config::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// False: caches always miss and never fail.
    pub enabled: bool,
    /// The store.
    pub backend: Backend,
    /// Redis.
    pub redis: RedisSettings,
    /// The in-memory store (and the L1 of a multi-tier cache).
    pub memory: MemorySettings,
    /// The namespace of caches made without a name.
    pub namespace: String,
    /// The TTL of values written without one, for namespaces without their own.
    pub default_ttl: Option<Duration>,
    /// TTLs per cache type or namespace (`CACHE_<TYPE>_TTL`), over the built-in ones.
    pub ttls: BTreeMap<String, Duration>,
    /// Keep values this long past their TTL for fail-safe answers.
    pub fail_safe: Option<Duration>,
    /// The hard loader timeout.
    pub loader_timeout: Option<Duration>,
    /// How a multi-tier cache writes.
    pub write_mode: WriteMode,
    /// When a multi-tier cache copies an L2 hit into L1 (`immediate`, `lazy`, `predictive`,
    /// `never`, `conditional:<hits>/<window>`).
    pub promotion: String,
    /// Cross-node coherence of a multi-tier cache: `None` is auto (on with write-through).
    pub coherence: Option<bool>,
    /// The coherence heartbeat interval.
    pub coherence_heartbeat: Duration,
    /// Warming.
    pub warming: WarmingSettings,
    /// How long `shutdown` may take.
    pub shutdown_timeout: Duration,
    /// The governance profile.
    pub profile: Option<String>,
    /// The `[governance]` TOML table, passed to the governance policy (feature `governance`).
    pub governance_toml: Option<String>,
    /// Variables for the governance policy (`STRATA_NS_*`, `CACHE_<NS>_TTL`, ...).
    pub governance_env: Vec<(String, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            backend: Backend::Auto,
            redis: RedisSettings::default(),
            memory: MemorySettings::default(),
            namespace: strata_core::Namespace::DEFAULT.to_owned(),
            default_ttl: None,
            ttls: BTreeMap::new(),
            fail_safe: None,
            loader_timeout: None,
            write_mode: WriteMode::Through,
            promotion: "immediate".to_owned(),
            coherence: None,
            coherence_heartbeat: Duration::from_secs(1),
            warming: WarmingSettings::default(),
            shutdown_timeout: Duration::from_secs(5),
            profile: None,
            governance_toml: None,
            governance_env: Vec::new(),
        }
    }
}

impl Config {
    /// Where a configuration comes from: the defaults, then TOML, then environment variables.
    pub fn source() -> ConfigSource {
        ConfigSource::new()
    }

    /// The defaults, the TOML file named by `STRATA_CONFIG` (if set), then the process
    /// environment; validated.
    pub fn from_env() -> strata_core::Result<Config> {
        ConfigSource::new().process_env().load()
    }

    /// The TTL of a cache type or namespace: a configured one (`CACHE_SESSION_TTL`), else
    /// the built-in one (`session`: 5 minutes), else [`Config::default_ttl`].
    pub fn ttl_of(&self, name: &str) -> Option<Duration> {
        let name = name.to_ascii_lowercase();
        self.ttls
            .get(&name)
            .copied()
            .or_else(|| strata_core::namespaces::default_ttl(&name))
            .or(self.default_ttl)
    }

    /// Every problem with the configuration, each naming the setting and its value.
    pub fn problems(&self) -> Problems {
        validate::problems(self)
    }

    /// `Ok` when [`Config::problems`] is empty, else one
    /// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) error listing them all.
    pub fn validate(&self) -> strata_core::Result<()> {
        self.problems().into_result()
    }

    /// True when a multi-tier cache keeps its nodes' L1 coherent: as set, or (auto) with
    /// write-through.
    pub fn coherent(&self) -> bool {
        self.coherence
            .unwrap_or(self.write_mode == WriteMode::Through)
    }

    /// Where the governance policy comes from: the `[governance]` table, the governance
    /// variables, and the profile (feature `governance`).
    #[cfg(feature = "governance")]
    pub fn governance_source(&self) -> strata_governance::PolicySource {
        let mut source = strata_governance::PolicySource::new();
        if let Some(text) = &self.governance_toml {
            source = source.toml_str(text.clone());
        }
        let mut vars = self.governance_env.clone();
        // An unknown profile is reported once, as STRATA_PROFILE.
        if let Some(p) = &self.profile
            && validate::PROFILES.contains(&p.as_str())
            && !vars.iter().any(|(k, _)| k == "STRATA_GOVERNANCE_PROFILE")
        {
            vars.push(("STRATA_GOVERNANCE_PROFILE".into(), p.clone()));
        }
        source.env_vars(vars)
    }

    /// The effective configuration as TOML, with passwords redacted.
    pub fn dump(&self) -> String {
        dump::to_toml(self)
    }
}
