//! `AWS::ECR::Repository`: `ecr:DescribeRepositories` (every page) as aws-v3's
//! `DescribeRepositoriesAction`; with `ListTagsForResourceAction`,
//! `ListTagsForResource(resourceArn)` per repository, [`TAGS_CONCURRENCY`] at once per
//! (account, region), its `tags` list as `Tags` (`[{Key, Value}]`, as AWS sends it).
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are the declared keys AWS returned
//! ([`KEYS`], ECR's camelCase renamed PascalCase, in the model's order), read from the
//! response's own JSON ([`RawJson`]) so nested values keep ECR's casing
//! (`ImageScanningConfiguration: {scanOnPush}`, `EncryptionConfiguration: {encryptionType}`;
//! aws-v3 declares them `dict[str, Any]`, although its shipped example shows them
//! PascalCase: the code wins). `CreatedAt`, epoch seconds on the wire, is RFC 3339.
//! `__ExtraContext` is `{AccountId, Region}`.
//!
//! A failed `ListTagsForResource` leaves `Tags` out for that repository and keeps the item,
//! as aws-v3 does; it is logged and counted ([`ListCtx::enrichment_failed`]). A failed
//! `DescribeRepositories` fails the unit.

use futures::StreamExt;
use serde_json::{Map, Value};

use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, item,
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
    }],
    optional_actions: &[TAGS],
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
};

/// aws-v3's declared keys that `DescribeRepositories` and `ListTagsForResource` fill, ECR's
/// name and the `Properties` name, in its model's order (`LifecyclePolicy` and
/// `RepositoryPolicyText` belong to actions not implemented here).
const KEYS: &[(&str, &str)] = &[
    ("repositoryName", "RepositoryName"),
    ("repositoryArn", "RepositoryArn"),
    ("repositoryUri", "RepositoryUri"),
    ("registryId", "RegistryId"),
    ("createdAt", "CreatedAt"),
    ("imageTagMutability", "ImageTagMutability"),
    ("imageScanningConfiguration", "ImageScanningConfiguration"),
    ("encryptionConfiguration", "EncryptionConfiguration"),
    ("tags", "Tags"),
];

/// Repositories whose tags are asked at once per (account, region).
const TAGS_CONCURRENCY: usize = 8;

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
        let repositories = match raw.take().as_mut().and_then(|b| b.get_mut("repositories")) {
            Some(Value::Array(repositories)) => std::mem::take(repositories),
            Some(_) | None if page.repositories().is_empty() => Vec::new(),
            // A page we cannot read must not pass for an empty one.
            _ => {
                return Err(AwsError::other(
                    "ecr:DescribeRepositories",
                    "the answer has repositories but no readable JSON body",
                ));
            }
        };
        let items: Vec<Value> = futures::stream::iter(repositories)
            .map(|repository| {
                let (ctx, ecr) = (ctx.clone(), ecr.clone());
                async move {
                    let tags = match repository.get("repositoryArn").and_then(Value::as_str) {
                        Some(arn) if ctx.runs(&TAGS) => tags(&ctx, &ecr, arn).await,
                        _ => None,
                    };
                    item(
                        KIND.name,
                        properties(repository, tags),
                        Some(ctx.extra_context()),
                    )
                }
            })
            .buffered(TAGS_CONCURRENCY)
            .collect()
            .await;
        emit.send(items).await?;
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(()),
        }
    }
}

/// `ListTagsForResource` of one repository: its `tags` list as AWS sent it; `None`, logged
/// and counted, when the call failed.
async fn tags(ctx: &ListCtx, ecr: &aws_sdk_ecr::Client, arn: &str) -> Option<Value> {
    ctx.pace("ecr").await;
    let raw = RawJson::default();
    let sent = ecr
        .list_tags_for_resource()
        .resource_arn(arn)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    let error = match sent {
        Ok(_) => match raw.take().as_mut().and_then(|b| b.get_mut("tags")) {
            Some(tags @ Value::Array(_)) => return Some(tags.take()),
            // botocore would raise on the missing key: aws-v3 sets no `Tags`.
            _ => AwsError::other("ecr:ListTagsForResource", "the answer has no tags list"),
        },
        Err(e) => AwsError::from_sdk("ecr:ListTagsForResource", e),
    };
    ctx.enrichment_failed(KIND.name, &TAGS, arn, &error);
    None
}

/// aws-v3's `Properties` of one repository (its JSON) and its tags, when asked for and got.
fn properties(repository: Value, tags: Option<Value>) -> Map<String, Value> {
    let Value::Object(mut repository) = repository else {
        return Map::new();
    };
    if let Some(tags) = tags {
        repository.insert("tags".into(), tags);
    }
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
        let p = properties(repository, Some(json!([{"Key": "team", "Value": "core"}])));
        assert_eq!(
            Value::Object(p.clone()),
            json!({"RepositoryName": "r", "RepositoryArn": "arn",
                "CreatedAt": "2023-11-14T22:13:20.5Z",
                "ImageScanningConfiguration": {"scanOnPush": true},
                "Tags": [{"Key": "team", "Value": "core"}]})
        );
        let order: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(
            order,
            ["RepositoryName", "RepositoryArn", "CreatedAt", "ImageScanningConfiguration", "Tags"]
        );
        assert!(properties(json!({"repositoryName": "r"}), None).get("Tags").is_none());
    }
}
