//! [`DistributedLock`] on Redis: the lock of key `<ns>:<id>` is the Redis key
//! `<prefix>#lock:<ns>:<id>` holding the holder's random token, set with `SET NX PX`;
//! release and extension run a Lua script that checks the token first (one key, so it works
//! on a cluster).

use std::time::Duration;

use redis::Value;
use strata_core::{DistributedLock, Error, Key, LockToken, Result};

use crate::retry::Idempotency;
use crate::scripts;
use crate::store::RedisStore;

fn millis(ttl: Duration) -> Result<u64> {
    let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return Err(Error::invalid_argument(format!(
            "lock ttl {ttl:?} is under the minimum of 1ms"
        )));
    }
    Ok(ms)
}

impl DistributedLock for RedisStore {
    async fn try_lock(&self, key: &Key, ttl: Duration) -> Result<Option<LockToken>> {
        let ms = millis(ttl)?;
        let token = LockToken::random();
        let raw = self.lock_key(key);
        let mut cmd = redis::cmd("SET");
        cmd.arg(&raw)
            .arg(token.as_str())
            .arg("NX")
            .arg("PX")
            .arg(ms);
        // Not idempotent: a re-sent SET NX after a lost reply would see our own lock as taken.
        let reply = self
            .call("try_lock", Idempotency::NotIdempotent, || {
                self.conn().query_once(&cmd)
            })
            .await
            .map_err(|e| e.with_key(key))?;
        Ok((reply != Value::Nil).then_some(token))
    }

    async fn unlock(&self, key: &Key, token: &LockToken) -> Result<bool> {
        let raw = self.lock_key(key);
        let reply = self
            .run_script(
                "unlock",
                &scripts::UNLOCK,
                &raw,
                &[token.as_str()],
                key,
                false,
            )
            .await?;
        Ok(reply == Value::Int(1))
    }

    async fn extend(&self, key: &Key, token: &LockToken, ttl: Duration) -> Result<bool> {
        let ms = millis(ttl)?.to_string();
        let raw = self.lock_key(key);
        let reply = self
            .run_script(
                "extend_lock",
                &scripts::EXTEND_LOCK,
                &raw,
                &[token.as_str(), ms.as_str()],
                key,
                false,
            )
            .await?;
        Ok(reply == Value::Int(1))
    }
}
