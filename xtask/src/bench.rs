//! `cargo xtask bench`: runs the criterion benches of `strata-benches` (release), collects
//! the `STRATA_RECORD {json}` lines they print, checks each record, writes
//! `{"schema": 1, "results": [...]}` sorted by name, and prints a table.
//!
//! The bench binaries do the measuring (rounds interleaving Strata and its peers, medians);
//! see `benches/README.md`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use serde_json::Value;

use crate::contract::{PEER_KEYS, RECORD_PREFIX, SCHEMA, format_figure};
use crate::{cargo, workspace_root};

/// Usage of `cargo xtask bench`.
pub(crate) const USAGE: &str = "\
cargo xtask bench [--quick] [--json PATH] [--bench NAME]... [--save-baseline NAME]
                  [--baseline NAME [--tolerance PCT] [--fail-on-regression]] [-- FILTER]

  Runs `cargo bench -p strata-benches` (release): each record is the median of rounds that
  interleave Strata and its peers. Writes {\"schema\": 1, \"results\": [...]} and prints a
  table (record, Strata, each peer, Strata/peer).

  --quick                 short rounds (STRATA_BENCH_QUICK=1), a few minutes on 2 cores
  --json PATH             where to write the results (default: <target>/strata-bench.json)
  --bench NAME            only the bench binary NAME (memory, stack, footprint, ...); may
                          repeat
  --save-baseline NAME    also store the results as <target>/strata-baselines/NAME.json
  --baseline NAME         compare Strata's figure of each record with the stored baseline
                          NAME: the change in % (+ is better, - is worse, whichever way the
                          unit goes) and a flag on records worse by more than the tolerance;
                          records in only one of the two runs are listed
  --tolerance PCT         how much worse a record may get before it is flagged (default 10)
  --fail-on-regression    exit non-zero when a record is flagged (needs --baseline)
  -- FILTER               only the records whose name contains FILTER (passed to the bench
                          binaries)";

/// How much worse (in %) a record may get before `--baseline` flags it, unless
/// `--tolerance` says otherwise.
const DEFAULT_TOLERANCE_PCT: f64 = 10.0;

/// The directory under the target directory that holds the `--save-baseline` files.
const BASELINES_DIR: &str = "strata-baselines";

/// The environment variable selecting the short settings in the bench binaries.
const QUICK_ENV: &str = "STRATA_BENCH_QUICK";

/// Runs `cargo xtask bench` with the arguments following `bench`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = BenchArgs::parse(args)?;
    if args.help {
        println!("{USAGE}");
        return Ok(());
    }
    let started = Instant::now();
    let json_path = args
        .json
        .clone()
        .unwrap_or_else(|| target_dir().join("strata-bench.json"));
    // Read the baseline first: a missing one should not cost a whole bench run.
    let baseline = match &args.baseline {
        Some(name) => {
            let path = baseline_path(&target_dir(), name);
            Some((name.as_str(), load_baseline(&path)?))
        }
        None => None,
    };

    // The Redis records (peers redis_rs and fred) read the servers from the environment, the
    // way `cargo xtask test` announces them; they stop when `servers` drops after the run.
    let needs_redis =
        args.benches.is_empty() || args.benches.iter().any(|b| b == "redis" || b == "tiered");
    let servers = if needs_redis {
        crate::redis::install_interrupt_handler();
        Some(crate::redis::Servers::start_all().map_err(|e| e.to_string())?)
    } else {
        None
    };

    let mut cmd = cargo();
    cmd.args(["bench", "-p", "strata-benches"]);
    for name in &args.benches {
        cmd.args(["--bench", name]);
    }
    if !args.filter.is_empty() {
        cmd.arg("--").args(&args.filter);
    }
    cmd.env("CRITERION_HOME", target_dir().join("criterion"));
    if let Some(servers) = &servers {
        cmd.envs(servers.env_vars());
    }
    if args.quick {
        cmd.env(QUICK_ENV, "1");
    } else {
        cmd.env_remove(QUICK_ENV);
    }
    let lines = run_collecting(&mut cmd);
    if let Some(servers) = servers {
        servers.stop();
    }
    let lines = lines?;

    let mut records = lines
        .iter()
        .map(|line| parse_record(line))
        .collect::<Result<Vec<_>, _>>()?;
    if records.is_empty() {
        return Err(format!(
            "the bench run printed no `{}` line (a filter that selects no record?)",
            RECORD_PREFIX.trim_end()
        ));
    }
    sort_and_check_unique(&mut records)?;
    write_results(&json_path, &records)?;
    println!();
    print!("{}", table(&records));
    println!(
        "==> {} records written to {} in {:.0}s",
        records.len(),
        json_path.display(),
        started.elapsed().as_secs_f64()
    );
    let mut outcome = Ok(());
    if let Some((name, baseline)) = baseline {
        let tolerance = args.tolerance.unwrap_or(DEFAULT_TOLERANCE_PCT);
        let comparison = compare(&baseline, &records, tolerance);
        println!();
        println!(
            "==> against baseline `{name}` ({}), tolerance {tolerance}%",
            baseline_path(&target_dir(), name).display()
        );
        print!("{}", comparison.report());
        let regressed = comparison.regressed();
        if args.fail_on_regression && !regressed.is_empty() {
            outcome = Err(format!(
                "{} record(s) regressed by more than {tolerance}% against baseline `{name}`: {}",
                regressed.len(),
                regressed.join(", ")
            ));
        }
    }
    if let Some(name) = &args.save_baseline {
        let path = baseline_path(&target_dir(), name);
        write_results(&path, &records)?;
        println!("==> baseline `{name}` saved to {}", path.display());
    }
    outcome
}

/// Where the baseline `name` lives under the target directory `target`.
fn baseline_path(target: &Path, name: &str) -> PathBuf {
    target.join(BASELINES_DIR).join(format!("{name}.json"))
}

/// Reads a results file saved by `--save-baseline` (or written by `--json`), checking each
/// record as a fresh one is checked.
fn load_baseline(path: &Path) -> Result<Vec<BenchRecord>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "no baseline at {} (save one with `cargo xtask bench --save-baseline NAME`)",
                path.display()
            ));
        }
        Err(e) => return Err(format!("could not read baseline {}: {e}", path.display())),
    };
    parse_results(&text).map_err(|e| format!("baseline {}: {e}", path.display()))
}

/// Parses a results file: `{"schema": 1, "results": [...]}`.
fn parse_results(text: &str) -> Result<Vec<BenchRecord>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match value.get("schema").and_then(Value::as_u64) {
        Some(SCHEMA) => {}
        other => {
            return Err(format!(
                "schema {} where {SCHEMA} was expected",
                other.map_or_else(|| "missing".to_owned(), |v| v.to_string())
            ));
        }
    }
    let results = value
        .get("results")
        .and_then(Value::as_array)
        .ok_or("no `results` array")?;
    let mut records = results
        .iter()
        .map(|r| parse_record(&r.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    sort_and_check_unique(&mut records)?;
    Ok(records)
}

/// What became of one record present in both runs.
#[derive(Clone, Debug, PartialEq)]
enum Verdict {
    /// Better, or worse by no more than the tolerance.
    Ok,
    /// Better by more than the tolerance.
    Improved,
    /// Worse by more than the tolerance.
    Regressed,
    /// The figures cannot be compared (the unit or direction changed, or the baseline is 0).
    NotComparable(String),
}

/// One record present in both runs.
#[derive(Clone, Debug, PartialEq)]
struct Change {
    name: String,
    unit: String,
    baseline: f64,
    current: f64,
    /// How much better Strata's figure got, in %: negative when it got worse, whichever way
    /// the unit goes. `None` when not comparable.
    better_pct: Option<f64>,
    /// The median of the same for the peers both runs measured: when the peers moved as
    /// much, the machine probably did. `None` when there is none.
    peers_better_pct: Option<f64>,
    verdict: Verdict,
}

/// A run compared with a baseline.
#[derive(Clone, Debug, Default, PartialEq)]
struct Comparison {
    tolerance_pct: f64,
    /// The records of both runs, by name.
    changes: Vec<Change>,
    /// Records of this run that the baseline lacks.
    only_current: Vec<String>,
    /// Records of the baseline that this run lacks.
    only_baseline: Vec<String>,
}

/// How much better `current` is than `baseline`, in %, for a unit where higher is better or
/// not; `None` when the baseline is 0 (or either is not finite).
fn better_pct(baseline: f64, current: f64, higher_is_better: bool) -> Option<f64> {
    if baseline == 0.0 || !baseline.is_finite() || !current.is_finite() {
        return None;
    }
    let change = (current - baseline) / baseline.abs() * 100.0;
    Some(if higher_is_better { change } else { -change })
}

/// Compares `current` with `baseline`: each record of both gets its change and verdict
/// (worse by more than `tolerance_pct` % is a regression); records of only one are listed.
fn compare(baseline: &[BenchRecord], current: &[BenchRecord], tolerance_pct: f64) -> Comparison {
    let old: BTreeMap<&str, &BenchRecord> = baseline.iter().map(|r| (r.name.as_str(), r)).collect();
    let new: BTreeMap<&str, &BenchRecord> = current.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut out = Comparison {
        tolerance_pct,
        ..Comparison::default()
    };
    for (name, cur) in &new {
        let Some(base) = old.get(name) else {
            out.only_current.push((*name).to_owned());
            continue;
        };
        let mismatch = if base.unit != cur.unit {
            Some(format!("unit was `{}`", base.unit))
        } else if base.higher_is_better != cur.higher_is_better {
            Some("higher_is_better changed".to_owned())
        } else {
            None
        };
        let better = better_pct(base.strata, cur.strata, cur.higher_is_better);
        let verdict = match (mismatch, better) {
            (Some(why), _) => Verdict::NotComparable(why),
            (None, None) => Verdict::NotComparable("baseline figure is 0".to_owned()),
            (None, Some(b)) if b < -tolerance_pct => Verdict::Regressed,
            (None, Some(b)) if b > tolerance_pct => Verdict::Improved,
            (None, Some(_)) => Verdict::Ok,
        };
        let comparable = !matches!(verdict, Verdict::NotComparable(_));
        let peers: Vec<f64> = cur
            .peers
            .iter()
            .filter(|_| comparable)
            .filter_map(|(peer, v)| better_pct(*base.peers.get(peer)?, *v, cur.higher_is_better))
            .collect();
        out.changes.push(Change {
            name: (*name).to_owned(),
            unit: cur.unit.clone(),
            baseline: base.strata,
            current: cur.strata,
            better_pct: better.filter(|_| comparable),
            peers_better_pct: (!peers.is_empty()).then(|| median(&peers)),
            verdict,
        });
    }
    out.only_baseline = old
        .keys()
        .filter(|name| !new.contains_key(*name))
        .map(|name| (*name).to_owned())
        .collect();
    out
}

/// The median of a non-empty list.
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `+4.2% better`, `-12.0% worse`, `0.0%` (for anything that rounds to it).
fn signed_pct(pct: f64) -> String {
    if format!("{:.1}", pct.abs()) == "0.0" {
        "0.0%".to_owned()
    } else if pct > 0.0 {
        format!("+{pct:.1}% better")
    } else if pct < 0.0 {
        format!("{pct:.1}% worse")
    } else {
        "0.0%".to_owned()
    }
}

impl Comparison {
    /// The names of the records that got worse by more than the tolerance.
    fn regressed(&self) -> Vec<&str> {
        self.changes
            .iter()
            .filter(|c| c.verdict == Verdict::Regressed)
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The comparison for people: one row per record of both runs, the lists of records in
    /// only one, and a summary line.
    fn report(&self) -> String {
        let mut rows = vec![vec![
            "record".to_owned(),
            "unit".to_owned(),
            "baseline".to_owned(),
            "now".to_owned(),
            "change".to_owned(),
            "peers' change".to_owned(),
            String::new(),
        ]];
        for c in &self.changes {
            rows.push(vec![
                c.name.clone(),
                c.unit.clone(),
                format_figure(c.baseline, &c.unit),
                format_figure(c.current, &c.unit),
                c.better_pct.map_or_else(|| "-".to_owned(), signed_pct),
                c.peers_better_pct
                    .map_or_else(|| "-".to_owned(), signed_pct),
                match &c.verdict {
                    Verdict::Ok => String::new(),
                    Verdict::Improved => "improved".to_owned(),
                    Verdict::Regressed => "REGRESSED".to_owned(),
                    Verdict::NotComparable(why) => format!("not comparable ({why})"),
                },
            ]);
        }
        let mut out = String::new();
        if !self.changes.is_empty() {
            let widths: Vec<usize> = (0..rows[0].len())
                .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
                .collect();
            for row in &rows {
                let cells: Vec<String> = row
                    .iter()
                    .zip(&widths)
                    .enumerate()
                    .map(|(i, (cell, w))| match i {
                        0 | 1 | 6 => format!("{cell:<w$}"),
                        _ => format!("{cell:>w$}"),
                    })
                    .collect();
                out.push_str(cells.join("  ").trim_end());
                out.push('\n');
            }
        }
        if !self.only_current.is_empty() {
            out.push_str(&format!(
                "not in the baseline: {}\n",
                self.only_current.join(", ")
            ));
        }
        if !self.only_baseline.is_empty() {
            out.push_str(&format!(
                "not in this run: {}\n",
                self.only_baseline.join(", ")
            ));
        }
        let regressed = self.regressed();
        if regressed.is_empty() {
            out.push_str(&format!(
                "==> no record is more than {}% worse than the baseline ({} compared)\n",
                self.tolerance_pct,
                self.changes.len()
            ));
        } else {
            out.push_str(&format!(
                "==> {} of {} records more than {}% worse than the baseline: {}\n",
                regressed.len(),
                self.changes.len(),
                self.tolerance_pct,
                regressed.join(", ")
            ));
        }
        out
    }
}

/// The parsed arguments of `cargo xtask bench`.
#[derive(Debug, Default, PartialEq)]
struct BenchArgs {
    /// `--quick`.
    quick: bool,
    /// `--json PATH`.
    json: Option<PathBuf>,
    /// `--bench NAME`, each.
    benches: Vec<String>,
    /// Arguments after `--`, passed to the bench binaries.
    filter: Vec<String>,
    /// `-h`/`--help`.
    help: bool,
    /// `--save-baseline NAME`.
    save_baseline: Option<String>,
    /// `--baseline NAME`.
    baseline: Option<String>,
    /// `--tolerance PCT`.
    tolerance: Option<f64>,
    /// `--fail-on-regression`.
    fail_on_regression: bool,
}

impl BenchArgs {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut parsed = BenchArgs::default();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            match arg.as_str() {
                "--" => parsed.filter.extend(iter.by_ref().cloned()),
                "-h" | "--help" => parsed.help = true,
                "--quick" => parsed.quick = true,
                "--json" => match iter.next() {
                    Some(path) if !path.starts_with('-') => parsed.json = Some(path.into()),
                    _ => return Err(format!("`--json` needs a path\n\n{USAGE}")),
                },
                "--bench" => match iter.next() {
                    Some(name) if !name.starts_with('-') => parsed.benches.push(name.clone()),
                    _ => return Err(format!("`--bench` needs a bench name\n\n{USAGE}")),
                },
                "--fail-on-regression" => parsed.fail_on_regression = true,
                "--save-baseline" | "--baseline" | "--tolerance" => {
                    let value = iter
                        .next()
                        .filter(|v| !v.starts_with('-'))
                        .ok_or_else(|| format!("`{arg}` needs a value\n\n{USAGE}"))?;
                    parsed.set(arg, value)?;
                }
                _ => match arg.split_once('=') {
                    Some((
                        option @ ("--json" | "--bench" | "--save-baseline" | "--baseline"
                        | "--tolerance"),
                        value,
                    )) => parsed.set(option, value)?,
                    _ => return Err(format!("unexpected argument `{arg}`\n\n{USAGE}")),
                },
            }
        }
        if parsed.fail_on_regression && parsed.baseline.is_none() {
            return Err(format!(
                "`--fail-on-regression` needs `--baseline NAME`\n\n{USAGE}"
            ));
        }
        if parsed.tolerance.is_some() && parsed.baseline.is_none() {
            return Err(format!("`--tolerance` needs `--baseline NAME`\n\n{USAGE}"));
        }
        Ok(parsed)
    }

    /// Sets the option `option` (given as `--option=value` or `--option value`).
    fn set(&mut self, option: &str, value: &str) -> Result<(), String> {
        match option {
            "--json" => self.json = Some(value.into()),
            "--bench" => self.benches.push(value.to_owned()),
            "--save-baseline" => self.save_baseline = Some(baseline_name(value)?),
            "--baseline" => self.baseline = Some(baseline_name(value)?),
            "--tolerance" => {
                let pct = value
                    .trim_end_matches('%')
                    .parse::<f64>()
                    .ok()
                    .filter(|p| p.is_finite() && *p >= 0.0)
                    .ok_or_else(|| {
                        format!("`--tolerance` needs a percentage such as 10, not `{value}`")
                    })?;
                self.tolerance = Some(pct);
            }
            _ => unreachable!("no option {option}"),
        }
        Ok(())
    }
}

/// Checks a baseline name: it becomes a file name, so ASCII letters, digits, `.`, `_` and `-`
/// only, and not starting with `.`.
fn baseline_name(name: &str) -> Result<String, String> {
    let usable = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if usable {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "`{name}` is not a usable baseline name (ASCII letters, digits, `.`, `_`, `-`)"
        ))
    }
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` (relative to the workspace root), else
/// `<workspace>/target`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// Runs `cmd`, echoing its stdout line by line (stderr is inherited), and returns the JSON
/// of the record lines. Fails when it cannot start or exits unsuccessfully.
fn run_collecting(cmd: &mut std::process::Command) -> Result<Vec<String>, String> {
    println!("==> cargo bench -p strata-benches");
    let _ = std::io::stdout().flush();
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {:?}: {e}", cmd.get_program()))?;
    let mut records = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading the bench output: {e}"))?;
            println!("{line}");
            if let Some(json) = line.strip_prefix(RECORD_PREFIX) {
                records.push(json.to_owned());
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo bench: {e}"))?;
    if status.success() {
        Ok(records)
    } else {
        Err(format!("`cargo bench -p strata-benches` failed ({status})"))
    }
}

/// A checked record.
#[derive(Clone, Debug, PartialEq)]
struct BenchRecord {
    name: String,
    unit: String,
    higher_is_better: bool,
    strata: f64,
    peers: BTreeMap<String, f64>,
    /// Supporting figures (optional in the line, omitted from the file when empty).
    detail: BTreeMap<String, f64>,
}

/// Parses and checks the JSON of one record line.
fn parse_record(json: &str) -> Result<BenchRecord, String> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| format!("record `{json}` is not JSON: {e}"))?;
    let Some(obj) = value.as_object() else {
        return Err(format!("record `{json}` is not a JSON object"));
    };
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("record `{json}` has no `name` string"))?
        .to_owned();
    let field = |key: &str, what: &str| -> Result<&Value, String> {
        obj.get(key)
            .ok_or_else(|| format!("record `{name}` has no `{key}` ({what})"))
    };
    let unit = field("unit", "a string")?
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("record `{name}`: `unit` must be a non-empty string"))?
        .to_owned();
    let higher_is_better = field("higher_is_better", "true or false")?
        .as_bool()
        .ok_or_else(|| format!("record `{name}`: `higher_is_better` must be true or false"))?;
    let strata = finite(field("strata", "a number")?)
        .ok_or_else(|| format!("record `{name}`: `strata` must be a finite number"))?;
    let peers = numbers(field("peers", "an object, `{}` when none")?)
        .map_err(|e| format!("record `{name}`: `peers` {e}"))?;
    if let Some(unknown) = peers.keys().find(|k| !PEER_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "record `{name}`: unknown peer `{unknown}` (known: {})",
            PEER_KEYS.join(", ")
        ));
    }
    if unit == "ratio" && !peers.is_empty() {
        return Err(format!("record `{name}` is a ratio and must have no peers"));
    }
    let detail = match obj.get("detail") {
        None => BTreeMap::new(),
        Some(d) => numbers(d).map_err(|e| format!("record `{name}`: `detail` {e}"))?,
    };
    Ok(BenchRecord {
        name,
        unit,
        higher_is_better,
        strata,
        peers,
        detail,
    })
}

/// A finite JSON number.
fn finite(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

/// A JSON object of finite numbers.
fn numbers(v: &Value) -> Result<BTreeMap<String, f64>, String> {
    let obj = v.as_object().ok_or("must be an object")?;
    obj.iter()
        .map(|(k, v)| {
            finite(v)
                .map(|x| (k.clone(), x))
                .ok_or_else(|| format!("`{k}` must be a finite number"))
        })
        .collect()
}

/// Sorts records by name; fails when two share a name.
fn sort_and_check_unique(records: &mut [BenchRecord]) -> Result<(), String> {
    records.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = records.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!("record `{}` was reported twice", w[0].name));
    }
    Ok(())
}

/// The results file: `{"schema": 1, "results": [...]}` with one record per line, its fields
/// in the contract's order (`name`, `unit`, `higher_is_better`, `strata`, `peers`, then
/// `detail` when there is any).
fn results_json(records: &[BenchRecord]) -> String {
    let lines: Vec<String> = records
        .iter()
        .map(|r| {
            let mut line = format!(
                "{{\"name\": {}, \"unit\": {}, \"higher_is_better\": {}, \"strata\": {}, \"peers\": {}",
                Value::from(r.name.as_str()),
                Value::from(r.unit.as_str()),
                r.higher_is_better,
                Value::from(r.strata),
                number_map(&r.peers)
            );
            if !r.detail.is_empty() {
                line.push_str(&format!(", \"detail\": {}", number_map(&r.detail)));
            }
            line.push('}');
            line
        })
        .collect();
    let results = if lines.is_empty() {
        "[]".to_owned()
    } else {
        format!("[\n    {}\n  ]", lines.join(",\n    "))
    };
    format!("{{\n  \"schema\": {SCHEMA},\n  \"results\": {results}\n}}\n")
}

/// `{"key": number, ...}` in key order.
fn number_map(m: &BTreeMap<String, f64>) -> String {
    let pairs: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), Value::from(*v)))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// Writes the results file (records already sorted), creating its directory.
fn write_results(path: &Path, records: &[BenchRecord]) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, results_json(records))
        .map_err(|e| format!("could not write {}: {e}", path.display()))
}

/// The table: one row per record with Strata's figure and, per peer, its figure and
/// Strata/peer; then the supporting figures of records that have some.
fn table(records: &[BenchRecord]) -> String {
    let peers: Vec<&str> = PEER_KEYS
        .iter()
        .copied()
        .filter(|p| records.iter().any(|r| r.peers.contains_key(*p)))
        .collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["record".to_owned(), "unit".to_owned(), "strata".to_owned()];
    for p in &peers {
        header.push((*p).to_owned());
        header.push(format!("strata/{p}"));
    }
    rows.push(header);
    for r in records {
        let mut row = vec![
            r.name.clone(),
            r.unit.clone(),
            format_figure(r.strata, &r.unit),
        ];
        for p in &peers {
            match r.peers.get(*p) {
                Some(v) => {
                    row.push(format_figure(*v, &r.unit));
                    row.push(format!("{:.2}", r.strata / v));
                }
                None => row.extend(["-".to_owned(), "-".to_owned()]),
            }
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i < 2 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    for r in records.iter().filter(|r| !r.detail.is_empty()) {
        let detail: Vec<String> = r
            .detail
            .iter()
            .map(|(k, v)| format!("{k} {}", format_figure(*v, "")))
            .collect();
        out.push_str(&format!("  {}: {}\n", r.name, detail.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    const GET_HIT: &str = r#"{"name":"memory.get_hit.1t","unit":"ops/s","higher_is_better":true,"strata":1.0e7,"peers":{"moka":2.0e6,"quick_cache":1.1e7}}"#;
    const RATIO: &str = r#"{"name":"core.two_layers.boxed_over_native","unit":"ratio","higher_is_better":false,"strata":1.3,"peers":{},"detail":{"native_ns_per_op":250.0,"boxed_ns_per_op":325.0}}"#;

    #[test]
    fn parses_arguments() {
        let a = BenchArgs::parse(&strings(&[
            "--quick", "--json", "out.json", "--bench", "memory",
        ]))
        .unwrap();
        assert!(a.quick);
        assert_eq!(a.json, Some(PathBuf::from("out.json")));
        assert_eq!(a.benches, ["memory"]);
        assert!(a.filter.is_empty());
        let a = BenchArgs::parse(&strings(&["--json=x.json", "--", "memory.get_hit"])).unwrap();
        assert_eq!(a.json, Some(PathBuf::from("x.json")));
        assert_eq!(a.filter, ["memory.get_hit"]);
        assert_eq!(BenchArgs::parse(&[]).unwrap(), BenchArgs::default());
        assert!(BenchArgs::parse(&strings(&["--help"])).unwrap().help);
    }

    #[test]
    fn rejects_bad_arguments() {
        let err = BenchArgs::parse(&strings(&["--json"])).unwrap_err();
        assert!(err.starts_with("`--json` needs a path"), "{err}");
        let err = BenchArgs::parse(&strings(&["--bench", "--quick"])).unwrap_err();
        assert!(err.starts_with("`--bench` needs"), "{err}");
        let err = BenchArgs::parse(&strings(&["--fast"])).unwrap_err();
        assert!(err.starts_with("unexpected argument `--fast`"), "{err}");
    }

    #[test]
    fn parses_records() {
        let r = parse_record(GET_HIT).unwrap();
        assert_eq!(r.name, "memory.get_hit.1t");
        assert_eq!(r.unit, "ops/s");
        assert!(r.higher_is_better);
        assert_eq!(r.strata, 1.0e7);
        assert_eq!(r.peers["moka"], 2.0e6);
        assert!(r.detail.is_empty());
        let r = parse_record(RATIO).unwrap();
        assert!(!r.higher_is_better);
        assert!(r.peers.is_empty());
        assert_eq!(r.detail["boxed_ns_per_op"], 325.0);
    }

    #[test]
    fn rejects_incomplete_or_wrong_records() {
        let cases = [
            ("not json", "is not JSON"),
            ("[1]", "is not a JSON object"),
            (r#"{"unit":"ops/s"}"#, "has no `name`"),
            (
                r#"{"name":"a","higher_is_better":true,"strata":1,"peers":{}}"#,
                "record `a` has no `unit`",
            ),
            (
                r#"{"name":"a","unit":"ops/s","strata":1,"peers":{}}"#,
                "has no `higher_is_better`",
            ),
            (
                r#"{"name":"a","unit":"ops/s","higher_is_better":"yes","strata":1,"peers":{}}"#,
                "`higher_is_better` must be true or false",
            ),
            (
                r#"{"name":"a","unit":"ops/s","higher_is_better":true,"peers":{}}"#,
                "has no `strata`",
            ),
            (
                r#"{"name":"a","unit":"ops/s","higher_is_better":true,"strata":"1","peers":{}}"#,
                "`strata` must be a finite number",
            ),
            (
                r#"{"name":"a","unit":"ops/s","higher_is_better":true,"strata":1}"#,
                "has no `peers`",
            ),
            (
                r#"{"name":"a","unit":"ops/s","higher_is_better":true,"strata":1,"peers":{"mokka":1}}"#,
                "unknown peer `mokka`",
            ),
            (
                r#"{"name":"a","unit":"ops/s","higher_is_better":true,"strata":1,"peers":{"moka":null}}"#,
                "`moka` must be a finite number",
            ),
            (
                r#"{"name":"a","unit":"ratio","higher_is_better":false,"strata":1,"peers":{"moka":1}}"#,
                "is a ratio and must have no peers",
            ),
        ];
        for (json, want) in cases {
            let err = parse_record(json).unwrap_err();
            assert!(err.contains(want), "{json}: {err}");
        }
    }

    #[test]
    fn writes_sorted_results_with_the_schema() {
        let mut records = vec![parse_record(GET_HIT).unwrap(), parse_record(RATIO).unwrap()];
        sort_and_check_unique(&mut records).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/strata-bench.json");
        write_results(&path, &records).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["schema"], 1);
        let results = v["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["name"], "core.two_layers.boxed_over_native");
        assert_eq!(results[0]["peers"], serde_json::json!({}));
        assert_eq!(results[0]["detail"]["native_ns_per_op"], 250.0);
        assert_eq!(results[1]["name"], "memory.get_hit.1t");
        assert_eq!(results[1]["unit"], "ops/s");
        assert_eq!(results[1]["higher_is_better"], true);
        assert_eq!(results[1]["strata"], 1.0e7);
        assert_eq!(results[1]["peers"]["quick_cache"], 1.1e7);
        assert!(results[1].get("detail").is_none());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(r#"{"name": "memory.get_hit.1t", "unit": "ops/s", "higher_is_better": true, "strata": 10000000.0, "peers": {"moka": 2000000.0, "quick_cache": 11000000.0}}"#),
            "{text}"
        );
        let empty: Value = serde_json::from_str(&results_json(&[])).unwrap();
        assert_eq!(empty, serde_json::json!({"schema": 1, "results": []}));
        // Every written record reads back as a valid record.
        for r in results {
            parse_record(&r.to_string()).unwrap();
        }
    }

    #[test]
    fn refuses_duplicate_records() {
        let mut records = vec![
            parse_record(GET_HIT).unwrap(),
            parse_record(GET_HIT).unwrap(),
        ];
        let err = sort_and_check_unique(&mut records).unwrap_err();
        assert!(err.contains("reported twice"), "{err}");
    }

    #[test]
    fn table_shows_figures_and_ratios() {
        let records = vec![parse_record(RATIO).unwrap(), parse_record(GET_HIT).unwrap()];
        let t = table(&records);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("record"), "{t}");
        assert!(lines[0].contains("strata/moka") && lines[0].contains("strata/quick_cache"));
        assert!(
            !lines[0].contains("lru"),
            "only peers that appear get a column:\n{t}"
        );
        assert!(
            lines[2].contains("10.00M") && lines[2].contains("5.00"),
            "{t}"
        );
        assert!(lines[2].contains("0.91"), "10M / 11M:\n{t}");
        assert!(t.contains("boxed_ns_per_op 325.0"), "{t}");
    }

    /// A record of `unit` with Strata's figure and, optionally, moka's.
    fn record(name: &str, unit: &str, higher_is_better: bool, strata: f64) -> BenchRecord {
        BenchRecord {
            name: name.to_owned(),
            unit: unit.to_owned(),
            higher_is_better,
            strata,
            peers: BTreeMap::new(),
            detail: BTreeMap::new(),
        }
    }

    fn with_moka(mut r: BenchRecord, moka: f64) -> BenchRecord {
        r.peers.insert("moka".to_owned(), moka);
        r
    }

    fn change<'a>(c: &'a Comparison, name: &str) -> &'a Change {
        c.changes.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn parses_baseline_arguments() {
        let a = BenchArgs::parse(&strings(&[
            "--quick",
            "--save-baseline",
            "main",
            "--baseline=before",
            "--tolerance",
            "5",
            "--fail-on-regression",
        ]))
        .unwrap();
        assert_eq!(a.save_baseline.as_deref(), Some("main"));
        assert_eq!(a.baseline.as_deref(), Some("before"));
        assert_eq!(a.tolerance, Some(5.0));
        assert!(a.fail_on_regression);
        let a = BenchArgs::parse(&strings(&["--baseline", "b", "--tolerance=2.5%"])).unwrap();
        assert_eq!(a.tolerance, Some(2.5));
        assert!(!a.fail_on_regression);
        let a = BenchArgs::parse(&strings(&["--save-baseline=quick1"])).unwrap();
        assert_eq!(a.save_baseline.as_deref(), Some("quick1"));
        assert_eq!(a.baseline, None);
    }

    #[test]
    fn rejects_bad_baseline_arguments() {
        let cases: [(&[&str], &str); 7] = [
            (&["--baseline"], "`--baseline` needs a value"),
            (
                &["--save-baseline", "--quick"],
                "`--save-baseline` needs a value",
            ),
            (
                &["--baseline", "../etc/x"],
                "`../etc/x` is not a usable baseline name",
            ),
            (
                &["--save-baseline=a/b"],
                "`a/b` is not a usable baseline name",
            ),
            (
                &["--baseline", "b", "--tolerance", "ten"],
                "`--tolerance` needs a percentage",
            ),
            (
                &["--fail-on-regression"],
                "`--fail-on-regression` needs `--baseline NAME`",
            ),
            (
                &["--tolerance", "5"],
                "`--tolerance` needs `--baseline NAME`",
            ),
        ];
        for (args, want) in cases {
            let err = BenchArgs::parse(&strings(args)).unwrap_err();
            assert!(err.starts_with(want), "{args:?}: {err}");
        }
    }

    #[test]
    fn baselines_round_trip_and_a_missing_one_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = baseline_path(dir.path(), "quick1");
        assert!(path.ends_with("strata-baselines/quick1.json"), "{path:?}");
        let err = load_baseline(&path).unwrap_err();
        assert!(err.starts_with("no baseline at "), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        let mut records = vec![parse_record(RATIO).unwrap(), parse_record(GET_HIT).unwrap()];
        sort_and_check_unique(&mut records).unwrap();
        write_results(&path, &records).unwrap();
        assert_eq!(load_baseline(&path).unwrap(), records);
        std::fs::write(&path, r#"{"schema": 2, "results": []}"#).unwrap();
        let err = load_baseline(&path).unwrap_err();
        assert!(err.contains("schema 2"), "{err}");
    }

    #[test]
    fn compares_in_the_direction_of_each_unit() {
        let baseline = vec![
            record("a.faster", "ops/s", true, 100.0),
            record("b.slower", "ops/s", true, 100.0),
            record("c.smaller", "bytes", false, 100.0),
            record("d.bigger", "bytes", false, 100.0),
            record("e.ratio_up_a_bit", "ratio", false, 1.0),
            record("f.ops_down_a_bit", "ops/s", true, 100.0),
            record("g.only_in_baseline", "s", false, 1.0),
        ];
        let current = vec![
            record("a.faster", "ops/s", true, 120.0),
            record("b.slower", "ops/s", true, 85.0),
            record("c.smaller", "bytes", false, 80.0),
            record("d.bigger", "bytes", false, 115.0),
            record("e.ratio_up_a_bit", "ratio", false, 1.05),
            record("f.ops_down_a_bit", "ops/s", true, 90.5),
            record("h.only_in_this_run", "ops/s", true, 1.0),
        ];
        let c = compare(&baseline, &current, 10.0);

        // Improvement, both directions.
        assert_eq!(change(&c, "a.faster").verdict, Verdict::Improved);
        assert!((change(&c, "a.faster").better_pct.unwrap() - 20.0).abs() < 1e-9);
        assert_eq!(change(&c, "c.smaller").verdict, Verdict::Improved);
        assert!((change(&c, "c.smaller").better_pct.unwrap() - 20.0).abs() < 1e-9);
        // Regression when higher is better (fewer ops/s) and when lower is better (more
        // bytes).
        assert_eq!(change(&c, "b.slower").verdict, Verdict::Regressed);
        assert!((change(&c, "b.slower").better_pct.unwrap() + 15.0).abs() < 1e-9);
        assert_eq!(change(&c, "d.bigger").verdict, Verdict::Regressed);
        assert!((change(&c, "d.bigger").better_pct.unwrap() + 15.0).abs() < 1e-9);
        // Worse, but within the tolerance.
        assert_eq!(change(&c, "e.ratio_up_a_bit").verdict, Verdict::Ok);
        assert!((change(&c, "e.ratio_up_a_bit").better_pct.unwrap() + 5.0).abs() < 1e-9);
        assert_eq!(change(&c, "f.ops_down_a_bit").verdict, Verdict::Ok);
        // Records of one run only are listed, not compared.
        assert_eq!(c.only_current, ["h.only_in_this_run"]);
        assert_eq!(c.only_baseline, ["g.only_in_baseline"]);
        assert_eq!(c.changes.len(), 6);
        assert_eq!(c.regressed(), ["b.slower", "d.bigger"]);

        let report = c.report();
        assert!(report.contains("-15.0% worse"), "{report}");
        assert_eq!(signed_pct(-0.01), "0.0%");
        assert_eq!(signed_pct(0.04), "0.0%");
        assert_eq!(signed_pct(0.06), "+0.1% better");
        assert!(report.contains("+20.0% better"), "{report}");
        assert!(report.contains("REGRESSED"), "{report}");
        assert!(
            report.contains("not in the baseline: h.only_in_this_run"),
            "{report}"
        );
        assert!(
            report.contains("not in this run: g.only_in_baseline"),
            "{report}"
        );
        assert!(
            report.contains(
                "2 of 6 records more than 10% worse than the baseline: b.slower, d.bigger"
            ),
            "{report}"
        );
        let d_row = report.lines().find(|l| l.starts_with("d.bigger")).unwrap();
        assert!(d_row.contains("REGRESSED"), "{report}");
        let e_row = report
            .lines()
            .find(|l| l.starts_with("e.ratio_up_a_bit"))
            .unwrap();
        assert!(!e_row.contains("REGRESSED"), "{report}");

        // A wider tolerance lets the same changes pass.
        let c = compare(&baseline, &current, 20.0);
        assert!(c.regressed().is_empty());
        assert_eq!(change(&c, "a.faster").verdict, Verdict::Ok);
        assert!(c.report().contains("no record is more than 20% worse"));
    }

    #[test]
    fn compares_peers_and_refuses_mismatched_records() {
        let baseline = vec![
            with_moka(record("a", "ops/s", true, 100.0), 50.0),
            record("b", "ops/s", true, 100.0),
            record("z", "ops/s", true, 0.0),
        ];
        let current = vec![
            with_moka(record("a", "ops/s", true, 80.0), 40.0),
            record("b", "bytes", false, 100.0),
            record("z", "ops/s", true, 5.0),
        ];
        let c = compare(&baseline, &current, 10.0);
        let a = change(&c, "a");
        assert_eq!(a.verdict, Verdict::Regressed);
        assert!((a.peers_better_pct.unwrap() + 20.0).abs() < 1e-9);
        let b = change(&c, "b");
        assert!(matches!(&b.verdict, Verdict::NotComparable(why) if why.contains("unit")));
        assert_eq!(b.better_pct, None);
        assert!(matches!(change(&c, "z").verdict, Verdict::NotComparable(_)));
        assert_eq!(c.regressed(), ["a"]);
        assert!(c.report().contains("not comparable (unit was `ops/s`)"));
        // Nothing in common: everything is listed, nothing regressed.
        let c = compare(&baseline, &[], 10.0);
        assert!(c.changes.is_empty() && c.regressed().is_empty());
        assert_eq!(c.only_baseline, ["a", "b", "z"]);
    }

    #[test]
    fn figures_read_well() {
        assert_eq!(format_figure(24_100_000.0, "ops/s"), "24.10M");
        assert_eq!(format_figure(1.2341, "ratio"), "1.234");
        assert_eq!(format_figure(325.0, ""), "325.0");
        assert_eq!(format_figure(2.5e9, "bytes"), "2.500e9");
    }
}
