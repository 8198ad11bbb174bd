//! The backplane: invalidations published on the bus with a node id and sequence numbers,
//! heartbeats carrying the last ones, and the receiving side that tells which messages of
//! another node it missed.
//!
//! Sequence numbers are per node (`seq`, every invalidation) and per node and scope
//! (`scope_seq`; a scope is the namespace of a key, pattern or namespace invalidation, or
//! `*` for tags and all). A receiver that sees `seq` jump knows it lost messages: when the
//! message's own scope jumped by as much, they were all in that scope and only that
//! namespace's L1 is dropped, otherwise all of L1. A heartbeat carries the last `seq` and
//! every scope's last `scope_seq`, so a lost *final* message (no later message to reveal the
//! jump) is found within one heartbeat, with its scope. A node's first message or heartbeat
//! sets the baseline (what it published before cannot be in this node's L1 unseen: its L1
//! was filled from L2 after those invalidations reached L2).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use strata_core::{Namespace, Result, Selector, SharedClock, Timestamp};

use super::DynBus;
use super::message::{ALL_SCOPE, Body, Message, NodeId, scope_of};

/// What a receiver must drop after a lost message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lost {
    /// One namespace's entries.
    Namespace(Namespace),
    /// Everything.
    All,
}

impl Lost {
    fn of_scope(scope: &str) -> Lost {
        match Namespace::new(scope) {
            Ok(ns) if scope != ALL_SCOPE => Lost::Namespace(ns),
            _ => Lost::All,
        }
    }
}

/// The publishing side: numbers messages in order. Publications are serialized (one at a
/// time per node), so messages leave in sequence order and a heartbeat never overtakes the
/// invalidation it counts.
pub(crate) struct Publisher {
    pub(crate) node: NodeId,
    bus: Arc<dyn DynBus>,
    clock: SharedClock,
    state: tokio::sync::Mutex<Sequences>,
}

#[derive(Default)]
struct Sequences {
    seq: u64,
    scopes: HashMap<String, u64>,
}

impl Publisher {
    pub(crate) fn new(node: NodeId, bus: Arc<dyn DynBus>, clock: SharedClock) -> Self {
        Publisher {
            node,
            bus,
            clock,
            state: tokio::sync::Mutex::new(Sequences::default()),
        }
    }

    /// Publishes an invalidation of `selector`. Its numbers are taken even if publishing
    /// fails, so the next heartbeat tells the others they missed it.
    pub(crate) async fn invalidation(&self, selector: &Selector) -> Result<()> {
        let mut seqs = self.state.lock().await;
        seqs.seq += 1;
        let scope = scope_of(selector);
        let scope_seq = {
            let n = seqs.scopes.entry(scope.to_owned()).or_insert(0);
            *n += 1;
            *n
        };
        let message = Message {
            node: self.node,
            seq: seqs.seq,
            sent_at: self.clock.now(),
            body: Body::Invalidation {
                scope_seq,
                selector: selector.clone(),
            },
        };
        self.bus
            .publish_dyn(Bytes::from(message.encode()))
            .await
            .map(|_| ())
    }

    /// Publishes a heartbeat with the last numbers.
    pub(crate) async fn heartbeat(&self) -> Result<()> {
        let seqs = self.state.lock().await;
        let mut scopes: Vec<(String, u64)> =
            seqs.scopes.iter().map(|(s, n)| (s.clone(), *n)).collect();
        scopes.sort();
        let message = Message {
            node: self.node,
            seq: seqs.seq,
            sent_at: self.clock.now(),
            body: Body::Heartbeat { scopes },
        };
        self.bus
            .publish_dyn(Bytes::from(message.encode()))
            .await
            .map(|_| ())
    }
}

/// What the receiver learned from one message of another node.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Apply this invalidation.
    pub(crate) apply: Option<Selector>,
    /// Messages were lost: drop these.
    pub(crate) lost: Vec<Lost>,
}

/// What a receiver knows of another node.
#[derive(Debug)]
struct Peer {
    seq: u64,
    scopes: HashMap<String, u64>,
    heard: tokio::time::Instant,
}

/// The receiving side: the last numbers seen of each other node.
#[derive(Debug, Default)]
pub(crate) struct Receiver {
    peers: HashMap<NodeId, Peer>,
}

/// The most peers remembered; past it, the longest silent is forgotten.
const MAX_PEERS: usize = 4_096;

impl Receiver {
    /// Takes a message of another node.
    pub(crate) fn receive(&mut self, message: Message, now: tokio::time::Instant) -> Verdict {
        let mut verdict = Verdict::default();
        if !self.peers.contains_key(&message.node) && self.peers.len() >= MAX_PEERS {
            self.forget_oldest();
        }
        let known = self.peers.contains_key(&message.node);
        let peer = self.peers.entry(message.node).or_insert_with(|| Peer {
            seq: 0,
            scopes: HashMap::new(),
            heard: now,
        });
        peer.heard = now;
        match message.body {
            Body::Invalidation {
                scope_seq,
                selector,
            } => {
                let scope = scope_of(&selector).to_owned();
                let last_scope = peer.scopes.get(&scope).copied();
                if known && message.seq > peer.seq + 1 {
                    let missed = message.seq - peer.seq - 1;
                    let scope_missed = last_scope.map(|l| scope_seq.saturating_sub(l + 1));
                    verdict.lost.push(if scope_missed == Some(missed) {
                        // Every lost message was in this message's scope.
                        Lost::of_scope(&scope)
                    } else {
                        Lost::All
                    });
                }
                // An older message arriving late is still applied (dropping twice is safe).
                peer.seq = peer.seq.max(message.seq);
                let entry = peer.scopes.entry(scope).or_insert(0);
                *entry = (*entry).max(scope_seq);
                verdict.apply = Some(selector);
            }
            Body::Heartbeat { scopes } => {
                if known && message.seq > peer.seq {
                    // Lost messages (the last ones it sent): which scopes moved?
                    let mut lost: Vec<Lost> = Vec::new();
                    for (scope, last) in &scopes {
                        if *last > peer.scopes.get(scope).copied().unwrap_or(0) {
                            lost.push(Lost::of_scope(scope));
                        }
                    }
                    if lost.is_empty() || lost.contains(&Lost::All) {
                        lost = vec![Lost::All];
                    }
                    verdict.lost = lost;
                }
                peer.seq = peer.seq.max(message.seq);
                for (scope, last) in scopes {
                    let entry = peer.scopes.entry(scope).or_insert(0);
                    *entry = (*entry).max(last);
                }
            }
        }
        verdict
    }

    /// Forgets nodes not heard since `before` (stopped or gone); a node heard again later
    /// starts a new baseline.
    pub(crate) fn forget_silent(&mut self, before: tokio::time::Instant) {
        self.peers.retain(|_, p| p.heard >= before);
    }

    fn forget_oldest(&mut self) {
        if let Some(oldest) = self
            .peers
            .iter()
            .min_by_key(|(_, p)| p.heard)
            .map(|(n, _)| *n)
        {
            self.peers.remove(&oldest);
        }
    }

    /// Forgets everything (after a reconnection nothing said before can be trusted to be
    /// contiguous with what comes next; L1 is dropped then anyway).
    pub(crate) fn reset(&mut self) {
        self.peers.clear();
    }
}

/// The lag of a message sent at `sent_at`, by `clock`.
pub(crate) fn lag(clock: &SharedClock, sent_at: Timestamp) -> std::time::Duration {
    clock.now().saturating_duration_since(sent_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Key;

    fn ns(s: &str) -> Namespace {
        Namespace::new(s).unwrap()
    }

    fn inv(node: NodeId, seq: u64, scope_seq: u64, namespace: &str) -> Message {
        Message {
            node,
            seq,
            sent_at: Timestamp::EPOCH,
            body: Body::Invalidation {
                scope_seq,
                selector: Selector::Key(Key::new(&ns(namespace), "k").unwrap()),
            },
        }
    }

    fn heartbeat(node: NodeId, seq: u64, scopes: &[(&str, u64)]) -> Message {
        Message {
            node,
            seq,
            sent_at: Timestamp::EPOCH,
            body: Body::Heartbeat {
                scopes: scopes.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect(),
            },
        }
    }

    #[test]
    fn contiguous_messages_apply_and_lose_nothing() {
        let now = tokio::time::Instant::now();
        let mut r = Receiver::default();
        // The first message of a node is a baseline, whatever its number.
        let v = r.receive(inv(1, 5, 3, "a"), now);
        assert!(v.apply.is_some() && v.lost.is_empty());
        assert!(r.receive(inv(1, 6, 1, "b"), now).lost.is_empty());
        assert!(
            r.receive(heartbeat(1, 6, &[("a", 3), ("b", 1)]), now)
                .lost
                .is_empty()
        );
    }

    #[test]
    fn a_gap_in_one_scope_drops_that_namespace_and_a_mixed_gap_drops_all() {
        let now = tokio::time::Instant::now();
        let mut r = Receiver::default();
        r.receive(inv(1, 1, 1, "a"), now);
        // 2 (scope a, #2) was lost; 3 is a's #3: the loss was in a.
        assert_eq!(
            r.receive(inv(1, 3, 3, "a"), now).lost,
            vec![Lost::Namespace(ns("a"))]
        );
        // 4 (scope b) was lost; 5 is a's #4: the lost one was elsewhere.
        assert_eq!(r.receive(inv(1, 5, 4, "a"), now).lost, vec![Lost::All]);
    }

    #[test]
    fn a_heartbeat_reveals_a_lost_final_message_and_its_scope() {
        let now = tokio::time::Instant::now();
        let mut r = Receiver::default();
        r.receive(inv(7, 1, 1, "a"), now);
        r.receive(heartbeat(7, 1, &[("a", 1)]), now);
        // Message 2 (scope b) never arrived; the heartbeat says 2 went out.
        let v = r.receive(heartbeat(7, 2, &[("a", 1), ("b", 1)]), now);
        assert_eq!(v.lost, vec![Lost::Namespace(ns("b"))]);
        // Reported once.
        assert!(
            r.receive(heartbeat(7, 2, &[("a", 1), ("b", 1)]), now)
                .lost
                .is_empty()
        );
        // A lost message of scope * drops everything.
        let v = r.receive(heartbeat(7, 3, &[("*", 1), ("a", 1), ("b", 1)]), now);
        assert_eq!(v.lost, vec![Lost::All]);
    }

    #[test]
    fn nodes_are_independent_and_silent_ones_are_forgotten() {
        let t0 = tokio::time::Instant::now();
        let mut r = Receiver::default();
        r.receive(inv(1, 1, 1, "a"), t0);
        r.receive(inv(2, 9, 1, "a"), t0);
        assert!(r.receive(inv(1, 2, 2, "a"), t0).lost.is_empty());
        let later = t0 + std::time::Duration::from_secs(1);
        r.receive(heartbeat(1, 2, &[("a", 2)]), later);
        r.forget_silent(later);
        // Node 2 was forgotten: its next message is a new baseline.
        assert!(r.receive(inv(2, 20, 5, "a"), later).lost.is_empty());
    }
}
