//! The JSON endpoints (the test load is in `test_load.rs`, Prometheus text in
//! `prometheus.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use strata::{Capabilities, Invalidation, InvalidationReason, Key, Namespace, Pattern, Store, Tag};

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::state::AppState;

type S = State<Arc<AppState>>;
type Answer = Result<Json<Value>, ApiError>;

/// True when the store under the analytics layer is in-process (so its hit ratio is L1's).
fn l1_is_overall(state: &AppState) -> bool {
    let caps = state.system.store().info().capabilities;
    caps.contains(Capabilities::LOCAL)
}

/// `GET /cache-health`: the health assessment overall, the store's report and each cache's
/// standing.
pub(crate) async fn health(State(state): S) -> Answer {
    let registry = state.system.health_all().await;
    let assessment = state
        .system
        .analytics()
        .map(|a| a.assess_with(&registry.store, l1_is_overall(&state)));
    Ok(Json(json!({
        "status": assessment.as_ref().map(|a| json!(a.status)).unwrap_or_else(|| json!(registry.status)),
        "score": assessment.as_ref().map(|a| a.score),
        "assessment": assessment,
        "store": registry.store,
        "caches": registry.caches,
    })))
}

/// `GET /cache-config`: the effective configuration (secrets redacted), the governance
/// policy in force, and the admin surface's own settings (never its keys).
pub(crate) async fn get_config(State(state): S) -> Answer {
    let system = &state.system;
    let governance = system.governance().map(|g| {
        let policy = g.source().map(|s| s.load());
        json!({
            "policy_version": g.version(),
            "profile": g.report().profile,
            "policy_toml": match &policy {
                Some(Ok(p)) => json!(p.to_toml()),
                _ => Value::Null,
            },
            "source_file": g.source().and_then(|s| s.file().map(|p| p.display().to_string())),
        })
    });
    let c = &state.config;
    Ok(Json(json!({
        "backend": system.backend(),
        "description": system.description(),
        "config_toml": system.config().dump(),
        "governance": governance,
        "admin": {
            "read_keys": c.read_keys.len(),
            "write_keys": c.write_keys.len(),
            "open_on_loopback": c.is_open(),
            "max_body_bytes": c.max_body_bytes,
            "max_test_operations": c.max_test_operations,
            "max_test_concurrency": c.max_test_concurrency,
        },
    })))
}

/// The body of `PUT /cache-config`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutConfig {
    /// The governance policy as TOML (the `[governance]` table's format), replacing the
    /// TOML the policy was loaded from; the environment still overrides it.
    governance: String,
}

/// `PUT /cache-config`: a new governance policy through the validated hot-reload path;
/// `422` listing every problem (nothing applied).
pub(crate) async fn put_config(State(state): S, JsonBody(req): JsonBody<PutConfig>) -> Answer {
    let Some(governance) = state.system.governance() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "governance_not_enabled",
            "this cache system runs without a governance layer (CACHE_ENABLED=false, or built without it)",
        ));
    };
    let source = governance
        .source()
        .unwrap_or_default()
        .toml_str(req.governance);
    let invalid = |problems: Vec<Value>, message: String| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_policy", message)
            .with("problems", problems)
            .with("applied", false)
    };
    match source.load_with_problems() {
        Err(e) => return Err(invalid(Vec::new(), e.to_string())),
        Ok((_, problems)) if !problems.is_empty() => {
            let n = problems.0.len();
            let list = problems
                .0
                .into_iter()
                .map(|p| json!({ "path": p.path, "message": p.message }))
                .collect();
            return Err(invalid(
                list,
                format!(
                    "{n} problem{} in the policy; nothing was applied",
                    if n == 1 { "" } else { "s" }
                ),
            ));
        }
        Ok(_) => {}
    }
    match governance.replace_source(source) {
        Ok(version) => {
            tracing::info!(
                policy_version = version,
                "governance policy replaced through the admin API"
            );
            let policy = governance.source().and_then(|s| s.load().ok());
            Ok(Json(json!({
                "applied": true,
                "policy_version": version,
                "policy_toml": policy.map(|p| p.to_toml()),
            })))
        }
        Err(e) => Err(invalid(Vec::new(), e.to_string())),
    }
}

/// `GET /cache-metrics`: per cache, per tier and namespace, with latency percentiles.
pub(crate) async fn metrics(State(state): S) -> Answer {
    let system = &state.system;
    Ok(Json(json!({
        "caches": system.stats_all(),
        "analytics": system.analytics().map(|a| a.snapshot()),
        "tiers": system.tier_stats(),
        "governance": system.governance().map(|g| g.report()),
    })))
}

/// Every namespace the system knows of: the registry's caches and those analytics saw.
pub(crate) fn known_namespaces(state: &AppState) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = state.system.registry().names().into_iter().collect();
    if let Some(a) = state.system.analytics() {
        for tier in a.snapshot().tiers.values() {
            names.extend(tier.namespaces.keys().cloned());
        }
    }
    names
}

/// `GET /cache-promotion`: the promotion strategy per namespace, promotion counters, the
/// L1 size ratio and memory pressure.
pub(crate) async fn promotion(State(state): S) -> Answer {
    let system = &state.system;
    let tiers = system.tier_stats();
    let mut strategies = BTreeMap::new();
    for name in known_namespaces(&state) {
        if let Ok(ns) = Namespace::new(&name)
            && let Some(p) = system.promotion(&ns)
        {
            strategies.insert(name, p);
        }
    }
    let memory = system.memory_health().await;
    let detail = |k: &str| {
        memory
            .as_ref()
            .and_then(|h| h.details.get(k))
            .and_then(Value::as_u64)
    };
    let (bytes, max_bytes) = (detail("bytes"), detail("max_bytes"));
    let fill = match (bytes, max_bytes) {
        (Some(b), Some(m)) if m > 0 => Some(b as f64 / m as f64),
        _ => None,
    };
    let tiered = tiers.is_some();
    Ok(Json(json!({
        "backend": system.backend(),
        "tiered": tiered,
        "note": if tiered { Value::Null } else {
            json!("promotion applies to the multi_tier backend only; this system has one tier")
        },
        "l1_size_ratio": tiered.then_some(system.config().memory.l1_size_ratio),
        "namespaces": strategies,
        "counters": tiers,
        "pressure": {
            "l1_entries": detail("entries"),
            "l1_max_entries": detail("max_entries"),
            "l1_bytes": bytes,
            "l1_max_bytes": max_bytes.filter(|m| *m > 0),
            "l1_fill_ratio": fill,
            "promotions_under_pressure": tiers.map(|t| t.promotions_under_pressure),
        },
    })))
}

/// `GET /cache-system-status`: version, uptime, backend and its state, breaker,
/// background tasks, cross-node coherence (null unless the backend is coherent), the admin
/// counters.
pub(crate) async fn system_status(State(state): S) -> Answer {
    let system = &state.system;
    let health = system.store().health().await;
    let breaker = ["circuit_breaker", "breaker"]
        .iter()
        .find_map(|k| health.details.get(*k).cloned());
    Ok(Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": system.uptime().as_secs_f64(),
        "enabled": system.config().enabled,
        "backend": {
            "name": system.backend(),
            "description": system.description(),
            "status": health.status,
            "message": health.message,
            "latency_ms": health.latency.map(|d| d.as_secs_f64() * 1e3),
            "details": health.details,
        },
        "breaker": breaker,
        "background_tasks": system.background_tasks(),
        "warming": system.warming_caches(),
        // Cross-node coherence of a multi_tier backend: messages, gaps found, L1 drops,
        // whether L1 is served, the invalidation lag. Null on other backends.
        "coherence": system.coherence_stats(),
        "admin": state.counters.snapshot(),
    })))
}

/// The body of `POST /cache-warmup`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Warmup {
    /// The cache to warm; every configured warming when absent.
    cache: Option<String>,
    /// Only these keys of `cache`, through its configured loader.
    keys: Option<Vec<String>>,
}

/// `POST /cache-warmup`: runs the configured warming (or a given key list) and reports.
pub(crate) async fn warmup(State(state): S, JsonBody(req): JsonBody<Warmup>) -> Answer {
    let system = &state.system;
    let limit = state.config.max_test_operations;
    match (req.cache, req.keys) {
        (None, Some(_)) => Err(ApiError::bad_field(
            "cache",
            "`keys` needs `cache`: the cache whose loader warms them",
        )),
        (_, Some(keys)) if keys.len() as u64 > limit => Err(ApiError::bad_field(
            "keys",
            format!("at most {limit} keys at once; nothing was warmed"),
        )),
        (Some(cache), keys) => {
            let report = system.warm_cache(&cache, keys).await.map_err(|e| {
                ApiError::bad_field("cache", e.message().to_owned())
                    .with("configured", system.warming_caches())
            })?;
            Ok(Json(json!({ "caches": [cache], "report": report })))
        }
        (None, None) => {
            let report = system.warm().await;
            Ok(Json(
                json!({ "caches": system.warming_caches(), "report": report }),
            ))
        }
    }
}

fn namespace(raw: &str, field: &str) -> Result<Namespace, ApiError> {
    Namespace::new(raw).map_err(|e| ApiError::bad_field(field, e.message().to_owned()))
}

/// `GET /cache-explain/{namespace}/{key}`: what the cache knows about one key, never its
/// value.
pub(crate) async fn explain(State(state): S, Path((ns, id)): Path<(String, String)>) -> Answer {
    let ns = namespace(&ns, "namespace")?;
    let key = Key::new(&ns, &id).map_err(|e| ApiError::bad_field("key", e.message().to_owned()))?;
    let report = state
        .system
        .store()
        .explain(&key)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    Ok(Json(json!(report)))
}

/// The body of `POST /cache-invalidate`: one selector (`key` or `pattern` with
/// `namespace`, `tag`/`tags`, or `namespace` alone), a reason and who asked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvalidateRequest {
    namespace: Option<String>,
    key: Option<String>,
    pattern: Option<String>,
    tag: Option<String>,
    tags: Option<Vec<String>>,
    #[serde(default)]
    reason: InvalidationReason,
    triggered_by: Option<String>,
}

/// What `POST /cache-invalidate` did.
#[derive(Debug, Serialize)]
struct Invalidated {
    removed: u64,
    selector: String,
    reason: InvalidationReason,
    triggered_by: String,
}

const MAX_TRIGGERED_BY: usize = 200;

/// `POST /cache-invalidate`.
pub(crate) async fn invalidate(
    State(state): S,
    JsonBody(req): JsonBody<InvalidateRequest>,
) -> Answer {
    let mut tags: Vec<String> = req.tags.unwrap_or_default();
    tags.extend(req.tag);
    let base = match (req.namespace, req.key, req.pattern, tags.is_empty()) {
        (Some(ns), Some(id), None, true) => {
            let ns = namespace(&ns, "namespace")?;
            let key = Key::new(&ns, &id)
                .map_err(|e| ApiError::bad_field("key", e.message().to_owned()))?;
            Invalidation::key(key)
        }
        (Some(ns), None, Some(p), true) => {
            let ns = namespace(&ns, "namespace")?;
            let p = Pattern::new(p)
                .map_err(|e| ApiError::bad_field("pattern", e.message().to_owned()))?;
            Invalidation::pattern(ns, p)
        }
        (None, None, None, false) => {
            let tags = tags
                .iter()
                .map(|t| {
                    Tag::new(t).map_err(|e| ApiError::bad_field("tags", e.message().to_owned()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Invalidation::tags(tags)
        }
        (Some(ns), None, None, true) => Invalidation::namespace(namespace(&ns, "namespace")?),
        (None, Some(_), _, _) | (None, _, Some(_), _) => {
            return Err(ApiError::bad_field(
                "namespace",
                "`key` and `pattern` need the `namespace` they are in",
            ));
        }
        (None, None, None, true) => {
            return Err(ApiError::bad_field(
                "namespace",
                "say what to invalidate: `key` or `pattern` with `namespace`, `tag`/`tags`, or `namespace` alone",
            ));
        }
        _ => {
            return Err(ApiError::bad_field(
                "key",
                "give one selector: `key`, `pattern`, `tag`/`tags` (without `namespace`), or `namespace` alone",
            ));
        }
    };
    let triggered_by = req
        .triggered_by
        .unwrap_or_else(|| "strata-admin".to_owned());
    if triggered_by.len() > MAX_TRIGGERED_BY || triggered_by.chars().any(char::is_control) {
        return Err(ApiError::bad_field(
            "triggered_by",
            format!("at most {MAX_TRIGGERED_BY} characters, no control characters"),
        ));
    }
    let request = base.reason(req.reason).triggered_by(triggered_by.clone());
    let selector = request.selector.to_string();
    let removed = state
        .system
        .store()
        .invalidate(&request)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    tracing::info!(selector, reason = ?req.reason, triggered_by, removed, "invalidation through the admin API");
    Ok(Json(json!(Invalidated {
        removed,
        selector,
        reason: req.reason,
        triggered_by,
    })))
}
