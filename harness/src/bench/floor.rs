//! The emulator's floor: the read requests a resync of the seeded organization cannot do
//! without, issued by a minimal client with no mapping, no Port and no bookkeeping.
//!
//! Per account: `sts:AssumeRole`, `s3:ListBuckets` and `s3:GetBucketTagging` per bucket,
//! and per region `ec2:DescribeInstances` and `ecs:ListClusters` (all pages). Accounts run
//! `in_flight` at a time, each one request after the other, so exactly `in_flight`
//! requests are outstanding. A resync does more than this (Organizations discovery,
//! region discovery, the Port side), so its ratio to the floor is what our own overhead
//! costs.

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use futures::{StreamExt, TryStreamExt, stream};

/// What the floor needs to know about the seeded organization.
pub struct Plan<'a> {
    /// AWS endpoint (the counting proxy in front of moto).
    pub endpoint: &'a str,
    /// Account ids, management first.
    pub accounts: &'a [String],
    /// Regions listed for the regional kinds.
    pub regions: &'a [String],
    /// Role assumed in each account.
    pub role_name: &'a str,
    /// External id sent with AssumeRole.
    pub external_id: &'a str,
}

/// Issues the plan with `in_flight` requests outstanding; returns the wall time.
pub async fn run(plan: &Plan<'_>, in_flight: usize) -> Result<Duration, String> {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(plan.endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "floor"))
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&base);
    let started = Instant::now();
    stream::iter(plan.accounts)
        .map(|account| account_plan(&base, &sts, plan, account))
        .buffer_unordered(in_flight.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    Ok(started.elapsed())
}

async fn account_plan(
    base: &SdkConfig,
    sts: &aws_sdk_sts::Client,
    plan: &Plan<'_>,
    account: &str,
) -> Result<(), String> {
    let creds = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{}", plan.role_name))
        .role_session_name("floor")
        .external_id(plan.external_id)
        .send()
        .await
        .map_err(|e| format!("floor: AssumeRole {account}: {e}"))?
        .credentials
        .ok_or_else(|| format!("floor: AssumeRole {account}: no credentials"))?;
    let config = base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_string()),
            None,
            "floor",
        )))
        .build();

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let buckets = s3
        .list_buckets()
        .send()
        .await
        .map_err(|e| format!("floor: ListBuckets {account}: {e}"))?;
    for bucket in buckets.buckets() {
        // Untagged buckets answer NoSuchTagSet: a request all the same.
        let _ = s3
            .get_bucket_tagging()
            .bucket(bucket.name().unwrap_or_default())
            .send()
            .await;
    }

    for region in plan.regions {
        let regional = config
            .to_builder()
            .region(Region::new(region.clone()))
            .build();
        let ec2 = aws_sdk_ec2::Client::new(&regional);
        let mut pages = ec2.describe_instances().into_paginator().send();
        while let Some(page) = pages.next().await {
            page.map_err(|e| format!("floor: DescribeInstances {account} {region}: {e}"))?;
        }
        let ecs = aws_sdk_ecs::Client::new(&regional);
        let mut pages = ecs.list_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            page.map_err(|e| format!("floor: ListClusters {account} {region}: {e}"))?;
        }
    }
    Ok(())
}
