//! The backplane's wire format: invalidations and heartbeats, as bytes on the bus. Specified
//! in docs/format.md ("Backplane messages"); decoding is bounds-checked and never panics.

use strata_core::{Error, Key, Namespace, Pattern, Result, Selector, Tag, Timestamp};

/// The first two bytes of every backplane message (`0xFF 'B'`).
const MAGIC: [u8; 2] = [0xFF, 0x42];
/// The format version this build writes and reads.
const VERSION: u8 = 1;
const KIND_INVALIDATION: u8 = 1;
const KIND_HEARTBEAT: u8 = 2;

/// The scope name of invalidations that are not confined to one namespace (tags, all).
/// `*` cannot appear in a namespace, so it never collides with one.
pub(crate) const ALL_SCOPE: &str = "*";

/// A node's identity on the bus: random, fresh for every store instance.
pub(crate) type NodeId = u128;

/// One backplane message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Message {
    /// The publisher.
    pub(crate) node: NodeId,
    /// An invalidation: its sequence number; a heartbeat: the last one the node sent (0 =
    /// none yet).
    pub(crate) seq: u64,
    /// When the publisher sent it, by its clock.
    pub(crate) sent_at: Timestamp,
    /// What it says.
    pub(crate) body: Body,
}

/// What a message says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// Drop what `selector` selects. `scope_seq` numbers the node's messages of this scope
    /// (the selector's namespace, or [`ALL_SCOPE`]).
    Invalidation {
        /// Sequence number among the node's messages of the same scope.
        scope_seq: u64,
        /// What to drop.
        selector: Selector,
    },
    /// The node is alive; `scopes` holds the last scope sequence number of each scope it
    /// has published in.
    Heartbeat {
        /// `(scope, last scope_seq)` pairs.
        scopes: Vec<(String, u64)>,
    },
}

/// The scope of a selector: its namespace, or [`ALL_SCOPE`].
pub(crate) fn scope_of(selector: &Selector) -> &str {
    match selector {
        Selector::Key(k) => k.namespace().as_str(),
        Selector::Pattern { namespace, .. } | Selector::Namespace(namespace) => namespace.as_str(),
        _ => ALL_SCOPE,
    }
}

fn put_short(out: &mut Vec<u8>, s: &str) {
    // Namespaces and scope names are at most 64 bytes.
    let len = u8::try_from(s.len()).unwrap_or(u8::MAX);
    out.push(len);
    out.extend_from_slice(&s.as_bytes()[..usize::from(len)]);
}

fn put_long(out: &mut Vec<u8>, s: &str) {
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&s.as_bytes()[..len as usize]);
}

impl Message {
    /// The message's bytes. Selectors the format does not know (a future variant) are sent
    /// as `All`, which drops more, never less.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.push(match self.body {
            Body::Invalidation { .. } => KIND_INVALIDATION,
            Body::Heartbeat { .. } => KIND_HEARTBEAT,
        });
        out.extend_from_slice(&self.node.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.sent_at.as_nanos().to_be_bytes());
        match &self.body {
            Body::Invalidation {
                scope_seq,
                selector,
            } => {
                out.extend_from_slice(&scope_seq.to_be_bytes());
                match selector {
                    Selector::Key(k) => {
                        out.push(0);
                        put_short(&mut out, k.namespace().as_str());
                        put_long(&mut out, k.id());
                    }
                    Selector::Pattern { namespace, pattern } => {
                        out.push(1);
                        put_short(&mut out, namespace.as_str());
                        put_long(&mut out, pattern.as_str());
                    }
                    Selector::Tags(tags) => {
                        out.push(2);
                        let n = u16::try_from(tags.len()).unwrap_or(u16::MAX);
                        out.extend_from_slice(&n.to_be_bytes());
                        for t in tags.iter().take(usize::from(n)) {
                            put_long(&mut out, t.as_str());
                        }
                    }
                    Selector::Namespace(ns) => {
                        out.push(3);
                        put_short(&mut out, ns.as_str());
                    }
                    _ => out.push(4),
                }
            }
            Body::Heartbeat { scopes } => {
                let n = u16::try_from(scopes.len()).unwrap_or(u16::MAX);
                out.extend_from_slice(&n.to_be_bytes());
                for (scope, seq) in scopes.iter().take(usize::from(n)) {
                    put_short(&mut out, scope);
                    out.extend_from_slice(&seq.to_be_bytes());
                }
            }
        }
        out
    }

    /// Parses a message; anything malformed is a `Codec` error.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Message> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(2)? != MAGIC {
            return Err(bad("not a backplane message (wrong magic)"));
        }
        let version = r.u8()?;
        if version != VERSION {
            return Err(bad(&format!("unknown backplane format version {version}")));
        }
        let kind = r.u8()?;
        let node = u128::from_be_bytes(r.array::<16>()?);
        let seq = r.u64()?;
        let sent_at = Timestamp::from_nanos(r.u64()?);
        let body = match kind {
            KIND_INVALIDATION => {
                let scope_seq = r.u64()?;
                let selector = match r.u8()? {
                    0 => {
                        let ns = namespace(r.short()?)?;
                        let id = r.long()?;
                        Selector::Key(Key::with_max_len(&ns, id, u32::MAX as usize).map_err(wrap)?)
                    }
                    1 => {
                        let ns = namespace(r.short()?)?;
                        let pattern = Pattern::new(r.long()?).map_err(wrap)?;
                        Selector::Pattern {
                            namespace: ns,
                            pattern,
                        }
                    }
                    2 => {
                        let n = r.u16()?;
                        let mut tags = Vec::with_capacity(usize::from(n).min(64));
                        for _ in 0..n {
                            tags.push(Tag::new(r.long()?).map_err(wrap)?);
                        }
                        Selector::Tags(tags)
                    }
                    3 => Selector::Namespace(namespace(r.short()?)?),
                    4 => Selector::All,
                    other => return Err(bad(&format!("unknown selector {other}"))),
                };
                Body::Invalidation {
                    scope_seq,
                    selector,
                }
            }
            KIND_HEARTBEAT => {
                let n = r.u16()?;
                let mut scopes = Vec::with_capacity(usize::from(n).min(64));
                for _ in 0..n {
                    let scope = r.short()?.to_owned();
                    scopes.push((scope, r.u64()?));
                }
                Body::Heartbeat { scopes }
            }
            other => return Err(bad(&format!("unknown message kind {other}"))),
        };
        if r.pos != bytes.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(Message {
            node,
            seq,
            sent_at,
            body,
        })
    }
}

fn bad(what: &str) -> Error {
    Error::new(
        strata_core::ErrorKind::Codec,
        format!("backplane message: {what}"),
    )
}

fn wrap(e: Error) -> Error {
    bad(&e.to_string())
}

fn namespace(s: &str) -> Result<Namespace> {
    Namespace::new(s).map_err(wrap)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| bad("truncated"))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn text(&mut self, n: usize) -> Result<&'a str> {
        std::str::from_utf8(self.take(n)?).map_err(|_| bad("text is not UTF-8"))
    }

    fn short(&mut self) -> Result<&'a str> {
        let n = self.u8()?;
        self.text(usize::from(n))
    }

    fn long(&mut self) -> Result<&'a str> {
        let n = u32::from_be_bytes(self.array()?);
        self.text(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(s: &str) -> Namespace {
        Namespace::new(s).unwrap()
    }

    fn roundtrip(body: Body) {
        let m = Message {
            node: 0x0123_4567_89ab_cdef_0011_2233_4455_6677,
            seq: 42,
            sent_at: Timestamp::from_nanos(1_700_000_000_123_456_789),
            body,
        };
        let bytes = m.encode();
        assert_eq!(Message::decode(&bytes).unwrap(), m);
        // Every truncation is an error, never a panic.
        for cut in 0..bytes.len() {
            assert!(Message::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Message::decode(&longer).is_err());
    }

    #[test]
    fn every_selector_and_heartbeats_roundtrip() {
        let users = ns("users");
        for selector in [
            Selector::Key(Key::new(&users, "42:{x}").unwrap()),
            Selector::Pattern {
                namespace: users,
                pattern: Pattern::new("4*").unwrap(),
            },
            Selector::Tags(vec![Tag::new("org:7").unwrap(), Tag::new("t").unwrap()]),
            Selector::Namespace(users),
            Selector::All,
        ] {
            roundtrip(Body::Invalidation {
                scope_seq: 7,
                selector,
            });
        }
        roundtrip(Body::Heartbeat {
            scopes: vec![("users".into(), 3), (ALL_SCOPE.into(), 1)],
        });
        roundtrip(Body::Heartbeat { scopes: vec![] });
    }

    #[test]
    fn foreign_bytes_are_errors() {
        for bytes in [&b""[..], b"hello", &[0xFF, 0x42, 9], &[0xFF, 0x53, 1, 1]] {
            assert!(Message::decode(bytes).is_err());
        }
        // A valid header with an unknown selector, and a bad namespace.
        let mut m = Message {
            node: 1,
            seq: 1,
            sent_at: Timestamp::EPOCH,
            body: Body::Invalidation {
                scope_seq: 1,
                selector: Selector::All,
            },
        }
        .encode();
        *m.last_mut().unwrap() = 9;
        assert!(Message::decode(&m).is_err());
        let mut m = Message {
            node: 1,
            seq: 1,
            sent_at: Timestamp::EPOCH,
            body: Body::Invalidation {
                scope_seq: 1,
                selector: Selector::Namespace(ns("ab")),
            },
        }
        .encode();
        let n = m.len();
        m[n - 1] = b'*';
        assert!(Message::decode(&m).is_err());
    }

    #[test]
    fn scopes() {
        let users = ns("users");
        assert_eq!(scope_of(&Selector::Namespace(users)), "users");
        assert_eq!(scope_of(&Selector::All), ALL_SCOPE);
        assert_eq!(scope_of(&Selector::Tags(vec![])), ALL_SCOPE);
    }
}
