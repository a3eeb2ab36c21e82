//! `AWS::CodeBuild::Project`: `codebuild:ListProjects` (names, every page), then
//! `BatchGetProjects` per batch of at most 100 names, as aws-v3's `GetProjectDetailsAction`
//! (its only action, a default one).
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are its 29 declared keys that
//! CodeBuild returned, PascalCase in the model's order, read from the answer's own JSON
//! ([`RawJson`]) so nested values keep CodeBuild's camelCase (`Tags: [{key, value}]`,
//! `Source.gitCloneDepth`); `Created`, `LastModified` and `Webhook.lastModifiedSecret`,
//! epoch seconds on the wire, are RFC 3339. A member sent as `null` is absent.
//! `__ExtraContext` is `{AccountId, Region}`.
//!
//! A project `BatchGetProjects` reports under `projectsNotFound` (deleted since the listing)
//! is left out, as aws-v3 does. A failed `BatchGetProjects` fails the unit: aws-v3 builds a
//! project's item from that call alone, so it would emit nothing for the batch, and projects
//! that exist would look deleted to reconciliation. A failed `ListProjects` fails the unit.

use serde_json::{Map, Value};

use super::{BATCH, objects, stamp};
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, item,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::CodeBuild::Project",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "GetProjectDetailsAction",
        iam: &["codebuild:ListProjects", "codebuild:BatchGetProjects"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[],
    fixture: Fixture {
        example: "codebuild-project",
        keys: &[
            "Name",
            "Arn",
            "Description",
            "Source",
            "Artifacts",
            "Environment",
            "ServiceRole",
            "TimeoutInMinutes",
            "QueuedTimeoutInMinutes",
            "EncryptionKey",
            "Tags",
            "Cache",
            "Created",
        ],
    },
};

/// aws-v3's declared keys, CodeBuild's name and the `Properties` name, in its model's order.
const KEYS: &[(&str, &str)] = &[
    ("arn", "Arn"),
    ("artifacts", "Artifacts"),
    ("autoRetryLimit", "AutoRetryLimit"),
    ("badge", "Badge"),
    ("buildBatchConfig", "BuildBatchConfig"),
    ("cache", "Cache"),
    ("concurrentBuildLimit", "ConcurrentBuildLimit"),
    ("created", "Created"),
    ("description", "Description"),
    ("encryptionKey", "EncryptionKey"),
    ("environment", "Environment"),
    ("fileSystemLocations", "FileSystemLocations"),
    ("lastModified", "LastModified"),
    ("logsConfig", "LogsConfig"),
    ("name", "Name"),
    ("projectVisibility", "ProjectVisibility"),
    ("publicProjectAlias", "PublicProjectAlias"),
    ("queuedTimeoutInMinutes", "QueuedTimeoutInMinutes"),
    ("resourceAccessRole", "ResourceAccessRole"),
    ("secondaryArtifacts", "SecondaryArtifacts"),
    ("secondarySources", "SecondarySources"),
    ("secondarySourceVersions", "SecondarySourceVersions"),
    ("serviceRole", "ServiceRole"),
    ("source", "Source"),
    ("sourceVersion", "SourceVersion"),
    ("tags", "Tags"),
    ("timeoutInMinutes", "TimeoutInMinutes"),
    ("vpcConfig", "VpcConfig"),
    ("webhook", "Webhook"),
];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let codebuild = aws_sdk_codebuild::Client::new(&ctx.sdk_config());
    let mut pages = codebuild.list_projects().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("codebuild:ListProjects", &mut cursors, pages.next(), |p| {
            p.next_token()
        })
        .await?
    {
        for names in page.projects().chunks(BATCH) {
            ctx.pace("codebuild").await;
            let raw = RawJson::default();
            codebuild
                .batch_get_projects()
                .set_names(Some(names.to_vec()))
                .customize()
                .interceptor(raw.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("codebuild:BatchGetProjects", e))?;
            let items = objects(raw.take(), "projects", "codebuild:BatchGetProjects")?
                .into_iter()
                .map(|p| item(KIND.name, properties(p), Some(ctx.extra_context())))
                .collect();
            emit.send(items).await?;
        }
    }
    Ok(())
}

/// aws-v3's `Properties` of one CodeBuild `Project` (its JSON).
fn properties(project: Map<String, Value>) -> Map<String, Value> {
    let mut p = Value::Object(declared_json(
        project,
        KEYS,
        &["created", "lastModified"],
    ));
    stamp(&mut p, &["Webhook", "lastModifiedSecret"]);
    match p {
        Value::Object(p) => p,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn declared_keys_renamed_in_model_order_timestamps_rfc3339_nulls_absent() {
        let project = json!({
            "name": "zinc", "arn": "arn:p", "created": 1700000000.25, "lastModified": 1700000001,
            "undeclared": 1, "description": null,
            "webhook": {"url": "u", "lastModifiedSecret": 1700000002.5, "secret": null},
            "tags": [{"key": "team", "value": "platform"}],
        });
        let Value::Object(project) = project else {
            unreachable!()
        };
        assert_eq!(
            Value::Object(properties(project)),
            json!({
                "Arn": "arn:p",
                "Created": "2023-11-14T22:13:20.250000Z",
                "LastModified": "2023-11-14T22:13:21Z",
                "Name": "zinc",
                "Tags": [{"key": "team", "value": "platform"}],
                "Webhook": {"url": "u", "lastModifiedSecret": "2023-11-14T22:13:22.500000Z"},
            })
        );
    }
}
