//! `AWS::CodePipeline::ActionExecution`: `codepipeline:ListPipelines` (every page), then
//! per pipeline `ListActionExecutions` (every page), one item per action execution, as
//! aws-v3's `ListActionExecutionsAction` (its only action, a default one).
//!
//! History: aws-v3 lists every action execution CodePipeline retains, and so does this kind
//! by default; a bound on the history is a check after each page that ends the page loop
//! of [`action_executions`].
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are its 11 declared keys that were
//! present, PascalCase in the model's order, `Input` and `Output` as CodePipeline sent
//! them (camelCase: `Input.actionTypeId`, `Output.executionResult`); `StartTime` and
//! `LastUpdateTime`, epoch seconds on the wire, are RFC 3339. A member sent as `null` is
//! absent. There is no `PipelineName` (aws-v3's example shows one; its code never sets it).
//! `__ExtraContext` is `{AccountId, Region}`.
//!
//! A failed `ListPipelines` or `ListActionExecutions` fails the unit; a pipeline deleted
//! since the listing (`PipelineNotFoundException`) has no action executions.

use aws_sdk_codepipeline::Client;
use serde_json::Value;

use super::{Pipelines, name_of, pipeline_page};
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, item,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::CodePipeline::ActionExecution",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "ListActionExecutionsAction",
        iam: &[
            "codepipeline:ListPipelines",
            "codepipeline:ListActionExecutions",
        ],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[],
    fixture: Fixture {
        example: "codepipeline-action-execution",
        keys: &[
            "ActionExecutionId",
            "ActionName",
            "PipelineExecutionId",
            "PipelineVersion",
            "StageName",
            "StartTime",
            "LastUpdateTime",
            "Status",
            "Input",
            "Output",
        ],
    },
};

/// aws-v3's declared keys, CodePipeline's name and the `Properties` name, in its model's
/// order.
const KEYS: &[(&str, &str)] = &[
    ("actionExecutionId", "ActionExecutionId"),
    ("actionName", "ActionName"),
    ("input", "Input"),
    ("lastUpdateTime", "LastUpdateTime"),
    ("output", "Output"),
    ("pipelineExecutionId", "PipelineExecutionId"),
    ("pipelineVersion", "PipelineVersion"),
    ("stageName", "StageName"),
    ("startTime", "StartTime"),
    ("status", "Status"),
    ("updatedBy", "UpdatedBy"),
];

const LIST_ACTIONS: &str = "codepipeline:ListActionExecutions";

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let client = Client::new(&ctx.sdk_config());
    let mut pages = Pipelines::new(&client);
    while let Some(entries) = pages.next(&ctx).await? {
        for name in entries.iter().filter_map(name_of) {
            action_executions(&ctx, &client, &emit, name).await?;
        }
    }
    Ok(())
}

/// Every action execution of pipeline `name`, one batch per `ListActionExecutions` page.
async fn action_executions(
    ctx: &ListCtx,
    client: &Client,
    emit: &Emit,
    name: &str,
) -> Result<(), AwsError> {
    let mut token: Option<String> = None;
    let mut cursors = Cursors::default();
    // `maxAgeDays`/`maxItems`: the window of this pipeline (the scope of `maxItems`).
    let mut window = ctx.window();
    loop {
        let raw = RawJson::default();
        let call = client
            .list_action_executions()
            .pipeline_name(name)
            .set_next_token(token.take())
            .customize()
            .interceptor(raw.clone())
            .send();
        let Some(page) = pipeline_page(
            ctx,
            (KIND.name, LIST_ACTIONS),
            name,
            &mut cursors,
            call,
            |p| p.next_token(),
        )
        .await?
        else {
            return Ok(());
        };
        let items = raw
            .items(
                "actionExecutionDetails",
                page.action_execution_details().is_empty(),
                LIST_ACTIONS,
            )?
            .into_iter()
            .filter_map(|detail| match detail {
                Value::Object(detail) => Some(item(
                    KIND.name,
                    declared_json(detail, KEYS, &["startTime", "lastUpdateTime"]),
                    Some(ctx.extra_context()),
                )),
                _ => None,
            })
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
