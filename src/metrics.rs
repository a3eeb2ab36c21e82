//! Process-wide Prometheus metrics, served at `GET /metrics` (OpenMetrics text).
//!
//! One registry for the process: the code that knows a number (the run report, the Port
//! client, the AWS listers) records it here directly, which keeps instrumentation out of
//! every function signature.

use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BlueprintLabel {
    blueprint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    kind: String,
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabel {
    route: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabel {
    service: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabel {
    endpoint: String,
}

struct Metrics {
    registry: Registry,
    runs: Family<OutcomeLabel, Counter>,
    last_success: Gauge<f64, AtomicU64>,
    last_duration: Gauge<f64, AtomicU64>,
    upserted: Family<BlueprintLabel, Counter>,
    failed: Family<BlueprintLabel, Counter>,
    deleted: Family<BlueprintLabel, Counter>,
    delete_failed: Family<BlueprintLabel, Counter>,
    items: Family<KindLabel, Counter>,
    aws_calls: Family<ServiceLabel, Counter>,
    aws_errors: Family<ServiceLabel, Counter>,
    enrichment_failures: Family<ActionLabel, Counter>,
    port_calls: Family<EndpointLabel, Counter>,
    port_retries: Family<EndpointLabel, Counter>,
    action_deliveries: Family<DeliveryLabel, Counter>,
    action_runs: Family<OutcomeLabel, Counter>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("aws_catalog_sync");
    let m = Metrics {
        runs: Family::default(),
        last_success: Gauge::default(),
        last_duration: Gauge::default(),
        upserted: Family::default(),
        failed: Family::default(),
        deleted: Family::default(),
        delete_failed: Family::default(),
        items: Family::default(),
        aws_calls: Family::default(),
        aws_errors: Family::default(),
        enrichment_failures: Family::default(),
        port_calls: Family::default(),
        port_retries: Family::default(),
        action_deliveries: Family::default(),
        action_runs: Family::default(),
        registry: Registry::default(),
    };
    registry.register(
        "resync_runs",
        "Resyncs finished, by outcome (complete, partial, failed, aborted)",
        m.runs.clone(),
    );
    registry.register(
        "last_success_timestamp_seconds",
        "Unix time of the last complete resync",
        m.last_success.clone(),
    );
    registry.register(
        "last_run_duration_seconds",
        "Wall time of the last resync",
        m.last_duration.clone(),
    );
    registry.register(
        "entities_upserted",
        "Entities Port accepted, per blueprint",
        m.upserted.clone(),
    );
    registry.register(
        "entities_failed",
        "Entities not written, per blueprint",
        m.failed.clone(),
    );
    registry.register(
        "entities_deleted",
        "Stale entities deleted, per blueprint",
        m.deleted.clone(),
    );
    registry.register(
        "entities_delete_failed",
        "Stale entities whose deletion failed (refused by Port or not sent), per blueprint",
        m.delete_failed.clone(),
    );
    registry.register(
        "items_listed",
        "Raw items listed from AWS, per kind",
        m.items.clone(),
    );
    registry.register(
        "aws_calls",
        "AWS API calls made by the listers, per service",
        m.aws_calls.clone(),
    );
    registry.register(
        "aws_errors",
        "Failed (kind, account, region) listings, per service",
        m.aws_errors.clone(),
    );
    registry.register(
        "aws_enrichment_failures",
        "Failed enrichment calls (the item is kept without that action's fields), per kind and aws-v3 action",
        m.enrichment_failures.clone(),
    );
    registry.register(
        "port_calls",
        "Port API requests, per endpoint",
        m.port_calls.clone(),
    );
    registry.register(
        "port_retries",
        "Port API requests retried, per endpoint",
        m.port_retries.clone(),
    );
    registry.register(
        "action_deliveries",
        "Self-service action deliveries, per route and result (accepted, duplicate, unauthorized, bad_request, busy)",
        m.action_deliveries.clone(),
    );
    registry.register(
        "action_runs",
        "Self-service action runs ended, by outcome (success, failure)",
        m.action_runs.clone(),
    );
    Metrics { registry, ..m }
});

/// Records a finished run.
pub(crate) fn record_run(run: RunNumbers<'_>) {
    let m = &*METRICS;
    record_outcome(if run.complete { "complete" } else { "partial" });
    m.last_duration.set(run.duration.as_secs_f64());
    if run.complete {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        m.last_success.set(now);
    }
    for (bp, upserted, failed) in run.entities {
        let l = BlueprintLabel {
            blueprint: bp.to_string(),
        };
        m.upserted.get_or_create(&l).inc_by(upserted);
        m.failed.get_or_create(&l).inc_by(failed);
    }
    for (kind, n) in run.items {
        m.items
            .get_or_create(&KindLabel {
                kind: kind.to_string(),
            })
            .inc_by(n);
    }
    for kind in run.failed_unit_kinds {
        m.aws_errors
            .get_or_create(&ServiceLabel {
                service: service_of(kind),
            })
            .inc();
    }
}

/// What a finished run reports to [`record_run`]; plain numbers, so that this module
/// depends on nothing above it (the layers that record here look down to it).
pub(crate) struct RunNumbers<'a> {
    /// Every account, unit and entity succeeded.
    pub(crate) complete: bool,
    /// Wall time.
    pub(crate) duration: std::time::Duration,
    /// `(blueprint, upserted, failed)`.
    pub(crate) entities: Box<dyn Iterator<Item = (&'a str, u64, u64)> + 'a>,
    /// `(kind, items listed)`.
    pub(crate) items: Box<dyn Iterator<Item = (&'a str, u64)> + 'a>,
    /// The kind of every failed (kind, account, region) unit.
    pub(crate) failed_unit_kinds: Box<dyn Iterator<Item = &'a str> + 'a>,
}

/// Records deletions as they are confirmed (so a cancelled run's deletions count too).
pub(crate) fn entities_deleted(blueprint: &str, n: u64) {
    METRICS
        .deleted
        .get_or_create(&BlueprintLabel {
            blueprint: blueprint.to_string(),
        })
        .inc_by(n);
}

/// Records deletions that failed.
pub(crate) fn entities_delete_failed(blueprint: &str, n: u64) {
    METRICS
        .delete_failed
        .get_or_create(&BlueprintLabel {
            blueprint: blueprint.to_string(),
        })
        .inc_by(n);
}

/// Records a run that did not produce a report (`failed`, `aborted`).
pub(crate) fn record_outcome(outcome: &str) {
    METRICS
        .runs
        .get_or_create(&OutcomeLabel {
            outcome: outcome.into(),
        })
        .inc();
}

/// Counts an AWS call.
pub(crate) fn aws_call(service: &str) {
    METRICS
        .aws_calls
        .get_or_create(&ServiceLabel {
            service: service.into(),
        })
        .inc();
}

/// Counts a failed enrichment call of `kind`'s `action` (aws-v3's class name).
pub(crate) fn enrichment_failed(kind: &str, action: &str) {
    METRICS
        .enrichment_failures
        .get_or_create(&ActionLabel {
            kind: kind.into(),
            action: action.into(),
        })
        .inc();
}

/// Counts a delivery of a served action (`route` is a served route, never the caller's).
pub(crate) fn action_delivery(route: &str, result: &str) {
    METRICS
        .action_deliveries
        .get_or_create(&DeliveryLabel {
            route: route.into(),
            result: result.into(),
        })
        .inc();
}

/// Counts an action run ended by this process.
pub(crate) fn action_run(outcome: &str) {
    METRICS
        .action_runs
        .get_or_create(&OutcomeLabel {
            outcome: outcome.into(),
        })
        .inc();
}

/// Counts a Port request (and whether it is a retry).
pub(crate) fn port_call(method: &str, path: &str, retry: bool) {
    let l = EndpointLabel {
        endpoint: endpoint(method, path),
    };
    METRICS.port_calls.get_or_create(&l).inc();
    if retry {
        METRICS.port_retries.get_or_create(&l).inc();
    }
}

/// `ec2` for `AWS::EC2::Instance`.
fn service_of(kind: &str) -> String {
    kind.split("::").nth(1).unwrap_or("*").to_ascii_lowercase()
}

/// The endpoint with identifiers replaced, so the label set stays small:
/// `POST /blueprints/{id}/entities/bulk`.
fn endpoint(method: &str, path: &str) -> String {
    let mut parts = Vec::new();
    let mut previous = "";
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let keep = matches!(
            seg,
            "auth"
                | "access_token"
                | "integration"
                | "blueprints"
                | "entities"
                | "bulk"
                | "delete"
                | "resync-state"
                | "resync-request"
                | "kinds"
                | "examples"
                | "config"
                | "datasource-entities"
        );
        parts.push(if keep || previous.is_empty() && seg == "entities" {
            seg
        } else {
            "{id}"
        });
        previous = seg;
    }
    format!("{method} /{}", parts.join("/"))
}

/// The metrics in OpenMetrics text.
pub(crate) fn render() -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &METRICS.registry);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_hide_identifiers() {
        assert_eq!(
            endpoint("POST", "/blueprints/ec2Instance/entities/bulk"),
            "POST /blueprints/{id}/entities/bulk"
        );
        assert_eq!(
            endpoint("GET", "/integration/my-id"),
            "GET /integration/{id}"
        );
        assert_eq!(service_of("AWS::EC2::Instance"), "ec2");
    }
}
