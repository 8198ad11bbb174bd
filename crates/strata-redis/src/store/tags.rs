//! Tags on Redis.
//!
//! Each tag has a set `<prefix>#tag:<tag>` holding the Redis names of the values that carry
//! it. A write adds the key to its tag sets *before* writing the value, and keeps each set
//! alive at least as long as its longest-lived member (a member without expiry makes the set
//! persistent). Invalidating a tag reads the set in pages (SSCAN), removes each member whose
//! value still carries the tag (a Lua check of the envelope, so a value re-written without
//! the tag survives), and removes the processed members from the set. Members whose values
//! expired or were deleted are pruned then, and on every 64th tagged write a sample of one
//! set is checked and pruned.

use std::sync::atomic::{AtomicU64, Ordering};

use redis::Value;
use strata_core::{Result, Tag, Ttl};

use super::{RedisStore, clone_routed};
use crate::conn::Routed;
use crate::error;
use crate::retry::Idempotency;
use crate::scripts;

/// Members added to a tag set per script call.
const MEMBERS_PER_CALL: usize = 1_000;
/// Extra life a tag set gets beyond its members' TTL, for clock differences between clients.
const TAG_SET_MARGIN_MS: u64 = 1_000;
/// One tagged write in this many prunes a sample of a tag set.
const PRUNE_EVERY: u64 = 64;
/// Members checked per prune.
const PRUNE_SAMPLE: usize = 32;

static TAGGED_WRITES: AtomicU64 = AtomicU64::new(0);

impl RedisStore {
    /// Adds `members` (Redis key names) to the sets of `tags`, stretching each set's expiry to
    /// cover `ttl`.
    pub(crate) async fn add_to_tags(
        &self,
        tags: &[Tag],
        members: &[Vec<u8>],
        ttl: Option<Ttl>,
    ) -> Result<()> {
        let ttl_ms = match ttl {
            Some(Ttl::After(d)) => u64::try_from(d.as_millis())
                .unwrap_or(u64::MAX / 2)
                .saturating_add(TAG_SET_MARGIN_MS),
            _ => 0,
        };
        let mut routed = Vec::new();
        for tag in tags {
            let set = self.inner.layout.tag_key(tag);
            for chunk in members.chunks(MEMBERS_PER_CALL) {
                let mut args: Vec<Vec<u8>> = Vec::with_capacity(chunk.len() + 1);
                args.push(ttl_ms.to_string().into_bytes());
                args.extend(chunk.iter().cloned());
                routed.push(Routed {
                    key: set.clone(),
                    cmd: scripts::TAG_ADD.evalsha(&set, &args),
                });
            }
        }
        let replies = self
            .call("tag", Idempotency::Idempotent, || {
                self.batch_scripts(&routed)
            })
            .await?;
        self.check_replies("tag", replies)?;
        if TAGGED_WRITES.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            let tag = &tags[fastrand::usize(..tags.len())];
            // Pruning is housekeeping: a failure here must not fail the write.
            if let Err(e) = self.prune_tag(tag).await {
                tracing::debug!(error = %e, "tag set prune failed");
            }
        }
        Ok(())
    }

    fn check_replies(&self, operation: &'static str, replies: Vec<Value>) -> Result<Vec<Value>> {
        if let Some(Value::ServerError(e)) =
            replies.iter().find(|v| matches!(v, Value::ServerError(_)))
        {
            return Err(error::map(
                &redis::RedisError::from(e.clone()),
                operation,
                self.inner.config.password.as_ref(),
            ));
        }
        Ok(replies)
    }

    /// Removes every value that carries one of `tags`; returns how many were removed.
    pub(crate) async fn invalidate_tags(&self, tags: &[Tag]) -> Result<u64> {
        let names: Vec<Vec<u8>> = tags
            .iter()
            .map(|t| t.as_str().as_bytes().to_vec())
            .collect();
        let mut removed = 0;
        for tag in tags {
            let set = self.inner.layout.tag_key(tag);
            let mut cursor = 0u64;
            loop {
                let (next, members) = self.sscan(&set, cursor).await?;
                if !members.is_empty() {
                    let routed: Vec<Routed> = members
                        .iter()
                        .map(|m| Routed {
                            key: m.clone(),
                            cmd: scripts::TAG_DROP.evalsha(m, &names),
                        })
                        .collect();
                    let replies = self
                        .call("invalidate_tags", Idempotency::Idempotent, || {
                            self.batch_scripts(&routed)
                        })
                        .await?;
                    for reply in self.check_replies("invalidate_tags", replies)? {
                        if let Value::Int(n) = reply {
                            removed += u64::try_from(n).unwrap_or(0);
                        }
                    }
                    self.remove_members(&set, &members).await?;
                }
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
        }
        Ok(removed)
    }

    async fn sscan(&self, set: &[u8], cursor: u64) -> Result<(u64, Vec<Vec<u8>>)> {
        let mut cmd = redis::cmd("SSCAN");
        cmd.arg(set)
            .arg(cursor)
            .arg("COUNT")
            .arg(self.inner.config.scan_count);
        let reply = self
            .call("invalidate_tags", Idempotency::Idempotent, || {
                self.inner.conn.query(&cmd)
            })
            .await?;
        super::bulk::parse_scan(reply)
    }

    async fn remove_members(&self, set: &[u8], members: &[Vec<u8>]) -> Result<()> {
        let mut cmd = redis::cmd("SREM");
        cmd.arg(set);
        for m in members {
            cmd.arg(m);
        }
        self.call("invalidate_tags", Idempotency::Idempotent, || {
            self.inner.conn.query(&cmd)
        })
        .await?;
        Ok(())
    }

    /// Removes from the set of `tag` a sample of members whose values are gone.
    pub async fn prune_tag(&self, tag: &Tag) -> Result<u64> {
        let set = self.inner.layout.tag_key(tag);
        let mut cmd = redis::cmd("SRANDMEMBER");
        cmd.arg(&set).arg(PRUNE_SAMPLE);
        let reply = self
            .call("prune_tag", Idempotency::Idempotent, || {
                self.inner.conn.query(&cmd)
            })
            .await?;
        let Value::Array(sample) = reply else {
            return Ok(0);
        };
        let members: Vec<Vec<u8>> = sample
            .into_iter()
            .filter_map(|v| match v {
                Value::BulkString(b) => Some(b),
                _ => None,
            })
            .collect();
        let routed: Vec<Routed> = members
            .iter()
            .map(|m| {
                let mut cmd = redis::cmd("EXISTS");
                cmd.arg(m);
                Routed {
                    key: m.clone(),
                    cmd,
                }
            })
            .collect();
        let replies = self
            .call("prune_tag", Idempotency::Idempotent, || {
                self.inner.conn.batch(clone_routed(&routed))
            })
            .await?;
        let gone: Vec<Vec<u8>> = members
            .into_iter()
            .zip(replies)
            .filter(|(_, r)| matches!(r, Value::Int(0)))
            .map(|(m, _)| m)
            .collect();
        if !gone.is_empty() {
            self.remove_members(&set, &gone).await?;
        }
        Ok(gone.len() as u64)
    }
}
