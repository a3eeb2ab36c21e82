//! `AWS::CodePipeline::Action`: `codepipeline:ListPipelines` (every page), then
//! `GetPipeline` per pipeline, one item per action of each stage of its declaration, as
//! aws-v3's `GetPipelineActionsDetails` (its only action, a default one).
//!
//! aws-v3 adds to each action `pipelineName` (the listed name), `pipelineArn` (from
//! `GetPipeline`'s `metadata`, `""` when absent), `pipelineVersion` (the declaration's
//! `version`, `0` when absent) and `stageName` (`""` when absent). Its model `ignore`s
//! undeclared keys: `Properties` are its 17 declared keys that were present, PascalCase in
//! the model's order; `ActionTypeId` is a model of its own, so its members are PascalCase
//! too (`Category`, `Owner`, `Provider`, `Version`, nothing else), while the other nested
//! values stay as CodePipeline sent them (`OutputArtifacts[].name`). `__ExtraContext` is
//! `{AccountId, Region}`.
//!
//! An action exists only in its pipeline's `GetPipeline` answer, so a failed `GetPipeline`
//! fails the unit (aws-v3 skips that pipeline's actions, which would then look deleted to
//! reconciliation); a pipeline deleted since the listing (`PipelineNotFoundException`) has
//! no actions. A failed `ListPipelines` fails the unit.

use serde_json::{Map, Value, json};

use super::{list_declared, objects, parts};
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, Regions, Scope, declared_json,
};

pub const KIND: Kind = Kind {
    name: "AWS::CodePipeline::Action",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "GetPipelineActionsDetails",
        iam: &["codepipeline:ListPipelines", "codepipeline:GetPipeline"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[],
    fixture: Fixture {
        example: "codepipeline-action",
        keys: &[
            "ActionTypeId",
            "Configuration",
            "InputArtifacts",
            "Name",
            "OutputArtifacts",
            "PipelineName",
            "PipelineArn",
            "PipelineVersion",
            "Region",
            "RunOrder",
            "StageName",
        ],
    },
};

/// aws-v3's declared keys, the action record's name and the `Properties` name, in its
/// model's order.
const KEYS: &[(&str, &str)] = &[
    ("actionTypeId", "ActionTypeId"),
    ("configuration", "Configuration"),
    ("commands", "Commands"),
    ("environmentVariables", "EnvironmentVariables"),
    ("inputArtifacts", "InputArtifacts"),
    ("name", "Name"),
    ("namespace", "Namespace"),
    ("outputArtifacts", "OutputArtifacts"),
    ("outputVariables", "OutputVariables"),
    ("pipelineName", "PipelineName"),
    ("pipelineArn", "PipelineArn"),
    ("pipelineVersion", "PipelineVersion"),
    ("region", "Region"),
    ("roleArn", "RoleArn"),
    ("runOrder", "RunOrder"),
    ("stageName", "StageName"),
    ("timeoutInMinutes", "TimeoutInMinutes"),
];

/// The declared keys of aws-v3's `ActionTypeId` model, in its order.
const TYPE_ID_KEYS: &[(&str, &str)] = &[
    ("category", "Category"),
    ("owner", "Owner"),
    ("provider", "Provider"),
    ("version", "Version"),
];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    list_declared(ctx, emit, KIND.name, actions).await
}

/// The `Properties` of each action of each stage of pipeline `name`'s `GetPipeline`
/// answer, as aws-v3's action records: the action with `pipelineName`, `pipelineArn`,
/// `pipelineVersion` and `stageName`.
fn actions(name: &str, answer: &Map<String, Value>) -> Vec<Map<String, Value>> {
    let (pipeline, metadata) = parts(answer);
    let arn = metadata.get("pipelineArn").cloned().unwrap_or(json!(""));
    let version = pipeline.get("version").cloned().unwrap_or(json!(0));
    objects(&pipeline, "stages")
        .flat_map(|stage| {
            let stage_name = stage.get("name").cloned().unwrap_or(json!(""));
            objects(stage, "actions").map(move |action| (stage_name.clone(), action))
        })
        .map(|(stage_name, action)| {
            let mut record = action.clone();
            record.insert("pipelineName".into(), json!(name));
            record.insert("pipelineArn".into(), arn.clone());
            record.insert("pipelineVersion".into(), version.clone());
            record.insert("stageName".into(), stage_name);
            let mut p = declared_json(record, KEYS, &[]);
            if let Some(Value::Object(type_id)) = p.get_mut("ActionTypeId") {
                *type_id = declared_json(std::mem::take(type_id), TYPE_ID_KEYS, &[]);
            }
            p
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_record_per_action_with_its_pipeline_and_stage_type_id_pascal_case() {
        let Value::Object(answer) = json!({
            "pipeline": {"name": "zinc", "version": 3, "stages": [
                {"name": "Source", "actions": [{"name": "Fetch", "runOrder": 1,
                    "actionTypeId": {"version": "1", "category": "Source", "owner": "AWS",
                        "provider": "S3", "extra": "x"},
                    "configuration": {"S3Bucket": "b"}, "undeclared": 1, "region": null}]},
                {"name": "Build", "actions": [{"name": "A"}, {"name": "B"}]},
            ]},
            "metadata": {"pipelineArn": "arn:p"},
        }) else {
            unreachable!()
        };
        let got: Vec<Value> = actions("zinc", &answer)
            .into_iter()
            .map(Value::Object)
            .collect();
        assert_eq!(
            got[0],
            json!({"ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "S3",
                    "Version": "1"},
                "Configuration": {"S3Bucket": "b"}, "Name": "Fetch", "PipelineName": "zinc",
                "PipelineArn": "arn:p", "PipelineVersion": 3, "RunOrder": 1,
                "StageName": "Source"})
        );
        let order: Vec<_> = got[0]["ActionTypeId"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(order, ["Category", "Owner", "Provider", "Version"]);
        assert_eq!(got.len(), 3);
        assert_eq!(got[2]["Name"], "B");
        assert_eq!(got[2]["StageName"], "Build");
        // Without metadata or version, aws-v3's `""` and `0`.
        let Value::Object(bare) = json!({"pipeline": {"stages": [{"actions": [{"name": "X"}]}]}})
        else {
            unreachable!()
        };
        let bare = actions("zinc", &bare);
        assert_eq!(bare[0]["PipelineArn"], "");
        assert_eq!(bare[0]["PipelineVersion"], 0);
        assert_eq!(bare[0]["StageName"], "");
    }
}
