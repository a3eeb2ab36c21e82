//! `validate` and `map` through the real binary.

mod support;

use serde_json::{Value, json};
use support::port_fake::PortFake;
use support::{IDENTIFIER, run_binary, set};

const DEFAULT_MAPPING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/resources/port-app-config.yml");

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test]
async fn validate_accepts_the_default_mapping_and_lists_every_problem_of_a_bad_one() {
    let run = run_binary(&["validate", "--mapping", DEFAULT_MAPPING], &[]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("0 error(s)"));

    let dir = tempfile::tempdir().unwrap();
    let bad = std::fs::read_to_string(DEFAULT_MAPPING)
        .unwrap()
        .replace(
            "state: .Properties.State.Name",
            "state: .Properties.State.Name |",
        )
        .replace("'\"ecsCluster\"'", "'\"ecsClusters\"'")
        .replace("kind: AWS::S3::Bucket", "kind: AWS::S3::Buckets");
    let path = write(&dir, "bad.yml", &bad);
    let run = run_binary(&["validate", "--mapping", &path], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    for needle in [
        "resources[2] (AWS::EC2::Instance) mappings.properties.state",
        "expression: .Properties.State.Name |",
        "resources[3] (AWS::ECS::Cluster) mappings.blueprint: blueprint \"ecsClusters\" does not exist",
        "resources[1] (AWS::S3::Buckets) kind",
        "hint: supported kinds: AWS::Account::Info",
        "3 error(s)",
    ] {
        assert!(
            run.stdout.contains(needle),
            "{needle:?} in:\n{}",
            run.stdout
        );
    }
}

/// aws-v3 silently ignores an `includeActions` name its kind does not have, so the fields
/// the user expects never come; `validate` says so, naming the kind and its actions. An
/// action the kind has passes.
#[tokio::test]
async fn validate_reports_include_actions_the_kind_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let with = |actions: &str| {
        std::fs::read_to_string(DEFAULT_MAPPING).unwrap().replace(
            "  - kind: AWS::S3::Bucket\n    selector:\n      query: 'true'\n",
            &format!(
                "  - kind: AWS::S3::Bucket\n    selector:\n      query: 'true'\n      includeActions: {actions}\n"
            ),
        )
    };
    let good = with("[GetBucketLocationAction]");
    assert_ne!(good, std::fs::read_to_string(DEFAULT_MAPPING).unwrap());
    let path = write(&dir, "good.yml", &good);
    let run = run_binary(&["validate", "--mapping", &path], &[]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let path = write(
        &dir,
        "bad.yml",
        &with("[GetBucketLocationAction, DescribeInstanceStatusAction]"),
    );
    let run = run_binary(&["validate", "--mapping", &path], &[]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    for needle in [
        "error   resources[1] (AWS::S3::Bucket) selector.includeActions: DescribeInstanceStatusAction is not an action of AWS::S3::Bucket",
        "hint: AWS::S3::Bucket has optional actions GetPublicAccessBlockAction, GetBucketOwnershipControlsAction, GetBucketEncryptionAction, GetBucketLocationAction (its default actions, which always run: ListBucketsAction, GetBucketTaggingAction)",
        "1 error(s)",
    ] {
        assert!(
            run.stdout.contains(needle),
            "{needle:?} in:\n{}",
            run.stdout
        );
    }
}

#[tokio::test]
async fn validate_from_port_reads_the_integration_and_writes_nothing() {
    let port = PortFake::start().await;
    let mut config: Value =
        serde_yaml::from_str(&std::fs::read_to_string(DEFAULT_MAPPING).unwrap()).unwrap();
    config["resources"][0]["port"]["entity"]["mappings"]["properties"] =
        json!({"owner": ".Properties.Owner"});
    port.put_integration(
        json!({"identifier": IDENTIFIER, "installationAppType": "aws-v3", "config": config}),
    );
    let blueprints: Vec<Value> =
        serde_json::from_str(include_str!("../resources/blueprints.json")).unwrap();
    for bp in blueprints {
        port.put_blueprint(bp);
    }
    let mut env = Vec::new();
    set(&mut env, "OCEAN__PORT__CLIENT_ID", PortFake::CLIENT_ID);
    set(
        &mut env,
        "OCEAN__PORT__CLIENT_SECRET",
        PortFake::CLIENT_SECRET,
    );
    set(&mut env, "OCEAN__PORT__BASE_URL", &port.url());
    set(&mut env, "OCEAN__INTEGRATION__IDENTIFIER", IDENTIFIER);
    set(&mut env, "OCEAN__INTEGRATON__IDENTIFIER", "typo");
    let run = run_binary(&["validate"], &env).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("resources[0] (AWS::Account::Info) mappings.properties.owner: blueprint \"awsAccount\" has no property \"owner\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("warning settings: unknown setting OCEAN__INTEGRATON__IDENTIFIER"),
        "{}",
        run.stdout
    );
    assert!(
        port.write_requests().is_empty(),
        "{:?}",
        port.write_requests()
    );
}

/// Single quotes are rewritten by Ocean's rule: `== 'running'` works as in Ocean; a quote
/// next to a bracket is no string delimiter there (Ocean compiles nothing and maps the field
/// to `null` on every item), so the mapping is refused, with a hint, rather than meaning
/// here what it does not mean in Ocean.
#[tokio::test]
async fn single_quotes_work_where_they_work_in_ocean_and_are_refused_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let size = "'if .Properties.InstanceType == ''t3.medium'' then ''medium'' else ''other'' end'";
    let mapping = std::fs::read_to_string(DEFAULT_MAPPING)
        .unwrap()
        .replace(
            "  - kind: AWS::EC2::Instance\n    selector:\n      query: 'true'",
            "  - kind: AWS::EC2::Instance\n    selector:\n      query: '.Properties.State.Name == ''running'''",
        )
        .replace(
            "            instanceType: .Properties.InstanceType\n",
            &format!("            instanceType: {size}\n"),
        );
    let mapping_path = write(&dir, "mapping.yml", &mapping);
    let running: Value =
        serde_json::from_str(include_str!("fixtures/aws-v3-raw/ec2-instance.json")).unwrap();
    let mut stopped = running.clone();
    stopped["Properties"]["State"]["Name"] = json!("stopped");
    let input = write(&dir, "items.json", &format!("{running}\n{stopped}\n"));
    let map = |mapping: &str| {
        let args = [
            "map",
            "--mapping",
            mapping,
            "--kind",
            "AWS::EC2::Instance",
            "--input",
            &input,
        ]
        .map(str::to_string);
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_binary(&args, &[]).await
        }
    };
    let run = map(&mapping_path).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["entities"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(out["entities"][0]["properties"]["instanceType"], "medium");
    assert_eq!(
        out["dropped"],
        json!([{"item": 1, "resource": 2, "reason": "the selector is false"}])
    );

    // The common `select(.Key == 'Name')`: the closing quote touches `)`.
    let expression = "[.Properties.Tags[]? | select(.Key == 'Name') | .Value] | first";
    let bad = mapping.replace(size, &format!("'{}'", expression.replace('\'', "''")));
    assert_ne!(bad, mapping);
    let bad_path = write(&dir, "bad.yml", &bad);
    let run = run_binary(&["validate", "--mapping", &bad_path], &[]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    for needle in [
        "resources[2] (AWS::EC2::Instance) mappings.properties.instanceType",
        &format!("expression: {expression}"),
        "as in Ocean, a single quote delimits a string only at either end of the expression or next to whitespace",
        "1 error(s)",
    ] {
        assert!(
            run.stdout.contains(needle),
            "{needle:?} in:\n{}",
            run.stdout
        );
    }
    let run = map(&bad_path).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "nothing mapped: {}", run.stdout);
}

#[tokio::test]
async fn map_prints_entities_and_why_items_yield_none() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = std::fs::read_to_string(DEFAULT_MAPPING)
        .unwrap()
        .replace(
            "  - kind: AWS::EC2::Instance\n    selector:\n      query: 'true'",
            "  - kind: AWS::EC2::Instance\n    selector:\n      query: .Properties.State.Name == \"running\"",
        );
    let mapping_path = write(&dir, "mapping.yml", &mapping);
    let running: Value =
        serde_json::from_str(include_str!("fixtures/aws-v3-raw/ec2-instance.json")).unwrap();
    let mut stopped = running.clone();
    stopped["Properties"]["State"]["Name"] = json!("stopped");
    stopped["Properties"]["InstanceId"] = json!("i-stopped");
    let input = write(&dir, "items.json", &format!("{running}\n{stopped}\n"));
    let run = run_binary(
        &[
            "map",
            "--mapping",
            &mapping_path,
            "--kind",
            "AWS::EC2::Instance",
            "--input",
            &input,
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["entities"].as_array().unwrap().len(), 1);
    assert_eq!(out["entities"][0]["identifier"], "i-0a1b2c3d4e5f67890");
    assert_eq!(out["entities"][0]["relations"]["account"], "123456789012");
    assert_eq!(
        out["dropped"],
        json!([{"item": 1, "resource": 2, "reason": "the selector is false"}])
    );

    let run = run_binary(
        &[
            "map",
            "--mapping",
            &mapping_path,
            "--kind",
            "AWS::Nope::Thing",
            "--input",
            &input,
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no resource of kind AWS::Nope::Thing"),
        "{}",
        run.stderr
    );
}
