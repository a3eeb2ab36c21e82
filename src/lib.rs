//! # aws-catalog-sync
//!
//! Keeps a Port software catalog in sync with every account of an AWS Organization.
//! A drop-in peer of Port's Python "Ocean" `aws-v3` integration: same `OCEAN__*`
//! environment, same mapping format and semantics, same `$datasource` contract.
//!
//! ## Layout
//!
//! One resync is a pipeline; each step has one owner:
//!
//! ```text
//! settings ─► discover accounts ─► credentials ─► collect ─► map ─► load ─► report
//!  config       aws::accounts       aws::accounts   aws::kinds  mapping  port   resync
//! ```
//!
//! - [`config`]: loads `OCEAN__*` env vars, `.env` and `config.yaml` into typed
//!   [`config::Settings`], validates them before anything touches the network, and keeps
//!   secrets redacted.
//! - [`aws`]: everything that talks to AWS. `accounts` turns the configured strategy
//!   (Organizations role, explicit role ARNs, or the current account) into one assumed-role
//!   SDK config per account; `regions` discovers enabled regions and applies each
//!   resource's `regionPolicy`; `kinds` holds one file per `AWS::X::Y` kind that pages
//!   through the AWS API and emits aws-v3-shaped raw items.
//! - [`mapping`]: the port app config (the user's mapping) and its JQ expressions,
//!   compiled once with jaq and evaluated per raw item into Port entities.
//! - [`port`]: the Port REST client (token cache, Ocean User-Agent), integration
//!   bootstrap (create with our default mapping, default blueprints) and the bulk loader.
//! - [`resync`]: one full resync: runs the steps above with bounded concurrency, streams
//!   items from collection through mapping into loading, and produces the run report and
//!   exit status.
//! - [`listener`]: what triggers resyncs (ONCE, POLLING, scheduled interval, WEBHOOK), all
//!   feeding one runner that never runs two resyncs at once through a [`trigger::Trigger`];
//!   [`server`] is the HTTP surface (health, metrics, `POST /resync`) and [`metrics`] the
//!   Prometheus registry, which every layer records into and which depends on none.
//! - [`tools`]: offline `validate` and `map` over a mapping.
//! - [`logging`]: tracing setup (human on a TTY, JSON lines otherwise).
//! - [`pagination`]: the cursor bookkeeping every paged listing (AWS or Port) shares, so a
//!   listing that loops fails instead of hanging or passing for complete.
//!
//! The binary (`src/main.rs`) is a thin CLI over [`resync::run`]. The demo and the benchmarks
//! (`harness demo`, `harness bench`) live in the `harness/` crate with moto and the Port fake
//! the tests use, outside the product binary (`docs/performance.md` has the numbers `bench`
//! prints).
#![warn(missing_docs)]

pub mod aws;
pub mod config;
pub mod listener;
pub mod logging;
pub mod mapping;
pub mod metrics;
pub mod pagination;
pub mod port;
pub mod resync;
pub mod server;
pub mod tools;
pub mod trigger;

/// Version of this program, sent to Port as the integration version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
