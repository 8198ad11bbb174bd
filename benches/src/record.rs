//! The records a bench binary reports, one `STRATA_RECORD {json}` line each.

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::contract::{BYTES, OPS_PER_SEC, PEER_KEYS, RATIO, RECORD_PREFIX};

/// One result: Strata's figure and, for the same work, each peer's.
///
/// ```
/// use strata_benches::Record;
/// let r = Record::ops_per_sec("memory.get_hit.1t", 1.0e7).peer("moka", 2.0e6);
/// assert_eq!(
///     r.to_json(),
///     r#"{"name":"memory.get_hit.1t","unit":"ops/s","higher_is_better":true,"strata":10000000.0,"peers":{"moka":2000000.0}}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Record {
    /// The record's name, such as `memory.get_hit.1t` (read by other tools: keep it stable).
    pub name: String,
    /// `ops/s`, `ratio`, `bytes`, `s`, ...
    pub unit: String,
    /// Whether a larger figure is better.
    pub higher_is_better: bool,
    /// Strata's figure.
    pub strata: f64,
    /// Each peer's figure, by peer key (see [`PEER_KEYS`]); empty for a ratio.
    pub peers: BTreeMap<String, f64>,
    /// Supporting figures shown beside the record (such as the absolute times behind a
    /// ratio); omitted when empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub detail: BTreeMap<String, f64>,
}

impl Record {
    /// A record with no peers.
    pub fn new(name: &str, unit: &str, higher_is_better: bool, strata: f64) -> Self {
        Record {
            name: name.to_owned(),
            unit: unit.to_owned(),
            higher_is_better,
            strata,
            peers: BTreeMap::new(),
            detail: BTreeMap::new(),
        }
    }

    /// A throughput record (`ops/s`, higher is better).
    pub fn ops_per_sec(name: &str, strata: f64) -> Self {
        Record::new(name, OPS_PER_SEC, true, strata)
    }

    /// A ratio record (`ratio`, lower is better, no peers).
    pub fn ratio(name: &str, value: f64) -> Self {
        Record::new(name, RATIO, false, value)
    }

    /// Adds a peer's figure.
    ///
    /// # Panics
    /// When `key` is not one of [`PEER_KEYS`] (a typo would silently break the report).
    pub fn peer(mut self, key: &str, value: f64) -> Self {
        assert!(
            PEER_KEYS.contains(&key),
            "unknown peer key `{key}` in record `{}` (known: {PEER_KEYS:?})",
            self.name
        );
        self.peers.insert(key.to_owned(), value);
        self
    }

    /// Adds a supporting figure.
    pub fn detail(mut self, key: &str, value: f64) -> Self {
        self.detail.insert(key.to_owned(), value);
        self
    }

    /// The record as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| panic!("record {}: {e}", self.name))
    }

    /// The stdout line carrying the record.
    pub fn to_line(&self) -> String {
        format!("{RECORD_PREFIX}{}", self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_records_have_empty_peers_and_lower_is_better() {
        let r = Record::ratio("core.two_layers.boxed_over_native", 1.5).detail("native_ns", 9.0);
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["unit"], "ratio");
        assert_eq!(v["higher_is_better"], false);
        assert_eq!(v["peers"], serde_json::json!({}));
        assert_eq!(v["detail"]["native_ns"], 9.0);
        assert!(r.to_line().starts_with("STRATA_RECORD {"));
    }

    #[test]
    #[should_panic(expected = "unknown peer key")]
    fn unknown_peers_are_refused() {
        let _ = Record::ops_per_sec("x", 1.0).peer("mokka", 1.0);
    }
}
