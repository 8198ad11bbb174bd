//! The Lua scripts a store runs. Each touches only `KEYS[1]`, so each runs on a cluster.
//!
//! They are sent with EVALSHA; a server that answers NOSCRIPT (restarted, flushed, or a new
//! master after a failover) gets them loaded again and the call is repeated once.

use std::sync::LazyLock;

use redis::{Cmd, ToRedisArgs};

/// A Lua script and its SHA1 (what EVALSHA names it by).
#[derive(Debug)]
pub(crate) struct LuaScript {
    source: &'static str,
    sha: String,
}

impl LuaScript {
    fn new(source: &'static str) -> Self {
        LuaScript {
            source,
            sha: redis::Script::new(source).get_hash().to_owned(),
        }
    }

    /// `EVALSHA <sha> 1 <key> <args...>`.
    pub(crate) fn evalsha<A: ToRedisArgs>(&self, key: &[u8], args: &[A]) -> Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(&self.sha).arg(1).arg(key);
        for a in args {
            cmd.arg(a);
        }
        cmd
    }

    /// `SCRIPT LOAD <source>`.
    pub(crate) fn load_cmd(&self) -> Cmd {
        let mut cmd = redis::cmd("SCRIPT");
        cmd.arg("LOAD").arg(self.source);
        cmd
    }
}

/// Adds members to a tag set and keeps the set alive at least as long as its longest-lived
/// member: `ARGV[1]` is the members' time to live in ms (0 = no expiry), `ARGV[2..]` the
/// members.
pub(crate) static TAG_ADD: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
local existed = redis.call('EXISTS', KEYS[1])
for i = 2, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
local ttl = tonumber(ARGV[1])
if ttl == 0 then
  redis.call('PERSIST', KEYS[1])
elseif existed == 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  local current = redis.call('PTTL', KEYS[1])
  if current >= 0 and current < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return 1
"#,
    )
});

/// Unlinks `KEYS[1]` when its envelope carries one of the tags in `ARGV`; returns 1 when it
/// did. A value re-written without the tag, a counter or a foreign value is left alone.
pub(crate) static TAG_DROP: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
local v = redis.call('GET', KEYS[1])
if not v or #v < 31 then return 0 end
if string.byte(v, 1) ~= 255 or string.byte(v, 2) ~= 83 or string.byte(v, 3) ~= 1 then return 0 end
local pos = 30
if string.byte(v, 5) % 8 >= 4 then pos = pos + 12 end
if #v < pos + 1 then return 0 end
local n = string.byte(v, pos) * 256 + string.byte(v, pos + 1)
pos = pos + 2
for _ = 1, n do
  if #v < pos + 1 then return 0 end
  local len = string.byte(v, pos) * 256 + string.byte(v, pos + 1)
  local tag = string.sub(v, pos + 2, pos + 1 + len)
  pos = pos + 2 + len
  for j = 1, #ARGV do
    if tag == ARGV[j] then
      redis.call('UNLINK', KEYS[1])
      return 1
    end
  end
end
return 0
"#,
    )
});

/// Changes the time to live of `KEYS[1]`: `ARGV[1]` ms (0 = no expiry) and, for an envelope,
/// rewrites its two expiry fields with the 16 bytes of `ARGV[2]` so the metadata stays true.
/// Returns the value (for its tags), or nil when the key is missing.
pub(crate) static EXPIRE: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
local v = redis.call('GET', KEYS[1])
if not v then return false end
if #v >= 31 and string.byte(v, 1) == 255 and string.byte(v, 2) == 83 and string.byte(v, 3) == 1 then
  v = string.sub(v, 1, 13) .. ARGV[2] .. string.sub(v, 30)
  if ARGV[1] == '0' then
    redis.call('SET', KEYS[1], v)
  else
    redis.call('SET', KEYS[1], v, 'PX', ARGV[1])
  end
elseif ARGV[1] == '0' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return v
"#,
    )
});

/// Every script, for loading them onto a server.
pub(crate) fn all() -> [&'static LuaScript; 3] {
    [&TAG_ADD, &TAG_DROP, &EXPIRE]
}
