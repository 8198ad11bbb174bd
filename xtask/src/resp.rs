//! A minimal blocking RESP2 client over `std::net::TcpStream`, enough to ping and configure the
//! servers xtask starts. (The tests' client lives in `strata-testkit::redis_server`; xtask keeps
//! its own so it builds even while the library crates are mid-edit.)

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// Connect, read and write timeout.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// `+text`
    Simple(String),
    /// `-text`
    Error(String),
    /// `:n`
    Integer(i64),
    /// `$n` followed by n bytes.
    Bulk(Vec<u8>),
    /// `*n` followed by n replies.
    Array(Vec<Reply>),
    /// `$-1` or `*-1`.
    Nil,
}

impl Reply {
    /// The text of a simple or bulk string, else an empty string.
    pub(crate) fn text(&self) -> String {
        match self {
            Reply::Simple(s) => s.clone(),
            Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        }
    }
}

/// Sends one command to `127.0.0.1:port` on a new connection; an error reply becomes `Err`.
pub(crate) fn command(port: u16, args: &[&str]) -> io::Result<Reply> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(stream);
    reader.get_mut().write_all(&encode(args))?;
    match read_reply(&mut reader)? {
        Reply::Error(msg) => Err(io::Error::other(format!("redis error: {msg}"))),
        reply => Ok(reply),
    }
}

/// Encodes a command as an array of bulk strings.
fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A protocol error.
fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Reads one reply.
fn read_reply(r: &mut impl BufRead) -> io::Result<Reply> {
    let mut line = Vec::new();
    if r.read_until(b'\n', &mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    if !line.ends_with(b"\r\n") || line.len() < 3 {
        return Err(bad(format!(
            "bad line {:?}",
            String::from_utf8_lossy(&line)
        )));
    }
    let rest = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
    let int = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| bad(format!("bad integer {s:?}")))
    };
    match line[0] {
        b'+' => Ok(Reply::Simple(rest)),
        b'-' => Ok(Reply::Error(rest)),
        b':' => Ok(Reply::Integer(int(&rest)?)),
        b'$' => match usize::try_from(int(&rest)?) {
            Err(_) => Ok(Reply::Nil),
            Ok(len) => {
                let mut buf = vec![0; len + 2];
                r.read_exact(&mut buf)?;
                if !buf.ends_with(b"\r\n") {
                    return Err(bad("bulk string not followed by CRLF".into()));
                }
                buf.truncate(len);
                Ok(Reply::Bulk(buf))
            }
        },
        b'*' => match usize::try_from(int(&rest)?) {
            Err(_) => Ok(Reply::Nil),
            Ok(len) => (0..len)
                .map(|_| read_reply(r))
                .collect::<io::Result<_>>()
                .map(Reply::Array),
        },
        other => Err(bad(format!("unknown reply type {:?}", other as char))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Parses one reply from bytes.
    fn parse(bytes: &[u8]) -> io::Result<Reply> {
        read_reply(&mut Cursor::new(bytes.to_vec()))
    }

    #[test]
    fn parses_replies() {
        assert_eq!(parse(b"+PONG\r\n").unwrap(), Reply::Simple("PONG".into()));
        assert_eq!(parse(b"-ERR x\r\n").unwrap(), Reply::Error("ERR x".into()));
        assert_eq!(parse(b":5\r\n").unwrap(), Reply::Integer(5));
        assert_eq!(parse(b"$-1\r\n").unwrap(), Reply::Nil);
        assert_eq!(
            parse(b"*2\r\n$2\r\na\n\r\n*-1\r\n").unwrap(),
            Reply::Array(vec![Reply::Bulk(b"a\n".to_vec()), Reply::Nil])
        );
        assert!(parse(b"$4\r\nab\r\n").is_err());
        assert!(parse(b"!x\r\n").is_err());
    }

    #[test]
    fn encodes_commands() {
        assert_eq!(encode(&["PING"]), b"*1\r\n$4\r\nPING\r\n".to_vec());
    }
}
