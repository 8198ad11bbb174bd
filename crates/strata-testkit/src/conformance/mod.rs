//! The conformance suite: Strata's store behaviour, written once and run by every store.
//!
//! Each behaviour is one async case over a fresh store, gated by the [`Capabilities`] the store
//! declares in [`Store::info`]. A store's tests implement [`StoreFactory`] and call [`run`]:
//!
//! ```text
//! use std::sync::Arc;
//! use strata_core::ManualClock;
//! use strata_memory::MemoryStore;
//! use strata_testkit::conformance::{self, RunContext, StoreFactory, TimeControl};
//!
//! struct Factory {
//!     clock: Arc<ManualClock>,
//! }
//!
//! impl StoreFactory for Factory {
//!     type Store = MemoryStore;
//!     async fn create(&self, _run: &RunContext) -> MemoryStore {
//!         MemoryStore::builder().clock(self.clock.clone()).build().unwrap()
//!     }
//!     fn time(&self) -> TimeControl {
//!         TimeControl::Manual(self.clock.clone())
//!     }
//! }
//!
//! #[tokio::test]
//! async fn memory_store_conforms() {
//!     let factory = Factory { clock: Arc::new(ManualClock::new()) };
//!     conformance::run(&factory).await.assert_ok();
//! }
//! ```
//!
//! Every case builds its namespaces and tags through the [`RunContext`] (`users-<token>`), so
//! runs against a shared backend never see each other; factories for shared backends should also
//! give each store the per-case [`RunContext::prefix`], so that [`Selector::All`] and
//! [`StoreExt::clear`] only reach the case's own entries.
//!
//! [`Selector::All`]: strata_core::Selector::All
//! [`StoreExt::clear`]: strata_core::StoreExt::clear

use std::any::Any;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hash, Hasher};
use std::panic::{AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::FutureExt;
use strata_core::{
    Capabilities, Clock, Error, ErrorKind, Key, ManualClock, Namespace, Store, Tag, Timestamp,
    TtlState,
};

mod bad_input;
mod basic;
mod batch;
mod conditional;
mod explain;
mod increment;
mod invalidation;
mod isolation;
mod scan;
mod tags;
mod ttl;

#[cfg(test)]
pub(crate) mod reference;
#[cfg(test)]
mod tests;

/// How long one case may take before it is reported as failed (a hung backend must not hang
/// the whole suite).
pub const CASE_TIMEOUT: Duration = Duration::from_secs(30);

/// The extra time real-time cases wait past a deadline before checking that something expired.
/// A store may check expiry with millisecond precision, a remote store's clock may be read a
/// little later than ours, and the runtime may wake a sleeper late; 150 ms covers all three.
pub const REAL_TIME_SLACK: Duration = Duration::from_millis(150);

/// How the stores a factory creates tell time, and so how TTL cases make time pass.
#[derive(Clone, Debug)]
pub enum TimeControl {
    /// The stores read this clock: cases advance it instead of sleeping.
    Manual(Arc<ManualClock>),
    /// The stores read real time (Redis): cases use short TTLs and sleep past them with
    /// [`REAL_TIME_SLACK`].
    Real,
}

/// What the runner tells a factory about the case it creates a store for.
///
/// The run token is random per [`run`], so two runs against one shared backend (two test
/// binaries, two machines on one Redis) never share a namespace, tag or prefix.
#[derive(Clone, Debug)]
pub struct RunContext {
    token: Arc<str>,
    case: &'static str,
    seq: usize,
}

impl RunContext {
    /// A context with a fresh random token, for use outside [`run`] (a store's own tests).
    pub fn new() -> Self {
        RunContext {
            token: new_token().into(),
            case: "adhoc",
            seq: 0,
        }
    }

    /// The run's random token: 8 lower-case hex characters.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The name of the case the store is created for.
    pub fn case_name(&self) -> &'static str {
        self.case
    }

    /// A backend key prefix unique to this case of this run, `strata-test-<token>-<n>`; valid
    /// as a Redis prefix (`[A-Za-z0-9_.-]`).
    pub fn prefix(&self) -> String {
        format!("strata-test-{}-{}", self.token, self.seq)
    }

    /// The namespace `<name>-<token>`, unique to this run.
    ///
    /// # Panics
    ///
    /// When `name` has characters outside `[A-Za-z0-9_.-]` or is longer than 55 bytes.
    pub fn ns(&self, name: &str) -> Namespace {
        Namespace::new(format!("{name}-{}", self.token))
            .unwrap_or_else(|e| panic!("RunContext::ns({name:?}): {e}"))
    }

    /// The tag `<name>-<token>`, unique to this run.
    ///
    /// # Panics
    ///
    /// When `name` is not a valid tag or is longer than 247 bytes.
    pub fn tag(&self, name: &str) -> Tag {
        Tag::new(format!("{name}-{}", self.token))
            .unwrap_or_else(|e| panic!("RunContext::tag({name:?}): {e}"))
    }
}

impl Default for RunContext {
    fn default() -> Self {
        Self::new()
    }
}

/// Eight hex characters from the time, the process id, a counter and the std hasher's random
/// keys: unique enough for test prefixes without a `rand` dependency.
fn new_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        .hash(&mut h);
    std::process::id().hash(&mut h);
    COUNTER.fetch_add(1, Ordering::Relaxed).hash(&mut h);
    format!("{:08x}", h.finish() as u32)
}

/// Creates a fresh store for each case.
///
/// The stores must start empty (or hold nothing under the case's namespaces and
/// [`RunContext::prefix`]) and have no default TTL: a value written without a TTL must not
/// expire.
pub trait StoreFactory: Send + Sync {
    /// The store under test.
    type Store: Store;

    /// Creates the store for one case. Panics are caught and fail that case.
    fn create(&self, run: &RunContext) -> impl Future<Output = Self::Store> + Send;

    /// How the stores this factory creates tell time. With [`TimeControl::Manual`], every store
    /// `create` returns must read that clock.
    fn time(&self) -> TimeControl;

    /// Called with the store after its case ended, passed or failed (a shared backend can remove
    /// what the case left). The default drops the store.
    fn cleanup(&self, store: Self::Store, run: &RunContext) -> impl Future<Output = ()> + Send {
        let _ = (store, run);
        async {}
    }
}

/// The outcome of a run.
#[must_use = "a report fails nothing by itself: call `assert_ok`"]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Cases that passed, in run order.
    pub passed: Vec<&'static str>,
    /// Cases skipped for missing capabilities, as `"case_name (needs TAGS | SCAN)"`.
    pub skipped: Vec<String>,
    /// Cases that failed, with what went wrong.
    pub failed: Vec<(&'static str, String)>,
}

impl Report {
    /// Panics, listing every failed case with its message, unless all cases that ran passed.
    /// Also panics when no case ran at all (a filter that matches nothing is a mistake).
    #[track_caller]
    pub fn assert_ok(&self) {
        if !self.failed.is_empty() {
            panic!("{self}");
        }
        if self.passed.is_empty() {
            panic!("no conformance case ran ({} skipped)", self.skipped.len());
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "conformance: {} passed, {} failed, {} skipped",
            self.passed.len(),
            self.failed.len(),
            self.skipped.len()
        )?;
        for (name, message) in &self.failed {
            writeln!(f, "  FAILED {name}: {message}")?;
        }
        for skipped in &self.skipped {
            writeln!(f, "  skipped {skipped}")?;
        }
        Ok(())
    }
}

/// Runs every case, each on a fresh store from `factory`, and reports what passed, failed
/// (a failed check, an error, a panic, or more than [`CASE_TIMEOUT`]) and was skipped for a
/// capability the store does not declare.
///
/// Must run inside a Tokio runtime with the time driver (`#[tokio::test]` has one): cases are
/// timed out, and real-time cases sleep.
pub async fn run<F: StoreFactory>(factory: &F) -> Report {
    run_filtered(factory, "").await
}

/// Runs the cases whose name contains `filter` (all of them for `""`), as [`run`] does; handy
/// when debugging one behaviour (`run_filtered(&factory, "scan_")`).
pub async fn run_filtered<F: StoreFactory>(factory: &F, filter: &str) -> Report {
    let token: Arc<str> = new_token().into();
    let mut report = Report::default();
    let cases: Vec<Case<F::Store>> = all_cases();

    // One store tells us the capabilities; every case then gets its own fresh store.
    let probe_run = RunContext {
        token: token.clone(),
        case: "capabilities_probe",
        seq: cases.len(),
    };
    let caps = match AssertUnwindSafe(factory.create(&probe_run))
        .catch_unwind()
        .await
    {
        Ok(store) => {
            let caps = store.info().capabilities;
            factory.cleanup(store, &probe_run).await;
            caps
        }
        Err(panic) => {
            let message = format!("the factory panicked: {}", panic_message(&*panic));
            for case in cases.iter().filter(|c| c.name.contains(filter)) {
                report.failed.push((case.name, message.clone()));
            }
            return report;
        }
    };

    for (seq, case) in cases.into_iter().enumerate() {
        if !case.name.contains(filter) {
            continue;
        }
        let missing = case.needs.difference(caps);
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter_names().map(|(n, _)| n).collect();
            report
                .skipped
                .push(format!("{} (needs {})", case.name, names.join(" | ")));
            continue;
        }
        let run = RunContext {
            token: token.clone(),
            case: case.name,
            seq,
        };
        match run_case(factory, &case, run).await {
            Ok(()) => report.passed.push(case.name),
            Err(message) => {
                eprintln!("conformance case {} FAILED: {message}", case.name);
                report.failed.push((case.name, message));
            }
        }
    }
    report
}

async fn run_case<F: StoreFactory>(
    factory: &F,
    case: &Case<F::Store>,
    run: RunContext,
) -> Result<(), String> {
    let store = match AssertUnwindSafe(factory.create(&run)).catch_unwind().await {
        Ok(store) => store,
        Err(panic) => {
            return Err(format!("the factory panicked: {}", panic_message(&*panic)));
        }
    };
    let cx = Cx {
        store,
        time: factory.time(),
        run,
    };
    let outcome = tokio::time::timeout(
        CASE_TIMEOUT,
        AssertUnwindSafe((case.run)(&cx)).catch_unwind(),
    )
    .await;
    let result = match outcome {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(failure))) => Err(failure.message),
        Ok(Err(panic)) => Err(format!("panicked: {}", panic_message(&*panic))),
        Err(_) => Err(format!("did not finish within {CASE_TIMEOUT:?}")),
    };
    let Cx { store, run, .. } = cx;
    factory.cleanup(store, &run).await;
    result
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a non-string panic payload)".to_owned()
    }
}

fn all_cases<S: Store>() -> Vec<Case<S>> {
    let mut cases = Vec::new();
    cases.extend(basic::cases());
    cases.extend(batch::cases());
    cases.extend(conditional::cases());
    cases.extend(explain::cases());
    cases.extend(ttl::cases());
    cases.extend(increment::cases());
    cases.extend(scan::cases());
    cases.extend(tags::cases());
    cases.extend(invalidation::cases());
    cases.extend(isolation::cases());
    cases.extend(bad_input::cases());
    cases
}

// ---------------------------------------------------------------------------------------------
// What the cases are built from.

/// A boxed case future.
pub(crate) type CaseFuture<'a> = Pin<Box<dyn Future<Output = CaseResult> + Send + 'a>>;

/// One behaviour: a name, the capabilities it needs, and the async function.
pub(crate) struct Case<S> {
    pub(crate) name: &'static str,
    pub(crate) needs: Capabilities,
    pub(crate) run: for<'a> fn(&'a Cx<S>) -> CaseFuture<'a>,
}

/// `case!(fn_name)` or `case!(fn_name, TTL | SCAN)`: a [`Case`] named after its function.
macro_rules! case {
    ($name:ident) => {
        $crate::conformance::Case {
            name: stringify!($name),
            needs: ::strata_core::Capabilities::empty(),
            run: |cx| Box::pin($name(cx)),
        }
    };
    ($name:ident, $($cap:ident)|+) => {
        $crate::conformance::Case {
            name: stringify!($name),
            needs: ::strata_core::Capabilities::empty() $(.union(::strata_core::Capabilities::$cap))+,
            run: |cx| Box::pin($name(cx)),
        }
    };
}
pub(crate) use case;

/// What a case returns: `Err` carries the failure message and where it was raised.
pub(crate) type CaseResult = Result<(), Failure>;

/// A failed check.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
}

impl Failure {
    #[track_caller]
    pub(crate) fn new(message: impl fmt::Display) -> Self {
        let at = Location::caller();
        Failure {
            message: format!("{message} (at {}:{})", short_path(at.file()), at.line()),
        }
    }
}

fn short_path(file: &str) -> &str {
    file.rsplit_once("src/").map_or(file, |(_, rest)| rest)
}

impl From<Error> for Failure {
    /// An unexpected store error, located at the `?` that raised it.
    #[track_caller]
    fn from(e: Error) -> Self {
        Failure::new(format_args!("unexpected error: {e}"))
    }
}

/// Fails with `what` unless `cond` holds.
#[track_caller]
pub(crate) fn check(cond: bool, what: impl fmt::Display) -> CaseResult {
    if cond {
        Ok(())
    } else {
        Err(Failure::new(what))
    }
}

/// Fails unless `got == want`, showing both.
#[track_caller]
pub(crate) fn check_eq<T: PartialEq + fmt::Debug>(
    got: T,
    want: T,
    what: impl fmt::Display,
) -> CaseResult {
    if got == want {
        Ok(())
    } else {
        Err(Failure::new(format_args!(
            "{what}: got {got:?}, want {want:?}"
        )))
    }
}

/// Expects an error of `kind`; returns it.
#[track_caller]
pub(crate) fn expect_kind<T: fmt::Debug>(
    result: strata_core::Result<T>,
    kind: ErrorKind,
    what: impl fmt::Display,
) -> Result<Error, Failure> {
    match result {
        Ok(v) => Err(Failure::new(format_args!(
            "{what}: want an error of kind {kind:?}, got Ok({v:?})"
        ))),
        Err(e) if e.kind() == kind => Ok(e),
        Err(e) => Err(Failure::new(format_args!(
            "{what}: want an error of kind {kind:?}, got {:?}: {e}",
            e.kind()
        ))),
    }
}

/// Fails unless `state` is `Remaining(d)` with `more_than < d <= at_most`.
#[track_caller]
pub(crate) fn check_remaining(
    state: TtlState,
    more_than: Duration,
    at_most: Duration,
    what: impl fmt::Display,
) -> CaseResult {
    match state {
        TtlState::Remaining(d) if more_than < d && d <= at_most => Ok(()),
        other => Err(Failure::new(format_args!(
            "{what}: got {other:?}, want Remaining(d) with {more_than:?} < d <= {at_most:?}"
        ))),
    }
}

/// Bytes from text.
pub(crate) fn b(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

/// A TTL that does not run out during a case, even in real time.
pub(crate) const LONG_TTL: Duration = Duration::from_secs(60);
/// A TTL cases wait out; short so real-time runs stay fast.
pub(crate) const SHORT_TTL: Duration = Duration::from_millis(300);

/// The context a case runs in: its fresh store, the run's names, and time.
pub(crate) struct Cx<S> {
    store: S,
    time: TimeControl,
    run: RunContext,
}

impl<S: Store> Cx<S> {
    /// The store under test.
    pub(crate) fn store(&self) -> &S {
        &self.store
    }

    /// True when the store declares `cap`.
    pub(crate) fn has(&self, cap: Capabilities) -> bool {
        self.store.info().capabilities.contains(cap)
    }

    /// A namespace unique to this run.
    pub(crate) fn ns(&self, name: &str) -> Namespace {
        self.run.ns(name)
    }

    /// A tag unique to this run.
    pub(crate) fn tag(&self, name: &str) -> Tag {
        self.run.tag(name)
    }

    /// The key `ns:id`.
    ///
    /// # Panics
    ///
    /// When the id is invalid (a bug in the case).
    pub(crate) fn key(&self, ns: &Namespace, id: &str) -> Key {
        Key::new(ns, id).unwrap_or_else(|e| panic!("bad key in a conformance case: {e}"))
    }

    /// A key in the namespace `<name>-<token>`.
    pub(crate) fn key_in(&self, ns_name: &str, id: &str) -> Key {
        self.key(&self.ns(ns_name), id)
    }

    /// The value under `key`, through `get`.
    pub(crate) async fn value(&self, key: &Key) -> strata_core::Result<Option<Bytes>> {
        Ok(self.store.get(key).await?.map(|e| e.value().clone()))
    }

    /// For each key, whether `get` finds a value.
    pub(crate) async fn present(&self, keys: &[&Key]) -> strata_core::Result<Vec<bool>> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.store.get(key).await?.is_some());
        }
        Ok(out)
    }

    /// True when time is driven by a manual clock.
    pub(crate) fn is_manual(&self) -> bool {
        matches!(self.time, TimeControl::Manual(_))
    }

    /// The store's current time, when known (manual clock); `None` in real time.
    pub(crate) fn manual_now(&self) -> Option<Timestamp> {
        match &self.time {
            TimeControl::Manual(clock) => Some(clock.now()),
            TimeControl::Real => None,
        }
    }

    /// Lets at least `d` pass: advances the manual clock by exactly `d`, or sleeps `d`.
    pub(crate) async fn pass(&self, d: Duration) {
        match &self.time {
            TimeControl::Manual(clock) => clock.advance(d),
            // Real time: the store expires entries by the wall clock, so the case must wait.
            TimeControl::Real => tokio::time::sleep(d).await,
        }
    }

    /// Lets clearly more than `d` pass, so a deadline `d` from now is behind us: one
    /// millisecond more on a manual clock (stores may treat the exact deadline either way),
    /// [`REAL_TIME_SLACK`] more in real time.
    pub(crate) async fn pass_beyond(&self, d: Duration) {
        match &self.time {
            TimeControl::Manual(clock) => clock.advance(d + Duration::from_millis(1)),
            // Real time: sleep past the deadline with slack for expiry precision and late
            // wake-ups (see REAL_TIME_SLACK).
            TimeControl::Real => tokio::time::sleep(d + REAL_TIME_SLACK).await,
        }
    }
}
