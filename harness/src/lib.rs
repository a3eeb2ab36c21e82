//! The harness of aws-catalog-sync: everything that runs the product against local stand-ins
//! for AWS and Port, kept out of the product binary (the packaging test of the product,
//! `tests/packaging.rs`, checks that none of it ships).
//!
//! - [`moto`]: installs moto (the AWS emulator) into a venv, starts it, seeds an
//!   organization with `seed.py`;
//! - [`aws_proxy`]: a fault-injecting, request-counting proxy in front of moto;
//! - [`cloudcontrol`]: a fake of the Cloud Control API (moto has none), served by the proxy;
//! - [`port_fake`]: Port's REST API, strict the way Port is;
//! - [`demo`] and [`bench`]: the `harness demo` and `harness bench` commands;
//! - [`product`]: where the product binary they run is; [`run`]: runs it (or the harness)
//!   with exactly the environment a test gives;
//! - [`default_mapping_in_regions`]: the product's default mapping restricted to seeded
//!   regions (what the tests and the benchmark run); [`all_kinds_mapping`]: one resource of
//!   every registered kind, from the per-kind examples (what `tests/all_kinds.rs` and
//!   `bench e2e --all-kinds` run against `seed.py --all-kinds`).
//!
//! The product's integration tests use the first three through `tests/support/mod.rs`.

pub mod aws_proxy;
pub mod bench;
pub mod cloudcontrol;
pub mod demo;
pub mod moto;
pub mod port_fake;
pub mod product;
pub mod run;

use serde_json::{Value, json};

/// The product's default mapping with `regionPolicy.allow = regions` on every regional kind
/// (the kind registry says which), so a run lists only the regions a test seeded.
pub fn default_mapping_in_regions(regions: &[&str]) -> Value {
    let mut config = aws_catalog_sync::port::defaults::port_app_config();
    if let Some(resources) = config["resources"].as_array_mut() {
        for r in resources {
            if r["kind"]
                .as_str()
                .is_some_and(aws_catalog_sync::aws::kinds::is_regional)
            {
                r["selector"]["regionPolicy"] = json!({ "allow": regions });
            }
        }
    }
    config
}

/// A mapping with one resource of every registered kind and the blueprints it targets.
pub struct AllKinds {
    /// The port app config: each kind's example resource (`resources/kinds/<example>.yml`),
    /// in registry order, regional kinds restricted to the given regions.
    pub config: Value,
    /// The default blueprints, then each kind's `resources/kinds/<example>.blueprint.json`.
    pub blueprints: Vec<Value>,
    /// `(kind, blueprint)` in registry order: the blueprint each kind's entities land in.
    pub blueprint_of: Vec<(&'static str, String)>,
}

impl AllKinds {
    /// [`AllKinds::blueprints`] as a sync against moto can fill them: moto sends MSK's
    /// `CreationTime` without a zone, which the MSK kinds keep as aws-v3 does (a naive
    /// datetime to botocore), while AWS sends it in UTC; Port's `date-time` format requires
    /// a zone, so only that format check of the two MSK blueprints is left out.
    pub fn moto_blueprints(&self) -> Vec<Value> {
        let mut blueprints = self.blueprints.clone();
        for bp in &mut blueprints {
            let msk =
                bp["identifier"] == "mskCluster" || bp["identifier"] == "mskServerlessCluster";
            if msk && let Some(time) = bp["schema"]["properties"]["creationTime"].as_object_mut() {
                time.remove("format");
            }
        }
        blueprints
    }
}

/// Canned answers for the calls moto 5.2.5 lacks that a sync of `seed.py --all-kinds`
/// makes, built from its manifest (`kinds`), with bodies written from the CodeDeploy API
/// reference: `codedeploy:BatchGetDeploymentGroups`, answered for each seeded deployment
/// group (`k<account>-group` of `k<account>-deploy`, its id the manifest's identifier) to
/// the requests naming its application (`DeploymentGroupInfo`); `ListDeploymentTargets`
/// and `BatchGetDeploymentTargets`, answered for each seeded target
/// (`<deploymentId>/<targetId>`) to the requests naming its deployment (one
/// `InstanceTarget`).
pub fn moto_gap_rules(manifest: &Value) -> Vec<aws_proxy::Rule> {
    let seeded = |kind: &str| {
        manifest["kinds"][kind]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
    };
    let canned = |action: &str, request: String, body: Value| aws_proxy::Rule {
        action: action.into(),
        body: Some(body.to_string()),
        times: usize::MAX,
        request_contains: Some(request),
        ..Default::default()
    };
    let targets = seeded("AWS::CodeDeploy::DeploymentTarget")
        .iter()
        .filter_map(|t| t["identifier"].as_str()?.split_once('/'))
        .flat_map(|(deployment, target)| {
            let quoted = format!("\"{deployment}\"");
            [
                canned(
                    "ListDeploymentTargets",
                    quoted.clone(),
                    json!({"targetIds": [target]}),
                ),
                canned(
                    "BatchGetDeploymentTargets",
                    quoted,
                    json!({"deploymentTargets": [{
                        "deploymentTargetType": "InstanceTarget",
                        "instanceTarget": {"deploymentId": deployment, "targetId": target,
                            "status": "Succeeded"},
                    }]}),
                ),
            ]
        });
    seeded("AWS::CodeDeploy::DeploymentGroup")
        .iter()
        .filter_map(|g| {
            let (account, id) = (g["account"].as_str()?, g["identifier"].as_str()?);
            let application = format!("k{account}-deploy");
            let body = json!({"deploymentGroupsInfo": [{
                "applicationName": application,
                "deploymentGroupId": id,
                "deploymentGroupName": format!("k{account}-group"),
                "deploymentConfigName": "CodeDeployDefault.OneAtATime",
                "serviceRoleArn": format!("arn:aws:iam::{account}:role/k{account}-deploy"),
                "computePlatform": "Server",
            }]});
            Some(canned(
                "BatchGetDeploymentGroups",
                format!("\"{application}\""),
                body,
            ))
        })
        .chain(targets)
        .collect()
}

/// [`AllKinds`] from the per-kind examples of the source tree (read at run time: the harness
/// runs from the workspace). A kind without a readable example of one resource is an error,
/// so a kind added to the registry without its example cannot be left out silently.
pub fn all_kinds_mapping(regions: &[&str]) -> Result<AllKinds, String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../resources");
    let read =
        |path: String| std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"));
    let mut blueprints: Vec<Value> = serde_json::from_str(&read(format!("{dir}/blueprints.json"))?)
        .map_err(|e| format!("{dir}/blueprints.json: {e}"))?;
    let mut resources = Vec::new();
    let mut blueprint_of = Vec::new();
    for kind in aws_catalog_sync::aws::kinds::all() {
        let example = kind.fixture.example;
        let path = format!("{dir}/kinds/{example}.yml");
        let config: Value =
            serde_yaml::from_str(&read(path.clone())?).map_err(|e| format!("{path}: {e}"))?;
        let [resource] = config["resources"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
        else {
            return Err(format!("{path}: expected exactly one resource"));
        };
        let mut resource = resource.clone();
        if resource["kind"] != kind.name {
            return Err(format!("{path}: its resource is not of kind {}", kind.name));
        }
        // The blueprint mapping of the examples is a JQ string literal, `'"ec2Instance"'`.
        let blueprint = resource["port"]["entity"]["mappings"]["blueprint"]
            .as_str()
            .and_then(|b| b.strip_prefix('"')?.strip_suffix('"'))
            .ok_or_else(|| format!("{path}: blueprint is not a string literal"))?
            .to_string();
        if kind.is_regional() {
            resource["selector"]["regionPolicy"] = json!({ "allow": regions });
        }
        resources.push(resource);
        let bp_path = format!("{dir}/kinds/{example}.blueprint.json");
        let bp: Value =
            serde_json::from_str(&read(bp_path.clone())?).map_err(|e| format!("{bp_path}: {e}"))?;
        // A kind's blueprint replaces a default one of the same identifier.
        blueprints.retain(|b| b["identifier"] != bp["identifier"]);
        blueprints.push(bp);
        blueprint_of.push((kind.name, blueprint));
    }
    Ok(AllKinds {
        config: json!({ "resources": resources }),
        blueprints,
        blueprint_of,
    })
}
