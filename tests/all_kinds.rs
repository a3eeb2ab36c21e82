//! A mapping of all the registered kinds, end to end: the real binary against an
//! organization seeded with one resource of every kind in each account (`seed.py
//! --all-kinds`) syncs exactly the seeded set, blueprint by blueprint, and a later run
//! deletes exactly what was removed from AWS.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use aws_catalog_sync::aws::kinds;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use serde_json::Value;
use support::aws_proxy::Rule;
use support::{MANAGEMENT, World, run_binary};

const REGION: &str = "us-east-1";

/// blueprint → identifiers.
type Catalog = BTreeMap<String, BTreeSet<String>>;

/// What the seed says a sync of every kind must produce: for each registered kind, the
/// identifiers the manifest lists, in the blueprint of the kind's example. A registered
/// kind the seed has nothing of fails here: it would be tested by nothing.
fn expected(w: &World, blueprint_of: &[(&'static str, String)]) -> Catalog {
    let seeded = w.manifest["kinds"]
        .as_object()
        .expect("the manifest of --all-kinds has a kinds map");
    let mut catalog = Catalog::new();
    for (kind, blueprint) in blueprint_of {
        let items = seeded
            .get(*kind)
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("seed.py --all-kinds seeded no {kind}"));
        let ids: BTreeSet<String> = items
            .iter()
            .map(|i| i["identifier"].as_str().unwrap().to_string())
            .collect();
        // At least one in each of the three accounts.
        let accounts: BTreeSet<&str> = items
            .iter()
            .map(|i| i["account"].as_str().unwrap())
            .collect();
        assert_eq!(accounts.len(), 3, "{kind}: {items:?}");
        catalog.entry(blueprint.clone()).or_default().extend(ids);
    }
    let unknown: Vec<&String> = seeded
        .keys()
        .filter(|k| blueprint_of.iter().all(|(kind, _)| kind != k))
        .collect();
    assert!(
        unknown.is_empty(),
        "seeded kinds not in the registry: {unknown:?}"
    );
    catalog
}

fn catalog(w: &World) -> Catalog {
    let mut catalog = Catalog::new();
    for (bp, id) in w.catalog_keys() {
        catalog.entry(bp).or_default().insert(id);
    }
    catalog
}

/// Every blueprint whose entities differ, with what is missing and what is extra.
fn differences(got: &Catalog, want: &Catalog) -> Vec<String> {
    let empty = BTreeSet::new();
    let blueprints: BTreeSet<&String> = got.keys().chain(want.keys()).collect();
    blueprints
        .into_iter()
        .filter_map(|bp| {
            let g = got.get(bp).unwrap_or(&empty);
            let w = want.get(bp).unwrap_or(&empty);
            (g != w).then(|| {
                format!(
                    "{bp}: missing {:?}, extra {:?}",
                    w.difference(g).collect::<Vec<_>>(),
                    g.difference(w).collect::<Vec<_>>()
                )
            })
        })
        .collect()
}

/// One resource of each of the registry's kinds (their `resources/kinds/<example>.yml`,
/// several with `includeActions`), over three accounts holding one resource of every kind:
/// exit 0 and exactly the seeded entities in each kind's blueprint, nothing else. Then the
/// management account's SNS topic is deleted in AWS and a second run deletes exactly its
/// entity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_of_every_kind_syncs_exactly_the_seeded_resources_and_deletes_a_removed_one() {
    let w = World::start(&[
        "--members",
        "2",
        "--regions",
        REGION,
        "--instances-per-region",
        "0",
        "--buckets-per-account",
        "0",
        "--clusters-per-region",
        "0",
        "--all-kinds",
    ])
    .await;
    let all = aws_catalog_sync_harness::all_kinds_mapping(&[REGION]).unwrap();
    assert_eq!(
        all.blueprint_of.len(),
        kinds::all().count(),
        "one resource per registered kind"
    );
    assert_eq!(
        kinds::all().count(),
        33,
        "the 20 kinds of issue 14 and issue 16's CodeBuild, SES, CodePipeline and CodeDeploy kinds"
    );
    let with_actions = all.config["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["selector"]["includeActions"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        })
        .count();
    assert!(
        with_actions >= 5,
        "{with_actions} resources with includeActions"
    );
    // The blueprints as moto can fill them (the MSK kinds' zone-less CreationTime).
    for bp in all.moto_blueprints() {
        w.port.put_blueprint(bp);
    }
    w.seed_integration(all.config.clone());
    // moto 5.2.5 does not implement `codepipeline:ListActionExecutions`: the proxy answers
    // it (written from the API reference) with the action execution seed.py records.
    w.proxy.add_rule(Rule {
        action: "ListActionExecutions".into(),
        body: Some(
            serde_json::json!({"actionExecutionDetails": [{
                "actionExecutionId": "all-kinds-action-execution", "actionName": "Fetch",
                "stageName": "Source", "pipelineExecutionId": "pe", "pipelineVersion": 1,
                "status": "Succeeded", "startTime": 1705314600,
            }]})
            .to_string(),
        ),
        times: usize::MAX,
        ..Default::default()
    });
    for rule in aws_catalog_sync_harness::moto_gap_rules(&w.manifest) {
        w.proxy.add_rule(rule);
    }
    let want = expected(&w, &all.blueprint_of);

    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "first run:\n{}", run.stderr);
    let diff = differences(&catalog(&w), &want);
    assert!(diff.is_empty(), "first run:\n{}", diff.join("\n"));

    // Remove one resource in AWS: the management account's topic.
    let topic = w.manifest["kinds"]["AWS::SNS::Topic"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["account"] == MANAGEMENT)
        .unwrap()["identifier"]
        .as_str()
        .unwrap()
        .to_string();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(w.moto.url())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    aws_sdk_sns::Client::new(&config)
        .delete_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let mut want = want;
    assert!(want.get_mut("snsTopic").unwrap().remove(&topic));

    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "second run:\n{}", run.stderr);
    let diff = differences(&catalog(&w), &want);
    assert!(diff.is_empty(), "second run:\n{}", diff.join("\n"));
}
