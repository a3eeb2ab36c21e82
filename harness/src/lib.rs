//! The harness of aws-catalog-sync: everything that runs the product against local stand-ins
//! for AWS and Port, kept out of the product binary (the packaging test of the product,
//! `tests/packaging.rs`, checks that none of it ships).
//!
//! - [`moto`]: installs moto (the AWS emulator) into a venv, starts it, seeds an
//!   organization with `seed.py`;
//! - [`aws_proxy`]: a fault-injecting, request-counting proxy in front of moto;
//! - [`port_fake`]: Port's REST API, strict the way Port is;
//! - [`demo`] and [`bench`]: the `harness demo` and `harness bench` commands;
//! - [`product`]: where the product binary they run is; [`run`]: runs it (or the harness)
//!   with exactly the environment a test gives;
//! - [`default_mapping_in_regions`]: the product's default mapping restricted to seeded
//!   regions (what the tests and the benchmark run).
//!
//! The product's integration tests use the first three through `tests/support/mod.rs`.

pub mod aws_proxy;
pub mod bench;
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
