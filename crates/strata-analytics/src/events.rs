//! The invalidation event log: a bounded ring of what was invalidated, why, by whom and when.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use strata_core::{Invalidation, InvalidationReason, InvalidationReport, Key, Tag, Timestamp};

use crate::tier::Tier;

/// One invalidation that ran.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvalidationEvent {
    /// When it ran.
    #[serde(rename = "at_ms", serialize_with = "ser_ms")]
    pub at: Timestamp,
    /// What it selected (`key users:42`, `pattern curves:CAISO*`, `tags [a, b]`, ...).
    pub selector: String,
    /// Why.
    pub reason: InvalidationReason,
    /// Who asked.
    pub triggered_by: Option<String>,
    /// How many entries it removed.
    pub count: u64,
    /// The tier it ran on.
    pub tier: Tier,
    #[serde(skip)]
    request: Invalidation,
}

fn ser_ms<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(t.as_millis())
}

impl InvalidationEvent {
    /// True when the invalidation selected `key` carrying `tags`.
    pub fn selects(&self, key: &Key, tags: &[Tag]) -> bool {
        self.request.selects(key, tags)
    }

    pub(crate) fn report(&self) -> InvalidationReport {
        InvalidationReport::new(
            self.at,
            self.selector.clone(),
            self.reason,
            self.triggered_by.clone(),
            self.count,
        )
    }
}

/// The ring and the running totals.
pub(crate) struct EventLog {
    ring: Mutex<VecDeque<InvalidationEvent>>,
    capacity: usize,
    total: AtomicU64,
    removed: AtomicU64,
}

impl EventLog {
    pub(crate) fn new(capacity: usize) -> Self {
        EventLog {
            ring: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            capacity,
            total: AtomicU64::new(0),
            removed: AtomicU64::new(0),
        }
    }

    pub(crate) fn record(&self, at: Timestamp, tier: Tier, req: &Invalidation, count: u64) {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.removed.fetch_add(count, Ordering::Relaxed);
        if self.capacity == 0 {
            return;
        }
        let event = InvalidationEvent {
            at,
            selector: req.selector.to_string(),
            reason: req.reason,
            triggered_by: req.triggered_by.clone(),
            count,
            tier,
            request: req.clone(),
        };
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        if ring.len() == self.capacity {
            ring.pop_front();
        }
        ring.push_back(event);
    }

    /// Events at or after `since`, oldest first.
    pub(crate) fn since(&self, since: Timestamp) -> Vec<InvalidationEvent> {
        let ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        ring.iter().filter(|e| e.at >= since).cloned().collect()
    }

    /// The newest event that selected `key` (with `tags`, when known).
    pub(crate) fn last_touching(&self, key: &Key, tags: &[Tag]) -> Option<InvalidationEvent> {
        let ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        ring.iter().rev().find(|e| e.selects(key, tags)).cloned()
    }

    /// Invalidations run, and entries they removed, since the start.
    pub(crate) fn totals(&self) -> (u64, u64) {
        (
            self.total.load(Ordering::Relaxed),
            self.removed.load(Ordering::Relaxed),
        )
    }
}
