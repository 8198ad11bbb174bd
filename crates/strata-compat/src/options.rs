//! [`CompatOptions`] and the stack every compat type shares: the caller's store under the
//! governance and analytics layers, and the [`Registry`] that makes (and adds up) the typed
//! cache of each namespace.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use strata::analytics::AnalyticsLayer;
use strata::config::Config;
use strata::governance::GovernanceLayer;
use strata::system::CacheSystem;
use strata::{Cache, CacheBuilder, Namespace, Registry, Result, SharedStore, StoreExt, Ttl};

use crate::namespace::CacheNamespace;

/// How a compat type is put over a [`SharedStore`].
///
/// By default the store is wrapped in the built-in governance policy
/// ([`GovernanceLayer::built_in`]: `curves` 300 s, `metadata` 1800 s, ..., cache types
/// `model_registry` 1800 s, `workflow` 3600 s, ...) and in a fresh [`AnalyticsLayer`], in
/// that order (governance above analytics, as in the Strata stack). Pass your own layers to
/// share their policy and counters with other caches, or [`CompatOptions::already_layered`]
/// when the store you pass was built with them already.
///
/// ```
/// use std::time::Duration;
/// use strata_compat::{CacheNamespace, CompatOptions};
///
/// let options = CompatOptions::new()
///     .namespace(CacheNamespace::Metadata)
///     .default_ttl(Duration::from_secs(120));
/// assert_eq!(options.namespace_name(), "metadata");
/// ```
#[derive(Clone)]
pub struct CompatOptions {
    pub(crate) namespace: CacheNamespace,
    pub(crate) default_ttl: Option<Duration>,
    pub(crate) governance: Option<GovernanceLayer>,
    pub(crate) analytics: Option<AnalyticsLayer>,
    pub(crate) layered: bool,
}

impl Default for CompatOptions {
    fn default() -> Self {
        CompatOptions {
            namespace: CacheNamespace::General,
            default_ttl: None,
            governance: None,
            analytics: None,
            layered: false,
        }
    }
}

impl fmt::Debug for CompatOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompatOptions")
            .field("namespace", &self.namespace)
            .field("default_ttl", &self.default_ttl)
            .field("governance", &self.governance.is_some())
            .field("analytics", &self.analytics.is_some())
            .field("already_layered", &self.layered)
            .finish()
    }
}

impl CompatOptions {
    /// The defaults: namespace `general`, the namespace's TTL from the governance policy,
    /// built-in governance, fresh analytics.
    pub fn new() -> Self {
        Self::default()
    }

    /// The namespace of the classic interface and of the global functions (default
    /// [`CacheNamespace::General`]).
    pub fn namespace(mut self, namespace: CacheNamespace) -> Self {
        self.namespace = namespace;
        self
    }

    /// The namespace's name.
    pub fn namespace_name(&self) -> &str {
        self.namespace.as_str()
    }

    /// The TTL of writes that name none. Without it, the governance policy's TTL for the
    /// namespace applies (the older managers' per-namespace and per-type TTLs).
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// The governance layer to wrap the store in (default: the built-in policy).
    pub fn governance(mut self, layer: GovernanceLayer) -> Self {
        self.governance = Some(layer);
        self
    }

    /// The analytics layer to wrap the store in (default: a new one).
    pub fn analytics(mut self, layer: AnalyticsLayer) -> Self {
        self.analytics = Some(layer);
        self
    }

    /// The store passed to the constructor already runs under `governance` above
    /// `analytics` (for example a stack the umbrella built from configuration): it is not
    /// wrapped again, and these handles are read for analytics, health and TTL policy.
    pub fn already_layered(
        mut self,
        governance: GovernanceLayer,
        analytics: AnalyticsLayer,
    ) -> Self {
        self.governance = Some(governance);
        self.analytics = Some(analytics);
        self.layered = true;
        self
    }
}

/// The layered store, the handles to its layers, the registry of its typed caches and, when
/// it came from one, the cache system; shared by every compat type built from one
/// constructor call.
#[derive(Clone)]
pub(crate) struct Stack(Arc<StackInner>);

pub(crate) struct StackInner {
    /// The top of the stack: governance over analytics over the caller's store.
    store: SharedStore,
    governance: GovernanceLayer,
    analytics: AnalyticsLayer,
    /// Makes the `Cache<Value>` of each namespace, with its TTL, and adds their counts up.
    registry: Registry,
    /// The system the stack belongs to (`from_system`), kept running while the stack lives.
    system: Option<CacheSystem>,
}

impl Stack {
    /// The caller's store under the options' layers; the registry's TTLs are the
    /// governance policy's (so a policy passed in options is the one source of TTLs).
    pub(crate) fn new(store: SharedStore, options: &CompatOptions) -> Self {
        let governance = options
            .governance
            .clone()
            .unwrap_or_else(GovernanceLayer::built_in);
        let config = config_from_policy(&governance);
        Self::build(store, options, governance, config, None)
    }

    /// The system's stack: its store, layers and registry as they are (so the system's
    /// `stats_all` counts the compat caches too). A system without the layers (caching
    /// disabled) gets them here, over its store, with a registry of its configuration.
    pub(crate) fn from_system(system: &CacheSystem, options: &CompatOptions) -> Self {
        match (system.governance(), system.analytics()) {
            (Some(governance), Some(analytics)) => Stack(Arc::new(StackInner {
                store: system.store().clone(),
                governance,
                analytics,
                registry: system.registry().clone(),
                system: Some(system.clone()),
            })),
            _ => {
                let options = CompatOptions {
                    layered: false,
                    ..options.clone()
                };
                let governance = options
                    .governance
                    .clone()
                    .unwrap_or_else(GovernanceLayer::built_in);
                Self::build(
                    system.store().clone(),
                    &options,
                    governance,
                    system.config().clone(),
                    Some(system.clone()),
                )
            }
        }
    }

    fn build(
        store: SharedStore,
        options: &CompatOptions,
        governance: GovernanceLayer,
        config: Config,
        system: Option<CacheSystem>,
    ) -> Self {
        let analytics = options.analytics.clone().unwrap_or_default();
        let store = if options.layered {
            store
        } else {
            store
                .layer(analytics.clone())
                .into_shared()
                .layer(governance.clone())
                .into_shared()
        };
        Stack(Arc::new(StackInner {
            registry: Registry::new(store.clone(), config),
            store,
            governance,
            analytics,
            system,
        }))
    }

    pub(crate) fn store(&self) -> &SharedStore {
        &self.0.store
    }

    pub(crate) fn governance(&self) -> &GovernanceLayer {
        &self.0.governance
    }

    pub(crate) fn analytics(&self) -> &AnalyticsLayer {
        &self.0.analytics
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.0.registry
    }

    pub(crate) fn system(&self) -> Option<&CacheSystem> {
        self.0.system.as_ref()
    }

    /// The typed cache of `ns`: the registry's (made once, counted in `stats_all`). The
    /// registry lowercases names, so a namespace with capitals (older keys keep their case)
    /// gets a cache of its own over the same store instead, unregistered.
    pub(crate) fn typed(&self, ns: &Namespace) -> Result<Cache<Value>> {
        if registered(ns) {
            self.registry().cache::<Value>(ns.as_str())
        } else {
            CacheBuilder::new()
                .namespace(ns.as_str())
                .store(self.store().clone())
                .build()
        }
    }

    /// The TTL a write to `ns` gets when it names none: the registry's (its configuration),
    /// else the governance policy's (`None`: no expiry).
    pub(crate) fn ttl_of(&self, ns: &Namespace) -> Option<Duration> {
        registered(ns)
            .then(|| self.registry().ttl_of(ns.as_str()))
            .flatten()
            .or_else(|| self.governance().rule(ns).ttl.duration())
    }
}

/// True for the namespaces the registry holds (it lowercases names).
fn registered(ns: &Namespace) -> bool {
    !ns.as_str().bytes().any(|b| b.is_ascii_uppercase())
}

/// A configuration whose per-namespace TTLs are the policy's, for a registry over a store
/// the caller layered: the policy stays the one source of TTLs.
fn config_from_policy(governance: &GovernanceLayer) -> Config {
    let mut config = Config::default();
    let policy = governance.policy();
    for rule in policy.rules() {
        if Namespace::new(&rule.namespace).is_ok()
            && let Some(ttl) = rule.ttl.duration()
        {
            config.ttls.insert(rule.namespace.to_ascii_lowercase(), ttl);
        }
    }
    config
}

/// Checks a TTL given by an older call site: under 1 ms (the older `ttl=0`) is
/// `ErrorKind::InvalidArgument` saying to pass `None` instead.
pub(crate) fn checked_ttl(ttl: Duration) -> Result<Duration> {
    Ttl::After(ttl).validate().map(|_| ttl).map_err(|e| {
        strata::Error::invalid_argument(format!(
            "{}; pass None for the namespace's default TTL",
            e.message().split("; ").next().unwrap_or(e.message())
        ))
    })
}
