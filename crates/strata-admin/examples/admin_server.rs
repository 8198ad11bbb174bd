//! Serves the admin router over a cache system built from the environment.
//!
//! ```sh
//! STRATA_ADMIN_READ_KEYS=read-key-0123456789abcdef \
//! STRATA_ADMIN_WRITE_KEYS=write-key-0123456789abcdef \
//! CACHE_BACKEND=memory cargo run -p strata-admin --example admin_server
//! # then open http://127.0.0.1:9464/ and type a key
//! ```
//!
//! `STRATA_ADMIN_ADDR` (default `127.0.0.1:9464`; port 0 picks a free one) is where it
//! listens; the first line it prints is `strata-admin listening on http://ADDR/`.
//! `STRATA_ADMIN_DEMO=1` configures warming of a `curves` cache with a synthetic loader and
//! runs a few hundred reads at start-up, so the status page has figures to show.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use strata::CacheSystem;
use strata::config::Config;
use strata::warming::{WarmLoader, WarmingConfig};
use strata_admin::{AdminConfig, addr_from_env, router};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("admin_server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn demo_enabled() -> bool {
    std::env::var("STRATA_ADMIN_DEMO").is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"))
}

/// A few hundred reads and writes: hits, misses and a warmed namespace.
async fn demo_traffic(system: &CacheSystem) -> strata::Result<()> {
    let report = system.warm().await;
    println!("demo: warmed {} curves", report.warmed);
    let curves = system.cache::<String>("curves")?;
    let sessions = system.cache::<String>("session")?;
    for i in 0..300u32 {
        // 20 warmed curve keys and 10 that are never written: about a 2/3 hit ratio.
        let _ = curves.get(&format!("CAISO:{}", i % 30)).await?;
        if i % 3 == 0 {
            sessions
                .set(&format!("s-{}", i % 50), format!("user-{i}"))
                .await?;
        }
        let _ = sessions.get(&format!("s-{}", i % 60)).await?;
    }
    Ok(())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let demo = demo_enabled();
    let mut builder = CacheSystem::builder(config);
    if demo {
        let loader = WarmLoader::from_sync(|id: &str| Ok::<_, String>(Some(format!("curve {id}"))));
        let keys = (0..20).map(|i| format!("CAISO:{i}"));
        builder = builder.warming("curves", WarmingConfig::new(keys, loader));
    }
    let system = builder.start().await?;
    if demo {
        demo_traffic(&system).await?;
    }

    let app = router(system.clone(), AdminConfig::from_env()?)?;
    let addr = addr_from_env()?;
    if !addr.ip().is_loopback() {
        eprintln!(
            "admin_server: warning: {addr} is not a loopback address; anyone who can reach it can try keys"
        );
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!(
        "strata-admin listening on http://{}/",
        listener.local_addr()?
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    let report = system.shutdown(Duration::from_secs(5)).await;
    println!("shut down: {report:?}");
    Ok(())
}
