//! Engine benchmark: N synthetic EC2 raw items → the default mapping → the bulk loader →
//! an HTTP sink on loopback, through [`Engine`], the code a resync's consumer runs.
//!
//! Each size runs in its own child process (`harness bench engine-child`: the engine runs in
//! process, so the measured program is this harness binary), so its peak RSS is its
//! own and starts from zero; the sink runs in this process and answers every bulk request
//! as Port does when all entities are accepted. The source builds items in pages of 1,000
//! (EC2's page size) as it goes, the way a listing builds them from AWS responses, so the
//! CPU time includes making the raw items.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use aws_catalog_sync::config::Settings;
use aws_catalog_sync::mapping::Mapping;
use aws_catalog_sync::port::{self, defaults};
use aws_catalog_sync::resync::{Engine, EngineOptions, Report};

use super::{child_command, measure, mib, synthetic};

/// Raw items per page, as EC2's DescribeInstances returns at most.
const PAGE: usize = 1000;
const KIND: &str = "AWS::EC2::Instance";

/// Runs each size in a child process and prints the table; returns the exit code.
pub async fn run(sizes: &[usize]) -> u8 {
    let received = Arc::new(AtomicU64::new(0));
    let sink = match start_sink(received.clone()).await {
        Ok(url) => url,
        Err(e) => {
            eprintln!("bench engine: {e}");
            return 1;
        }
    };
    println!(
        "# aws-catalog-sync engine benchmark\n\nmachine: {}; {}\n",
        super::machine(),
        super::build_profile()
    );
    println!(
        "| items | entities upserted | wall | CPU (user+sys) | entities/s per core | CPU making the items | entities/s per core without it | peak RSS | of which identity kept for reconciliation |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut code = 0;
    for &n in sizes {
        received.store(0, Ordering::Relaxed);
        match one_size(n, &sink).await {
            Ok((m, out)) => {
                let upserted = out["upserted"].as_u64().unwrap_or(0);
                if m.code != 0
                    || upserted != n as u64
                    || received.load(Ordering::Relaxed) != upserted
                {
                    eprintln!(
                        "bench engine: N = {n}: exit {}, {upserted} upserted, {} received by the sink",
                        m.code,
                        received.load(Ordering::Relaxed)
                    );
                    code = 1;
                }
                let cpu = m.cpu.as_secs_f64();
                let source = out["source_cpu_s"].as_f64().unwrap_or(0.0);
                println!(
                    "| {n} | {upserted} | {:.2} s | {cpu:.2} s | {:.0} | {source:.2} s | {:.0} | {} | {} |",
                    m.wall.as_secs_f64(),
                    upserted as f64 / cpu.max(1e-9),
                    upserted as f64 / (cpu - source).max(1e-9),
                    mib(m.peak_rss),
                    mib(out["seen_bytes"].as_u64().unwrap_or(0))
                );
            }
            Err(e) => {
                eprintln!("bench engine: N = {n}: {e}");
                return 1;
            }
        }
    }
    code
}

async fn one_size(n: usize, sink: &str) -> Result<(super::Measured, Value), String> {
    let out = std::env::temp_dir().join(format!(
        "aws-catalog-sync-bench-engine-{}-{n}.json",
        std::process::id()
    ));
    let items = n.to_string();
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let (mut cmd, log) = child_command(
        &exe,
        &["bench", "engine-child", "--items", &items, "--out"],
        &format!("aws-catalog-sync-bench-engine-{n}"),
    )?;
    cmd.arg(&out)
        .env("OCEAN__PORT__CLIENT_ID", "bench")
        .env("OCEAN__PORT__CLIENT_SECRET", "bench")
        .env("OCEAN__PORT__BASE_URL", sink)
        .env("OCEAN__INTEGRATION__IDENTIFIER", "bench-engine")
        .env("APPLICATION__LOG_LEVEL", "WARNING");
    let m = measure(cmd).await?;
    let text = std::fs::read_to_string(&out).map_err(|e| {
        format!(
            "the child (exit {}) wrote no result ({e}); log: {}",
            m.code,
            log.display()
        )
    })?;
    let _ = std::fs::remove_file(&out);
    let value = serde_json::from_str(&text).map_err(|e| format!("bad child result: {e}"))?;
    Ok((m, value))
}

/// The measured side: maps and loads `n` items, writes `{upserted, failed, seen, seen_bytes}`
/// to `out`. Settings come from the environment the parent set.
pub async fn child(n: usize, out: &Path) -> u8 {
    match child_inner(n, out).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("bench engine-child: {e}");
            1
        }
    }
}

async fn child_inner(n: usize, out: &Path) -> Result<(), String> {
    let settings = Settings::load().map_err(|e| e.to_string())?;
    let client = Arc::new(port::Client::new(&settings).map_err(|e| e.to_string())?);
    let mut mapping =
        Mapping::from_json(&defaults::port_app_config()).map_err(|e| e.to_string())?;
    mapping.resources.retain(|r| r.kind == KIND);
    let blueprints = defaults::blueprints();
    let mut engine = Engine::new(
        client,
        &mapping,
        &blueprints,
        EngineOptions {
            resync_id: "bench".into(),
            dry_run: false,
            max_in_flight: settings.port.max_in_flight,
            send_examples: false,
        },
    );
    let started = Instant::now();
    let mut start = 0;
    // CPU time spent making (and dropping) the raw items, which a real run spends turning
    // AWS responses into items: reported apart so the engine's own rate is visible too.
    let mut source_cpu = Duration::ZERO;
    while start < n {
        let end = (start + PAGE).min(n);
        let t0 = thread_cpu();
        let items: Vec<Value> = (start..end).map(synthetic::ec2_item).collect();
        source_cpu += thread_cpu().saturating_sub(t0);
        engine.page(KIND, "us-east-1", &items).await;
        let t0 = thread_cpu();
        drop(items);
        source_cpu += thread_cpu().saturating_sub(t0);
        start = end;
    }
    let mut report = Report::new("bench".into());
    let mut seen = engine.finish(&mut report).await;
    let upserted: u64 = report.entities.values().map(|s| s.upserted).sum();
    let failed: u64 = report.entities.values().map(|s| s.failed).sum();
    let result = json!({
        "upserted": upserted,
        "failed": failed,
        "seen": seen.len(),
        "seen_bytes": seen.heap_bytes(),
        "wall_s": started.elapsed().as_secs_f64(),
        "source_cpu_s": source_cpu.as_secs_f64(),
    });
    std::fs::write(out, result.to_string()).map_err(|e| format!("{}: {e}", out.display()))
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    // SAFETY: an all-zero timespec is valid; clock_gettime fills it in.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a timespec for the duration of the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A sink for the token and bulk-upsert routes; counts the entities it accepted.
async fn start_sink(received: Arc<AtomicU64>) -> Result<String, String> {
    let app = Router::new()
        .route(
            "/v1/auth/access_token",
            axum::routing::post(|| async {
                axum::Json(
                    json!({"accessToken": "bench-token", "expiresIn": 3600, "tokenType": "Bearer"}),
                )
            }),
        )
        .route(
            "/v1/blueprints/{bp}/entities/bulk",
            axum::routing::post(bulk),
        )
        .with_state(received);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("binding the sink: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("sink address: {e}"))?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}"))
}

async fn bulk(State(received): State<Arc<AtomicU64>>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let entities: Vec<Value> = body["entities"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, e)| json!({"identifier": e["identifier"], "index": i, "created": true}))
        .collect();
    received.fetch_add(entities.len() as u64, Ordering::Relaxed);
    axum::Json(json!({"ok": true, "entities": entities, "errors": []})).into_response()
}
