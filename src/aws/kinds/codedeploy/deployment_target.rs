//! `AWS::CodeDeploy::DeploymentTarget`: `codedeploy:ListDeployments` with no filter, every
//! page (the whole retained history, as aws-v3 lists it), then `ListDeploymentTargets`
//! (every page) per deployment, and `BatchGetDeploymentTargets(deploymentId, targetIds)` per
//! [`TARGET_BATCH`] targets (aws-v3's default `GetDeploymentTargetDetailsAction`). Each batch
//! is emitted as it is described, so a bound on the history is a stop in the page loop.
//!
//! `selector.maxAgeDays` asks `ListDeployments` for the deployments created since
//! (`createTimeRange`, CodeDeploy's own filter); `selector.maxItems` bounds the targets
//! listed per (account, region), newest deployment first, and no target past it is
//! described.
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are `DeploymentId` (the listed
//! deployment's id, injected as aws-v3 does) and the 5 declared keys of the target that
//! CodeDeploy returned, PascalCase in the model's order, read from the answer's own JSON
//! ([`RawJson`]) so nested values keep CodeDeploy's camelCase; each target's nested
//! timestamps (`lastUpdatedAt`, `lifecycleEvents[].startTime`/`endTime`), epoch seconds on
//! the wire, are RFC 3339. A member sent as `null` is absent. `__ExtraContext` is
//! `{AccountId, Region}`.
//!
//! A deployment whose `ListDeploymentTargets` answers `DeploymentNotStartedException` has
//! no targets yet: it is skipped with a warning, as aws-v3 skips it. Any other failed
//! `ListDeployments` or `ListDeploymentTargets` fails the unit; so does a failed
//! `BatchGetDeploymentTargets` (aws-v3 would emit nothing for the batch, so targets that
//! exist would look deleted to reconciliation).

use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::types::TimeRange;
use aws_smithy_types::DateTime;
use serde_json::{Map, Value, json};

use super::objects;
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, Window, declared_json,
    epoch_time, item,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::CodeDeploy::DeploymentTarget",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "GetDeploymentTargetDetailsAction",
        iam: &[
            "codedeploy:ListDeployments",
            "codedeploy:ListDeploymentTargets",
            "codedeploy:BatchGetDeploymentTargets",
        ],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[],
    fixture: Fixture {
        example: "codedeploy-deployment-target",
        keys: &["DeploymentId", "DeploymentTargetType", "InstanceTarget"],
    },
};

/// The most target ids `BatchGetDeploymentTargets` takes, and aws-v3's batch size.
const TARGET_BATCH: usize = 25;

/// aws-v3's declared keys, CodeDeploy's name and the `Properties` name, in its model's
/// order.
const KEYS: &[(&str, &str)] = &[
    ("deploymentId", "DeploymentId"),
    ("deploymentTargetType", "DeploymentTargetType"),
    ("instanceTarget", "InstanceTarget"),
    ("lambdaTarget", "LambdaTarget"),
    ("ecsTarget", "EcsTarget"),
    ("cloudFormationTarget", "CloudFormationTarget"),
];

/// The target members of the four target types, each with `lastUpdatedAt` and
/// `lifecycleEvents[].{startTime, endTime}` in epoch seconds on the wire.
const TARGETS: &[&str] = &[
    "InstanceTarget",
    "LambdaTarget",
    "EcsTarget",
    "CloudFormationTarget",
];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let codedeploy = Client::new(&ctx.sdk_config());
    let mut request = codedeploy.list_deployments();
    // `maxAgeDays`: CodeDeploy lists only the deployments created since (its own filter on
    // the deployment's `CreateTime`); `maxItems` counts targets ([`Window`]).
    if let Some(days) = ctx.history.and_then(|h| h.max_age_days) {
        let since = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
        request = request.create_time_range(
            TimeRange::builder()
                .start(DateTime::from_secs(since.timestamp()))
                .build(),
        );
    }
    let mut window = ctx.window();
    let mut pages = request.into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page(
            "codedeploy:ListDeployments",
            &mut cursors,
            pages.next(),
            |p| p.next_token(),
        )
        .await?
    {
        for deployment in page.deployments() {
            list_targets(&ctx, &emit, &codedeploy, deployment, &mut window).await?;
            if window.closed() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Every target of `deployment`, described [`TARGET_BATCH`] at a time and emitted batch by
/// batch, while `window` has room.
async fn list_targets(
    ctx: &ListCtx,
    emit: &Emit,
    codedeploy: &Client,
    deployment: &str,
    window: &mut Window,
) -> Result<(), AwsError> {
    let mut cursors = Cursors::default();
    let mut token: Option<String> = None;
    loop {
        ctx.pace("codedeploy").await;
        let page = match codedeploy
            .list_deployment_targets()
            .deployment_id(deployment)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("codedeploy:ListDeploymentTargets", e))
        {
            Ok(page) => page,
            Err(e) if e.code() == Some("DeploymentNotStartedException") => {
                tracing::warn!(
                    account = %ctx.account.id,
                    region = %ctx.region,
                    kind = KIND.name,
                    deployment,
                    "the deployment has not started, so it has no targets to list"
                );
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        // No `BatchGetDeploymentTargets` for targets past `maxItems`.
        let room = window.room(page.target_ids().len());
        for ids in page.target_ids()[..room].chunks(TARGET_BATCH) {
            ctx.pace("codedeploy").await;
            let raw = RawJson::default();
            codedeploy
                .batch_get_deployment_targets()
                .deployment_id(deployment)
                .set_target_ids(Some(ids.to_vec()))
                .customize()
                .interceptor(raw.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("codedeploy:BatchGetDeploymentTargets", e))?;
            let items = objects(
                raw.take(),
                "deploymentTargets",
                "codedeploy:BatchGetDeploymentTargets",
            )?
            .into_iter()
            .map(|t| {
                item(
                    KIND.name,
                    properties(deployment, t),
                    Some(ctx.extra_context()),
                )
            })
            .collect();
            // Counted only: the age bound is CodeDeploy's filter, and targets have no
            // `CreateTime`.
            emit.send(window.admit(items, "CreateTime")).await?;
        }
        if window.closed() {
            return Ok(());
        }
        token = cursors
            .next(page.next_token())
            .map_err(|e| AwsError::other("codedeploy:ListDeploymentTargets", e.to_string()))?;
        if token.is_none() {
            return Ok(());
        }
    }
}

/// aws-v3's `Properties` of one `DeploymentTarget` (its JSON) of `deployment`.
fn properties(deployment: &str, mut target: Map<String, Value>) -> Map<String, Value> {
    target.insert("deploymentId".into(), json!(deployment));
    let mut p = declared_json(target, KEYS, &[]);
    for key in TARGETS {
        if let Some(Value::Object(t)) = p.get_mut(*key) {
            stamp(t.get_mut("lastUpdatedAt"));
            if let Some(Value::Array(events)) = t.get_mut("lifecycleEvents") {
                for event in events.iter_mut().filter_map(Value::as_object_mut) {
                    stamp(event.get_mut("startTime"));
                    stamp(event.get_mut("endTime"));
                }
            }
        }
    }
    p
}

/// Epoch seconds become RFC 3339 as aws-v3 writes datetimes; anything else is left alone.
fn stamp(value: Option<&mut Value>) {
    if let Some(v) = value
        && let Some(secs) = v.as_f64()
    {
        *v = epoch_time(secs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_id_first_targets_in_model_order_nested_times_rfc3339_nulls_absent() {
        let Value::Object(target) = json!({
            "deploymentTargetType": "InstanceTarget", "undeclared": 1,
            "instanceTarget": {"targetId": "i-1", "lastUpdatedAt": 1700000000.25,
                "lifecycleEvents": [{"lifecycleEventName": "ApplicationStop",
                    "diagnostics": null, "startTime": 1700000000, "endTime": 1700000001.5}]},
            "lambdaTarget": null,
        }) else {
            unreachable!()
        };
        let p = properties("d-1", target);
        assert_eq!(
            Value::Object(p.clone()),
            json!({
                "DeploymentId": "d-1", "DeploymentTargetType": "InstanceTarget",
                "InstanceTarget": {"targetId": "i-1",
                    "lastUpdatedAt": "2023-11-14T22:13:20.250000Z",
                    "lifecycleEvents": [{"lifecycleEventName": "ApplicationStop",
                        "startTime": "2023-11-14T22:13:20Z",
                        "endTime": "2023-11-14T22:13:21.500000Z"}]},
            })
        );
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            ["DeploymentId", "DeploymentTargetType", "InstanceTarget"]
        );
    }
}
