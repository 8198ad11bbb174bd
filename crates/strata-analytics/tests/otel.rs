//! The OpenTelemetry instruments, read back through the SDK's in-memory exporter.

use opentelemetry::metrics::MeterProvider;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use strata_analytics::{AnalyticsLayer, names};
use strata_core::{Bytes, ErrorKind, Key, Namespace, SetOptions, Store, StoreExt};
use strata_memory::MemoryStore;
use strata_testkit::fault::FaultLayer;

/// `(metric, attributes sorted as "k=v", value)` for every data point of the last export.
fn points(metrics: &[ResourceMetrics]) -> Vec<(String, Vec<String>, f64)> {
    let mut out = Vec::new();
    let Some(last) = metrics.last() else {
        return out;
    };
    for scope in last.scope_metrics() {
        for m in scope.metrics() {
            let name = m.name().to_owned();
            let mut push = |attrs: Vec<String>, v: f64| {
                let mut attrs = attrs;
                attrs.sort();
                out.push((name.clone(), attrs, v));
            };
            let kv = |it: &mut dyn Iterator<Item = &opentelemetry::KeyValue>| {
                it.map(|kv| format!("{}={}", kv.key, kv.value))
                    .collect::<Vec<_>>()
            };
            match m.data() {
                AggregatedMetrics::U64(MetricData::Sum(s)) => {
                    for p in s.data_points() {
                        push(kv(&mut p.attributes()), p.value() as f64);
                    }
                }
                AggregatedMetrics::U64(MetricData::Gauge(g)) => {
                    for p in g.data_points() {
                        push(kv(&mut p.attributes()), p.value() as f64);
                    }
                }
                AggregatedMetrics::F64(MetricData::Gauge(g)) => {
                    for p in g.data_points() {
                        push(kv(&mut p.attributes()), p.value());
                    }
                }
                other => panic!("unexpected data for {name}: {other:?}"),
            }
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

fn value(points: &[(String, Vec<String>, f64)], name: &str, attrs: &[&str]) -> Option<f64> {
    points
        .iter()
        .find(|(n, a, _)| n == name && attrs.iter().all(|want| a.iter().any(|x| x == want)))
        .map(|(_, _, v)| *v)
}

#[tokio::test]
async fn metrics_reach_the_sdk_under_their_stable_names() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let meter = provider.meter("strata-test");

    // Error rates are judged from the first operation here (the default waits for 100).
    let analytics = AnalyticsLayer::builder()
        .sample_every(1)
        .thresholds(strata_analytics::HealthThresholds::default().min_operations(0))
        .build()
        .unwrap();
    analytics.register_metrics(&meter);
    let faults = FaultLayer::new();
    let handle = faults.handle();
    let store = MemoryStore::new().layer(faults).layer(analytics.clone());

    let users = Namespace::new("users").unwrap();
    let orders = Namespace::new("orders").unwrap();
    let k = |ns: &Namespace, id: &str| Key::new(ns, id).unwrap();
    for i in 0..3 {
        store
            .set(
                &k(&users, &i.to_string()),
                Bytes::from_static(b"abcd"),
                SetOptions::new(),
            )
            .await
            .unwrap();
    }
    for i in 0..5 {
        store.get(&k(&users, &i.to_string())).await.unwrap(); // 3 hits, 2 misses
    }
    store.get(&k(&orders, "1")).await.unwrap();
    store.delete(&k(&users, "0")).await.unwrap();
    handle.set_down(true);
    assert_eq!(
        store.get(&k(&orders, "1")).await.unwrap_err().kind(),
        ErrorKind::Unavailable
    );
    handle.set_down(false);
    store.assess().await;

    provider.force_flush().unwrap();
    let p = points(&exporter.get_finished_metrics().unwrap());
    let users_overall = ["namespace=users", "tier=overall"];
    assert_eq!(value(&p, names::REQUESTS, &users_overall), Some(5.0));
    assert_eq!(value(&p, names::HITS, &users_overall), Some(3.0));
    assert_eq!(value(&p, names::MISSES, &users_overall), Some(2.0));
    assert_eq!(value(&p, names::SETS, &users_overall), Some(3.0));
    assert_eq!(value(&p, names::DELETES, &users_overall), Some(1.0));
    assert_eq!(value(&p, names::BYTES_WRITTEN, &users_overall), Some(12.0));
    assert_eq!(value(&p, names::HIT_RATIO, &users_overall), Some(0.6));
    assert_eq!(
        value(&p, names::REQUESTS, &["namespace=orders", "tier=overall"]),
        Some(1.0)
    );
    assert_eq!(
        value(&p, names::ERRORS, &["namespace=orders", "kind=unavailable"]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &p,
            names::EVICTIONS,
            &["tier=overall", "reason=invalidated"]
        ),
        Some(1.0)
    );
    assert!(value(&p, names::LATENCY, &["operation=get", "quantile=p95"]).is_some());
    // One error in eleven operations is over the 1 % error rate: 100 - 25.
    assert_eq!(value(&p, names::HEALTH_SCORE, &[]), Some(75.0));
    // Namespaces are attributes; keys and tags never are.
    assert!(
        p.iter()
            .flat_map(|(_, a, _)| a)
            .all(|a| !a.starts_with("key=") && !a.starts_with("tag=")),
        "{p:?}"
    );
    let mut names: Vec<&str> = p.iter().map(|(n, _, _)| n.as_str()).collect();
    names.dedup();
    insta::assert_debug_snapshot!("metric_names", names);
    provider.shutdown().unwrap();
}
