//! `AWS::ECS::Cluster`: `ecs:ListClusters` (every page), then `DescribeClusters` per page of
//! ARNs (≤100, the API's limit) with tags, attachments, settings, configurations and
//! statistics, as aws-v3's `DescribeClustersAction`.
//!
//! `DescribeClusters` answers 200 even for clusters it could not describe, listing them
//! under `failures`; aws-v3 reads `clusters` only and so drops them without a word. Here
//! any failure fails the unit with AWS's reasons: a cluster left out would look deleted.
//!
//! `Properties` are aws-v3's: its model's declared keys that ECS returned (absent when ECS
//! left a key out or sent `null`, `[]` when it sent `[]`: aws-v3 dumps with
//! `exclude_unset`, so its defaults never appear), PascalCase (`settings` is
//! `ClusterSettings`), in the model's order. They are read from the response's own JSON
//! ([`RawJson`]), so nested values are exactly what botocore returns and aws-v3 passes
//! through: ECS's camelCase (`Tags: [{key, value}]`, `ClusterSettings: [{name, value}]`),
//! only the members ECS sent.

use aws_sdk_ecs::types::{ClusterField, Failure};
use serde_json::{Map, Value};

use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, item,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::ECS::Cluster",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "DescribeClustersAction",
        iam: &["ecs:ListClusters", "ecs:DescribeClusters"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[],
    fixture: Fixture {
        example: "ecs-cluster",
        keys: &[
            "ClusterName",
            "ClusterArn",
            "ClusterSettings",
            "Tags",
            "Status",
            "RunningTasksCount",
            "ActiveServicesCount",
            "PendingTasksCount",
            "RegisteredContainerInstancesCount",
        ],
    },
};

/// aws-v3's declared keys (its model `ignore`s the rest), ECS's name and the `Properties`
/// name, in its model's order: `Properties` come out in this order whatever ECS's.
/// `settings` is aws-v3's `ClusterSettings`.
const KEYS: &[(&str, &str)] = &[
    ("clusterName", "ClusterName"),
    ("capacityProviders", "CapacityProviders"),
    ("settings", "ClusterSettings"),
    ("configuration", "Configuration"),
    ("defaultCapacityProviderStrategy", "DefaultCapacityProviderStrategy"),
    ("serviceConnectDefaults", "ServiceConnectDefaults"),
    ("tags", "Tags"),
    ("attachments", "Attachments"),
    ("attachmentsStatus", "AttachmentsStatus"),
    ("statistics", "Statistics"),
    ("status", "Status"),
    ("runningTasksCount", "RunningTasksCount"),
    ("activeServicesCount", "ActiveServicesCount"),
    ("pendingTasksCount", "PendingTasksCount"),
    ("registeredContainerInstancesCount", "RegisteredContainerInstancesCount"),
    ("clusterArn", "ClusterArn"),
];

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
        for arns in page.cluster_arns().chunks(100) {
            ctx.pace("ecs").await;
            let raw = RawJson::default();
            let described = ecs
                .describe_clusters()
                .set_clusters(Some(arns.to_vec()))
                .include(ClusterField::Tags)
                .include(ClusterField::Attachments)
                .include(ClusterField::Settings)
                .include(ClusterField::Configurations)
                .include(ClusterField::Statistics)
                .customize()
                .interceptor(raw.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ecs:DescribeClusters", e))?;
            let items = properties(raw.take())?
                .into_iter()
                .map(|p| item(KIND.name, p, Some(ctx.extra_context())))
                .collect();
            emit.send(items).await?;
            // What was described is written; the rest is unknown, so the unit fails.
            if !described.failures().is_empty() {
                return Err(describe_failures(described.failures()));
            }
        }
    }
    Ok(())
}

/// `DescribeClusters`' `failures` as one error: how many, and each cluster with AWS's
/// reason (`MISSING`, …) and detail.
fn describe_failures(failures: &[Failure]) -> AwsError {
    let each: Vec<String> = failures
        .iter()
        .map(|f| {
            let mut s = format!(
                "{} ({}",
                f.arn().unwrap_or("?"),
                f.reason().unwrap_or("no reason given")
            );
            if let Some(detail) = f.detail() {
                s.push_str(": ");
                s.push_str(detail);
            }
            s.push(')');
            s
        })
        .collect();
    AwsError::other(
        "ecs:DescribeClusters",
        format!(
            "AWS could not describe {} cluster(s), so the listing is incomplete: {}",
            failures.len(),
            each.join(", ")
        ),
    )
}

/// `DescribeClusters`' `clusters`, each turned into aws-v3's `Properties`.
fn properties(body: Option<Value>) -> Result<Vec<Map<String, Value>>, AwsError> {
    let clusters = match body {
        Some(Value::Object(mut body)) => body.remove("clusters"),
        _ => None,
    };
    let clusters = match clusters {
        Some(Value::Array(clusters)) => clusters,
        // No list: an answer this program cannot read is not "no clusters".
        _ => {
            return Err(AwsError::other(
                "ecs:DescribeClusters",
                "the answer has no JSON list of clusters",
            ));
        }
    };
    Ok(clusters
        .into_iter()
        .map(|c| match c {
            Value::Object(c) => declared_json(c, KEYS, &[]),
            _ => Map::new(),
        })
        .collect())
}
