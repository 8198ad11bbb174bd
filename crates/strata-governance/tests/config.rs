//! The policy from TOML and the environment: precedence, profiles, every validation problem
//! with its field path, and the TOML dump.

use std::time::Duration;

use strata_core::{ErrorKind, Namespace};
use strata_governance::{
    AllowedTiers, GovernanceLayer, Mode, Policy, PolicySource, Priority, Profile, TtlSpec, TtlTier,
};

const FULL: &str = r#"
mode = "clamp"

[namespaces]
orders = "MEDIUM"
quotes = "45s"
audit = 86400

[rules.orders]
floor = "1m"
ceiling = "2h"
max_payload = "1MiB"
jitter = 0.1
tiers = "l2"
priority = "high"
mode = "reject"

[rules.curves]
ceiling = "10m"

[profiles.development]
mode = "warn"
namespaces = { orders = "30s" }
rules.orders = { floor = "1s" }

[profiles.production.rules.curves]
ceiling = "15m"
"#;

#[test]
fn toml_declares_namespaces_and_rules_over_the_built_ins() {
    let policy = Policy::from_toml_str(FULL).unwrap();
    assert_eq!(
        policy.namespaces()["orders"],
        TtlSpec::Tier(TtlTier::Medium)
    );
    assert_eq!(
        policy.namespaces()["quotes"],
        TtlSpec::After(Duration::from_secs(45))
    );
    assert_eq!(
        policy.namespaces()["curves"],
        TtlSpec::After(Duration::from_secs(300)),
        "built-ins stay"
    );
    let compiled = policy.compile().unwrap();
    let orders = compiled.rule(&Namespace::new("orders").unwrap());
    assert_eq!(orders.ceiling, Some(Duration::from_secs(7200)));
    assert_eq!(orders.max_payload, Some(1 << 20));
    assert_eq!(orders.tiers, AllowedTiers::L2);
    assert_eq!(orders.priority, Priority::High);
    assert_eq!(orders.mode, Mode::Reject);
    let quotes = compiled.rule(&Namespace::new("quotes").unwrap());
    assert_eq!(quotes.mode, Mode::Clamp, "the policy's default mode");
}

#[test]
fn profiles_override_the_base() {
    let dev = PolicySource::new()
        .toml_str(FULL)
        .env_vars([("STRATA_GOVERNANCE_PROFILE", "dev")])
        .load()
        .unwrap()
        .compile()
        .unwrap();
    assert_eq!(dev.profile(), Some(Profile::Development));
    let orders = dev.rule(&Namespace::new("orders").unwrap());
    assert_eq!(orders.ttl, TtlSpec::After(Duration::from_secs(30)));
    assert_eq!(orders.floor, Some(Duration::from_secs(1)));
    assert_eq!(
        orders.ceiling,
        Some(Duration::from_secs(7200)),
        "kept from the base"
    );
    assert_eq!(
        orders.mode,
        Mode::Reject,
        "the rule's own mode wins over the profile's default"
    );
    let quotes = dev.rule(&Namespace::new("quotes").unwrap());
    assert_eq!(quotes.mode, Mode::Warn, "the profile's default mode");

    let prod = Policy::from_toml_str(FULL)
        .unwrap()
        .with_profile(Some(Profile::Production))
        .compile()
        .unwrap();
    let curves = prod.rule(&Namespace::new("curves").unwrap());
    assert_eq!(curves.ceiling, Some(Duration::from_secs(900)));
}

#[test]
fn environment_variables_override_toml() {
    let policy = PolicySource::new()
        .toml_str(FULL)
        .env_vars([
            ("STRATA_NS_ORDERS_CEILING", "3h"),
            ("STRATA_NS_MODEL_REGISTRY_TTL", "LONG"),
            ("CACHE_SESSION_TTL", "120"),
            ("STRATA_GOVERNANCE_MODE", "warn"),
            ("UNRELATED", "ignored"),
        ])
        .load()
        .unwrap();
    let compiled = policy.compile().unwrap();
    assert_eq!(
        compiled.rule(&Namespace::new("orders").unwrap()).ceiling,
        Some(Duration::from_secs(3 * 3600))
    );
    assert_eq!(
        compiled
            .rule(&Namespace::new("model_registry").unwrap())
            .ttl,
        TtlSpec::Tier(TtlTier::Long)
    );
    assert_eq!(
        compiled.rule(&Namespace::new("session").unwrap()).ttl,
        TtlSpec::After(Duration::from_secs(120))
    );
    assert_eq!(policy.mode(), Mode::Warn);
}

#[test]
fn validation_reports_every_problem_with_its_path() {
    let bad = r#"
mode = "strict"
fallback = "nowhere"
colour = "blue"

[namespaces]
zero = 0
"bad name" = "5m"
typo = "MEDUIM"
negative = -5

[rules.ghost]
ceiling = "1h"

[rules.curves]
floor = "1h"
ceiling = "1m"
jitter = 0.9
max_payload = 0
tiers = "l3"
flavour = "x"

[rules.metadata]
ceiling = "10m"

[profiles.qa]
mode = "warn"

[profiles.production.rules.phantom]
floor = "1s"
"#;
    let err = PolicySource::new()
        .toml_str(bad)
        .env_vars([("STRATA_NS_SCENARIOS_JITTER", "lots")])
        .load()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    insta::assert_snapshot!("validation_problems", err.to_string());
}

#[test]
fn builder_validation_uses_the_same_paths() {
    use strata_governance::RuleSpec;
    let err = Policy::builder()
        .namespace("orders", Duration::ZERO)
        .rule(
            "orders",
            RuleSpec::new()
                .floor(Duration::from_secs(10))
                .ceiling(Duration::from_secs(5)),
        )
        .rule("unknown", RuleSpec::new().mode(Mode::Warn))
        .build()
        .unwrap_err();
    insta::assert_snapshot!("builder_problems", err.to_string());
}

#[test]
fn toml_syntax_errors_are_reported() {
    let err = Policy::from_toml_str("[namespaces\norders = 1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("toml:"), "{err}");
}

#[test]
fn the_dump_reads_back_as_the_same_policy() {
    let policy = Policy::from_toml_str(FULL).unwrap();
    let dump = policy.to_toml();
    insta::assert_snapshot!("policy_dump", dump);
    assert_eq!(Policy::from_toml_str(&dump).unwrap(), policy);
}

#[test]
fn the_built_in_policy_is_valid_and_complete() {
    let layer = GovernanceLayer::built_in();
    let policy = layer.policy();
    let names: Vec<(String, String)> = policy
        .rules()
        .iter()
        .map(|r| (r.namespace.clone(), r.ttl.to_string()))
        .collect();
    insta::assert_debug_snapshot!("built_in_namespaces", names);
    assert_eq!(policy.fallback().namespace, "general");
}
