//! End-to-end benchmark: one `sail --once` of the product binary against a seeded moto and the
//! Port fake, cold (empty catalog) and warm (entities already there).
//!
//! The organization is the one the Python baseline was measured with: N member accounts
//! plus the management account, N/4 of them in one OU, 2 regions, 20 EC2 instances per
//! region per account, 5 S3 buckets per account, no ECS clusters; the default mapping,
//! with the regional kinds allowed in the 2 seeded regions (moto enables every region of
//! its partition; listing 20-odd empty regions would measure moto, and the baseline's
//! request plan covers the 2 regions).
//!
//! With `--all-kinds` the organization is the same plus one resource of every registered
//! kind in each account (`seed.py --all-kinds`: in the first region, one ECS cluster per
//! region), and the mapping is the per-kind examples (`resources/kinds/<example>.yml`, 20
//! resources, several with `includeActions`); the AWS requests are then also reported per
//! kind ([`KIND_OF_OPERATION`]) and the floor, which is the default mapping's plan, is not
//! measured.
//!
//! AWS requests go through a counting proxy (`service:Action`), Port requests are counted
//! by the fake; both live in this harness process, moto in its own.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Measured, child_command, floor, measure, mib};
use crate::aws_proxy::AwsProxy;
use crate::moto::Moto;
use crate::port_fake::PortFake;

const IDENTIFIER: &str = "bench-aws-org";
const ROLE_NAME: &str = "PortOceanReadRole";
const EXTERNAL_ID: &str = "bench-external-id";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const INSTANCES_PER_REGION: u32 = 20;
const BUCKETS_PER_ACCOUNT: u32 = 5;
/// Requests in flight for the floor's second measurement (the baseline's).
const FLOOR_IN_FLIGHT: usize = 8;

/// The Python Ocean aws-v3 integration on this machine class, same seed and mapping
/// (from the issue that asked for this benchmark): members → (wall s, peak MiB, CPU s).
const PYTHON_BASELINE: [(u32, f64, f64, f64); 2] =
    [(10, 24.7, 446.0, 19.7), (40, 105.8, 1211.0, 87.0)];

/// One measured `sail --once`.
struct RunResult {
    label: &'static str,
    measured: Measured,
    aws: BTreeMap<String, usize>,
    port: BTreeMap<String, usize>,
    upserted: u64,
    catalog: usize,
}

/// Everything measured for one organization size.
struct SizeResult {
    members: u32,
    accounts: usize,
    seed: Duration,
    /// The floor (one at a time, in flight, requests); none with all kinds.
    floor: Option<(Duration, Duration, usize)>,
    all_kinds: bool,
    runs: Vec<RunResult>,
}

/// Runs the benchmark for each size and prints the report; returns the exit code.
pub async fn run(sizes: &[u32], all_kinds: bool) -> u8 {
    println!(
        "# aws-catalog-sync end-to-end benchmark\n\nmachine: {}; {}\n",
        super::machine(),
        super::build_profile()
    );
    let product = match crate::product::binary() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("bench e2e: {e}");
            return 1;
        }
    };
    let mut results = Vec::new();
    for &members in sizes {
        match one_size(&product, members, all_kinds).await {
            Ok(r) => {
                print_size(&r);
                results.push(r);
            }
            Err(e) => {
                eprintln!("bench e2e: N = {members}: {e}");
                return 1;
            }
        }
    }
    print_summary(&results);
    let all_ok = results
        .iter()
        .flat_map(|r| &r.runs)
        .all(|r| r.measured.code == 0);
    if all_ok { 0 } else { 1 }
}

async fn one_size(product: &Path, members: u32, all_kinds: bool) -> Result<SizeResult, String> {
    eprintln!("bench e2e: N = {members}: starting moto and seeding…");
    let moto = Moto::start().await?;
    let seeded = Instant::now();
    let members_arg = members.to_string();
    let ou_members = (members / 4).to_string();
    let regions_arg = REGIONS.join(",");
    let instances = INSTANCES_PER_REGION.to_string();
    let buckets = BUCKETS_PER_ACCOUNT.to_string();
    let mut args = vec![
        "--members",
        &members_arg,
        "--ou-members",
        &ou_members,
        "--regions",
        &regions_arg,
        "--instances-per-region",
        &instances,
        "--buckets-per-account",
        &buckets,
        "--clusters-per-region",
        "0",
        "--role-name",
        ROLE_NAME,
    ];
    if all_kinds {
        args.push("--all-kinds");
    }
    let manifest = moto.seed(&args).await?;
    let seed = seeded.elapsed();
    let accounts: Vec<String> = manifest["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_str().map(str::to_string))
        .collect();
    let proxy = AwsProxy::start(&moto.url()).await;
    for rule in crate::moto_gap_rules(&manifest) {
        proxy.add_rule(rule);
    }
    let port = PortFake::start().await;
    let config = if all_kinds {
        let all = crate::all_kinds_mapping(&REGIONS)?;
        // moto 5.2.5 does not implement `codepipeline:ListActionExecutions`: answered with
        // one action execution (written from the API reference), as tests/all_kinds.rs does.
        proxy.add_rule(crate::aws_proxy::Rule {
            action: "ListActionExecutions".into(),
            body: Some(
                json!({"actionExecutionDetails": [{
                    "actionExecutionId": "all-kinds-action-execution", "actionName": "Fetch",
                    "stageName": "Source", "pipelineExecutionId": "pe", "pipelineVersion": 1,
                    "status": "Succeeded", "startTime": 1705314600,
                }]})
                .to_string(),
            ),
            times: usize::MAX,
            ..Default::default()
        });
        for bp in all.moto_blueprints() {
            port.put_blueprint(bp);
        }
        all.config
    } else {
        crate::default_mapping_in_regions(&REGIONS)
    };
    port.put_integration(json!({
        "identifier": IDENTIFIER,
        "installationAppType": "aws-v3",
        "version": "0.0.0",
        "config": config,
        "arePortResourcesInitialized": false,
    }));

    let floor = if all_kinds {
        None
    } else {
        eprintln!("bench e2e: N = {members}: floor (bare request plan)…");
        let regions: Vec<String> = REGIONS.iter().map(|r| r.to_string()).collect();
        let plan = floor::Plan {
            endpoint: &proxy.url(),
            accounts: &accounts,
            regions: &regions,
            role_name: ROLE_NAME,
            external_id: EXTERNAL_ID,
        };
        proxy.reset_hits();
        let serial = floor::run(&plan, 1).await?;
        let requests = proxy.operations().values().sum();
        let parallel = floor::run(&plan, FLOOR_IN_FLIGHT).await?;
        Some((serial, parallel, requests))
    };

    let mut runs = Vec::new();
    for label in ["cold", "warm"] {
        eprintln!("bench e2e: N = {members}: {label} run…");
        runs.push(sail_once(product, label, members, &proxy, &port).await?);
    }
    Ok(SizeResult {
        members,
        accounts: accounts.len(),
        seed,
        floor,
        all_kinds,
        runs,
    })
}

async fn sail_once(
    product: &Path,
    label: &'static str,
    members: u32,
    proxy: &AwsProxy,
    port: &PortFake,
) -> Result<RunResult, String> {
    proxy.reset_hits();
    port.clear_requests();
    let (mut cmd, log) = child_command(
        product,
        &["sail", "--once"],
        &format!("aws-catalog-sync-bench-{members}-{label}"),
    )?;
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("OCEAN__PORT__CLIENT_ID", PortFake::CLIENT_ID)
        .env("OCEAN__PORT__CLIENT_SECRET", PortFake::CLIENT_SECRET)
        .env("OCEAN__PORT__BASE_URL", port.url())
        .env("OCEAN__INTEGRATION__IDENTIFIER", IDENTIFIER)
        .env("OCEAN__EVENT_LISTENER", r#"{"type":"ONCE"}"#)
        .env("OCEAN__INITIALIZE_PORT_RESOURCES", "true")
        .env(
            "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN",
            format!("arn:aws:iam::123456789012:role/{ROLE_NAME}"),
        )
        .env("OCEAN__INTEGRATION__CONFIG__EXTERNAL_ID", EXTERNAL_ID)
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // Settings to compare (e.g. OCEAN__INTEGRATION__CONFIG__MAX_CONCURRENT_ACCOUNTS);
        // the ones above that define the benchmark cannot be overridden.
        .envs(std::env::vars().filter(|(k, _)| {
            k.starts_with("OCEAN__")
                && !matches!(
                    k.as_str(),
                    "OCEAN__PORT__BASE_URL"
                        | "OCEAN__PORT__CLIENT_ID"
                        | "OCEAN__PORT__CLIENT_SECRET"
                        | "OCEAN__INTEGRATION__IDENTIFIER"
                        | "OCEAN__INTEGRATION__CONFIG__ACCOUNT_ROLE_ARN"
                        | "OCEAN__INTEGRATION__CONFIG__EXTERNAL_ID"
                )
        }));
    let measured = measure(cmd).await?;
    if measured.code != 0 {
        eprintln!(
            "bench e2e: the {label} run exited {} (log: {})",
            measured.code,
            log.display()
        );
    }
    let mut endpoints = BTreeMap::new();
    let mut upserted = 0u64;
    for r in port.requests() {
        *endpoints
            .entry(format!("{} {}", r.method, path_template(&r.path)))
            .or_default() += 1;
        if r.path.ends_with("/entities/bulk") && (200..300).contains(&r.status) {
            upserted += r.body["entities"].as_array().map_or(0, Vec::len) as u64;
        }
    }
    Ok(RunResult {
        label,
        measured,
        aws: proxy.operations(),
        port: endpoints,
        upserted,
        catalog: port.entities().len(),
    })
}

/// `/v1/blueprints/ec2Instance/entities/bulk` → `/v1/blueprints/{}/entities/bulk`.
fn path_template(path: &str) -> String {
    const WORDS: &[&str] = &[
        "v1",
        "auth",
        "access_token",
        "organization",
        "integration",
        "provision-enabled",
        "config",
        "resync-state",
        "resync-request",
        "kinds",
        "examples",
        "blueprints",
        "entities",
        "bulk",
        "delete",
        "datasource-entities",
    ];
    path.split('/')
        .map(|s| {
            if s.is_empty() || WORDS.contains(&s) {
                s
            } else {
                "{}"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn print_size(r: &SizeResult) {
    let floor = match r.floor {
        Some((serial, parallel, requests)) => format!(
            "floor ({requests} requests): {} one at a time, {} with {FLOOR_IN_FLIGHT} in flight",
            secs(serial),
            secs(parallel)
        ),
        None => "floor not measured (it is the default mapping's plan)".to_string(),
    };
    println!(
        "## N = {} members ({} accounts{})\n\nseeded in {}; {floor}\n",
        r.members,
        r.accounts,
        if r.all_kinds { ", all kinds" } else { "" },
        secs(r.seed),
    );
    for run in &r.runs {
        let m = &run.measured;
        println!(
            "### {} run: exit {}, wall {}, peak RSS {}, CPU {} (user+sys); {} entities upserted, {} in the catalog\n",
            run.label,
            m.code,
            secs(m.wall),
            mib(m.peak_rss),
            secs(m.cpu),
            run.upserted,
            run.catalog
        );
        print_counts("AWS requests", &run.aws);
        if r.all_kinds {
            print_counts("AWS requests per kind", &per_kind(&run.aws));
        }
        print_counts("Port requests", &run.port);
        println!();
    }
}

/// `title (total):` then one line per key, count first.
fn print_counts(title: &str, counts: &BTreeMap<String, usize>) {
    println!("{title} ({}):", counts.values().sum::<usize>());
    for (what, n) in counts {
        println!("  {n:>6}  {what}");
    }
}

fn print_summary(results: &[SizeResult]) {
    println!("## Summary\n");
    println!(
        "| N | accounts | run | entities | wall | peak RSS | CPU | AWS req | Port req | floor (1 / {FLOOR_IN_FLIGHT} in flight) | wall ÷ floor({FLOOR_IN_FLIGHT}) | Python Ocean (wall / RSS / CPU) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in results {
        let python = PYTHON_BASELINE
            .iter()
            .find(|b| b.0 == r.members && !r.all_kinds)
            .map_or("–".to_string(), |b| {
                format!("{} s / {} MiB / {} s", b.1, b.2, b.3)
            });
        let (floor, ratio) = match r.floor {
            Some((serial, parallel, _)) => (
                format!("{} / {}", secs(serial), secs(parallel)),
                Some(parallel.as_secs_f64().max(1e-9)),
            ),
            None => ("–".to_string(), None),
        };
        for run in &r.runs {
            let m = &run.measured;
            println!(
                "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.members,
                if r.all_kinds { " (all kinds)" } else { "" },
                r.accounts,
                run.label,
                run.upserted,
                secs(m.wall),
                mib(m.peak_rss),
                secs(m.cpu),
                run.aws.values().sum::<usize>(),
                run.port.values().sum::<usize>(),
                floor,
                ratio.map_or("–".to_string(), |f| format!(
                    "{:.2}×",
                    m.wall.as_secs_f64() / f
                )),
                if run.label == "cold" {
                    python.as_str()
                } else {
                    "–"
                }
            );
        }
    }
}

/// `service:Action` → what it lists or enriches, for the per-kind report: a kind, the kinds
/// sharing one call, or what every kind needs (credentials, accounts, regions). The
/// operations of the aws-v3 actions the per-kind examples include are here too.
const KIND_OF_OPERATION: &[(&str, &str)] = &[
    ("sts:AssumeRole", "(credentials: sts)"),
    ("sts:GetCallerIdentity", "(credentials: sts)"),
    (
        "organizations:ListAccounts",
        "(accounts) + AWS::Organizations::Account",
    ),
    ("ec2:DescribeRegions", "(regions)"),
    ("account:ListRegions", "(regions)"),
    ("ec2:DescribeInstances", "AWS::EC2::Instance"),
    ("ec2:DescribeInstanceStatus", "AWS::EC2::Instance"),
    ("ec2:DescribeVolumes", "AWS::EC2::Volume"),
    ("ec2:DescribeVolumeAttribute", "AWS::EC2::Volume"),
    ("ecs:ListClusters", "AWS::ECS::Cluster + AWS::ECS::Service"),
    ("ecs:DescribeClusters", "AWS::ECS::Cluster"),
    ("ecs:ListServices", "AWS::ECS::Service"),
    ("ecs:DescribeServices", "AWS::ECS::Service"),
    ("ecs:ListTaskDefinitions", "AWS::ECS::TaskDefinition"),
    ("ecs:DescribeTaskDefinition", "AWS::ECS::TaskDefinition"),
    ("rds:DescribeDBInstances", "AWS::RDS::DBInstance"),
    ("rds:DescribeDBClusters", "AWS::RDS::DBCluster"),
    (
        "rds:ListTagsForResource",
        "AWS::RDS::DBInstance + AWS::RDS::DBCluster",
    ),
    ("kafka:ListClusters", "AWS::MSK::Cluster"),
    ("kafka:ListClustersV2", "AWS::MSK::ServerlessCluster"),
    ("codebuild:ListProjects", "AWS::CodeBuild::Project"),
    ("codebuild:BatchGetProjects", "AWS::CodeBuild::Project"),
    ("codebuild:ListBuilds", "AWS::CodeBuild::BuildRun"),
    ("codebuild:BatchGetBuilds", "AWS::CodeBuild::BuildRun"),
    ("ses:ListEmailIdentities", "AWS::SES::EmailIdentity"),
    ("ses:GetEmailIdentity", "AWS::SES::EmailIdentity"),
    ("ses:ListConfigurationSets", "AWS::SES::ConfigurationSet"),
    ("ses:GetConfigurationSet", "AWS::SES::ConfigurationSet"),
    (
        "codepipeline:ListPipelines",
        "AWS::CodePipeline::* (each of the 5)",
    ),
    (
        "codepipeline:GetPipeline",
        "AWS::CodePipeline::Pipeline + Stage + Action",
    ),
    (
        "codepipeline:ListTagsForResource",
        "AWS::CodePipeline::Pipeline",
    ),
    (
        "codepipeline:ListPipelineExecutions",
        "AWS::CodePipeline::PipelineExecution",
    ),
    (
        "codepipeline:GetPipelineExecution",
        "AWS::CodePipeline::PipelineExecution",
    ),
    (
        "codepipeline:ListActionExecutions",
        "AWS::CodePipeline::ActionExecution",
    ),
    (
        "codedeploy:ListApplications",
        "AWS::CodeDeploy::Application + DeploymentGroup",
    ),
    (
        "codedeploy:BatchGetApplications",
        "AWS::CodeDeploy::Application",
    ),
    (
        "codedeploy:ListTagsForResource",
        "AWS::CodeDeploy::Application (+ DeploymentGroup tags when asked)",
    ),
    (
        "codedeploy:ListDeploymentGroups",
        "AWS::CodeDeploy::DeploymentGroup",
    ),
    (
        "codedeploy:BatchGetDeploymentGroups",
        "AWS::CodeDeploy::DeploymentGroup",
    ),
    (
        "codedeploy:ListDeployments",
        "AWS::CodeDeploy::Deployment + DeploymentTarget",
    ),
    ("codedeploy:GetDeployment", "AWS::CodeDeploy::Deployment"),
    (
        "codedeploy:ListDeploymentTargets",
        "AWS::CodeDeploy::DeploymentTarget",
    ),
    (
        "codedeploy:BatchGetDeploymentTargets",
        "AWS::CodeDeploy::DeploymentTarget",
    ),
    ("cloudcontrolapi:ListResources", "Cloud Control types"),
    ("cloudcontrolapi:GetResource", "Cloud Control types"),
];

/// The kind of a service whose every operation belongs to one kind.
const KIND_OF_SERVICE: &[(&str, &str)] = &[
    ("s3", "AWS::S3::Bucket"),
    ("sqs", "AWS::SQS::Queue"),
    ("sns", "AWS::SNS::Topic"),
    ("lambda", "AWS::Lambda::Function"),
    ("dynamodb", "AWS::DynamoDB::Table"),
    ("ecr", "AWS::ECR::Repository"),
    ("eks", "AWS::EKS::Cluster"),
    ("elasticache", "AWS::ElastiCache::Cluster"),
    ("memorydb", "AWS::MemoryDB::User"),
];

/// Requests per `service:Action` → per kind (or shared group, [`KIND_OF_OPERATION`]);
/// anything unknown stays under its own name, so nothing is hidden.
fn per_kind(operations: &BTreeMap<String, usize>) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for (op, n) in operations {
        let service = op.split(':').next().unwrap_or("");
        let owner = KIND_OF_OPERATION
            .iter()
            .find(|(o, _)| o == op)
            .or_else(|| KIND_OF_SERVICE.iter().find(|(s, _)| *s == service))
            .map_or_else(|| format!("(other) {op}"), |(_, k)| k.to_string());
        *kinds.entry(owner).or_default() += n;
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::{path_template, per_kind};

    #[test]
    fn operations_are_grouped_by_kind() {
        let ops = [
            ("ecs:ListClusters", 2),
            ("ecs:DescribeClusters", 1),
            ("sqs:ListQueues", 3),
            ("sqs:GetQueueAttributes", 4),
            ("foo:Bar", 1),
        ]
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
        let kinds = per_kind(&ops);
        assert_eq!(kinds["AWS::ECS::Cluster + AWS::ECS::Service"], 2);
        assert_eq!(kinds["AWS::ECS::Cluster"], 1);
        assert_eq!(kinds["AWS::SQS::Queue"], 7);
        assert_eq!(kinds["(other) foo:Bar"], 1);
    }

    #[test]
    fn endpoints_are_grouped_by_template() {
        assert_eq!(
            path_template("/v1/blueprints/ec2Instance/entities/bulk"),
            "/v1/blueprints/{}/entities/bulk"
        );
        assert_eq!(
            path_template("/v1/integration/bench-aws-org/resync-state"),
            "/v1/integration/{}/resync-state"
        );
        assert_eq!(
            path_template("/v1/auth/access_token"),
            "/v1/auth/access_token"
        );
    }
}
