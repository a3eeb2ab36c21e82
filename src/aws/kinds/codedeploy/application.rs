//! `AWS::CodeDeploy::Application`: `codedeploy:ListApplications` (names, every page, each
//! page sorted as aws-v3 sorts it), then `BatchGetApplications` per batch of at most 100
//! names (aws-v3's `GetCodeDeployApplicationDetailsAction`) and `ListTagsForResource` of
//! `arn:<partition>:codedeploy:<region>:<account>:application:<name>` per application
//! (`GetCodeDeployApplicationTagsAction`); both actions are default ones.
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are its 7 declared keys that
//! CodeDeploy returned, PascalCase in the model's order, read from the answer's own JSON
//! ([`RawJson`]); `CreateTime`, epoch seconds on the wire, is RFC 3339; `Tags` is
//! `[{Key, Value}]` as CodeDeploy sends it. A member sent as `null` is absent.
//! `__ExtraContext` is `{AccountId, Region}`.
//!
//! A failed `ListTagsForResource` keeps the application without `Tags`, as aws-v3 does,
//! logged and counted ([`ListCtx::enrichment_failed`]). A failed `BatchGetApplications`
//! fails the unit: aws-v3 would emit the batch's applications with their tags alone (no
//! name, no id), so the entities a mapping identifies by name or id would look deleted to
//! reconciliation. A failed `ListApplications` fails the unit.

use serde_json::{Map, Value};

use super::{BATCH, arn, objects, tags};
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, declared_json, item,
};
use crate::pagination::Cursors;

const TAGS: Action = Action {
    name: "GetCodeDeployApplicationTagsAction",
    iam: &["codedeploy:ListTagsForResource"],
    adds: &["Tags"],
    replaces: &[],
};

pub const KIND: Kind = Kind {
    name: "AWS::CodeDeploy::Application",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[
        Action {
            name: "GetCodeDeployApplicationDetailsAction",
            iam: &[
                "codedeploy:ListApplications",
                "codedeploy:BatchGetApplications",
            ],
            adds: &[],
            replaces: &[],
        },
        TAGS,
    ],
    optional_actions: &[],
    fixture: Fixture {
        example: "codedeploy-application",
        keys: &[
            "ApplicationName",
            "ApplicationId",
            "ComputePlatform",
            "CreateTime",
            "Tags",
        ],
    },
};

/// aws-v3's declared keys, CodeDeploy's name and the `Properties` name, in its model's
/// order (`Tags` comes from `ListTagsForResource`, after them).
const KEYS: &[(&str, &str)] = &[
    ("applicationName", "ApplicationName"),
    ("applicationId", "ApplicationId"),
    ("computePlatform", "ComputePlatform"),
    ("createTime", "CreateTime"),
    ("gitHubAccountName", "GitHubAccountName"),
    ("linkedToGitHub", "LinkedToGitHub"),
];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let codedeploy = aws_sdk_codedeploy::Client::new(&ctx.sdk_config());
    let mut pages = codedeploy.list_applications().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page(
            "codedeploy:ListApplications",
            &mut cursors,
            pages.next(),
            |p| p.next_token(),
        )
        .await?
    {
        let mut names = page.applications().to_vec();
        names.sort();
        for names in names.chunks(BATCH) {
            ctx.pace("codedeploy").await;
            let raw = RawJson::default();
            codedeploy
                .batch_get_applications()
                .set_application_names(Some(names.to_vec()))
                .customize()
                .interceptor(raw.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("codedeploy:BatchGetApplications", e))?;
            let mut found = objects(
                raw.take(),
                "applicationsInfo",
                "codedeploy:BatchGetApplications",
            )?;
            // aws-v3 sorts the answer by name (and its items follow that order).
            found.sort_by(|a, b| name(a).cmp(name(b)));
            let items = ctx
                .per_resource("codedeploy", found, |application| {
                    let (ctx, codedeploy) = (ctx.clone(), codedeploy.clone());
                    async move {
                        let arn = arn(&ctx, &format!("application:{}", name(&application)));
                        let tags = tags(&ctx, &codedeploy, KIND.name, &TAGS, &arn).await;
                        item(
                            KIND.name,
                            properties(application, tags),
                            Some(ctx.extra_context()),
                        )
                    }
                })
                .await;
            emit.send(items).await?;
        }
    }
    Ok(())
}

/// An application's `applicationName` (empty if CodeDeploy sent none).
fn name(application: &Map<String, Value>) -> &str {
    application
        .get("applicationName")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// aws-v3's `Properties` of one `ApplicationInfo` (its JSON) and its tags, when known.
fn properties(application: Map<String, Value>, tags: Option<Value>) -> Map<String, Value> {
    let mut p = declared_json(application, KEYS, &["createTime"]);
    if let Some(tags) = tags {
        p.insert("Tags".into(), tags);
    }
    p
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn declared_keys_in_model_order_create_time_rfc3339_nulls_absent_tags_last() {
        let Value::Object(app) = json!({
            "createTime": 1700000000.25, "linkedToGitHub": false, "applicationName": "zinc",
            "gitHubAccountName": null, "computePlatform": "Server", "applicationId": "id-1",
            "undeclared": 1,
        }) else {
            unreachable!()
        };
        let p = properties(app, Some(json!([{"Key": "team", "Value": "platform"}])));
        assert_eq!(
            Value::Object(p.clone()),
            json!({
                "ApplicationName": "zinc", "ApplicationId": "id-1", "ComputePlatform": "Server",
                "CreateTime": "2023-11-14T22:13:20.250000Z", "LinkedToGitHub": false,
                "Tags": [{"Key": "team", "Value": "platform"}],
            })
        );
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            [
                "ApplicationName",
                "ApplicationId",
                "ComputePlatform",
                "CreateTime",
                "LinkedToGitHub",
                "Tags"
            ]
        );
        assert!(!properties(Map::new(), None).contains_key("Tags"));
    }
}
