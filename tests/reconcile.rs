//! Reconciliation: stale entities go after a complete run, and nothing a failed part of the
//! run could have produced is ever deleted.

mod support;

use serde_json::{Value, json};
use support::aws_proxy::Rule;
use support::{IDENTIFIER, World, our_datasource, run_binary, set};

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

/// `keys` with `add` added and `remove` removed, sorted: a whole expected catalogue.
fn edit(
    keys: &[(String, String)],
    add: &[(&str, &str)],
    remove: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = keys
        .iter()
        .filter(|(bp, id)| !remove.iter().any(|(b, i)| b == bp && i == id))
        .cloned()
        .chain(add.iter().map(|(b, i)| (b.to_string(), i.to_string())))
        .collect();
    out.sort();
    out
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
    let before = w.catalog_keys();
    let denied = w.members()[0]["id"].as_str().unwrap().to_string();
    w.proxy.deny_assume_role(&denied);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(w.catalog_keys(), before, "the whole catalogue is kept");
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
    let before = w.catalog_keys();
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
    assert_eq!(
        w.catalog_keys(),
        edit(&before, &[], &[("ec2Instance", "i-gone")]),
        "only the stale instance went"
    );
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
    let before = w.catalog_keys();
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(has(&w, "ec2Instance", "i-gone") && has(&w, "s3Bucket", "arn:aws:s3:::gone"));
    assert_eq!(w.catalog_keys(), before, "nothing deleted");
    assert!(
        w.port
            .write_requests()
            .iter()
            .all(|r| !r.path.contains("/delete")),
        "no delete request"
    );
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
    let expected: Vec<(String, String)> = w
        .expected_keys(&w.account_ids())
        .into_iter()
        .filter(|(bp, _)| bp != "ecsCluster")
        .collect();
    assert_eq!(
        w.catalog_keys(),
        edit(&expected, &[("ec2Instance", "i-other")], &[]),
        "every cluster went, everything else stayed"
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
    let count = |what: &str| w.manifest[what].as_array().unwrap().len();
    assert_eq!(
        plan,
        json!({
            "dry_run": true,
            "outcome": "complete",
            "upserts": {
                "awsAccount": count("accounts"),
                "ec2Instance": count("instances"),
                "ecsCluster": count("clusters"),
                "s3Bucket": count("buckets"),
            },
            "deletions": {"ec2Instance": ["i-gone"]},
            "deletion_skipped": [],
        }),
        "the whole plan"
    );

    // OCEAN__DRY_RUN=true is the same: the same plan printed, nothing written.
    w.port.clear_requests();
    set(&mut env, "OCEAN__DRY_RUN", "true");
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        w.port
            .write_requests()
            .iter()
            .all(|r| r.path.ends_with("/datasource-entities")),
        "{:?}",
        w.port.write_requests()
    );
    assert_eq!(w.catalog_keys(), before);
    let again: Value =
        serde_json::from_str(&run.stdout).expect("OCEAN__DRY_RUN prints the plan on stdout too");
    assert_eq!(again, plan);
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
    assert_eq!(
        w.catalog_keys(),
        edit(
            &w.expected_keys(&w.account_ids()),
            &[("awsAccount", "999999999999"), ("ec2Instance", "i-other")],
            &[]
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_that_suddenly_lists_no_account_deletes_nothing() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    previous_run(&w, &[]);
    let before = w.catalog_keys();
    // Organizations answers, successfully, with an organization of no account at all (as a
    // half-migrated or wrongly scoped org role might see it).
    w.proxy.add_rule(Rule {
        action: "ListAccounts".into(),
        body: Some(json!({"Accounts": []}).to_string()),
        times: usize::MAX,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(w.proxy.hits("ListAccounts") >= 1);
    assert!(run.stderr.contains("no ACTIVE account"), "{}", run.stderr);
    assert_eq!(w.catalog_keys(), before, "the catalog is untouched");
    assert!(
        w.port
            .write_requests()
            .iter()
            .all(|r| !r.path.contains("/entities")),
        "nothing written or deleted: {:?}",
        w.port.write_requests()
    );
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "failed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ou_that_suddenly_holds_no_account_deletes_nothing() {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_identifier_blocks_its_blueprint_and_the_others_are_reconciled() {
    let w = World::start(SEED).await;
    // Buckets are mapped by property (Port's "map by property"): the identifier is a search
    // query Port resolves to the one s3Bucket whose `arn` property is the bucket's ARN.
    // Instances relate to their account through a search query as well.
    let mut config = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    config["resources"][1]["port"]["entity"]["mappings"]["identifier"] = json!({
        "combinator": "\"and\"",
        "rules": [{"property": "\"arn\"", "operator": "\"=\"", "value": ".Properties.Arn"}],
    });
    config["resources"][2]["port"]["entity"]["mappings"]["relations"]["account"] = json!({
        "combinator": "\"and\"",
        "rules": [{"property": "\"$identifier\"", "operator": "\"=\"", "value": ".__ExtraContext.AccountId"}],
    });
    w.seed_integration(config);
    // A previous run's catalogue where buckets have identifiers this mapping cannot compute
    // (their `arn` property is how they are found), plus a bucket that no longer exists and
    // a stale instance.
    let blueprints: Vec<Value> =
        serde_json::from_str(include_str!("../resources/blueprints.json")).unwrap();
    for bp in blueprints {
        w.port.put_blueprint(bp);
    }
    for (bp, id) in w.expected_keys(&w.account_ids()) {
        if bp != "s3Bucket" {
            w.port.put_entity(
                json!({"identifier": id, "blueprint": bp}),
                &our_datasource(),
            );
        }
    }
    let buckets: Vec<(String, String, String)> = w.manifest["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let name = b["name"].as_str().unwrap();
            let account = b["account"].as_str().unwrap();
            (name.into(), format!("arn:aws:s3:::{name}"), account.into())
        })
        .collect();
    let stale_bucket = ("bucket-gone".to_string(), "arn:aws:s3:::gone".to_string());
    let listed = buckets
        .iter()
        .map(|(name, arn, _)| (format!("bucket-{name}"), arn.clone()))
        .chain([stale_bucket]);
    for (id, arn) in listed {
        w.port.put_entity(
            json!({"identifier": id, "blueprint": "s3Bucket", "properties": {"arn": arn}}),
            &our_datasource(),
        );
    }
    w.port.put_entity(
        json!({"identifier": "i-gone", "blueprint": "ec2Instance"}),
        &our_datasource(),
    );
    w.port.put_entity(
        json!({"identifier": "i-other", "blueprint": "ec2Instance"}),
        "port-ocean/aws-v3/0.1.0/another-integration/exporter",
    );
    let before = w.catalog_keys();
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        w.port.resync_states(IDENTIFIER),
        vec!["running", "completed"]
    );

    // Every search found its bucket: the entity found was written by this run.
    for (name, arn, account) in &buckets {
        let e = w
            .port
            .entity("s3Bucket", &format!("bucket-{name}"))
            .unwrap();
        assert_eq!(e["title"], json!(name), "{e}");
        assert_eq!(e["properties"]["arn"], json!(arn), "{e}");
        assert_eq!(e["relations"]["account"], json!(account), "{e}");
        assert_eq!(e["$datasource"], json!(our_datasource()));
    }
    // The search relation resolved to the instance's account.
    for i in w.manifest["instances"].as_array().unwrap() {
        let e = w
            .port
            .entity("ec2Instance", i["id"].as_str().unwrap())
            .unwrap();
        assert_eq!(e["relations"]["account"], i["account"], "{e}");
    }
    // s3Bucket is not reconciled (what the listing returns cannot be matched with a search
    // query), so the stale bucket stays; ec2Instance is: its stale entity went.
    assert_eq!(
        w.catalog_keys(),
        edit(&before, &[], &[("ec2Instance", "i-gone")])
    );
    assert!(has(&w, "s3Bucket", "bucket-gone"));
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("blueprint not reconciled"))
        .expect("one line says why");
    assert!(
        line.contains("s3Bucket") && line.contains("search-query identifier"),
        "{line}"
    );
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.contains("blueprint not reconciled"))
            .count(),
        1,
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_target_blueprint_of_a_search_relation_is_not_reconciled() {
    let w = World::start(SEED).await;
    // Every instance relates, through a search query, to an account the organization no
    // longer lists (as `relation_targets_of_produced_entities_are_not_deleted`, but the run
    // cannot know what the query finds).
    let mut config = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    config["resources"][2]["port"]["entity"]["mappings"]["relations"]["account"] = json!({
        "combinator": "\"and\"",
        "rules": [{"property": "\"$identifier\"", "operator": "\"=\"", "value": "\"999999999999\""}],
    });
    w.seed_integration(config);
    previous_run(
        &w,
        &[
            ("awsAccount", "999999999999"),
            ("s3Bucket", "arn:aws:s3:::gone"),
        ],
    );
    let before = w.catalog_keys();
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for i in w.manifest["instances"].as_array().unwrap() {
        let e = w
            .port
            .entity("ec2Instance", i["id"].as_str().unwrap())
            .expect("the instances this run wrote are there");
        assert_eq!(e["relations"]["account"], "999999999999", "{e}");
    }
    // Deleting the stale account (with deleteDependentEntities, the default) would have
    // taken every instance with it: awsAccount is not reconciled; s3Bucket is.
    assert_eq!(
        w.catalog_keys(),
        edit(&before, &[], &[("s3Bucket", "arn:aws:s3:::gone")])
    );
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("blueprint not reconciled"))
        .expect("one line says why");
    assert!(
        line.contains("awsAccount") && line.contains("ec2Instance.account"),
        "{line}"
    );
}
