//! RDS kinds, and what they share: RDS is a query (XML) protocol service, so there is no
//! JSON body to pass through (as ECS does); each kind converts the SDK's types explicitly,
//! member for member in botocore's names, and keeps lists AWS sent empty (`[]`) apart from
//! lists it did not send (absent) by reading the SDK's `Option<Vec<_>>` fields.

use aws_sdk_rds::types::Tag;
use serde_json::Value;

use super::{Action, ListCtx, obj};
use crate::aws::AwsError;

kinds![db_instance, db_cluster];

/// RDS's `[{Key, Value}]` tags.
fn tag(t: &Tag) -> Value {
    obj(|o| {
        o.str("Key", t.key()).str("Value", t.value());
    })
}

/// The `[{Key, Value}]` tags of each ARN, `ListTagsForResource(ResourceName=arn)`, in the
/// order of `arns`, [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) calls at a time. A failed call gives `None` for
/// its resource (its tags key is left out, the item is still emitted, as aws-v3 does), logged
/// and counted as a failure of `kind`'s `action`.
async fn tags_of(
    ctx: &ListCtx,
    rds: &aws_sdk_rds::Client,
    kind: &'static str,
    action: &'static Action,
    arns: Vec<Option<String>>,
) -> Vec<Option<Value>> {
    ctx.per_resource("rds", arns, |arn| {
        let (ctx, rds) = (ctx.clone(), rds.clone());
        async move {
            // A resource without an ARN cannot be asked for (aws-v3 raises a KeyError
            // there, which drops the batch's tags); it just has no tags key.
            let arn = arn?;
            ctx.pace("rds").await;
            match rds
                .list_tags_for_resource()
                .resource_name(&arn)
                .send()
                .await
            {
                Ok(out) => Some(Value::Array(out.tag_list().iter().map(tag).collect())),
                Err(e) => {
                    let e = AwsError::from_sdk("rds:ListTagsForResource", e);
                    ctx.enrichment_failed(kind, action, &arn, &e);
                    None
                }
            }
        }
    })
    .await
}
