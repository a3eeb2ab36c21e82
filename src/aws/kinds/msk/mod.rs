//! MSK (Kafka) kinds, and what they share: reading a listing page as botocore does.
//!
//! aws-v3 passes Kafka's listings through botocore untouched (`allow` policy, nested values
//! `dict[str, Any]`), so its `Properties` are botocore's parse of Kafka's JSON: Kafka sends
//! camelCase (`clusterInfoList`, `brokerNodeGroupInfo.clientSubnets`) and botocore names
//! every member by its model name, which for Kafka is the JSON name with its first letter
//! upper-cased at every depth (`ClusterInfoList`, `BrokerNodeGroupInfo.ClientSubnets`);
//! the keys of a map (`Tags`) are data and stay as they are. botocore also leaves out
//! members its model does not have and members sent as `null`, and reads timestamps as
//! datetimes that aws-v3's pydantic dump prints back ([`stamp`]).
//!
//! Those kinds read the response's own JSON ([`RawJson`]) and convert it with [`Shape`], the
//! part of botocore's Kafka model the listings return: converting the SDK's types back
//! member by member would be the same tree written a second time, with the SDK's
//! absent-versus-empty lists to tell apart.

use std::future::Future;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Map, Value};

use super::{Emit, ListCtx, RawJson, epoch_time, item, time};
use crate::aws::AwsError;
use crate::pagination::Cursors;

kinds![cluster, serverless_cluster];

/// A member's shape in botocore's Kafka model (`kafka/2018-11-14/service-2.json`), as far
/// as converting a listing needs it.
///
/// The model is that of botocore 1.40.61, the one aws-v3 2.20.11-beta's lock file pins:
/// members AWS added since (`Rebalancing`, `LoggingInfo.AuthorizerLogs`,
/// `BrokerNodeGroupInfo.ConnectivityInfo.NetworkType`, `Serverless.ConnectivityInfo`) are
/// not in it, so botocore, and aws-v3, leave them out.
#[derive(Debug)]
pub(super) enum Shape {
    /// A string, number or boolean: kept as sent.
    Scalar,
    /// An ISO 8601 timestamp ([`stamp`]).
    Time,
    /// A map (`Tags`): its keys are data, kept as sent.
    Map,
    /// A list of members of one shape.
    List(&'static Shape),
    /// A structure: its members by JSON name (the model name is the JSON name with the
    /// first letter upper-cased, for every Kafka member), in the model's order.
    Struct(&'static [(&'static str, Shape)]),
}

use Shape::{List, Map as MapShape, Scalar, Struct, Time};

const ENABLED: Shape = Struct(&[("enabled", Scalar)]);
const STRINGS: Shape = List(&Scalar);

const CLIENT_AUTHENTICATION: Shape = Struct(&[
    ("sasl", Struct(&[("scram", ENABLED), ("iam", ENABLED)])),
    (
        "tls",
        Struct(&[
            ("certificateAuthorityArnList", STRINGS),
            ("enabled", Scalar),
        ]),
    ),
    ("unauthenticated", ENABLED),
]);

const BROKER_NODE_GROUP_INFO: Shape = Struct(&[
    ("brokerAZDistribution", Scalar),
    ("clientSubnets", STRINGS),
    ("instanceType", Scalar),
    ("securityGroups", STRINGS),
    (
        "storageInfo",
        Struct(&[(
            "ebsStorageInfo",
            Struct(&[
                (
                    "provisionedThroughput",
                    Struct(&[("enabled", Scalar), ("volumeThroughput", Scalar)]),
                ),
                ("volumeSize", Scalar),
            ]),
        )]),
    ),
    (
        "connectivityInfo",
        Struct(&[
            ("publicAccess", Struct(&[("type", Scalar)])),
            (
                "vpcConnectivity",
                Struct(&[(
                    "clientAuthentication",
                    Struct(&[
                        ("sasl", Struct(&[("scram", ENABLED), ("iam", ENABLED)])),
                        ("tls", ENABLED),
                    ]),
                )]),
            ),
        ]),
    ),
    ("zoneIds", STRINGS),
]);

const CURRENT_BROKER_SOFTWARE_INFO: Shape = Struct(&[
    ("configurationArn", Scalar),
    ("configurationRevision", Scalar),
    ("kafkaVersion", Scalar),
]);

const ENCRYPTION_INFO: Shape = Struct(&[
    (
        "encryptionAtRest",
        Struct(&[("dataVolumeKMSKeyId", Scalar)]),
    ),
    (
        "encryptionInTransit",
        Struct(&[("clientBroker", Scalar), ("inCluster", Scalar)]),
    ),
]);

const OPEN_MONITORING: Shape = Struct(&[(
    "prometheus",
    Struct(&[
        ("jmxExporter", Struct(&[("enabledInBroker", Scalar)])),
        ("nodeExporter", Struct(&[("enabledInBroker", Scalar)])),
    ]),
)]);

const LOGS: Shape = Struct(&[
    (
        "cloudWatchLogs",
        Struct(&[("enabled", Scalar), ("logGroup", Scalar)]),
    ),
    (
        "firehose",
        Struct(&[("deliveryStream", Scalar), ("enabled", Scalar)]),
    ),
    (
        "s3",
        Struct(&[("bucket", Scalar), ("enabled", Scalar), ("prefix", Scalar)]),
    ),
]);

const LOGGING_INFO: Shape = Struct(&[("brokerLogs", LOGS)]);

const STATE_INFO: Shape = Struct(&[("code", Scalar), ("message", Scalar)]);

/// Converts `value` of `shape` as botocore parses it: `None` for `null`; a structure keeps
/// its model's members only, renamed, in the model's order, and leaves out the ones sent as
/// `null`; list items and map entries are kept as sent (converted). A value not of its
/// shape's JSON type is kept as sent (botocore would not read it either way, nothing to
/// match).
pub(super) fn convert(value: Value, shape: &Shape) -> Option<Value> {
    if value.is_null() {
        return None;
    }
    Some(match (shape, value) {
        (Struct(members), Value::Object(mut object)) => Value::Object(
            members
                .iter()
                .filter_map(|(name, shape)| {
                    let v = convert(object.remove(*name)?, shape)?;
                    Some((member_name(name), v))
                })
                .collect(),
        ),
        (List(item), Value::Array(items)) => Value::Array(
            items
                .into_iter()
                .map(|v| convert(v, item).unwrap_or(Value::Null))
                .collect(),
        ),
        (Time, v) => stamp(v),
        (Scalar | MapShape | Struct(_) | List(_), v) => v,
    })
}

/// botocore's name of a Kafka member from its JSON name: the first letter upper-cased
/// (`dataVolumeKMSKeyId` → `DataVolumeKMSKeyId`), as every `locationName` of the model is.
fn member_name(json: &str) -> String {
    let mut chars = json.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A Kafka timestamp as aws-v3 writes it: botocore reads `2024-03-15T10:30:00.717Z` as a
/// UTC datetime and pydantic prints that back with six-digit microseconds when there are
/// any and `Z` (`2024-03-15T10:30:00.717000Z`; `…:00Z` without). A timestamp without a zone
/// (moto's) is a naive datetime to botocore, which pydantic prints as Python's isoformat,
/// the very text sent: kept as it is, as is anything else that does not parse.
fn stamp(value: Value) -> Value {
    match &value {
        Value::String(s) => DateTime::from_str(s, Format::DateTime)
            .ok()
            .map(|t| time(&t)),
        Value::Number(n) => n.as_f64().map(epoch_time),
        _ => None,
    }
    .unwrap_or(value)
}

/// aws-v3's `Properties` of one listed cluster (`ClusterInfo` of `shape`): the members
/// botocore keeps, its model's `declared` fields first in their order, then the others in
/// botocore's order (pydantic's dump of an `allow` model).
pub(super) fn properties(
    cluster: Value,
    shape: &Shape,
    declared: &[&str],
) -> Option<Map<String, Value>> {
    let Value::Object(mut all) = convert(cluster, shape)? else {
        return None;
    };
    let mut p: Map<String, Value> = declared
        .iter()
        // `shift_remove`: `remove` swaps the last member in, out of botocore's order.
        .filter_map(|k| all.shift_remove(*k).map(|v| (k.to_string(), v)))
        .collect();
    p.extend(all);
    Some(p)
}

/// Every page of a Kafka cluster listing: `call` sends the page of a token with the body
/// catcher it is given; each listed cluster becomes an item of `kind` ([`properties`] of
/// `shape`, `declared` first). A repeated token fails the listing.
pub(super) async fn every_page<T, E, Fut>(
    ctx: &ListCtx,
    emit: &Emit,
    (kind, operation): (&'static str, &'static str),
    (shape, declared): (&Shape, &[&str]),
    call: impl Fn(Option<String>, RawJson) -> Fut,
) -> Result<(), AwsError>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut cursors = Cursors::default();
    let mut token = None;
    loop {
        let raw = RawJson::default();
        let sent = call(token, raw.clone());
        let (clusters, next) = page(ctx, operation, &mut cursors, &raw, sent).await?;
        let items = clusters
            .into_iter()
            .map(|cluster| {
                properties(cluster, shape, declared)
                    .map(|p| item(kind, p, Some(ctx.extra_context())))
                    .ok_or_else(|| AwsError::other(operation, "a listed cluster is not an object"))
            })
            .collect::<Result<Vec<Value>, _>>()?;
        emit.send(items).await?;
        match next {
            Some(next) => token = Some(next),
            None => return Ok(()),
        }
    }
}

/// The body of one listing page (`kafka:ListClusters…`) and its `nextToken` checked in
/// `cursors`. The body is Kafka's JSON as [`RawJson`] kept it. A 2xx answer whose body the
/// SDK cannot read (a timestamp without a zone, which botocore accepts) is read all the
/// same, as aws-v3 would; any other failure is the listing's error, which fails the unit.
pub(super) async fn page<E>(
    ctx: &ListCtx,
    operation: &'static str,
    cursors: &mut Cursors,
    raw: &RawJson,
    sent: impl Future<Output = Result<impl Sized, SdkError<E, HttpResponse>>>,
) -> Result<(Vec<Value>, Option<String>), AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    ctx.pace("kafka").await;
    match sent.await {
        Ok(_) => {}
        Err(SdkError::ServiceError(e)) if e.raw().status().is_success() => {
            tracing::debug!(
                operation,
                error = %e.err(),
                "the SDK cannot read the page; reading its JSON as botocore does"
            );
        }
        Err(e) => return Err(AwsError::from_sdk(operation, e)),
    }
    let Some(Value::Object(mut body)) = raw.take() else {
        return Err(AwsError::other(
            operation,
            "the answer is not a JSON object",
        ));
    };
    let clusters = match body.remove("clusterInfoList") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => {
            return Err(AwsError::other(
                operation,
                "the answer's clusterInfoList is not a list",
            ));
        }
    };
    let token = cursors
        .next(body.get("nextToken").and_then(Value::as_str))
        .map_err(|e| AwsError::other(operation, e.to_string()))?;
    Ok((clusters, token))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const CLUSTER: Shape = Struct(&[
        ("clusterArn", Scalar),
        ("creationTime", Time),
        ("brokerNodeGroupInfo", BROKER_NODE_GROUP_INFO),
        ("encryptionInfo", ENCRYPTION_INFO),
        ("tags", MapShape),
    ]);

    #[test]
    fn members_are_renamed_at_every_depth_map_keys_kept_unknown_and_null_members_dropped() {
        let sent = json!({
            "tags": {"team": "core", "cost-center": "42"},
            "clusterArn": "arn:c",
            "creationTime": "2024-03-15T10:30:00.717Z",
            "clusterType": "PROVISIONED",
            "brokerNodeGroupInfo": {
                "clientSubnets": ["s1", "s2"], "instanceType": null, "zoneIds": [],
                "storageInfo": {"ebsStorageInfo": {"volumeSize": 100, "unknown": 1}},
            },
            "encryptionInfo": {"encryptionAtRest": {"dataVolumeKMSKeyId": "k"}},
        });
        let got = convert(sent, &CLUSTER).unwrap();
        assert_eq!(
            got,
            json!({
                "ClusterArn": "arn:c",
                "CreationTime": "2024-03-15T10:30:00.717000Z",
                "BrokerNodeGroupInfo": {
                    "ClientSubnets": ["s1", "s2"], "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}},
                    "ZoneIds": [],
                },
                "EncryptionInfo": {"EncryptionAtRest": {"DataVolumeKMSKeyId": "k"}},
                "Tags": {"team": "core", "cost-center": "42"},
            })
        );
        // The model's order, whatever the order sent.
        let keys: Vec<_> = got.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "ClusterArn",
                "CreationTime",
                "BrokerNodeGroupInfo",
                "EncryptionInfo",
                "Tags"
            ]
        );
        let nested: Vec<_> = got["BrokerNodeGroupInfo"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(nested, ["ClientSubnets", "StorageInfo", "ZoneIds"]);
    }

    #[test]
    fn timestamps_print_as_pydantic_does() {
        for (sent, written) in [
            (
                json!("2024-03-15T10:30:00.717Z"),
                json!("2024-03-15T10:30:00.717000Z"),
            ),
            (json!("2024-03-15T10:30:00Z"), json!("2024-03-15T10:30:00Z")),
            (
                json!("2024-03-15T10:30:00.123456789Z"),
                json!("2024-03-15T10:30:00.123456Z"), // dateutil cuts finer digits off
            ),
            // No zone (moto): botocore's naive datetime, printed back as sent.
            (
                json!("2026-11-30T10:00:00.123456"),
                json!("2026-11-30T10:00:00.123456"),
            ),
            (json!("yesterday"), json!("yesterday")),
            (json!(1700000000), json!("2023-11-14T22:13:20Z")),
        ] {
            assert_eq!(stamp(sent.clone()), written, "{sent}");
        }
    }

    #[test]
    fn declared_fields_come_first_then_the_rest_in_model_order() {
        let p = properties(
            json!({"tags": {"a": "b"}, "clusterArn": "arn", "encryptionInfo": {}, "creationTime": 0}),
            &CLUSTER,
            &["CreationTime", "ClusterName"],
        )
        .unwrap();
        let keys: Vec<_> = p.keys().cloned().collect();
        assert_eq!(
            keys,
            ["CreationTime", "ClusterArn", "EncryptionInfo", "Tags"]
        );
        assert!(properties(json!("not an object"), &CLUSTER, &[]).is_none());
        assert!(properties(Value::Null, &CLUSTER, &[]).is_none());
    }
}
