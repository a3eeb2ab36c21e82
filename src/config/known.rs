//! Ocean settings this program accepts without using them.
//!
//! An Ocean user's Helm values and env files set many framework keys (caches, lakehouse,
//! streaming, Kafka brokers…) that have no meaning here. They must not produce warnings,
//! or the warning about a real typo drowns. Everything else is "unknown".

/// Key prefixes (snake_case, dot-separated) that Ocean defines.
const OCEAN_KEYS: &[&str] = &[
    "port.port_app_config_cache_ttl",
    "port.feature_flags_cache_ttl_seconds",
    "port.blueprint_cache_ttl_seconds",
    "integration.incremental_sync_enabled",
    "integration.incremental_sync_interval",
    "integration.version",
    "integration.config.live_events_api_key",
    "integration.config.region",
    "event_listener.brokers",
    "event_listener.security_protocol",
    "event_listener.authentication_mechanism",
    "event_listener.kafka_security_enabled",
    "event_listener.consumer_poll_timeout",
    "event_listener.app_host",
    "event_listener.should_resync",
    "event_listener.should_process_webhooks",
    "event_listener.should_run_actions",
    "create_port_resources_origin",
    "runtime",
    "resources_path",
    "client_timeout",
    "status_heartbeat_interval_seconds",
    "oauth_access_token_file_path",
    "event_workers_count",
    "events_debug_logging",
    "max_event_processing_seconds",
    "max_wait_seconds_before_shutdown",
    "caching_storage_mode",
    "upsert_entities_batch_max_length",
    "upsert_entities_batch_max_size_in_bytes",
    "delete_entities_max_batch_size",
    "yield_items_to_parse_batch_size",
    "process_in_queue_timeout",
    "process_in_queue_max_workers",
    "lakehouse_enabled",
    "lakehouse_buffer_interval_seconds",
    "lakehouse_buffer_max_count",
    "processing_mode",
    "disable_ip_outbound_blocker",
    "process_execution_mode",
    "metrics",
    "streaming",
    "actions_processor",
    "live_events",
    "ssl",
];

/// Whether `path` is (under) a key Ocean defines.
pub(crate) fn is_known(path: &str) -> bool {
    OCEAN_KEYS
        .iter()
        .any(|k| path == *k || (path.starts_with(k) && path.as_bytes().get(k.len()) == Some(&b'.')))
}

/// The closest key among `candidates` (those read by the loader) with the same parent, if
/// it is close enough to be a plausible typo.
pub(crate) fn suggest<'a>(path: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let (parent, leaf) = path.rsplit_once('.').unwrap_or(("", path));
    candidates
        .filter(|c| c.rsplit_once('.').map_or("", |(p, _)| p) == parent)
        .map(|c| (distance(leaf, c.rsplit('.').next().unwrap_or(c)), c))
        .filter(|(d, _)| *d <= 2.max(leaf.len() / 5))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(is_known("ssl.port.verify"));
        assert!(is_known("runtime"));
        assert!(!is_known("runtimes"));
        assert_eq!(distance("acount_role_arn", "account_role_arn"), 1);
    }
}
