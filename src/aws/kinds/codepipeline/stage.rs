//! `AWS::CodePipeline::Stage`: `codepipeline:ListPipelines` (every page), then `GetPipeline`
//! per pipeline, one item per stage of its declaration, as aws-v3's
//! `GetPipelineStagesAction` (its only action, a default one).
//!
//! aws-v3 adds to each stage `pipelineName` (the listed name), `pipelineArn` (from
//! `GetPipeline`'s `metadata`, `""` when absent) and `order`, the stage's 1-based position
//! in the pipeline. Its model `ignore`s undeclared keys: `Properties` are its 9 declared
//! keys that were present, PascalCase in the model's order, nested values as CodePipeline
//! sent them (`Actions[].actionTypeId`). `__ExtraContext` is `{AccountId, Region}`.
//!
//! A stage exists only in its pipeline's `GetPipeline` answer, so a failed `GetPipeline`
//! fails the unit (aws-v3 skips that pipeline's stages, which would then look deleted to
//! reconciliation); a pipeline deleted since the listing (`PipelineNotFoundException`) has
//! no stages. A failed `ListPipelines` fails the unit.

use serde_json::{Map, Value, json};

use super::{list_declared, objects, parts};
use crate::aws::AwsError;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, Regions, Scope, declared_json};

pub const KIND: Kind = Kind {
    name: "AWS::CodePipeline::Stage",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "GetPipelineStagesAction",
        iam: &["codepipeline:ListPipelines", "codepipeline:GetPipeline"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[],
    fixture: Fixture {
        example: "codepipeline-stage",
        keys: &["Actions", "Name", "Order", "PipelineArn", "PipelineName"],
    },
};

/// aws-v3's declared keys, the stage record's name and the `Properties` name, in its
/// model's order.
const KEYS: &[(&str, &str)] = &[
    ("actions", "Actions"),
    ("beforeEntry", "BeforeEntry"),
    ("blockers", "Blockers"),
    ("name", "Name"),
    ("onFailure", "OnFailure"),
    ("onSuccess", "OnSuccess"),
    ("order", "Order"),
    ("pipelineArn", "PipelineArn"),
    ("pipelineName", "PipelineName"),
];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    list_declared(ctx, emit, KIND.name, stages).await
}

/// The `Properties` of each stage of pipeline `name`'s `GetPipeline` answer, as aws-v3's
/// stage records: the stage with `pipelineName`, `pipelineArn` and the 1-based `order`.
fn stages(name: &str, answer: &Map<String, Value>) -> Vec<Map<String, Value>> {
    let (pipeline, metadata) = parts(answer);
    let arn = metadata.get("pipelineArn").cloned().unwrap_or(json!(""));
    objects(&pipeline, "stages")
        .zip(1..)
        .map(|(stage, order): (&Map<String, Value>, u64)| {
            let mut record = stage.clone();
            record.insert("pipelineName".into(), json!(name));
            record.insert("pipelineArn".into(), arn.clone());
            record.insert("order".into(), json!(order));
            declared_json(record, KEYS, &[])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_record_per_stage_with_the_pipeline_and_a_one_based_order() {
        let Value::Object(answer) = json!({
            "pipeline": {"name": "zinc", "stages": [
                {"name": "Source", "actions": [{"name": "Fetch", "region": null}], "undeclared": 1},
                {"name": "Build", "actions": [], "onFailure": {"result": "ROLLBACK"}},
            ]},
            "metadata": {"pipelineArn": "arn:p"},
        }) else {
            unreachable!()
        };
        let got = stages("zinc", &answer);
        assert_eq!(
            got.into_iter().map(Value::Object).collect::<Vec<_>>(),
            [
                json!({"Actions": [{"name": "Fetch"}], "Name": "Source", "Order": 1,
                    "PipelineArn": "arn:p", "PipelineName": "zinc"}),
                json!({"Actions": [], "Name": "Build", "OnFailure": {"result": "ROLLBACK"},
                    "Order": 2, "PipelineArn": "arn:p", "PipelineName": "zinc"}),
            ]
        );
        // Without metadata, aws-v3's `""`.
        let Value::Object(bare) = json!({"pipeline": {"stages": [{"name": "S"}]}}) else {
            unreachable!()
        };
        assert_eq!(stages("zinc", &bare)[0]["PipelineArn"], "");
    }
}
