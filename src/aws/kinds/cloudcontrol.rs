//! Any CloudFormation type without a native kind (`AWS::Kinesis::Stream`,
//! `AWS::Cognito::UserPool`, …), listed through the AWS Cloud Control API — what aws-v3
//! cannot do and Port's v1 `aws` integration did.
//!
//! **The kind.** [`kind`] makes the descriptor of such a type the first time a mapping
//! names it (and keeps it for the life of the process, so a daemon re-reading its mapping
//! does not make it again): regional, except the types of the global services of
//! [`GLOBAL_SERVICES`] (IAM, CloudFront, Route 53, WAF classic, Organizations), which are
//! listed once per account through one allowed region (us-east-1 when allowed, as every
//! global kind). Native kinds always win: `AWS::EC2::Instance` is aws-v3's, never Cloud
//! Control's.
//!
//! **The listing** of one (account, region): `ListResources` page by page (100 at a time;
//! once per distinct `selector.resourceModel` of the mapping's resources of the type, and
//! once without one when a resource sets none), then `GetResource` for each resource when
//! a resource asks for it (`selector.useGetResourceAPI`, or `includeActions:
//! [GetResourceAction]`) or when the list answer is known to be partial: its `Properties`
//! hold nothing but the resource's identifier (S3 buckets, for one, are listed so).
//! `GetResource` calls run at most [`ENRICH_CONCURRENCY`](super::ENRICH_CONCURRENCY) at
//! once per account, like every per-resource call.
//!
//! **The raw item** keeps the shape of every kind, plus the resource's Cloud Control
//! identifier (what v1 mappings read as `.Identifier`):
//!
//! ```json
//! {"Type": "AWS::Kinesis::Stream", "Identifier": "orders",
//!  "Properties": {"Name": "orders", "Arn": "…", "ShardCount": 2, …},
//!  "__ExtraContext": {"AccountId": "…", "Region": "…"}}
//! ```
//!
//! `Properties` are the resource's CloudFormation properties, named as in the type's
//! CloudFormation schema (`.Properties.ShardCount`), not as the service's own API names them.
//!
//! **Throttling.** Cloud Control throttles hard (each call becomes calls to the service
//! behind it). Its client retries in the SDK's adaptive mode with [`ATTEMPTS`] attempts
//! (other clients: 5, standard), and every call is paced to [`PER_SECOND`] per (account,
//! region) on top of `maxRequestsPerSecond`. A call that still fails fails the unit: a
//! listing is whole or it is an error, never an empty answer, so nothing of the type is
//! deleted after it.
//!
//! **Type errors.** A type Cloud Control does not know (`TypeNotFoundException`) or cannot
//! list (`UnsupportedActionException`), or whose listing needs a `resourceModel` that is
//! missing, fails its units with an error naming the type. `validate` reports what can be
//! known offline ([`problems`]): types with no list handler at all and the required
//! `resourceModel` properties of the types in [`REQUIRES_MODEL`].

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_cloudcontrol::Client;
use aws_sdk_cloudcontrol::config::retry::RetryPartition;
use aws_sdk_cloudcontrol::types::ResourceDescription;
use serde_json::{Map, Value, json};

use super::{Action, Emit, Fixture, Kind, ListCtx, Regions, Scope, find_native, item};
use crate::aws::AwsError;
use crate::mapping::config::CloudControlSelector;
use crate::pagination::Cursors;

/// SigV4 name of the service, the key of its pacing and per-resource bound.
pub(crate) const SERVICE: &str = "cloudcontrolapi";

/// Attempts per Cloud Control call (botocore's adaptive mode in Port's v1 integration made
/// 100; this bounds the worst wait under the operation timeout).
pub const ATTEMPTS: u32 = 10;

/// Cloud Control calls per second per (account, region).
pub const PER_SECOND: u32 = 10;

/// Services whose types are global: listed once per account, not per region.
pub const GLOBAL_SERVICES: &[&str] = &["IAM", "CloudFront", "Route53", "WAF", "Organizations"];

/// Types CloudFormation handles itself, with no resource handlers for Cloud Control to
/// call: they can never be listed.
const NOT_LISTABLE: &[&str] = &[
    "AWS::CloudFormation::CustomResource",
    "AWS::CloudFormation::WaitCondition",
    "AWS::CloudFormation::WaitConditionHandle",
];

/// Types whose `ListResources` requires a `ResourceModel` with this property (their
/// schema's list handler says so): the parent the resources are listed under.
pub const REQUIRES_MODEL: &[(&str, &str)] = &[
    ("AWS::EKS::Nodegroup", "ClusterName"),
    ("AWS::EKS::FargateProfile", "ClusterName"),
    ("AWS::EKS::Addon", "ClusterName"),
    ("AWS::ElasticLoadBalancingV2::Listener", "LoadBalancerArn"),
    ("AWS::ElasticLoadBalancingV2::ListenerRule", "ListenerArn"),
    ("AWS::ApiGateway::Stage", "RestApiId"),
    ("AWS::ApiGateway::Resource", "RestApiId"),
    ("AWS::ApiGateway::Deployment", "RestApiId"),
];

/// Distinct types a process makes descriptors for: far more than CloudFormation has, so
/// only a mapping generating names could reach it (its resources are then unsupported).
const MAX_TYPES: usize = 4096;

/// `ListResourcesAction`, the listing.
const LIST: Action = Action {
    name: "ListResourcesAction",
    iam: &["cloudformation:ListResources"],
    adds: &[],
    replaces: &[],
};

/// `GetResourceAction`: every resource's full properties, as `useGetResourceAPI`.
pub(crate) const GET: Action = Action {
    name: "GetResourceAction",
    iam: &["cloudformation:GetResource"],
    adds: &[],
    replaces: &["Properties"],
};

/// The descriptors made so far, by type name.
static TYPES: Mutex<BTreeMap<String, &'static Kind>> = Mutex::new(BTreeMap::new());

/// The Cloud Control kind of `name`: `None` when it is not an `AWS::X::Y` type name, or
/// when a native kind has that name.
pub(super) fn kind(name: &str) -> Option<&'static Kind> {
    if !is_type_name(name) || find_native(name).is_some() {
        return None;
    }
    let mut types = TYPES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(k) = types.get(name) {
        return Some(k);
    }
    if types.len() >= MAX_TYPES {
        tracing::error!(
            kind = name,
            "too many distinct Cloud Control types in this process"
        );
        return None;
    }
    // Made once per type per process (above), so the leak is bounded by MAX_TYPES.
    let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let kind: &'static Kind = Box::leak(Box::new(Kind {
        name,
        scope: scope_of(name),
        list: lister!(list),
        default_actions: &[LIST],
        optional_actions: &[GET],
        fixture: Fixture {
            example: "cloudcontrol",
            keys: &[],
        },
    }));
    types.insert(name.to_owned(), kind);
    Some(kind)
}

/// Whether `kind` is listed through Cloud Control.
pub fn is_cloud_control(kind: &Kind) -> bool {
    kind.fixture.example == "cloudcontrol"
}

/// `AWS::<service>::<resource>`, each part 2 to 64 letters or digits (Cloud Control's
/// `TypeName` pattern, for AWS's own types).
fn is_type_name(name: &str) -> bool {
    let mut parts = name.split("::");
    let part = |p: Option<&str>| {
        p.is_some_and(|p| {
            (2..=64).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric())
        })
    };
    parts.next() == Some("AWS")
        && part(parts.next())
        && part(parts.next())
        && parts.next().is_none()
}

fn scope_of(name: &str) -> Scope {
    let service = name.split("::").nth(1).unwrap_or_default();
    if GLOBAL_SERVICES.contains(&service) {
        Scope::Global
    } else {
        Scope::Regional(Regions::All)
    }
}

/// What `validate` can tell offline about a Cloud Control resource of type `name`: the
/// field and the problem, empty when there is none.
pub fn problems(name: &str, selector: &CloudControlSelector) -> Vec<(&'static str, String)> {
    if NOT_LISTABLE.contains(&name) {
        return vec![(
            "kind",
            format!(
                "{name} cannot be listed: CloudFormation handles it itself, and Cloud Control has no list handler for it"
            ),
        )];
    }
    let Some((_, property)) = REQUIRES_MODEL.iter().find(|(t, _)| *t == name) else {
        return Vec::new();
    };
    let given = selector
        .resource_model
        .as_deref()
        .and_then(|m| serde_json::from_str::<Value>(m).ok())
        .is_some_and(|m| m.get(*property).is_some_and(|v| !v.is_null()));
    if given {
        Vec::new()
    } else {
        vec![(
            "selector.resourceModel",
            format!(
                "Cloud Control lists {name} only under a parent: set selector.resourceModel to {{{property}: …}}"
            ),
        )]
    }
}

/// What one listing of a type does: the union of its resources' selectors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Each distinct `resourceModel`, `None` for a resource without one.
    pub models: Vec<Option<String>>,
    /// Whether some resource asks for `GetResource`.
    pub get_resource: bool,
}

impl Listing {
    /// The listing serving `selectors` (the type's resources).
    pub fn of<'a>(selectors: impl IntoIterator<Item = &'a CloudControlSelector>) -> Listing {
        let mut listing = Listing::default();
        for s in selectors {
            listing.get_resource |= s.get_resource;
            if !listing.models.contains(&s.resource_model) {
                listing.models.push(s.resource_model.clone());
            }
        }
        if listing.models.is_empty() {
            listing.models.push(None);
        }
        listing
    }
}

/// The client of one unit: the run's config with Cloud Control's larger attempt budget in
/// adaptive mode, unless the environment sets retries itself (`AWS_MAX_ATTEMPTS`,
/// `AWS_RETRY_MODE`). Its retry partition (the SDK's process-wide retry quota and adaptive
/// rate limiter) is the (account, region): AWS throttles each on its own, so one throttled
/// region does not slow every other down.
fn client(ctx: &ListCtx) -> Client {
    let mut config =
        aws_sdk_cloudcontrol::config::Builder::from(&ctx.sdk_config()).retry_partition(
            RetryPartition::new(format!("cloudcontrol/{}/{}", ctx.account.id, ctx.region)),
        );
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none()
        && std::env::var_os("AWS_RETRY_MODE").is_none()
    {
        config = config.retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(500)),
        );
    }
    Client::from_conf(config.build())
}

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let name = ctx.kind;
    let client = client(&ctx);
    let get_all = ctx.cloud_control.get_resource || ctx.runs(&GET);
    for model in &ctx.cloud_control.models {
        let selector = CloudControlSelector {
            get_resource: false,
            resource_model: model.clone(),
        };
        if let Some((_, message)) = problems(name, &selector).into_iter().next() {
            return Err(AwsError::other("cloudformation:ListResources", message));
        }
        let mut request = client.list_resources().type_name(name).max_results(100);
        if let Some(m) = model {
            request = request.resource_model(m);
        }
        let mut pages = request.into_paginator().send();
        let mut cursors = Cursors::default();
        while let Some(page) = ctx
            .next_page(
                "cloudformation:ListResources",
                &mut cursors,
                async {
                    paced(&ctx).await;
                    pages.next().await
                },
                |p| p.next_token(),
            )
            .await
            .map_err(|e| type_error(name, e))?
        {
            let listed = page
                .resource_descriptions()
                .iter()
                .map(|d| described(name, "cloudformation:ListResources", d))
                .collect::<Result<Vec<_>, _>>()?;
            let items = complete(&ctx, &client, listed, get_all).await?;
            emit.send(
                items
                    .into_iter()
                    .map(|(id, props)| raw_item(&ctx, &id, props))
                    .collect(),
            )
            .await?;
        }
    }
    Ok(())
}

/// Waits for this (account, region)'s turn to call Cloud Control.
async fn paced(ctx: &ListCtx) {
    let key = (format!("{}/{}", ctx.account.id, ctx.region), SERVICE);
    ctx.bounds.cloud_control.until_key_ready(&key).await;
}

/// The listed resources with their full properties from `GetResource`: every one when
/// `get_all`, else those whose list answer holds only their identifier; the others as
/// listed. A resource gone since the listing is left out.
async fn complete(
    ctx: &ListCtx,
    client: &Client,
    listed: Vec<(String, Map<String, Value>)>,
    get_all: bool,
) -> Result<Vec<(String, Map<String, Value>)>, AwsError> {
    if !get_all && !listed.iter().any(|(id, p)| partial(id, p)) {
        return Ok(listed);
    }
    let fetched = ctx
        .per_resource(SERVICE, listed, |(id, props)| async move {
            if get_all || partial(&id, &props) {
                get(ctx, client, id).await
            } else {
                Ok(Some((id, props)))
            }
        })
        .await;
    Ok(fetched
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect())
}

/// Whether a list answer's `Properties` are only the identifier: every value one of the
/// identifier's parts (a compound identifier joins them with `|`).
fn partial(identifier: &str, properties: &Map<String, Value>) -> bool {
    let parts: Vec<&str> = identifier.split('|').collect();
    properties.len() <= parts.len()
        && properties
            .values()
            .all(|v| v.as_str().is_some_and(|s| parts.contains(&s)))
}

/// One `GetResource`: `None` when the resource no longer exists.
async fn get(
    ctx: &ListCtx,
    client: &Client,
    id: String,
) -> Result<Option<(String, Map<String, Value>)>, AwsError> {
    const OPERATION: &str = "cloudformation:GetResource";
    ctx.pace("cloudformation").await;
    paced(ctx).await;
    let answer = client
        .get_resource()
        .type_name(ctx.kind)
        .identifier(&id)
        .send()
        .await;
    match answer {
        Ok(out) => match out.resource_description() {
            Some(d) => described(ctx.kind, OPERATION, d).map(Some),
            None => Err(AwsError::other(
                OPERATION,
                format!("the answer for {id} has no ResourceDescription"),
            )),
        },
        Err(e) => {
            let e = AwsError::from_sdk(OPERATION, e);
            if e.code() == Some("ResourceNotFoundException") {
                tracing::info!(account = %ctx.account.id, region = %ctx.region, kind = ctx.kind, resource = %id, "deleted since it was listed; left out");
                Ok(None)
            } else {
                Err(type_error(ctx.kind, e))
            }
        }
    }
}

/// A description's identifier and its properties (a JSON string in the answer). A
/// description this program cannot read fails the unit: leaving it out would make its
/// entity look deleted.
fn described(
    name: &str,
    operation: &'static str,
    d: &ResourceDescription,
) -> Result<(String, Map<String, Value>), AwsError> {
    let id = d.identifier().ok_or_else(|| {
        AwsError::other(operation, format!("a {name} resource has no Identifier"))
    })?;
    let properties = match d.properties().map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(p))) => p,
        None => Map::new(),
        Some(_) => {
            return Err(AwsError::other(
                operation,
                format!("the Properties of {name} {id} are not a JSON object"),
            ));
        }
    };
    Ok((id.to_owned(), properties))
}

/// A type error says which type, in words, whatever Cloud Control's message.
fn type_error(name: &str, mut e: AwsError) -> AwsError {
    let why = match e.code() {
        Some("TypeNotFoundException") => "Cloud Control does not know this type in this region",
        Some("UnsupportedActionException") => "Cloud Control cannot list this type",
        Some("InvalidRequestException") => {
            "Cloud Control refused the request (a type listed under a parent needs selector.resourceModel)"
        }
        _ => return e,
    };
    e.message = format!("{name}: {why} ({})", e.message);
    e
}

fn raw_item(ctx: &ListCtx, identifier: &str, properties: Map<String, Value>) -> Value {
    let mut item = item(ctx.kind, properties, Some(ctx.extra_context()));
    if let Value::Object(m) = &mut item {
        m.insert("Identifier".into(), json!(identifier));
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_name_is_aws_s_and_native_kinds_are_not_cloud_control_s() {
        let k = kind("AWS::Kinesis::Stream").unwrap();
        assert!(is_cloud_control(k) && k.is_regional());
        assert!(std::ptr::eq(k, kind("AWS::Kinesis::Stream").unwrap()));
        assert_eq!(kind("AWS::IAM::Role").unwrap().scope, Scope::Global);
        assert!(kind("AWS::EC2::Instance").is_none());
        for bad in [
            "Custom::Thing::X",
            "AWS::Kinesis",
            "AWS::K::Stream",
            "AWS::Kinesis::Stream::X",
            "aws::kinesis::stream",
            "AWS::Kine-sis::Stream",
            "",
        ] {
            assert!(kind(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_listing_serves_every_model_and_the_union_of_get_resource() {
        let s = |get_resource, model: Option<&str>| CloudControlSelector {
            get_resource,
            resource_model: model.map(str::to_owned),
        };
        let l = Listing::of(&[
            s(false, Some("{\"ClusterName\":\"a\"}")),
            s(true, None),
            s(false, Some("{\"ClusterName\":\"a\"}")),
        ]);
        assert_eq!(l.models, [Some("{\"ClusterName\":\"a\"}".to_owned()), None]);
        assert!(l.get_resource);
        assert_eq!(Listing::of(&[]).models, [None]);
    }

    #[test]
    fn a_list_answer_of_only_the_identifier_is_partial() {
        let p = |v: Value| v.as_object().unwrap().clone();
        assert!(partial("orders", &p(json!({"BucketName": "orders"}))));
        assert!(partial(
            "c|ng",
            &p(json!({"ClusterName": "c", "NodegroupName": "ng"}))
        ));
        assert!(partial("x", &p(json!({}))));
        assert!(!partial(
            "orders",
            &p(json!({"Name": "orders", "ShardCount": 2}))
        ));
        assert!(!partial("orders", &p(json!({"Name": "other"}))));
    }

    #[test]
    fn a_description_this_program_cannot_read_fails_instead_of_vanishing() {
        let d = |id: Option<&str>, props: Option<&str>| {
            let mut b = ResourceDescription::builder();
            b = b.set_identifier(id.map(str::to_owned));
            b.set_properties(props.map(str::to_owned)).build()
        };
        let op = "cloudformation:ListResources";
        let (id, p) = described("AWS::X::Y", op, &d(Some("a"), Some("{\"N\":1}"))).unwrap();
        assert_eq!((id.as_str(), p["N"].clone()), ("a", json!(1)));
        for (id, props) in [
            (Some("a"), Some("[1]")),
            (Some("a"), Some("{bad")),
            (None, Some("{}")),
        ] {
            let e = described("AWS::X::Y", op, &d(id, props)).unwrap_err();
            assert!(e.to_string().contains("AWS::X::Y"), "{e}");
        }
    }

    #[test]
    fn validate_names_the_missing_model_property_and_unlistable_types() {
        let none = CloudControlSelector::default();
        let p = problems("AWS::EKS::Nodegroup", &none);
        assert_eq!(p[0].0, "selector.resourceModel");
        assert!(p[0].1.contains("ClusterName"), "{p:?}");
        let given = CloudControlSelector {
            get_resource: false,
            resource_model: Some("{\"ClusterName\":\"prod\"}".into()),
        };
        assert!(problems("AWS::EKS::Nodegroup", &given).is_empty());
        assert!(problems("AWS::Kinesis::Stream", &none).is_empty());
        assert!(
            problems("AWS::CloudFormation::WaitCondition", &none)[0]
                .1
                .contains("cannot be listed")
        );
    }
}
