//! The Redis servers the tests rely on: the shared ones `cargo xtask test` starts (skipped with
//! a notice when they are not announced) and a private one started here.

use std::collections::BTreeSet;
use std::net::TcpStream;

use strata_testkit::redis_server::{
    RedisServer, Reply, ServerError, command_at, require_private_server, shared_cluster_urls,
    shared_redis_url,
};

/// The value of `field` in an INFO-style `name:value` text.
fn info_field(info: &str, field: &str) -> Option<String> {
    info.lines().find_map(|l| {
        l.trim()
            .strip_prefix(&format!("{field}:"))
            .map(str::to_owned)
    })
}

/// The port in a `redis://…:PORT/` URL.
fn url_port(url: &str) -> u16 {
    url.trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"))
}

fn ping(url: &str) {
    let reply = command_at(url, &["PING"]).unwrap_or_else(|e| panic!("PING {url}: {e}"));
    assert_eq!(reply, Reply::Simple("PONG".into()), "PING {url}");
}

#[test]
fn shared_standalone_server_answers() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    ping(&url);
    let info = command_at(&url, &["INFO", "server"])
        .unwrap()
        .as_text()
        .unwrap();
    assert_eq!(
        info_field(&info, "redis_mode").as_deref(),
        Some("standalone"),
        "{url} should be a standalone server"
    );
}

#[test]
fn shared_cluster_answers_and_covers_all_slots() {
    let Some(urls) = shared_cluster_urls() else {
        return;
    };
    assert_eq!(urls.len(), 3, "expected 3 cluster masters, got {urls:?}");
    for url in &urls {
        ping(url);
        let info = command_at(url, &["CLUSTER", "INFO"])
            .unwrap_or_else(|e| panic!("CLUSTER INFO {url}: {e}"))
            .as_text()
            .unwrap();
        assert_eq!(
            info_field(&info, "cluster_state").as_deref(),
            Some("ok"),
            "{url}:\n{info}"
        );
        assert_eq!(
            info_field(&info, "cluster_slots_assigned").as_deref(),
            Some("16384"),
            "{url}:\n{info}"
        );
    }

    // CLUSTER SLOTS: [[start, end, [ip, port, id, ...], replicas...], ...]
    let slots = command_at(&urls[0], &["CLUSTER", "SLOTS"]).unwrap();
    let mut covered = 0;
    let mut master_ports = BTreeSet::new();
    for range in slots.as_array().expect("CLUSTER SLOTS returns an array") {
        let range = range.as_array().expect("slot range is an array");
        let start = range[0].as_int().unwrap();
        let end = range[1].as_int().unwrap();
        covered += end - start + 1;
        let master = range[2].as_array().expect("master is an array");
        master_ports.insert(u16::try_from(master[1].as_int().unwrap()).unwrap());
    }
    assert_eq!(covered, 16384, "slots covered by {slots:?}");
    let url_ports: BTreeSet<u16> = urls.iter().map(|u| url_port(u)).collect();
    assert_eq!(
        master_ports, url_ports,
        "the 3 announced masters own all the slots"
    );
}

#[test]
fn private_server_starts_restarts_and_is_gone_after_drop() {
    let mut server = require_private_server();
    let port = server.port();
    assert_eq!(server.url(), format!("redis://127.0.0.1:{port}/"));
    ping(&server.url());
    assert!(server.command(&["SET", "k", "v"]).unwrap().is_ok());
    assert_eq!(
        server.command(&["GET", "k"]).unwrap(),
        Reply::Bulk(b"v".to_vec())
    );
    let first_pid = server.pid().expect("running");

    server.stop();
    assert_eq!(server.pid(), None);
    assert!(!server.is_running());
    assert!(
        matches!(server.command(&["PING"]), Err(ServerError::Io(_))),
        "a stopped server does not answer"
    );

    server.restart().expect("restart");
    assert_eq!(server.port(), port, "restart keeps the port");
    assert_ne!(server.pid(), Some(first_pid));
    ping(&server.url());
    assert!(
        server.command(&["GET", "k"]).unwrap().is_nil(),
        "no persistence"
    );

    drop(server);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens on {port} after drop"
    );
}

#[test]
fn private_server_takes_extra_args_and_a_password() {
    let server = RedisServer::builder()
        .arg("--maxmemory")
        .arg("1mb")
        .requirepass("s3cret/@:")
        .start()
        .unwrap_or_else(|e| panic!("this test needs a private redis-server: {e}"));
    let maxmemory = server.command(&["CONFIG", "GET", "maxmemory"]).unwrap();
    assert_eq!(
        maxmemory,
        Reply::Array(vec![
            Reply::Bulk(b"maxmemory".to_vec()),
            Reply::Bulk(b"1048576".to_vec())
        ])
    );
    // The URL carries the password; without it the server refuses.
    ping(&server.url());
    let bare = format!("redis://127.0.0.1:{}/", server.port());
    match command_at(&bare, &["GET", "k"]) {
        Err(ServerError::Redis(msg)) => assert!(msg.starts_with("NOAUTH"), "{msg}"),
        other => panic!("expected NOAUTH, got {other:?}"),
    }
}
