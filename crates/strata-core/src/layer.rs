//! Layers: a cross-cutting concern that wraps a store and is itself a store.

use crate::store::Store;

/// Wraps a store in another store, like `tower::Layer` wraps services.
///
/// Shared state (counters, policy tables) lives in the layer behind an `Arc`, so the store
/// it returns is a cheap projection and one layer value can wrap many stores.
///
/// ```
/// use strata_core::{Identity, Layer, Stack, Store};
/// fn wrap<S: Store>(store: S) -> S {
///     Stack::new(Identity, Identity).layer(store)
/// }
/// ```
pub trait Layer<S: Store> {
    /// The wrapped store.
    type Store: Store;
    /// Wraps `inner`.
    fn layer(&self, inner: S) -> Self::Store;
}

/// The layer that adds nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

impl<S: Store> Layer<S> for Identity {
    type Store = S;
    fn layer(&self, inner: S) -> S {
        inner
    }
}

/// Two layers, `inner` applied first, then `outer`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stack<Inner, Outer> {
    inner: Inner,
    outer: Outer,
}

impl<Inner, Outer> Stack<Inner, Outer> {
    /// A stack applying `inner` first.
    pub fn new(inner: Inner, outer: Outer) -> Self {
        Stack { inner, outer }
    }
}

impl<S, Inner, Outer> Layer<S> for Stack<Inner, Outer>
where
    S: Store,
    Inner: Layer<S>,
    Outer: Layer<Inner::Store>,
{
    type Store = Outer::Store;
    fn layer(&self, store: S) -> Self::Store {
        self.outer.layer(self.inner.layer(store))
    }
}
