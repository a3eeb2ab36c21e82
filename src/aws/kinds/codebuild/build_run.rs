//! `AWS::CodeBuild::BuildRun`: `codebuild:ListBuilds` (every build id of the region, every
//! page), then `BatchGetBuilds` per batch of at most 100 ids, as aws-v3's `ListBuildsAction`
//! and `GetBuildDetailsAction` (both default actions).
//!
//! History: aws-v3 lists the whole retained build history (CodeBuild keeps builds for a
//! year), every run, and so does this kind by default. `ListBuilds` pages come newest first
//! (its default sort order), so a bound on the history's age or count is a check after
//! each batch that ends the page loop of [`list`].
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are its 33 declared keys that
//! CodeBuild returned, PascalCase in the model's order, read from the answer's own JSON
//! ([`RawJson`]) so nested values keep CodeBuild's camelCase (`Phases[].phaseType`,
//! `Logs.groupName`); `StartTime`, `EndTime` and each phase's `startTime`/`endTime`, epoch
//! seconds on the wire, are RFC 3339. A member sent as `null` is absent. `__ExtraContext`
//! is `{AccountId, Region}`.
//!
//! A failed `BatchGetBuilds` does not fail the unit: as in aws-v3 (whose `ListBuildsAction`
//! item is `{Id}`), each build of the batch is emitted with its `Id` only, and the failure
//! is logged and counted ([`ListCtx::enrichment_failed`]). aws-v3 merges the two actions'
//! results by position, so a build missing from the answer shifts the details of the
//! others onto the wrong ids; here they are merged by id: a build CodeBuild reports under
//! `buildsNotFound` (deleted since the listing) is left out, one missing without a word
//! keeps its `Id`. A failed `ListBuilds` fails the unit.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::{BATCH, objects, stamp};
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, item,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::CodeBuild::BuildRun",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[LIST, DETAILS],
    optional_actions: &[],
    fixture: Fixture {
        example: "codebuild-build-run",
        keys: &[
            "Arn",
            "BuildComplete",
            "BuildNumber",
            "BuildStatus",
            "Cache",
            "CurrentPhase",
            "EncryptionKey",
            "EndTime",
            "Environment",
            "Id",
            "Initiator",
            "Logs",
            "Phases",
            "ProjectName",
            "QueuedTimeoutInMinutes",
            "SecondarySources",
            "SecondarySourceVersions",
            "ServiceRole",
            "Source",
            "SourceVersion",
            "StartTime",
            "TimeoutInMinutes",
        ],
    },
};

/// `ListBuildsAction`: the listing, each build's `Id`.
const LIST: Action = Action {
    name: "ListBuildsAction",
    iam: &["codebuild:ListBuilds"],
    adds: &[],
    replaces: &[],
};

/// `GetBuildDetailsAction`: `BatchGetBuilds`, everything but the `Id`.
const DETAILS: Action = Action {
    name: "GetBuildDetailsAction",
    iam: &["codebuild:BatchGetBuilds"],
    adds: &[],
    replaces: &[],
};

/// aws-v3's declared keys, CodeBuild's name and the `Properties` name, in its model's order.
const KEYS: &[(&str, &str)] = &[
    ("arn", "Arn"),
    ("artifacts", "Artifacts"),
    ("autoRetryConfig", "AutoRetryConfig"),
    ("buildBatchArn", "BuildBatchArn"),
    ("buildComplete", "BuildComplete"),
    ("buildNumber", "BuildNumber"),
    ("buildStatus", "BuildStatus"),
    ("cache", "Cache"),
    ("currentPhase", "CurrentPhase"),
    ("debugSession", "DebugSession"),
    ("encryptionKey", "EncryptionKey"),
    ("endTime", "EndTime"),
    ("environment", "Environment"),
    ("exportedEnvironmentVariables", "ExportedEnvironmentVariables"),
    ("fileSystemLocations", "FileSystemLocations"),
    ("id", "Id"),
    ("initiator", "Initiator"),
    ("logs", "Logs"),
    ("networkInterface", "NetworkInterface"),
    ("phases", "Phases"),
    ("projectName", "ProjectName"),
    ("queuedTimeoutInMinutes", "QueuedTimeoutInMinutes"),
    ("reportArns", "ReportArns"),
    ("resolvedSourceVersion", "ResolvedSourceVersion"),
    ("secondaryArtifacts", "SecondaryArtifacts"),
    ("secondarySources", "SecondarySources"),
    ("secondarySourceVersions", "SecondarySourceVersions"),
    ("serviceRole", "ServiceRole"),
    ("source", "Source"),
    ("sourceVersion", "SourceVersion"),
    ("startTime", "StartTime"),
    ("timeoutInMinutes", "TimeoutInMinutes"),
    ("vpcConfig", "VpcConfig"),
];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let codebuild = aws_sdk_codebuild::Client::new(&ctx.sdk_config());
    // aws-v3's default: every page, the whole retained history, newest first. With
    // `maxAgeDays`/`maxItems` the window of this (account, region) ends the loop early.
    let mut window = ctx.window();
    let mut pages = codebuild.list_builds().into_paginator().send();
    let mut cursors = Cursors::default();
    'pages: while let Some(page) = ctx
        .next_page("codebuild:ListBuilds", &mut cursors, pages.next(), |p| {
            p.next_token()
        })
        .await?
    {
        for ids in page.ids().chunks(BATCH) {
            // `maxItems`: no details asked for builds past the count.
            let ids = &ids[..window.room(ids.len())];
            if !ids.is_empty() {
                let items = describe(&ctx, &codebuild, ids).await;
                emit.send(window.admit(items, "StartTime")).await?;
            }
            if window.closed() {
                break 'pages;
            }
        }
    }
    Ok(())
}

/// The items of one batch of build ids: `BatchGetBuilds`' details merged by id; each
/// build's `Id` alone, the failure logged and counted, when the call failed.
async fn describe(
    ctx: &ListCtx,
    codebuild: &aws_sdk_codebuild::Client,
    ids: &[String],
) -> Vec<Value> {
    ctx.pace("codebuild").await;
    let raw = RawJson::default();
    let sent = codebuild
        .batch_get_builds()
        .set_ids(Some(ids.to_vec()))
        .customize()
        .interceptor(raw.clone())
        .send()
        .await;
    let described = match sent {
        Ok(_) => by_id(raw.take()),
        Err(e) => Err(AwsError::from_sdk("codebuild:BatchGetBuilds", e)),
    };
    let (mut builds, not_found) = match described {
        Ok(described) => described,
        Err(e) => {
            let batch = match ids {
                [only] => only.clone(),
                [first, .., last] => format!("{} builds, {first} to {last}", ids.len()),
                [] => String::new(),
            };
            ctx.enrichment_failed(KIND.name, &DETAILS, &batch, &e);
            (HashMap::new(), HashSet::new())
        }
    };
    ids.iter()
        .filter(|id| !not_found.contains(id.as_str()))
        .map(|id| {
            let properties = match builds.remove(id.as_str()) {
                Some(build) => properties(build),
                // What `ListBuildsAction` alone gives.
                None => Map::from_iter([("Id".to_string(), json!(id))]),
            };
            item(KIND.name, properties, Some(ctx.extra_context()))
        })
        .collect()
}

/// `BatchGetBuilds`' answer: each build's JSON by its id, and the ids it reports under
/// `buildsNotFound`.
type Described = (HashMap<String, Map<String, Value>>, HashSet<String>);

fn by_id(body: Option<Value>) -> Result<Described, AwsError> {
    let not_found = body
        .as_ref()
        .and_then(|b| b.get("buildsNotFound"))
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let builds = objects(body, "builds", "codebuild:BatchGetBuilds")?
        .into_iter()
        .filter_map(|b| Some((b.get("id")?.as_str()?.to_string(), b)))
        .collect();
    Ok((builds, not_found))
}

/// aws-v3's `Properties` of one CodeBuild `Build` (its JSON).
fn properties(build: Map<String, Value>) -> Map<String, Value> {
    let mut p = Value::Object(declared_json(build, KEYS, &["startTime", "endTime"]));
    stamp(&mut p, &["Phases", "[]", "startTime"]);
    stamp(&mut p, &["Phases", "[]", "endTime"]);
    match p {
        Value::Object(p) => p,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_keys_renamed_in_model_order_phase_times_rfc3339_nulls_absent() {
        let build = json!({
            "id": "zinc:1", "arn": "arn:b", "startTime": 1700000000.25, "endTime": null,
            "buildStatus": "SUCCEEDED", "undeclared": 1,
            "phases": [{"phaseType": "SUBMITTED", "startTime": 1700000000.25,
                "endTime": 1700000001, "contexts": null}],
        });
        let Value::Object(build) = build else {
            unreachable!()
        };
        let p = properties(build);
        assert_eq!(
            Value::Object(p.clone()),
            json!({
                "Arn": "arn:b",
                "BuildStatus": "SUCCEEDED",
                "Id": "zinc:1",
                "Phases": [{"phaseType": "SUBMITTED", "startTime": "2023-11-14T22:13:20.250000Z",
                    "endTime": "2023-11-14T22:13:21Z"}],
                "StartTime": "2023-11-14T22:13:20.250000Z",
            })
        );
        let order: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(order, ["Arn", "BuildStatus", "Id", "Phases", "StartTime"]);
    }

    #[test]
    fn builds_are_read_by_id_with_those_not_found() {
        let (builds, not_found) = by_id(Some(json!({
            "builds": [{"id": "a:1"}, {"noId": true}],
            "buildsNotFound": ["b:2"],
        })))
        .unwrap();
        assert_eq!(builds.keys().collect::<Vec<_>>(), ["a:1"]);
        assert!(not_found.contains("b:2") && not_found.len() == 1);
        assert!(by_id(Some(json!({"buildsNotFound": []}))).is_err());
    }
}
