//! `cargo xtask test`: format check, clippy, cargo-deny, then every test against real Redis
//! servers started here and stopped afterwards.

use std::time::Instant;

use crate::redis::{self, Servers, StartError};
use crate::{cargo, run_step};

/// Usage of `cargo xtask test`.
pub(crate) const USAGE: &str = "\
cargo xtask test [-p CRATE]... [-- FILTER...]

  Runs, stopping at the first failure:
    fmt     cargo fmt --all -- --check
    clippy  cargo clippy --workspace --all-targets --all-features -- -D warnings
    deny    cargo deny check licenses bans sources (skipped when cargo-deny is missing)
    redis   starts redis-server: one standalone server and a 3-master cluster on free
            loopback ports, announced as STRATA_REDIS_URL and STRATA_REDIS_CLUSTER_URLS
    test    cargo test --workspace --all-features [-- FILTER...]
    features  the umbrella crate's feature matrix (`cargo xtask features`), on whole runs
  then stops the servers (also on failure and on Ctrl-C).

  -p, --package CRATE  clippy and test only CRATE (may repeat)
  -- FILTER...         passed to the test binaries (a test name filter, --nocapture, ...)

  A missing redis-server is an error under CI=true or STRATA_REQUIRE_REDIS=1; otherwise the
  tests run without the variables and the Redis tests skip with a notice.";

/// The parsed arguments of `cargo xtask test`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TestArgs {
    /// Packages given with `-p`; empty means the whole workspace.
    pub(crate) packages: Vec<String>,
    /// Arguments after `--` (or a bare filter), passed to the test binaries.
    pub(crate) test_args: Vec<String>,
    /// `-h`/`--help` was given.
    pub(crate) help: bool,
}

impl TestArgs {
    /// Parses the arguments following `test`.
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut parsed = TestArgs::default();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            match arg.as_str() {
                "--" => {
                    parsed.test_args.extend(iter.by_ref().cloned());
                }
                "-h" | "--help" => parsed.help = true,
                "-p" | "--package" => match iter.next() {
                    Some(pkg) if !pkg.starts_with('-') => parsed.packages.push(pkg.clone()),
                    _ => return Err(format!("`{arg}` needs a package name\n\n{USAGE}")),
                },
                _ => {
                    if let Some(pkg) = arg
                        .strip_prefix("--package=")
                        .or_else(|| arg.strip_prefix("-p").filter(|p| !p.is_empty()))
                    {
                        parsed.packages.push(pkg.trim_start_matches('=').to_owned());
                    } else if arg.starts_with('-') {
                        return Err(format!("unknown option `{arg}`\n\n{USAGE}"));
                    } else {
                        // `cargo xtask test name` is read as `cargo xtask test -- name`.
                        parsed.test_args.push(arg.clone());
                    }
                }
            }
        }
        Ok(parsed)
    }

    /// `--workspace`, or `-p CRATE` for each package given.
    fn package_args(&self) -> Vec<String> {
        if self.packages.is_empty() {
            vec!["--workspace".to_owned()]
        } else {
            self.packages
                .iter()
                .flat_map(|p| ["-p".to_owned(), p.clone()])
                .collect()
        }
    }
}

/// Whether a missing Redis is an error: `CI=true` (or `CI=1`) or `STRATA_REQUIRE_REDIS=1`.
pub(crate) fn redis_required() -> bool {
    let ci = std::env::var("CI").unwrap_or_default();
    let require = std::env::var("STRATA_REQUIRE_REDIS").unwrap_or_default();
    ci.eq_ignore_ascii_case("true") || ci == "1" || require == "1"
}

/// Runs `cargo xtask test` and prints the total duration.
pub(crate) fn run(args: &TestArgs) -> Result<(), String> {
    if args.help {
        println!("{USAGE}");
        return Ok(());
    }
    redis::install_interrupt_handler();
    let started = Instant::now();
    let result = run_steps(args);
    let secs = started.elapsed().as_secs_f64();
    match &result {
        Ok(()) => println!("==> xtask test passed in {secs:.1}s"),
        Err(_) => eprintln!("==> xtask test FAILED after {secs:.1}s"),
    }
    result
}

/// The steps of `cargo xtask test`, in order; the first failure ends the run.
fn run_steps(args: &TestArgs) -> Result<(), String> {
    run_step("fmt", cargo().args(["fmt", "--all", "--", "--check"]))?;

    run_step(
        "clippy",
        cargo().arg("clippy").args(args.package_args()).args([
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;

    deny()?;

    println!("==> redis");
    let servers = start_servers()?;

    let mut test = cargo();
    test.arg("test")
        .args(args.package_args())
        .arg("--all-features");
    if !args.test_args.is_empty() {
        test.arg("--").args(&args.test_args);
    }
    if let Some(servers) = &servers {
        test.envs(servers.env_vars());
    }
    let mut result = run_step("test", &mut test);
    // The feature matrix of the umbrella crate, with the same servers (whole-workspace runs
    // only: `-p` and filters are for quick runs).
    if result.is_ok() && args.packages.is_empty() && args.test_args.is_empty() {
        let env: Vec<(&'static str, String)> = servers
            .as_ref()
            .map(|s| s.env_vars().to_vec())
            .unwrap_or_default();
        result = crate::features::run(&env);
    }

    if let Some(servers) = servers {
        println!("==> stopping redis servers");
        let n = servers.stop();
        println!("    stopped {n} redis-server process(es)");
    }
    result
}

/// Runs `cargo deny check licenses bans sources` when cargo-deny is installed.
fn deny() -> Result<(), String> {
    let installed = cargo()
        .args(["deny", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        println!("==> deny");
        println!(
            "    cargo-deny not installed: skipping license/ban/source checks \
             (cargo install cargo-deny to run them)"
        );
        return Ok(());
    }
    if !crate::workspace_root().join("deny.toml").is_file() {
        println!("==> deny");
        println!("    no deny.toml at the workspace root: skipping license/ban/source checks");
        return Ok(());
    }
    run_step(
        "deny",
        cargo().args(["deny", "check", "licenses", "bans", "sources"]),
    )
}

/// Starts the Redis servers. `Ok(None)` when redis-server is missing and Redis is not
/// required (after a loud warning); an error when it is required or start-up fails.
fn start_servers() -> Result<Option<Servers>, String> {
    let started = Instant::now();
    match Servers::start_all() {
        Ok(servers) => {
            let standalone = servers.standalone();
            println!(
                "    standalone {} (pid {})",
                standalone.url(),
                standalone.pid
            );
            for node in servers.cluster() {
                println!("    cluster    {} (pid {})", node.url(), node.pid);
            }
            println!(
                "    started and cluster ok in {:.2}s",
                started.elapsed().as_secs_f64()
            );
            Ok(Some(servers))
        }
        Err(StartError::NotFound) if !redis_required() => {
            let line = "!".repeat(78);
            eprintln!("{line}");
            eprintln!("WARNING: {}", StartError::NotFound);
            eprintln!("WARNING: running the tests WITHOUT Redis: every Redis test will SKIP.");
            eprintln!("WARNING: (under CI=true or STRATA_REQUIRE_REDIS=1 this is an error)");
            eprintln!("{line}");
            Ok(None)
        }
        Err(StartError::NotFound) => Err(format!(
            "step `redis` failed: {} (Redis is required because CI=true or \
             STRATA_REQUIRE_REDIS=1)",
            StartError::NotFound
        )),
        Err(e) => Err(format!("step `redis` failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses string arguments.
    fn parse(args: &[&str]) -> Result<TestArgs, String> {
        let owned: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        TestArgs::parse(&owned)
    }

    #[test]
    fn no_arguments_means_the_whole_workspace() {
        let args = parse(&[]).unwrap();
        assert_eq!(args, TestArgs::default());
        assert_eq!(args.package_args(), ["--workspace"]);
    }

    #[test]
    fn packages_repeat_in_every_spelling() {
        let args = parse(&["-p", "a", "--package", "b", "-pc", "--package=d", "-p=e"]).unwrap();
        assert_eq!(args.packages, ["a", "b", "c", "d", "e"]);
        assert_eq!(
            args.package_args(),
            ["-p", "a", "-p", "b", "-p", "c", "-p", "d", "-p", "e"]
        );
    }

    #[test]
    fn everything_after_double_dash_goes_to_the_tests() {
        let args = parse(&["-p", "x", "--", "my_filter", "--nocapture", "-p"]).unwrap();
        assert_eq!(args.packages, ["x"]);
        assert_eq!(args.test_args, ["my_filter", "--nocapture", "-p"]);
    }

    #[test]
    fn a_bare_word_is_a_filter() {
        let args = parse(&["cache_hits"]).unwrap();
        assert_eq!(args.test_args, ["cache_hits"]);
    }

    #[test]
    fn errors_on_bad_options() {
        assert!(parse(&["-p"]).unwrap_err().contains("needs a package name"));
        assert!(parse(&["-p", "--", "x"]).is_err());
        assert!(
            parse(&["--frobnicate"])
                .unwrap_err()
                .contains("unknown option")
        );
    }

    #[test]
    fn help_is_recognised() {
        assert!(parse(&["--help"]).unwrap().help);
        assert!(parse(&["-h"]).unwrap().help);
        assert!(!parse(&["--", "-h"]).unwrap().help);
    }
}
