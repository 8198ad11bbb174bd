//! `strata-sim`: replays block-access traces (the ARC paper's, in `shared/traces`) against
//! Strata's eviction policies, its peers (lru, moka, quick_cache) and Belady's OPT, and
//! reports hit ratios. Run it through `cargo xtask sim`; `strata-sim --help` for the flags.
//!
//! Each trace is read once into memory (8 bytes a request) and replayed for every size and
//! policy: for each page `get`, on a miss `insert`. A row's `seconds` is the wall time of the
//! replay alone (not the reading, nor OPT's next-use pass).
#![forbid(unsafe_code)]

#[path = "sim/args.rs"]
mod args;
#[path = "sim/opt.rs"]
mod opt;
#[path = "sim/plot.rs"]
mod plot;
#[path = "sim/policy.rs"]
mod policy;
#[path = "sim/replay.rs"]
mod replay;
#[path = "sim/report.rs"]
mod report;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use strata_benches::synthetic;
use strata_benches::trace::{self, CITATION};

use crate::args::{Args, Command, USAGE};
use crate::policy::{Contender, PolicyName};
use crate::report::Row;

/// The variable setting how many inserts (per thread) moka makes between
/// `run_pending_tasks` calls.
const MOKA_SYNC_ENV: &str = "STRATA_SIM_MOKA_SYNC";

/// By default moka runs its pending tasks after every insert: its size bound then holds at
/// every request, as for the other caches.
const MOKA_SYNC_DEFAULT: u64 = 1;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match Command::parse(&argv) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Run(args)) => match run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `STRATA_SIM_MOKA_SYNC`, or the default.
fn moka_sync_every() -> Result<u64, String> {
    match std::env::var(MOKA_SYNC_ENV) {
        Ok(v) => args::parse_positive(MOKA_SYNC_ENV, &v),
        Err(_) => Ok(MOKA_SYNC_DEFAULT),
    }
}

/// A progress bar over `len` requests on stderr (hidden when stderr is not a terminal).
fn progress(len: u64, message: String) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr_with_hz(4));
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:<34} {wide_bar} {percent:>3}% {elapsed_precise} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar.set_message(message);
    bar
}

/// The generated workload `path` names (`synthetic:NAME`), if it names one.
fn generated(path: &Path) -> Option<&str> {
    path.to_str().and_then(synthetic::name_in)
}

/// What the results call the trace at `path` (a file's stem, or `synthetic-NAME`).
fn trace_name(path: &Path) -> String {
    match generated(path) {
        Some(name) => synthetic::trace_name(name),
        None => trace::stem(path),
    }
}

/// The pages of the trace at `path`: a file's, or a generated workload's (`synthetic:NAME`).
fn load(path: &Path) -> Result<Vec<u64>, String> {
    match generated(path) {
        Some(name) => synthetic::generate(name),
        None => trace::load(path).map_err(|e| e.to_string()),
    }
}

/// Where the replayed pages come from, for the output: the traces' citation (whoever
/// publishes results from them must cite the paper), the generated workloads, or both.
fn source(traces: &[(PathBuf, Vec<u64>)]) -> String {
    let generated = traces
        .iter()
        .filter(|(p, _)| generated(p).is_some())
        .count();
    const GENERATED: &str = "generated workloads (benches/src/synthetic.rs)";
    match (generated, traces.len() - generated) {
        (0, _) => format!("traces from {CITATION}"),
        (_, 0) => GENERATED.to_owned(),
        _ => format!("traces from {CITATION}; synthetic-*: {GENERATED}"),
    }
}

/// Runs every trace × size × policy, one replay at a time.
fn run(args: &Args) -> Result<(), String> {
    let moka_sync = moka_sync_every()?;
    let started = Instant::now();
    let mut names: Vec<String> = Vec::new();
    for (path, _) in &args.traces {
        let name = trace_name(path);
        if names.contains(&name) {
            return Err(format!(
                "two traces are named `{name}` (the file stem names a trace in the results)"
            ));
        }
        names.push(name);
    }

    // Fail on an unwritable output before replaying anything.
    for path in [&args.json, &args.csv, &args.plot].into_iter().flatten() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }

    let source = source(&args.traces);
    println!("Hit ratios on {source}.");
    println!(
        "Replay: get, insert on a miss; {} thread(s){}; moka runs its pending tasks every {} \
         insert(s) per thread.",
        args.threads,
        if args.threads > 1 {
            ", requests dealt round-robin in blocks of 64 (opt replays in trace order)"
        } else {
            ""
        },
        moka_sync
    );
    println!();
    println!("{}", report::header());

    let mut rows: Vec<Row> = Vec::new();
    for ((path, sizes), name) in args.traces.iter().zip(&names) {
        let trace_started = Instant::now();
        let pages = load(path)?;
        let requests = pages.len() as u64;
        eprintln!(
            "{name}: {requests} requests read in {:.1} s",
            trace_started.elapsed().as_secs_f64()
        );
        let mut next_uses: Option<Vec<u32>> = None;
        for &size in sizes {
            for &policy in &args.policies {
                let bar = progress(requests, format!("{name} {size} {policy}"));
                let (hits, seconds) = if policy == PolicyName::Opt {
                    if next_uses.is_none() {
                        let t = Instant::now();
                        next_uses = Some(opt::next_uses(&pages)?);
                        eprintln!(
                            "{name}: opt's next uses computed in {:.1} s",
                            t.elapsed().as_secs_f64()
                        );
                    }
                    let next = next_uses.as_deref().unwrap_or_default();
                    let capacity =
                        usize::try_from(size).map_err(|_| format!("size {size} is too large"))?;
                    let t = Instant::now();
                    let hits = opt::simulate(&pages, next, capacity, &bar);
                    (hits, t.elapsed())
                } else {
                    let contender = Contender::build(policy, size, moka_sync)?
                        .ok_or_else(|| format!("{policy} has no online cache"))?;
                    let t = Instant::now();
                    let hits = contender.replay(&pages, args.threads, &bar);
                    let elapsed = t.elapsed();
                    // Dropping a big cache takes a while; not part of the replay.
                    drop(contender);
                    (hits, elapsed)
                };
                bar.finish_and_clear();
                let row = Row {
                    trace: name.clone(),
                    size,
                    policy,
                    hits,
                    requests,
                    seconds: round_seconds(seconds),
                };
                println!("{}", report::line(&row));
                rows.push(row);
                write_outputs(args, &rows)?;
            }
        }
        eprintln!(
            "{name}: all sizes and policies in {:.0} s",
            trace_started.elapsed().as_secs_f64()
        );
    }

    println!();
    println!("Summary: hit % and strata's lead in points ({source})");
    print!("{}", report::summary(&rows));
    if let Some(path) = &args.plot {
        plot::draw(path, &rows, args.threads, &source)?;
        println!("plot written to {}", path.display());
    }
    for (flag, path) in [("json", &args.json), ("csv", &args.csv)] {
        if let Some(path) = path {
            println!("{flag} written to {}", path.display());
        }
    }
    println!(
        "{} replays in {:.0} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Seconds, to the microsecond.
fn round_seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e6
}

/// (Re)writes the JSON and CSV files with every row so far, so an interrupted run keeps
/// what it measured.
fn write_outputs(args: &Args, rows: &[Row]) -> Result<(), String> {
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&report::to_json(rows))
            .map_err(|e| format!("encoding JSON: {e}"))?;
        report::write_file(path, &json)?;
    }
    if let Some(path) = &args.csv {
        report::write_file(path, report::to_csv(rows).as_bytes())?;
    }
    Ok(())
}
