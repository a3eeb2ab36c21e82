//! Cases of the fault audit of the release binary (issue 11): each drives the real binary
//! against moto (behind the fault proxy) and the Port fake, and failed before its fix.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::aws_proxy::Rule;
use support::port_fake::Fault;
use support::{IDENTIFIER, MANAGEMENT, ROLE, World, free_port, kill, run_binary, set, spawn};

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

/// Every entity of the previous run is still there, and no delete request was sent.
fn assert_nothing_deleted(w: &World) {
    assert!(
        w.port
            .write_requests()
            .iter()
            .all(|r| !r.path.contains("/delete")),
        "a delete request was sent"
    );
    for (bp, id) in w.expected_keys(&w.account_ids()) {
        assert!(w.port.entity(&bp, &id).is_some(), "{bp} {id} was kept");
    }
    assert!(w.port.entity("ec2Instance", "i-stale").is_some());
    assert!(w.port.entity("s3Bucket", "arn:aws:s3:::stale").is_some());
}

fn denied(action: &str) -> Rule {
    Rule {
        action: action.into(),
        status: 400,
        code: "AccessDeniedException".into(),
        times: 1000,
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------
// 1. Organizations access lost

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_access_denied_fails_the_run_and_deletes_nothing() {
    let w = world().await;
    w.proxy.add_rule(denied("ListAccounts"));
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "failed"]);
    assert_nothing_deleted(&w);
    // The error names the role, the call, AWS's message and the likely causes.
    let role = format!("arn:aws:iam::{MANAGEMENT}:role/{ROLE}");
    for part in [
        role.as_str(),
        "organizations:ListAccounts",
        "injected by aws_proxy",
        "management account",
        "delegated administrator",
        "SCP",
        "trust policy",
    ] {
        assert!(run.stderr.contains(part), "{part} in: {}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_access_denied_during_the_ou_walk_fails_the_run() {
    let w = world().await;
    let mut env = w.env();
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__OU_ID",
        w.manifest["ou_id"].as_str().unwrap(),
    );
    w.proxy.add_rule(denied("ListAccountsForParent"));
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "failed"]);
    assert!(
        run.stderr.contains("organizations:ListAccountsForParent"),
        "{}",
        run.stderr
    );
    assert_nothing_deleted(&w);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_single_account_fallback_happens_only_when_asked_for() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    w.proxy.add_rule(denied("ListAccounts"));
    let mut env = w.env();
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__ORGANIZATIONS_FALLBACK_TO_SINGLE_ACCOUNT",
        "true",
    );
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        w.catalog_keys(),
        w.expected_keys(&[MANAGEMENT.to_string()]),
        "the role's own account alone"
    );
    assert!(
        run.stderr.contains("syncing the role's own account only"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------
// 2. itemsToParse that errors

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_items_to_parse_error_is_partial_and_keeps_what_the_item_produced() {
    let w = World::start(SEED).await;
    let mut config = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    // One tag entity per EC2 instance tag, through itemsToParse; `.Properties.Tags` is a
    // list, so `.Properties.Tags.x` errors for every instance.
    config["resources"].as_array_mut().unwrap().push(json!({
        "kind": "AWS::EC2::Instance",
        "selector": {"query": "true", "regionPolicy": {"allow": ["us-east-1", "eu-west-1"]}},
        "port": {
            "itemsToParse": ".Properties.Tags.x",
            "entity": {"mappings": {
                "identifier": ".item.Key",
                "title": ".item.Key",
                "blueprint": "\"s3Bucket\"",
            }}
        }
    }));
    w.seed_integration(config);
    w.previous_run(&[("s3Bucket", "tag-from-last-run")]);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        w.port.entity("s3Bucket", "tag-from-last-run").is_some(),
        "what the item produced before is kept"
    );
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("itemsToParse"))
        .expect("the error is logged");
    for part in ["AWS::EC2::Instance", "resource_index", ".Properties.Tags.x"] {
        assert!(line.contains(part), "{part} in {line}");
    }
}

// ---------------------------------------------------------------------------------------
// 14. The per-resource maxConcurrentAccounts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_max_concurrent_accounts_bounds_the_accounts_at_once() {
    let w = World::start(SEED).await;
    // Slow region discovery (one call per account) shows how many accounts run at once.
    w.proxy.add_rule(Rule {
        action: "DescribeRegions".into(),
        delay_ms: 700,
        times: 10_000,
        ..Default::default()
    });
    w.seed_integration_with_regions();
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let accounts = w.account_ids().len();
    assert_eq!(
        w.proxy.max_in_flight("DescribeRegions"),
        accounts,
        "without a bound, every account at once"
    );

    let mut config = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    config["resources"][1]["selector"]["maxConcurrentAccounts"] = json!(1);
    w.seed_integration(config);
    w.proxy.reset_hits();
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.max_in_flight("DescribeRegions"), 1);
    assert_eq!(w.catalog_keys(), w.expected_keys(&w.account_ids()));
}

// ---------------------------------------------------------------------------------------
// Processes that get signals

/// Waits (at most a minute) until the fake has seen a request that satisfies `seen`.
async fn wait_for_request(w: &World, seen: impl Fn(&support::port_fake::Recorded) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !w.port.requests().iter().any(&seen) {
        assert!(Instant::now() < deadline, "the expected request never came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Exit status and stderr, waiting at most `within`.
async fn finish(child: tokio::process::Child, within: Duration) -> (Option<i32>, String) {
    let out = tokio::time::timeout(within, child.wait_with_output())
        .await
        .expect("the process exits in time")
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// 3. An abort during deletion

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_deletion_reports_what_reached_port() {
    let w = World::start(SEED).await;
    let mut config = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    config["entityDeletionThreshold"] = json!(1.0);
    w.seed_integration(config);
    let stale: Vec<String> = (0..250)
        .map(|i| format!("arn:aws:s3:::stale-{i:03}"))
        .collect();
    let stale_keys: Vec<(&str, &str)> = stale.iter().map(|id| ("s3Bucket", id.as_str())).collect();
    w.previous_run(&stale_keys);
    // Slow deletes: the signal comes after the first has been answered, while the second
    // is in flight.
    w.port.inject(Fault {
        path_contains: "/bulk/entities/delete".into(),
        latency_ms: 1_500,
        times: 10_000,
        ..Fault::default()
    });
    let (child, _dir) = spawn(&["sail", "--once"], &w.env());
    wait_for_request(&w, |r| {
        r.path.contains("/bulk/entities/delete") && r.status == 200
    })
    .await;
    kill(&child, "TERM");
    let (code, stderr) = finish(child, Duration::from_secs(20)).await;
    assert_eq!(code, Some(143), "{stderr}");
    let left = stale
        .iter()
        .filter(|id| w.port.entity("s3Bucket", id).is_some())
        .count();
    let deleted = stale.len() - left;
    assert_eq!(deleted, 100, "one bulk delete completed at Port");
    assert!(
        stderr.contains("100 stale entities had been deleted, and 100 more possibly"),
        "{stderr}"
    );
    let deletes = w
        .port
        .requests()
        .iter()
        .filter(|r| r.path.contains("/bulk/entities/delete"))
        .count();
    assert_eq!(deletes, 2, "no delete request after the signal");
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "aborted"]);
}

// 4. Deleting entities that have dependents

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entities_with_dependents_are_isolated_counted_and_the_rest_deleted() {
    let w = World::start(SEED).await;
    let mut config = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    config["deleteDependentEntities"] = json!(false);
    w.seed_integration(config);
    let stale = [
        "111100000001",
        "111100000002",
        "111100000003",
        "999999999999",
    ];
    let stale_keys: Vec<(&str, &str)> = stale.iter().map(|id| ("awsAccount", *id)).collect();
    w.previous_run(&stale_keys);
    // Another integration's entity depends on one stale account: Port refuses to delete it.
    w.port.put_entity(
        json!({"identifier": "i-foreign", "blueprint": "ec2Instance", "relations": {"account": "999999999999"}}),
        "port-ocean/other/1.0.0/other/exporter",
    );
    // One of ours, stale too, depends on another: deleted first, then its target can go.
    w.port.put_entity(
        json!({"identifier": "i-dependent", "blueprint": "ec2Instance", "relations": {"account": "888888888888"}}),
        &support::our_datasource(),
    );
    w.port.put_entity(
        json!({"identifier": "888888888888", "blueprint": "awsAccount"}),
        &support::our_datasource(),
    );
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    for id in &stale[..3] {
        assert!(w.port.entity("awsAccount", id).is_none(), "{id} deleted");
    }
    assert!(w.port.entity("ec2Instance", "i-dependent").is_none());
    assert!(
        w.port.entity("awsAccount", "888888888888").is_none(),
        "deleted once its dependent was gone"
    );
    assert!(
        w.port.entity("awsAccount", "999999999999").is_some(),
        "an entity with a dependent is kept"
    );
    assert!(w.port.entity("ec2Instance", "i-foreign").is_some());
    let summary = run
        .stderr
        .lines()
        .find(|l| l.contains("resync finished"))
        .expect("a summary");
    assert!(
        summary.contains(r#"\"entities_delete_failed\":1"#),
        "{summary}"
    );
    let refused = run
        .stderr
        .lines()
        .find(|l| l.contains("stale entity not deleted"))
        .expect("the refusal is logged");
    assert!(
        refused.contains("999999999999") && refused.contains("has_dependents"),
        "{refused}"
    );
    assert_eq!(w.port.resync_states(IDENTIFIER).last().unwrap(), "failed");
}

// 5. Hangs

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_call_that_never_answers_fails_its_unit_not_the_run() {
    let w = world().await;
    w.proxy.add_rule(Rule {
        action: "DescribeInstances".into(),
        delay_ms: 600_000,
        times: 1000,
        ..Default::default()
    });
    let mut env = w.env();
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__AWS_ATTEMPT_TIMEOUT_SECONDS",
        "1",
    );
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__AWS_OPERATION_TIMEOUT_SECONDS",
        "3",
    );
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        w.port.entity("ec2Instance", "i-stale").is_some(),
        "EC2 unseen: kept"
    );
    assert!(
        w.port.entity("s3Bucket", "arn:aws:s3:::stale").is_none(),
        "S3 complete: reconciled"
    );
    assert!(
        run.stderr.contains("ec2:DescribeInstances"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_past_its_deadline_is_aborted_and_deletes_nothing() {
    let w = world().await;
    w.proxy.add_rule(Rule {
        action: "DescribeInstances".into(),
        delay_ms: 600_000,
        times: 1000,
        ..Default::default()
    });
    let mut env = w.env();
    set(&mut env, "OCEAN__RESYNC_TIMEOUT_MINUTES", "0.05");
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The deadline ended the run, not an attempt timeout (60 s): each listing was sent once
    // and was still unanswered when the process had exited.
    let listings: Vec<_> = w
        .proxy
        .calls()
        .into_iter()
        .filter(|c| c.action == "DescribeInstances")
        .collect();
    assert!(!listings.is_empty());
    assert!(listings.len() <= w.account_ids().len() * 2, "{listings:#?}");
    assert!(
        listings.iter().all(|c| c.answered.is_none()),
        "{listings:#?}"
    );
    assert!(
        run.stderr.contains("OCEAN__RESYNC_TIMEOUT_MINUTES"),
        "{}",
        run.stderr
    );
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "aborted"]);
    assert_nothing_deleted(&w);
}

// 6. Signals during bootstrap

/// Waits (at most a minute: only a hang guard) until Port holds a request.
async fn wait_until_held(w: &World) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while w.port.held().is_empty() {
        assert!(Instant::now() < deadline, "no request reached the hold");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every request to a path containing `held` is still unanswered.
fn assert_unanswered(w: &World, held: &str) {
    let requests: Vec<_> = w
        .port
        .requests()
        .into_iter()
        .filter(|r| r.path.contains(held))
        .collect();
    assert!(!requests.is_empty());
    assert!(
        requests.iter().all(|r| r.answered.is_none()),
        "{requests:#?}"
    );
}

async fn signal_during_cold_bootstrap(signal: &str, expected: i32) {
    let w = World::start(SEED).await;
    // A cold start (no integration yet) against a Port that does not answer.
    w.port.hold("/v1/integration");
    let (child, _dir) = spawn(&["sail", "--once"], &w.env());
    wait_until_held(&w).await;
    kill(&child, signal);
    // The bound only guards against a hang: a process that waits for Port never exits.
    let (code, stderr) = finish(child, Duration::from_secs(20)).await;
    assert_eq!(
        code,
        Some(expected),
        "exit status, not death by signal: {stderr}"
    );
    // It exited without waiting for Port's answer.
    assert_unanswered(&w, "/v1/integration");
    assert!(stderr.contains("cancelled"), "{stderr}");
    assert!(
        w.port.integration(IDENTIFIER).is_none(),
        "nothing was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_bootstrap_exits_143() {
    signal_during_cold_bootstrap("TERM", 143).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_during_bootstrap_exits_130() {
    signal_during_cold_bootstrap("INT", 130).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_exits_at_once_on_sigint_while_port_is_slow() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    w.port.hold("/v1/");
    let mut env = w.env();
    set(&mut env, "OCEAN__EVENT_LISTENER", r#"{"type":"POLLING"}"#);
    set(&mut env, "APPLICATION__PORT", &free_port().to_string());
    let (child, _dir) = spawn(&["sail"], &env);
    wait_until_held(&w).await;
    kill(&child, "INT");
    // The bound only guards against a hang: a daemon that waits for Port never exits.
    let (code, stderr) = finish(child, Duration::from_secs(30)).await;
    assert_eq!(code, Some(130), "{stderr}");
    assert_unanswered(&w, "/v1/");
}

// 8. Credentials

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_role_renewal_keeps_serving_the_valid_credentials() {
    let w = world().await;
    // Credentials valid 60 s, due for renewal 2 s after each AssumeRole; every renewal is
    // refused, while paced calls keep the run going for several seconds.
    w.proxy.set_credentials_lifetime(60);
    let accounts = w.account_ids().len();
    w.proxy.add_rule(Rule {
        action: "AssumeRole".into(),
        status: 403,
        code: "AccessDenied".into(),
        skip: accounts + 1,
        times: 10_000,
        ..Default::default()
    });
    let mut env = w.env();
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__CREDENTIAL_REFRESH_MARGIN_SECONDS",
        "58",
    );
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__MAX_REQUESTS_PER_SECOND",
        "1",
    );
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.catalog_keys(), w.expected_keys(&w.account_ids()));
    assert!(
        w.proxy.hits("AssumeRole") > accounts + 1,
        "renewal was attempted\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("renewal"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_margin_close_to_the_session_is_rejected() {
    let w = World::start(SEED).await;
    let mut env = w.env();
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__CREDENTIAL_REFRESH_MARGIN_SECONDS",
        "3000",
    );
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("OCEAN__INTEGRATION__CONFIG__CREDENTIAL_REFRESH_MARGIN_SECONDS"),
        "{}",
        run.stderr
    );
    assert!(w.port.requests().is_empty(), "nothing was sent to Port");
}

// ---------------------------------------------------------------------------------------
// 15. Listings that are not complete: DescribeClusters failures, cursors that cycle; mapping
// errors named for what failed

/// A world whose catalog holds what a previous run wrote plus one stale entity of ours of
/// each of the blueprints a listing below can produce.
async fn world_with_stale(seed: &[&str]) -> World {
    let w = World::start(seed).await;
    w.seed_integration_with_regions();
    w.previous_run(&[
        ("ec2Instance", "i-stale"),
        ("s3Bucket", "arn:aws:s3:::stale"),
        (
            "ecsCluster",
            "arn:aws:ecs:us-east-1:123456789012:cluster/stale",
        ),
    ]);
    w
}

const STALE_CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/stale";

/// The line of the failed unit of `operation`.
fn unit_failure<'a>(stderr: &'a str, operation: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.contains("listing failed") && l.contains(operation))
        .unwrap_or_else(|| panic!("a failed {operation} unit is logged: {stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_clusters_failures_fail_the_ecs_unit_and_keep_its_blueprint() {
    let w = world_with_stale(SEED).await;
    let missing = "arn:aws:ecs:us-east-1:123456789012:cluster/vanished";
    // AWS answers 200 but could not describe a cluster it had just listed.
    w.proxy.add_rule(Rule {
        action: "DescribeClusters".into(),
        body: Some(
            json!({"clusters": [], "failures": [{"arn": missing, "reason": "MISSING"}]})
                .to_string(),
        ),
        times: 1,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        w.port.entity("ecsCluster", STALE_CLUSTER).is_some(),
        "ECS incomplete: its blueprint is not reconciled"
    );
    for (bp, id) in w.expected_keys(&w.account_ids()) {
        assert!(w.port.entity(&bp, &id).is_some(), "{bp} {id} kept");
    }
    assert!(
        w.port.entity("ec2Instance", "i-stale").is_none(),
        "EC2 complete: reconciled"
    );
    assert!(w.port.entity("s3Bucket", "arn:aws:s3:::stale").is_none());
    let line = unit_failure(&run.stderr, "ecs:DescribeClusters");
    for part in [missing, "MISSING"] {
        assert!(line.contains(part), "{part} in {line}");
    }
    assert_eq!(w.port.resync_states(IDENTIFIER).last().unwrap(), "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ecs_list_clusters_token_repeated_at_once_fails_the_unit_not_ends_it() {
    let w = world_with_stale(SEED).await;
    // Every page points at the same next page: the SDK's paginator stops there quietly,
    // as if the listing were complete.
    w.proxy.add_rule(Rule {
        action: "ListClusters".into(),
        body: Some(json!({"clusterArns": [], "nextToken": "page-2"}).to_string()),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(w.port.entity("ecsCluster", STALE_CLUSTER).is_some());
    for c in w.manifest["clusters"].as_array().unwrap() {
        let arn = c["arn"].as_str().unwrap();
        assert!(w.port.entity("ecsCluster", arn).is_some(), "{arn} kept");
    }
    assert!(
        w.port.entity("ec2Instance", "i-stale").is_none(),
        "EC2 complete: reconciled"
    );
    let line = unit_failure(&run.stderr, "ecs:ListClusters");
    assert!(line.contains("repeats an earlier one"), "{line}");
}

/// An S3 `ListBuckets` page, empty, pointing at `next` when given.
fn list_buckets_page(next: Option<&str>) -> Rule {
    let token = next
        .map(|t| format!("<ContinuationToken>{t}</ContinuationToken>"))
        .unwrap_or_default();
    Rule {
        action: "ListBuckets".into(),
        body: Some(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult \
             xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>owner</ID></Owner>\
             <Buckets></Buckets>{token}</ListAllMyBucketsResult>"
        )),
        times: 1,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_continuation_token_that_cycles_fails_the_unit() {
    // One account, so the canned pages below are its pages, in order.
    let w = world_with_stale(&["--members", "0", "--ou-members", "0"]).await;
    assert_eq!(w.account_ids(), vec![MANAGEMENT.to_string()]);
    // Pages A → B → A: not a token repeated at once, a cycle. The last page ends the
    // listing, so a client without a cycle guard finishes (and reconciles) rather than hang.
    for next in [Some("A"), Some("B"), Some("A"), None] {
        w.proxy.add_rule(list_buckets_page(next));
    }
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        w.proxy.hits("ListBuckets"),
        3,
        "the listing stops at the repeat"
    );
    assert!(
        w.port.entity("s3Bucket", "arn:aws:s3:::stale").is_some(),
        "S3 incomplete: its blueprint is not reconciled"
    );
    for b in w.manifest["buckets"].as_array().unwrap() {
        let arn = format!("arn:aws:s3:::{}", b["name"].as_str().unwrap());
        assert!(w.port.entity("s3Bucket", &arn).is_some(), "{arn} kept");
    }
    assert!(
        w.port.entity("ec2Instance", "i-stale").is_none(),
        "EC2 complete: reconciled"
    );
    let line = unit_failure(&run.stderr, "s3:ListBuckets");
    assert!(line.contains(r#"\"A\" repeats an earlier one"#), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owned_entity_listing_whose_cursor_cycles_deletes_nothing() {
    let w = world().await;
    // first page → A → B → A …; after the script the listing would end normally.
    w.port
        .script_listing_cursors(&["A", "B", "A", "B", "A", "B", "A", "B"]);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(
        run.code, 3,
        "stopped deletion is not a clean run: {}",
        run.stderr
    );
    assert_eq!(w.port.resync_states(IDENTIFIER).last().unwrap(), "failed");
    assert_nothing_deleted(&w);
    let listings = w
        .port
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/datasource-entities"))
        .count();
    assert_eq!(
        listings, 3,
        "the listing stops at the first repeated cursor"
    );
    let summary = run
        .stderr
        .lines()
        .find(|l| l.contains("resync finished"))
        .expect("a summary");
    assert!(
        summary.contains("reconciliation failed") && summary.contains("repeats an earlier one"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identifier_error_is_reported_as_a_mapping_error_not_a_selector_one() {
    let w = World::start(SEED).await;
    let mut config = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    // Indexing a string errors for every instance.
    let ec2 = config["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["kind"] == "AWS::EC2::Instance")
        .unwrap();
    ec2["port"]["entity"]["mappings"]["identifier"] = json!(".Properties.InstanceId.x");
    w.seed_integration(config);
    w.previous_run(&[("ec2Instance", "i-stale")]);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        w.port.entity("ec2Instance", "i-stale").is_some(),
        "what the items produced before is kept"
    );
    let logged = run
        .stderr
        .lines()
        .find(|l| l.contains("mapping error"))
        .expect("the error is logged as a mapping error");
    for part in [
        "AWS::EC2::Instance",
        "identifier",
        ".Properties.InstanceId.x",
    ] {
        assert!(logged.contains(part), "{part} in {logged}");
    }
    let block = run
        .stderr
        .lines()
        .find(|l| l.contains("no entity deleted"))
        .expect("the deletion block is logged");
    assert!(
        block.contains("could not be mapped")
            && block.contains("identifier `.Properties.InstanceId.x` failed"),
        "{block}"
    );
    for wrong in ["selector error", "did not yield a boolean"] {
        assert!(!run.stderr.contains(wrong), "{wrong} in: {}", run.stderr);
    }
}

// ---------------------------------------------------------------------------------------
// 16. Cold start: the mapping Port stored is the one used

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_start_uses_the_mapping_port_stored_not_the_one_posted() {
    let w = World::start(SEED).await;
    // Port's provisioning gives the new integration its own mapping: accounts only.
    let mut stored = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    stored["resources"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["kind"] == "AWS::Account::Info");
    w.port.provision_config(stored.clone());
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let integration = w.port.integration(IDENTIFIER).expect("created");
    assert_eq!(integration["config"], stored);
    let accounts: Vec<(String, String)> = w
        .account_ids()
        .into_iter()
        .map(|id| ("awsAccount".to_string(), id))
        .collect();
    let mut expected = accounts;
    expected.sort();
    assert_eq!(w.catalog_keys(), expected, "awsAccount entities only");
}

/// Answers every later `action` request with the canned 200 `body`.
fn always(action: &str, body: serde_json::Value) -> Rule {
    Rule {
        action: action.into(),
        body: Some(body.to_string()),
        times: 10_000,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ec2_token_repeated_at_once_fails_the_unit_not_ends_it() {
    let w = world().await;
    w.proxy.add_rule(Rule {
        action: "DescribeInstances".into(),
        body: Some(
            "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
             <requestId>r</requestId><reservationSet/><nextToken>page-2</nextToken>\
             </DescribeInstancesResponse>"
                .into(),
        ),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(w.port.entity("ec2Instance", "i-stale").is_some());
    for i in w.manifest["instances"].as_array().unwrap() {
        let id = i["id"].as_str().unwrap();
        assert!(w.port.entity("ec2Instance", id).is_some(), "{id} kept");
    }
    assert!(
        w.port.entity("s3Bucket", "arn:aws:s3:::stale").is_none(),
        "S3 complete: reconciled"
    );
    let line = unit_failure(&run.stderr, "ec2:DescribeInstances");
    assert!(line.contains("repeats an earlier one"), "{line}");
}

/// An Organizations account as `ListAccounts*` returns it.
fn org_account(id: &str) -> serde_json::Value {
    json!({"Id": id, "Arn": format!("arn:aws:organizations::{MANAGEMENT}:account/o-x/{id}"),
           "Name": id, "Email": format!("{id}@example.com"), "Status": "ACTIVE", "State": "ACTIVE"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizations_listing_that_repeats_its_token_fails_the_run_not_drops_accounts() {
    let w = world().await;
    // The first page names one account and points at a next page that points at itself:
    // the SDK's paginator stops there, and the members would look closed.
    w.proxy.add_rule(Rule {
        action: "ListAccounts".into(),
        body: Some(
            json!({"Accounts": [org_account(MANAGEMENT)], "NextToken": "page-2"}).to_string(),
        ),
        times: 1,
        ..Default::default()
    });
    w.proxy.add_rule(always(
        "ListAccounts",
        json!({"Accounts": [], "NextToken": "page-2"}),
    ));
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_nothing_deleted(&w);
    assert!(
        run.stderr.contains("organizations:ListAccounts")
            && run.stderr.contains("repeats an earlier one"),
        "{}",
        run.stderr
    );
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "failed"]);
}

/// A world synced over the seed's OU (its first member), and the environment of that run.
async fn ou_world() -> (World, Vec<(String, String)>) {
    let w = world().await;
    let mut env = w.env();
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__OU_ID",
        w.manifest["ou_id"].as_str().unwrap(),
    );
    (w, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ou_account_listing_that_repeats_its_token_fails_the_run() {
    let (w, env) = ou_world().await;
    // The OU's one member on the first page, then a page that points at itself.
    let member = w.members()[0]["id"].as_str().unwrap().to_string();
    w.proxy.add_rule(Rule {
        action: "ListAccountsForParent".into(),
        body: Some(json!({"Accounts": [org_account(&member)], "NextToken": "page-2"}).to_string()),
        times: 1,
        ..Default::default()
    });
    w.proxy.add_rule(always(
        "ListAccountsForParent",
        json!({"Accounts": [], "NextToken": "page-2"}),
    ));
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("organizations:ListAccountsForParent")
            && run.stderr.contains("repeats an earlier one"),
        "{}",
        run.stderr
    );
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "failed"]);
    assert!(w.port.entity("ec2Instance", "i-stale").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ou_children_listing_that_repeats_its_token_fails_the_run() {
    let (w, env) = ou_world().await;
    // Child OUs on pages that point at themselves: the children past the first page are
    // unknown, and so are their accounts.
    w.proxy.add_rule(always(
        "ListOrganizationalUnitsForParent",
        json!({"OrganizationalUnits": [], "NextToken": "page-2"}),
    ));
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("organizations:ListOrganizationalUnitsForParent")
            && run.stderr.contains("repeats an earlier one"),
        "{}",
        run.stderr
    );
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "failed"]);
    assert!(w.port.entity("ec2Instance", "i-stale").is_some());
}
