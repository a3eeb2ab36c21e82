//! `AWS::S3::Bucket` (global): `s3:ListBuckets` once per account, then
//! `GetBucketTagging` per bucket (aws-v3's default actions). `NoSuchTagSet` means `[]`;
//! any other tagging failure leaves `Tags` out for that bucket — enrichment never fails the
//! kind, as in aws-v3 — and is logged and counted ([`ListCtx::enrichment_failed`]).
//!
//! Optional, aws-v3's four: [`PUBLIC_ACCESS_BLOCK`], [`OWNERSHIP_CONTROLS`],
//! [`ENCRYPTION`], [`LOCATION`]. Each is one call per bucket, all of a bucket's calls at
//! once and [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) buckets at a time. A failed call leaves its key out for
//! that bucket, as aws-v3 does. The bucket having no such configuration
//! (`NoSuchPublicAccessBlockConfiguration`, `OwnershipControlsNotFoundError`,
//! `ServerSideEncryptionConfigurationNotFoundError`) leaves the key out too (aws-v3's code
//! catches it like any error: no key, not `null`), but is not a failure: it is not counted.
//!
//! `ListBuckets` returns every bucket whatever its region, so the region only chooses the
//! endpoint. Tagging is asked in the bucket's own region when `ListBuckets` tells it
//! (`BucketRegion`), since S3 redirects cross-region calls. `__ExtraContext` holds
//! `AccountId` only, like aws-v3.

use aws_sdk_s3::types::{Bucket, ServerSideEncryptionConfiguration};
use serde_json::{Map, Value, json};

use crate::aws::AwsError;
use crate::aws::credentials::s3_force_path_style;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, Props, Scope, item, obj};
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
            replaces: &[],
        },
        Action {
            name: "GetBucketTaggingAction",
            iam: &["s3:GetBucketTagging"],
            adds: &[],
            replaces: &[],
        },
    ],
    optional_actions: &[PUBLIC_ACCESS_BLOCK, OWNERSHIP_CONTROLS, ENCRYPTION, LOCATION],
    fixture: Fixture {
        example: "s3-bucket",
        keys: &["BucketName", "Arn", "CreationDate", "Tags"],
    },
};

/// `GetPublicAccessBlockAction`: `PublicAccessBlockConfiguration`
/// (`{BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets}`).
const PUBLIC_ACCESS_BLOCK: Action = Action {
    name: "GetPublicAccessBlockAction",
    iam: &["s3:GetBucketPublicAccessBlock"],
    adds: &["PublicAccessBlockConfiguration"],
    replaces: &[],
};

/// `GetBucketOwnershipControlsAction`: `OwnershipControls` (`{Rules: [{ObjectOwnership}]}`).
const OWNERSHIP_CONTROLS: Action = Action {
    name: "GetBucketOwnershipControlsAction",
    iam: &["s3:GetBucketOwnershipControls"],
    adds: &["OwnershipControls"],
    replaces: &[],
};

/// `GetBucketEncryptionAction`: `BucketEncryption`, the `ServerSideEncryptionConfiguration`
/// (`{Rules: [{ApplyServerSideEncryptionByDefault: {SSEAlgorithm, KMSMasterKeyID},
/// BucketKeyEnabled, BlockedEncryptionTypes}]}`).
const ENCRYPTION: Action = Action {
    name: "GetBucketEncryptionAction",
    iam: &["s3:GetEncryptionConfiguration"],
    adds: &["BucketEncryption"],
    replaces: &[],
};

/// The default tagging action, for failure counts.
const TAGGING: &Action = &KIND.default_actions[1];

/// `GetBucketLocationAction`: `LocationConstraint` as `GetBucketLocation` answers it —
/// `null` for us-east-1, whose constraint S3 answers empty (botocore reads `None`, which
/// aws-v3 writes as `null`), `EU` for old eu-west-1 buckets, else the region. A failed call
/// leaves the key out for that bucket, with a warning, as in aws-v3.
const LOCATION: Action = Action {
    name: "GetBucketLocationAction",
    iam: &["s3:GetBucketLocation"],
    adds: &["LocationConstraint"],
    replaces: &[],
};


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
        let items: Vec<Value> = ctx
            .per_resource("s3", out.buckets().iter().cloned(), |b| {
                let ctx = ctx.clone();
                async move { bucket_item(&ctx, &b).await }
            })
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
    let s3 = &s3;
    // Each optional call only when asked for, paced as an S3 call.
    let optional = |action: &'static Action| async move {
        if ctx.runs(action) {
            ctx.pace("s3").await;
            true
        } else {
            false
        }
    };
    let (tagging, public_access, ownership, encryption, location) = tokio::join!(
        async {
            ctx.pace("s3").await;
            s3.get_bucket_tagging().bucket(name).send().await
        },
        async {
            if !optional(&PUBLIC_ACCESS_BLOCK).await {
                return None;
            }
            Some(s3.get_public_access_block().bucket(name).send().await)
        },
        async {
            if !optional(&OWNERSHIP_CONTROLS).await {
                return None;
            }
            Some(s3.get_bucket_ownership_controls().bucket(name).send().await)
        },
        async {
            if !optional(&ENCRYPTION).await {
                return None;
            }
            Some(s3.get_bucket_encryption().bucket(name).send().await)
        },
        async {
            if !optional(&LOCATION).await {
                return None;
            }
            Some(s3.get_bucket_location().bucket(name).send().await)
        }
    );
    // aws-v3's model order: LocationConstraint, Tags, then BucketEncryption,
    // PublicAccessBlockConfiguration, OwnershipControls.
    enrich(
        ctx,
        &mut p,
        name,
        &LOCATION,
        // Every bucket has a location: any error is a failure.
        None,
        location.map(|r| {
            r.map(|out| {
                // `null` for us-east-1, whose constraint S3 answers empty (botocore reads
                // `None`, which aws-v3 writes as `null`).
                let constraint = out
                    .location_constraint()
                    .map(|c| c.as_str())
                    .filter(|c| !c.is_empty());
                json!(constraint)
            })
            .map_err(|e| AwsError::from_sdk("s3:GetBucketLocation", e))
        }),
    );
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
                ctx.enrichment_failed(KIND.name, TAGGING, name, &e);
            }
        }
    }
    enrich(
        ctx,
        &mut p,
        name,
        &ENCRYPTION,
        Some("ServerSideEncryptionConfigurationNotFoundError"),
        encryption.map(|r| {
            r.map(|out| encryption_json(out.server_side_encryption_configuration()))
                .map_err(|e| AwsError::from_sdk("s3:GetBucketEncryption", e))
        }),
    );
    enrich(
        ctx,
        &mut p,
        name,
        &PUBLIC_ACCESS_BLOCK,
        Some("NoSuchPublicAccessBlockConfiguration"),
        public_access.map(|r| {
            r.map(|out| {
                let c = out.public_access_block_configuration();
                obj(|o| {
                    o.opt("BlockPublicAcls", c.and_then(|c| c.block_public_acls()))
                        .opt("IgnorePublicAcls", c.and_then(|c| c.ignore_public_acls()))
                        .opt("BlockPublicPolicy", c.and_then(|c| c.block_public_policy()))
                        .opt(
                            "RestrictPublicBuckets",
                            c.and_then(|c| c.restrict_public_buckets()),
                        );
                })
            })
            .map_err(|e| AwsError::from_sdk("s3:GetPublicAccessBlock", e))
        }),
    );
    enrich(
        ctx,
        &mut p,
        name,
        &OWNERSHIP_CONTROLS,
        Some("OwnershipControlsNotFoundError"),
        ownership.map(|r| {
            r.map(|out| {
                let rules = out.ownership_controls().map(|c| c.rules()).unwrap_or(&[]);
                json!({"Rules": rules
                    .iter()
                    .map(|r| json!({"ObjectOwnership": r.object_ownership().as_str()}))
                    .collect::<Vec<_>>()})
            })
            .map_err(|e| AwsError::from_sdk("s3:GetBucketOwnershipControls", e))
        }),
    );
    let mut extra = Map::new();
    extra.insert("AccountId".into(), json!(ctx.account.id));
    item(KIND.name, p.build(), Some(extra))
}

/// Sets an optional action's key from its call's result (`None`: not asked for). An error
/// whose code is `not_configured` (the bucket has no such configuration) leaves the key out
/// quietly; any other leaves it out as a counted enrichment failure.
fn enrich(
    ctx: &ListCtx,
    p: &mut Props,
    bucket: &str,
    action: &'static Action,
    not_configured: Option<&str>,
    result: Option<Result<Value, AwsError>>,
) {
    match result {
        None => {}
        Some(Ok(v)) => {
            p.val(action.adds[0], v);
        }
        Some(Err(e)) if not_configured.is_some() && e.code() == not_configured => {
            tracing::debug!(account = %ctx.account.id, bucket, action = action.name, "the bucket has no such configuration; the key is left out, as in aws-v3");
        }
        Some(Err(e)) => ctx.enrichment_failed(KIND.name, action, bucket, &e),
    }
}

/// `GetBucketEncryption`'s `ServerSideEncryptionConfiguration`, in the API's casing.
fn encryption_json(c: Option<&ServerSideEncryptionConfiguration>) -> Value {
    let rules = c.map(|c| c.rules()).unwrap_or(&[]);
    json!({"Rules": rules.iter().map(|r| obj(|o| {
        o.opt(
            "ApplyServerSideEncryptionByDefault",
            r.apply_server_side_encryption_by_default().map(|d| {
                obj(|o| {
                    o.str("SSEAlgorithm", Some(d.sse_algorithm().as_str()))
                        .str("KMSMasterKeyID", d.kms_master_key_id());
                })
            }),
        )
        .opt("BucketKeyEnabled", r.bucket_key_enabled())
        .opt(
            "BlockedEncryptionTypes",
            r.blocked_encryption_types().map(|b| {
                json!({"EncryptionType": b
                    .encryption_type()
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()})
            }),
        );
    })).collect::<Vec<_>>()})
}
