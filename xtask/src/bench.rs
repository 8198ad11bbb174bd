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

use crate::{cargo, workspace_root};

/// Usage of `cargo xtask bench`.
pub(crate) const USAGE: &str = "\
cargo xtask bench [--quick] [--json PATH] [--bench NAME]... [-- FILTER]

  Runs `cargo bench -p strata-benches` (release): each record is the median of rounds that
  interleave Strata and its peers. Writes {\"schema\": 1, \"results\": [...]} and prints a
  table (record, Strata, each peer, Strata/peer).

  --quick       short rounds (STRATA_BENCH_QUICK=1), a few minutes on 2 cores
  --json PATH   where to write the results (default: <target>/strata-bench.json)
  --bench NAME  only the bench binary NAME (memory, stack, ...); may repeat
  -- FILTER     only the records whose name contains FILTER (passed to the bench binaries)";

/// The environment variable selecting the short settings in the bench binaries.
const QUICK_ENV: &str = "STRATA_BENCH_QUICK";

/// What starts a record line on the bench binaries' stdout.
const RECORD_PREFIX: &str = "STRATA_RECORD ";

/// The version of the results file's layout.
const SCHEMA: u64 = 1;

/// The peer keys a record may use (the same list as `strata_benches::PEER_KEYS`).
const PEER_KEYS: &[&str] = &[
    "moka",
    "quick_cache",
    "lru",
    "redis_rs",
    "fred",
    "cache_core",
];

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

    // Hook for the Redis records (redis_rs, fred peers): start the servers here, before the
    // bench binaries run, and announce them the way `cargo xtask test` does:
    //     crate::redis::install_interrupt_handler();
    //     let servers = crate::redis::Servers::start_all().map_err(|e| e.to_string())?;
    //     cmd.envs(servers.env_vars());
    // keeping `servers` alive until the bench run below has finished (dropping it stops them).

    let mut cmd = cargo();
    cmd.args(["bench", "-p", "strata-benches"]);
    for name in &args.benches {
        cmd.args(["--bench", name]);
    }
    if !args.filter.is_empty() {
        cmd.arg("--").args(&args.filter);
    }
    cmd.env("CRITERION_HOME", target_dir().join("criterion"));
    if args.quick {
        cmd.env(QUICK_ENV, "1");
    } else {
        cmd.env_remove(QUICK_ENV);
    }
    let lines = run_collecting(&mut cmd)?;

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
    Ok(())
}

/// The parsed arguments of `cargo xtask bench`.
#[derive(Debug, Default, PartialEq, Eq)]
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
                _ => {
                    if let Some(path) = arg.strip_prefix("--json=") {
                        parsed.json = Some(path.into());
                    } else if let Some(name) = arg.strip_prefix("--bench=") {
                        parsed.benches.push(name.to_owned());
                    } else {
                        return Err(format!("unexpected argument `{arg}`\n\n{USAGE}"));
                    }
                }
            }
        }
        Ok(parsed)
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

/// Formats a figure: ops/s scaled (`24.10M`), anything else with about 4 significant digits.
fn figure(value: f64, unit: &str) -> String {
    if unit == "ops/s" {
        let (scaled, suffix) = if value >= 1e9 {
            (value / 1e9, "G")
        } else if value >= 1e6 {
            (value / 1e6, "M")
        } else if value >= 1e3 {
            (value / 1e3, "k")
        } else {
            (value, "")
        };
        format!("{scaled:.2}{suffix}")
    } else if value != 0.0 && (value.abs() >= 1e5 || value.abs() < 1e-3) {
        format!("{value:.3e}")
    } else {
        let digits = 3 - value.abs().log10().floor().clamp(-3.0, 3.0) as i32;
        format!("{value:.*}", digits.max(0) as usize)
    }
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
        let mut row = vec![r.name.clone(), r.unit.clone(), figure(r.strata, &r.unit)];
        for p in &peers {
            match r.peers.get(*p) {
                Some(v) => {
                    row.push(figure(*v, &r.unit));
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
            .map(|(k, v)| format!("{k} {}", figure(*v, "")))
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

    #[test]
    fn figures_read_well() {
        assert_eq!(figure(24_100_000.0, "ops/s"), "24.10M");
        assert_eq!(figure(1.2341, "ratio"), "1.234");
        assert_eq!(figure(325.0, ""), "325.0");
        assert_eq!(figure(2.5e9, "bytes"), "2.500e9");
    }
}
