"""Developer tool (not run by CI): the raw items aws-v3 2.20.11-beta makes of the answers
`moto_state.py` captured, by running aws-v3's own inspector, actions and models on them.

    python3.12 harness/awsv3/awsv3_items.py AWSV3_DIR /tmp/state.json

AWSV3_DIR holds aws-v3's `aws` package, e.g. from the ocean repository:
`git -C <ocean> archive HEAD integrations/aws-v3/aws | tar -x --strip-components=2 -C AWSV3_DIR`.
The Python needs aws-v3's pinned dependencies (`integrations/aws-v3/poetry.lock`: pydantic
2.13.4, loguru, …); aiobotocore is not needed (the clients are replaced by the captured
answers). Prints one JSON item per line: `AWS::ECS::Cluster` items, then
`AWS::EC2::Instance` items without and with `DescribeInstanceStatusAction`. The expected
items and key orders in `tests/kinds.rs` are this tool's output.
"""

import asyncio
import copy
import datetime
import json
import sys
import types


def decode(o):
    if set(o) == {"__datetime__"}:
        return datetime.datetime.fromisoformat(o["__datetime__"])
    return o


async def main(awsv3_dir, state_file):
    sys.path.insert(0, awsv3_dir)
    # aws-v3 imports aiobotocore's client type only for annotations.
    aio = types.ModuleType("aiobotocore")
    aio_client = types.ModuleType("aiobotocore.client")
    aio_client.AioBaseClient = object
    sys.modules["aiobotocore"] = aio
    sys.modules["aiobotocore.client"] = aio_client
    from loguru import logger

    logger.remove()
    from aws.core.modeling.resource_inspector import ResourceInspector
    from aws.core.exporters.ecs.cluster.models import Cluster
    from aws.core.exporters.ecs.cluster.actions import EcsClusterActionsMap
    from aws.core.exporters.ec2.instance.models import EC2Instance
    from aws.core.exporters.ec2.instance.actions import EC2InstanceActionsMap

    state = json.load(open(state_file), object_hook=decode)
    context = {"AccountId": "123456789012", "Region": "eu-west-1"}

    class Ecs:
        async def describe_clusters(self, clusters, include):
            return copy.deepcopy(state["ecs_describe_clusters"])

    class Ec2:
        async def describe_instance_status(self, InstanceIds, IncludeAllInstances):
            return copy.deepcopy(state["ec2_describe_instance_status"])

    clusters = state["ecs_describe_clusters"]["clusters"]
    inspector = ResourceInspector(Ecs(), EcsClusterActionsMap(), lambda: Cluster())
    for item in await inspector.inspect([c["clusterArn"] for c in clusters], [], extra_context=context):
        print(json.dumps(item))
    inspector = ResourceInspector(Ec2(), EC2InstanceActionsMap(), lambda: EC2Instance())
    for include in ([], ["DescribeInstanceStatusAction"]):
        # aws-v3's exporter: per reservation, its instances with the rest as context.
        for reservation in copy.deepcopy(state["ec2_describe_instances"]["Reservations"]):
            instances = reservation.pop("Instances")
            items = await inspector.inspect(instances, include, extra_context={**context, **reservation})
            for item in items:
                print(json.dumps(item))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
