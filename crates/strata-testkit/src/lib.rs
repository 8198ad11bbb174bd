//! # strata-testkit
//!
//! Test support shared by every Strata store and layer:
//!
//! - [`conformance`]: the behaviour every store must have, written once as capability-gated
//!   async cases and run by each store's tests through a [`conformance::StoreFactory`];
//! - [`fault`]: [`fault::FaultLayer`], a layer that injects failures, latency and outages, to
//!   test layers and tiering (and, with no faults, a pass-through layer for benchmarks);
//! - `redis_server`: starts and stops a private `redis-server` for tests.
//!
//! A store's test runs the whole suite through its factory and snapshots what it skipped:
//!
//! ```
//! use strata_testkit::conformance::{self, StoreFactory};
//!
//! async fn conforms<F: StoreFactory>(factory: &F) -> Vec<String> {
//!     let report = conformance::run(factory).await;
//!     report.assert_ok(); // panics listing every failed case
//!     report.skipped      // "case (needs CAPABILITY)"; snapshot it with insta
//! }
//! ```
#![forbid(unsafe_code)]

pub mod conformance;
pub mod fault;
pub mod redis_server;
pub mod resp;
