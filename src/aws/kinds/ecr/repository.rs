//! `AWS::ECR::Repository`: `ecr:DescribeRepositories` (every page) as aws-v3's
//! `DescribeRepositoriesAction`, and per repository, [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) repositories at
//! once per (account, service), the optional actions asked for:
//! - `ListTagsForResourceAction` ([`TAGS`]): `ListTagsForResource(resourceArn)`, its `tags`
//!   list as `Tags` (`[{Key, Value}]`, as AWS sends it);
//! - `GetRepositoryPolicyAction` ([`POLICY`]): `GetRepositoryPolicy(repositoryName)`, its
//!   `policyText` as `RepositoryPolicyText` (a JSON document in a string, as AWS sends it);
//! - `GetLifecyclePolicyAction` ([`LIFECYCLE`]): `GetLifecyclePolicy(repositoryName)`, the
//!   whole answer as `LifecyclePolicy`, as aws-v3 stores botocore's response:
//!   `{registryId, repositoryName, lifecyclePolicyText, lastEvaluatedAt, ResponseMetadata}`
//!   (`lastEvaluatedAt` RFC 3339; `ResponseMetadata` as botocore builds it, see
//!   [`RawJson::response_metadata`]).
//!
//! A repository without a policy (`RepositoryPolicyNotFoundException`,
//! `LifecyclePolicyNotFoundException`) simply has no such key, as in aws-v3, and is not a
//! failure.
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are the declared keys AWS returned
//! ([`KEYS`], ECR's camelCase renamed PascalCase, in the model's order), read from the
//! response's own JSON ([`RawJson`]) so nested values keep ECR's casing
//! (`ImageScanningConfiguration: {scanOnPush}`, `EncryptionConfiguration: {encryptionType}`;
//! aws-v3 declares them `dict[str, Any]`, although its shipped example shows them
//! PascalCase: the code wins). `CreatedAt`, epoch seconds on the wire, is RFC 3339.
//! `__ExtraContext` is `{AccountId, Region}`.
//!
//! Any other failed enrichment call leaves its key out for that repository and keeps the
//! item, as aws-v3 does for not-found and denied calls; it is logged and counted
//! ([`ListCtx::enrichment_failed`]). (aws-v3 fails the whole page on other errors; one
//! repository losing a key is the smaller loss.) A failed `DescribeRepositories` fails the
//! unit.

use std::future::Future;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Map, Value};

use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, drop_nulls,
    epoch_time, item,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::ECR::Repository",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "DescribeRepositoriesAction",
        iam: &["ecr:DescribeRepositories"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[TAGS, POLICY, LIFECYCLE],
    fixture: Fixture {
        example: "ecr-repository",
        keys: &[
            "RepositoryName",
            "RepositoryArn",
            "RegistryId",
            "RepositoryUri",
            "CreatedAt",
            "ImageTagMutability",
            "ImageScanningConfiguration",
            "EncryptionConfiguration",
        ],
    },
};

/// `ListTagsForResourceAction`: `Tags`, the repository's tags as `[{Key, Value}]`.
const TAGS: Action = Action {
    name: "ListTagsForResourceAction",
    iam: &["ecr:ListTagsForResource"],
    adds: &["Tags"],
    replaces: &[],
};

/// `GetRepositoryPolicyAction`: `RepositoryPolicyText`, the policy document (a string).
const POLICY: Action = Action {
    name: "GetRepositoryPolicyAction",
    iam: &["ecr:GetRepositoryPolicy"],
    adds: &["RepositoryPolicyText"],
    replaces: &[],
};

/// `GetLifecyclePolicyAction`: `LifecyclePolicy`, the whole `GetLifecyclePolicy` answer.
const LIFECYCLE: Action = Action {
    name: "GetLifecyclePolicyAction",
    iam: &["ecr:GetLifecyclePolicy"],
    adds: &["LifecyclePolicy"],
    replaces: &[],
};

/// aws-v3's declared keys, ECR's name (or the name an action's result is stored under) and
/// the `Properties` name, in its model's order.
const KEYS: &[(&str, &str)] = &[
    ("repositoryName", "RepositoryName"),
    ("repositoryArn", "RepositoryArn"),
    ("repositoryUri", "RepositoryUri"),
    ("registryId", "RegistryId"),
    ("createdAt", "CreatedAt"),
    ("imageTagMutability", "ImageTagMutability"),
    ("imageScanningConfiguration", "ImageScanningConfiguration"),
    ("encryptionConfiguration", "EncryptionConfiguration"),
    ("lifecyclePolicy", "LifecyclePolicy"),
    ("repositoryPolicyText", "RepositoryPolicyText"),
    ("tags", "Tags"),
];


async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let ecr = aws_sdk_ecr::Client::new(&ctx.sdk_config());
    let mut token: Option<String> = None;
    let mut cursors = Cursors::default();
    loop {
        // One call at a time, each with its own body catcher (the SDK's paginator cannot
        // take an interceptor per call).
        let raw = RawJson::default();
        let call = ecr
            .describe_repositories()
            .set_next_token(token.take())
            .customize()
            .interceptor(raw.clone())
            .send();
        let Some(page) = ctx
            .next_page(
                "ecr:DescribeRepositories",
                &mut cursors,
                async { Some(call.await) },
                |p| p.next_token(),
            )
            .await?
        else {
            return Ok(());
        };
        let repositories = raw.items("repositories", page.repositories().is_empty(), "ecr:DescribeRepositories")?;
        let items: Vec<Value> = ctx
            .per_resource("ecr", repositories, |repository| {
                let (ctx, ecr) = (ctx.clone(), ecr.clone());
                async move {
                    let enrichment = enrich(&ctx, &ecr, &repository).await;
                    item(
                        KIND.name,
                        properties(repository, enrichment),
                        Some(ctx.extra_context()),
                    )
                }
            })
            .await;
        emit.send(items).await?;
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(()),
        }
    }
}

/// What the optional actions asked for add to one repository, under the keys [`KEYS`] reads
/// them from; run together.
async fn enrich(ctx: &ListCtx, ecr: &aws_sdk_ecr::Client, repository: &Value) -> Map<String, Value> {
    let name = repository.get("repositoryName").and_then(Value::as_str);
    let arn = repository.get("repositoryArn").and_then(Value::as_str);
    let tags = async {
        let arn = arn.filter(|_| ctx.runs(&TAGS))?;
        let raw = RawJson::default();
        let call = ecr
            .list_tags_for_resource()
            .resource_arn(arn)
            .customize()
            .interceptor(raw.clone())
            .send();
        let body = called(ctx, &TAGS, "ecr:ListTagsForResource", arn, &raw, call).await?;
        // botocore would raise on a missing key: aws-v3 sets no `Tags`.
        let tags = body.get("tags").filter(|t| t.is_array()).cloned();
        if tags.is_none() {
            let e = AwsError::other("ecr:ListTagsForResource", "the answer has no tags list");
            ctx.enrichment_failed(KIND.name, &TAGS, arn, &e);
        }
        tags
    };
    let policy = async {
        let name = name.filter(|_| ctx.runs(&POLICY))?;
        let raw = RawJson::default();
        let call = ecr
            .get_repository_policy()
            .repository_name(name)
            .customize()
            .interceptor(raw.clone())
            .send();
        let body = called(ctx, &POLICY, "ecr:GetRepositoryPolicy", name, &raw, call).await?;
        body.get("policyText").filter(|t| t.is_string()).cloned()
    };
    let lifecycle = async {
        let name = name.filter(|_| ctx.runs(&LIFECYCLE))?;
        let raw = RawJson::default();
        let call = ecr
            .get_lifecycle_policy()
            .repository_name(name)
            .customize()
            .interceptor(raw.clone())
            .send();
        let body = called(ctx, &LIFECYCLE, "ecr:GetLifecyclePolicy", name, &raw, call).await?;
        Some(lifecycle_policy(body, raw.response_metadata()))
    };
    let (tags, policy, lifecycle) = futures::join!(tags, policy, lifecycle);
    [("tags", tags), ("repositoryPolicyText", policy), ("lifecyclePolicy", lifecycle)]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect()
}

/// One enrichment call of `action` for `resource`: the answer's JSON body. `None` when the
/// resource has no such thing (ECR's `…NotFoundException`, not a failure, as in aws-v3) or
/// the call failed (logged and counted).
async fn called<T>(
    ctx: &ListCtx,
    action: &Action,
    operation: &'static str,
    resource: &str,
    raw: &RawJson,
    call: impl Future<Output = Result<T, SdkError<impl ProvideErrorMetadata + std::error::Error + Send + Sync + 'static, HttpResponse>>>,
) -> Option<Value> {
    ctx.pace("ecr").await;
    let error = match call.await {
        Ok(_) => match raw.take() {
            Some(body @ Value::Object(_)) => return Some(body),
            _ => AwsError::other(operation, "the answer has no readable JSON body"),
        },
        Err(e) if e.code().is_some_and(|c| c.ends_with("NotFoundException")) => {
            tracing::debug!(account = %ctx.account.id, region = %ctx.region, kind = KIND.name, action = action.name, resource, "nothing to add: {}", e.code().unwrap_or_default());
            return None;
        }
        Err(e) => AwsError::from_sdk(operation, e),
    };
    ctx.enrichment_failed(KIND.name, action, resource, &error);
    None
}

/// `GetLifecyclePolicy`'s answer as botocore gives it to aws-v3: its members, nulls left
/// out, `lastEvaluatedAt` (epoch seconds on the wire) as RFC 3339, and `ResponseMetadata`.
fn lifecycle_policy(mut body: Value, metadata: Value) -> Value {
    drop_nulls(&mut body);
    if let Value::Object(m) = &mut body {
        if let Some(at) = m.get_mut("lastEvaluatedAt")
            && let Some(secs) = at.as_f64()
        {
            *at = epoch_time(secs);
        }
        m.insert("ResponseMetadata".into(), metadata);
    }
    body
}

/// aws-v3's `Properties` of one repository (its JSON) and what its actions added.
fn properties(repository: Value, enrichment: Map<String, Value>) -> Map<String, Value> {
    let Value::Object(mut repository) = repository else {
        return Map::new();
    };
    repository.extend(enrichment);
    declared_json(repository, KEYS, &["createdAt"])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn declared_keys_renamed_in_model_order_nested_casing_kept_and_epoch_as_rfc3339() {
        let repository = json!({
            "repositoryArn": "arn", "repositoryName": "r", "createdAt": 1700000000.5,
            "imageScanningConfiguration": {"scanOnPush": true},
            "imageTagMutabilityExclusionFilters": [], "registryId": null,
        });
        let tags = json!({"tags": [{"Key": "team", "Value": "core"}]});
        let p = properties(repository, tags.as_object().unwrap().clone());
        assert_eq!(
            Value::Object(p.clone()),
            json!({"RepositoryName": "r", "RepositoryArn": "arn",
                "CreatedAt": "2023-11-14T22:13:20.500000Z",
                "ImageScanningConfiguration": {"scanOnPush": true},
                "Tags": [{"Key": "team", "Value": "core"}]})
        );
        let order: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(
            order,
            ["RepositoryName", "RepositoryArn", "CreatedAt", "ImageScanningConfiguration", "Tags"]
        );
        assert!(properties(json!({"repositoryName": "r"}), Map::new()).get("Tags").is_none());
    }
}
