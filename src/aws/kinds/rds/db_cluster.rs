//! `AWS::RDS::DBCluster`: `rds:DescribeDBClusters`, every page, as aws-v3's
//! `DescribeDBClustersAction`; optionally `ListTagsForResourceAction` ([`TAGS`]).
//!
//! aws-v3's model `allow`s every key: `Properties` are every member AWS returned for the
//! cluster, in botocore's names, nested values too (timestamps RFC 3339), `TagList`
//! (`[{Key, Value}]`) included as the describe call returns it. Lists AWS sent empty stay
//! `[]`; members it did not send are absent. `__ExtraContext` is `{AccountId, Region}`.
//!
//! The conversion covers every member of the SDK's `DBCluster` shape and of the shapes
//! nested in it, one line per member, written out mechanically from the SDK's own field
//! list and wire (XML) names, so that nothing AWS returns is lost.
//!
//! [`TAGS`] calls `ListTagsForResource(ResourceName=DBClusterArn)` once per cluster (at most
//! [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) at once) and sets `TagList` to the answer's (the same tags
//! the describe call gave, as in aws-v3). A failed call keeps the cluster's item with the
//! describe call's `TagList`, logged and counted.

use aws_sdk_rds::types;
use serde_json::{Map, Value, json};

use super::{tag, tags_of};
use crate::aws::AwsError;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, Regions, Scope, item, obj};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::RDS::DBCluster",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "DescribeDBClustersAction",
        iam: &["rds:DescribeDBClusters"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[TAGS],
    fixture: Fixture {
        example: "rds-db-cluster",
        keys: &[
            "AssociatedRoles",
            "AutoMinorVersionUpgrade",
            "AvailabilityZones",
            "BackupRetentionPeriod",
            "ClusterCreateTime",
            "CopyTagsToSnapshot",
            "CrossAccountClone",
            "DBClusterArn",
            "DBClusterIdentifier",
            "DBClusterMembers",
            "DbClusterResourceId",
            "DeletionProtection",
            "EarliestRestorableTime",
            "Endpoint",
            "Engine",
            "EngineMode",
            "EngineVersion",
            "HttpEndpointEnabled",
            "IAMDatabaseAuthenticationEnabled",
            "LatestRestorableTime",
            "MasterUsername",
            "MultiAZ",
            "Port",
            "PreferredBackupWindow",
            "PreferredMaintenanceWindow",
            "ReaderEndpoint",
            "Status",
            "StorageEncrypted",
            "VpcSecurityGroups",
            "DBSubnetGroup",
        ],
    },
};

/// `ListTagsForResourceAction`: `TagList`, `[{Key, Value}]`. It *replaces* a key the
/// describe call gives too (with the same tags) rather than adding one, so a resource of a
/// mixed mapping that did not ask for the action keeps the cluster's own `TagList`.
const TAGS: Action = Action {
    name: "ListTagsForResourceAction",
    iam: &["rds:ListTagsForResource"],
    adds: &[],
    replaces: &["TagList"],
};

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let rds = aws_sdk_rds::Client::new(&ctx.sdk_config());
    let mut pages = rds.describe_db_clusters().into_paginator().send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page("rds:DescribeDBClusters", &mut cursors, pages.next(), |p| {
            p.marker()
        })
        .await?
    {
        let clusters = page.db_clusters();
        let mut tags = if ctx.runs(&TAGS) {
            let arns = clusters
                .iter()
                .map(|c| c.db_cluster_arn().map(str::to_string))
                .collect();
            tags_of(&ctx, &rds, KIND.name, &TAGS, arns).await
        } else {
            Vec::new()
        }
        .into_iter();
        let items = clusters
            .iter()
            .map(|c| {
                let mut props = properties(c);
                if let Some(Some(t)) = tags.next() {
                    // aws-v3's dict merge: the action's `TagList` replaces the describe
                    // call's.
                    props.insert("TagList".into(), t);
                }
                item(KIND.name, props, Some(ctx.extra_context()))
            })
            .collect();
        emit.send(items).await?;
    }
    Ok(())
}

/// Every member AWS returned for the cluster.
fn properties(c: &types::DbCluster) -> Map<String, Value> {
    match db_cluster(c) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn db_cluster_option_group_status(x: &types::DbClusterOptionGroupStatus) -> Value {
    obj(|o| {
        o.str("DBClusterOptionGroupName", x.db_cluster_option_group_name.as_deref());
        o.str("Status", x.status.as_deref());
    })
}

fn db_cluster_status_info(x: &types::DbClusterStatusInfo) -> Value {
    obj(|o| {
        o.str("StatusType", x.status_type.as_deref());
        o.opt("Normal", x.normal);
        o.str("Status", x.status.as_deref());
        o.str("Message", x.message.as_deref());
    })
}

fn db_cluster_member(x: &types::DbClusterMember) -> Value {
    obj(|o| {
        o.str("DBInstanceIdentifier", x.db_instance_identifier.as_deref());
        o.opt("IsClusterWriter", x.is_cluster_writer);
        o.str("DBClusterParameterGroupStatus", x.db_cluster_parameter_group_status.as_deref());
        o.opt("PromotionTier", x.promotion_tier);
    })
}

fn vpc_security_group_membership(x: &types::VpcSecurityGroupMembership) -> Value {
    obj(|o| {
        o.str("VpcSecurityGroupId", x.vpc_security_group_id.as_deref());
        o.str("Status", x.status.as_deref());
    })
}

fn db_cluster_role(x: &types::DbClusterRole) -> Value {
    obj(|o| {
        o.str("RoleArn", x.role_arn.as_deref());
        o.str("Status", x.status.as_deref());
        o.str("FeatureName", x.feature_name.as_deref());
    })
}

fn pending_cloudwatch_logs_exports(x: &types::PendingCloudwatchLogsExports) -> Value {
    obj(|o| {
        o.sent("LogTypesToEnable", x.log_types_to_enable.as_ref(), |v| json!(v));
        o.sent("LogTypesToDisable", x.log_types_to_disable.as_ref(), |v| json!(v));
    })
}

fn rds_custom_cluster_configuration(x: &types::RdsCustomClusterConfiguration) -> Value {
    obj(|o| {
        o.str("InterconnectSubnetId", x.interconnect_subnet_id.as_deref());
        o.str("TransitGatewayMulticastDomainId", x.transit_gateway_multicast_domain_id.as_deref());
        o.str("ReplicaMode", x.replica_mode.as_ref().map(|v| v.as_str()));
    })
}

fn certificate_details(x: &types::CertificateDetails) -> Value {
    obj(|o| {
        o.str("CAIdentifier", x.ca_identifier.as_deref());
        o.time("ValidTill", x.valid_till.as_ref());
    })
}

fn cluster_pending_modified_values(x: &types::ClusterPendingModifiedValues) -> Value {
    obj(|o| {
        o.opt(
            "PendingCloudwatchLogsExports",
            x.pending_cloudwatch_logs_exports.as_ref().map(pending_cloudwatch_logs_exports),
        );
        o.str("DBClusterIdentifier", x.db_cluster_identifier.as_deref());
        o.str("MasterUserPassword", x.master_user_password.as_deref());
        o.opt("IAMDatabaseAuthenticationEnabled", x.iam_database_authentication_enabled);
        o.str("EngineVersion", x.engine_version.as_deref());
        o.opt("BackupRetentionPeriod", x.backup_retention_period);
        o.str("StorageType", x.storage_type.as_deref());
        o.opt("AllocatedStorage", x.allocated_storage);
        o.opt(
            "RdsCustomClusterConfiguration",
            x.rds_custom_cluster_configuration.as_ref().map(rds_custom_cluster_configuration),
        );
        o.opt("Iops", x.iops);
        o.opt("CertificateDetails", x.certificate_details.as_ref().map(certificate_details));
    })
}

fn scaling_configuration_info(x: &types::ScalingConfigurationInfo) -> Value {
    obj(|o| {
        o.opt("MinCapacity", x.min_capacity);
        o.opt("MaxCapacity", x.max_capacity);
        o.opt("AutoPause", x.auto_pause);
        o.opt("SecondsUntilAutoPause", x.seconds_until_auto_pause);
        o.str("TimeoutAction", x.timeout_action.as_deref());
        o.opt("SecondsBeforeTimeout", x.seconds_before_timeout);
    })
}

fn domain_membership(x: &types::DomainMembership) -> Value {
    obj(|o| {
        o.str("Domain", x.domain.as_deref());
        o.str("Status", x.status.as_deref());
        o.str("FQDN", x.fqdn.as_deref());
        o.str("IAMRoleName", x.iam_role_name.as_deref());
        o.str("OU", x.ou.as_deref());
        o.str("AuthSecretArn", x.auth_secret_arn.as_deref());
        o.sent("DnsIps", x.dns_ips.as_ref(), |v| json!(v));
    })
}

fn serverless_v2_scaling(x: &types::ServerlessV2ScalingConfigurationInfo) -> Value {
    obj(|o| {
        o.opt("MinCapacity", x.min_capacity);
        o.opt("MaxCapacity", x.max_capacity);
        o.opt("SecondsUntilAutoPause", x.seconds_until_auto_pause);
    })
}

fn master_user_secret(x: &types::MasterUserSecret) -> Value {
    obj(|o| {
        o.str("SecretArn", x.secret_arn.as_deref());
        o.str("SecretStatus", x.secret_status.as_deref());
        o.str("KmsKeyId", x.kms_key_id.as_deref());
    })
}

fn limitless_database(x: &types::LimitlessDatabase) -> Value {
    obj(|o| {
        o.str("Status", x.status.as_ref().map(|v| v.as_str()));
        o.opt("MinRequiredACU", x.min_required_acu);
    })
}

fn db_cluster(x: &types::DbCluster) -> Value {
    obj(|o| {
        o.opt("AllocatedStorage", x.allocated_storage);
        o.sent("AvailabilityZones", x.availability_zones.as_ref(), |v| json!(v));
        o.opt("BackupRetentionPeriod", x.backup_retention_period);
        o.str("CharacterSetName", x.character_set_name.as_deref());
        o.str("DatabaseName", x.database_name.as_deref());
        o.str("DBClusterIdentifier", x.db_cluster_identifier.as_deref());
        o.str("DBClusterParameterGroup", x.db_cluster_parameter_group.as_deref());
        o.str("DBSubnetGroup", x.db_subnet_group.as_deref());
        o.str("Status", x.status.as_deref());
        o.str("PercentProgress", x.percent_progress.as_deref());
        o.time("EarliestRestorableTime", x.earliest_restorable_time.as_ref());
        o.str("Endpoint", x.endpoint.as_deref());
        o.str("ReaderEndpoint", x.reader_endpoint.as_deref());
        o.sent("CustomEndpoints", x.custom_endpoints.as_ref(), |v| json!(v));
        o.opt("MultiAZ", x.multi_az);
        o.str("Engine", x.engine.as_deref());
        o.str("EngineVersion", x.engine_version.as_deref());
        o.time("LatestRestorableTime", x.latest_restorable_time.as_ref());
        o.opt("Port", x.port);
        o.str("MasterUsername", x.master_username.as_deref());
        o.sent("DBClusterOptionGroupMemberships",
            x.db_cluster_option_group_memberships.as_ref(), db_cluster_option_group_status,
        );
        o.str("PreferredBackupWindow", x.preferred_backup_window.as_deref());
        o.str("PreferredMaintenanceWindow", x.preferred_maintenance_window.as_deref());
        o.str("UpgradeRolloutOrder", x.upgrade_rollout_order.as_ref().map(|v| v.as_str()));
        o.str("ReplicationSourceIdentifier", x.replication_source_identifier.as_deref());
        o.sent("ReadReplicaIdentifiers", x.read_replica_identifiers.as_ref(), |v| json!(v));
        o.sent("StatusInfos", x.status_infos.as_ref(), db_cluster_status_info);
        o.sent("DBClusterMembers", x.db_cluster_members.as_ref(), db_cluster_member);
        o.sent("VpcSecurityGroups", x.vpc_security_groups.as_ref(), vpc_security_group_membership);
        o.str("HostedZoneId", x.hosted_zone_id.as_deref());
        o.opt("StorageEncrypted", x.storage_encrypted);
        o.str("StorageEncryptionType", x.storage_encryption_type.as_ref().map(|v| v.as_str()));
        o.str("KmsKeyId", x.kms_key_id.as_deref());
        o.str("DbClusterResourceId", x.db_cluster_resource_id.as_deref());
        o.str("DBClusterArn", x.db_cluster_arn.as_deref());
        o.sent("AssociatedRoles", x.associated_roles.as_ref(), db_cluster_role);
        o.opt("IAMDatabaseAuthenticationEnabled", x.iam_database_authentication_enabled);
        o.str("CloneGroupId", x.clone_group_id.as_deref());
        o.time("ClusterCreateTime", x.cluster_create_time.as_ref());
        o.time("EarliestBacktrackTime", x.earliest_backtrack_time.as_ref());
        o.opt("BacktrackWindow", x.backtrack_window);
        o.opt("BacktrackConsumedChangeRecords", x.backtrack_consumed_change_records);
        o.sent("EnabledCloudwatchLogsExports",
            x.enabled_cloudwatch_logs_exports.as_ref(), |v| json!(v),
        );
        o.opt("Capacity", x.capacity);
        o.opt(
            "PendingModifiedValues",
            x.pending_modified_values.as_ref().map(cluster_pending_modified_values),
        );
        o.str("EngineMode", x.engine_mode.as_deref());
        o.opt(
            "ScalingConfigurationInfo",
            x.scaling_configuration_info.as_ref().map(scaling_configuration_info),
        );
        o.opt(
            "RdsCustomClusterConfiguration",
            x.rds_custom_cluster_configuration.as_ref().map(rds_custom_cluster_configuration),
        );
        o.str("DBClusterInstanceClass", x.db_cluster_instance_class.as_deref());
        o.str("StorageType", x.storage_type.as_deref());
        o.opt("Iops", x.iops);
        o.opt("StorageThroughput", x.storage_throughput);
        o.time(
            "IOOptimizedNextAllowedModificationTime",
            x.io_optimized_next_allowed_modification_time.as_ref(),
        );
        o.opt("PubliclyAccessible", x.publicly_accessible);
        o.opt("AutoMinorVersionUpgrade", x.auto_minor_version_upgrade);
        o.opt("DeletionProtection", x.deletion_protection);
        o.opt("HttpEndpointEnabled", x.http_endpoint_enabled);
        o.str("ActivityStreamMode", x.activity_stream_mode.as_ref().map(|v| v.as_str()));
        o.str("ActivityStreamStatus", x.activity_stream_status.as_ref().map(|v| v.as_str()));
        o.str("ActivityStreamKmsKeyId", x.activity_stream_kms_key_id.as_deref());
        o.str("ActivityStreamKinesisStreamName", x.activity_stream_kinesis_stream_name.as_deref());
        o.opt("CopyTagsToSnapshot", x.copy_tags_to_snapshot);
        o.opt("CrossAccountClone", x.cross_account_clone);
        o.sent("DomainMemberships", x.domain_memberships.as_ref(), domain_membership);
        o.sent("TagList", x.tag_list.as_ref(), tag);
        o.str("GlobalClusterIdentifier", x.global_cluster_identifier.as_deref());
        o.str(
            "GlobalWriteForwardingStatus",
            x.global_write_forwarding_status.as_ref().map(|v| v.as_str()),
        );
        o.opt("GlobalWriteForwardingRequested", x.global_write_forwarding_requested);
        o.str("NetworkType", x.network_type.as_deref());
        o.time("AutomaticRestartTime", x.automatic_restart_time.as_ref());
        o.opt(
            "ServerlessV2ScalingConfiguration",
            x.serverless_v2_scaling_configuration.as_ref().map(serverless_v2_scaling),
        );
        o.str("ServerlessV2PlatformVersion", x.serverless_v2_platform_version.as_deref());
        o.opt("MonitoringInterval", x.monitoring_interval);
        o.str("MonitoringRoleArn", x.monitoring_role_arn.as_deref());
        o.str("DatabaseInsightsMode", x.database_insights_mode.as_ref().map(|v| v.as_str()));
        o.opt("PerformanceInsightsEnabled", x.performance_insights_enabled);
        o.str("PerformanceInsightsKMSKeyId", x.performance_insights_kms_key_id.as_deref());
        o.opt("PerformanceInsightsRetentionPeriod", x.performance_insights_retention_period);
        o.str("DBSystemId", x.db_system_id.as_deref());
        o.opt("MasterUserSecret", x.master_user_secret.as_ref().map(master_user_secret));
        o.str(
            "LocalWriteForwardingStatus",
            x.local_write_forwarding_status.as_ref().map(|v| v.as_str()),
        );
        o.str("AwsBackupRecoveryPointArn", x.aws_backup_recovery_point_arn.as_deref());
        o.opt("LimitlessDatabase", x.limitless_database.as_ref().map(limitless_database));
        o.str("ClusterScalabilityType", x.cluster_scalability_type.as_ref().map(|v| v.as_str()));
        o.opt("CertificateDetails", x.certificate_details.as_ref().map(certificate_details));
        o.str("EngineLifecycleSupport", x.engine_lifecycle_support.as_deref());
        o.opt("VPCNetworkingEnabled", x.vpc_networking_enabled);
        o.opt("InternetAccessGatewayEnabled", x.internet_access_gateway_enabled);
    })
}

