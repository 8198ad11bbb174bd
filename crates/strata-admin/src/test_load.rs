//! `POST /cache-test-load`: a bounded synthetic load against a dedicated namespace, keys
//! removed after, reporting throughput and latency percentiles.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use strata::core::Bytes;
use strata::{Invalidation, InvalidationReason, Key, Namespace, Pattern, SetOptions, Store};

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::state::{AppState, Counters};

/// The namespace every test load writes in (each run under its own id prefix).
pub const TEST_NAMESPACE: &str = "strata_admin_test_load";

/// The largest value a test load writes.
const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Test keys expire by themselves after this, should their removal fail.
const KEY_TTL: Duration = Duration::from_secs(60);

/// The body of `POST /cache-test-load`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct TestLoad {
    /// Operations to run: half writes, half reads of what was written (default 100).
    operations: u64,
    /// Operations in flight at once (default 8).
    concurrency: usize,
    /// Bytes per value (default 128).
    value_bytes: usize,
}

impl Default for TestLoad {
    fn default() -> Self {
        TestLoad {
            operations: 100,
            concurrency: 8,
            value_bytes: 128,
        }
    }
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Latency {
    avg: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

/// What a test load did.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    namespace: &'static str,
    run: String,
    operations: u64,
    sets: u64,
    gets: u64,
    hits: u64,
    errors: u64,
    concurrency: usize,
    value_bytes: usize,
    elapsed_ms: f64,
    throughput_ops_per_sec: f64,
    latency_us: Latency,
    keys_removed: u64,
}

fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1_000.0
}

/// One key's work: a write, then (when the budget allows) a read. Returns
/// (latencies in ns, sets, gets, hits, errors).
async fn pair(
    store: &strata::SharedStore,
    key: Key,
    value: Bytes,
    with_read: bool,
) -> (Vec<u64>, u64, u64, u64, u64) {
    let mut out = (Vec::with_capacity(2), 1, 0, 0, 0);
    let t = Instant::now();
    let set = store.set(&key, value, SetOptions::new().ttl(KEY_TTL)).await;
    out.0.push(t.elapsed().as_nanos() as u64);
    if set.is_err() {
        out.4 += 1;
    }
    if with_read {
        out.2 = 1;
        let t = Instant::now();
        let got = store.get(&key).await;
        out.0.push(t.elapsed().as_nanos() as u64);
        match got {
            Ok(Some(_)) => out.3 = 1,
            Ok(None) => {}
            Err(_) => out.4 += 1,
        }
    }
    out
}

/// `POST /cache-test-load`.
pub(crate) async fn run(
    State(state): State<Arc<AppState>>,
    JsonBody(req): JsonBody<TestLoad>,
) -> Result<Json<Report>, ApiError> {
    let max_ops = state.config.max_test_operations;
    let max_conc = state.config.max_test_concurrency;
    if req.operations == 0 || req.operations > max_ops {
        return Err(ApiError::bad_field(
            "operations",
            format!(
                "operations must be between 1 and {max_ops} (got {}); nothing was run",
                req.operations
            ),
        )
        .with("max", max_ops));
    }
    if req.concurrency == 0 || req.concurrency > max_conc {
        return Err(ApiError::bad_field(
            "concurrency",
            format!(
                "concurrency must be between 1 and {max_conc} (got {}); nothing was run",
                req.concurrency
            ),
        )
        .with("max", max_conc));
    }
    if req.value_bytes > MAX_VALUE_BYTES {
        return Err(ApiError::bad_field(
            "value_bytes",
            format!("value_bytes must be at most {MAX_VALUE_BYTES}; nothing was run"),
        ));
    }
    let Ok(_permit) = state.test_load.try_acquire() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "test_load_running",
            "a test load is already running; try again when it ends",
        ));
    };
    Counters::bump(&state.counters.test_loads);
    let ns = Namespace::new(TEST_NAMESPACE).map_err(|e| ApiError::from_store(&e))?;
    let run = format!("run{:08x}", fastrand::u32(..));
    let store = state.system.store().clone();
    let value = Bytes::from(vec![b'x'; req.value_bytes]);
    let keys = req.operations.div_ceil(2);
    let started = Instant::now();
    let results: Vec<_> = futures_util::stream::iter(0..keys)
        .map(|i| {
            let key = Key::new(&ns, &format!("{run}-{i}"));
            let (store, value) = (store.clone(), value.clone());
            // The last key of an odd budget is written only.
            let with_read = 2 * i + 1 < req.operations;
            async move {
                match key {
                    Ok(k) => pair(&store, k, value, with_read).await,
                    Err(_) => (Vec::new(), 0, 0, 0, 1),
                }
            }
        })
        .buffer_unordered(req.concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut latencies = Vec::with_capacity(req.operations as usize);
    let (mut sets, mut gets, mut hits, mut errors) = (0, 0, 0, 0);
    for (l, s, g, h, e) in results {
        latencies.extend(l);
        sets += s;
        gets += g;
        hits += h;
        errors += e;
    }
    latencies.sort_unstable();
    let avg = if latencies.is_empty() {
        0.0
    } else {
        latencies.iter().sum::<u64>() as f64 / latencies.len() as f64 / 1_000.0
    };
    let pattern = Pattern::new(format!("{run}-*")).map_err(|e| ApiError::from_store(&e))?;
    let cleanup = Invalidation::pattern(ns, pattern)
        .reason(InvalidationReason::Manual)
        .triggered_by("strata-admin:test-load");
    let keys_removed = match store.invalidate(&cleanup).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, run, "test load: removing the keys failed; they expire within 60 s");
            0
        }
    };
    let secs = elapsed.as_secs_f64();
    let report = Report {
        namespace: TEST_NAMESPACE,
        run,
        operations: sets + gets,
        sets,
        gets,
        hits,
        errors,
        concurrency: req.concurrency,
        value_bytes: req.value_bytes,
        elapsed_ms: secs * 1e3,
        throughput_ops_per_sec: if secs > 0.0 {
            (sets + gets) as f64 / secs
        } else {
            0.0
        },
        latency_us: Latency {
            avg,
            p50: percentile(&latencies, 0.50),
            p95: percentile(&latencies, 0.95),
            p99: percentile(&latencies, 0.99),
            max: percentile(&latencies, 1.0),
        },
        keys_removed,
    };
    tracing::info!(
        operations = report.operations,
        throughput = report.throughput_ops_per_sec,
        "test load finished"
    );
    Ok(Json(report))
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|n| n * 1_000).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.95), 95.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&v, 1.0), 100.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
