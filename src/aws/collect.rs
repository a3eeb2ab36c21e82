//! Collection: which (kind, account, region) units a run lists, and the listing of all of
//! them into one bounded channel of [`Page`]s.
//!
//! Accounts are processed `max_concurrent_accounts` at a time and, within an account, units
//! `max_concurrent_regions` at a time. A unit that fails is recorded as a [`UnitFailure`]
//! and the rest go on; a region the account has not opted into (`OptInRequired`) is not a
//! failure, since nothing can exist there. The consumer (the resync's engine) reads the
//! pages as they come, so a slow consumer slows listing down instead of buffering items.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::{StreamExt, stream};
use serde_json::Value;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::accounts::Account;
use super::kinds::{Emit, Kind, ListCtx, Pacer, Scope};
use super::regions;
use crate::config::Partition;
use crate::mapping::config::RegionPolicy;

/// Pages buffered between collection and its consumer.
const CHANNEL_PAGES: usize = 64;

/// A (kind, account, region) whose listing failed.
#[derive(Debug, Clone)]
pub struct UnitFailure {
    /// Kind (`*` when every kind of the account was affected).
    pub kind: String,
    /// Account id.
    pub account: String,
    /// Region (`*` for all, empty for account-scoped kinds).
    pub region: String,
    /// AWS's code and message.
    pub reason: String,
}

/// A page of raw items and where it came from.
pub struct Page {
    /// The kind's `AWS::X::Y` name.
    pub kind: &'static str,
    /// The region listed (empty for account-scoped kinds).
    pub region: Arc<str>,
    /// Raw items of the aws-v3 shape.
    pub items: Vec<Value>,
}

/// A resource's region policy for a kind: a kind is listed in a region when some resource
/// of that kind allows it.
#[derive(Debug, Clone)]
pub struct KindRegions {
    /// The kind's `AWS::X::Y` name.
    pub kind: String,
    /// The resource's `selector.regionPolicy`.
    pub policy: RegionPolicy,
}

/// What to list, and how much at once.
pub struct Plan {
    /// Kinds to list, each once.
    pub kinds: Vec<&'static Kind>,
    /// Region policies, one per resource.
    pub regions: Vec<KindRegions>,
    /// AWS partition, for ARNs built in code and the default region.
    pub partition: Partition,
    /// Accounts processed at once.
    pub max_accounts: usize,
    /// Units of one account listed at once.
    pub max_regions: usize,
    /// Per-(account, service) request pacing.
    pub pacer: Option<Arc<Pacer>>,
}

/// What collection found apart from the items.
#[derive(Debug, Default)]
pub struct Collected {
    /// Distinct regions listed, summed over accounts.
    pub regions: usize,
    /// Units that failed.
    pub failures: Vec<UnitFailure>,
}

/// A collection under way: read [`Collection::pages`] to the end, then [`Collection::finish`].
/// Dropping it stops the listing (a cancelled run must not keep calling AWS).
pub struct Collection {
    /// Pages as they are listed; closed when every unit is done.
    pub pages: mpsc::Receiver<Page>,
    task: AbortOnDrop<Vec<Collected>>,
}

impl Collection {
    /// Waits for the listing to end and sums up what each account found.
    pub async fn finish(mut self) -> Result<Collected, CollectError> {
        let per_account = (&mut self.task.0)
            .await
            .map_err(|e| CollectError::TaskFailed(e.to_string()))?;
        let mut total = Collected::default();
        for account in per_account {
            total.regions += account.regions;
            total.failures.extend(account.failures);
        }
        Ok(total)
    }
}

/// Starts listing every unit of `plan` in `accounts`, on its own task.
pub fn start(accounts: Vec<Account>, plan: Plan) -> Collection {
    let (tx, rx) = mpsc::channel::<Page>(CHANNEL_PAGES);
    let task = tokio::spawn(collect(accounts, plan, tx).in_current_span());
    Collection {
        pages: rx,
        task: AbortOnDrop(task),
    }
}

async fn collect(accounts: Vec<Account>, plan: Plan, tx: mpsc::Sender<Page>) -> Vec<Collected> {
    let needs_regions = plan.kinds.iter().any(|k| k.scope != Scope::Account);
    let total_accounts = accounts.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let plan = &plan;
    let done = &done;
    stream::iter(accounts.into_iter().map(Arc::new))
        .map(|account| {
            let tx = tx.clone();
            async move {
                let mut failures = Vec::new();
                let enabled = if needs_regions {
                    match regions::enabled_regions(&account, plan.partition).await {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::error!(account = %account.id, error = %e, "cannot discover regions; the account's regional kinds are skipped");
                            failures.push(UnitFailure {
                                kind: "*".into(),
                                account: account.id.clone(),
                                region: "*".into(),
                                reason: e.to_string(),
                            });
                            Vec::new()
                        }
                    }
                } else {
                    Vec::new()
                };
                let (units, regions) = plan_units(&account, plan, &enabled);
                let results: Vec<Option<UnitFailure>> = stream::iter(units)
                    .map(|unit| run_unit(unit, plan, tx.clone()))
                    .buffer_unordered(plan.max_regions)
                    .collect()
                    .await;
                failures.extend(results.into_iter().flatten());
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                tracing::info!(account = %account.id, done = n, of = total_accounts, "account listed");
                Collected { regions, failures }
            }
        })
        .buffer_unordered(plan.max_accounts)
        .collect::<Vec<_>>()
        .await
}

/// Collection itself broke (not an AWS failure, which is a [`UnitFailure`]).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The listing task panicked or was cancelled.
    #[error("the collection task did not finish: {0}")]
    TaskFailed(String),
}

/// A spawned task that is aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One (kind, account, region) to list.
struct Unit {
    kind: &'static Kind,
    account: Arc<Account>,
    region: String,
}

/// The units of one account and the number of distinct regions they list: account-scoped
/// kinds once, global kinds once through an allowed region (us-east-1 when allowed, as
/// aws-v3 would usually pick), regional kinds in every enabled region some resource of
/// that kind allows.
fn plan_units(account: &Arc<Account>, plan: &Plan, enabled: &[String]) -> (Vec<Unit>, usize) {
    let mut units = Vec::new();
    let mut regions_used = BTreeSet::new();
    for &kind in &plan.kinds {
        let allowed: Vec<&String> = enabled
            .iter()
            .filter(|region| {
                plan.regions
                    .iter()
                    .any(|r| r.kind == kind.name && r.policy.allows(region))
            })
            .collect();
        match kind.scope {
            Scope::Account => units.push(Unit {
                kind,
                account: account.clone(),
                region: String::new(),
            }),
            Scope::Global => {
                let region = allowed
                    .iter()
                    .find(|r| r.as_str() == "us-east-1")
                    .or(allowed.first());
                match region {
                    Some(r) => units.push(Unit {
                        kind,
                        account: account.clone(),
                        region: (*r).clone(),
                    }),
                    None => {
                        tracing::warn!(account = %account.id, kind = kind.name, "no allowed region to list this global kind through")
                    }
                }
            }
            Scope::Regional => {
                for region in allowed {
                    regions_used.insert(region.clone());
                    units.push(Unit {
                        kind,
                        account: account.clone(),
                        region: region.clone(),
                    });
                }
            }
        }
    }
    (units, regions_used.len())
}

/// Lists one unit into the channel; a failure is returned, not raised, so the rest goes on.
async fn run_unit(unit: Unit, plan: &Plan, tx: mpsc::Sender<Page>) -> Option<UnitFailure> {
    let (page_tx, mut page_rx) = mpsc::channel::<Vec<Value>>(4);
    let region_for_call = if unit.region.is_empty() {
        unit.account
            .config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| plan.partition.default_region().to_string())
    } else {
        unit.region.clone()
    };
    let ctx = ListCtx {
        account: unit.account.clone(),
        region: region_for_call,
        partition: plan.partition,
        pacer: plan.pacer.clone(),
    };
    let tag: Arc<str> = Arc::from(unit.region.as_str());
    let kind = unit.kind.name;
    let forward = async {
        let mut count = 0usize;
        while let Some(items) = page_rx.recv().await {
            count += items.len();
            if tx
                .send(Page {
                    kind,
                    region: tag.clone(),
                    items,
                })
                .await
                .is_err()
            {
                break;
            }
        }
        count
    };
    tracing::debug!(kind, account = %unit.account.id, region = %unit.region, "listing");
    let (result, items) = tokio::join!((unit.kind.list)(ctx, Emit::new(page_tx)), forward);
    match result {
        // A region the account has not opted into: nothing can exist there.
        Err(e) if e.code() == Some("OptInRequired") => {
            tracing::info!(kind, account = %unit.account.id, region = %unit.region, "region not enabled for this account; skipped");
            None
        }
        Ok(()) => {
            tracing::debug!(kind, account = %unit.account.id, region = %unit.region, items, "listed");
            None
        }
        Err(e) => {
            tracing::error!(kind, account = %unit.account.id, region = %unit.region, error = %e, "listing failed; the run is partial");
            Some(UnitFailure {
                kind: kind.to_string(),
                account: unit.account.id.clone(),
                region: unit.region,
                reason: e.to_string(),
            })
        }
    }
}
