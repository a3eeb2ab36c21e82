//! `AWS::CodePipeline::PipelineExecution`: `codepipeline:ListPipelines` (every page), then
//! per pipeline `ListPipelineExecutions` (every page) and `GetPipelineExecution` per
//! execution, as aws-v3's `ListPipelineExecutionsAction` and
//! `GetPipelineExecutionDetailsAction` (both default actions).
//!
//! History: aws-v3 lists every execution CodePipeline retains, and so does this kind by
//! default. `ListPipelineExecutions` pages come newest first, so a bound on the history's
//! age or count is a check after each page that ends the page loop of [`executions`].
//!
//! aws-v3 merges each execution's summary (the listing) with its `GetPipelineExecution`
//! answer over it. Its model `ignore`s undeclared keys: `Properties` are its 15 declared
//! keys that were present, PascalCase in the model's order, nested values as CodePipeline
//! sent them (`Trigger.triggerType`); `StartTime`, `LastUpdateTime` and
//! `ArtifactRevisions[].created`, epoch seconds on the wire, are RFC 3339. A member sent
//! as `null` is absent. `__ExtraContext` is `{AccountId, Region}`.
//!
//! A failed `GetPipelineExecution` keeps the execution with its summary (aws-v3's listing
//! action alone), logged and counted ([`ListCtx::enrichment_failed`]). A failed
//! `ListPipelines` or `ListPipelineExecutions` fails the unit; a pipeline deleted since the
//! listing (`PipelineNotFoundException`) has no executions.

use aws_sdk_codepipeline::Client;
use serde_json::{Map, Value};

use super::{Pipelines, epoch_members, name_of, pipeline_page};
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, item,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::CodePipeline::PipelineExecution",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[LIST, DETAILS],
    optional_actions: &[],
    fixture: Fixture {
        example: "codepipeline-pipeline-execution",
        keys: &[
            "ArtifactRevisions",
            "LastUpdateTime",
            "PipelineExecutionId",
            "PipelineName",
            "PipelineVersion",
            "SourceRevisions",
            "StartTime",
            "Status",
            "Trigger",
        ],
    },
};

/// `ListPipelineExecutionsAction`: the executions' summaries.
const LIST: Action = Action {
    name: "ListPipelineExecutionsAction",
    iam: &[
        "codepipeline:ListPipelines",
        "codepipeline:ListPipelineExecutions",
    ],
    adds: &[],
    replaces: &[],
};

/// `GetPipelineExecutionDetailsAction`: `GetPipelineExecution`, one call per execution.
const DETAILS: Action = Action {
    name: "GetPipelineExecutionDetailsAction",
    iam: &["codepipeline:GetPipelineExecution"],
    adds: &[],
    replaces: &[],
};

/// aws-v3's declared keys, CodePipeline's name and the `Properties` name, in its model's
/// order.
const KEYS: &[(&str, &str)] = &[
    ("artifactRevisions", "ArtifactRevisions"),
    ("executionMode", "ExecutionMode"),
    ("executionType", "ExecutionType"),
    ("lastUpdateTime", "LastUpdateTime"),
    ("pipelineExecutionId", "PipelineExecutionId"),
    ("pipelineName", "PipelineName"),
    ("pipelineVersion", "PipelineVersion"),
    ("rollbackMetadata", "RollbackMetadata"),
    ("sourceRevisions", "SourceRevisions"),
    ("startTime", "StartTime"),
    ("status", "Status"),
    ("statusSummary", "StatusSummary"),
    ("stopTrigger", "StopTrigger"),
    ("trigger", "Trigger"),
    ("variables", "Variables"),
];

const LIST_EXECUTIONS: &str = "codepipeline:ListPipelineExecutions";
const GET_EXECUTION: &str = "codepipeline:GetPipelineExecution";

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let client = Client::new(&ctx.sdk_config());
    let mut pages = Pipelines::new(&client);
    while let Some(entries) = pages.next(&ctx).await? {
        for name in entries.iter().filter_map(name_of) {
            executions(&ctx, &client, &emit, name).await?;
        }
    }
    Ok(())
}

/// Every execution of pipeline `name`, one batch per `ListPipelineExecutions` page, newest
/// first (aws-v3's default: the whole retained history).
async fn executions(ctx: &ListCtx, client: &Client, emit: &Emit, name: &str) -> Result<(), AwsError> {
    let mut token: Option<String> = None;
    let mut cursors = Cursors::default();
    // `maxAgeDays`/`maxItems`: the window of this pipeline (the scope of `maxItems`).
    let mut window = ctx.window();
    loop {
        let raw = RawJson::default();
        let call = client
            .list_pipeline_executions()
            .pipeline_name(name)
            .set_next_token(token.take())
            .customize()
            .interceptor(raw.clone())
            .send();
        let Some(page) = pipeline_page(
            ctx,
            (KIND.name, LIST_EXECUTIONS),
            name,
            &mut cursors,
            call,
            |p| p.next_token(),
        )
        .await?
        else {
            return Ok(());
        };
        let summaries = raw.items(
            "pipelineExecutionSummaries",
            page.pipeline_execution_summaries().is_empty(),
            LIST_EXECUTIONS,
        )?;
        let mut summaries = summaries;
        // No `GetPipelineExecution` for executions past `maxItems`.
        summaries.truncate(window.room(summaries.len()));
        let items = ctx
            .per_resource("codepipeline", summaries, |summary| {
                let (ctx, client) = (ctx.clone(), client.clone());
                async move {
                    let Value::Object(summary) = summary else {
                        return None;
                    };
                    let details = match summary.get("pipelineExecutionId").and_then(Value::as_str) {
                        Some(id) => get(&ctx, &client, name, id).await,
                        None => None,
                    };
                    Some(item(
                        KIND.name,
                        properties(summary, details),
                        Some(ctx.extra_context()),
                    ))
                }
            })
            .await
            .into_iter()
            .flatten()
            .collect();
        emit.send(window.admit(items, "StartTime")).await?;
        if window.closed() {
            return Ok(());
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(()),
        }
    }
}

/// `GetPipelineExecution`'s `pipelineExecution`; `None`, logged and counted, when the call
/// failed.
async fn get(ctx: &ListCtx, client: &Client, name: &str, id: &str) -> Option<Map<String, Value>> {
    ctx.pace("codepipeline").await;
    let raw = RawJson::default();
    let sent = client
        .get_pipeline_execution()
        .pipeline_name(name)
        .pipeline_execution_id(id)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    let error = match (sent, raw.take()) {
        (Ok(_), Some(mut answer)) => match answer.get_mut("pipelineExecution").map(Value::take) {
            Some(Value::Object(execution)) => return Some(execution),
            _ => AwsError::other(GET_EXECUTION, "the answer has no `pipelineExecution` object"),
        },
        (Ok(_), None) => AwsError::other(GET_EXECUTION, "the answer has no JSON body"),
        (Err(e), _) => AwsError::from_sdk(GET_EXECUTION, e),
    };
    ctx.enrichment_failed(KIND.name, &DETAILS, &format!("{name}/{id}"), &error);
    None
}

/// aws-v3's `Properties`: the summary with the `GetPipelineExecution` answer over it, its
/// declared keys, renamed, in its model's order.
fn properties(summary: Map<String, Value>, details: Option<Map<String, Value>>) -> Map<String, Value> {
    let mut merged = summary;
    merged.extend(details.unwrap_or_default());
    let mut p = declared_json(merged, KEYS, &["startTime", "lastUpdateTime"]);
    if let Some(Value::Array(revisions)) = p.get_mut("ArtifactRevisions") {
        revisions.iter_mut().for_each(|r| epoch_members(r, &["created"]));
    }
    p
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn details_over_the_summary_declared_keys_in_model_order_times_rfc3339() {
        let Value::Object(summary) = json!({
            "pipelineExecutionId": "e1", "status": "InProgress", "startTime": 1705314600.25,
            "lastUpdateTime": 1705314601, "sourceRevisions": [], "statusSummary": null,
        }) else {
            unreachable!()
        };
        let Value::Object(details) = json!({
            "pipelineExecutionId": "e1", "pipelineName": "zinc", "pipelineVersion": 2,
            "status": "Succeeded", "undeclared": 1,
            "artifactRevisions": [{"name": "Src", "created": 1705314000.5}],
        }) else {
            unreachable!()
        };
        let p = properties(summary.clone(), Some(details));
        assert_eq!(
            Value::Object(p.clone()),
            json!({
                "ArtifactRevisions": [{"name": "Src", "created": "2024-01-15T10:20:00.500000Z"}],
                "LastUpdateTime": "2024-01-15T10:30:01Z",
                "PipelineExecutionId": "e1",
                "PipelineName": "zinc",
                "PipelineVersion": 2,
                "SourceRevisions": [],
                "StartTime": "2024-01-15T10:30:00.250000Z",
                "Status": "Succeeded",
            })
        );
        let order: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(
            order,
            [
                "ArtifactRevisions",
                "LastUpdateTime",
                "PipelineExecutionId",
                "PipelineName",
                "PipelineVersion",
                "SourceRevisions",
                "StartTime",
                "Status"
            ]
        );
        // Without details: the summary alone.
        assert_eq!(properties(summary, None)["Status"], "InProgress");
    }
}
