//! `AWS::CodePipeline::Pipeline`: `codepipeline:ListPipelines` (every page), then per
//! pipeline `GetPipeline` (its `metadata` and `pipeline` merged) and
//! `ListTagsForResource(pipelineArn)`, as aws-v3's three default actions
//! `GetPipelineDetailsAction`, `GetPipelineTagsAction` and `ListPipelinesAction`.
//!
//! aws-v3 merges its actions' results by the pipeline's `name` (not by position as other
//! kinds): the `GetPipeline` fields, then the tags answer, then the listed entry over them.
//! Its model `ignore`s undeclared keys: `Properties` are its 15 declared keys that were
//! present, PascalCase in the model's order, nested values as CodePipeline sent them
//! (`Stages[].actions[].actionTypeId`, `Tags: [{key, value}]`); `Created`, `Updated` and
//! `PollingDisabledAt`, epoch seconds on the wire, are RFC 3339. A member sent as `null` is
//! absent. `__ExtraContext` is `{AccountId, Region}`.
//!
//! A failed `GetPipeline` keeps the pipeline with what the listing gave (`Name`, `Version`,
//! `PipelineType`, `ExecutionMode`, `Created`, `Updated`) and no `Tags` (aws-v3 reads the ARN
//! for the tags call from `GetPipeline`); a failed `ListTagsForResource` keeps it without
//! `Tags`. Both are logged and counted ([`ListCtx::enrichment_failed`]), as aws-v3 keeps the
//! item. aws-v3 reads one page of tags, and so does this kind. A failed `ListPipelines`
//! fails the unit.

use aws_sdk_codepipeline::Client;
use serde_json::{Map, Value};

use super::{Pipelines, get_pipeline, name_of, parts};
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, item,
};

pub const KIND: Kind = Kind {
    name: "AWS::CodePipeline::Pipeline",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[DETAILS, TAGS, LIST],
    optional_actions: &[],
    fixture: Fixture {
        example: "codepipeline-pipeline",
        keys: &[
            "Name",
            "PipelineArn",
            "RoleArn",
            "ArtifactStore",
            "Stages",
            "Version",
            "ExecutionMode",
            "PipelineType",
            "Variables",
            "Created",
            "Updated",
            "Tags",
        ],
    },
};

/// `GetPipelineDetailsAction`: `GetPipeline`, its `metadata` and `pipeline`.
const DETAILS: Action = Action {
    name: "GetPipelineDetailsAction",
    iam: &["codepipeline:GetPipeline"],
    adds: &[],
    replaces: &[],
};

/// `GetPipelineTagsAction`: `ListTagsForResource` of the pipeline's ARN (which it reads
/// from `GetPipeline`).
const TAGS: Action = Action {
    name: "GetPipelineTagsAction",
    iam: &["codepipeline:GetPipeline", "codepipeline:ListTagsForResource"],
    adds: &[],
    replaces: &[],
};

/// `ListPipelinesAction`: the listed entries.
const LIST: Action = Action {
    name: "ListPipelinesAction",
    iam: &["codepipeline:ListPipelines"],
    adds: &[],
    replaces: &[],
};

/// aws-v3's declared keys, CodePipeline's name and the `Properties` name, in its model's
/// order.
const KEYS: &[(&str, &str)] = &[
    ("artifactStore", "ArtifactStore"),
    ("artifactStores", "ArtifactStores"),
    ("created", "Created"),
    ("executionMode", "ExecutionMode"),
    ("name", "Name"),
    ("pipelineArn", "PipelineArn"),
    ("pipelineType", "PipelineType"),
    ("pollingDisabledAt", "PollingDisabledAt"),
    ("roleArn", "RoleArn"),
    ("stages", "Stages"),
    ("tags", "Tags"),
    ("triggers", "Triggers"),
    ("updated", "Updated"),
    ("variables", "Variables"),
    ("version", "Version"),
];

/// The declared keys that are epoch seconds on the wire.
const EPOCH: &[&str] = &["created", "updated", "pollingDisabledAt"];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let client = Client::new(&ctx.sdk_config());
    let mut pages = Pipelines::new(&client);
    while let Some(entries) = pages.next(&ctx).await? {
        let items = ctx
            .per_resource("codepipeline", entries, |listed| {
                let (ctx, client) = (ctx.clone(), client.clone());
                async move {
                    let properties = enrich(&ctx, &client, listed).await;
                    item(KIND.name, properties, Some(ctx.extra_context()))
                }
            })
            .await;
        emit.send(items).await?;
    }
    Ok(())
}

/// The `Properties` of one listed pipeline: its `GetPipeline` fields, then its tags, then
/// the listed entry, merged as aws-v3 merges them by `name`; a failed call's fields absent.
async fn enrich(ctx: &ListCtx, client: &Client, listed: Map<String, Value>) -> Map<String, Value> {
    let Some(name) = name_of(&listed).map(str::to_string) else {
        return properties(Map::new(), None, listed);
    };
    let details = match get_pipeline(ctx, client, &name).await {
        Ok(answer) => Some(answer),
        Err(e) => {
            ctx.enrichment_failed(KIND.name, &DETAILS, &name, &e);
            None
        }
    };
    let arn = details
        .as_ref()
        .map(parts)
        .and_then(|(_, metadata)| metadata.get("pipelineArn")?.as_str().map(str::to_string));
    let tags = match arn {
        Some(arn) => match tags(ctx, client, &arn).await {
            Ok(tags) => Some(tags),
            Err(e) => {
                ctx.enrichment_failed(KIND.name, &TAGS, &name, &e);
                None
            }
        },
        // aws-v3's tags action fails with its `GetPipeline` (it has no ARN without it).
        None => None,
    };
    let details = details
        .map(|answer| {
            let (mut pipeline, mut metadata) = parts(&answer);
            metadata.append(&mut pipeline);
            metadata
        })
        .unwrap_or_default();
    properties(details, tags, listed)
}

/// `ListTagsForResource` of a pipeline: its answer's JSON (`{tags, nextToken?}`).
async fn tags(ctx: &ListCtx, client: &Client, arn: &str) -> Result<Map<String, Value>, AwsError> {
    const OPERATION: &str = "codepipeline:ListTagsForResource";
    ctx.pace("codepipeline").await;
    let raw = RawJson::default();
    let sent = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    match (sent, raw.take()) {
        (Ok(_), Some(Value::Object(answer))) => Ok(answer),
        (Ok(_), _) => Err(AwsError::other(OPERATION, "the answer has no JSON object")),
        (Err(e), _) => Err(AwsError::from_sdk(OPERATION, e)),
    }
}

/// aws-v3's `Properties`: `details` (`{**metadata, **pipeline}` of `GetPipeline`), then the
/// tags answer, then the listed entry over them; its declared keys, renamed, in its
/// model's order.
fn properties(
    details: Map<String, Value>,
    tags: Option<Map<String, Value>>,
    listed: Map<String, Value>,
) -> Map<String, Value> {
    let mut merged = details;
    merged.extend(tags.unwrap_or_default());
    merged.extend(listed);
    declared_json(merged, KEYS, EPOCH)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_listed_entry_wins_over_tags_over_details_declared_keys_in_model_order() {
        let details = object(json!({
            "pipelineArn": "arn:p", "created": 1700000000.25, "updated": 1700000000.25,
            "pollingDisabledAt": 1700000002,
            "name": "zinc", "roleArn": "arn:r", "version": 1,
            "stages": [{"name": "Source", "blockers": null}],
            "artifactStore": {"type": "S3", "location": "b", "encryptionKey": null},
            "undeclared": 1,
        }));
        let tags = object(json!({"tags": [{"key": "team", "value": "platform"}], "name": "zinc"}));
        let listed = object(json!({
            "name": "zinc", "version": 2, "created": 1700000001, "pipelineType": "V2",
        }));
        let p = properties(details, Some(tags), listed);
        assert_eq!(
            Value::Object(p.clone()),
            json!({
                "ArtifactStore": {"type": "S3", "location": "b"},
                "Created": "2023-11-14T22:13:21Z",
                "Name": "zinc",
                "PipelineArn": "arn:p",
                "PipelineType": "V2",
                "PollingDisabledAt": "2023-11-14T22:13:22Z",
                "RoleArn": "arn:r",
                "Stages": [{"name": "Source"}],
                "Tags": [{"key": "team", "value": "platform"}],
                "Updated": "2023-11-14T22:13:20.250000Z",
                "Version": 2,
            })
        );
        let order: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(
            order,
            [
                "ArtifactStore",
                "Created",
                "Name",
                "PipelineArn",
                "PipelineType",
                "PollingDisabledAt",
                "RoleArn",
                "Stages",
                "Tags",
                "Updated",
                "Version"
            ]
        );
    }
}
