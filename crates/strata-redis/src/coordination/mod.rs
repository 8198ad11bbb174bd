//! The coordination traits of `strata-core` on Redis: [`DistributedLock`] with `SET NX PX`
//! and token-checked Lua release, [`InvalidationBus`] with PUBLISH/SUBSCRIBE, and
//! [`KeyTracking`] with RESP3 client-side tracking in broadcast mode on every master.
//!
//! [`DistributedLock`]: strata_core::DistributedLock
//! [`InvalidationBus`]: strata_core::InvalidationBus
//! [`KeyTracking`]: strata_core::KeyTracking

mod bus;
mod lock;
mod reconnect;
mod tracking;
