//! The quickstart example (which `cargo test` builds) runs from the environment: with none,
//! on memory; with `CACHE_BACKEND=redis REDIS_URL=...`, against the shared test server; and
//! an unreachable server or an invalid variable ends it with status 1 and a message naming
//! the address or the variable, never a panic.

use std::path::PathBuf;
use std::process::{Command, Output};

fn quickstart() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|p| p.parent()).unwrap();
    let bin = profile_dir
        .join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the quickstart is not built at {}: run `cargo test -p strata` (which builds the \
         examples) or `cargo build -p strata --example quickstart` first",
        bin.display()
    );
    bin
}

/// Runs the quickstart with exactly these variables (nothing inherited).
fn run(vars: &[(&str, &str)]) -> Output {
    Command::new(quickstart())
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .expect("the quickstart runs")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn with_no_configuration_it_runs_on_memory() {
    let out = run(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("backend           -> memory"), "{stdout}");
    assert!(stdout.contains("loader called 1 time(s)"), "{stdout}");
}

#[test]
fn an_invalid_variable_is_named_and_the_exit_status_is_one() {
    let out = run(&[("CACHE_L1_SIZE_RATIO", "2"), ("CACHE_BACKEND", "floppy")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("CACHE_L1_SIZE_RATIO"), "{stderr}");
    assert!(stderr.contains("\"floppy\""), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[cfg(feature = "redis")]
#[test]
fn against_redis_it_writes_with_the_set_family() {
    use strata_testkit::redis_server::{command_at, shared_redis_url};
    let Some(url) = shared_redis_url() else {
        return;
    };
    let prefix = strata_testkit::conformance::RunContext::new().prefix();
    let out = run(&[
        ("CACHE_BACKEND", "redis"),
        ("REDIS_URL", &url),
        ("STRATA_REDIS_PREFIX", &prefix),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("backend           -> Redis at"), "{stdout}");
    let key = format!("{prefix}:users:42");
    let kind = command_at(&url, &["TYPE", &key]).unwrap();
    assert_eq!(kind.as_text().as_deref(), Some("string"), "{key}");
    for id in ["42", "7"] {
        command_at(&url, &["DEL", &format!("{prefix}:users:{id}")]).unwrap();
    }
}

#[cfg(feature = "redis")]
#[test]
fn an_unreachable_server_is_named_and_the_exit_status_is_one() {
    let out = run(&[
        ("CACHE_BACKEND", "redis"),
        ("REDIS_URL", "redis://127.0.0.1:1"),
        ("STRATA_REDIS_CONNECT_TIMEOUT", "1s"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
