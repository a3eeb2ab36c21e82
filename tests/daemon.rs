//! The long-running mode: listeners, the HTTP surface, one run at a time, shutdown.

mod support;

use serde_json::Value;
use support::daemon::Daemon;
use support::{IDENTIFIER, World, set};

const SEED: &[&str] = &["--members", "1"];

fn listener(w: &World, json: &str) -> Vec<(String, String)> {
    let mut env = w.env();
    set(&mut env, "OCEAN__EVENT_LISTENER", json);
    env
}

/// Triggers the daemon accepted so far: each is logged ("resync requested") before the
/// trigger's answer is sent or the poll that caused it is followed by the next one.
fn triggers(d: &Daemon) -> usize {
    d.stderr()
        .lines()
        .filter(|l| l.contains(r#""message":"resync requested""#))
        .count()
}

/// `GET /integration/{id}/resync-request` polls Port has answered so far.
fn polls(w: &World) -> usize {
    w.port
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/resync-request") && r.answered.is_some())
        .count()
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
    // Bootstrap waits for Port (which holds the integration read): ready must say so
    // meanwhile.
    w.port.hold(&format!("/v1/integration/{IDENTIFIER}"));
    let d = Daemon::start(&listener(
        &w,
        r#"{"type":"WEBHOOK","appHost":"http://localhost"}"#,
    ))
    .await;
    d.wait_until(|| async { !w.port.held().is_empty() }).await;
    assert_eq!(d.get("/health/ready").await.0, 503);
    w.port.unhold();
    d.wait_until(|| async { d.get("/health/ready").await.0 == 200 })
        .await;

    assert_eq!(d.post("/resync").await, 202);
    d.wait_until(|| async { completed(&w) == 1 }).await;
    assert_eq!(w.catalog_keys(), w.expected_keys(&w.account_ids()));
    // WEBHOOK does not resync on its own: the one run is the POST's.
    assert_eq!(triggers(&d), 1, "{}", d.stderr());
    assert_eq!(
        w.port.resync_states(IDENTIFIER),
        vec!["running", "completed"]
    );
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
    // The first poll saw the request present at start, the second saw it again; a trigger
    // from either is logged before the next poll goes out.
    d.wait_until(|| async { polls(&w) >= 3 }).await;
    assert_eq!(
        triggers(&d),
        0,
        "the request present at start was already handled"
    );
    assert!(w.port.resync_states(IDENTIFIER).is_empty());
    w.port
        .set_resync_request(IDENTIFIER, "2099-01-01T00:00:00.000Z");
    d.wait_until(|| async { completed(&w) == 1 }).await;
    assert_eq!(triggers(&d), 1, "{}", d.stderr());
    assert_eq!(
        w.port.resync_states(IDENTIFIER),
        vec!["running", "completed"]
    );
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
    // Port holds every bulk upsert until the test releases it: a run stays in its upload
    // for exactly as long as the test needs.
    w.port.hold("/entities/bulk");
    let d = Daemon::start(&listener(
        &w,
        r#"{"type":"WEBHOOK","appHost":"http://localhost"}"#,
    ))
    .await;
    d.wait_until(|| async { d.get("/health/ready").await.0 == 200 })
        .await;
    let states = || w.port.resync_states(IDENTIFIER);

    // A burst starts run 1; a second burst comes while run 1 is in its upload.
    for _ in 0..5 {
        assert_eq!(d.post("/resync").await, 202);
    }
    d.wait_until(|| async { !w.port.held().is_empty() }).await;
    for _ in 0..5 {
        assert_eq!(d.post("/resync").await, 202);
    }
    d.wait_until(|| async { triggers(&d) >= 10 }).await;
    assert_eq!(triggers(&d), 10, "one trigger per POST");
    assert_eq!(states(), vec!["running"], "no second run while one runs");

    // Run 1 ends; the triggers that came during it are one follow-up run, now in its upload.
    w.port.release();
    d.wait_until(|| async {
        states() == ["running", "completed", "running"] && !w.port.held().is_empty()
    })
    .await;
    w.port.release();
    d.wait_until(|| async { completed(&w) == 2 }).await;
    // The runner reports the follow-up before it looks for more work; a third run (none is
    // due) would start at once and fetch its token first.
    d.wait_until(|| async {
        d.get("/metrics")
            .await
            .1
            .contains("aws_catalog_sync_resync_runs_total{outcome=\"complete\"} 2")
    })
    .await;
    let token_requests = || {
        w.port
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/auth/access_token"))
            .count()
    };
    let tokens_before = token_requests();
    assert_eq!(
        states(),
        vec!["running", "completed", "running", "completed"]
    );

    // A run in progress when SIGTERM comes is aborted; it is the run of this trigger (its
    // token was fetched after the trigger), not a third run of the bursts.
    assert_eq!(d.post("/resync").await, 202);
    d.wait_until(|| async { states().len() == 5 && !w.port.held().is_empty() })
        .await;
    assert_eq!(token_requests(), tokens_before + 1);
    assert_eq!(d.stop().await, 143);
    assert_eq!(
        states(),
        vec![
            "running",
            "completed",
            "running",
            "completed",
            "running",
            "aborted"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_past_its_deadline_frees_the_runner_and_readiness_says_so() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    w.previous_run(&[("s3Bucket", "arn:aws:s3:::stale")]);
    // The first run's EC2 listing never answers (within its generous attempt timeout).
    w.proxy.add_rule(support::aws_proxy::Rule {
        action: "DescribeInstances".into(),
        delay_ms: 600_000,
        times: 1,
        ..Default::default()
    });
    let mut env = listener(&w, r#"{"type":"WEBHOOK","appHost":"http://localhost"}"#);
    set(&mut env, "OCEAN__RESYNC_TIMEOUT_MINUTES", "0.05");
    let d = Daemon::start(&env).await;
    d.wait_until(|| async { d.get("/health/ready").await.0 == 200 })
        .await;
    assert_eq!(d.post("/resync").await, 202);
    d.wait_until(|| async { d.ready_body("").await["last_run"]["outcome"] == "timed_out" })
        .await;
    let ready = d.ready_body("").await;
    assert_eq!(ready["last_run"]["deadline_exceeded"], true, "{ready}");
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "aborted"]);
    assert!(
        w.port.entity("s3Bucket", "arn:aws:s3:::stale").is_some(),
        "nothing deleted"
    );
    // The runner is free: the next trigger runs to completion.
    assert_eq!(d.post("/resync").await, 202);
    d.wait_until(|| async { completed(&w) == 1 }).await;
    let (_, metrics) = d.get("/metrics").await;
    assert!(
        metrics.contains("aws_catalog_sync_resync_runs_total{outcome=\"timed_out\"} 1"),
        "{metrics}"
    );
    assert_eq!(d.stop().await, 143);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_compares_resync_request_times_as_instants() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    w.port
        .set_resync_request(IDENTIFIER, "2026-01-01T00:00:00Z");
    let d = Daemon::start(&listener(
        &w,
        r#"{"type":"POLLING","interval":1,"resyncOnStart":false}"#,
    ))
    .await;
    d.wait_until(|| async { d.get("/health/ready").await.0 == 200 })
        .await;
    d.wait_until(|| async { polls(&w) >= 3 }).await;
    assert_eq!(triggers(&d), 0, "the request present at start was handled");
    assert!(w.port.resync_states(IDENTIFIER).is_empty());
    // Half a second later, though "…00.500Z" < "…00Z" as strings.
    w.port
        .set_resync_request(IDENTIFIER, "2026-01-01T00:00:00.500Z");
    d.wait_until(|| async { completed(&w) == 1 }).await;
    // A timestamp that does not parse is logged and ignored: no run, no crash. The poll
    // that read it logged that; two polls more and a trigger would have been logged too.
    w.port.set_resync_request(IDENTIFIER, "not-a-time");
    d.wait_until(|| async { d.stderr().contains("not an RFC 3339 time") })
        .await;
    let seen = polls(&w);
    d.wait_until(|| async { polls(&w) >= seen + 2 }).await;
    assert_eq!(triggers(&d), 1, "{}", d.stderr());
    assert_eq!(completed(&w), 1);
    assert_eq!(d.get("/health/live").await.0, 200);
    // Compared with the last valid one, in any offset.
    w.port
        .set_resync_request(IDENTIFIER, "2026-01-01T01:00:01+01:00");
    d.wait_until(|| async { completed(&w) == 2 }).await;
    assert_eq!(d.stop().await, 143);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_under_the_prefix_on_the_bind_address_and_resync_needs_the_secret() {
    const SECRET: &str = "resync-SENTINEL-a41c";
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    let mut env = listener(&w, r#"{"type":"WEBHOOK","appHost":"http://localhost"}"#);
    set(&mut env, "OCEAN__PATH_PREFIX", "/aws");
    set(&mut env, "OCEAN__RESYNC_SECRET", SECRET);
    set(&mut env, "APPLICATION__HOST", "127.0.0.1");
    let d = Daemon::start(&env).await;
    d.wait_until(|| async { d.get("/aws/health/ready").await.0 == 200 })
        .await;

    // Bound to 127.0.0.1 only: another loopback address is refused.
    let other = reqwest::get(format!("http://127.0.0.2:{}/aws/health/live", d.port)).await;
    assert!(other.is_err(), "reachable on 127.0.0.2: {other:?}");

    // Every route under the prefix, none at the root.
    assert_eq!(d.get("/aws/metrics").await.0, 200);
    for path in ["/health/live", "/health/ready", "/metrics"] {
        assert_eq!(d.get(path).await.0, 404, "{path}");
    }
    assert_eq!(
        d.post_with("/resync", Some(&format!("Bearer {SECRET}")))
            .await,
        404
    );

    // Without the secret, or with a wrong one: 401 and no run.
    assert_eq!(d.post("/aws/resync").await, 401);
    assert_eq!(d.post_with("/aws/resync", Some("Bearer wrong")).await, 401);
    assert_eq!(d.post_with("/aws/resync", Some(SECRET)).await, 401);
    // Each refusal is logged before its answer, as a trigger would have been.
    d.wait_until(|| async {
        d.stderr()
            .matches("POST /resync without the right Authorization header")
            .count()
            == 3
    })
    .await;
    assert_eq!(triggers(&d), 0, "an unauthorized request triggered a run");
    assert!(w.port.resync_states(IDENTIFIER).is_empty());

    assert_eq!(
        d.post_with("/aws/resync", Some(&format!("Bearer {SECRET}")))
            .await,
        202
    );
    d.wait_until(|| async { completed(&w) == 1 }).await;
    assert_eq!(triggers(&d), 1);
    assert_eq!(
        w.port.resync_states(IDENTIFIER),
        vec!["running", "completed"]
    );
    let stderr = d.stderr();
    assert_eq!(d.stop().await, 143);
    assert!(!stderr.contains(SECRET), "the secret was logged:\n{stderr}");

    // A bind address or a prefix that cannot be used stops the start, naming the setting
    // (a wildcard in the prefix used to panic the router).
    for (key, value) in [
        ("APPLICATION__HOST", "not-an-address"),
        ("OCEAN__PATH_PREFIX", "/aws/*rest"),
    ] {
        let mut env = listener(&w, r#"{"type":"WEBHOOK","appHost":"http://localhost"}"#);
        set(&mut env, key, value);
        let out = support::run_binary(&["sail"], &env).await;
        assert_eq!(out.code, 2, "{key}: {}", out.all_output());
        assert!(out.stderr.contains(key), "{key}: {}", out.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_shows_outcome_and_counts_but_no_account_ids_or_error_text() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    let denied = w.members()[0]["id"].as_str().unwrap().to_string();
    w.proxy.deny_assume_role(&denied);
    let d = Daemon::start(&listener(
        &w,
        r#"{"type":"WEBHOOK","appHost":"http://localhost"}"#,
    ))
    .await;
    d.wait_until(|| async { d.get("/health/ready").await.0 == 200 })
        .await;
    let leaks = |body: &Value| {
        let text = body.to_string();
        for needle in [
            denied.as_str(),
            support::MANAGEMENT,
            "AccessDenied",
            "not authorized",
            "arn:aws",
        ] {
            assert!(
                !text.contains(needle),
                "{needle} in the readiness body: {text}"
            );
        }
    };

    // A partial run: one account could not be assumed.
    assert_eq!(d.post("/resync").await, 202);
    d.wait_until(|| async { d.ready_body("").await["last_run"]["outcome"] == "partial" })
        .await;
    let body = d.ready_body("").await;
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["last_run"]["accounts_failed"], 1, "{body}");
    assert_eq!(body["last_run"]["accounts_ok"], 1, "{body}");
    leaks(&body);

    // A failed run: not even the management account's role can be assumed.
    w.proxy.deny_assume_role(support::MANAGEMENT);
    assert_eq!(d.post("/resync").await, 202);
    d.wait_until(|| async { d.ready_body("").await["last_run"]["outcome"] == "failed" })
        .await;
    let body = d.ready_body("").await;
    assert!(body["last_run"].get("error").is_none(), "{body}");
    leaks(&body);
    // The details are in the logs.
    let stderr = d.stderr();
    assert!(stderr.contains(&denied), "{stderr}");
    assert_eq!(d.stop().await, 143);
}
