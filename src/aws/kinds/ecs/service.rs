//! `AWS::ECS::Service`: `ecs:ListClusters` (every page), then per cluster
//! `ListServices(cluster)` (every page, ≤10 ARNs each) and `DescribeServices` with tags per
//! 10 ARNs (the API's limit), as aws-v3's `ListServicesAction` and `DescribeServicesAction`.
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are the 33 declared keys AWS
//! returned, PascalCase, in the model's order; nested values keep ECS's camelCase
//! (`Tags: [{key, value}]`), timestamps (top-level and in `Deployments`, `Events`,
//! `TaskSets`) as RFC 3339. `__ExtraContext` is `{AccountId, Region, ClusterArn}`.
//!
//! A failed `DescribeServices` does not fail the unit: aws-v3 logs it and still emits each
//! listed service with its `ServiceArn` only (what `ListServicesAction` gave). Here the same,
//! logged with the account, region, kind and cluster; a service AWS lists under `failures`
//! gets the same treatment (aws-v3 merges by position and would misalign the rest).

use aws_sdk_ecs::types::ServiceField;
use serde_json::{Map, Value, json};

use super::{RawJson, declared, stamp, stamp_each};
use crate::aws::AwsError;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, Regions, Scope, item};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::ECS::Service",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[
        Action {
            name: "ListServicesAction",
            iam: &["ecs:ListClusters", "ecs:ListServices"],
            adds: &[],
            replaces: &[],
        },
        Action {
            name: "DescribeServicesAction",
            iam: &["ecs:DescribeServices"],
            adds: &[],
            replaces: &[],
        },
    ],
    optional_actions: &[],
    fixture: Fixture {
        example: "ecs-service",
        keys: &[
            "ServiceArn",
            "ServiceName",
            "ClusterArn",
            "TaskDefinition",
            "DesiredCount",
            "RunningCount",
            "PendingCount",
            "LaunchType",
            "Status",
            "Deployments",
            "Events",
            "LoadBalancers",
            "Tags",
        ],
    },
};

/// aws-v3's declared keys, ECS's name and the `Properties` name, in its model's order.
const KEYS: &[(&str, &str)] = &[
    ("availabilityZoneRebalancing", "AvailabilityZoneRebalancing"),
    ("capacityProviderStrategy", "CapacityProviderStrategy"),
    ("clusterArn", "ClusterArn"),
    ("createdAt", "CreatedAt"),
    ("createdBy", "CreatedBy"),
    ("deploymentConfiguration", "DeploymentConfiguration"),
    ("deploymentController", "DeploymentController"),
    ("deployments", "Deployments"),
    ("desiredCount", "DesiredCount"),
    ("enableECSManagedTags", "EnableECSManagedTags"),
    ("enableExecuteCommand", "EnableExecuteCommand"),
    ("events", "Events"),
    ("healthCheckGracePeriodSeconds", "HealthCheckGracePeriodSeconds"),
    ("launchType", "LaunchType"),
    ("loadBalancers", "LoadBalancers"),
    ("networkConfiguration", "NetworkConfiguration"),
    ("pendingCount", "PendingCount"),
    ("placementConstraints", "PlacementConstraints"),
    ("placementStrategy", "PlacementStrategy"),
    ("platformFamily", "PlatformFamily"),
    ("platformVersion", "PlatformVersion"),
    ("propagateTags", "PropagateTags"),
    ("roleArn", "RoleArn"),
    ("runningCount", "RunningCount"),
    ("schedulingStrategy", "SchedulingStrategy"),
    ("serviceArn", "ServiceArn"),
    ("serviceName", "ServiceName"),
    ("serviceRegistries", "ServiceRegistries"),
    ("status", "Status"),
    ("tags", "Tags"),
    ("taskDefinition", "TaskDefinition"),
    ("taskSets", "TaskSets"),
    ("updatedAt", "UpdatedAt"),
];

/// `DescribeServices` takes at most this many services.
const DESCRIBE_BATCH: usize = 10;

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let ecs = aws_sdk_ecs::Client::new(&ctx.sdk_config());
    let mut pages = ecs.list_clusters().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("ecs:ListClusters", &mut cursors, pages.next(), |p| {
            p.next_token()
        })
        .await?
    {
        for cluster in page.cluster_arns() {
            list_cluster(&ctx, &ecs, &emit, cluster).await?;
        }
    }
    Ok(())
}

/// The services of one cluster.
async fn list_cluster(
    ctx: &ListCtx,
    ecs: &aws_sdk_ecs::Client,
    emit: &Emit,
    cluster: &str,
) -> Result<(), AwsError> {
    let mut pages = ecs.list_services().cluster(cluster).into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("ecs:ListServices", &mut cursors, pages.next(), |p| {
            p.next_token()
        })
        .await?
    {
        for arns in page.service_arns().chunks(DESCRIBE_BATCH) {
            let mut described = describe(ctx, ecs, cluster, arns).await;
            let mut extra = ctx.extra_context();
            extra.insert("ClusterArn".into(), json!(cluster));
            let items = arns
                .iter()
                .map(|arn| {
                    let properties = match described.remove(arn.as_str()) {
                        Some(service) => properties(&service),
                        // What `ListServicesAction` alone gives.
                        None => Map::from_iter([("ServiceArn".to_string(), json!(arn))]),
                    };
                    item(KIND.name, properties, Some(extra.clone()))
                })
                .collect();
            emit.send(items).await?;
        }
    }
    Ok(())
}

/// `DescribeServices` of `arns`: each described service's JSON by its ARN. A failed call
/// or a service AWS could not describe is logged and left out.
async fn describe(
    ctx: &ListCtx,
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    arns: &[String],
) -> Map<String, Value> {
    ctx.pace("ecs").await;
    let raw = RawJson::default();
    let sent = ecs
        .describe_services()
        .cluster(cluster)
        .set_services(Some(arns.to_vec()))
        .include(ServiceField::Tags)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    if let Err(e) = sent {
        let e = AwsError::from_sdk("ecs:DescribeServices", e);
        tracing::warn!(account = %ctx.account.id, region = %ctx.region, kind = KIND.name, cluster, services = arns.len(), error = %e, "could not describe the services: they are sent with their ServiceArn only, as aws-v3 does");
        return Map::new();
    }
    let Some(mut body) = raw.take() else {
        tracing::warn!(account = %ctx.account.id, region = %ctx.region, kind = KIND.name, cluster, "DescribeServices answered no JSON body: the services are sent with their ServiceArn only");
        return Map::new();
    };
    if let Some(failures) = body.get("failures").and_then(Value::as_array)
        && !failures.is_empty()
    {
        let failures = serde_json::to_string(failures).unwrap_or_default();
        tracing::warn!(account = %ctx.account.id, region = %ctx.region, kind = KIND.name, cluster, failures, "AWS could not describe some services: they are sent with their ServiceArn only");
    }
    let services = match body.get_mut("services").map(Value::take) {
        Some(Value::Array(services)) => services,
        _ => Vec::new(),
    };
    services
        .into_iter()
        .filter_map(|s| Some((s.get("serviceArn")?.as_str()?.to_string(), s)))
        .collect()
}

fn properties(service: &Value) -> Map<String, Value> {
    let Some(raw) = service.as_object() else {
        return Map::new();
    };
    let mut p = Value::Object(declared(raw, KEYS));
    stamp(&mut p, "CreatedAt");
    stamp(&mut p, "UpdatedAt");
    stamp_each(&mut p, "Deployments", &["createdAt", "updatedAt"]);
    stamp_each(&mut p, "Events", &["createdAt"]);
    stamp_each(
        &mut p,
        "TaskSets",
        &["createdAt", "updatedAt", "stabilityStatusAt"],
    );
    match p {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
