//! What the global functions do once initialized (used by global_memory.rs and
//! global_redis.rs).
#![allow(unreachable_pub)]

use std::time::Duration;

use serde_json::{Value, json};
use strata::TtlState;
use strata_compat::{CacheNamespace, UnifiedCacheManager, global};

pub async fn run(manager: &UnifiedCacheManager) {
    assert_eq!(
        global::cache_get("analytics_data", json!({}))
            .await
            .unwrap(),
        json!({})
    );
    assert!(
        global::cache_set(
            "analytics_data",
            json!([1, 2]),
            Some(Duration::from_secs(600)),
            &["analytics"]
        )
        .await
        .unwrap()
    );
    assert_eq!(
        global::cache_get("analytics_data", json!({}))
            .await
            .unwrap(),
        json!([1, 2])
    );
    // The global functions write to the options' namespace (general), visible to the manager.
    assert_eq!(
        manager
            .get("analytics_data", CacheNamespace::General)
            .await
            .unwrap(),
        Some(json!([1, 2]))
    );
    match manager
        .cache(CacheNamespace::General)
        .unwrap()
        .ttl("analytics_data")
        .await
        .unwrap()
    {
        TtlState::Remaining(d) => {
            assert!(d <= Duration::from_secs(600) && d > Duration::from_secs(590))
        }
        other => panic!("{other:?}"),
    }
    global::get_cache_manager()
        .unwrap()
        .invalidate_by_tags(&["analytics"])
        .await
        .unwrap();
    assert_eq!(
        global::cache_get("analytics_data", Value::Null)
            .await
            .unwrap(),
        Value::Null
    );

    global::cache_set("a", json!(1), None, &[]).await.unwrap();
    assert!(global::cache_delete("a").await.unwrap());
    assert!(!global::cache_delete("a").await.unwrap());
    global::cache_set("b", json!(2), None, &[]).await.unwrap();
    global::cache_set("c", json!(3), None, &[]).await.unwrap();
    assert_eq!(global::cache_clear().await.unwrap(), 2);

    // The getters reach the same store and layers.
    let unified = global::get_unified_cache_manager().unwrap();
    unified
        .cache_curve_data(json!(7), "CAISO", "RT", "Z1")
        .await
        .unwrap();
    assert_eq!(
        manager.get_curve_data("CAISO", "RT", "Z1").await.unwrap(),
        Some(json!(7))
    );
    assert_eq!(
        global::get_general_cache().unwrap().namespace().as_str(),
        "general"
    );
    assert_eq!(
        global::get_model_registry_cache()
            .unwrap()
            .namespace()
            .as_str(),
        "model_registry"
    );
    assert_eq!(
        global::get_workflow_cache().unwrap().namespace().as_str(),
        "workflow"
    );
    assert_eq!(
        global::get_tool_cache().unwrap().namespace().as_str(),
        "tool"
    );
    assert_eq!(
        global::get_session_cache().unwrap().default_ttl(),
        Some(Duration::from_secs(300))
    );
    let registry = global::get_registry_cache().unwrap();
    registry
        .set_default_provider("chat", "openai")
        .await
        .unwrap();
    assert_eq!(
        registry
            .get_default_provider("chat")
            .await
            .unwrap()
            .as_deref(),
        Some("openai")
    );
    let workflows = global::get_unified_workflow_cache().unwrap();
    workflows
        .put("openai", "chat", &json!({}), json!("wf"))
        .await
        .unwrap();
    assert_eq!(
        workflows.get("openai", "chat", &json!({})).await.unwrap(),
        Some(json!("wf"))
    );
    // One registry adds up every cache the globals made.
    let stats = global::cache_factory().unwrap().get_stats_all().unwrap();
    assert_eq!(stats.caches["model_registry"].counts.sets, 1);
    assert_eq!(stats.caches["workflow"].counts.sets, 1);
    assert_eq!(stats.caches, manager.registry().stats_all().caches);
    #[allow(deprecated)]
    let service = strata_compat::get_cache_service().unwrap();
    assert_eq!(service.namespace().as_str(), "general");
}
