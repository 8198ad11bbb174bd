//! The namespaces and cache types of the cache managers Strata replaces, and their default
//! TTLs: the governance policy starts from them, and the umbrella's registry creates a cache
//! per type with them.

use std::time::Duration;

/// Curve data, refreshed often: 5 minutes.
pub const CURVES: &str = "curves";
/// System metadata, semi-static: 30 minutes.
pub const METADATA: &str = "metadata";
/// Scenario data, real time: 1 minute.
pub const SCENARIOS: &str = "scenarios";
/// EIA data: 10 minutes.
pub const EIA_DATA: &str = "eia_data";
/// Third-party data: 30 minutes.
pub const EXTERNAL_DATA: &str = "external_data";
/// User preferences: 1 hour.
pub const USER_DATA: &str = "user_data";
/// System configuration: 24 hours.
pub const SYSTEM_CONFIG: &str = "system_config";
/// Everything else, and the rule of namespaces no policy declares: 30 minutes.
pub const GENERAL: &str = "general";
/// The model registry cache type: 30 minutes.
pub const MODEL_REGISTRY: &str = "model_registry";
/// The compiled-workflow cache type (compilation is expensive): 1 hour.
pub const WORKFLOW: &str = "workflow";
/// The tool-definition cache type: 1 hour.
pub const TOOL: &str = "tool";
/// The session cache type (user-specific, security sensitive): 5 minutes.
pub const SESSION: &str = "session";

/// The built-in namespaces and cache types with their default TTLs, in documentation order.
pub const BUILT_IN: [(&str, Duration); 12] = [
    (CURVES, Duration::from_secs(300)),
    (METADATA, Duration::from_secs(1800)),
    (SCENARIOS, Duration::from_secs(60)),
    (EIA_DATA, Duration::from_secs(600)),
    (EXTERNAL_DATA, Duration::from_secs(1800)),
    (USER_DATA, Duration::from_secs(3600)),
    (SYSTEM_CONFIG, Duration::from_secs(86_400)),
    (GENERAL, Duration::from_secs(1800)),
    (MODEL_REGISTRY, Duration::from_secs(1800)),
    (WORKFLOW, Duration::from_secs(3600)),
    (TOOL, Duration::from_secs(3600)),
    (SESSION, Duration::from_secs(300)),
];

/// The default TTL of a built-in namespace or cache type.
pub fn default_ttl(name: &str) -> Option<Duration> {
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, ttl)| *ttl)
}

/// True when `name` is a built-in namespace or cache type.
pub fn is_built_in(name: &str) -> bool {
    BUILT_IN.iter().any(|(n, _)| *n == name)
}
