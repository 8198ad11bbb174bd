//! How Strata keys are written on Redis: `<prefix>:<namespace>:<id>` for values and
//! `<prefix>#tag:<tag>` for tag sets.
//!
//! The prefix and namespaces are limited to `[A-Za-z0-9_.-]`, so no two prefixes can produce
//! the same key, no brace in them turns part of a key into a Cluster hash tag, and a tag set
//! (the `#` cannot appear in a prefix) never matches a value pattern.

use strata_core::{Error, Key, Namespace, Pattern, Result, Tag};

/// The longest prefix accepted.
pub const MAX_PREFIX_LEN: usize = 64;

/// Writes and reads the Redis names of a store's keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyLayout {
    prefix: String,
}

impl KeyLayout {
    /// A layout for `prefix`, which must be 1 to 64 characters of `[A-Za-z0-9_.-]`.
    pub(crate) fn new(prefix: &str) -> Result<Self> {
        if prefix.is_empty() || prefix.len() > MAX_PREFIX_LEN {
            return Err(Error::invalid_config(format!(
                "key prefix `{prefix}` must be 1 to {MAX_PREFIX_LEN} characters, it has {}",
                prefix.len()
            )));
        }
        if let Some(bad) = prefix
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            return Err(Error::invalid_config(format!(
                "key prefix `{prefix}` has `{bad}`; only A-Z, a-z, 0-9, `_`, `.` and `-` are allowed, \
                 so that two prefixes can never collide"
            )));
        }
        Ok(KeyLayout {
            prefix: prefix.to_owned(),
        })
    }

    /// `<prefix>:<namespace>:<id>`.
    pub(crate) fn data_key(&self, key: &Key) -> Vec<u8> {
        let ns = key.namespace().as_str();
        let id = key.id();
        let mut out = Vec::with_capacity(self.data_key_len(key));
        out.extend_from_slice(self.prefix.as_bytes());
        out.push(b':');
        out.extend_from_slice(ns.as_bytes());
        out.push(b':');
        out.extend_from_slice(id.as_bytes());
        out
    }

    /// The length of [`KeyLayout::data_key`] of `key`.
    pub(crate) fn data_key_len(&self, key: &Key) -> usize {
        self.prefix.len() + key.namespace().as_str().len() + key.id().len() + 2
    }

    /// `<prefix>:<namespace>:<id>` as a command argument, written straight into the command
    /// (no intermediate buffer).
    pub(crate) fn arg<'a>(&'a self, key: &'a Key) -> DataKey<'a> {
        DataKey { layout: self, key }
    }

    /// `<prefix>#tag:<tag>`: the set of value keys that carry `tag`.
    pub(crate) fn tag_key(&self, tag: &Tag) -> Vec<u8> {
        format!("{}#tag:{}", self.prefix, tag.as_str()).into_bytes()
    }

    /// `<prefix>:`: what every value key starts with (the prefix client-side tracking
    /// watches; tag sets and locks are outside it).
    pub(crate) fn data_prefix(&self) -> String {
        format!("{}:", self.prefix)
    }

    /// The Strata key written as `raw` (`<prefix>:<namespace>:<id>`).
    pub(crate) fn parse(&self, raw: &[u8]) -> Result<Key> {
        let text =
            std::str::from_utf8(raw).map_err(|_| Error::codec("a Redis key is not UTF-8"))?;
        let rest = text
            .strip_prefix(self.prefix.as_str())
            .and_then(|r| r.strip_prefix(':'))
            .ok_or_else(|| {
                Error::codec(format!(
                    "Redis key `{text}` is not under `{}:`",
                    self.prefix
                ))
            })?;
        let (ns, id) = rest
            .split_once(':')
            .ok_or_else(|| Error::codec(format!("Redis key `{text}` has no namespace")))?;
        Key::new(&Namespace::new(ns)?, id)
    }

    /// `<prefix>#lock:<namespace>:<id>`: the distributed lock of `key`.
    pub(crate) fn lock_key(&self, key: &Key) -> Vec<u8> {
        format!(
            "{}#lock:{}:{}",
            self.prefix,
            key.namespace().as_str(),
            key.id()
        )
        .into_bytes()
    }

    /// `<prefix>#bus`: the invalidation bus channel.
    pub(crate) fn bus_channel(&self) -> String {
        format!("{}#bus", self.prefix)
    }

    /// The SCAN pattern of the values of `namespace` whose id matches `pattern`.
    pub(crate) fn match_in(&self, namespace: &Namespace, pattern: &Pattern) -> String {
        format!(
            "{}:{}:{}",
            self.prefix,
            namespace.as_str(),
            pattern.as_str()
        )
    }

    /// The SCAN pattern of every value under the prefix.
    pub(crate) fn match_all(&self) -> String {
        format!("{}:*", self.prefix)
    }

    /// The SCAN pattern of every tag set under the prefix.
    pub(crate) fn match_all_tags(&self) -> String {
        format!("{}#tag:*", self.prefix)
    }

    /// The Strata key of a Redis value key of `namespace` (from a SCAN reply).
    pub(crate) fn parse_in(&self, namespace: &Namespace, raw: &[u8]) -> Result<Key> {
        let key = self.parse(raw)?;
        if key.namespace() != namespace {
            return Err(Error::codec(format!(
                "scanned Redis key `{}` is not under `{}:{namespace}:`",
                String::from_utf8_lossy(raw),
                self.prefix
            )));
        }
        Ok(key)
    }
}

/// A value key as a Redis command argument; see [`KeyLayout::arg`].
pub(crate) struct DataKey<'a> {
    layout: &'a KeyLayout,
    key: &'a Key,
}

impl redis::ToRedisArgs for DataKey<'_> {
    fn write_redis_args<W: ?Sized + redis::RedisWrite>(&self, out: &mut W) {
        use std::io::Write;
        let mut w = out.writer_for_next_arg();
        // Writing into the command's own buffer cannot fail.
        let _ = w.write_all(self.layout.prefix.as_bytes());
        let _ = w.write_all(b":");
        let _ = w.write_all(self.key.namespace().as_str().as_bytes());
        let _ = w.write_all(b":");
        let _ = w.write_all(self.key.id().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_round_trips() {
        let layout = KeyLayout::new("app-1.v2").unwrap();
        let ns = Namespace::new("users").unwrap();
        let key = Key::new(&ns, "42:{x}").unwrap();
        let raw = layout.data_key(&key);
        assert_eq!(raw, b"app-1.v2:users:42:{x}");
        assert_eq!(layout.parse_in(&ns, &raw).unwrap(), key);
        assert_eq!(layout.parse(&raw).unwrap(), key);
        let mut cmd = redis::cmd("GET");
        cmd.arg(layout.arg(&key));
        let args: Vec<&[u8]> = cmd
            .args_iter()
            .filter_map(|a| match a {
                redis::Arg::Simple(b) => Some(b),
                _ => None,
            })
            .collect();
        assert_eq!(args, [&b"GET"[..], &raw[..]]);
        assert!(layout.parse(b"app-1.v2#tag:x").is_err());
        assert!(layout.parse(b"other:users:1").is_err());
        assert_eq!(
            layout.tag_key(&Tag::new("org:7").unwrap()),
            b"app-1.v2#tag:org:7"
        );
        assert_eq!(
            layout.match_in(&ns, &Pattern::new("4*").unwrap()),
            "app-1.v2:users:4*"
        );
    }

    #[test]
    fn bad_prefixes_are_refused() {
        for bad in ["", "a:b", "a{b}", "a b", "a#b", "é", &"x".repeat(65)] {
            let err = KeyLayout::new(bad).unwrap_err();
            assert_eq!(err.kind(), strata_core::ErrorKind::InvalidConfig, "{bad}");
        }
    }
}
