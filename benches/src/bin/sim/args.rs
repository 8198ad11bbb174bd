//! Command-line arguments of `strata-sim`.

use std::path::PathBuf;

use crate::policy::PolicyName;

/// Usage of `strata-sim` (and of `cargo xtask sim`, which passes its arguments on).
pub(crate) const USAGE: &str = "\
strata-sim --trace PATH[,PATH..] --sizes N[,N..] [--policies LIST] [--threads N]
           [--json PATH] [--csv PATH] [--plot PATH.png]

  Replays cache traces (shared/traces format: `start count ignored request_no` lines, plain
  `.lis` or zstd `.lis.zst`) against every policy at every size: for each page `get`, on a
  miss `insert`. Prints a table as results come and a summary per (trace, size).

  --trace PATH,..   trace files; repeat `--trace .. --sizes ..` to give traces their own sizes.
                    `synthetic:NAME` is a generated workload instead of a file (loop, shift,
                    scan, phases: see benches/src/synthetic.rs), named `synthetic-NAME`
  --sizes N,..      cache sizes in entries; applies to the `--trace` lists before it that have
                    no sizes yet (traces after the last `--sizes` take that one)
  --policies LIST   comma-separated, default all: strata (the default policy), strata-lru,
                    strata-ttl, strata-random, lru (the lru crate), moka, quick_cache,
                    opt (Belady with bypass: the bound)
  --threads N       replay from N threads sharing one cache, requests dealt round-robin in
                    blocks of 64 (default 1; opt always replays the trace in order)
  --json PATH       write {\"schema\": 1, \"results\": [{trace, size, policy, hit_ratio,
                    requests, seconds}]}
  --csv PATH        write the same rows as CSV
  --plot PATH.png   draw hit ratio against size per policy, one panel per trace

  Environment: STRATA_SIM_MOKA_SYNC=N calls moka's run_pending_tasks every N inserts per
  thread (default 1: after every insert, so its size bound holds exactly).";

/// The parsed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Args {
    /// Each trace with its sizes, in the order given.
    pub(crate) traces: Vec<(PathBuf, Vec<u64>)>,
    /// The policies, in the order given, without repeats.
    pub(crate) policies: Vec<PolicyName>,
    /// Replay threads (at least 1).
    pub(crate) threads: usize,
    /// `--json PATH`.
    pub(crate) json: Option<PathBuf>,
    /// `--csv PATH`.
    pub(crate) csv: Option<PathBuf>,
    /// `--plot PATH.png`.
    pub(crate) plot: Option<PathBuf>,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Run the simulation.
    Run(Args),
    /// `-h`/`--help`.
    Help,
}

/// Parses a positive integer, allowing `_` separators (`15_000`).
pub(crate) fn parse_positive(flag: &str, value: &str) -> Result<u64, String> {
    let digits: String = value.chars().filter(|&c| c != '_').collect();
    match digits.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "`{flag}`: `{value}` is not a positive integer\n\n{USAGE}"
        )),
    }
}

/// Splits a comma-separated list, rejecting empty items.
fn split_list<'a>(flag: &str, value: &'a str) -> Result<Vec<&'a str>, String> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|s| s.is_empty()) {
        return Err(format!("`{flag}`: empty item in list `{value}`\n\n{USAGE}"));
    }
    Ok(items)
}

impl Command {
    /// Parses the arguments after the program name.
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        // Trace lists with their sizes (None until a `--sizes` follows).
        let mut groups: Vec<(Vec<PathBuf>, Option<Vec<u64>>)> = Vec::new();
        let mut last_sizes: Option<Vec<u64>> = None;
        let mut policies: Option<Vec<PolicyName>> = None;
        let mut threads = 1usize;
        let mut json = None;
        let mut csv = None;
        let mut plot: Option<PathBuf> = None;

        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if matches!(arg.as_str(), "-h" | "--help") {
                return Ok(Command::Help);
            }
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
                _ => (arg.as_str(), None),
            };
            if !matches!(
                flag,
                "--trace" | "--sizes" | "--policies" | "--threads" | "--json" | "--csv" | "--plot"
            ) {
                return Err(format!("unexpected argument `{arg}`\n\n{USAGE}"));
            }
            let value = match inline {
                Some(v) => v,
                None => match iter.next() {
                    Some(v) if !v.starts_with("--") => v.clone(),
                    _ => return Err(format!("`{flag}` needs a value\n\n{USAGE}")),
                },
            };
            if value.is_empty() {
                return Err(format!("`{flag}` needs a value\n\n{USAGE}"));
            }
            match flag {
                "--trace" => {
                    let paths = split_list(flag, &value)?
                        .into_iter()
                        .map(PathBuf::from)
                        .collect();
                    groups.push((paths, None));
                }
                "--sizes" => {
                    let sizes = split_list(flag, &value)?
                        .into_iter()
                        .map(|s| parse_positive(flag, s))
                        .collect::<Result<Vec<u64>, String>>()?;
                    for (_, group_sizes) in groups.iter_mut().rev() {
                        if group_sizes.is_some() {
                            break;
                        }
                        *group_sizes = Some(sizes.clone());
                    }
                    last_sizes = Some(sizes);
                }
                "--policies" => {
                    let mut list = Vec::new();
                    for name in split_list(flag, &value)? {
                        let policy = name
                            .parse::<PolicyName>()
                            .map_err(|e| format!("`--policies`: {e}\n\n{USAGE}"))?;
                        if !list.contains(&policy) {
                            list.push(policy);
                        }
                    }
                    policies = Some(list);
                }
                "--threads" => {
                    let n = parse_positive(flag, &value)?;
                    threads = usize::try_from(n)
                        .ok()
                        .filter(|&n| n <= 1024)
                        .ok_or_else(|| format!("`--threads`: {n} is too many (at most 1024)"))?;
                }
                "--json" => json = Some(PathBuf::from(value)),
                "--csv" => csv = Some(PathBuf::from(value)),
                "--plot" => {
                    let path = PathBuf::from(&value);
                    if !path
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
                    {
                        return Err(format!("`--plot`: `{value}` must end in .png\n\n{USAGE}"));
                    }
                    plot = Some(path);
                }
                _ => unreachable!("flag checked above"),
            }
        }

        if groups.is_empty() {
            return Err(format!("`--trace` is required\n\n{USAGE}"));
        }
        let Some(last_sizes) = last_sizes else {
            return Err(format!("`--sizes` is required\n\n{USAGE}"));
        };
        let mut traces = Vec::new();
        for (paths, sizes) in groups {
            let sizes = sizes.unwrap_or_else(|| last_sizes.clone());
            for path in paths {
                traces.push((path, sizes.clone()));
            }
        }
        Ok(Command::Run(Args {
            traces,
            policies: policies.unwrap_or_else(|| PolicyName::ALL.to_vec()),
            threads,
            json,
            csv,
            plot,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        let owned: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        Command::parse(&owned)
    }

    fn run_args(args: &[&str]) -> Args {
        match parse(args).unwrap() {
            Command::Run(a) => a,
            Command::Help => panic!("help"),
        }
    }

    #[test]
    fn parses_the_issue_form() {
        let a = run_args(&[
            "--trace",
            "a.lis,b.lis.zst",
            "--sizes",
            "1000,2_000",
            "--policies",
            "lru,strata,lru",
            "--threads=2",
            "--json",
            "o.json",
            "--plot",
            "p.png",
        ]);
        assert_eq!(
            a.traces,
            vec![
                (PathBuf::from("a.lis"), vec![1000, 2000]),
                (PathBuf::from("b.lis.zst"), vec![1000, 2000]),
            ]
        );
        assert_eq!(a.policies, vec![PolicyName::Lru, PolicyName::Strata]);
        assert_eq!(a.threads, 2);
        assert_eq!(a.json, Some(PathBuf::from("o.json")));
        assert_eq!(a.csv, None);
        assert_eq!(a.plot, Some(PathBuf::from("p.png")));
    }

    #[test]
    fn sizes_attach_to_the_traces_before_them() {
        let a = run_args(&[
            "--trace", "o.lis", "--sizes", "1,2", "--trace", "p.lis", "--trace", "q.lis",
            "--sizes", "3",
        ]);
        assert_eq!(
            a.traces,
            vec![
                (PathBuf::from("o.lis"), vec![1, 2]),
                (PathBuf::from("p.lis"), vec![3]),
                (PathBuf::from("q.lis"), vec![3]),
            ]
        );
        assert_eq!(a.policies, PolicyName::ALL.to_vec());
        let a = run_args(&["--sizes", "5", "--trace", "o.lis"]);
        assert_eq!(a.traces, vec![(PathBuf::from("o.lis"), vec![5])]);
    }

    #[test]
    fn errors_name_the_flag_and_value() {
        let e = parse(&["--sizes", "10"]).unwrap_err();
        assert!(e.starts_with("`--trace` is required"), "{e}");
        let e = parse(&["--trace", "a"]).unwrap_err();
        assert!(e.starts_with("`--sizes` is required"), "{e}");
        let e = parse(&["--trace", "a", "--sizes", "10,x"]).unwrap_err();
        assert!(
            e.starts_with("`--sizes`: `x` is not a positive integer"),
            "{e}"
        );
        let e = parse(&["--trace", "a", "--sizes", "0"]).unwrap_err();
        assert!(e.starts_with("`--sizes`: `0`"), "{e}");
        let e = parse(&["--trace", "a", "--sizes", "1", "--policies", "arc"]).unwrap_err();
        assert!(e.starts_with("`--policies`: unknown policy `arc`"), "{e}");
        let e = parse(&["--trace", "a", "--sizes", "1", "--threads", "0"]).unwrap_err();
        assert!(e.starts_with("`--threads`: `0`"), "{e}");
        let e = parse(&["--trace", "a", "--sizes", "1", "--plot", "x.svg"]).unwrap_err();
        assert!(e.starts_with("`--plot`: `x.svg` must end in .png"), "{e}");
        let e = parse(&["--trace", "--sizes", "1"]).unwrap_err();
        assert!(e.starts_with("`--trace` needs a value"), "{e}");
        let e = parse(&["--trace", "a,,b", "--sizes", "1"]).unwrap_err();
        assert!(e.starts_with("`--trace`: empty item"), "{e}");
        let e = parse(&["--frob"]).unwrap_err();
        assert!(e.starts_with("unexpected argument `--frob`"), "{e}");
        assert_eq!(parse(&["--trace", "a", "--help"]).unwrap(), Command::Help);
    }
}
