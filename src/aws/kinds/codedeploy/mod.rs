//! CodeDeploy kinds, and what they share.
//!
//! CodeDeploy is a JSON service: its kinds read each answer's own JSON
//! ([`RawJson`](super::RawJson)), since aws-v3 declares the nested values `dict[str, Any]`
//! and passes them through as botocore parses them (camelCase, `null` members dropped,
//! timestamps as datetimes). Applications and deployment groups are described one call per
//! batch of at most [`BATCH`] names (`BatchGetApplications`, `BatchGetDeploymentGroups`), and
//! their tags come from `ListTagsForResource` of an ARN built from the names, one call per
//! resource ([`tags`]), as aws-v3 does. Deployments (`GetDeployment`, one call per
//! deployment) and their targets (`BatchGetDeploymentTargets`, 25 at a time) come from the
//! whole `ListDeployments` history, as aws-v3 lists it.

use aws_sdk_codedeploy::Client;
use serde_json::Value;

use super::{Action, ListCtx, RawJson, batch_objects as objects, drop_nulls};
use crate::aws::AwsError;

kinds![application, deployment_group, deployment, deployment_target];

/// The most names `BatchGetApplications` and `BatchGetDeploymentGroups` take: a listing
/// page (≤100 on AWS, which aws-v3 describes whole) is described in chunks of this size.
const BATCH: usize = 100;

/// The ARN of a CodeDeploy `resource` (`application:<name>`,
/// `deploymentgroup:<app>/<group>`) of the listed account and region, as aws-v3 builds it.
fn arn(ctx: &ListCtx, resource: &str) -> String {
    format!(
        "arn:{}:codedeploy:{}:{}:{resource}",
        ctx.partition.as_str(),
        ctx.region,
        ctx.account.id
    )
}

/// `ListTagsForResource` of `arn`, `kind`'s `action`: the `Tags` CodeDeploy sent
/// (`[{Key, Value}]`, one call as aws-v3 makes: a resource holds at most 50 tags). `None`
/// when it sent none, or when the call failed: logged and counted, and the item is kept
/// without `Tags`, as aws-v3 keeps it.
async fn tags(
    ctx: &ListCtx,
    codedeploy: &Client,
    kind: &'static str,
    action: &Action,
    arn: &str,
) -> Option<Value> {
    ctx.pace("codedeploy").await;
    let raw = RawJson::default();
    let sent = codedeploy
        .list_tags_for_resource()
        .resource_arn(arn)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    let error = match (sent, raw.take()) {
        (Ok(_), Some(Value::Object(mut answer))) => {
            let mut tags = answer.remove("Tags").filter(|t| !t.is_null())?;
            drop_nulls(&mut tags);
            return Some(tags);
        }
        (Ok(_), _) => AwsError::other(
            "codedeploy:ListTagsForResource",
            "the answer has no JSON object",
        ),
        (Err(e), _) => AwsError::from_sdk("codedeploy:ListTagsForResource", e),
    };
    ctx.enrichment_failed(kind, action, arn, &error);
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_batch_answer_without_its_list_is_an_error_not_an_empty_batch() {
        let ok = objects(
            Some(json!({"applicationsInfo": [{"applicationName": "a"}, 3]})),
            "applicationsInfo",
            "x:Y",
        )
        .unwrap();
        assert_eq!(ok.len(), 1);
        assert!(objects(Some(json!({})), "applicationsInfo", "x:Y").is_err());
        assert!(objects(None, "applicationsInfo", "x:Y").is_err());
    }
}
