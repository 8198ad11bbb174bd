//! Project automation for Strata: `cargo xtask <COMMAND>`.
//!
//! Each command lives in its own module with a `run` function; [`dispatch`] maps the command
//! name to it. Shared helpers: [`cargo`], [`run_step`], [`workspace_root`], and
//! [`redis::Servers`] for real Redis servers.

mod bench;
/// The benchmark record contract, shared with the bench binaries (std only).
#[allow(dead_code, unreachable_pub)]
#[path = "../../benches/src/contract.rs"]
mod contract;
mod features;
mod redis;
mod resp;
mod sim;
mod test;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// Top-level usage.
const USAGE: &str = "\
Usage: cargo xtask <COMMAND> [ARGS]

Commands:
  test [-p CRATE]... [-- FILTER...]  fmt check, clippy, cargo-deny, then all tests against
                                     real Redis servers started for the run
  bench [--quick] [--json PATH] [--bench NAME]... [--save-baseline NAME]
        [--baseline NAME [--tolerance PCT] [--fail-on-regression]] [-- FILTER]
                                     benchmarks against moka, quick_cache, lru, ...;
                                     writes target/strata-bench.json
  sim --trace PATH[,PATH..] --sizes N[,N..] [--policies LIST] [--threads N]
      [--json PATH] [--csv PATH] [--plot PATH.png]
                                     replay cache traces: hit ratios of Strata's policies,
                                     lru, moka, quick_cache and OPT
  features                           the umbrella crate's feature matrix (each feature
                                     alone, full, redis+tiered; tests default and full);
                                     `test` runs it too
  help [COMMAND]                     print this message or a command's usage";

/// Entry point: runs the command and exits non-zero (with the reason on stderr) on failure.
fn main() -> ExitCode {
    // Whatever happens (error, panic), no server started here outlives xtask.
    let stop_servers = StopServersOnExit;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = dispatch(&args);
    drop(stop_servers);
    if redis::interrupted() {
        eprintln!("interrupted");
        return ExitCode::from(130);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Kills every recorded redis-server when dropped, also while unwinding from a panic.
struct StopServersOnExit;

impl Drop for StopServersOnExit {
    fn drop(&mut self) {
        redis::kill_all();
    }
}

/// Runs the command named by the first argument with the remaining arguments.
fn dispatch(args: &[String]) -> Result<(), String> {
    let Some((command, rest)) = args.split_first() else {
        return Err(format!("missing command\n\n{USAGE}"));
    };
    match command.as_str() {
        "test" => test::run(&test::TestArgs::parse(rest)?),
        "bench" => bench::run(rest),
        "sim" => sim::run(rest),
        "features" => features::run_with_servers(),
        "help" | "-h" | "--help" => {
            match rest.first().map(String::as_str) {
                Some("test") => println!("{}", test::USAGE),
                Some("bench") => println!("{}", bench::USAGE),
                Some("sim") => println!("{}", sim::USAGE),
                Some("features") => println!("{}", features::USAGE),
                _ => println!("{USAGE}"),
            }
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    }
}

/// The workspace root (the parent of xtask's own directory).
pub(crate) fn workspace_root() -> PathBuf {
    let xtask_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    xtask_dir.parent().map(PathBuf::from).unwrap_or(xtask_dir)
}

/// A `cargo` command (the same cargo that runs xtask, via `$CARGO`) run from the workspace
/// root.
pub(crate) fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.current_dir(workspace_root());
    cmd
}

/// Prints `==> NAME`, runs `cmd` to completion with inherited stdio, and fails naming the step
/// when it cannot start or exits unsuccessfully.
pub(crate) fn run_step(name: &str, cmd: &mut Command) -> Result<(), String> {
    println!("==> {name}");
    let _ = std::io::stdout().flush();
    let status = cmd
        .status()
        .map_err(|e| format!("step `{name}` could not start {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        return Ok(());
    }
    // A child killed by SIGINT/SIGTERM means the user interrupted the run, even if our own
    // handler has not run yet.
    #[cfg(unix)]
    if matches!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(2 | 15)
    ) {
        redis::set_interrupted();
    }
    Err(format!("step `{name}` failed ({status})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dispatches string arguments.
    fn run(args: &[&str]) -> Result<(), String> {
        let owned: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        dispatch(&owned)
    }

    #[test]
    fn rejects_unknown_and_missing_commands() {
        assert!(run(&[]).unwrap_err().starts_with("missing command"));
        assert!(
            run(&["frob"])
                .unwrap_err()
                .contains("unknown command `frob`")
        );
    }

    #[test]
    fn help_succeeds() {
        assert!(run(&["help"]).is_ok());
        assert!(run(&["help", "test"]).is_ok());
        assert!(run(&["test", "--help"]).is_ok());
        assert!(run(&["help", "bench"]).is_ok());
        assert!(run(&["bench", "--help"]).is_ok());
        assert!(run(&["help", "sim"]).is_ok());
        assert!(run(&["sim", "--help"]).is_ok());
    }

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(workspace_root().join("xtask").is_dir());
    }

    #[test]
    fn run_step_names_the_failed_step() {
        let err = run_step("false", &mut Command::new("false")).unwrap_err();
        assert!(err.starts_with("step `false` failed"), "{err}");
        let err = run_step("nope", &mut Command::new("/nonexistent/program")).unwrap_err();
        assert!(err.starts_with("step `nope` could not start"), "{err}");
    }
}
