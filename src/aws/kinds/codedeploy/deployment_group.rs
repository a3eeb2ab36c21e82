//! `AWS::CodeDeploy::DeploymentGroup`: `codedeploy:ListApplications` (every page), then
//! `ListDeploymentGroups(applicationName)` (every page) per application, then
//! `BatchGetDeploymentGroups(applicationName, names)` per page of groups, in chunks of at
//! most 100 (aws-v3's default `GetDeploymentGroupDetailsAction`). The optional
//! `GetDeploymentGroupTags` adds `Tags` (`[{Key, Value}]`) from `ListTagsForResource` of
//! `arn:<partition>:codedeploy:<region>:<account>:deploymentgroup:<app>/<group>`, one call
//! per group.
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are its 24 declared keys that
//! CodeDeploy returned, PascalCase in the model's order (`Tags` between `ServiceRoleArn`
//! and `TargetRevision`), read from the answer's own JSON ([`RawJson`]) so nested values
//! keep CodeDeploy's camelCase; the nested deployment timestamps
//! (`LastAttemptedDeployment`/`LastSuccessfulDeployment` `createTime`, `endTime`), epoch
//! seconds on the wire, are RFC 3339. A member sent as `null` is absent. `__ExtraContext`
//! is `{AccountId, Region}`.
//!
//! A failed `ListTagsForResource` keeps the group without `Tags`, as aws-v3 does, logged
//! and counted ([`ListCtx::enrichment_failed`]). A failed `BatchGetDeploymentGroups` fails
//! the unit: aws-v3 builds a group's item from that call alone, so it would emit nothing
//! (or tags alone) for the batch, and groups that exist would look deleted to
//! reconciliation. A failed `ListApplications` or `ListDeploymentGroups` fails the unit.

use aws_sdk_codedeploy::Client;
use serde_json::{Map, Value};

use super::{BATCH, arn, objects, tags};
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, epoch_time,
    item,
};
use crate::pagination::Cursors;

const TAGS: Action = Action {
    name: "GetDeploymentGroupTags",
    iam: &["codedeploy:ListTagsForResource"],
    adds: &["Tags"],
    replaces: &[],
};

pub const KIND: Kind = Kind {
    name: "AWS::CodeDeploy::DeploymentGroup",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "GetDeploymentGroupDetailsAction",
        iam: &[
            "codedeploy:ListApplications",
            "codedeploy:ListDeploymentGroups",
            "codedeploy:BatchGetDeploymentGroups",
        ],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[TAGS],
    fixture: Fixture {
        example: "codedeploy-deployment-group",
        keys: &[
            "ApplicationName",
            "AutoScalingGroups",
            "ComputePlatform",
            "DeploymentConfigName",
            "DeploymentGroupId",
            "DeploymentGroupName",
            "DeploymentStyle",
            "Ec2TagFilters",
            "LastAttemptedDeployment",
            "OnPremisesInstanceTagFilters",
            "OutdatedInstancesStrategy",
            "ServiceRoleArn",
            "Tags",
            "TerminationHookEnabled",
            "TriggerConfigurations",
        ],
    },
};

/// aws-v3's declared keys, CodeDeploy's name and the `Properties` name, in its model's
/// order. `Tags` is not CodeDeploy's: [`properties`] puts `ListTagsForResource`'s there.
const KEYS: &[(&str, &str)] = &[
    ("alarmConfiguration", "AlarmConfiguration"),
    ("applicationName", "ApplicationName"),
    ("autoRollbackConfiguration", "AutoRollbackConfiguration"),
    ("autoScalingGroups", "AutoScalingGroups"),
    (
        "blueGreenDeploymentConfiguration",
        "BlueGreenDeploymentConfiguration",
    ),
    ("computePlatform", "ComputePlatform"),
    ("deploymentConfigName", "DeploymentConfigName"),
    ("deploymentGroupId", "DeploymentGroupId"),
    ("deploymentGroupName", "DeploymentGroupName"),
    ("deploymentStyle", "DeploymentStyle"),
    ("ec2TagFilters", "Ec2TagFilters"),
    ("ec2TagSet", "Ec2TagSet"),
    ("ecsServices", "EcsServices"),
    ("lastAttemptedDeployment", "LastAttemptedDeployment"),
    ("lastSuccessfulDeployment", "LastSuccessfulDeployment"),
    ("loadBalancerInfo", "LoadBalancerInfo"),
    ("onPremisesInstanceTagFilters", "OnPremisesInstanceTagFilters"),
    ("onPremisesTagSet", "OnPremisesTagSet"),
    ("outdatedInstancesStrategy", "OutdatedInstancesStrategy"),
    ("serviceRoleArn", "ServiceRoleArn"),
    ("Tags", "Tags"),
    ("targetRevision", "TargetRevision"),
    ("terminationHookEnabled", "TerminationHookEnabled"),
    ("triggerConfigurations", "TriggerConfigurations"),
];

/// The `LastDeploymentInfo` members holding epoch seconds on the wire.
const DEPLOYMENTS: &[&str] = &["LastAttemptedDeployment", "LastSuccessfulDeployment"];
const DEPLOYMENT_TIMES: &[&str] = &["createTime", "endTime"];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let codedeploy = Client::new(&ctx.sdk_config());
    let mut pages = codedeploy.list_applications().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page(
            "codedeploy:ListApplications",
            &mut cursors,
            pages.next(),
            |p| p.next_token(),
        )
        .await?
    {
        for application in page.applications() {
            list_groups(&ctx, &emit, &codedeploy, application).await?;
        }
    }
    Ok(())
}

/// Every deployment group of `application`, described page by page.
async fn list_groups(
    ctx: &ListCtx,
    emit: &Emit,
    codedeploy: &Client,
    application: &str,
) -> Result<(), AwsError> {
    let mut pages = codedeploy
        .list_deployment_groups()
        .application_name(application)
        .into_paginator()
        .send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page(
            "codedeploy:ListDeploymentGroups",
            &mut cursors,
            pages.next(),
            |p| p.next_token(),
        )
        .await?
    {
        for names in page.deployment_groups().chunks(BATCH) {
            ctx.pace("codedeploy").await;
            let raw = RawJson::default();
            codedeploy
                .batch_get_deployment_groups()
                .application_name(application)
                .set_deployment_group_names(Some(names.to_vec()))
                .customize()
                .interceptor(raw.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("codedeploy:BatchGetDeploymentGroups", e))?;
            let found = objects(
                raw.take(),
                "deploymentGroupsInfo",
                "codedeploy:BatchGetDeploymentGroups",
            )?;
            let items = if ctx.runs(&TAGS) {
                ctx.per_resource("codedeploy", found, |group| {
                    let (ctx, codedeploy) = (ctx.clone(), codedeploy.clone());
                    async move {
                        let name = group
                            .get("deploymentGroupName")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let arn = arn(&ctx, &format!("deploymentgroup:{application}/{name}"));
                        let tags = tags(&ctx, &codedeploy, KIND.name, &TAGS, &arn).await;
                        item(
                            KIND.name,
                            properties(group, tags),
                            Some(ctx.extra_context()),
                        )
                    }
                })
                .await
            } else {
                found
                    .into_iter()
                    .map(|g| item(KIND.name, properties(g, None), Some(ctx.extra_context())))
                    .collect()
            };
            emit.send(items).await?;
        }
    }
    Ok(())
}

/// aws-v3's `Properties` of one `DeploymentGroupInfo` (its JSON) and its tags, when asked
/// for and known.
fn properties(mut group: Map<String, Value>, tags: Option<Value>) -> Map<String, Value> {
    // CodeDeploy has no `Tags` member; one it might add is not the tags action's.
    group.remove("Tags");
    if let Some(tags) = tags {
        group.insert("Tags".into(), tags);
    }
    let mut p = declared_json(group, KEYS, &[]);
    for deployment in DEPLOYMENTS {
        if let Some(Value::Object(d)) = p.get_mut(*deployment) {
            for key in DEPLOYMENT_TIMES {
                if let Some(secs) = d.get(*key).and_then(Value::as_f64) {
                    d.insert((*key).into(), epoch_time(secs));
                }
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn declared_keys_in_model_order_tags_in_place_deployment_times_rfc3339_nulls_absent() {
        let Value::Object(group) = json!({
            "deploymentGroupName": "g", "applicationName": "a", "serviceRoleArn": "arn:r",
            "targetRevision": {"revisionType": "S3"}, "Tags": [{"Key": "not", "Value": "mine"}],
            "lastAttemptedDeployment": {"deploymentId": "d-1", "createTime": 1700000000.25,
                "endTime": 1700000001, "status": "Failed"},
            "lastSuccessfulDeployment": {"deploymentId": "d-0", "endTime": null},
            "loadBalancerInfo": null, "undeclared": 1,
        }) else {
            unreachable!()
        };
        let p = properties(group.clone(), Some(json!([{"Key": "team", "Value": "x"}])));
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            [
                "ApplicationName",
                "DeploymentGroupName",
                "LastAttemptedDeployment",
                "LastSuccessfulDeployment",
                "ServiceRoleArn",
                "Tags",
                "TargetRevision"
            ]
        );
        assert_eq!(p["Tags"], json!([{"Key": "team", "Value": "x"}]));
        assert_eq!(
            p["LastAttemptedDeployment"],
            json!({"deploymentId": "d-1", "createTime": "2023-11-14T22:13:20.250000Z",
                "endTime": "2023-11-14T22:13:21Z", "status": "Failed"})
        );
        assert_eq!(p["LastSuccessfulDeployment"], json!({"deploymentId": "d-0"}));
        assert!(!properties(group, None).contains_key("Tags"));
    }
}
