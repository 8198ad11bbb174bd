//! The benchmark record contract shared by the bench binaries and `cargo xtask bench`: the
//! stdout prefix, the peer keys, the units and how figures are printed.
//!
//! This file uses nothing but `std`, because xtask compiles it too (`#[path]`), so both sides
//! agree by construction without xtask depending on the benches' heavy dependencies.

/// The `schema` number of the JSON file `cargo xtask bench` writes.
pub const SCHEMA: u64 = 1;

/// What starts the stdout line carrying a record; `cargo xtask bench` collects these lines.
pub const RECORD_PREFIX: &str = "STRATA_RECORD ";

/// The peer keys a record may use.
pub const PEER_KEYS: &[&str] = &[
    "moka",
    "quick_cache",
    "lru",
    "redis_rs",
    "fred",
    "cache_core",
];

/// The unit of throughput records.
pub const OPS_PER_SEC: &str = "ops/s";

/// The unit of memory records (such as bytes per entry; lower is better).
pub const BYTES: &str = "bytes";

/// The unit of records that are themselves a ratio (and have no peers).
pub const RATIO: &str = "ratio";

/// Formats a figure for people: ops/s scaled (`24.1M`), anything else with 4 significant
/// digits.
pub fn format_figure(value: f64, unit: &str) -> String {
    if unit == OPS_PER_SEC {
        let (scaled, suffix) = if value >= 1e9 {
            (value / 1e9, "G")
        } else if value >= 1e6 {
            (value / 1e6, "M")
        } else if value >= 1e3 {
            (value / 1e3, "k")
        } else {
            (value, "")
        };
        format!("{scaled:.2}{suffix}")
    } else if value != 0.0 && (value.abs() >= 1e5 || value.abs() < 1e-3) {
        format!("{value:.3e}")
    } else {
        let digits = 3 - value.abs().log10().floor().clamp(-3.0, 3.0) as i32;
        format!("{value:.*}", digits.max(0) as usize)
    }
}
