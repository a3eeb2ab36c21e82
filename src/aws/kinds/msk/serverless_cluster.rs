//! `AWS::MSK::ServerlessCluster`: `kafka:ListClustersV2(clusterTypeFilter=SERVERLESS)`
//! (every page), as aws-v3's `ListMskServerlessClustersAction` (its only action, a default
//! one, a pass-through of the listing: no call per cluster).
//!
//! aws-v3's model `allow`s every key: `Properties` are every `Cluster` member botocore keeps
//! ([`super::convert`]): PascalCase at every depth (`Serverless.VpcConfigs[].SubnetIds`),
//! `Tags` Kafka's map, `CreationTime` as aws-v3 prints it; its declared fields first in its
//! order, then any other member (`Provisioned`, which a serverless cluster does not have)
//! in botocore's. `__ExtraContext` is `{AccountId, Region}`. A failed `ListClustersV2`
//! fails the unit.

use super::{
    BROKER_NODE_GROUP_INFO, CLIENT_AUTHENTICATION, CURRENT_BROKER_SOFTWARE_INFO, ENABLED,
    ENCRYPTION_INFO, LOGGING_INFO, OPEN_MONITORING, STATE_INFO, STRINGS, Shape,
};
use crate::aws::AwsError;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope};

pub const KIND: Kind = Kind {
    name: "AWS::MSK::ServerlessCluster",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[LIST],
    optional_actions: &[],
    fixture: Fixture {
        example: "msk-serverless-cluster",
        keys: &[
            "ClusterArn",
            "ClusterName",
            "ClusterType",
            "CreationTime",
            "CurrentVersion",
            "State",
            "Tags",
            "Serverless",
        ],
    },
};

/// `ListMskServerlessClustersAction`: the listing itself.
const LIST: Action = Action {
    name: "ListMskServerlessClustersAction",
    iam: &["kafka:ListClustersV2"],
    adds: &[],
    replaces: &[],
};

/// botocore's `Cluster` (of `ListClustersV2`), in its model's order.
const CLUSTER: Shape = Shape::Struct(&[
    ("activeOperationArn", Shape::Scalar),
    ("clusterType", Shape::Scalar),
    ("clusterArn", Shape::Scalar),
    ("clusterName", Shape::Scalar),
    ("creationTime", Shape::Time),
    ("currentVersion", Shape::Scalar),
    ("state", Shape::Scalar),
    ("stateInfo", STATE_INFO),
    ("tags", Shape::Map),
    (
        "provisioned",
        Shape::Struct(&[
            ("brokerNodeGroupInfo", BROKER_NODE_GROUP_INFO),
            ("currentBrokerSoftwareInfo", CURRENT_BROKER_SOFTWARE_INFO),
            ("clientAuthentication", CLIENT_AUTHENTICATION),
            ("encryptionInfo", ENCRYPTION_INFO),
            ("enhancedMonitoring", Shape::Scalar),
            ("openMonitoring", OPEN_MONITORING),
            ("loggingInfo", LOGGING_INFO),
            ("numberOfBrokerNodes", Shape::Scalar),
            ("zookeeperConnectString", Shape::Scalar),
            ("zookeeperConnectStringTls", Shape::Scalar),
            ("storageMode", Shape::Scalar),
            ("customerActionStatus", Shape::Scalar),
        ]),
    ),
    (
        "serverless",
        Shape::Struct(&[
            (
                "vpcConfigs",
                Shape::List(&Shape::Struct(&[
                    ("subnetIds", STRINGS),
                    ("securityGroupIds", STRINGS),
                ])),
            ),
            (
                "clientAuthentication",
                Shape::Struct(&[("sasl", Shape::Struct(&[("iam", ENABLED)]))]),
            ),
        ]),
    ),
]);

/// aws-v3's declared fields (`MskServerlessClusterProperties`, by alias), in its order.
const DECLARED: &[&str] = &[
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
];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let kafka = aws_sdk_kafka::Client::new(&ctx.sdk_config());
    let call = |token, raw: RawJson| {
        kafka
            .list_clusters_v2()
            .cluster_type_filter("SERVERLESS")
            .set_next_token(token)
            .customize()
            .interceptor(raw)
            .send()
    };
    super::every_page(
        &ctx,
        &emit,
        (KIND.name, "kafka:ListClustersV2"),
        (&CLUSTER, DECLARED),
        call,
    )
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn a_listed_serverless_cluster_is_every_member_botocore_keeps_declared_fields_first() {
        let sent = json!({
            "serverless": {
                "vpcConfigs": [{"subnetIds": ["s1"], "securityGroupIds": ["sg"]}],
                "clientAuthentication": {"sasl": {"iam": {"enabled": true}}},
                // Not in aws-v3's botocore model: left out.
                "connectivityInfo": {"networkType": "IPV4"},
            },
            "tags": {"Team": "platform"},
            "clusterArn": "arn:c", "clusterName": "c", "clusterType": "SERVERLESS",
            "creationTime": "2024-03-15T10:30:00Z", "currentVersion": "K3",
            "state": "ACTIVE", "stateInfo": null, "activeOperationArn": null,
        });
        let p = super::super::properties(sent, &CLUSTER, DECLARED).unwrap();
        assert_eq!(
            Value::Object(p.clone()),
            json!({
                "ClusterArn": "arn:c", "ClusterName": "c", "ClusterType": "SERVERLESS",
                "CreationTime": "2024-03-15T10:30:00Z", "CurrentVersion": "K3",
                "State": "ACTIVE", "Tags": {"Team": "platform"},
                "Serverless": {
                    "VpcConfigs": [{"SubnetIds": ["s1"], "SecurityGroupIds": ["sg"]}],
                    "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": true}}},
                },
            })
        );
        let keys: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "ClusterArn",
                "ClusterName",
                "ClusterType",
                "CreationTime",
                "CurrentVersion",
                "State",
                "Tags",
                "Serverless",
            ]
        );
    }
}
