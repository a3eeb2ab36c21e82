"""Developer tool (not run by CI): the moto 5.2.5 state of the exact-shape tests of
`tests/kinds.rs`, and the answers botocore parses from it, as JSON for `awsv3_items.py`.

    $MOTO_VENV/bin/python harness/awsv3/moto_state.py > /tmp/state.json

Creates, in moto's in-process backend (account 123456789012, eu-west-1), what
`ecs_cluster_items_are_exactly_aws_v3_s_for_the_same_moto_state` and
`ec2_instance_items_have_every_key_aws_v3_gives_for_the_same_moto_state` create (the
clusters `plain` and `full`, one untagged `ami-12c6146b` `t3.micro` instance), then calls
what aws-v3 calls and prints the parsed answers. Datetimes are written as
`{"__datetime__": iso}` so that `awsv3_items.py` gives aws-v3 real datetimes back.
The moto venv's botocore (1.44.8) parses these answers as aws-v3's pinned 1.40.61 does
(checked on captured wire bodies).
"""

import datetime
import json

import boto3
from moto import mock_aws

INCLUDE = ["TAGS", "ATTACHMENTS", "SETTINGS", "CONFIGURATIONS", "STATISTICS"]


def encode(o):
    if isinstance(o, datetime.datetime):
        return {"__datetime__": o.isoformat()}
    raise TypeError(type(o))


def main():
    kw = dict(region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with mock_aws():
        ecs = boto3.client("ecs", **kw)
        ecs.create_cluster(clusterName="plain")
        ecs.create_cluster(
            clusterName="full",
            tags=[{"key": "team", "value": "platform"}],
            settings=[{"name": "containerInsights", "value": "enabled"}],
            configuration={"executeCommandConfiguration": {"logging": "DEFAULT"}},
            capacityProviders=["FARGATE"],
            # The Rust SDK sends `base: 0` too.
            defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
        )
        arns = ecs.list_clusters()["clusterArns"]
        clusters = ecs.describe_clusters(clusters=arns, include=INCLUDE)
        ec2 = boto3.client("ec2", **kw)
        ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro")
        instances = ec2.describe_instances()
        ids = [i["InstanceId"] for r in instances["Reservations"] for i in r["Instances"]]
        statuses = ec2.describe_instance_status(InstanceIds=ids, IncludeAllInstances=True)
    for r in (clusters, instances, statuses):
        r.pop("ResponseMetadata", None)
    print(json.dumps({"ecs_describe_clusters": clusters, "ec2_describe_instances": instances,
                      "ec2_describe_instance_status": statuses}, default=encode))


if __name__ == "__main__":
    main()
