//! Resource kinds: one file per `AWS::X::Y`, and the registry that names them.
//!
//! A kind declares its CloudFormation name, its [`Scope`], and a `list` function that pages
//! through the AWS API for one account (and region) and emits raw items of the aws-v3 shape:
//!
//! ```json
//! {"Type": "AWS::X::Y", "Properties": {…PascalCase…}, "__ExtraContext": {"AccountId": "…", "Region": "…"}}
//! ```
//!
//! Properties hold only keys AWS returned (absent, not `null`), timestamps as RFC 3339,
//! nested values in the API's own casing — the shape users' mappings read. The SDK types
//! are not `Serialize`, so each kind converts explicitly; [`Props`] keeps that short.
//!
//! Adding a kind: a new file here, one line in [`REGISTRY`], one moto-backed test.

mod account_info;
mod ec2_instance;
mod ecs_cluster;
mod s3_bucket;

use std::sync::Arc;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::AwsError;
use super::accounts::Account;
use crate::config::Partition;

/// Where a kind is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Once per account, no AWS call (e.g. `AWS::Account::Info`).
    Account,
    /// Once per account through one region's endpoint (e.g. S3 buckets).
    Global,
    /// Once per enabled region of each account.
    Regional,
}

/// What a kind's `list` gets.
#[derive(Clone)]
pub struct ListCtx {
    /// The account, with credentials acting in it.
    pub account: Arc<Account>,
    /// Region to call (for `Scope::Account`, the account config's region).
    pub region: String,
    /// AWS partition, for ARNs built in code.
    pub partition: Partition,
    /// Per-(account, service) request pacing, when `maxRequestsPerSecond` is set.
    pub pacer: Option<Arc<Pacer>>,
}

/// Paces AWS calls per (account id, service).
pub type Pacer = governor::DefaultKeyedRateLimiter<(String, &'static str)>;

/// A pacer allowing `per_second` requests per (account, service).
pub fn pacer(per_second: u32) -> Option<Arc<Pacer>> {
    std::num::NonZeroU32::new(per_second)
        .map(|n| Arc::new(governor::RateLimiter::keyed(governor::Quota::per_second(n))))
}

impl ListCtx {
    /// The account config pointed at this context's region.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        self.account
            .config
            .to_builder()
            .region(aws_config::Region::new(self.region.clone()))
            .build()
    }

    /// Counts a call to `service` and waits until it is allowed.
    pub async fn pace(&self, service: &'static str) {
        crate::metrics::aws_call(service);
        if let Some(p) = &self.pacer {
            p.until_key_ready(&(self.account.id.clone(), service)).await;
        }
    }

    /// `{"AccountId": …, "Region": …}`.
    pub fn extra_context(&self) -> Map<String, Value> {
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

/// Lists one (account, region) of a kind.
pub type ListFn = fn(ListCtx, Emit) -> BoxFuture<'static, Result<(), AwsError>>;

/// A registered kind.
pub struct Kind {
    /// CloudFormation type name.
    pub name: &'static str,
    /// Where it is listed.
    pub scope: Scope,
    /// The lister.
    pub list: ListFn,
}

/// Every supported kind.
pub static REGISTRY: &[Kind] = &[
    account_info::KIND,
    s3_bucket::KIND,
    ec2_instance::KIND,
    ecs_cluster::KIND,
];

/// Looks a kind up by its `AWS::X::Y` name.
pub fn find(name: &str) -> Option<&'static Kind> {
    REGISTRY.iter().find(|k| k.name == name)
}

/// A raw item.
pub fn item(
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
pub struct Props(pub Map<String, Value>);

impl Props {
    /// Sets `key` when `value` is present.
    pub fn opt<V: Into<Value>>(&mut self, key: &str, value: Option<V>) -> &mut Self {
        if let Some(v) = value {
            self.0.insert(key.to_string(), v.into());
        }
        self
    }

    /// Sets `key` to a string when present.
    pub fn str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        self.opt(key, value)
    }

    /// Sets `key` to an RFC 3339 timestamp when present.
    pub fn time(&mut self, key: &str, value: Option<&DateTime>) -> &mut Self {
        self.opt(key, value.map(time))
    }

    /// Sets `key` to an already-built value.
    pub fn val(&mut self, key: &str, value: Value) -> &mut Self {
        self.0.insert(key.to_string(), value);
        self
    }

    /// Sets `key` to a list that may be absent: the SDK gives an empty slice both for an
    /// absent list and an empty one, so empty means absent (e.g. EC2's `Tags`, which AWS
    /// omits for untagged instances).
    pub fn list<T>(&mut self, key: &str, items: &[T], f: impl Fn(&T) -> Value) -> &mut Self {
        if !items.is_empty() {
            self.all(key, items, f);
        }
        self
    }

    /// Sets `key` to a list AWS always returns, possibly empty (e.g. EC2's
    /// `SecurityGroups`).
    pub fn all<T>(&mut self, key: &str, items: &[T], f: impl Fn(&T) -> Value) -> &mut Self {
        self.0
            .insert(key.to_string(), Value::Array(items.iter().map(f).collect()));
        self
    }

    /// The finished object.
    pub fn build(&mut self) -> Map<String, Value> {
        std::mem::take(&mut self.0)
    }
}

/// RFC 3339, `Z` for UTC (what aws-v3's pydantic models print).
pub fn time(t: &DateTime) -> Value {
    t.fmt(Format::DateTime)
        .map(Value::String)
        .unwrap_or(Value::Null)
}

/// A sub-object built with [`Props`].
pub fn obj(f: impl FnOnce(&mut Props)) -> Value {
    let mut p = Props::default();
    f(&mut p);
    Value::Object(p.build())
}
