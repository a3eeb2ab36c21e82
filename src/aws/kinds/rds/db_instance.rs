//! `AWS::RDS::DBInstance`: `rds:DescribeDBInstances`, every page, as aws-v3's
//! `DescribeDBInstancesAction`; optionally `ListTagsForResourceAction` ([`TAGS`]).
//!
//! aws-v3's model `ignore`s undeclared keys: `Properties` are the 56 keys it declares that
//! AWS returned, in the model's order, nested values in botocore's shape (every member AWS
//! sent, timestamps RFC 3339). Its model gives four fields aliases and dumps by alias, so
//! AWS's `DbInstancePort`, `IAMDatabaseAuthenticationEnabled`, `PerformanceInsightsEnabled`
//! and `VpcSecurityGroups` come out as `Port`, `EnableIAMDatabaseAuthentication`,
//! `EnablePerformanceInsights` and `VPCSecurityGroups` (aws-v3's shipped example shows the
//! API names; its code writes the aliases, and the code is what users' mappings got).
//! `TagList` from the describe call is not declared, so it is dropped: `Tags` appears only
//! with [`TAGS`]. `__ExtraContext` is `{AccountId, Region}`.
//!
//! [`TAGS`] calls `ListTagsForResource(ResourceName=DBInstanceArn)` once per instance (at
//! most [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) at once) and sets `Tags` to the answer's `TagList`. A
//! failed call leaves that instance's `Tags` out and keeps the item, logged and counted.

use aws_sdk_rds::types::{DbInstance, DbSubnetGroup, Endpoint, PendingModifiedValues};
use serde_json::{Map, Value, json};

use super::tags_of;
use crate::aws::AwsError;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, Props, Regions, Scope, item, obj};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::RDS::DBInstance",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "DescribeDBInstancesAction",
        iam: &["rds:DescribeDBInstances"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[TAGS],
    fixture: Fixture {
        example: "rds-db-instance",
        keys: &[
            "AllocatedStorage",
            "AutoMinorVersionUpgrade",
            "AvailabilityZone",
            "BackupRetentionPeriod",
            "CACertificateIdentifier",
            "CopyTagsToSnapshot",
            "DBInstanceArn",
            "DBInstanceClass",
            "DBInstanceIdentifier",
            "DBInstanceStatus",
            "DBParameterGroups",
            "DBSecurityGroups",
            "DbiResourceId",
            "DomainMemberships",
            "Endpoint",
            "Engine",
            "EngineVersion",
            "InstanceCreateTime",
            "LicenseModel",
            "MasterUsername",
            "MonitoringInterval",
            "MultiAZ",
            "OptionGroupMemberships",
            "PreferredBackupWindow",
            "PreferredMaintenanceWindow",
            "ReadReplicaDBInstanceIdentifiers",
            "StorageEncrypted",
            "StorageType",
            "DeletionProtection",
            "AssociatedRoles",
        ],
    },
};

/// `ListTagsForResourceAction`: `Tags`, `[{Key, Value}]`.
const TAGS: Action = Action {
    name: "ListTagsForResourceAction",
    iam: &["rds:ListTagsForResource"],
    adds: &["Tags"],
    replaces: &[],
};

/// Every `Properties` key aws-v3's model can write, in its order (by alias): what a listed
/// item may hold, and nothing else.
#[cfg(test)]
const DECLARED: [&str; 56] = [
    "AllocatedStorage",
    "AutoMinorVersionUpgrade",
    "AvailabilityZone",
    "BackupRetentionPeriod",
    "CACertificateIdentifier",
    "CharacterSetName",
    "CopyTagsToSnapshot",
    "DBInstanceArn",
    "DBInstanceClass",
    "DBInstanceIdentifier",
    "Port",
    "DBInstanceStatus",
    "DBName",
    "DBParameterGroups",
    "DBSecurityGroups",
    "DBSubnetGroup",
    "DbiResourceId",
    "DomainMemberships",
    "EnableIAMDatabaseAuthentication",
    "EnablePerformanceInsights",
    "Endpoint",
    "Engine",
    "EngineVersion",
    "EnhancedMonitoringResourceArn",
    "InstanceCreateTime",
    "Iops",
    "KmsKeyId",
    "LatestRestorableTime",
    "LicenseModel",
    "MasterUsername",
    "MonitoringInterval",
    "MonitoringRoleArn",
    "MultiAZ",
    "OptionGroupMemberships",
    "PendingModifiedValues",
    "PreferredBackupWindow",
    "PreferredMaintenanceWindow",
    "PubliclyAccessible",
    "ReadReplicaDBInstanceIdentifiers",
    "SecondaryAvailabilityZone",
    "StorageEncrypted",
    "StorageType",
    "Tags",
    "VPCSecurityGroups",
    "DatabaseInsightsMode",
    "DeletionProtection",
    "AssociatedRoles",
    "CustomerOwnedIpEnabled",
    "ActivityStreamStatus",
    "BackupTarget",
    "NetworkType",
    "StorageThroughput",
    "CertificateDetails",
    "DedicatedLogVolume",
    "IsStorageConfigUpgradeAvailable",
    "EngineLifecycleSupport",
];

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let rds = aws_sdk_rds::Client::new(&ctx.sdk_config());
    let mut pages = rds.describe_db_instances().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("rds:DescribeDBInstances", &mut cursors, pages.next(), |p| {
            p.marker()
        })
        .await?
    {
        let instances = page.db_instances();
        let mut tags = if ctx.runs(&TAGS) {
            let arns = instances
                .iter()
                .map(|i| i.db_instance_arn().map(str::to_string))
                .collect();
            tags_of(&ctx, &rds, KIND.name, &TAGS, arns).await
        } else {
            Vec::new()
        }
        .into_iter();
        let items = instances
            .iter()
            .map(|i| {
                let mut props = properties(i);
                if let Some(Some(t)) = tags.next() {
                    // After `StorageType` in the model's order; key order is not
                    // significant to JSON readers, so it simply goes last.
                    props.insert("Tags".into(), t);
                }
                item(KIND.name, props, Some(ctx.extra_context()))
            })
            .collect();
        emit.send(items).await?;
    }
    Ok(())
}

fn endpoint(e: &Endpoint) -> Value {
    obj(|o| {
        o.str("Address", e.address())
            .opt("Port", e.port())
            .str("HostedZoneId", e.hosted_zone_id());
    })
}

fn subnet_group(g: &DbSubnetGroup) -> Value {
    obj(|o| {
        o.str("DBSubnetGroupName", g.db_subnet_group_name())
            .str("DBSubnetGroupDescription", g.db_subnet_group_description())
            .str("VpcId", g.vpc_id())
            .str("SubnetGroupStatus", g.subnet_group_status());
        o.sent("Subnets", g.subnets.as_ref(), |s| {
            obj(|o| {
                o.str("SubnetIdentifier", s.subnet_identifier())
                    .opt(
                        "SubnetAvailabilityZone",
                        s.subnet_availability_zone()
                            .map(|z| obj(|o| {
                                o.str("Name", z.name());
                            })),
                    )
                    .opt(
                        "SubnetOutpost",
                        s.subnet_outpost().map(|x| obj(|o| {
                            o.str("Arn", x.arn());
                        })),
                    )
                    .str("SubnetStatus", s.subnet_status());
            })
        });
        o.str("DBSubnetGroupArn", g.db_subnet_group_arn());
        o.sent("SupportedNetworkTypes", g.supported_network_types.as_ref(), |t| json!(t));
    })
}

fn pending(v: &PendingModifiedValues) -> Value {
    obj(|o| {
        o.str("DBInstanceClass", v.db_instance_class())
            .opt("AllocatedStorage", v.allocated_storage())
            // AWS's own mask ("****") when a password change is pending; aws-v3 keeps it.
            .str("MasterUserPassword", v.master_user_password())
            .opt("Port", v.port())
            .opt("BackupRetentionPeriod", v.backup_retention_period())
            .opt("MultiAZ", v.multi_az())
            .str("EngineVersion", v.engine_version())
            .str("LicenseModel", v.license_model())
            .opt("Iops", v.iops())
            .opt("StorageThroughput", v.storage_throughput())
            .str("DBInstanceIdentifier", v.db_instance_identifier())
            .str("StorageType", v.storage_type())
            .str("CACertificateIdentifier", v.ca_certificate_identifier())
            .str("DBSubnetGroupName", v.db_subnet_group_name())
            .opt(
                "PendingCloudwatchLogsExports",
                v.pending_cloudwatch_logs_exports().map(|x| {
                    obj(|o| {
                        o.sent("LogTypesToEnable", x.log_types_to_enable.as_ref(), |t| json!(t));
                        o.sent("LogTypesToDisable", x.log_types_to_disable.as_ref(), |t| json!(t));
                    })
                }),
            );
        o.sent("ProcessorFeatures", v.processor_features.as_ref(), |f| {
            obj(|o| {
                o.str("Name", f.name()).str("Value", f.value());
            })
        });
        o.str("AutomationMode", v.automation_mode().map(|m| m.as_str()))
            .time(
                "ResumeFullAutomationModeTime",
                v.resume_full_automation_mode_time(),
            )
            .opt("MultiTenant", v.multi_tenant())
            .opt(
                "IAMDatabaseAuthenticationEnabled",
                v.iam_database_authentication_enabled(),
            )
            .opt("DedicatedLogVolume", v.dedicated_log_volume())
            .str("Engine", v.engine());
        o.sent("AdditionalStorageVolumes", v.additional_storage_volumes.as_ref(), |s| {
            obj(|o| {
                o.str("VolumeName", s.volume_name())
                    .opt("AllocatedStorage", s.allocated_storage())
                    .opt("IOPS", s.iops())
                    .opt("MaxAllocatedStorage", s.max_allocated_storage())
                    .opt("StorageThroughput", s.storage_throughput())
                    .str("StorageType", s.storage_type());
            })
        });
        o.str(
            "DBCapacityReservationIdentifier",
            v.db_capacity_reservation_identifier(),
        );
    })
}

/// `{Name, Status}`-like membership lists share this: two string members.
fn pair(a: (&str, Option<&str>), b: (&str, Option<&str>)) -> Value {
    obj(|o| {
        o.str(a.0, a.1).str(b.0, b.1);
    })
}

/// aws-v3's declared keys of one instance, by alias, in its model's order.
fn properties(i: &DbInstance) -> Map<String, Value> {
    let mut p = Props::default();
    p.opt("AllocatedStorage", i.allocated_storage())
        .opt("AutoMinorVersionUpgrade", i.auto_minor_version_upgrade())
        .str("AvailabilityZone", i.availability_zone())
        .opt("BackupRetentionPeriod", i.backup_retention_period())
        .str("CACertificateIdentifier", i.ca_certificate_identifier())
        .str("CharacterSetName", i.character_set_name())
        .opt("CopyTagsToSnapshot", i.copy_tags_to_snapshot())
        .str("DBInstanceArn", i.db_instance_arn())
        .str("DBInstanceClass", i.db_instance_class())
        .str("DBInstanceIdentifier", i.db_instance_identifier())
        .opt("Port", i.db_instance_port())
        .str("DBInstanceStatus", i.db_instance_status())
        .str("DBName", i.db_name());
    p.sent("DBParameterGroups", i.db_parameter_groups.as_ref(), |g| {
        pair(
            ("DBParameterGroupName", g.db_parameter_group_name()),
            ("ParameterApplyStatus", g.parameter_apply_status()),
        )
    });
    p.sent("DBSecurityGroups", i.db_security_groups.as_ref(), |g| {
        pair(
            ("DBSecurityGroupName", g.db_security_group_name()),
            ("Status", g.status()),
        )
    });
    p.opt("DBSubnetGroup", i.db_subnet_group().map(subnet_group))
        .str("DbiResourceId", i.dbi_resource_id());
    p.sent("DomainMemberships", i.domain_memberships.as_ref(), |d| {
        obj(|o| {
            o.str("Domain", d.domain())
                .str("Status", d.status())
                .str("FQDN", d.fqdn())
                .str("IAMRoleName", d.iam_role_name())
                .str("OU", d.ou())
                .str("AuthSecretArn", d.auth_secret_arn());
            o.sent("DnsIps", d.dns_ips.as_ref(), |ip| json!(ip));
        })
    });
    p.opt(
        "EnableIAMDatabaseAuthentication",
        i.iam_database_authentication_enabled(),
    )
    .opt("EnablePerformanceInsights", i.performance_insights_enabled())
    .opt("Endpoint", i.endpoint().map(endpoint))
    .str("Engine", i.engine())
    .str("EngineVersion", i.engine_version())
    .str(
        "EnhancedMonitoringResourceArn",
        i.enhanced_monitoring_resource_arn(),
    )
    .time("InstanceCreateTime", i.instance_create_time())
    .opt("Iops", i.iops())
    .str("KmsKeyId", i.kms_key_id())
    .time("LatestRestorableTime", i.latest_restorable_time())
    .str("LicenseModel", i.license_model())
    .str("MasterUsername", i.master_username())
    .opt("MonitoringInterval", i.monitoring_interval())
    .str("MonitoringRoleArn", i.monitoring_role_arn())
    .opt("MultiAZ", i.multi_az());
    p.sent("OptionGroupMemberships",
        i.option_group_memberships.as_ref(),
        |g| pair(("OptionGroupName", g.option_group_name()), ("Status", g.status())),
    );
    p.opt(
        "PendingModifiedValues",
        i.pending_modified_values().map(pending),
    )
    .str("PreferredBackupWindow", i.preferred_backup_window())
    .str(
        "PreferredMaintenanceWindow",
        i.preferred_maintenance_window(),
    )
    .opt("PubliclyAccessible", i.publicly_accessible());
    p.sent("ReadReplicaDBInstanceIdentifiers",
        i.read_replica_db_instance_identifiers.as_ref(),
        |id| json!(id),
    );
    p.str(
        "SecondaryAvailabilityZone",
        i.secondary_availability_zone(),
    )
    .opt("StorageEncrypted", i.storage_encrypted())
    .str("StorageType", i.storage_type());
    p.sent("VPCSecurityGroups",
        i.vpc_security_groups.as_ref(),
        |g| {
            pair(
                ("VpcSecurityGroupId", g.vpc_security_group_id()),
                ("Status", g.status()),
            )
        },
    );
    p.str(
        "DatabaseInsightsMode",
        i.database_insights_mode().map(|m| m.as_str()),
    )
    .opt("DeletionProtection", i.deletion_protection());
    p.sent("AssociatedRoles", i.associated_roles.as_ref(), |r| {
        obj(|o| {
            o.str("RoleArn", r.role_arn())
                .str("FeatureName", r.feature_name())
                .str("Status", r.status());
        })
    });
    p.opt("CustomerOwnedIpEnabled", i.customer_owned_ip_enabled())
        .str(
            "ActivityStreamStatus",
            i.activity_stream_status().map(|s| s.as_str()),
        )
        .str("BackupTarget", i.backup_target())
        .str("NetworkType", i.network_type())
        .opt("StorageThroughput", i.storage_throughput())
        .opt(
            "CertificateDetails",
            i.certificate_details().map(|c| {
                obj(|o| {
                    o.str("CAIdentifier", c.ca_identifier())
                        .time("ValidTill", c.valid_till());
                })
            }),
        )
        .opt("DedicatedLogVolume", i.dedicated_log_volume())
        .opt(
            "IsStorageConfigUpgradeAvailable",
            i.is_storage_config_upgrade_available(),
        )
        .str("EngineLifecycleSupport", i.engine_lifecycle_support());
    p.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_written_is_declared_and_the_aliases_replace_the_api_names() {
        let mut i = DbInstance::builder()
            .db_instance_identifier("zinc")
            .db_instance_port(5432)
            .iam_database_authentication_enabled(false)
            .performance_insights_enabled(true)
            .vpc_security_groups(
                aws_sdk_rds::types::VpcSecurityGroupMembership::builder()
                    .vpc_security_group_id("sg-1")
                    .status("active")
                    .build(),
            )
            .tag_list(
                aws_sdk_rds::types::Tag::builder()
                    .key("team")
                    .value("platform")
                    .build(),
            )
            .db_cluster_identifier("undeclared")
            .build();
        i.db_security_groups = Some(Vec::new());
        let props = properties(&i);
        for k in props.keys() {
            assert!(DECLARED.contains(&k.as_str()), "{k}");
        }
        assert_eq!(props["Port"], 5432);
        assert_eq!(props["EnableIAMDatabaseAuthentication"], false);
        assert_eq!(props["EnablePerformanceInsights"], true);
        assert_eq!(
            props["VPCSecurityGroups"],
            json!([{"VpcSecurityGroupId": "sg-1", "Status": "active"}])
        );
        // Sent empty: `[]`; not sent: absent.
        assert_eq!(props["DBSecurityGroups"], json!([]));
        assert!(!props.contains_key("DBParameterGroups"));
        // `TagList` is not declared: no `Tags` without the action.
        assert!(!props.contains_key("Tags") && !props.contains_key("TagList"));
    }
}
