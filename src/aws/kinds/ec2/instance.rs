//! `AWS::EC2::Instance`: `ec2:DescribeInstances`, every page, every reservation.
//!
//! Properties use the API's PascalCase keys. `__ExtraContext` carries `AccountId`,
//! `Region` and, like aws-v3, the reservation's `ReservationId`, `OwnerId`, `RequesterId`
//! and `Groups`.

use aws_sdk_ec2::types::{GroupIdentifier, Instance, Reservation};
use serde_json::{Map, Value, json};

use super::tag;
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, Props, Regions, Scope, item, obj,
};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::EC2::Instance",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "DescribeInstancesAction",
        iam: &["ec2:DescribeInstances"],
        adds: &[],
    }],
    optional_actions: &[],
    fixture: Fixture {
        example: "ec2-instance",
        keys: &[
            "InstanceId",
            "InstanceType",
            "State",
            "PrivateIpAddress",
            "ImageId",
            "SubnetId",
            "VpcId",
            "LaunchTime",
            "Placement",
            "Monitoring",
            "SecurityGroups",
            "Tags",
            "Architecture",
        ],
    },
};

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let ec2 = aws_sdk_ec2::Client::new(&ctx.sdk_config());
    let mut pages = ec2.describe_instances().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("ec2:DescribeInstances", &mut cursors, pages.next(), |p| {
            p.next_token()
        })
        .await?
    {
        let mut items = Vec::new();
        for reservation in page.reservations() {
            let extra = reservation_context(&ctx, reservation);
            for instance in reservation.instances() {
                items.push(item(KIND.name, properties(instance), Some(extra.clone())));
            }
        }
        emit.send(items).await?;
    }
    Ok(())
}

fn groups(groups: &[GroupIdentifier]) -> Value {
    Value::Array(
        groups
            .iter()
            .map(|g| json!({"GroupId": g.group_id(), "GroupName": g.group_name()}))
            .collect(),
    )
}

fn reservation_context(ctx: &ListCtx, r: &Reservation) -> Map<String, Value> {
    let mut extra = ctx.extra_context();
    let mut p = Props(Map::new());
    p.str("ReservationId", r.reservation_id())
        .str("OwnerId", r.owner_id())
        .str("RequesterId", r.requester_id())
        .val("Groups", groups(r.groups()));
    extra.extend(p.build());
    extra
}

fn properties(i: &Instance) -> Map<String, Value> {
    let mut p = Props::default();
    p.str("InstanceId", i.instance_id())
        .str("ImageId", i.image_id())
        .opt(
            "State",
            i.state().map(|s| {
                obj(|o| {
                    o.opt("Code", s.code())
                        .str("Name", s.name().map(|n| n.as_str()));
                })
            }),
        )
        .str("PrivateDnsName", i.private_dns_name())
        .str("PublicDnsName", i.public_dns_name())
        .str("StateTransitionReason", i.state_transition_reason())
        .str("KeyName", i.key_name())
        .opt("AmiLaunchIndex", i.ami_launch_index())
        .str("InstanceType", i.instance_type().map(|t| t.as_str()))
        .time("LaunchTime", i.launch_time())
        .opt(
            "Placement",
            i.placement().map(|pl| {
                obj(|o| {
                    o.str("AvailabilityZone", pl.availability_zone())
                        .str("GroupName", pl.group_name())
                        .str("Tenancy", pl.tenancy().map(|t| t.as_str()));
                })
            }),
        )
        .str("KernelId", i.kernel_id())
        .str("RamdiskId", i.ramdisk_id())
        .str("Platform", i.platform().map(|t| t.as_str()))
        .opt(
            "Monitoring",
            i.monitoring().map(|m| {
                obj(|o| {
                    o.str("State", m.state().map(|s| s.as_str()));
                })
            }),
        )
        .str("SubnetId", i.subnet_id())
        .str("VpcId", i.vpc_id())
        .str("PrivateIpAddress", i.private_ip_address())
        .str("PublicIpAddress", i.public_ip_address())
        .str("Architecture", i.architecture().map(|a| a.as_str()))
        .all("BlockDeviceMappings", i.block_device_mappings(), |b| {
            obj(|o| {
                o.str("DeviceName", b.device_name()).opt(
                    "Ebs",
                    b.ebs().map(|e| {
                        obj(|o| {
                            o.time("AttachTime", e.attach_time())
                                .opt("DeleteOnTermination", e.delete_on_termination())
                                .str("Status", e.status().map(|s| s.as_str()))
                                .str("VolumeId", e.volume_id());
                        })
                    }),
                );
            })
        })
        .str("ClientToken", i.client_token())
        .opt("EbsOptimized", i.ebs_optimized())
        .opt("EnaSupport", i.ena_support())
        .str("Hypervisor", i.hypervisor().map(|h| h.as_str()))
        .opt(
            "IamInstanceProfile",
            i.iam_instance_profile().map(|p| {
                obj(|o| {
                    o.str("Arn", p.arn()).str("Id", p.id());
                })
            }),
        )
        .str(
            "InstanceLifecycle",
            i.instance_lifecycle().map(|l| l.as_str()),
        )
        .all("NetworkInterfaces", i.network_interfaces(), |n| {
            obj(|o| {
                o.str("NetworkInterfaceId", n.network_interface_id())
                    .str("SubnetId", n.subnet_id())
                    .str("VpcId", n.vpc_id())
                    .str("Description", n.description())
                    .str("MacAddress", n.mac_address())
                    .str("OwnerId", n.owner_id())
                    .str("PrivateDnsName", n.private_dns_name())
                    .str("PrivateIpAddress", n.private_ip_address())
                    .opt("SourceDestCheck", n.source_dest_check())
                    .str("Status", n.status().map(|s| s.as_str()))
                    .list(
                        "Groups",
                        n.groups(),
                        |g| json!({"GroupId": g.group_id(), "GroupName": g.group_name()}),
                    );
            })
        })
        .str("OutpostArn", i.outpost_arn())
        .str("RootDeviceName", i.root_device_name())
        .str("RootDeviceType", i.root_device_type().map(|t| t.as_str()))
        .all(
            "SecurityGroups",
            i.security_groups(),
            |g| json!({"GroupId": g.group_id(), "GroupName": g.group_name()}),
        )
        .opt("SourceDestCheck", i.source_dest_check())
        .str("SpotInstanceRequestId", i.spot_instance_request_id())
        .str("SriovNetSupport", i.sriov_net_support())
        .opt(
            "StateReason",
            i.state_reason()
                .map(|s| json!({"Code": s.code(), "Message": s.message()})),
        )
        .list("Tags", i.tags(), tag)
        .str(
            "VirtualizationType",
            i.virtualization_type().map(|v| v.as_str()),
        )
        .opt(
            "CpuOptions",
            i.cpu_options().map(|c| {
                obj(|o| {
                    o.opt("CoreCount", c.core_count())
                        .opt("ThreadsPerCore", c.threads_per_core());
                })
            }),
        )
        .str("CapacityReservationId", i.capacity_reservation_id())
        .opt(
            "HibernationOptions",
            i.hibernation_options().map(|h| {
                obj(|o| {
                    o.opt("Configured", h.configured());
                })
            }),
        )
        .opt(
            "MetadataOptions",
            i.metadata_options().map(|m| {
                obj(|o| {
                    o.str("State", m.state().map(|s| s.as_str()))
                        .str("HttpTokens", m.http_tokens().map(|s| s.as_str()))
                        .opt("HttpPutResponseHopLimit", m.http_put_response_hop_limit())
                        .str("HttpEndpoint", m.http_endpoint().map(|s| s.as_str()))
                        .str(
                            "HttpProtocolIpv6",
                            m.http_protocol_ipv6().map(|s| s.as_str()),
                        )
                        .str(
                            "InstanceMetadataTags",
                            m.instance_metadata_tags().map(|s| s.as_str()),
                        );
                })
            }),
        )
        .opt(
            "EnclaveOptions",
            i.enclave_options().map(|e| {
                obj(|o| {
                    o.opt("Enabled", e.enabled());
                })
            }),
        )
        .str("BootMode", i.boot_mode().map(|b| b.as_str()))
        .str("PlatformDetails", i.platform_details())
        .str("UsageOperation", i.usage_operation())
        .time("UsageOperationUpdateTime", i.usage_operation_update_time())
        .str("Ipv6Address", i.ipv6_address())
        .str("TpmSupport", i.tpm_support())
        .str(
            "CurrentInstanceBootMode",
            i.current_instance_boot_mode().map(|b| b.as_str()),
        );
    p.build()
}
