//! `AWS::ECS::Cluster`: `ecs:ListClusters` (every page), then `DescribeClusters` per page of
//! ARNs (≤100, the API's limit) with tags, attachments, settings, configurations and
//! statistics, as aws-v3's `DescribeClustersAction`.
//!
//! `DescribeClusters` answers 200 even for clusters it could not describe, listing them
//! under `failures`; aws-v3 reads `clusters` only and so drops them without a word. Here
//! any failure fails the unit with AWS's reasons: a cluster left out would look deleted.
//!
//! Top-level keys are PascalCase (aws-v3 aliases ECS's camelCase fields); nested values keep
//! ECS's camelCase (`Tags: [{key, value}]`, `ClusterSettings: [{name, value}]`), exactly
//! what botocore returns and aws-v3 passes through.

use aws_sdk_ecs::types::{Cluster, ClusterField, Failure};
use serde_json::{Map, Value, json};

use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, Props, Regions, Scope, item, obj,
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
            "CapacityProviders",
            "ClusterSettings",
            "DefaultCapacityProviderStrategy",
            "Tags",
            "Status",
            "RunningTasksCount",
            "ActiveServicesCount",
            "PendingTasksCount",
            "RegisteredContainerInstancesCount",
        ],
    },
};

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
            let described = ecs
                .describe_clusters()
                .set_clusters(Some(arns.to_vec()))
                .include(ClusterField::Tags)
                .include(ClusterField::Attachments)
                .include(ClusterField::Settings)
                .include(ClusterField::Configurations)
                .include(ClusterField::Statistics)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ecs:DescribeClusters", e))?;
            let items = described
                .clusters()
                .iter()
                .map(|c| item(KIND.name, properties(c), Some(ctx.extra_context())))
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

fn name_value(name: Option<&str>, value: Option<&str>) -> Value {
    json!({"name": name, "value": value})
}

fn properties(c: &Cluster) -> Map<String, Value> {
    let mut p = Props::default();
    p.str("ClusterArn", c.cluster_arn())
        .str("ClusterName", c.cluster_name())
        .opt(
            "Configuration",
            c.configuration().map(|cfg| {
                obj(|o| {
                    o.opt(
                        "executeCommandConfiguration",
                        cfg.execute_command_configuration().map(|e| {
                            obj(|o| {
                                o.str("kmsKeyId", e.kms_key_id())
                                    .str("logging", e.logging().map(|l| l.as_str()));
                            })
                        }),
                    );
                })
            }),
        )
        .str("Status", c.status())
        .val("RegisteredContainerInstancesCount", json!(c.registered_container_instances_count()))
        .val("RunningTasksCount", json!(c.running_tasks_count()))
        .val("PendingTasksCount", json!(c.pending_tasks_count()))
        .val("ActiveServicesCount", json!(c.active_services_count()))
        .val(
            "Statistics",
            Value::Array(c.statistics().iter().map(|s| name_value(s.name(), s.value())).collect()),
        )
        .val(
            "Tags",
            Value::Array(
                c.tags()
                    .iter()
                    .map(|t| json!({"key": t.key(), "value": t.value()}))
                    .collect(),
            ),
        )
        .val(
            "ClusterSettings",
            Value::Array(
                c.settings()
                    .iter()
                    .map(|s| name_value(s.name().map(|n| n.as_str()), s.value()))
                    .collect(),
            ),
        )
        .val(
            "CapacityProviders",
            Value::Array(c.capacity_providers().iter().map(|s| json!(s)).collect()),
        )
        .val(
            "DefaultCapacityProviderStrategy",
            Value::Array(
                c.default_capacity_provider_strategy()
                    .iter()
                    .map(|s| {
                        json!({"capacityProvider": s.capacity_provider(), "weight": s.weight(), "base": s.base()})
                    })
                    .collect(),
            ),
        )
        .val(
            "Attachments",
            Value::Array(
                c.attachments()
                    .iter()
                    .map(|a| {
                        json!({
                            "id": a.id(), "type": a.r#type(), "status": a.status(),
                            "details": a.details().iter().map(|d| name_value(d.name(), d.value())).collect::<Vec<_>>(),
                        })
                    })
                    .collect(),
            ),
        )
        .str("AttachmentsStatus", c.attachments_status())
        .opt(
            "ServiceConnectDefaults",
            c.service_connect_defaults()
                .map(|d| json!({"namespace": d.namespace()})),
        );
    p.build()
}
