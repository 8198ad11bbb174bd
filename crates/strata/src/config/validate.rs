//! Checks a whole [`Config`]: values out of range, settings the build's features cannot
//! honour, and settings that contradict each other. Every problem names the variable, the
//! TOML path and the value.

use std::time::Duration;

use strata_core::config::Problems;

use super::vars::label;
use super::{Backend, ClusterNodes, Config, MemorySize};

pub(crate) const PROFILES: [&str; 3] = ["development", "staging", "production"];

pub(super) fn problems(c: &Config) -> Problems {
    let mut out = Problems::default();
    let mut push = |path: &str, msg: String| out.push(label(path), msg);

    if let Err(e) = strata_core::Namespace::new(&c.namespace) {
        push("namespace", e.message().to_owned());
    }
    for (path, d) in [
        ("default_ttl", c.default_ttl),
        ("fail_safe", c.fail_safe),
        ("loader_timeout", c.loader_timeout),
        ("warming.interval", c.warming.interval),
        ("shutdown_timeout", Some(c.shutdown_timeout)),
        ("coherence_heartbeat", Some(c.coherence_heartbeat)),
        ("redis.connect_timeout", Some(c.redis.connect_timeout)),
        ("redis.command_timeout", Some(c.redis.command_timeout)),
    ] {
        if d == Some(Duration::ZERO) {
            push(
                path,
                "0 is not a duration here; leave it unset or give one above 0".into(),
            );
        }
    }
    for (name, d) in &c.ttls {
        if d.is_zero() {
            out_push_ttl(&mut push, name);
        }
    }
    if let Some(p) = &c.profile
        && !PROFILES.contains(&p.as_str())
    {
        push(
            "profile",
            format!("{p:?} is not a profile; expected development, staging or production"),
        );
    }

    // Memory.
    let size = match c.memory.max_size {
        MemorySize::Entries(n) | MemorySize::Bytes(n) => n,
    };
    if size == 0 {
        push(
            "memory.max_size",
            "0 leaves no room; give a number of entries or a size above 0".into(),
        );
    }
    let r = c.memory.l1_size_ratio;
    if !(r > 0.0 && r <= 1.0) {
        push(
            "memory.l1_size_ratio",
            format!("{r} is outside 0..1; give a fraction above 0 and at most 1, such as 0.1"),
        );
    }
    eviction(&c.memory.eviction_policy, &mut push);
    promotion(&c.promotion, &mut push);
    if c.coherence == Some(true) && c.write_mode == super::WriteMode::Back {
        push(
            "coherence",
            "true cannot go with STRATA_WRITE_MODE=back: write-back defers the L2 writes other nodes' invalidations follow; use write-through or set STRATA_COHERENCE=false".into(),
        );
    }
    if c.warming.concurrency == 0 {
        push(
            "warming.concurrency",
            "0 would never warm anything; give 1 or more".into(),
        );
    }

    // Redis.
    if !valid_prefix(&c.redis.prefix) {
        push(
            "redis.prefix",
            format!("{:?} must be 1 to 64 of A-Z a-z 0-9 _ . -", c.redis.prefix),
        );
    }
    match c.redis.client.to_ascii_lowercase().as_str() {
        "redis" | "redis-rs" | "redis_rs" => {}
        "fred" if cfg!(feature = "fred") => {}
        "fred" => push(
            "redis.client",
            "\"fred\" needs the `fred` feature of strata".into(),
        ),
        other => push(
            "redis.client",
            format!("{other:?} is not a client; expected redis or fred"),
        ),
    }
    if c.redis.port == 0 {
        push("redis.port", "0 is not a port".into());
    }
    if let Some(url) = &c.redis.url
        && let Err(e) = check_url(url)
    {
        push("redis.url", format!("{}: {e}", redact(url)));
    }
    if let Some(host) = &c.redis.host
        && (host.is_empty() || host.contains(['/', '@', ' ']))
    {
        push(
            "redis.host",
            format!("{host:?} is not a host name or address"),
        );
    }
    if let ClusterNodes::Nodes(nodes) = &c.redis.cluster {
        for node in nodes {
            if let Err(e) = check_url(node) {
                push("redis.cluster", format!("{}: {e}", redact(node)));
            }
        }
    }
    if c.redis.cluster == ClusterNodes::SeedFromUrl && c.redis.address().is_none() {
        push(
            "redis.cluster",
            "true needs a Redis address to use as the seed; set REDIS_URL or REDIS_HOST".into(),
        );
    }

    // The backend: an address where one is needed, and the features that serve it.
    let needs_redis = matches!(
        c.backend,
        Backend::Redis | Backend::RedisCluster | Backend::MultiTier
    );
    if c.enabled && needs_redis {
        if c.redis.address().is_none() && !matches!(c.redis.cluster, ClusterNodes::Nodes(_)) {
            push(
                "backend",
                format!(
                    "{} needs a Redis address; set REDIS_URL, REDIS_HOST or REDIS_CLUSTER",
                    c.backend
                ),
            );
        }
        if !cfg!(feature = "redis") {
            push(
                "backend",
                format!("{} needs the `redis` feature of strata", c.backend),
            );
        }
    }
    if c.enabled && c.backend == Backend::MultiTier && !cfg!(feature = "tiered") {
        push(
            "backend",
            "multi_tier needs the `tiered` feature of strata".into(),
        );
    }
    if c.enabled && c.backend == Backend::Memory && !cfg!(feature = "memory") {
        push(
            "backend",
            "memory needs the `memory` feature of strata".into(),
        );
    }
    if c.enabled
        && c.backend == Backend::Auto
        && !cfg!(feature = "memory")
        && !cfg!(feature = "redis")
    {
        push(
            "backend",
            "auto needs the `memory` or the `redis` feature of strata".into(),
        );
    }
    if c.governance_toml.is_some() && !cfg!(feature = "governance") {
        push(
            "governance",
            "a [governance] table needs the `governance` feature of strata".into(),
        );
    }
    #[cfg(feature = "governance")]
    governance(c, &mut out);
    out
}

/// The governance policy's own problems (a variable read by both, such as
/// `CACHE_SESSION_TTL`, is reported once).
#[cfg(feature = "governance")]
fn governance(c: &Config, out: &mut Problems) {
    match c.governance_source().load_with_problems() {
        Ok((_, found)) => {
            for p in found.0 {
                if !out
                    .0
                    .iter()
                    .any(|q| q.path.split(' ').next() == Some(p.path.as_str()))
                {
                    out.0.push(p);
                }
            }
        }
        Err(e) => out.push("governance", e.message().to_owned()),
    }
}

fn out_push_ttl(push: &mut impl FnMut(&str, String), name: &str) {
    push(
        &format!("CACHE_{}_TTL (ttl.{name})", name.to_ascii_uppercase()),
        "0 is not a TTL; give one above 0".into(),
    );
}

#[cfg(feature = "tiered")]
fn promotion(text: &str, push: &mut impl FnMut(&str, String)) {
    if let Err(e) = text.parse::<strata_tiered::Promotion>() {
        push("promotion", e);
    }
}

#[cfg(not(feature = "tiered"))]
fn promotion(text: &str, push: &mut impl FnMut(&str, String)) {
    if !text.eq_ignore_ascii_case("immediate") {
        push(
            "promotion",
            format!(
                "{text:?} needs the `tiered` feature of strata (there is no L1 to promote into)"
            ),
        );
    }
}

#[cfg(feature = "memory")]
fn eviction(name: &str, push: &mut impl FnMut(&str, String)) {
    if let Err(e) = name.parse::<strata_memory::EvictionPolicy>() {
        push("memory.eviction_policy", e.message().to_owned());
    }
}

#[cfg(not(feature = "memory"))]
fn eviction(name: &str, push: &mut impl FnMut(&str, String)) {
    if name != "adaptive" {
        push(
            "memory.eviction_policy",
            format!("{name:?} needs the `memory` feature of strata (no in-memory store is built)"),
        );
    }
}

fn valid_prefix(p: &str) -> bool {
    (1..=64).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A Redis URL: `redis://` or `rediss://`, then a host.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("is not a URL; write redis://host:port".into());
    };
    match scheme {
        "redis" => {}
        "rediss" if cfg!(feature = "tls") => {}
        "rediss" => return Err("rediss:// needs the `tls` feature of strata".into()),
        other => return Err(format!("the scheme {other:?} is not redis or rediss")),
    }
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => return Err("has an unclosed [ in its host".into()),
        },
        None => match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if let Some(p) = port
        && !matches!(p.parse::<u16>(), Ok(n) if n > 0)
    {
        return Err(format!("has the port {p:?}, not a number from 1 to 65535"));
    }
    Ok(())
}

/// The URL with its password replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                "***".to_owned()
            };
            format!("{scheme}://{masked}@{host}{path}")
        }
        None => url.to_owned(),
    }
}
