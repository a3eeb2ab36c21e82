//! `AWS::MemoryDB::User`: `memorydb:DescribeUsers`, every page, as aws-v3's
//! `DescribeMemoryDbUsersAction`; optionally `ListTagsForMemoryDbUserAction` ([`TAGS`]).
//! Listed only in the regions of aws-v3's MemoryDB allow-list ([`REGIONS`]).
//!
//! aws-v3's model `allow`s every key: `Properties` are every member AWS returned for the
//! user, read from the response's own JSON ([`RawJson`]; MemoryDB's JSON is PascalCase
//! already), its declared keys first in the model's order (`Name, Status, AccessString,
//! ACLNames, MinimumEngineVersion, ARN, Authentication, TagList`), then the others as AWS
//! sent them; members sent as `null` are absent (botocore drops them). `User` has no
//! timestamp member. `__ExtraContext` is `{AccountId, Region}`.
//!
//! [`TAGS`] calls `ListTags(ResourceArn=ARN)` once per user, at most
//! [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) at once, and sets `TagList` to the answer's. A failed call
//! (or an answer without `TagList`, on which aws-v3 fails too) leaves that user's `TagList`
//! out and keeps the item, logged and counted ([`ListCtx::enrichment_failed`]). A failed
//! `DescribeUsers` fails the unit.

use serde_json::{Map, Value};

use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, RawJson, Regions, Scope, drop_nulls, item, obj,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::MemoryDB::User",
    scope: Scope::Regional(Regions::Only(REGIONS)),
    list: lister!(list),
    default_actions: &[Action {
        name: "DescribeMemoryDbUsersAction",
        iam: &["memorydb:DescribeUsers"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[TAGS],
    fixture: Fixture {
        example: "memorydb-user",
        keys: &[
            "Name",
            "Status",
            "AccessString",
            "ACLNames",
            "MinimumEngineVersion",
            "Authentication",
            "ARN",
            "TagList",
        ],
    },
};

/// aws-v3's `MEMORYDB_SUPPORTED_REGIONS`, in its order: the only regions it lists MemoryDB
/// users in.
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-east-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
];

/// `ListTagsForMemoryDbUserAction`: `TagList`, `[{Key, Value}]`.
const TAGS: Action = Action {
    name: "ListTagsForMemoryDbUserAction",
    iam: &["memorydb:ListTags"],
    adds: &["TagList"],
    replaces: &[],
};

/// aws-v3's declared keys, in its model's order.
const DECLARED: &[&str] = &[
    "Name",
    "Status",
    "AccessString",
    "ACLNames",
    "MinimumEngineVersion",
    "ARN",
    "Authentication",
    "TagList",
];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let memorydb = aws_sdk_memorydb::Client::new(&ctx.sdk_config());
    let mut token: Option<String> = None;
    let mut cursors = Cursors::default();
    loop {
        // One call at a time, each with its own body catcher (the SDK's paginator cannot
        // take an interceptor per call).
        let raw = RawJson::default();
        let call = memorydb
            .describe_users()
            .set_next_token(token.take())
            .customize()
            .interceptor(raw.clone())
            .send();
        let Some(page) = ctx
            .next_page(
                "memorydb:DescribeUsers",
                &mut cursors,
                async { Some(call.await) },
                |p| p.next_token(),
            )
            .await?
        else {
            return Ok(());
        };
        let users = raw.items("Users", page.users().is_empty(), "memorydb:DescribeUsers")?;
        let items: Vec<Value> = ctx
            .per_resource("memorydb", users, |user| {
                let (ctx, memorydb) = (ctx.clone(), memorydb.clone());
                async move {
                    let tags = match user.get("ARN").and_then(Value::as_str) {
                        Some(arn) if ctx.runs(&TAGS) => tags(&ctx, &memorydb, arn).await,
                        _ => None,
                    };
                    item(
                        KIND.name,
                        properties(user, tags),
                        Some(ctx.extra_context()),
                    )
                }
            })
            .await;
        emit.send(items).await?;
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(()),
        }
    }
}

/// `ListTags` of one user: its `TagList`; `None`, logged and counted, when the call failed
/// or answered no `TagList`.
async fn tags(ctx: &ListCtx, memorydb: &aws_sdk_memorydb::Client, arn: &str) -> Option<Value> {
    ctx.pace("memorydb").await;
    let error = match memorydb.list_tags().resource_arn(arn).send().await {
        Ok(out) => match out.tag_list {
            Some(tags) => {
                return Some(Value::Array(
                    tags.iter()
                        .map(|t| {
                            obj(|o| {
                                o.str("Key", t.key()).str("Value", t.value());
                            })
                        })
                        .collect(),
                ));
            }
            // aws-v3 reads `response["TagList"]`: a KeyError, no tags.
            None => AwsError::other("memorydb:ListTags", "the answer has no TagList"),
        },
        Err(e) => AwsError::from_sdk("memorydb:ListTags", e),
    };
    ctx.enrichment_failed(KIND.name, &TAGS, arn, &error);
    None
}

/// aws-v3's `Properties` of one user (its JSON) and its tags, when asked for and got: the
/// declared keys first in the model's order, then the rest as AWS sent them, nulls absent.
fn properties(user: Value, tags: Option<Value>) -> Map<String, Value> {
    let Value::Object(mut user) = user else {
        return Map::new();
    };
    if let Some(tags) = tags {
        // aws-v3's dict merge: the action's `TagList` over anything the user had.
        user.insert("TagList".into(), tags);
    }
    let mut all = Value::Object(user);
    drop_nulls(&mut all);
    let Value::Object(mut user) = all else {
        return Map::new();
    };
    let mut props: Map<String, Value> = DECLARED
        .iter()
        .filter_map(|k| user.remove(*k).map(|v| (k.to_string(), v)))
        .collect();
    props.extend(user);
    props
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn declared_keys_first_in_model_order_then_the_rest_nulls_absent() {
        let user = json!({
            "Authentication": {"Type": "password", "PasswordCount": 1},
            "ARN": "arn:u", "Name": "u", "Unmodelled": {"A": null, "B": 1},
            "Status": "active", "MinimumEngineVersion": null, "ACLNames": [],
        });
        let p = properties(user, Some(json!([{"Key": "team", "Value": "core"}])));
        let order: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(
            order,
            ["Name", "Status", "ACLNames", "ARN", "Authentication", "TagList", "Unmodelled"]
        );
        assert_eq!(p["Unmodelled"], json!({"B": 1}));
        assert_eq!(p["ACLNames"], json!([]));
        assert!(properties(json!({"Name": "u"}), None).get("TagList").is_none());
    }

    #[test]
    fn listed_only_in_aws_v3_s_memorydb_regions() {
        let Scope::Regional(regions) = KIND.scope else {
            panic!("MemoryDB users are regional");
        };
        assert_eq!(REGIONS.len(), 21);
        for r in ["eu-west-1", "us-east-1", "eu-south-2", "us-gov-west-1"] {
            assert!(regions.includes(r), "{r}");
        }
        for r in ["ap-northeast-3", "af-south-1", "me-south-1", "ap-southeast-3"] {
            assert!(!regions.includes(r), "{r}");
        }
    }
}
