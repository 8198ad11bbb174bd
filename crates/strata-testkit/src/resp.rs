//! The RESP2 wire format: encoding a command, parsing a reply.
//!
//! This file uses nothing but `std`: `strata-testkit` exposes it as `resp`, and xtask compiles
//! the same file (`#[path]`) for the servers it starts, so there is one RESP parser.

use std::fmt;
use std::io::{self, BufRead};

/// Why a reply could not be read.
#[derive(Debug)]
pub enum RespError {
    /// The connection failed or closed.
    Io(io::Error),
    /// The bytes are not valid RESP2.
    Protocol(String),
}

impl fmt::Display for RespError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RespError::Io(e) => write!(f, "{e}"),
            RespError::Protocol(msg) => write!(f, "redis protocol error: {msg}"),
        }
    }
}

impl std::error::Error for RespError {}

impl From<io::Error> for RespError {
    fn from(e: io::Error) -> Self {
        RespError::Io(e)
    }
}

/// A reply in the RESP2 protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A simple string (`+OK`).
    Simple(String),
    /// An error reply (`-ERR ...`), as it appears nested in an array. A top-level error reply
    /// is usually turned into an error by the caller.
    Error(String),
    /// An integer (`:42`).
    Integer(i64),
    /// A bulk string (`$3\r\nfoo`), as raw bytes.
    Bulk(Vec<u8>),
    /// An array of replies.
    Array(Vec<Reply>),
    /// The null bulk string or null array (`$-1`, `*-1`).
    Nil,
}

impl Reply {
    /// The text of a simple or bulk string (bulk bytes decoded lossily as UTF-8), else `None`.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Reply::Simple(s) => Some(s.clone()),
            Reply::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    /// The value of an integer reply, else `None`.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Reply::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The elements of an array reply, else `None`.
    pub fn as_array(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(items) => Some(items),
            _ => None,
        }
    }

    /// Whether this is the null reply.
    pub fn is_nil(&self) -> bool {
        matches!(self, Reply::Nil)
    }

    /// Whether this is the simple string `OK`.
    pub fn is_ok(&self) -> bool {
        matches!(self, Reply::Simple(s) if s == "OK")
    }
}

/// Encodes a command as a RESP2 array of bulk strings.
pub fn encode_command(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one CRLF-terminated line, without the CRLF.
fn read_line(r: &mut impl BufRead) -> Result<String, RespError> {
    let mut line = Vec::new();
    let n = r.read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(RespError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed by the server",
        )));
    }
    if !line.ends_with(b"\r\n") {
        return Err(RespError::Protocol(format!(
            "line not terminated by CRLF: {:?}",
            String::from_utf8_lossy(&line)
        )));
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|_| RespError::Protocol("line is not UTF-8".into()))
}

/// Parses a length or integer field.
fn parse_int(s: &str) -> Result<i64, RespError> {
    s.parse()
        .map_err(|_| RespError::Protocol(format!("bad integer {s:?}")))
}

/// Reads one RESP2 reply (recursively for arrays). Error replies are returned as
/// [`Reply::Error`].
pub fn read_reply(r: &mut impl BufRead) -> Result<Reply, RespError> {
    let line = read_line(r)?;
    let (kind, rest) = match line.chars().next() {
        Some(c) => (c, &line[c.len_utf8()..]),
        None => return Err(RespError::Protocol("empty line".into())),
    };
    match kind {
        '+' => Ok(Reply::Simple(rest.to_owned())),
        '-' => Ok(Reply::Error(rest.to_owned())),
        ':' => Ok(Reply::Integer(parse_int(rest)?)),
        '$' => {
            let len = parse_int(rest)?;
            if len < 0 {
                return Ok(Reply::Nil);
            }
            let len = usize::try_from(len)
                .map_err(|_| RespError::Protocol(format!("bulk length {len} too large")))?;
            let mut buf = vec![0; len + 2];
            r.read_exact(&mut buf)?;
            if !buf.ends_with(b"\r\n") {
                return Err(RespError::Protocol(
                    "bulk string not followed by CRLF".into(),
                ));
            }
            buf.truncate(len);
            Ok(Reply::Bulk(buf))
        }
        '*' => {
            let len = parse_int(rest)?;
            if len < 0 {
                return Ok(Reply::Nil);
            }
            let len = usize::try_from(len)
                .map_err(|_| RespError::Protocol(format!("array length {len} too large")))?;
            let mut items = Vec::with_capacity(len.min(1024));
            for _ in 0..len {
                items.push(read_reply(r)?);
            }
            Ok(Reply::Array(items))
        }
        other => Err(RespError::Protocol(format!(
            "unknown reply type {other:?} in {line:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn parse(bytes: &[u8]) -> Result<Reply, RespError> {
        read_reply(&mut Cursor::new(bytes.to_vec()))
    }

    #[test]
    fn parses_scalars() {
        assert_eq!(parse(b"+PONG\r\n").unwrap(), Reply::Simple("PONG".into()));
        assert_eq!(
            parse(b"-ERR unknown command\r\n").unwrap(),
            Reply::Error("ERR unknown command".into())
        );
        assert_eq!(parse(b":-42\r\n").unwrap(), Reply::Integer(-42));
        assert_eq!(
            parse(b"$3\r\nfoo\r\n").unwrap(),
            Reply::Bulk(b"foo".to_vec())
        );
        assert_eq!(parse(b"$0\r\n\r\n").unwrap(), Reply::Bulk(Vec::new()));
        assert_eq!(parse(b"$-1\r\n").unwrap(), Reply::Nil);
        assert_eq!(parse(b"*-1\r\n").unwrap(), Reply::Nil);
    }

    #[test]
    fn bulk_may_contain_crlf_and_binary() {
        assert_eq!(
            parse(b"$6\r\na\r\n\x00\xffb\r\n").unwrap(),
            Reply::Bulk(b"a\r\n\x00\xffb".to_vec())
        );
    }

    #[test]
    fn parses_nested_arrays() {
        let reply = parse(b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n-ERR x\r\n").unwrap();
        assert_eq!(
            reply,
            Reply::Array(vec![
                Reply::Integer(1),
                Reply::Array(vec![Reply::Bulk(b"a".to_vec()), Reply::Nil]),
                Reply::Error("ERR x".into()),
            ])
        );
        assert_eq!(parse(b"*0\r\n").unwrap(), Reply::Array(Vec::new()));
    }

    #[test]
    fn reads_consecutive_replies() {
        let mut cur = Cursor::new(b"+OK\r\n:7\r\n".to_vec());
        assert!(read_reply(&mut cur).unwrap().is_ok());
        assert_eq!(read_reply(&mut cur).unwrap().as_int(), Some(7));
    }

    #[test]
    fn rejects_malformed_input() {
        assert!(matches!(parse(b"?x\r\n"), Err(RespError::Protocol(_))));
        assert!(matches!(parse(b":12a\r\n"), Err(RespError::Protocol(_))));
        assert!(matches!(parse(b"+OK\n"), Err(RespError::Protocol(_))));
        assert!(matches!(parse(b"$3\r\nfooXY"), Err(RespError::Protocol(_))));
        assert!(matches!(parse(b"$5\r\nfoo\r\n"), Err(RespError::Io(_))));
        assert!(matches!(parse(b""), Err(RespError::Io(_))));
        assert!(matches!(parse(b"*2\r\n:1\r\n"), Err(RespError::Io(_))));
    }

    #[test]
    fn encodes_commands_as_bulk_arrays() {
        assert_eq!(
            encode_command(&["SET", "k", ""]),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n".to_vec()
        );
    }

    #[test]
    fn reply_accessors() {
        assert_eq!(Reply::Bulk(b"x".to_vec()).as_text().as_deref(), Some("x"));
        assert_eq!(Reply::Simple("y".into()).as_text().as_deref(), Some("y"));
        assert_eq!(Reply::Integer(1).as_text(), None);
        assert!(Reply::Nil.is_nil());
        assert_eq!(
            Reply::Array(vec![Reply::Nil]).as_array().map(<[_]>::len),
            Some(1)
        );
    }
}
