//! The connection on fred (feature `fred`): the same calls as the redis-rs connection, so the
//! store above is shared.
//!
//! - GET, SET (with PX, NX, XX) and MGET go through fred's own commands: fred coalesces
//!   their writes when many tasks call at once, while it flushes its socket after every
//!   custom command (which cost 40 % of the throughput of 64 concurrent GETs).
//! - Every other redis-rs [`Cmd`] becomes a fred custom command with the same arguments. On a
//!   cluster its hash slot is computed here ([`key_of`]: the first argument, or the first key
//!   of EVAL/EVALSHA/FCALL) and given to fred as `ClusterHash::Custom`.
//! - Replies come back as raw RESP frames and are translated to redis-rs [`Value`]s
//!   ([`frame_to_value`]); error replies become `Value::ServerError` with the same code
//!   (MOVED, ASK, TRYAGAIN, OOM, NOSCRIPT, ...), parsed by redis-rs itself.
//! - Every command is sent with fred's `fail_fast`: while the client is reconnecting a call
//!   fails at once, and a command in flight when its connection drops is answered with an
//!   error, never written again by fred. What is repeated is decided by the store's retry
//!   policy, for idempotent calls only. fred follows MOVED and ASK itself (the server ran
//!   nothing); TRYAGAIN is repeated here for [`FredConn::query_once`].
//! - A batch is one fred pipeline: fred writes each command to the master owning its slot
//!   without waiting for replies, so each master receives one pipeline, and the replies come
//!   back in request order.

use std::io;
use std::time::Duration;

use ::fred::clients::{Client as FredClient, Pipeline, WithOptions};
use ::fred::error::{Error as FredError, ErrorKind as FredKind};
use ::fred::interfaces::{ClientLike, ClusterInterface, KeysInterface};
use ::fred::types::config::{Config, Options, ReconnectPolicy, Server, ServerConfig};
use ::fred::types::{
    Builder, ClusterHash, ConnectHandle, CustomCommand, Resp3Frame, RespVersion, Value as FredValue,
};
use bytes::Bytes;
use redis::{Cmd, ErrorKind, IntoConnectionInfo, RedisError, RedisResult, Value};

use super::{Node, Routed, lift, slot_of};
use crate::config::{RedisConfig, Topology};

/// A fred client on a standalone server or a cluster.
pub(crate) struct FredConn {
    /// The client with the options of every command (fail fast, the command timeout), made
    /// once rather than cloning the client's shared handle and the options on every call.
    client: WithOptions<FredClient>,
    cluster: bool,
    /// The router task; aborted (closing every connection) when the store is dropped.
    task: ConnectHandle,
}

impl Drop for FredConn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Host, port and TLS of a validated URL, plus what it says about the user, password and
/// database.
struct Target {
    host: String,
    port: u16,
    tls: bool,
    username: Option<String>,
    password: Option<String>,
    db: i64,
}

fn target(url: &str) -> RedisResult<Target> {
    let info = url.into_connection_info()?;
    let (host, port, tls) = match info.addr() {
        redis::ConnectionAddr::Tcp(host, port) => (host.clone(), *port, false),
        redis::ConnectionAddr::TcpTls { host, port, .. } => (host.clone(), *port, true),
        _ => {
            return Err(RedisError::from((
                ErrorKind::InvalidClientConfig,
                "fred connects to TCP addresses only",
            )));
        }
    };
    let settings = info.redis_settings();
    Ok(Target {
        host,
        port,
        tls,
        username: settings.username().map(str::to_owned),
        password: settings.password().map(str::to_owned),
        db: settings.db(),
    })
}

impl FredConn {
    /// Connects as `config` says (validated already); fails when the first connection fails.
    pub(crate) async fn connect(config: &RedisConfig) -> RedisResult<FredConn> {
        let (targets, cluster) = match &config.topology {
            Some(Topology::Standalone(url)) => (vec![target(url)?], false),
            Some(Topology::Cluster(urls)) => (
                urls.iter()
                    .map(|u| target(u))
                    .collect::<RedisResult<Vec<_>>>()?,
                true,
            ),
            None => {
                return Err(RedisError::from((
                    ErrorKind::InvalidClientConfig,
                    "no Redis server configured",
                )));
            }
        };
        let Some(first) = targets.first() else {
            return Err(RedisError::from((
                ErrorKind::InvalidClientConfig,
                "cluster: the list of seed nodes is empty",
            )));
        };
        let server = if cluster {
            ServerConfig::Clustered {
                hosts: targets
                    .iter()
                    .map(|t| Server::new(t.host.as_str(), t.port))
                    .collect(),
                policy: Default::default(),
            }
        } else {
            ServerConfig::Centralized {
                server: Server::new(first.host.as_str(), first.port),
            }
        };
        let database = if first.db == 0 {
            None
        } else {
            Some(u8::try_from(first.db).map_err(|_| {
                RedisError::from((
                    ErrorKind::InvalidClientConfig,
                    "fred supports databases 0 to 255 only",
                ))
            })?)
        };
        #[allow(unused_mut)]
        let mut fred_config = Config {
            // The first connection must work; later ones are re-made in the background.
            fail_fast: true,
            username: config.username.clone().or_else(|| first.username.clone()),
            password: config
                .password
                .as_ref()
                .map(|p| p.expose().to_owned())
                .or_else(|| first.password.clone()),
            server,
            version: RespVersion::RESP2,
            database,
            ..Config::default()
        };
        if targets.iter().any(|t| t.tls) {
            #[cfg(feature = "tls")]
            {
                let tls = config
                    .tls
                    .rustls_config()
                    .map_err(|e| RedisError::from((ErrorKind::InvalidClientConfig, "TLS", e)))?;
                fred_config.tls = Some(::fred::types::config::TlsConnector::from(tls).into());
            }
            #[cfg(not(feature = "tls"))]
            return Err(RedisError::from((
                ErrorKind::InvalidClientConfig,
                "rediss:// needs the `tls` feature of strata-redis",
            )));
        }
        let max_delay = u32::try_from(config.retry.max_delay.as_millis())
            .unwrap_or(u32::MAX)
            .clamp(50, 5_000);
        let client = Builder::from_config(fred_config)
            .with_connection_config(|c| {
                c.connection_timeout = config.connect_timeout;
                c.internal_command_timeout = config.connect_timeout;
            })
            .with_performance_config(|p| {
                p.default_command_timeout = config.command_timeout;
            })
            // Reconnect forever in the background, from 50 ms up to the retry policy's
            // largest wait; calls made meanwhile fail fast.
            .set_policy(ReconnectPolicy::new_exponential(0, 50, max_delay, 2))
            .build()
            .map_err(|e| redis_error(&e))?;
        let task = client.init().await.map_err(|e| redis_error(&e))?;
        let options = Options {
            fail_fast: true,
            timeout: Some(config.command_timeout),
            ..Options::default()
        };
        Ok(FredConn {
            client: client.with_options(&options),
            cluster,
            task,
        })
    }

    pub(crate) fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// The fred command for `cmd`, routed to `slot` (or to `cmd`'s key) on a cluster.
    fn command(
        &self,
        cmd: &Cmd,
        slot: Option<u16>,
    ) -> RedisResult<(CustomCommand, Vec<FredValue>)> {
        let mut args = Vec::with_capacity(cmd.args_iter().len());
        let mut name = None;
        for arg in cmd.args_iter() {
            let redis::Arg::Simple(bytes) = arg else {
                return Err(RedisError::from((
                    ErrorKind::Client,
                    "cursor arguments cannot be sent through fred",
                )));
            };
            if name.is_none() {
                name = Some(String::from_utf8_lossy(bytes).into_owned());
            } else {
                args.push(FredValue::Bytes(Bytes::copy_from_slice(bytes)));
            }
        }
        let Some(name) = name else {
            return Err(RedisError::from((ErrorKind::Client, "empty command")));
        };
        let hash = if !self.cluster {
            ClusterHash::Random
        } else {
            match slot.or_else(|| key_of(cmd).map(slot_of)) {
                Some(slot) => ClusterHash::Custom(slot),
                None => ClusterHash::Random,
            }
        };
        Ok((CustomCommand::new(name, hash, false), args))
    }

    /// GET, SET and MGET through fred's typed commands, or `None` for any other command (or
    /// a form of these the typed commands do not take).
    async fn typed(&self, cmd: &Cmd) -> Option<RedisResult<Value>> {
        use ::fred::types::{Expiration, Key as FredKey, SetOptions};
        let key = |k: &[u8]| FredKey::from(Bytes::copy_from_slice(k));
        let client = &self.client;
        let simple = |arg| match arg {
            redis::Arg::Simple(b) => Some(b),
            _ => None,
        };
        let mut args = cmd.args_iter();
        let name = simple(args.next()?)?;
        if name.eq_ignore_ascii_case(b"GET") && args.len() == 1 {
            // The most frequent command: its key is read without collecting the arguments.
            let k = simple(args.next()?)?;
            return Some(typed_reply(client.get(key(k)).await));
        }
        let rest: Vec<&[u8]> = args.map(simple).collect::<Option<_>>()?;
        let reply: Result<FredValue, FredError> =
            if name.eq_ignore_ascii_case(b"MGET") && !rest.is_empty() {
                let keys: Vec<FredKey> = rest.iter().map(|k| key(k)).collect();
                client.mget(keys).await
            } else if name.eq_ignore_ascii_case(b"SET") {
                let [k, v, options @ ..] = rest.as_slice() else {
                    return None;
                };
                let (mut expire, mut mode) = (None, None);
                let mut i = 0;
                while i < options.len() {
                    let word = options[i];
                    if word.eq_ignore_ascii_case(b"PX") {
                        let ms = std::str::from_utf8(options.get(i + 1)?)
                            .ok()?
                            .parse()
                            .ok()?;
                        expire = Some(Expiration::PX(ms));
                        i += 2;
                    } else if word.eq_ignore_ascii_case(b"NX") {
                        mode = Some(SetOptions::NX);
                        i += 1;
                    } else if word.eq_ignore_ascii_case(b"XX") {
                        mode = Some(SetOptions::XX);
                        i += 1;
                    } else {
                        return None;
                    }
                }
                let value = FredValue::Bytes(Bytes::copy_from_slice(v));
                client.set(key(k), value, expire, mode, false).await
            } else {
                return None;
            };
        Some(typed_reply(reply))
    }

    /// Sends one command; a server error is `Ok(Value::ServerError)`.
    async fn send(&self, cmd: &Cmd, slot: Option<u16>) -> RedisResult<Value> {
        if let Some(reply) = self.typed(cmd).await {
            return reply;
        }
        let (command, args) = self.command(cmd, slot)?;
        let client = &self.client;
        let frame = client
            .custom_raw(command, args)
            .await
            .map_err(|e| redis_error(&e))?;
        frame_to_value(frame)
    }

    /// Sends a command; fred never sends it twice (see the module documentation), so this
    /// serves idempotent commands as well.
    pub(crate) async fn query(&self, cmd: &Cmd) -> RedisResult<Value> {
        self.send(cmd, None).await
    }

    /// Sends a command that must not run twice: repeated only after TRYAGAIN (fred follows
    /// MOVED and ASK itself), never after a dropped connection or a timeout.
    pub(crate) async fn query_once(&self, cmd: &Cmd) -> RedisResult<Value> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match lift(self.send(cmd, None).await) {
                Err(e)
                    if attempt < 5
                        && e.kind() == ErrorKind::Server(redis::ServerErrorKind::TryAgain) =>
                {
                    tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
                }
                other => return other,
            }
        }
    }

    /// One fred pipeline: each command goes to the master of its key's slot; replies in
    /// request order, a command's own error as `Value::ServerError` in its place.
    pub(crate) async fn batch(&self, cmds: Vec<Routed>) -> RedisResult<Vec<Value>> {
        if cmds.len() == 1 {
            // fred reports a lone pipelined command's server error like a failed pipeline;
            // sent on its own, its error stays a reply.
            let r = &cmds[0];
            return Ok(vec![self.send(&r.cmd, Some(slot_of(&r.key))).await?]);
        }
        let pipeline = Pipeline::from(self.client.clone());
        for r in &cmds {
            let (command, args) = self.command(&r.cmd, Some(slot_of(&r.key)))?;
            // Queued in memory; the reply is read from `try_all`.
            let _: () = pipeline
                .custom(command, args)
                .await
                .map_err(|e| redis_error(&e))?;
        }
        let replies = pipeline.try_all::<FredValue>().await;
        if replies.len() != cmds.len() {
            // The whole pipeline failed (connection, timeout): fred hands back one error.
            return Err(match replies.into_iter().find_map(Result::err) {
                Some(e) => redis_error(&e),
                None => RedisError::from((
                    ErrorKind::Parse,
                    "a pipeline returned a different number of replies than commands",
                )),
            });
        }
        replies
            .into_iter()
            .map(|r| match r {
                Ok(v) => Ok(fred_value_to_value(v)),
                // A command's own error reply (fred keeps the server's line as the details).
                Err(e) => match server_error_value(e.details()) {
                    Some(v) => Ok(v),
                    None => {
                        parse_server_error(&format!("ERR {}", e.details())).map(Value::ServerError)
                    }
                },
            })
            .collect()
    }

    /// Every master (one slot each, to route to it), from fred's routing table.
    pub(crate) async fn nodes(&self) -> RedisResult<Vec<Node>> {
        if !self.cluster {
            return Ok(vec![Node { slot: None }]);
        }
        Ok(self
            .masters()
            .into_iter()
            .map(|(slot, _)| Node { slot: Some(slot) })
            .collect())
    }

    /// `host:port` of each node, in [`FredConn::nodes`] order.
    pub(crate) fn node_names(&self, standalone: &str) -> Vec<String> {
        if !self.cluster {
            return vec![standalone.to_owned()];
        }
        self.masters().into_iter().map(|(_, name)| name).collect()
    }

    /// `(first slot, host:port)` of each master fred routes to, in slot order.
    fn masters(&self) -> Vec<(u16, String)> {
        let Some(state) = self.client.cached_cluster_state() else {
            return Vec::new();
        };
        let mut out: Vec<(u16, String)> = Vec::new();
        let mut ranges: Vec<_> = state.slots().iter().collect();
        ranges.sort_by_key(|r| r.start);
        for range in ranges {
            let name = format!("{}:{}", range.primary.host, range.primary.port);
            if !out.iter().any(|(_, n)| *n == name) {
                out.push((range.start, name));
            }
        }
        out
    }

    /// Sends an idempotent command to one node.
    pub(crate) async fn query_node(&self, node: Node, cmd: &Cmd) -> RedisResult<Value> {
        lift(self.send(cmd, node.slot).await)
    }
}

/// The key that decides a command's slot: the first argument, or for scripts and functions
/// the first key after `numkeys`; `None` for commands without a key.
fn key_of(cmd: &Cmd) -> Option<&[u8]> {
    let mut args = cmd.args_iter().filter_map(|a| match a {
        redis::Arg::Simple(b) => Some(b),
        _ => None,
    });
    let name = args.next()?.to_ascii_uppercase();
    match name.as_slice() {
        b"EVAL" | b"EVALSHA" | b"EVAL_RO" | b"EVALSHA_RO" | b"FCALL" | b"FCALL_RO" => {
            let _script = args.next()?;
            let numkeys: usize = std::str::from_utf8(args.next()?).ok()?.parse().ok()?;
            if numkeys == 0 { None } else { args.next() }
        }
        b"PING" | b"INFO" | b"SCRIPT" | b"CLUSTER" | b"CLIENT" | b"SCAN" | b"DBSIZE" | b"TIME"
        | b"HELLO" | b"AUTH" | b"SELECT" | b"PUBLISH" | b"FUNCTION" | b"CONFIG" | b"MEMORY"
        | b"ECHO" => None,
        _ => args.next(),
    }
}

/// A RESP reply as redis-rs would have parsed it.
pub(crate) fn frame_to_value(frame: Resp3Frame) -> RedisResult<Value> {
    Ok(match frame {
        Resp3Frame::Null => Value::Nil,
        Resp3Frame::BlobString { data, .. } | Resp3Frame::ChunkedString(data) => {
            Value::BulkString(data.to_vec())
        }
        Resp3Frame::SimpleString { data, .. } => {
            if data.as_ref() == b"OK" {
                Value::Okay
            } else {
                Value::SimpleString(String::from_utf8_lossy(&data).into_owned())
            }
        }
        Resp3Frame::SimpleError { data, .. } => Value::ServerError(parse_server_error(&data)?),
        Resp3Frame::BlobError { data, .. } => {
            Value::ServerError(parse_server_error(&String::from_utf8_lossy(&data))?)
        }
        Resp3Frame::Number { data, .. } => Value::Int(data),
        Resp3Frame::Double { data, .. } => Value::Double(data),
        Resp3Frame::Boolean { data, .. } => Value::Boolean(data),
        Resp3Frame::BigNumber { data, .. } => Value::BigNumber(data.to_vec()),
        Resp3Frame::VerbatimString { data, format, .. } => {
            // fred does not re-export the format's type; its name tells the two apart.
            let format = if format!("{format:?}") == "Markdown" {
                redis::VerbatimFormat::Markdown
            } else {
                redis::VerbatimFormat::Text
            };
            Value::VerbatimString {
                format,
                text: String::from_utf8_lossy(&data).into_owned(),
            }
        }
        Resp3Frame::Array { data, .. } | Resp3Frame::Push { data, .. } => Value::Array(
            data.into_iter()
                .map(frame_to_value)
                .collect::<RedisResult<_>>()?,
        ),
        Resp3Frame::Set { data, .. } => Value::Set(
            data.into_iter()
                .map(frame_to_value)
                .collect::<RedisResult<_>>()?,
        ),
        Resp3Frame::Map { data, .. } => Value::Map(
            data.into_iter()
                .map(|(k, v)| Ok((frame_to_value(k)?, frame_to_value(v)?)))
                .collect::<RedisResult<_>>()?,
        ),
        Resp3Frame::Hello { .. } => {
            return Err(RedisError::from((
                ErrorKind::Parse,
                "the server sent a HELLO frame as a reply",
            )));
        }
    })
}

/// A value from a fred pipeline as a redis-rs value. fred has already parsed these, so a
/// simple-string reply arrives as a bulk string (the store never tells them apart in a batch).
/// A typed command's reply as a redis-rs value; a server's error reply stays a reply, as on
/// the custom-command path.
fn typed_reply(reply: Result<FredValue, FredError>) -> RedisResult<Value> {
    match reply {
        Ok(v) => Ok(fred_value_to_value(v)),
        Err(e) => match redis_error(&e) {
            err if matches!(err.kind(), ErrorKind::Server(_)) || err.code().is_some() => {
                server_error_value(e.details()).ok_or(err)
            }
            err => Err(err),
        },
    }
}

fn fred_value_to_value(value: FredValue) -> Value {
    match value {
        FredValue::Null => Value::Nil,
        FredValue::Integer(n) => Value::Int(n),
        FredValue::String(s) => Value::BulkString(s.as_bytes().to_vec()),
        FredValue::Bytes(b) => Value::BulkString(b.to_vec()),
        FredValue::Double(d) => Value::Double(d),
        FredValue::Boolean(b) => Value::Boolean(b),
        FredValue::Queued => Value::SimpleString("QUEUED".to_owned()),
        FredValue::Array(items) => {
            Value::Array(items.into_iter().map(fred_value_to_value).collect())
        }
        FredValue::Map(map) => Value::Map(
            map.inner()
                .into_iter()
                .map(|(k, v)| {
                    (
                        Value::BulkString(k.as_bytes().to_vec()),
                        fred_value_to_value(v),
                    )
                })
                .collect(),
        ),
    }
}

/// A server error line (`CODE message`) as redis-rs's `ServerError`, parsed by redis-rs so
/// that codes and redirections read exactly as on the redis-rs client.
fn parse_server_error(text: &str) -> RedisResult<redis::ServerError> {
    let line: String = text
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    match redis::parse_redis_value(format!("-{line}\r\n").as_bytes())? {
        Value::ServerError(e) => Ok(e),
        _ => Err(RedisError::from((
            ErrorKind::Parse,
            "an error reply could not be read",
        ))),
    }
}

/// `Some(Value::ServerError)` when `details` is a server's error line (`CODE message` with an
/// upper-case code), as fred reports error replies inside a pipeline.
fn server_error_value(details: &str) -> Option<Value> {
    if !looks_like_server_error(details) {
        return None;
    }
    parse_server_error(details).ok().map(Value::ServerError)
}

fn looks_like_server_error(details: &str) -> bool {
    let code = details.split(' ').next().unwrap_or("");
    code.len() >= 2
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A fred error as the redis-rs error the store maps: server errors keep their code,
/// connection trouble is `Io` (a timeout an `Io` timeout), refused credentials are
/// `AuthenticationFailed`.
pub(crate) fn redis_error(e: &FredError) -> RedisError {
    let details = e.details();
    let server_kind = matches!(
        e.kind(),
        FredKind::Unknown
            | FredKind::Auth
            | FredKind::Cluster
            | FredKind::Config
            | FredKind::InvalidArgument
            | FredKind::InvalidCommand
    );
    if server_kind
        && looks_like_server_error(details)
        && let Ok(server) = parse_server_error(details)
    {
        return RedisError::from(server);
    }
    let text = format!("fred: {details}");
    match e.kind() {
        FredKind::Timeout => io::Error::new(io::ErrorKind::TimedOut, text).into(),
        FredKind::Unknown
        | FredKind::InvalidArgument
        | FredKind::InvalidCommand
        | FredKind::Sentinel => RedisError::from((ErrorKind::Client, "fred error", text)),
        FredKind::Auth => RedisError::from((
            ErrorKind::AuthenticationFailed,
            "authentication failed",
            text,
        )),
        FredKind::Config | FredKind::Url => RedisError::from((
            ErrorKind::InvalidClientConfig,
            "invalid configuration",
            text,
        )),
        FredKind::Protocol | FredKind::Parse => {
            RedisError::from((ErrorKind::Parse, "unreadable reply", text))
        }
        // IO, Canceled (connection closed), Routing, Cluster, Backpressure, NotFound and,
        // with TLS, Tls (a failed handshake): the server could not be reached as asked.
        _ => io::Error::new(io::ErrorKind::ConnectionAborted, text).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::fred::types::Resp3Frame as F;

    fn err_frame(text: &str) -> F {
        F::SimpleError {
            data: text.into(),
            attributes: None,
        }
    }

    #[test]
    fn keys_route_like_redis_rs() {
        let mut get = redis::cmd("GET");
        get.arg("p:ns:k");
        assert_eq!(key_of(&get), Some(&b"p:ns:k"[..]));
        let mut eval = redis::cmd("EVALSHA");
        eval.arg("abc").arg(2).arg("k1").arg("k2").arg("argv");
        assert_eq!(key_of(&eval), Some(&b"k1"[..]));
        let mut nokeys = redis::cmd("evalsha");
        nokeys.arg("abc").arg(0).arg("argv");
        assert_eq!(key_of(&nokeys), None);
        let mut info = redis::cmd("INFO");
        info.arg("memory");
        assert_eq!(key_of(&info), None);
        let mut script = redis::cmd("SCRIPT");
        script.arg("LOAD").arg("return 1");
        assert_eq!(key_of(&script), None);
    }

    #[test]
    fn frames_become_the_values_redis_rs_reads() {
        assert_eq!(frame_to_value(F::Null).unwrap(), Value::Nil);
        assert_eq!(
            frame_to_value(F::SimpleString {
                data: "OK".into(),
                attributes: None
            })
            .unwrap(),
            Value::Okay
        );
        assert_eq!(
            frame_to_value(F::BlobString {
                data: "x".into(),
                attributes: None
            })
            .unwrap(),
            Value::BulkString(b"x".to_vec())
        );
        assert_eq!(
            frame_to_value(F::Number {
                data: 7,
                attributes: None
            })
            .unwrap(),
            Value::Int(7)
        );
        let arr = F::Array {
            data: vec![
                F::Null,
                F::Number {
                    data: 1,
                    attributes: None,
                },
            ],
            attributes: None,
        };
        assert_eq!(
            frame_to_value(arr).unwrap(),
            Value::Array(vec![Value::Nil, Value::Int(1)])
        );
    }

    #[test]
    fn error_codes_survive() {
        for (text, code) in [
            ("MOVED 3999 127.0.0.1:6381", "MOVED"),
            ("ASK 3999 127.0.0.1:6381", "ASK"),
            (
                "TRYAGAIN Multiple keys request during rehashing of slot",
                "TRYAGAIN",
            ),
            (
                "OOM command not allowed when used memory > 'maxmemory'.",
                "OOM",
            ),
            ("NOSCRIPT No matching script. Please use EVAL.", "NOSCRIPT"),
            ("WRONGPASS invalid username-password pair", "WRONGPASS"),
        ] {
            let Value::ServerError(e) = frame_to_value(err_frame(text)).unwrap() else {
                panic!("{text} is not a server error");
            };
            assert_eq!(e.code(), code);
            let err = RedisError::from(e);
            assert_eq!(err.code(), Some(code));
        }
        let Value::ServerError(moved) =
            frame_to_value(err_frame("MOVED 3999 127.0.0.1:6381")).unwrap()
        else {
            panic!("not an error");
        };
        let moved = RedisError::from(moved);
        assert_eq!(
            moved.kind(),
            ErrorKind::Server(redis::ServerErrorKind::Moved)
        );
        assert_eq!(moved.redirect_node(), Some(("127.0.0.1:6381", 3999)));
        // Line breaks cannot break the parse.
        let Value::ServerError(e) = frame_to_value(err_frame("ERR a\r\nb")).unwrap() else {
            panic!("not an error");
        };
        assert_eq!(e.code(), "ERR");
    }

    #[test]
    fn fred_errors_map_to_matchable_kinds() {
        let oom = FredError::new(FredKind::Unknown, "OOM command not allowed");
        assert_eq!(redis_error(&oom).code(), Some("OOM"));
        let auth = FredError::new(FredKind::Auth, "WRONGPASS invalid username-password pair");
        assert_eq!(redis_error(&auth).code(), Some("WRONGPASS"));
        let timeout = FredError::new(FredKind::Timeout, "Request timed out.");
        assert!(redis_error(&timeout).is_timeout());
        let io = FredError::new(FredKind::IO, "Connection refused (os error 111)");
        assert_eq!(redis_error(&io).kind(), ErrorKind::Io);
        let canceled = FredError::new(FredKind::Canceled, "Connection closed unexpectedly.");
        assert_eq!(redis_error(&canceled).kind(), ErrorKind::Io);
        let routing = FredError::new(FredKind::Routing, "Too many redirections.");
        assert_eq!(redis_error(&routing).kind(), ErrorKind::Io);
        assert!(server_error_value("Invalid argument type").is_none());
        assert!(server_error_value("NOSCRIPT No matching script").is_some());
    }
}
