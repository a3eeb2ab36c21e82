//! CodePipeline kinds, and what they share.
//!
//! `AWS::CodePipeline::Pipeline`, `Stage` and `Action` page through `ListPipelines` and read
//! each listed pipeline's declaration with `GetPipeline`, one call per pipeline, at most
//! [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) at once per (account,
//! service), as aws-v3 does. `PipelineExecution` and `ActionExecution` page, per listed
//! pipeline, through its executions' history (`ListPipelineExecutions`,
//! `ListActionExecutions`). CodePipeline is a JSON service: the kinds read the answers' own
//! JSON ([`RawJson`]), since aws-v3 declares the nested values (`Stages`, `ArtifactStore`,
//! an action's `Configuration`) `dict[str, Any]` and passes them through as botocore parses
//! them (camelCase, `null` members dropped). Pipeline timestamps, epoch seconds on the
//! wire, are written as aws-v3 writes datetimes ([`declared_json`](super::declared_json)).

use aws_sdk_codepipeline::Client;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Map, Value};

use super::{Emit, ListCtx, RawJson, item};
use crate::aws::AwsError;
use crate::pagination::Cursors;

kinds![
    pipeline,
    stage,
    action,
    pipeline_execution,
    action_execution
];

/// The IAM action of `ListPipelines`.
const LIST: &str = "codepipeline:ListPipelines";

/// The IAM action of `GetPipeline`.
const GET: &str = "codepipeline:GetPipeline";

/// `ListPipelines`, one page at a time, each entry as CodePipeline sent it
/// (`{name, version, pipelineType, executionMode, created, updated}`). Every page by
/// default; a bound on the listing is a caller that stops asking.
struct Pipelines {
    client: Client,
    token: Option<String>,
    cursors: Cursors,
    done: bool,
}

impl Pipelines {
    fn new(client: &Client) -> Pipelines {
        Pipelines {
            client: client.clone(),
            token: None,
            cursors: Cursors::default(),
            done: false,
        }
    }

    /// The next page's entries, `None` once the listing is over. A failed call, or a page
    /// whose entries cannot be read, fails the listing.
    async fn next(&mut self, ctx: &ListCtx) -> Result<Option<Vec<Map<String, Value>>>, AwsError> {
        if self.done {
            return Ok(None);
        }
        // Each call with its own body catcher (the SDK's paginator cannot take an
        // interceptor per call).
        let raw = RawJson::default();
        let call = self
            .client
            .list_pipelines()
            .set_next_token(self.token.take())
            .customize()
            .interceptor(raw.clone())
            .send();
        let Some(page) = ctx
            .next_page(LIST, &mut self.cursors, async { Some(call.await) }, |p| {
                p.next_token()
            })
            .await?
        else {
            return Ok(None);
        };
        let entries = raw
            .items("pipelines", page.pipelines().is_empty(), LIST)?
            .into_iter()
            .filter_map(|e| match e {
                Value::Object(e) => Some(e),
                _ => None,
            })
            .collect();
        match page.next_token() {
            Some(t) if !t.is_empty() => self.token = Some(t.to_string()),
            _ => self.done = true,
        }
        Ok(Some(entries))
    }
}

/// The name of a listed pipeline entry.
fn name_of(entry: &Map<String, Value>) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

/// `GetPipeline` of one pipeline: its answer's JSON, `{pipeline, metadata}`.
async fn get_pipeline(
    ctx: &ListCtx,
    client: &Client,
    name: &str,
) -> Result<Map<String, Value>, AwsError> {
    ctx.pace("codepipeline").await;
    let raw = RawJson::default();
    let sent = client
        .get_pipeline()
        .name(name)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    match (sent, raw.take()) {
        (Ok(_), Some(Value::Object(answer))) => Ok(answer),
        (Ok(_), _) => Err(AwsError::other(GET, "the answer has no JSON object")),
        (Err(e), _) => Err(AwsError::from_sdk(GET, e)),
    }
}

/// The `pipeline` and `metadata` objects of a `GetPipeline` answer (empty when absent).
fn parts(answer: &Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
    let part = |key: &str| match answer.get(key) {
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    (part("pipeline"), part("metadata"))
}
/// The pipelines of a page with their `GetPipeline` answers, for the kinds made of a
/// pipeline's declaration (stages, actions), which have nothing to emit without it. A
/// pipeline deleted since the listing (`PipelineNotFoundException`) is left out; any other
/// failure fails the unit: aws-v3 skips that pipeline's stages and actions, so they would
/// look deleted to reconciliation while they exist.
async fn declarations(
    ctx: &ListCtx,
    client: &Client,
    kind: &'static str,
    page: Vec<Map<String, Value>>,
) -> Result<Vec<(String, Map<String, Value>)>, AwsError> {
    let names: Vec<String> = page
        .iter()
        .filter_map(|e| name_of(e).map(str::to_string))
        .collect();
    let answers = ctx
        .per_resource("codepipeline", names, |name| {
            let (ctx, client) = (ctx.clone(), client.clone());
            async move {
                let got = get_pipeline(&ctx, &client, &name).await;
                (name, got)
            }
        })
        .await;
    let mut found = Vec::with_capacity(answers.len());
    for (name, got) in answers {
        match got {
            Ok(answer) => found.push((name, answer)),
            Err(e) if e.code() == Some("PipelineNotFoundException") => {
                tracing::debug!(account = %ctx.account.id, region = %ctx.region, kind, pipeline = %name, "the pipeline was deleted since the listing");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// The objects of a list member of `object` (`stages`, `actions`); none when absent.
fn objects<'a>(
    object: &'a Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a Map<String, Value>> {
    object
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// The `keys` of `object` that are epoch seconds become RFC 3339, as aws-v3 writes the
/// datetimes botocore parses inside the values it passes through
/// (`ArtifactRevisions[].created`).
fn epoch_members(object: &mut Value, keys: &[&str]) {
    if let Value::Object(o) = object {
        for key in keys {
            if let Some(v) = o.get_mut(*key)
                && let Some(secs) = v.as_f64()
            {
                *v = super::epoch_time(secs);
            }
        }
    }
}

/// What `Stage` and `Action` make of a pipeline's name and its `GetPipeline` answer: the
/// `Properties` of each of their items.
type Records = fn(&str, &Map<String, Value>) -> Vec<Map<String, Value>>;

/// `Stage` and `Action`: each page of pipelines, their declarations, and the `Properties`
/// `records` makes of each (pipeline name, `GetPipeline` answer), emitted page by page.
async fn list_declared(
    ctx: ListCtx,
    emit: Emit,
    kind: &'static str,
    records: Records,
) -> Result<(), AwsError> {
    let client = Client::new(&ctx.sdk_config());
    let mut pages = Pipelines::new(&client);
    while let Some(entries) = pages.next(&ctx).await? {
        let items = declarations(&ctx, &client, kind, entries)
            .await?
            .into_iter()
            .flat_map(|(name, answer)| records(&name, &answer))
            .map(|properties| item(kind, properties, Some(ctx.extra_context())))
            .collect();
        emit.send(items).await?;
    }
    Ok(())
}

/// The next page of a listing under pipeline `name` (`ListPipelineExecutions`,
/// `ListActionExecutions`): `None` when the listing is over, or when the pipeline was
/// deleted since it was listed (it has no history left to list).
async fn pipeline_page<O, E, R>(
    ctx: &ListCtx,
    (kind, operation): (&'static str, &'static str),
    name: &str,
    cursors: &mut Cursors,
    call: impl Future<Output = Result<O, SdkError<E, R>>>,
    token: impl FnOnce(&O) -> Option<&str>,
) -> Result<Option<O>, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match ctx
        .next_page(operation, cursors, async { Some(call.await) }, token)
        .await
    {
        Err(e) if e.code() == Some("PipelineNotFoundException") => {
            tracing::debug!(account = %ctx.account.id, region = %ctx.region, kind, pipeline = name, "the pipeline was deleted since the listing");
            Ok(None)
        }
        other => other,
    }
}
