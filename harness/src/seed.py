#!/usr/bin/env python3
"""Seed a running moto_server with an AWS Organization and per-account resources.

Prints one JSON document (the manifest) on stdout; progress/errors go to stderr.

    python seed.py --endpoint http://127.0.0.1:5000 [--members 3] [--ou-members 1]
        [--regions us-east-1,eu-west-1] [--instances-per-region 2]
        [--buckets-per-account 2] [--clusters-per-region 1]
        [--role-name PortOceanReadRole] [--seed-management | --no-seed-management]
        [--extra-tag KEY=VALUE ...] [--all-kinds]

--all-kinds gives every seeded account at least one resource of every kind of the registry
(src/aws/kinds/) in the first region (at least one instance, bucket and ECS cluster too), and
the manifest's "kinds" map lists each seeded resource under its kind with the identifier the
kind's example mapping (resources/kinds/<example>.yml) gives its entity.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

MANAGEMENT_ACCOUNT = "123456789012"
DUMMY_KEY = "testing"
# A well-known AMI that moto 5 ships in every region of every account.
DEFAULT_AMI = "ami-12c6146b"
WORKERS = 8

S3_CONFIG = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 10, "mode": "standard"})
CLIENT_CONFIG = Config(retries={"max_attempts": 10, "mode": "standard"})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", required=True, help="moto server URL, e.g. http://127.0.0.1:5000")
    p.add_argument("--members", type=int, default=3, help="member accounts to create")
    p.add_argument("--ou-members", type=int, default=1, help="first K members are moved into OU 'Engineering'")
    p.add_argument("--regions", default="us-east-1,eu-west-1", help="comma-separated regions")
    p.add_argument("--instances-per-region", type=int, default=2)
    p.add_argument("--buckets-per-account", type=int, default=2)
    p.add_argument("--clusters-per-region", type=int, default=1)
    p.add_argument("--role-name", default="PortOceanReadRole")
    p.add_argument(
        "--seed-management",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also create resources in the management account (default on)",
    )
    p.add_argument(
        "--extra-tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one more tag on every instance, cluster and tagged bucket (repeatable)",
    )
    p.add_argument(
        "--all-kinds",
        action="store_true",
        help="one resource of every kind in each seeded account (first region), see above",
    )
    args = p.parse_args(argv)
    if args.all_kinds:
        args.instances_per_region = max(1, args.instances_per_region)
        args.buckets_per_account = max(1, args.buckets_per_account)
        args.clusters_per_region = max(1, args.clusters_per_region)
    if any("=" not in t for t in args.extra_tag):
        p.error("--extra-tag takes KEY=VALUE")
    args.extra_tag = [tuple(t.split("=", 1)) for t in args.extra_tag]
    args.regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    if not args.regions:
        p.error("--regions must name at least one region")
    if args.members < 0 or args.ou_members < 0:
        p.error("--members/--ou-members must be >= 0")
    return args


def log(msg: str) -> None:
    print(f"seed: {msg}", file=sys.stderr, flush=True)


class Seeder:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.endpoint = args.endpoint.rstrip("/")
        self.first_region = args.regions[0]
        # Management-account session (moto's default account for the dummy keys).
        self.mgmt = boto3.Session(
            aws_access_key_id=DUMMY_KEY,
            aws_secret_access_key=DUMMY_KEY,
            region_name=self.first_region,
        )
        # All clients come from this one session so botocore loads each service model once
        # (a fresh Session per account re-parses the huge EC2 model, which dominated seed time).
        # Session.client() is not thread-safe, hence the lock; the clients themselves are.
        self.lock = threading.Lock()
        self.sts = self.client(None, "sts", "us-east-1")

    def client(self, creds: dict | None, service: str, region: str, config: Config = CLIENT_CONFIG):
        kwargs = {}
        if creds is not None:
            kwargs = {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            }
        with self.lock:
            return self.mgmt.client(service, region_name=region, endpoint_url=self.endpoint, config=config, **kwargs)

    # ---- organization -------------------------------------------------------------------------

    def create_org(self) -> dict:
        org = self.client(None, "organizations", "us-east-1")
        org.create_organization(FeatureSet="ALL")
        root_id = org.list_roots()["Roots"][0]["Id"]
        ou_id = org.create_organizational_unit(ParentId=root_id, Name="Engineering")["OrganizationalUnit"]["Id"]

        accounts = [
            {
                "id": MANAGEMENT_ACCOUNT,
                "name": "management",
                "email": "management@example.com",
                "ou": None,
                "management": True,
            }
        ]
        # Use the real management account name/email if moto has one.
        try:
            desc = org.describe_account(AccountId=MANAGEMENT_ACCOUNT)["Account"]
            accounts[0]["name"] = desc.get("Name") or accounts[0]["name"]
            accounts[0]["email"] = desc.get("Email") or accounts[0]["email"]
        except Exception:  # noqa: BLE001 - purely cosmetic
            pass

        for i in range(1, self.args.members + 1):
            email = f"member{i}@example.com"
            name = f"member-{i}"
            status = org.create_account(Email=email, AccountName=name)["CreateAccountStatus"]
            deadline = time.monotonic() + 30
            while status.get("State") == "IN_PROGRESS":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"create_account {name} still IN_PROGRESS after 30 s")
                time.sleep(0.2)
                status = org.describe_create_account_status(CreateAccountRequestId=status["Id"])[
                    "CreateAccountStatus"
                ]
            if status.get("State") != "SUCCEEDED":
                raise RuntimeError(f"create_account {name} failed: {status}")
            acct_id = status["AccountId"]
            in_ou = i <= self.args.ou_members
            if in_ou:
                org.move_account(AccountId=acct_id, SourceParentId=root_id, DestinationParentId=ou_id)
            accounts.append(
                {
                    "id": acct_id,
                    "name": name,
                    "email": email,
                    "ou": ou_id if in_ou else None,
                    "management": False,
                }
            )
        return {"root_id": root_id, "ou_id": ou_id, "accounts": accounts}

    # ---- per-account resources ----------------------------------------------------------------

    def account_credentials(self, acct: str) -> dict:
        # moto maps the returned credentials to the account in the RoleArn.
        return self.sts.assume_role(
            RoleArn=f"arn:aws:iam::{acct}:role/{self.args.role_name}",
            RoleSessionName="seed",
        )["Credentials"]

    def seed_account(self, acct: str) -> dict:
        a = self.args
        creds = self.account_credentials(acct)
        out = {"instances": [], "buckets": [], "clusters": []}

        for region in a.regions:
            if a.instances_per_region > 0:
                ec2 = self.client(creds, "ec2", region)
                out["instances"].extend(self.run_instances(ec2, acct, region))
            if a.clusters_per_region > 0:
                ecs = self.client(creds, "ecs", region)
                for j in range(a.clusters_per_region):
                    c = ecs.create_cluster(
                        clusterName=f"cluster-{acct}-{region}-{j}",
                        tags=[{"key": "Team", "value": "platform"}]
                        + [{"key": k, "value": v} for k, v in a.extra_tag],
                    )["cluster"]
                    out["clusters"].append(
                        {"account": acct, "region": region, "name": c["clusterName"], "arn": c["clusterArn"]}
                    )

        if a.buckets_per_account > 0:
            s3 = self.client(creds, "s3", self.first_region, S3_CONFIG)
            for j in range(a.buckets_per_account):
                name = f"bucket-{acct}-{j}"
                kwargs = {"Bucket": name}
                if self.first_region != "us-east-1":
                    kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.first_region}
                s3.create_bucket(**kwargs)
                tagged = j == 0
                if tagged:
                    tag_set = [{"Key": "Env", "Value": "test"}] + [{"Key": k, "Value": v} for k, v in a.extra_tag]
                    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_set})
                out["buckets"].append({"account": acct, "name": name, "tagged": tagged})
        if a.all_kinds:
            first_cluster = next(c for c in out["clusters"] if c["region"] == self.first_region)
            out["kinds"] = self.seed_other_kinds(creds, acct, first_cluster["arn"])
        return out

    def seed_other_kinds(self, creds: dict, acct: str, ecs_cluster: str) -> list[dict]:
        """One resource of each kind that neither the instance/bucket/cluster options nor the
        organization itself provide, in the first region; returns `{"kind", "account",
        "region", "identifier"}` records, `identifier` being what the kind's example mapping
        takes (an id or ARN as AWS returned it). Only the calls moto needs, one client each."""
        region = self.first_region
        name = f"k{acct}"
        tag = [{"Key": "Team", "Value": "platform"}]
        seeded = []

        def record(kind: str, identifier: str) -> None:
            seeded.append({"kind": kind, "account": acct, "region": region, "identifier": identifier})

        c = lambda service: self.client(creds, service, region)  # noqa: E731

        # Recorded with the instances' root volumes by `listed_by_aws`.
        c("ec2").create_volume(AvailabilityZone=f"{region}a", Size=1)

        ecs = c("ecs")
        td = ecs.register_task_definition(
            family=f"{name}-web",
            containerDefinitions=[{"name": "web", "image": "nginx:1.27", "memory": 128, "essential": True}],
        )["taskDefinition"]
        record("AWS::ECS::TaskDefinition", td["taskDefinitionArn"])
        svc = ecs.create_service(
            cluster=ecs_cluster, serviceName=f"{name}-web", taskDefinition=td["taskDefinitionArn"], desiredCount=1
        )["service"]
        record("AWS::ECS::Service", svc["serviceArn"])

        eks = c("eks").create_cluster(
            name=f"{name}-eks",
            roleArn=f"arn:aws:iam::{acct}:role/{name}-eks",
            resourcesVpcConfig={"subnetIds": ["subnet-aaaa", "subnet-bbbb"]},
        )["cluster"]
        record("AWS::EKS::Cluster", eks["arn"])

        repo = c("ecr").create_repository(repositoryName=f"{name}/app", tags=tag)["repository"]
        record("AWS::ECR::Repository", repo["repositoryArn"])

        # moto checks that a function's execution role exists in the account.
        role = self.client(creds, "iam", "us-east-1").create_role(
            RoleName=f"{name}-fn", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        fn = c("lambda").create_function(
            FunctionName=f"{name}-fn",
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            # An empty zip archive: moto stores the code without running it.
            Code={"ZipFile": b"PK\x05\x06" + bytes(18)},
            Tags={"Team": "platform"},
        )
        record("AWS::Lambda::Function", fn["FunctionArn"])

        rds = c("rds")
        db = rds.create_db_instance(
            DBInstanceIdentifier=f"{name}-db",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="not-a-secret-1",
            Tags=tag,
        )["DBInstance"]
        record("AWS::RDS::DBInstance", db["DBInstanceArn"])
        dbc = rds.create_db_cluster(
            DBClusterIdentifier=f"{name}-dbc",
            Engine="aurora-postgresql",
            MasterUsername="admin",
            MasterUserPassword="not-a-secret-1",
            Tags=tag,
        )["DBCluster"]
        record("AWS::RDS::DBCluster", dbc["DBClusterArn"])

        sqs = c("sqs")
        url = sqs.create_queue(QueueName=f"{name}-q", tags={"Team": "platform"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        record("AWS::SQS::Queue", arn)

        record("AWS::SNS::Topic", c("sns").create_topic(Name=f"{name}-t", Tags=tag)["TopicArn"])

        table = c("dynamodb").create_table(
            TableName=f"{name}-tbl",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=tag,
        )["TableDescription"]
        record("AWS::DynamoDB::Table", table["TableArn"])

        cache = c("elasticache").create_cache_cluster(
            CacheClusterId=f"{name}-cache", Engine="redis", CacheNodeType="cache.t4g.micro", NumCacheNodes=1, Tags=tag
        )["CacheCluster"]
        record("AWS::ElastiCache::Cluster", cache["ARN"])

        # Recorded with the account's "default" user by `listed_by_aws`.
        c("memorydb").create_user(
            UserName=f"{name}-user",
            AccessString="on ~* &* +@all",
            AuthenticationMode={"Type": "password", "Passwords": ["not-a-secret-password-1"]},
            Tags=tag,
        )

        kafka = c("kafka")
        msk = kafka.create_cluster(
            ClusterName=f"{name}-kafka",
            KafkaVersion="3.6.0",
            NumberOfBrokerNodes=3,
            BrokerNodeGroupInfo={"InstanceType": "kafka.m5.large", "ClientSubnets": ["subnet-aaaa", "subnet-bbbb"]},
        )
        record("AWS::MSK::Cluster", msk["ClusterArn"])
        msks = kafka.create_cluster_v2(
            ClusterName=f"{name}-serverless",
            Serverless={"VpcConfigs": [{"SubnetIds": ["subnet-aaaa", "subnet-bbbb"]}]},
        )
        record("AWS::MSK::ServerlessCluster", msks["ClusterArn"])
        # moto 5.2.5's ListClusters (v1), which AWS::MSK::Cluster lists with as aws-v3 does,
        # answers serverless clusters too.
        record("AWS::MSK::Cluster", msks["ClusterArn"])

        codebuild = c("codebuild")
        project = codebuild.create_project(
            name=f"{name}-build",
            source={"type": "GITHUB", "location": "https://github.com/example/app.git"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
                "computeType": "BUILD_GENERAL1_SMALL",
            },
            serviceRole=f"arn:aws:iam::{acct}:role/{name}-build",
            tags=[{"key": "Team", "value": "platform"}],
        )["project"]
        record("AWS::CodeBuild::Project", project["arn"])
        build = codebuild.start_build(projectName=f"{name}-build")["build"]
        record("AWS::CodeBuild::BuildRun", build["id"])
        # Identified by name, as the SES kinds' example mappings take it. (moto 5.2.5 answers
        # GetConfigurationSet malformed for the Rust SDK: the set is synced with its name only.)
        ses = c("sesv2")
        ses.create_email_identity(EmailIdentity=f"{name}.example.com", Tags=tag)
        record("AWS::SES::EmailIdentity", f"{name}.example.com")
        ses.create_configuration_set(ConfigurationSetName=f"{name}-set", Tags=tag)
        record("AWS::SES::ConfigurationSet", f"{name}-set")
        # moto checks that a pipeline's role exists and trusts CodePipeline.
        trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}}]}
        pipeline_role = self.client(creds, "iam", "us-east-1").create_role(
            RoleName=f"{name}-pipeline", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        action = lambda n, category, provider: {  # noqa: E731
            "name": n,
            "actionTypeId": {"category": category, "owner": "AWS", "provider": provider, "version": "1"},
        }
        stages = [
            {"name": "Source", "actions": [action("Fetch", "Source", "S3")]},
            {"name": "Build", "actions": [action("Compile", "Build", "CodeBuild")]},
        ]
        c("codepipeline").create_pipeline(
            pipeline={
                "name": f"{name}-pipeline",
                "roleArn": pipeline_role,
                "artifactStore": {"type": "S3", "location": f"{name}-artifacts"},
                "stages": stages,
            },
            tags=[{"key": "Team", "value": "platform"}],
        )
        pipeline_arn = f"arn:aws:codepipeline:{region}:{acct}:{name}-pipeline"
        execution = c("codepipeline").start_pipeline_execution(name=f"{name}-pipeline")
        record("AWS::CodePipeline::PipelineExecution", execution["pipelineExecutionId"])
        # moto 5.2.5 has no ListActionExecutions: tests/all_kinds.rs has the proxy answer it
        # with one action execution of this id, the same in every account.
        record("AWS::CodePipeline::ActionExecution", "all-kinds-action-execution")
        record("AWS::CodePipeline::Pipeline", pipeline_arn)
        for stage in stages:
            record("AWS::CodePipeline::Stage", f"{pipeline_arn}/{stage['name']}")
            for a in stage["actions"]:
                record("AWS::CodePipeline::Action", f"{pipeline_arn}/{stage['name']}/{a['name']}")
        # Identified by applicationId, as the CodeDeploy application's example mapping takes it.
        codedeploy = c("codedeploy")
        app = codedeploy.create_application(applicationName=f"{name}-deploy", computePlatform="Server", tags=tag)
        record("AWS::CodeDeploy::Application", app["applicationId"])
        # moto 5.2.5 lacks BatchGetDeploymentGroups: `moto_gap_rules` (harness/src/lib.rs)
        # answers it for this group, by these names.
        group = codedeploy.create_deployment_group(
            applicationName=f"{name}-deploy",
            deploymentGroupName=f"{name}-group",
            serviceRoleArn=f"arn:aws:iam::{acct}:role/{name}-deploy",
            tags=tag,
        )
        record("AWS::CodeDeploy::DeploymentGroup", group["deploymentGroupId"])
        deployment = codedeploy.create_deployment(
            applicationName=f"{name}-deploy",
            deploymentGroupName=f"{name}-group",
            revision={"revisionType": "S3", "s3Location": {"bucket": f"{name}-releases", "key": "app.zip"}},
        )
        record("AWS::CodeDeploy::Deployment", deployment["deploymentId"])
        # moto 5.2.5 lacks ListDeploymentTargets and BatchGetDeploymentTargets: `moto_gap_rules`
        # answers them with this one instance target, named by the identifier.
        record("AWS::CodeDeploy::DeploymentTarget", f"{deployment['deploymentId']}/i-{acct}")
        seeded.extend(self.listed_by_aws(creds, acct))
        return seeded

    def listed_by_aws(self, creds: dict, acct: str) -> list[dict]:
        """What AWS (moto) holds beyond what was created, in every seeded region: each
        instance's root volume (EC2 Volume) and the account's immutable "default" MemoryDB
        user (in every region, as in AWS), with the volumes and users created here."""
        seeded = []
        for region in self.args.regions:
            for page in self.client(creds, "ec2", region).get_paginator("describe_volumes").paginate():
                for v in page["Volumes"]:
                    seeded.append(
                        {"kind": "AWS::EC2::Volume", "account": acct, "region": region, "identifier": v["VolumeId"]}
                    )
            for u in self.client(creds, "memorydb", region).describe_users()["Users"]:
                seeded.append({"kind": "AWS::MemoryDB::User", "account": acct, "region": region, "identifier": u["ARN"]})
        return seeded

    def run_instances(self, ec2, acct: str, region: str) -> list[dict]:
        n = self.args.instances_per_region
        ami = DEFAULT_AMI
        instances = []
        # One call per instance so each gets its own Name tag.
        for j in range(n):
            params = dict(
                ImageId=ami,
                MinCount=1,
                MaxCount=1,
                InstanceType="t3.micro",
                TagSpecifications=[
                    {
                        "ResourceType": "instance",
                        "Tags": [
                            {"Key": "Name", "Value": f"{acct}-{region}-{j}"},
                            {"Key": "Team", "Value": "platform"},
                        ]
                        + [{"Key": k, "Value": v} for k, v in self.args.extra_tag],
                    }
                ],
            )
            try:
                resp = ec2.run_instances(**params)
            except ec2.exceptions.ClientError as e:
                if "AMI" not in str(e) or ami != DEFAULT_AMI:
                    raise
                ami = self.lookup_ami(ec2)
                params["ImageId"] = ami
                resp = ec2.run_instances(**params)
            for inst in resp["Instances"]:
                instances.append(
                    {
                        "account": acct,
                        "region": region,
                        "id": inst["InstanceId"],
                        "type": inst["InstanceType"],
                        "state": inst["State"]["Name"],
                        "private_ip": inst.get("PrivateIpAddress"),
                        "public_ip": inst.get("PublicIpAddress"),
                    }
                )
        # run_instances reports "pending"; moto moves instances to "running" on the next describe,
        # which is what a sync will see, so record the described state (and IPs).
        if instances:
            by_id = {i["id"]: i for i in instances}
            for page in ec2.get_paginator("describe_instances").paginate(InstanceIds=list(by_id)):
                for res in page["Reservations"]:
                    for inst in res["Instances"]:
                        rec = by_id.get(inst["InstanceId"])
                        if rec is not None:
                            rec["state"] = inst["State"]["Name"]
                            rec["private_ip"] = inst.get("PrivateIpAddress")
                            rec["public_ip"] = inst.get("PublicIpAddress")
        return instances

    @staticmethod
    def lookup_ami(ec2) -> str:
        images = ec2.describe_images(Owners=["amazon"])["Images"]
        if not images:
            raise RuntimeError("moto has no AMIs to launch instances from")
        return images[0]["ImageId"]

    # ---- main ---------------------------------------------------------------------------------

    def run(self) -> dict:
        t0 = time.monotonic()
        org = self.create_org()
        log(f"organization with {len(org['accounts'])} accounts in {time.monotonic() - t0:.1f}s")

        targets = [acc["id"] for acc in org["accounts"] if self.args.seed_management or not acc["management"]]
        instances, buckets, clusters, others = [], [], [], []
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            # map() keeps results in account order, so the manifest is deterministic in shape.
            for res in pool.map(self.seed_account, targets):
                instances.extend(res["instances"])
                buckets.extend(res["buckets"])
                clusters.extend(res["clusters"])
                others.extend(res.get("kinds", []))
        log(
            f"seeded {len(targets)} accounts: {len(instances)} instances, {len(buckets)} buckets, "
            f"{len(clusters)} clusters in {time.monotonic() - t0:.1f}s"
        )
        manifest = {
            "management_account": MANAGEMENT_ACCOUNT,
            "accounts": org["accounts"],
            "ou_id": org["ou_id"],
            "root_id": org["root_id"],
            "regions": self.args.regions,
            "instances": instances,
            "buckets": buckets,
            "clusters": clusters,
        }
        if self.args.all_kinds:
            manifest["kinds"] = self.kinds(org["accounts"], instances, buckets, clusters, others)
        return manifest

    def kinds(self, accounts, instances, buckets, clusters, others) -> dict:
        """Every seeded resource by kind, `identifier` as the kind's example mapping takes it:
        what a sync of all kinds must produce, no more and no less."""
        kinds: dict[str, list[dict]] = {}

        def add(kind: str, account: str, region: str | None, identifier: str) -> None:
            kinds.setdefault(kind, []).append(
                {"account": account, "region": region, "identifier": identifier}
            )

        for acc in accounts:
            # Account::Info: every account the sync reaches; Organizations::Account: every
            # account of the organization. Both are the whole organization here.
            add("AWS::Account::Info", acc["id"], None, acc["id"])
            add("AWS::Organizations::Account", acc["id"], None, acc["id"])
        for i in instances:
            add("AWS::EC2::Instance", i["account"], i["region"], i["id"])
        for b in buckets:
            add("AWS::S3::Bucket", b["account"], None, b["name"])
        for c in clusters:
            add("AWS::ECS::Cluster", c["account"], c["region"], c["arn"])
        for o in others:
            add(o["kind"], o["account"], o["region"], o["identifier"])
        return kinds


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        manifest = Seeder(args).run()
    except Exception as e:  # noqa: BLE001 - report and fail with a non-zero status
        log(f"error: {type(e).__name__}: {e}")
        return 1
    json.dump(manifest, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
