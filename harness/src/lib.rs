//! The harness of aws-catalog-sync: everything that runs the product against local stand-ins
//! for AWS and Port, kept out of the product binary (the packaging test of the product,
//! `tests/packaging.rs`, checks that none of it ships).
//!
//! - [`moto`]: installs moto (the AWS emulator) into a venv, starts it, seeds an
//!   organization with `seed.py`;
//! - [`aws_proxy`]: a fault-injecting, request-counting proxy in front of moto;
//! - [`port_fake`]: Port's REST API, strict the way Port is;
//! - [`demo`] and [`bench`]: the `harness demo` and `harness bench` commands;
//! - [`product`]: where the product binary they run is.
//!
//! The product's integration tests use the first three through `tests/support/mod.rs`.

pub mod aws_proxy;
pub mod bench;
pub mod demo;
pub mod moto;
pub mod port_fake;
pub mod product;
