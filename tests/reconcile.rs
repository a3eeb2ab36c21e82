//! Reconciliation: stale entities go after a complete run, and nothing a failed part of the
//! run could have produced is ever deleted.

mod support;

use serde_json::{Value, json};
use support::aws_proxy::Rule;
use support::{IDENTIFIER, World, run_binary, set};

const SEED: &[&str] = &["--members", "2", "--ou-members", "1"];

/// A catalog as a previous run left it, plus one entity another integration owns.
fn previous_run(w: &World, stale: &[(&str, &str)]) {
    w.previous_run(stale);
    w.port.put_entity(
        json!({"identifier": "i-other", "blueprint": "ec2Instance"}),
        "port-ocean/aws-v3/0.1.0/another-integration/exporter",
    );
}

fn has(w: &World, bp: &str, id: &str) -> bool {
    w.port.entity(bp, id).is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_entities_are_deleted_after_a_complete_run() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    previous_run(
        &w,
        &[
            ("ec2Instance", "i-gone"),
            ("ecsCluster", "arn:aws:ecs:us-east-1:1:cluster/gone"),
        ],
    );
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!has(&w, "ec2Instance", "i-gone"), "{}", run.stderr);
    assert!(!has(
        &w,
        "ecsCluster",
        "arn:aws:ecs:us-east-1:1:cluster/gone"
    ));
    assert!(
        has(&w, "ec2Instance", "i-other"),
        "another integration's entity is never touched"
    );
    let mut expected = w.expected_keys(&w.account_ids());
    expected.push(("ec2Instance".into(), "i-other".into()));
    expected.sort();
    assert_eq!(w.catalog_keys(), expected);
    let deletes: Vec<_> = w
        .port
        .write_requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/bulk/entities/delete"))
        .collect();
    assert_eq!(deletes.len(), 2, "one bulk delete per blueprint");
    assert!(
        deletes
            .iter()
            .all(|r| r.query.contains("delete_dependents=true"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_an_inaccessible_account_deletes_nothing() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    previous_run(&w, &[("ec2Instance", "i-gone")]);
    let denied = w.members()[0]["id"].as_str().unwrap().to_string();
    w.proxy.deny_assume_role(&denied);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        has(&w, "ec2Instance", "i-gone"),
        "a partial run deletes nothing"
    );
    // The denied account's entities, unseen this run, are all still there.
    for (bp, id) in w.expected_keys(std::slice::from_ref(&denied)) {
        assert!(has(&w, &bp, &id), "{bp} {id} was kept");
    }
    assert!(run.stderr.contains("no entity deleted"), "{}", run.stderr);
    assert!(
        w.port
            .write_requests()
            .iter()
            .all(|r| !r.path.contains("/delete"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_kind_keeps_its_blueprint_and_the_others_are_reconciled() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    previous_run(
        &w,
        &[
            ("ec2Instance", "i-gone"),
            ("ecsCluster", "arn:aws:ecs:us-east-1:1:cluster/gone"),
        ],
    );
    // One ECS listing (one account, one region) is refused.
    w.proxy.add_rule(Rule {
        action: "ListClusters".into(),
        status: 400,
        code: "AccessDeniedException".into(),
        times: 1,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        !has(&w, "ec2Instance", "i-gone"),
        "EC2 was complete: reconciled"
    );
    assert!(
        has(&w, "ecsCluster", "arn:aws:ecs:us-east-1:1:cluster/gone"),
        "ECS failed somewhere: kept"
    );
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("blueprint not reconciled"))
        .expect("one line says why");
    assert!(
        line.contains("ecsCluster") && line.contains("AccessDeniedException"),
        "{line}"
    );
    // The stale cluster, plus the cluster of the refused unit, unseen this run.
    assert!(line.contains("\"would_delete\":2"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deletion_threshold_stops_a_mass_deletion() {
    let w = World::start(SEED).await;
    let mut config = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    config["entityDeletionThreshold"] = json!(0.01);
    w.seed_integration(config);
    previous_run(
        &w,
        &[("ec2Instance", "i-gone"), ("s3Bucket", "arn:aws:s3:::gone")],
    );
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(has(&w, "ec2Instance", "i-gone") && has(&w, "s3Bucket", "arn:aws:s3:::gone"));
    assert!(
        run.stderr.contains("above entityDeletionThreshold"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_change_that_drops_a_kind_removes_its_entities() {
    let w = World::start(SEED).await;
    let mut config = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    config["resources"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["kind"] != "AWS::ECS::Cluster");
    w.seed_integration(config);
    previous_run(&w, &[]);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        w.catalog_keys().iter().all(|(bp, _)| bp != "ecsCluster"),
        "{:?}",
        w.catalog_keys()
    );
    let expected_ec2 = w
        .expected_keys(&w.account_ids())
        .iter()
        .filter(|(bp, _)| bp == "ec2Instance")
        .count();
    assert_eq!(
        w.catalog_keys()
            .iter()
            .filter(|(bp, _)| bp == "ec2Instance")
            .count(),
        expected_ec2 + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_writes_nothing_and_prints_the_plan() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    previous_run(&w, &[("ec2Instance", "i-gone")]);
    let before = w.catalog_keys();
    let mut env = w.env();
    set(&mut env, "OCEAN__EVENT_LISTENER", r#"{"type":"POLLING"}"#);
    let run = run_binary(&["sail", "--dry-run"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        w.port
            .write_requests()
            .iter()
            .all(|r| r.path.ends_with("/datasource-entities")),
        "only the owned-entity listing (a read) is sent: {:?}",
        w.port.write_requests()
    );
    assert_eq!(w.catalog_keys(), before);
    let plan: Value = serde_json::from_str(&run.stdout).expect("the plan is JSON on stdout");
    let instances = w.manifest["instances"].as_array().unwrap().len();
    assert_eq!(plan["upserts"]["ec2Instance"], json!(instances));
    assert_eq!(plan["deletions"], json!({"ec2Instance": ["i-gone"]}));

    // OCEAN__DRY_RUN=true is the same.
    set(&mut env, "OCEAN__DRY_RUN", "true");
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        w.port
            .write_requests()
            .iter()
            .all(|r| r.path.ends_with("/datasource-entities"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relation_targets_of_produced_entities_are_not_deleted() {
    let w = World::start(SEED).await;
    // Buckets relate to an account that the organization no longer lists.
    let mut config = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    config["resources"][1]["port"]["entity"]["mappings"]["relations"]["account"] =
        json!("\"999999999999\"");
    w.seed_integration(config);
    previous_run(
        &w,
        &[
            ("awsAccount", "999999999999"),
            ("awsAccount", "888888888888"),
        ],
    );
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        has(&w, "awsAccount", "999999999999"),
        "a relation target of a produced entity is kept"
    );
    assert!(
        !has(&w, "awsAccount", "888888888888"),
        "an unrelated stale account goes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_that_suddenly_lists_no_account_deletes_nothing() {
    // The OU exists but holds no account any more.
    let w = World::start(&["--members", "2", "--ou-members", "0"]).await;
    w.seed_integration_with_regions();
    previous_run(&w, &[]);
    let before = w.catalog_keys();
    let mut env = w.env();
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__OU_ID",
        w.manifest["ou_id"].as_str().unwrap(),
    );
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("no ACTIVE account"), "{}", run.stderr);
    assert_eq!(w.catalog_keys(), before, "the catalog is untouched");
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "failed"]);
}
