//! Collection: which (kind, account, region) units a run lists, and the listing of all of
//! them into one bounded channel of [`Page`]s.
//!
//! Accounts are processed `max_concurrent_accounts` at a time and, within an account, units
//! `max_concurrent_regions` at a time. A unit that fails is recorded as a [`UnitFailure`]
//! and the rest go on; a region the account has not opted into (`OptInRequired`) is not a
//! failure, since nothing can exist there. The consumer (the resync's engine) reads the
//! pages as they come, so a slow consumer slows listing down instead of buffering items.
//!
//! Each kind the mapping uses is listed once per (account, region) for all its resources:
//! in every region one of them allows (within the regions its service exists in), running
//! the union of the optional actions they ask for.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::{StreamExt, stream};
use serde_json::Value;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::AwsError;
use super::accounts::Account;
use super::kinds::{Actions, Bounds, Emit, Kind, ListCtx, Pacer, Regions, Scope, cloudcontrol};
use super::regions;
use crate::config::Partition;
use crate::mapping::Resource;
use crate::mapping::config::{CloudControlSelector, HistoryBound, RegionPolicy};

/// Pages buffered between collection and its consumer.
const CHANNEL_PAGES: usize = 64;

/// A (kind, account, region) whose listing failed.
#[derive(Debug, Clone)]
pub(crate) struct UnitFailure {
    /// Kind (`*` when every kind of the account was affected).
    pub(crate) kind: String,
    /// Account id.
    pub(crate) account: String,
    /// Region (`*` for all, empty for account-scoped kinds).
    pub(crate) region: String,
    /// AWS's code and message.
    pub(crate) reason: String,
}

/// A page of raw items and where it came from.
pub(crate) struct Page {
    /// The kind's `AWS::X::Y` name.
    pub(crate) kind: &'static str,
    /// The region listed; `None` for account-scoped kinds, which are not listed in a region
    /// (so no `regionPolicy` applies to them).
    pub(crate) region: Option<Arc<str>>,
    /// Raw items of the aws-v3 shape.
    pub(crate) items: Vec<Value>,
}

/// What one mapping resource asks of the listing of its kind.
#[derive(Debug, Clone)]
pub(crate) struct ResourceSelector {
    /// Index in `resources[]`, for messages.
    pub(crate) resource: usize,
    /// The kind's `AWS::X::Y` name.
    pub(crate) kind: String,
    /// `selector.regionPolicy`: the kind is listed in a region when one of its resources
    /// allows it.
    pub(crate) policy: RegionPolicy,
    /// `selector.includeActions`: the kind's listing runs the optional actions any of its
    /// resources names.
    pub(crate) include_actions: Vec<String>,
    /// `selector.maxAgeDays`/`maxItems`: a history kind's listing reads the loosest window
    /// of its resources.
    pub(crate) history: Option<HistoryBound>,
    /// `selector.useGetResourceAPI`/`resourceModel`: a Cloud Control type's listing serves
    /// every model and the union of the asks.
    pub(crate) cloud_control: CloudControlSelector,
}

impl ResourceSelector {
    /// A compiled resource's selector.
    pub(crate) fn of(resource: &Resource) -> ResourceSelector {
        ResourceSelector {
            resource: resource.index,
            kind: resource.kind.clone(),
            policy: resource.region_policy.clone(),
            include_actions: resource.include_actions.clone(),
            history: resource.history,
            cloud_control: resource.cloud_control.clone(),
        }
    }
}

/// What to list, and how much at once.
pub(crate) struct Plan {
    /// Kinds to list, each once.
    pub(crate) kinds: Vec<&'static Kind>,
    /// The selectors of the mapping's resources, one per resource.
    pub(crate) selectors: Vec<ResourceSelector>,
    /// AWS partition, for ARNs built in code and the default region.
    pub(crate) partition: Partition,
    /// Accounts processed at once.
    pub(crate) max_accounts: usize,
    /// Units of one account listed at once.
    pub(crate) max_regions: usize,
    /// Per-(account, service) request pacing.
    pub(crate) pacer: Option<Arc<Pacer>>,
    /// Per-(account, service) bound on resources enriched at once, shared by every unit.
    pub(crate) bounds: Arc<Bounds>,
    /// The account organization-scoped kinds are listed from first: `accountRoleArn`'s,
    /// where discovery listed the organization.
    pub(crate) organization_account: Option<String>,
}

/// What collection found apart from the items.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    /// Distinct regions listed, summed over accounts.
    pub(crate) regions: usize,
    /// Units that failed.
    pub(crate) failures: Vec<UnitFailure>,
}

/// A collection under way: read [`Collection::pages`] to the end, then [`Collection::finish`].
/// Dropping it stops the listing (a cancelled run must not keep calling AWS).
pub(crate) struct Collection {
    /// Pages as they are listed; closed when every unit is done.
    pub(crate) pages: mpsc::Receiver<Page>,
    task: AbortOnDrop<Vec<Collected>>,
}

impl Collection {
    /// Waits for the listing to end and sums up what each account found.
    pub(crate) async fn finish(mut self) -> Result<Collected, CollectError> {
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
pub(crate) fn start(accounts: Vec<Account>, plan: Plan) -> Collection {
    let (tx, rx) = mpsc::channel::<Page>(CHANNEL_PAGES);
    let task = tokio::spawn(collect(accounts, plan, tx).in_current_span());
    Collection {
        pages: rx,
        task: AbortOnDrop(task),
    }
}

async fn collect(accounts: Vec<Account>, plan: Plan, tx: mpsc::Sender<Page>) -> Vec<Collected> {
    let needs_regions = plan
        .kinds
        .iter()
        .any(|k| matches!(k.scope, Scope::Global | Scope::Regional(_)));
    let total_accounts = accounts.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let listings = &listings(&plan);
    let plan = &plan;
    let done = &done;
    let accounts: Vec<Arc<Account>> = accounts.into_iter().map(Arc::new).collect();
    let organization = organization_units(&accounts, listings, plan, tx.clone());
    let per_account = stream::iter(accounts.clone())
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
                let (units, regions) = plan_units(&account, listings, &enabled);
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
        .collect::<Vec<_>>();
    let (mut collected, organization) = tokio::join!(per_account, organization);
    collected.push(organization);
    collected
}

/// Lists each organization-scoped kind once: from one account after the other (the
/// organization account first), until a listing succeeds. A failed attempt is logged and
/// the next account tried, as aws-v3 does; the kind fails only when every account failed.
async fn organization_units(
    accounts: &[Arc<Account>],
    listings: &[Listing<'_>],
    plan: &Plan,
    tx: mpsc::Sender<Page>,
) -> Collected {
    let mut order: Vec<&Arc<Account>> = accounts.iter().collect();
    if let Some(first) = &plan.organization_account {
        // A stable sort keeps discovery order for the others.
        order.sort_by_key(|a| a.id != *first);
    }
    let mut failures = Vec::new();
    for listing in listings
        .iter()
        .filter(|l| l.kind.scope == Scope::Organization)
    {
        let kind = listing.kind.name;
        let mut tried = Vec::new();
        let mut listed = false;
        for account in &order {
            let unit = Unit {
                kind: listing.kind,
                account: Arc::clone(account),
                region: None,
                actions: listing.actions.clone(),
                history: listing.history,
                cloud_control: listing.cloud_control.clone(),
            };
            match list_unit(unit, plan, tx.clone()).await {
                // An organization has at least its management account: an empty answer is
                // an account that does not see the organization (emulators answer so for
                // member accounts), not an organization without accounts, which would make
                // every account entity look deleted. Nothing was sent, so go on.
                Ok(0) => {
                    tracing::warn!(kind, account = %account.id, "this account listed no account of the organization; trying the next one");
                    tried.push(format!("{}: listed no account", account.id));
                }
                Ok(items) => {
                    tracing::info!(kind, account = %account.id, items, "organization listed");
                    listed = true;
                    break;
                }
                Err(e) => {
                    tracing::warn!(kind, account = %account.id, error = %e, "cannot list the organization from this account; trying the next one");
                    tried.push(format!("{}: {e}", account.id));
                }
            }
        }
        if !listed {
            tracing::error!(
                kind,
                tried = tried.len(),
                "no account could list the organization; the run is partial"
            );
            failures.push(UnitFailure {
                kind: kind.to_string(),
                account: "*".into(),
                region: String::new(),
                reason: format!(
                    "no account could list the organization ({})",
                    if tried.is_empty() {
                        "no account to try".to_string()
                    } else {
                        tried.join("; ")
                    }
                ),
            });
        }
    }
    Collected {
        regions: 0,
        failures,
    }
}

/// Collection itself broke (not an AWS failure, which is a [`UnitFailure`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CollectError {
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

/// A kind to list and what the mapping's resources of that kind ask of it.
struct Listing<'p> {
    kind: &'static Kind,
    /// The union of the optional actions its resources ask for.
    actions: Actions,
    /// Its resources' region policies.
    policies: Vec<&'p RegionPolicy>,
    /// The loosest history bound of its resources, for a history kind.
    history: Option<HistoryBound>,
    /// What its resources ask of a Cloud Control listing.
    cloud_control: cloudcontrol::Listing,
}

/// Every kind of `plan` with what its resources ask of it; warns, once per run, about
/// `includeActions` names a kind does not accept (ignored, as aws-v3 does).
fn listings(plan: &Plan) -> Vec<Listing<'_>> {
    plan.kinds
        .iter()
        .map(|&kind| {
            let selectors: Vec<&ResourceSelector> = plan
                .selectors
                .iter()
                .filter(|s| s.kind == kind.name)
                .collect();
            for s in &selectors {
                let ignored: Vec<&str> = kind.unaccepted(&s.include_actions).collect();
                if !ignored.is_empty() {
                    tracing::warn!(
                        kind = kind.name,
                        resource_index = s.resource,
                        ignored = ?ignored,
                        actions = %kind.describe_actions(),
                        "selector.includeActions names actions this kind does not have; they are ignored"
                    );
                }
            }
            if kind.history_time().is_none() {
                for s in selectors.iter().filter(|s| s.history.is_some()) {
                    tracing::warn!(
                        kind = kind.name,
                        resource_index = s.resource,
                        "selector.maxAgeDays/maxItems: this kind takes no history bound; ignored"
                    );
                }
            }
            Listing {
                kind,
                actions: kind.union(selectors.iter().map(|s| s.include_actions.as_slice())),
                policies: selectors.iter().map(|s| &s.policy).collect(),
                history: kind
                    .history_time()
                    .and_then(|_| HistoryBound::loosest(selectors.iter().map(|s| &s.history))),
                cloud_control: if cloudcontrol::is_cloud_control(kind) {
                    cloudcontrol::Listing::of(selectors.iter().map(|s| &s.cloud_control))
                } else {
                    cloudcontrol::Listing::default()
                },
            }
        })
        .collect()
}

/// One (kind, account, region) to list.
struct Unit {
    kind: &'static Kind,
    account: Arc<Account>,
    /// `None` for an account-scoped kind.
    region: Option<String>,
    actions: Actions,
    history: Option<HistoryBound>,
    cloud_control: cloudcontrol::Listing,
}

/// The units of one account and the number of distinct regions they list: account-scoped
/// kinds once, global kinds once through an allowed region (us-east-1 when allowed, as
/// aws-v3 would usually pick), regional kinds in every enabled region some resource of
/// that kind allows and the kind's service exists in.
fn plan_units(
    account: &Arc<Account>,
    listings: &[Listing],
    enabled: &[String],
) -> (Vec<Unit>, usize) {
    let mut units = Vec::new();
    let mut regions_used = BTreeSet::new();
    for listing in listings {
        let kind = listing.kind;
        let unit = |region: Option<&String>| Unit {
            kind,
            account: account.clone(),
            region: region.cloned(),
            actions: listing.actions.clone(),
            history: listing.history,
            cloud_control: listing.cloud_control.clone(),
        };
        match kind.scope {
            Scope::Account => units.push(unit(None)),
            // Listed once per run, by `organization_units`.
            Scope::Organization => {}
            Scope::Global => {
                let allowed = allowed_regions(listing, enabled);
                let region = allowed
                    .iter()
                    .find(|r| r.as_str() == "us-east-1")
                    .or(allowed.first());
                match region {
                    Some(r) => units.push(unit(Some(r))),
                    None => {
                        tracing::warn!(account = %account.id, kind = kind.name, "no allowed region to list this global kind through")
                    }
                }
            }
            Scope::Regional(service) => {
                let allowed: Vec<&String> = allowed_regions(listing, enabled)
                    .into_iter()
                    .filter(|r| service.includes(r))
                    .collect();
                if matches!(service, Regions::Only(_))
                    && !enabled.is_empty()
                    && !enabled.iter().any(|r| service.includes(r))
                {
                    tracing::warn!(account = %account.id, kind = kind.name, "no enabled region of the account is one this kind's service exists in; the account is skipped for this kind");
                }
                for region in allowed {
                    regions_used.insert(region.clone());
                    units.push(unit(Some(region)));
                }
            }
        }
    }
    (units, regions_used.len())
}

/// The enabled regions one of the listing's resources allows.
fn allowed_regions<'e>(listing: &Listing, enabled: &'e [String]) -> Vec<&'e String> {
    enabled
        .iter()
        .filter(|region| listing.policies.iter().any(|p| p.allows(region)))
        .collect()
}

/// Lists one unit into the channel; a failure is returned, not raised, so the rest goes on.
async fn run_unit(unit: Unit, plan: &Plan, tx: mpsc::Sender<Page>) -> Option<UnitFailure> {
    let kind = unit.kind.name;
    let account = unit.account.id.clone();
    let region = unit.region.clone();
    match list_unit(unit, plan, tx).await {
        // A region the account has not opted into: nothing can exist there.
        Err(e) if e.code() == Some("OptInRequired") => {
            tracing::info!(kind, account = %account, region = region.as_deref(), "region not enabled for this account; skipped");
            None
        }
        Ok(items) => {
            tracing::debug!(kind, account = %account, region = region.as_deref(), items, "listed");
            None
        }
        Err(e) => {
            tracing::error!(kind, account = %account, region = region.as_deref(), error = %e, "listing failed; the run is partial");
            Some(UnitFailure {
                kind: kind.to_string(),
                account,
                // The report's rendering: empty for an account-scoped kind.
                region: region.unwrap_or_default(),
                reason: e.to_string(),
            })
        }
    }
}

/// Lists one unit into the channel; the number of items listed.
async fn list_unit(unit: Unit, plan: &Plan, tx: mpsc::Sender<Page>) -> Result<usize, AwsError> {
    let (page_tx, mut page_rx) = mpsc::channel::<Vec<Value>>(4);
    let region_for_call = match &unit.region {
        Some(region) => region.clone(),
        None => unit
            .account
            .config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| plan.partition.default_region().to_string()),
    };
    let ctx = ListCtx {
        account: unit.account.clone(),
        region: region_for_call,
        partition: plan.partition,
        pacer: plan.pacer.clone(),
        bounds: plan.bounds.clone(),
        actions: unit.actions.clone(),
        history: unit.history,
        kind: unit.kind.name,
        cloud_control: unit.cloud_control.clone(),
    };
    let tag: Option<Arc<str>> = unit.region.as_deref().map(Arc::from);
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
    tracing::debug!(kind, account = %unit.account.id, region = unit.region.as_deref(), "listing");
    let (result, items) = tokio::join!((unit.kind.list)(ctx, Emit::new(page_tx)), forward);
    result.map(|()| items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::{self, Fixture, ListFuture};

    fn nothing(_: ListCtx, _: Emit) -> ListFuture {
        Box::pin(async { Ok(()) })
    }

    /// A kind whose service exists in two regions only (as MemoryDB users or SES in aws-v3).
    static TWO_REGIONS: Kind = Kind {
        name: "AWS::Test::TwoRegions",
        scope: Scope::Regional(Regions::Only(&["us-east-1", "eu-west-1"])),
        list: nothing,
        default_actions: &[],
        optional_actions: &[],
        fixture: Fixture {
            example: "none",
            keys: &[],
        },
    };

    fn plan(kinds: Vec<&'static Kind>, policy: RegionPolicy) -> Plan {
        Plan {
            selectors: kinds
                .iter()
                .enumerate()
                .map(|(resource, k)| ResourceSelector {
                    resource,
                    kind: k.name.to_string(),
                    policy: policy.clone(),
                    include_actions: Vec::new(),
                    history: None,
                    cloud_control: Default::default(),
                })
                .collect(),
            kinds,
            partition: Partition::Aws,
            max_accounts: 1,
            max_regions: 1,
            pacer: None,
            bounds: Default::default(),
            organization_account: None,
        }
    }

    fn regions_of(units: &[Unit], kind: &str) -> Vec<Option<String>> {
        units
            .iter()
            .filter(|u| u.kind.name == kind)
            .map(|u| u.region.clone())
            .collect()
    }

    #[test]
    fn a_kind_with_a_region_list_is_listed_only_in_those_regions() {
        let account = Arc::new(Account {
            id: "111111111111".into(),
            name: "a".into(),
            config: aws_config::SdkConfig::builder().build(),
        });
        let ec2 = kinds::find("AWS::EC2::Instance").unwrap();
        let info = kinds::find("AWS::Account::Info").unwrap();
        let enabled: Vec<String> = ["ap-south-1", "eu-west-1", "us-east-1"]
            .map(String::from)
            .to_vec();
        let p = plan(vec![&TWO_REGIONS, ec2, info], RegionPolicy::default());
        let (units, regions) = plan_units(&account, &listings(&p), &enabled);
        assert_eq!(
            regions_of(&units, TWO_REGIONS.name),
            [Some("eu-west-1".to_string()), Some("us-east-1".to_string())]
        );
        assert_eq!(regions_of(&units, ec2.name).len(), 3);
        // Account-scoped: once, in no region.
        assert_eq!(regions_of(&units, info.name), [None]);
        assert_eq!(regions, 3);

        // The region policy still applies within the list.
        let p = plan(
            vec![&TWO_REGIONS],
            RegionPolicy {
                allow: Vec::new(),
                deny: vec!["us-east-1".into()],
            },
        );
        let (units, _) = plan_units(&account, &listings(&p), &enabled);
        assert_eq!(
            regions_of(&units, TWO_REGIONS.name),
            [Some("eu-west-1".to_string())]
        );

        // None of its regions enabled: the account is skipped for that kind.
        let (units, regions) = plan_units(&account, &listings(&p), &["ap-south-1".to_string()]);
        assert!(units.is_empty());
        assert_eq!(regions, 0);
    }
}
