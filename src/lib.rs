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
//! settings ─► accounts, credentials ─► collect ─► map ─► load ─► reconcile ─► report
//!  config      aws::accounts            aws::      mapping port::  resync::    resync::
//!              aws::credentials         collect            loader  reconcile   report
//! ```
//!
//! The modules form layers, and a module uses only the layers below it (the import graph
//! is a DAG; `tests/layers.rs` holds the map and fails on an edge that points up):
//!
//! ```text
//! cli                      the command line, one file per subcommand
//! daemon        tools      the long-running mode, actions │ offline validate / map
//! resync                   one run: orchestration over both edges, deletion policy
//! aws           port       the two edges, blind to each other
//! mapping                  the mapping engine (pure: JQ and the port app config)
//! config  metrics  pagination  logging              leaves
//! ```
//!
//! - [`config`]: loads `OCEAN__*` env vars, `.env` and `config.yaml` into typed
//!   [`config::Settings`], validates them before anything touches the network, and keeps
//!   secrets redacted.
//! - [`mapping`]: the port app config (the user's mapping) and its JQ expressions,
//!   compiled once with jaq and evaluated per raw item into Port entities.
//! - [`aws`]: everything that talks to AWS. `credentials` and `accounts` turn the
//!   configured strategy (Organizations role, explicit role ARNs, or the current account)
//!   into one assumed-role SDK config per account; `regions` discovers enabled regions;
//!   `collect` plans the (kind, account, region) units of a run under each resource's
//!   `regionPolicy` and lists them into one bounded stream of pages; `kinds` is the registry
//!   of kind descriptors, one file per `AWS::X::Y` kind grouped by service, and
//!   `kinds::cloudcontrol` the descriptor of any other CloudFormation type, listed through
//!   Cloud Control; `provision` creates accounts in the organization.
//! - [`port`]: every Port route: the REST client (token cache, Ocean User-Agent, retries),
//!   integration bootstrap and resync state, the bulk loader, the owned-entity listing and
//!   bulk delete, the resync request.
//! - [`resync`]: one full resync: bootstrap, the engine that maps pages and feeds the
//!   loader, reconciliation *policy* (what may be deleted, never after a failed part that
//!   could have produced it), the report and its outcome.
//! - [`daemon`]: the long-running mode: triggers (POLLING, scheduled interval, WEBHOOK)
//!   feeding one runner that never runs two resyncs at once, the HTTP surface (health,
//!   metrics, `POST /resync`), and the Port self-service actions it serves
//!   (`daemon::actions`, one file per action: "create an AWS account" drives
//!   `aws::provision` and reports on the run through `port::runs`).
//! - [`tools`]: offline `validate` and `map` over a mapping.
//! - [`cli`]: the command line (`sail`, `validate`, `map`, `kinds`, `version`); `src/main.rs` only
//!   calls [`cli::main`].
//! - [`metrics`] (the Prometheus registry every layer records into), [`pagination`] (the
//!   cursor bookkeeping every paged listing shares, so a listing that loops fails instead of
//!   hanging or passing for complete) and [`logging`] (human on a TTY, JSON lines
//!   otherwise) depend on nothing of the pipeline.
//!
//! Two departures from a strict edge/core split, on purpose: `aws::collect` reads the
//! mapping's `regionPolicy` type (a plain allow/deny list from [`mapping::config`]) rather
//! than a copy of it, and `tools` reads the kind registry to check a mapping offline.
//!
//! The test harness (the Port fake, the AWS fault proxy, moto's installer and seeder,
//! `demo` and `bench`) is the workspace crate `harness/`: it drives this library and the
//! binary from outside and is never compiled into them (`docs/performance.md` has the
//! numbers `bench` prints).
#![warn(missing_docs)]

pub mod aws;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod logging;
pub mod mapping;
pub mod metrics;
pub mod pagination;
pub mod port;
pub mod resync;
pub mod tools;

/// Version of this program, sent to Port as the integration version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
