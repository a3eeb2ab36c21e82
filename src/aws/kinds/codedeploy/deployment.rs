//! `AWS::CodeDeploy::Deployment`: `codedeploy:ListDeployments` with no filter, every page
//! (the whole retained history, as aws-v3 lists it), then `GetDeployment` per deployment
//! (aws-v3's default `GetDeploymentAction`, one call per id), with at most
//! [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) at once per account. Each
//! page is emitted as it is described, so a bound on the history (an age or a count) is a
//! stop in the page loop.
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are its 31 declared keys present,
//! PascalCase in the model's order, read from the answer's own JSON ([`RawJson`]) so nested
//! values keep CodeDeploy's camelCase; `CreateTime`, `StartTime` and `CompleteTime`, epoch
//! seconds on the wire, are RFC 3339. A member sent as `null` is absent. `DeploymentId` is
//! the listed id (aws-v3's `ListDeploymentsAction`). `__ExtraContext` is
//! `{AccountId, Region}`.
//!
//! A failed `GetDeployment` keeps the deployment as `{DeploymentId}`, as aws-v3 does,
//! logged and counted ([`ListCtx::enrichment_failed`]). A failed `ListDeployments` fails the
//! unit.

use aws_sdk_codedeploy::Client;
use serde_json::{Map, Value, json};

use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, item,
};
use crate::pagination::Cursors;

const GET: Action = Action {
    name: "GetDeploymentAction",
    iam: &["codedeploy:ListDeployments", "codedeploy:GetDeployment"],
    adds: &[],
    replaces: &[],
};

pub const KIND: Kind = Kind {
    name: "AWS::CodeDeploy::Deployment",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[
        GET,
        Action {
            name: "ListDeploymentsAction",
            iam: &["codedeploy:ListDeployments"],
            adds: &[],
            replaces: &[],
        },
    ],
    optional_actions: &[],
    fixture: Fixture {
        example: "codedeploy-deployment",
        keys: &[
            "ApplicationName",
            "CreateTime",
            "Creator",
            "DeploymentGroupName",
            "DeploymentId",
            "DeploymentOverview",
            "FileExistsBehavior",
            "IgnoreApplicationStopFailures",
            "InstanceTerminationWaitTimeStarted",
            "Revision",
            "Status",
            "UpdateOutdatedInstancesOnly",
        ],
    },
};

/// aws-v3's declared keys, CodeDeploy's name and the `Properties` name, in its model's
/// order.
const KEYS: &[(&str, &str)] = &[
    (
        "additionalDeploymentStatusInfo",
        "AdditionalDeploymentStatusInfo",
    ),
    ("applicationName", "ApplicationName"),
    ("autoRollbackConfiguration", "AutoRollbackConfiguration"),
    (
        "blueGreenDeploymentConfiguration",
        "BlueGreenDeploymentConfiguration",
    ),
    ("completeTime", "CompleteTime"),
    ("computePlatform", "ComputePlatform"),
    ("createTime", "CreateTime"),
    ("creator", "Creator"),
    ("deploymentConfigName", "DeploymentConfigName"),
    ("deploymentGroupName", "DeploymentGroupName"),
    ("deploymentId", "DeploymentId"),
    ("deploymentOverview", "DeploymentOverview"),
    ("deploymentStatusMessages", "DeploymentStatusMessages"),
    ("deploymentStyle", "DeploymentStyle"),
    ("description", "Description"),
    ("errorInformation", "ErrorInformation"),
    ("externalId", "ExternalId"),
    ("fileExistsBehavior", "FileExistsBehavior"),
    (
        "ignoreApplicationStopFailures",
        "IgnoreApplicationStopFailures",
    ),
    (
        "instanceTerminationWaitTimeStarted",
        "InstanceTerminationWaitTimeStarted",
    ),
    ("loadBalancerInfo", "LoadBalancerInfo"),
    ("overrideAlarmConfiguration", "OverrideAlarmConfiguration"),
    ("previousRevision", "PreviousRevision"),
    ("relatedDeployments", "RelatedDeployments"),
    ("revision", "Revision"),
    ("rollbackInfo", "RollbackInfo"),
    ("startTime", "StartTime"),
    ("status", "Status"),
    ("targetInstances", "TargetInstances"),
    ("updateOutdatedInstancesOnly", "UpdateOutdatedInstancesOnly"),
];

/// The `DeploymentInfo` members holding epoch seconds on the wire.
const EPOCH: &[&str] = &["completeTime", "createTime", "startTime"];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let codedeploy = Client::new(&ctx.sdk_config());
    let mut pages = codedeploy.list_deployments().into_paginator().send();
    let mut cursors = Cursors::default();
    // `maxAgeDays`/`maxItems`: the window of this (account, region), newest first.
    let mut window = ctx.window();
    while let Some(page) = ctx
        .next_page(
            "codedeploy:ListDeployments",
            &mut cursors,
            pages.next(),
            |p| p.next_token(),
        )
        .await?
    {
        let items = ctx
            .per_resource("codedeploy", &page.deployments()[..window.room(page.deployments().len())], |id| {
                let (ctx, codedeploy) = (ctx.clone(), codedeploy.clone());
                async move {
                    let got = get(&ctx, &codedeploy, id).await;
                    item(KIND.name, properties(id, got), Some(ctx.extra_context()))
                }
            })
            .await;
        emit.send(window.admit(items, "CreateTime")).await?;
        if window.closed() {
            break;
        }
    }
    Ok(())
}

/// `GetDeployment` of one deployment: its `deploymentInfo`; `None`, logged and counted,
/// when the call failed.
async fn get(ctx: &ListCtx, codedeploy: &Client, id: &str) -> Option<Map<String, Value>> {
    ctx.pace("codedeploy").await;
    let raw = RawJson::default();
    let sent = codedeploy
        .get_deployment()
        .deployment_id(id)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    let error = match (sent, raw.take()) {
        (Ok(_), Some(mut answer)) => match answer.get_mut("deploymentInfo").map(Value::take) {
            Some(Value::Object(info)) => return Some(info),
            _ => AwsError::other(
                "codedeploy:GetDeployment",
                "the answer has no `deploymentInfo` object",
            ),
        },
        (Ok(_), None) => AwsError::other("codedeploy:GetDeployment", "the answer is not JSON"),
        (Err(e), _) => AwsError::from_sdk("codedeploy:GetDeployment", e),
    };
    ctx.enrichment_failed(KIND.name, &GET, id, &error);
    None
}

/// aws-v3's `Properties` of the listed deployment `id` and its `deploymentInfo`, when
/// `GetDeployment` gave it (the listed id over the answer's, as aws-v3 merges them).
fn properties(id: &str, info: Option<Map<String, Value>>) -> Map<String, Value> {
    let mut info = info.unwrap_or_default();
    info.insert("deploymentId".into(), json!(id));
    declared_json(info, KEYS, EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_keys_in_model_order_times_rfc3339_nulls_absent_listed_id_kept() {
        let Value::Object(info) = json!({
            "status": "Succeeded", "deploymentId": "d-OTHER", "createTime": 1700000000.25,
            "startTime": 1700000001, "completeTime": null, "applicationName": "a",
            "revision": {"revisionType": "S3", "s3Location": {"bucket": "b", "eTag": null}},
            "undeclared": 1,
        }) else {
            unreachable!()
        };
        let p = properties("d-1", Some(info));
        assert_eq!(
            Value::Object(p.clone()),
            json!({
                "ApplicationName": "a", "CreateTime": "2023-11-14T22:13:20.250000Z",
                "DeploymentId": "d-1",
                "Revision": {"revisionType": "S3", "s3Location": {"bucket": "b"}},
                "StartTime": "2023-11-14T22:13:21Z", "Status": "Succeeded",
            })
        );
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            [
                "ApplicationName",
                "CreateTime",
                "DeploymentId",
                "Revision",
                "StartTime",
                "Status"
            ]
        );
        assert_eq!(
            Value::Object(properties("d-2", None)),
            json!({"DeploymentId": "d-2"})
        );
    }
}
