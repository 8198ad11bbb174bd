//! The status page in a real browser: headless Chromium against the example server
//! (`examples/admin_server.rs`, which `cargo test` builds) on a loopback port. Checks the
//! rendered DOM for the health score and the tables, and saves a screenshot to
//! `target/strata-admin-status.png`.
//!
//! Chromium is required: a missing browser fails with how to install it (Debian/Ubuntu:
//! `apt-get install -y chromium`; `.ci/run` installs it). `STRATA_CHROMIUM` names another
//! binary.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const READ: &str = "browser-read-key-0123456789";
const WRITE: &str = "browser-write-key-0123456789";

/// Kills the child it holds when dropped (also when an assertion fails).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("STRATA_CHROMIUM") {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut candidates = vec![PathBuf::from("/usr/bin/chromium")];
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            candidates.push(dir.join(name));
        }
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "headless Chromium is needed for the status page test and was not found \
             (looked for /usr/bin/chromium and chromium on the PATH).\n\
             Install it: `apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this), \
             or set STRATA_CHROMIUM to a Chromium binary."
            )
        })
}

/// The example binary `cargo test` built beside this test's own binary.
fn example_server() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir
        .join("examples")
        .join(format!("admin_server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the example server is not built at {}: run `cargo test -p strata-admin` (which builds \
         the examples) or `cargo build -p strata-admin --example admin_server` first",
        bin.display()
    );
    bin
}

/// Starts the example server on a free loopback port; returns it and its base URL.
fn start_server() -> (Killed, String) {
    let mut child = Command::new(example_server())
        .env("CACHE_BACKEND", "memory")
        .env("STRATA_ADMIN_ADDR", "127.0.0.1:0")
        .env("STRATA_ADMIN_READ_KEYS", READ)
        .env("STRATA_ADMIN_WRITE_KEYS", WRITE)
        .env("STRATA_ADMIN_DEMO", "1")
        .env_remove("STRATA_CONFIG")
        .env_remove("REDIS_URL")
        .env_remove("REDIS_HOST")
        .env_remove("REDIS_CLUSTER")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the example server starts");
    let stdout = child.stdout.take().unwrap();
    let child = Killed(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("strata-admin listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the example server printed its address within 60 s");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

/// Runs Chromium headless with `args` on `url`, within 90 s; returns its standard output.
fn run_chromium(args: &[&str], url: &str) -> String {
    let profile = std::env::temp_dir().join(format!(
        "strata-admin-chromium-{}-{}",
        std::process::id(),
        fastrand_suffix()
    ));
    std::fs::create_dir_all(&profile).unwrap();
    let out = std::env::temp_dir().join(format!("{}.out", profile.display()));
    let file = std::fs::File::create(&out).unwrap();
    let mut child = Killed(
        Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-quic",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                // Fetches and timers run in virtual time until the page settles.
                "--virtual-time-budget=8000",
                &format!("--user-data-dir={}", profile.display()),
            ])
            .args(args)
            .arg(url)
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "chromium did not finish within 90 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium failed: {status}");
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_dir_all(&profile);
    text
}

fn fastrand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish()
}

/// The text inside the element with `id` (up to its next tag).
fn text_of<'a>(dom: &'a str, id: &str) -> Option<&'a str> {
    let start = dom.find(&format!("id=\"{id}\""))?;
    let rest = &dom[start..];
    let open_end = rest.find('>')?;
    let rest = &rest[open_end + 1..];
    Some(&rest[..rest.find('<')?])
}

/// The `<tbody>` of the table with `id`.
fn tbody<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &dom[start..];
    let body = rest.find("<tbody>").expect("a tbody");
    let end = rest.find("</tbody>").expect("a closed tbody");
    &rest[body..end]
}

#[test]
fn the_status_page_renders_score_issues_tables_and_chart_in_chromium() {
    let browser = chromium();
    let (_server, base) = start_server();
    // The key reaches the page through the URL fragment (never sent to the server), which
    // the page reads once into memory and removes from the address bar.
    let url = format!("{base}#key={READ}");

    let dom = run_chromium(&["--dump-dom"], &url);
    assert!(dom.contains("Strata cache status"), "not the page:\n{dom}");
    let score = text_of(&dom, "score").expect("a score element");
    let score: u32 = score
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the score was not filled in ({score:?}):\n{dom}"));
    assert!(score <= 100);
    let status = text_of(&dom, "status").unwrap();
    assert!(
        ["healthy", "warming_up", "degraded", "critical"].contains(&status),
        "{status}"
    );
    assert!(
        text_of(&dom, "conn").unwrap().starts_with("updated"),
        "{dom}"
    );
    // Hit ratios per tier and per namespace, from the demo traffic.
    let tiers = tbody(&dom, "tier-table");
    assert!(tiers.contains("<td>overall</td>"), "{tiers}");
    assert!(tiers.contains('%'), "{tiers}");
    let namespaces = tbody(&dom, "ns-table");
    for ns in ["curves", "session"] {
        assert!(
            namespaces.contains(&format!("<td>{ns}</td>")),
            "{namespaces}"
        );
    }
    assert!(namespaces.contains("66.7 %"), "{namespaces}"); // curves: 200 of 300
    // The latency chart has its three series.
    for series in ["p50", "p95", "p99"] {
        assert!(
            dom.contains(&format!("data-series=\"{series}\"")),
            "no {series} line"
        );
    }
    // The key is nowhere in the document.
    assert!(!dom.contains(READ));

    // A wrong key: the page says so instead of showing figures.
    let dom = run_chromium(
        &["--dump-dom"],
        &format!("{base}#key=wrong-key-0123456789abc"),
    );
    let conn = text_of(&dom, "conn").unwrap();
    assert!(conn.contains("401"), "{conn}");
    assert_eq!(text_of(&dom, "score").unwrap(), "–");

    // A screenshot for people to look at.
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let shot = target.join("strata-admin-status.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &[
            "--window-size=1280,900",
            "--hide-scrollbars",
            &format!("--screenshot={}", shot.display()),
        ],
        &url,
    );
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert!(png.len() > 10_000, "an empty-looking screenshot");
    println!(
        "status page: score {score} ({status}); screenshot {} (chromium: {})",
        shot.display(),
        browser.display()
    );
}
