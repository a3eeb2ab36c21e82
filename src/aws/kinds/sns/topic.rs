//! `AWS::SNS::Topic`: `sns:ListTopics`, every page, then per topic `GetTopicAttributes`
//! (aws-v3's default actions `ListTopicsAction` and `GetTopicAttributesAction`) and, when
//! asked for, `ListTagsForResource` ([`TAGS`]).
//!
//! aws-v3's model is `ignore`: `Properties` hold its declared attributes only, in its
//! order ([`ATTRIBUTES`]), the counts, sample rates and FIFO flags typed as it types them
//! (`"3"` → `3`, `"true"` → `true`, [`typed`]); `TopicArn` is always there (from the
//! listing). `Tags` is `[{Key, Value}]`, `[]` for an untagged topic.
//!
//! A failed `GetTopicAttributes` leaves the topic with its `TopicArn` (and tags) only, a
//! failed `ListTagsForResource` leaves `Tags` out, as in aws-v3; both are logged and
//! counted ([`ListCtx::enrichment_failed`]). aws-v3 drops the attributes of the whole page
//! when one topic's call fails with anything but not-found or access-denied; here only that
//! topic's are missing. `__ExtraContext` is `{AccountId, Region}`.

use serde_json::{Map, Value, json};

use crate::aws::AwsError;
use crate::aws::kinds::attributes::{Ty, typed};
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, Regions, Scope, item};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::SNS::Topic",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[
        Action {
            name: "ListTopicsAction",
            iam: &["sns:ListTopics"],
            adds: &[],
            replaces: &[],
        },
        ATTRIBUTES_ACTION,
    ],
    optional_actions: &[TAGS],
    fixture: Fixture {
        example: "sns-topic",
        keys: &[
            "TopicArn",
            "Owner",
            "DisplayName",
            "Policy",
            "EffectiveDeliveryPolicy",
            "SubscriptionsConfirmed",
            "SubscriptionsDeleted",
            "SubscriptionsPending",
        ],
    },
};

/// `GetTopicAttributesAction`, the default one, for failure counts.
const ATTRIBUTES_ACTION: Action = Action {
    name: "GetTopicAttributesAction",
    iam: &["sns:GetTopicAttributes"],
    adds: &[],
    replaces: &[],
};

/// `GetTopicTagsAction`: `Tags`, `[{Key, Value}]` from `ListTagsForResource`.
const TAGS: Action = Action {
    name: "GetTopicTagsAction",
    iam: &["sns:ListTagsForResource"],
    adds: &["Tags"],
    replaces: &[],
};

/// aws-v3's declared attributes after `TopicArn`, in its model's order, with their types.
/// `Tags` comes last.
const ATTRIBUTES: &[(&str, Ty)] = &[
    ("Owner", Ty::Str),
    ("DisplayName", Ty::Str),
    ("Policy", Ty::Str),
    ("DeliveryPolicy", Ty::Str),
    ("EffectiveDeliveryPolicy", Ty::Str),
    ("SubscriptionsConfirmed", Ty::Int),
    ("SubscriptionsDeleted", Ty::Int),
    ("SubscriptionsPending", Ty::Int),
    ("SignatureVersion", Ty::Str),
    ("TracingConfig", Ty::Str),
    ("KmsMasterKeyId", Ty::Str),
    ("FifoTopic", Ty::Bool),
    ("ContentBasedDeduplication", Ty::Bool),
    ("ArchivePolicy", Ty::Str),
    ("BeginningArchiveTime", Ty::Str),
    ("FifoThroughputScope", Ty::Str),
    ("HTTPSuccessFeedbackRoleArn", Ty::Str),
    ("HTTPSuccessFeedbackSampleRate", Ty::Int),
    ("HTTPFailureFeedbackRoleArn", Ty::Str),
    ("FirehoseSuccessFeedbackRoleArn", Ty::Str),
    ("FirehoseSuccessFeedbackSampleRate", Ty::Int),
    ("FirehoseFailureFeedbackRoleArn", Ty::Str),
    ("LambdaSuccessFeedbackRoleArn", Ty::Str),
    ("LambdaSuccessFeedbackSampleRate", Ty::Int),
    ("LambdaFailureFeedbackRoleArn", Ty::Str),
    ("ApplicationSuccessFeedbackRoleArn", Ty::Str),
    ("ApplicationSuccessFeedbackSampleRate", Ty::Int),
    ("ApplicationFailureFeedbackRoleArn", Ty::Str),
    ("SQSSuccessFeedbackRoleArn", Ty::Str),
    ("SQSSuccessFeedbackSampleRate", Ty::Int),
    ("SQSFailureFeedbackRoleArn", Ty::Str),
];


async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let sns = aws_sdk_sns::Client::new(&ctx.sdk_config());
    let mut pages = sns.list_topics().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("sns:ListTopics", &mut cursors, pages.next(), |p| {
            p.next_token()
        })
        .await?
    {
        let arns: Vec<String> = page
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn().map(str::to_string))
            .collect();
        let items: Vec<Value> = ctx
            .per_resource("sns", arns, |arn| {
                let (ctx, sns) = (ctx.clone(), sns.clone());
                async move { topic_item(&ctx, &sns, &arn).await }
            })
            .await;
        emit.send(items).await?;
    }
    Ok(())
}

async fn topic_item(ctx: &ListCtx, sns: &aws_sdk_sns::Client, arn: &str) -> Value {
    let (attributes, tags) = tokio::join!(
        async {
            ctx.pace("sns").await;
            sns.get_topic_attributes().topic_arn(arn).send().await
        },
        async {
            if !ctx.runs(&TAGS) {
                return None;
            }
            ctx.pace("sns").await;
            Some(sns.list_tags_for_resource().resource_arn(arn).send().await)
        }
    );
    let mut p = Map::new();
    p.insert("TopicArn".into(), json!(arn));
    match attributes {
        Ok(out) => {
            if let Some(attributes) = out.attributes() {
                let by_name = attributes
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                typed(ctx, arn, &by_name, ATTRIBUTES, &mut p);
            }
        }
        Err(e) => ctx.enrichment_failed(
            KIND.name,
            &ATTRIBUTES_ACTION,
            arn,
            &AwsError::from_sdk("sns:GetTopicAttributes", e),
        ),
    }
    match tags {
        None => {}
        Some(Ok(out)) => {
            p.insert(
                "Tags".into(),
                Value::Array(
                    out.tags()
                        .iter()
                        .map(|t| json!({"Key": t.key(), "Value": t.value()}))
                        .collect(),
                ),
            );
        }
        Some(Err(e)) => ctx.enrichment_failed(
            KIND.name,
            &TAGS,
            arn,
            &AwsError::from_sdk("sns:ListTagsForResource", e),
        ),
    }
    item(KIND.name, p, Some(ctx.extra_context()))
}
