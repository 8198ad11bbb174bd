//! `cargo xtask features`: the umbrella crate builds with each feature alone, with `full` and
//! with `redis,tiered`; its tests pass with the default features and with `full`; and
//! strata-compat (which depends on the umbrella) builds with its default features and with
//! `redis`.

use crate::{cargo, run_step};

/// Usage of `cargo xtask features`.
pub(crate) const USAGE: &str = "\
cargo xtask features

  cargo check -p strata --no-default-features --features X for each feature of the umbrella
  crate alone, for `full` and for `redis,tiered`; then cargo test -p strata with the default
  features and with `full`, against a standalone redis-server and a 3-master cluster started
  for the run (as `cargo xtask test` does; it runs this matrix too); and cargo check
  -p strata-compat with its default features and with `redis`.";

/// Each feature of the umbrella crate, checked alone.
pub(crate) const FEATURES: &[&str] = &[
    "memory",
    "redis",
    "cluster",
    "tiered",
    "governance",
    "analytics",
    "otel",
    "tls",
    "fred",
];

/// `cargo xtask features`: starts the Redis servers, runs the matrix, stops them.
pub(crate) fn run_with_servers() -> Result<(), String> {
    crate::redis::install_interrupt_handler();
    let servers = crate::redis::Servers::start_all().map_err(|e| e.to_string())?;
    let env = servers.env_vars().to_vec();
    let result = run(&env);
    servers.stop();
    result
}

/// Runs the matrix; `test_env` is given to the test runs (the servers of `cargo xtask test`).
pub(crate) fn run(test_env: &[(&'static str, String)]) -> Result<(), String> {
    let mut sets: Vec<&str> = FEATURES.to_vec();
    sets.extend(["full", "redis,tiered"]);
    for set in sets {
        run_step(
            &format!("features: check {set}"),
            cargo().args([
                "check",
                "-p",
                "strata",
                "--no-default-features",
                "--features",
                set,
            ]),
        )?;
    }
    for (name, extra) in [("default", None), ("redis", Some("redis"))] {
        let mut check = cargo();
        check.args(["check", "-p", "strata-compat", "--all-targets"]);
        if let Some(f) = extra {
            check.args(["--features", f]);
        }
        run_step(&format!("features: check strata-compat {name}"), &mut check)?;
    }
    run_step(
        "features: test default",
        cargo()
            .args(["test", "-p", "strata"])
            .envs(test_env.iter().cloned()),
    )?;
    run_step(
        "features: test full",
        cargo()
            .args(["test", "-p", "strata", "--features", "full"])
            .envs(test_env.iter().cloned()),
    )
}
