//! Glob patterns with Redis `KEYS`/`SCAN MATCH` semantics, matched against key ids.
//!
//! Supported: `*` (any run of bytes, also empty), `?` (exactly one byte), `[abc]`, `[^a]`,
//! `[a-z]` (a reversed range such as `[z-a]` is read as `[a-z]`, as Redis does), and `\`
//! escaping the next character anywhere. Matching works on bytes, like Redis, and runs in
//! `O(len(pattern) * len(id))` at worst: there is no exponential backtracking, whatever the
//! pattern. Two inputs Redis accepts silently are rejected here with
//! [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) because they are almost
//! always mistakes: an unterminated `[` and a trailing lone `\`.

use std::fmt;

use crate::error::{Error, Result};

/// The longest pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(u8),
    AnyOne,
    Star,
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClassItem {
    Byte(u8),
    Range(u8, u8),
}

impl Token {
    fn matches(&self, b: u8) -> bool {
        match self {
            Token::Literal(l) => *l == b,
            Token::AnyOne => true,
            Token::Star => true,
            Token::Class { negated, items } => {
                let hit = items.iter().any(|item| match *item {
                    ClassItem::Byte(x) => x == b,
                    ClassItem::Range(lo, hi) => lo <= b && b <= hi,
                });
                hit != *negated
            }
        }
    }
}

/// A compiled glob pattern.
///
/// ```
/// use strata_core::Pattern;
/// let p = Pattern::new("user:[0-9]*").unwrap();
/// assert!(p.matches("user:42"));
/// assert!(!p.matches("user:x"));
/// assert!(Pattern::new("[abc").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    tokens: Vec<Token>,
}

impl Pattern {
    /// Compiles a pattern.
    pub fn new(pattern: impl Into<String>) -> Result<Self> {
        let source = pattern.into();
        if source.len() > MAX_PATTERN_LEN {
            return Err(Error::invalid_argument(format!(
                "pattern is {} bytes, over the maximum of {MAX_PATTERN_LEN} bytes",
                source.len()
            )));
        }
        let tokens = compile(source.as_bytes()).map_err(|m| {
            Error::invalid_argument(format!("pattern {source:?} is malformed: {m}"))
        })?;
        Ok(Pattern { source, tokens })
    }

    /// The pattern `*`, which matches every id.
    pub fn all() -> Self {
        Pattern {
            source: "*".to_owned(),
            tokens: vec![Token::Star],
        }
    }

    /// A pattern that matches exactly `text` (every special character escaped).
    pub fn literal(text: &str) -> Self {
        Pattern {
            source: escape(text),
            tokens: text.bytes().map(Token::Literal).collect(),
        }
    }

    /// The pattern as written; the same string is valid for Redis `SCAN MATCH`.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the pattern matches every id.
    pub fn matches_everything(&self) -> bool {
        !self.tokens.is_empty() && self.tokens.iter().all(|t| *t == Token::Star)
    }

    /// Whether `id` matches the whole pattern.
    pub fn matches(&self, id: &str) -> bool {
        self.matches_bytes(id.as_bytes())
    }

    /// Whether `text` matches the whole pattern, byte by byte.
    pub fn matches_bytes(&self, text: &[u8]) -> bool {
        let toks = &self.tokens;
        let (mut t, mut s) = (0usize, 0usize);
        // Position of the last star seen and the text position it is currently absorbing up to.
        let mut backtrack: Option<(usize, usize)> = None;
        while s < text.len() {
            match toks.get(t) {
                Some(Token::Star) => {
                    backtrack = Some((t, s));
                    t += 1;
                }
                Some(tok) if tok.matches(text[s]) => {
                    t += 1;
                    s += 1;
                }
                _ => match backtrack {
                    // Let the last star absorb one more byte and retry from just after it.
                    Some((star_t, star_s)) => {
                        backtrack = Some((star_t, star_s + 1));
                        t = star_t + 1;
                        s = star_s + 1;
                    }
                    None => return false,
                },
            }
        }
        toks[t..].iter().all(|tok| *tok == Token::Star)
    }
}

/// Escapes every glob metacharacter in `text` so the result matches it literally.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn compile(p: &[u8]) -> std::result::Result<Vec<Token>, String> {
    let mut tokens = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'*' => {
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
                i += 1;
            }
            b'?' => {
                tokens.push(Token::AnyOne);
                i += 1;
            }
            b'\\' => {
                let Some(&next) = p.get(i + 1) else {
                    return Err(format!("it ends with a lone `\\` at byte {i}"));
                };
                tokens.push(Token::Literal(next));
                i += 2;
            }
            b'[' => {
                let start = i;
                i += 1;
                let negated = p.get(i) == Some(&b'^');
                if negated {
                    i += 1;
                }
                let mut items = Vec::new();
                loop {
                    let Some(&c) = p.get(i) else {
                        return Err(format!("the `[` at byte {start} is never closed"));
                    };
                    match c {
                        b']' => {
                            i += 1;
                            break;
                        }
                        b'\\' => {
                            let Some(&next) = p.get(i + 1) else {
                                return Err(format!("the `[` at byte {start} is never closed"));
                            };
                            items.push(ClassItem::Byte(next));
                            i += 2;
                        }
                        _ => {
                            if p.get(i + 1) == Some(&b'-')
                                && p.get(i + 2).is_some_and(|&e| e != b']')
                            {
                                let mut end = p[i + 2];
                                let mut step = 3;
                                if end == b'\\' {
                                    let Some(&esc) = p.get(i + 3) else {
                                        return Err(format!(
                                            "the `[` at byte {start} is never closed"
                                        ));
                                    };
                                    end = esc;
                                    step = 4;
                                }
                                let (lo, hi) = if c <= end { (c, end) } else { (end, c) };
                                items.push(ClassItem::Range(lo, hi));
                                i += step;
                            } else {
                                items.push(ClassItem::Byte(c));
                                i += 1;
                            }
                        }
                    }
                }
                tokens.push(Token::Class { negated, items });
            }
            c => {
                tokens.push(Token::Literal(c));
                i += 1;
            }
        }
    }
    Ok(tokens)
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.source)
    }
}

impl std::str::FromStr for Pattern {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Pattern::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn table() {
        // (pattern, text, expected)
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "anything", true),
            ("", "", true),
            ("", "a", false),
            ("abc", "abc", true),
            ("abc", "abcd", false),
            ("abc", "ab", false),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("a*", "ba", false),
            ("*a", "ba", true),
            ("*a", "ab", false),
            ("a*c", "abbbc", true),
            ("a*c", "ac", true),
            ("a*c", "acb", false),
            ("a**c", "abc", true),
            ("*b*", "abc", true),
            ("*b*", "ac", false),
            ("?", "a", true),
            ("?", "", false),
            ("?", "ab", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("h?llo", "hello", true),
            ("h*llo", "heeeello", true),
            ("h[ae]llo", "hello", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[a-b]llo", "hcllo", false),
            ("h[b-a]llo", "hallo", true),
            ("[0-9]*", "42abc", true),
            ("[0-9]*", "x42", false),
            ("[^0-9]*", "x42", true),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("\\?x", "?x", true),
            ("a\\[b", "a[b", true),
            ("[\\]]", "]", true),
            ("[\\-a]", "-", true),
            ("[a-]", "-", true),
            ("[a-]", "a", true),
            ("[a-]", "b", false),
            ("[]", "a", false),
            ("[^]", "a", true),
            ("user:*:profile", "user:42:profile", true),
            ("user:*:profile", "user:42:settings", false),
            ("*:*", "a:b", true),
            ("*:*", "ab", false),
            ("ä*", "äbc", true),
            ("?", "ä", false), // two bytes, like Redis
            ("??", "ä", true),
        ];
        assert!(cases.len() >= 40);
        for (p, t, want) in cases {
            let pat = Pattern::new(*p).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert_eq!(pat.matches(t), *want, "pattern {p:?} on {t:?}");
        }
    }

    #[test]
    fn malformed_patterns_are_clear_errors() {
        let e = Pattern::new("ab[cd").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument);
        assert!(e.message().contains("never closed"), "{e}");
        let e = Pattern::new("ab\\").unwrap_err();
        assert!(e.message().contains("lone"), "{e}");
        assert!(Pattern::new("x".repeat(MAX_PATTERN_LEN + 1)).is_err());
    }

    #[test]
    fn escape_round_trips() {
        for text in ["a*b", "[x]", "q?\\", "plain", "a-b^c"] {
            let p = Pattern::new(escape(text)).unwrap();
            assert!(p.matches(text), "{text}");
            assert_eq!(Pattern::literal(text).as_str(), escape(text));
            assert!(Pattern::literal(text).matches(text));
            assert!(!Pattern::literal(text).matches("zzz"));
        }
    }

    #[test]
    fn hostile_patterns_stay_polynomial() {
        let text = "a".repeat(20_000);
        let p = Pattern::new("a*a*a*a*a*a*a*a*a*a*a*a*b").unwrap();
        let start = Instant::now();
        assert!(!p.matches(&text));
        let q = Pattern::new("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*b").unwrap();
        assert!(!q.matches(&text));
        // Linear-ish: an exponential matcher would not finish at all.
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn matches_everything() {
        assert!(Pattern::all().matches_everything());
        assert!(Pattern::new("**").unwrap().matches_everything());
        assert!(!Pattern::new("a*").unwrap().matches_everything());
    }
}
