//! Keys, namespaces and tags, validated at construction.
//!
//! A [`Key`] is a `(namespace, id)` pair. Namespaces are limited to `[A-Za-z0-9_.-]{1,64}` so
//! they can be embedded in backend key names without escaping; ids are any non-empty UTF-8 string
//! up to a maximum length (1 KiB unless configured otherwise).

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use compact_str::CompactString;

use crate::error::{Error, Result};

/// The longest namespace name, in bytes.
pub const MAX_NAMESPACE_LEN: usize = 64;
/// The default longest key id, in bytes.
pub const DEFAULT_MAX_KEY_LEN: usize = 1024;
/// The longest tag, in bytes.
pub const MAX_TAG_LEN: usize = 256;

/// True when `c` may appear in a namespace or a backend prefix: `[A-Za-z0-9_.-]`.
pub const fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-'
}

/// A validated namespace name: `[A-Za-z0-9_.-]{1,64}`.
///
/// Names are interned for the life of the process (each distinct name is stored once, at most
/// 64 bytes), so a namespace is a `&'static str`: copying one into every key costs no
/// reference count, which would otherwise be one shared cache line written by every lookup
/// of every thread. Namespaces are a small, long-lived set (one per kind of data); do not
/// mint one per request.
///
/// ```
/// use strata_core::{ErrorKind, Namespace};
/// assert_eq!(Namespace::new("users").unwrap().as_str(), "users");
/// assert_eq!(Namespace::new("a b").unwrap_err().kind(), ErrorKind::InvalidKey);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(&'static str);

/// Returns the interned copy of `name`, storing it on first use.
fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(&interned) = names.get(name) {
        return interned;
    }
    let interned: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(interned);
    interned
}

impl Namespace {
    /// The name of the namespace used when none is given.
    pub const DEFAULT: &'static str = "default";

    /// Validates and wraps a namespace name.
    pub fn new(name: impl AsRef<str>) -> Result<Self> {
        let name = name.as_ref();
        if name.is_empty() {
            return Err(Error::invalid_key(
                "namespace is empty; it must match [A-Za-z0-9_.-]{1,64}",
            ));
        }
        if name.len() > MAX_NAMESPACE_LEN {
            return Err(Error::invalid_key(format!(
                "namespace is {} bytes, over the maximum of {MAX_NAMESPACE_LEN} bytes",
                name.len()
            )));
        }
        if let Some(bad) = name.bytes().position(|b| !is_name_char(b)) {
            let ch = name[bad..].chars().next().unwrap_or('?');
            return Err(Error::invalid_key(format!(
                "namespace {name:?} has the character {ch:?} at byte {bad}; only [A-Za-z0-9_.-] is allowed"
            )));
        }
        Ok(Namespace(intern(name)))
    }

    /// The namespace called [`Namespace::DEFAULT`].
    pub fn default_namespace() -> Self {
        Namespace(intern(Self::DEFAULT))
    }

    /// The name.
    #[inline]
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl Default for Namespace {
    fn default() -> Self {
        Self::default_namespace()
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({:?})", self.0)
    }
}

impl AsRef<str> for Namespace {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl std::str::FromStr for Namespace {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Namespace::new(s)
    }
}

impl serde::Serialize for Namespace {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Namespace {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Namespace::new(s).map_err(serde::de::Error::custom)
    }
}

/// A validated cache key: a namespace and an id.
///
/// Ids of up to 24 bytes are stored inline, so building a short key does not allocate.
///
/// ```
/// use strata_core::{Key, Namespace};
/// let users = Namespace::new("users").unwrap();
/// let key = Key::new(&users, "42").unwrap();
/// assert_eq!(key.to_string(), "users:42");
/// assert!(Key::new(&users, "").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    namespace: Namespace,
    id: CompactString,
}

impl Key {
    /// A key with an id of at most [`DEFAULT_MAX_KEY_LEN`] bytes.
    pub fn new(namespace: &Namespace, id: &str) -> Result<Self> {
        Self::with_max_len(namespace, id, DEFAULT_MAX_KEY_LEN)
    }

    /// A key with an id of at most `max_len` bytes.
    pub fn with_max_len(namespace: &Namespace, id: &str, max_len: usize) -> Result<Self> {
        if id.is_empty() {
            return Err(Error::invalid_key(format!(
                "key id is empty (namespace {namespace}); ids must be 1 to {max_len} bytes"
            )));
        }
        if id.len() > max_len {
            return Err(Error::invalid_key(format!(
                "key id is {} bytes, over the maximum of {max_len} bytes (namespace {namespace})",
                id.len()
            )));
        }
        Ok(Key {
            namespace: *namespace,
            id: CompactString::new(id),
        })
    }

    /// Parses `namespace:id` (the first `:` separates them), with the default id limit.
    pub fn parse(qualified: &str) -> Result<Self> {
        let Some((ns, id)) = qualified.split_once(':') else {
            return Err(Error::invalid_key(format!(
                "{qualified:?} has no namespace; write it as namespace:id"
            )));
        };
        Key::new(&Namespace::new(ns)?, id)
    }

    /// The namespace.
    #[inline]
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// The id within the namespace.
    #[inline]
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.namespace, self.id)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}:{:?})", self.namespace, self.id.as_str())
    }
}

/// A validated tag: 1 to 256 bytes of UTF-8 without control characters.
///
/// Tags group entries across keys so they can be invalidated together.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(Arc<str>);

impl Tag {
    /// Validates and wraps a tag.
    pub fn new(tag: impl AsRef<str>) -> Result<Self> {
        let tag = tag.as_ref();
        if tag.is_empty() || tag.len() > MAX_TAG_LEN {
            return Err(Error::invalid_key(format!(
                "tag is {} bytes; tags must be 1 to {MAX_TAG_LEN} bytes",
                tag.len()
            )));
        }
        if tag.chars().any(char::is_control) {
            return Err(Error::invalid_key(format!(
                "tag {tag:?} has a control character"
            )));
        }
        Ok(Tag(Arc::from(tag)))
    }

    /// The tag's text.
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Tag {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({:?})", &*self.0)
    }
}

impl serde::Serialize for Tag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn namespace_rules() {
        for ok in ["a", "users", "A-Z_0.9", &"x".repeat(64)] {
            assert!(Namespace::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a:b", "ü", "{tag}", &"x".repeat(65)] {
            let e = Namespace::new(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidKey, "{bad}");
        }
    }

    #[test]
    fn namespaces_are_interned_once() {
        let a = Namespace::new("interned-ns").unwrap();
        let b = Namespace::new(String::from("interned-ns")).unwrap();
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_ne!(a, Namespace::new("other-ns").unwrap());
    }

    #[test]
    fn key_limits_name_the_limit() {
        let ns = Namespace::new("n").unwrap();
        let e = Key::new(&ns, &"k".repeat(1025)).unwrap_err();
        assert_eq!(
            e.message(),
            "key id is 1025 bytes, over the maximum of 1024 bytes (namespace n)"
        );
        assert!(Key::new(&ns, &"k".repeat(1024)).is_ok());
        assert!(Key::with_max_len(&ns, "abcd", 3).is_err());
        assert_eq!(Key::new(&ns, "").unwrap_err().kind(), ErrorKind::InvalidKey);
    }

    #[test]
    fn parse_splits_on_first_colon() {
        let k = Key::parse("users:a:b").unwrap();
        assert_eq!(k.namespace().as_str(), "users");
        assert_eq!(k.id(), "a:b");
        assert!(Key::parse("nocolon").is_err());
    }

    #[test]
    fn tags_are_validated() {
        assert!(Tag::new("t").is_ok());
        assert!(Tag::new("").is_err());
        assert!(Tag::new("a\nb").is_err());
        assert!(Tag::new("x".repeat(257)).is_err());
    }
}
