//! `AWS::DynamoDB::Table`: `dynamodb:ListTables` (every page) then `DescribeTable` per table
//! (aws-v3's default `ListTablesAction` and `GetTableDetailsAction`); optional
//! `GetTableTagsAction` (`ListTagsOfResource(arn)`, its first page, → `Tags`
//! `[{Key, Value}]`) and `GetTableBackupStatusAction` (`DescribeContinuousBackups` →
//! `ContinuousBackupsDescription`). A table's calls run together, [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY)
//! tables at a time per (account, service).
//!
//! As aws-v3: each item starts from `{TableName, TableArn}`, the ARN built from the
//! partition, region, account and name (what `ListTablesAction` gives), and the describe's
//! `Table` is merged over it. The model `allow`s every key: declared keys first in its
//! order, then the others as AWS sent them, read from the response's own JSON ([`RawJson`])
//! so nested values stay as AWS sent them. Timestamps (members named `…DateTime`, epoch
//! seconds on the wire, at any depth) are RFC 3339 as aws-v3's dump writes botocore's
//! datetimes; members sent as `null` are absent (botocore drops them). `__ExtraContext` is
//! `{AccountId, Region}`.
//!
//! A failed enrichment call (any of the three) leaves its keys out for that table and
//! keeps the item — a failed `DescribeTable` leaves `{TableName, TableArn}` — as aws-v3
//! does; it is logged and counted ([`ListCtx::enrichment_failed`]). A failed `ListTables`
//! fails the unit.

use serde_json::{Map, Value, json};

use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, drop_nulls, epoch_time, item,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::DynamoDB::Table",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[
        Action {
            name: "ListTablesAction",
            iam: &["dynamodb:ListTables"],
            adds: &[],
            replaces: &[],
        },
        DETAILS,
    ],
    optional_actions: &[TAGS, BACKUPS],
    fixture: Fixture {
        example: "dynamodb-table",
        keys: &[
            "TableName",
            "TableArn",
            "TableStatus",
            "CreationDateTime",
            "ProvisionedThroughput",
            "TableSizeBytes",
            "ItemCount",
            "KeySchema",
            "AttributeDefinitions",
        ],
    },
};

/// `GetTableDetailsAction` (default): the `Table` of `DescribeTable`.
const DETAILS: Action = Action {
    name: "GetTableDetailsAction",
    iam: &["dynamodb:DescribeTable"],
    adds: &[],
    replaces: &[],
};

/// `GetTableTagsAction`: `Tags`, `[{Key, Value}]`.
const TAGS: Action = Action {
    name: "GetTableTagsAction",
    iam: &["dynamodb:ListTagsOfResource"],
    adds: &["Tags"],
    replaces: &[],
};

/// `GetTableBackupStatusAction`: `ContinuousBackupsDescription`
/// (`{ContinuousBackupsStatus, PointInTimeRecoveryDescription}`).
const BACKUPS: Action = Action {
    name: "GetTableBackupStatusAction",
    iam: &["dynamodb:DescribeContinuousBackups"],
    adds: &["ContinuousBackupsDescription"],
    replaces: &[],
};

/// aws-v3's declared keys, in its model's order: they come first, the other keys of the
/// table after them.
const KEYS: &[&str] = &[
    "TableName",
    "TableArn",
    "TableId",
    "TableStatus",
    "CreationDateTime",
    "ProvisionedThroughput",
    "TableSizeBytes",
    "ItemCount",
    "BillingModeSummary",
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "LatestStreamArn",
    "LatestStreamLabel",
    "SSEDescription",
    "RestoreSummary",
    "ArchivalSummary",
    "TableClassSummary",
    "DeletionProtectionEnabled",
    "Replicas",
    "GlobalTableVersion",
    "GlobalTableWitnesses",
    "GlobalTableSettingsReplicationMode",
    "OnDemandThroughput",
    "WarmThroughput",
    "MultiRegionConsistency",
    "Tags",
    "ContinuousBackupsDescription",
];


async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let ddb = aws_sdk_dynamodb::Client::new(&ctx.sdk_config());
    let mut pages = ddb.list_tables().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("dynamodb:ListTables", &mut cursors, pages.next(), |p| {
            p.last_evaluated_table_name()
        })
        .await?
    {
        let items: Vec<Value> = ctx
            .per_resource("dynamodb", page.table_names().to_vec(), |name| {
                let (ctx, ddb) = (ctx.clone(), ddb.clone());
                async move { table_item(&ctx, &ddb, &name).await }
            })
            .await;
        emit.send(items).await?;
    }
    Ok(())
}

async fn table_item(ctx: &ListCtx, ddb: &aws_sdk_dynamodb::Client, name: &str) -> Value {
    let arn = format!(
        "arn:{}:dynamodb:{}:{}:table/{name}",
        ctx.partition.as_str(),
        ctx.region,
        ctx.account.id
    );
    let (details, tags, backups) = tokio::join!(
        async {
            ctx.pace("dynamodb").await;
            let raw = RawJson::default();
            let sent = ddb
                .describe_table()
                .table_name(name)
                .customize()
                .interceptor(raw.clone())
                .send()
                .await;
            Some(answer(sent.map(drop), raw, "Table", "dynamodb:DescribeTable"))
        },
        async {
            if !ctx.runs(&TAGS) {
                return None;
            }
            ctx.pace("dynamodb").await;
            let raw = RawJson::default();
            let sent = ddb
                .list_tags_of_resource()
                .resource_arn(&arn)
                .customize()
                .interceptor(raw.clone())
                .send()
                .await;
            Some(answer(sent.map(drop), raw, "Tags", "dynamodb:ListTagsOfResource"))
        },
        async {
            if !ctx.runs(&BACKUPS) {
                return None;
            }
            ctx.pace("dynamodb").await;
            let raw = RawJson::default();
            let sent = ddb
                .describe_continuous_backups()
                .table_name(name)
                .customize()
                .interceptor(raw.clone())
                .send()
                .await;
            Some(answer(
                sent.map(drop),
                raw,
                "ContinuousBackupsDescription",
                "dynamodb:DescribeContinuousBackups",
            ))
        }
    );
    // What `ListTablesAction` gives, then each action's result merged over it in aws-v3's
    // action order.
    let mut merged = Map::new();
    merged.insert("TableName".into(), json!(name));
    merged.insert("TableArn".into(), json!(arn));
    let failed = |action: &Action, e: AwsError| ctx.enrichment_failed(KIND.name, action, name, &e);
    match details {
        Some(Ok(Value::Object(table))) => merged.extend(table),
        Some(Ok(_)) => failed(
            &DETAILS,
            AwsError::other("dynamodb:DescribeTable", "the answer has no Table object"),
        ),
        Some(Err(e)) => failed(&DETAILS, e),
        None => {}
    }
    for (action, result) in [(&TAGS, tags), (&BACKUPS, backups)] {
        match result {
            Some(Ok(v)) => {
                merged.insert(action.adds[0].into(), v);
            }
            Some(Err(e)) => failed(action, e),
            None => {}
        }
    }
    item(KIND.name, properties(merged), Some(ctx.extra_context()))
}

/// The member `key` of a call's JSON answer, or the call's error.
fn answer<E>(
    sent: Result<(), aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>>,
    raw: RawJson,
    key: &str,
    operation: &'static str,
) -> Result<Value, AwsError>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    sent.map_err(|e| AwsError::from_sdk(operation, e))?;
    raw.take()
        .as_mut()
        .and_then(|b| b.get_mut(key))
        .map(Value::take)
        .ok_or_else(|| AwsError::other(operation, format!("the answer has no {key}")))
}

/// aws-v3's `Properties` of a merged table: no `null` members, timestamps RFC 3339, the
/// declared keys first in the model's order, then the others in the order AWS sent them.
fn properties(merged: Map<String, Value>) -> Map<String, Value> {
    let mut all = Value::Object(merged);
    drop_nulls(&mut all);
    stamp_date_times(&mut all);
    let Value::Object(mut all) = all else {
        return Map::new();
    };
    // `shift_remove`: the keys left keep AWS's order (`remove` swaps the last one in).
    let mut p: Map<String, Value> = KEYS
        .iter()
        .filter_map(|k| all.shift_remove(*k).map(|v| (k.to_string(), v)))
        .collect();
    p.extend(all);
    p
}

/// Turns every member named `…DateTime` holding a number (DynamoDB's epoch seconds) into an
/// RFC 3339 string, at any depth: DynamoDB's timestamp members all have that suffix.
fn stamp_date_times(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if k.ends_with("DateTime")
                    && let Some(secs) = v.as_f64()
                {
                    *v = epoch_time(secs);
                } else {
                    stamp_date_times(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(stamp_date_times),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_keys_first_then_the_rest_nulls_absent_and_date_times_rfc3339() {
        let merged = json!({
            "TableName": "t", "TableArn": "arn", "Unknown": {"X": null, "Y": 1},
            "ItemCount": 0, "CreationDateTime": 1700000000.691, "LatestStreamArn": null,
            "ProvisionedThroughput": {"LastIncreaseDateTime": 1700000001, "ReadCapacityUnits": 5},
        });
        let p = properties(merged.as_object().unwrap().clone());
        assert_eq!(
            Value::Object(p.clone()),
            json!({"TableName": "t", "TableArn": "arn",
                "CreationDateTime": "2023-11-14T22:13:20.691000Z",
                "ProvisionedThroughput": {"LastIncreaseDateTime": "2023-11-14T22:13:21Z", "ReadCapacityUnits": 5},
                "ItemCount": 0, "Unknown": {"Y": 1}})
        );
        let order: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(
            order,
            ["TableName", "TableArn", "CreationDateTime", "ProvisionedThroughput", "ItemCount", "Unknown"]
        );
    }
}
