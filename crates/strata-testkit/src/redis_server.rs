//! Real Redis for tests: a private `redis-server` per test ([`RedisServer`]), a tiny blocking
//! RESP2 client ([`command_at`], [`Connection`]) and the shared servers that `cargo xtask test`
//! announces through environment variables ([`shared_redis_url`], [`shared_cluster_urls`]).
//!
//! Everything here uses only the standard library (plus `tempfile` for the server's directory)
//! and only loopback addresses.
//!
//! ```no_run
//! use strata_testkit::redis_server::{shared_redis_url, RedisServer};
//!
//! // A test against the shared server skips (with a printed notice) when it is not running,
//! // and fails under `CI=true` or `STRATA_REQUIRE_REDIS=1`.
//! if let Some(url) = shared_redis_url() {
//!     println!("shared server at {url}");
//! }
//!
//! // A private server for tests that stop, restart or reconfigure it.
//! let mut server = RedisServer::builder().arg("--maxmemory").arg("1mb").start()?;
//! server.command(&["SET", "k", "v"])?;
//! server.stop();
//! server.restart()?;
//! # Ok::<(), strata_testkit::redis_server::ServerError>(())
//! ```

pub use crate::resp::Reply;
use crate::resp::{RespError, encode_command, read_reply};
use std::fmt;
use std::io::{self, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Environment variable holding the URL of the shared standalone server, e.g.
/// `redis://127.0.0.1:6379/`.
pub const REDIS_URL_ENV: &str = "STRATA_REDIS_URL";

/// Environment variable holding the comma-separated URLs of the shared cluster's masters.
pub const CLUSTER_URLS_ENV: &str = "STRATA_REDIS_CLUSTER_URLS";

/// Environment variable that, when `1`, turns a missing shared server into a test failure.
pub const REQUIRE_REDIS_ENV: &str = "STRATA_REQUIRE_REDIS";

/// How to install `redis-server`; part of every error about a missing or broken server.
pub const INSTALL_HINT: &str =
    "install it (Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`)";

/// The program started by [`RedisServer`].
const REDIS_SERVER_BIN: &str = "redis-server";

/// How long [`RedisServer::start`] waits for the first PONG unless told otherwise.
const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);

/// How often start-up polls the server.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Read and write timeout of client connections.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// How many fresh ports [`RedisServerBuilder::start`] tries when the chosen one was taken.
const PORT_ATTEMPTS: usize = 5;

/// Why a server could not be started or a command failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerError {
    /// `redis-server` is not on `PATH`.
    NotFound,
    /// `redis-server` could not be spawned for another reason.
    Spawn(io::Error),
    /// `redis-server` exited during start-up.
    Exited {
        /// The exit status, as printed.
        status: String,
        /// The last lines of the server's log.
        log: String,
    },
    /// `redis-server` did not answer PING in time.
    StartTimeout {
        /// The port it was started on.
        port: u16,
        /// How long start-up waited.
        waited: Duration,
        /// The last lines of the server's log.
        log: String,
    },
    /// A connection or I/O error while talking to a server.
    Io(io::Error),
    /// The server sent something that is not RESP2.
    Protocol(String),
    /// The server answered with an error reply.
    Redis(String),
    /// A URL that is not `redis://[[user]:password@]host:port[/db]`.
    InvalidUrl(String),
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::NotFound => write!(f, "redis-server not found on PATH: {INSTALL_HINT}"),
            ServerError::Spawn(e) => write!(
                f,
                "redis-server could not be started ({e}); it must be on PATH: {INSTALL_HINT}"
            ),
            ServerError::Exited { status, log } => write!(
                f,
                "redis-server exited during start-up ({status}); a working redis-server must \
                 be on PATH: {INSTALL_HINT}\n--- redis-server log ---\n{log}"
            ),
            ServerError::StartTimeout { port, waited, log } => write!(
                f,
                "redis-server on 127.0.0.1:{port} did not answer PING within {waited:?}; a \
                 working redis-server must be on PATH: {INSTALL_HINT}\n--- redis-server log \
                 ---\n{log}"
            ),
            ServerError::Io(e) => write!(f, "redis connection error: {e}"),
            ServerError::Protocol(msg) => write!(f, "redis protocol error: {msg}"),
            ServerError::Redis(msg) => write!(f, "redis error reply: {msg}"),
            ServerError::InvalidUrl(msg) => write!(f, "invalid redis URL: {msg}"),
        }
    }
}

impl std::error::Error for ServerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServerError::Spawn(e) | ServerError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<RespError> for ServerError {
    fn from(e: RespError) -> Self {
        match e {
            RespError::Io(e) => ServerError::Io(e),
            RespError::Protocol(msg) => ServerError::Protocol(msg),
        }
    }
}

impl From<io::Error> for ServerError {
    fn from(e: io::Error) -> Self {
        ServerError::Io(e)
    }
}

// ---------------------------------------------------------------------------------------------
// Shared servers announced by `cargo xtask test`
// ---------------------------------------------------------------------------------------------

/// Whether Redis tests must run rather than skip: `CI=true` (or `CI=1`) or
/// `STRATA_REQUIRE_REDIS=1`.
pub fn redis_required() -> bool {
    let ci = std::env::var("CI").unwrap_or_default();
    let require = std::env::var(REQUIRE_REDIS_ENV).unwrap_or_default();
    ci.eq_ignore_ascii_case("true") || ci == "1" || require == "1"
}

/// Reads a non-empty environment variable.
fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// What to do when a shared server's variable is unset: panic when Redis is required, else
/// print the skip notice and return `None`.
fn shared_server_missing<T>(var: &str) -> Option<T> {
    if redis_required() {
        panic!(
            "this test needs Redis but {var} is not set (Redis is required because CI=true or \
             {REQUIRE_REDIS_ENV}=1): run the tests through `cargo xtask test`, which starts \
             redis-server and sets {REDIS_URL_ENV} and {CLUSTER_URLS_ENV}; redis-server must be \
             on PATH: {INSTALL_HINT}"
        );
    }
    // Straight to the stderr handle: libtest captures `eprintln!` of passing tests, and this
    // notice must be seen.
    let _ = writeln!(
        io::stderr(),
        "skipping Redis test: {var} is not set; run `cargo xtask test` to start servers"
    );
    None
}

/// The URL of the shared standalone server started by `cargo xtask test`
/// (`STRATA_REDIS_URL`).
///
/// When the variable is unset this prints a skip notice to stderr and returns `None`, so a
/// test can `let Some(url) = shared_redis_url() else { return };`. Under `CI=true` (or `CI=1`)
/// or `STRATA_REQUIRE_REDIS=1` it panics instead, telling how to run the tests with Redis.
pub fn shared_redis_url() -> Option<String> {
    non_empty_env(REDIS_URL_ENV).or_else(|| shared_server_missing(REDIS_URL_ENV))
}

/// The URLs of the shared cluster's masters started by `cargo xtask test`
/// (`STRATA_REDIS_CLUSTER_URLS`, comma-separated).
///
/// Skips (notice, `None`) or panics exactly like [`shared_redis_url`] when the variable is
/// unset or empty.
pub fn shared_cluster_urls() -> Option<Vec<String>> {
    let urls: Vec<String> = non_empty_env(CLUSTER_URLS_ENV)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if urls.is_empty() {
        shared_server_missing(CLUSTER_URLS_ENV)
    } else {
        Some(urls)
    }
}

/// Starts a private server for a test that needs one, panicking (never skipping) with the
/// install instructions when `redis-server` is missing or does not start.
pub fn require_private_server() -> RedisServer {
    RedisServer::start().unwrap_or_else(|e| panic!("this test needs a private redis-server: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Private server
// ---------------------------------------------------------------------------------------------

/// Configures a [`RedisServer`] before starting it; made by [`RedisServer::builder`].
#[derive(Debug, Clone)]
pub struct RedisServerBuilder {
    args: Vec<String>,
    password: Option<String>,
    start_timeout: Duration,
    tls_port: bool,
}

impl Default for RedisServerBuilder {
    fn default() -> Self {
        RedisServerBuilder {
            args: Vec::new(),
            password: None,
            start_timeout: DEFAULT_START_TIMEOUT,
            tls_port: false,
        }
    }
}

impl RedisServerBuilder {
    /// Appends one command-line argument for `redis-server`, after the defaults, so it can
    /// override them: `.arg("--maxmemory").arg("1mb")`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several command-line arguments for `redis-server`.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Requires this password (`--requirepass`); [`RedisServer::url`] then carries it and
    /// [`RedisServer::command`] authenticates with it.
    pub fn requirepass(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Also listens for TLS on a second free loopback port (`--tls-port`, see
    /// [`RedisServer::tls_port`] and [`RedisServer::tls_url`]). Give the certificates with
    /// `.arg(..)`: `--tls-cert-file`, `--tls-key-file`, `--tls-ca-cert-file`, ...
    ///
    /// With `.arg("--port").arg("0")` the plain port is off: start-up then waits until the TLS
    /// port accepts connections, and [`RedisServer::command`] / [`RedisServer::connect`]
    /// (plain RESP) cannot reach the server.
    pub fn tls_port(mut self) -> Self {
        self.tls_port = true;
        self
    }

    /// How long start-up (and restart) waits for PING to answer PONG; 10 s by default.
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Starts the server on a free loopback port and waits until it answers PING.
    pub fn start(self) -> Result<RedisServer, ServerError> {
        let mut attempt = 1;
        loop {
            let mut server = RedisServer {
                child: None,
                port: free_port()?,
                tls_port: if self.tls_port {
                    Some(free_port()?)
                } else {
                    None
                },
                dir: tempfile::Builder::new().prefix("strata-redis-").tempdir()?,
                args: self.args.clone(),
                password: self.password.clone(),
                start_timeout: self.start_timeout,
            };
            match server.launch() {
                Ok(()) => return Ok(server),
                // Another process took the port between our probe and the server's bind.
                Err(e) if is_port_clash(&e) && attempt < PORT_ATTEMPTS => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether a start-up failure was the port being taken.
fn is_port_clash(e: &ServerError) -> bool {
    matches!(e, ServerError::Exited { log, .. } if log.contains("Address already in use"))
}

/// A private `redis-server` process on a free loopback port, without persistence, with its
/// files in a temporary directory. Killed (by PID) and waited for on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    tls_port: Option<u16>,
    dir: TempDir,
    args: Vec<String>,
    password: Option<String>,
    start_timeout: Duration,
}

impl RedisServer {
    /// Starts a server with the default configuration and waits until it answers PING.
    pub fn start() -> Result<Self, ServerError> {
        Self::builder().start()
    }

    /// A builder for a server with extra `redis-server` arguments or a password.
    pub fn builder() -> RedisServerBuilder {
        RedisServerBuilder::default()
    }

    /// The URL of this server, `redis://127.0.0.1:PORT/`, or
    /// `redis://:PASSWORD@127.0.0.1:PORT/` when a password is required.
    pub fn url(&self) -> String {
        match &self.password {
            Some(pw) => format!("redis://:{}@127.0.0.1:{}/", percent_encode(pw), self.port),
            None => format!("redis://127.0.0.1:{}/", self.port),
        }
    }

    /// The loopback port the server listens on; it stays the same across [`restart`](Self::restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TLS port, when the server was built with
    /// [`tls_port`](RedisServerBuilder::tls_port); it stays the same across
    /// [`restart`](Self::restart).
    pub fn tls_port(&self) -> Option<u16> {
        self.tls_port
    }

    /// `rediss://127.0.0.1:TLS_PORT/` (with `:PASSWORD@` when a password is required), when
    /// the server was built with [`tls_port`](RedisServerBuilder::tls_port).
    pub fn tls_url(&self) -> Option<String> {
        let port = self.tls_port?;
        Some(match &self.password {
            Some(pw) => format!("rediss://:{}@127.0.0.1:{port}/", percent_encode(pw)),
            None => format!("rediss://127.0.0.1:{port}/"),
        })
    }

    /// The process id of the running server, or `None` after [`stop`](Self::stop).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the server process is running (it has not been stopped and has not exited).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The temporary directory holding the server's files (its log is `redis.log` there).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Kills the server (SIGKILL, by PID) and waits for it to exit. Does nothing when it is
    /// already stopped. The port is kept for [`restart`](Self::restart).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server if it runs, then starts it again on the same port with the same
    /// arguments and waits until it answers PING. Data is not kept (there is no persistence).
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.stop();
        self.launch()
    }

    /// Sends one command on a new connection (authenticated when a password is required) and
    /// returns the reply; an error reply is returned as [`ServerError::Redis`].
    pub fn command(&self, args: &[&str]) -> Result<Reply, ServerError> {
        self.connect()?.command(args)
    }

    /// Opens a connection to this server (authenticated when a password is required), for
    /// several commands in a row.
    pub fn connect(&self) -> Result<Connection, ServerError> {
        Connection::open(&self.url())
    }

    /// Spawns the process on `self.port` and waits for PONG.
    fn launch(&mut self) -> Result<(), ServerError> {
        let log_path = self.dir.path().join("redis.log");
        // Start each launch with an empty log, so errors show this launch's lines.
        let _ = std::fs::remove_file(&log_path);
        let mut cmd = Command::new(REDIS_SERVER_BIN);
        cmd.arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--protected-mode", "no"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(&log_path);
        if let Some(pw) = &self.password {
            cmd.arg("--requirepass").arg(pw);
        }
        if let Some(port) = self.tls_port {
            cmd.arg("--tls-port").arg(port.to_string());
        }
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ServerError::NotFound,
            _ => ServerError::Spawn(e),
        })?;
        self.child = Some(child);
        let result = self.wait_ready(&log_path);
        if result.is_err() {
            self.stop();
        }
        result
    }

    /// Whether the arguments turn the plain port off (`--port 0`).
    fn plain_port_off(&self) -> bool {
        self.args
            .windows(2)
            .any(|w| w[0] == "--port" && w[1] == "0")
    }

    /// Polls until PING answers PONG (or, with the plain port off, until the TLS port accepts
    /// connections), the process exits, or the start timeout passes.
    fn wait_ready(&mut self, log_path: &Path) -> Result<(), ServerError> {
        let started = Instant::now();
        let url = self.url();
        let tls_only = self.tls_port.filter(|_| self.plain_port_off());
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                return Err(ServerError::Exited {
                    status: status.to_string(),
                    log: log_tail(log_path),
                });
            }
            let pong = match tls_only {
                Some(port) => TcpStream::connect_timeout(
                    &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                    POLL_INTERVAL * 5,
                )
                .is_ok(),
                None => Connection::open(&url)
                    .and_then(|mut c| c.command(&["PING"]))
                    .map(|r| r == Reply::Simple("PONG".into()))
                    .unwrap_or(false),
            };
            if pong {
                return Ok(());
            }
            if started.elapsed() >= self.start_timeout {
                return Err(ServerError::StartTimeout {
                    port: self.port,
                    waited: started.elapsed(),
                    log: log_tail(log_path),
                });
            }
            thread::sleep(POLL_INTERVAL);
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Picks a free loopback port by binding port 0 and releasing it.
fn free_port() -> Result<u16, ServerError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The last lines of a log file, or a note that it could not be read.
fn log_tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        }
        Err(e) => format!("(no log at {}: {e})", path.display()),
    }
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/// Where and how to connect, parsed from a `redis://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<String>,
    db: Option<u32>,
}

/// Parses `redis://[[username]:password@]host:port[/db]` (percent-encoded credentials).
fn parse_url(url: &str) -> Result<Target, ServerError> {
    let invalid = |why: &str| ServerError::InvalidUrl(format!("{url:?}: {why}"));
    let rest = url
        .strip_prefix("redis://")
        .ok_or_else(|| invalid("must start with redis://"))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(u) => {
            let (user, pw) = match u.split_once(':') {
                Some((user, pw)) => (user, Some(pw)),
                None => (u, None),
            };
            let user = (!user.is_empty())
                .then(|| percent_decode(user))
                .transpose()
                .map_err(|e| invalid(&e))?;
            let pw = pw
                .map(percent_decode)
                .transpose()
                .map_err(|e| invalid(&e))?;
            (user, pw)
        }
    };
    let (host, port) = hostport
        .rsplit_once(':')
        .ok_or_else(|| invalid("missing :port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(invalid("missing host"));
    }
    let port = port.parse().map_err(|_| invalid("bad port"))?;
    let path = path.trim_end_matches('/');
    let db = if path.is_empty() {
        None
    } else {
        Some(path.parse().map_err(|_| invalid("bad database number"))?)
    };
    Ok(Target {
        host: host.to_owned(),
        port,
        username,
        password,
        db,
    })
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes.
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("credentials in {s:?} are not UTF-8"))
}

/// A blocking RESP2 connection to one server.
#[derive(Debug)]
pub struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    /// Connects to `redis://[[username]:password@]host:port[/db]`, authenticating and
    /// selecting the database when the URL says so.
    pub fn open(url: &str) -> Result<Self, ServerError> {
        let target = parse_url(url)?;
        let addrs: Vec<SocketAddr> =
            std::net::ToSocketAddrs::to_socket_addrs(&(target.host.as_str(), target.port))?
                .collect();
        let mut last = None;
        let mut stream = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let stream = match stream {
            Some(s) => s,
            None => {
                return Err(ServerError::Io(last.unwrap_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, "host resolved to no address")
                })));
            }
        };
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        let mut conn = Connection {
            reader: BufReader::new(stream),
        };
        if let Some(pw) = &target.password {
            match &target.username {
                Some(user) => conn.command(&["AUTH", user, pw])?,
                None => conn.command(&["AUTH", pw])?,
            };
        }
        if let Some(db) = target.db.filter(|&db| db != 0) {
            conn.command(&["SELECT", &db.to_string()])?;
        }
        Ok(conn)
    }

    /// Sends one command and reads its reply; an error reply is returned as
    /// [`ServerError::Redis`].
    pub fn command(&mut self, args: &[&str]) -> Result<Reply, ServerError> {
        let frame = encode_command(args);
        self.reader.get_mut().write_all(&frame)?;
        match read_reply(&mut self.reader)? {
            Reply::Error(msg) => Err(ServerError::Redis(msg)),
            reply => Ok(reply),
        }
    }
}

/// Sends one command to the server at `url` on a new connection and returns its reply; an
/// error reply is returned as [`ServerError::Redis`]. `url` is
/// `redis://[[username]:password@]host:port[/db]`, as in `STRATA_REDIS_URL`.
pub fn command_at(url: &str, args: &[&str]) -> Result<Reply, ServerError> {
    Connection::open(url)?.command(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            parse_url("redis://127.0.0.1:6379/").unwrap(),
            Target {
                host: "127.0.0.1".into(),
                port: 6379,
                username: None,
                password: None,
                db: None
            }
        );
        let t = parse_url("redis://:p%40ss%3Aw@127.0.0.1:7000/2").unwrap();
        assert_eq!(t.password.as_deref(), Some("p@ss:w"));
        assert_eq!(t.username, None);
        assert_eq!(t.db, Some(2));
        let t = parse_url("redis://alice:secret@localhost:1").unwrap();
        assert_eq!(t.username.as_deref(), Some("alice"));
        assert_eq!(t.host, "localhost");
        assert!(parse_url("http://127.0.0.1:1/").is_err());
        assert!(parse_url("redis://127.0.0.1/").is_err());
        assert!(parse_url("redis://127.0.0.1:x/").is_err());
    }

    #[test]
    fn password_round_trips_through_url_encoding() {
        let pw = "a b/c@d:e%f";
        let url = format!("redis://:{}@127.0.0.1:1/", percent_encode(pw));
        assert_eq!(parse_url(&url).unwrap().password.as_deref(), Some(pw));
    }

    #[test]
    fn errors_tell_how_to_install() {
        let msg = ServerError::NotFound.to_string();
        assert!(msg.starts_with("redis-server not found on PATH: install it"));
        assert!(msg.contains("apt-get install -y redis-server"));
        assert!(msg.contains("brew install redis"));
        let exited = ServerError::Exited {
            status: "exit status: 1".into(),
            log: String::new(),
        };
        assert!(exited.to_string().contains(INSTALL_HINT));
    }
}
