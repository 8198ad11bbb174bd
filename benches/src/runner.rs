//! Rounds that interleave Strata and its peers, criterion measurements, medians, records.
//!
//! A record's contenders run as criterion benchmarks with ids `<group>/<contender>/r<round>`:
//! round 0 runs every contender once (Strata first, then each peer), round 1 runs them all
//! again, and so on, so slow drift on a noisy machine hits every contender alike. After each
//! benchmark the runner reads criterion's estimate back from
//! `<criterion home>/<group>/<contender>/r<round>/new/estimates.json` (the slope of the linear
//! fit, or the median when criterion sampled flat), in ns per iteration, and divides it by the
//! operations one iteration does. A record's figure is the median over the rounds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Bencher, BenchmarkFilter, BenchmarkId, Criterion, Throughput};

use crate::contract::format_figure;
use crate::record::Record;

/// The environment variable that selects the short settings ([`Settings::quick`]) when set
/// to anything but `0` or the empty string.
pub const QUICK_ENV: &str = "STRATA_BENCH_QUICK";

/// The contender name of Strata itself in speed records.
pub const STRATA: &str = "strata";

/// How long and how often to measure.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Rounds per record (at least 5); each record's figure is the median over them.
    pub rounds: usize,
    /// Criterion's warm-up per benchmark.
    pub warm_up: Duration,
    /// Criterion's measurement time per benchmark.
    pub measurement: Duration,
    /// Criterion's samples per benchmark (at least 10).
    pub sample_size: usize,
    /// Criterion's bootstrap resamples (only its confidence intervals use them).
    pub nresamples: usize,
}

impl Settings {
    /// The settings of a full run: 7 rounds of 1 s warm-up and 3 s measurement.
    pub fn full() -> Self {
        Settings {
            rounds: 7,
            warm_up: Duration::from_secs(1),
            measurement: Duration::from_secs(3),
            sample_size: 50,
            nresamples: 20_000,
        }
    }

    /// The settings of `--quick`: 5 rounds of 0.3 s warm-up and 1 s measurement.
    pub fn quick() -> Self {
        Settings {
            rounds: 5,
            warm_up: Duration::from_millis(300),
            measurement: Duration::from_secs(1),
            sample_size: 20,
            nresamples: 2_000,
        }
    }

    /// [`Settings::quick`] when [`QUICK_ENV`] is set, else [`Settings::full`].
    pub fn from_env() -> Self {
        let quick = std::env::var(QUICK_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        if quick {
            Settings::quick()
        } else {
            Settings::full()
        }
    }
}

/// One contender of a record: a name (`strata` or a peer key), how many operations one
/// iteration performs, and the criterion routine (which calls `iter` or `iter_custom`).
pub struct Contender<'a> {
    name: String,
    ops_per_iter: u64,
    routine: Box<dyn FnMut(&mut Bencher<'_>) + 'a>,
}

impl<'a> Contender<'a> {
    /// A contender doing `ops_per_iter` operations per criterion iteration.
    ///
    /// # Panics
    /// When the name has characters other than ASCII letters, digits, `.`, `_` and `-` (the
    /// runner finds criterion's files by name) or `ops_per_iter` is zero.
    pub fn new(name: &str, ops_per_iter: u64, routine: impl FnMut(&mut Bencher<'_>) + 'a) -> Self {
        check_id_part(name);
        assert!(ops_per_iter > 0, "contender `{name}` does no operation");
        Contender {
            name: name.to_owned(),
            ops_per_iter,
            routine: Box::new(routine),
        }
    }

    /// The contender's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Debug for Contender<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contender")
            .field("name", &self.name)
            .field("ops_per_iter", &self.ops_per_iter)
            .finish_non_exhaustive()
    }
}

/// What [`Runner::measure`] found: for each contender, ns per operation in each round.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    rows: Vec<(String, Vec<f64>)>,
}

impl Measured {
    /// Measurements from `(contender, ns per operation in each round)` rows.
    pub fn from_rows(rows: Vec<(String, Vec<f64>)>) -> Self {
        Measured { rows }
    }

    /// Nanoseconds per operation of `contender`, one figure per round.
    ///
    /// # Panics
    /// When no contender has that name.
    pub fn ns_per_op(&self, contender: &str) -> &[f64] {
        self.rows
            .iter()
            .find(|(name, _)| name == contender)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_else(|| panic!("no contender named `{contender}`"))
    }

    /// The median of [`Measured::ns_per_op`].
    pub fn median_ns_per_op(&self, contender: &str) -> f64 {
        median(self.ns_per_op(contender))
    }

    /// The median over the rounds of operations per second.
    pub fn median_ops_per_sec(&self, contender: &str) -> f64 {
        let per_round: Vec<f64> = self
            .ns_per_op(contender)
            .iter()
            .map(|ns| 1e9 / ns)
            .collect();
        median(&per_round)
    }

    /// The median over the rounds of `time(numerator) / time(denominator)`, each ratio taken
    /// within one round.
    pub fn median_time_ratio(&self, numerator: &str, denominator: &str) -> f64 {
        let ratios: Vec<f64> = self
            .ns_per_op(numerator)
            .iter()
            .zip(self.ns_per_op(denominator))
            .map(|(n, d)| n / d)
            .collect();
        median(&ratios)
    }
}

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs records: see the [module documentation](self).
pub struct Runner {
    criterion: Criterion,
    settings: Settings,
    output_dir: PathBuf,
    filter: Option<String>,
    benchmarking: bool,
    /// Whether [`Runner::measure`] ran criterion rounds (the summary then names them).
    measured: bool,
    emitted: Vec<Record>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("settings", &self.settings)
            .field("output_dir", &self.output_dir)
            .field("filter", &self.filter)
            .field("benchmarking", &self.benchmarking)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner configured from the process: [`Settings::from_env`], criterion's command
    /// line (`cargo bench` passes `--bench`; `cargo test --benches` runs each benchmark once
    /// and reports nothing), and an optional filter argument that selects the records whose
    /// name contains it. Criterion writes under `$CRITERION_HOME`, or `<target>/criterion`.
    pub fn from_env() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let cli = CliArgs::parse(&args);
        let settings = Settings::from_env();
        let output_dir = criterion_home();
        let criterion = Criterion::default()
            .warm_up_time(settings.warm_up)
            .measurement_time(settings.measurement)
            .sample_size(settings.sample_size)
            .nresamples(settings.nresamples)
            .without_plots()
            .configure_from_args()
            // The runner filters whole records itself (see `wants`).
            .with_benchmark_filter(BenchmarkFilter::AcceptAll)
            .output_directory(&output_dir);
        Runner {
            criterion,
            settings,
            output_dir,
            filter: cli.filter,
            benchmarking: cli.benchmarking,
            measured: false,
            emitted: Vec::new(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether this is a measuring run (`cargo bench`), not a smoke test (`cargo test`).
    pub fn is_benchmarking(&self) -> bool {
        self.benchmarking
    }

    /// Whether the record `name` is selected by the filter (every record is without one).
    /// Check it before an expensive setup.
    pub fn wants(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }

    /// Runs the contenders in interleaved rounds as criterion benchmarks
    /// `<group>/<contender>/r<round>` and returns ns per operation per round, or `None` when
    /// not benchmarking (then each contender ran once, as a smoke test).
    ///
    /// # Panics
    /// When criterion left no estimate for a benchmark, or a name is unsafe as a path.
    pub fn measure(&mut self, group: &str, contenders: &mut [Contender<'_>]) -> Option<Measured> {
        check_id_part(group);
        let rounds = if self.benchmarking {
            self.settings.rounds
        } else {
            1
        };
        let mut rows: Vec<(String, Vec<f64>)> = contenders
            .iter()
            .map(|c| (c.name.clone(), Vec::with_capacity(rounds)))
            .collect();
        for round in 0..rounds {
            for (row, c) in rows.iter_mut().zip(contenders.iter_mut()) {
                let round_id = format!("r{round}");
                let new_dir = self
                    .output_dir
                    .join(group)
                    .join(&c.name)
                    .join(&round_id)
                    .join("new");
                if self.benchmarking {
                    // Never read a previous run's figure.
                    let _ = std::fs::remove_dir_all(&new_dir);
                }
                let mut g = self.criterion.benchmark_group(group);
                g.throughput(Throughput::Elements(c.ops_per_iter));
                let routine = &mut c.routine;
                g.bench_function(BenchmarkId::new(c.name.as_str(), &round_id), |b| routine(b));
                g.finish();
                if self.benchmarking {
                    let ns_per_iter = read_estimate(&new_dir.join("estimates.json"));
                    row.1.push(ns_per_iter / c.ops_per_iter as f64);
                }
            }
        }
        self.measured |= self.benchmarking;
        self.benchmarking.then(|| Measured::from_rows(rows))
    }

    /// Runs and emits a throughput record (`ops/s`): the first contender must be
    /// [`STRATA`], the others are peers named by their peer keys. Does nothing when the
    /// filter does not select `record`.
    pub fn speed(&mut self, record: &str, contenders: &mut [Contender<'_>]) {
        if !self.wants(record) {
            return;
        }
        assert_eq!(
            contenders.first().map(Contender::name),
            Some(STRATA),
            "record `{record}`: the first contender must be `{STRATA}`"
        );
        let Some(m) = self.measure(record, contenders) else {
            return;
        };
        let mut r = Record::ops_per_sec(record, m.median_ops_per_sec(STRATA));
        for c in &contenders[1..] {
            r = r.peer(&c.name, m.median_ops_per_sec(&c.name));
        }
        self.emit(r);
    }

    /// Prints a record's `STRATA_RECORD` line (for records measured any other way, too).
    /// Records the filter does not select are dropped.
    pub fn emit(&mut self, record: Record) {
        if !self.wants(&record.name) {
            return;
        }
        println!("{}", record.to_line());
        self.emitted.push(record);
    }

    /// Prints a summary of the records emitted by this binary.
    pub fn finish(self) {
        if self.emitted.is_empty() {
            return;
        }
        if self.measured {
            println!(
                "\nstrata-benches: median of {} rounds",
                self.settings.rounds
            );
        } else {
            println!("\nstrata-benches:");
        }
        for r in &self.emitted {
            let mut line = format!(
                "  {:<36} {:>10} {}",
                r.name,
                format_figure(r.strata, &r.unit),
                r.unit
            );
            for (peer, v) in &r.peers {
                line.push_str(&format!(
                    " | {peer} {} (strata/{peer} {:.2})",
                    format_figure(*v, &r.unit),
                    r.strata / v
                ));
            }
            for (k, v) in &r.detail {
                line.push_str(&format!(" | {k} {v:.2}"));
            }
            println!("{line}");
        }
    }
}

/// What the runner needs from the bench binary's command line.
#[derive(Debug, Default, PartialEq)]
struct CliArgs {
    benchmarking: bool,
    filter: Option<String>,
}

impl CliArgs {
    /// Criterion's options that take a value (so the value is not the filter).
    const WITH_VALUE: &'static [&'static str] = &[
        "-c",
        "--color",
        "--colour",
        "-s",
        "--save-baseline",
        "-b",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--profile-time",
        "--format",
        "--output-format",
        "--plotting-backend",
    ];

    fn parse(args: &[String]) -> Self {
        let mut out = CliArgs::default();
        let (mut bench, mut other_mode) = (false, false);
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--bench" => bench = true,
                "--test" | "--list" => other_mode = true,
                a if a.starts_with("--profile-time") => {
                    other_mode = true;
                    if !a.contains('=') {
                        it.next();
                    }
                }
                a if Self::WITH_VALUE.contains(&a) => {
                    it.next();
                }
                a if a.starts_with('-') => {}
                a => {
                    if out.filter.is_none() {
                        out.filter = Some(a.to_owned());
                    }
                }
            }
        }
        out.benchmarking = bench && !other_mode;
        out
    }
}

/// Where criterion writes: `$CRITERION_HOME`, else `<target>/criterion` (the bench binary
/// lives in `<target>/<profile>/deps/`), else `target/criterion`.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .map(|target| target.join("criterion"))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// Criterion's figure in ns per iteration from an `estimates.json`.
fn read_estimate(path: &Path) -> f64 {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "criterion left no estimate at {} ({e}); runs with --discard-baseline or through \
             cargo-criterion save none",
            path.display()
        )
    });
    parse_estimate(&text).unwrap_or_else(|| panic!("unreadable estimate in {}", path.display()))
}

/// The slope point estimate, or the median when there is no slope (flat sampling).
fn parse_estimate(text: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let estimate = v
        .get("slope")
        .filter(|s| !s.is_null())
        .or_else(|| v.get("median"))?;
    estimate
        .get("point_estimate")?
        .as_f64()
        .filter(|x| x.is_finite() && *x > 0.0)
}

/// Panics unless `part` is a non-empty run of ASCII letters, digits, `.`, `_` and `-`.
fn check_id_part(part: &str) {
    assert!(
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
        "`{part}` is not a usable benchmark name (ASCII letters, digits, `.`, `_`, `-`)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn cli_detects_mode_and_filter() {
        let c = CliArgs::parse(&args(&["--bench"]));
        assert!(c.benchmarking);
        assert_eq!(c.filter, None);
        let c = CliArgs::parse(&args(&["--bench", "--color", "never", "memory.get"]));
        assert!(c.benchmarking);
        assert_eq!(c.filter.as_deref(), Some("memory.get"));
        let c = CliArgs::parse(&args(&["stack"]));
        assert!(!c.benchmarking, "cargo test --benches passes no --bench");
        assert_eq!(c.filter.as_deref(), Some("stack"));
        assert!(!CliArgs::parse(&args(&["--bench", "--list"])).benchmarking);
        assert!(!CliArgs::parse(&args(&["--bench", "--profile-time", "5"])).benchmarking);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        let m = Measured::from_rows(vec![
            ("a".into(), vec![10.0, 20.0, 10.0]),
            ("b".into(), vec![20.0, 20.0, 30.0]),
        ]);
        assert_eq!(m.median_ns_per_op("a"), 10.0);
        assert_eq!(m.median_ops_per_sec("a"), 1e8);
        // Per-round ratios 2, 1, 3.
        assert_eq!(m.median_time_ratio("b", "a"), 2.0);
    }

    #[test]
    fn estimates_prefer_the_slope() {
        let with_slope = r#"{"median":{"point_estimate":12.0},"slope":{"point_estimate":10.0}}"#;
        assert_eq!(parse_estimate(with_slope), Some(10.0));
        let flat = r#"{"median":{"point_estimate":12.0},"slope":null}"#;
        assert_eq!(parse_estimate(flat), Some(12.0));
        assert_eq!(parse_estimate(r#"{"median":{"point_estimate":0.0}}"#), None);
        assert_eq!(parse_estimate("not json"), None);
    }

    #[test]
    fn figures_read_well() {
        assert_eq!(format_figure(24_100_000.0, "ops/s"), "24.10M");
        assert_eq!(format_figure(1.2341, "ratio"), "1.234");
        assert_eq!(format_figure(12.3456, "ns"), "12.35");
    }

    #[test]
    #[should_panic(expected = "not a usable benchmark name")]
    fn names_must_be_path_safe() {
        check_id_part("a/b");
    }
}
