//! `cargo xtask sim`: checks the arguments, makes the paths absolute (they are relative to
//! the directory xtask was started from, while cargo runs from the workspace root), and runs
//! `cargo run --release -p strata-benches --bin strata-sim -- <args>`, exiting with its exit
//! code.
//!
//! The simulator replays the traces in `shared/traces` (from the ARC paper: N. Megiddo and
//! D. S. Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", USENIX FAST '03,
//! pp. 115-130, 2003 — cite it wherever results from them appear).

use std::path::Path;
use std::process::Command;

use crate::cargo;

/// Usage of `cargo xtask sim`.
pub(crate) const USAGE: &str = "\
cargo xtask sim --trace PATH[,PATH..] --sizes N[,N..] [--policies LIST] [--threads N]
                [--json PATH] [--csv PATH] [--plot PATH.png]

  Builds strata-sim (release) and replays cache traces in the shared/traces format (plain
  `.lis` or zstd `.lis.zst`): for every page `get`, on a miss `insert`. Prints hit ratios as
  they come and a summary per (trace, size); exits with strata-sim's exit code.

  --trace PATH,..   trace files; repeat `--trace .. --sizes ..` to give traces their own sizes.
                    `synthetic:NAME` is a generated workload instead of a file (loop, shift,
                    scan, phases: see benches/src/synthetic.rs), named `synthetic-NAME`
  --sizes N,..      cache sizes in entries (for the `--trace` lists before it without sizes;
                    traces after the last `--sizes` take that one)
  --policies LIST   comma-separated, default all: strata (the default policy), strata-lru,
                    strata-ttl, strata-random, lru (the lru crate), moka, quick_cache,
                    opt (Belady with bypass)
  --threads N       N threads share one cache; requests dealt round-robin in blocks of 64
  --json PATH       write {\"schema\": 1, \"results\": [{trace, size, policy, hit_ratio,
                    requests, seconds}]}
  --csv PATH        the same rows as CSV
  --plot PATH.png   hit ratio against size per policy, one panel per trace

  Example: cargo xtask sim --trace shared/traces/OLTP.lis.zst --sizes 1000,2000,5000 \\
             --policies lru,strata,opt";

/// What names a generated workload instead of a file in `--trace` (strata-sim checks the
/// name).
const SYNTHETIC: &str = "synthetic:";

/// The policy names strata-sim knows (kept in step with its `PolicyName`).
const POLICIES: &[&str] = &[
    "strata",
    "strata-lru",
    "strata-ttl",
    "strata-random",
    "lru",
    "moka",
    "quick_cache",
    "opt",
];

/// The flags that take a value.
const FLAGS: &[&str] = &[
    "--trace",
    "--sizes",
    "--policies",
    "--threads",
    "--json",
    "--csv",
    "--plot",
];

/// What `cargo xtask sim` was asked.
#[derive(Debug, PartialEq, Eq)]
enum SimArgs {
    /// `-h`/`--help`.
    Help,
    /// The arguments for strata-sim, paths made absolute.
    Run(Vec<String>),
}

/// Runs `cargo xtask sim` with the arguments following `sim`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    let forwarded = match parse(args, &cwd)? {
        SimArgs::Help => {
            println!("{USAGE}");
            return Ok(());
        }
        SimArgs::Run(forwarded) => forwarded,
    };
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--release",
        "-p",
        "strata-benches",
        "--bin",
        "strata-sim",
        "--",
    ])
    .args(&forwarded);
    run_forwarding_exit_code(&mut cmd)
}

/// Runs `cmd` with inherited stdio; on a non-zero exit code, exits xtask with the same code.
fn run_forwarding_exit_code(cmd: &mut Command) -> Result<(), String> {
    println!("==> cargo run --release -p strata-benches --bin strata-sim");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        return Ok(());
    }
    if let Some(code) = status.code() {
        eprintln!("error: strata-sim failed (exit code {code})");
        std::process::exit(code);
    }
    #[cfg(unix)]
    if matches!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(2 | 15)
    ) {
        crate::redis::set_interrupted();
    }
    Err(format!("strata-sim failed ({status})"))
}

/// A bad argument: the message and the usage.
fn bad(message: String) -> String {
    format!("{message}\n\n{USAGE}")
}

/// Checks that `value` is a comma-separated list of non-empty items.
fn items<'a>(flag: &str, value: &'a str) -> Result<Vec<&'a str>, String> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|s| s.is_empty()) {
        return Err(bad(format!("`{flag}`: empty item in list `{value}`")));
    }
    Ok(items)
}

/// Checks a positive integer (`_` separators allowed).
fn positive(flag: &str, value: &str) -> Result<u64, String> {
    match value.replace('_', "").parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(bad(format!(
            "`{flag}`: `{value}` is not a positive integer"
        ))),
    }
}

/// `path` relative to `cwd` unless absolute.
fn absolute(cwd: &Path, path: &str) -> String {
    let p = Path::new(path);
    if p.is_absolute() {
        path.to_owned()
    } else {
        cwd.join(p).to_string_lossy().into_owned()
    }
}

/// Checks the arguments and rewrites them for strata-sim (`--flag value` pairs, paths
/// absolute against `cwd`).
fn parse(args: &[String], cwd: &Path) -> Result<SimArgs, String> {
    let mut out = Vec::new();
    let mut saw_trace = false;
    let mut saw_sizes = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if matches!(arg.as_str(), "-h" | "--help") {
            return Ok(SimArgs::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        if !FLAGS.contains(&flag) {
            return Err(bad(format!("unexpected argument `{arg}`")));
        }
        let value = match inline {
            Some(v) => v,
            None => match iter.next() {
                Some(v) if !v.starts_with("--") => v.clone(),
                _ => return Err(bad(format!("`{flag}` needs a value"))),
            },
        };
        if value.is_empty() {
            return Err(bad(format!("`{flag}` needs a value")));
        }
        let value = match flag {
            "--trace" => {
                saw_trace = true;
                let mut paths: Vec<String> = Vec::new();
                for p in items(flag, &value)? {
                    if p.starts_with(SYNTHETIC) {
                        paths.push(p.to_owned());
                        continue;
                    }
                    let p = absolute(cwd, p);
                    if !Path::new(&p).is_file() {
                        return Err(bad(format!("`--trace`: no such file `{p}`")));
                    }
                    paths.push(p);
                }
                paths.join(",")
            }
            "--sizes" => {
                saw_sizes = true;
                for s in items(flag, &value)? {
                    positive(flag, s)?;
                }
                value
            }
            "--policies" => {
                for p in items(flag, &value)? {
                    if !POLICIES.contains(&p) {
                        return Err(bad(format!(
                            "`--policies`: unknown policy `{p}`; expected one of {}",
                            POLICIES.join(", ")
                        )));
                    }
                }
                value
            }
            "--threads" => {
                positive(flag, &value)?;
                value
            }
            "--plot" => {
                if !Path::new(&value)
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("png"))
                {
                    return Err(bad(format!("`--plot`: `{value}` must end in .png")));
                }
                absolute(cwd, &value)
            }
            // --json, --csv
            _ => absolute(cwd, &value),
        };
        out.push(flag.to_owned());
        out.push(value);
    }
    if !saw_trace {
        return Err(bad("`--trace` is required".to_owned()));
    }
    if !saw_sizes {
        return Err(bad("`--sizes` is required".to_owned()));
    }
    Ok(SimArgs::Run(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in(cwd: &Path, args: &[&str]) -> Result<SimArgs, String> {
        let owned: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        parse(&owned, cwd)
    }

    /// A directory holding two empty trace files.
    fn dir_with_traces() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("A.lis"), "").unwrap();
        std::fs::write(dir.path().join("B.lis.zst"), "").unwrap();
        dir
    }

    #[test]
    fn makes_paths_absolute_and_forwards_the_rest() {
        let dir = dir_with_traces();
        let cwd = dir.path();
        let got = parse_in(
            cwd,
            &[
                "--trace",
                "A.lis,B.lis.zst",
                "--sizes=1000,2_000",
                "--policies",
                "lru,opt",
                "--threads",
                "2",
                "--json",
                "out/r.json",
                "--csv",
                "/tmp/r.csv",
                "--plot",
                "r.png",
            ],
        )
        .unwrap();
        let at = |p: &str| cwd.join(p).to_string_lossy().into_owned();
        let expected: Vec<String> = vec![
            "--trace".into(),
            format!("{},{}", at("A.lis"), at("B.lis.zst")),
            "--sizes".into(),
            "1000,2_000".into(),
            "--policies".into(),
            "lru,opt".into(),
            "--threads".into(),
            "2".into(),
            "--json".into(),
            at("out/r.json"),
            "--csv".into(),
            "/tmp/r.csv".into(),
            "--plot".into(),
            at("r.png"),
        ];
        assert_eq!(got, SimArgs::Run(expected));
    }

    #[test]
    fn errors_name_the_flag_and_value() {
        let dir = dir_with_traces();
        let cwd = dir.path();
        let err = |args: &[&str]| parse_in(cwd, args).unwrap_err();
        assert!(err(&["--sizes", "1"]).starts_with("`--trace` is required"));
        assert!(err(&["--trace", "A.lis"]).starts_with("`--sizes` is required"));
        assert!(err(&["--trace", "C.lis", "--sizes", "1"]).starts_with("`--trace`: no such file"));
        // Generated workloads pass through as they are (strata-sim checks their names).
        match parse_in(cwd, &["--trace", "synthetic:loop,A.lis", "--sizes", "5"]) {
            Ok(SimArgs::Run(args)) => {
                assert_eq!(
                    args[1],
                    format!("synthetic:loop,{}", cwd.join("A.lis").display())
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err(&["--trace", "A.lis", "--sizes", "1,0"])
                .starts_with("`--sizes`: `0` is not a positive integer")
        );
        assert!(
            err(&["--trace", "A.lis", "--sizes", "1", "--policies", "lru,arc"])
                .starts_with("`--policies`: unknown policy `arc`")
        );
        assert!(
            err(&["--trace", "A.lis", "--sizes", "1", "--threads", "two"])
                .starts_with("`--threads`: `two`")
        );
        assert!(
            err(&["--trace", "A.lis", "--sizes", "1", "--plot", "p.svg"])
                .starts_with("`--plot`: `p.svg` must end in .png")
        );
        assert!(err(&["--trace", "A.lis", "--sizes"]).starts_with("`--sizes` needs a value"));
        assert!(err(&["--frob"]).starts_with("unexpected argument `--frob`"));
        assert_eq!(parse_in(cwd, &["--help"]).unwrap(), SimArgs::Help);
    }
}
