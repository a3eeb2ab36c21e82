//! The long-running mode: listeners, the HTTP surface, one run at a time, shutdown.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::port_fake::Fault;
use support::{IDENTIFIER, World, set};

const SEED: &[&str] = &["--members", "1"];

/// The daemon, running.
struct Daemon {
    child: tokio::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Daemon {
    async fn start(env: &[(String, String)]) -> Daemon {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = tokio::process::Command::new(support::binary());
        cmd.current_dir(dir.path()).env_clear().kill_on_drop(true);
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.env("APPLICATION__PORT", port.to_string());
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let child = cmd.spawn().unwrap();
        let d = Daemon {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        d.wait_until(|| async { d.get("/health/live").await.0 == 200 })
            .await;
        d
    }

    async fn get(&self, path: &str) -> (u16, String) {
        match reqwest::get(format!("{}{path}", self.url)).await {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(_) => (0, String::new()),
        }
    }

    async fn post(&self, path: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("{}{path}", self.url))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    async fn wait_until<F, Fut>(&self, mut cond: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !cond().await {
            assert!(Instant::now() < deadline, "condition not met within 60 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then the exit code.
    async fn stop(mut self) -> i32 {
        let pid = self.child.id().unwrap().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("exits within 20 s of SIGTERM")
            .unwrap();
        status.code().unwrap_or(-1)
    }
}

fn listener(w: &World, json: &str) -> Vec<(String, String)> {
    let mut env = w.env();
    set(&mut env, "OCEAN__EVENT_LISTENER", json);
    env
}

fn completed(w: &World) -> usize {
    w.port
        .resync_states(IDENTIFIER)
        .iter()
        .filter(|s| *s == "completed")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_after_bootstrap_webhook_resync_and_metrics() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    // Bootstrap is slow: ready must say so meanwhile.
    w.port.inject(Fault {
        method: Some("GET".into()),
        path_contains: format!("/v1/integration/{IDENTIFIER}"),
        latency_ms: 2_000,
        times: 1,
        ..Fault::default()
    });
    let d = Daemon::start(&listener(
        &w,
        r#"{"type":"WEBHOOK","appHost":"http://localhost"}"#,
    ))
    .await;
    assert_eq!(d.get("/health/ready").await.0, 503);
    d.wait_until(|| async { d.get("/health/ready").await.0 == 200 })
        .await;
    assert_eq!(completed(&w), 0, "WEBHOOK does not resync on its own");

    assert_eq!(d.post("/resync").await, 202);
    d.wait_until(|| async { completed(&w) == 1 }).await;
    assert_eq!(w.catalog_keys(), w.expected_keys(&w.account_ids()));
    let (_, ready) = d.get("/health/ready").await;
    let ready: Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["last_run"]["outcome"], "complete", "{ready}");

    let (status, metrics) = d.get("/metrics").await;
    assert_eq!(status, 200);
    for needle in [
        "aws_catalog_sync_resync_runs_total{outcome=\"complete\"} 1",
        "aws_catalog_sync_entities_upserted_total{blueprint=\"ec2Instance\"}",
        "aws_catalog_sync_items_listed_total{kind=\"AWS::EC2::Instance\"}",
        "aws_catalog_sync_aws_calls_total{service=\"ec2\"}",
        "aws_catalog_sync_port_calls_total{endpoint=\"POST /blueprints/{id}/entities/bulk\"}",
        "aws_catalog_sync_last_success_timestamp_seconds",
    ] {
        assert!(metrics.contains(needle), "{needle} in\n{metrics}");
    }
    assert_eq!(d.stop().await, 143);

    // KAFKA is refused at start, with the alternative named.
    let out = support::run_binary(&["sail"], &listener(&w, r#"{"type":"KAFKA"}"#)).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("POLLING"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_picks_up_a_new_resync_request() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    w.port
        .set_resync_request(IDENTIFIER, "2026-01-01T00:00:00.000Z");
    let d = Daemon::start(&listener(
        &w,
        r#"{"type":"POLLING","interval":1,"resyncOnStart":false}"#,
    ))
    .await;
    d.wait_until(|| async { d.get("/health/ready").await.0 == 200 })
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        completed(&w),
        0,
        "the request present at start was already handled"
    );
    w.port
        .set_resync_request(IDENTIFIER, "2099-01-01T00:00:00.000Z");
    d.wait_until(|| async { completed(&w) == 1 }).await;
    assert_eq!(d.stop().await, 143);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_interval_triggers_runs() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    let mut env = listener(&w, r#"{"type":"WEBHOOK","appHost":"http://localhost"}"#);
    set(&mut env, "OCEAN__SCHEDULED_RESYNC_INTERVAL", "0.02");
    let d = Daemon::start(&env).await;
    d.wait_until(|| async { completed(&w) >= 2 }).await;
    assert_eq!(d.stop().await, 143);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_coalesce_runs_never_overlap_and_sigterm_aborts_a_run() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    // Each run spends over a second upserting.
    w.port.inject(Fault {
        path_contains: "/entities/bulk".into(),
        latency_ms: 1_200,
        times: 10_000,
        ..Fault::default()
    });
    let d = Daemon::start(&listener(
        &w,
        r#"{"type":"WEBHOOK","appHost":"http://localhost"}"#,
    ))
    .await;
    d.wait_until(|| async { d.get("/health/ready").await.0 == 200 })
        .await;
    for _ in 0..5 {
        assert_eq!(d.post("/resync").await, 202);
    }
    d.wait_until(|| async { completed(&w) >= 1 }).await;
    for _ in 0..5 {
        assert_eq!(d.post("/resync").await, 202);
    }
    // The first burst is one run, the second one follow-up run.
    d.wait_until(|| async { completed(&w) >= 2 }).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let states = w.port.resync_states(IDENTIFIER);
    for pair in states.windows(2) {
        assert!(
            !(pair[0] == "running" && pair[1] == "running"),
            "overlapping runs: {states:?}"
        );
    }
    assert!(completed(&w) <= 3, "bursts coalesce: {states:?}");

    // A run in progress when SIGTERM comes is aborted.
    let before = states.len();
    assert_eq!(d.post("/resync").await, 202);
    d.wait_until(|| async { w.port.resync_states(IDENTIFIER).len() > before })
        .await;
    assert_eq!(d.stop().await, 143);
    assert_eq!(
        w.port.resync_states(IDENTIFIER).last().map(String::as_str),
        Some("aborted")
    );
}
