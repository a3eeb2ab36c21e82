//! Resource kinds: one descriptor per `AWS::X::Y`, grouped by service, and the registry that
//! is the only list of them.
//!
//! A [`Kind`] says everything the rest of the program knows about a kind:
//! - `name`: the CloudFormation type, exactly as aws-v3 spells it;
//! - `scope`, a [`Scope`]: account-level (no AWS call and no region), organization-level
//!   (listed once per run, from the first account that can), global (listed once per
//!   account through one allowed region's endpoint) or regional (once per enabled region some
//!   resource's `regionPolicy` allows, and only where the service exists when it is not in
//!   every region, [`Regions::Only`]);
//! - `list`: pages through the AWS API for one account (and region) and emits raw items of
//!   the aws-v3 shape:
//!
//!   ```json
//!   {"Type": "AWS::X::Y", "Properties": {…PascalCase…}, "__ExtraContext": {"AccountId": "…", "Region": "…"}}
//!   ```
//!
//! - `default_actions` and `optional_actions`: aws-v3's action classes, by name. Defaults
//!   always run; an optional one runs when a resource names it in `selector.includeActions`.
//!   Each [`Action`] lists the IAM actions it needs, and an optional one the `Properties` keys
//!   it adds (or replaces, when the listing sets them too);
//! - `fixture`: aws-v3's raw example of the kind and the keys a listed item must share with
//!   it ([`Fixture`]), which `tests/kinds.rs` checks every kind against.
//!
//! The supported-kind list of `validate`, its `includeActions` check, the scope checks of
//! collection, of the engine and of `map`, the `kinds` command and the tests' regional kinds
//! all read the registry ([`all`], [`find`], [`is_regional`]); nothing else lists kinds.
//! [`find`] falls back to [`cloudcontrol`]: any other `AWS::X::Y` is a kind too, made on
//! first use and listed through Cloud Control.
//!
//! Properties hold only keys AWS returned (absent, not `null`; a list AWS sent empty stays
//! `[]`, [`sent`]), timestamps as aws-v3 writes them ([`time`], [`epoch_time`]), nested
//! values as botocore gives them — the shape users' mappings read. The SDK types are not
//! `Serialize`, so XML services' kinds convert explicitly ([`Props`] keeps that short); JSON
//! services' kinds read the response's own JSON ([`RawJson`], [`declared_json`]).
//!
//! Calls made per resource (tags, attributes, describes) go through
//! [`ListCtx::per_resource`]: at most [`ENRICH_CONCURRENCY`] resources at once per
//! (account, service) across the whole run. A failed one is [`ListCtx::enrichment_failed`].
//!
//! ## Listing functions
//!
//! A kind lists with a plain `async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError>`.
//! The descriptor holds it as a [`ListFn`], a function pointer returning a boxed future, so
//! that kinds whose futures have different types share one table; `lister!(list)` makes that
//! pointer from the `async fn` (a function that boxes the future, the only boxing there
//! is), so no kind writes a shim of its own.
//!
//! ## Optional actions
//!
//! A kind is listed once per run whatever the number of resources that use it. Its
//! [`ListCtx::actions`] is the union of the `includeActions` of those resources, keeping only
//! names of the kind's optional actions ([`Kind::union`]); names a kind does not accept are
//! ignored at run time as aws-v3 does (with a warning; `validate` reports them as errors).
//! When the resources of a kind ask for different actions, each one then maps items that
//! carry only what its own `includeActions` would have produced: the engine removes the keys
//! of the other actions ([`Kind::extra_keys`]) from a copy, and only for those resources.
//!
//! ## Adding a kind
//!
//! Its file, its registry entry and its test; nothing else changes:
//!
//! 1. **Its file**, `kinds/<service>/<kind>.rs`: `pub const KIND: Kind` (name, scope,
//!    `list: lister!(list)`, actions with their IAM actions and added keys, fixture) and the
//!    `async fn list` (SDK paginators go through [`ListCtx::next_page`], which paces the
//!    calls and fails a looping listing). Helpers shared by a service's kinds live in
//!    `kinds/<service>/mod.rs`.
//! 2. **Its registry entry**: its module name in its service's `kinds![…]` line
//!    (`kinds/ec2/mod.rs`: `kinds![instance, volume];`), which declares the module and adds
//!    its `KIND` to the registry. A new service is a directory whose `mod.rs` holds that line,
//!    plus `mod <service>;` and `<service>::KINDS` in `REGISTRY` here.
//! 3. **Its test**, in `tests/kinds.rs`: a moto-backed test that lists a resource of the
//!    kind (seeded, or created by the test through the SDK) — through the library's `list`
//!    or the real binary, whose raw examples sent to Port are the items — and checks it with
//!    `assert_kind_shape`, which reads `KIND.fixture`; aws-v3's raw example must be in
//!    `tests/fixtures/aws-v3-raw/<fixture.example>.json` (`every_kind_has_its_aws_v3_example`
//!    fails otherwise).
//!
//! The README's kinds table gets its row.

/// Makes a kind's [`ListFn`] from its `async fn list(ListCtx, Emit)`. It is a function
/// item of its own (not a closure in the `KIND` constant): `list` reads `KIND.name`, and
/// checking that the future is `Send` from inside the constant would be a cycle.
macro_rules! lister {
    ($list:path) => {{
        fn start(
            ctx: $crate::aws::kinds::ListCtx,
            emit: $crate::aws::kinds::Emit,
        ) -> $crate::aws::kinds::ListFuture {
            Box::pin($list(ctx, emit))
        }
        start
    }};
}

/// A service's part of the registry: declares each kind module of the service
/// (`kinds/<service>/<kind>.rs`) and lists their `KIND`s as the service's `KINDS`.
macro_rules! kinds {
    ($($kind:ident),+ $(,)?) => {
        $(mod $kind;)+
        /// This service's kinds: its part of the registry.
        pub const KINDS: &[super::Kind] = &[$($kind::KIND),+];
    };
}

mod account;
mod attributes;
pub mod cloudcontrol;
mod codebuild;
mod codedeploy;
mod codepipeline;
mod dynamodb;
mod ec2;
mod ecr;
mod ecs;
mod eks;
mod elasticache;
mod lambda;
mod memorydb;
mod msk;
mod organizations;
mod rds;
mod s3;
mod ses;
mod sns;
mod sqs;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::DateTime;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use tokio::sync::{Semaphore, mpsc};

use super::AwsError;
use super::accounts::Account;
use crate::config::Partition;
use crate::mapping::config::HistoryBound;
use crate::pagination::Cursors;

/// Every supported kind, service by service: each service's `kinds![…]` line is its part.
/// Read it through [`all`] and [`find`].
static REGISTRY: &[&[Kind]] = &[
    account::KINDS,
    organizations::KINDS,
    s3::KINDS,
    ec2::KINDS,
    ecs::KINDS,
    sqs::KINDS,
    sns::KINDS,
    lambda::KINDS,
    dynamodb::KINDS,
    rds::KINDS,
    ecr::KINDS,
    eks::KINDS,
    elasticache::KINDS,
    memorydb::KINDS,
    msk::KINDS,
    codebuild::KINDS,
    ses::KINDS,
    codepipeline::KINDS,
    codedeploy::KINDS,
];

/// Every supported kind.
pub fn all() -> impl Iterator<Item = &'static Kind> {
    REGISTRY.iter().flat_map(|service| service.iter())
}

/// Looks a kind up by its `AWS::X::Y` name: a native kind, or else any other `AWS::X::Y`
/// type, listed through Cloud Control ([`cloudcontrol`]).
pub fn find(name: &str) -> Option<&'static Kind> {
    find_native(name).or_else(|| cloudcontrol::kind(name))
}

/// A native kind (one of the registry's) by name.
pub fn find_native(name: &str) -> Option<&'static Kind> {
    all().find(|k| k.name == name)
}

/// Whether `name` is a supported kind listed region by region (so `regionPolicy` filters
/// its items).
pub fn is_regional(name: &str) -> bool {
    find(name).is_some_and(Kind::is_regional)
}

/// A registered kind.
pub struct Kind {
    /// CloudFormation type name, `AWS::X::Y`.
    pub name: &'static str,
    /// Where it is listed.
    pub scope: Scope,
    /// Lists one (account, region) of the kind.
    pub list: ListFn,
    /// aws-v3's actions that always run; the first one's IAM actions include the listing
    /// call's.
    pub default_actions: &'static [Action],
    /// aws-v3's actions a resource may add with `selector.includeActions`.
    pub optional_actions: &'static [Action],
    /// What `tests/kinds.rs` checks a listed item against.
    pub fixture: Fixture,
}

/// Where a kind is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Once per account, with no AWS call and no region (e.g. `AWS::Account::Info`).
    Account,
    /// Once per run, not per account: the kind lists the whole organization (e.g.
    /// `AWS::Organizations::Account`). Collection tries the run's accounts one at a time —
    /// the account of `accountRoleArn` first when set, then discovery order — and stops at
    /// the first listing that succeeds; the unit fails only when every account fails. Not
    /// listed in a region, so `regionPolicy` does not apply.
    Organization,
    /// Once per account through one allowed region's endpoint (e.g. S3 buckets, which
    /// `ListBuckets` returns whatever their region): `regionPolicy` picks the endpoint and
    /// does not filter items.
    Global,
    /// Once per enabled region of each account that some resource of the kind allows,
    /// within the regions the service exists in.
    Regional(Regions),
}

/// The regions a regional kind's service exists in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regions {
    /// Every region.
    All,
    /// Only these (aws-v3's per-exporter allow-lists, e.g. MemoryDB users or SES): other
    /// regions are never called, and an account with none of them enabled is skipped with a
    /// warning.
    Only(&'static [&'static str]),
}

impl Regions {
    /// Whether the service exists in `region`.
    pub fn includes(&self, region: &str) -> bool {
        match self {
            Regions::All => true,
            Regions::Only(list) => list.contains(&region),
        }
    }
}

/// One of aws-v3's action classes of a kind.
#[derive(Debug)]
pub struct Action {
    /// aws-v3's class name, what `includeActions` names (e.g. `GetBucketLocationAction`).
    pub name: &'static str,
    /// The IAM actions it needs (e.g. `s3:GetBucketLocation`), for least-privilege policies.
    pub iam: &'static [&'static str],
    /// The `Properties` keys only this action sets. For an optional action these are the
    /// keys a resource that did not ask for it must not see.
    pub adds: &'static [&'static str],
    /// The keys this action sets that the listing sets too (e.g. RDS's `TagList`): a
    /// resource not asking for the action keeps them, so they are never stripped.
    pub replaces: &'static [&'static str],
}

/// Test data of a kind, read by `tests/kinds.rs`.
#[derive(Debug)]
pub struct Fixture {
    /// aws-v3's raw example, `tests/fixtures/aws-v3-raw/<example>.json`.
    pub example: &'static str,
    /// `Properties` keys every listed item of a seeded resource has, each one also in the
    /// example with the same JSON type.
    pub keys: &'static [&'static str],
}

impl Kind {
    /// Whether it is listed region by region.
    pub fn is_regional(&self) -> bool {
        matches!(self.scope, Scope::Regional(_))
    }

    /// The `includeActions` names it accepts: its default actions (which run anyway) then
    /// its optional ones.
    pub fn accepted(&self) -> impl Iterator<Item = &'static str> + use<> {
        self.default_actions
            .iter()
            .chain(self.optional_actions)
            .map(|a| a.name)
    }

    /// Its actions in words, for messages about `includeActions`.
    pub fn describe_actions(&self) -> String {
        let names = |actions: &[Action]| {
            actions
                .iter()
                .map(|a| a.name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let optional = match self.optional_actions {
            [] => "no optional actions".to_string(),
            some => format!("optional actions {}", names(some)),
        };
        match self.default_actions {
            [] => format!("{} has {optional}", self.name),
            some => format!(
                "{} has {optional} (its default actions, which always run: {})",
                self.name,
                names(some)
            ),
        }
    }

    /// For a history kind whose listing `selector.maxAgeDays`/`maxItems` can bound, the
    /// `Properties` key holding each item's start time (RFC 3339), which the age bound is
    /// checked against; `None` for every other kind. A name table rather than a descriptor
    /// field: the option concerns these few kinds, and each one's list function applies it.
    pub fn history_time(&self) -> Option<&'static str> {
        match self.name {
            "AWS::CodeBuild::BuildRun" => Some("StartTime"),
            // DeploymentTarget: its deployment's, filtered by CodeDeploy itself.
            "AWS::CodeDeploy::Deployment" | "AWS::CodeDeploy::DeploymentTarget" => {
                Some("CreateTime")
            }
            "AWS::CodePipeline::PipelineExecution" | "AWS::CodePipeline::ActionExecution" => {
                Some("StartTime")
            }
            _ => None,
        }
    }

    /// The names in a resource's `includeActions` that it does not accept (aws-v3 ignores
    /// them).
    pub fn unaccepted<'n>(&self, include: &'n [String]) -> impl Iterator<Item = &'n str> {
        include
            .iter()
            .map(String::as_str)
            .filter(|n| !self.accepted().any(|a| a == *n))
    }

    /// The optional actions a resource's `includeActions` asks for.
    pub fn requested(&self, include: &[String]) -> Actions {
        self.union([include])
    }

    /// The optional actions any of `includes` asks for: what one listing serving all those
    /// resources runs.
    pub fn union<'a>(&self, includes: impl IntoIterator<Item = &'a [String]> + Clone) -> Actions {
        Actions(
            self.optional_actions
                .iter()
                .filter(|a| {
                    includes
                        .clone()
                        .into_iter()
                        .any(|include| include.iter().any(|n| n == a.name))
                })
                .map(|a| a.name)
                .collect(),
        )
    }

    /// The `Properties` keys a listing that ran `listed` adds beyond what `wanted` would
    /// have produced: what a resource asking for `wanted` must not see. Empty when the two
    /// are the same.
    pub fn extra_keys(&self, listed: &Actions, wanted: &Actions) -> Vec<&'static str> {
        self.optional_actions
            .iter()
            .filter(|a| listed.runs(a) && !wanted.runs(a))
            .flat_map(|a| a.adds.iter().copied())
            .collect()
    }
}

/// Optional actions of one kind, by name, in the kind's order: what a listing runs beyond
/// the defaults. Built by [`Kind::requested`] and [`Kind::union`], so it only holds actions
/// the kind declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions(Arc<[&'static str]>);

impl Actions {
    /// Whether `action` is one of them.
    pub fn runs(&self, action: &Action) -> bool {
        self.0.contains(&action.name)
    }

    /// Their names.
    pub fn names(&self) -> &[&'static str] {
        &self.0
    }
}

/// What a kind's `list` gets.
#[derive(Clone)]
pub struct ListCtx {
    /// The account, with credentials acting in it.
    pub account: Arc<Account>,
    /// Region to call. Account- and organization-scoped kinds are not listed in a region (their pages carry
    /// none); they get the account config's region for whatever call they make.
    pub region: String,
    /// AWS partition, for ARNs built in code.
    pub partition: Partition,
    /// Per-(account, service) request pacing, when `maxRequestsPerSecond` is set.
    pub pacer: Option<Arc<Pacer>>,
    /// Per-(account, service) bound on resources enriched at once ([`ListCtx::per_resource`]).
    pub bounds: Arc<Bounds>,
    /// The optional actions to run: the union of the `includeActions` of the mapping's
    /// resources of this kind, restricted to the kind's own optional actions.
    pub actions: Actions,
    /// `selector.maxAgeDays`/`maxItems` of a history kind ([`Kind::history_time`]): the
    /// loosest bound of the mapping's resources of the kind; `None` lists everything.
    pub history: Option<HistoryBound>,
    /// The kind's `AWS::X::Y` name (what a Cloud Control listing asks for).
    pub kind: &'static str,
    /// What the mapping's resources of a Cloud Control type ask of its listing (default for
    /// native kinds).
    pub cloud_control: cloudcontrol::Listing,
}

/// What is left of a bounded history listing's window: the list function asks it how many
/// listed ids to describe ([`Window::room`]), passes each described batch through
/// [`Window::admit`], and stops paging once [`Window::closed`]. Listings come newest first,
/// so the first item older than the age bound, or the `maxItems`-th item, ends the window.
#[derive(Debug)]
pub(crate) struct Window {
    /// Items started before this are outside the window.
    cutoff: Option<chrono::DateTime<chrono::Utc>>,
    /// Items still allowed by `maxItems`.
    left: Option<usize>,
    /// An item older than the cutoff was seen: every later one is older still.
    aged_out: bool,
}

impl Window {
    /// The window of a listing starting `now` under `bound` (`None`: unbounded).
    pub(crate) fn new(bound: Option<HistoryBound>, now: chrono::DateTime<chrono::Utc>) -> Window {
        let bound = bound.unwrap_or_default();
        Window {
            cutoff: bound
                .max_age_days
                .map(|d| now - chrono::Duration::days(i64::from(d))),
            left: bound.max_items.map(|n| n as usize),
            aged_out: false,
        }
    }

    /// How many of `listed` more ids may still be described.
    pub(crate) fn room(&self, listed: usize) -> usize {
        match (self.aged_out, self.left) {
            (true, _) => 0,
            (false, Some(left)) => listed.min(left),
            (false, None) => listed,
        }
    }

    /// Whether the listing should stop paging.
    pub(crate) fn closed(&self) -> bool {
        self.aged_out || self.left == Some(0)
    }

    /// The items of a described batch (newest first) that are inside the window, whose
    /// start time is `Properties.<time>`. An item without a readable time (its details
    /// failed) is kept: it was listed among newer items, and only its time could say more.
    pub(crate) fn admit(&mut self, items: Vec<Value>, time: &str) -> Vec<Value> {
        let mut kept = Vec::with_capacity(items.len());
        for item in items {
            if self.closed() {
                break;
            }
            let started = item["Properties"][time]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            if let (Some(cutoff), Some(started)) = (self.cutoff, started)
                && started < cutoff
            {
                self.aged_out = true;
                break;
            }
            if let Some(left) = &mut self.left {
                *left -= 1;
            }
            kept.push(item);
        }
        kept
    }
}

/// Paces AWS calls per (account id, service).
pub type Pacer = governor::DefaultKeyedRateLimiter<(String, &'static str)>;

/// A pacer allowing `per_second` requests per (account, service).
pub(crate) fn pacer(per_second: u32) -> Option<Arc<Pacer>> {
    std::num::NonZeroU32::new(per_second)
        .map(|n| Arc::new(governor::RateLimiter::keyed(governor::Quota::per_second(n))))
}

/// Resources whose enrichment calls run at once per (account, service), across every
/// region and kind of a run: one account's RDS instances and clusters in 17 regions share
/// 16, so a large account never has hundreds of calls to one service in flight (AWS
/// throttles per account and service, and a throttled call is a retried call).
pub const ENRICH_CONCURRENCY: usize = 16;

/// What every unit of a run shares to bound its calls: one semaphore per (account id,
/// service), made on first use, and Cloud Control's pacing per (account, region).
pub struct Bounds {
    per_resource: Mutex<HashMap<(String, &'static str), Arc<Semaphore>>>,
    /// [`cloudcontrol::PER_SECOND`] per (`account/region`, service).
    pub(crate) cloud_control: Pacer,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            per_resource: Mutex::default(),
            cloud_control: governor::RateLimiter::keyed(governor::Quota::per_second(
                std::num::NonZeroU32::new(cloudcontrol::PER_SECOND)
                    .unwrap_or(std::num::NonZeroU32::MIN),
            )),
        }
    }
}

impl std::fmt::Debug for Bounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bounds").finish_non_exhaustive()
    }
}

impl Bounds {
    fn of(&self, account: &str, service: &'static str) -> Arc<Semaphore> {
        let mut map = self
            .per_resource
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry((account.to_string(), service))
            .or_insert_with(|| Arc::new(Semaphore::new(ENRICH_CONCURRENCY)))
            .clone()
    }
}

impl ListCtx {
    /// The window of this listing's history bound, starting now.
    pub(crate) fn window(&self) -> Window {
        Window::new(self.history, chrono::Utc::now())
    }

    /// `f` for each of `inputs` (a resource's enrichment calls), in order, at most
    /// [`ENRICH_CONCURRENCY`] at once for this account and `service` across the whole run.
    /// A resource's calls must not themselves wait for this bound (no nesting).
    pub(crate) async fn per_resource<I, T, Fut>(
        &self,
        service: &'static str,
        inputs: I,
        mut f: impl FnMut(I::Item) -> Fut,
    ) -> Vec<T>
    where
        I: IntoIterator,
        Fut: Future<Output = T>,
    {
        let bound = self.bounds.of(&self.account.id, service);
        futures::stream::iter(inputs)
            .map(move |input| {
                let (bound, call) = (bound.clone(), f(input));
                async move {
                    // Never closed: a permit always comes.
                    let _permit = bound.acquire_owned().await.ok();
                    call.await
                }
            })
            .buffered(ENRICH_CONCURRENCY)
            .collect()
            .await
    }

    /// The account config pointed at this context's region.
    pub(crate) fn sdk_config(&self) -> aws_config::SdkConfig {
        self.account
            .config
            .to_builder()
            .region(aws_config::Region::new(self.region.clone()))
            .build()
    }

    /// Counts a call to `service` and waits until it is allowed.
    pub(crate) async fn pace(&self, service: &'static str) {
        crate::metrics::aws_call(service);
        if let Some(p) = &self.pacer {
            p.until_key_ready(&(self.account.id.clone(), service)).await;
        }
    }

    /// The next page of an SDK paginator (`page` is its `next()`): paced as a call of
    /// `operation`'s service, AWS's error as an [`AwsError`] of `operation`
    /// (`ec2:DescribeInstances`), and the page's cursor (`token`) checked in `cursors`:
    /// the SDK's paginators end quietly on a token repeated at once and loop on a longer
    /// cycle, so any repeat fails the unit instead. `None` when the listing is over.
    pub(crate) async fn next_page<O, E, R>(
        &self,
        operation: &'static str,
        cursors: &mut Cursors,
        page: impl Future<Output = Option<Result<O, SdkError<E, R>>>>,
        token: impl FnOnce(&O) -> Option<&str>,
    ) -> Result<Option<O>, AwsError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let service = operation.split_once(':').map_or(operation, |(s, _)| s);
        self.pace(service).await;
        let Some(page) = page.await else {
            return Ok(None);
        };
        let page = page.map_err(|e| AwsError::from_sdk(operation, e))?;
        cursors
            .next(token(&page))
            .map_err(|e| AwsError::other(operation, e.to_string()))?;
        Ok(Some(page))
    }

    /// Whether this listing runs the optional `action`.
    pub fn runs(&self, action: &Action) -> bool {
        self.actions.runs(action)
    }

    /// A failed enrichment call of `kind`'s `action` for `resource`: the item is kept
    /// without the action's fields (as aws-v3 does), so the failure is logged with where it
    /// happened and counted in `/metrics` (`aws_enrichment_failures_total{kind,action}`)
    /// instead of failing the unit.
    pub(crate) fn enrichment_failed(
        &self,
        kind: &'static str,
        action: &Action,
        resource: &str,
        error: &AwsError,
    ) {
        crate::metrics::enrichment_failed(kind, action.name);
        tracing::warn!(
            account = %self.account.id,
            region = %self.region,
            kind,
            action = action.name,
            resource,
            error = %error,
            "enrichment call failed; the item is kept without its fields"
        );
    }

    /// `{"AccountId": …, "Region": …}`.
    pub(crate) fn extra_context(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("AccountId".into(), json!(self.account.id));
        m.insert("Region".into(), json!(self.region));
        m
    }
}

/// Where a kind sends its pages; bounded, so a slow loader slows listing down.
#[derive(Clone)]
pub struct Emit {
    tx: mpsc::Sender<Vec<Value>>,
}

impl Emit {
    /// Wraps a channel.
    pub fn new(tx: mpsc::Sender<Vec<Value>>) -> Emit {
        Emit { tx }
    }

    /// Sends one page of raw items. Fails only if the run is shutting down.
    pub async fn send(&self, items: Vec<Value>) -> Result<(), AwsError> {
        if items.is_empty() {
            return Ok(());
        }
        self.tx
            .send(items)
            .await
            .map_err(|_| AwsError::other("emit", "the run stopped consuming items"))
    }
}

/// A started listing of one unit.
pub type ListFuture = BoxFuture<'static, Result<(), AwsError>>;

/// Lists one (account, region) of a kind; made by `lister!` from the kind's `async fn list`.
pub type ListFn = fn(ListCtx, Emit) -> ListFuture;

/// A raw item.
pub(crate) fn item(
    kind: &str,
    properties: Map<String, Value>,
    extra: Option<Map<String, Value>>,
) -> Value {
    let mut m = Map::new();
    m.insert("Type".into(), json!(kind));
    m.insert("Properties".into(), Value::Object(properties));
    if let Some(extra) = extra {
        m.insert("__ExtraContext".into(), Value::Object(extra));
    }
    Value::Object(m)
}

/// Builds a `Properties` object, skipping absent values.
#[derive(Default)]
pub(crate) struct Props(pub(crate) Map<String, Value>);

impl Props {
    /// Sets `key` when `value` is present.
    pub(crate) fn opt<V: Into<Value>>(&mut self, key: &str, value: Option<V>) -> &mut Self {
        if let Some(v) = value {
            self.0.insert(key.to_string(), v.into());
        }
        self
    }

    /// Sets `key` to a string when present.
    pub(crate) fn str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        self.opt(key, value)
    }

    /// Sets `key` to an RFC 3339 timestamp when present.
    pub(crate) fn time(&mut self, key: &str, value: Option<&DateTime>) -> &mut Self {
        self.opt(key, value.map(time))
    }

    /// Sets `key` to an already-built value.
    pub(crate) fn val(&mut self, key: &str, value: Value) -> &mut Self {
        self.0.insert(key.to_string(), value);
        self
    }

    /// Sets `key` to the list when AWS sent it, `[]` included; leaves it out when AWS did
    /// not ([`sent`]).
    pub(crate) fn sent<T>(
        &mut self,
        key: &str,
        items: Option<&Vec<T>>,
        f: impl Fn(&T) -> Value,
    ) -> &mut Self {
        self.opt(key, sent(items, f))
    }

    /// Sets `key` to a list AWS always returns, possibly empty (e.g. EC2's
    /// `SecurityGroups`).
    pub(crate) fn all<T>(&mut self, key: &str, items: &[T], f: impl Fn(&T) -> Value) -> &mut Self {
        self.0
            .insert(key.to_string(), Value::Array(items.iter().map(f).collect()));
        self
    }

    /// The finished object.
    pub(crate) fn build(&mut self) -> Map<String, Value> {
        std::mem::take(&mut self.0)
    }
}

/// A list as AWS sent it: absent when it sent none, `[]` when it sent an empty one (EC2's
/// `<tagSet/>`), as botocore parses it. The SDK's accessors give an empty slice for both, so
/// this reads the SDK type's `Option<Vec<_>>` field.
pub(crate) fn sent<T>(items: Option<&Vec<T>>, f: impl Fn(&T) -> Value) -> Option<Value> {
    items.map(|items| Value::Array(items.iter().map(f).collect()))
}

/// A timestamp as aws-v3 writes it: pydantic's JSON form of botocore's datetime,
/// `YYYY-MM-DDTHH:MM:SS`, then `.ffffff` (always six digits) unless the microseconds are
/// zero, then `Z` (botocore's datetimes are UTC). Python datetimes hold microseconds, and
/// botocore (dateutil) cuts an ISO 8601 timestamp's finer digits off: so does this. For
/// epoch seconds, which botocore rounds instead, see [`epoch_time`].
pub(crate) fn time(t: &DateTime) -> Value {
    let micros = t.subsec_nanos() / 1_000;
    match DateTime::from_secs(t.secs()).fmt(Format::DateTime) {
        Ok(s) if micros == 0 => Value::String(s),
        // `…SSZ` → `…SS.ffffffZ`.
        Ok(s) => Value::String(format!("{}.{micros:06}Z", s.trim_end_matches('Z'))),
        Err(_) => Value::Null,
    }
}

/// [`time`] of epoch seconds as JSON services send them (`1700000000.691`), read as
/// Python's `fromtimestamp` reads them: to the nearest microsecond, not truncated
/// (`.691` is `.690999…` in binary).
pub(crate) fn epoch_time(secs: f64) -> Value {
    let micros = (secs * 1e6).round() as i64;
    time(&DateTime::from_secs_and_nanos(
        micros.div_euclid(1_000_000),
        (micros.rem_euclid(1_000_000) * 1_000) as u32,
    ))
}

/// A sub-object built with [`Props`].
pub(crate) fn obj(f: impl FnOnce(&mut Props)) -> Value {
    let mut p = Props::default();
    f(&mut p);
    Value::Object(p.build())
}

/// An interceptor keeping the JSON body of the response its call got (the last attempt's),
/// for [`RawJson::take`] once the call returned. One per call. For JSON and REST-JSON
/// services (ECS, Lambda, …): a kind keeps nested values exactly as AWS sent them instead of
/// converting SDK types back member by member, and loses no member this SDK does not know.
/// It also keeps what botocore puts in a response's `ResponseMetadata`
/// ([`RawJson::response_metadata`]), for the aws-v3 actions that store a whole response.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawJson(Arc<Mutex<Caught>>);

/// What [`RawJson`] caught of a call.
#[derive(Debug, Default)]
struct Caught {
    body: Option<Value>,
    status: u16,
    headers: Map<String, Value>,
    attempts: u32,
}

impl RawJson {
    /// The response body, when the call got one that is JSON.
    pub(crate) fn take(&self) -> Option<Value> {
        self.0.lock().ok().and_then(|mut c| c.body.take())
    }

    /// A listing page's items as AWS sent them: the array under `key` of the body caught.
    /// A page the SDK read as empty (`sdk_empty`) may lack it; a page with items whose list
    /// cannot be read fails as `operation`, since it must not pass for an empty page.
    pub(crate) fn items(
        &self,
        key: &str,
        sdk_empty: bool,
        operation: &'static str,
    ) -> Result<Vec<Value>, AwsError> {
        match self.take().as_mut().and_then(|b| b.get_mut(key)) {
            Some(Value::Array(items)) => Ok(std::mem::take(items)),
            _ if sdk_empty => Ok(Vec::new()),
            _ => Err(AwsError::other(
                operation,
                format!("the answer has items but no readable `{key}` list in its JSON body"),
            )),
        }
    }

    /// botocore's `ResponseMetadata` of the call's response: `RequestId` (from
    /// `x-amzn-requestid`, when AWS sent one), `HTTPStatusCode`, `HTTPHeaders` (every
    /// header, names lowercased) and `RetryAttempts` (attempts after the first).
    pub(crate) fn response_metadata(&self) -> Value {
        let Ok(c) = self.0.lock() else {
            return Value::Null;
        };
        obj(|o| {
            o.opt("RequestId", c.headers.get("x-amzn-requestid").cloned())
                .val("HTTPStatusCode", json!(c.status))
                .val("HTTPHeaders", Value::Object(c.headers.clone()))
                .val("RetryAttempts", json!(c.attempts.saturating_sub(1)));
        })
    }
}

impl Intercept for RawJson {
    fn name(&self) -> &'static str {
        "RawJson"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(mut c) = self.0.lock() {
            c.attempts += 1;
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        // Non-streaming operations have their body in memory once deserialized.
        let body = response
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice(b).ok());
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), json!(v)))
            .collect();
        if let Ok(mut c) = self.0.lock() {
            c.body = body;
            c.status = response.status().as_u16();
            c.headers = headers;
        }
        Ok(())
    }
}

/// aws-v3's `ignore` policy over a service's own JSON object: the declared `(from, to)`
/// keys AWS sent, renamed, in declared order; nulls absent at any depth (botocore drops
/// them); the `epoch` keys (epoch seconds in AWS's JSON) as RFC 3339, as aws-v3 writes
/// datetimes.
pub(crate) fn declared_json(
    mut object: Map<String, Value>,
    keys: &[(&str, &str)],
    epoch: &[&str],
) -> Map<String, Value> {
    keys.iter()
        .filter_map(|(from, to)| {
            let mut v = object.remove(*from)?;
            if v.is_null() {
                return None;
            }
            drop_nulls(&mut v);
            if epoch.contains(from)
                && let Some(secs) = v.as_f64()
            {
                v = epoch_time(secs);
            }
            Some((to.to_string(), v))
        })
        .collect()
}

/// Removes object members that are `null`, at any depth: botocore leaves them out of what
/// it parses, so aws-v3 never sees them (for kinds reading [`RawJson`]).
pub(crate) fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// The objects of the list under `key` of a batch call's JSON body (CodeBuild's and
/// CodeDeploy's `BatchGet*`). A body without that list is an answer this program cannot
/// read, not an empty batch: it fails as `operation`.
fn batch_objects(
    body: Option<Value>,
    key: &str,
    operation: &'static str,
) -> Result<Vec<Map<String, Value>>, AwsError> {
    match body.and_then(|mut b| b.get_mut(key).map(Value::take)) {
        Some(Value::Array(items)) => Ok(items
            .into_iter()
            .filter_map(|i| match i {
                Value::Object(o) => Some(o),
                _ => None,
            })
            .collect()),
        _ => Err(AwsError::other(
            operation,
            format!("the answer has no JSON list `{key}`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(id: &str, at: &str) -> Value {
        json!({"Properties": {"Id": id, "StartTime": at}})
    }

    #[test]
    fn a_window_ends_at_the_first_older_item_or_the_count() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-31T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let ids = |items: Vec<Value>| -> Vec<String> {
            items
                .iter()
                .map(|i| i["Properties"]["Id"].as_str().unwrap().to_string())
                .collect()
        };
        let page = || {
            vec![
                started("a", "2026-03-30T00:00:00Z"),
                json!({"Properties": {"Id": "no-time"}}),
                started("b", "2026-03-02T00:00:00.500000Z"),
                started("c", "2026-02-27T00:00:00Z"),
                started("d", "2026-03-29T00:00:00Z"),
            ]
        };
        let age = Some(HistoryBound {
            max_age_days: Some(30),
            max_items: None,
        });
        let mut w = Window::new(age, now);
        assert_eq!(w.room(5), 5);
        assert_eq!(ids(w.admit(page(), "StartTime")), ["a", "no-time", "b"]);
        assert!(w.closed() && w.room(5) == 0);

        let count = Some(HistoryBound {
            max_age_days: None,
            max_items: Some(3),
        });
        let mut w = Window::new(count, now);
        assert_eq!(w.room(2), 2);
        assert_eq!(
            ids(w.admit(page()[..2].to_vec(), "StartTime")),
            ["a", "no-time"]
        );
        assert!(!w.closed());
        assert_eq!(w.room(5), 1);
        assert_eq!(ids(w.admit(page()[2..].to_vec(), "StartTime")), ["b"]);
        assert!(w.closed());

        let mut w = Window::new(None, now);
        assert_eq!(w.admit(page(), "StartTime").len(), 5);
        assert!(!w.closed());
    }

    #[test]
    fn one_listing_reads_the_loosest_bound_of_its_resources() {
        let b = |d: Option<u32>, n: Option<u32>| {
            Some(HistoryBound {
                max_age_days: d,
                max_items: n,
            })
        };
        assert_eq!(
            HistoryBound::loosest(&[b(Some(7), Some(10)), b(Some(30), Some(5))]),
            b(Some(30), Some(10))
        );
        // A resource without one of the bounds lifts it; without any, the listing is whole.
        assert_eq!(
            HistoryBound::loosest(&[b(Some(7), Some(10)), b(None, Some(5))]),
            b(None, Some(10))
        );
        assert_eq!(HistoryBound::loosest(&[b(Some(7), None), None]), None);
        assert_eq!(
            HistoryBound::loosest(&[b(Some(7), None), b(None, Some(1))]),
            None
        );
    }

    /// The strings aws-v3 (pydantic 2, `model_dump(mode="json")`) makes of botocore's
    /// datetimes, checked by running it: six fraction digits unless there are none, `Z`.
    #[test]
    fn timestamps_are_written_digit_for_digit_as_aws_v3_writes_them() {
        let at = |nanos| time(&DateTime::from_secs_and_nanos(1_714_979_289, nanos));
        assert_eq!(at(691_000_000), json!("2024-05-06T07:08:09.691000Z"));
        assert_eq!(at(123_456_000), json!("2024-05-06T07:08:09.123456Z"));
        assert_eq!(at(0), json!("2024-05-06T07:08:09Z"));
        // Python keeps microseconds; dateutil cuts finer digits of an ISO timestamp off.
        assert_eq!(at(123_456_789), json!("2024-05-06T07:08:09.123456Z"));
        assert_eq!(at(999_999_600), json!("2024-05-06T07:08:09.999999Z"));
        // Epoch seconds as JSON services send them, rounded as `fromtimestamp` does.
        assert_eq!(
            epoch_time(1_714_979_289.691),
            json!("2024-05-06T07:08:09.691000Z")
        );
        assert_eq!(epoch_time(1_714_979_289.0), json!("2024-05-06T07:08:09Z"));
        assert_eq!(epoch_time(-0.5), json!("1969-12-31T23:59:59.500000Z"));
    }

    fn nothing(_: ListCtx, _: Emit) -> ListFuture {
        Box::pin(async { Ok(()) })
    }

    const A: Action = Action {
        name: "AAction",
        iam: &["svc:A"],
        adds: &["A1", "A2"],
        replaces: &[],
    };
    const B: Action = Action {
        name: "BAction",
        iam: &["svc:B"],
        adds: &["B1"],
        replaces: &[],
    };

    static TWO_OPTIONS: Kind = Kind {
        name: "AWS::Test::Kind",
        scope: Scope::Regional(Regions::All),
        list: nothing,
        default_actions: &[Action {
            name: "ListAction",
            iam: &["svc:List"],
            adds: &[],
            replaces: &[],
        }],
        optional_actions: &[A, B],
        fixture: Fixture {
            example: "none",
            keys: &[],
        },
    };

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_listing_runs_the_union_and_each_resource_loses_only_what_it_did_not_ask_for() {
        let k = &TWO_OPTIONS;
        let first = names(&["BAction", "ListAction"]);
        let second = names(&["AAction", "Nope"]);
        let third = names(&[]);
        let union = k.union([first.as_slice(), second.as_slice(), third.as_slice()]);
        // Kind order, whatever the order asked in; defaults and unknown names are not in it.
        assert_eq!(union.names(), ["AAction", "BAction"]);
        assert!(union.runs(&A) && union.runs(&B));
        assert_eq!(k.extra_keys(&union, &k.requested(&first)), ["A1", "A2"]);
        assert_eq!(k.extra_keys(&union, &k.requested(&second)), ["B1"]);
        assert_eq!(
            k.extra_keys(&union, &k.requested(&third)),
            ["A1", "A2", "B1"]
        );
        // The common case: every resource asks for the same, nothing to remove.
        assert!(k.extra_keys(&union, &union).is_empty());
        assert!(k.union([third.as_slice()]).names().is_empty());
    }

    #[test]
    fn unknown_action_names_are_told_apart_from_default_and_optional_ones() {
        let k = &TWO_OPTIONS;
        let asked = names(&["ListAction", "AAction", "Nope", "aaction"]);
        assert_eq!(
            k.unaccepted(&asked).collect::<Vec<_>>(),
            ["Nope", "aaction"]
        );
        assert_eq!(
            k.accepted().collect::<Vec<_>>(),
            ["ListAction", "AAction", "BAction"]
        );
        assert_eq!(
            k.describe_actions(),
            "AWS::Test::Kind has optional actions AAction, BAction (its default actions, which always run: ListAction)"
        );
    }

    #[test]
    fn the_registry_is_consistent() {
        let mut seen = std::collections::BTreeSet::new();
        for k in all() {
            assert!(seen.insert(k.name), "{} is registered twice", k.name);
            assert!(std::ptr::eq(find(k.name).unwrap(), k));
            assert_eq!(k.name.split("::").count(), 3, "{}", k.name);
            assert!(k.name.starts_with("AWS::"), "{}", k.name);
            assert_eq!(is_regional(k.name), k.is_regional());
            // Every kind that calls AWS says which calls, for least-privilege policies.
            if k.scope != Scope::Account {
                assert!(!k.default_actions.is_empty(), "{}", k.name);
            }
            let mut actions = std::collections::BTreeSet::new();
            for a in k.default_actions.iter().chain(k.optional_actions) {
                assert!(actions.insert(a.name), "{}: {} twice", k.name, a.name);
                assert!(
                    !a.iam.is_empty(),
                    "{}: {} needs no IAM action?",
                    k.name,
                    a.name
                );
                for iam in a.iam {
                    let (service, operation) = iam.split_once(':').unwrap();
                    assert!(!service.is_empty() && operation.starts_with(char::is_uppercase));
                }
            }
            for a in k.optional_actions {
                assert!(
                    !a.adds.is_empty() || !a.replaces.is_empty(),
                    "{}: {} sets no key",
                    k.name,
                    a.name
                );
            }
        }
        assert!(find("AWS::EC2::Instance").is_some_and(Kind::is_regional));
        assert!(!is_regional("AWS::S3::Bucket") && !is_regional("AWS::Account::Info"));
        assert!(!is_regional("Custom::No::Such") && !is_regional("AWS::NoSuch"));
        // Any other AWS type is Cloud Control's.
        assert!(is_regional("AWS::No::Such"));
    }
}
