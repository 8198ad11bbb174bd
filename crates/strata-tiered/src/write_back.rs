//! Write-back: a write lands in L1 at once and reaches L2 later, from a bounded queue that a
//! background task flushes in batches.
//!
//! - The queue is bounded: a write that finds it full fails with
//!   [`ErrorKind::CapacityExceeded`] (and its L1 copy is dropped, so nothing unacknowledged is
//!   served); a write is never dropped silently.
//! - Order per key is kept: deletes travel through the same queue, and a batch keeps only the
//!   last operation of each key (coalescing repeated writes) before applying them to L2
//!   concurrently.
//! - A batch that L2 refuses (it is down) is retried with backoff until it goes through, so an
//!   acknowledged write is not lost while L2 is away; [`WriteBack::shutdown`] stops taking
//!   writes, flushes what is queued within a deadline, and reports what it flushed and what
//!   it could not.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::join_all;
use strata_core::{Error, ErrorKind, Key, Result, SetOptions, Store};
use tokio::sync::{mpsc, oneshot};

/// How write-back queues and flushes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteBackConfig {
    /// Writes the queue holds before writers get a back-pressure error.
    pub queue: usize,
    /// Operations flushed to L2 together.
    pub batch: usize,
    /// The longest wait for a batch to fill before it is flushed.
    pub linger: Duration,
}

impl Default for WriteBackConfig {
    /// 10,000 queued writes, batches of 100, flushed within 10 ms.
    fn default() -> Self {
        WriteBackConfig {
            queue: 10_000,
            batch: 100,
            linger: Duration::from_millis(10),
        }
    }
}

/// What [`WriteBack::shutdown`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FlushReport {
    /// Operations written to L2 over the queue's life.
    pub flushed: u64,
    /// Operations still queued when the deadline passed (not written to L2).
    pub unflushed: u64,
    /// Failed attempts to write a batch to L2 (each was retried).
    pub failed_attempts: u64,
}

enum Op {
    Set(Key, Bytes, SetOptions),
    Delete(Key),
    /// Answered once everything queued before it reached L2.
    Barrier(oneshot::Sender<()>),
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    flushed: AtomicU64,
    failed_attempts: AtomicU64,
}

/// The write-back queue of a tiered store; made by
/// [`TieredBuilder::write_back`](crate::TieredBuilder::write_back).
pub(crate) struct WriteBack {
    tx: mpsc::Sender<Op>,
    closed: AtomicBool,
    counters: Arc<Counters>,
    capacity: usize,
}

impl WriteBack {
    /// Starts the flusher on the current tokio runtime, writing to `l2`.
    pub(crate) fn start<L2: Store + Clone>(l2: L2, config: WriteBackConfig) -> Result<Self> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::invalid_config("write-back needs a tokio runtime to run its flusher")
        })?;
        if config.queue == 0 || config.batch == 0 {
            return Err(Error::invalid_config(
                "write-back queue and batch must be at least 1",
            ));
        }
        let (tx, rx) = mpsc::channel(config.queue);
        let counters = Arc::new(Counters::default());
        runtime.spawn(flusher(l2, rx, config, counters.clone()));
        Ok(WriteBack {
            tx,
            closed: AtomicBool::new(false),
            counters,
            capacity: config.queue,
        })
    }

    fn enqueue(&self, op: Op) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "the tiered store is shut down: its write-back queue takes no more writes",
            ));
        }
        match self.tx.try_send(op) {
            Ok(()) => {
                self.counters.queued.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(_)) => Err(Error::new(
                ErrorKind::CapacityExceeded,
                format!(
                    "the write-back queue is full ({} writes waiting for L2): L2 is slower \
                     than the writes, or down; retry later, or raise WriteBackConfig::queue",
                    self.capacity
                ),
            )),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Error::new(
                ErrorKind::Unavailable,
                "the write-back flusher has stopped",
            )),
        }
    }

    /// Queues a write of `value` to L2.
    pub(crate) fn set(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<()> {
        self.enqueue(Op::Set(key.clone(), value, opts))
    }

    /// Queues a delete in L2 (after the writes queued before it).
    pub(crate) fn delete(&self, key: &Key) -> Result<()> {
        self.enqueue(Op::Delete(key.clone()))
    }

    /// Writes queued and not yet in L2.
    pub(crate) fn pending(&self) -> u64 {
        let c = &self.counters;
        c.queued
            .load(Ordering::Relaxed)
            .saturating_sub(c.flushed.load(Ordering::Relaxed))
    }

    /// Waits until everything queued so far reached L2, or `deadline` passed (false).
    pub(crate) async fn flush(&self, deadline: Duration) -> bool {
        let (ack, done) = oneshot::channel();
        // A barrier waits behind queued writes even when the queue is full.
        if tokio::time::timeout(deadline, self.tx.send(Op::Barrier(ack)))
            .await
            .map_or(true, |r| r.is_err())
        {
            return false;
        }
        matches!(tokio::time::timeout(deadline, done).await, Ok(Ok(())))
    }

    /// Stops taking writes, flushes the queue within `deadline`, and reports.
    pub(crate) async fn shutdown(&self, deadline: Duration) -> FlushReport {
        self.closed.store(true, Ordering::Release);
        let flushed_all = self.flush(deadline).await;
        let c = &self.counters;
        FlushReport {
            flushed: c.flushed.load(Ordering::Relaxed),
            unflushed: if flushed_all { 0 } else { self.pending() },
            failed_attempts: c.failed_attempts.load(Ordering::Relaxed),
        }
    }
}

/// Drains the queue in batches until every sender is gone.
async fn flusher<L2: Store>(
    l2: L2,
    mut rx: mpsc::Receiver<Op>,
    config: WriteBackConfig,
    counters: Arc<Counters>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let linger = tokio::time::sleep(config.linger);
        tokio::pin!(linger);
        while batch.len() < config.batch {
            tokio::select! {
                op = rx.recv() => match op {
                    Some(op) => batch.push(op),
                    None => break,
                },
                () = &mut linger => break,
            }
        }
        apply(&l2, batch, &counters).await;
    }
}

/// Applies a batch: per key only the last write or delete, all keys at once; barriers are
/// answered after everything before them went through. A failed batch is retried (with
/// backoff) until L2 takes it.
async fn apply<L2: Store>(l2: &L2, batch: Vec<Op>, counters: &Counters) {
    let mut last: HashMap<Key, (u64, Op)> = HashMap::new();
    let mut barriers = Vec::new();
    let mut ops = 0u64;
    for op in batch {
        match op {
            Op::Barrier(ack) => barriers.push(ack),
            Op::Set(ref key, ..) | Op::Delete(ref key) => {
                ops += 1;
                let key = key.clone();
                last.insert(key, (ops, op));
            }
        }
    }
    let mut todo: Vec<(Key, Op)> = last.into_iter().map(|(k, (_, op))| (k, op)).collect();
    let mut attempt = 0u32;
    while !todo.is_empty() {
        let results = join_all(todo.iter().map(|(key, op)| async move {
            match op {
                Op::Set(_, value, opts) => l2.set(key, value.clone(), opts.clone()).await.map(drop),
                Op::Delete(_) => l2.delete(key).await.map(drop),
                Op::Barrier(_) => Ok(()),
            }
        }))
        .await;
        let mut failed = Vec::new();
        for (item, result) in todo.into_iter().zip(results) {
            if let Err(e) = result {
                // Bad input cannot get better: report it and let it go.
                if !e.is_retryable() && e.kind() != ErrorKind::Backend {
                    tracing::warn!(key = %item.0, error = %e, "write-back write refused by L2; dropped");
                    continue;
                }
                failed.push(item);
            }
        }
        todo = failed;
        if !todo.is_empty() {
            attempt = attempt.saturating_add(1);
            counters.failed_attempts.fetch_add(1, Ordering::Relaxed);
            let wait = Duration::from_millis(20u64 << attempt.min(8)).min(Duration::from_secs(5));
            tokio::time::sleep(wait).await;
        }
    }
    counters.flushed.fetch_add(ops, Ordering::Relaxed);
    for ack in barriers {
        let _ = ack.send(());
    }
}
