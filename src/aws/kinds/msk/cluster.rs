//! `AWS::MSK::Cluster`: `kafka:ListClusters` (v1, provisioned clusters; every page), as
//! aws-v3's `ListClustersAction` (its only action, a default one, a pass-through of the
//! listing: no call per cluster).
//!
//! aws-v3's model `allow`s every key: `Properties` are every `ClusterInfo` member botocore
//! keeps ([`super::convert`]): PascalCase at every depth, `Tags` Kafka's map, `CreationTime`
//! as aws-v3 prints it; its declared fields first in its order, then the other members
//! (`ActiveOperationArn`, `StateInfo`, `CustomerActionStatus`) in botocore's.
//! `__ExtraContext` is `{AccountId, Region}`. A failed `ListClusters` fails the unit.

use super::{
    BROKER_NODE_GROUP_INFO, CLIENT_AUTHENTICATION, CURRENT_BROKER_SOFTWARE_INFO,
    ENCRYPTION_INFO, LOGGING_INFO, OPEN_MONITORING, STATE_INFO, Shape,
};
use crate::aws::AwsError;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope};

pub const KIND: Kind = Kind {
    name: "AWS::MSK::Cluster",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[LIST],
    optional_actions: &[],
    fixture: Fixture {
        example: "msk-cluster",
        keys: &["ClusterArn", "ClusterName", "State", "CreationTime"],
    },
};

/// `ListClustersAction`: the listing itself.
const LIST: Action = Action {
    name: "ListClustersAction",
    iam: &["kafka:ListClusters"],
    adds: &[],
    replaces: &[],
};

/// botocore's `ClusterInfo` (of `ListClusters`), in its model's order.
const CLUSTER_INFO: Shape = Shape::Struct(&[
    ("activeOperationArn", Shape::Scalar),
    ("brokerNodeGroupInfo", BROKER_NODE_GROUP_INFO),
    ("clientAuthentication", CLIENT_AUTHENTICATION),
    ("clusterArn", Shape::Scalar),
    ("clusterName", Shape::Scalar),
    ("creationTime", Shape::Time),
    ("currentBrokerSoftwareInfo", CURRENT_BROKER_SOFTWARE_INFO),
    ("currentVersion", Shape::Scalar),
    ("encryptionInfo", ENCRYPTION_INFO),
    ("enhancedMonitoring", Shape::Scalar),
    ("openMonitoring", OPEN_MONITORING),
    ("loggingInfo", LOGGING_INFO),
    ("numberOfBrokerNodes", Shape::Scalar),
    ("state", Shape::Scalar),
    ("stateInfo", STATE_INFO),
    ("tags", Shape::Map),
    ("zookeeperConnectString", Shape::Scalar),
    ("zookeeperConnectStringTls", Shape::Scalar),
    ("storageMode", Shape::Scalar),
    ("customerActionStatus", Shape::Scalar),
]);

/// aws-v3's declared fields (`MskClusterProperties`), in its order.
const DECLARED: &[&str] = &[
    "ClusterArn",
    "ClusterName",
    "State",
    "CreationTime",
    "CurrentVersion",
    "BrokerNodeGroupInfo",
    "ClientAuthentication",
    "EncryptionInfo",
    "CurrentBrokerSoftwareInfo",
    "LoggingInfo",
    "OpenMonitoring",
    "NumberOfBrokerNodes",
    "EnhancedMonitoring",
    "StorageMode",
    "ZookeeperConnectString",
    "ZookeeperConnectStringTls",
    "Tags",
];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let kafka = aws_sdk_kafka::Client::new(&ctx.sdk_config());
    let call = |token, raw: RawJson| {
        kafka
            .list_clusters()
            .set_next_token(token)
            .customize()
            .interceptor(raw)
            .send()
    };
    super::every_page(
        &ctx,
        &emit,
        (KIND.name, "kafka:ListClusters"),
        (&CLUSTER_INFO, DECLARED),
        call,
    )
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn a_listed_cluster_is_every_member_botocore_keeps_declared_fields_first() {
        let sent = json!({
            "activeOperationArn": "arn:op", "clusterType": "PROVISIONED",
            "clusterArn": "arn:c", "clusterName": "c", "state": "ACTIVE",
            "creationTime": "2026-04-19T14:51:13.196Z", "currentVersion": "K1",
            "stateInfo": {"code": "x", "message": null},
            "brokerNodeGroupInfo": {"instanceType": "kafka.m5.large", "clientSubnets": ["s"]},
            "currentBrokerSoftwareInfo": {"kafkaVersion": "3.6.0"},
            "numberOfBrokerNodes": 3, "tags": {"Team": "platform"},
            "zookeeperConnectString": null,
        });
        let p = super::super::properties(sent, &CLUSTER_INFO, DECLARED).unwrap();
        assert_eq!(
            Value::Object(p.clone()),
            json!({
                "ClusterArn": "arn:c", "ClusterName": "c", "State": "ACTIVE",
                "CreationTime": "2026-04-19T14:51:13.196000Z", "CurrentVersion": "K1",
                "BrokerNodeGroupInfo": {"ClientSubnets": ["s"], "InstanceType": "kafka.m5.large"},
                "CurrentBrokerSoftwareInfo": {"KafkaVersion": "3.6.0"},
                "NumberOfBrokerNodes": 3, "Tags": {"Team": "platform"},
                "ActiveOperationArn": "arn:op", "StateInfo": {"Code": "x"},
            })
        );
        let keys: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "ClusterArn",
                "ClusterName",
                "State",
                "CreationTime",
                "CurrentVersion",
                "BrokerNodeGroupInfo",
                "CurrentBrokerSoftwareInfo",
                "NumberOfBrokerNodes",
                "Tags",
                "ActiveOperationArn",
                "StateInfo",
            ]
        );
    }
}
