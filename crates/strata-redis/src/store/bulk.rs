//! Listing and removing many keys: `SCAN MATCH COUNT` over every node and `UNLINK` in bounded
//! batches. Never `KEYS`, never one huge command.

use std::collections::{HashSet, VecDeque};

use futures_util::stream::{self, BoxStream, StreamExt};
use redis::Value;
use strata_core::{Key, Namespace, Pattern, Result};

use super::RedisStore;
use crate::conn::{Node, Routed};
use crate::error;
use crate::retry::Idempotency;

impl RedisStore {
    /// One `SCAN cursor MATCH m COUNT n` on `node`: the next cursor and the keys.
    async fn scan_page(
        &self,
        node: Node,
        cursor: u64,
        matching: &str,
    ) -> Result<(u64, Vec<Vec<u8>>)> {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(matching)
            .arg("COUNT")
            .arg(self.inner.config.scan_count);
        let reply = self
            .call("scan", Idempotency::Idempotent, || {
                self.inner.conn.query_node(node, &cmd)
            })
            .await?;
        parse_scan(reply)
    }

    /// Removes every value key matching `matching` on every node, in batches of at most
    /// `unlink_batch` keys; returns how many existed.
    pub(crate) async fn unlink_matching(&self, matching: &str) -> Result<u64> {
        let nodes = self
            .call("scan", Idempotency::Idempotent, || self.inner.conn.nodes())
            .await?;
        let batch = self.inner.config.unlink_batch;
        let mut removed = 0;
        for node in nodes {
            let mut cursor = 0;
            let mut pending: Vec<Vec<u8>> = Vec::new();
            loop {
                let (next, keys) = self.scan_page(node, cursor, matching).await?;
                pending.extend(keys);
                while pending.len() >= batch {
                    let rest = pending.split_off(batch);
                    removed += self.unlink(std::mem::replace(&mut pending, rest)).await?;
                }
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
            if !pending.is_empty() {
                removed += self.unlink(pending).await?;
            }
        }
        Ok(removed)
    }

    /// UNLINKs `keys`: one command on a standalone server, one pipeline of single-key
    /// UNLINKs per node on a cluster (keys of one node span many slots).
    pub(crate) async fn unlink(&self, keys: Vec<Vec<u8>>) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let routed: Vec<Routed> = if self.is_cluster() {
            keys.into_iter()
                .map(|k| {
                    let mut cmd = redis::cmd("UNLINK");
                    cmd.arg(&k);
                    Routed { key: k, cmd }
                })
                .collect()
        } else {
            let mut cmd = redis::cmd("UNLINK");
            for k in &keys {
                cmd.arg(k);
            }
            vec![Routed {
                key: keys.into_iter().next().unwrap_or_default(),
                cmd,
            }]
        };
        let replies = self
            .call("unlink", Idempotency::Idempotent, || {
                self.inner.conn.batch(super::clone_routed(&routed))
            })
            .await?;
        let mut removed = 0u64;
        for reply in replies {
            match reply {
                Value::Int(n) => removed += u64::try_from(n).unwrap_or(0),
                Value::ServerError(e) => {
                    return Err(error::map(
                        &redis::RedisError::from(e),
                        "unlink",
                        self.inner.config.password.as_ref(),
                    ));
                }
                other => {
                    return Err(error::unexpected("unlink", format!("{other:?}")));
                }
            }
        }
        Ok(removed)
    }
}

pub(super) fn parse_scan(reply: Value) -> Result<(u64, Vec<Vec<u8>>)> {
    let Value::Array(mut parts) = reply else {
        return Err(error::unexpected("scan", "SCAN did not answer an array"));
    };
    if parts.len() != 2 {
        return Err(error::unexpected(
            "scan",
            "SCAN did not answer [cursor, keys]",
        ));
    }
    let keys = parts.pop();
    let cursor = match parts.pop() {
        Some(Value::BulkString(b)) => std::str::from_utf8(&b).ok().and_then(|s| s.parse().ok()),
        Some(Value::SimpleString(s)) => s.parse().ok(),
        Some(Value::Int(n)) => u64::try_from(n).ok(),
        _ => None,
    }
    .ok_or_else(|| error::unexpected("scan", "SCAN answered an unreadable cursor"))?;
    let keys = match keys {
        Some(Value::Array(keys)) => keys
            .into_iter()
            .map(|k| match k {
                Value::BulkString(b) => b,
                Value::SimpleString(s) => s.into_bytes(),
                Value::Int(n) => n.to_string().into_bytes(),
                Value::Double(d) => d.to_string().into_bytes(),
                // Keeps positions (ZSCAN pairs) aligned; never a key a caller matches.
                _ => Vec::new(),
            })
            .collect(),
        _ => return Err(error::unexpected("scan", "SCAN answered no key list")),
    };
    Ok((cursor, keys))
}

struct ScanState {
    store: RedisStore,
    namespace: Namespace,
    matching: String,
    nodes: Option<VecDeque<Node>>,
    cursor: u64,
    buffer: VecDeque<Vec<u8>>,
    seen: HashSet<Vec<u8>>,
    done: bool,
}

/// The keys of `namespace` matching `pattern`, page by page, each key once.
pub(crate) fn scan_keys(
    store: RedisStore,
    namespace: Namespace,
    pattern: Pattern,
) -> BoxStream<'static, Result<Key>> {
    let matching = store.inner.layout.match_in(&namespace, &pattern);
    let state = ScanState {
        store,
        namespace,
        matching,
        nodes: None,
        cursor: 0,
        buffer: VecDeque::new(),
        seen: HashSet::new(),
        done: false,
    };
    stream::unfold(state, |mut st| async move {
        loop {
            if let Some(raw) = st.buffer.pop_front() {
                let key = st.store.inner.layout.parse_in(&st.namespace, &raw);
                return Some((key, st));
            }
            if st.done {
                return None;
            }
            if st.nodes.is_none() {
                let nodes = st
                    .store
                    .call("scan", Idempotency::Idempotent, || {
                        st.store.inner.conn.nodes()
                    })
                    .await;
                match nodes {
                    Ok(nodes) => st.nodes = Some(nodes.into()),
                    Err(e) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                }
            }
            let Some(node) = st.nodes.as_ref().and_then(|n| n.front().copied()) else {
                st.done = true;
                continue;
            };
            match st.store.scan_page(node, st.cursor, &st.matching).await {
                Ok((next, keys)) => {
                    for k in keys {
                        if st.seen.insert(k.clone()) {
                            st.buffer.push_back(k);
                        }
                    }
                    st.cursor = next;
                    if next == 0
                        && let Some(nodes) = st.nodes.as_mut()
                    {
                        nodes.pop_front();
                    }
                }
                Err(e) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_replies_are_read_without_panicking() {
        let ok = Value::Array(vec![
            Value::BulkString(b"17".to_vec()),
            Value::Array(vec![Value::BulkString(b"a".to_vec())]),
        ]);
        assert_eq!(parse_scan(ok).unwrap(), (17, vec![b"a".to_vec()]));
        assert!(parse_scan(Value::Nil).is_err());
        assert!(parse_scan(Value::Array(vec![Value::Nil, Value::Nil])).is_err());
    }
}
