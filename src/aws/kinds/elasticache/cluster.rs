//! `AWS::ElastiCache::Cluster`: `elasticache:DescribeCacheClusters(ShowCacheNodeInfo=true)`,
//! every page, as aws-v3's `DescribeCacheClustersAction`; optionally
//! `ListTagsForResourceAction` ([`TAGS`]).
//!
//! aws-v3's model `allow`s every key: `Properties` are every member AWS returned for the
//! cluster, in botocore's (the API's) names and in the model's order (it declares every
//! member of `CacheCluster`), nested values too, timestamps RFC 3339. Lists AWS sent empty
//! stay `[]`; members it did not send are absent. ElastiCache is a query (XML) protocol
//! service, so the SDK's types are converted member for member, written out from the SDK's
//! field list and wire names. `__ExtraContext` is `{AccountId, Region}`.
//!
//! [`TAGS`] calls `ListTagsForResource(ResourceName=ARN)` once per cluster, at most
//! [`ENRICH_CONCURRENCY`](crate::aws::kinds::ENRICH_CONCURRENCY) at once, and sets `TagList` to the answer's (`[]` when it
//! has none, as aws-v3's `response.get("TagList", [])`). A failed call leaves that cluster's
//! `TagList` out and keeps the item, logged and counted ([`ListCtx::enrichment_failed`]).
//! A failed `DescribeCacheClusters` fails the unit.

use aws_sdk_elasticache::types;
use serde_json::{Map, Value, json};

use crate::aws::AwsError;
use crate::aws::kinds::{Action, Emit, Fixture, Kind, ListCtx, Props, Regions, Scope, item, obj};
use crate::pagination::Cursors;

pub const KIND: Kind = Kind {
    name: "AWS::ElastiCache::Cluster",
    scope: Scope::Regional(Regions::All),
    list: lister!(list),
    default_actions: &[Action {
        name: "DescribeCacheClustersAction",
        iam: &["elasticache:DescribeCacheClusters"],
        adds: &[],
        replaces: &[],
    }],
    optional_actions: &[TAGS],
    fixture: Fixture {
        example: "elasticache-cluster",
        keys: &[
            "CacheClusterId",
            "ARN",
            "CacheNodeType",
            "Engine",
            "CacheClusterStatus",
            "NumCacheNodes",
            "CacheClusterCreateTime",
            "SnapshotRetentionLimit",
            "AuthTokenEnabled",
            "LogDeliveryConfigurations",
        ],
    },
};

/// `ListTagsForResourceAction`: `TagList`, `[{Key, Value}]`.
const TAGS: Action = Action {
    name: "ListTagsForResourceAction",
    iam: &["elasticache:ListTagsForResource"],
    adds: &["TagList"],
    replaces: &[],
};

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let elasticache = aws_sdk_elasticache::Client::new(&ctx.sdk_config());
    let mut pages = elasticache
        .describe_cache_clusters()
        .show_cache_node_info(true)
        .into_paginator()
        .send();
    let mut cursors = Cursors::default();
    while let Some(page) = ctx
        .next_page(
            "elasticache:DescribeCacheClusters",
            &mut cursors,
            pages.next(),
            |p| p.marker(),
        )
        .await?
    {
        let items: Vec<Value> = ctx
            .per_resource("elasticache", page.cache_clusters().to_vec(), |c| {
                let (ctx, elasticache) = (ctx.clone(), elasticache.clone());
                async move {
                    let mut props = properties(&c);
                    if ctx.runs(&TAGS)
                        && let Some(arn) = c.arn()
                        && let Some(tags) = tags(&ctx, &elasticache, arn).await
                    {
                        // Last in the model's order, as aws-v3's dict merge puts it.
                        props.insert("TagList".into(), tags);
                    }
                    item(KIND.name, props, Some(ctx.extra_context()))
                }
            })
            .await;
        emit.send(items).await?;
    }
    Ok(())
}

/// `ListTagsForResource` of one cluster: its `TagList`; `None`, logged and counted, when
/// the call failed. (A cluster without an ARN is not asked for: aws-v3 would fail on the
/// missing key; it just has no `TagList`.)
async fn tags(ctx: &ListCtx, elasticache: &aws_sdk_elasticache::Client, arn: &str) -> Option<Value> {
    ctx.pace("elasticache").await;
    match elasticache
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
    {
        Ok(out) => Some(Value::Array(
            out.tag_list
                .unwrap_or_default()
                .iter()
                .map(|t| {
                    obj(|o| {
                        o.str("Key", t.key()).str("Value", t.value());
                    })
                })
                .collect(),
        )),
        Err(e) => {
            let e = AwsError::from_sdk("elasticache:ListTagsForResource", e);
            ctx.enrichment_failed(KIND.name, &TAGS, arn, &e);
            None
        }
    }
}


fn endpoint(x: &types::Endpoint) -> Value {
    obj(|o| {
        o.str("Address", x.address()).opt("Port", x.port());
    })
}

fn destination_details(x: &types::DestinationDetails) -> Value {
    obj(|o| {
        o.opt(
            "CloudWatchLogsDetails",
            x.cloud_watch_logs_details().map(|d| {
                obj(|o| {
                    o.str("LogGroup", d.log_group());
                })
            }),
        )
        .opt(
            "KinesisFirehoseDetails",
            x.kinesis_firehose_details().map(|d| {
                obj(|o| {
                    o.str("DeliveryStream", d.delivery_stream());
                })
            }),
        );
    })
}

fn pending(x: &types::PendingModifiedValues) -> Value {
    obj(|o| {
        o.opt("NumCacheNodes", x.num_cache_nodes());
        o.sent("CacheNodeIdsToRemove", x.cache_node_ids_to_remove.as_ref(), |id| json!(id));
        o.str("EngineVersion", x.engine_version())
            .str("CacheNodeType", x.cache_node_type())
            .str("AuthTokenStatus", x.auth_token_status().map(|s| s.as_str()));
        o.sent("LogDeliveryConfigurations", x.log_delivery_configurations.as_ref(), |l| {
            obj(|o| {
                o.str("LogType", l.log_type().map(|s| s.as_str()))
                    .str("DestinationType", l.destination_type().map(|s| s.as_str()))
                    .opt("DestinationDetails", l.destination_details().map(destination_details))
                    .str("LogFormat", l.log_format().map(|s| s.as_str()));
            })
        });
        o.opt("TransitEncryptionEnabled", x.transit_encryption_enabled())
            .str(
                "TransitEncryptionMode",
                x.transit_encryption_mode().map(|s| s.as_str()),
            )
            .opt(
                "ScaleConfig",
                x.scale_config().map(|s| {
                    obj(|o| {
                        o.opt("ScalePercentage", s.scale_percentage())
                            .opt("ScaleIntervalMinutes", s.scale_interval_minutes());
                    })
                }),
            );
    })
}

fn cache_node(x: &types::CacheNode) -> Value {
    obj(|o| {
        o.str("CacheNodeId", x.cache_node_id())
            .str("CacheNodeStatus", x.cache_node_status())
            .time("CacheNodeCreateTime", x.cache_node_create_time())
            .opt("Endpoint", x.endpoint().map(endpoint))
            .str("ParameterGroupStatus", x.parameter_group_status())
            .str("SourceCacheNodeId", x.source_cache_node_id())
            .str("CustomerAvailabilityZone", x.customer_availability_zone())
            .str("CustomerOutpostArn", x.customer_outpost_arn());
    })
}

/// Every member AWS returned for the cluster, in aws-v3's model order.
fn properties(c: &types::CacheCluster) -> Map<String, Value> {
    let mut p = Props::default();
    p.str("CacheClusterId", c.cache_cluster_id())
        .str("ARN", c.arn())
        .str("CacheNodeType", c.cache_node_type())
        .str("Engine", c.engine())
        .str("EngineVersion", c.engine_version())
        .str("CacheClusterStatus", c.cache_cluster_status())
        .opt("NumCacheNodes", c.num_cache_nodes())
        .str("PreferredAvailabilityZone", c.preferred_availability_zone())
        .str("PreferredOutpostArn", c.preferred_outpost_arn())
        .time("CacheClusterCreateTime", c.cache_cluster_create_time())
        .str("PreferredMaintenanceWindow", c.preferred_maintenance_window())
        .opt("PendingModifiedValues", c.pending_modified_values().map(pending))
        .opt(
            "NotificationConfiguration",
            c.notification_configuration().map(|n| {
                obj(|o| {
                    o.str("TopicArn", n.topic_arn()).str("TopicStatus", n.topic_status());
                })
            }),
        );
    p.sent("CacheSecurityGroups", c.cache_security_groups.as_ref(), |g| {
        obj(|o| {
            o.str("CacheSecurityGroupName", g.cache_security_group_name())
                .str("Status", g.status());
        })
    });
    p.opt(
        "CacheParameterGroup",
        c.cache_parameter_group().map(|g| {
            obj(|o| {
                o.str("CacheParameterGroupName", g.cache_parameter_group_name())
                    .str("ParameterApplyStatus", g.parameter_apply_status());
                o.sent("CacheNodeIdsToReboot", g.cache_node_ids_to_reboot.as_ref(), |id| {
                    json!(id)
                });
            })
        }),
    )
    .str("CacheSubnetGroupName", c.cache_subnet_group_name());
    p.sent("CacheNodes", c.cache_nodes.as_ref(), cache_node);
    p.opt("AutoMinorVersionUpgrade", c.auto_minor_version_upgrade());
    p.sent("SecurityGroups", c.security_groups.as_ref(), |g| {
        obj(|o| {
            o.str("SecurityGroupId", g.security_group_id())
                .str("Status", g.status());
        })
    });
    p.str("ReplicationGroupId", c.replication_group_id())
        .opt("SnapshotRetentionLimit", c.snapshot_retention_limit())
        .str("SnapshotWindow", c.snapshot_window())
        .opt("AuthTokenEnabled", c.auth_token_enabled())
        .time("AuthTokenLastModifiedDate", c.auth_token_last_modified_date())
        .opt("TransitEncryptionEnabled", c.transit_encryption_enabled())
        .opt("AtRestEncryptionEnabled", c.at_rest_encryption_enabled())
        .opt(
            "ReplicationGroupLogDeliveryEnabled",
            c.replication_group_log_delivery_enabled(),
        );
    p.sent("LogDeliveryConfigurations",
        c.log_delivery_configurations.as_ref(),
        |l| {
            obj(|o| {
                o.str("LogType", l.log_type().map(|s| s.as_str()))
                    .str("DestinationType", l.destination_type().map(|s| s.as_str()))
                    .opt("DestinationDetails", l.destination_details().map(destination_details))
                    .str("LogFormat", l.log_format().map(|s| s.as_str()))
                    .str("Status", l.status().map(|s| s.as_str()))
                    .str("Message", l.message());
            })
        },
    );
    p.str("NetworkType", c.network_type().map(|s| s.as_str()))
        .str("IpDiscovery", c.ip_discovery().map(|s| s.as_str()))
        .str(
            "TransitEncryptionMode",
            c.transit_encryption_mode().map(|s| s.as_str()),
        )
        .opt("ConfigurationEndpoint", c.configuration_endpoint().map(endpoint))
        .str("ClientDownloadLandingPage", c.client_download_landing_page());
    p.build()
}

#[cfg(test)]
mod tests {
    use aws_smithy_types::DateTime;

    use super::*;

    #[test]
    fn every_member_sent_in_model_order_empty_lists_kept_absent_ones_left_out() {
        let mut c = types::CacheCluster::builder()
            .cache_cluster_id("zinc")
            .arn("arn:zinc")
            .engine("redis")
            .num_cache_nodes(1)
            .cache_cluster_create_time(DateTime::from_secs(1_700_000_000))
            .cache_nodes(
                types::CacheNode::builder()
                    .cache_node_id("0001")
                    .cache_node_create_time(DateTime::from_secs(1_700_000_000))
                    .endpoint(types::Endpoint::builder().address("h").port(6379).build())
                    .build(),
            )
            .network_type(types::NetworkType::Ipv4)
            .client_download_landing_page("https://x")
            .build();
        c.security_groups = Some(Vec::new());
        let p = properties(&c);
        assert_eq!(
            Value::Object(p.clone()),
            json!({
                "CacheClusterId": "zinc", "ARN": "arn:zinc", "Engine": "redis",
                "NumCacheNodes": 1, "CacheClusterCreateTime": "2023-11-14T22:13:20Z",
                "CacheNodes": [{"CacheNodeId": "0001",
                    "CacheNodeCreateTime": "2023-11-14T22:13:20Z",
                    "Endpoint": {"Address": "h", "Port": 6379}}],
                "SecurityGroups": [], "NetworkType": "ipv4",
                "ClientDownloadLandingPage": "https://x",
            })
        );
        let order: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(
            order,
            [
                "CacheClusterId",
                "ARN",
                "Engine",
                "NumCacheNodes",
                "CacheClusterCreateTime",
                "CacheNodes",
                "SecurityGroups",
                "NetworkType",
                "ClientDownloadLandingPage",
            ]
        );
    }
}
