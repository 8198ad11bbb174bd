//! Helpers shared by the tests that run against a private server.
#![allow(dead_code, unreachable_pub)]

use strata_core::{Key, Namespace};
use strata_redis::Client;
use strata_testkit::redis_server::RedisServer;

/// Every client library this build has: redis-rs, and fred with the `fred` feature.
pub fn clients() -> Vec<Client> {
    vec![
        Client::RedisRs,
        #[cfg(feature = "fred")]
        Client::Fred,
    ]
}

/// A key in namespace `ns`.
pub fn key(ns: &str, id: &str) -> Key {
    Key::new(&Namespace::new(ns).expect("valid namespace"), id).expect("valid key")
}

/// The `INFO` text of `section`.
pub fn info(server: &RedisServer, section: &str) -> String {
    server
        .command(&["INFO", section])
        .expect("INFO")
        .as_text()
        .expect("INFO answers text")
}

/// A numeric `field:value` line of `INFO section`.
pub fn info_number(server: &RedisServer, section: &str, field: &str) -> u64 {
    let text = info(server, section);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO {section} has no numeric {field}"))
}

/// How many times `command` ran, from `INFO commandstats` (0 when it never ran).
pub fn calls(server: &RedisServer, command: &str) -> u64 {
    let text = info(server, "commandstats");
    let prefix = format!("cmdstat_{command}:calls=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
