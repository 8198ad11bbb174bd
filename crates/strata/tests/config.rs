//! Configuration: every variable, every kind of invalid value (snapshots of the messages
//! users read), TOML files and their precedence, the dump, and the documentation table.

use std::time::Duration;

use strata::config::{Backend, ClusterNodes, Config, MemorySize, SETTINGS, WriteMode};

fn load(vars: &[(&str, &str)]) -> strata::Result<Config> {
    Config::source().env_vars(vars.iter().copied()).load()
}

#[test]
fn defaults_are_what_the_docs_say() {
    let c = load(&[]).unwrap();
    assert!(c.enabled);
    assert_eq!(c.backend, Backend::Auto);
    assert_eq!(c.memory.max_size, MemorySize::Entries(10_000));
    assert_eq!(c.memory.l1_size_ratio, 0.1);
    assert_eq!(c.memory.eviction_policy, "adaptive");
    assert_eq!(c.redis.prefix, "strata");
    assert_eq!(c.redis.port, 6379);
    assert_eq!(c.shutdown_timeout, Duration::from_secs(5));
    assert_eq!(c.warming.concurrency, 8);
    // The built-in TTLs of the cache types and namespaces.
    for (name, secs) in [
        ("model_registry", 1800),
        ("workflow", 3600),
        ("tool", 3600),
        ("session", 300),
        ("curves", 300),
        ("system_config", 86_400),
    ] {
        assert_eq!(c.ttl_of(name), Some(Duration::from_secs(secs)), "{name}");
    }
    assert_eq!(c.ttl_of("orders"), None);
    // Coherence is on with write-through and off with write-back unless set.
    assert!(c.coherent());
    assert!(!load(&[("STRATA_WRITE_MODE", "back")]).unwrap().coherent());
    assert!(!load(&[("STRATA_COHERENCE", "off")]).unwrap().coherent());
}

#[test]
fn every_variable_is_read() {
    let c = load(&[
        ("CACHE_ENABLED", "false"),
        ("CACHE_BACKEND", "hybrid"),
        ("REDIS_URL", "redis://:s3cret@127.0.0.1:6390/2"),
        ("REDIS_HOST", "127.0.0.1"),
        ("REDIS_PORT", "6391"),
        ("REDIS_CLUSTER", "127.0.0.1:7000, redis://127.0.0.1:7001"),
        ("STRATA_REDIS_PREFIX", "billing"),
        ("STRATA_REDIS_CLIENT", "redis"),
        ("STRATA_REDIS_CONNECT_TIMEOUT", "3s"),
        ("STRATA_REDIS_COMMAND_TIMEOUT", "250ms"),
        ("STRATA_REDIS_LEGACY_JSON", "yes"),
        ("CACHE_MAX_MEMORY_SIZE", "64MiB"),
        ("CACHE_L1_SIZE_RATIO", "0.25"),
        ("CACHE_EVICTION_POLICY", "LRU"),
        ("STRATA_NAMESPACE", "orders"),
        ("STRATA_DEFAULT_TTL", "10m"),
        ("STRATA_FAIL_SAFE", "1h"),
        ("STRATA_LOADER_TIMEOUT", "2s"),
        ("STRATA_WRITE_MODE", "back"),
        ("STRATA_PROMOTION", "IMMEDIATE"),
        ("STRATA_COHERENCE", "false"),
        ("STRATA_COHERENCE_HEARTBEAT", "250ms"),
        ("CACHE_WARM_ON_STARTUP", "true"),
        ("STRATA_WARM_CONCURRENCY", "3"),
        ("STRATA_WARM_INTERVAL", "15m"),
        ("STRATA_SHUTDOWN_TIMEOUT", "9s"),
        ("STRATA_PROFILE", "staging"),
        ("CACHE_SESSION_TTL", "120"),
        ("CACHE_MODEL_REGISTRY_TTL", "45m"),
        ("CACHE_TOOL_TTL", "LONG"),
        ("UNRELATED", "ignored"),
    ])
    .unwrap();
    assert!(!c.enabled);
    assert_eq!(c.backend, Backend::MultiTier);
    assert_eq!(
        c.redis.url.as_deref(),
        Some("redis://:s3cret@127.0.0.1:6390/2")
    );
    assert_eq!(c.redis.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(c.redis.port, 6391);
    assert_eq!(
        c.redis.cluster,
        ClusterNodes::Nodes(vec![
            "redis://127.0.0.1:7000".into(),
            "redis://127.0.0.1:7001".into()
        ])
    );
    assert_eq!(c.redis.prefix, "billing");
    assert_eq!(c.redis.connect_timeout, Duration::from_secs(3));
    assert_eq!(c.redis.command_timeout, Duration::from_millis(250));
    assert!(c.redis.legacy_json);
    assert_eq!(c.memory.max_size, MemorySize::Bytes(64 << 20));
    assert_eq!(c.memory.l1_size_ratio, 0.25);
    assert_eq!(c.memory.eviction_policy, "LRU");
    assert_eq!(c.namespace, "orders");
    assert_eq!(c.default_ttl, Some(Duration::from_secs(600)));
    assert_eq!(c.fail_safe, Some(Duration::from_secs(3600)));
    assert_eq!(c.loader_timeout, Some(Duration::from_secs(2)));
    assert_eq!(c.write_mode, WriteMode::Back);
    assert_eq!(c.promotion, "IMMEDIATE");
    assert_eq!(c.coherence, Some(false));
    assert_eq!(c.coherence_heartbeat, Duration::from_millis(250));
    assert!(c.warming.on_startup);
    assert_eq!(c.warming.concurrency, 3);
    assert_eq!(c.warming.interval, Some(Duration::from_secs(900)));
    assert_eq!(c.shutdown_timeout, Duration::from_secs(9));
    assert_eq!(c.profile.as_deref(), Some("staging"));
    assert_eq!(c.ttl_of("session"), Some(Duration::from_secs(120)));
    assert_eq!(c.ttl_of("MODEL_REGISTRY"), Some(Duration::from_secs(2700)));
    assert_eq!(c.ttl_of("tool"), Some(Duration::from_secs(4 * 3600))); // a TTL tier
    // A plain number is a count of entries, as the older managers meant it.
    let c = load(&[("CACHE_MAX_MEMORY_SIZE", "1000")]).unwrap();
    assert_eq!(c.memory.max_size, MemorySize::Entries(1000));
    // REDIS_HOST and REDIS_PORT make the address when no URL is set.
    let c = load(&[("REDIS_HOST", "127.0.0.1"), ("REDIS_PORT", "6400")]).unwrap();
    assert_eq!(c.redis.address().as_deref(), Some("redis://127.0.0.1:6400"));
    // REDIS_CLUSTER=true makes the URL a cluster seed.
    let c = load(&[
        ("REDIS_URL", "redis://127.0.0.1:7000"),
        ("REDIS_CLUSTER", "true"),
    ])
    .unwrap();
    assert_eq!(
        c.redis.cluster_seeds(),
        Some(vec!["redis://127.0.0.1:7000".to_owned()])
    );
    for (name, backend) in [
        ("auto", Backend::Auto),
        ("memory", Backend::Memory),
        ("redis", Backend::Redis),
        ("redis_cluster", Backend::RedisCluster),
        ("multi_tier", Backend::MultiTier),
        ("hybrid", Backend::MultiTier),
    ] {
        let c = Config::source()
            .env_vars([
                ("CACHE_BACKEND", name),
                ("REDIS_URL", "redis://127.0.0.1:6379"),
            ])
            .load_with_problems()
            .unwrap()
            .0;
        assert_eq!(c.backend, backend, "{name}");
    }
}

#[test]
fn every_invalid_value_is_reported_at_once() {
    let err = load(&[
        ("CACHE_ENABLED", "maybe"),
        ("CACHE_BACKEND", "floppy"),
        ("REDIS_URL", "http://user:hunter2@127.0.0.1:6379"),
        ("REDIS_PORT", "70000"),
        ("REDIS_CLUSTER", "127.0.0.1:0"),
        ("STRATA_REDIS_PREFIX", "has space"),
        ("STRATA_REDIS_CLIENT", "jedis"),
        ("STRATA_REDIS_COMMAND_TIMEOUT", "0"),
        ("CACHE_MAX_MEMORY_SIZE", "12 parsecs"),
        ("CACHE_L1_SIZE_RATIO", "1.5"),
        ("CACHE_EVICTION_POLICY", "fifo"),
        ("STRATA_NAMESPACE", "a:b"),
        ("STRATA_DEFAULT_TTL", "5 weeks"),
        ("STRATA_WRITE_MODE", "sideways"),
        ("STRATA_WARM_CONCURRENCY", "-2"),
        ("STRATA_PROFILE", "qa"),
        ("CACHE_SESSION_TTL", "soon"),
    ])
    .unwrap_err();
    assert_eq!(err.kind(), strata::ErrorKind::InvalidConfig);
    let text = err.to_string();
    assert!(!text.contains("hunter2"), "a password leaked: {text}");
    insta::assert_snapshot!("invalid_values", text);
}

#[test]
fn contradictions_are_reported() {
    for (name, vars) in [
        ("ratio_zero", vec![("CACHE_L1_SIZE_RATIO", "0")]),
        ("cluster_seed_without_url", vec![("REDIS_CLUSTER", "true")]),
        ("empty_memory", vec![("CACHE_MAX_MEMORY_SIZE", "0")]),
        (
            "bad_url_port",
            vec![("REDIS_URL", "redis://127.0.0.1:port")],
        ),
        ("no_url_scheme", vec![("REDIS_URL", "127.0.0.1:6379")]),
        (
            "coherent_write_back",
            vec![("STRATA_WRITE_MODE", "back"), ("STRATA_COHERENCE", "true")],
        ),
    ] {
        let err = load(&vars).unwrap_err();
        insta::assert_snapshot!(name, err.to_string());
    }
    // The message differs by build (without the `redis` feature it says so too).
    let err = load(&[("CACHE_BACKEND", "redis")]).unwrap_err().to_string();
    assert!(
        err.contains("CACHE_BACKEND (backend): redis needs a Redis address; set REDIS_URL, REDIS_HOST or REDIS_CLUSTER"),
        "{err}"
    );
}

#[test]
fn a_toml_file_is_read_and_the_environment_wins() {
    let dir = std::env::temp_dir().join(format!("strata-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cache.toml");
    std::fs::write(
        &path,
        r#"
backend = "memory"
default_ttl = "2m"

[memory]
max_size = 5000
eviction_policy = "ttl"

[redis]
url = "redis://127.0.0.1:6379"
cluster = ["127.0.0.1:7000"]

[warming]
on_startup = true

[ttl]
tool = "90s"
"#,
    )
    .unwrap();
    // STRATA_CONFIG names the file; the environment overrides it.
    let c = load(&[
        ("STRATA_CONFIG", path.to_str().unwrap()),
        ("CACHE_EVICTION_POLICY", "random"),
    ])
    .unwrap();
    assert_eq!(c.backend, Backend::Memory);
    assert_eq!(c.default_ttl, Some(Duration::from_secs(120)));
    assert_eq!(c.memory.max_size, MemorySize::Entries(5000));
    assert_eq!(c.memory.eviction_policy, "random");
    assert!(c.warming.on_startup);
    assert_eq!(c.ttl_of("tool"), Some(Duration::from_secs(90)));
    assert_eq!(
        c.redis.cluster,
        ClusterNodes::Nodes(vec!["redis://127.0.0.1:7000".into()])
    );
    // A file that is not there is a clear error naming it.
    let missing = dir.join("missing.toml");
    let err = Config::source().toml_file(&missing).load().unwrap_err();
    assert!(err.to_string().contains("missing.toml"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn toml_mistakes_name_the_field() {
    let err = Config::source()
        .toml_str(
            "backend = 3\nbogus = 1\n[memory]\nl1_size_ratio = \"lots\"\n[redis]\nport = \"x\"\n",
        )
        .load()
        .unwrap_err();
    insta::assert_snapshot!("toml_mistakes", err.to_string());
    let err = Config::source().toml_str("backend = ").load().unwrap_err();
    assert!(err.to_string().contains("is not valid TOML"), "{err}");
}

#[test]
fn the_dump_reads_back_and_hides_passwords() {
    let c = load(&[
        ("CACHE_BACKEND", "memory"),
        ("REDIS_URL", "redis://app:s3cret@127.0.0.1:6379/0"),
        ("CACHE_SESSION_TTL", "120"),
        ("STRATA_FAIL_SAFE", "1h"),
    ])
    .unwrap();
    let dump = c.dump();
    assert!(!dump.contains("s3cret"));
    insta::assert_snapshot!("dump", dump);
    // The dump is itself a configuration file (with the password masked).
    let back = Config::source().toml_str(dump).load().unwrap();
    assert_eq!(back.backend, c.backend);
    assert_eq!(back.ttls, c.ttls);
    assert_eq!(back.fail_safe, c.fail_safe);
}

#[test]
fn the_documentation_lists_every_variable() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/configuration.md"
    ))
    .expect("docs/configuration.md");
    for s in SETTINGS {
        assert!(
            doc.contains(&format!("`{}`", s.var)),
            "{} is not in docs/configuration.md",
            s.var
        );
        if s.path != "(file)" {
            assert!(
                doc.contains(&format!("`{}`", s.path)),
                "{} is not in docs/configuration.md",
                s.path
            );
        }
    }
    for extra in ["CACHE_<TYPE>_TTL", "STRATA_NS_<NAMESPACE>_TTL"] {
        assert!(
            doc.contains(extra),
            "{extra} is not in docs/configuration.md"
        );
    }
}

#[cfg(feature = "tiered")]
#[test]
fn promotion_strategies_are_checked() {
    for ok in ["predictive", "lazy", "never", "conditional:3/60s"] {
        assert_eq!(load(&[("STRATA_PROMOTION", ok)]).unwrap().promotion, ok);
    }
    let err = load(&[("STRATA_PROMOTION", "conditional:0/1s")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("STRATA_PROMOTION (promotion)"), "{err}");
    assert!(err.contains("1 or more"), "{err}");
}
