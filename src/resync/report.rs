//! What one resync did, and the verdict the exit code comes from.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::aws::accounts::FailedAccount;
use crate::aws::collect::UnitFailure;
use crate::port::loader::BlueprintStats;

/// Whether everything was seen and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every account, unit and entity succeeded.
    Complete,
    /// Something was not seen or not written; nothing may be deleted on this basis.
    Partial,
}

/// The run report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Resync id (also sent as `ocean_info_resync_id`).
    pub(crate) run_id: String,
    /// Wall time.
    pub(crate) duration: Duration,
    /// Accounts listed.
    pub(crate) accounts_ok: usize,
    /// Accounts that could not be accessed.
    pub(crate) failed_accounts: Vec<FailedAccount>,
    /// Distinct regions listed (summed over accounts).
    pub(crate) regions: usize,
    /// Raw items listed per kind.
    pub(crate) items_per_kind: BTreeMap<String, u64>,
    /// Kinds in the mapping that this program does not support.
    pub(crate) unsupported_kinds: Vec<String>,
    /// Listing failures.
    pub(crate) failed_units: Vec<UnitFailure>,
    /// Upserted / failed entities per blueprint.
    pub entities: BTreeMap<String, BlueprintStats>,
    /// Items the selector filtered out.
    pub(crate) filtered: u64,
    /// Items mapped to an empty identifier or blueprint.
    pub(crate) dropped: u64,
    /// Items that could not be mapped (a selector not boolean; itemsToParse, identifier or
    /// blueprint failing).
    pub(crate) mapping_errors: u64,
    /// The first of them, with its kind and resource (what the deletion block names).
    pub(crate) first_mapping_error: Option<String>,
    /// Field evaluations that came out `null`.
    pub(crate) misconfigured_fields: u64,
    /// Stale entities deleted (or, in a dry run, to delete) per blueprint.
    pub(crate) deletions: BTreeMap<String, Vec<String>>,
    /// Entities actually deleted per blueprint.
    pub(crate) deleted: BTreeMap<String, u64>,
    /// Stale entities whose deletion failed per blueprint (refused by Port, or Port down).
    pub(crate) delete_failed: BTreeMap<String, u64>,
    /// Reconciliation could not run (the owned-entity listing failed): nothing was deleted,
    /// and the run is partial so that stopped deletion does not go unnoticed.
    pub(crate) reconciliation_error: Option<String>,
    /// Why deletions were skipped, one line per blueprint or for the whole run.
    pub(crate) deletion_skipped: Vec<String>,
    /// Whether this was a dry run (nothing written to Port).
    pub(crate) dry_run: bool,
}

impl Report {
    /// An empty report for run `run_id`.
    pub fn new(run_id: String) -> Report {
        Report {
            run_id,
            ..Report::default()
        }
    }

    /// Entities Port accepted.
    pub(crate) fn upserted(&self) -> u64 {
        self.entities.values().map(|s| s.upserted).sum()
    }

    /// Entities that were not written.
    pub(crate) fn failed_entities(&self) -> u64 {
        self.entities.values().map(|s| s.failed).sum()
    }

    /// The verdict.
    pub(crate) fn outcome(&self) -> Outcome {
        let clean = self.failed_accounts.is_empty()
            && self.failed_units.is_empty()
            && self.unsupported_kinds.is_empty()
            && self.mapping_errors == 0
            && self.failed_entities() == 0
            && self.delete_failed.values().all(|n| *n == 0)
            && self.reconciliation_error.is_none();
        if clean {
            Outcome::Complete
        } else {
            Outcome::Partial
        }
    }

    /// The report as JSON (the summary event's fields, for tools and tests).
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "run_id": self.run_id,
            "outcome": match self.outcome() { Outcome::Complete => "complete", Outcome::Partial => "partial" },
            "duration_ms": self.duration.as_millis() as u64,
            "accounts_ok": self.accounts_ok,
            "accounts_failed": self.failed_accounts.iter().map(|f| json!({"account": f.id, "reason": f.reason})).collect::<Vec<_>>(),
            "regions": self.regions,
            "items_per_kind": self.items_per_kind,
            "unsupported_kinds": self.unsupported_kinds,
            "failed_units": self.failed_units.iter().map(|u| json!({"kind": u.kind, "account": u.account, "region": u.region, "reason": u.reason})).collect::<Vec<_>>(),
            "entities": self.entities.iter().map(|(bp, s)| (bp.clone(), json!({"upserted": s.upserted, "failed": s.failed}))).collect::<serde_json::Map<_, _>>(),
            "entities_upserted": self.upserted(),
            "entities_failed": self.failed_entities(),
            "filtered": self.filtered,
            "dropped": self.dropped,
            "mapping_errors": self.mapping_errors,
            "misconfigured_fields": self.misconfigured_fields,
            "dry_run": self.dry_run,
            "entities_deleted": self.deleted.values().sum::<u64>(),
            "deleted": self.deleted,
            "entities_delete_failed": self.delete_failed.values().sum::<u64>(),
            "delete_failed": self.delete_failed,
            "deletion_skipped": self.deletion_skipped,
            "reconciliation_failed": self.reconciliation_error.is_some(),
        })
    }

    /// The plan of a dry run: upserts per blueprint, deletions with identifiers.
    pub(crate) fn plan_json(&self) -> Value {
        json!({
            "dry_run": true,
            "outcome": match self.outcome() { Outcome::Complete => "complete", Outcome::Partial => "partial" },
            "upserts": self.entities.iter().map(|(bp, s)| (bp.clone(), json!(s.upserted + s.failed))).collect::<serde_json::Map<_, _>>(),
            "deletions": self.deletions,
            "deletion_skipped": self.deletion_skipped,
        })
    }

    /// Adds this run to the process's metrics.
    pub(crate) fn record_metrics(&self) {
        crate::metrics::record_run(crate::metrics::RunNumbers {
            complete: self.outcome() == Outcome::Complete,
            duration: self.duration,
            entities: Box::new(
                self.entities
                    .iter()
                    .map(|(bp, s)| (bp.as_str(), s.upserted, s.failed)),
            ),
            items: Box::new(self.items_per_kind.iter().map(|(k, n)| (k.as_str(), *n))),
            failed_unit_kinds: Box::new(self.failed_units.iter().map(|u| u.kind.as_str())),
        });
    }

    /// One summary event at the end of the run.
    pub(crate) fn log_summary(&self) {
        let items: u64 = self.items_per_kind.values().sum();
        let kinds = self
            .items_per_kind
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect::<Vec<_>>()
            .join(" ");
        let outcome = match self.outcome() {
            Outcome::Complete => "complete",
            Outcome::Partial => "partial",
        };
        let summary = self.to_json().to_string();
        // One event, at INFO when complete and WARN otherwise, with the same fields.
        macro_rules! finished {
            ($level:ident, $message:literal) => {
                tracing::$level!(
                    outcome,
                    accounts_ok = self.accounts_ok,
                    accounts_failed = self.failed_accounts.len(),
                    failed_units = self.failed_units.len(),
                    regions = self.regions,
                    items,
                    items_per_kind = %kinds,
                    entities_upserted = self.upserted(),
                    entities_failed = self.failed_entities(),
                    entities_deleted = self.deleted.values().sum::<u64>(),
                    dry_run = self.dry_run,
                    duration_ms = self.duration.as_millis() as u64,
                    summary = %summary,
                    $message
                )
            };
        }
        match self.outcome() {
            Outcome::Complete => finished!(info, "resync finished"),
            Outcome::Partial => finished!(
                warn,
                "resync finished with failures; nothing would be deleted on its basis"
            ),
        }
    }
}
