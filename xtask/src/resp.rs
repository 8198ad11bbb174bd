//! A minimal blocking RESP2 client over `std::net::TcpStream`, enough to ping and configure the
//! servers xtask starts. The wire format (encoding, reply parsing) is testkit's
//! `crates/strata-testkit/src/resp.rs`, compiled here by path: it is std-only, so xtask still
//! builds while the library crates are mid-edit.

use std::io::{self, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/strata-testkit/src/resp.rs"]
mod wire;

pub(crate) use wire::Reply;

/// Connect, read and write timeout.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The text of a simple or bulk string reply, else an empty string.
pub(crate) fn text(reply: &Reply) -> String {
    reply.as_text().unwrap_or_default()
}

/// Sends one command to `127.0.0.1:port` on a new connection; an error reply becomes `Err`.
pub(crate) fn command(port: u16, args: &[&str]) -> io::Result<Reply> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(stream);
    reader.get_mut().write_all(&wire::encode_command(args))?;
    match wire::read_reply(&mut reader) {
        Ok(Reply::Error(msg)) => Err(io::Error::other(format!("redis error: {msg}"))),
        Ok(reply) => Ok(reply),
        Err(wire::RespError::Io(e)) => Err(e),
        Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
    }
}
