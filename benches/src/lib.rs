//! # strata-benches
//!
//! Criterion benchmarks comparing Strata with its peers (moka, quick_cache, lru, ...), and
//! the small library the bench binaries share:
//!
//! - [`Runner`]: runs every contender of a record as a criterion benchmark, `R` rounds that
//!   interleave Strata and its peers, reads criterion's estimates back, and prints one
//!   `STRATA_RECORD {json}` line per [`Record`] for `cargo xtask bench` to collect.
//! - [`workload`]: key sets, pre-shuffled orders and the loops every contender runs.
//! - [`paired`]: the ratio of two operations' times from short batches run in alternation
//!   (the layer-overhead records).
//! - [`passthrough`]: a do-nothing [`strata_core::Layer`], to measure what a layer costs.
//! - [`trace`] and [`synthetic`]: the pages `cargo xtask sim` replays, from trace files or
//!   generated.
//!
//! See `benches/README.md` for how to add a record.
#![forbid(unsafe_code)]

pub mod contract;
pub mod paired;
pub mod passthrough;
pub mod record;
pub mod runner;
pub mod synthetic;
pub mod trace;
pub mod workload;

pub use passthrough::{PassThrough, PassThroughLayer};
pub use record::{PEER_KEYS, RECORD_PREFIX, Record};
pub use runner::{Contender, Measured, Runner, Settings};
