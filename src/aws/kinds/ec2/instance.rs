//! `AWS::EC2::Instance`: `ec2:DescribeInstances`, every page, every reservation.
//!
//! aws-v3's policy for this kind is `allow`: `Properties` are every key botocore returns
//! for the instance, PascalCase member names, nested structures member by member (e.g.
//! `NetworkInterfaces[].Association`, `.Attachment`, `.PrivateIpAddresses`). What EC2 left
//! out is absent; what it sent empty stays empty (`<productCodes/>` is `ProductCodes: []`,
//! an empty string element `""`), as botocore parses it. Keys come in aws-v3's order: its
//! model's declared fields first, in the model's order, then the others in botocore's
//! ([`in_model_order`]). `__ExtraContext` carries `AccountId`, `Region` and, like aws-v3,
//! the reservation's `ReservationId`, `OwnerId`, `RequesterId` and `Groups`.
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

use aws_sdk_ec2::types::{
    GroupIdentifier, Instance, InstanceNetworkInterface, InstanceNetworkInterfaceAssociation,
    InstanceSecondaryInterface, InstanceStatus, OperatorResponse, Reservation,
};
use serde_json::{Map, Value};

use super::tag;
use crate::aws::AwsError;
use crate::aws::kinds::{
    Action, Emit, Fixture, Kind, ListCtx, Props, Regions, Scope, item, obj, sent,
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
                    // instance's (then its model orders them).
                    props.extend(status.clone());
                }
                items.push(item(KIND.name, in_model_order(props), Some(extra.clone())));
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
    details: &Option<Vec<D>>,
    status: Option<&str>,
    detail: impl Fn(&D) -> (Option<&DateTime>, Option<&str>, Option<&str>),
) -> Value {
    obj(|o| {
        o.opt(
            "Details",
            sent(details.as_ref(), |d| {
                let (since, name, status) = detail(d);
                obj(|o| {
                    o.time("ImpairedSince", since)
                        .str("Name", name)
                        .str("Status", status);
                })
            }),
        )
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
            // EC2 leaves the list out when an instance has no scheduled event.
            .opt(
                "Events",
                sent(s.events.as_ref(), |e| {
                    obj(|o| {
                        o.str("InstanceEventId", e.instance_event_id())
                            .str("Code", e.code().map(|c| c.as_str()))
                            .str("Description", e.description())
                            .time("NotAfter", e.not_after())
                            .time("NotBefore", e.not_before())
                            .time("NotBeforeDeadline", e.not_before_deadline());
                    })
                }),
            )
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
            .opt("InstanceStatus", s.instance_status().map(instance_summary))
            .opt("SystemStatus", s.system_status().map(instance_summary))
            .opt(
                "AttachedEbsStatus",
                s.attached_ebs_status().map(|x| {
                    summary(&x.details, x.status().map(|v| v.as_str()), |d| {
                        (
                            d.impaired_since(),
                            d.name().map(|v| v.as_str()),
                            d.status().map(|v| v.as_str()),
                        )
                    })
                }),
            );
    })
}

/// `InstanceStatus` and `SystemStatus`: one shape.
fn instance_summary(x: &aws_sdk_ec2::types::InstanceStatusSummary) -> Value {
    summary(&x.details, x.status().map(|v| v.as_str()), |d| {
        (
            d.impaired_since(),
            d.name().map(|v| v.as_str()),
            d.status().map(|v| v.as_str()),
        )
    })
}

fn reservation_context(ctx: &ListCtx, r: &Reservation) -> Map<String, Value> {
    let mut extra = ctx.extra_context();
    let mut p = Props(Map::new());
    p.str("ReservationId", r.reservation_id())
        .str("OwnerId", r.owner_id())
        .str("RequesterId", r.requester_id())
        .opt("Groups", sent(r.groups.as_ref(), group));
    extra.extend(p.build());
    extra
}

/// aws-v3's declared `Properties` fields, in its model's order: its dump writes these first,
/// then every other key (its `allow` policy) in the order botocore gave them.
const DECLARED: &[&str] = &[
    "AmiLaunchIndex",
    "Architecture",
    "AvailabilityZone",
    "BlockDeviceMappings",
    "BootMode",
    "CapacityReservationSpecification",
    "ClientToken",
    "CpuOptions",
    "CurrentInstanceBootMode",
    "EbsOptimized",
    "EnclaveOptions",
    "EnaSupport",
    "Events",
    "HibernationOptions",
    "Hypervisor",
    "ImageId",
    "InstanceArn",
    "InstanceId",
    "InstanceStatus",
    "InstanceState",
    "InstanceType",
    "KeyName",
    "LaunchTime",
    "MaintenanceOptions",
    "MetadataOptions",
    "Monitoring",
    "NetworkInterfaces",
    "NetworkPerformanceOptions",
    "Operator",
    "Placement",
    "Platform",
    "PlatformDetails",
    "PrivateDnsName",
    "PrivateDnsNameOptions",
    "PrivateIpAddress",
    "ProductCodes",
    "PublicDnsName",
    "PublicIpAddress",
    "Reason",
    "RootDeviceName",
    "RootDeviceType",
    "SecurityGroups",
    "SourceDestCheck",
    "State",
    "StateReason",
    "StateTransitionReason",
    "SubnetId",
    "SystemStatus",
    "Tags",
    "UsageOperation",
    "UsageOperationUpdateTime",
    "VirtualizationType",
    "VpcId",
];

/// `props` in aws-v3's order: [`DECLARED`] keys first, then the others as they came.
fn in_model_order(mut props: Map<String, Value>) -> Map<String, Value> {
    let mut out: Map<String, Value> = DECLARED
        .iter()
        .filter_map(|k| props.shift_remove(*k).map(|v| (k.to_string(), v)))
        .collect();
    out.extend(props);
    out
}


fn group(g: &GroupIdentifier) -> Value {
    obj(|o| {
        o.str("GroupId", g.group_id()).str("GroupName", g.group_name());
    })
}

fn operator(op: &OperatorResponse) -> Value {
    obj(|o| {
        o.opt("Managed", op.managed())
            .str("Principal", op.principal())
            .opt("HiddenByDefault", op.hidden_by_default());
    })
}

fn association(a: &InstanceNetworkInterfaceAssociation) -> Value {
    obj(|o| {
        o.str("CarrierIp", a.carrier_ip())
            .str("CustomerOwnedIp", a.customer_owned_ip())
            .str("IpOwnerId", a.ip_owner_id())
            .str("PublicDnsName", a.public_dns_name())
            .str("PublicIp", a.public_ip());
    })
}

/// One `NetworkInterfaces` entry, botocore's `InstanceNetworkInterface` member by member.
fn network_interface(n: &InstanceNetworkInterface) -> Value {
    obj(|o| {
        o.opt("Association", n.association().map(association))
            .opt(
                "Attachment",
                n.attachment().map(|a| {
                    obj(|o| {
                        o.time("AttachTime", a.attach_time())
                            .str("AttachmentId", a.attachment_id())
                            .opt("DeleteOnTermination", a.delete_on_termination())
                            .opt("DeviceIndex", a.device_index())
                            .str("Status", a.status().map(|s| s.as_str()))
                            .opt("NetworkCardIndex", a.network_card_index())
                            .opt(
                                "EnaSrdSpecification",
                                a.ena_srd_specification().map(|e| {
                                    obj(|o| {
                                        o.opt("EnaSrdEnabled", e.ena_srd_enabled()).opt(
                                            "EnaSrdUdpSpecification",
                                            e.ena_srd_udp_specification().map(|u| {
                                                obj(|o| {
                                                    o.opt(
                                                        "EnaSrdUdpEnabled",
                                                        u.ena_srd_udp_enabled(),
                                                    );
                                                })
                                            }),
                                        );
                                    })
                                }),
                            )
                            .opt("EnaQueueCount", a.ena_queue_count());
                    })
                }),
            )
            .str("Description", n.description())
            .opt("Groups", sent(n.groups.as_ref(), group))
            .opt(
                "Ipv6Addresses",
                sent(n.ipv6_addresses.as_ref(), |a| {
                    obj(|o| {
                        o.str("Ipv6Address", a.ipv6_address())
                            .opt("IsPrimaryIpv6", a.is_primary_ipv6());
                    })
                }),
            )
            .str("MacAddress", n.mac_address())
            .str("NetworkInterfaceId", n.network_interface_id())
            .str("OwnerId", n.owner_id())
            .str("PrivateDnsName", n.private_dns_name())
            .str("PrivateIpAddress", n.private_ip_address())
            .opt(
                "PrivateIpAddresses",
                sent(n.private_ip_addresses.as_ref(), |a| {
                    obj(|o| {
                        o.opt("Association", a.association().map(association))
                            .opt("Primary", a.primary())
                            .str("PrivateDnsName", a.private_dns_name())
                            .str("PrivateIpAddress", a.private_ip_address());
                    })
                }),
            )
            .opt("SourceDestCheck", n.source_dest_check())
            .str("Status", n.status().map(|s| s.as_str()))
            .str("SubnetId", n.subnet_id())
            .str("VpcId", n.vpc_id())
            .str("InterfaceType", n.interface_type())
            .opt(
                "Ipv4Prefixes",
                sent(n.ipv4_prefixes.as_ref(), |x| {
                    obj(|o| {
                        o.str("Ipv4Prefix", x.ipv4_prefix());
                    })
                }),
            )
            .opt(
                "Ipv6Prefixes",
                sent(n.ipv6_prefixes.as_ref(), |x| {
                    obj(|o| {
                        o.str("Ipv6Prefix", x.ipv6_prefix());
                    })
                }),
            )
            .opt(
                "ConnectionTrackingConfiguration",
                n.connection_tracking_configuration().map(|c| {
                    obj(|o| {
                        o.opt("TcpEstablishedTimeout", c.tcp_established_timeout())
                            .opt("UdpStreamTimeout", c.udp_stream_timeout())
                            .opt("UdpTimeout", c.udp_timeout());
                    })
                }),
            )
            .opt("Operator", n.operator().map(operator));
    })
}

/// One `SecondaryInterfaces` entry, botocore's `InstanceSecondaryInterface`.
fn secondary_interface(n: &InstanceSecondaryInterface) -> Value {
    obj(|o| {
        o.opt(
            "Attachment",
            n.attachment().map(|a| {
                obj(|o| {
                    o.time("AttachTime", a.attach_time())
                        .str("AttachmentId", a.attachment_id())
                        .opt("DeleteOnTermination", a.delete_on_termination())
                        .opt("DeviceIndex", a.device_index())
                        .str("Status", a.status().map(|s| s.as_str()))
                        .opt("NetworkCardIndex", a.network_card_index());
                })
            }),
        )
        .str("MacAddress", n.mac_address())
        .str("SecondaryInterfaceId", n.secondary_interface_id())
        .str("OwnerId", n.owner_id())
        .opt(
            "PrivateIpAddresses",
            sent(n.private_ip_addresses.as_ref(), |a| {
                obj(|o| {
                    o.str("PrivateIpAddress", a.private_ip_address());
                })
            }),
        )
        .opt("SourceDestCheck", n.source_dest_check())
        .str("Status", n.status().map(|s| s.as_str()))
        .str("SecondarySubnetId", n.secondary_subnet_id())
        .str("SecondaryNetworkId", n.secondary_network_id())
        .str("InterfaceType", n.interface_type().map(|t| t.as_str()));
    })
}

/// The instance as botocore parses it: every member of its `Instance` shape EC2 sent,
/// PascalCase member names, in the shape's member order (which the SDK's fields follow),
/// nested structures member by member; empty lists and strings kept, absent ones absent.
fn properties(i: &Instance) -> Map<String, Value> {
    let mut p = Props::default();
    p.str("Architecture", i.architecture().map(|a| a.as_str()))
        .opt(
            "BlockDeviceMappings",
            sent(i.block_device_mappings.as_ref(), |b| {
                obj(|o| {
                    o.str("DeviceName", b.device_name()).opt(
                        "Ebs",
                        b.ebs().map(|e| {
                            obj(|o| {
                                o.time("AttachTime", e.attach_time())
                                    .opt("DeleteOnTermination", e.delete_on_termination())
                                    .str("Status", e.status().map(|s| s.as_str()))
                                    .str("VolumeId", e.volume_id())
                                    .str("AssociatedResource", e.associated_resource())
                                    .str("VolumeOwnerId", e.volume_owner_id())
                                    .opt("Operator", e.operator().map(operator))
                                    .opt("EbsCardIndex", e.ebs_card_index());
                            })
                        }),
                    );
                })
            }),
        )
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
        .opt(
            "ElasticGpuAssociations",
            sent(i.elastic_gpu_associations.as_ref(), |g| {
                obj(|o| {
                    o.str("ElasticGpuId", g.elastic_gpu_id())
                        .str("ElasticGpuAssociationId", g.elastic_gpu_association_id())
                        .str(
                            "ElasticGpuAssociationState",
                            g.elastic_gpu_association_state(),
                        )
                        .str(
                            "ElasticGpuAssociationTime",
                            g.elastic_gpu_association_time(),
                        );
                })
            }),
        )
        .opt(
            "ElasticInferenceAcceleratorAssociations",
            sent(i.elastic_inference_accelerator_associations.as_ref(), |a| {
                obj(|o| {
                    o.str(
                        "ElasticInferenceAcceleratorArn",
                        a.elastic_inference_accelerator_arn(),
                    )
                    .str(
                        "ElasticInferenceAcceleratorAssociationId",
                        a.elastic_inference_accelerator_association_id(),
                    )
                    .str(
                        "ElasticInferenceAcceleratorAssociationState",
                        a.elastic_inference_accelerator_association_state(),
                    )
                    .time(
                        "ElasticInferenceAcceleratorAssociationTime",
                        a.elastic_inference_accelerator_association_time(),
                    );
                })
            }),
        )
        .opt(
            "NetworkInterfaces",
            sent(i.network_interfaces.as_ref(), network_interface),
        )
        .str("OutpostArn", i.outpost_arn())
        .str("RootDeviceName", i.root_device_name())
        .str("RootDeviceType", i.root_device_type().map(|t| t.as_str()))
        .opt("SecurityGroups", sent(i.security_groups.as_ref(), group))
        .opt("SourceDestCheck", i.source_dest_check())
        .str("SpotInstanceRequestId", i.spot_instance_request_id())
        .str("SriovNetSupport", i.sriov_net_support())
        .opt(
            "StateReason",
            i.state_reason().map(|s| {
                obj(|o| {
                    o.str("Code", s.code()).str("Message", s.message());
                })
            }),
        )
        .opt("Tags", sent(i.tags.as_ref(), tag))
        .str(
            "VirtualizationType",
            i.virtualization_type().map(|v| v.as_str()),
        )
        .opt(
            "CpuOptions",
            i.cpu_options().map(|c| {
                obj(|o| {
                    o.opt("CoreCount", c.core_count())
                        .opt("ThreadsPerCore", c.threads_per_core())
                        .str("AmdSevSnp", c.amd_sev_snp().map(|v| v.as_str()))
                        .str(
                            "NestedVirtualization",
                            c.nested_virtualization().map(|v| v.as_str()),
                        );
                })
            }),
        )
        .str("CapacityBlockId", i.capacity_block_id())
        .str("CapacityReservationId", i.capacity_reservation_id())
        .opt(
            "CapacityReservationSpecification",
            i.capacity_reservation_specification().map(|c| {
                obj(|o| {
                    o.str(
                        "CapacityReservationPreference",
                        c.capacity_reservation_preference().map(|v| v.as_str()),
                    )
                    .opt(
                        "CapacityReservationTarget",
                        c.capacity_reservation_target().map(|t| {
                            obj(|o| {
                                o.str("CapacityReservationId", t.capacity_reservation_id())
                                    .str(
                                        "CapacityReservationResourceGroupArn",
                                        t.capacity_reservation_resource_group_arn(),
                                    );
                            })
                        }),
                    );
                })
            }),
        )
        .opt(
            "HibernationOptions",
            i.hibernation_options().map(|h| {
                obj(|o| {
                    o.opt("Configured", h.configured());
                })
            }),
        )
        .opt(
            "Licenses",
            sent(i.licenses.as_ref(), |l| {
                obj(|o| {
                    o.str("LicenseConfigurationArn", l.license_configuration_arn());
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
        .opt(
            "PrivateDnsNameOptions",
            i.private_dns_name_options().map(|d| {
                obj(|o| {
                    o.str("HostnameType", d.hostname_type().map(|v| v.as_str()))
                        .opt(
                            "EnableResourceNameDnsARecord",
                            d.enable_resource_name_dns_a_record(),
                        )
                        .opt(
                            "EnableResourceNameDnsAAAARecord",
                            d.enable_resource_name_dns_aaaa_record(),
                        );
                })
            }),
        )
        .str("Ipv6Address", i.ipv6_address())
        .str("TpmSupport", i.tpm_support())
        .opt(
            "MaintenanceOptions",
            i.maintenance_options().map(|m| {
                obj(|o| {
                    o.str("AutoRecovery", m.auto_recovery().map(|v| v.as_str()))
                        .str("RebootMigration", m.reboot_migration().map(|v| v.as_str()));
                })
            }),
        )
        .str(
            "CurrentInstanceBootMode",
            i.current_instance_boot_mode().map(|b| b.as_str()),
        )
        .opt(
            "NetworkPerformanceOptions",
            i.network_performance_options().map(|n| {
                obj(|o| {
                    o.str(
                        "BandwidthWeighting",
                        n.bandwidth_weighting().map(|v| v.as_str()),
                    );
                })
            }),
        )
        .opt("Operator", i.operator().map(operator))
        .opt(
            "SecondaryInterfaces",
            sent(i.secondary_interfaces.as_ref(), secondary_interface),
        )
        .str("InstanceId", i.instance_id())
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
        .opt(
            "ProductCodes",
            sent(i.product_codes.as_ref(), |c| {
                obj(|o| {
                    o.str("ProductCodeId", c.product_code_id()).str(
                        "ProductCodeType",
                        c.product_code_type().map(|t| t.as_str()),
                    );
                })
            }),
        )
        .str("InstanceType", i.instance_type().map(|t| t.as_str()))
        .time("LaunchTime", i.launch_time())
        .opt(
            "Placement",
            i.placement().map(|pl| {
                obj(|o| {
                    o.str("AvailabilityZoneId", pl.availability_zone_id())
                        .str("Affinity", pl.affinity())
                        .str("GroupName", pl.group_name())
                        .opt("PartitionNumber", pl.partition_number())
                        .str("HostId", pl.host_id())
                        .str("Tenancy", pl.tenancy().map(|t| t.as_str()))
                        .str("SpreadDomain", pl.spread_domain())
                        .str("HostResourceGroupArn", pl.host_resource_group_arn())
                        .str("GroupId", pl.group_id())
                        .str("AvailabilityZone", pl.availability_zone());
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
        .str("PublicIpAddress", i.public_ip_address());
    p.build()
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{ProductCode, ProductCodeValues, Tag};
    use serde_json::json;

    use super::*;

    /// A list EC2 sent empty stays `[]` and one it did not send is absent, as botocore
    /// parses them; keys come in aws-v3's order (declared fields, then the others).
    #[test]
    fn empty_lists_are_kept_absent_ones_left_out_in_aws_v3_s_order() {
        let sent_empty = Instance::builder()
            .instance_id("i-1")
            .set_tags(Some(vec![]))
            .set_product_codes(Some(vec![]))
            .sriov_net_support("simple")
            .ami_launch_index(0)
            .build();
        let p = in_model_order(properties(&sent_empty));
        assert_eq!(
            Value::Object(p.clone()),
            json!({"AmiLaunchIndex": 0, "InstanceId": "i-1", "ProductCodes": [], "Tags": [], "SriovNetSupport": "simple"})
        );
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            ["AmiLaunchIndex", "InstanceId", "ProductCodes", "Tags", "SriovNetSupport"]
        );
        let not_sent = Instance::builder().instance_id("i-1").build();
        assert_eq!(
            Value::Object(properties(&not_sent)),
            json!({"InstanceId": "i-1"})
        );
        let full = Instance::builder()
            .product_codes(
                ProductCode::builder()
                    .product_code_id("abc")
                    .product_code_type(ProductCodeValues::Marketplace)
                    .build(),
            )
            .tags(Tag::builder().key("k").value("v").build())
            .build();
        assert_eq!(
            Value::Object(properties(&full)),
            json!({"Tags": [{"Key": "k", "Value": "v"}],
                "ProductCodes": [{"ProductCodeId": "abc", "ProductCodeType": "marketplace"}]})
        );
    }
}
