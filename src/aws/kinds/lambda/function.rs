//! `AWS::Lambda::Function`: `lambda:ListFunctions` (every page, `$LATEST` of each function)
//! as aws-v3's `ListFunctionsAction`; with `ListTagsAction`, `ListTags(Resource=arn)` per
//! function, [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) at once per (account, service), its map as `Tags`.
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are the declared keys AWS returned
//! ([`KEYS`], the model's order), read from the response's own JSON ([`RawJson`]) so nested
//! values (`Environment`, `VpcConfig`, `Layers`, …) stay exactly as AWS sent them. Lambda's
//! wire names are already PascalCase; the KMS key is `KMSKeyArn` (aws-v3's alias, which its
//! dump writes, although its shipped example shows `KmsKeyArn`). A member AWS sent as
//! `null` is absent, as botocore drops it before aws-v3 sees the response. `LastModified`
//! is Lambda's own string (`2024-01-01T00:00:00.000+0000`), passed as it is.
//! `__ExtraContext` is `{AccountId, Region}`.
//!
//! A failed `ListTags` leaves `Tags` out for that function and keeps the item (aws-v3 does
//! the same for AWS's recoverable errors, and drops the whole page's tags for the others);
//! it is logged and counted ([`ListCtx::enrichment_failed`]). A failed `ListFunctions`
//! fails the unit.

use serde_json::{Map, Value};

use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, drop_nulls, item,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::Lambda::Function",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "ListFunctionsAction",
        iam: &["lambda:ListFunctions"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[TAGS],
    fixture: Fixture {
        example: "lambda-function",
        keys: &[
            "FunctionName",
            "FunctionArn",
            "Runtime",
            "Handler",
            "MemorySize",
            "Timeout",
            "Role",
            "CodeSha256",
            "CodeSize",
            "Description",
            "LastModified",
            "Version",
            "PackageType",
            "Architectures",
            "EphemeralStorage",
            "Environment",
        ],
    },
};

/// `ListTagsAction`: `Tags`, the function's tags as a map (`{}` when it has none).
const TAGS: Action = Action {
    name: "ListTagsAction",
    iam: &["lambda:ListTags"],
    adds: &["Tags"],
    replaces: &[],
};

/// aws-v3's declared keys, in its model's order. `Tags` comes from `ListTags`.
const KEYS: &[&str] = &[
    "Architectures",
    "CodeSha256",
    "CodeSize",
    "DeadLetterConfig",
    "Description",
    "Environment",
    "EphemeralStorage",
    "FileSystemConfigs",
    "FunctionArn",
    "FunctionName",
    "Handler",
    "ImageConfigResponse",
    "KMSKeyArn",
    "LastModified",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
    "Layers",
    "LoggingConfig",
    "MasterArn",
    "MemorySize",
    "PackageType",
    "RevisionId",
    "Role",
    "Runtime",
    "RuntimeVersionConfig",
    "SigningJobArn",
    "SigningProfileVersionArn",
    "SnapStart",
    "State",
    "StateReason",
    "StateReasonCode",
    "Tags",
    "Timeout",
    "TracingConfig",
    "Version",
    "VpcConfig",
];


async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk_config());
    let mut marker: Option<String> = None;
    let mut cursors = Cursors::default();
    loop {
        // One call at a time, each with its own body catcher (the SDK's paginator cannot
        // take an interceptor per call).
        let raw = RawJson::default();
        let call = lambda
            .list_functions()
            .set_marker(marker.take())
            .customize()
            .interceptor(raw.clone())
            .send();
        let Some(page) = ctx
            .next_page("lambda:ListFunctions", &mut cursors, async { Some(call.await) }, |p| {
                p.next_marker()
            })
            .await?
        else {
            return Ok(());
        };
        let functions = raw.items("Functions", page.functions().is_empty(), "lambda:ListFunctions")?;
        let items: Vec<Value> = ctx
            .per_resource("lambda", functions, |function| {
                let (ctx, lambda) = (ctx.clone(), lambda.clone());
                async move {
                    let tags = match function.get("FunctionArn").and_then(Value::as_str) {
                        Some(arn) if ctx.runs(&TAGS) => tags(&ctx, &lambda, arn).await,
                        _ => None,
                    };
                    item(
                        KIND.name,
                        properties(function, tags),
                        Some(ctx.extra_context()),
                    )
                }
            })
            .await;
        emit.send(items).await?;
        match page.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_string()),
            _ => return Ok(()),
        }
    }
}

/// `ListTags` of one function: its `Tags` object as AWS sent it (AWS's order); `None`,
/// logged and counted, when the call failed.
async fn tags(ctx: &ListCtx, lambda: &aws_sdk_lambda::Client, arn: &str) -> Option<Value> {
    ctx.pace("lambda").await;
    let raw = RawJson::default();
    let sent = lambda
        .list_tags()
        .resource(arn)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    let error = match sent {
        Ok(_) => match raw.take().as_mut().and_then(|b| b.get_mut("Tags")) {
            Some(tags @ Value::Object(_)) => return Some(tags.take()),
            // botocore would raise on the missing key: aws-v3 sets no `Tags`.
            _ => AwsError::other("lambda:ListTags", "the answer has no Tags map"),
        },
        Err(e) => AwsError::from_sdk("lambda:ListTags", e),
    };
    ctx.enrichment_failed(KIND.name, &TAGS, arn, &error);
    None
}

/// aws-v3's `Properties` of one `FunctionConfiguration` (its JSON) and its tags, when
/// asked for and got.
fn properties(function: Value, tags: Option<Value>) -> Map<String, Value> {
    let Value::Object(mut function) = function else {
        return Map::new();
    };
    if let Some(tags) = tags {
        function.insert("Tags".into(), tags);
    }
    KEYS.iter()
        .filter_map(|k| {
            let mut v = function.remove(*k)?;
            if v.is_null() {
                return None;
            }
            drop_nulls(&mut v);
            Some((k.to_string(), v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn declared_keys_in_model_order_nulls_absent_and_tags_in_place() {
        let function = json!({
            "FunctionName": "f", "Version": "$LATEST", "Undeclared": 1,
            "KMSKeyArn": null, "SigningJobArn": null,
            "Environment": {"Variables": {"A": "1"}, "Error": null},
            "Architectures": ["x86_64"],
        });
        let p = properties(function, Some(json!({"team": "core"})));
        assert_eq!(
            Value::Object(p.clone()),
            json!({"Architectures": ["x86_64"], "Environment": {"Variables": {"A": "1"}},
                "FunctionName": "f", "Tags": {"team": "core"}, "Version": "$LATEST"})
        );
        let order: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(order, ["Architectures", "Environment", "FunctionName", "Tags", "Version"]);
        assert!(properties(json!({"FunctionName": "f"}), None).get("Tags").is_none());
    }
}
