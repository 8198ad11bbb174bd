//! Health: PING latency and the server's own figures from `INFO`, per node.

use std::collections::BTreeMap;
use std::time::Instant;

use redis::Value;
use strata_core::{Health, HealthStatus};

use super::RedisStore;
use crate::breaker::BreakerState;
use crate::retry::Idempotency;

/// Figures copied from `INFO` into the report, per node.
const INFO_FIELDS: [&str; 7] = [
    "used_memory",
    "maxmemory",
    "mem_fragmentation_ratio",
    "evicted_keys",
    "expired_keys",
    "connected_clients",
    "redis_version",
];

/// Memory use over this share of maxmemory makes the store degraded.
const MEMORY_PRESSURE: f64 = 0.9;

/// Reads `field:value` lines of an INFO reply.
pub(crate) fn parse_info(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| INFO_FIELDS.contains(k))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

fn as_json(value: &str) -> serde_json::Value {
    if let Ok(n) = value.parse::<u64>() {
        return n.into();
    }
    if let Ok(f) = value.parse::<f64>() {
        return serde_json::Number::from_f64(f).map_or_else(|| value.into(), Into::into);
    }
    value.into()
}

pub(super) async fn check(store: &RedisStore) -> Health {
    let backend = strata_core::Store::info(store).name;
    let started = Instant::now();
    let nodes = match store
        .call("health", Idempotency::Idempotent, || {
            store.inner.conn.nodes()
        })
        .await
    {
        Ok(nodes) => nodes,
        Err(e) => return Health::unhealthy(backend, e.to_string()),
    };
    let names = store.inner.conn.node_names(&store.inner.address);
    let mut status = HealthStatus::Healthy;
    let mut messages = Vec::new();
    let mut per_node = serde_json::Map::new();
    // The most pressed node's memory figures, reported at the top level too.
    let mut pressed: Option<(f64, f64)> = None;
    for (i, node) in nodes.into_iter().enumerate() {
        let name = names.get(i).cloned().unwrap_or_else(|| format!("node-{i}"));
        let ping_cmd = redis::cmd("PING");
        let ping_started = Instant::now();
        let ping = store
            .call("health", Idempotency::Idempotent, || {
                store.inner.conn.query_node(node, &ping_cmd)
            })
            .await;
        let ping_ms = ping_started.elapsed().as_secs_f64() * 1_000.0;
        let mut figures = serde_json::Map::new();
        if let Err(e) = ping {
            status = HealthStatus::Unhealthy;
            messages.push(format!("{name} does not answer PING: {}", e.message()));
            figures.insert("error".into(), e.message().into());
            per_node.insert(name, figures.into());
            continue;
        }
        figures.insert("ping_ms".into(), ping_ms.into());
        let mut info = redis::cmd("INFO");
        info.arg("memory").arg("stats").arg("clients").arg("server");
        let text = store
            .call("health", Idempotency::Idempotent, || {
                store.inner.conn.query_node(node, &info)
            })
            .await;
        let text = match text {
            Ok(Value::BulkString(b)) => Some(String::from_utf8_lossy(&b).into_owned()),
            Ok(Value::VerbatimString { text, .. }) => Some(text),
            _ => None,
        };
        if let Some(text) = text {
            let fields = parse_info(&text);
            let used = fields
                .get("used_memory")
                .and_then(|v| v.parse::<f64>().ok());
            let max = fields.get("maxmemory").and_then(|v| v.parse::<f64>().ok());
            if let (Some(used), Some(max)) = (used, max) {
                let ratio = |(u, m): (f64, f64)| if m > 0.0 { u / m } else { 0.0 };
                if pressed.is_none_or(|p| ratio((used, max)) >= ratio(p)) {
                    pressed = Some((used, max));
                }
            }
            if let (Some(used), Some(max)) = (used, max)
                && max > 0.0
            {
                let ratio = used / max;
                figures.insert("memory_ratio".into(), ratio.into());
                if ratio >= MEMORY_PRESSURE && status == HealthStatus::Healthy {
                    status = HealthStatus::Degraded;
                    messages.push(format!(
                        "{name} uses {:.0} % of maxmemory: raise maxmemory or lower TTLs",
                        ratio * 100.0
                    ));
                }
            }
            for (k, v) in fields {
                figures.insert(k, as_json(&v));
            }
        }
        per_node.insert(name, figures.into());
    }
    let breaker = store.breaker_state();
    if breaker != BreakerState::Closed {
        status = HealthStatus::Unhealthy;
        messages.push("the circuit breaker is open: calls fail fast".to_owned());
    }
    let stats = store.redis_stats();
    let mut health = Health::healthy(backend);
    if let Some((used, max)) = pressed {
        health = health
            .detail("used_memory", used as u64)
            .detail("maxmemory", max as u64);
    }
    let mut health = health
        .detail("nodes", serde_json::Value::Object(per_node))
        .detail("breaker", serde_json::to_value(breaker).unwrap_or_default())
        .detail("out_of_memory_errors", stats.out_of_memory)
        .detail("errors", stats.errors)
        .detail("timeouts", stats.timeouts);
    health.status = status;
    health.latency = Some(started.elapsed());
    if !messages.is_empty() {
        health.message = Some(messages.join("; "));
    }
    health
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fields_are_picked() {
        let text = "# Memory\r\nused_memory:1024\r\nmaxmemory:0\r\nmem_fragmentation_ratio:1.5\r\nother:x\r\n";
        let f = parse_info(text);
        assert_eq!(f.get("used_memory").map(String::as_str), Some("1024"));
        assert_eq!(
            f.get("mem_fragmentation_ratio").map(String::as_str),
            Some("1.5")
        );
        assert!(!f.contains_key("other"));
        assert_eq!(as_json("1.5"), serde_json::json!(1.5));
        assert_eq!(as_json("7.0.15"), serde_json::json!("7.0.15"));
    }
}
