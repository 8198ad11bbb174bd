//! The effective configuration as TOML that [`ConfigSource`](super::ConfigSource) reads
//! back, with passwords redacted (for logs, an admin endpoint or a support ticket).

use std::fmt::Write as _;
use std::time::Duration;

use strata_core::config::format_duration;

use super::validate::redact;
use super::{ClusterNodes, Config, MemorySize, WriteMode};

fn dur(d: Option<Duration>) -> Option<String> {
    d.map(|d| format!("{:?}", format_duration(d)))
}

pub(super) fn to_toml(c: &Config) -> String {
    let mut s = String::new();
    let line = |s: &mut String, k: &str, v: Option<String>| {
        if let Some(v) = v {
            let _ = writeln!(s, "{k} = {v}");
        }
    };
    line(&mut s, "enabled", Some(c.enabled.to_string()));
    line(&mut s, "backend", Some(format!("{:?}", c.backend.as_str())));
    line(&mut s, "namespace", Some(format!("{:?}", c.namespace)));
    line(&mut s, "default_ttl", dur(c.default_ttl));
    line(&mut s, "fail_safe", dur(c.fail_safe));
    line(&mut s, "loader_timeout", dur(c.loader_timeout));
    let mode = match c.write_mode {
        WriteMode::Through => "through",
        WriteMode::Back => "back",
    };
    line(&mut s, "write_mode", Some(format!("{mode:?}")));
    let coherence = match c.coherence {
        None => "\"auto\"".to_owned(),
        Some(b) => b.to_string(),
    };
    line(&mut s, "promotion", Some(format!("{:?}", c.promotion)));
    line(&mut s, "coherence", Some(coherence));
    line(
        &mut s,
        "coherence_heartbeat",
        dur(Some(c.coherence_heartbeat)),
    );
    line(&mut s, "shutdown_timeout", dur(Some(c.shutdown_timeout)));
    line(
        &mut s,
        "profile",
        c.profile.as_ref().map(|p| format!("{p:?}")),
    );

    s.push_str("\n[redis]\n");
    line(
        &mut s,
        "url",
        c.redis.url.as_ref().map(|u| format!("{:?}", redact(u))),
    );
    line(
        &mut s,
        "host",
        c.redis.host.as_ref().map(|h| format!("{h:?}")),
    );
    line(&mut s, "port", Some(c.redis.port.to_string()));
    let cluster = match &c.redis.cluster {
        ClusterNodes::No => "false".to_owned(),
        ClusterNodes::SeedFromUrl => "true".to_owned(),
        ClusterNodes::Nodes(n) => format!(
            "[{}]",
            n.iter()
                .map(|n| format!("{:?}", redact(n)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    line(&mut s, "cluster", Some(cluster));
    line(&mut s, "prefix", Some(format!("{:?}", c.redis.prefix)));
    line(&mut s, "client", Some(format!("{:?}", c.redis.client)));
    line(
        &mut s,
        "connect_timeout",
        dur(Some(c.redis.connect_timeout)),
    );
    line(
        &mut s,
        "command_timeout",
        dur(Some(c.redis.command_timeout)),
    );
    line(&mut s, "legacy_json", Some(c.redis.legacy_json.to_string()));

    s.push_str("\n[memory]\n");
    let size = match c.memory.max_size {
        MemorySize::Entries(n) => n.to_string(),
        MemorySize::Bytes(n) => format!("\"{n}B\""),
    };
    line(&mut s, "max_size", Some(size));
    line(
        &mut s,
        "l1_size_ratio",
        Some(format!("{:?}", c.memory.l1_size_ratio)),
    );
    line(
        &mut s,
        "eviction_policy",
        Some(format!("{:?}", c.memory.eviction_policy)),
    );

    s.push_str("\n[warming]\n");
    line(&mut s, "on_startup", Some(c.warming.on_startup.to_string()));
    line(
        &mut s,
        "concurrency",
        Some(c.warming.concurrency.to_string()),
    );
    line(&mut s, "interval", dur(c.warming.interval));

    if !c.ttls.is_empty() {
        s.push_str("\n[ttl]\n");
        for (name, d) in &c.ttls {
            line(&mut s, name, dur(Some(*d)));
        }
    }
    if let Some(table) = c
        .governance_toml
        .as_deref()
        .and_then(|g| g.parse::<toml::Table>().ok())
    {
        let mut wrapped = toml::Table::new();
        wrapped.insert("governance".to_owned(), toml::Value::Table(table));
        s.push('\n');
        s.push_str(&toml::to_string(&wrapped).unwrap_or_default());
    }
    s
}
