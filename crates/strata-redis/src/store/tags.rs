//! Tags on Redis.
//!
//! Each tag has a sorted set `<prefix>#tag:<tag>` whose members are the Redis names of the
//! values that carry it, scored by each value's expiry (ms since the epoch; `+inf` for none).
//! A write adds the key to its tag sets *before* writing the value (a crash in between
//! leaves an extra member, never a tagged value missing from its set). The same one-key Lua
//! script drops the members whose values expired more than a second ago (lazy, exact
//! pruning: a member being written has a future score) and keeps the set alive a second past
//! its longest-lived member. Invalidating a tag reads the set in pages (ZSCAN), removes each
//! member whose value still carries the tag (a Lua check of the envelope, so a value
//! re-written without the tag survives), then removes the processed members from the set.

use redis::Value;
use strata_core::{Result, Tag, Ttl};

use super::RedisStore;
use crate::conn::Routed;
use crate::error;
use crate::retry::Idempotency;
use crate::scripts;

/// Members added to a tag set per script call.
const MEMBERS_PER_CALL: usize = 1_000;
/// How long past its values' expiry a member stays, and a tag set past its longest-lived
/// member: slack for clocks that differ between clients.
const TAG_SET_MARGIN_MS: u64 = 1_000;

impl RedisStore {
    /// Adds `members` (Redis key names) to the sets of `tags`, as values expiring after `ttl`
    /// from now (`None`: never).
    pub(crate) async fn add_to_tags(
        &self,
        tags: &[Tag],
        members: &[Vec<u8>],
        ttl: Option<Ttl>,
    ) -> Result<()> {
        let now = self.now().as_millis();
        let expiry = match ttl {
            Some(Ttl::After(d)) => now
                .saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 4))
                .max(1),
            _ => 0,
        };
        let mut routed = Vec::new();
        for tag in tags {
            let set = self.inner.layout.tag_key(tag);
            for chunk in members.chunks(MEMBERS_PER_CALL) {
                let mut args: Vec<Vec<u8>> = Vec::with_capacity(chunk.len() + 3);
                args.push(now.to_string().into_bytes());
                args.push(TAG_SET_MARGIN_MS.to_string().into_bytes());
                args.push(expiry.to_string().into_bytes());
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
                let (next, members) = self.zscan(&set, cursor).await?;
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

    /// One page of a tag set: the next cursor and the members (scores dropped).
    async fn zscan(&self, set: &[u8], cursor: u64) -> Result<(u64, Vec<Vec<u8>>)> {
        let mut cmd = redis::cmd("ZSCAN");
        cmd.arg(set)
            .arg(cursor)
            .arg("COUNT")
            .arg(self.inner.config.scan_count);
        let reply = self
            .call("invalidate_tags", Idempotency::Idempotent, || {
                self.inner.conn.query(&cmd)
            })
            .await?;
        let (next, pairs) = super::bulk::parse_scan(reply)?;
        Ok((next, pairs.into_iter().step_by(2).collect()))
    }

    async fn remove_members(&self, set: &[u8], members: &[Vec<u8>]) -> Result<()> {
        let mut cmd = redis::cmd("ZREM");
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
}
