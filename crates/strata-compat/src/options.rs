//! [`CompatOptions`] and the stack every compat type shares: the caller's store under the
//! governance and analytics layers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use strata::analytics::AnalyticsLayer;
use strata::governance::GovernanceLayer;
use strata::{Namespace, Result, SharedStore, StoreExt, Ttl};

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

/// The layered store and the handles to its layers; shared by every compat type built from
/// one constructor call.
#[derive(Clone)]
pub(crate) struct Stack(Arc<StackInner>);

pub(crate) struct StackInner {
    /// The top of the stack: governance over analytics over the caller's store.
    pub(crate) store: SharedStore,
    pub(crate) governance: GovernanceLayer,
    pub(crate) analytics: AnalyticsLayer,
}

impl Stack {
    pub(crate) fn new(store: SharedStore, options: &CompatOptions) -> Self {
        let governance = options
            .governance
            .clone()
            .unwrap_or_else(GovernanceLayer::built_in);
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
            store,
            governance,
            analytics,
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

    /// The TTL the governance policy gives writes to `ns` that name none (`None`: no expiry).
    pub(crate) fn policy_ttl(&self, ns: &Namespace) -> Option<Duration> {
        self.governance().rule(ns).ttl.duration()
    }
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
