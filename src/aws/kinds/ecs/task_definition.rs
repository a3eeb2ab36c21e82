//! `AWS::ECS::TaskDefinition`: `ecs:ListTaskDefinitions(status=ACTIVE)` (every active
//! revision, every page), then `DescribeTaskDefinition` with tags, one call per ARN, at most
//! [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) at once per (account, service), as aws-v3's
//! `ListTaskDefinitionsAction` and `DescribeTaskDefinitionsAction`.
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are its 15 declared keys AWS
//! returned, PascalCase, in the model's order; nested values keep ECS's camelCase
//! (`ContainerDefinitions[].portMappings`, `Tags: [{key, value}]`); `Tags` is always set
//! from the response's `tags` (`[]` when none); `RegisteredAt` is RFC 3339.
//! `__ExtraContext` is `{AccountId, Region}`.
//!
//! A failed `DescribeTaskDefinition` does not fail the unit: as in aws-v3, that revision is
//! still emitted with its `TaskDefinitionArn` only, and the failure is logged with the
//! account, region and kind. (aws-v3 drops the whole page's details when the error is not
//! a not-found or access-denied one; here only the failed revision loses them.)

use aws_sdk_ecs::types::{TaskDefinitionField, TaskDefinitionStatus};
use serde_json::{Map, Value, json};

use super::{RawJson, declared, stamp};
use crate::aws::AwsError;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, Regions, Scope, item};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::ECS::TaskDefinition",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[
        Action {
            name: "ListTaskDefinitionsAction",
            iam: &["ecs:ListTaskDefinitions"],
            adds: &[],
            replaces: &[],
        },
        Action {
            name: "DescribeTaskDefinitionsAction",
            iam: &["ecs:DescribeTaskDefinition"],
            adds: &[],
            replaces: &[],
        },
    ],
    optional_actions: &[],
    fixture: Fixture {
        example: "ecs-task-definition",
        keys: &[
            "TaskDefinitionArn",
            "Family",
            "Revision",
            "Status",
            "ContainerDefinitions",
            "Cpu",
            "Memory",
            "NetworkMode",
            "RequiresCompatibilities",
            "Volumes",
            "PlacementConstraints",
            "Tags",
        ],
    },
};

/// aws-v3's declared keys, ECS's name and the `Properties` name, in its model's order.
/// `Tags` is not here: it comes from the response, not from the task definition.
const KEYS: &[(&str, &str)] = &[
    ("taskDefinitionArn", "TaskDefinitionArn"),
    ("family", "Family"),
    ("revision", "Revision"),
    ("status", "Status"),
    ("containerDefinitions", "ContainerDefinitions"),
    ("cpu", "Cpu"),
    ("memory", "Memory"),
    ("networkMode", "NetworkMode"),
    ("requiresCompatibilities", "RequiresCompatibilities"),
    ("taskRoleArn", "TaskRoleArn"),
    ("executionRoleArn", "ExecutionRoleArn"),
    ("volumes", "Volumes"),
    ("placementConstraints", "PlacementConstraints"),
];


async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let ecs = aws_sdk_ecs::Client::new(&ctx.sdk_config());
    let mut pages = ecs
        .list_task_definitions()
        .status(TaskDefinitionStatus::Active)
        .into_paginator()
        .send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("ecs:ListTaskDefinitions", &mut cursors, pages.next(), |p| {
            p.next_token()
        })
        .await?
    {
        let items: Vec<Value> = ctx
            .per_resource("ecs", page.task_definition_arns().to_vec(), |arn| {
                let (ctx, ecs) = (ctx.clone(), ecs.clone());
                async move {
                    let properties = describe(&ctx, &ecs, &arn).await.unwrap_or_else(|| {
                        // What `ListTaskDefinitionsAction` alone gives.
                        Map::from_iter([("TaskDefinitionArn".to_string(), json!(arn))])
                    });
                    item(KIND.name, properties, Some(ctx.extra_context()))
                }
            })
            .await;
        emit.send(items).await?;
    }
    Ok(())
}

/// The `Properties` of one task definition from `DescribeTaskDefinition`; `None`, logged,
/// when the call failed.
async fn describe(ctx: &ListCtx, ecs: &aws_sdk_ecs::Client, arn: &str) -> Option<Map<String, Value>> {
    ctx.pace("ecs").await;
    let raw = RawJson::default();
    let sent = ecs
        .describe_task_definition()
        .task_definition(arn)
        .include(TaskDefinitionField::Tags)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    if let Err(e) = sent {
        let e = AwsError::from_sdk("ecs:DescribeTaskDefinition", e);
        tracing::warn!(account = %ctx.account.id, region = %ctx.region, kind = KIND.name, task_definition = arn, error = %e, "could not describe the task definition: it is sent with its TaskDefinitionArn only, as aws-v3 does");
        return None;
    }
    let body = raw.take();
    let Some(definition) = body
        .as_ref()
        .and_then(|b| b.get("taskDefinition"))
        .and_then(Value::as_object)
    else {
        tracing::warn!(account = %ctx.account.id, region = %ctx.region, kind = KIND.name, task_definition = arn, "DescribeTaskDefinition answered no task definition: it is sent with its TaskDefinitionArn only");
        return None;
    };
    let mut p = declared(definition, KEYS);
    let tags = body
        .as_ref()
        .and_then(|b| b.get("tags"))
        .cloned()
        .unwrap_or_else(|| json!([]));
    p.insert("Tags".into(), tags);
    if let Some(at) = definition.get("registeredAt") {
        p.insert("RegisteredAt".into(), at.clone());
    }
    let mut p = Value::Object(p);
    stamp(&mut p, "RegisteredAt");
    match p {
        Value::Object(m) => Some(m),
        _ => None,
    }
}
