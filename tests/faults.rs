//! The fault catalogue: each fault costs time, never data. Every case checks the final
//! catalogue and that nothing owned was lost.

mod support;

use std::time::{Duration, Instant};

use support::aws_proxy::Rule;
use support::port_fake::Fault;
use support::{IDENTIFIER, World, run_binary};

const SEED: &[&str] = &["--members", "2", "--ou-members", "1"];

/// A world whose catalog holds what a previous run wrote plus one stale EC2 instance and
/// one stale bucket of ours.
async fn world() -> World {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    w.previous_run(&[
        ("ec2Instance", "i-stale"),
        ("s3Bucket", "arn:aws:s3:::stale"),
    ]);
    w
}

fn fault(path: &str, status: u16, times: usize) -> Fault {
    Fault {
        path_contains: path.into(),
        status,
        times,
        ..Fault::default()
    }
}

/// The catalog after a complete run: every current entity, no stale one.
fn assert_complete_and_reconciled(w: &World) {
    assert_eq!(w.catalog_keys(), w.expected_keys(&w.account_ids()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_429_burst_with_retry_after_is_waited_out() {
    let w = world().await;
    w.port.inject(Fault {
        retry_after: Some("1".into()),
        ..fault("/entities/bulk", 429, 3)
    });
    let started = Instant::now();
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_reconciled(&w);
    let throttled = w.port.requests().iter().filter(|r| r.status == 429).count();
    assert_eq!(throttled, 3);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_503_flapping_is_retried() {
    let w = world().await;
    w.port.inject(fault("/entities/bulk", 503, 4));
    w.port.inject(fault("/datasource-entities", 503, 1));
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_reconciled(&w);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_latency_on_every_call_only_costs_time() {
    let w = world().await;
    w.port.inject(Fault {
        latency_ms: 300,
        ..fault("/v1/", 0, 10_000)
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_reconciled(&w);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_run_is_refreshed() {
    let w = world().await;
    w.port.set_token_ttl_secs(2);
    // Slow upserts: the token issued at the start is over before the run ends.
    w.port.inject(Fault {
        latency_ms: 1_500,
        ..fault("/entities/bulk", 0, 10_000)
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_reconciled(&w);
    let tokens = w
        .port
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/auth/access_token"))
        .count();
    assert!(
        tokens > 1,
        "the token was renewed ({tokens} token requests)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_port_finds_too_large_is_split() {
    let w = world().await;
    w.port.inject(fault("/entities/bulk", 413, 1));
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_reconciled(&w);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_throttling_is_retried() {
    let w = world().await;
    w.proxy.add_rule(Rule {
        action: "DescribeInstances".into(),
        status: 503,
        code: "RequestLimitExceeded".into(),
        times: 2,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_reconciled(&w);
    assert!(
        w.proxy.hits("DescribeInstances") >= 2 + 6,
        "throttled calls were retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_throttling_that_outlasts_the_retries_fails_that_kind_only() {
    let w = world().await;
    w.proxy.add_rule(Rule {
        action: "DescribeInstances".into(),
        status: 503,
        code: "RequestLimitExceeded".into(),
        times: 1000,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    // EC2 was not seen: its blueprint is not reconciled, so every instance (stale or not)
    // is still there; S3 was complete: its stale bucket went.
    assert!(w.port.entity("ec2Instance", "i-stale").is_some());
    for (bp, id) in w.expected_keys(&w.account_ids()) {
        assert!(w.port.entity(&bp, &id).is_some(), "{bp} {id} kept");
    }
    assert!(w.port.entity("s3Bucket", "arn:aws:s3:::stale").is_none());
    assert!(
        run.stderr.contains("RequestLimitExceeded"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_run_aborts_cleanly_and_deletes_nothing() {
    let w = world().await;
    // Slow bulk upserts keep the run busy long enough to be interrupted.
    w.port.inject(Fault {
        latency_ms: 3_000,
        ..fault("/entities/bulk", 0, 10_000)
    });
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(support::binary());
    cmd.args(["sail", "--once"])
        .current_dir(dir.path())
        .env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in w.env() {
        cmd.env(k, v);
    }
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap().to_string();
    // Wait until the first bulk upsert is in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !w
        .port
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/entities/bulk"))
    {
        assert!(
            Instant::now() < deadline,
            "the run never reached the upserts"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let signalled = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the process exits soon after SIGTERM")
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "exit within a bounded time"
    );
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "aborted"]);
    assert!(
        w.port
            .write_requests()
            .iter()
            .all(|r| !r.path.contains("/delete"))
    );
    assert!(
        w.port.entity("ec2Instance", "i-stale").is_some(),
        "nothing was deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_role_credentials_are_renewed_during_a_run() {
    let w = world().await;
    let mut env = w.env();
    // Credentials valid 30 s and renewed 29 s before they expire: due a second after each
    // AssumeRole; paced calls keep the run going for several seconds.
    w.proxy.set_credentials_lifetime(30);
    support::set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__CREDENTIAL_REFRESH_MARGIN_SECONDS",
        "29",
    );
    support::set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__MAX_REQUESTS_PER_SECOND",
        "1",
    );
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_reconciled(&w);
    let accounts = w.account_ids().len();
    // One org role + one per account at discovery; renewals come on top.
    assert!(
        w.proxy.hits("AssumeRole") > accounts + 1,
        "{} AssumeRole calls for {accounts} accounts\n{}",
        w.proxy.hits("AssumeRole"),
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_calls_are_paced_per_account_and_service() {
    let w = world().await;
    let mut env = w.env();
    support::set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__MAX_REQUESTS_PER_SECOND",
        "1",
    );
    let started = Instant::now();
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_complete_and_reconciled(&w);
    // S3 in one account is ListBuckets + 2 GetBucketTagging: at 1/s, at least 2 s.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
