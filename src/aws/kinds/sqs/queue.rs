//! `AWS::SQS::Queue`: `sqs:ListQueues`, every page, then per queue
//! `GetQueueAttributes(All)` (aws-v3's default actions `ListQueuesAction` and
//! `GetQueueAttributesAction`) and, when asked for, `ListQueueTags` ([`TAGS`]).
//!
//! aws-v3's model is `forbid`: `Properties` hold only its declared keys, in its declared
//! order ([`ATTRIBUTES`]). SQS answers every attribute as a string; aws-v3's model types
//! some of them, so `"30"` becomes `30` and `"true"` becomes `true` as pydantic coerces
//! them ([`typed`]), and the timestamps stay the epoch-second strings SQS sends.
//! `QueueName` is declared by aws-v3 but never set, so it is never there.
//!
//! Where aws-v3 would fail the whole batch — an attribute its model does not declare (the
//! `forbid` policy raises), a value it cannot coerce — the key is left out with a warning
//! instead, so a new SQS attribute cannot stop a sync.
//!
//! `ListQueues` returns a `NextToken` only when `MaxResults` is set, and at most 1000 queues
//! without it (aws-v3 sets none, so it stops there); pages of 1000 are asked for so every
//! queue of the region is listed.
//!
//! A failed `GetQueueAttributes` leaves the queue with its `QueueUrl` (and tags) only, a
//! failed `ListQueueTags` leaves `Tags` out, as in aws-v3; both are logged and counted
//! ([`ListCtx::enrichment_failed`]). aws-v3 drops the attributes of the whole batch when one
//! queue's call fails with anything but not-found or access-denied; here only that queue's
//! are missing. `__ExtraContext` is `{AccountId, Region}`.

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Map, Value, json};

use crate::aws::AwsError;
use crate::aws::kinds::attributes::{Ty, typed};
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, Regions, Scope, item};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::SQS::Queue",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[
        Action {
            name: "ListQueuesAction",
            iam: &["sqs:ListQueues"],
            adds: &[],
            replaces: &[],
        },
        ATTRIBUTES_ACTION,
    ],
    optional_actions: &[TAGS],
    fixture: Fixture {
        example: "sqs-queue",
        keys: &[
            "QueueUrl",
            "QueueArn",
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
            "CreatedTimestamp",
            "LastModifiedTimestamp",
            "VisibilityTimeout",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
        ],
    },
};

/// `GetQueueAttributesAction`, the default one, for failure counts.
const ATTRIBUTES_ACTION: Action = Action {
    name: "GetQueueAttributesAction",
    iam: &["sqs:GetQueueAttributes"],
    adds: &[],
    replaces: &[],
};

/// `ListQueueTagsAction`: `Tags`, the queue's tags as a map (`{}` when it has none).
const TAGS: Action = Action {
    name: "ListQueueTagsAction",
    iam: &["sqs:ListQueueTags"],
    adds: &["Tags"],
    replaces: &[],
};

/// aws-v3's declared attributes after `QueueUrl`, in its model's order (its JSON dump's
/// key order), with their types. `Tags` comes last.
const ATTRIBUTES: &[(&str, Ty)] = &[
    ("QueueArn", Ty::Str),
    ("ApproximateNumberOfMessages", Ty::Int),
    ("ApproximateNumberOfMessagesNotVisible", Ty::Int),
    ("ApproximateNumberOfMessagesDelayed", Ty::Int),
    ("CreatedTimestamp", Ty::Str),
    ("LastModifiedTimestamp", Ty::Str),
    ("VisibilityTimeout", Ty::Int),
    ("MaximumMessageSize", Ty::Int),
    ("MessageRetentionPeriod", Ty::Int),
    ("DelaySeconds", Ty::Int),
    ("ReceiveMessageWaitTimeSeconds", Ty::Int),
    ("Policy", Ty::Str),
    ("RedrivePolicy", Ty::Str),
    ("RedriveAllowPolicy", Ty::Str),
    ("KmsMasterKeyId", Ty::Str),
    ("KmsDataKeyReusePeriodSeconds", Ty::Int),
    ("SqsManagedSseEnabled", Ty::Bool),
    ("FifoQueue", Ty::Bool),
    ("ContentBasedDeduplication", Ty::Bool),
    ("DeduplicationScope", Ty::Str),
    ("FifoThroughputLimit", Ty::Str),
];


/// `ListQueues` page size: SQS's largest, and what makes it return a `NextToken`.
const PAGE_SIZE: i32 = 1000;

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk_config());
    let mut pages = sqs
        .list_queues()
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("sqs:ListQueues", &mut cursors, pages.next(), |p| {
            p.next_token()
        })
        .await?
    {
        let items: Vec<Value> = ctx
            .per_resource("sqs", page.queue_urls.unwrap_or_default(), |url| {
                let (ctx, sqs) = (ctx.clone(), sqs.clone());
                async move { queue_item(&ctx, &sqs, &url).await }
            })
            .await;
        emit.send(items).await?;
    }
    Ok(())
}

async fn queue_item(ctx: &ListCtx, sqs: &aws_sdk_sqs::Client, url: &str) -> Value {
    let (attributes, tags) = tokio::join!(
        async {
            ctx.pace("sqs").await;
            sqs.get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::All)
                .send()
                .await
        },
        async {
            if !ctx.runs(&TAGS) {
                return None;
            }
            ctx.pace("sqs").await;
            Some(sqs.list_queue_tags().queue_url(url).send().await)
        }
    );
    let mut p = Map::new();
    p.insert("QueueUrl".into(), json!(url));
    match attributes {
        Ok(out) => {
            if let Some(attributes) = out.attributes() {
                let by_name = attributes
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                typed(ctx, url, &by_name, ATTRIBUTES, &mut p);
            }
        }
        Err(e) => ctx.enrichment_failed(
            KIND.name,
            &ATTRIBUTES_ACTION,
            url,
            &AwsError::from_sdk("sqs:GetQueueAttributes", e),
        ),
    }
    match tags {
        None => {}
        Some(Ok(out)) => {
            let tags: Map<String, Value> = out
                .tags()
                .map(|t| {
                    let mut t: Vec<_> = t.iter().collect();
                    // A HashMap has no order; SQS's answer has none either.
                    t.sort();
                    t.into_iter().map(|(k, v)| (k.clone(), json!(v))).collect()
                })
                .unwrap_or_default();
            p.insert("Tags".into(), Value::Object(tags));
        }
        Some(Err(e)) => ctx.enrichment_failed(
            KIND.name,
            &TAGS,
            url,
            &AwsError::from_sdk("sqs:ListQueueTags", e),
        ),
    }
    item(KIND.name, p, Some(ctx.extra_context()))
}
