//! What every configuration loader shares: durations and sizes as configuration writes them
//! (`"45s"`, `"1MiB"`), and [`Problems`], the list of everything wrong with a configuration,
//! each with the field or variable at fault.
//!
//! ```
//! use std::time::Duration;
//! use strata_core::config::{parse_bytes, parse_duration, Problems};
//!
//! assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
//! assert_eq!(parse_bytes("1MiB"), Ok(1 << 20));
//! let mut problems = Problems::default();
//! problems.push("CACHE_L1_SIZE_RATIO", "1.5 is outside 0..1");
//! assert!(problems.into_result().is_err());
//! ```

mod problems;
mod sources;
mod units;
pub mod values;

pub use problems::{Problem, Problems};
pub use sources::Sources;
pub use units::{format_duration, parse_bytes, parse_duration};
