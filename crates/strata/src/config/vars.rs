//! The table of every setting: its TOML path, its environment variable, its default and what
//! it does. The loader reads settings through this table and docs/configuration.md lists it
//! (a test keeps the two the same).

/// One setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The field path in TOML (`redis.url`).
    pub path: &'static str,
    /// The environment variable.
    pub var: &'static str,
    /// The default, as written in configuration.
    pub default: &'static str,
    /// What it does.
    pub help: &'static str,
}

const fn s(
    path: &'static str,
    var: &'static str,
    default: &'static str,
    help: &'static str,
) -> Setting {
    Setting {
        path,
        var,
        default,
        help,
    }
}

/// Every setting, in documentation order. Per-type TTLs (`CACHE_<TYPE>_TTL`, TOML `[ttl]`)
/// and the governance policy's variables (`STRATA_NS_*`, `STRATA_GOVERNANCE_*`) come on top.
pub const SETTINGS: &[Setting] = &[
    s(
        "enabled",
        "CACHE_ENABLED",
        "true",
        "`false` gives caches that always miss and never fail (nothing is stored).",
    ),
    s(
        "backend",
        "CACHE_BACKEND",
        "auto",
        "`auto`, `memory`, `redis`, `redis_cluster`, `multi_tier` or `hybrid` (an alias of `multi_tier`). `auto` is Redis when a Redis address is set and answers, else memory; a log line says which.",
    ),
    s(
        "redis.url",
        "REDIS_URL",
        "(none)",
        "`redis://[user[:password]@]host[:port][/db]`, or `rediss://` (feature `tls`).",
    ),
    s(
        "redis.host",
        "REDIS_HOST",
        "(none)",
        "The Redis host, when `REDIS_URL` is not set.",
    ),
    s(
        "redis.port",
        "REDIS_PORT",
        "6379",
        "The Redis port, with `REDIS_HOST`.",
    ),
    s(
        "redis.cluster",
        "REDIS_CLUSTER",
        "false",
        "A comma-separated list of cluster nodes (`host:port` or URLs), or `true` to use the Redis URL as a cluster seed.",
    ),
    s(
        "redis.prefix",
        "STRATA_REDIS_PREFIX",
        "strata",
        "The key prefix (`[A-Za-z0-9_.-]{1,64}`): keys are `<prefix>:<namespace>:<id>`.",
    ),
    s(
        "redis.client",
        "STRATA_REDIS_CLIENT",
        "redis",
        "The Redis client library: `redis` (redis-rs) or `fred` (feature `fred`).",
    ),
    s(
        "redis.connect_timeout",
        "STRATA_REDIS_CONNECT_TIMEOUT",
        "2s",
        "How long connecting may take.",
    ),
    s(
        "redis.command_timeout",
        "STRATA_REDIS_COMMAND_TIMEOUT",
        "1s",
        "How long one Redis call may take.",
    ),
    s(
        "redis.legacy_json",
        "STRATA_REDIS_LEGACY_JSON",
        "false",
        "Read values that older managers stored as raw JSON (not Strata's envelope).",
    ),
    s(
        "memory.max_size",
        "CACHE_MAX_MEMORY_SIZE",
        "10000",
        "The in-memory store's bound: a number of entries (`10000`), or bytes with a unit (`64MiB`).",
    ),
    s(
        "memory.l1_size_ratio",
        "CACHE_L1_SIZE_RATIO",
        "0.1",
        "With `multi_tier`: the L1's share of `CACHE_MAX_MEMORY_SIZE`, between 0 and 1.",
    ),
    s(
        "memory.eviction_policy",
        "CACHE_EVICTION_POLICY",
        "adaptive",
        "`adaptive` (W-TinyLFU), `lru`, `ttl` (soonest expiry first) or `random`.",
    ),
    s(
        "namespace",
        "STRATA_NAMESPACE",
        "default",
        "The namespace of caches made without a name.",
    ),
    s(
        "default_ttl",
        "STRATA_DEFAULT_TTL",
        "(none)",
        "The TTL of values written without one, for namespaces without a TTL of their own.",
    ),
    s(
        "fail_safe",
        "STRATA_FAIL_SAFE",
        "(off)",
        "Keep values this long past their TTL, served when a loader or the backend fails.",
    ),
    s(
        "loader_timeout",
        "STRATA_LOADER_TIMEOUT",
        "(none)",
        "The hard timeout of `get_or_load` loaders.",
    ),
    s(
        "write_mode",
        "STRATA_WRITE_MODE",
        "through",
        "With `multi_tier`: `through` (L2 then L1) or `back` (L1 now, L2 from a bounded queue).",
    ),
    s(
        "promotion",
        "STRATA_PROMOTION",
        "immediate",
        "With `multi_tier`: when an L2 hit is copied into L1: `immediate`, `lazy` (on the second read), `predictive` (when L1's frequency estimate beats its next victim), `never`, or `conditional:<hits>/<window>` (`conditional:3/60s`).",
    ),
    s(
        "coherence",
        "STRATA_COHERENCE",
        "auto",
        "With `multi_tier`: keep every node's L1 coherent through Redis (invalidations on a channel, key tracking, fenced fills; docs/consistency.md). `auto` is on with write-through and off with write-back, which cannot be coherent.",
    ),
    s(
        "coherence_heartbeat",
        "STRATA_COHERENCE_HEARTBEAT",
        "1s",
        "How often a node announces its last invalidation, so others find a lost one within this interval.",
    ),
    s(
        "warming.on_startup",
        "CACHE_WARM_ON_STARTUP",
        "false",
        "Warm the configured keys when the cache system starts.",
    ),
    s(
        "warming.concurrency",
        "STRATA_WARM_CONCURRENCY",
        "8",
        "How many keys warming loads at once.",
    ),
    s(
        "warming.interval",
        "STRATA_WARM_INTERVAL",
        "(none)",
        "Warm again in the background at this interval.",
    ),
    s(
        "shutdown_timeout",
        "STRATA_SHUTDOWN_TIMEOUT",
        "5s",
        "How long `shutdown` may take to flush and stop.",
    ),
    s(
        "profile",
        "STRATA_PROFILE",
        "(none)",
        "`development`, `staging` or `production`: the governance profile to apply.",
    ),
    s(
        "(file)",
        "STRATA_CONFIG",
        "(none)",
        "A TOML file read by `Config::from_env` before the environment.",
    ),
];

/// The setting at a TOML path.
pub(crate) fn by_path(path: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.path == path)
}

/// How problems name a setting: its variable and its TOML path.
pub(crate) fn label(path: &str) -> String {
    match by_path(path) {
        Some(s) => format!("{} ({})", s.var, s.path),
        None => path.to_owned(),
    }
}
