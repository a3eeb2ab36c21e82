//! Each kind, listed through the public API against moto: raw items have the aws-v3 shape
//! (`Type`, PascalCase `Properties`, `__ExtraContext`) that users' mappings read.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_catalog_sync::aws::accounts::{self, Account};
use aws_catalog_sync::aws::kinds::{self, Emit, ListCtx};
use aws_catalog_sync::config::{Settings, Sources};
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use serde_json::{Value, json};
use support::aws_proxy::Rule;
use support::{IDENTIFIER, MANAGEMENT, World, run_binary};
use tokio::sync::mpsc;

/// Lists `kind` in `region` of the first member account and returns the raw items.
async fn list(kind: &str, region: &str) -> (Vec<Value>, String, Value) {
    list_with(kind, region, &[]).await
}

/// [`list`], running the optional actions `include` names.
async fn list_with(kind: &str, region: &str, include: &[&str]) -> (Vec<Value>, String, Value) {
    let moto = support::moto::Moto::start().await.unwrap();
    let manifest = moto.seed(&["--members", "1"]).await.unwrap();
    let base = moto_config(&moto.url(), "us-east-1").await;
    let settings = Settings::from_sources(&Sources {
        env: vec![
            ("OCEAN__PORT__CLIENT_ID".into(), "x".into()),
            ("OCEAN__PORT__CLIENT_SECRET".into(), "y".into()),
            (
                "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN".into(),
                format!(
                    "arn:aws:iam::{}:role/{}",
                    support::MANAGEMENT,
                    support::ROLE
                ),
            ),
        ],
        ..Sources::default()
    })
    .unwrap();
    let discovery = accounts::discover(&base, &settings.aws).await.unwrap();
    let member = manifest["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| !a["management"].as_bool().unwrap())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let account: Account = discovery
        .accounts
        .into_iter()
        .find(|a| a.id == member)
        .unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    let k = kinds::find(kind).unwrap();
    let include: Vec<String> = include.iter().map(|s| s.to_string()).collect();
    let ctx = ListCtx {
        account: Arc::new(account),
        region: region.to_string(),
        partition: settings.aws.partition,
        pacer: None,
        bounds: Default::default(),
        actions: k.requested(&include),
        history: None,
        kind: k.name,
        cloud_control: Default::default(),
    };
    let lister = tokio::spawn((k.list)(ctx, Emit::new(tx)));
    let mut items = Vec::new();
    while let Some(page) = rx.recv().await {
        items.extend(page);
    }
    lister.await.unwrap().unwrap();
    (items, member, manifest)
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// aws-v3's raw example of a kind, from the copies under `tests/fixtures/aws-v3-raw/`
/// (`tests/fixtures/README.md`). A missing or unreadable fixture fails the test: without it
/// the shape checks would compare against nothing.
fn example(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/aws-v3-raw/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {path} cannot be read: {e}"));
    let example: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {path} is not JSON: {e}"));
    assert!(
        example["Properties"].is_object(),
        "fixture {path} has no Properties object"
    );
    example
}

/// The item has the shape its kind's fixture describes: [`assert_shape`] against aws-v3's
/// example with the fixture's keys.
fn assert_kind_shape(item: &Value) {
    let kind = kinds::find(item["Type"].as_str().expect("the item has a Type")).unwrap();
    assert_shape(item, &example(kind.fixture.example), kind.fixture.keys);
}

/// Every key in `must_have` is present in the item and in the aws-v3 example, with the same
/// JSON type.
fn assert_shape(item: &Value, example: &Value, must_have: &[&str]) {
    let props = &item["Properties"];
    for key in must_have {
        assert!(
            props.get(*key).is_some(),
            "Properties.{key} missing in {item:#}"
        );
        let ex = &example["Properties"][*key];
        assert!(
            !ex.is_null(),
            "Properties.{key} is not in the aws-v3 example: nothing to compare with"
        );
        let same_type = std::mem::discriminant(ex) == std::mem::discriminant(&props[*key]);
        assert!(
            same_type,
            "Properties.{key}: {} vs example {}",
            props[*key], ex
        );
    }
    for k in keys(props) {
        assert!(
            k.chars().next().unwrap().is_ascii_uppercase(),
            "{k} is not PascalCase"
        );
        assert!(
            !props[&k].is_null() || k == "Configuration",
            "{k} is null, absent keys must be absent"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_instances_have_the_aws_v3_shape() {
    let (items, member, manifest) = list("AWS::EC2::Instance", "eu-west-1").await;
    let expected: BTreeSet<&str> = manifest["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["account"] == member && i["region"] == "eu-west-1")
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let got: BTreeSet<&str> = items
        .iter()
        .map(|i| i["Properties"]["InstanceId"].as_str().unwrap())
        .collect();
    assert_eq!(got, expected);
    let item = &items[0];
    assert_eq!(item["Type"], "AWS::EC2::Instance");
    assert_kind_shape(item);
    assert_eq!(
        keys(&item["Properties"]["State"]),
        keys(&json!({"Code": 0, "Name": ""}))
    );
    assert_ec2_instance_is_aws_v3_s(item, "eu-west-1", &DEFAULT_ORDER);
    let props = &item["Properties"];
    let id = props["InstanceId"].as_str().unwrap();
    let seeded = manifest["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap();
    assert_eq!(seeded["account"], json!(member));
    let ctx = &item["__ExtraContext"];
    assert_eq!(ctx["AccountId"], json!(member));
    assert_eq!(ctx["Region"], "eu-west-1");
    assert!(ctx["ReservationId"].as_str().unwrap().starts_with("r-"));
    assert_eq!(ctx["OwnerId"], json!(member));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_buckets_have_the_aws_v3_shape() {
    let (items, member, _) = list("AWS::S3::Bucket", "us-east-1").await;
    assert_eq!(items.len(), 2, "{items:#?}");
    let tagged = items
        .iter()
        .find(|i| i["Properties"]["BucketName"] == json!(format!("bucket-{member}-0")))
        .unwrap();
    assert_kind_shape(tagged);
    assert_eq!(
        tagged["Properties"]["Tags"],
        json!([{"Key": "Env", "Value": "test"}])
    );
    assert_eq!(
        tagged["Properties"]["Arn"],
        json!(format!("arn:aws:s3:::bucket-{member}-0"))
    );
    // S3 is global: AccountId only, like aws-v3.
    assert_eq!(tagged["__ExtraContext"], json!({"AccountId": member}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_clusters_have_the_aws_v3_shape() {
    let (items, member, manifest) = list("AWS::ECS::Cluster", "us-east-1").await;
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_kind_shape(item);
    let seeded = manifest["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["account"] == json!(member) && c["region"] == "us-east-1")
        .unwrap();
    // What aws-v3 2.20.11-beta makes of moto's answer for this cluster (run through its
    // own models): only the keys ECS returned — moto sends no statistics, attachments,
    // capacity providers or strategy, so there are none — in its model's order, nested
    // values in ECS's own casing.
    let expected = json!({
        "ClusterName": seeded["name"],
        "ClusterSettings": [{"name": "containerInsights", "value": "disabled"}],
        "Tags": [{"key": "Team", "value": "platform"}],
        "Status": "ACTIVE",
        "RunningTasksCount": 0,
        "ActiveServicesCount": 0,
        "PendingTasksCount": 0,
        "RegisteredContainerInstancesCount": 0,
        "ClusterArn": seeded["arn"],
    });
    assert_eq!(item["Properties"], expected, "{item:#}");
    assert_eq!(
        keys_in_order(&item["Properties"]),
        keys_in_order(&expected),
        "aws-v3's model order"
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": member, "Region": "us-east-1"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_info_is_id_and_name_without_context() {
    let (items, member, manifest) = list("AWS::Account::Info", "us-east-1").await;
    let name = manifest["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == json!(member))
        .unwrap()["name"]
        .clone();
    assert_eq!(
        items,
        vec![json!({"Type": "AWS::Account::Info", "Properties": {"Id": member, "Name": name}})]
    );
    assert_eq!(
        keys(&items[0]["Properties"]),
        keys(&example("account-info")["Properties"])
            .into_iter()
            .chain(["Id".to_string(), "Name".to_string()])
            .collect()
    );
}

/// Every registered kind has its aws-v3 example, and the example has every key the kind's
/// fixture names (else the shape checks would compare with nothing).
#[test]
fn every_kind_has_its_aws_v3_example() {
    for kind in kinds::all() {
        let example = example(kind.fixture.example);
        assert_eq!(example["Type"], kind.name, "{}", kind.fixture.example);
        for key in kind.fixture.keys {
            assert!(
                !example["Properties"][*key].is_null(),
                "{}: {key} is not in the example {}",
                kind.name,
                kind.fixture.example
            );
        }
    }
}

/// Two resources of one kind, one with an optional action and one without: the kind is
/// listed once, running the action once per bucket, and each resource maps what aws-v3
/// would have given it — `LocationConstraint` for the first only. A name the kind does not
/// have is ignored, with a warning naming the kind, the resource and the kind's actions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_asking_for_different_actions_share_one_listing_and_get_their_own_fields() {
    let w = World::start(&[
        "--members",
        "1",
        "--regions",
        "eu-west-1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
    ])
    .await;
    let resource = |blueprint: &str, include: Value| {
        json!({
            "kind": "AWS::S3::Bucket",
            "selector": {"query": "true", "includeActions": include},
            "port": {"entity": {"mappings": {
                "identifier": ".Properties.Arn",
                "blueprint": format!("\"{blueprint}\""),
                "properties": {
                    "location": ".Properties.LocationConstraint",
                    "hasLocation": ".Properties | has(\"LocationConstraint\")",
                    "tags": ".Properties.Tags",
                },
            }}},
        })
    };
    for blueprint in ["locatedBucket", "plainBucket"] {
        w.port.put_blueprint(json!({
            "identifier": blueprint,
            "title": blueprint,
            "schema": {"properties": {
                "location": {"type": "string"},
                "hasLocation": {"type": "boolean"},
                "tags": {"type": "array"},
            }},
        }));
    }
    w.seed_integration(json!({"resources": [
        resource("locatedBucket", json!(["GetBucketLocationAction"])),
        resource("plainBucket", json!(["NoSuchAction"])),
    ]}));
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let buckets = w.manifest["buckets"].as_array().unwrap();
    assert!(!buckets.is_empty());
    let operations = w.proxy.operations();
    let calls = |op: &str| operations.get(op).copied().unwrap_or(0);
    assert_eq!(
        calls("s3:GetBucketLocation"),
        buckets.len(),
        "{operations:?}"
    );
    assert_eq!(
        calls("s3:GetBucketTagging"),
        buckets.len(),
        "{operations:?}"
    );
    assert_eq!(
        calls("s3:ListBuckets"),
        w.account_ids().len(),
        "{operations:?}"
    );
    for b in buckets {
        let arn = format!("arn:aws:s3:::{}", b["name"].as_str().unwrap());
        let located = w.port.entity("locatedBucket", &arn).unwrap();
        assert_eq!(located["properties"]["location"], "eu-west-1", "{located}");
        assert_eq!(located["properties"]["hasLocation"], true, "{located}");
        let plain = w.port.entity("plainBucket", &arn).unwrap();
        assert_eq!(plain["properties"]["hasLocation"], false, "{plain}");
        // Everything else is the same item.
        assert_eq!(plain["properties"]["tags"], located["properties"]["tags"]);
    }
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("NoSuchAction"))
        .unwrap_or_else(|| panic!("no warning about NoSuchAction in:\n{}", run.stderr));
    for needle in [
        "AWS::S3::Bucket",
        "resource_index",
        "GetBucketLocationAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// `GetBucketLocationAction` on us-east-1 buckets: S3 answers an empty constraint, which
/// botocore reads as `None` and aws-v3 writes as `LocationConstraint: null` (present).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_location_of_a_us_east_1_bucket_is_null_as_in_aws_v3() {
    let (items, _, _) =
        list_with("AWS::S3::Bucket", "us-east-1", &["GetBucketLocationAction"]).await;
    assert_eq!(items.len(), 2, "{items:#?}");
    for item in &items {
        let props = item["Properties"].as_object().unwrap();
        assert_eq!(
            props.get("LocationConstraint"),
            Some(&Value::Null),
            "{item:#}"
        );
        // aws-v3's model order: the location comes before the tags.
        let keys: Vec<&str> = props.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "BucketName",
                "Arn",
                "CreationDate",
                "LocationConstraint",
                "Tags"
            ]
        );
    }
}

/// A world with no seeded resources but one EBS volume, created in moto in the management
/// account (moto's account for the static test keys), eu-west-1, tagged `Name=zinc`; and a
/// mapping of `AWS::EC2::Volume` (listed in eu-west-1) with `include` as its
/// `includeActions`. Returns the world and the volume id.
async fn world_with_a_volume(include: Value) -> (World, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification, VolumeType};
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    let created = aws_sdk_ec2::Client::new(&config)
        .create_volume()
        .availability_zone("eu-west-1a")
        .size(10)
        .volume_type(VolumeType::Gp3)
        .iops(3000)
        .throughput(125)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Volume)
                .tags(Tag::builder().key("Name").value("zinc").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "ebsVolume",
        "title": "EBS volume",
        "schema": {"properties": {
            "size": {"type": "number"},
            "state": {"type": "string"},
            "autoEnableIo": {"type": "boolean"},
        }},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::EC2::Volume",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
            "includeActions": include,
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.VolumeId",
            "title": ".Properties.Tags[0].Value",
            "blueprint": "\"ebsVolume\"",
            "properties": {
                "size": ".Properties.Size",
                "state": ".Properties.State",
                "autoEnableIo": ".Properties.AutoEnableIO",
            },
        }}},
    }]}));
    (w, created.volume_id().unwrap().to_string())
}

/// `AWS::EC2::Volume` through the real binary: the raw item (as sent to Port as the kind's
/// example) has aws-v3's shape, and the mapping makes the entity of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_volumes_have_the_aws_v3_shape() {
    let (w, id) = world_with_a_volume(json!([])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::EC2::Volume");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(item["Type"], "AWS::EC2::Volume");
    assert_kind_shape(item);
    let props = &item["Properties"];
    assert_eq!(props["VolumeId"], json!(id));
    assert_eq!(props["VolumeType"], "gp3");
    assert_eq!(props["Size"], 10);
    assert_eq!(props["Iops"], 3000);
    assert_eq!(props["Throughput"], 125);
    assert_eq!(props["AvailabilityZone"], "eu-west-1a");
    assert_eq!(props["State"], "available");
    assert_eq!(props["Encrypted"], false);
    assert_eq!(props["Attachments"], json!([]));
    assert_eq!(props["Tags"], json!([{"Key": "Name", "Value": "zinc"}]));
    assert!(
        props["CreateTime"].as_str().unwrap().ends_with('Z'),
        "{props}"
    );
    // The optional action was not asked for: no call, no key.
    assert!(props.get("AutoEnableIO").is_none(), "{props}");
    assert_eq!(w.proxy.hits("DescribeVolumeAttribute"), 0);
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );

    let e = w.port.entity("ebsVolume", &id).unwrap();
    assert_eq!(e["title"], "zinc");
    assert_eq!(e["properties"]["size"], 10);
    assert_eq!(e["properties"]["state"], "available");
}

/// `DescribeVolumeAttributeAction` adds `AutoEnableIO`, one call per volume. moto does not
/// implement `DescribeVolumeAttribute`, so the proxy answers it the way EC2 does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_volume_attribute_action_adds_auto_enable_io() {
    let (w, id) = world_with_a_volume(json!(["DescribeVolumeAttributeAction"])).await;
    w.proxy.add_rule(Rule {
        action: "DescribeVolumeAttribute".into(),
        body: Some(format!(
            r#"<DescribeVolumeAttributeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>5e0f3f0c-0000-4000-8000-000000000000</requestId><volumeId>{id}</volumeId><autoEnableIO><value>true</value></autoEnableIO></DescribeVolumeAttributeResponse>"#
        )),
        times: 10,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("DescribeVolumeAttribute"), 1);
    let examples = w.port.examples(IDENTIFIER, "AWS::EC2::Volume");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    assert_eq!(examples[0]["Properties"]["AutoEnableIO"], true);
    let e = w.port.entity("ebsVolume", &id).unwrap();
    assert_eq!(e["properties"]["autoEnableIo"], true);
}

/// An empty world (one member, nothing seeded) where the test creates ECS resources itself
/// in moto's management account (the static test keys' account), eu-west-1: a cluster
/// `zinc`, task definition `zinc-web` registered twice (revision 1 then deregistered, so
/// only revision 2 is ACTIVE), and a service `web` of revision 2 tagged `team=platform`.
/// `resources` is the mapping. Returns the world, the cluster ARN, the service ARN and the
/// ARN of the active task definition.
async fn world_with_an_ecs_service(resources: Value) -> (World, String, String, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    use aws_sdk_ecs::types::{ContainerDefinition, LaunchType, PortMapping, Tag};
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let cluster = ecs
        .create_cluster()
        .cluster_name("zinc")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap()
        .cluster_arn
        .unwrap();
    let mut revisions = Vec::new();
    for _ in 0..2 {
        let registered = ecs
            .register_task_definition()
            .family("zinc-web")
            .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
            .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
            .cpu("256")
            .memory("512")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("web")
                    .image("nginx:1.27")
                    .essential(true)
                    .port_mappings(PortMapping::builder().container_port(80).build())
                    .build(),
            )
            .tags(Tag::builder().key("team").value("platform").build())
            .send()
            .await
            .unwrap();
        revisions.push(
            registered
                .task_definition
                .unwrap()
                .task_definition_arn
                .unwrap(),
        );
    }
    ecs.deregister_task_definition()
        .task_definition(&revisions[0])
        .send()
        .await
        .unwrap();
    let service = ecs
        .create_service()
        .cluster(&cluster)
        .service_name("web")
        .task_definition(&revisions[1])
        .desired_count(1)
        .launch_type(LaunchType::Fargate)
        .tags(Tag::builder().key("team").value("platform").build())
        .send()
        .await
        .unwrap()
        .service
        .unwrap()
        .service_arn
        .unwrap();
    for bp in ["ecsService", "ecsTaskDefinition"] {
        w.port.put_blueprint(json!({
            "identifier": bp,
            "title": bp,
            "schema": {"properties": {"status": {"type": "string"}}},
        }));
    }
    w.seed_integration(json!({ "resources": resources }));
    (w, cluster, service, revisions[1].clone())
}

/// A mapping resource of `kind` listed in eu-west-1, making `blueprint` entities
/// identified by `.Properties.<id>`.
fn ecs_resource(kind: &str, blueprint: &str, id: &str) -> Value {
    json!({
        "kind": kind,
        "selector": {"query": "true", "regionPolicy": {"allow": ["eu-west-1"]}},
        "port": {"entity": {"mappings": {
            "identifier": format!(".Properties.{id}"),
            "title": format!(".Properties.{id}"),
            "blueprint": format!("\"{blueprint}\""),
            "properties": {"status": ".Properties.Status"},
        }}},
    })
}

/// Every `Properties` key of `item` is one aws-v3's model declares (its `ignore` policy:
/// the example has every declared key) and none is null.
fn assert_only_declared_keys(item: &Value) {
    let kind = kinds::find(item["Type"].as_str().unwrap()).unwrap();
    let example = example(kind.fixture.example);
    let declared = keys(&example["Properties"]);
    let props = &item["Properties"];
    for k in keys(props) {
        assert!(
            declared.contains(&k),
            "{k} is not declared by aws-v3: {props:#}"
        );
        assert!(!props[&k].is_null(), "{k} is null");
    }
}

/// `AWS::ECS::Service` through the real binary: the raw item sent to Port has aws-v3's
/// shape key for key — declared keys only, PascalCase, nested ECS camelCase, RFC 3339
/// timestamps, `__ExtraContext` with `ClusterArn` — and the entity is made of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_services_have_the_aws_v3_shape() {
    let (w, cluster, service, task) = world_with_an_ecs_service(json!([ecs_resource(
        "AWS::ECS::Service",
        "ecsService",
        "ServiceArn"
    )]))
    .await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::ECS::Service");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(keys(item), keys(&example("ecs-service")), "{item:#}");
    assert_kind_shape(item);
    assert_only_declared_keys(item);
    let props = &item["Properties"];
    assert_eq!(props["ServiceArn"], json!(service));
    assert_eq!(props["ServiceName"], "web");
    assert_eq!(props["ClusterArn"], json!(cluster));
    assert_eq!(props["TaskDefinition"], json!(task));
    assert_eq!(props["DesiredCount"], 1);
    assert_eq!(props["LaunchType"], "FARGATE");
    assert_eq!(props["Status"], "ACTIVE");
    assert_eq!(props["Tags"], json!([{"key": "team", "value": "platform"}]));
    // moto 5.2.5 returns no `createdAt` for a service: absent, not null (the epoch
    // seconds AWS sends are covered by `ecs_service_epoch_timestamps_are_rfc3339`).
    assert!(props.get("CreatedAt").is_none(), "{props}");
    assert_eq!(props["Deployments"][0]["status"], "PRIMARY");
    assert!(
        props["Deployments"][0]["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{props}"
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1", "ClusterArn": cluster})
    );
    // One DescribeServices call for the cluster's one page of services, with tags.
    assert_eq!(w.proxy.hits("DescribeServices"), 1);

    let e = w.port.entity("ecsService", &service).unwrap();
    assert_eq!(e["properties"]["status"], "ACTIVE");
}

/// `AWS::ECS::TaskDefinition` through the real binary: only the ACTIVE revision (revision
/// 1 was deregistered), described with its tags, in aws-v3's shape key for key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_task_definitions_have_the_aws_v3_shape() {
    let (w, _, _, task) = world_with_an_ecs_service(json!([ecs_resource(
        "AWS::ECS::TaskDefinition",
        "ecsTaskDefinition",
        "TaskDefinitionArn"
    )]))
    .await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::ECS::TaskDefinition");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(
        keys(item),
        keys(&example("ecs-task-definition")),
        "{item:#}"
    );
    assert_kind_shape(item);
    assert_only_declared_keys(item);
    let props = &item["Properties"];
    assert_eq!(props["TaskDefinitionArn"], json!(task));
    assert_eq!(props["Family"], "zinc-web");
    assert_eq!(props["Revision"], 2);
    assert_eq!(props["Status"], "ACTIVE");
    assert_eq!(props["Cpu"], "256");
    assert_eq!(props["Memory"], "512");
    assert_eq!(props["NetworkMode"], "awsvpc");
    assert_eq!(props["RequiresCompatibilities"], json!(["FARGATE"]));
    assert_eq!(props["Tags"], json!([{"key": "team", "value": "platform"}]));
    let container = &props["ContainerDefinitions"][0];
    assert_eq!(container["name"], "web");
    assert_eq!(container["image"], "nginx:1.27");
    assert_eq!(container["portMappings"][0]["containerPort"], 80);
    // moto 5.2.5 returns no `registeredAt`: absent, not null.
    assert!(props.get("RegisteredAt").is_none(), "{props}");
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("DescribeTaskDefinition"), 1);
    assert!(w.port.entity("ecsTaskDefinition", &task).is_some());
}

/// A failed `ListServices` fails the unit: the run ends partial (exit 3) and the service
/// entity a previous run made is not deleted as if the service were gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_service_a_failed_list_services_fails_the_unit() {
    let (w, _, service, _) = world_with_an_ecs_service(json!([ecs_resource(
        "AWS::ECS::Service",
        "ecsService",
        "ServiceArn"
    )]))
    .await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "ecs:ListServices",
            code: "ServerException",
            not_called: Some("DescribeServices"),
            kept: ("ecsService", &service),
        },
    )
    .await;
}

/// A failed `DescribeServices` does not fail the unit (aws-v3 logs it and goes on): the
/// service is sent with its `ServiceArn` only, and the warning names the account, region
/// and kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_service_a_failed_describe_services_sends_the_service_arn_only() {
    let (w, cluster, service, _) = world_with_an_ecs_service(json!([ecs_resource(
        "AWS::ECS::Service",
        "ecsService",
        "ServiceArn"
    )]))
    .await;
    w.proxy.add_rule(Rule {
        action: "DescribeServices".into(),
        status: 400,
        code: "AccessDeniedException".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::ECS::Service");
    assert_eq!(
        examples,
        vec![json!({
            "Type": "AWS::ECS::Service",
            "Properties": {"ServiceArn": service},
            "__ExtraContext": {"AccountId": MANAGEMENT, "Region": "eu-west-1", "ClusterArn": cluster},
        })]
    );
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("could not describe the services"))
        .expect("the failure is logged");
    for part in [MANAGEMENT, "eu-west-1", "AWS::ECS::Service", "AccessDenied"] {
        assert!(line.contains(part), "{part} in {line}");
    }
}

/// What AWS sends that moto does not: timestamps as epoch seconds (top-level and nested)
/// become RFC 3339 as aws-v3 writes them, and keys aws-v3's models do not declare
/// (`currentServiceDeployment`, `compatibilities`, `registeredBy`, …) are dropped. The
/// proxy answers `DescribeServices` and `DescribeTaskDefinition` with canned ECS bodies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_epoch_timestamps_are_rfc3339_and_undeclared_keys_are_dropped() {
    let (w, cluster, service, task) = world_with_an_ecs_service(json!([
        ecs_resource("AWS::ECS::Service", "ecsService", "ServiceArn"),
        ecs_resource(
            "AWS::ECS::TaskDefinition",
            "ecsTaskDefinition",
            "TaskDefinitionArn"
        ),
    ]))
    .await;
    w.proxy.add_rule(Rule {
        action: "DescribeServices".into(),
        body: Some(
            json!({"services": [{
                "serviceArn": service, "serviceName": "web", "clusterArn": cluster,
                "status": "ACTIVE", "desiredCount": 1, "runningCount": 1, "pendingCount": 0,
                "createdAt": 1703123456.789, "createdBy": "arn:aws:iam::123456789012:role/admin",
                "currentServiceDeployment": "arn:aws:ecs:eu-west-1:123456789012:service-deployment/zinc/web/x",
                "resourceManagementType": "CUSTOMER",
                "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "createdAt": 1703123456, "updatedAt": 1703123457.5}],
                "events": [{"id": "e1", "message": "steady", "createdAt": 1703123458.25}],
                "tags": [],
            }], "failures": []})
            .to_string(),
        ),
        times: 10,
        ..Default::default()
    });
    w.proxy.add_rule(Rule {
        action: "DescribeTaskDefinition".into(),
        body: Some(
            json!({"taskDefinition": {
                "taskDefinitionArn": task, "family": "zinc-web", "revision": 2, "status": "ACTIVE",
                "containerDefinitions": [], "compatibilities": ["EC2", "FARGATE"],
                "registeredAt": 1703123456.789, "registeredBy": "arn:aws:iam::123456789012:role/admin",
            }})
            .to_string(),
        ),
        times: 10,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let services = w.port.examples(IDENTIFIER, "AWS::ECS::Service");
    assert_eq!(services.len(), 1, "{services:#?}");
    assert_eq!(
        services[0]["Properties"],
        json!({
            "ClusterArn": cluster,
            "CreatedAt": "2023-12-21T01:50:56.789000Z",
            "CreatedBy": "arn:aws:iam::123456789012:role/admin",
            "Deployments": [{"id": "ecs-svc/1", "status": "PRIMARY",
                "createdAt": "2023-12-21T01:50:56Z", "updatedAt": "2023-12-21T01:50:57.500000Z"}],
            "DesiredCount": 1,
            "Events": [{"id": "e1", "message": "steady", "createdAt": "2023-12-21T01:50:58.250000Z"}],
            "PendingCount": 0,
            "RunningCount": 1,
            "ServiceArn": service,
            "ServiceName": "web",
            "Status": "ACTIVE",
            "Tags": [],
        })
    );
    assert_only_declared_keys(&services[0]);

    let definitions = w.port.examples(IDENTIFIER, "AWS::ECS::TaskDefinition");
    assert_eq!(definitions.len(), 1, "{definitions:#?}");
    // No `tags` in the response: `Tags` is `[]`, as aws-v3 sets it.
    assert_eq!(
        definitions[0]["Properties"],
        json!({
            "TaskDefinitionArn": task,
            "Family": "zinc-web",
            "Revision": 2,
            "Status": "ACTIVE",
            "ContainerDefinitions": [],
            "Tags": [],
            "RegisteredAt": "2023-12-21T01:50:56.789000Z",
        })
    );
    assert_only_declared_keys(&definitions[0]);
}

/// The user examples of the ECS kinds, `resources/kinds/<example>.yml` with the blueprint
/// `resources/kinds/<example>.blueprint.json` beside the default ones, pass `validate`
/// (kinds, JQ, blueprint properties and relations).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_kind_user_examples_pass_validate() {
    for example in ["ecs-service", "ecs-task-definition"] {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/resources");
        let port = support::port_fake::PortFake::start().await;
        let config: Value = serde_yaml::from_str(
            &std::fs::read_to_string(format!("{dir}/kinds/{example}.yml")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            config["resources"].as_array().unwrap().len(),
            1,
            "{example}"
        );
        port.put_integration(
            json!({"identifier": IDENTIFIER, "installationAppType": "aws-v3", "config": config}),
        );
        let blueprints: Vec<Value> =
            serde_json::from_str(include_str!("../resources/blueprints.json")).unwrap();
        for bp in blueprints {
            port.put_blueprint(bp);
        }
        port.put_blueprint(
            serde_json::from_str(
                &std::fs::read_to_string(format!("{dir}/kinds/{example}.blueprint.json")).unwrap(),
            )
            .unwrap(),
        );
        let mut env = Vec::new();
        support::set(
            &mut env,
            "OCEAN__PORT__CLIENT_ID",
            support::port_fake::PortFake::CLIENT_ID,
        );
        support::set(
            &mut env,
            "OCEAN__PORT__CLIENT_SECRET",
            support::port_fake::PortFake::CLIENT_SECRET,
        );
        support::set(&mut env, "OCEAN__PORT__BASE_URL", &port.url());
        support::set(&mut env, "OCEAN__INTEGRATION__IDENTIFIER", IDENTIFIER);
        let run = run_binary(&["validate"], &env).await;
        assert_eq!(run.code, 0, "{example}: {}{}", run.stdout, run.stderr);
    }
}

/// The blueprint and resource of `AWS::Organizations::Account` tests: the listed item's
/// fields, read as they are.
fn organizations_world_mapping(w: &World, include: Value) {
    w.port.put_blueprint(json!({
        "identifier": "organizationsAccount",
        "title": "Organizations Account",
        "schema": {"properties": {
            "item": {"type": "object"},
            "status": {"type": "string"},
        }},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::Organizations::Account",
        "selector": {"query": "true", "includeActions": include},
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.Id",
            "title": ".Properties.Name",
            "blueprint": "\"organizationsAccount\"",
            "properties": {"item": ".", "status": ".Properties.Status"},
        }}},
    }]}));
}

async fn organizations_client(w: &World) -> aws_sdk_organizations::Client {
    let config = moto_config(&w.moto.url(), "us-east-1").await;
    aws_sdk_organizations::Client::new(&config)
}

/// `AWS::Organizations::Account` lists the organization once per run (not once per
/// account), from the management account, in every state (a closed account is listed,
/// unlike account discovery's ACTIVE filter), with aws-v3's keys and no `__ExtraContext`;
/// `ListParentsAction` and `ListTagsForResourceAction` add `Parents` and `Tags`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_accounts_are_listed_once_in_every_state_with_parents_and_tags() {
    let w = World::start(&[
        "--members",
        "2",
        "--regions",
        "eu-west-1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
    ])
    .await;
    let org = organizations_client(&w).await;
    let members = w.members();
    let closed = members[0]["id"].as_str().unwrap().to_string();
    let tagged = members[1]["id"].as_str().unwrap().to_string();
    org.close_account()
        .account_id(&closed)
        .send()
        .await
        .unwrap();
    org.tag_resource()
        .resource_id(&tagged)
        .tags(
            aws_sdk_organizations::types::Tag::builder()
                .key("team")
                .value("platform")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // The seed puts members in OUs: what moto answers for each account is the expectation.
    let mut parents = std::collections::BTreeMap::new();
    for id in w.account_ids() {
        let out = org.list_parents().child_id(&id).send().await.unwrap();
        let list: Vec<Value> = out
            .parents()
            .iter()
            .map(|p| json!({"Id": p.id(), "Type": p.r#type().unwrap().as_str()}))
            .collect();
        assert!(!list.is_empty());
        parents.insert(id, Value::Array(list));
    }
    w.proxy.reset_hits();
    organizations_world_mapping(
        &w,
        json!(["ListParentsAction", "ListTagsForResourceAction"]),
    );
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let operations = w.proxy.operations();
    let calls = |op: &str| operations.get(op).copied().unwrap_or(0);
    // One for account discovery, one for the kind: not one per account.
    assert_eq!(calls("organizations:ListAccounts"), 2, "{operations:?}");
    let ids = w.account_ids();
    assert_eq!(
        calls("organizations:ListParents"),
        ids.len(),
        "{operations:?}"
    );
    for id in &ids {
        let e = w
            .port
            .entity("organizationsAccount", id)
            .unwrap_or_else(|| panic!("no entity for {id}: {}", run.stderr));
        let item = &e["properties"]["item"];
        assert_kind_shape(item);
        assert_eq!(item["Type"], "AWS::Organizations::Account");
        assert!(item.get("__ExtraContext").is_none(), "{item}");
        assert_eq!(item["Properties"]["Id"], id.as_str());
        assert_eq!(item["Properties"]["Parents"], parents[id], "{item}");
        let status = if *id == closed { "SUSPENDED" } else { "ACTIVE" };
        assert_eq!(item["Properties"]["Status"], status, "{item}");
        assert_eq!(item["Properties"]["State"], status, "{item}");
        let tags = if *id == tagged {
            json!([{"Key": "team", "Value": "platform"}])
        } else {
            json!([])
        };
        assert_eq!(item["Properties"]["Tags"], tags, "{item}");
    }
    assert_eq!(w.port.entities().len(), ids.len(), "{:?}", w.catalog_keys());
}

/// aws-v3 tries each account's session until one lists the organization. When the
/// management account's `ListAccounts` fails, the next account's listing is used (here a
/// canned one); an account that lists no account at all (moto's member accounts) is not
/// taken as an empty organization. When every account fails, the unit fails: the run is
/// partial, and the account entities of the previous run are not deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_accounts_come_from_the_next_account_and_never_from_an_empty_answer() {
    let w = World::start(&[
        "--members",
        "2",
        "--regions",
        "eu-west-1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
    ])
    .await;
    organizations_world_mapping(&w, json!([]));
    let denied = |skip: usize, times: usize| Rule {
        action: "ListAccounts".into(),
        status: 400,
        code: "AccessDeniedException".into(),
        times,
        skip,
        ..Rule::default()
    };
    // Discovery's ListAccounts passes; the kind's first attempt (the management account,
    // accountRoleArn's) is denied; the next account answers a canned organization.
    w.proxy.add_rule(denied(1, 1));
    w.proxy.add_rule(Rule {
        action: "ListAccounts".into(),
        status: 200,
        times: 1,
        body: Some(
            json!({"Accounts": [{
                "Id": "210987654321",
                "Arn": "arn:aws:organizations::123456789012:account/o-x/210987654321",
                "Email": "canned@example.com",
                "Name": "canned",
                "Status": "PENDING_CLOSURE",
                "State": "PENDING_CLOSURE",
                "JoinedMethod": "INVITED",
                "JoinedTimestamp": 1.7e9,
            }]})
            .to_string(),
        ),
        ..Rule::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let canned = w
        .port
        .entity("organizationsAccount", "210987654321")
        .unwrap_or_else(|| panic!("{:?}\n{}", w.catalog_keys(), run.stderr));
    assert_eq!(canned["properties"]["status"], "PENDING_CLOSURE");
    assert_eq!(
        canned["properties"]["item"]["Properties"]["JoinedTimestamp"],
        "2023-11-14T22:13:20Z"
    );
    assert!(run.stderr.contains("trying the next one"), "{}", run.stderr);

    // A clean run lists the real organization (and deletes the canned account).
    w.proxy.clear_rules();
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = w.catalog_keys();
    assert_eq!(before.len(), w.account_ids().len(), "{before:?}");

    // The management account denied, the members answering an empty list (as moto's do):
    // no account listed the organization, so partial and nothing deleted.
    w.proxy.add_rule(denied(1, 1));
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    for needle in [
        "no account could list the organization",
        "listed no account",
    ] {
        assert!(run.stderr.contains(needle), "{needle} in {}", run.stderr);
    }
    assert_eq!(w.catalog_keys(), before);

    // Every attempt denied: the same.
    w.proxy.clear_rules();
    w.proxy.add_rule(denied(1, 100));
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(w.catalog_keys(), before);
}

/// A world whose management account (moto's account for the static test keys) has two
/// buckets of its own in us-east-1: `h5-configured`, with a public access block, ownership
/// controls and default encryption set, and `h5-plain`, with none of them; and a mapping of
/// `AWS::S3::Bucket` running aws-v3's three configuration actions, each item kept whole.
async fn world_with_configured_buckets() -> World {
    use aws_sdk_s3::types::{
        ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let w = World::start(&[
        "--members",
        "1",
        "--regions",
        "eu-west-1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
    ])
    .await;
    let config = moto_config(&w.moto.url(), "us-east-1").await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    for name in ["h5-configured", "h5-plain"] {
        s3.create_bucket().bucket(name).send().await.unwrap();
    }
    s3.put_public_access_block()
        .bucket("h5-configured")
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(false)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_ownership_controls()
        .bucket("h5-configured")
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_encryption()
        .bucket("h5-configured")
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .kms_master_key_id("alias/h5")
                                .build()
                                .unwrap(),
                        )
                        .bucket_key_enabled(true)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "bucketItem",
        "title": "bucket item",
        "schema": {"properties": {"item": {"type": "object"}}},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::S3::Bucket",
        "selector": {"query": ".Properties.BucketName | startswith(\"h5-\")", "includeActions": [
            "GetPublicAccessBlockAction",
            "GetBucketOwnershipControlsAction",
            "GetBucketEncryptionAction",
        ]},
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.BucketName",
            "blueprint": "\"bucketItem\"",
            "properties": {"item": "."},
        }}},
    }]}));
    w
}

fn bucket_properties(w: &World, name: &str) -> Value {
    w.port
        .entity("bucketItem", name)
        .unwrap_or_else(|| panic!("no entity for {name}: {:?}", w.catalog_keys()))["properties"]
        ["item"]["Properties"]
        .clone()
}

/// aws-v3's S3 configuration actions: `PublicAccessBlockConfiguration`,
/// `OwnershipControls` and `BucketEncryption` (the `ServerSideEncryptionConfiguration`) as
/// S3 answers them, after `Tags` in aws-v3's model order; a bucket without such a
/// configuration has the key absent (aws-v3 catches S3's "not found" like any error), not
/// `null`, and that is no enrichment failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_configuration_actions_add_aws_v3_keys() {
    let w = world_with_configured_buckets().await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let configured = bucket_properties(&w, "h5-configured");
    assert_eq!(
        configured["PublicAccessBlockConfiguration"],
        json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": false, "RestrictPublicBuckets": true}),
        "{configured:#}"
    );
    assert_eq!(
        configured["OwnershipControls"],
        json!({"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}),
        "{configured:#}"
    );
    assert_eq!(
        configured["BucketEncryption"],
        json!({"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/h5"},
            "BucketKeyEnabled": true,
        }]}),
        "{configured:#}"
    );
    let keys: Vec<&str> = configured
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "BucketName",
            "Arn",
            "CreationDate",
            "Tags",
            "BucketEncryption",
            "PublicAccessBlockConfiguration",
            "OwnershipControls"
        ]
    );
    let plain = bucket_properties(&w, "h5-plain");
    for key in ["PublicAccessBlockConfiguration", "OwnershipControls"] {
        assert!(plain.get(key).is_none(), "{key} in {plain:#}");
    }
    assert!(
        !run.stderr.contains("enrichment call failed"),
        "{}",
        run.stderr
    );
}

/// A failed enrichment call (here `GetBucketEncryption`, denied) leaves its key out and
/// keeps the item, as aws-v3 does; it is logged with the account, region, kind and action,
/// and counted in `/metrics` as `aws_enrichment_failures_total{kind,action}`. The run is
/// complete: enrichment never fails a unit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_enrichment_call_leaves_its_key_out_keeps_the_item_and_is_counted() {
    let w = world_with_configured_buckets().await;
    w.proxy.add_rule(Rule {
        action: "GETBucketencryption".into(),
        status: 403,
        code: "AccessDenied".into(),
        times: 1000,
        ..Rule::default()
    });
    let mut env = w.env();
    support::set(
        &mut env,
        "OCEAN__EVENT_LISTENER",
        r#"{"type":"WEBHOOK","appHost":"http://localhost"}"#,
    );
    let port = support::free_port();
    support::set(&mut env, "APPLICATION__PORT", &port.to_string());
    support::set(&mut env, "APPLICATION__LOG_LEVEL", "WARNING");
    let (mut child, _dir) = support::spawn(&[], &env);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let ready = |path: &'static str| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            http.get(format!("{url}{path}"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }
    };
    while !ready("/health/ready").await {
        assert!(std::time::Instant::now() < deadline, "never ready");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let posted = http.post(format!("{url}/resync")).send().await.unwrap();
    assert_eq!(posted.status(), 202);
    while !w
        .port
        .resync_states(IDENTIFIER)
        .iter()
        .any(|s| s == "completed" || s == "failed")
    {
        assert!(std::time::Instant::now() < deadline, "the run never ended");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    support::kill(&child, "TERM");
    let _ = child.wait().await;
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = pipe.read_to_string(&mut stderr).await;
    }
    assert!(
        w.port
            .resync_states(IDENTIFIER)
            .iter()
            .any(|s| s == "completed"),
        "{stderr}"
    );

    let configured = bucket_properties(&w, "h5-configured");
    assert!(
        configured.get("BucketEncryption").is_none(),
        "{configured:#}"
    );
    // The bucket's other actions still ran.
    assert_eq!(
        configured["OwnershipControls"],
        json!({"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    );
    let failed = w.proxy.hits("GETBucketencryption");
    assert!(failed >= 2, "both buckets' calls denied: {failed}");
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("aws_catalog_sync_aws_enrichment_failures_total{")
                && l.contains("action=\"GetBucketEncryptionAction\"")
        })
        .unwrap_or_else(|| panic!("no enrichment failure counter in:\n{metrics}"));
    assert!(line.contains("kind=\"AWS::S3::Bucket\""), "{line}");
    let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    // One per bucket of the run whose call failed (every bucket of every account).
    assert_eq!(
        count as usize,
        w.manifest["buckets"].as_array().unwrap().len() + 2,
        "{line}"
    );
    let warning = stderr
        .lines()
        .find(|l| l.contains("enrichment call failed") && l.contains("h5-configured"))
        .unwrap_or_else(|| panic!("no warning in:\n{stderr}"));
    for needle in [
        MANAGEMENT,
        "us-east-1",
        "AWS::S3::Bucket",
        "GetBucketEncryptionAction",
        "s3:GetBucketEncryption failed",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// `DescribeInstanceStatusAction` merges each instance's status object into `Properties`
/// as aws-v3 does (`InstanceStatus`, `SystemStatus`, `InstanceState`, `AvailabilityZone`,
/// … — the kind passes every key). aws-v3 asks instance by instance; here one call per
/// page asks for all the page's instances, whose answer per instance is the same, so each
/// instance's keys are what its own call answers. When the batch call fails, each instance
/// is asked on its own; an instance whose call fails too keeps its item without status
/// keys, and the failure is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_instance_status_action_adds_the_status_keys_in_one_call_per_page() {
    let w = World::start(&[
        "--members",
        "1",
        "--regions",
        "eu-west-1",
        "--instances-per-region",
        "3",
        "--clusters-per-region",
        "0",
    ])
    .await;
    w.port.put_blueprint(json!({
        "identifier": "instanceItem",
        "title": "instance item",
        "schema": {"properties": {"item": {"type": "object"}}},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::EC2::Instance",
        "selector": {"query": "true", "includeActions": ["DescribeInstanceStatusAction"],
            "regionPolicy": {"allow": ["eu-west-1"]}},
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.InstanceId",
            "blueprint": "\"instanceItem\"",
            "properties": {"item": "."},
        }}},
    }]}));
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let instances = w.manifest["instances"].as_array().unwrap();
    assert!(instances.len() >= 3);
    let operations = w.proxy.operations();
    // One call per (account, region) page, not one per instance.
    assert_eq!(
        operations.get("ec2:DescribeInstanceStatus").copied(),
        operations.get("ec2:DescribeInstances").copied(),
        "{operations:?}"
    );
    for i in instances {
        let id = i["id"].as_str().unwrap();
        let e = w.port.entity("instanceItem", id).unwrap();
        let props = &e["properties"]["item"]["Properties"];
        assert_eq!(props["InstanceId"], id);
        assert_eq!(props["InstanceState"], props["State"], "{props:#}");
        assert_eq!(
            props["AvailabilityZone"], props["Placement"]["AvailabilityZone"],
            "{props:#}"
        );
        for key in ["InstanceStatus", "SystemStatus"] {
            assert!(props[key]["Status"].is_string(), "{key} in {props:#}");
            assert!(props[key]["Details"].is_array(), "{key} in {props:#}");
        }
    }

    // The batch call fails, and so does the single call of the first instance: the others
    // get their statuses from their own calls; the first keeps its item without them.
    w.proxy.reset_hits();
    w.proxy.add_rule(Rule {
        action: "DescribeInstanceStatus".into(),
        status: 400,
        code: "InvalidInstanceID.NotFound".into(),
        times: 2 * w.account_ids().len(),
        ..Rule::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut without = 0;
    for i in instances {
        let id = i["id"].as_str().unwrap();
        let e = w.port.entity("instanceItem", id).unwrap();
        let props = &e["properties"]["item"]["Properties"];
        if props.get("InstanceStatus").is_none() {
            without += 1;
            assert!(props.get("SystemStatus").is_none(), "{props:#}");
            assert_eq!(props["InstanceId"], id);
        }
    }
    let failures = run
        .stderr
        .lines()
        .filter(|l| {
            l.contains("enrichment call failed") && l.contains("DescribeInstanceStatusAction")
        })
        .count();
    assert!(without >= 1, "{}", run.stderr);
    assert_eq!(without, failures, "{}", run.stderr);
    assert!(without < instances.len());
}

/// An empty world (one member) where the test creates an SQS queue `h6-orders` itself in
/// moto's management account, eu-west-1: visibility timeout 45, tagged `team=platform`.
/// The mapping has one `AWS::SQS::Queue` resource with `include` as its `includeActions`.
/// Returns the world and the queue's URL.
async fn world_with_a_queue(include: Value) -> (World, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    let created = aws_sdk_sqs::Client::new(&config)
        .create_queue()
        .queue_name("h6-orders")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "45",
        )
        .tags("team", "platform")
        .send()
        .await
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "sqsQueue",
        "title": "SQS queue",
        "schema": {"properties": {
            "visibilityTimeout": {"type": "number"},
            "team": {"type": "string"},
        }},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::SQS::Queue",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
            "includeActions": include,
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.QueueArn",
            "title": ".Properties.QueueUrl",
            "blueprint": "\"sqsQueue\"",
            "properties": {
                "visibilityTimeout": ".Properties.VisibilityTimeout",
                "team": ".Properties.Tags.team",
            },
        }}},
    }]}));
    (w, created.queue_url().unwrap().to_string())
}

/// Enrichment calls are bounded per (account, service) across regions, not per region: 48
/// queues of one account in 4 regions, each `GetQueueAttributes` answered slowly, never have
/// more than `ENRICH_CONCURRENCY` calls in flight (a bound per region let 4 × 8 through).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrichment_calls_are_bounded_per_account_and_service_across_regions() {
    let (w, _) = world_with_a_queue(json!([])).await;
    let regions = ["eu-west-1", "eu-west-2", "us-east-1", "us-west-2"];
    for region in regions {
        let sqs = aws_sdk_sqs::Client::new(&moto_config(&w.moto.url(), region).await);
        for i in 0..12 {
            sqs.create_queue()
                .queue_name(format!("bound-{i}"))
                .send()
                .await
                .unwrap();
        }
    }
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::SQS::Queue",
        "selector": {"query": "true", "regionPolicy": {"allow": regions}},
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.QueueArn",
            "blueprint": "\"sqsQueue\"",
        }}},
    }]}));
    w.proxy.add_rule(Rule {
        action: "GetQueueAttributes".into(),
        delay_ms: 300,
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("GetQueueAttributes"), 49);
    let in_flight = w.proxy.max_in_flight("GetQueueAttributes");
    assert!(
        (2..=aws_catalog_sync::aws::kinds::ENRICH_CONCURRENCY).contains(&in_flight),
        "{in_flight} GetQueueAttributes calls in flight at once"
    );
}

/// `AWS::SQS::Queue` through the real binary, with `ListQueueTagsAction`: the raw item has
/// aws-v3's shape — only its declared keys, attribute strings typed as its model types
/// them, epoch-second timestamps as strings, no `QueueName`, `Tags` a map.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_queues_have_the_aws_v3_shape() {
    let (w, url) = world_with_a_queue(json!(["ListQueueTagsAction"])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::SQS::Queue");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(item["Type"], "AWS::SQS::Queue");
    assert_kind_shape(item);
    let props = &item["Properties"];
    let arn = format!("arn:aws:sqs:eu-west-1:{MANAGEMENT}:h6-orders");
    assert_eq!(props["QueueUrl"], json!(url));
    assert_eq!(props["QueueArn"], json!(arn));
    assert_eq!(props["VisibilityTimeout"], 45);
    assert_eq!(props["DelaySeconds"], 0);
    assert!(props["MaximumMessageSize"].is_u64(), "{props}");
    assert_eq!(props["ApproximateNumberOfMessages"], 0);
    // Epoch seconds as SQS sends them, a string (moto's have a fraction).
    assert!(
        props["CreatedTimestamp"]
            .as_str()
            .is_some_and(|t| t.parse::<f64>().is_ok()),
        "{props}"
    );
    assert_eq!(props["Tags"], json!({"team": "platform"}));
    assert!(props.get("QueueName").is_none(), "{props}");
    // aws-v3's model is `forbid`: nothing beyond its declared keys.
    let declared = [
        "QueueUrl",
        "QueueArn",
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
        "CreatedTimestamp",
        "LastModifiedTimestamp",
        "VisibilityTimeout",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds",
        "Policy",
        "RedrivePolicy",
        "RedriveAllowPolicy",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled",
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
        "Tags",
    ];
    for k in keys(props) {
        assert!(
            declared.contains(&k.as_str()),
            "{k} is not declared by aws-v3"
        );
    }
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("ListQueueTags"), 1);

    let e = w.port.entity("sqsQueue", &arn).unwrap();
    assert_eq!(e["properties"]["visibilityTimeout"], 45);
    assert_eq!(e["properties"]["team"], "platform");
}

/// Without `ListQueueTagsAction` no tag call is made and `Tags` is absent; a failed
/// `GetQueueAttributes` keeps the queue with its `QueueUrl` only (aws-v3's
/// `ListQueuesAction` still builds the item) and is counted as an enrichment failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_a_failed_get_queue_attributes_keeps_the_queue_url_only() {
    let (w, url) = world_with_a_queue(json!([])).await;
    w.proxy.add_rule(Rule {
        action: "GetQueueAttributes".into(),
        status: 403,
        code: "AccessDenied".into(),
        times: 1000,
        ..Rule::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::SQS::Queue");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    assert_eq!(examples[0]["Properties"], json!({"QueueUrl": url}));
    assert_eq!(w.proxy.hits("ListQueueTags"), 0);
    assert!(w.proxy.hits("GetQueueAttributes") >= 1);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed") && l.contains("h6-orders"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    assert!(warning.contains("GetQueueAttributesAction"), "{warning}");
}

/// A failed `ListQueues` fails the unit (exit 3, the queue's entity from the last run is
/// kept), never an empty list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_a_failed_list_queues_fails_the_unit() {
    let (w, _) = world_with_a_queue(json!([])).await;
    let arn = format!("arn:aws:sqs:eu-west-1:{MANAGEMENT}:h6-orders");
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "sqs:ListQueues",
            code: "InternalError",
            not_called: Some("GetQueueAttributes"),
            kept: ("sqsQueue", &arn),
        },
    )
    .await;
}

/// An empty world (one member) where the test creates an SNS topic `h6-alerts` itself in
/// moto's management account, eu-west-1, display name `Alerts`, tagged `team=platform`.
/// The mapping has one `AWS::SNS::Topic` resource with `include` as its `includeActions`.
/// Returns the world and the topic's ARN.
async fn world_with_a_topic(include: Value) -> (World, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    let created = aws_sdk_sns::Client::new(&config)
        .create_topic()
        .name("h6-alerts")
        .attributes("DisplayName", "Alerts")
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("team")
                .value("platform")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "snsTopic",
        "title": "SNS topic",
        "schema": {"properties": {
            "displayName": {"type": "string"},
            "subscriptionsPending": {"type": "number"},
            "team": {"type": "string"},
        }},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::SNS::Topic",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
            "includeActions": include,
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.TopicArn",
            "title": ".Properties.DisplayName",
            "blueprint": "\"snsTopic\"",
            "properties": {
                "displayName": ".Properties.DisplayName",
                "subscriptionsPending": ".Properties.SubscriptionsPending",
                "team": "(.Properties.Tags // [])[] | select(.Key == \"team\") | .Value",
            },
        }}},
    }]}));
    (w, created.topic_arn().unwrap().to_string())
}

/// `AWS::SNS::Topic` through the real binary, with `GetTopicTagsAction`: the raw item has
/// aws-v3's shape — declared attributes only, counts as numbers, `Tags` as
/// `[{Key, Value}]`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_topics_have_the_aws_v3_shape() {
    let (w, arn) = world_with_a_topic(json!(["GetTopicTagsAction"])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::SNS::Topic");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(item["Type"], "AWS::SNS::Topic");
    assert_kind_shape(item);
    let props = &item["Properties"];
    assert_eq!(props["TopicArn"], json!(arn));
    assert_eq!(props["Owner"], MANAGEMENT);
    assert_eq!(props["DisplayName"], "Alerts");
    assert_eq!(props["SubscriptionsConfirmed"], 0);
    assert_eq!(props["SubscriptionsPending"], 0);
    assert_eq!(props["Tags"], json!([{"Key": "team", "Value": "platform"}]));
    // The first key is the listing's, as in aws-v3's model order.
    assert_eq!(keys_in_order(props)[0], "TopicArn");
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("ListTagsForResource"), 1);

    let e = w.port.entity("snsTopic", &arn).unwrap();
    assert_eq!(e["title"], "Alerts");
    assert_eq!(e["properties"]["subscriptionsPending"], 0);
    assert_eq!(e["properties"]["team"], "platform");
}

fn keys_in_order(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Without `GetTopicTagsAction` no tag call is made and `Tags` is absent; a failed
/// `GetTopicAttributes` keeps the topic with its `TopicArn` only and is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_a_failed_get_topic_attributes_keeps_the_topic_arn_only() {
    let (w, arn) = world_with_a_topic(json!([])).await;
    w.proxy.add_rule(Rule {
        action: "GetTopicAttributes".into(),
        status: 403,
        code: "AuthorizationError".into(),
        times: 1000,
        ..Rule::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::SNS::Topic");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    assert_eq!(examples[0]["Properties"], json!({"TopicArn": arn}));
    assert_eq!(w.proxy.hits("ListTagsForResource"), 0);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed") && l.contains("h6-alerts"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    assert!(warning.contains("GetTopicAttributesAction"), "{warning}");
}

/// A failed `ListTopics` fails the unit (exit 3, the topic's entity from the last run is
/// kept), never an empty list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_a_failed_list_topics_fails_the_unit() {
    let (w, arn) = world_with_a_topic(json!([])).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "sns:ListTopics",
            code: "InternalError",
            not_called: Some("GetTopicAttributes"),
            kept: ("snsTopic", &arn),
        },
    )
    .await;
}

/// A world with one Lambda function `zinc-fn` in eu-west-1 of the management account (with
/// environment variables and two tags, created through the SDK against moto) and a
/// `lambdaFunction` mapping of `AWS::Lambda::Function` asking for `include`. Returns the
/// world and the function's ARN.
async fn world_with_a_lambda_function(include: Value) -> (World, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    // moto checks that the execution role exists; the tests have no IAM SDK, and moto reads
    // the service from the credential scope, so a plain query-protocol call creates it.
    let created = reqwest::Client::new()
        .post(w.moto.url())
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/iam/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "Action=CreateRole&Version=2010-05-08&RoleName=zinc-fn-role&AssumeRolePolicyDocument={}",
            urlencoding::encode("{}")
        ))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{:?}", created.text().await);
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
    // An empty zip archive (its end-of-central-directory record): moto stores the code
    // without running it.
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend([0u8; 18]);
    let arn = aws_sdk_lambda::Client::new(&config)
        .create_function()
        .function_name("zinc-fn")
        .runtime(Runtime::Python312)
        .role(format!("arn:aws:iam::{MANAGEMENT}:role/zinc-fn-role"))
        .handler("index.handler")
        .description("zinc function")
        .timeout(30)
        .memory_size(256)
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .environment(Environment::builder().variables("STAGE", "prod").build())
        .tags("team", "platform")
        .tags("tier", "web")
        .send()
        .await
        .unwrap()
        .function_arn
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "lambdaFunction",
        "title": "Lambda function",
        "schema": {"properties": {
            "runtime": {"type": "string"},
            "team": {"type": "string"},
        }},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::Lambda::Function",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
            "includeActions": include,
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.FunctionArn",
            "title": ".Properties.FunctionName",
            "blueprint": "\"lambdaFunction\"",
            "properties": {
                "runtime": ".Properties.Runtime",
                "team": ".Properties.Tags.team",
            },
        }}},
    }]}));
    (w, arn)
}

/// `AWS::Lambda::Function` through the real binary, with `ListTagsAction`: the raw item
/// sent to Port is aws-v3's key for key — the declared keys moto returned, in the model's
/// order, the ones moto sends as `null` (`KMSKeyArn`, `SigningJobArn`, `VpcConfig`, …) absent as
/// botocore drops them, `Tags` as a map — and the entity is made of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_functions_have_the_aws_v3_shape_with_list_tags_action() {
    let (w, arn) = world_with_a_lambda_function(json!(["ListTagsAction"])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::Lambda::Function");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_kind_shape(item);
    let props = &item["Properties"];
    let order: Vec<&str> = props
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        order,
        [
            "Architectures",
            "CodeSha256",
            "CodeSize",
            "Description",
            "Environment",
            "EphemeralStorage",
            "FunctionArn",
            "FunctionName",
            "Handler",
            "LastModified",
            "LastUpdateStatus",
            "Layers",
            "MemorySize",
            "PackageType",
            "Role",
            "Runtime",
            "SnapStart",
            "State",
            "Tags",
            "Timeout",
            "TracingConfig",
            "Version",
        ],
        "{props:#}"
    );
    assert_eq!(props["FunctionArn"], json!(arn));
    assert_eq!(props["FunctionName"], "zinc-fn");
    assert_eq!(props["Runtime"], "python3.12");
    assert_eq!(props["Handler"], "index.handler");
    assert_eq!(props["Description"], "zinc function");
    assert_eq!(props["Timeout"], 30);
    assert_eq!(props["MemorySize"], 256);
    assert_eq!(props["Version"], "$LATEST");
    assert_eq!(props["PackageType"], "Zip");
    assert_eq!(
        props["Environment"],
        json!({"Variables": {"STAGE": "prod"}})
    );
    assert_eq!(props["Tags"], json!({"team": "platform", "tier": "web"}));
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("ListTags"), 1);

    let e = w.port.entity("lambdaFunction", &arn).unwrap();
    assert_eq!(e["properties"]["runtime"], "python3.12");
    assert_eq!(e["properties"]["team"], "platform");
}

/// Without `ListTagsAction` no `ListTags` call is made and `Tags` is absent; a failed
/// `ListTags` (denied) keeps the item without `Tags`, the run complete, and is logged as an
/// enrichment failure naming the account, region, kind and action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_tags_are_absent_without_the_action_and_when_list_tags_fails() {
    let (w, arn) = world_with_a_lambda_function(json!([])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::Lambda::Function");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    assert!(
        examples[0]["Properties"].get("Tags").is_none(),
        "{examples:#?}"
    );
    assert_eq!(w.proxy.hits("ListTags"), 0);

    let (w, arn2) = world_with_a_lambda_function(json!(["ListTagsAction"])).await;
    w.proxy.add_rule(Rule {
        action: "ListTags".into(),
        status: 403,
        code: "AccessDeniedException".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::Lambda::Function");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let props = &examples[0]["Properties"];
    assert!(props.get("Tags").is_none(), "{props:#}");
    assert_eq!(props["FunctionArn"], json!(arn2));
    assert!(w.proxy.hits("ListTags") >= 1);
    assert!(w.port.entity("lambdaFunction", &arn2).is_some());
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::Lambda::Function",
        "ListTagsAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
    assert_eq!(arn, arn2);
}

/// A failed `ListFunctions` fails the unit: the run ends partial (exit 3) and the entity a
/// previous run made is kept, not deleted as if the function were gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_a_failed_list_functions_fails_the_unit() {
    let (w, arn) = world_with_a_lambda_function(json!([])).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "lambda:ListFunctions",
            code: "ServiceException",
            not_called: None,
            kept: ("lambdaFunction", &arn),
        },
    )
    .await;
}

/// A world with one DynamoDB table `zinc-orders` in eu-west-1 of the management account
/// (provisioned, hash and range key, two tags, point-in-time recovery on; created through
/// the SDK against moto) and a `dynamodbTable` mapping asking for `include`. Returns the
/// world and the table's ARN.
async fn world_with_a_dynamodb_table(include: Value) -> (World, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, KeySchemaElement, KeyType, PointInTimeRecoverySpecification,
        ProvisionedThroughput, ScalarAttributeType, Tag,
    };
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let key = |name: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(t)
            .build()
            .unwrap()
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let arn = ddb
        .create_table()
        .table_name("zinc-orders")
        .key_schema(key("id", KeyType::Hash))
        .key_schema(key("sortKey", KeyType::Range))
        .attribute_definitions(attr("id"))
        .attribute_definitions(attr("sortKey"))
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(5)
                .build()
                .unwrap(),
        )
        .tags(
            Tag::builder()
                .key("team")
                .value("platform")
                .build()
                .unwrap(),
        )
        .tags(Tag::builder().key("tier").value("data").build().unwrap())
        .send()
        .await
        .unwrap()
        .table_description
        .unwrap()
        .table_arn
        .unwrap();
    ddb.update_continuous_backups()
        .table_name("zinc-orders")
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "dynamodbTable",
        "title": "DynamoDB table",
        "schema": {"properties": {"status": {"type": "string"}}},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::DynamoDB::Table",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
            "includeActions": include,
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.TableArn",
            "title": ".Properties.TableName",
            "blueprint": "\"dynamodbTable\"",
            "properties": {"status": ".Properties.TableStatus"},
        }}},
    }]}));
    (w, arn)
}

/// `AWS::DynamoDB::Table` through the real binary with both optional actions: the raw item
/// is aws-v3's — `{TableName, TableArn}` (the ARN built as aws-v3 builds it) merged with
/// `DescribeTable`'s `Table`, declared keys first in the model's order, `CreationDateTime`
/// and `EarliestRestorableDateTime` as RFC 3339, `Tags` as `[{Key, Value}]`,
/// `ContinuousBackupsDescription` — one call of each per table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_tables_have_the_aws_v3_shape_with_tags_and_backup_status() {
    let (w, arn) =
        world_with_a_dynamodb_table(json!(["GetTableTagsAction", "GetTableBackupStatusAction"]))
            .await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::DynamoDB::Table");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(keys(item), keys(&example("dynamodb-table")), "{item:#}");
    assert_kind_shape(item);
    let props = &item["Properties"];
    assert_eq!(
        arn,
        format!("arn:aws:dynamodb:eu-west-1:{MANAGEMENT}:table/zinc-orders")
    );
    assert_eq!(props["TableArn"], json!(arn));
    assert_eq!(props["TableName"], "zinc-orders");
    assert_eq!(props["TableStatus"], "ACTIVE");
    assert_eq!(props["ItemCount"], 0);
    assert_eq!(
        props["KeySchema"],
        json!([{"AttributeName": "id", "KeyType": "HASH"},
               {"AttributeName": "sortKey", "KeyType": "RANGE"}])
    );
    assert_eq!(props["ProvisionedThroughput"]["ReadCapacityUnits"], 5);
    assert!(
        props["CreationDateTime"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.contains('T')),
        "{props:#}"
    );
    assert_eq!(
        props["Tags"],
        json!([{"Key": "team", "Value": "platform"}, {"Key": "tier", "Value": "data"}])
    );
    let backups = &props["ContinuousBackupsDescription"];
    assert_eq!(backups["ContinuousBackupsStatus"], "ENABLED", "{backups:#}");
    assert_eq!(
        backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
        "ENABLED"
    );
    // Declared keys first in aws-v3's model order, `Tags` and the backups last of them.
    let order: Vec<&str> = props
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(&order[..2], ["TableName", "TableArn"], "{order:?}");
    let tags_at = order.iter().position(|k| *k == "Tags").unwrap();
    assert_eq!(
        order[tags_at + 1],
        "ContinuousBackupsDescription",
        "{order:?}"
    );
    // moto 5.2.5 sends no `TableId`: absent.
    assert!(props.get("TableId").is_none(), "{props:#}");
    for k in [
        "TableStatus",
        "CreationDateTime",
        "KeySchema",
        "WarmThroughput",
    ] {
        assert!(
            order.iter().position(|o| o == &k).unwrap() < tags_at,
            "{k} in {order:?}"
        );
    }
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("DescribeTable"), 1);
    assert_eq!(w.proxy.hits("ListTagsOfResource"), 1);
    assert_eq!(w.proxy.hits("DescribeContinuousBackups"), 1);
    let e = w.port.entity("dynamodbTable", &arn).unwrap();
    assert_eq!(e["properties"]["status"], "ACTIVE");
}

/// Without optional actions only `DescribeTable` is called and neither `Tags` nor
/// `ContinuousBackupsDescription` is set; a failed `DescribeTable` keeps the table as
/// `{TableName, TableArn}` (aws-v3's `ListTablesAction` alone), logged as an enrichment
/// failure, run complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_without_actions_and_with_a_failed_describe_table() {
    let (w, arn) = world_with_a_dynamodb_table(json!([])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::DynamoDB::Table");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let props = &examples[0]["Properties"];
    assert!(props.get("Tags").is_none(), "{props:#}");
    assert!(
        props.get("ContinuousBackupsDescription").is_none(),
        "{props:#}"
    );
    assert_eq!(props["TableStatus"], "ACTIVE");
    assert_eq!(w.proxy.hits("ListTagsOfResource"), 0);
    assert_eq!(w.proxy.hits("DescribeContinuousBackups"), 0);

    let (w, _) = world_with_a_dynamodb_table(json!([])).await;
    w.proxy.add_rule(Rule {
        action: "DescribeTable".into(),
        status: 400,
        code: "AccessDeniedException".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::DynamoDB::Table");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    assert_eq!(
        examples[0]["Properties"],
        json!({"TableName": "zinc-orders", "TableArn": arn})
    );
    assert!(w.port.entity("dynamodbTable", &arn).is_some());
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in ["eu-west-1", "AWS::DynamoDB::Table", "GetTableDetailsAction"] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// A failed `ListTables` fails the unit: exit 3, and the table entity a previous run made
/// is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_a_failed_list_tables_fails_the_unit() {
    let (w, arn) = world_with_a_dynamodb_table(json!([])).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "dynamodb:ListTables",
            code: "InternalServerError",
            not_called: Some("DescribeTable"),
            kept: ("dynamodbTable", &arn),
        },
    )
    .await;
}

/// aws-v3's `DbInstanceProperties` keys as its JSON dump writes them (by alias: `Port`,
/// `EnableIAMDatabaseAuthentication`, `EnablePerformanceInsights`, `VPCSecurityGroups`
/// where the API says `DbInstancePort`, `IAMDatabaseAuthenticationEnabled`,
/// `PerformanceInsightsEnabled`, `VpcSecurityGroups`).
const RDS_DB_INSTANCE_DECLARED: [&str; 56] = [
    "AllocatedStorage",
    "AutoMinorVersionUpgrade",
    "AvailabilityZone",
    "BackupRetentionPeriod",
    "CACertificateIdentifier",
    "CharacterSetName",
    "CopyTagsToSnapshot",
    "DBInstanceArn",
    "DBInstanceClass",
    "DBInstanceIdentifier",
    "Port",
    "DBInstanceStatus",
    "DBName",
    "DBParameterGroups",
    "DBSecurityGroups",
    "DBSubnetGroup",
    "DbiResourceId",
    "DomainMemberships",
    "EnableIAMDatabaseAuthentication",
    "EnablePerformanceInsights",
    "Endpoint",
    "Engine",
    "EngineVersion",
    "EnhancedMonitoringResourceArn",
    "InstanceCreateTime",
    "Iops",
    "KmsKeyId",
    "LatestRestorableTime",
    "LicenseModel",
    "MasterUsername",
    "MonitoringInterval",
    "MonitoringRoleArn",
    "MultiAZ",
    "OptionGroupMemberships",
    "PendingModifiedValues",
    "PreferredBackupWindow",
    "PreferredMaintenanceWindow",
    "PubliclyAccessible",
    "ReadReplicaDBInstanceIdentifiers",
    "SecondaryAvailabilityZone",
    "StorageEncrypted",
    "StorageType",
    "Tags",
    "VPCSecurityGroups",
    "DatabaseInsightsMode",
    "DeletionProtection",
    "AssociatedRoles",
    "CustomerOwnedIpEnabled",
    "ActivityStreamStatus",
    "BackupTarget",
    "NetworkType",
    "StorageThroughput",
    "CertificateDetails",
    "DedicatedLogVolume",
    "IsStorageConfigUpgradeAvailable",
    "EngineLifecycleSupport",
];

/// An empty world (one member) where the test creates, in moto's management account,
/// eu-west-1, a PostgreSQL DB instance `zinc` tagged `team=platform`; the mapping makes an
/// `rdsDbInstance` entity per instance holding the whole raw item, with `include` as
/// `includeActions`. Returns the world and the instance's ARN.
async fn world_with_a_db_instance(include: Value) -> (World, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    let created = aws_sdk_rds::Client::new(&config)
        .create_db_instance()
        .db_instance_identifier("zinc")
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-secret-1")
        .db_name("app")
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key("team")
                .value("platform")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let arn = created.db_instance.and_then(|i| i.db_instance_arn).unwrap();
    w.port.put_blueprint(json!({
        "identifier": "rdsDbInstance",
        "title": "RDS DB instance",
        "schema": {"properties": {"item": {"type": "object"}}},
    }));
    rds_db_instance_mapping(&w, include);
    (w, arn)
}

fn rds_db_instance_mapping(w: &World, include: Value) {
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::RDS::DBInstance",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
            "includeActions": include,
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.DBInstanceIdentifier",
            "blueprint": "\"rdsDbInstance\"",
            "properties": {"item": "."},
        }}},
    }]}));
}

/// `AWS::RDS::DBInstance` through the real binary: aws-v3's declared keys only (by their
/// aliases), `TagList` dropped, `Tags` only with `ListTagsForResourceAction` (one call per
/// instance), and a failed tags call keeps the item without `Tags`, logged and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_db_instances_have_the_aws_v3_shape_and_tags_only_with_the_action() {
    let (w, arn) = world_with_a_db_instance(json!([])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::RDS::DBInstance");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(
        keys(item),
        keys(&json!({"Type": 0, "Properties": 0, "__ExtraContext": 0})),
        "{item:#}"
    );
    assert_eq!(item["Type"], "AWS::RDS::DBInstance");
    assert_kind_shape(item);
    let props = &item["Properties"];
    for k in keys(props) {
        assert!(
            RDS_DB_INSTANCE_DECLARED.contains(&k.as_str()),
            "{k} is not declared by aws-v3: {props:#}"
        );
    }
    // Key for key: the keys botocore returns for this instance with moto 5.2.5 that
    // aws-v3 declares, by alias (`TagList` and `EnabledCloudwatchLogsExports` dropped).
    let botocore: BTreeSet<String> = serde_json::from_value(json!([
        "AllocatedStorage",
        "AssociatedRoles",
        "AutoMinorVersionUpgrade",
        "AvailabilityZone",
        "BackupRetentionPeriod",
        "CACertificateIdentifier",
        "CopyTagsToSnapshot",
        "DBInstanceArn",
        "DBInstanceClass",
        "DBInstanceIdentifier",
        "DBInstanceStatus",
        "DBName",
        "DBParameterGroups",
        "DBSecurityGroups",
        "Port",
        "DbiResourceId",
        "DeletionProtection",
        "DomainMemberships",
        "Endpoint",
        "Engine",
        "EngineVersion",
        "EnableIAMDatabaseAuthentication",
        "InstanceCreateTime",
        "LatestRestorableTime",
        "LicenseModel",
        "MasterUsername",
        "MonitoringInterval",
        "MultiAZ",
        "OptionGroupMemberships",
        "PreferredBackupWindow",
        "PreferredMaintenanceWindow",
        "ReadReplicaDBInstanceIdentifiers",
        "StorageEncrypted",
        "StorageType",
        "VPCSecurityGroups"
    ]))
    .unwrap();
    assert_eq!(keys(props), botocore, "{props:#}");
    assert_eq!(props["DBInstanceArn"], json!(arn));
    assert_eq!(props["DBInstanceIdentifier"], "zinc");
    assert_eq!(props["DBInstanceClass"], "db.t3.micro");
    assert_eq!(props["Engine"], "postgres");
    assert_eq!(props["DBName"], "app");
    assert_eq!(props["AllocatedStorage"], 20);
    assert_eq!(props["MasterUsername"], "admin");
    assert_eq!(props["MultiAZ"], false);
    // aws-v3 dumps by alias: the API's names never appear.
    assert_eq!(props["Port"], 5432);
    assert_eq!(props["EnableIAMDatabaseAuthentication"], false);
    assert_eq!(props["VPCSecurityGroups"][0]["Status"], "active");
    for api_name in [
        "DbInstancePort",
        "IAMDatabaseAuthenticationEnabled",
        "VpcSecurityGroups",
        "TagList",
        "Tags",
        "EnabledCloudwatchLogsExports",
    ] {
        assert!(props.get(api_name).is_none(), "{api_name} in {props:#}");
    }
    // Nested values in botocore's shape; lists AWS sent empty stay `[]`.
    assert_eq!(props["Endpoint"]["Port"], 5432);
    assert!(props["Endpoint"]["Address"].is_string(), "{props:#}");
    assert_eq!(props["DBSecurityGroups"], json!([]));
    assert_eq!(
        props["DBParameterGroups"][0]["ParameterApplyStatus"],
        "in-sync"
    );
    assert!(
        props["InstanceCreateTime"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{props:#}"
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("ListTagsForResource"), 0);
    assert!(w.port.entity("rdsDbInstance", "zinc").is_some());

    // The optional action: one ListTagsForResource per instance, `Tags` from its TagList.
    rds_db_instance_mapping(&w, json!(["ListTagsForResourceAction"]));
    w.proxy.reset_hits();
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListTagsForResource"), 1);
    let e = w.port.entity("rdsDbInstance", "zinc").unwrap();
    let props = &e["properties"]["item"]["Properties"];
    assert_eq!(props["Tags"], json!([{"Key": "team", "Value": "platform"}]));
    assert_eq!(props["DBInstanceArn"], json!(arn));

    // A failed tags call: the item is still sent, without `Tags`; logged and counted.
    w.proxy.add_rule(Rule {
        action: "ListTagsForResource".into(),
        status: 500,
        code: "InternalFailure".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let e = w.port.entity("rdsDbInstance", "zinc").unwrap();
    let props = &e["properties"]["item"]["Properties"];
    assert!(props.get("Tags").is_none(), "{props:#}");
    assert_eq!(props["DBInstanceIdentifier"], "zinc");
    assert!(
        run.stderr
            .lines()
            .any(|l| l.contains("enrichment call failed")
                && l.contains("ListTagsForResourceAction")
                && l.contains("AWS::RDS::DBInstance")),
        "{}",
        run.stderr
    );
}

/// A failed `DescribeDBInstances` fails the unit: the run ends partial (exit 3) and the
/// instance entity a previous run made is kept, not deleted as if the instance were gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_db_instance_a_failed_describe_fails_the_unit() {
    let (w, _) = world_with_a_db_instance(json!(["ListTagsForResourceAction"])).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "rds:DescribeDBInstances",
            code: "InternalFailure",
            not_called: Some("ListTagsForResource"),
            kept: ("rdsDbInstance", "zinc"),
        },
    )
    .await;
}

/// An empty world (one member) where the test creates, in moto's management account,
/// eu-west-1, an Aurora PostgreSQL cluster `copper` tagged `team=data`; the mapping makes an
/// `rdsDbCluster` entity per cluster holding the whole raw item, with `include` as
/// `includeActions`. Returns the world and the cluster's ARN.
async fn world_with_a_db_cluster(include: Value) -> (World, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    let created = aws_sdk_rds::Client::new(&config)
        .create_db_cluster()
        .db_cluster_identifier("copper")
        .engine("aurora-postgresql")
        .master_username("admin")
        .master_user_password("not-a-secret-1")
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key("team")
                .value("data")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let arn = created.db_cluster.and_then(|c| c.db_cluster_arn).unwrap();
    w.port.put_blueprint(json!({
        "identifier": "rdsDbCluster",
        "title": "RDS DB cluster",
        "schema": {"properties": {"item": {"type": "object"}}},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::RDS::DBCluster",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
            "includeActions": include,
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.DBClusterIdentifier",
            "blueprint": "\"rdsDbCluster\"",
            "properties": {"item": "."},
        }}},
    }]}));
    (w, arn)
}

/// `AWS::RDS::DBCluster` through the real binary, with `ListTagsForResourceAction`: every
/// key AWS returned passes (aws-v3's `allow`), in the API's names, `TagList` from the
/// describe call and the action, nested values and timestamps as botocore's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_db_clusters_have_the_aws_v3_shape_with_every_key_aws_returned() {
    let (w, arn) = world_with_a_db_cluster(json!(["ListTagsForResourceAction"])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::RDS::DBCluster");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(keys(item), keys(&example("rds-db-cluster")), "{item:#}");
    assert_kind_shape(item);
    let props = &item["Properties"];
    // Key for key what botocore (boto3 1.x with moto 5.2.5) returns for this cluster:
    // aws-v3's `allow` passes all of it.
    let botocore: BTreeSet<String> = serde_json::from_value(json!([
        "AllocatedStorage",
        "AssociatedRoles",
        "AutoMinorVersionUpgrade",
        "AvailabilityZones",
        "BacktrackWindow",
        "BackupRetentionPeriod",
        "ClusterCreateTime",
        "CopyTagsToSnapshot",
        "CrossAccountClone",
        "DBClusterArn",
        "DBClusterIdentifier",
        "DBClusterMembers",
        "DBClusterParameterGroup",
        "DBSubnetGroup",
        "DbClusterResourceId",
        "DeletionProtection",
        "DomainMemberships",
        "EarliestRestorableTime",
        "EnabledCloudwatchLogsExports",
        "Endpoint",
        "Engine",
        "EngineMode",
        "EngineVersion",
        "GlobalWriteForwardingRequested",
        "HostedZoneId",
        "HttpEndpointEnabled",
        "IAMDatabaseAuthenticationEnabled",
        "KmsKeyId",
        "LatestRestorableTime",
        "MasterUsername",
        "MultiAZ",
        "NetworkType",
        "Port",
        "PreferredBackupWindow",
        "PreferredMaintenanceWindow",
        "PubliclyAccessible",
        "ReadReplicaIdentifiers",
        "ReaderEndpoint",
        "ScalingConfigurationInfo",
        "Status",
        "StorageEncrypted",
        "StorageType",
        "TagList",
        "VpcSecurityGroups"
    ]))
    .unwrap();
    assert_eq!(keys(props), botocore, "{props:#}");
    assert_eq!(props["ScalingConfigurationInfo"], json!({}));
    assert_eq!(props["DBClusterArn"], json!(arn));
    assert_eq!(props["DBClusterIdentifier"], "copper");
    assert_eq!(props["Engine"], "aurora-postgresql");
    assert_eq!(props["Status"], "available");
    assert_eq!(props["Port"], 5432);
    assert_eq!(props["MasterUsername"], "admin");
    assert_eq!(props["DBSubnetGroup"], "default");
    assert_eq!(props["TagList"], json!([{"Key": "team", "Value": "data"}]));
    // Keys aws-v3's model does not declare pass too (`allow`), as AWS sent them.
    assert!(props["DBClusterParameterGroup"].is_string(), "{props:#}");
    assert!(props["HostedZoneId"].is_string(), "{props:#}");
    assert_eq!(props["ReadReplicaIdentifiers"], json!([]));
    assert_eq!(props["EnabledCloudwatchLogsExports"], json!([]));
    assert_eq!(props["DBClusterMembers"], json!([]));
    assert!(
        props["AvailabilityZones"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    for t in [
        "ClusterCreateTime",
        "EarliestRestorableTime",
        "LatestRestorableTime",
    ] {
        assert!(
            props[t].as_str().is_some_and(|s| s.ends_with('Z')),
            "{t} in {props:#}"
        );
    }
    // aws-v3's own `Tags` field is never set by its code.
    assert!(props.get("Tags").is_none(), "{props:#}");
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("ListTagsForResource"), 1);
    assert!(w.port.entity("rdsDbCluster", "copper").is_some());

    // A failed tags call keeps the item, with the describe call's `TagList`; counted.
    w.proxy.add_rule(Rule {
        action: "ListTagsForResource".into(),
        status: 500,
        code: "InternalFailure".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let e = w.port.entity("rdsDbCluster", "copper").unwrap();
    let props = &e["properties"]["item"]["Properties"];
    assert_eq!(props["TagList"], json!([{"Key": "team", "Value": "data"}]));
    assert!(
        run.stderr
            .lines()
            .any(|l| l.contains("enrichment call failed") && l.contains("AWS::RDS::DBCluster")),
        "{}",
        run.stderr
    );
}

/// A mapping with two `AWS::RDS::DBCluster` resources, one asking for
/// `ListTagsForResourceAction` and one not: the action replaces the describe call's own
/// `TagList`, so both entities have the cluster's tags (the one without the action lost them
/// when the engine stripped the action's key from it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_db_cluster_keeps_its_own_tag_list_next_to_a_resource_asking_for_the_tags_action() {
    let (w, _) = world_with_a_db_cluster(json!([])).await;
    w.port.put_blueprint(json!({
        "identifier": "rdsDbClusterTagged",
        "title": "RDS DB cluster (tags action)",
        "schema": {"properties": {"tags": {"type": "array"}}},
    }));
    w.port.put_blueprint(json!({
        "identifier": "rdsDbClusterPlain",
        "title": "RDS DB cluster",
        "schema": {"properties": {"tags": {"type": "array"}}},
    }));
    let resource = |blueprint: &str, include: Value| {
        json!({
            "kind": "AWS::RDS::DBCluster",
            "selector": {
                "query": "true",
                "regionPolicy": {"allow": ["eu-west-1"]},
                "includeActions": include,
            },
            "port": {"entity": {"mappings": {
                "identifier": ".Properties.DBClusterIdentifier",
                "blueprint": format!("\"{blueprint}\""),
                "properties": {"tags": ".Properties.TagList"},
            }}},
        })
    };
    w.seed_integration(json!({"resources": [
        resource("rdsDbClusterTagged", json!(["ListTagsForResourceAction"])),
        resource("rdsDbClusterPlain", json!([])),
    ]}));
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListTagsForResource"), 1);
    for blueprint in ["rdsDbClusterTagged", "rdsDbClusterPlain"] {
        let e = w.port.entity(blueprint, "copper").unwrap();
        assert_eq!(
            e["properties"]["tags"],
            json!([{"Key": "team", "Value": "data"}]),
            "{blueprint}: {e:#}"
        );
    }
}

/// A failed `DescribeDBClusters` fails the unit: exit 3, the previous run's entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_db_cluster_a_failed_describe_fails_the_unit() {
    let (w, _) = world_with_a_db_cluster(json!([])).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "rds:DescribeDBClusters",
            code: "InternalFailure",
            not_called: None,
            kept: ("rdsDbCluster", "copper"),
        },
    )
    .await;
}

/// An SDK config talking to moto directly (not through the proxy) with the static test
/// keys (moto's management account), for tests that create their own resources.
async fn moto_config(url: &str, region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

/// How a kind's listing call is made to fail, and what the run must then show.
struct ListingFailure<'a> {
    /// `service:Operation` of the listing call, answered with HTTP 500 every time.
    operation: &'a str,
    /// The AWS error code of that answer.
    code: &'a str,
    /// A call that must not be made (nothing is enriched from a failed listing).
    not_called: Option<&'a str>,
    /// (blueprint, identifier) of an entity of the last run that must be kept.
    kept: (&'a str, &'a str),
}

/// Seeds `kept` as an entity of this integration, makes the listing call fail and runs
/// once: the run is partial (exit 3, so nothing of the kind is deleted), the call was made,
/// `not_called` was not, the entity is kept, and the error names the operation.
async fn a_failed_listing_fails_the_unit(w: &World, failure: ListingFailure<'_>) {
    let (blueprint, id) = failure.kept;
    w.port.put_entity(
        json!({"identifier": id, "blueprint": blueprint}),
        &support::our_datasource(),
    );
    let action = failure
        .operation
        .split_once(':')
        .map_or(failure.operation, |(_, a)| a);
    w.proxy.add_rule(Rule {
        action: action.into(),
        status: 500,
        code: failure.code.into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(w.proxy.hits(action) >= 1);
    if let Some(call) = failure.not_called {
        assert_eq!(w.proxy.hits(call), 0, "{call} after a failed listing");
    }
    assert!(
        w.port.entity(blueprint, id).is_some(),
        "the {blueprint} entity from the last run is kept"
    );
    assert!(run.stderr.contains(failure.operation), "{}", run.stderr);
}

/// A world with one ECR repository `zinc/app` in eu-west-1 of the management account
/// (immutable tags, scan on push, two tags; created through the SDK against moto) and an
/// `ecrRepository` mapping asking for `include`. Returns the world and the repository's ARN.
async fn world_with_an_ecr_repository(include: Value) -> (World, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Tag};
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    let arn = aws_sdk_ecr::Client::new(&config)
        .create_repository()
        .repository_name("zinc/app")
        .image_tag_mutability(ImageTagMutability::Immutable)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .tags(tag("team", "platform"))
        .tags(tag("tier", "web"))
        .send()
        .await
        .unwrap()
        .repository
        .and_then(|r| r.repository_arn)
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "ecrRepository",
        "title": "ECR repository",
        "schema": {"properties": {
            "uri": {"type": "string"},
            "team": {"type": "string"},
        }},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::ECR::Repository",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
            "includeActions": include,
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.RepositoryArn",
            "title": ".Properties.RepositoryName",
            "blueprint": "\"ecrRepository\"",
            "properties": {
                "uri": ".Properties.RepositoryUri",
                "team": "(.Properties.Tags // [] | map(select(.Key == \"team\")) | .[0].Value)",
            },
        }}},
    }]}));
    (w, arn)
}

/// `AWS::ECR::Repository` through the real binary, with `ListTagsForResourceAction`: the
/// raw item sent to Port is aws-v3's key for key — the declared keys moto returned,
/// PascalCase in the model's order, nested values in ECR's camelCase as aws-v3's
/// `dict[str, Any]` fields keep them, `CreatedAt` RFC 3339, `Tags` as `[{Key, Value}]` —
/// and the entity is made of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecr_repositories_have_the_aws_v3_shape_with_list_tags_for_resource_action() {
    let (w, arn) = world_with_an_ecr_repository(json!(["ListTagsForResourceAction"])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::ECR::Repository");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_kind_shape(item);
    let props = &item["Properties"];
    let order: Vec<&str> = props
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        order,
        [
            "RepositoryName",
            "RepositoryArn",
            "RepositoryUri",
            "RegistryId",
            "CreatedAt",
            "ImageTagMutability",
            "ImageScanningConfiguration",
            "EncryptionConfiguration",
            "Tags",
        ],
        "{props:#}"
    );
    assert_eq!(props["RepositoryArn"], json!(arn));
    assert_eq!(props["RepositoryName"], "zinc/app");
    assert_eq!(props["RegistryId"], MANAGEMENT);
    assert_eq!(
        props["RepositoryUri"],
        format!("{MANAGEMENT}.dkr.ecr.eu-west-1.amazonaws.com/zinc/app")
    );
    assert_eq!(props["ImageTagMutability"], "IMMUTABLE");
    assert_eq!(
        props["ImageScanningConfiguration"],
        json!({"scanOnPush": true})
    );
    assert_eq!(
        props["EncryptionConfiguration"],
        json!({"encryptionType": "AES256"})
    );
    let created = props["CreatedAt"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.contains('T'), "{created}");
    assert_eq!(
        props["Tags"],
        json!([{"Key": "team", "Value": "platform"}, {"Key": "tier", "Value": "web"}])
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("ListTagsForResource"), 1);

    let e = w.port.entity("ecrRepository", &arn).unwrap();
    assert_eq!(e["properties"]["team"], "platform");
}

/// Without `ListTagsForResourceAction` no tags call is made and `Tags` is absent; a failed
/// `ListTagsForResource` (denied) keeps the item without `Tags`, the run complete, and is
/// logged as an enrichment failure naming the account, region, kind and action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecr_tags_are_absent_without_the_action_and_when_list_tags_for_resource_fails() {
    let (w, _) = world_with_an_ecr_repository(json!([])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::ECR::Repository");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    assert!(
        examples[0]["Properties"].get("Tags").is_none(),
        "{examples:#?}"
    );
    assert_eq!(w.proxy.hits("ListTagsForResource"), 0);

    let (w, arn) = world_with_an_ecr_repository(json!(["ListTagsForResourceAction"])).await;
    w.proxy.add_rule(Rule {
        action: "ListTagsForResource".into(),
        status: 400,
        code: "AccessDeniedException".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::ECR::Repository");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let props = &examples[0]["Properties"];
    assert!(props.get("Tags").is_none(), "{props:#}");
    assert_eq!(props["RepositoryArn"], json!(arn));
    assert!(w.proxy.hits("ListTagsForResource") >= 1);
    assert!(w.port.entity("ecrRepository", &arn).is_some());
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::ECR::Repository",
        "ListTagsForResourceAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// `GetRepositoryPolicyAction` and `GetLifecyclePolicyAction` through the real binary: a
/// repository with both policies gets `RepositoryPolicyText` (the document as AWS sends it)
/// and `LifecyclePolicy` (the whole answer, as aws-v3 stores botocore's, `ResponseMetadata`
/// included); a repository with neither gets neither key, and that is not a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecr_policy_actions_add_the_policy_text_and_the_whole_lifecycle_answer() {
    let (w, arn) = world_with_an_ecr_repository(json!([
        "GetRepositoryPolicyAction",
        "GetLifecyclePolicyAction"
    ]))
    .await;
    let ecr = aws_sdk_ecr::Client::new(&moto_config(&w.moto.url(), "eu-west-1").await);
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "pull", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage"],
    }]})
    .to_string();
    ecr.set_repository_policy()
        .repository_name("zinc/app")
        .policy_text(&policy)
        .send()
        .await
        .unwrap();
    let lifecycle = json!({"rules": [{
        "rulePriority": 1, "description": "old", "action": {"type": "expire"},
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
            "countUnit": "days", "countNumber": 14},
    }]})
    .to_string();
    ecr.put_lifecycle_policy()
        .repository_name("zinc/app")
        .lifecycle_policy_text(&lifecycle)
        .send()
        .await
        .unwrap();
    ecr.create_repository()
        .repository_name("zinc/bare")
        .send()
        .await
        .unwrap();

    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains("enrichment call failed"),
        "{}",
        run.stderr
    );
    assert_eq!(w.proxy.hits("GetRepositoryPolicy"), 2);
    assert_eq!(w.proxy.hits("GetLifecyclePolicy"), 2);
    let examples = w.port.examples(IDENTIFIER, "AWS::ECR::Repository");
    let of = |name: &str| {
        examples
            .iter()
            .find(|i| i["Properties"]["RepositoryName"] == name)
            .unwrap_or_else(|| panic!("{name} in {examples:#?}"))["Properties"]
            .clone()
    };
    let props = of("zinc/app");
    assert_eq!(props["RepositoryArn"], json!(arn));
    let text: Value =
        serde_json::from_str(props["RepositoryPolicyText"].as_str().unwrap()).unwrap();
    assert_eq!(text, serde_json::from_str::<Value>(&policy).unwrap());
    let answer = &props["LifecyclePolicy"];
    assert_eq!(answer["registryId"], MANAGEMENT, "{answer:#}");
    assert_eq!(answer["repositoryName"], "zinc/app");
    let text: Value =
        serde_json::from_str(answer["lifecyclePolicyText"].as_str().unwrap()).unwrap();
    assert_eq!(text, serde_json::from_str::<Value>(&lifecycle).unwrap());
    let meta = &answer["ResponseMetadata"];
    assert_eq!(meta["HTTPStatusCode"], 200, "{meta:#}");
    assert_eq!(meta["RetryAttempts"], 0);
    let headers = meta["HTTPHeaders"].as_object().unwrap();
    assert!(headers.contains_key("content-type"), "{meta:#}");
    assert!(headers.keys().all(|k| *k == k.to_lowercase()), "{meta:#}");
    let order: Vec<&str> = props
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        &order[order.len() - 2..],
        ["LifecyclePolicy", "RepositoryPolicyText"],
        "aws-v3's model order: {order:?}"
    );

    let bare = of("zinc/bare");
    assert!(bare.get("RepositoryPolicyText").is_none(), "{bare:#}");
    assert!(bare.get("LifecyclePolicy").is_none(), "{bare:#}");
}

/// A failed `DescribeRepositories` fails the unit: the run ends partial (exit 3) and the
/// entity a previous run made is kept, not deleted as if the repository were gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecr_a_failed_describe_repositories_fails_the_unit() {
    let (w, arn) = world_with_an_ecr_repository(json!([])).await;
    w.port.put_entity(
        json!({"identifier": arn, "blueprint": "ecrRepository"}),
        &support::our_datasource(),
    );
    w.proxy.add_rule(Rule {
        action: "DescribeRepositories".into(),
        status: 500,
        code: "ServerException".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(w.proxy.hits("DescribeRepositories") >= 1);
    assert!(
        w.port.entity("ecrRepository", &arn).is_some(),
        "the repository from the last run is kept"
    );
    assert!(
        run.stderr.contains("ecr:DescribeRepositories"),
        "{}",
        run.stderr
    );
}

/// A world with one EKS cluster `zinc-eks` in eu-west-1 of the management account (two
/// subnets, a security group, two tags; created through the SDK against moto) and an
/// `eksCluster` mapping. Returns the world and the cluster's ARN.
async fn world_with_an_eks_cluster() -> (World, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    use aws_sdk_eks::types::VpcConfigRequest;
    let arn = aws_sdk_eks::Client::new(&config)
        .create_cluster()
        .name("zinc-eks")
        .version("1.29")
        .role_arn(format!("arn:aws:iam::{MANAGEMENT}:role/zinc-eks-role"))
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .subnet_ids("subnet-aaaa")
                .subnet_ids("subnet-bbbb")
                .security_group_ids("sg-cccc")
                .build(),
        )
        .tags("team", "platform")
        .tags("tier", "web")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap()
        .arn
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "eksCluster",
        "title": "EKS cluster",
        "schema": {"properties": {
            "version": {"type": "string"},
            "team": {"type": "string"},
        }},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::EKS::Cluster",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.Arn",
            "title": ".Properties.Name",
            "blueprint": "\"eksCluster\"",
            "properties": {
                "version": ".Properties.Version",
                "team": ".Properties.Tags.team",
            },
        }}},
    }]}));
    (w, arn)
}

/// `AWS::EKS::Cluster` through the real binary (`DescribeClusterAction`, its only action):
/// the raw item sent to Port is aws-v3's key for key — the declared keys moto returned,
/// PascalCase in the model's order, nested values in EKS's camelCase, `CreatedAt` RFC 3339,
/// `Tags` as a map — and the entity is made of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_clusters_have_the_aws_v3_shape() {
    let (w, arn) = world_with_an_eks_cluster().await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::EKS::Cluster");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_kind_shape(item);
    let props = &item["Properties"];
    let keys: Vec<&str> = props
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let model_order = [
        "AccessConfig",
        "Arn",
        "CertificateAuthority",
        "ComputeConfig",
        "CreatedAt",
        "Endpoint",
        "Identity",
        "KubernetesNetworkConfig",
        "Logging",
        "Name",
        "PlatformVersion",
        "ResourcesVpcConfig",
        "RoleArn",
        "Status",
        "StorageConfig",
        "Tags",
        "UpgradePolicy",
        "Version",
        "ZonalShiftConfig",
    ];
    let mut expected: Vec<&str> = model_order.to_vec();
    expected.retain(|k| keys.contains(k));
    assert_eq!(
        keys, expected,
        "declared keys only, in the model's order: {props:#}"
    );
    assert_eq!(props["Arn"], json!(arn));
    assert_eq!(props["Name"], "zinc-eks");
    assert_eq!(props["Version"], "1.29");
    assert_eq!(
        props["RoleArn"],
        json!(format!("arn:aws:iam::{MANAGEMENT}:role/zinc-eks-role"))
    );
    assert_eq!(
        props["ResourcesVpcConfig"]["subnetIds"],
        json!(["subnet-aaaa", "subnet-bbbb"])
    );
    assert_eq!(
        props["ResourcesVpcConfig"]["securityGroupIds"],
        json!(["sg-cccc"])
    );
    assert_eq!(props["Tags"], json!({"team": "platform", "tier": "web"}));
    let created = props["CreatedAt"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.contains('T'),
        "RFC 3339: {created}"
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("DescribeCluster"), 1);

    let e = w.port.entity("eksCluster", &arn).unwrap();
    assert_eq!(e["properties"]["version"], "1.29");
    assert_eq!(e["properties"]["team"], "platform");
}

/// A cluster gone between `ListClusters` and `DescribeCluster` (not found) is left out, as
/// aws-v3 does, keeps the run complete and is logged as an enrichment failure naming the
/// account, region, kind and action. (A denied describe fails the unit instead: the cluster
/// exists and was not seen, so its entity must not be deleted.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_a_failed_describe_cluster_leaves_the_cluster_out() {
    let (w, arn) = world_with_an_eks_cluster().await;
    w.proxy.add_rule(Rule {
        action: "DescribeCluster".into(),
        status: 404,
        code: "ResourceNotFoundException".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(w.proxy.hits("DescribeCluster") >= 1);
    assert!(
        w.port.examples(IDENTIFIER, "AWS::EKS::Cluster").is_empty(),
        "no item without DescribeCluster"
    );
    assert!(w.port.entity("eksCluster", &arn).is_none());
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::EKS::Cluster",
        "DescribeClusterAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// A failed `ListClusters` fails the unit: the run ends partial (exit 3) and the entity a
/// previous run made is kept, not deleted as if the cluster were gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_a_failed_list_clusters_fails_the_unit() {
    let (w, arn) = world_with_an_eks_cluster().await;
    w.port.put_entity(
        json!({"identifier": arn, "blueprint": "eksCluster"}),
        &support::our_datasource(),
    );
    w.proxy.add_rule(Rule {
        action: "ListClusters".into(),
        status: 500,
        code: "ServerException".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(w.proxy.hits("ListClusters") >= 1);
    assert!(
        w.port.entity("eksCluster", &arn).is_some(),
        "the cluster from the last run is kept"
    );
    assert!(run.stderr.contains("eks:ListClusters"), "{}", run.stderr);
}

/// A `DescribeCluster` failing with an error aws-v3 does not recover from (HTTP 500) fails
/// the unit, as aws-v3 re-raises it: run partial (exit 3), the entity of the last run kept,
/// never deleted as if the cluster were gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_a_describe_cluster_server_error_fails_the_unit() {
    let (w, arn) = world_with_an_eks_cluster().await;
    w.port.put_entity(
        json!({"identifier": arn, "blueprint": "eksCluster"}),
        &support::our_datasource(),
    );
    w.proxy.add_rule(Rule {
        action: "DescribeCluster".into(),
        status: 500,
        code: "ServerException".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(w.proxy.hits("DescribeCluster") >= 1);
    assert!(
        w.port.entity("eksCluster", &arn).is_some(),
        "the cluster from the last run is kept"
    );
    assert!(run.stderr.contains("eks:DescribeCluster"), "{}", run.stderr);
}

/// A world with one ElastiCache cluster `zinc-cache` (redis, tagged `team=platform`) in
/// eu-west-1 of the management account, created through the SDK against moto, and an
/// `elasticacheCluster` mapping asking for `include`, one entity per cluster holding the
/// whole raw item. Returns the world and the cluster's ARN.
async fn world_with_an_elasticache_cluster(include: Value) -> (World, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    let arn = aws_sdk_elasticache::Client::new(&config)
        .create_cache_cluster()
        .cache_cluster_id("zinc-cache")
        .engine("redis")
        .cache_node_type("cache.t4g.micro")
        .num_cache_nodes(1)
        .tags(
            aws_sdk_elasticache::types::Tag::builder()
                .key("team")
                .value("platform")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .cache_cluster
        .and_then(|c| c.arn)
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "elasticacheCluster",
        "title": "ElastiCache cluster",
        "schema": {"properties": {"item": {"type": "object"}}},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::ElastiCache::Cluster",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
            "includeActions": include,
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.CacheClusterId",
            "blueprint": "\"elasticacheCluster\"",
            "properties": {"item": "."},
        }}},
    }]}));
    (w, arn)
}

/// `AWS::ElastiCache::Cluster` through the real binary, with `ListTagsForResourceAction`:
/// the raw item is aws-v3's key for key — every member moto returned (aws-v3's `allow`) in
/// the API's names and the model's order, timestamps RFC 3339, the empty
/// `LogDeliveryConfigurations` kept as `[]`, `TagList` from one `ListTagsForResource` call
/// — and the entity is made of it. (aws-v3's own dump of botocore's parse of the same moto
/// answers, with copies of its models, gives exactly these keys.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticache_clusters_have_the_aws_v3_shape_with_list_tags_for_resource_action() {
    let (w, arn) = world_with_an_elasticache_cluster(json!(["ListTagsForResourceAction"])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::ElastiCache::Cluster");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    // The raw item as the mapping read it (the examples sent to Port mask values whose key
    // looks secret, such as `AuthTokenEnabled`).
    let e = w.port.entity("elasticacheCluster", "zinc-cache").unwrap();
    let item = &e["properties"]["item"];
    assert_eq!(
        keys(item),
        keys(&example("elasticache-cluster")),
        "{item:#}"
    );
    assert_kind_shape(item);
    let props = &item["Properties"];
    let order: Vec<&str> = props
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        order,
        [
            "CacheClusterId",
            "ARN",
            "CacheNodeType",
            "Engine",
            "CacheClusterStatus",
            "NumCacheNodes",
            "CacheClusterCreateTime",
            "SnapshotRetentionLimit",
            "AuthTokenEnabled",
            "AuthTokenLastModifiedDate",
            "LogDeliveryConfigurations",
            "TagList",
        ],
        "{props:#}"
    );
    assert_eq!(props["CacheClusterId"], "zinc-cache");
    assert_eq!(props["ARN"], json!(arn));
    assert_eq!(props["CacheNodeType"], "cache.t4g.micro");
    assert_eq!(props["Engine"], "redis");
    assert_eq!(props["CacheClusterStatus"], "available");
    assert_eq!(props["NumCacheNodes"], 1);
    assert_eq!(props["SnapshotRetentionLimit"], 0);
    assert_eq!(props["AuthTokenEnabled"], false);
    assert_eq!(props["LogDeliveryConfigurations"], json!([]));
    for t in ["CacheClusterCreateTime", "AuthTokenLastModifiedDate"] {
        let s = props[t].as_str().unwrap_or_default();
        assert!(s.ends_with('Z') && s.contains('T'), "{t} in {props:#}");
    }
    assert_eq!(
        props["TagList"],
        json!([{"Key": "team", "Value": "platform"}])
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("ListTagsForResource"), 1);
}

/// Without `ListTagsForResourceAction` no tags call is made and `TagList` is absent; a
/// failed `ListTagsForResource` (HTTP 500) keeps the item without `TagList`, the run
/// complete, logged as an enrichment failure naming the account, region, kind and action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticache_tag_list_is_absent_without_the_action_and_when_list_tags_for_resource_fails() {
    let (w, _) = world_with_an_elasticache_cluster(json!([])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::ElastiCache::Cluster");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    assert!(
        examples[0]["Properties"].get("TagList").is_none(),
        "{examples:#?}"
    );
    assert_eq!(examples[0]["Properties"]["CacheClusterId"], "zinc-cache");
    assert_eq!(w.proxy.hits("ListTagsForResource"), 0);

    let (w, arn) = world_with_an_elasticache_cluster(json!(["ListTagsForResourceAction"])).await;
    w.proxy.add_rule(Rule {
        action: "ListTagsForResource".into(),
        status: 500,
        code: "InternalFailure".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let e = w.port.entity("elasticacheCluster", "zinc-cache").unwrap();
    let props = &e["properties"]["item"]["Properties"];
    assert!(props.get("TagList").is_none(), "{props:#}");
    assert_eq!(props["ARN"], json!(arn));
    assert!(w.proxy.hits("ListTagsForResource") >= 1);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::ElastiCache::Cluster",
        "ListTagsForResourceAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// A failed `DescribeCacheClusters` fails the unit: exit 3, no tags call, the previous
/// run's entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticache_a_failed_describe_cache_clusters_fails_the_unit() {
    let (w, _) = world_with_an_elasticache_cluster(json!(["ListTagsForResourceAction"])).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "elasticache:DescribeCacheClusters",
            code: "InternalFailure",
            not_called: Some("ListTagsForResource"),
            kept: ("elasticacheCluster", "zinc-cache"),
        },
    )
    .await;
}

/// A world with a MemoryDB user `zinc-user` (password authentication, tagged
/// `team=platform`) in eu-west-1 of the management account, created through the SDK
/// against moto (which also has its `default` user there), and a `memoryDbUser` mapping
/// asking for `include` that allows eu-west-1 and ap-northeast-3 — enabled in moto but not
/// in aws-v3's MemoryDB region list (moto has no MemoryDB there either: a call would fail
/// the unit) — one entity per user (by ARN) holding the whole raw item. Returns the world
/// and `zinc-user`'s ARN.
async fn world_with_memorydb_users(include: Value) -> (World, String) {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    use aws_sdk_memorydb::types::{AuthenticationMode, InputAuthenticationType, Tag};
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    let arn = aws_sdk_memorydb::Client::new(&config)
        .create_user()
        .user_name("zinc-user")
        .access_string("on ~* &* +@all")
        .authentication_mode(
            AuthenticationMode::builder()
                .r#type(InputAuthenticationType::Password)
                .passwords("not-a-secret-password-1")
                .build(),
        )
        .tags(Tag::builder().key("team").value("platform").build())
        .send()
        .await
        .unwrap()
        .user
        .and_then(|u| u.arn)
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "memoryDbUser",
        "title": "MemoryDB user",
        "schema": {"properties": {"item": {"type": "object"}}},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::MemoryDB::User",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1", "ap-northeast-3"]},
            "includeActions": include,
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.ARN",
            "blueprint": "\"memoryDbUser\"",
            "properties": {"item": "."},
        }}},
    }]}));
    (w, arn)
}

/// The `memoryDbUser` entities' raw items, by ARN.
fn memorydb_items(w: &World) -> std::collections::BTreeMap<String, Value> {
    w.port
        .entities()
        .into_iter()
        .filter(|e| e["blueprint"] == "memoryDbUser")
        .map(|e| {
            let item = e["properties"]["item"].clone();
            (
                item["Properties"]["ARN"].as_str().unwrap().to_string(),
                item,
            )
        })
        .collect()
}

/// `AWS::MemoryDB::User` through the real binary, with `ListTagsForMemoryDbUserAction`:
/// listed only in the regions of aws-v3's MemoryDB list (eu-west-1 here; ap-northeast-3,
/// allowed by the mapping and enabled, is never called), every user of it (moto's `default`
/// one too) with one `ListTags` call each, and the raw item aws-v3's key for key: every key
/// AWS sent (its `allow`), the declared ones first in the model's order, `TagList` from
/// the action. (aws-v3's own dump of botocore's parse of the same moto answers, with copies
/// of its models, is exactly this item.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memorydb_users_have_the_aws_v3_shape_in_aws_v3_s_regions_only() {
    let (w, arn) = world_with_memorydb_users(json!(["ListTagsForMemoryDbUserAction"])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let items = memorydb_items(&w);
    let mut names: Vec<&str> = items
        .values()
        .map(|i| i["Properties"]["Name"].as_str().unwrap())
        .collect();
    names.sort();
    // moto's `default` user of each account's eu-west-1, and ours.
    assert_eq!(names, ["default", "default", "zinc-user"], "{items:#?}");
    let item = &items[&arn];
    assert_eq!(keys(item), keys(&example("memorydb-user")), "{item:#}");
    assert_kind_shape(item);
    assert_eq!(
        item,
        &json!({
            "Type": "AWS::MemoryDB::User",
            "Properties": {
                "Name": "zinc-user",
                "Status": "active",
                "AccessString": "on ~* &* +@all",
                "ACLNames": [],
                "MinimumEngineVersion": "6.2",
                "ARN": arn,
                "Authentication": {"Type": "password", "PasswordCount": 1},
                "TagList": [{"Key": "team", "Value": "platform"}],
            },
            "__ExtraContext": {"AccountId": MANAGEMENT, "Region": "eu-west-1"},
        })
    );
    let order: Vec<&str> = item["Properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        order,
        [
            "Name",
            "Status",
            "AccessString",
            "ACLNames",
            "MinimumEngineVersion",
            "ARN",
            "Authentication",
            "TagList",
        ]
    );
    // moto's `default` user is aws-v3's own example, user for user.
    let default = &items[&arn.replace("zinc-user", "default")]["Properties"];
    assert_eq!(default["ACLNames"], json!(["open-access"]));
    assert_eq!(default["Authentication"], json!({"Type": "no-password"}));
    assert_eq!(default["TagList"], json!([]));

    // Listed in eu-west-1 of each account, never in ap-northeast-3.
    let calls = w.proxy.calls();
    let regions: BTreeSet<&str> = calls
        .iter()
        .filter(|c| c.action == "DescribeUsers")
        .map(|c| c.region.as_str())
        .collect();
    assert_eq!(regions, BTreeSet::from(["eu-west-1"]));
    assert_eq!(w.proxy.hits("DescribeUsers"), 2);
    assert_eq!(w.proxy.hits("ListTags"), items.len());
}

/// Without `ListTagsForMemoryDbUserAction` no `ListTags` call is made and `TagList` is
/// absent; a failed `ListTags` (HTTP 500) keeps the items without `TagList`, the run
/// complete, logged as an enrichment failure naming the account, region, kind and action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memorydb_tag_list_is_absent_without_the_action_and_when_list_tags_fails() {
    let (w, arn) = world_with_memorydb_users(json!([])).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = memorydb_items(&w);
    assert_eq!(items.len(), 3, "{items:#?}");
    for item in items.values() {
        assert!(item["Properties"].get("TagList").is_none(), "{item:#}");
    }
    assert_eq!(items[&arn]["Properties"]["Name"], "zinc-user");
    assert_eq!(w.proxy.hits("ListTags"), 0);

    let (w, arn) = world_with_memorydb_users(json!(["ListTagsForMemoryDbUserAction"])).await;
    w.proxy.add_rule(Rule {
        action: "ListTags".into(),
        status: 500,
        code: "InternalServerErrorException".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = memorydb_items(&w);
    assert_eq!(items.len(), 3, "{items:#?}");
    let props = &items[&arn]["Properties"];
    assert!(props.get("TagList").is_none(), "{props:#}");
    assert_eq!(props["Name"], "zinc-user");
    assert!(w.proxy.hits("ListTags") >= 3);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed") && l.contains(&arn))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::MemoryDB::User",
        "ListTagsForMemoryDbUserAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// A failed `DescribeUsers` fails the unit: exit 3, no tags call, the previous run's
/// entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memorydb_a_failed_describe_users_fails_the_unit() {
    let (w, arn) = world_with_memorydb_users(json!(["ListTagsForMemoryDbUserAction"])).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "memorydb:DescribeUsers",
            code: "InternalServerErrorException",
            not_called: Some("ListTags"),
            kept: ("memoryDbUser", &arn),
        },
    )
    .await;
}

/// A world with no seeded resources, `members` member accounts, and an `mskCluster`
/// mapping of `AWS::MSK::Cluster` listed in eu-west-1, where the test creates its clusters
/// itself.
async fn world_for_msk_clusters(members: &str) -> World {
    let w = World::start(&[
        "--members",
        members,
        "--ou-members",
        "0",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    w.port.put_blueprint(json!({
        "identifier": "mskCluster",
        "title": "MSK cluster",
        "schema": {"properties": {
            "state": {"type": "string"},
            "team": {"type": "string"},
        }},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::MSK::Cluster",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.ClusterArn",
            "title": ".Properties.ClusterName",
            "blueprint": "\"mskCluster\"",
            "properties": {
                "state": ".Properties.State",
                "team": ".Properties.Tags.team",
            },
        }}},
    }]}));
    w
}

/// Creates a provisioned MSK cluster `name` (3 brokers, two tags) in eu-west-1 of the
/// management account, through the SDK against moto; returns its ARN.
async fn create_msk_cluster(w: &World, name: &str) -> String {
    use aws_sdk_kafka::types::BrokerNodeGroupInfo;
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    aws_sdk_kafka::Client::new(&config)
        .create_cluster()
        .cluster_name(name)
        .kafka_version("3.6.0")
        .number_of_broker_nodes(3)
        .broker_node_group_info(
            BrokerNodeGroupInfo::builder()
                .instance_type("kafka.m5.large")
                .client_subnets("subnet-aaaa")
                .client_subnets("subnet-bbbb")
                .security_groups("sg-cccc")
                .build(),
        )
        .tags("team", "platform")
        .tags("tier", "data")
        .send()
        .await
        .unwrap()
        .cluster_arn
        .unwrap()
}

/// `AWS::MSK::Cluster` through the real binary against moto (`ListClustersAction`, its only
/// action; the kind has no optional one): the raw item sent to Port is what aws-v3 makes of
/// moto's `ListClusters` answer, key for key — its `ClusterInfo` members PascalCase,
/// `clusterType` (not a `ClusterInfo` member in botocore's model) left out, `CreationTime`
/// (moto's has no zone, a naive datetime to botocore) printed as sent — and the entity is
/// made of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msk_clusters_have_the_aws_v3_shape() {
    let w = world_for_msk_clusters("1").await;
    let arn = create_msk_cluster(&w, "zinc-kafka").await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::MSK::Cluster");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_kind_shape(item);
    let props = &item["Properties"];
    let created = props["CreationTime"].as_str().unwrap().to_string();
    assert!(
        created.len() >= 19 && created.as_bytes()[10] == b'T' && !created.ends_with('Z'),
        "moto's zoneless time as sent: {created}"
    );
    assert_eq!(
        props,
        &json!({
            "ClusterArn": arn,
            "ClusterName": "zinc-kafka",
            "State": "CREATING",
            "CreationTime": created,
        })
    );
    assert_eq!(
        keys_in_order(props),
        ["ClusterArn", "ClusterName", "State", "CreationTime"]
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    // One page per account (the member account has no cluster).
    assert_eq!(w.proxy.hits("ListClusters"), 2);

    let e = w.port.entity("mskCluster", &arn).unwrap();
    assert_eq!(e["title"], "zinc-kafka");
    assert_eq!(e["properties"]["state"], "CREATING");
}

/// moto's `ListClusters` has neither nested members nor tags nor pages, so the proxy
/// answers it the way Kafka does (two pages, canned): every page is listed, and each
/// cluster is botocore's parse of it — members PascalCase at every depth, `Tags` keys as
/// sent, `null` members and members not in aws-v3's botocore model (`rebalancing`,
/// `connectivityInfo.networkType`, newer than its botocore 1.40.61) absent, `CreationTime`
/// as pydantic prints it — with aws-v3's declared fields first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msk_clusters_are_paged_to_the_end_with_nested_members_named_as_botocore_does() {
    // The management account alone, so that both canned pages answer its one listing.
    let w = world_for_msk_clusters("0").await;
    let arn = |n: &str| format!("arn:aws:kafka:eu-west-1:{MANAGEMENT}:cluster/{n}/abcd-1");
    let first = json!({
        "clusterInfoList": [{
            "activeOperationArn": null,
            "brokerNodeGroupInfo": {
                "brokerAZDistribution": "DEFAULT",
                "clientSubnets": ["subnet-aaaa", "subnet-bbbb"],
                "instanceType": "kafka.m5.large",
                "securityGroups": ["sg-cccc"],
                "storageInfo": {"ebsStorageInfo": {"volumeSize": 100}},
                "connectivityInfo": {"publicAccess": {"type": "DISABLED"}, "networkType": "IPV4"},
                "zoneIds": ["euw1-az1", "euw1-az2"],
            },
            "clientAuthentication": {
                "sasl": {"iam": {"enabled": true}, "scram": {"enabled": false}},
                "tls": {"certificateAuthorityArnList": [], "enabled": false},
                "unauthenticated": {"enabled": false},
            },
            "clusterArn": arn("one"),
            "clusterName": "one",
            "clusterType": "PROVISIONED",
            "creationTime": "2026-04-19T14:51:13.196Z",
            "currentBrokerSoftwareInfo": {"kafkaVersion": "3.6.0", "configurationArn": null},
            "currentVersion": "K2EUQ1WTGCTBG2",
            "encryptionInfo": {
                "encryptionAtRest": {"dataVolumeKMSKeyId": "arn:aws:kms:eu-west-1:1:key/k"},
                "encryptionInTransit": {"clientBroker": "TLS", "inCluster": true},
            },
            "enhancedMonitoring": "DEFAULT",
            "openMonitoring": {"prometheus": {
                "jmxExporter": {"enabledInBroker": false},
                "nodeExporter": {"enabledInBroker": false},
            }},
            "numberOfBrokerNodes": 2,
            "state": "ACTIVE",
            "stateInfo": {"code": "OK"},
            "tags": {"team": "platform", "cost-center": "42"},
            "zookeeperConnectString": "z-1.one.kafka.eu-west-1.amazonaws.com:2181",
            "storageMode": "LOCAL",
            "customerActionStatus": "NONE",
            "someFutureMember": {"x": 1},
            "rebalancing": {"status": "ACTIVE"},
        }],
        "nextToken": "page-2",
    });
    let second = json!({
        "clusterInfoList": [{
            "clusterArn": arn("two"),
            "clusterName": "two",
            "creationTime": "2026-04-20T08:00:00Z",
            "state": "CREATING",
        }],
    });
    for body in [first, second] {
        w.proxy.add_rule(Rule {
            action: "ListClusters".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListClusters"), 2);

    let mut examples = w.port.examples(IDENTIFIER, "AWS::MSK::Cluster");
    examples.sort_by_key(|e| e["Properties"]["ClusterName"].as_str().unwrap().to_string());
    assert_eq!(examples.len(), 2, "{examples:#?}");
    let one = &examples[0];
    assert_kind_shape(one);
    assert_eq!(
        one["Properties"],
        json!({
            "ClusterArn": arn("one"),
            "ClusterName": "one",
            "State": "ACTIVE",
            "CreationTime": "2026-04-19T14:51:13.196000Z",
            "CurrentVersion": "K2EUQ1WTGCTBG2",
            "BrokerNodeGroupInfo": {
                "BrokerAZDistribution": "DEFAULT",
                "ClientSubnets": ["subnet-aaaa", "subnet-bbbb"],
                "InstanceType": "kafka.m5.large",
                "SecurityGroups": ["sg-cccc"],
                "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}},
                "ConnectivityInfo": {"PublicAccess": {"Type": "DISABLED"}},
                "ZoneIds": ["euw1-az1", "euw1-az2"],
            },
            "ClientAuthentication": {
                "Sasl": {"Scram": {"Enabled": false}, "Iam": {"Enabled": true}},
                "Tls": {"CertificateAuthorityArnList": [], "Enabled": false},
                "Unauthenticated": {"Enabled": false},
            },
            "EncryptionInfo": {
                "EncryptionAtRest": {"DataVolumeKMSKeyId": "arn:aws:kms:eu-west-1:1:key/k"},
                "EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": true},
            },
            "CurrentBrokerSoftwareInfo": {"KafkaVersion": "3.6.0"},
            "OpenMonitoring": {"Prometheus": {
                "JmxExporter": {"EnabledInBroker": false},
                "NodeExporter": {"EnabledInBroker": false},
            }},
            "NumberOfBrokerNodes": 2,
            "EnhancedMonitoring": "DEFAULT",
            "StorageMode": "LOCAL",
            "ZookeeperConnectString": "z-1.one.kafka.eu-west-1.amazonaws.com:2181",
            "Tags": {"team": "platform", "cost-center": "42"},
            "StateInfo": {"Code": "OK"},
            "CustomerActionStatus": "NONE",
        })
    );
    assert_eq!(
        keys_in_order(&one["Properties"]),
        [
            "ClusterArn",
            "ClusterName",
            "State",
            "CreationTime",
            "CurrentVersion",
            "BrokerNodeGroupInfo",
            "ClientAuthentication",
            "EncryptionInfo",
            "CurrentBrokerSoftwareInfo",
            "OpenMonitoring",
            "NumberOfBrokerNodes",
            "EnhancedMonitoring",
            "StorageMode",
            "ZookeeperConnectString",
            "Tags",
            "StateInfo",
            "CustomerActionStatus",
        ],
        "declared fields in aws-v3's order, then the others in botocore's"
    );
    assert_eq!(
        examples[1]["Properties"],
        json!({
            "ClusterArn": arn("two"),
            "ClusterName": "two",
            "State": "CREATING",
            "CreationTime": "2026-04-20T08:00:00Z",
        })
    );
    for e in &examples {
        assert_eq!(
            e["__ExtraContext"],
            json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
        );
    }
    let e = w.port.entity("mskCluster", &arn("one")).unwrap();
    assert_eq!(e["properties"]["team"], "platform");
    assert!(w.port.entity("mskCluster", &arn("two")).is_some());
}

/// A failed `ListClusters` fails the unit: the run ends partial (exit 3) and the entity a
/// previous run made is kept, not deleted as if the cluster were gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msk_cluster_a_failed_list_clusters_fails_the_unit() {
    let w = world_for_msk_clusters("1").await;
    let arn = create_msk_cluster(&w, "zinc-kafka").await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "kafka:ListClusters",
            code: "InternalServerErrorException",
            not_called: None,
            kept: ("mskCluster", &arn),
        },
    )
    .await;
}

/// A world with no seeded resources and one member account, where the test creates, in
/// eu-west-1 of the management account through the SDK against moto, a serverless MSK
/// cluster `zinc-serverless` (one VPC config, IAM auth, two tags) and a provisioned one
/// (which `AWS::MSK::ServerlessCluster` must not list); and an `mskServerlessCluster`
/// mapping. Returns the world and the serverless cluster's ARN.
async fn world_with_an_msk_serverless_cluster() -> (World, String) {
    use aws_sdk_kafka::types::{ServerlessClientAuthentication, ServerlessRequest, ServerlessSasl};
    let w = World::start(&[
        "--members",
        "1",
        "--ou-members",
        "0",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    create_msk_cluster(&w, "zinc-provisioned").await;
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    let arn = aws_sdk_kafka::Client::new(&config)
        .create_cluster_v2()
        .cluster_name("zinc-serverless")
        .serverless(
            ServerlessRequest::builder()
                .vpc_configs(
                    aws_sdk_kafka::types::VpcConfig::builder()
                        .subnet_ids("subnet-aaaa")
                        .subnet_ids("subnet-bbbb")
                        .security_group_ids("sg-cccc")
                        .build(),
                )
                .client_authentication(
                    ServerlessClientAuthentication::builder()
                        .sasl(
                            ServerlessSasl::builder()
                                .iam(aws_sdk_kafka::types::Iam::builder().enabled(true).build())
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .tags("team", "platform")
        .tags("tier", "stream")
        .send()
        .await
        .unwrap()
        .cluster_arn
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "mskServerlessCluster",
        "title": "MSK serverless cluster",
        "schema": {"properties": {
            "state": {"type": "string"},
            "vpcConfigs": {"type": "array"},
            "team": {"type": "string"},
        }},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::MSK::ServerlessCluster",
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1"]},
        },
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.ClusterArn",
            "title": ".Properties.ClusterName",
            "blueprint": "\"mskServerlessCluster\"",
            "properties": {
                "state": ".Properties.State",
                "vpcConfigs": ".Properties.Serverless.VpcConfigs",
                "team": ".Properties.Tags.team",
            },
        }}},
    }]}));
    (w, arn)
}

/// `AWS::MSK::ServerlessCluster` through the real binary against moto
/// (`ListMskServerlessClustersAction`, its only action; the kind has no optional one): only
/// the serverless cluster is listed (`clusterTypeFilter=SERVERLESS`), and its raw item is
/// what aws-v3 makes of moto's `ListClustersV2` answer, key for key — declared fields in
/// aws-v3's order, nested members PascalCase (`Serverless.VpcConfigs[].SubnetIds`), `Tags`
/// keys as sent, `CreationTime` (moto's has no zone) as sent — and the entity is made of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msk_serverless_clusters_have_the_aws_v3_shape() {
    let (w, arn) = world_with_an_msk_serverless_cluster().await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::MSK::ServerlessCluster");
    assert_eq!(
        examples.len(),
        1,
        "only the serverless cluster: {examples:#?}"
    );
    let item = &examples[0];
    assert_kind_shape(item);
    let props = &item["Properties"];
    let created = props["CreationTime"].as_str().unwrap().to_string();
    assert!(
        created.len() >= 19 && created.as_bytes()[10] == b'T' && !created.ends_with('Z'),
        "moto's zoneless time as sent: {created}"
    );
    assert_eq!(
        props,
        &json!({
            "ActiveOperationArn": "arn:aws:kafka:region:account-id:operation/active-operation",
            "ClusterArn": arn,
            "ClusterName": "zinc-serverless",
            "ClusterType": "SERVERLESS",
            "CreationTime": created,
            "CurrentVersion": "1.0",
            "State": "CREATING",
            "StateInfo": {"Code": "string", "Message": "Cluster state details."},
            "Tags": {"team": "platform", "tier": "stream"},
            "Serverless": {
                "VpcConfigs": [{
                    "SubnetIds": ["subnet-aaaa", "subnet-bbbb"],
                    "SecurityGroupIds": ["sg-cccc"],
                }],
                "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": true}}},
            },
        })
    );
    assert_eq!(
        keys_in_order(props),
        [
            "ActiveOperationArn",
            "ClusterArn",
            "ClusterName",
            "ClusterType",
            "CreationTime",
            "CurrentVersion",
            "State",
            "StateInfo",
            "Tags",
            "Serverless",
        ]
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    // One page per account (the member account has no cluster); never the v1 listing.
    assert_eq!(w.proxy.hits("ListClustersV2"), 2);
    assert_eq!(w.proxy.hits("ListClusters"), 0);

    let e = w.port.entity("mskServerlessCluster", &arn).unwrap();
    assert_eq!(e["title"], "zinc-serverless");
    assert_eq!(e["properties"]["state"], "CREATING");
    assert_eq!(e["properties"]["team"], "platform");
    assert_eq!(
        e["properties"]["vpcConfigs"][0]["SubnetIds"],
        json!(["subnet-aaaa", "subnet-bbbb"])
    );
}

/// A failed `ListClustersV2` fails the unit: the run ends partial (exit 3) and the entity
/// a previous run made is kept, not deleted as if the cluster were gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msk_serverless_cluster_a_failed_list_clusters_v2_fails_the_unit() {
    let (w, arn) = world_with_an_msk_serverless_cluster().await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "kafka:ListClustersV2",
            code: "InternalServerErrorException",
            not_called: Some("ListClusters"),
            kept: ("mskServerlessCluster", &arn),
        },
    )
    .await;
}

/// `AWS::ECS::Cluster` through the real binary, for two clusters moto describes
/// differently: `plain` (no tags, no options) and `full` (tags, settings, an execute-command
/// configuration, a capacity provider and a default strategy).
/// Each raw item sent to Port is, key for key and in order, what aws-v3 2.20.11-beta makes
/// of moto's `DescribeClusters` answer (its own models run on the same answer): keys ECS
/// left out are absent (no `Tags` on `plain`, no `Statistics`, `Attachments`, …).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_cluster_items_are_exactly_aws_v3_s_for_the_same_moto_state() {
    use aws_sdk_ecs::types::{
        CapacityProviderStrategyItem, ClusterConfiguration, ClusterSetting, ClusterSettingName,
        ExecuteCommandConfiguration, ExecuteCommandLogging, Tag,
    };
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    let ecs = aws_sdk_ecs::Client::new(&moto_config(&w.moto.url(), "eu-west-1").await);
    ecs.create_cluster()
        .cluster_name("plain")
        .send()
        .await
        .unwrap();
    ecs.create_cluster()
        .cluster_name("full")
        .tags(Tag::builder().key("team").value("platform").build())
        .settings(
            ClusterSetting::builder()
                .name(ClusterSettingName::ContainerInsights)
                .value("enabled")
                .build(),
        )
        .configuration(
            ClusterConfiguration::builder()
                .execute_command_configuration(
                    ExecuteCommandConfiguration::builder()
                        .logging(ExecuteCommandLogging::Default)
                        .build(),
                )
                .build(),
        )
        .capacity_providers("FARGATE")
        .default_capacity_provider_strategy(
            CapacityProviderStrategyItem::builder()
                .capacity_provider("FARGATE")
                .weight(1)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    w.port.put_blueprint(json!({
        "identifier": "ecsCluster",
        "title": "ecsCluster",
        "schema": {"properties": {"status": {"type": "string"}}},
    }));
    w.seed_integration(json!({"resources": [ecs_resource(
        "AWS::ECS::Cluster",
        "ecsCluster",
        "ClusterArn"
    )]}));
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let arn = |name: &str| format!("arn:aws:ecs:eu-west-1:{MANAGEMENT}:cluster/{name}");
    let context = json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"});
    // aws-v3's output for moto 5.2.5's answer, produced by running its models on it
    // (`harness/awsv3/`).
    let expected = [
        json!({"Type": "AWS::ECS::Cluster", "Properties": {
            "ClusterName": "plain",
            "ClusterSettings": [{"name": "containerInsights", "value": "disabled"}],
            "Status": "ACTIVE",
            "RunningTasksCount": 0,
            "ActiveServicesCount": 0,
            "PendingTasksCount": 0,
            "RegisteredContainerInstancesCount": 0,
            "ClusterArn": arn("plain"),
        }, "__ExtraContext": context}),
        json!({"Type": "AWS::ECS::Cluster", "Properties": {
            "ClusterName": "full",
            "CapacityProviders": ["FARGATE"],
            "ClusterSettings": [{"name": "containerInsights", "value": "enabled"}],
            "Configuration": {"executeCommandConfiguration": {"logging": "DEFAULT"}},
            // The SDK sends `base: 0`, which moto keeps and answers.
            "DefaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
            "Tags": [{"key": "team", "value": "platform"}],
            "Status": "ACTIVE",
            "RunningTasksCount": 0,
            "ActiveServicesCount": 0,
            "PendingTasksCount": 0,
            "RegisteredContainerInstancesCount": 0,
            "ClusterArn": arn("full"),
        }, "__ExtraContext": context}),
    ];
    let examples = w.port.examples(IDENTIFIER, "AWS::ECS::Cluster");
    assert_eq!(examples.len(), 2, "{examples:#?}");
    for want in &expected {
        let got = examples
            .iter()
            .find(|e| e["Properties"]["ClusterArn"] == want["Properties"]["ClusterArn"])
            .unwrap_or_else(|| {
                panic!(
                    "no item for {}: {examples:#?}",
                    want["Properties"]["ClusterArn"]
                )
            });
        assert_eq!(got, want, "{got:#}");
        assert_eq!(keys_in_order(got), keys_in_order(want));
        assert_eq!(
            keys_in_order(&got["Properties"]),
            keys_in_order(&want["Properties"]),
            "aws-v3's model order"
        );
    }
    assert!(w.port.entity("ecsCluster", &arn("plain")).is_some());
    assert!(w.port.entity("ecsCluster", &arn("full")).is_some());
}

/// `Properties` keys, in order, that aws-v3 2.20.11-beta gives a moto 5.2.5 instance (seeded
/// as the harness does: `ami-12c6146b`, `t3.micro`, default VPC), found by running its
/// models on moto's `DescribeInstances` answer (`harness/awsv3/`): its declared fields first in its model's
/// order, then the other keys (`allow`) in botocore's order. `Tags` is there when the
/// instance has tags.
const DEFAULT_ORDER: [&str; 32] = [
    "AmiLaunchIndex",
    "Architecture",
    "BlockDeviceMappings",
    "ClientToken",
    "EbsOptimized",
    "HibernationOptions",
    "Hypervisor",
    "ImageId",
    "InstanceId",
    "InstanceType",
    "LaunchTime",
    "MetadataOptions",
    "Monitoring",
    "NetworkInterfaces",
    "Placement",
    "Platform",
    "PrivateDnsName",
    "PrivateIpAddress",
    "ProductCodes",
    "PublicDnsName",
    "PublicIpAddress",
    "RootDeviceName",
    "RootDeviceType",
    "SecurityGroups",
    "SourceDestCheck",
    "State",
    "StateReason",
    "StateTransitionReason",
    "SubnetId",
    "VirtualizationType",
    "VpcId",
    "SriovNetSupport",
];

/// [`DEFAULT_ORDER`] with `DescribeInstanceStatusAction`'s keys where aws-v3's model
/// declares them.
const STATUS_ORDER: [&str; 36] = [
    "AmiLaunchIndex",
    "Architecture",
    "AvailabilityZone",
    "BlockDeviceMappings",
    "ClientToken",
    "EbsOptimized",
    "HibernationOptions",
    "Hypervisor",
    "ImageId",
    "InstanceId",
    "InstanceStatus",
    "InstanceState",
    "InstanceType",
    "LaunchTime",
    "MetadataOptions",
    "Monitoring",
    "NetworkInterfaces",
    "Placement",
    "Platform",
    "PrivateDnsName",
    "PrivateIpAddress",
    "ProductCodes",
    "PublicDnsName",
    "PublicIpAddress",
    "RootDeviceName",
    "RootDeviceType",
    "SecurityGroups",
    "SourceDestCheck",
    "State",
    "StateReason",
    "StateTransitionReason",
    "SubnetId",
    "SystemStatus",
    "VirtualizationType",
    "VpcId",
    "SriovNetSupport",
];

/// A moto instance's item is aws-v3's for the same moto state, key for key: `order` (plus
/// `Tags` before `VirtualizationType` when tagged) in that order, and the values moto
/// 5.2.5 always answers as botocore parses them — empty sets as `[]` (`ProductCodes`,
/// `SecurityGroups`, `Ipv6Addresses`), empty elements as `""`/`{}` — with every member of
/// the network interface botocore returns (`Association`, `Attachment`,
/// `PrivateIpAddresses`, …), in botocore's member order.
fn assert_ec2_instance_is_aws_v3_s(item: &Value, region: &str, order: &[&str]) {
    let props = &item["Properties"];
    let mut want: Vec<String> = order.iter().map(|k| k.to_string()).collect();
    if props.get("Tags").is_some() {
        let at = want.iter().position(|k| k == "VirtualizationType").unwrap();
        want.insert(at, "Tags".into());
    }
    assert_eq!(keys_in_order(props), want, "{props:#}");
    assert_eq!(props["ProductCodes"], json!([]));
    assert_eq!(props["SecurityGroups"], json!([]));
    assert_eq!(props["HibernationOptions"], json!({}));
    assert_eq!(props["StateReason"], json!({"Code": "", "Message": ""}));
    assert_eq!(props["StateTransitionReason"], "");
    assert_eq!(
        props["Placement"],
        json!({"GroupName": "", "Tenancy": "default", "AvailabilityZone": format!("{region}a")})
    );
    assert_eq!(
        keys_in_order(&props["Placement"]),
        ["GroupName", "Tenancy", "AvailabilityZone"]
    );
    assert_eq!(
        keys_in_order(&props["MetadataOptions"]),
        [
            "State",
            "HttpTokens",
            "HttpPutResponseHopLimit",
            "HttpEndpoint",
            "HttpProtocolIpv6",
            "InstanceMetadataTags"
        ]
    );
    assert_eq!(props["SriovNetSupport"], "simple");
    let bdm = &props["BlockDeviceMappings"][0];
    assert_eq!(keys_in_order(bdm), ["DeviceName", "Ebs"]);
    assert_eq!(
        keys_in_order(&bdm["Ebs"]),
        ["AttachTime", "DeleteOnTermination", "Status", "VolumeId"]
    );
    let nics = props["NetworkInterfaces"].as_array().unwrap();
    assert_eq!(nics.len(), 1, "{props:#}");
    let nic = &nics[0];
    assert_eq!(
        keys_in_order(nic),
        [
            "Association",
            "Attachment",
            "Description",
            "Groups",
            "Ipv6Addresses",
            "MacAddress",
            "NetworkInterfaceId",
            "OwnerId",
            "PrivateDnsName",
            "PrivateIpAddress",
            "PrivateIpAddresses",
            "SourceDestCheck",
            "Status",
            "SubnetId",
            "VpcId",
            "InterfaceType",
        ],
        "{nic:#}"
    );
    let association = json!({
        "IpOwnerId": item["__ExtraContext"]["OwnerId"],
        "PublicDnsName": nic["Association"]["PublicDnsName"],
        "PublicIp": props["PublicIpAddress"],
    });
    assert_eq!(nic["Association"], association);
    assert_eq!(
        keys_in_order(&nic["Association"]),
        keys_in_order(&association)
    );
    assert!(nic["Association"]["PublicDnsName"].is_string());
    let attachment = &nic["Attachment"];
    assert_eq!(
        keys_in_order(attachment),
        [
            "AttachTime",
            "AttachmentId",
            "DeleteOnTermination",
            "DeviceIndex",
            "Status",
            "NetworkCardIndex"
        ]
    );
    assert_eq!(attachment["AttachTime"], props["LaunchTime"]);
    assert_eq!(attachment["DeleteOnTermination"], false);
    assert_eq!(attachment["DeviceIndex"], 0);
    assert_eq!(attachment["Status"], "attached");
    assert_eq!(attachment["NetworkCardIndex"], 0);
    assert_eq!(nic["Description"], "Primary network interface");
    assert_eq!(nic["Groups"][0]["GroupName"], "default");
    assert_eq!(keys_in_order(&nic["Groups"][0]), ["GroupId", "GroupName"]);
    assert_eq!(nic["Ipv6Addresses"], json!([]));
    assert_eq!(
        nic["PrivateIpAddresses"],
        json!([{"Association": association, "Primary": true, "PrivateIpAddress": props["PrivateIpAddress"]}])
    );
    assert_eq!(
        keys_in_order(&nic["PrivateIpAddresses"][0]),
        ["Association", "Primary", "PrivateIpAddress"]
    );
    assert_eq!(nic["PrivateIpAddress"], props["PrivateIpAddress"]);
    assert_eq!(nic["SubnetId"], props["SubnetId"]);
    assert_eq!(nic["Status"], "in-use");
    assert_eq!(nic["InterfaceType"], "interface");
    assert_eq!(
        keys_in_order(&item["__ExtraContext"]),
        ["AccountId", "Region", "ReservationId", "OwnerId", "Groups"]
    );
    assert_eq!(item["__ExtraContext"]["Groups"], json!([]));
}

/// `AWS::EC2::Instance` through the real binary with `DescribeInstanceStatusAction`, for an
/// untagged instance the test starts: the raw item sent to Port has every key botocore
/// gives for moto's answer and no other, in aws-v3's order with the status keys where
/// aws-v3's model declares them; no `Tags` (moto sends no tag set for it), `ProductCodes:
/// []` (moto sends an empty one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_instance_items_have_every_key_aws_v3_gives_for_the_same_moto_state() {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    let ec2 = aws_sdk_ec2::Client::new(&moto_config(&w.moto.url(), "eu-west-1").await);
    let id = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    w.port.put_blueprint(json!({
        "identifier": "instanceItem",
        "title": "instance item",
        "schema": {"properties": {"status": {"type": "string"}}},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": "AWS::EC2::Instance",
        "selector": {"query": "true", "includeActions": ["DescribeInstanceStatusAction"],
            "regionPolicy": {"allow": ["eu-west-1"]}},
        "port": {"entity": {"mappings": {
            "identifier": ".Properties.InstanceId",
            "blueprint": "\"instanceItem\"",
            "properties": {"status": ".Properties.InstanceStatus.Status"},
        }}},
    }]}));
    let run = run_binary(&["sail", "--once"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::EC2::Instance");
    let item = examples
        .iter()
        .find(|e| e["Properties"]["InstanceId"] == json!(id))
        .unwrap_or_else(|| panic!("no item for {id}: {examples:#?}"));
    assert!(item["Properties"].get("Tags").is_none(), "{item:#}");
    assert_ec2_instance_is_aws_v3_s(item, "eu-west-1", &STATUS_ORDER);
    let props = &item["Properties"];
    assert_eq!(props["InstanceState"], props["State"]);
    assert_eq!(props["AvailabilityZone"], "eu-west-1a");
    assert_eq!(
        props["InstanceStatus"],
        json!({"Details": [{"Name": "reachability", "Status": "passed"}], "Status": "ok"})
    );
    assert_eq!(props["SystemStatus"], props["InstanceStatus"]);
    assert_eq!(item["__ExtraContext"]["OwnerId"], MANAGEMENT);
    let e = w.port.entity("instanceItem", &id).unwrap();
    assert_eq!(e["properties"]["status"], "ok");
}

/// A world with one CodeBuild project `zinc-build` in eu-west-1 of the management account
/// (GitHub source, S3 artifacts, a Linux environment with one variable, 30/120-minute
/// timeouts, two tags; created through the SDK against moto) and the mapping of
/// `resources/kinds/<example>.yml` listed in eu-west-1, with its blueprint. `members` is the
/// number of member accounts beside the management one. Returns the world and the
/// project's ARN.
async fn world_with_a_codebuild_project(members: &str, example: &str) -> (World, String) {
    let w = World::start(&[
        "--members",
        members,
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    use aws_sdk_codebuild::types::{
        ArtifactsType, ComputeType, EnvironmentType, EnvironmentVariable, ProjectArtifacts,
        ProjectEnvironment, ProjectSource, SourceType, Tag,
    };
    let arn = aws_sdk_codebuild::Client::new(&config)
        .create_project()
        .name("zinc-build")
        .description("builds zinc")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::Github)
                .location("https://github.com/example/zinc.git")
                .git_clone_depth(1)
                .build()
                .unwrap(),
        )
        .artifacts(
            ProjectArtifacts::builder()
                .r#type(ArtifactsType::S3)
                .location("zinc-artifacts")
                .build()
                .unwrap(),
        )
        .environment(
            ProjectEnvironment::builder()
                .r#type(EnvironmentType::LinuxContainer)
                .image("aws/codebuild/amazonlinux2-x86_64-standard:5.0")
                .compute_type(ComputeType::BuildGeneral1Small)
                .environment_variables(
                    EnvironmentVariable::builder()
                        .name("STAGE")
                        .value("prod")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .service_role(format!("arn:aws:iam::{MANAGEMENT}:role/zinc-build-role"))
        .timeout_in_minutes(30)
        .queued_timeout_in_minutes(120)
        .tags(Tag::builder().key("team").value("platform").build())
        .tags(Tag::builder().key("tier").value("ci").build())
        .send()
        .await
        .unwrap()
        .project
        .unwrap()
        .arn
        .unwrap();
    seed_kind_example(&w, example);
    (w, arn)
}

/// Seeds the user example of a kind, `resources/kinds/<example>.yml` with its blueprint
/// `resources/kinds/<example>.blueprint.json`, each resource listed in eu-west-1 only.
fn seed_kind_example(w: &World, example: &str) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/resources/kinds");
    w.port.put_blueprint(
        serde_json::from_str(
            &std::fs::read_to_string(format!("{dir}/{example}.blueprint.json")).unwrap(),
        )
        .unwrap(),
    );
    let mut config: Value =
        serde_yaml::from_str(&std::fs::read_to_string(format!("{dir}/{example}.yml")).unwrap())
            .unwrap();
    for r in config["resources"].as_array_mut().unwrap() {
        r["selector"]["regionPolicy"] = json!({"allow": ["eu-west-1"]});
    }
    w.seed_integration(config);
}

/// `AWS::CodeBuild::Project` through the real binary (`GetProjectDetailsAction`, its only
/// action): the raw item sent to Port is aws-v3's key for key — the declared keys moto
/// returned, PascalCase in the model's order, nested values in CodeBuild's camelCase,
/// `Created` RFC 3339, `Tags` as `[{key, value}]`, `__ExtraContext` `{AccountId, Region}`
/// (no `__Region`/`__AccountId`, which aws-v3's example shows but its code never emits) —
/// and the entity of aws-v3's example mapping is made of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codebuild_projects_have_the_aws_v3_shape() {
    let (w, arn) = world_with_a_codebuild_project("1", "codebuild-project").await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::CodeBuild::Project");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(
        keys_in_order(item),
        ["Type", "Properties", "__ExtraContext"],
        "{item:#}"
    );
    assert_kind_shape(item);
    let props = &item["Properties"];
    let model_order = [
        "Arn",
        "Artifacts",
        "AutoRetryLimit",
        "Badge",
        "BuildBatchConfig",
        "Cache",
        "ConcurrentBuildLimit",
        "Created",
        "Description",
        "EncryptionKey",
        "Environment",
        "FileSystemLocations",
        "LastModified",
        "LogsConfig",
        "Name",
        "ProjectVisibility",
        "PublicProjectAlias",
        "QueuedTimeoutInMinutes",
        "ResourceAccessRole",
        "SecondaryArtifacts",
        "SecondarySources",
        "SecondarySourceVersions",
        "ServiceRole",
        "Source",
        "SourceVersion",
        "Tags",
        "TimeoutInMinutes",
        "VpcConfig",
        "Webhook",
    ];
    let got = keys_in_order(props);
    let mut expected: Vec<&str> = model_order.to_vec();
    expected.retain(|k| got.iter().any(|g| g == k));
    assert_eq!(
        got, expected,
        "declared keys only, in the model's order: {props:#}"
    );
    assert_eq!(props["Arn"], json!(arn));
    assert_eq!(props["Name"], "zinc-build");
    assert_eq!(props["Description"], "builds zinc");
    assert_eq!(
        props["ServiceRole"],
        json!(format!("arn:aws:iam::{MANAGEMENT}:role/zinc-build-role"))
    );
    assert_eq!(props["TimeoutInMinutes"], 30);
    assert_eq!(props["QueuedTimeoutInMinutes"], 120);
    assert_eq!(props["Source"]["type"], "GITHUB");
    assert_eq!(
        props["Source"]["location"],
        "https://github.com/example/zinc.git"
    );
    assert_eq!(props["Source"]["gitCloneDepth"], 1);
    assert_eq!(
        props["Artifacts"],
        json!({"type": "S3", "location": "zinc-artifacts"})
    );
    assert_eq!(
        props["Environment"]["environmentVariables"],
        json!([{"name": "STAGE", "value": "prod"}])
    );
    assert_eq!(
        props["Tags"],
        json!([{"key": "team", "value": "platform"}, {"key": "tier", "value": "ci"}])
    );
    let created = props["Created"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.contains('T'),
        "RFC 3339: {created}"
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("BatchGetProjects"), 1);

    let e = w.port.entity("codeBuildProject", &arn).unwrap();
    assert_eq!(e["properties"]["name"], "zinc-build");
    assert_eq!(e["properties"]["timeoutInMinutes"], 30);
    assert_eq!(e["properties"]["created"], json!(created));
    assert_eq!(e["relations"]["account"], MANAGEMENT);
}

/// What AWS sends that moto does not, answered by the proxy with canned CodeBuild bodies
/// written from the API reference: `ListProjects` in two pages (every page is listed), and
/// `BatchGetProjects` with epoch-second timestamps (top-level and `Webhook`'s, RFC 3339 as
/// aws-v3 writes them), `null` members (absent), a key aws-v3's model does not declare
/// (dropped) and a project deleted since the listing under `projectsNotFound` (left out, as
/// aws-v3 does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codebuild_projects_are_paged_to_the_end_with_epoch_timestamps_as_rfc3339() {
    // The management account alone, so that both canned pages answer its one listing.
    let (w, arn) = world_with_a_codebuild_project("0", "codebuild-project").await;
    let arn_of = |n: &str| format!("arn:aws:codebuild:eu-west-1:{MANAGEMENT}:project/{n}");
    for body in [
        json!({"projects": ["zinc-build"], "nextToken": "page-2"}),
        json!({"projects": ["copper-build", "gone-build"]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListProjects".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    // The raw examples sent to Port mask `lastModifiedSecret` (its name says "secret"), so
    // the entity carries it to show the item's value.
    let mut blueprint: Value = serde_json::from_str(include_str!(
        "../resources/kinds/codebuild-project.blueprint.json"
    ))
    .unwrap();
    blueprint["schema"]["properties"]["webhookSecretModified"] = json!({"type": "string"});
    w.port.put_blueprint(blueprint);
    let mut config: Value =
        serde_yaml::from_str(include_str!("../resources/kinds/codebuild-project.yml")).unwrap();
    let resource = &mut config["resources"][0];
    resource["selector"]["regionPolicy"] = json!({"allow": ["eu-west-1"]});
    resource["port"]["entity"]["mappings"]["properties"]["webhookSecretModified"] =
        json!(".Properties.Webhook.lastModifiedSecret");
    w.seed_integration(config);
    // The first page's project comes from moto; the second page's from this canned answer.
    w.proxy.add_rule(Rule {
        action: "BatchGetProjects".into(),
        skip: 1,
        body: Some(
            json!({
                "projects": [{
                    "name": "copper-build", "arn": arn_of("copper-build"),
                    "description": null,
                    "source": {"type": "CODECOMMIT", "location": "https://git-codecommit/copper",
                        "buildspec": null},
                    "created": 1703123456.789, "lastModified": 1703123457,
                    "webhook": {"url": "https://codebuild/webhooks?1", "branchFilter": "main",
                        "lastModifiedSecret": 1703123458.25, "filterGroups": [[{"type": "EVENT", "pattern": "PUSH"}]]},
                    "projectVisibility": "PRIVATE", "concurrentBuildLimit": 2,
                    "autoRetryLimit": 0, "tags": [],
                    "someFutureMember": {"x": 1},
                }],
                "projectsNotFound": ["gone-build"],
            })
            .to_string(),
        ),
        times: 1,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListProjects"), 2);
    assert_eq!(w.proxy.hits("BatchGetProjects"), 2);

    let mut examples = w.port.examples(IDENTIFIER, "AWS::CodeBuild::Project");
    examples.sort_by_key(|e| e["Properties"]["Name"].as_str().unwrap().to_string());
    assert_eq!(examples.len(), 2, "{examples:#?}");
    assert_eq!(
        examples[0]["Properties"],
        json!({
            "Arn": arn_of("copper-build"),
            "AutoRetryLimit": 0,
            "ConcurrentBuildLimit": 2,
            "Created": "2023-12-21T01:50:56.789000Z",
            "LastModified": "2023-12-21T01:50:57Z",
            "Name": "copper-build",
            "ProjectVisibility": "PRIVATE",
            "Source": {"type": "CODECOMMIT", "location": "https://git-codecommit/copper"},
            "Tags": [],
            "Webhook": {"url": "https://codebuild/webhooks?1", "branchFilter": "main",
                "lastModifiedSecret": "********",
                "filterGroups": [[{"type": "EVENT", "pattern": "PUSH"}]]},
        })
    );
    assert_eq!(
        keys_in_order(&examples[0]["Properties"]),
        [
            "Arn",
            "AutoRetryLimit",
            "ConcurrentBuildLimit",
            "Created",
            "LastModified",
            "Name",
            "ProjectVisibility",
            "Source",
            "Tags",
            "Webhook"
        ]
    );
    assert_eq!(examples[1]["Properties"]["Arn"], json!(arn));
    let copper = w
        .port
        .entity("codeBuildProject", &arn_of("copper-build"))
        .unwrap();
    assert_eq!(
        copper["properties"]["webhookSecretModified"],
        "2023-12-21T01:50:58.250000Z"
    );
    assert_eq!(
        copper["properties"]["created"],
        "2023-12-21T01:50:56.789000Z"
    );
    assert!(
        w.port
            .entity("codeBuildProject", &arn_of("gone-build"))
            .is_none()
    );
}

/// A failed `ListProjects` fails the unit: the run ends partial (exit 3), nothing is
/// described, and the project entity a previous run made is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codebuild_project_a_failed_list_projects_fails_the_unit() {
    let (w, arn) = world_with_a_codebuild_project("1", "codebuild-project").await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codebuild:ListProjects",
            code: "InternalServerException",
            not_called: Some("BatchGetProjects"),
            kept: ("codeBuildProject", &arn),
        },
    )
    .await;
}

/// A failed `BatchGetProjects` fails the unit too: aws-v3 builds a project's item from that
/// call alone and would emit nothing, so the project entity of the last run would be
/// deleted as if the project were gone; here the run is partial and the entity is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codebuild_project_a_failed_batch_get_projects_fails_the_unit() {
    let (w, arn) = world_with_a_codebuild_project("1", "codebuild-project").await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codebuild:BatchGetProjects",
            code: "InternalServerException",
            not_called: None,
            kept: ("codeBuildProject", &arn),
        },
    )
    .await;
}

/// [`world_with_a_codebuild_project`] with the `AWS::CodeBuild::BuildRun` mapping of
/// `resources/kinds/codebuild-build-run.yml` and two builds of the project started through
/// the SDK against moto. Returns the world and the build ids, oldest first.
async fn world_with_codebuild_builds(members: &str) -> (World, Vec<String>) {
    let (w, _) = world_with_a_codebuild_project(members, "codebuild-build-run").await;
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    let codebuild = aws_sdk_codebuild::Client::new(&config);
    let mut ids = Vec::new();
    for version in ["main", "v2"] {
        let build = codebuild
            .start_build()
            .project_name("zinc-build")
            .source_version(version)
            .send()
            .await
            .unwrap();
        ids.push(build.build_value().unwrap().id().unwrap().to_string());
    }
    (w, ids)
}

/// `AWS::CodeBuild::BuildRun` through the real binary (`ListBuildsAction` and
/// `GetBuildDetailsAction`, both default): every build of the region (aws-v3's default,
/// the whole retained history), each raw item aws-v3's key for key — the declared keys moto
/// returned, PascalCase in the model's order, nested values in CodeBuild's camelCase,
/// `StartTime`/`EndTime` and the phases' times RFC 3339, `__ExtraContext`
/// `{AccountId, Region}` — and the entities of aws-v3's example mapping are made of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codebuild_build_runs_have_the_aws_v3_shape() {
    let (w, ids) = world_with_codebuild_builds("1").await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let mut examples = w.port.examples(IDENTIFIER, "AWS::CodeBuild::BuildRun");
    examples.sort_by_key(|e| {
        e["Properties"]["SourceVersion"]
            .as_str()
            .unwrap()
            .to_string()
    });
    assert_eq!(examples.len(), 2, "{examples:#?}");
    let model_order = [
        "Arn",
        "Artifacts",
        "AutoRetryConfig",
        "BuildBatchArn",
        "BuildComplete",
        "BuildNumber",
        "BuildStatus",
        "Cache",
        "CurrentPhase",
        "DebugSession",
        "EncryptionKey",
        "EndTime",
        "Environment",
        "ExportedEnvironmentVariables",
        "FileSystemLocations",
        "Id",
        "Initiator",
        "Logs",
        "NetworkInterface",
        "Phases",
        "ProjectName",
        "QueuedTimeoutInMinutes",
        "ReportArns",
        "ResolvedSourceVersion",
        "SecondaryArtifacts",
        "SecondarySources",
        "SecondarySourceVersions",
        "ServiceRole",
        "Source",
        "SourceVersion",
        "StartTime",
        "TimeoutInMinutes",
        "VpcConfig",
    ];
    let rfc3339 = |v: &Value| {
        v.as_str()
            .is_some_and(|t| t.ends_with('Z') && t.contains('T'))
    };
    for (item, (id, version)) in examples.iter().zip(ids.iter().zip(["main", "v2"])) {
        assert_eq!(
            keys_in_order(item),
            ["Type", "Properties", "__ExtraContext"],
            "{item:#}"
        );
        assert_kind_shape(item);
        let props = &item["Properties"];
        let got = keys_in_order(props);
        let mut expected: Vec<&str> = model_order.to_vec();
        expected.retain(|k| got.iter().any(|g| g == k));
        assert_eq!(
            got, expected,
            "declared keys only, in the model's order: {props:#}"
        );
        assert_eq!(props["Id"], json!(id));
        assert_eq!(
            props["Arn"],
            json!(format!(
                "arn:aws:codebuild:eu-west-1:{MANAGEMENT}:build/{id}"
            ))
        );
        assert_eq!(props["ProjectName"], "zinc-build");
        assert_eq!(props["SourceVersion"], version);
        assert_eq!(props["BuildStatus"], "SUCCEEDED");
        assert_eq!(props["CurrentPhase"], "COMPLETED");
        assert!(rfc3339(&props["StartTime"]), "{props:#}");
        assert!(rfc3339(&props["EndTime"]), "{props:#}");
        let phases = props["Phases"].as_array().unwrap();
        assert_eq!(phases[0]["phaseType"], "SUBMITTED");
        assert!(
            phases
                .iter()
                .all(|p| rfc3339(&p["startTime"]) && p.get("endTime").is_none_or(rfc3339)),
            "{phases:#?}"
        );
        assert_eq!(
            item["__ExtraContext"],
            json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
        );
        let e = w.port.entity("codeBuildBuildRun", id).unwrap();
        assert_eq!(e["properties"]["projectName"], "zinc-build");
        assert_eq!(e["properties"]["buildStatus"], "SUCCEEDED");
        assert_eq!(e["properties"]["startTime"], props["StartTime"]);
        assert_eq!(
            e["title"],
            json!(format!("zinc-build - Build {}", props["BuildNumber"]))
        );
        assert_eq!(e["relations"]["account"], MANAGEMENT);
    }
    // Both builds in one BatchGetBuilds: one call per batch of up to 100 ids.
    assert_eq!(w.proxy.hits("BatchGetBuilds"), 1);
}

/// The whole retained history, paged to the end, with what AWS sends that moto does not,
/// answered by the proxy with canned CodeBuild bodies written from the API reference:
/// `ListBuilds` in two pages (moto's two builds, then two more), and for the second page a
/// `BatchGetBuilds` with epoch-second timestamps (top-level and the phases', RFC 3339 as
/// aws-v3 writes them), `null` members (absent), a key aws-v3's model does not declare
/// (dropped) and a build deleted since the listing under `buildsNotFound` (left out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codebuild_build_runs_are_the_whole_history_paged_to_the_end_with_rfc3339_times() {
    // The management account alone, so that both canned pages answer its one listing.
    let (w, ids) = world_with_codebuild_builds("0").await;
    for body in [
        json!({"ids": ids, "nextToken": "page-2"}),
        json!({"ids": ["copper-build:0001", "copper-build:0000"]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListBuilds".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    let copper_arn = format!("arn:aws:codebuild:eu-west-1:{MANAGEMENT}:build/copper-build:0001");
    w.proxy.add_rule(Rule {
        action: "BatchGetBuilds".into(),
        skip: 1,
        body: Some(
            json!({
                "builds": [{
                    "id": "copper-build:0001", "arn": copper_arn, "buildNumber": 7,
                    "startTime": 1703123456.789, "endTime": 1703123517,
                    "currentPhase": "COMPLETED", "buildStatus": "FAILED",
                    "projectName": "copper-build", "resolvedSourceVersion": null,
                    "phases": [
                        {"phaseType": "SUBMITTED", "phaseStatus": "SUCCEEDED",
                            "startTime": 1703123456.789, "endTime": 1703123457.5,
                            "durationInSeconds": 0},
                        {"phaseType": "BUILD", "phaseStatus": "FAILED",
                            "startTime": 1703123457.5, "endTime": 1703123517,
                            "durationInSeconds": 59,
                            "contexts": [{"statusCode": "COMMAND_EXECUTION_ERROR", "message": "exit 1"}]},
                        {"phaseType": "COMPLETED", "startTime": 1703123517},
                    ],
                    "buildComplete": true, "initiator": "codepipeline/zinc",
                    "reportArns": [], "someFutureMember": {"x": 1},
                }],
                "buildsNotFound": ["copper-build:0000"],
            })
            .to_string(),
        ),
        times: 1,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListBuilds"), 2);
    assert_eq!(w.proxy.hits("BatchGetBuilds"), 2);

    let examples = w.port.examples(IDENTIFIER, "AWS::CodeBuild::BuildRun");
    let got: BTreeSet<&str> = examples
        .iter()
        .map(|e| e["Properties"]["Id"].as_str().unwrap())
        .collect();
    let want: BTreeSet<&str> = [ids[0].as_str(), ids[1].as_str(), "copper-build:0001"].into();
    assert_eq!(got, want, "every page; the build not found left out");
    let copper = examples
        .iter()
        .find(|e| e["Properties"]["Id"] == "copper-build:0001")
        .unwrap();
    assert_eq!(
        copper["Properties"],
        json!({
            "Arn": copper_arn,
            "BuildComplete": true,
            "BuildNumber": 7,
            "BuildStatus": "FAILED",
            "CurrentPhase": "COMPLETED",
            "EndTime": "2023-12-21T01:51:57Z",
            "Id": "copper-build:0001",
            "Initiator": "codepipeline/zinc",
            "Phases": [
                {"phaseType": "SUBMITTED", "phaseStatus": "SUCCEEDED",
                    "startTime": "2023-12-21T01:50:56.789000Z",
                    "endTime": "2023-12-21T01:50:57.500000Z", "durationInSeconds": 0},
                {"phaseType": "BUILD", "phaseStatus": "FAILED",
                    "startTime": "2023-12-21T01:50:57.500000Z", "endTime": "2023-12-21T01:51:57Z",
                    "durationInSeconds": 59,
                    "contexts": [{"statusCode": "COMMAND_EXECUTION_ERROR", "message": "exit 1"}]},
                {"phaseType": "COMPLETED", "startTime": "2023-12-21T01:51:57Z"},
            ],
            "ProjectName": "copper-build",
            "ReportArns": [],
            "StartTime": "2023-12-21T01:50:56.789000Z",
        })
    );
    assert_eq!(
        keys_in_order(&copper["Properties"]),
        [
            "Arn",
            "BuildComplete",
            "BuildNumber",
            "BuildStatus",
            "CurrentPhase",
            "EndTime",
            "Id",
            "Initiator",
            "Phases",
            "ProjectName",
            "ReportArns",
            "StartTime"
        ]
    );
    assert!(
        w.port
            .entity("codeBuildBuildRun", "copper-build:0001")
            .is_some()
    );
    assert!(
        w.port
            .entity("codeBuildBuildRun", "copper-build:0000")
            .is_none()
    );
    for id in &ids {
        assert!(w.port.entity("codeBuildBuildRun", id).is_some());
    }
}

/// A failed `BatchGetBuilds` does not fail the unit (aws-v3 logs it and goes on): each
/// build is sent with its `Id` only (what aws-v3's `ListBuildsAction` gives), the run is
/// complete, and the failure is logged as an enrichment failure naming the account,
/// region, kind and action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codebuild_build_run_a_failed_batch_get_builds_keeps_the_build_id_only() {
    let (w, ids) = world_with_codebuild_builds("1").await;
    w.proxy.add_rule(Rule {
        action: "BatchGetBuilds".into(),
        status: 400,
        code: "AccessDeniedException".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(w.proxy.hits("BatchGetBuilds") >= 1);
    let mut examples = w.port.examples(IDENTIFIER, "AWS::CodeBuild::BuildRun");
    examples.sort_by_key(|e| e["Properties"]["Id"].as_str().unwrap().to_string());
    let mut want: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({
                "Type": "AWS::CodeBuild::BuildRun",
                "Properties": {"Id": id},
                "__ExtraContext": {"AccountId": MANAGEMENT, "Region": "eu-west-1"},
            })
        })
        .collect();
    want.sort_by_key(|e| e["Properties"]["Id"].as_str().unwrap().to_string());
    assert_eq!(examples, want);
    for id in &ids {
        assert!(w.port.entity("codeBuildBuildRun", id).is_some(), "{id}");
    }
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::CodeBuild::BuildRun",
        "GetBuildDetailsAction",
        "AccessDenied",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// A failed `ListBuilds` fails the unit: the run ends partial (exit 3), nothing is
/// described, and the build entity a previous run made is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codebuild_build_run_a_failed_list_builds_fails_the_unit() {
    let (w, ids) = world_with_codebuild_builds("1").await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codebuild:ListBuilds",
            code: "InternalServerException",
            not_called: Some("BatchGetBuilds"),
            kept: ("codeBuildBuildRun", &ids[0]),
        },
    )
    .await;
}

/// A world with no seeded resources and one member account, where the test creates SES
/// resources itself in moto's management account, eu-west-1; and one mapping resource of
/// `kind` making a `blueprint` entity per item (identified by `.Properties.<id>`, holding the
/// whole raw item), allowed in eu-west-1 and cn-north-1: enabled in moto (its
/// `DescribeRegions` reports it opted in) but not in aws-v3's SES region list, so never
/// called. `include` is its `includeActions`.
async fn world_for_ses(kind: &str, blueprint: &str, id: &str, include: Value) -> World {
    let w = World::start(&[
        "--members",
        "1",
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    w.port.put_blueprint(json!({
        "identifier": blueprint,
        "title": blueprint,
        "schema": {"properties": {"item": {"type": "object"}}},
    }));
    w.seed_integration(json!({"resources": [{
        "kind": kind,
        "selector": {
            "query": "true",
            "regionPolicy": {"allow": ["eu-west-1", "cn-north-1"]},
            "includeActions": include,
        },
        "port": {"entity": {"mappings": {
            "identifier": format!(".Properties.{id}"),
            "blueprint": format!("\"{blueprint}\""),
            "properties": {"item": "."},
        }}},
    }]}));
    w
}

/// An SES v2 client talking to moto directly, eu-west-1 of the management account.
async fn sesv2_client(w: &World) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(&moto_config(&w.moto.url(), "eu-west-1").await)
}

/// The raw items (`item` property) of the entities of `blueprint`, by identifier.
fn items_of(w: &World, blueprint: &str) -> std::collections::BTreeMap<String, Value> {
    w.port
        .entities()
        .into_iter()
        .filter(|e| e["blueprint"] == blueprint)
        .map(|e| {
            (
                e["identifier"].as_str().unwrap().to_string(),
                e["properties"]["item"].clone(),
            )
        })
        .collect()
}

/// A world for `AWS::SES::EmailIdentity` (`sesIdentity` entities by `IdentityName`) with a
/// domain identity `zinc.example.com` (two tags, a sending policy) and an email address
/// identity `ops@zinc.example.com` (configuration set `zinc-set`), created through the SDK
/// against moto. The mapping names the kind's two (default) actions in `includeActions`.
async fn world_with_ses_identities() -> World {
    let w = world_for_ses(
        "AWS::SES::EmailIdentity",
        "sesIdentity",
        "IdentityName",
        json!(["ListEmailIdentitiesAction", "GetEmailIdentityAction"]),
    )
    .await;
    use aws_sdk_sesv2::types::Tag;
    let ses = sesv2_client(&w).await;
    ses.create_email_identity()
        .email_identity("zinc.example.com")
        .tags(
            Tag::builder()
                .key("team")
                .value("platform")
                .build()
                .unwrap(),
        )
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .unwrap();
    ses.create_email_identity_policy()
        .email_identity("zinc.example.com")
        .policy_name("send")
        .policy(SES_POLICY)
        .send()
        .await
        .unwrap();
    ses.create_email_identity()
        .email_identity("ops@zinc.example.com")
        .configuration_set_name("zinc-set")
        .send()
        .await
        .unwrap();
    w
}

/// A sending authorization policy document.
const SES_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ses:SendEmail","Resource":"*"}]}"#;

/// `AWS::SES::EmailIdentity` through the real binary: listed only in aws-v3's SES regions
/// (eu-west-1 here; cn-north-1, allowed by the mapping and enabled, is never called), one
/// `GetEmailIdentity` per identity, and each raw item aws-v3's key for key — the listed
/// entry with the `GetEmailIdentity` answer over it, aws-v3's declared keys in its model's
/// order, members moto sends as `null` (`Tags`, `ConfigurationSetName`) absent as botocore
/// drops them, `Policies` a map of documents. The kind has no optional action; its default
/// ones may be named in `includeActions` (accepted, not warned about as ignored).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_email_identities_have_the_aws_v3_shape_in_aws_v3_s_regions_only() {
    let w = world_with_ses_identities().await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("they are ignored"), "{}", run.stderr);

    let items = items_of(&w, "sesIdentity");
    assert_eq!(
        items.keys().collect::<Vec<_>>(),
        ["ops@zinc.example.com", "zinc.example.com"],
        "{items:#?}"
    );
    let domain = &items["zinc.example.com"];
    assert_eq!(
        keys(domain),
        keys(&example("ses-email-identity")),
        "{domain:#}"
    );
    assert_kind_shape(domain);
    assert_eq!(
        domain,
        &json!({
            "Type": "AWS::SES::EmailIdentity",
            "Properties": {
                "IdentityName": "zinc.example.com",
                "IdentityType": "DOMAIN",
                "SendingEnabled": true,
                "FeedbackForwardingStatus": false,
                "VerifiedForSendingStatus": false,
                "DkimAttributes": {
                    "SigningEnabled": false,
                    "Status": "NOT_STARTED",
                    "NextSigningKeyLength": "RSA_1024_BIT",
                    "SigningAttributesOrigin": "AWS_SES",
                },
                "Policies": {"send": SES_POLICY},
                "Tags": [
                    {"Key": "team", "Value": "platform"},
                    {"Key": "env", "Value": "prod"},
                ],
                "VerificationStatus": "SUCCESS",
            },
            "__ExtraContext": {"AccountId": MANAGEMENT, "Region": "eu-west-1"},
        })
    );
    let order: Vec<&str> = domain["Properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        order,
        [
            "IdentityName",
            "IdentityType",
            "SendingEnabled",
            "FeedbackForwardingStatus",
            "VerifiedForSendingStatus",
            "DkimAttributes",
            "Policies",
            "Tags",
            "VerificationStatus",
        ]
    );
    let ops = &items["ops@zinc.example.com"]["Properties"];
    assert_eq!(ops["IdentityType"], "EMAIL_ADDRESS");
    assert_eq!(ops["ConfigurationSetName"], "zinc-set");
    assert_eq!(ops["Policies"], json!({}));
    assert!(ops.get("Tags").is_none(), "{ops:#}");

    // Listed in eu-west-1 of each account, never in cn-north-1.
    let calls = w.proxy.calls();
    let regions: BTreeSet<&str> = calls
        .iter()
        .filter(|c| c.service == "ses")
        .map(|c| c.region.as_str())
        .collect();
    assert_eq!(regions, BTreeSet::from(["eu-west-1"]));
    assert_eq!(w.proxy.hits("ListEmailIdentities"), 2);
    assert_eq!(w.proxy.hits("GetEmailIdentity"), 2);
}

/// What SES sends that moto does not (the proxy answers `GetEmailIdentity` with a body
/// written from the SES v2 API reference): nested timestamps, epoch seconds on the wire,
/// become RFC 3339 as aws-v3 writes them; `MailFromAttributes` and `VerificationInfo` pass
/// as sent; a member sent as `null` is absent and keys aws-v3's model does not declare are
/// dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_email_identity_epoch_timestamps_are_rfc3339_and_undeclared_keys_are_dropped() {
    let w = world_with_ses_identities().await;
    w.proxy.add_rule(Rule {
        action: "GetEmailIdentity".into(),
        times: 10_000,
        body: Some(
            json!({
                "IdentityType": "DOMAIN",
                "FeedbackForwardingStatus": true,
                "VerifiedForSendingStatus": true,
                "DkimAttributes": {
                    "SigningEnabled": true,
                    "Status": "SUCCESS",
                    "Tokens": ["t1", "t2", "t3"],
                    "SigningAttributesOrigin": "AWS_SES",
                    "NextSigningKeyLength": "RSA_2048_BIT",
                    "CurrentSigningKeyLength": "RSA_2048_BIT",
                    "LastKeyGenerationTimestamp": 1705314600.25,
                },
                "MailFromAttributes": {
                    "MailFromDomain": "mail.zinc.example.com",
                    "MailFromDomainStatus": "SUCCESS",
                    "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
                },
                "Policies": {},
                "Tags": [{"Key": "team", "Value": "platform"}],
                "ConfigurationSetName": null,
                "VerificationStatus": "SUCCESS",
                "VerificationInfo": {
                    "LastCheckedTimestamp": 1705314600,
                    "LastSuccessTimestamp": 1705314000.5,
                    "SOARecord": {
                        "PrimaryNameServer": "ns-1.example.com",
                        "AdminEmail": "admin.example.com",
                        "SerialNumber": 7,
                    },
                },
                "NotDeclared": "dropped",
            })
            .to_string(),
        ),
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let props = &items_of(&w, "sesIdentity")["zinc.example.com"]["Properties"];
    assert_eq!(
        props["DkimAttributes"]["LastKeyGenerationTimestamp"],
        "2024-01-15T10:30:00.250000Z"
    );
    assert_eq!(
        props["VerificationInfo"],
        json!({
            "LastCheckedTimestamp": "2024-01-15T10:30:00Z",
            "LastSuccessTimestamp": "2024-01-15T10:20:00.500000Z",
            "SOARecord": {
                "PrimaryNameServer": "ns-1.example.com",
                "AdminEmail": "admin.example.com",
                "SerialNumber": 7,
            },
        })
    );
    assert_eq!(
        props["MailFromAttributes"]["MailFromDomain"],
        "mail.zinc.example.com"
    );
    let order: Vec<&str> = props
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        order,
        [
            "IdentityName",
            "IdentityType",
            "SendingEnabled",
            "FeedbackForwardingStatus",
            "VerifiedForSendingStatus",
            "DkimAttributes",
            "MailFromAttributes",
            "Policies",
            "Tags",
            "VerificationStatus",
            "VerificationInfo",
        ]
    );
}

/// A failed `GetEmailIdentity` (HTTP 500) keeps each identity with what the listing gave
/// (`IdentityName`, `IdentityType`, `SendingEnabled`, `VerificationStatus`: aws-v3's
/// `ListEmailIdentitiesAction` alone), the run complete, logged as an enrichment failure
/// naming the account, region, kind and action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_email_identity_a_failed_get_email_identity_keeps_the_listed_keys() {
    let w = world_with_ses_identities().await;
    w.proxy.add_rule(Rule {
        action: "GetEmailIdentity".into(),
        status: 500,
        code: "InternalFailure".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = items_of(&w, "sesIdentity");
    assert_eq!(items.len(), 2, "{items:#?}");
    assert_eq!(
        items["zinc.example.com"]["Properties"],
        json!({
            "IdentityName": "zinc.example.com",
            "IdentityType": "DOMAIN",
            "SendingEnabled": true,
            "VerificationStatus": "SUCCESS",
        })
    );
    assert!(w.proxy.hits("GetEmailIdentity") >= 2);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed") && l.contains("zinc.example.com"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::SES::EmailIdentity",
        "GetEmailIdentityAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// More identities than one `ListEmailIdentities` page holds (moto's pages hold 100): every
/// page is listed, every identity described once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_email_identities_are_paged_to_the_end() {
    let w = world_with_ses_identities().await;
    let ses = sesv2_client(&w).await;
    for i in 0..100 {
        ses.create_email_identity()
            .email_identity(format!("bulk-{i}.example.com"))
            .send()
            .await
            .unwrap();
    }
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = items_of(&w, "sesIdentity");
    assert_eq!(items.len(), 102);
    assert_eq!(
        items["bulk-99.example.com"]["Properties"]["VerifiedForSendingStatus"],
        false
    );
    // Two pages in the management account, one in the member account.
    assert_eq!(w.proxy.hits("ListEmailIdentities"), 3);
    assert_eq!(w.proxy.hits("GetEmailIdentity"), 102);
}

/// A failed `ListEmailIdentities` fails the unit: exit 3, no `GetEmailIdentity` call, the
/// previous run's entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_email_identity_a_failed_list_email_identities_fails_the_unit() {
    let w = world_with_ses_identities().await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "ses:ListEmailIdentities",
            code: "InternalFailure",
            not_called: Some("GetEmailIdentity"),
            kept: ("sesIdentity", "zinc.example.com"),
        },
    )
    .await;
}

/// A world for `AWS::SES::ConfigurationSet` (`sesConfigurationSet` entities by
/// `ConfigurationSetName`) with a configuration set `zinc-set` created through the SDK
/// against moto.
async fn world_with_a_ses_configuration_set() -> World {
    let w = world_for_ses(
        "AWS::SES::ConfigurationSet",
        "sesConfigurationSet",
        "ConfigurationSetName",
        json!([]),
    )
    .await;
    sesv2_client(&w)
        .await
        .create_configuration_set()
        .configuration_set_name("zinc-set")
        .send()
        .await
        .unwrap();
    w
}

/// `GetConfigurationSet` as SES answers it (written from the SES v2 API reference, with
/// `ReputationOptions.LastFreshStart` in epoch seconds as on the wire), plus a member sent
/// as `null` and one aws-v3's model does not declare. moto 5.2.5 answers this call with
/// `SendingOptions.SendingEnabled` as an object (`{"SendingEnabled": {…}}`), which the SDK
/// rejects, so the proxy answers it with this body instead.
fn ses_configuration_set_answer() -> Value {
    json!({
        "ConfigurationSetName": "zinc-set",
        "TrackingOptions": {"CustomRedirectDomain": "track.zinc.example.com", "HttpsPolicy": "REQUIRE"},
        "DeliveryOptions": {"TlsPolicy": "REQUIRE", "SendingPoolName": "zinc-pool", "MaxDeliverySeconds": 600},
        "ReputationOptions": {"ReputationMetricsEnabled": true, "LastFreshStart": 1705314600.25},
        "SendingOptions": {"SendingEnabled": true},
        "Tags": [{"Key": "team", "Value": "platform"}],
        "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
        "VdmOptions": {
            "DashboardOptions": {"EngagementMetrics": "ENABLED"},
            "GuardianOptions": {"OptimizedSharedDelivery": null},
        },
        "ArchivingOptions": {"ArchiveArn": "arn:aws:ses:eu-west-1:123456789012:mailmanager-archive/a-1"},
        "NotDeclared": {"Dropped": true},
    })
}

/// `AWS::SES::ConfigurationSet` through the real binary: listed only in aws-v3's SES
/// regions (eu-west-1 here; cn-north-1, allowed and enabled, is never called), one
/// `GetConfigurationSet` per set, and the raw item aws-v3's key for key — the listed name
/// with the answer over it, aws-v3's 9 declared keys in its model's order (undeclared ones
/// dropped), nested option objects as SES sent them without their `null` members,
/// `LastFreshStart` as RFC 3339. The kind has no optional action. `GetConfigurationSet` is
/// answered by the proxy ([`ses_configuration_set_answer`]: moto's answer is malformed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_configuration_sets_have_the_aws_v3_shape_in_aws_v3_s_regions_only() {
    let w = world_with_a_ses_configuration_set().await;
    w.proxy.add_rule(Rule {
        action: "GetConfigurationSet".into(),
        times: 10_000,
        body: Some(ses_configuration_set_answer().to_string()),
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let items = items_of(&w, "sesConfigurationSet");
    assert_eq!(items.keys().collect::<Vec<_>>(), ["zinc-set"], "{items:#?}");
    let item = &items["zinc-set"];
    assert_eq!(
        keys(item),
        keys(&example("ses-configuration-set")),
        "{item:#}"
    );
    assert_kind_shape(item);
    assert_eq!(
        item,
        &json!({
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {
                "ConfigurationSetName": "zinc-set",
                "TrackingOptions": {"CustomRedirectDomain": "track.zinc.example.com", "HttpsPolicy": "REQUIRE"},
                "DeliveryOptions": {"TlsPolicy": "REQUIRE", "SendingPoolName": "zinc-pool", "MaxDeliverySeconds": 600},
                "ReputationOptions": {"ReputationMetricsEnabled": true, "LastFreshStart": "2024-01-15T10:30:00.250000Z"},
                "SendingOptions": {"SendingEnabled": true},
                "Tags": [{"Key": "team", "Value": "platform"}],
                "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
                "VdmOptions": {
                    "DashboardOptions": {"EngagementMetrics": "ENABLED"},
                    "GuardianOptions": {},
                },
                "ArchivingOptions": {"ArchiveArn": "arn:aws:ses:eu-west-1:123456789012:mailmanager-archive/a-1"},
            },
            "__ExtraContext": {"AccountId": MANAGEMENT, "Region": "eu-west-1"},
        })
    );
    let order: Vec<&str> = item["Properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        order,
        [
            "ConfigurationSetName",
            "TrackingOptions",
            "DeliveryOptions",
            "ReputationOptions",
            "SendingOptions",
            "Tags",
            "SuppressionOptions",
            "VdmOptions",
            "ArchivingOptions",
        ]
    );

    // Listed in eu-west-1 of each account, never in cn-north-1.
    let calls = w.proxy.calls();
    let regions: BTreeSet<&str> = calls
        .iter()
        .filter(|c| c.service == "ses")
        .map(|c| c.region.as_str())
        .collect();
    assert_eq!(regions, BTreeSet::from(["eu-west-1"]));
    assert_eq!(w.proxy.hits("ListConfigurationSets"), 2);
    assert_eq!(w.proxy.hits("GetConfigurationSet"), 1);
}

/// A failed `GetConfigurationSet` (HTTP 500) keeps the set as `{ConfigurationSetName}`
/// (aws-v3's `ListConfigurationSetsAction` alone), the run complete, logged as an
/// enrichment failure naming the account, region, kind and action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_configuration_set_a_failed_get_configuration_set_keeps_the_name() {
    let w = world_with_a_ses_configuration_set().await;
    w.proxy.add_rule(Rule {
        action: "GetConfigurationSet".into(),
        status: 500,
        code: "InternalFailure".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = items_of(&w, "sesConfigurationSet");
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(
        items["zinc-set"]["Properties"],
        json!({"ConfigurationSetName": "zinc-set"})
    );
    assert!(w.proxy.hits("GetConfigurationSet") >= 1);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed") && l.contains("zinc-set"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::SES::ConfigurationSet",
        "GetConfigurationSetAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// More configuration sets than one `ListConfigurationSets` page holds (moto's pages hold
/// 100): every page is listed, every set described once. `GetConfigurationSet` is answered
/// by the proxy (moto's answer is malformed, see [`ses_configuration_set_answer`]) with a
/// body without the name, so each item keeps its listed name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_configuration_sets_are_paged_to_the_end() {
    let w = world_with_a_ses_configuration_set().await;
    let ses = sesv2_client(&w).await;
    for i in 0..100 {
        ses.create_configuration_set()
            .configuration_set_name(format!("bulk-{i}"))
            .send()
            .await
            .unwrap();
    }
    w.proxy.add_rule(Rule {
        action: "GetConfigurationSet".into(),
        times: 10_000,
        body: Some(json!({"SendingOptions": {"SendingEnabled": true}}).to_string()),
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = items_of(&w, "sesConfigurationSet");
    assert_eq!(items.len(), 101);
    assert_eq!(
        items["bulk-99"]["Properties"],
        json!({"ConfigurationSetName": "bulk-99", "SendingOptions": {"SendingEnabled": true}})
    );
    // Two pages in the management account, one in the member account.
    assert_eq!(w.proxy.hits("ListConfigurationSets"), 3);
    assert_eq!(w.proxy.hits("GetConfigurationSet"), 101);
}

/// A failed `ListConfigurationSets` fails the unit: exit 3, no `GetConfigurationSet` call,
/// the previous run's entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_configuration_set_a_failed_list_configuration_sets_fails_the_unit() {
    let w = world_with_a_ses_configuration_set().await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "ses:ListConfigurationSets",
            code: "InternalFailure",
            not_called: Some("GetConfigurationSet"),
            kept: ("sesConfigurationSet", "zinc-set"),
        },
    )
    .await;
}

/// A world with no seeded resources (the management account alone unless `members`), where
/// the test creates CodePipeline pipelines itself in moto's management account, eu-west-1,
/// with the mapping of `resources/kinds/<example>.yml` listed in eu-west-1, with its
/// blueprint. moto 5.2.5 writes CodePipeline timestamps as ISO 8601 strings; the proxy
/// turns them into the epoch seconds CodePipeline sends (`aws_proxy::epoch_timestamps`).
async fn world_for_codepipeline(members: &str, example: &str) -> World {
    let w = World::start(&[
        "--members",
        members,
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    seed_kind_example(&w, example);
    w
}

/// The role CodePipeline pipelines run as (moto checks that it exists and trusts
/// CodePipeline).
async fn codepipeline_role(w: &World) -> String {
    let config = moto_config(&w.moto.url(), "eu-west-1").await;
    aws_sdk_iam::Client::new(&config)
        .create_role()
        .role_name("zinc-pipeline-role")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "codepipeline.amazonaws.com"},
                "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn
}

/// Creates pipeline `name` in moto (eu-west-1, management account) as `role`: a `Source`
/// stage (an S3 source action) and a `Build` stage (a CodeBuild action with a region,
/// namespace and input artifact), a V2 pipeline in QUEUED mode with a variable and two
/// tags.
async fn create_pipeline(w: &World, name: &str, role: &str) {
    use aws_sdk_codepipeline::types::{
        ActionCategory, ActionDeclaration, ActionOwner, ActionTypeId, ArtifactStore,
        ArtifactStoreType, ExecutionMode, InputArtifact, OutputArtifact, PipelineDeclaration,
        PipelineType, PipelineVariableDeclaration, StageDeclaration, Tag,
    };
    let type_id = |category, provider: &str| {
        ActionTypeId::builder()
            .category(category)
            .owner(ActionOwner::Aws)
            .provider(provider)
            .version("1")
            .build()
            .unwrap()
    };
    let source = ActionDeclaration::builder()
        .name("Fetch")
        .action_type_id(type_id(ActionCategory::Source, "S3"))
        .run_order(1)
        .configuration("S3Bucket", "zinc-src")
        .configuration("S3ObjectKey", "src.zip")
        .output_artifacts(
            OutputArtifact::builder()
                .name("SourceOutput")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let build = ActionDeclaration::builder()
        .name("Compile")
        .action_type_id(type_id(ActionCategory::Build, "CodeBuild"))
        .run_order(2)
        .configuration("ProjectName", "zinc-build")
        .input_artifacts(
            InputArtifact::builder()
                .name("SourceOutput")
                .build()
                .unwrap(),
        )
        .region("eu-west-1")
        .namespace("BuildVariables")
        .build()
        .unwrap();
    let pipeline = PipelineDeclaration::builder()
        .name(name)
        .role_arn(role)
        .artifact_store(
            ArtifactStore::builder()
                .r#type(ArtifactStoreType::S3)
                .location("zinc-artifacts")
                .build()
                .unwrap(),
        )
        .stages(
            StageDeclaration::builder()
                .name("Source")
                .actions(source)
                .build()
                .unwrap(),
        )
        .stages(
            StageDeclaration::builder()
                .name("Build")
                .actions(build)
                .build()
                .unwrap(),
        )
        .pipeline_type(PipelineType::V2)
        .execution_mode(ExecutionMode::Queued)
        .variables(
            PipelineVariableDeclaration::builder()
                .name("env")
                .default_value("prod")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    aws_sdk_codepipeline::Client::new(&moto_config(&w.moto.url(), "eu-west-1").await)
        .create_pipeline()
        .pipeline(pipeline)
        .tags(tag("team", "platform"))
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
}

/// The ARN moto gives pipeline `name` (`arn:aws:codepipeline:<region>:<account>:<name>`).
fn pipeline_arn(name: &str) -> String {
    format!("arn:aws:codepipeline:eu-west-1:{MANAGEMENT}:{name}")
}

/// What a timestamp looks like as aws-v3 writes it (`…SS.ffffffZ`, or `…SSZ` without a
/// fraction).
fn assert_aws_v3_time(value: &Value) {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is a string"));
    let (secs, fraction) = s.split_once('.').unwrap_or((s.trim_end_matches('Z'), "Z"));
    assert!(
        secs.len() == 19 && &secs[10..11] == "T" && s.ends_with('Z'),
        "RFC 3339: {s}"
    );
    assert!(
        fraction == "Z" || (fraction.len() == 7 && fraction != "000000Z"),
        "six fraction digits or none: {s}"
    );
}

/// `AWS::CodePipeline::Pipeline` through the real binary (its three default actions,
/// merged by `name`): the raw item sent to Port is aws-v3's key for key — `GetPipeline`'s
/// `metadata` and `pipeline`, the tags, then the listed entry, aws-v3's declared keys only,
/// PascalCase in the model's order, the declaration's nested values in CodePipeline's
/// camelCase, `Created`/`Updated` RFC 3339 as aws-v3 writes them, `Tags` `[{key, value}]`,
/// `__ExtraContext` `{AccountId, Region}` — and the entity of aws-v3's example mapping is
/// made of it. One `GetPipeline` and one `ListTagsForResource` per pipeline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_pipelines_have_the_aws_v3_shape() {
    let w = world_for_codepipeline("1", "codepipeline-pipeline").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::CodePipeline::Pipeline");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_kind_shape(item);
    let props = &item["Properties"];
    assert_eq!(
        keys_in_order(props),
        [
            "ArtifactStore",
            "Created",
            "ExecutionMode",
            "Name",
            "PipelineArn",
            "PipelineType",
            "RoleArn",
            "Stages",
            "Tags",
            "Updated",
            "Variables",
            "Version",
        ],
        "declared keys only, in the model's order: {props:#}"
    );
    assert_aws_v3_time(&props["Created"]);
    assert_aws_v3_time(&props["Updated"]);
    let arn = pipeline_arn("zinc-pipeline");
    assert_eq!(
        item,
        &json!({
            "Type": "AWS::CodePipeline::Pipeline",
            "Properties": {
                "ArtifactStore": {"type": "S3", "location": "zinc-artifacts"},
                "Created": props["Created"],
                "ExecutionMode": "QUEUED",
                "Name": "zinc-pipeline",
                "PipelineArn": arn,
                "PipelineType": "V2",
                "RoleArn": role,
                "Stages": [
                    {"name": "Source", "actions": [{
                        "name": "Fetch",
                        "actionTypeId": {"category": "Source", "owner": "AWS",
                            "provider": "S3", "version": "1"},
                        "runOrder": 1,
                        "configuration": {"S3Bucket": "zinc-src", "S3ObjectKey": "src.zip"},
                        "outputArtifacts": [{"name": "SourceOutput"}],
                        "inputArtifacts": [],
                    }]},
                    {"name": "Build", "actions": [{
                        "name": "Compile",
                        "actionTypeId": {"category": "Build", "owner": "AWS",
                            "provider": "CodeBuild", "version": "1"},
                        "runOrder": 2,
                        "configuration": {"ProjectName": "zinc-build"},
                        "inputArtifacts": [{"name": "SourceOutput"}],
                        "region": "eu-west-1",
                        "namespace": "BuildVariables",
                        "outputArtifacts": [],
                    }]},
                ],
                "Tags": [{"key": "env", "value": "prod"}, {"key": "team", "value": "platform"}],
                "Updated": props["Updated"],
                "Variables": [{"name": "env", "defaultValue": "prod"}],
                "Version": 1,
            },
            "__ExtraContext": {"AccountId": MANAGEMENT, "Region": "eu-west-1"},
        })
    );
    // One listing per account; the management account's pipeline described once.
    assert_eq!(w.proxy.hits("ListPipelines"), 2);
    assert_eq!(w.proxy.hits("GetPipeline"), 1);
    assert_eq!(w.proxy.hits("ListTagsForResource"), 1);

    let e = w.port.entity("codePipeline", &arn).unwrap();
    assert_eq!(e["title"], "zinc-pipeline");
    assert_eq!(e["properties"]["pipelineType"], "V2");
    assert_eq!(e["properties"]["version"], 1);
    assert_eq!(e["properties"]["created"], props["Created"]);
    assert_eq!(e["relations"]["account"], MANAGEMENT);
}

/// A failed `GetPipeline` (HTTP 500) keeps the pipeline with what the listing gave (aws-v3's
/// `ListPipelinesAction` alone: `Name`, `Version`, `Created`, `Updated`; moto lists no
/// `PipelineType`/`ExecutionMode`) and no `Tags`, as aws-v3 (whose tags action reads the ARN
/// from `GetPipeline`), the run complete, logged as an enrichment failure naming the
/// account, region, kind and action. A failed `ListTagsForResource` alone keeps everything
/// but `Tags`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_pipeline_a_failed_get_pipeline_keeps_the_listed_keys() {
    let w = world_for_codepipeline("0", "codepipeline-pipeline").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    w.proxy.add_rule(Rule {
        action: "GetPipeline".into(),
        status: 500,
        code: "InternalFailure".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::CodePipeline::Pipeline");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let props = &examples[0]["Properties"];
    assert_eq!(
        keys_in_order(props),
        ["Created", "Name", "Updated", "Version"],
        "{props:#}"
    );
    assert_eq!(props["Name"], "zinc-pipeline");
    assert_eq!(w.proxy.hits("ListTagsForResource"), 0);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed") && l.contains("zinc-pipeline"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::CodePipeline::Pipeline",
        "GetPipelineDetailsAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }

    // Tags alone failing: everything but `Tags`.
    w.proxy.clear_rules();
    w.proxy.add_rule(Rule {
        action: "ListTagsForResource".into(),
        status: 500,
        code: "InternalFailure".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::CodePipeline::Pipeline");
    let props = &examples.last().unwrap()["Properties"];
    assert!(props.get("Tags").is_none(), "{props:#}");
    assert_eq!(props["PipelineArn"], json!(pipeline_arn("zinc-pipeline")));
    assert_eq!(props["Stages"].as_array().unwrap().len(), 2);
    assert!(
        run.stderr
            .lines()
            .any(|l| l.contains("enrichment call failed") && l.contains("GetPipelineTagsAction")),
        "{}",
        run.stderr
    );
}

/// More pipelines than one `ListPipelines` page (moto 5.2.5 does not page it: the proxy
/// answers the listing in two canned pages written from the API reference, epoch-second
/// timestamps as CodePipeline sends them): every page is listed, each pipeline described
/// once, and the listed entry wins over `GetPipeline` where both have a key, as aws-v3
/// merges them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_pipelines_are_paged_to_the_end() {
    let w = world_for_codepipeline("0", "codepipeline-pipeline").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    create_pipeline(&w, "copper-pipeline", &role).await;
    for body in [
        json!({"pipelines": [{"name": "zinc-pipeline", "version": 1, "pipelineType": "V2",
            "executionMode": "QUEUED", "created": 1705314600.25, "updated": 1705314600.25}],
            "nextToken": "page-2"}),
        json!({"pipelines": [{"name": "copper-pipeline", "version": 7, "pipelineType": "V1",
            "executionMode": "SUPERSEDED", "created": 1705314000, "updated": 1705314000.5}]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListPipelines".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::CodePipeline::Pipeline");
    let by_name: std::collections::BTreeMap<&str, &Value> = examples
        .iter()
        .map(|i| (i["Properties"]["Name"].as_str().unwrap(), &i["Properties"]))
        .collect();
    assert_eq!(
        by_name.keys().collect::<Vec<_>>(),
        [&"copper-pipeline", &"zinc-pipeline"]
    );
    let copper = by_name["copper-pipeline"];
    assert_eq!(copper["Version"], 7);
    assert_eq!(copper["PipelineType"], "V1");
    assert_eq!(copper["ExecutionMode"], "SUPERSEDED");
    assert_eq!(copper["Created"], "2024-01-15T10:20:00Z");
    assert_eq!(copper["Updated"], "2024-01-15T10:20:00.500000Z");
    assert_eq!(
        copper["PipelineArn"],
        json!(pipeline_arn("copper-pipeline"))
    );
    assert_eq!(
        by_name["zinc-pipeline"]["Created"],
        "2024-01-15T10:30:00.250000Z"
    );
    assert_eq!(w.proxy.hits("ListPipelines"), 2);
    assert_eq!(w.proxy.hits("GetPipeline"), 2);
    assert_eq!(w.proxy.hits("ListTagsForResource"), 2);
}

/// A failed `ListPipelines` fails the unit: exit 3, no `GetPipeline` call, the previous
/// run's entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_pipeline_a_failed_list_pipelines_fails_the_unit() {
    let w = world_for_codepipeline("0", "codepipeline-pipeline").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codepipeline:ListPipelines",
            code: "InternalFailure",
            not_called: Some("GetPipeline"),
            kept: ("codePipeline", &pipeline_arn("zinc-pipeline")),
        },
    )
    .await;
}

/// The raw items (raw examples sent to Port) of `kind`, by `key` (a `Properties` path such
/// as `["StageName", "Name"]`, joined with `/`).
fn examples_by(w: &World, kind: &str, key: &[&str]) -> std::collections::BTreeMap<String, Value> {
    w.port
        .examples(IDENTIFIER, kind)
        .into_iter()
        .map(|i| {
            let id: Vec<&str> = key
                .iter()
                .map(|k| i["Properties"][*k].as_str().unwrap_or_default())
                .collect();
            (id.join("/"), i)
        })
        .collect()
}

/// `AWS::CodePipeline::Stage` through the real binary (`GetPipelineStagesAction`): one item
/// per stage of each pipeline's `GetPipeline` declaration, aws-v3's key for key — the stage
/// with the injected `PipelineName`, `PipelineArn` and 1-based `Order`, aws-v3's declared
/// keys only, PascalCase in the model's order, `Actions` in CodePipeline's camelCase,
/// `__ExtraContext` `{AccountId, Region}` — and the entities of aws-v3's example mapping
/// (identified by `<pipeline ARN>/<stage>`) are made of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_stages_have_the_aws_v3_shape() {
    let w = world_for_codepipeline("1", "codepipeline-stage").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let stages = examples_by(&w, "AWS::CodePipeline::Stage", &["Name"]);
    assert_eq!(stages.keys().collect::<Vec<_>>(), ["Build", "Source"]);
    let arn = pipeline_arn("zinc-pipeline");
    let source = &stages["Source"];
    assert_kind_shape(source);
    assert_eq!(
        keys_in_order(&source["Properties"]),
        ["Actions", "Name", "Order", "PipelineArn", "PipelineName"],
        "declared keys only, in the model's order"
    );
    assert_eq!(
        source,
        &json!({
            "Type": "AWS::CodePipeline::Stage",
            "Properties": {
                "Actions": [{
                    "name": "Fetch",
                    "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3",
                        "version": "1"},
                    "runOrder": 1,
                    "configuration": {"S3Bucket": "zinc-src", "S3ObjectKey": "src.zip"},
                    "outputArtifacts": [{"name": "SourceOutput"}],
                    "inputArtifacts": [],
                }],
                "Name": "Source",
                "Order": 1,
                "PipelineArn": arn,
                "PipelineName": "zinc-pipeline",
            },
            "__ExtraContext": {"AccountId": MANAGEMENT, "Region": "eu-west-1"},
        })
    );
    assert_eq!(stages["Build"]["Properties"]["Order"], 2);
    assert_eq!(
        stages["Build"]["Properties"]["Actions"][0]["name"],
        "Compile"
    );
    assert_eq!(w.proxy.hits("GetPipeline"), 1);

    let e = w
        .port
        .entity("codePipelineStage", &format!("{arn}/Build"))
        .unwrap();
    assert_eq!(e["title"], "zinc-pipeline/Build");
    assert_eq!(e["properties"]["order"], 2);
    assert_eq!(e["properties"]["pipelineArn"], json!(arn));
    assert_eq!(e["relations"]["account"], MANAGEMENT);
}

/// Every `ListPipelines` page is listed (moto 5.2.5 does not page it: the proxy answers the
/// listing in two canned pages written from the API reference), and a pipeline deleted
/// since the listing (`GetPipeline` answers `PipelineNotFoundException`: moto has no
/// `gone-pipeline`) has no stages, the run complete: the other pipeline's stages are sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_stages_are_paged_to_the_end_and_a_deleted_pipeline_has_none() {
    let w = world_for_codepipeline("0", "codepipeline-stage").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    for body in [
        json!({"pipelines": [{"name": "gone-pipeline", "version": 1, "created": 1705314600,
            "updated": 1705314600}], "nextToken": "page-2"}),
        json!({"pipelines": [{"name": "zinc-pipeline", "version": 1, "created": 1705314600,
            "updated": 1705314600}]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListPipelines".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stages = examples_by(&w, "AWS::CodePipeline::Stage", &["PipelineName", "Name"]);
    assert_eq!(
        stages.keys().collect::<Vec<_>>(),
        ["zinc-pipeline/Build", "zinc-pipeline/Source"]
    );
    assert_eq!(w.proxy.hits("ListPipelines"), 2);
    assert_eq!(w.proxy.hits("GetPipeline"), 2);
}

/// A failed `GetPipeline` (HTTP 500) fails the unit: a stage exists only in its pipeline's
/// declaration, and aws-v3's skipping that pipeline's stages would make them look deleted.
/// Exit 3, the previous run's stage entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_stage_a_failed_get_pipeline_fails_the_unit() {
    let w = world_for_codepipeline("0", "codepipeline-stage").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codepipeline:GetPipeline",
            code: "InternalFailure",
            not_called: None,
            kept: (
                "codePipelineStage",
                &format!("{}/Source", pipeline_arn("zinc-pipeline")),
            ),
        },
    )
    .await;
}

/// A failed `ListPipelines` fails the unit: exit 3, no `GetPipeline` call, the previous
/// run's stage entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_stage_a_failed_list_pipelines_fails_the_unit() {
    let w = world_for_codepipeline("0", "codepipeline-stage").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codepipeline:ListPipelines",
            code: "InternalFailure",
            not_called: Some("GetPipeline"),
            kept: (
                "codePipelineStage",
                &format!("{}/Source", pipeline_arn("zinc-pipeline")),
            ),
        },
    )
    .await;
}

/// `AWS::CodePipeline::Action` through the real binary (`GetPipelineActionsDetails`): one
/// item per action of each stage of each pipeline's `GetPipeline` declaration, aws-v3's key
/// for key — the action with the injected `PipelineName`, `PipelineArn`, `PipelineVersion`
/// and `StageName`, aws-v3's declared keys only, PascalCase in the model's order,
/// `ActionTypeId`'s members PascalCase (a model of its own in aws-v3), the other nested
/// values in CodePipeline's camelCase, `__ExtraContext` `{AccountId, Region}` — and the
/// entities of aws-v3's example mapping (`<pipeline ARN>/<stage>/<action>`) are made of
/// them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_actions_have_the_aws_v3_shape() {
    let w = world_for_codepipeline("1", "codepipeline-action").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let actions = examples_by(&w, "AWS::CodePipeline::Action", &["StageName", "Name"]);
    assert_eq!(
        actions.keys().collect::<Vec<_>>(),
        ["Build/Compile", "Source/Fetch"]
    );
    let arn = pipeline_arn("zinc-pipeline");
    let compile = &actions["Build/Compile"];
    assert_kind_shape(compile);
    assert_eq!(
        keys_in_order(&compile["Properties"]),
        [
            "ActionTypeId",
            "Configuration",
            "InputArtifacts",
            "Name",
            "Namespace",
            "OutputArtifacts",
            "PipelineName",
            "PipelineArn",
            "PipelineVersion",
            "Region",
            "RunOrder",
            "StageName",
        ],
        "declared keys only, in the model's order"
    );
    assert_eq!(
        keys_in_order(&compile["Properties"]["ActionTypeId"]),
        ["Category", "Owner", "Provider", "Version"]
    );
    assert_eq!(
        compile,
        &json!({
            "Type": "AWS::CodePipeline::Action",
            "Properties": {
                "ActionTypeId": {"Category": "Build", "Owner": "AWS", "Provider": "CodeBuild",
                    "Version": "1"},
                "Configuration": {"ProjectName": "zinc-build"},
                "InputArtifacts": [{"name": "SourceOutput"}],
                "Name": "Compile",
                "Namespace": "BuildVariables",
                "OutputArtifacts": [],
                "PipelineName": "zinc-pipeline",
                "PipelineArn": arn,
                "PipelineVersion": 1,
                "Region": "eu-west-1",
                "RunOrder": 2,
                "StageName": "Build",
            },
            "__ExtraContext": {"AccountId": MANAGEMENT, "Region": "eu-west-1"},
        })
    );
    let fetch = &actions["Source/Fetch"]["Properties"];
    assert_eq!(fetch["OutputArtifacts"], json!([{"name": "SourceOutput"}]));
    assert!(fetch.get("Region").is_none(), "{fetch:#}");
    assert_eq!(w.proxy.hits("GetPipeline"), 1);

    let e = w
        .port
        .entity("codePipelineAction", &format!("{arn}/Build/Compile"))
        .unwrap();
    assert_eq!(e["title"], "zinc-pipeline/Build/Compile");
    assert_eq!(e["properties"]["provider"], "CodeBuild");
    assert_eq!(e["properties"]["runOrder"], 2);
    assert_eq!(e["relations"]["account"], MANAGEMENT);
}

/// Every `ListPipelines` page is listed (two canned pages, moto 5.2.5 does not page it), and
/// a pipeline deleted since the listing (`PipelineNotFoundException`) has no actions, the
/// run complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_actions_are_paged_to_the_end_and_a_deleted_pipeline_has_none() {
    let w = world_for_codepipeline("0", "codepipeline-action").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    for body in [
        json!({"pipelines": [{"name": "zinc-pipeline", "version": 1, "created": 1705314600,
            "updated": 1705314600}], "nextToken": "page-2"}),
        json!({"pipelines": [{"name": "gone-pipeline", "version": 1, "created": 1705314600,
            "updated": 1705314600}]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListPipelines".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let actions = examples_by(&w, "AWS::CodePipeline::Action", &["PipelineName", "Name"]);
    assert_eq!(
        actions.keys().collect::<Vec<_>>(),
        ["zinc-pipeline/Compile", "zinc-pipeline/Fetch"]
    );
    assert_eq!(w.proxy.hits("ListPipelines"), 2);
    assert_eq!(w.proxy.hits("GetPipeline"), 2);
}

/// A failed `GetPipeline` (HTTP 500) fails the unit: an action exists only in its
/// pipeline's declaration, and aws-v3's skipping that pipeline's actions would make them
/// look deleted. Exit 3, the previous run's action entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_action_a_failed_get_pipeline_fails_the_unit() {
    let w = world_for_codepipeline("0", "codepipeline-action").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codepipeline:GetPipeline",
            code: "InternalFailure",
            not_called: None,
            kept: (
                "codePipelineAction",
                &format!("{}/Source/Fetch", pipeline_arn("zinc-pipeline")),
            ),
        },
    )
    .await;
}

/// A failed `ListPipelines` fails the unit: exit 3, no `GetPipeline` call, the previous
/// run's action entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_action_a_failed_list_pipelines_fails_the_unit() {
    let w = world_for_codepipeline("0", "codepipeline-action").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codepipeline:ListPipelines",
            code: "InternalFailure",
            not_called: Some("GetPipeline"),
            kept: (
                "codePipelineAction",
                &format!("{}/Source/Fetch", pipeline_arn("zinc-pipeline")),
            ),
        },
    )
    .await;
}

/// Starts an execution of pipeline `name` in moto (with the variable `env=staging`) and
/// returns its id.
async fn start_pipeline_execution(w: &World, name: &str) -> String {
    use aws_sdk_codepipeline::types::PipelineVariable;
    aws_sdk_codepipeline::Client::new(&moto_config(&w.moto.url(), "eu-west-1").await)
        .start_pipeline_execution()
        .name(name)
        .variables(
            PipelineVariable::builder()
                .name("env")
                .value("staging")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .pipeline_execution_id
        .unwrap()
}

/// `AWS::CodePipeline::PipelineExecution` through the real binary (its two default
/// actions): every execution of every pipeline (the whole retained history), one
/// `GetPipelineExecution` per execution, each raw item aws-v3's key for key — the listed
/// summary with the `GetPipelineExecution` answer over it, aws-v3's declared keys only,
/// PascalCase in the model's order, `StartTime`/`LastUpdateTime` RFC 3339 as aws-v3 writes
/// them, members moto sends as `null` (`statusSummary`) absent, `Trigger` and `Variables` in
/// CodePipeline's camelCase — and the entities of aws-v3's example mapping are made of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_pipeline_executions_have_the_aws_v3_shape() {
    let w = world_for_codepipeline("1", "codepipeline-pipeline-execution").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    let first = start_pipeline_execution(&w, "zinc-pipeline").await;
    let second = start_pipeline_execution(&w, "zinc-pipeline").await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let executions = examples_by(
        &w,
        "AWS::CodePipeline::PipelineExecution",
        &["PipelineExecutionId"],
    );
    let mut want = vec![&first, &second];
    want.sort();
    assert_eq!(executions.keys().collect::<Vec<_>>(), want);
    let item = &executions[&first];
    assert_kind_shape(item);
    let props = &item["Properties"];
    assert_eq!(
        keys_in_order(props),
        [
            "ArtifactRevisions",
            "LastUpdateTime",
            "PipelineExecutionId",
            "PipelineName",
            "PipelineVersion",
            "SourceRevisions",
            "StartTime",
            "Status",
            "Trigger",
            "Variables",
        ],
        "declared keys only, in the model's order: {props:#}"
    );
    assert_aws_v3_time(&props["StartTime"]);
    assert_aws_v3_time(&props["LastUpdateTime"]);
    assert_eq!(
        item,
        &json!({
            "Type": "AWS::CodePipeline::PipelineExecution",
            "Properties": {
                "ArtifactRevisions": [],
                "LastUpdateTime": props["LastUpdateTime"],
                "PipelineExecutionId": first,
                "PipelineName": "zinc-pipeline",
                "PipelineVersion": 1,
                "SourceRevisions": [],
                "StartTime": props["StartTime"],
                "Status": "Succeeded",
                "Trigger": {"triggerType": "StartPipelineExecution", "triggerDetail": ""},
                "Variables": [{"name": "env", "resolvedValue": "staging"}],
            },
            "__ExtraContext": {"AccountId": MANAGEMENT, "Region": "eu-west-1"},
        })
    );
    assert_eq!(w.proxy.hits("ListPipelineExecutions"), 1);
    assert_eq!(w.proxy.hits("GetPipelineExecution"), 2);

    let e = w
        .port
        .entity("codePipelinePipelineExecution", &second)
        .unwrap();
    assert_eq!(e["title"], json!(format!("zinc-pipeline/{second}")));
    assert_eq!(e["properties"]["status"], "Succeeded");
    assert_eq!(e["relations"]["account"], MANAGEMENT);
}

/// What CodePipeline sends that moto does not, answered by the proxy with bodies written
/// from the API reference: `ListPipelineExecutions` in two pages (every page is listed:
/// moto 5.2.5 does not page it), and `GetPipelineExecution` failing (HTTP 500) for the
/// second page's execution, which keeps its summary only (aws-v3's listing action alone),
/// logged and counted as an enrichment failure. `ArtifactRevisions[].created`, epoch
/// seconds on the wire, is RFC 3339.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_pipeline_executions_are_paged_to_the_end_and_a_failed_get_keeps_the_summary()
{
    let w = world_for_codepipeline("0", "codepipeline-pipeline-execution").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    let summary = |id: &str, status: &str| {
        json!({"pipelineExecutionId": id, "status": status, "startTime": 1705314600.25,
            "lastUpdateTime": 1705314660, "sourceRevisions": [],
            "trigger": {"triggerType": "Webhook", "triggerDetail": "push"},
            "executionMode": "QUEUED", "executionType": "STANDARD"})
    };
    for body in [
        json!({"pipelineExecutionSummaries": [summary("e-new", "InProgress")],
            "nextToken": "page-2"}),
        json!({"pipelineExecutionSummaries": [summary("e-old", "Failed")]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListPipelineExecutions".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    w.proxy.add_rule(Rule {
        action: "GetPipelineExecution".into(),
        body: Some(
            json!({"pipelineExecution": {
                "pipelineName": "zinc-pipeline", "pipelineVersion": 3,
                "pipelineExecutionId": "e-new", "status": "InProgress",
                "artifactRevisions": [{"name": "SourceOutput", "revisionId": "abc123",
                    "created": 1705314000.5, "revisionSummary": null}],
                "executionMode": "QUEUED", "executionType": "STANDARD",
                "trigger": {"triggerType": "Webhook", "triggerDetail": "push"},
                "undeclared": 1,
            }})
            .to_string(),
        ),
        times: 1,
        ..Default::default()
    });
    w.proxy.add_rule(Rule {
        action: "GetPipelineExecution".into(),
        status: 500,
        code: "InternalFailure".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let executions = examples_by(
        &w,
        "AWS::CodePipeline::PipelineExecution",
        &["PipelineExecutionId"],
    );
    assert_eq!(executions.keys().collect::<Vec<_>>(), ["e-new", "e-old"]);
    assert_eq!(
        executions["e-new"]["Properties"],
        json!({
            "ArtifactRevisions": [{"name": "SourceOutput", "revisionId": "abc123",
                "created": "2024-01-15T10:20:00.500000Z"}],
            "ExecutionMode": "QUEUED",
            "ExecutionType": "STANDARD",
            "LastUpdateTime": "2024-01-15T10:31:00Z",
            "PipelineExecutionId": "e-new",
            "PipelineName": "zinc-pipeline",
            "PipelineVersion": 3,
            "SourceRevisions": [],
            "StartTime": "2024-01-15T10:30:00.250000Z",
            "Status": "InProgress",
            "Trigger": {"triggerType": "Webhook", "triggerDetail": "push"},
        })
    );
    // The summary alone: no `PipelineName`, `PipelineVersion`, `ArtifactRevisions`.
    assert_eq!(
        keys_in_order(&executions["e-old"]["Properties"]),
        [
            "ExecutionMode",
            "ExecutionType",
            "LastUpdateTime",
            "PipelineExecutionId",
            "SourceRevisions",
            "StartTime",
            "Status",
            "Trigger",
        ]
    );
    assert_eq!(w.proxy.hits("ListPipelineExecutions"), 2);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed") && l.contains("e-old"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::CodePipeline::PipelineExecution",
        "GetPipelineExecutionDetailsAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// A failed `ListPipelineExecutions` fails the unit (never an empty history): exit 3, no
/// `GetPipelineExecution` call, the previous run's execution entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_pipeline_execution_a_failed_list_pipeline_executions_fails_the_unit() {
    let w = world_for_codepipeline("0", "codepipeline-pipeline-execution").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    let id = start_pipeline_execution(&w, "zinc-pipeline").await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codepipeline:ListPipelineExecutions",
            code: "InternalFailure",
            not_called: Some("GetPipelineExecution"),
            kept: ("codePipelinePipelineExecution", &id),
        },
    )
    .await;
}

/// One `ActionExecutionDetail` as CodePipeline sends it (written from the API reference:
/// moto 5.2.5 does not implement `ListActionExecutions`), epoch-second timestamps, a
/// member sent as `null` and one aws-v3's model does not declare.
fn action_execution_detail(id: &str, action: &str, stage: &str) -> Value {
    json!({
        "pipelineExecutionId": "pe-1",
        "actionExecutionId": id,
        "pipelineVersion": 2,
        "stageName": stage,
        "actionName": action,
        "startTime": 1705314600.25,
        "lastUpdateTime": 1705314690,
        "updatedBy": null,
        "status": "Succeeded",
        "input": {
            "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3",
                "version": "1"},
            "configuration": {"S3Bucket": "zinc-src", "S3ObjectKey": "src.zip"},
            "resolvedConfiguration": {"S3Bucket": "zinc-src"},
            "region": "eu-west-1",
            "inputArtifacts": [],
            "namespace": null,
        },
        "output": {
            "outputArtifacts": [{"name": "SourceOutput",
                "s3location": {"bucket": "zinc-artifacts", "key": "zinc/SourceOutp/abc"}}],
            "executionResult": {"externalExecutionId": "v1",
                "externalExecutionSummary": "Fetched"},
            "outputVariables": {},
        },
        "undeclared": 1,
    })
}

/// `AWS::CodePipeline::ActionExecution` through the real binary
/// (`ListActionExecutionsAction`): every page of `ListActionExecutions` of every pipeline
/// (the whole retained history), each raw item aws-v3's key for key — aws-v3's declared
/// keys only, PascalCase in the model's order, `Input`/`Output` in CodePipeline's camelCase
/// without their `null` members, `StartTime`/`LastUpdateTime` RFC 3339, no `PipelineName`
/// (aws-v3's example shows one its code never sets), `__ExtraContext` `{AccountId, Region}`
/// — and the entities of aws-v3's example mapping are made of them. moto 5.2.5 does not
/// implement `ListActionExecutions`: the proxy answers it with two canned pages written
/// from the API reference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_action_executions_have_the_aws_v3_shape_paged_to_the_end() {
    let w = world_for_codepipeline("1", "codepipeline-action-execution").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    for body in [
        json!({"actionExecutionDetails": [action_execution_detail("ae-1", "Fetch", "Source")],
            "nextToken": "page-2"}),
        json!({"actionExecutionDetails": [action_execution_detail("ae-2", "Compile", "Build")]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListActionExecutions".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let executions = examples_by(
        &w,
        "AWS::CodePipeline::ActionExecution",
        &["ActionExecutionId"],
    );
    assert_eq!(executions.keys().collect::<Vec<_>>(), ["ae-1", "ae-2"]);
    let item = &executions["ae-1"];
    assert_kind_shape(item);
    assert_eq!(
        keys_in_order(&item["Properties"]),
        [
            "ActionExecutionId",
            "ActionName",
            "Input",
            "LastUpdateTime",
            "Output",
            "PipelineExecutionId",
            "PipelineVersion",
            "StageName",
            "StartTime",
            "Status",
        ],
        "declared keys only, in the model's order"
    );
    assert_eq!(
        item,
        &json!({
            "Type": "AWS::CodePipeline::ActionExecution",
            "Properties": {
                "ActionExecutionId": "ae-1",
                "ActionName": "Fetch",
                "Input": {
                    "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3",
                        "version": "1"},
                    "configuration": {"S3Bucket": "zinc-src", "S3ObjectKey": "src.zip"},
                    "resolvedConfiguration": {"S3Bucket": "zinc-src"},
                    "region": "eu-west-1",
                    "inputArtifacts": [],
                },
                "LastUpdateTime": "2024-01-15T10:31:30Z",
                "Output": {
                    "outputArtifacts": [{"name": "SourceOutput",
                        "s3location": {"bucket": "zinc-artifacts", "key": "zinc/SourceOutp/abc"}}],
                    "executionResult": {"externalExecutionId": "v1",
                        "externalExecutionSummary": "Fetched"},
                    "outputVariables": {},
                },
                "PipelineExecutionId": "pe-1",
                "PipelineVersion": 2,
                "StageName": "Source",
                "StartTime": "2024-01-15T10:30:00.250000Z",
                "Status": "Succeeded",
            },
            "__ExtraContext": {"AccountId": MANAGEMENT, "Region": "eu-west-1"},
        })
    );
    // Two pages of the management account's one pipeline; the member account has none.
    assert_eq!(w.proxy.hits("ListActionExecutions"), 2);

    let e = w
        .port
        .entity("codePipelineActionExecution", "ae-2")
        .unwrap();
    assert_eq!(e["title"], "Compile/ae-2");
    assert_eq!(e["properties"]["stageName"], "Build");
    assert_eq!(e["properties"]["startTime"], "2024-01-15T10:30:00.250000Z");
    assert_eq!(e["relations"]["account"], MANAGEMENT);
}

/// A failed `ListActionExecutions` fails the unit (never an empty history): exit 3, the
/// previous run's action execution entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_action_execution_a_failed_list_action_executions_fails_the_unit() {
    let w = world_for_codepipeline("0", "codepipeline-action-execution").await;
    let role = codepipeline_role(&w).await;
    create_pipeline(&w, "zinc-pipeline", &role).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codepipeline:ListActionExecutions",
            code: "InternalFailure",
            not_called: None,
            kept: ("codePipelineActionExecution", "ae-1"),
        },
    )
    .await;
}

/// A world with one CodeDeploy application `zinc-deploy` (compute platform `Server`, two
/// tags) in eu-west-1 of the management account, created through the SDK against moto, and
/// the mapping of `resources/kinds/<example>.yml` listed in eu-west-1, with its blueprint.
/// `members` is the number of member accounts beside the management one. Returns the world
/// and the application's id.
async fn world_with_a_codedeploy_application(members: &str, example: &str) -> (World, String) {
    let w = World::start(&[
        "--members",
        members,
        "--instances-per-region",
        "0",
        "--clusters-per-region",
        "0",
        "--buckets-per-account",
        "0",
    ])
    .await;
    let id = codedeploy_client(&w)
        .await
        .create_application()
        .application_name("zinc-deploy")
        .compute_platform(aws_sdk_codedeploy::types::ComputePlatform::Server)
        .tags(
            aws_sdk_codedeploy::types::Tag::builder()
                .key("team")
                .value("platform")
                .build(),
        )
        .tags(
            aws_sdk_codedeploy::types::Tag::builder()
                .key("tier")
                .value("deploy")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .application_id
        .unwrap();
    seed_kind_example(&w, example);
    (w, id)
}

/// A CodeDeploy client talking to moto directly, eu-west-1 of the management account.
async fn codedeploy_client(w: &World) -> aws_sdk_codedeploy::Client {
    aws_sdk_codedeploy::Client::new(&moto_config(&w.moto.url(), "eu-west-1").await)
}

/// `AWS::CodeDeploy::Application` through the real binary (its two default actions,
/// `GetCodeDeployApplicationDetailsAction` and `GetCodeDeployApplicationTagsAction`): the
/// raw item sent to Port is aws-v3's key for key — the declared keys moto returned,
/// PascalCase in the model's order, `CreateTime` RFC 3339, `Tags` `[{Key, Value}]` from
/// `ListTagsForResource` of the application's ARN, `__ExtraContext` `{AccountId, Region}` —
/// and the entity of aws-v3's example mapping is made of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_applications_have_the_aws_v3_shape() {
    let (w, id) = world_with_a_codedeploy_application("1", "codedeploy-application").await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::CodeDeploy::Application");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(
        keys_in_order(item),
        ["Type", "Properties", "__ExtraContext"],
        "{item:#}"
    );
    assert_kind_shape(item);
    let props = &item["Properties"];
    assert_eq!(
        keys_in_order(props),
        [
            "ApplicationName",
            "ApplicationId",
            "ComputePlatform",
            "CreateTime",
            "Tags"
        ],
        "declared keys only, in the model's order: {props:#}"
    );
    assert_eq!(props["ApplicationName"], "zinc-deploy");
    assert_eq!(props["ApplicationId"], json!(id));
    assert_eq!(props["ComputePlatform"], "Server");
    assert_eq!(
        props["Tags"],
        json!([{"Key": "team", "Value": "platform"}, {"Key": "tier", "Value": "deploy"}])
    );
    let created = props["CreateTime"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.contains('T'),
        "RFC 3339: {created}"
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("BatchGetApplications"), 1);
    assert_eq!(w.proxy.hits("ListTagsForResource"), 1);

    let e = w.port.entity("codeDeployApplication", &id).unwrap();
    assert_eq!(e["properties"]["applicationName"], "zinc-deploy");
    assert_eq!(e["properties"]["computePlatform"], "Server");
    assert_eq!(e["properties"]["createTime"], json!(created));
    assert_eq!(e["properties"]["tags"], props["Tags"]);
    assert_eq!(e["relations"]["account"], MANAGEMENT);
}

/// What AWS sends that moto does not, answered by the proxy with canned CodeDeploy bodies
/// written from the API reference: `ListApplications` in two pages (every page is listed)
/// and `BatchGetApplications` with an epoch-second `createTime` (RFC 3339 as aws-v3 writes
/// it), the GitHub keys moto never sends (`linkedToGitHub` kept, a `null`
/// `gitHubAccountName` absent) and a key aws-v3's model does not declare (dropped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_applications_are_paged_to_the_end_with_rfc3339_create_times() {
    // The management account alone, so that both canned pages answer its one listing.
    let (w, id) = world_with_a_codedeploy_application("0", "codedeploy-application").await;
    for body in [
        json!({"applications": ["zinc-deploy"], "nextToken": "page-2"}),
        json!({"applications": ["copper-deploy"]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListApplications".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    // The first page's application comes from moto; the second page's from this answer.
    w.proxy.add_rule(Rule {
        action: "BatchGetApplications".into(),
        skip: 1,
        body: Some(
            json!({"applicationsInfo": [{
                "applicationId": "c0ffee00-1111-2222-3333-444455556666",
                "applicationName": "copper-deploy",
                "createTime": 1703123456.789,
                "linkedToGitHub": true,
                "gitHubAccountName": null,
                "computePlatform": "Lambda",
                "someFutureMember": {"x": 1},
            }]})
            .to_string(),
        ),
        times: 1,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListApplications"), 2);
    assert_eq!(w.proxy.hits("BatchGetApplications"), 2);
    assert_eq!(w.proxy.hits("ListTagsForResource"), 2);

    let copper = w
        .port
        .entity(
            "codeDeployApplication",
            "c0ffee00-1111-2222-3333-444455556666",
        )
        .unwrap();
    assert_eq!(
        copper["properties"]["createTime"],
        "2023-12-21T01:50:56.789000Z"
    );
    assert_eq!(copper["properties"]["linkedToGitHub"], true);
    let examples = w.port.examples(IDENTIFIER, "AWS::CodeDeploy::Application");
    let item = examples
        .iter()
        .find(|e| e["Properties"]["ApplicationName"] == "copper-deploy")
        .unwrap_or_else(|| panic!("{examples:#?}"));
    assert_eq!(
        item["Properties"],
        json!({
            "ApplicationName": "copper-deploy",
            "ApplicationId": "c0ffee00-1111-2222-3333-444455556666",
            "ComputePlatform": "Lambda",
            "CreateTime": "2023-12-21T01:50:56.789000Z",
            "LinkedToGitHub": true,
            "Tags": [],
        })
    );
    assert!(w.port.entity("codeDeployApplication", &id).is_some());
}

/// A failed `ListTagsForResource` (HTTP 500) keeps the application without `Tags`, as
/// aws-v3 does, the run complete, logged as an enrichment failure naming the account,
/// region, kind and action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_application_a_failed_list_tags_keeps_it_without_tags() {
    let (w, id) = world_with_a_codedeploy_application("0", "codedeploy-application").await;
    w.proxy.add_rule(Rule {
        action: "ListTagsForResource".into(),
        status: 500,
        code: "InternalFailure".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::CodeDeploy::Application");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    assert_eq!(
        keys_in_order(&examples[0]["Properties"]),
        [
            "ApplicationName",
            "ApplicationId",
            "ComputePlatform",
            "CreateTime"
        ]
    );
    let e = w.port.entity("codeDeployApplication", &id).unwrap();
    assert_eq!(e["properties"]["applicationName"], "zinc-deploy");
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed") && l.contains("application:zinc-deploy"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::CodeDeploy::Application",
        "GetCodeDeployApplicationTagsAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// A failed `ListApplications` fails the unit: exit 3, nothing described, the previous
/// run's entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_application_a_failed_list_applications_fails_the_unit() {
    let (w, id) = world_with_a_codedeploy_application("1", "codedeploy-application").await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codedeploy:ListApplications",
            code: "InternalFailure",
            not_called: Some("BatchGetApplications"),
            kept: ("codeDeployApplication", &id),
        },
    )
    .await;
}

/// A failed `BatchGetApplications` fails the unit too: aws-v3 would emit the applications
/// with their tags alone (no name, no id), and the entities of the last run would be
/// deleted as if the applications were gone; here the run is partial and the entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_application_a_failed_batch_get_applications_fails_the_unit() {
    let (w, id) = world_with_a_codedeploy_application("1", "codedeploy-application").await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codedeploy:BatchGetApplications",
            code: "InternalFailure",
            not_called: None,
            kept: ("codeDeployApplication", &id),
        },
    )
    .await;
}

/// [`world_with_a_codedeploy_application`] with a deployment group `zinc-group` of
/// `zinc-deploy` (EC2 tag filter, service role, in-place style, two tags; created through
/// the SDK against moto) and the mapping of `resources/kinds/codedeploy-deployment-group.yml`
/// asking for `include`. Returns the world and the group's id.
async fn world_with_a_codedeploy_deployment_group(
    members: &str,
    include: Value,
) -> (World, String) {
    let (w, _) = world_with_a_codedeploy_application(members, "codedeploy-deployment-group").await;
    use aws_sdk_codedeploy::types::{
        DeploymentOption, DeploymentStyle, DeploymentType, Ec2TagFilter, Ec2TagFilterType, Tag,
    };
    let id = codedeploy_client(&w)
        .await
        .create_deployment_group()
        .application_name("zinc-deploy")
        .deployment_group_name("zinc-group")
        .service_role_arn(format!("arn:aws:iam::{MANAGEMENT}:role/zinc-deploy"))
        .ec2_tag_filters(
            Ec2TagFilter::builder()
                .key("Environment")
                .value("Production")
                .r#type(Ec2TagFilterType::KeyAndValue)
                .build(),
        )
        .deployment_style(
            DeploymentStyle::builder()
                .deployment_type(DeploymentType::InPlace)
                .deployment_option(DeploymentOption::WithoutTrafficControl)
                .build(),
        )
        .tags(Tag::builder().key("team").value("platform").build())
        .tags(Tag::builder().key("tier").value("deploy").build())
        .send()
        .await
        .unwrap()
        .deployment_group_id
        .unwrap();
    let mut config: Value = serde_yaml::from_str(include_str!(
        "../resources/kinds/codedeploy-deployment-group.yml"
    ))
    .unwrap();
    config["resources"][0]["selector"]["regionPolicy"] = json!({"allow": ["eu-west-1"]});
    config["resources"][0]["selector"]["includeActions"] = include;
    w.seed_integration(config);
    (w, id)
}

/// `BatchGetDeploymentGroups` as CodeDeploy answers it for `zinc-group` (id `id`), written
/// from the CodeDeploy API reference (`DeploymentGroupInfo`, timestamps in epoch seconds as
/// on the wire), plus a member sent as `null` and one aws-v3's model does not declare.
/// moto 5.2.5 does not implement `BatchGetDeploymentGroups`, so the proxy answers it.
fn codedeploy_deployment_groups_answer(groups: &[(&str, &str, &str)]) -> String {
    let infos: Vec<Value> = groups
        .iter()
        .map(|(application, name, id)| {
            json!({
                "applicationName": application,
                "deploymentGroupId": id,
                "deploymentGroupName": name,
                "deploymentConfigName": "CodeDeployDefault.OneAtATime",
                "ec2TagFilters": [{"Key": "Environment", "Value": "Production",
                    "Type": "KEY_AND_VALUE"}],
                "onPremisesInstanceTagFilters": [],
                "autoScalingGroups": [],
                "serviceRoleArn": format!("arn:aws:iam::{MANAGEMENT}:role/zinc-deploy"),
                "triggerConfigurations": [],
                "alarmConfiguration": {"enabled": false, "ignorePollAlarmFailure": false,
                    "alarms": []},
                "autoRollbackConfiguration": {"enabled": true, "events": ["DEPLOYMENT_FAILURE"]},
                "deploymentStyle": {"deploymentType": "IN_PLACE",
                    "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"},
                "outdatedInstancesStrategy": "UPDATE",
                "lastAttemptedDeployment": {"deploymentId": "d-92GQ47BKJ", "status": "Failed",
                    "endTime": 1703123456.789, "createTime": 1703123455},
                "loadBalancerInfo": null,
                "computePlatform": "Server",
                "terminationHookEnabled": false,
                "someFutureMember": {"x": 1},
            })
        })
        .collect();
    json!({"deploymentGroupsInfo": infos}).to_string()
}

/// `AWS::CodeDeploy::DeploymentGroup` through the real binary with `GetDeploymentGroupTags`:
/// applications listed, then their groups (moto), described with `BatchGetDeploymentGroups`
/// (answered by the proxy, [`codedeploy_deployment_groups_answer`]: moto 5.2.5 lacks it),
/// and the raw item aws-v3's key for key — its 24 declared keys that CodeDeploy sent, in
/// its model's order with `Tags` (`[{Key, Value}]`, from `ListTagsForResource` of the
/// group's ARN, moto) between `ServiceRoleArn` and `TargetRevision`; nested values in
/// CodeDeploy's camelCase, the last deployment's times RFC 3339, `null` and undeclared
/// members absent; `__ExtraContext` `{AccountId, Region}`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployment_groups_have_the_aws_v3_shape() {
    let (w, id) =
        world_with_a_codedeploy_deployment_group("1", json!(["GetDeploymentGroupTags"])).await;
    w.proxy.add_rule(Rule {
        action: "BatchGetDeploymentGroups".into(),
        body: Some(codedeploy_deployment_groups_answer(&[(
            "zinc-deploy",
            "zinc-group",
            &id,
        )])),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w
        .port
        .examples(IDENTIFIER, "AWS::CodeDeploy::DeploymentGroup");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(
        keys_in_order(item),
        ["Type", "Properties", "__ExtraContext"],
        "{item:#}"
    );
    assert_kind_shape(item);
    let props = &item["Properties"];
    assert_eq!(
        *props,
        json!({
            "AlarmConfiguration": {"enabled": false, "ignorePollAlarmFailure": false,
                "alarms": []},
            "ApplicationName": "zinc-deploy",
            "AutoRollbackConfiguration": {"enabled": true, "events": ["DEPLOYMENT_FAILURE"]},
            "AutoScalingGroups": [],
            "ComputePlatform": "Server",
            "DeploymentConfigName": "CodeDeployDefault.OneAtATime",
            "DeploymentGroupId": id,
            "DeploymentGroupName": "zinc-group",
            "DeploymentStyle": {"deploymentType": "IN_PLACE",
                "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"},
            "Ec2TagFilters": [{"Key": "Environment", "Value": "Production",
                "Type": "KEY_AND_VALUE"}],
            "LastAttemptedDeployment": {"deploymentId": "d-92GQ47BKJ", "status": "Failed",
                "endTime": "2023-12-21T01:50:56.789000Z", "createTime": "2023-12-21T01:50:55Z"},
            "OnPremisesInstanceTagFilters": [],
            "OutdatedInstancesStrategy": "UPDATE",
            "ServiceRoleArn": format!("arn:aws:iam::{MANAGEMENT}:role/zinc-deploy"),
            "Tags": [{"Key": "team", "Value": "platform"}, {"Key": "tier", "Value": "deploy"}],
            "TerminationHookEnabled": false,
            "TriggerConfigurations": [],
        })
    );
    assert_eq!(
        keys_in_order(props),
        [
            "AlarmConfiguration",
            "ApplicationName",
            "AutoRollbackConfiguration",
            "AutoScalingGroups",
            "ComputePlatform",
            "DeploymentConfigName",
            "DeploymentGroupId",
            "DeploymentGroupName",
            "DeploymentStyle",
            "Ec2TagFilters",
            "LastAttemptedDeployment",
            "OnPremisesInstanceTagFilters",
            "OutdatedInstancesStrategy",
            "ServiceRoleArn",
            "Tags",
            "TerminationHookEnabled",
            "TriggerConfigurations"
        ],
        "the model's order"
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("BatchGetDeploymentGroups"), 1);
    assert_eq!(w.proxy.hits("ListTagsForResource"), 1);

    let e = w.port.entity("codedeployDeploymentGroup", &id).unwrap();
    assert_eq!(e["title"], "zinc-deploy/zinc-group");
    assert_eq!(e["properties"]["outdatedInstancesStrategy"], "UPDATE");
    assert_eq!(e["properties"]["tags"], props["Tags"]);
    assert_eq!(e["relations"]["account"], MANAGEMENT);
}

/// Without `GetDeploymentGroupTags` there is no `Tags` and no `ListTagsForResource` call;
/// and every page is listed: `ListDeploymentGroups` answers in two pages (canned, from the
/// API reference) and each page is described with its own `BatchGetDeploymentGroups`
/// (canned: moto 5.2.5 lacks it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployment_groups_are_paged_to_the_end_and_untagged_without_the_action() {
    // The management account alone, so that both canned pages answer its one listing.
    let (w, id) = world_with_a_codedeploy_deployment_group("0", json!([])).await;
    for body in [
        json!({"applicationName": "zinc-deploy", "deploymentGroups": ["zinc-group"],
            "nextToken": "page-2"}),
        json!({"applicationName": "zinc-deploy", "deploymentGroups": ["copper-group"]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListDeploymentGroups".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    for (name, group_id) in [("zinc-group", id.as_str()), ("copper-group", "copper-id")] {
        w.proxy.add_rule(Rule {
            action: "BatchGetDeploymentGroups".into(),
            body: Some(codedeploy_deployment_groups_answer(&[(
                "zinc-deploy",
                name,
                group_id,
            )])),
            times: 1,
            ..Default::default()
        });
    }
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListDeploymentGroups"), 2);
    assert_eq!(w.proxy.hits("BatchGetDeploymentGroups"), 2);
    assert_eq!(w.proxy.hits("ListTagsForResource"), 0);
    for group_id in [id.as_str(), "copper-id"] {
        let e = w
            .port
            .entity("codedeployDeploymentGroup", group_id)
            .unwrap();
        assert_eq!(e["properties"]["applicationName"], "zinc-deploy");
    }
    let examples = w
        .port
        .examples(IDENTIFIER, "AWS::CodeDeploy::DeploymentGroup");
    assert!(!examples.is_empty());
    for item in &examples {
        assert!(item["Properties"].get("Tags").is_none(), "{item:#}");
    }
}

/// A failed `ListTagsForResource` (HTTP 500) keeps the group without `Tags`, as aws-v3
/// does, the run complete, logged as an enrichment failure naming the account, region,
/// kind and action. `BatchGetDeploymentGroups` is canned (moto 5.2.5 lacks it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployment_group_a_failed_list_tags_keeps_it_without_tags() {
    let (w, id) =
        world_with_a_codedeploy_deployment_group("0", json!(["GetDeploymentGroupTags"])).await;
    w.proxy.add_rule(Rule {
        action: "BatchGetDeploymentGroups".into(),
        body: Some(codedeploy_deployment_groups_answer(&[(
            "zinc-deploy",
            "zinc-group",
            &id,
        )])),
        times: 10_000,
        ..Default::default()
    });
    w.proxy.add_rule(Rule {
        action: "ListTagsForResource".into(),
        status: 500,
        code: "InternalFailure".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let e = w.port.entity("codedeployDeploymentGroup", &id).unwrap();
    assert_eq!(e["properties"]["applicationName"], "zinc-deploy");
    let examples = w
        .port
        .examples(IDENTIFIER, "AWS::CodeDeploy::DeploymentGroup");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    assert!(examples[0]["Properties"].get("Tags").is_none());
    assert_eq!(examples[0]["Properties"]["DeploymentGroupId"], json!(id));
    let warning = run
        .stderr
        .lines()
        .find(|l| {
            l.contains("enrichment call failed")
                && l.contains("deploymentgroup:zinc-deploy/zinc-group")
        })
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::CodeDeploy::DeploymentGroup",
        "GetDeploymentGroupTags",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// A failed `ListDeploymentGroups` fails the unit: exit 3, nothing described, the previous
/// run's entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployment_group_a_failed_list_deployment_groups_fails_the_unit() {
    let (w, id) = world_with_a_codedeploy_deployment_group("1", json!([])).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codedeploy:ListDeploymentGroups",
            code: "InternalFailure",
            not_called: Some("BatchGetDeploymentGroups"),
            kept: ("codedeployDeploymentGroup", &id),
        },
    )
    .await;
}

/// A failed `BatchGetDeploymentGroups` fails the unit too: aws-v3 builds a group's item
/// from that call alone and would emit nothing, so the group entity of the last run would
/// be deleted as if the group were gone; here the run is partial and the entity is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployment_group_a_failed_batch_get_deployment_groups_fails_the_unit() {
    let (w, id) = world_with_a_codedeploy_deployment_group("1", json!([])).await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codedeploy:BatchGetDeploymentGroups",
            code: "InternalFailure",
            not_called: None,
            kept: ("codedeployDeploymentGroup", &id),
        },
    )
    .await;
}

/// [`world_with_a_codedeploy_deployment_group`] with two deployments of `zinc-group` (an S3
/// revision, a description; created through the SDK against moto) and the mapping of
/// `resources/kinds/codedeploy-deployment.yml` listed in eu-west-1. Returns the world and
/// the deployments' ids, oldest first.
async fn world_with_codedeploy_deployments(members: &str) -> (World, Vec<String>) {
    let (w, _) = world_with_a_codedeploy_deployment_group(members, json!([])).await;
    use aws_sdk_codedeploy::types::{
        BundleType, RevisionLocation, RevisionLocationType, S3Location,
    };
    let codedeploy = codedeploy_client(&w).await;
    let mut ids = Vec::new();
    for n in 1..=2 {
        let id = codedeploy
            .create_deployment()
            .application_name("zinc-deploy")
            .deployment_group_name("zinc-group")
            .description(format!("release {n}"))
            .file_exists_behavior(aws_sdk_codedeploy::types::FileExistsBehavior::Disallow)
            .ignore_application_stop_failures(false)
            .update_outdated_instances_only(false)
            .revision(
                RevisionLocation::builder()
                    .revision_type(RevisionLocationType::S3)
                    .s3_location(
                        S3Location::builder()
                            .bucket("zinc-releases")
                            .key(format!("zinc-{n}.zip"))
                            .bundle_type(BundleType::Zip)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .deployment_id
            .unwrap();
        ids.push(id);
    }
    seed_kind_example(&w, "codedeploy-deployment");
    (w, ids)
}

/// `AWS::CodeDeploy::Deployment` through the real binary (`GetDeploymentAction` and
/// `ListDeploymentsAction`, its default actions): every deployment of the history listed
/// (`ListDeployments` without a filter), one `GetDeployment` per deployment, and each raw
/// item aws-v3's key for key — the declared keys moto returned, PascalCase in the model's
/// order, nested values in CodeDeploy's camelCase, `CreateTime` RFC 3339, `null` members
/// absent, `__ExtraContext` `{AccountId, Region}`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployments_have_the_aws_v3_shape() {
    let (w, ids) = world_with_codedeploy_deployments("1").await;
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w.port.examples(IDENTIFIER, "AWS::CodeDeploy::Deployment");
    assert!(!examples.is_empty(), "{examples:#?}");
    let item = examples
        .iter()
        .find(|e| e["Properties"]["DeploymentId"] == json!(ids[1]))
        .unwrap_or_else(|| panic!("no item for {}: {examples:#?}", ids[1]));
    assert_eq!(
        keys_in_order(item),
        ["Type", "Properties", "__ExtraContext"],
        "{item:#}"
    );
    assert_kind_shape(item);
    let props = &item["Properties"];
    let model_order = [
        "AdditionalDeploymentStatusInfo",
        "ApplicationName",
        "AutoRollbackConfiguration",
        "BlueGreenDeploymentConfiguration",
        "CompleteTime",
        "ComputePlatform",
        "CreateTime",
        "Creator",
        "DeploymentConfigName",
        "DeploymentGroupName",
        "DeploymentId",
        "DeploymentOverview",
        "DeploymentStatusMessages",
        "DeploymentStyle",
        "Description",
        "ErrorInformation",
        "ExternalId",
        "FileExistsBehavior",
        "IgnoreApplicationStopFailures",
        "InstanceTerminationWaitTimeStarted",
        "LoadBalancerInfo",
        "OverrideAlarmConfiguration",
        "PreviousRevision",
        "RelatedDeployments",
        "Revision",
        "RollbackInfo",
        "StartTime",
        "Status",
        "TargetInstances",
        "UpdateOutdatedInstancesOnly",
    ];
    let got = keys_in_order(props);
    let mut expected: Vec<&str> = model_order.to_vec();
    expected.retain(|k| got.iter().any(|g| g == k));
    assert_eq!(
        got, expected,
        "declared keys only, in the model's order: {props:#}"
    );
    assert_eq!(props["ApplicationName"], "zinc-deploy");
    assert_eq!(props["DeploymentGroupName"], "zinc-group");
    assert_eq!(props["Description"], "release 2");
    assert_eq!(props["Creator"], "user");
    assert_eq!(props["Status"], "Created");
    assert_eq!(props["FileExistsBehavior"], "DISALLOW");
    assert_eq!(props["IgnoreApplicationStopFailures"], false);
    assert_eq!(props["UpdateOutdatedInstancesOnly"], false);
    // Objects moto sends empty stay `{}`, as botocore parses them.
    assert_eq!(props["ErrorInformation"], json!({}));
    assert_eq!(
        props["Revision"],
        json!({"revisionType": "S3", "s3Location": {"bucket": "zinc-releases",
            "key": "zinc-2.zip", "bundleType": "zip"}})
    );
    assert_eq!(
        props["DeploymentStyle"],
        json!({"deploymentType": "IN_PLACE", "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"})
    );
    assert!(
        props.get("StartTime").is_none(),
        "moto sends null: {props:#}"
    );
    let created = props["CreateTime"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.contains('T'),
        "RFC 3339: {created}"
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("GetDeployment"), 2);
    for id in &ids {
        let e = w.port.entity("codeDeployDeployment", id).unwrap();
        assert_eq!(e["properties"]["deploymentGroupName"], "zinc-group");
        assert_eq!(e["relations"]["account"], MANAGEMENT);
    }
    let e = w.port.entity("codeDeployDeployment", &ids[1]).unwrap();
    assert_eq!(
        e["title"],
        json!(format!("zinc-deploy/zinc-group/{}", ids[1]))
    );
    assert_eq!(e["properties"]["createTime"], json!(created));
}

/// What AWS sends that moto does not, answered by the proxy with canned CodeDeploy bodies
/// written from the API reference: `ListDeployments` in two pages (the whole history is
/// listed, every page) and `GetDeployment` of the second page's deployment with epoch-second
/// times (RFC 3339 as aws-v3 writes them), `null` members (absent) and a key aws-v3's model
/// does not declare (dropped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployments_are_the_whole_history_paged_to_the_end_with_rfc3339_times() {
    // The management account alone, so that both canned pages answer its one listing.
    let (w, ids) = world_with_codedeploy_deployments("0").await;
    for body in [
        json!({"deployments": [ids[0], ids[1]], "nextToken": "page-2"}),
        json!({"deployments": ["d-OLD0000001"]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListDeployments".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    w.proxy.add_rule(Rule {
        action: "GetDeployment".into(),
        request_contains: Some("d-OLD0000001".into()),
        body: Some(
            json!({"deploymentInfo": {
                "applicationName": "zinc-deploy",
                "deploymentGroupName": "zinc-group",
                "deploymentConfigName": "CodeDeployDefault.OneAtATime",
                "deploymentId": "d-OLD0000001",
                "status": "Succeeded",
                "createTime": 1703123455,
                "startTime": 1703123456.5,
                "completeTime": 1703123499.789,
                "creator": "user",
                "description": null,
                "deploymentOverview": {"Pending": 0, "InProgress": 0, "Succeeded": 1,
                    "Failed": 0, "Skipped": 0, "Ready": 0},
                "computePlatform": "Server",
                "someFutureMember": {"x": 1},
            }})
            .to_string(),
        ),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListDeployments"), 2);
    assert_eq!(w.proxy.hits("GetDeployment"), 3);
    let examples = w.port.examples(IDENTIFIER, "AWS::CodeDeploy::Deployment");
    let old = examples
        .iter()
        .find(|e| e["Properties"]["DeploymentId"] == "d-OLD0000001")
        .unwrap_or_else(|| panic!("{examples:#?}"));
    assert_eq!(
        old["Properties"],
        json!({
            "ApplicationName": "zinc-deploy",
            "CompleteTime": "2023-12-21T01:51:39.789000Z",
            "ComputePlatform": "Server",
            "CreateTime": "2023-12-21T01:50:55Z",
            "Creator": "user",
            "DeploymentConfigName": "CodeDeployDefault.OneAtATime",
            "DeploymentGroupName": "zinc-group",
            "DeploymentId": "d-OLD0000001",
            "DeploymentOverview": {"Pending": 0, "InProgress": 0, "Succeeded": 1,
                "Failed": 0, "Skipped": 0, "Ready": 0},
            "StartTime": "2023-12-21T01:50:56.500000Z",
            "Status": "Succeeded",
        })
    );
    for id in ids.iter().map(String::as_str).chain(["d-OLD0000001"]) {
        assert!(w.port.entity("codeDeployDeployment", id).is_some(), "{id}");
    }
    let e = w
        .port
        .entity("codeDeployDeployment", "d-OLD0000001")
        .unwrap();
    assert_eq!(
        e["properties"]["completeTime"],
        "2023-12-21T01:51:39.789000Z"
    );
}

/// A failed `GetDeployment` (HTTP 500) keeps each deployment as `{DeploymentId}` (aws-v3's
/// `ListDeploymentsAction` alone), the run complete, logged as an enrichment failure naming
/// the account, region, kind and action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployment_a_failed_get_deployment_keeps_the_id_only() {
    let (w, ids) = world_with_codedeploy_deployments("0").await;
    w.proxy.add_rule(Rule {
        action: "GetDeployment".into(),
        status: 500,
        code: "InternalFailure".into(),
        times: 10_000,
        ..Default::default()
    });
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let examples = w.port.examples(IDENTIFIER, "AWS::CodeDeploy::Deployment");
    assert!(!examples.is_empty());
    for item in &examples {
        assert_eq!(
            keys_in_order(&item["Properties"]),
            ["DeploymentId"],
            "{item:#}"
        );
    }
    for id in &ids {
        assert!(w.port.entity("codeDeployDeployment", id).is_some(), "{id}");
    }
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("enrichment call failed") && l.contains(&ids[0]))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    for needle in [
        MANAGEMENT,
        "eu-west-1",
        "AWS::CodeDeploy::Deployment",
        "GetDeploymentAction",
    ] {
        assert!(warning.contains(needle), "{needle} in {warning}");
    }
}

/// A failed `ListDeployments` fails the unit: exit 3, no `GetDeployment` call, the previous
/// run's entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployment_a_failed_list_deployments_fails_the_unit() {
    let (w, ids) = world_with_codedeploy_deployments("1").await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codedeploy:ListDeployments",
            code: "InternalFailure",
            not_called: Some("GetDeployment"),
            kept: ("codeDeployDeployment", &ids[0]),
        },
    )
    .await;
}

/// [`world_with_codedeploy_deployments`] with the mapping of
/// `resources/kinds/codedeploy-deployment-target.yml` listed in eu-west-1 instead. Returns
/// the world and the deployments' ids, oldest first.
async fn world_with_codedeploy_deployment_targets(members: &str) -> (World, Vec<String>) {
    let (w, ids) = world_with_codedeploy_deployments(members).await;
    seed_kind_example(&w, "codedeploy-deployment-target");
    (w, ids)
}

/// A canned answer of a call moto 5.2.5 lacks (`ListDeploymentTargets`,
/// `BatchGetDeploymentTargets`), given to the requests naming `deployment`.
fn codedeploy_canned(action: &str, deployment: &str, body: Value) -> Rule {
    Rule {
        action: action.into(),
        request_contains: Some(deployment.into()),
        body: Some(body.to_string()),
        times: 10_000,
        ..Default::default()
    }
}

/// `BatchGetDeploymentTargets` as CodeDeploy answers it for instance `target` of
/// `deployment`, written from the CodeDeploy API reference (`DeploymentTarget` with an
/// `InstanceTarget`, timestamps in epoch seconds as on the wire, a `null` `diagnostics`),
/// plus a member aws-v3's model does not declare.
fn codedeploy_instance_target_answer(deployment: &str, target: &str) -> Value {
    json!({"deploymentTargets": [{
        "deploymentTargetType": "InstanceTarget",
        "instanceTarget": {
            "deploymentId": deployment,
            "targetId": target,
            "targetArn": format!("arn:aws:ec2:eu-west-1:{MANAGEMENT}:instance/{target}"),
            "status": "Succeeded",
            "lastUpdatedAt": 1703123456.789,
            "lifecycleEvents": [
                {"lifecycleEventName": "ApplicationStop", "diagnostics": null,
                    "startTime": 1703123455, "endTime": 1703123455.5, "status": "Succeeded"},
                {"lifecycleEventName": "ApplicationStart",
                    "startTime": 1703123456, "endTime": 1703123456.789, "status": "Succeeded"},
            ],
            "instanceLabel": "Blue",
        },
        "someFutureMember": {"x": 1},
    }]})
}

/// `AWS::CodeDeploy::DeploymentTarget` through the real binary
/// (`GetDeploymentTargetDetailsAction`, its only action): every deployment of the history
/// listed (moto), its targets listed and described — `ListDeploymentTargets` and
/// `BatchGetDeploymentTargets` answered by the proxy with bodies written from the API
/// reference, since moto 5.2.5 implements neither — and the raw item aws-v3's key for key:
/// `DeploymentId` injected first, the declared keys CodeDeploy sent in the model's order,
/// the target's nested times RFC 3339, `null` and undeclared members absent. The older
/// deployment answers `DeploymentNotStartedException`: skipped with a warning, as aws-v3
/// skips it, and the run is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployment_targets_have_the_aws_v3_shape_and_unstarted_deployments_are_skipped()
{
    let (w, ids) = world_with_codedeploy_deployment_targets("1").await;
    let target = "i-0123456789abcdef0";
    w.proxy.add_rule(Rule {
        action: "ListDeploymentTargets".into(),
        request_contains: Some(ids[0].clone()),
        status: 400,
        code: "DeploymentNotStartedException".into(),
        times: 10_000,
        ..Default::default()
    });
    w.proxy.add_rule(codedeploy_canned(
        "ListDeploymentTargets",
        &ids[1],
        json!({"targetIds": [target]}),
    ));
    w.proxy.add_rule(codedeploy_canned(
        "BatchGetDeploymentTargets",
        &ids[1],
        codedeploy_instance_target_answer(&ids[1], target),
    ));
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let examples = w
        .port
        .examples(IDENTIFIER, "AWS::CodeDeploy::DeploymentTarget");
    assert_eq!(examples.len(), 1, "{examples:#?}");
    let item = &examples[0];
    assert_eq!(
        keys_in_order(item),
        ["Type", "Properties", "__ExtraContext"],
        "{item:#}"
    );
    assert_kind_shape(item);
    assert_eq!(
        item["Properties"],
        json!({
            "DeploymentId": ids[1],
            "DeploymentTargetType": "InstanceTarget",
            "InstanceTarget": {
                "deploymentId": ids[1],
                "targetId": target,
                "targetArn": format!("arn:aws:ec2:eu-west-1:{MANAGEMENT}:instance/{target}"),
                "status": "Succeeded",
                "lastUpdatedAt": "2023-12-21T01:50:56.789000Z",
                "lifecycleEvents": [
                    {"lifecycleEventName": "ApplicationStop",
                        "startTime": "2023-12-21T01:50:55Z",
                        "endTime": "2023-12-21T01:50:55.500000Z", "status": "Succeeded"},
                    {"lifecycleEventName": "ApplicationStart",
                        "startTime": "2023-12-21T01:50:56Z",
                        "endTime": "2023-12-21T01:50:56.789000Z", "status": "Succeeded"},
                ],
                "instanceLabel": "Blue",
            },
        })
    );
    assert_eq!(
        keys_in_order(&item["Properties"]),
        ["DeploymentId", "DeploymentTargetType", "InstanceTarget"]
    );
    assert_eq!(
        item["__ExtraContext"],
        json!({"AccountId": MANAGEMENT, "Region": "eu-west-1"})
    );
    assert_eq!(w.proxy.hits("ListDeploymentTargets"), 2);
    assert_eq!(w.proxy.hits("BatchGetDeploymentTargets"), 1);
    let e = w
        .port
        .entity(
            "codedeployDeploymentTarget",
            &format!("{}/{target}", ids[1]),
        )
        .unwrap();
    assert_eq!(e["properties"]["deploymentTargetType"], "InstanceTarget");
    assert_eq!(e["relations"]["account"], MANAGEMENT);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("has not started") && l.contains(&ids[0]))
        .unwrap_or_else(|| panic!("no warning in:\n{}", run.stderr));
    assert!(
        warning.contains("AWS::CodeDeploy::DeploymentTarget"),
        "{warning}"
    );
}

/// Every page of `ListDeploymentTargets` is listed, and described 25 targets at a time
/// (`BatchGetDeploymentTargets`' limit, aws-v3's batch): 30 targets on a first page and one
/// on a second make three batches. Both calls are canned (moto 5.2.5 lacks them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployment_targets_are_paged_to_the_end_in_batches_of_25() {
    // The management account alone, so that the canned pages answer its one listing.
    let (w, ids) = world_with_codedeploy_deployment_targets("0").await;
    w.proxy.add_rule(codedeploy_canned(
        "ListDeploymentTargets",
        &ids[0],
        json!({"targetIds": []}),
    ));
    let first: Vec<String> = (0..30).map(|i| format!("i-{i:017}")).collect();
    w.proxy.add_rule(Rule {
        times: 1,
        ..codedeploy_canned(
            "ListDeploymentTargets",
            &ids[1],
            json!({"targetIds": first, "nextToken": "targets-2"}),
        )
    });
    w.proxy.add_rule(codedeploy_canned(
        "ListDeploymentTargets",
        &ids[1],
        json!({"targetIds": ["i-lastone"]}),
    ));
    w.proxy.add_rule(codedeploy_canned(
        "BatchGetDeploymentTargets",
        &ids[1],
        codedeploy_instance_target_answer(&ids[1], "i-0123456789abcdef0"),
    ));
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListDeploymentTargets"), 3);
    assert_eq!(w.proxy.hits("BatchGetDeploymentTargets"), 3);
    assert!(
        w.port
            .entity(
                "codedeployDeploymentTarget",
                &format!("{}/i-0123456789abcdef0", ids[1])
            )
            .is_some()
    );
}

/// A failed `ListDeploymentTargets` (other than "not started") fails the unit: exit 3, no
/// `BatchGetDeploymentTargets` call, the previous run's entity kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployment_target_a_failed_list_deployment_targets_fails_the_unit() {
    let (w, ids) = world_with_codedeploy_deployment_targets("1").await;
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codedeploy:ListDeploymentTargets",
            code: "InternalFailure",
            not_called: Some("BatchGetDeploymentTargets"),
            kept: ("codedeployDeploymentTarget", &format!("{}/i-1", ids[0])),
        },
    )
    .await;
}

/// A failed `BatchGetDeploymentTargets` fails the unit too: aws-v3 would emit nothing for
/// the batch, so the target entities of the last run would be deleted as if gone; here the
/// run is partial and the entity kept. `ListDeploymentTargets` is canned (moto lacks it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codedeploy_deployment_target_a_failed_batch_get_deployment_targets_fails_the_unit() {
    let (w, ids) = world_with_codedeploy_deployment_targets("1").await;
    for id in &ids {
        w.proxy.add_rule(codedeploy_canned(
            "ListDeploymentTargets",
            id,
            json!({"targetIds": ["i-1"]}),
        ));
    }
    a_failed_listing_fails_the_unit(
        &w,
        ListingFailure {
            operation: "codedeploy:BatchGetDeploymentTargets",
            code: "InternalFailure",
            not_called: None,
            kept: ("codedeployDeploymentTarget", &format!("{}/i-1", ids[0])),
        },
    )
    .await;
}

// ---- History kinds bounded by `selector.maxAgeDays` / `selector.maxItems` (issue 16) ----

/// Re-seeds the user example of a history kind with `bound` (`maxAgeDays`, `maxItems`)
/// added to its selector.
fn seed_bounded_example(w: &World, example: &str, bound: Value) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/resources/kinds");
    let mut config: Value =
        serde_yaml::from_str(&std::fs::read_to_string(format!("{dir}/{example}.yml")).unwrap())
            .unwrap();
    for r in config["resources"].as_array_mut().unwrap() {
        r["selector"]["regionPolicy"] = json!({"allow": ["eu-west-1"]});
        for (k, v) in bound.as_object().unwrap() {
            r["selector"][k] = v.clone();
        }
    }
    w.seed_integration(config);
}

/// An entity of `blueprint` that an earlier run wrote (owned by this integration).
fn put_owned(w: &World, blueprint: &str, identifier: &str) {
    w.port.put_entity(
        json!({"identifier": identifier, "blueprint": blueprint, "title": "earlier run"}),
        &support::our_datasource(),
    );
}

/// `maxItems: 1` on `AWS::CodeBuild::BuildRun`: the newest build of the region only; the
/// listing stops after its first `ListBuilds` page (of two, canned newest first), and
/// `BatchGetBuilds` is asked for that one build alone. The build the window leaves out,
/// whose entity an earlier run wrote, is not deleted by the complete run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_build_run_max_items_stops_paging_and_keeps_older_entities() {
    let (w, ids) = world_with_codebuild_builds("0").await;
    seed_bounded_example(&w, "codebuild-build-run", json!({"maxItems": 1}));
    for body in [
        json!({"ids": [ids[1], ids[0]], "nextToken": "page-2"}),
        json!({"ids": ["copper-build:0000"]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListBuilds".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    put_owned(&w, "codeBuildBuildRun", &ids[0]);
    put_owned(&w, "codeBuildBuildRun", "copper-build:0000");
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListBuilds"), 1, "one page, not two");
    assert_eq!(w.proxy.hits("BatchGetBuilds"), 1);
    let examples = w.port.examples(IDENTIFIER, "AWS::CodeBuild::BuildRun");
    let got: Vec<&str> = examples
        .iter()
        .map(|e| e["Properties"]["Id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[1].as_str()], "the newest build only");
    let newest = w.port.entity("codeBuildBuildRun", &ids[1]).unwrap();
    assert_eq!(newest["properties"]["sourceVersion"], "v2");
    // Outside the window: not looked for, so not stale.
    for id in [ids[0].as_str(), "copper-build:0000"] {
        let kept = w.port.entity("codeBuildBuildRun", id);
        assert_eq!(
            kept.map(|e| e["title"].clone()),
            Some(json!("earlier run")),
            "{id}: {}",
            run.stderr
        );
    }
}

/// `maxAgeDays: 30` on `AWS::CodeBuild::BuildRun`: `ListBuilds`' first page (canned, newest
/// first) holds a build of yesterday and one of 2023; the old one ends the window, so the
/// second page is never asked for and only yesterday's build is sent. Entities of builds
/// outside the window (the 2023 one, and one of the unread page) survive the complete run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_build_run_max_age_days_stops_paging_at_the_first_older_build() {
    let (w, _) = world_with_codebuild_builds("0").await;
    seed_bounded_example(&w, "codebuild-build-run", json!({"maxAgeDays": 30}));
    for body in [
        json!({"ids": ["fresh-build:2", "stale-build:1"], "nextToken": "page-2"}),
        json!({"ids": ["stale-build:0"]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListBuilds".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    let yesterday = chrono::Utc::now().timestamp() - 86_400;
    w.proxy.add_rule(Rule {
        action: "BatchGetBuilds".into(),
        body: Some(
            json!({"builds": [
                {"id": "fresh-build:2", "projectName": "fresh-build", "buildNumber": 2,
                    "buildStatus": "SUCCEEDED", "startTime": yesterday},
                {"id": "stale-build:1", "projectName": "stale-build", "buildNumber": 1,
                    "buildStatus": "SUCCEEDED", "startTime": 1703123456},
            ]})
            .to_string(),
        ),
        times: 10,
        ..Default::default()
    });
    put_owned(&w, "codeBuildBuildRun", "stale-build:1");
    put_owned(&w, "codeBuildBuildRun", "stale-build:0");
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        w.proxy.hits("ListBuilds"),
        1,
        "the second page is older still"
    );
    assert_eq!(w.proxy.hits("BatchGetBuilds"), 1);
    let examples = w.port.examples(IDENTIFIER, "AWS::CodeBuild::BuildRun");
    let got: Vec<&str> = examples
        .iter()
        .map(|e| e["Properties"]["Id"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["fresh-build:2"], "{examples:#?}");
    assert!(
        w.port
            .entity("codeBuildBuildRun", "fresh-build:2")
            .is_some()
    );
    for id in ["stale-build:1", "stale-build:0"] {
        let kept = w.port.entity("codeBuildBuildRun", id);
        assert_eq!(
            kept.map(|e| e["title"].clone()),
            Some(json!("earlier run")),
            "{id}: {}",
            run.stderr
        );
    }
}

/// `maxItems: 1` on `AWS::CodeDeploy::Deployment`: one `ListDeployments` page of two
/// (canned, newest first) and one `GetDeployment`, for the newest deployment; the other
/// deployments' entities survive the complete run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_deployment_max_items_stops_paging_and_keeps_older_entities() {
    let (w, ids) = world_with_codedeploy_deployments("0").await;
    seed_bounded_example(&w, "codedeploy-deployment", json!({"maxItems": 1}));
    for body in [
        json!({"deployments": [ids[1], ids[0]], "nextToken": "page-2"}),
        json!({"deployments": ["d-OLD0000001"]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListDeployments".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    put_owned(&w, "codeDeployDeployment", &ids[0]);
    put_owned(&w, "codeDeployDeployment", "d-OLD0000001");
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListDeployments"), 1, "one page, not two");
    assert_eq!(w.proxy.hits("GetDeployment"), 1);
    let examples = w.port.examples(IDENTIFIER, "AWS::CodeDeploy::Deployment");
    let got: Vec<&str> = examples
        .iter()
        .map(|e| e["Properties"]["DeploymentId"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[1].as_str()]);
    for id in [ids[0].as_str(), "d-OLD0000001"] {
        let kept = w.port.entity("codeDeployDeployment", id);
        assert_eq!(
            kept.map(|e| e["title"].clone()),
            Some(json!("earlier run")),
            "{id}: {}",
            run.stderr
        );
    }
}

/// `maxAgeDays: 30` on `AWS::CodeDeploy::Deployment`: the first page (canned, newest first)
/// ends with a deployment created in 2023 (its `GetDeployment` canned), which closes the
/// window: no second `ListDeployments`, moto's two new deployments sent, the old one not,
/// and the old deployments' entities survive the complete run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_deployment_max_age_days_stops_paging_at_the_first_older_deployment() {
    let (w, ids) = world_with_codedeploy_deployments("0").await;
    seed_bounded_example(&w, "codedeploy-deployment", json!({"maxAgeDays": 30}));
    for body in [
        json!({"deployments": [ids[1], ids[0], "d-OLD0000001"], "nextToken": "page-2"}),
        json!({"deployments": ["d-OLD0000000"]}),
    ] {
        w.proxy.add_rule(Rule {
            action: "ListDeployments".into(),
            body: Some(body.to_string()),
            times: 1,
            ..Default::default()
        });
    }
    w.proxy.add_rule(Rule {
        action: "GetDeployment".into(),
        request_contains: Some("d-OLD000000".into()),
        body: Some(
            json!({"deploymentInfo": {
                "applicationName": "zinc-deploy", "deploymentGroupName": "zinc-group",
                "deploymentId": "d-OLD0000001", "status": "Succeeded",
                "createTime": 1703123455,
            }})
            .to_string(),
        ),
        times: 10,
        ..Default::default()
    });
    put_owned(&w, "codeDeployDeployment", "d-OLD0000001");
    put_owned(&w, "codeDeployDeployment", "d-OLD0000000");
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        w.proxy.hits("ListDeployments"),
        1,
        "the second page is older still"
    );
    let examples = w.port.examples(IDENTIFIER, "AWS::CodeDeploy::Deployment");
    let got: BTreeSet<&str> = examples
        .iter()
        .map(|e| e["Properties"]["DeploymentId"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        ids.iter().map(String::as_str).collect(),
        "{examples:#?}"
    );
    for id in ["d-OLD0000001", "d-OLD0000000"] {
        let kept = w.port.entity("codeDeployDeployment", id);
        assert_eq!(
            kept.map(|e| e["title"].clone()),
            Some(json!("earlier run")),
            "{id}: {}",
            run.stderr
        );
    }
}

/// `maxAgeDays: 30, maxItems: 1` on `AWS::CodeDeploy::DeploymentTarget`: `ListDeployments`
/// carries CodeDeploy's own `createTimeRange` filter (the canned answer, the newest
/// deployment only, is given only to a request that does), and the window holds one target:
/// one `BatchGetDeploymentTargets` of one id out of a first page of 30, no second page of
/// targets, the older deployment's targets never listed, and an earlier run's target entity
/// kept by the complete run. `ListDeploymentTargets` and `BatchGetDeploymentTargets` are
/// canned (moto 5.2.5 lacks them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_deployment_target_asks_codedeploy_for_the_age_window_and_counts_targets() {
    let (w, ids) = world_with_codedeploy_deployment_targets("0").await;
    seed_bounded_example(
        &w,
        "codedeploy-deployment-target",
        json!({"maxAgeDays": 30, "maxItems": 1}),
    );
    w.proxy.add_rule(Rule {
        action: "ListDeployments".into(),
        request_contains: Some("createTimeRange".into()),
        body: Some(json!({"deployments": [ids[1]]}).to_string()),
        times: 10,
        ..Default::default()
    });
    let first: Vec<String> = (0..30).map(|i| format!("i-{i:017}")).collect();
    w.proxy.add_rule(Rule {
        times: 1,
        ..codedeploy_canned(
            "ListDeploymentTargets",
            &ids[1],
            json!({"targetIds": first, "nextToken": "targets-2"}),
        )
    });
    w.proxy.add_rule(codedeploy_canned(
        "ListDeploymentTargets",
        &ids[1],
        json!({"targetIds": ["i-lastone"]}),
    ));
    w.proxy.add_rule(codedeploy_canned(
        "BatchGetDeploymentTargets",
        &ids[1],
        codedeploy_instance_target_answer(&ids[1], "i-0123456789abcdef0"),
    ));
    let old = format!("{}/i-older", ids[0]);
    put_owned(&w, "codedeployDeploymentTarget", &old);
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.proxy.hits("ListDeployments"), 1);
    assert_eq!(
        w.proxy.hits("ListDeploymentTargets"),
        1,
        "the window is full"
    );
    assert_eq!(w.proxy.hits("BatchGetDeploymentTargets"), 1);
    assert!(
        w.port
            .entity(
                "codedeployDeploymentTarget",
                &format!("{}/i-0123456789abcdef0", ids[1])
            )
            .is_some()
    );
    assert_eq!(
        w.port
            .entity("codedeployDeploymentTarget", &old)
            .map(|e| e["title"].clone()),
        Some(json!("earlier run")),
        "{}",
        run.stderr
    );
}

/// `validate` rejects a bad bound, naming the resource, its kind, the field and what it
/// expects (not a number, negative, 0 days), and a bound on a kind that is not a history
/// kind (it would be ignored); the same bound, valid, on `BuildRun` passes.
#[tokio::test]
async fn history_bound_bad_values_fail_validate_naming_the_field() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/resources/kinds");
    let tmp = tempfile::tempdir().unwrap();
    let validate = async |example: &str, bound: Value| {
        let mut config: Value =
            serde_yaml::from_str(&std::fs::read_to_string(format!("{dir}/{example}.yml")).unwrap())
                .unwrap();
        for (k, v) in bound.as_object().unwrap() {
            config["resources"][0]["selector"][k] = v.clone();
        }
        let mapping = tmp.path().join(format!("{example}.json"));
        std::fs::write(&mapping, config.to_string()).unwrap();
        run_binary(
            &[
                "validate",
                "--mapping",
                &mapping.to_string_lossy(),
                "--blueprints",
                &format!("{dir}/{example}.blueprint.json"),
            ],
            &[],
        )
        .await
    };
    let ok = validate(
        "codebuild-build-run",
        json!({"maxAgeDays": 30, "maxItems": 500}),
    )
    .await;
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    for (bound, field) in [
        (json!({"maxAgeDays": 0}), "selector.maxAgeDays"),
        (json!({"maxAgeDays": -3}), "selector.maxAgeDays"),
        (json!({"maxItems": "lots"}), "selector.maxItems"),
        (json!({"maxItems": 2.5}), "selector.maxItems"),
    ] {
        let run = validate("codebuild-build-run", bound.clone()).await;
        assert_eq!(run.code, 2, "{bound}: {}{}", run.stdout, run.stderr);
        let place = format!("resources[0] (AWS::CodeBuild::BuildRun) {field}");
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains(&place) && l.contains("expected a whole number of at least 1")),
            "{bound}: {}",
            run.stdout
        );
    }
    let run = validate("s3-bucket", json!({"maxItems": 10})).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.lines().any(
            |l| l.contains("resources[0] (AWS::S3::Bucket) selector.maxItems")
                && l.contains("takes no history bound")
        ),
        "{}",
        run.stdout
    );
}

/// `maxItems: 1` on `AWS::CodePipeline::PipelineExecution` is per pipeline: each of two
/// pipelines has two canned `ListPipelineExecutions` pages (newest first); each listing
/// stops after its first page, one `GetPipelineExecution` per pipeline, the newest
/// execution of each sent, and an older execution's entity survives the complete run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pipeline_execution_max_items_is_per_pipeline() {
    let w = world_for_codepipeline("0", "codepipeline-pipeline-execution").await;
    seed_bounded_example(
        &w,
        "codepipeline-pipeline-execution",
        json!({"maxItems": 1}),
    );
    let role = codepipeline_role(&w).await;
    for pipeline in ["alpha-pipe", "beta-pipe"] {
        create_pipeline(&w, pipeline, &role).await;
        let summary = |id: String| {
            json!({"pipelineExecutionId": id, "status": "Succeeded",
                "startTime": 1705314600.25, "lastUpdateTime": 1705314660})
        };
        for body in [
            json!({"pipelineExecutionSummaries": [summary(format!("{pipeline}-e3")),
                summary(format!("{pipeline}-e2"))], "nextToken": "page-2"}),
            json!({"pipelineExecutionSummaries": [summary(format!("{pipeline}-e1"))]}),
        ] {
            w.proxy.add_rule(Rule {
                action: "ListPipelineExecutions".into(),
                request_contains: Some(pipeline.into()),
                body: Some(body.to_string()),
                times: 1,
                ..Default::default()
            });
        }
    }
    w.proxy.add_rule(Rule {
        action: "GetPipelineExecution".into(),
        // Not retried, so that its hits count executions: each keeps its summary.
        status: 400,
        code: "PipelineExecutionNotFoundException".into(),
        times: 10_000,
        ..Default::default()
    });
    put_owned(&w, "codePipelinePipelineExecution", "alpha-pipe-e2");
    put_owned(&w, "codePipelinePipelineExecution", "beta-pipe-e1");
    let run = run_binary(&["sail"], &w.env()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        w.proxy.hits("ListPipelineExecutions"),
        2,
        "one page per pipeline"
    );
    assert_eq!(w.proxy.hits("GetPipelineExecution"), 2);
    let executions = examples_by(
        &w,
        "AWS::CodePipeline::PipelineExecution",
        &["PipelineExecutionId"],
    );
    assert_eq!(
        executions.keys().collect::<Vec<_>>(),
        ["alpha-pipe-e3", "beta-pipe-e3"]
    );
    for id in ["alpha-pipe-e2", "beta-pipe-e1"] {
        let kept = w.port.entity("codePipelinePipelineExecution", id);
        assert_eq!(
            kept.map(|e| e["title"].clone()),
            Some(json!("earlier run")),
            "{id}: {}",
            run.stderr
        );
    }
}
