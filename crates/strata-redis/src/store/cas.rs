//! [`CompareAndSet`] on Redis. A version is the SHA1 of the key's bytes (Redis computes it in
//! Lua with `redis.sha1hex`), so any write, delete or fence changes it; a fence writes a
//! tombstone (`0xFF 0x54`, version 1, its time and a random nonce) that every read treats as
//! missing. Each script touches only `KEYS[1]`, so all of it works on a cluster.
//!
//! [`CompareAndSet`]: strata_core::CompareAndSet

use std::time::Duration;

use bytes::Bytes;
use redis::Value;
use strata_core::{CompareAndSet, Error, Key, Result, SetMode, SetOptions, SetOutcome, Version};

use super::RedisStore;
use crate::error;
use crate::scripts;
use crate::stats::Counters;
use crate::value::tombstone;

impl CompareAndSet for RedisStore {
    async fn version(&self, key: &Key) -> Result<Version> {
        let raw = self.inner.layout.data_key(key);
        let reply = self
            .run_script(
                "version",
                &scripts::VERSION,
                &raw,
                &[] as &[&str],
                key,
                false,
            )
            .await?;
        match reply {
            Value::Nil => Ok(Version::ABSENT),
            Value::BulkString(b) => Ok(Version::new(String::from_utf8_lossy(&b))),
            Value::SimpleString(s) => Ok(Version::new(s)),
            other => Err(error::unexpected("version", format!("{other:?}")).with_key(key)),
        }
    }

    async fn set_if_version(
        &self,
        key: &Key,
        expected: &Version,
        value: Bytes,
        opts: SetOptions,
    ) -> Result<SetOutcome> {
        if opts.mode != SetMode::Always {
            return Err(Error::invalid_argument(
                "set_if_version takes no NX/XX mode: the version is the condition",
            )
            .with_key(key));
        }
        let wire = self.prepare_write(key, &value, &opts).await?;
        let raw = self.inner.layout.data_key(key);
        let args: [Vec<u8>; 3] = [
            expected.token().unwrap_or("").as_bytes().to_vec(),
            wire.to_vec(),
            Self::px(&opts).unwrap_or(0).to_string().into_bytes(),
        ];
        // Sent once: after a lost reply, a second attempt would see its own write.
        let reply = self
            .run_script(
                "set_if_version",
                &scripts::SET_IF_VERSION,
                &raw,
                &args,
                key,
                true,
            )
            .await?;
        if reply == Value::Int(1) {
            Counters::add(&self.inner.counters.sets, 1);
            Ok(SetOutcome::Stored)
        } else {
            Ok(SetOutcome::NotStored)
        }
    }

    async fn fence(&self, key: &Key, ttl: Duration) -> Result<bool> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return Err(Error::invalid_argument(format!(
                "fence ttl {ttl:?} is under the minimum of 1ms"
            ))
            .with_key(key));
        }
        let raw = self.inner.layout.data_key(key);
        let args: [Vec<u8>; 2] = [tombstone(self.now()), ms.to_string().into_bytes()];
        let reply = self
            .run_script("fence", &scripts::FENCE, &raw, &args, key, false)
            .await?;
        let removed = reply == Value::Int(1);
        if removed {
            Counters::add(&self.inner.counters.removed, 1);
        }
        Ok(removed)
    }
}
