//! [`GetWithTtl`] on Redis: `GET` and `PTTL` of each key in one pipeline (one per node on a
//! cluster; a key's two commands share its slot), so the remaining time to live comes from
//! the server, in the same round trip as the value.
//!
//! [`GetWithTtl`]: strata_core::GetWithTtl

use std::time::Duration;

use redis::Value;
use strata_core::{Entry, GetWithTtl, Key, Result, TtlState};

use super::{RedisStore, clone_routed};
use crate::conn::Routed;
use crate::error;
use crate::retry::Idempotency;

impl GetWithTtl for RedisStore {
    async fn get_with_ttl(&self, keys: &[Key]) -> Result<Vec<Option<(Entry, TtlState)>>> {
        let (out, entries) = self.read_with_ttl(keys).await?;
        self.count_reads(&entries);
        self.touch(keys, &entries).await?;
        Ok(out)
    }
}

impl RedisStore {
    /// Entries and their remaining TTL in one round trip; counts nothing and renews no time
    /// to idle (the caller does, when it is a read).
    #[allow(clippy::type_complexity)]
    pub(crate) async fn read_with_ttl(
        &self,
        keys: &[Key],
    ) -> Result<(Vec<Option<(Entry, TtlState)>>, Vec<Option<Entry>>)> {
        if keys.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut routed = Vec::with_capacity(keys.len() * 2);
        for key in keys {
            let raw = self.inner.layout.data_key(key);
            let mut get = redis::cmd("GET");
            get.arg(&raw);
            let mut pttl = redis::cmd("PTTL");
            pttl.arg(&raw);
            routed.push(Routed {
                key: raw.clone(),
                cmd: get,
            });
            routed.push(Routed {
                key: raw,
                cmd: pttl,
            });
        }
        let replies = self
            .call("get_with_ttl", Idempotency::Idempotent, || {
                self.inner.conn.batch(clone_routed(&routed))
            })
            .await?;
        let mut out = Vec::with_capacity(keys.len());
        let mut entries = Vec::with_capacity(keys.len());
        let mut replies = replies.into_iter();
        for key in keys {
            let (Some(value), Some(ttl)) = (replies.next(), replies.next()) else {
                return Err(error::unexpected("get_with_ttl", "too few replies"));
            };
            let entry = self.decode(key, value)?;
            let ttl = match ttl {
                Value::Int(-1) => Some(TtlState::NoExpiry),
                Value::Int(ms) if ms >= 0 => {
                    Some(TtlState::Remaining(Duration::from_millis(ms as u64)))
                }
                // -2: it expired between the two commands.
                Value::Int(_) => None,
                other => {
                    return Err(
                        error::unexpected("get_with_ttl", format!("PTTL: {other:?}")).with_key(key),
                    );
                }
            };
            out.push(entry.clone().zip(ttl));
            entries.push(entry);
        }
        Ok((out, entries))
    }
}
