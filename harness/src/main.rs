//! `harness`: the product against local stand-ins for AWS (moto) and Port (the fake of the
//! tests). `cargo demo` and `cargo perf` (`.cargo/config.toml`) run it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use aws_catalog_sync_harness::{bench, demo};

#[derive(Parser)]
#[command(
    name = "harness",
    about = "Runs aws-catalog-sync against a local AWS emulator (moto) and a Port fake"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a local AWS emulator (moto) and a local Port fake, seed a small organization,
    /// run one resync of the aws-catalog-sync binary against them and print what landed in
    /// the catalog.
    Demo {
        /// Member accounts to create besides the management account.
        #[arg(long, default_value_t = 3)]
        members: u32,
    },
    /// Measure: `bench e2e` (a whole resync against moto and the Port fake, N = 10 and 40
    /// member accounts, with the emulator's floor), `bench engine` (mapping + loading of
    /// 10k to 1M synthetic items); both when no subcommand is given. Use a release build.
    Bench {
        #[command(subcommand)]
        what: Option<BenchCommand>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// One `sail --once` (cold, then warm) per organization size, with the emulator's floor.
    E2e {
        /// Member accounts per organization (besides the management account).
        #[arg(long, value_delimiter = ',', default_value = "10,40")]
        members: Vec<u32>,
        /// Also one resource of every kind in each account, and a mapping of all the kinds
        /// (their examples); AWS requests are reported per kind.
        #[arg(long)]
        all_kinds: bool,
    },
    /// The mapping and loading engine alone, per number of synthetic EC2 items.
    Engine {
        #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
        items: Vec<usize>,
    },
    /// The measured process of `bench engine` (internal).
    #[command(hide = true)]
    EngineChild {
        #[arg(long)]
        items: usize,
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    // As the product's main: `bench engine-child` runs the product's engine in this
    // process and must measure the same memory behaviour.
    aws_catalog_sync::cli::limit_malloc_arenas();
    let cli = Cli::parse();
    // The engine runs in this process under `bench engine-child`: log as the product does.
    aws_catalog_sync::logging::init(std::env::var("APPLICATION__LOG_LEVEL").ok().as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Demo { members } => demo::run(members).await,
            Command::Bench { what } => match what {
                Some(BenchCommand::E2e { members, all_kinds }) => {
                    bench::e2e::run(&members, all_kinds).await
                }
                Some(BenchCommand::Engine { items }) => bench::engine::run(&items).await,
                Some(BenchCommand::EngineChild { items, out }) => {
                    bench::engine::child(items, &out).await
                }
                None => {
                    let e2e = bench::e2e::run(&[10, 40], false).await;
                    let engine = bench::engine::run(&[10_000, 100_000, 1_000_000]).await;
                    e2e.max(engine)
                }
            },
        }
    });
    ExitCode::from(code)
}
