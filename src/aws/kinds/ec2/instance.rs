//! `AWS::EC2::Instance`: `ec2:DescribeInstances`, every page, every reservation.
//!
//! Properties use the API's PascalCase keys. `__ExtraContext` carries `AccountId`,
//! `Region` and, like aws-v3, the reservation's `ReservationId`, `OwnerId`, `RequesterId`
//! and `Groups`.
//!
//! Optional: `DescribeInstanceStatusAction` ([`STATUS`]). aws-v3 calls
//! `DescribeInstanceStatus(InstanceIds=[id], IncludeAllInstances=true)` once per instance
//! and merges the answer's status object into `Properties` (the kind's policy is `allow`,
//! so every key passes: `InstanceStatus`, `SystemStatus`, `InstanceState`, `Events`,
//! `AvailabilityZone`, … and, overwriting the instance's own, `InstanceId`, `Operator`,
//! `OutpostArn`, which are the same facts). Here one call asks for the statuses of up to
//! 100 instances of a page (the API's limit for `InstanceIds`): each instance's status
//! object is the same as its own call would answer, so the items are identical, with 1 call
//! instead of up to 100. A batch call fails as a whole when one id is bad (e.g. an instance
//! gone since `DescribeInstances`), so a failed batch falls back to aws-v3's one call per
//! instance, [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) at a time; an instance whose own call fails has no
//! status keys (logged and counted, [`ListCtx::enrichment_failed`]). aws-v3 drops a failed
//! instance's entry from the list it then merges by position, shifting the statuses of
//! the instances after it onto the wrong ones; that is not reproduced.

use std::collections::HashMap;

use aws_sdk_ec2::types::{GroupIdentifier, Instance, InstanceStatus, Reservation};
use serde_json::{Map, Value, json};

use super::tag;
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, Props, Regions, Scope, item, obj,
};
use crate::pagination::Cursors;
use aws_smithy_types::DateTime;

pub const KIND: Kind = Kind {
    name: "AWS::EC2::Instance",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "DescribeInstancesAction",
        iam: &["ec2:DescribeInstances"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[STATUS],
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

/// `DescribeInstanceStatusAction`: the instance's status object merged into `Properties`.
/// `adds` lists the keys only it sets (`InstanceId`, `Operator` and `OutpostArn` are the
/// instance's own too).
const STATUS: Action = Action {
    name: "DescribeInstanceStatusAction",
    iam: &["ec2:DescribeInstanceStatus"],
    adds: &[
        "InstanceStatus",
        "SystemStatus",
        "InstanceState",
        "Events",
        "AvailabilityZone",
        "AvailabilityZoneId",
        "AttachedEbsStatus",
    ],
    replaces: &[],
};

/// Instance ids per `DescribeInstanceStatus` call (the API's limit).
const STATUS_BATCH: usize = 100;


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
        let statuses = if ctx.runs(&STATUS) {
            let ids: Vec<String> = page
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter_map(|i| i.instance_id().map(str::to_string))
                .collect();
            statuses(&ctx, &ec2, &ids).await
        } else {
            HashMap::new()
        };
        let mut items = Vec::new();
        for reservation in page.reservations() {
            let extra = reservation_context(&ctx, reservation);
            for instance in reservation.instances() {
                let mut props = properties(instance);
                if let Some(Value::Object(status)) =
                    instance.instance_id().and_then(|id| statuses.get(id))
                {
                    // aws-v3's dict merge: the status's keys replace or follow the
                    // instance's.
                    props.extend(status.clone());
                }
                items.push(item(KIND.name, props, Some(extra.clone())));
            }
        }
        emit.send(items).await?;
    }
    Ok(())
}

/// The status objects of `ids`, by instance id: batched calls, and for a batch that fails,
/// one call per instance. Instances whose call failed are missing.
async fn statuses(
    ctx: &ListCtx,
    ec2: &aws_sdk_ec2::Client,
    ids: &[String],
) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(STATUS_BATCH) {
        match describe_statuses(ctx, ec2, chunk).await {
            Ok(found) => out.extend(found),
            Err(e) => {
                tracing::debug!(account = %ctx.account.id, region = %ctx.region, instances = chunk.len(), error = %e, "batched DescribeInstanceStatus failed; asking instance by instance");
                let single: Vec<(String, Result<Statuses, AwsError>)> = ctx
                    .per_resource("ec2", chunk.iter().cloned(), |id| {
                        let (ctx, ec2) = (ctx.clone(), ec2.clone());
                        async move {
                            let r =
                                describe_statuses(&ctx, &ec2, std::slice::from_ref(&id)).await;
                            (id, r)
                        }
                    })
                    .await;
                for (id, r) in single {
                    match r {
                        Ok(found) => out.extend(found),
                        Err(e) => ctx.enrichment_failed(KIND.name, &STATUS, &id, &e),
                    }
                }
            }
        }
    }
    out
}

/// Status objects by instance id, as one call answered them.
type Statuses = Vec<(String, Value)>;

/// `DescribeInstanceStatus(InstanceIds=ids, IncludeAllInstances=true)`, every page.
async fn describe_statuses(
    ctx: &ListCtx,
    ec2: &aws_sdk_ec2::Client,
    ids: &[String],
) -> Result<Statuses, AwsError> {
    let mut pages = ec2
        .describe_instance_status()
        .set_instance_ids(Some(ids.to_vec()))
        .include_all_instances(true)
        .into_paginator()
        .send();
    let mut cursors = Cursors::default();
    let mut out = Vec::new();
    while let Some(page) = ctx
        .next_page(
            "ec2:DescribeInstanceStatus",
            &mut cursors,
            pages.next(),
            |p| p.next_token(),
        )
        .await?
    {
        for s in page.instance_statuses() {
            if let Some(id) = s.instance_id() {
                out.push((id.to_string(), status_json(s)));
            }
        }
    }
    Ok(out)
}

/// A status summary (`InstanceStatus`, `SystemStatus`, `AttachedEbsStatus`):
/// `{Details: [{ImpairedSince, Name, Status}], Status}`.
fn summary<D>(
    details: &[D],
    status: Option<&str>,
    detail: impl Fn(&D) -> (Option<&DateTime>, Option<&str>, Option<&str>),
) -> Value {
    obj(|o| {
        // EC2 always answers the details (e.g. `reachability`).
        o.all("Details", details, |d| {
            let (since, name, status) = detail(d);
            obj(|o| {
                o.time("ImpairedSince", since)
                    .str("Name", name)
                    .str("Status", status);
            })
        })
        .str("Status", status);
    })
}

/// One `InstanceStatuses` entry, as botocore gives it (keys in the API's order).
fn status_json(s: &InstanceStatus) -> Value {
    obj(|o| {
        o.str("AvailabilityZone", s.availability_zone())
            .str("AvailabilityZoneId", s.availability_zone_id())
            .str("OutpostArn", s.outpost_arn())
            .opt(
                "Operator",
                s.operator().map(|op| {
                    obj(|o| {
                        o.opt("Managed", op.managed())
                            .str("Principal", op.principal())
                            .opt("HiddenByDefault", op.hidden_by_default());
                    })
                }),
            )
            // The SDK gives no events and an absent list alike; EC2 leaves the list out
            // when an instance has no scheduled event.
            .list("Events", s.events(), |e| {
                obj(|o| {
                    o.str("InstanceEventId", e.instance_event_id())
                        .str("Code", e.code().map(|c| c.as_str()))
                        .str("Description", e.description())
                        .time("NotAfter", e.not_after())
                        .time("NotBefore", e.not_before())
                        .time("NotBeforeDeadline", e.not_before_deadline());
                })
            })
            .str("InstanceId", s.instance_id())
            .opt(
                "InstanceState",
                s.instance_state().map(|st| {
                    obj(|o| {
                        o.opt("Code", st.code())
                            .str("Name", st.name().map(|n| n.as_str()));
                    })
                }),
            )
            .opt(
                "InstanceStatus",
                s.instance_status().map(|x| {
                    summary(
                        x.details(),
                        x.status().map(|v| v.as_str()),
                        |d| {
                            (
                                d.impaired_since(),
                                d.name().map(|v| v.as_str()),
                                d.status().map(|v| v.as_str()),
                            )
                        },
                    )
                }),
            )
            .opt(
                "SystemStatus",
                s.system_status().map(|x| {
                    summary(
                        x.details(),
                        x.status().map(|v| v.as_str()),
                        |d| {
                            (
                                d.impaired_since(),
                                d.name().map(|v| v.as_str()),
                                d.status().map(|v| v.as_str()),
                            )
                        },
                    )
                }),
            )
            .opt(
                "AttachedEbsStatus",
                s.attached_ebs_status().map(|x| {
                    summary(
                        x.details(),
                        x.status().map(|v| v.as_str()),
                        |d| {
                            (
                                d.impaired_since(),
                                d.name().map(|v| v.as_str()),
                                d.status().map(|v| v.as_str()),
                            )
                        },
                    )
                }),
            );
    })
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
