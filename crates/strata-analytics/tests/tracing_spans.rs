//! Every operation runs in a `strata.cache` span with namespace, operation, tier and outcome;
//! the key only when asked for, the value never.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use strata_analytics::{AnalyticsLayer, Tier};
use strata_core::{Bytes, Key, Namespace, SetOptions, Store, StoreExt};
use strata_memory::MemoryStore;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

type Spans = Arc<Mutex<Vec<(u64, BTreeMap<String, String>)>>>;

/// Records every span's fields, including those recorded after it started.
#[derive(Clone, Default)]
struct Capture(Spans);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        fields.insert("name".to_owned(), attrs.metadata().name().to_owned());
        attrs.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push((id.into_u64(), fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some((_, fields)) = spans.iter_mut().rev().find(|(i, _)| *i == id.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
}

fn run(record_keys: bool) -> Vec<BTreeMap<String, String>> {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let analytics = AnalyticsLayer::builder()
                .record_keys(record_keys)
                .build()
                .unwrap();
            let store = MemoryStore::new().layer(analytics.for_tier(Tier::L1));
            let key = Key::new(&Namespace::new("users").unwrap(), "42").unwrap();
            store.get(&key).await.unwrap();
            store
                .set(&key, Bytes::from_static(b"secret-value"), SetOptions::new())
                .await
                .unwrap();
            store.get(&key).await.unwrap();
            match store.get_now(&key) {
                strata_core::Now::Ready(hit) => assert!(hit.is_some()),
                strata_core::Now::Pending => panic!("memory answers get_now"),
            }
            store.delete(&key).await.unwrap();
        });
    });
    let spans = capture.0.lock().unwrap().clone();
    spans.into_iter().map(|(_, f)| f).collect()
}

#[test]
fn spans_carry_namespace_operation_tier_and_outcome_but_not_keys() {
    let spans = run(false);
    let summary: Vec<String> = spans
        .iter()
        .map(|f| {
            format!(
                "{} {} ns={} tier={} outcome={}",
                f["name"], f["operation"], f["namespace"], f["tier"], f["outcome"]
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "strata.cache get ns=users tier=l1 outcome=miss",
            "strata.cache set ns=users tier=l1 outcome=stored",
            "strata.cache get ns=users tier=l1 outcome=hit",
            "strata.cache get ns=users tier=l1 outcome=hit",
            "strata.cache delete ns=users tier=l1 outcome=removed",
        ]
    );
    assert!(spans.iter().all(|f| !f.contains_key("key")), "{spans:?}");
    assert!(
        spans
            .iter()
            .all(|f| f.values().all(|v| !v.contains("secret-value"))),
        "values are never recorded"
    );
}

#[test]
fn keys_are_recorded_only_when_asked_for() {
    let spans = run(true);
    assert!(
        spans
            .iter()
            .all(|f| f.get("key").map(String::as_str) == Some("42")),
        "{spans:?}"
    );
}
