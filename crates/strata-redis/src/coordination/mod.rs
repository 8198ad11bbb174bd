//! The coordination traits of `strata-core` on Redis: [`DistributedLock`] with `SET NX PX`
//! and token-checked Lua release, [`InvalidationBus`] with PUBLISH/SUBSCRIBE.
//!
//! [`DistributedLock`]: strata_core::DistributedLock
//! [`InvalidationBus`]: strata_core::InvalidationBus

mod bus;
mod lock;
