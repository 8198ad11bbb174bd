//! Real `redis-server` processes for the tests: one standalone server and a 3-master cluster,
//! each on free loopback ports, without persistence, with files in temporary directories.
//!
//! Every process is recorded in a process-wide registry as soon as it is spawned, so it is
//! killed (by PID) when its [`Servers`] is dropped, on failure, and from the Ctrl-C handler
//! ([`install_interrupt_handler`]).

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::resp::{self, Reply};

/// How to install `redis-server`.
pub(crate) const INSTALL_HINT: &str =
    "install it (Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`)";

/// Variable announcing the standalone server to the tests.
pub(crate) const REDIS_URL_ENV: &str = "STRATA_REDIS_URL";

/// Variable announcing the cluster's masters (comma-separated URLs) to the tests.
pub(crate) const CLUSTER_URLS_ENV: &str = "STRATA_REDIS_CLUSTER_URLS";

/// Number of masters in the test cluster.
const CLUSTER_MASTERS: usize = 3;

/// Number of hash slots in a Redis Cluster.
const CLUSTER_SLOTS: u32 = 16384;

/// How long one server may take to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the cluster may take to report `cluster_state:ok` on every node.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(30);

/// How often start-up polls.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// How many times a server is retried on fresh ports when its port was taken meanwhile.
const PORT_ATTEMPTS: usize = 5;

/// A spawned server process and the directory holding its files.
struct Proc {
    /// The process.
    child: Child,
    /// Its directory, removed when the record is dropped (after the process is dead).
    _dir: TempDir,
}

/// Every server process spawned and not yet stopped.
static RUNNING: Mutex<Vec<Proc>> = Mutex::new(Vec::new());

/// Locks the registry, ignoring poisoning (a panic elsewhere must not keep servers alive).
fn running() -> MutexGuard<'static, Vec<Proc>> {
    RUNNING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Set once an interrupt (Ctrl-C, SIGTERM, SIGHUP) has been received.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether an interrupt has been received; xtask then exits with status 130.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Records that an interrupt was received (also when only a child saw it).
pub(crate) fn set_interrupted() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Kills (SIGKILL) and reaps the recorded processes that `select` picks, removing their
/// directories. The registry stays locked until they are all gone, so a concurrent caller (the
/// interrupt handler, or the main thread on its way out) waits for this one to finish instead
/// of exiting while servers still run. Returns how many were stopped.
fn kill_where(select: impl Fn(u32) -> bool) -> usize {
    let mut procs = running();
    let mut count = 0;
    let mut kept = Vec::with_capacity(procs.len());
    for mut p in procs.drain(..) {
        if select(p.child.id()) {
            let _ = p.child.kill();
            let _ = p.child.wait();
            count += 1;
        } else {
            kept.push(p);
        }
    }
    *procs = kept;
    count
}

/// Kills and reaps the recorded processes whose PID is in `pids`; returns how many.
fn kill_pids(pids: &[u32]) -> usize {
    kill_where(|pid| pids.contains(&pid))
}

/// Kills and reaps every recorded server process; returns how many.
pub(crate) fn kill_all() -> usize {
    kill_where(|_| true)
}

/// Installs a Ctrl-C (and SIGTERM/SIGHUP) handler that kills every recorded server and exits
/// with status 130.
pub(crate) fn install_interrupt_handler() {
    let installed = ctrlc::set_handler(|| {
        set_interrupted();
        let n = kill_all();
        eprintln!("\ninterrupted: stopped {n} more redis-server process(es)");
        std::process::exit(130);
    });
    if let Err(e) = installed {
        eprintln!(
            "warning: could not install the Ctrl-C handler ({e}); servers may outlive an interrupt"
        );
    }
}

/// Whether the recorded process `pid` has exited; its exit status if so.
fn exit_status(pid: u32) -> Option<String> {
    let mut procs = running();
    let p = procs.iter_mut().find(|p| p.child.id() == pid)?;
    match p.child.try_wait() {
        Ok(Some(status)) => Some(status.to_string()),
        Ok(None) => None,
        Err(e) => Some(format!("unknown status: {e}")),
    }
}

/// Why the servers could not be started.
#[derive(Debug)]
pub(crate) enum StartError {
    /// `redis-server` is not on `PATH`.
    NotFound,
    /// Anything else, described.
    Failed(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NotFound => write!(f, "redis-server not found on PATH: {INSTALL_HINT}"),
            StartError::Failed(msg) => f.write_str(msg),
        }
    }
}

/// One running server.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Client port on 127.0.0.1.
    pub(crate) port: u16,
    /// Cluster bus port, for cluster nodes.
    pub(crate) bus_port: Option<u16>,
    /// Process id.
    pub(crate) pid: u32,
    /// Its log file.
    log: PathBuf,
}

impl Node {
    /// The URL tests connect to: `redis://127.0.0.1:PORT/`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The last lines of the server's log.
    fn log_tail(&self) -> String {
        log_tail(&self.log)
    }
}

/// The last lines of a log file.
fn log_tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        }
        Err(e) => format!("(no log at {}: {e})", path.display()),
    }
}

/// The test servers: one standalone server and the masters of one cluster. Dropping it kills
/// them all by PID.
#[derive(Debug)]
pub(crate) struct Servers {
    /// `nodes[0]` is the standalone server, the rest are the cluster's masters.
    nodes: Vec<Node>,
}

impl Servers {
    /// Starts the standalone server and the 3-master cluster, creates the cluster, and waits
    /// until every server answers PING and every cluster node reports `cluster_state:ok`.
    /// On error, whatever was started is stopped.
    pub(crate) fn start_all() -> Result<Servers, StartError> {
        let mut servers = Servers { nodes: Vec::new() };
        servers.nodes.push(spawn_node(false)?);
        for _ in 0..CLUSTER_MASTERS {
            servers.nodes.push(spawn_node(true)?);
        }
        create_cluster(servers.cluster())?;
        Ok(servers)
    }

    /// The standalone server.
    pub(crate) fn standalone(&self) -> &Node {
        &self.nodes[0]
    }

    /// The cluster's masters.
    pub(crate) fn cluster(&self) -> &[Node] {
        &self.nodes[1..]
    }

    /// The standalone server's URL (the value of `STRATA_REDIS_URL`).
    pub(crate) fn redis_url(&self) -> String {
        self.standalone().url()
    }

    /// The cluster masters' URLs.
    pub(crate) fn cluster_urls(&self) -> Vec<String> {
        self.cluster().iter().map(Node::url).collect()
    }

    /// The environment announcing these servers to the tests.
    pub(crate) fn env_vars(&self) -> [(&'static str, String); 2] {
        [
            (REDIS_URL_ENV, self.redis_url()),
            (CLUSTER_URLS_ENV, self.cluster_urls().join(",")),
        ]
    }

    /// The PIDs of all the servers.
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.nodes.iter().map(|n| n.pid).collect()
    }

    /// Kills all the servers by PID and waits for them; returns how many were running.
    pub(crate) fn stop(mut self) -> usize {
        let pids = self.pids();
        self.nodes.clear();
        kill_pids(&pids)
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        kill_pids(&self.pids());
    }
}

/// Picks `n` distinct free loopback ports (all bound at once, then released).
fn free_ports(n: usize) -> io::Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// Starts one server (a cluster node when `cluster`), retrying on fresh ports if its port was
/// taken between the probe and the bind, and waits until it answers PING.
fn spawn_node(cluster: bool) -> Result<Node, StartError> {
    let mut attempt = 1;
    loop {
        match spawn_once(cluster) {
            Err(StartError::Failed(msg))
                if msg.contains("Address already in use") && attempt < PORT_ATTEMPTS =>
            {
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// One attempt of [`spawn_node`].
fn spawn_once(cluster: bool) -> Result<Node, StartError> {
    let failed = |what: &str, e: io::Error| StartError::Failed(format!("{what}: {e}"));
    let ports = free_ports(if cluster { 2 } else { 1 }).map_err(|e| failed("no free port", e))?;
    let dir = tempfile::Builder::new()
        .prefix("strata-xtask-redis-")
        .tempdir()
        .map_err(|e| failed("cannot create a temporary directory", e))?;
    let log = dir.path().join("redis.log");
    let mut cmd = Command::new("redis-server");
    cmd.arg("--port")
        .arg(ports[0].to_string())
        .args(["--bind", "127.0.0.1", "--protected-mode", "no"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir.path())
        .arg("--logfile")
        .arg(&log);
    if cluster {
        cmd.args(["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"])
            .arg("--cluster-config-file")
            .arg(dir.path().join("nodes.conf"))
            // An explicit bus port: the default (port + 10000) may be taken or out of range.
            .arg("--cluster-port")
            .arg(ports[1].to_string());
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Our own process group: a terminal's Ctrl-C reaches xtask, whose handler stops servers.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);

    let pid = {
        // Spawn while holding the registry, so an interrupt cannot miss this process.
        let mut procs = running();
        let child = cmd.spawn().map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StartError::NotFound,
            _ => StartError::Failed(format!(
                "redis-server could not be started ({e}); {INSTALL_HINT}"
            )),
        })?;
        let pid = child.id();
        procs.push(Proc { child, _dir: dir });
        pid
    };
    let node = Node {
        port: ports[0],
        bus_port: ports.get(1).copied(),
        pid,
        log,
    };
    if let Err(e) = wait_for_ping(&node) {
        kill_pids(&[pid]);
        return Err(e);
    }
    Ok(node)
}

/// Polls until `node` answers PING with PONG; fails when it exits or after [`START_TIMEOUT`].
fn wait_for_ping(node: &Node) -> Result<(), StartError> {
    let started = Instant::now();
    loop {
        if let Some(status) = exit_status(node.pid) {
            return Err(StartError::Failed(format!(
                "redis-server on port {} exited during start-up ({status}):\n{}",
                node.port,
                node.log_tail()
            )));
        }
        if matches!(resp::command(node.port, &["PING"]), Ok(Reply::Simple(s)) if s == "PONG") {
            return Ok(());
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(StartError::Failed(format!(
                "redis-server on port {} did not answer PING within {START_TIMEOUT:?}:\n{}",
                node.port,
                node.log_tail()
            )));
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// Sends a command to a node, describing a failure.
fn cmd(node: &Node, args: &[&str]) -> Result<Reply, StartError> {
    resp::command(node.port, args).map_err(|e| {
        StartError::Failed(format!(
            "`{}` on redis-server port {} failed: {e}",
            args.join(" "),
            node.port
        ))
    })
}

/// The hash-slot range of master `i` of `n` (the split `redis-cli --cluster create` makes).
fn slot_range(i: usize, n: usize) -> (u32, u32) {
    let n = n as u32;
    let i = i as u32;
    let per = CLUSTER_SLOTS as f64 / n as f64;
    let start = (i as f64 * per).round() as u32;
    let end = if i + 1 == n {
        CLUSTER_SLOTS - 1
    } else {
        ((i + 1) as f64 * per).round() as u32 - 1
    };
    (start, end)
}

/// The value of `field` in an INFO-style `name:value` text.
fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|l| l.trim().strip_prefix(field)?.strip_prefix(':'))
}

/// Makes the given masters one cluster and waits until every node reports
/// `cluster_state:ok`, knows every master and sees all slots assigned.
///
/// Order matters for speed: distinct config epochs first (only allowed while a node knows no
/// other), then every pair of nodes meets directly, and only once every node knows every other
/// does each master take its share of the slots. (Meeting through one node and assigning slots
/// during the handshake made start-up take 3 to 11 s instead of the usual 2.1 s: gossip spreads
/// slowly, and a master that saw itself in a minority waits out the rejoin delay.) The 2 s
/// left is Redis's own delay before a freshly started master turns `ok`.
fn create_cluster(nodes: &[Node]) -> Result<(), StartError> {
    for (i, node) in nodes.iter().enumerate() {
        cmd(node, &["CLUSTER", "SET-CONFIG-EPOCH", &(i + 1).to_string()])?;
    }
    // Every pair meets directly: learning of peers through gossip alone takes seconds.
    for (i, node) in nodes.iter().enumerate() {
        for other in &nodes[i + 1..] {
            let bus = other.bus_port.unwrap_or(other.port + 10000);
            cmd(
                node,
                &[
                    "CLUSTER",
                    "MEET",
                    "127.0.0.1",
                    &other.port.to_string(),
                    &bus.to_string(),
                ],
            )?;
        }
    }
    wait_for_cluster(nodes, &[("cluster_known_nodes", nodes.len().to_string())])?;
    for (i, node) in nodes.iter().enumerate() {
        let (start, end) = slot_range(i, nodes.len());
        cmd(
            node,
            &[
                "CLUSTER",
                "ADDSLOTSRANGE",
                &start.to_string(),
                &end.to_string(),
            ],
        )?;
    }
    wait_for_cluster(
        nodes,
        &[
            ("cluster_state", "ok".to_owned()),
            ("cluster_known_nodes", nodes.len().to_string()),
            ("cluster_slots_assigned", CLUSTER_SLOTS.to_string()),
        ],
    )
}

/// Polls `CLUSTER INFO` on every node until each shows all the `expected` field values; fails
/// after [`CLUSTER_TIMEOUT`] describing the first node that does not.
fn wait_for_cluster(nodes: &[Node], expected: &[(&str, String)]) -> Result<(), StartError> {
    let started = Instant::now();
    loop {
        let mut waiting_for = None;
        for node in nodes {
            let info = resp::text(&cmd(node, &["CLUSTER", "INFO"])?);
            let ready = expected
                .iter()
                .all(|(field, value)| info_field(&info, field) == Some(value.as_str()));
            if !ready {
                waiting_for = Some((node, info));
                break;
            }
        }
        let Some((node, info)) = waiting_for else {
            return Ok(());
        };
        if started.elapsed() > CLUSTER_TIMEOUT {
            let wanted: Vec<String> = expected.iter().map(|(f, v)| format!("{f}:{v}")).collect();
            let wanted = wanted.join(", ");
            let nodes_view = cmd(node, &["CLUSTER", "NODES"])
                .map(|r| resp::text(&r))
                .unwrap_or_default();
            return Err(StartError::Failed(format!(
                "the Redis cluster did not reach {wanted} within {CLUSTER_TIMEOUT:?}; node on \
                 port {} reports:\n{}\nCLUSTER NODES:\n{nodes_view}\nlog:\n{}",
                node.port,
                info.trim(),
                node.log_tail()
            )));
        }
        thread::sleep(POLL_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpStream;

    #[test]
    fn slot_ranges_cover_all_slots_like_redis_cli() {
        assert_eq!(slot_range(0, 3), (0, 5460));
        assert_eq!(slot_range(1, 3), (5461, 10922));
        assert_eq!(slot_range(2, 3), (10923, 16383));
        assert_eq!(slot_range(0, 1), (0, 16383));
    }

    #[test]
    fn reads_info_fields() {
        let info = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\n";
        assert_eq!(info_field(info, "cluster_state"), Some("ok"));
        assert_eq!(info_field(info, "cluster_slots_assigned"), Some("16384"));
        assert_eq!(info_field(info, "cluster_slots"), None);
    }

    #[test]
    fn free_ports_are_distinct() {
        let ports = free_ports(7).unwrap();
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ports.len());
    }

    /// Starts and stops the real servers; skipped when redis-server is missing unless Redis is
    /// required (`CI=true`, `STRATA_REQUIRE_REDIS=1`).
    #[test]
    fn servers_start_form_a_cluster_and_stop() {
        let servers = match Servers::start_all() {
            Ok(s) => s,
            Err(StartError::NotFound) if !crate::test::redis_required() => {
                eprintln!("skipping: redis-server not found on PATH");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let ports: Vec<u16> = servers.nodes.iter().map(|n| n.port).collect();
        assert_eq!(ports.len(), 1 + CLUSTER_MASTERS);
        assert_eq!(servers.cluster_urls().len(), CLUSTER_MASTERS);
        let [(k1, url), (k2, cluster)] = servers.env_vars();
        assert_eq!((k1, k2), (REDIS_URL_ENV, CLUSTER_URLS_ENV));
        assert_eq!(url, format!("redis://127.0.0.1:{}/", ports[0]));
        assert_eq!(cluster.split(',').count(), CLUSTER_MASTERS);
        let info = resp::text(&resp::command(ports[1], &["CLUSTER", "INFO"]).unwrap());
        assert_eq!(info_field(&info, "cluster_state"), Some("ok"));
        let standalone = resp::text(&resp::command(ports[0], &["INFO", "server"]).unwrap());
        assert_eq!(info_field(&standalone, "redis_mode"), Some("standalone"));

        assert_eq!(servers.stop(), 1 + CLUSTER_MASTERS);
        for port in ports {
            assert!(
                TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
                "port {port} still answers"
            );
        }
    }
}
