//! Enabled regions of an account.
//!
//! aws-v3 calls `account:ListRegions` (ENABLED and ENABLED_BY_DEFAULT) per account and per
//! kind. We call `ec2:DescribeRegions` instead, once per account and run: without
//! `AllRegions` it returns exactly the regions enabled for the account (opt-in regions only
//! when opted in), it is covered by the same ReadOnlyAccess policy, and emulators such as
//! moto implement it (they lack ListRegions). It also pages implicitly (one response), where
//! aws-v3 ignores ListRegions' `NextToken`.
//!
//! For `aws-us-gov` and `aws-cn`, aws-v3 uses botocore's static endpoint data; so do we.

use super::AwsError;
use super::accounts::Account;
use crate::config::Partition;

/// Regions enabled in `account`, sorted.
pub(crate) async fn enabled_regions(
    account: &Account,
    partition: Partition,
) -> Result<Vec<String>, AwsError> {
    match partition {
        Partition::AwsUsGov => return Ok(vec!["us-gov-east-1".into(), "us-gov-west-1".into()]),
        Partition::AwsCn => return Ok(vec!["cn-north-1".into(), "cn-northwest-1".into()]),
        Partition::Aws => {}
    }
    let ec2 = aws_sdk_ec2::Client::new(&account.config);
    let out = ec2
        .describe_regions()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeRegions", e))?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter(|r| r.opt_in_status() != Some("not-opted-in"))
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    regions.sort();
    regions.dedup();
    Ok(regions)
}
