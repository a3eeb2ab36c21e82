//! `AWS::EKS::Cluster`: `eks:ListClusters` (names, every page), then `DescribeCluster(name)`
//! one call per cluster, [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) at once per (account, service), as aws-v3's
//! `DescribeClusterAction` (its only action, a default one).
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are its declared keys AWS returned
//! (EKS's camelCase renamed PascalCase, in the model's order), read from the response's own
//! JSON ([`RawJson`]) so nested values (`ResourcesVpcConfig`, `Logging`, …) keep EKS's
//! camelCase exactly as AWS sent them. `CreatedAt`, epoch seconds on the wire, is RFC 3339.
//! A member AWS sent as `null` is absent (botocore drops it). `Tags` is EKS's map.
//! `__ExtraContext` is `{AccountId, Region}`.
//!
//! A `DescribeCluster` failing with a not-found error leaves that cluster out, as aws-v3
//! does (it was deleted since the listing); it is logged and counted
//! ([`ListCtx::enrichment_failed`]). Any other failure of it, access denied included, fails
//! the unit: aws-v3 skips a denied describe too, but a cluster that exists and could not be
//! read must not look deleted to reconciliation. A failed `ListClusters` fails the unit.

use serde_json::{Map, Value};

use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, item,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::EKS::Cluster",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[DESCRIBE],
    optional_actions: &[],
    fixture: Fixture {
        example: "eks-cluster",
        keys: &[
            "Name",
            "Arn",
            "CreatedAt",
            "Version",
            "Endpoint",
            "RoleArn",
            "ResourcesVpcConfig",
            "Status",
            "PlatformVersion",
            "Tags",
        ],
    },
};

/// `DescribeClusterAction`: lists the names and describes each cluster.
const DESCRIBE: Action = Action {
    name: "DescribeClusterAction",
    iam: &["eks:ListClusters", "eks:DescribeCluster"],
    adds: &[],
    replaces: &[],
};

/// aws-v3's declared keys, EKS's name and the `Properties` name, in its model's order.
const KEYS: &[(&str, &str)] = &[
    ("accessConfig", "AccessConfig"),
    ("arn", "Arn"),
    ("certificateAuthority", "CertificateAuthority"),
    ("computeConfig", "ComputeConfig"),
    ("createdAt", "CreatedAt"),
    ("endpoint", "Endpoint"),
    ("identity", "Identity"),
    ("kubernetesNetworkConfig", "KubernetesNetworkConfig"),
    ("logging", "Logging"),
    ("name", "Name"),
    ("platformVersion", "PlatformVersion"),
    ("resourcesVpcConfig", "ResourcesVpcConfig"),
    ("roleArn", "RoleArn"),
    ("status", "Status"),
    ("storageConfig", "StorageConfig"),
    ("tags", "Tags"),
    ("upgradePolicy", "UpgradePolicy"),
    ("version", "Version"),
    ("zonalShiftConfig", "ZonalShiftConfig"),
];


async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let eks = aws_sdk_eks::Client::new(&ctx.sdk_config());
    let mut pages = eks.list_clusters().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("eks:ListClusters", &mut cursors, pages.next(), |p| {
            p.next_token()
        })
        .await?
    {
        let described: Vec<Result<Option<Value>, AwsError>> = ctx
            .per_resource("eks", page.clusters().to_vec(), |name| {
                let (ctx, eks) = (ctx.clone(), eks.clone());
                async move {
                    let properties = describe(&ctx, &eks, &name).await?;
                    Ok::<_, AwsError>(
                        properties.map(|p| item(KIND.name, p, Some(ctx.extra_context()))),
                    )
                }
            })
            .await;
        let items: Vec<Value> = described
            .into_iter()
            .filter_map(Result::transpose)
            .collect::<Result<_, _>>()?;
        emit.send(items).await?;
    }
    Ok(())
}

/// The `Properties` of one cluster from `DescribeCluster`; `None`, logged and counted, when
/// the cluster is gone (deleted since the listing); the error for any other failure, which
/// fails the unit. aws-v3 also skips a denied describe; here that fails the unit, since a
/// cluster that exists but could not be read must not look deleted to reconciliation.
async fn describe(
    ctx: &ListCtx,
    eks: &aws_sdk_eks::Client,
    name: &str,
) -> Result<Option<Map<String, Value>>, AwsError> {
    ctx.pace("eks").await;
    let raw = RawJson::default();
    let sent = eks
        .describe_cluster()
        .name(name)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    let error = match sent {
        Ok(_) => match raw.take().as_mut().and_then(|b| b.get_mut("cluster")) {
            Some(cluster @ Value::Object(_)) => return Ok(Some(properties(cluster.take()))),
            _ => AwsError::other("eks:DescribeCluster", "the answer has no cluster"),
        },
        Err(e) => AwsError::from_sdk("eks:DescribeCluster", e),
    };
    if !recoverable(&error) {
        return Err(error);
    }
    ctx.enrichment_failed(KIND.name, &DESCRIBE, name, &error);
    Ok(None)
}

/// The not-found codes of aws-v3's `is_recoverable_aws_exception` (its access-denied codes
/// are left out: see [`describe`]).
fn recoverable(error: &AwsError) -> bool {
    const CODES: &[&str] = &[
        "ResourceNotFoundException",
        "ResourceNotFound",
        "ResourceNotFoundFault",
        "RepositoryPolicyNotFoundException",
        "LifecyclePolicyNotFoundException",
        "NotFoundException",
        "NoSuchBucket",
        "404",
    ];
    error.code().is_some_and(|c| CODES.contains(&c))
}

/// aws-v3's `Properties` of one EKS `Cluster` (its JSON).
fn properties(cluster: Value) -> Map<String, Value> {
    let Value::Object(cluster) = cluster else {
        return Map::new();
    };
    declared_json(cluster, KEYS, &["createdAt"])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn declared_keys_renamed_in_model_order_nested_as_sent_nulls_absent() {
        let cluster = json!({
            "name": "c", "arn": "arn:c", "createdAt": 1700000000.5, "undeclared": 1,
            "endpoint": null, "tags": {"team": "core"},
            "resourcesVpcConfig": {"subnetIds": ["s"], "vpcId": null},
        });
        let p = properties(cluster);
        assert_eq!(
            Value::Object(p.clone()),
            json!({"Arn": "arn:c", "CreatedAt": "2023-11-14T22:13:20.500000Z", "Name": "c",
                "ResourcesVpcConfig": {"subnetIds": ["s"]}, "Tags": {"team": "core"}})
        );
        let order: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(order, ["Arn", "CreatedAt", "Name", "ResourcesVpcConfig", "Tags"]);
    }
}
