//! One-shot resync, end to end: the real binary against moto (through a fault proxy) and
//! the Port fake.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use support::aws_proxy::Rule;
use support::port_fake::Fault;
use support::{IDENTIFIER, MANAGEMENT, ROLE, World, our_datasource, run_binary, set, unset};

const SEED: &[&str] = &["--members", "3", "--ou-members", "1"];

fn datasource() -> String {
    format!(
        "port-ocean/aws-v3/{}/{IDENTIFIER}/exporter",
        env!("CARGO_PKG_VERSION")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_resync_creates_the_default_catalog() {
    let w = World::start(SEED).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Exactly one entity per account, instance, bucket and cluster of the org.
    assert_eq!(w.catalog_keys(), w.expected_keys(&w.account_ids()));

    // Bootstrap: integration created with our default mapping, default blueprints made.
    let integration = w.port.integration(IDENTIFIER).expect("integration created");
    assert_eq!(integration["installationAppType"], "aws-v3");
    assert_eq!(
        integration["config"]["resources"].as_array().unwrap().len(),
        4
    );
    for bp in ["awsAccount", "s3Bucket", "ec2Instance", "ecsCluster"] {
        assert!(
            w.port.blueprint_ids().iter().any(|b| b == bp),
            "{bp} missing"
        );
    }
    assert_eq!(
        w.port.resync_states(IDENTIFIER),
        vec!["running", "completed"]
    );

    // Entities carry Ocean's $datasource and the values the default mapping produces.
    let m = &w.manifest;
    let inst = &m["instances"][0];
    let (acct, region, id) = (
        inst["account"].as_str().unwrap(),
        inst["region"].as_str().unwrap(),
        inst["id"].as_str().unwrap(),
    );
    let e = w.port.entity("ec2Instance", id).unwrap();
    assert_eq!(e["$datasource"], json!(datasource()));
    assert_eq!(e["title"], json!(id));
    assert_eq!(e["properties"]["instanceType"], "t3.micro");
    assert_eq!(e["properties"]["state"], json!(inst["state"]));
    assert_eq!(
        e["properties"]["privateIpAddress"],
        json!(inst["private_ip"])
    );
    assert_eq!(
        e["properties"]["arn"],
        json!(format!("arn:aws:ec2:{region}:{acct}:instance/{id}"))
    );
    let tags = e["properties"]["tags"].as_array().unwrap();
    assert!(
        tags.contains(&json!({"Key": "Team", "Value": "platform"})),
        "{tags:?}"
    );
    assert_eq!(e["relations"]["account"], json!(acct));

    for b in m["buckets"].as_array().unwrap() {
        let arn = format!("arn:aws:s3:::{}", b["name"].as_str().unwrap());
        let e = w.port.entity("s3Bucket", &arn).unwrap();
        assert_eq!(e["title"], b["name"]);
        assert_eq!(e["relations"]["account"], b["account"]);
        let expected_tags = if b["tagged"].as_bool().unwrap() {
            json!([{"Key": "Env", "Value": "test"}])
        } else {
            json!([])
        };
        assert_eq!(e["properties"]["tags"], expected_tags, "{arn}");
        assert!(
            e["properties"]["creationDate"]
                .as_str()
                .unwrap()
                .ends_with('Z')
        );
    }
    let c = &m["clusters"][0];
    let e = w
        .port
        .entity("ecsCluster", c["arn"].as_str().unwrap())
        .unwrap();
    assert_eq!(e["title"], c["name"]);
    assert_eq!(e["properties"]["status"], "ACTIVE");
    assert_eq!(e["properties"]["runningTasksCount"], 0);
    assert_eq!(
        e["properties"]["tags"],
        json!([{"key": "Team", "value": "platform"}])
    );
    assert_eq!(e["relations"]["account"], c["account"]);
    for a in m["accounts"].as_array().unwrap() {
        let e = w
            .port
            .entity("awsAccount", a["id"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            e["title"], a["name"],
            "account title is the Organizations name"
        );
    }

    // Every write to Port went through the bulk route in batches Port accepts.
    for r in w.port.write_requests() {
        if r.path.ends_with("/entities/bulk") {
            assert!(r.status == 200, "{r:?}");
            assert!(r.query.contains("upsert=true"));
            assert!(r.body["entities"].as_array().unwrap().len() <= 20);
        }
    }
    assert!(run.stderr.contains("resync finished"));

    // Raw data examples: at most 5 per kind, as they were listed.
    let examples = w.port.examples(IDENTIFIER, "AWS::EC2::Instance");
    assert_eq!(examples.len(), 5, "{examples:?}");
    assert_eq!(examples[0]["Type"], "AWS::EC2::Instance");
    assert_eq!(w.port.examples(IDENTIFIER, "AWS::Account::Info").len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ou_scoping_syncs_only_accounts_under_the_ou() {
    let w = World::start(&["--members", "3", "--ou-members", "2"]).await;
    w.seed_integration_with_regions();
    let mut env = w.env();
    let ou = w.manifest["ou_id"].as_str().unwrap().to_string();
    set(&mut env, "OCEAN__INTEGRATION__CONFIG__OU_ID", &ou);
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let in_ou: Vec<String> = w
        .members()
        .iter()
        .filter(|a| a["ou"].as_str() == Some(ou.as_str()))
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(in_ou.len(), 2);
    assert_eq!(w.catalog_keys(), w.expected_keys(&in_ou));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_role_arns_sync_exactly_those_accounts() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    let chosen: Vec<String> = w
        .members()
        .iter()
        .take(2)
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    let arns: Vec<String> = chosen
        .iter()
        .map(|id| format!("arn:aws:iam::{id}:role/{ROLE}"))
        .collect();
    let mut env = w.env();
    unset(&mut env, "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN");
    set(
        &mut env,
        "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARNS",
        &serde_json::to_string(&arns).unwrap(),
    );
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.catalog_keys(), w.expected_keys(&chosen));
    assert_eq!(
        w.port.entity("awsAccount", &chosen[0]).unwrap()["title"],
        json!(format!("Account {}", chosen[0]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_roles_the_current_account_is_synced() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    let mut env = w.env();
    unset(&mut env, "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN");
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.catalog_keys(), w.expected_keys(&[MANAGEMENT.to_string()]));
    assert_eq!(
        w.port.entity("awsAccount", MANAGEMENT).unwrap()["title"],
        json!(format!("Account {MANAGEMENT}"))
    );
    assert_eq!(
        w.proxy.hits("AssumeRole"),
        0,
        "no role to assume in single-account mode"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_whose_role_cannot_be_assumed_is_reported_and_the_run_is_partial() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    let denied = w.members()[1]["id"].as_str().unwrap().to_string();
    w.proxy.deny_assume_role(&denied);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "partial exit status; stderr: {}", run.stderr);

    let others: Vec<String> = w
        .account_ids()
        .into_iter()
        .filter(|a| *a != denied)
        .collect();
    assert_eq!(w.catalog_keys(), w.expected_keys(&others));
    assert_eq!(w.port.resync_states(IDENTIFIER), vec!["running", "failed"]);
    let reported = run
        .stderr
        .lines()
        .any(|l| l.contains(&denied) && l.contains("AccessDenied"));
    assert!(
        reported,
        "the denied account and AWS's reason are logged:\n{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_settings_fail_before_any_port_call() {
    let w = World::start(&["--members", "1"]).await;
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            "OCEAN__PORT__CLIENT_SECRET",
            None,
            "OCEAN__PORT__CLIENT_SECRET",
        ),
        (
            "OCEAN__INITIALIZE_PORT_RESOURCES",
            Some("sometimes"),
            "boolean",
        ),
        ("OCEAN__EVENT_LISTENER", Some("{type: ONCE}"), "JSON"),
        (
            "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN",
            Some("PortOceanReadRole"),
            "role ARN",
        ),
        (
            "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARNS",
            Some("[1, 2]"),
            "array of strings",
        ),
        ("OCEAN__PORT__BASE_URL", Some("api.getport.io"), "http"),
    ];
    for (key, value, expected) in cases {
        let mut env = w.env();
        match value {
            Some(v) => set(&mut env, key, v),
            None => unset(&mut env, key),
        }
        let run = run_binary(&["sail", "--once"], &env).await;
        assert_eq!(run.code, 2, "{key}: {}", run.stderr);
        assert!(run.stderr.contains(key), "{key} named in: {}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "{key}: expected {expected:?} in {}",
            run.stderr
        );
    }
    assert!(w.port.requests().is_empty(), "no request reached Port");
    assert_eq!(w.proxy.hits("AssumeRole"), 0, "no request reached AWS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_mapping_fails_before_any_port_write() {
    let w = World::start(&["--members", "1"]).await;
    let mut config = support::default_mapping_in_regions(&["us-east-1"]);
    config["resources"][2]["port"]["entity"]["mappings"]["properties"]["state"] =
        json!(".Properties.State.Name |");
    config["resources"][1]["selector"]["query"] = json!("nosuchfunction(1)");
    w.seed_integration(config);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("resources[2] (AWS::EC2::Instance) mappings.properties.state"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("resources[1] (AWS::S3::Bucket) selector.query"),
        "{}",
        run.stderr
    );
    assert!(
        w.port.write_requests().is_empty(),
        "{:?}",
        w.port.write_requests()
    );
    assert!(w.port.entities().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_failures_and_unsupported_kinds_make_the_run_partial() {
    let w = World::start(&["--members", "1"]).await;
    let mut config = support::default_mapping_in_regions(&["us-east-1"]);
    // Port rejects every entity of an unknown blueprint.
    config["resources"][3]["port"]["entity"]["mappings"]["blueprint"] =
        json!("\"noSuchBlueprint\"");
    // Port rejects each bucket on its own (207): creationDate must be a date-time.
    config["resources"][1]["port"]["entity"]["mappings"]["properties"]["creationDate"] =
        json!("\"yesterday\"");
    // A kind this version does not support.
    config["resources"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kind": "Custom::NoSuch::Kind", "selector": {"query": "true"},
                     "port": {"entity": {"mappings": {"identifier": ".Properties.Arn", "blueprint": "\"codebuildProject\""}}}}));
    w.seed_integration(config);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("Custom::NoSuch::Kind"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("noSuchBlueprint"), "{}", run.stderr);
    let summary = summary(&run.stderr);
    let clusters = w.manifest["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["region"] == "us-east-1")
        .count() as u64;
    assert_eq!(
        summary["entities"]["noSuchBlueprint"]["failed"],
        json!(clusters)
    );
    let buckets = w.manifest["buckets"].as_array().unwrap().len() as u64;
    assert_eq!(summary["entities"]["s3Bucket"]["failed"], json!(buckets));
    assert_eq!(summary["entities"]["s3Bucket"]["upserted"], json!(0));
    assert_eq!(summary["entities_failed"], json!(clusters + buckets));
    assert_eq!(summary["outcome"], "partial");
    assert!(
        w.port
            .requests()
            .iter()
            .any(|r| r.path.contains("s3Bucket") && r.status == 207),
        "per-entity errors came back as 207"
    );
    assert!(
        run.stderr.contains("yesterday") || run.stderr.contains("date-time"),
        "{}",
        run.stderr
    );
    // Everything else still landed: every account and every instance of the allowed
    // region, and nothing more (the catalogue was empty before the run).
    let expected: Vec<(String, String)> = w
        .expected_keys(&w.account_ids())
        .into_iter()
        .filter(|(bp, id)| match bp.as_str() {
            "awsAccount" => true,
            "ec2Instance" => in_region(&w, id, "us-east-1"),
            _ => false,
        })
        .collect();
    assert_eq!(w.catalog_keys(), expected);
    assert_eq!(
        summary["entities"]["ec2Instance"],
        json!({"upserted": expected.iter().filter(|(bp, _)| bp == "ec2Instance").count(), "failed": 0})
    );
    assert_eq!(
        summary["entities"]["awsAccount"],
        json!({"upserted": w.account_ids().len(), "failed": 0})
    );
}

/// Whether the manifest's instance `id` is in `region`.
fn in_region(w: &World, id: &str, region: &str) -> bool {
    w.manifest["instances"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == id && i["region"] == region)
}

/// Whether a (blueprint, identifier) of the default mapping can come from `region`:
/// instances and clusters only from their own region, accounts and buckets from any.
fn from_region(w: &World, bp: &str, id: &str, region: &str) -> bool {
    match bp {
        "ec2Instance" => in_region(w, id, region),
        "ecsCluster" => w.manifest["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["arn"] == id && c["region"] == region),
        _ => true,
    }
}

/// The manifest's instances in `region`, sorted.
fn instances_in(w: &World, region: &str) -> Vec<String> {
    let mut ids: Vec<String> = w.manifest["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["region"] == region)
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identifier_letter_port_refuses_fails_that_entity_alone_and_its_batch_lands() {
    let w = World::start(&["--members", "1"]).await;
    let ids = instances_in(&w, "us-east-1");
    let bad = ids[0].clone();
    // `Ⅻ` (U+216B, a letter number) is alphabetic for Rust but not a letter (`\p{L}`) for
    // Port: the whole bulk request would be refused with 422 if it were sent.
    let mut config = support::default_mapping_in_regions(&["us-east-1"]);
    config["resources"][2]["port"]["entity"]["mappings"]["identifier"] = json!(format!(
        "if .Properties.InstanceId == \"{bad}\" then .Properties.InstanceId + \"Ⅻ\" else .Properties.InstanceId end"
    ));
    w.seed_integration(config);
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let summary = summary(&run.stderr);
    assert_eq!(
        summary["entities"]["ec2Instance"],
        json!({"upserted": ids.len() - 1, "failed": 1})
    );
    // The catalogue (empty before the run) holds every account and every other instance.
    let expected: Vec<(String, String)> = w
        .expected_keys(&w.account_ids())
        .into_iter()
        .filter(|(bp, id)| from_region(&w, bp, id, "us-east-1") && *id != bad)
        .collect();
    assert_eq!(w.catalog_keys(), expected);
    for r in w.port.requests() {
        assert!(!r.body.to_string().contains('Ⅻ'), "sent to Port: {r:?}");
        assert_ne!(r.status, 422, "Port refused a request: {r:?}");
    }
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("entity was not upserted"))
        .expect("the refused entity is logged");
    assert!(
        line.contains(&format!("{bad}Ⅻ")) && line.contains("characters Port rejects"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_207_with_a_mixed_batch_writes_the_accepted_entities_and_keeps_the_refused_one() {
    let w = World::start(&["--members", "1"]).await;
    let mut ids: Vec<String> = w.manifest["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert!(ids.len() <= 20, "all instances fit in one bulk request");
    let bad = ids[0].clone();
    // One instance maps `state` to null; the blueprint requires it, so Port refuses that
    // entity alone and writes the others of the same request (207).
    let mut config = support::default_mapping_in_regions(&["us-east-1", "eu-west-1"]);
    config["resources"][2]["port"]["entity"]["mappings"]["properties"]["state"] = json!(format!(
        "if .Properties.InstanceId == \"{bad}\" then null else .Properties.State.Name end"
    ));
    w.seed_integration(config);
    w.previous_run(&[("ec2Instance", "i-gone")]);
    let mut ec2 = w.port.blueprint("ec2Instance").unwrap();
    ec2["schema"]["required"] = json!(["state"]);
    w.port.put_blueprint(ec2);
    let before = w.catalog_keys();
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);

    let mixed: Vec<_> = w
        .port
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/ec2Instance/entities/bulk"))
        .collect();
    assert_eq!(mixed.len(), 1, "{mixed:?}");
    assert_eq!(mixed[0].status, 207);
    assert_eq!(
        mixed[0].body["entities"].as_array().unwrap().len(),
        ids.len(),
        "the refused entity and the accepted ones were in one request"
    );
    let summary = summary(&run.stderr);
    assert_eq!(
        summary["entities"]["ec2Instance"],
        json!({"upserted": ids.len() - 1, "failed": 1})
    );
    // Every accepted instance was written by this run; the refused one is kept as it was
    // (its upsert failed, so it counts as produced and is not deleted); the stale one went.
    let mut expected: Vec<(String, String)> = before
        .into_iter()
        .filter(|(bp, id)| !(bp == "ec2Instance" && id == "i-gone"))
        .collect();
    expected.sort();
    assert_eq!(w.catalog_keys(), expected);
    for i in w.manifest["instances"].as_array().unwrap() {
        let id = i["id"].as_str().unwrap();
        let e = w.port.entity("ec2Instance", id).unwrap();
        if id == bad {
            assert_eq!(e["properties"], json!({}), "{id} kept as it was: {e}");
        } else {
            assert_eq!(e["properties"]["state"], i["state"], "{id} written: {e}");
        }
    }
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("entity was not upserted"))
        .expect("the refused entity is logged");
    assert!(
        line.contains(&bad) && line.contains("missing_required_property"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_429_with_only_x_ratelimit_reset_is_waited_out() {
    let w = World::start(&["--members", "1"]).await;
    w.seed_integration_with_regions();
    // `x-ratelimit-reset` without `Retry-After`, in both forms Port's clients meet
    // (`shared/port-api.md` §3): an epoch (the docs) on the first read of the integration,
    // and seconds until the reset (what TF reads) on the first bulk upsert.
    let reset_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 6;
    let (sent_at, sent_sys) = (Instant::now(), SystemTime::now());
    w.port.inject(Fault {
        method: Some("GET".into()),
        path_contains: format!("/v1/integration/{IDENTIFIER}"),
        status: 429,
        times: 1,
        ratelimit_reset: Some(reset_at.to_string()),
        ..Fault::default()
    });
    w.port.inject(Fault {
        path_contains: "/entities/bulk".into(),
        status: 429,
        times: 1,
        ratelimit_reset: Some("2".into()),
        ..Fault::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = w.expected_keys(&w.account_ids());
    assert_eq!(
        w.catalog_keys(),
        expected,
        "every entity written by this run"
    );

    // The gap between each 429 and the retry of the same request is at least what the
    // header asked for (the default backoff would have retried after ~0.3 s).
    let requests = w.port.requests();
    let retry_gap = |first: usize| {
        let r = &requests[first];
        let next = requests[first + 1..]
            .iter()
            .find(|n| n.method == r.method && n.path == r.path)
            .expect("the request was retried");
        assert_eq!(next.status / 100, 2, "{next:?}");
        next.at.duration_since(r.at)
    };
    let epoch_429 = requests
        .iter()
        .position(|r| r.status == 429 && r.method == "GET")
        .expect("the integration read got the 429");
    let arrived = sent_sys + requests[epoch_429].at.duration_since(sent_at);
    let asked =
        Duration::from_secs(reset_at).saturating_sub(arrived.duration_since(UNIX_EPOCH).unwrap());
    // Well above the ~0.3 s of the default backoff, whatever the binary's start-up took.
    assert!(
        asked > Duration::from_secs(1),
        "the 429 came {asked:?} before the reset"
    );
    let gap = retry_gap(epoch_429);
    assert!(
        gap + Duration::from_millis(250) >= asked,
        "epoch reset: retried after {gap:?}, asked to wait {asked:?}"
    );
    let delay_429 = requests
        .iter()
        .position(|r| r.status == 429 && r.path.ends_with("/entities/bulk"))
        .expect("a bulk upsert got the 429");
    let gap = retry_gap(delay_429);
    assert!(
        gap >= Duration::from_millis(1900),
        "delay reset: retried after {gap:?}, asked to wait 2 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_the_accounts_have_not_opted_into_is_skipped_not_failed() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    w.previous_run(&[("ec2Instance", "i-gone")]);
    // EC2 answers as it does in a region an account has not enabled (HTTP 401).
    w.proxy.add_rule(Rule {
        action: "DescribeInstances".into(),
        status: 401,
        code: "OptInRequired".into(),
        times: usize::MAX,
        region: Some("eu-west-1".into()),
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "skipped, not failed: {}", run.stderr);
    assert_eq!(
        w.port.resync_states(IDENTIFIER),
        vec!["running", "completed"]
    );
    let skipped = run
        .stderr
        .lines()
        .filter(|l| l.contains("region not enabled for this account; skipped"))
        .filter(|l| l.contains("eu-west-1") && l.contains("AWS::EC2::Instance"))
        .count();
    assert_eq!(skipped, w.account_ids().len(), "{}", run.stderr);
    // Nothing can exist in that region, so EC2 is complete and reconciled: the stale
    // instance and the instances the catalogue had there are gone; the rest is there,
    // written by this run.
    let expected: Vec<(String, String)> = w
        .expected_keys(&w.account_ids())
        .into_iter()
        .filter(|(bp, id)| bp != "ec2Instance" || in_region(&w, id, "us-east-1"))
        .collect();
    assert_eq!(w.catalog_keys(), expected);
    for id in instances_in(&w, "us-east-1") {
        let e = w.port.entity("ec2Instance", &id).unwrap();
        assert_eq!(e["$datasource"], json!(our_datasource()));
        assert!(e["properties"]["state"].is_string(), "{id} written: {e}");
    }
    // The other kinds still listed eu-west-1.
    assert!(
        w.catalog_keys()
            .iter()
            .any(|(bp, id)| bp == "ecsCluster" && id.contains(":eu-west-1:"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_logs_or_errors() {
    let w = World::start(SEED).await;
    w.seed_integration_with_regions();
    let denied = w.members()[0]["id"].as_str().unwrap().to_string();
    w.proxy.deny_assume_role(&denied);
    let mut env = w.env();
    let sentinels = [
        (
            "OCEAN__INTEGRATION__CONFIG__EXTERNAL_ID",
            "extid-SENTINEL-0f3a",
        ),
        (
            "OCEAN__INTEGRATION__CONFIG__AWS_ACCESS_KEY_ID",
            "AKIASENTINEL7Q2X",
        ),
        (
            "OCEAN__INTEGRATION__CONFIG__AWS_SECRET_ACCESS_KEY",
            "secretkey-SENTINEL-9c1d",
        ),
        (
            "OCEAN__INTEGRATION__CONFIG__AWS_SESSION_TOKEN",
            "sessiontoken-SENTINEL-77ab",
        ),
    ];
    for (k, v) in sentinels {
        set(&mut env, k, v);
    }
    set(&mut env, "APPLICATION__LOG_LEVEL", "DEBUG");
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("DEBUG") || run.stderr.contains("\"level\":\"DEBUG\""));
    let output = run.all_output();
    let issued = w.proxy.issued_secrets();
    assert!(!issued.is_empty(), "AssumeRole handed out credentials");
    for secret in sentinels.iter().map(|(_, v)| v.to_string()).chain(issued) {
        assert!(!output.contains(&secret), "{secret} leaked:\n{output}");
    }

    // A refused Port client secret is not echoed either.
    set(
        &mut env,
        "OCEAN__PORT__CLIENT_SECRET",
        "portsecret-SENTINEL-5e5e",
    );
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("OCEAN__PORT__CLIENT_SECRET"),
        "the error says what to check"
    );
    assert!(!run.all_output().contains("portsecret-SENTINEL-5e5e"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_examples_mask_secret_tags_and_entities_keep_them() {
    const SENTINEL: &str = "tag-SENTINEL-3d9f";
    let w = World::start(&[
        "--members",
        "1",
        "--extra-tag",
        &format!("DB_PASSWORD={SENTINEL}"),
    ])
    .await;
    w.seed_integration_with_regions();
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    // EC2 and S3 tags are Key/Value pairs, ECS tags key/value pairs.
    for kind in ["AWS::EC2::Instance", "AWS::S3::Bucket", "AWS::ECS::Cluster"] {
        let examples = w.port.examples(IDENTIFIER, kind);
        assert!(!examples.is_empty(), "{kind}: no examples");
        let text = serde_json::to_string(&examples).unwrap();
        assert!(text.contains("DB_PASSWORD"), "{kind}: the tag is there");
        assert!(!text.contains(SENTINEL), "{kind}: {SENTINEL} sent:\n{text}");
    }
    for r in w.port.requests() {
        assert!(
            !(r.path.ends_with("/examples") && r.body.to_string().contains(SENTINEL)),
            "{r:?}"
        );
    }
    // Masking is for the examples only: the mapping still sees the real tags.
    let inst = &w.manifest["instances"][0];
    let e = w
        .port
        .entity("ec2Instance", inst["id"].as_str().unwrap())
        .unwrap();
    assert!(
        e["properties"]["tags"]
            .as_array()
            .unwrap()
            .contains(&json!({"Key": "DB_PASSWORD", "Value": SENTINEL})),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_dotenv_line_is_reported_by_file_line_and_variable_never_by_value() {
    // No Port, no AWS: the settings fail before any network call.
    let cases = [
        // An unterminated quote: dotenvy reads on to the end of the file, so its error
        // carried this line and every line after it.
        (
            "OCEAN__PORT__CLIENT_ID=my-id\n# the secret\nOCEAN__PORT__CLIENT_SECRET=\"dotenv-SENTINEL-4b1e\nOCEAN__INTEGRATION__IDENTIFIER=after-SENTINEL-77c0\n",
            "line 3",
            Some("OCEAN__PORT__CLIENT_SECRET"),
        ),
        // A pasted value without a name: nothing of the line may be echoed.
        (
            "OCEAN__PORT__CLIENT_ID=my-id\nexport OCEAN__PORT__CLIENT_SECRET=ok\nbare-SENTINEL-91ad more\n",
            "line 3",
            None,
        ),
    ];
    for (dotenv, line, variable) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), dotenv).unwrap();
        let run = support::run_binary_in(dir.path(), &["sail", "--once"], &[]).await;
        assert_eq!(run.code, 2, "{}", run.all_output());
        assert!(run.stderr.contains(".env"), "{}", run.stderr);
        assert!(run.stderr.contains(line), "{line}: {}", run.stderr);
        if let Some(variable) = variable {
            assert!(run.stderr.contains(variable), "{variable}: {}", run.stderr);
        }
        let output = run.all_output();
        for sentinel in [
            "dotenv-SENTINEL-4b1e",
            "after-SENTINEL-77c0",
            "bare-SENTINEL-91ad",
        ] {
            assert!(!output.contains(sentinel), "{sentinel} leaked:\n{output}");
        }
    }
}

/// The `summary` field of the final event.
fn summary(stderr: &str) -> Value {
    let line = stderr
        .lines()
        .find(|l| l.contains("resync finished"))
        .expect("a summary event");
    let event: Value = serde_json::from_str(line).expect("JSON logs when not on a TTY");
    serde_json::from_str(event["summary"].as_str().unwrap()).unwrap()
}
