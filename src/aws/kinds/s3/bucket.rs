//! `AWS::S3::Bucket` (global): `s3:ListBuckets` once per account, then
//! `GetBucketTagging` per bucket (aws-v3's default actions). `NoSuchTagSet` means `[]`;
//! any other tagging failure leaves `Tags` out for that bucket with a warning — enrichment
//! never fails the kind, as in aws-v3.
//!
//! Optional: `GetBucketLocationAction` ([`LOCATION`]). aws-v3's other optional actions
//! (`GetPublicAccessBlockAction`, `GetBucketOwnershipControlsAction`,
//! `GetBucketEncryptionAction`) are not implemented yet, so not declared: `validate` reports
//! them instead of letting a run ignore them.
//!
//! `ListBuckets` returns every bucket whatever its region, so the region only chooses the
//! endpoint. Tagging is asked in the bucket's own region when `ListBuckets` tells it
//! (`BucketRegion`), since S3 redirects cross-region calls. `__ExtraContext` holds
//! `AccountId` only, like aws-v3.

use aws_sdk_s3::types::Bucket;
use futures::StreamExt;
use serde_json::{Map, Value, json};

use crate::aws::AwsError;
use crate::aws::credentials::s3_force_path_style;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, Props, Scope, item};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::S3::Bucket",
    scope: Scope::Global,
    list: lister!(list),
    default_actions: &[
        Action {
            name: "ListBucketsAction",
            iam: &["s3:ListAllMyBuckets"],
            adds: &[],
        },
        Action {
            name: "GetBucketTaggingAction",
            iam: &["s3:GetBucketTagging"],
            adds: &[],
        },
    ],
    optional_actions: &[LOCATION],
    fixture: Fixture {
        example: "s3-bucket",
        keys: &["BucketName", "Arn", "CreationDate", "Tags"],
    },
};

/// `GetBucketLocationAction`: `LocationConstraint` as `GetBucketLocation` answers it —
/// `null` for us-east-1, whose constraint S3 answers empty (botocore reads `None`, which
/// aws-v3 writes as `null`), `EU` for old eu-west-1 buckets, else the region. A failed call
/// leaves the key out for that bucket, with a warning, as in aws-v3.
const LOCATION: Action = Action {
    name: "GetBucketLocationAction",
    iam: &["s3:GetBucketLocation"],
    adds: &["LocationConstraint"],
};

/// Buckets enriched at once per account (each with its tagging and optional calls).
const ENRICH_CONCURRENCY: usize = 8;

fn client(ctx: &ListCtx, region: &str) -> aws_sdk_s3::Client {
    let sdk = ctx.sdk_config();
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .region(aws_config::Region::new(region.to_string()))
        .force_path_style(s3_force_path_style(&sdk))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let s3 = client(&ctx, &ctx.region);
    let mut token: Option<String> = None;
    // A manual loop (the SDK's paginator would end quietly on a token repeated at once):
    // any repeat fails the unit.
    let mut cursors = Cursors::default();
    loop {
        ctx.pace("s3").await;
        let out = s3
            .list_buckets()
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:ListBuckets", e))?;
        let items: Vec<Value> = futures::stream::iter(out.buckets().iter().cloned())
            .map(|b| {
                let ctx = ctx.clone();
                async move { bucket_item(&ctx, &b).await }
            })
            .buffered(ENRICH_CONCURRENCY)
            .collect()
            .await;
        emit.send(items).await?;
        match cursors
            .next(out.continuation_token())
            .map_err(|e| AwsError::other("s3:ListBuckets", e.to_string()))?
        {
            Some(t) => token = Some(t),
            None => return Ok(()),
        }
    }
}

async fn bucket_item(ctx: &ListCtx, b: &Bucket) -> Value {
    let name = b.name().unwrap_or_default();
    let mut p = Props::default();
    p.str("BucketName", b.name())
        .val(
            "Arn",
            json!(format!("arn:{}:s3:::{name}", ctx.partition.as_str())),
        )
        .time("CreationDate", b.creation_date());
    let s3 = client(ctx, b.bucket_region().unwrap_or(&ctx.region));
    let (tagging, location) = tokio::join!(
        async {
            ctx.pace("s3").await;
            s3.get_bucket_tagging().bucket(name).send().await
        },
        async {
            if !ctx.runs(&LOCATION) {
                return None;
            }
            ctx.pace("s3").await;
            Some(s3.get_bucket_location().bucket(name).send().await)
        }
    );
    // aws-v3's model order: LocationConstraint, then Tags.
    match location {
        None => {}
        Some(Ok(out)) => {
            let constraint = out
                .location_constraint()
                .map(|c| c.as_str())
                .filter(|c| !c.is_empty());
            p.val("LocationConstraint", json!(constraint));
        }
        Some(Err(e)) => {
            let e = AwsError::from_sdk("s3:GetBucketLocation", e);
            tracing::warn!(account = %ctx.account.id, bucket = name, error = %e, "could not read the bucket's location");
        }
    }
    match tagging {
        Ok(out) => {
            p.val(
                "Tags",
                Value::Array(
                    out.tag_set()
                        .iter()
                        .map(|t| json!({"Key": t.key(), "Value": t.value()}))
                        .collect(),
                ),
            );
        }
        Err(e) => {
            let e = AwsError::from_sdk("s3:GetBucketTagging", e);
            if e.code() == Some("NoSuchTagSet") {
                p.val("Tags", json!([]));
            } else {
                tracing::warn!(account = %ctx.account.id, bucket = name, error = %e, "could not read bucket tags");
            }
        }
    }
    let mut extra = Map::new();
    extra.insert("AccountId".into(), json!(ctx.account.id));
    item(KIND.name, p.build(), Some(extra))
}
