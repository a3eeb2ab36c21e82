//! Any CloudFormation type without a native kind, through Cloud Control, end to end: the
//! real binary, moto (accounts, STS) behind the fault proxy, and the harness's Cloud Control
//! fake (moto does not implement Cloud Control), which the proxy answers Cloud Control
//! requests from, per account (the one the request's credentials were assumed in) and
//! region.

mod support;

use serde_json::{Value, json};

use support::aws_proxy::Rule;
use support::{IDENTIFIER, MANAGEMENT, World, run_binary};

const STREAM: &str = "AWS::Kinesis::Stream";

/// Two accounts (the management account and one member), nothing seeded but them.
async fn world() -> World {
    World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await
}

fn member(w: &World) -> String {
    w.members()[0]["id"].as_str().unwrap().to_string()
}

fn stream(account: &str, region: &str, name: &str, shards: u64) -> Value {
    json!({
        "Name": name,
        "Arn": format!("arn:aws:kinesis:{region}:{account}:stream/{name}"),
        "ShardCount": shards,
        "RetentionPeriodHours": 24,
        "StreamModeDetails": {"StreamMode": "PROVISIONED"},
        "Tags": [{"Key": "team", "Value": "data"}],
    })
}

/// A mapping resource of `kind` into `blueprint`, identified by `.Properties.Arn`, with
/// extra selector fields.
fn resource(kind: &str, blueprint: &str, selector: Value) -> Value {
    let mut s = json!({"query": "true", "regionPolicy": {"allow": ["us-east-1", "eu-west-1"]}});
    for (k, v) in selector.as_object().unwrap() {
        s[k] = v.clone();
    }
    json!({
        "kind": kind,
        "selector": s,
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.Arn",
            "title": ".Identifier",
            "blueprint": format!("\"{blueprint}\""),
            "properties": {
                "shards": ".Properties.ShardCount",
                "region": ".__ExtraContext.Region",
                "account": ".__ExtraContext.AccountId",
            },
        }}},
    })
}

fn blueprint(w: &World, id: &str) {
    w.port.put_blueprint(json!({
        "identifier": id,
        "title": id,
        "schema": {"properties": {
            "shards": {"type": "number"},
            "region": {"type": "string"},
            "account": {"type": "string"},
        }},
    }));
}

fn stale(w: &World, blueprint: &str, id: &str) {
    w.port.put_entity(
        json!({"identifier": id, "blueprint": blueprint}),
        &support::our_datasource(),
    );
}

fn identifiers(w: &World, blueprint: &str) -> Vec<String> {
    let mut ids: Vec<String> = w
        .port
        .entities()
        .iter()
        .filter(|e| e["blueprint"] == blueprint)
        .map(|e| e["identifier"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// `AWS::Kinesis::Stream` (no native kind) in two accounts and two regions, 45 streams in
/// one of them (three pages of the fake's 20), and `AWS::IAM::Role` (global): every
/// resource becomes an entity with the raw item `{Type, Identifier, Properties,
/// __ExtraContext}`, the pages are followed to the end, each account sees its own
/// resources, the global type is listed once per account (through us-east-1), and the
/// complete run deletes an entity of the type that no longer exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloud_control_type_syncs_end_to_end_across_pages_accounts_and_regions() {
    let w = world().await;
    let member = member(&w);
    let cc = w.proxy.cloud_control();
    let mut want = Vec::new();
    for i in 0..45 {
        let name = format!("orders-{i:02}");
        let props = stream(MANAGEMENT, "eu-west-1", &name, 2);
        want.push(props["Arn"].as_str().unwrap().to_string());
        cc.put(MANAGEMENT, "eu-west-1", STREAM, &name, props);
    }
    for name in ["clicks", "views"] {
        let props = stream(&member, "us-east-1", name, 1);
        want.push(props["Arn"].as_str().unwrap().to_string());
        cc.put(&member, "us-east-1", STREAM, name, props);
    }
    want.sort();
    let role =
        json!({"RoleName": "deployer", "Arn": format!("arn:aws:iam::{MANAGEMENT}:role/deployer")});
    cc.put(MANAGEMENT, "us-east-1", "AWS::IAM::Role", "deployer", role);
    blueprint(&w, "kinesisStream");
    blueprint(&w, "iamRole");
    stale(
        &w,
        "kinesisStream",
        "arn:aws:kinesis:eu-west-1:123456789012:stream/gone",
    );
    w.seed_integration(json!({"resources": [
        resource(STREAM, "kinesisStream", json!({})),
        resource("AWS::IAM::Role", "iamRole", json!({})),
    ]}));

    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        identifiers(&w, "kinesisStream"),
        want,
        "the stale stream is deleted"
    );
    assert_eq!(
        identifiers(&w, "iamRole"),
        [format!("arn:aws:iam::{MANAGEMENT}:role/deployer")]
    );
    let e = w
        .port
        .entity(
            "kinesisStream",
            &format!("arn:aws:kinesis:us-east-1:{member}:stream/clicks"),
        )
        .unwrap();
    assert_eq!(e["properties"]["shards"], 1);
    assert_eq!(e["properties"]["account"], json!(member));
    assert_eq!(e["properties"]["region"], "us-east-1");
    assert_eq!(e["title"], "clicks");

    // The raw items sent as examples (the first few listed): each one exactly the shape.
    let examples = w.port.examples(IDENTIFIER, STREAM);
    assert!(!examples.is_empty());
    for item in &examples {
        let name = item["Identifier"].as_str().unwrap();
        let account = item["__ExtraContext"]["AccountId"].as_str().unwrap();
        let (region, shards) = if account == MANAGEMENT {
            ("eu-west-1", 2)
        } else {
            ("us-east-1", 1)
        };
        assert_eq!(
            *item,
            json!({
                "Type": STREAM,
                "Identifier": name,
                "Properties": stream(account, region, name, shards),
                "__ExtraContext": {"AccountId": account, "Region": region},
            })
        );
    }

    let requests = cc.requests();
    let lists = |type_name: &str, account: &str, region: &str| {
        requests
            .iter()
            .filter(|r| {
                r.operation == "ListResources"
                    && r.type_name == type_name
                    && r.account == account
                    && r.region == region
            })
            .collect::<Vec<_>>()
    };
    // 45 streams at 20 a page: three pages, each after the first asking with the token
    // the previous one gave.
    let pages = lists(STREAM, MANAGEMENT, "eu-west-1");
    assert_eq!(pages.len(), 3, "{pages:#?}");
    assert!(pages[0].next_token.is_none() && pages[1].next_token.is_some());
    assert!(
        pages
            .iter()
            .all(|r| r.status == 200 && r.max_results == Some(100))
    );
    assert_eq!(lists(STREAM, &member, "us-east-1").len(), 1);
    assert_eq!(lists(STREAM, &member, "eu-west-1").len(), 1);
    // The global type: once per account, through us-east-1, never eu-west-1.
    for account in [MANAGEMENT, member.as_str()] {
        assert_eq!(
            lists("AWS::IAM::Role", account, "us-east-1").len(),
            1,
            "{account}"
        );
        assert!(lists("AWS::IAM::Role", account, "eu-west-1").is_empty());
    }
    // Whole list answers: no GetResource.
    assert!(requests.iter().all(|r| r.operation == "ListResources"));
}

/// `useGetResourceAPI` (as v1 wrote it, the string `'true'`) calls `GetResource` for every
/// listed resource; a type whose list answer holds only the identifier (as AWS lists S3
/// buckets) gets `GetResource` without asking. The entities carry what only `GetResource`
/// returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_resource_runs_when_asked_and_when_the_list_answer_is_partial() {
    let w = world().await;
    let cc = w.proxy.cloud_control();
    for name in ["a", "b", "c"] {
        cc.put(
            MANAGEMENT,
            "us-east-1",
            STREAM,
            name,
            stream(MANAGEMENT, "us-east-1", name, 3),
        );
    }
    let group = "AWS::Logs::LogGroup";
    for name in ["/app/web", "/app/worker"] {
        cc.put(
            MANAGEMENT,
            "us-east-1",
            group,
            name,
            json!({"LogGroupName": name, "Arn": format!("arn:aws:logs:us-east-1:{MANAGEMENT}:log-group:{name}"), "RetentionInDays": 14}),
        );
    }
    cc.list_only(group, &["LogGroupName"]);
    blueprint(&w, "kinesisStream");
    w.port.put_blueprint(json!({
        "identifier": "logGroup",
        "title": "Log group",
        "schema": {"properties": {"retention": {"type": "number"}}},
    }));
    let mut logs = resource(
        group,
        "logGroup",
        json!({"regionPolicy": {"allow": ["us-east-1"]}}),
    );
    logs["port"]["entity"]["mappings"]["properties"] =
        json!({"retention": ".Properties.RetentionInDays"});
    w.seed_integration(json!({"resources": [
        resource(STREAM, "kinesisStream", json!({"useGetResourceAPI": "true", "regionPolicy": {"allow": ["us-east-1"]}})),
        logs,
    ]}));

    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let gets = |t: &str| {
        let mut ids: Vec<String> = cc
            .requests()
            .iter()
            .filter(|r| r.operation == "GetResource" && r.type_name == t)
            .map(|r| r.identifier.clone().unwrap())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(gets(STREAM), ["a", "b", "c"]);
    assert_eq!(gets(group), ["/app/web", "/app/worker"]);
    let arn = format!("arn:aws:logs:us-east-1:{MANAGEMENT}:log-group:/app/web");
    let e = w
        .port
        .entity("logGroup", &arn)
        .expect("the log group, from GetResource");
    assert_eq!(e["properties"]["retention"], 14);
}

/// `selector.resourceModel`: a type listed under a parent (`AWS::EKS::Nodegroup`, under its
/// cluster) is listed once per model of the mapping's resources, each request carrying it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_model_lists_a_type_under_each_parent_the_mapping_names() {
    let w = world().await;
    let cc = w.proxy.cloud_control();
    let nodegroup = "AWS::EKS::Nodegroup";
    cc.require_model(nodegroup, "ClusterName");
    for (cluster, name) in [
        ("prod", "ng-1"),
        ("prod", "ng-2"),
        ("dev", "ng-3"),
        ("qa", "ng-4"),
    ] {
        cc.put(
            MANAGEMENT,
            "us-east-1",
            nodegroup,
            &format!("{cluster}|{name}"),
            json!({"ClusterName": cluster, "NodegroupName": name, "Arn": format!("arn:aws:eks:us-east-1:{MANAGEMENT}:nodegroup/{cluster}/{name}"), "ScalingConfig": {"DesiredSize": 2}}),
        );
    }
    blueprint(&w, "nodegroup");
    let model = |c: &str| json!({"regionPolicy": {"allow": ["us-east-1"]}, "resourceModel": {"ClusterName": c}});
    w.seed_integration(json!({"resources": [
        resource(nodegroup, "nodegroup", model("prod")),
        // As a JSON string, as a UI field would hold it.
        resource(nodegroup, "nodegroup", json!({"regionPolicy": {"allow": ["us-east-1"]}, "resourceModel": "{\"ClusterName\": \"dev\"}"})),
    ]}));

    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids = identifiers(&w, "nodegroup");
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.iter().all(|id| !id.contains("/qa/")), "{ids:?}");
    let mut models: Vec<String> = cc
        .requests()
        .iter()
        .filter(|r| r.operation == "ListResources" && r.account == MANAGEMENT)
        .map(|r| r.resource_model.clone().expect("a model on every request"))
        .collect();
    models.sort();
    assert_eq!(
        models,
        ["{\"ClusterName\":\"dev\"}", "{\"ClusterName\":\"prod\"}"]
    );
}

/// A world with one stream `a` in us-east-1 of the management account and a mapping of
/// its type in us-east-1, with `selector`'s fields.
async fn one_stream(selector: Value) -> World {
    let w = world().await;
    let props = stream(MANAGEMENT, "us-east-1", "a", 1);
    w.proxy
        .cloud_control()
        .put(MANAGEMENT, "us-east-1", STREAM, "a", props);
    blueprint(&w, "kinesisStream");
    let mut selector = selector;
    selector["regionPolicy"] = json!({"allow": ["us-east-1"]});
    w.seed_integration(json!({"resources": [resource(STREAM, "kinesisStream", selector)]}));
    w
}

/// Cloud Control throttles hard: five `ThrottlingException`s in a row (every attempt another
/// client would make) are retried through, and the run is complete. (The SDK's adaptive
/// mode waits ~18 s before each retry once throttled: this test takes about a minute.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_past_the_default_attempt_budget() {
    // One account at a time, so the five throttled answers all go to the first listing.
    let w = one_stream(json!({"maxConcurrentAccounts": 1})).await;
    w.proxy.add_rule(Rule {
        action: "ListResources".into(),
        status: 400,
        code: "ThrottlingException".into(),
        times: 5,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(identifiers(&w, "kinesisStream").len(), 1);
    // The five refused, then one per account that succeeded.
    assert_eq!(w.proxy.hits("ListResources"), 7);
}

/// Throttling that does not stop fails the unit: the run is partial and the entity of the
/// type from the last run is kept, never deleted as if the listing had been empty. (Two
/// attempts through `AWS_MAX_ATTEMPTS`, so the test does not wait out ten backoffs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_that_does_not_stop_fails_the_unit_and_deletes_nothing() {
    let w = one_stream(json!({})).await;
    let kept = format!("arn:aws:kinesis:us-east-1:{MANAGEMENT}:stream/a");
    stale(&w, "kinesisStream", &kept);
    w.proxy.add_rule(Rule {
        action: "ListResources".into(),
        status: 400,
        code: "ThrottlingException".into(),
        times: 10_000,
        ..Default::default()
    });
    let mut env = w.env();
    support::set(&mut env, "AWS_MAX_ATTEMPTS", "2");
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(w.port.entity("kinesisStream", &kept).is_some());
    assert!(
        run.stderr.contains("cloudformation:ListResources")
            && run.stderr.contains("ThrottlingException"),
        "{}",
        run.stderr
    );
}

/// Every Cloud Control call is paced per (account, region): sixty `GetResource`s against a
/// fake that throttles any (account, region) over 30 requests a second, with no retry at
/// all, complete without one throttled answer. Unpaced, the sixteen concurrent calls of a
/// page would go over at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_control_calls_are_paced_per_account_and_region() {
    let w = world().await;
    let cc = w.proxy.cloud_control();
    for i in 0..60 {
        let name = format!("s{i:02}");
        cc.put(
            MANAGEMENT,
            "us-east-1",
            STREAM,
            &name,
            stream(MANAGEMENT, "us-east-1", &name, 1),
        );
    }
    cc.throttle_over(30);
    blueprint(&w, "kinesisStream");
    w.seed_integration(json!({"resources": [
        resource(STREAM, "kinesisStream", json!({"useGetResourceAPI": true, "regionPolicy": {"allow": ["us-east-1"]}})),
    ]}));
    let mut env = w.env();
    support::set(&mut env, "AWS_MAX_ATTEMPTS", "1");
    let run = run_binary(&["sail", "--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(identifiers(&w, "kinesisStream").len(), 60);
    let requests = cc.requests();
    assert!(
        requests.iter().all(|r| r.status == 200),
        "{:#?}",
        requests
            .iter()
            .filter(|r| r.status != 200)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.operation == "GetResource")
            .count(),
        60
    );
}

/// Type errors: a type Cloud Control does not know and one it cannot list fail their units
/// with errors naming the type (run partial, their entities kept), a type listed under a
/// parent without `resourceModel` fails without a call, and the type that works is synced
/// and reconciled as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_errors_name_the_type_and_fail_only_that_type() {
    let w = world().await;
    let cc = w.proxy.cloud_control();
    cc.put(
        MANAGEMENT,
        "us-east-1",
        STREAM,
        "a",
        stream(MANAGEMENT, "us-east-1", "a", 1),
    );
    cc.declare("AWS::Pipes::Pipe");
    cc.unsupported("AWS::Pipes::Pipe");
    cc.require_model("AWS::EKS::Nodegroup", "ClusterName");
    let only_us = json!({"regionPolicy": {"allow": ["us-east-1"]}});
    for bp in ["kinesisStream", "nothing", "pipe", "nodegroup"] {
        blueprint(&w, bp);
        stale(&w, bp, &format!("arn:{bp}:old"));
    }
    w.seed_integration(json!({"resources": [
        resource(STREAM, "kinesisStream", only_us.clone()),
        resource("AWS::Nothing::Here", "nothing", only_us.clone()),
        resource("AWS::Pipes::Pipe", "pipe", only_us.clone()),
        resource("AWS::EKS::Nodegroup", "nodegroup", only_us.clone()),
    ]}));
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    for needle in [
        "AWS::Nothing::Here: Cloud Control does not know this type",
        "TypeNotFoundException",
        "AWS::Pipes::Pipe: Cloud Control cannot list this type",
        "UnsupportedActionException",
        "Cloud Control lists AWS::EKS::Nodegroup only under a parent: set selector.resourceModel to {ClusterName: …}",
    ] {
        assert!(
            run.stderr.contains(needle),
            "{needle:?} in:\n{}",
            run.stderr
        );
    }
    for bp in ["nothing", "pipe", "nodegroup"] {
        assert!(
            w.port.entity(bp, &format!("arn:{bp}:old")).is_some(),
            "{bp} kept"
        );
    }
    assert_eq!(
        identifiers(&w, "kinesisStream"),
        [format!("arn:aws:kinesis:us-east-1:{MANAGEMENT}:stream/a")],
        "the complete type is reconciled"
    );
    assert!(
        !cc.requests()
            .iter()
            .any(|r| r.type_name == "AWS::EKS::Nodegroup")
    );
}

/// `validate` says offline what it can: a type listed under a parent without its
/// `resourceModel` property, a type with no list handler, a malformed option, and a Cloud
/// Control option on a native kind; a well-formed Cloud Control resource passes.
#[tokio::test]
async fn validate_reports_cloud_control_selectors_that_cannot_work() {
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("bp.json");
    std::fs::write(
        &bp,
        json!({"identifier": "thing", "title": "Thing", "schema": {"properties": {"shards": {"type": "number"}, "region": {"type": "string"}, "account": {"type": "string"}}}}).to_string(),
    )
    .unwrap();
    let check = |resources: Value| {
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.path().join(format!("m{n}.json"));
        std::fs::write(&path, json!({"resources": resources}).to_string()).unwrap();
        let bp = bp.to_str().unwrap().to_string();
        async move {
            run_binary(
                &[
                    "validate",
                    "--mapping",
                    path.to_str().unwrap(),
                    "--blueprints",
                    &bp,
                ],
                &[],
            )
            .await
        }
    };
    let run = check(json!([
        resource(STREAM, "thing", json!({"useGetResourceAPI": true})),
        resource(
            "AWS::EKS::Nodegroup",
            "thing",
            json!({"resourceModel": {"ClusterName": "prod"}})
        ),
    ]))
    .await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let run = check(json!([
        resource("AWS::EKS::Nodegroup", "thing", json!({})),
        resource("AWS::CloudFormation::WaitCondition", "thing", json!({})),
        resource(
            STREAM,
            "thing",
            json!({"useGetResourceAPI": "sometimes", "resourceModel": 3})
        ),
        resource(
            "AWS::EC2::Instance",
            "thing",
            json!({"useGetResourceAPI": true})
        ),
    ]))
    .await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    for needle in [
        "resources[0] (AWS::EKS::Nodegroup) selector.resourceModel: Cloud Control lists AWS::EKS::Nodegroup only under a parent: set selector.resourceModel to {ClusterName: …}",
        "resources[1] (AWS::CloudFormation::WaitCondition) kind: AWS::CloudFormation::WaitCondition cannot be listed",
        "resources[2] (AWS::Kinesis::Stream) selector.useGetResourceAPI: \"sometimes\" is not valid: expected true or false",
        "resources[2] (AWS::Kinesis::Stream) selector.resourceModel: 3 is not valid",
        "resources[3] (AWS::EC2::Instance) selector.useGetResourceAPI: AWS::EC2::Instance is a native kind",
    ] {
        assert!(
            run.stdout.contains(needle),
            "{needle:?} in:\n{}",
            run.stdout
        );
    }
}

static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `kinds` lists every native kind with its actions and IAM actions, and the Cloud Control
/// note; `--json` is one document with every native kind.
#[tokio::test]
async fn the_kinds_command_lists_native_kinds_and_the_cloud_control_note() {
    let run = run_binary(&["kinds"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("33 native kinds"), "{}", run.stdout);
    for needle in [
        "AWS::CodePipeline::ActionExecution  [regional]",
        "GetBucketLocationAction (s3:GetBucketLocation)",
        "Any other AWS::<service>::<resource> type is listed through AWS Cloud Control",
        "cloudformation:ListResources, cloudformation:GetResource",
    ] {
        assert!(
            run.stdout.contains(needle),
            "{needle:?} in:\n{}",
            run.stdout
        );
    }
    let run = run_binary(&["kinds", "--json"], &[]).await;
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["native"].as_array().unwrap().len(), 33);
    assert!(doc["cloudControl"]["iam"][0] == "cloudformation:ListResources");
}
