//! The Lua scripts a store runs. Each touches only `KEYS[1]`, so each runs on a cluster.
//! They share a prelude that reads the envelope's fixed fields (docs/format.md).
//!
//! They are sent with EVALSHA; a server that answers NOSCRIPT (restarted, flushed, or a new
//! master after a failover) gets them loaded again and the call is repeated once.

use std::sync::LazyLock;

use redis::{Cmd, ToRedisArgs};

/// Functions every script starts with: `u64at(v, pos)` reads a big-endian u64 at a 1-based
/// position; `envelope(v)` returns the position of the tag count and the time to idle (or
/// nil) of an envelope, or nil when `v` is not one; `is_tombstone(v)` tells a fence's
/// tombstone; `string_at(key)` whether the key holds a string (GET fails on other types).
const PRELUDE: &str = r#"
local function u64at(v, pos)
  local n = 0
  for i = pos, pos + 7 do n = n * 256 + string.byte(v, i) end
  return n
end
local function envelope(v)
  if not v or #v < 31 then return nil end
  if string.byte(v, 1) ~= 255 or string.byte(v, 2) ~= 83 or string.byte(v, 3) ~= 1 then return nil end
  local flags = string.byte(v, 5)
  local pos = 30
  if flags % 8 >= 4 then pos = pos + 12 end
  local tti = nil
  if flags % 16 >= 8 then
    if #v < pos + 9 then return nil end
    tti = u64at(v, pos)
    pos = pos + 8
  end
  if #v < pos + 1 then return nil end
  return pos, tti
end
local function is_tombstone(v)
  return v and #v >= 2 and string.byte(v, 1) == 255 and string.byte(v, 2) == 84
end
local function string_at(key)
  return redis.call('TYPE', key).ok == 'string'
end
"#;

/// A Lua script and its SHA1 (what EVALSHA names it by).
#[derive(Debug)]
pub(crate) struct LuaScript {
    source: String,
    sha: String,
}

impl LuaScript {
    fn new(body: &str) -> Self {
        let source = format!("{PRELUDE}{body}");
        let sha = redis::Script::new(&source).get_hash().to_owned();
        LuaScript { source, sha }
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
        cmd.arg("LOAD").arg(&self.source);
        cmd
    }
}

/// Adds members to the tag set `KEYS[1]` (a sorted set scored by each member's expiry), drops
/// members whose values expired more than `ARGV[2]` ms ago, and keeps the set alive `ARGV[2]`
/// ms past its longest-lived member (persistent while a member has no expiry). `ARGV[1]` is
/// now (ms since the epoch), `ARGV[3]` the members' expiry (ms since the epoch, 0 = none),
/// `ARGV[4..]` the members.
pub(crate) static TAG_ADD: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
local now = tonumber(ARGV[1])
local margin = tonumber(ARGV[2])
local score = ARGV[3]
if score == '0' then score = '+inf' end
for i = 4, #ARGV do redis.call('ZADD', KEYS[1], score, ARGV[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now - margin))
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last < 2 then return 0 end
if last[2] == 'inf' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIREAT', KEYS[1], string.format('%d', math.floor(tonumber(last[2])) + margin))
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
local pos = envelope(v)
if not pos then return 0 end
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
/// rewrites its two expiry fields with the 16 bytes of `ARGV[2]` so the metadata stays true
/// (a value with a time to idle keeps expiring after that window when it is shorter).
/// Returns the value (for its tags), or nil when the key is missing.
pub(crate) static EXPIRE: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
local v = redis.call('GET', KEYS[1])
if not v or is_tombstone(v) then return false end
local pos, tti = envelope(v)
local px = tonumber(ARGV[1])
if pos then
  v = string.sub(v, 1, 13) .. ARGV[2] .. string.sub(v, 30)
  if tti and (px == 0 or tti < px) then px = tti end
  if px == 0 then
    redis.call('SET', KEYS[1], v)
  else
    redis.call('SET', KEYS[1], v, 'PX', px)
  end
elseif px == 0 then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], px)
end
return v
"#,
    )
});

/// Restarts the idle window of `KEYS[1]` after a read: expiry = min(time to idle, physical
/// expiry − `ARGV[1]` (now, ms)); a value past its physical expiry is unlinked. Values
/// without a time to idle are left alone. Returns 1 when it renewed.
pub(crate) static TOUCH: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
local v = redis.call('GET', KEYS[1])
local pos, tti = envelope(v)
if not pos or not tti then return 0 end
local ms = tti
local physical = u64at(v, 22)
if physical > 0 then
  local left = physical - tonumber(ARGV[1])
  if left < ms then ms = left end
end
if ms <= 0 then
  redis.call('UNLINK', KEYS[1])
  return 0
end
redis.call('PEXPIRE', KEYS[1], ms)
return 1
"#,
    )
});

/// Deletes the lock `KEYS[1]` if it still holds the token `ARGV[1]`; returns 1 when it did.
pub(crate) static UNLOCK: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#,
    )
});

/// Sets the lock `KEYS[1]` to expire in `ARGV[2]` ms if it still holds the token `ARGV[1]`;
/// returns 1 when it did.
pub(crate) static EXTEND_LOCK: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"#,
    )
});

/// Unlinks `KEYS[1]`; returns 1 when it held a live value (not a tombstone).
pub(crate) static DELETE: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
if string_at(KEYS[1]) and is_tombstone(redis.call('GET', KEYS[1])) then
  redis.call('UNLINK', KEYS[1])
  return 0
end
return redis.call('UNLINK', KEYS[1])
"#,
    )
});

/// The remaining time to live of `KEYS[1]` in ms as PTTL answers it (-2 missing, -1 no
/// expiry), with a tombstone reported as missing.
pub(crate) static TTL: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
if string_at(KEYS[1]) and is_tombstone(redis.call('GET', KEYS[1])) then return -2 end
return redis.call('PTTL', KEYS[1])
"#,
    )
});

/// The version of `KEYS[1]`: the SHA1 of its bytes, or nil when it holds nothing.
pub(crate) static VERSION: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
local v = redis.call('GET', KEYS[1])
if not v then return false end
return redis.sha1hex(v)
"#,
    )
});

/// Writes `ARGV[2]` to `KEYS[1]` (with `PX ARGV[3]` unless it is 0) only if the SHA1 of what
/// it holds is `ARGV[1]` (empty: it holds nothing); returns 1 when it wrote.
pub(crate) static SET_IF_VERSION: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
local v = redis.call('GET', KEYS[1])
local current = ''
if v then current = redis.sha1hex(v) end
if current ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
"#,
    )
});

/// Replaces `KEYS[1]` with the tombstone `ARGV[1]` for `ARGV[2]` ms; returns 1 when it held a
/// live value.
pub(crate) static FENCE: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r#"
local live = 0
if string_at(KEYS[1]) then
  if not is_tombstone(redis.call('GET', KEYS[1])) then live = 1 end
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  live = 1
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return live
"#,
    )
});

/// Every script, for loading them onto a server.
pub(crate) fn all() -> [&'static LuaScript; 11] {
    [
        &TAG_ADD,
        &TAG_DROP,
        &EXPIRE,
        &TOUCH,
        &UNLOCK,
        &EXTEND_LOCK,
        &DELETE,
        &TTL,
        &VERSION,
        &SET_IF_VERSION,
        &FENCE,
    ]
}
