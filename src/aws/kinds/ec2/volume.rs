//! `AWS::EC2::Volume`: `ec2:DescribeVolumes`, every page (aws-v3's `DescribeVolumesAction`).
//!
//! aws-v3's model lets every key through, so `Properties` are all the keys of the API's
//! `Volume` that AWS returned, PascalCase, aws-v3's declared ones first in its order.
//! `__ExtraContext` is `{AccountId, Region}`.
//!
//! Optional: `DescribeVolumeAttributeAction` ([`AUTO_ENABLE_IO`]).

use aws_sdk_ec2::types::{Volume, VolumeAttributeName};
use serde_json::{Map, Value, json};

use super::tag;
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, Props, Regions, Scope, item, obj,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::EC2::Volume",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "DescribeVolumesAction",
        iam: &["ec2:DescribeVolumes"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[AUTO_ENABLE_IO],
    fixture: Fixture {
        example: "ec2-volume",
        keys: &[
            "VolumeId",
            "VolumeType",
            "Size",
            "Iops",
            "AvailabilityZone",
            "State",
            "CreateTime",
            "Encrypted",
            "Attachments",
            "Tags",
        ],
    },
};

/// `DescribeVolumeAttributeAction`: `AutoEnableIO` from
/// `DescribeVolumeAttribute(autoEnableIO)`, one call per volume. A failed call leaves the
/// key out for that volume, with a warning, as in aws-v3.
const AUTO_ENABLE_IO: Action = Action {
    name: "DescribeVolumeAttributeAction",
    iam: &["ec2:DescribeVolumeAttribute"],
    adds: &["AutoEnableIO"],
    replaces: &[],
};


async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let ec2 = aws_sdk_ec2::Client::new(&ctx.sdk_config());
    let mut pages = ec2.describe_volumes().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("ec2:DescribeVolumes", &mut cursors, pages.next(), |p| {
            p.next_token()
        })
        .await?
    {
        let items: Vec<Value> = ctx
            .per_resource("ec2", page.volumes.unwrap_or_default(), |v| {
                let (ctx, ec2) = (ctx.clone(), ec2.clone());
                async move { volume_item(&ctx, &ec2, &v).await }
            })
            .await;
        emit.send(items).await?;
    }
    Ok(())
}

async fn volume_item(ctx: &ListCtx, ec2: &aws_sdk_ec2::Client, v: &Volume) -> Value {
    let mut properties = properties(v);
    if ctx.runs(&AUTO_ENABLE_IO)
        && let Some(id) = v.volume_id()
    {
        ctx.pace("ec2").await;
        match ec2
            .describe_volume_attribute()
            .volume_id(id)
            .attribute(VolumeAttributeName::AutoEnableIo)
            .send()
            .await
        {
            Ok(out) => {
                if let Some(value) = out.auto_enable_io().and_then(|a| a.value()) {
                    properties.insert("AutoEnableIO".into(), json!(value));
                }
            }
            Err(e) => {
                let e = AwsError::from_sdk("ec2:DescribeVolumeAttribute", e);
                tracing::warn!(account = %ctx.account.id, region = %ctx.region, volume = id, error = %e, "could not read the volume's autoEnableIO attribute");
            }
        }
    }
    item(KIND.name, properties, Some(ctx.extra_context()))
}

fn properties(v: &Volume) -> Map<String, Value> {
    let mut p = Props::default();
    p.str("VolumeId", v.volume_id())
        .str("VolumeType", v.volume_type().map(|t| t.as_str()))
        .opt("Size", v.size())
        .opt("Iops", v.iops())
        .opt("Throughput", v.throughput())
        .str("AvailabilityZone", v.availability_zone())
        .str("State", v.state().map(|s| s.as_str()))
        .time("CreateTime", v.create_time())
        .sent("Tags", v.tags.as_ref(), tag)
        .opt("Encrypted", v.encrypted())
        .str("SnapshotId", v.snapshot_id())
        .all("Attachments", v.attachments(), |a| {
            obj(|o| {
                o.time("AttachTime", a.attach_time())
                    .str("Device", a.device())
                    .str("InstanceId", a.instance_id())
                    .str("State", a.state().map(|s| s.as_str()))
                    .str("VolumeId", a.volume_id())
                    .opt("DeleteOnTermination", a.delete_on_termination())
                    .str("AssociatedResource", a.associated_resource())
                    .str("InstanceOwningService", a.instance_owning_service())
                    .opt("EbsCardIndex", a.ebs_card_index());
            })
        })
        .opt("MultiAttachEnabled", v.multi_attach_enabled())
        .str("KmsKeyId", v.kms_key_id())
        .str("AvailabilityZoneId", v.availability_zone_id())
        .str("OutpostArn", v.outpost_arn())
        .str("SourceVolumeId", v.source_volume_id())
        .opt("FastRestored", v.fast_restored())
        .str("SseType", v.sse_type().map(|s| s.as_str()))
        .opt(
            "Operator",
            v.operator().map(|o| {
                obj(|p| {
                    p.opt("Managed", o.managed()).str("Principal", o.principal());
                })
            }),
        )
        .opt("VolumeInitializationRate", v.volume_initialization_rate())
        .str("VolumeArn", v.volume_arn())
        .str("OwnerId", v.owner_id());
    p.build()
}
