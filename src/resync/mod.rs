//! One full resync, from settings to a report.
//!
//! Order of work, chosen so that **nothing is written to Port before the configuration and
//! the mapping are known to be good**:
//!
//! 1. read: `GET` the integration; compile its mapping (or our default, for a new one);
//! 2. write: create the integration / default blueprints when missing, mark the resync
//!    state `running`;
//! 3. discover accounts (assume roles) and, per account, enabled regions;
//! 4. collect → map → load as one stream: every (kind, account, region) unit lists pages
//!    into a bounded channel (accounts and regions at once are bounded by
//!    `maxConcurrentAccounts` / `maxConcurrentRegions`); the consumer maps each item with
//!    every resource of that kind whose region policy allows the region, and feeds the
//!    loader, which keeps a bounded number of bulk requests in flight. A kind used by
//!    several resources is listed once.
//! 5. report: resync state `completed` only when every account, unit and entity
//!    succeeded, `failed` otherwise; a summary event; the [`Outcome`] the exit code comes
//!    from.
//!
//! 6. reconcile: delete what this integration owns and the run did not see, under the
//!    rules of [`reconcile`] (never after a failed part that could have produced it).
//!
//! The consuming half of step 4 is [`Engine`], public so that the engine benchmark drives
//! exactly the code a resync runs.

mod engine;
mod reconcile;
mod report;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tracing::Instrument;

pub use engine::{Engine, EngineOptions};
pub use reconcile::Seen;
pub(crate) use report::Outcome;
pub use report::Report;

use crate::aws::collect::{self, CollectError};
use crate::aws::kinds;
use crate::aws::{AwsError, accounts, credentials};
use crate::config::{AwsSettings, Settings};
use crate::mapping::{CompileOptions, Mapping, MappingError};
use crate::port::integration::{self, ResyncStatus};
use crate::port::{self, PortError};

/// A run that could not get going or had to stop.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    /// The mapping is unusable; nothing was written to Port.
    #[error("invalid mapping: {0}")]
    Mapping(#[from] MappingError),
    /// Port could not be reached or refused a bootstrap call.
    #[error("Port: {0}")]
    Port(#[from] PortError),
    /// No AWS account could be used.
    #[error("AWS: {0}")]
    Aws(#[from] AwsError),
    /// Collection broke down (a bug, not an AWS answer).
    #[error(transparent)]
    Collect(#[from] CollectError),
    /// A shutdown signal cancelled the run. Deletion happens last, so usually nothing was
    /// deleted; a run cancelled while deleting says what reached Port.
    #[error("the resync was cancelled by a shutdown signal; {}", deletion_summary(*deleted, *possibly_deleted))]
    Aborted {
        /// Deletes Port confirmed before the signal.
        deleted: u64,
        /// Entities in delete requests in flight at the signal: they may have been deleted.
        possibly_deleted: u64,
    },
    /// The run outlasted its deadline (`OCEAN__RESYNC_TIMEOUT_MINUTES`) and was cancelled
    /// like a signalled one; the next trigger can run.
    #[error("the resync was cancelled after {after:?}, its deadline (OCEAN__RESYNC_TIMEOUT_MINUTES); {}", deletion_summary(*deleted, *possibly_deleted))]
    TimedOut {
        /// The deadline.
        after: Duration,
        /// Deletes Port confirmed before the deadline.
        deleted: u64,
        /// Entities in delete requests in flight at the deadline.
        possibly_deleted: u64,
    },
}

fn deletion_summary(deleted: u64, possibly: u64) -> String {
    match (deleted, possibly) {
        (0, 0) => "nothing was deleted".into(),
        (d, 0) => format!("{d} stale entities had been deleted"),
        (d, p) => format!(
            "{d} stale entities had been deleted, and {p} more possibly (their delete request was in flight)"
        ),
    }
}

impl RunError {
    /// Whether the problem is in the user's input (exit code 2) rather than at run time.
    pub(crate) fn is_invalid_input(&self) -> bool {
        matches!(self, RunError::Mapping(_))
    }
}

/// How long a cancelled run may spend telling Port it was aborted.
const ABORT_REPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs one full resync. When `shutdown` completes first, or the run outlasts `deadline`,
/// the run is cancelled in whatever phase it is (in-flight requests dropped, no deletion
/// started), the resync state becomes `aborted`, and [`RunError::Aborted`] or
/// [`RunError::TimedOut`] is returned.
pub(crate) async fn run(
    settings: &Settings,
    shutdown: impl std::future::Future<Output = ()>,
    deadline: Option<Duration>,
) -> Result<Report, RunError> {
    let run_id = uuid::Uuid::new_v4().to_string();
    // Every event of the run carries its id.
    let span = tracing::info_span!("resync", run_id = %run_id);
    run_in_span(settings, run_id, shutdown, deadline)
        .instrument(span)
        .await
}

/// Why a run stopped before its end.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Signal,
    Deadline(Duration),
}

async fn run_in_span(
    settings: &Settings,
    run_id: String,
    shutdown: impl std::future::Future<Output = ()>,
    deadline: Option<Duration>,
) -> Result<Report, RunError> {
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    // Every phase below is raced against this: a signal during bootstrap cancels as cleanly
    // as one during listing.
    let stop = async {
        tokio::select! {
            () = shutdown => Stop::Signal,
            () = sleep_for(deadline) => Stop::Deadline(deadline.unwrap_or_default()),
        }
    }
    .shared();
    let client = Arc::new(port::Client::new(settings)?);
    let (cancel_tx, cancel) = tokio::sync::watch::channel(false);
    let control = reconcile::DeleteControl {
        progress: reconcile::DeleteProgress::default(),
        cancel,
    };
    let progress = &control.progress;
    let dry_run = settings.dry_run;
    let state_sent = std::sync::atomic::AtomicBool::new(false);
    let mapping = tokio::select! {
        mapping = bootstrap(settings, &client, &started_at, &state_sent) => mapping?,
        why = stop.clone() => {
            let write = state_sent.load(std::sync::atomic::Ordering::SeqCst);
            return Err(cancelled(why, &client, &started_at, write, progress).await);
        }
    };

    // Deletion checks `control.cancel` before each request; `control.progress` says what
    // reached Port even when the work below is dropped mid-request.
    let work = collect_then_reconcile(settings, &client, &mapping, &run_id, &started_at, &control);
    let result = tokio::select! {
        biased;
        result = work => result,
        why = stop.clone() => {
            let _ = cancel_tx.send(true);
            return Err(cancelled(why, &client, &started_at, !dry_run, progress).await);
        }
    };
    let ended_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut report = match result {
        Ok(Some(report)) => report,
        Ok(None) => {
            // Deletion saw the stop before its next request.
            let why = stop.await;
            return Err(cancelled(why, &client, &started_at, !dry_run, progress).await);
        }
        Err(e) => {
            crate::metrics::record_outcome("failed");
            if !dry_run {
                integration::set_resync_state(
                    &client,
                    ResyncStatus::Failed,
                    &started_at,
                    Some(&ended_at),
                )
                .await;
            }
            return Err(e);
        }
    };
    report.duration = started.elapsed();
    Ok(finish(&client, report, dry_run, &started_at, &ended_at).await)
}

/// Ends a run that got to its end: outcome metrics, resync state, the summary event.
async fn finish(
    client: &port::Client,
    mut report: Report,
    dry_run: bool,
    started_at: &str,
    ended_at: &str,
) -> Report {
    report.dry_run = dry_run;
    report.record_metrics();
    if dry_run {
        report.log_summary();
        return report;
    }
    let status = match report.outcome() {
        Outcome::Complete => ResyncStatus::Completed,
        Outcome::Partial => ResyncStatus::Failed,
    };
    integration::set_resync_state(client, status, started_at, Some(ended_at)).await;
    report.log_summary();
    report
}

/// Steps 3–6: collect, map and load, then reconcile. `None` when deletion stopped for a
/// shutdown before its next request.
async fn collect_then_reconcile(
    settings: &Settings,
    client: &Arc<port::Client>,
    mapping: &Mapping,
    run_id: &str,
    started_at: &str,
    control: &reconcile::DeleteControl,
) -> Result<Option<Report>, RunError> {
    let (mut report, seen) = collect_and_load(settings, client, mapping, run_id).await?;
    // Deletion only ever follows a run whose collection finished; the rules of what it
    // may touch are in `reconcile`.
    match reconcile::reconcile(
        client,
        mapping,
        &report,
        seen,
        started_at,
        settings.dry_run,
        control,
    )
    .await
    {
        Ok(plan) => {
            report.deletions = plan.deletions;
            report.deleted = plan.deleted;
            report.delete_failed = plan.failed;
            report.deletion_skipped = plan.skipped;
            if plan.cancelled {
                return Ok(None);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "reconciliation failed; nothing was deleted and the run is partial");
            report
                .deletion_skipped
                .push(format!("reconciliation failed: {e}"));
            report.reconciliation_error = Some(e.to_string());
        }
    }
    Ok(Some(report))
}

async fn sleep_for(deadline: Option<Duration>) {
    match deadline {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Reads the integration, compiles its mapping, and (unless a dry run) creates what is
/// missing and marks the resync `running` (`state_sent` is set just before that call).
async fn bootstrap(
    settings: &Settings,
    client: &port::Client,
    started_at: &str,
    state_sent: &std::sync::atomic::AtomicBool,
) -> Result<Mapping, RunError> {
    let options = CompileOptions {
        allow_env: settings.allow_environment_variables_jq_access,
    };
    // The environment JQ sees never holds this program's own secrets.
    crate::mapping::env::hide(settings.secrets());
    let existing = integration::fetch(client).await?;
    let (mapping_json, origin) = existing.mapping_source();
    let mut mapping = Mapping::from_json_with(&mapping_json, options)?;
    tracing::info!(resources = mapping.resources.len(), origin = ?origin, "mapping compiled");
    if settings.dry_run {
        tracing::info!(
            integration_exists = existing.integration.is_some(),
            "dry run: nothing will be written to Port"
        );
        return Ok(mapping);
    }
    // From here on Port is written to.
    integration::ensure(client, &existing, settings.initialize_port_resources).await?;
    if existing.integration.is_none() {
        // As Ocean: what Port stored is the source of truth from the first run on (Port
        // may have given the new integration a mapping of its own).
        let created = integration::fetch(client).await?;
        let (stored, origin) = created.mapping_source();
        if origin == integration::MappingOrigin::Port && stored != mapping_json {
            mapping = Mapping::from_json_with(&stored, options)?;
            tracing::info!(
                resources = mapping.resources.len(),
                "using the mapping Port stored for the new integration"
            );
        }
    }
    state_sent.store(true, std::sync::atomic::Ordering::SeqCst);
    integration::set_resync_state(client, ResyncStatus::Running, started_at, None).await;
    Ok(mapping)
}

/// Ends a cancelled run: resync state `aborted` (when one was set), the outcome metric, and
/// the error saying what deletion reached.
async fn cancelled(
    why: Stop,
    client: &port::Client,
    started_at: &str,
    write_state: bool,
    progress: &reconcile::DeleteProgress,
) -> RunError {
    let (deleted, possibly_deleted) = (progress.deleted(), progress.in_flight());
    let error = match why {
        Stop::Signal => RunError::Aborted {
            deleted,
            possibly_deleted,
        },
        Stop::Deadline(after) => RunError::TimedOut {
            after,
            deleted,
            possibly_deleted,
        },
    };
    tracing::warn!(error = %error, "the resync is cancelled");
    if write_state {
        let ended_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let state = integration::set_resync_state(
            client,
            ResyncStatus::Aborted,
            started_at,
            Some(&ended_at),
        );
        if tokio::time::timeout(ABORT_REPORT_TIMEOUT, state)
            .await
            .is_err()
        {
            tracing::warn!("Port did not take the aborted state in time");
        }
    }
    crate::metrics::record_outcome(match why {
        Stop::Signal => "aborted",
        Stop::Deadline(_) => "timed_out",
    });
    error
}

/// The kinds the mapping uses, each once; a kind this program does not support is recorded
/// in the report (its resources are skipped and the run is partial).
fn kinds_used(mapping: &Mapping, report: &mut Report) -> Vec<&'static kinds::Kind> {
    let mut used: BTreeMap<&'static str, &'static kinds::Kind> = BTreeMap::new();
    for r in &mapping.resources {
        match kinds::find(&r.kind) {
            Some(k) => {
                used.insert(k.name, k);
            }
            None => {
                tracing::error!(kind = %r.kind, resource_index = r.index, "kind is not supported; this resource is skipped and the run is partial");
                report.unsupported_kinds.push(r.kind.clone());
            }
        }
    }
    used.into_values().collect()
}

/// The AWS settings of this run: accounts are listed once for all kinds, so a resource's
/// own `maxConcurrentAccounts` bounds them all.
fn aws_settings(settings: &Settings, mapping: &Mapping) -> AwsSettings {
    let mut aws = settings.aws.clone();
    if let Some(n) = mapping.max_concurrent_accounts
        && n < aws.max_concurrent_accounts
    {
        tracing::info!(
            max_concurrent_accounts = n,
            "a resource's selector.maxConcurrentAccounts bounds the accounts processed at once"
        );
        aws.max_concurrent_accounts = n;
    }
    aws
}

/// Steps 3–4: discover accounts, then collect, map and load as one stream (accounts,
/// regions and bulk requests each bounded); the report so far and what the run produced.
async fn collect_and_load(
    settings: &Settings,
    client: &Arc<port::Client>,
    mapping: &Mapping,
    run_id: &str,
) -> Result<(Report, reconcile::Seen), RunError> {
    let mut report = Report::new(run_id.to_string());

    let kinds = kinds_used(mapping, &mut report);
    let aws = aws_settings(settings, mapping);
    let base = credentials::base_config(&aws).await;
    let discovery = accounts::discover(&base, &aws).await?;
    report.accounts_ok = discovery.accounts.len();
    report.failed_accounts = discovery.failed.clone();
    tracing::info!(
        accounts = discovery.accounts.len(),
        failed = discovery.failed.len(),
        "accounts ready"
    );

    let mut collection = collect::start(
        discovery.accounts,
        collect::Plan {
            kinds,
            selectors: mapping
                .resources
                .iter()
                .map(collect::ResourceSelector::of)
                .collect(),
            partition: aws.partition,
            max_accounts: aws.max_concurrent_accounts,
            max_regions: aws.max_concurrent_regions,
            pacer: aws.max_requests_per_second.and_then(kinds::pacer),
            bounds: Default::default(),
            // `arn:<partition>:iam::<account>:role/…`: the account that lists the organization.
            organization_account: aws
                .account_role_arn
                .as_deref()
                .and_then(|arn| arn.split(':').nth(4))
                .map(str::to_string),
        },
    );

    // Consumer: map and load as pages arrive.
    // Blueprint schemas tell which null fields are errors (required) and which warnings.
    let blueprints = integration::fetch_blueprints(
        client,
        mapping
            .resources
            .iter()
            .filter_map(|r| r.constant_blueprint()),
    )
    .await;
    let mut engine = Engine::new(
        client.clone(),
        mapping,
        &blueprints,
        EngineOptions {
            resync_id: run_id.to_string(),
            dry_run: settings.dry_run,
            max_in_flight: settings.port.max_in_flight,
            send_examples: settings.send_raw_data_examples,
        },
    );
    while let Some(page) = collection.pages.recv().await {
        engine
            .page(page.kind, page.region.as_deref(), &page.items)
            .await;
    }
    let seen = engine.finish(&mut report).await;
    let collected = collection.finish().await?;
    report.regions = collected.regions;
    report.failed_units = collected.failures;
    Ok((report, seen))
}
