//! What the bus and tracking subscriptions share: a stream fed by a background task that
//! reports a lost connection once and reconnects with backoff until the stream is dropped.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use tokio::sync::mpsc;

/// Events buffered for a slow consumer before the task waits.
pub(super) const BUFFER: usize = 1_024;
/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The stream of the events the task sends on `rx`'s channel.
pub(super) fn events<E: Send + 'static>(rx: mpsc::Receiver<E>) -> BoxStream<'static, E> {
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) }).boxed()
}

/// After a lost connection (or a failed attempt): reports `lost` on the first failure in a
/// row only, then waits the backoff of `failures`. False when the consumer is gone and the
/// task should end.
pub(super) async fn lost<E>(tx: &mpsc::Sender<E>, failures: &mut u32, lost: E) -> bool {
    if *failures == 0 && tx.send(lost).await.is_err() {
        return false;
    }
    *failures = failures.saturating_add(1);
    let wait = Duration::from_millis(50u64 << (*failures).min(7)).min(MAX_BACKOFF);
    tokio::select! {
        () = tokio::time::sleep(wait) => true,
        () = tx.closed() => false,
    }
}
