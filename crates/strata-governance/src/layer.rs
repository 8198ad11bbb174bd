//! [`GovernanceLayer`] and [`GovernedStore`]: the policy applied to every write, counters on
//! every call, and hot reload.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use strata_core::{
    Entry, Error, Explain, Health, Invalidation, Key, Layer, Namespace, Now, Pattern, PolicyReport,
    Result, Selector, SetOptions, SetOutcome, Store, StoreInfo, StoreStats, Ttl, TtlState,
};

use crate::config::PolicySource;
use crate::counters::{Counters, Enforced};
use crate::jitter;
use crate::policy::{CompiledPolicy, Decision, Mode, Origin, Outcome, Policy, Rule};
use crate::report::GovernanceReport;
use strata_core::config::format_duration;

/// The state every store of one layer shares.
struct Governor {
    policy: ArcSwap<CompiledPolicy>,
    source: Mutex<Option<PolicySource>>,
    counters: Counters,
    version: AtomicU64,
    reload_failures: AtomicU64,
}

/// Applies a namespace policy to a store: default TTLs (with jitter), TTL floors and
/// ceilings, payload limits, each rule enforced in warn, clamp or reject mode, with counters
/// per namespace. One layer value can wrap many stores; they share the policy and counters.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use strata_core::{Bytes, ErrorKind, Key, Namespace, SetOptions, Store, StoreExt, TtlState};
/// use strata_governance::{GovernanceLayer, Mode, Policy, RuleSpec};
/// use strata_memory::MemoryStore;
///
/// let policy = Policy::builder()
///     .rule("curves", RuleSpec::new().ceiling(Duration::from_secs(600)).mode(Mode::Reject))
///     .build()?;
/// let governance = GovernanceLayer::new(policy)?;
/// let store = MemoryStore::new().layer(governance.clone());
///
/// let key = Key::new(&Namespace::new("curves")?, "CAISO:RT")?;
/// store.set(&key, Bytes::from_static(b"1.5"), SetOptions::new()).await?; // 300 s default
/// assert!(matches!(store.ttl(&key).await?, TtlState::Remaining(d) if d <= Duration::from_secs(300)));
///
/// let too_long = SetOptions::new().ttl(Duration::from_secs(3600));
/// let err = store.set(&key, Bytes::from_static(b"1.5"), too_long).await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Rejected);
/// assert_eq!(governance.report().rejections, 1);
/// # Ok::<(), strata_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct GovernanceLayer {
    gov: Arc<Governor>,
}

impl std::fmt::Debug for GovernanceLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GovernanceLayer")
            .field("policy_version", &self.version())
            .finish()
    }
}

impl GovernanceLayer {
    /// A layer enforcing `policy` (validated and compiled here).
    pub fn new(policy: Policy) -> Result<Self> {
        Ok(Self::from_compiled(policy.compile()?, None))
    }

    /// A layer enforcing the built-in policy.
    pub fn built_in() -> Self {
        match Policy::built_in().compile() {
            Ok(compiled) => Self::from_compiled(compiled, None),
            // The built-in policy is a constant that the crate's tests validate.
            Err(e) => unreachable!("the built-in governance policy is invalid: {e}"),
        }
    }

    /// A layer enforcing what `source` loads; [`GovernanceLayer::reload`] loads it again.
    pub fn from_source(source: PolicySource) -> Result<Self> {
        let compiled = source.load()?.compile()?;
        Ok(Self::from_compiled(compiled, Some(source)))
    }

    fn from_compiled(policy: CompiledPolicy, source: Option<PolicySource>) -> Self {
        GovernanceLayer {
            gov: Arc::new(Governor {
                policy: ArcSwap::from_pointee(policy),
                source: Mutex::new(source),
                counters: Counters::new(),
                version: AtomicU64::new(1),
                reload_failures: AtomicU64::new(0),
            }),
        }
    }

    /// Loads the layer's [`PolicySource`] again and swaps the new policy in; operations in
    /// flight finish under the policy they started with, and none is dropped. On any problem
    /// the current policy stays and the error lists every problem. Returns the new version.
    pub fn reload(&self) -> Result<u64> {
        let Some(source) = self.source() else {
            return Err(Error::invalid_config(
                "this governance layer was built from a policy, not a PolicySource: use replace_policy",
            ));
        };
        let loaded = source.load().and_then(|p| p.compile());
        self.install(loaded)
    }

    /// Swaps in `policy` (validated first), as [`GovernanceLayer::reload`] does.
    pub fn replace_policy(&self, policy: Policy) -> Result<u64> {
        self.install(policy.compile())
    }

    /// Makes `source` the layer's source and swaps in the policy it loads, through the same
    /// validated path as [`GovernanceLayer::reload`]: on any problem (parsing, validation, an
    /// unreadable file) neither the policy in force nor the source changes, and the error
    /// lists every problem. On success later reloads load `source`. Returns the new version.
    ///
    /// (Call [`PolicySource::load_with_problems`] first to get the problems one by one.)
    ///
    /// ```
    /// use strata_governance::{GovernanceLayer, PolicySource};
    /// let layer = GovernanceLayer::from_source(PolicySource::new())?;
    /// let v = layer.replace_source(PolicySource::new().toml_str("mode = \"reject\"\n"))?;
    /// assert_eq!(v, 2);
    /// assert!(layer.replace_source(PolicySource::new().toml_str("mode = \"sometimes\"\n")).is_err());
    /// assert_eq!(layer.version(), 2); // the bad source changed nothing
    /// # Ok::<(), strata_core::Error>(())
    /// ```
    pub fn replace_source(&self, source: PolicySource) -> Result<u64> {
        // The source lock is held across load and swap, so two replacements cannot
        // interleave (one's policy with the other's source).
        let mut current = self
            .gov
            .source
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let version = self.install(source.load().and_then(|p| p.compile()))?;
        *current = Some(source);
        Ok(version)
    }

    fn install(&self, compiled: Result<CompiledPolicy>) -> Result<u64> {
        match compiled {
            Ok(c) => {
                self.gov.policy.store(Arc::new(c));
                let v = self.gov.version.fetch_add(1, Ordering::AcqRel) + 1;
                tracing::info!(policy_version = v, "governance policy reloaded");
                Ok(v)
            }
            Err(e) => {
                self.gov.reload_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "governance policy reload failed; the previous policy stays");
                Err(e)
            }
        }
    }

    /// The source [`GovernanceLayer::reload`] loads, when the layer has one.
    pub fn source(&self) -> Option<PolicySource> {
        self.gov
            .source
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<CompiledPolicy> {
        self.gov.policy.load_full()
    }

    /// The rule governing `ns` now (for stores that act on priority and allowed tiers).
    pub fn rule(&self, ns: &Namespace) -> Arc<Rule> {
        self.with_rule(ns, Arc::clone)
    }

    /// Reads the rule governing `ns` now without taking a reference to it: for checks made
    /// on every operation (a tiered store's placement), where cloning the shared `Arc`
    /// would make every thread write the same reference count.
    pub fn with_rule<R>(&self, ns: &Namespace, f: impl FnOnce(&Arc<Rule>) -> R) -> R {
        f(self.gov.policy.load().rule(ns))
    }

    /// The policy version: 1, plus one per successful reload.
    pub fn version(&self) -> u64 {
        self.gov.version.load(Ordering::Acquire)
    }

    /// The counters and the policy in force.
    pub fn report(&self) -> GovernanceReport {
        let namespaces = self.gov.counters.namespaces();
        let unscoped = self.gov.counters.unscoped();
        let mut r = GovernanceReport {
            total_operations: unscoped.operations,
            policy_violations: 0,
            ttl_overrides: 0,
            rejections: 0,
            policy_version: self.version(),
            reload_failures: self.gov.reload_failures.load(Ordering::Relaxed),
            profile: self.gov.policy.load().profile(),
            namespaces,
        };
        for c in r.namespaces.values() {
            r.total_operations += c.operations;
            r.policy_violations += c.violations;
            r.ttl_overrides += c.overrides;
            r.rejections += c.rejections;
        }
        r
    }
}

impl<S: Store> Layer<S> for GovernanceLayer {
    type Store = GovernedStore<S>;

    fn layer(&self, inner: S) -> GovernedStore<S> {
        GovernedStore {
            inner,
            gov: Arc::clone(&self.gov),
        }
    }
}

/// A store whose writes follow a [`GovernanceLayer`]'s policy.
#[derive(Clone)]
pub struct GovernedStore<S> {
    inner: S,
    gov: Arc<Governor>,
}

impl<S: Store> std::fmt::Debug for GovernedStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GovernedStore")
            .field("inner", &self.inner.info().name)
            .finish()
    }
}

impl<S> GovernedStore<S> {
    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The layer whose policy this store follows.
    pub fn layer(&self) -> GovernanceLayer {
        GovernanceLayer {
            gov: Arc::clone(&self.gov),
        }
    }

    /// Decides a write in `ns`, counts what the decision broke, and returns the TTL to forward.
    fn govern(
        &self,
        operation: &'static str,
        key: Option<&Key>,
        ns: &Namespace,
        requested: Option<Ttl>,
        payload: Option<usize>,
    ) -> Result<Option<Ttl>> {
        let policy = self.gov.policy.load();
        let rule = policy.rule(ns);
        let Decision {
            ttl,
            violations,
            outcome,
        } = rule.decide(ns, requested, payload, jitter::unit());
        if violations.is_empty() {
            return Ok(ttl);
        }
        for (field, message) in &violations {
            match rule.mode {
                Mode::Warn => tracing::warn!(
                    namespace = %ns, rule = %format_args!("rules.{}.{field}", rule.namespace),
                    operation, "governance: {message}"
                ),
                _ => tracing::debug!(
                    namespace = %ns, rule = %format_args!("rules.{}.{field}", rule.namespace),
                    mode = %rule.mode, operation, "governance: {message}"
                ),
            }
        }
        let counters = &self.gov.counters;
        match outcome {
            Outcome::Forward => {
                counters.enforced(ns, violations.len(), Enforced::Warned);
                Ok(ttl)
            }
            Outcome::Overridden => {
                counters.enforced(ns, violations.len(), Enforced::Overridden);
                Ok(ttl)
            }
            Outcome::Rejected(e) => {
                counters.enforced(ns, violations.len(), Enforced::Rejected);
                let e = e.with_operation(operation);
                Err(match key {
                    Some(k) => e.with_key(k),
                    None => e,
                })
            }
        }
    }

    fn name(&self) -> String
    where
        S: Store,
    {
        format!("governance({})", self.inner.info().name)
    }
}

/// A sentence on how a held value's TTL relates to `rule`.
fn ttl_decision(rule: &Rule, explain: &Explain) -> String {
    let bounds =
        |d: Duration| rule.floor.is_some_and(|f| d < f) || rule.ceiling.is_some_and(|c| d > c);
    let default = rule.ttl.duration();
    let Some(holder) = explain.holder() else {
        return match default {
            Some(d) if rule.jitter > 0.0 => format!(
                "no value held; a write without a TTL gets {} ± {:.0} %",
                format_duration(d),
                rule.jitter * 100.0
            ),
            Some(d) => format!(
                "no value held; a write without a TTL gets {}",
                format_duration(d)
            ),
            None => "no value held; a write without a TTL does not expire".to_owned(),
        };
    };
    match holder.original_ttl {
        None if rule.ceiling.is_some() => {
            "no expiry, above the rule's ceiling (written in warn mode or before the rule)"
                .to_owned()
        }
        None if default.is_none() => "no expiry: the namespace default".to_owned(),
        None => "no expiry, as the writer asked".to_owned(),
        Some(d) if bounds(d) => format!(
            "{} is outside the rule's bounds (written in warn mode or before the rule changed)",
            format_duration(d)
        ),
        Some(d)
            if default.is_some_and(|def| {
                let slack = def.mul_f64(rule.jitter) + Duration::from_millis(1);
                d + slack >= def && d <= def + slack
            }) =>
        {
            format!(
                "{}: the namespace default ({})",
                format_duration(d),
                rule.ttl
            )
        }
        Some(d) if Some(d) == rule.floor => {
            format!(
                "{}: the rule's floor (clamped, or asked for)",
                format_duration(d)
            )
        }
        Some(d) if Some(d) == rule.ceiling => {
            format!(
                "{}: the rule's ceiling (clamped, or asked for)",
                format_duration(d)
            )
        }
        Some(d) => format!(
            "{}: asked for by the writer, within the rule's bounds",
            format_duration(d)
        ),
    }
}

fn policy_report(rule: &Rule, ns: &Namespace, explain: &Explain) -> PolicyReport {
    let name = match rule.origin {
        Origin::BuiltIn => format!("namespace {} (built-in)", rule.namespace),
        Origin::Declared => format!("namespace {} (declared)", rule.namespace),
        Origin::Fallback => format!(
            "namespace {ns} is not declared: the fallback rule of {} applies",
            rule.namespace
        ),
    };
    let mut report = PolicyReport::new(
        "governance",
        name,
        rule.mode.as_str(),
        ttl_decision(rule, explain),
    );
    report.default_ttl = rule.ttl.duration();
    report.floor = rule.floor;
    report.ceiling = rule.ceiling;
    report
}

impl<S: Store> Store for GovernedStore<S> {
    fn info(&self) -> StoreInfo {
        StoreInfo::new(self.name(), self.inner.info().capabilities)
    }

    #[inline]
    fn get_now(&self, key: &Key) -> Now<Option<Entry>> {
        let answer = self.inner.get_now(key);
        if let Now::Ready(_) = answer {
            self.gov.counters.operation(key.namespace(), 1);
        }
        answer
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        self.gov.counters.operation(key.namespace(), 1);
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        for key in keys {
            self.gov.counters.operation(key.namespace(), 1);
        }
        self.inner.get_many(keys).await
    }

    async fn set(&self, key: &Key, value: Bytes, mut opts: SetOptions) -> Result<SetOutcome> {
        let ns = key.namespace();
        self.gov.counters.operation(ns, 1);
        opts.validate()
            .map_err(|e| e.with_operation("set").with_key(key))?;
        opts.ttl = self.govern("set", Some(key), ns, opts.ttl, Some(value.len()))?;
        self.inner.set(key, value, opts).await
    }

    async fn set_many(&self, items: Vec<(Key, Bytes)>, opts: SetOptions) -> Result<()> {
        opts.validate().map_err(|e| e.with_operation("set_many"))?;
        // One decision per namespace (one jitter draw per namespace per call), made for every
        // namespace before anything is written, so a rejection writes nothing.
        let mut groups: Vec<(Namespace, Vec<(Key, Bytes)>)> = Vec::new();
        for (key, value) in items {
            let ns = *key.namespace();
            self.gov.counters.operation(&ns, 1);
            match groups.iter_mut().find(|(n, _)| *n == ns) {
                Some((_, group)) => group.push((key, value)),
                None => groups.push((ns, vec![(key, value)])),
            }
        }
        let mut decided = Vec::with_capacity(groups.len());
        for (ns, group) in groups {
            let largest = group.iter().map(|(_, v)| v.len()).max();
            let ttl = self.govern("set_many", None, &ns, opts.ttl, largest)?;
            decided.push((ttl, group));
        }
        for (ttl, group) in decided {
            let mut o = opts.clone();
            o.ttl = ttl;
            self.inner.set_many(group, o).await?;
        }
        Ok(())
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        self.gov.counters.operation(key.namespace(), 1);
        self.inner.delete(key).await
    }

    async fn expire(&self, key: &Key, ttl: Ttl) -> Result<bool> {
        let ns = key.namespace();
        self.gov.counters.operation(ns, 1);
        let ttl = ttl
            .validate()
            .map_err(|e| e.with_operation("expire").with_key(key))?;
        let governed = self.govern("expire", Some(key), ns, Some(ttl), None)?;
        self.inner.expire(key, governed.unwrap_or(ttl)).await
    }

    async fn ttl(&self, key: &Key) -> Result<TtlState> {
        self.gov.counters.operation(key.namespace(), 1);
        self.inner.ttl(key).await
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        self.gov.counters.operation(key.namespace(), 1);
        self.inner.increment(key, delta).await
    }

    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        self.gov.counters.operation(namespace, 1);
        self.inner.scan(namespace, pattern)
    }

    async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
        match &req.selector {
            Selector::Key(k) => self.gov.counters.operation(k.namespace(), 1),
            Selector::Pattern { namespace, .. } | Selector::Namespace(namespace) => {
                self.gov.counters.operation(namespace, 1)
            }
            _ => self.gov.counters.unscoped_operation(),
        }
        self.inner.invalidate(req).await
    }

    async fn health(&self) -> Health {
        let report = self.layer().report();
        self.inner
            .health()
            .await
            .detail("governance_policy_version", report.policy_version)
            .detail("governance_policy_violations", report.policy_violations)
            .detail("governance_rejections", report.rejections)
    }

    fn stats(&self) -> StoreStats {
        self.inner.stats()
    }

    async fn explain(&self, key: &Key) -> Result<Explain> {
        let mut report = self.inner.explain(key).await?;
        let rule = Arc::clone(self.gov.policy.load().rule(key.namespace()));
        report.policy = Some(policy_report(&rule, key.namespace(), &report));
        Ok(report.note(format!(
            "governance: tiers {}, priority {}, jitter {:.0} %",
            rule.tiers,
            rule.priority,
            rule.jitter * 100.0
        )))
    }
}
