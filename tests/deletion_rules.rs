//! Every rule of `docs/reliability.md` that keeps a blueprint from being reconciled, driven
//! through the binary: each run starts from a catalogue holding a stale entity of ours in
//! every blueprint, so a deletion the rule forbids would be visible, and each test checks
//! the whole final catalogue.

mod support;

use serde_json::{Value, json};
use support::aws_proxy::Rule;
use support::{IDENTIFIER, World, run_binary};

const SEED: &[&str] = &["--members", "2", "--ou-members", "1"];

/// One stale entity of ours per default blueprint.
const STALE: &[(&str, &str)] = &[
    ("awsAccount", "000000000000"),
    ("ec2Instance", "i-stale"),
    ("ecsCluster", "arn:aws:ecs:us-east-1:1:cluster/stale"),
    ("s3Bucket", "arn:aws:s3:::stale"),
];

/// Indexes of the default mapping's resources.
const S3: usize = 1;
const EC2: usize = 2;

fn mapping() -> Value {
    support::default_mapping_in_regions(&["us-east-1", "eu-west-1"])
}

/// A world whose Port holds `config` and a previous run's catalogue plus [`STALE`].
async fn world(config: Value) -> World {
    let w = World::start(SEED).await;
    w.seed_integration(config);
    w.previous_run(STALE);
    w
}

/// The catalogue the run must leave: every current entity, and the stale entities of the
/// blueprints in `kept`.
fn expected(w: &World, kept: &[&str]) -> Vec<(String, String)> {
    let mut keys = w.expected_keys(&w.account_ids());
    keys.extend(
        STALE
            .iter()
            .filter(|(bp, _)| kept.contains(bp))
            .map(|(bp, id)| (bp.to_string(), id.to_string())),
    );
    keys.sort();
    keys
}

fn no_delete_request(w: &World) -> bool {
    w.port
        .write_requests()
        .iter()
        .all(|r| !r.path.contains("/delete"))
}

/// One EC2 listing (one account, one region) refused.
fn refuse_one_ec2_listing(w: &World) {
    w.proxy.add_rule(Rule {
        action: "DescribeInstances".into(),
        status: 400,
        code: "UnauthorizedOperation".into(),
        times: 1,
        ..Default::default()
    });
}

const ALL: &[&str] = &["awsAccount", "ec2Instance", "ecsCluster", "s3Bucket"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_resource_with_a_computed_blueprint_blocks_every_blueprint() {
    let mut config = mapping();
    // The EC2 resource's blueprint is computed per item: it "may produce anything".
    config["resources"][EC2]["port"]["entity"]["mappings"]["blueprint"] =
        json!(r#"if .Type == "AWS::EC2::Instance" then "ec2Instance" else "s3Bucket" end"#);
    let w = world(config).await;
    refuse_one_ec2_listing(&w);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(w.catalog_keys(), expected(&w, ALL), "{}", run.stderr);
    assert!(no_delete_request(&w));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_resource_with_a_constant_blueprint_blocks_only_that_blueprint() {
    // The control for the test above: the same failure with the default (constant)
    // blueprint keeps EC2's stale entity only.
    let w = world(mapping()).await;
    refuse_one_ec2_listing(&w);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        w.catalog_keys(),
        expected(&w, &["ec2Instance"]),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsupported_kind_blocks_its_blueprint() {
    let mut config = mapping();
    config["resources"].as_array_mut().unwrap().push(json!({
        "kind": "Custom::NoSuch::Kind",
        "selector": {"query": "true"},
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.Arn",
            "blueprint": "\"s3Bucket\"",
        }}}
    }));
    let w = world(config).await;
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        w.catalog_keys(),
        expected(&w, &["s3Bucket"]),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selector_that_is_not_boolean_blocks_every_deletion() {
    let mut config = mapping();
    config["resources"][EC2]["selector"]["query"] = json!(".Properties.State");
    let w = world(config).await;
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    // The EC2 items were not mapped at all: their entities stay as the last run wrote them.
    assert_eq!(w.catalog_keys(), expected(&w, ALL), "{}", run.stderr);
    assert!(no_delete_request(&w));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blueprint_expression_that_errors_blocks_every_deletion() {
    let mut config = mapping();
    // `.Properties.State.Name` is a string: indexing it errors for every instance.
    config["resources"][EC2]["port"]["entity"]["mappings"]["blueprint"] =
        json!(".Properties.State.Name.x");
    let w = world(config).await;
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(w.catalog_keys(), expected(&w, ALL), "{}", run.stderr);
    assert!(no_delete_request(&w));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entities_whose_upsert_failed_are_kept_and_the_rest_reconciled() {
    let mut config = mapping();
    // Port refuses every bucket on its own (207): `creationDate` must be a date-time.
    config["resources"][S3]["port"]["entity"]["mappings"]["properties"]["creationDate"] =
        json!("\"yesterday\"");
    let w = world(config).await;
    // What the previous run wrote of the buckets, marked to show it is still that version.
    for (bp, id) in w.expected_keys(&w.account_ids()) {
        if bp == "s3Bucket" {
            w.port.put_entity(
                json!({"identifier": id, "blueprint": bp, "title": "last run"}),
                &support::our_datasource(),
            );
        }
    }
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    // The buckets this run produced but could not write are kept (their last version);
    // the stale bucket, which no item produced, goes like every other stale entity.
    let mut want = expected(&w, &[]);
    want.sort();
    assert_eq!(w.catalog_keys(), want, "{}", run.stderr);
    for (bp, id) in w.expected_keys(&w.account_ids()) {
        if bp == "s3Bucket" {
            let e = w.port.entity(&bp, &id).unwrap();
            assert_eq!(e["title"], "last run", "{id} keeps its last version");
        }
    }
    assert_eq!(w.port.resync_states(IDENTIFIER).last().unwrap(), "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_stale_entities_than_one_listing_page_and_one_delete_request_all_go() {
    let mut config = mapping();
    config["entityDeletionThreshold"] = json!(1.0);
    let w = world(config).await;
    // Past the listing's page (5,000) and many times the bulk delete's 100 identifiers.
    let stale: Vec<String> = (0..5_050)
        .map(|i| format!("arn:aws:s3:::bulk-{i:05}"))
        .collect();
    for id in &stale {
        w.port.put_entity(
            json!({"identifier": id, "blueprint": "s3Bucket"}),
            &support::our_datasource(),
        );
    }
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.catalog_keys(), expected(&w, &[]), "{}", run.stderr);
    let requests = w.port.requests();
    let listings = requests
        .iter()
        .filter(|r| r.path.ends_with("/datasource-entities"))
        .count();
    assert_eq!(listings, 2, "two pages of the owned-entity listing");
    let deletes: Vec<usize> = requests
        .iter()
        .filter(|r| r.path.ends_with("/bulk/entities/delete"))
        .map(|r| r.body["entities"].as_array().map_or(0, Vec::len))
        .collect();
    assert!(deletes.iter().all(|n| (1..=100).contains(n)), "{deletes:?}");
    // 5,051 stale buckets in 51 requests, and one each for the other blueprints.
    let total: usize = deletes.iter().sum();
    assert_eq!(total, stale.len() + STALE.len());
    assert_eq!(deletes.len(), 51 + 3, "{deletes:?}");
}
